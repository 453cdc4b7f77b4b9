//! IR → Cranelift: one native function per group of rules that range over the same rows (the
//! claim rules; the line rules of one list), `fn(ctx, claim_row, 0)`. A claim group returns a
//! mask, bit `i` set when rule `i` of the group fires; a line group runs its rules on every
//! line of the claim's list in one call and writes each line's mask to `Ctx::masks`. Both
//! write `Ctx::bails`, bit `i` set when rule `i` bailed (the interpreter decides it on that
//! claim).
//!
//! Every value is one `i64` word in the batch's encoding (`vigil_runtime::batch`): absent is
//! `ABSENT` (ids: 0), decimals are scaled integers whose scale is known at compile time, so
//! `0.6 * cnt` is an integer multiply and a rescale, never a float. Arithmetic is checked; an
//! overflow, a value the layout marks UNFIT, or a call that cannot answer bails, and the
//! interpreter (with its wider decimals) gives the exact result or the evaluation error.
//! A construct this backend does not compile yet is reported as [`Unsupported`] and the
//! whole rule stays with the interpreter.

use std::collections::HashMap;
use std::rc::Rc;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, AbiParam, Block, InstBuilder, MemFlagsData, SigRef, Signature};
use cranelift_codegen::ir::{Type, Value};
use cranelift_frontend::{FunctionBuilder, Variable};
use vigil_compiler::ir::{
    AggKind, BinOp, Func, Ir, IrKind, Program, Prop, RuleIr, SharedScope, Var, CLAIM, LINE,
};
use vigil_compiler::types::Ty;
use vigil_compiler::value::Value as Datum;
use vigil_runtime::batch::{self, ColumnKind, Interner, ABSENT, UNFIT};

use crate::calls;
use crate::line_values::LineValues;
use crate::pair_filter;
use crate::shape::Shape;

mod chained;
mod conjuncts;
mod guard;
mod lazy;
mod scratch;

pub(crate) use conjuncts::flatten;
pub(crate) use guard::{cannot_fail, compared_field};

const W: Type = types::I64;

/// How many instructions back `Gen::is_flag` looks through bit logic on flags (an `and` of
/// `or`s of comparisons, say).
const FLAG_DEPTH: u32 = 8;

/// The largest decimal scale native code carries; beyond it the rule stays interpreted.
const MAX_SCALE: u32 = 12;

/// The places a quotient is taken at (when the dividend has fewer): a quotient with more
/// bails to the interpreter.
const DIV_SCALE: u32 = 6;

/// Why a rule is not compiled (it runs on the interpreter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unsupported(pub String);

type R<T> = Result<T, Unsupported>;

fn unsupported<T>(what: impl Into<String>) -> R<T> {
    Err(Unsupported(what.into()))
}

/// What a word means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum K {
    Bool,
    Int,
    /// A decimal with this many places.
    Dec(u32),
    Date,
    DateTime,
    Id,
    /// A row index of a claim level.
    Level(usize),
    /// A row index of a table.
    Table(u32),
    /// A text's category (its first three characters) packed by `calls::pack_category`:
    /// equal words are equal categories and words order as the texts do.
    Cat,
    /// The groups of definition `i` (`Gen::defs`), never built: loops over them find each
    /// group's first element. The word means nothing.
    Groups(u32),
    /// One group of definition `i`: the row index of its first element (ABSENT: none).
    Group(u32),
    /// The items of one group of definition `i`: the row index of its first element.
    Items(u32),
}

/// `groups(var in source by by where filter)`, compiled lazily: a loop over the groups walks
/// `source` and takes a row as a group's first element when no earlier row passing `filter`
/// has an equal key; the group's items are the later passing rows with that key. Exact, and
/// O(n²) per claim like the other pair checks. Its expressions read only the claim, the line
/// and their own binders, so evaluating them again later gives what they gave at the `let`.
struct GroupDef {
    var: Var,
    source: Ir,
    filter: Option<Ir>,
    by: Ir,
    /// The variable space the definition was compiled in.
    space: u32,
    /// The kind of an element of `source`.
    elem: K,
}

/// Rows a loop leaves out.
#[derive(Clone, Copy, Default)]
struct Skip {
    /// History: the column of `setl_id` and the claim's own id; rows with it are not history.
    history: Option<(usize, Value)>,
    /// A group's items: the definition and the group's key; rows of other groups are skipped.
    member: Option<(u32, (Value, K))>,
}

/// What a quantifier or aggregate ranges over.
#[derive(Clone, Copy)]
enum Source {
    Rows(Rows, Skip),
    Groups(u32),
}

/// How a loop visits the elements of its source.
enum Walk {
    /// Every element.
    Every(Source),
    /// The lines of the claim's list that share the key of a bound line, and the conjuncts
    /// of the loop's condition every one of them passes (`Gen::keyed_conjuncts`).
    Chain(chained::Chained, Vec<*const Ir>),
    /// The lines of the patient's claims that share the key of a line under review, each
    /// with its claim (`first`/`exists` over the history of one loop over a list).
    History(chained::HistoryChained),
}

/// What a loop ranges over: `first..end`, the kind of an element, and (for a list of values)
/// the column the values are read from; else each index is itself the element (a row).
type Rows = (Value, Value, K, Option<usize>);

/// The signatures of the calls, imported once per function.
struct Sigs {
    lookup: SigRef,
    lookup2: SigRef,
    two: SigRef,
    ctx_two: SigRef,
}

/// Generates one rule's function.
pub(crate) struct Gen<'a, 'f> {
    pub b: FunctionBuilder<'f>,
    program: &'a Program,
    shape: &'a Shape,
    base: &'a mut Interner,
    ctx: Value,
    cols: Value,
    claim: Value,
    line: Value,
    line_level: Option<usize>,
    vars: HashMap<(u32, Var), (Variable, K)>,
    /// Shared expressions computed at the top of the function.
    shared_vals: HashMap<u32, (Variable, K)>,
    /// Shared expressions are compiled in their own variable space, as the interpreter
    /// evaluates them in their own frame.
    space: u32,
    bail: Block,
    sigs: Sigs,
    /// The `groups(…)` definitions met so far ([`K::Groups`] words point here).
    defs: Vec<Rc<GroupDef>>,
    /// The per-line values computed before the function runs (`scratch`), if any.
    lines: Option<Rc<LineValues<'a>>>,
    /// Copies of planned occurrences (in `groups(…)` definitions), by address.
    aliases: HashMap<*const Ir, (usize, usize, Var)>,
    /// Inside a prepare function: occurrences of values already computed for the row (an
    /// earlier entry), by address.
    computed: HashMap<*const Ir, (Value, K)>,
    /// Joins of two flags (0/1 words) by `branch`: flags too, though block parameters.
    flags: std::collections::HashSet<Value>,
    /// Variables a loop binds to the rows it walks: present rows, read without a test.
    loop_rows: std::collections::HashSet<(u32, Var)>,
    /// Variables `x is some(v)` binds: read only where the test held (the checker scopes
    /// them so), so present wherever they are read.
    some_vars: std::collections::HashSet<(u32, Var)>,
    /// Lets computed where they are read (`lazy`), by (space, variable).
    deferred: HashMap<(u32, Var), &'a Ir>,
    /// The lookup about to be compiled is only compared (`compared_field`): its table, the
    /// field's slot and the text.
    compared: Option<(u32, usize, String)>,
    /// In a line group's loop: where the line under review's words are in each planned
    /// list's scratch array (list, stride, place), found once per line.
    line_rows: Vec<(usize, usize, scratch::ScratchRow)>,
    /// In a line group: its list's slot and the claim's rows of it, found before the loop.
    claim_list: Option<(usize, Rows)>,
}

fn sig(call_conv: cranelift_codegen::isa::CallConv, params: usize) -> Signature {
    let mut s = Signature::new(call_conv);
    for _ in 0..params {
        s.params.push(AbiParam::new(W));
    }
    s.returns.push(AbiParam::new(W));
    s
}

impl<'a, 'f> Gen<'a, 'f> {
    /// Starts a function `(ctx, claim, line) -> word` in `b` (a line group binds the line
    /// itself, in its loop over the claim's lines).
    pub fn new(
        mut b: FunctionBuilder<'f>,
        program: &'a Program,
        shape: &'a Shape,
        base: &'a mut Interner,
        call_conv: cranelift_codegen::isa::CallConv,
        line_level: Option<usize>,
    ) -> Self {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let params = b.block_params(entry).to_vec();
        let (ctx, claim, line) = (params[0], params[1], params[2]);
        // `Ctx` is repr(C) with `cols` first.
        let cols = b.ins().load(W, MemFlagsData::trusted(), ctx, 0);
        let bail = b.create_block();
        let sigs = Sigs {
            lookup: b.import_signature(sig(call_conv, 4)),
            lookup2: b.import_signature(sig(call_conv, 5)),
            two: b.import_signature(sig(call_conv, 2)),
            ctx_two: b.import_signature(sig(call_conv, 3)),
        };
        Gen {
            b,
            program,
            shape,
            base,
            ctx,
            cols,
            claim,
            line,
            line_level,
            vars: HashMap::new(),
            shared_vals: HashMap::new(),
            space: 0,
            bail,
            sigs,
            defs: Vec::new(),
            lines: None,
            aliases: HashMap::new(),
            computed: HashMap::new(),
            flags: Default::default(),
            loop_rows: Default::default(),
            some_vars: Default::default(),
            deferred: HashMap::new(),
            compared: None,
            line_rows: Vec::new(),
            claim_list: None,
        }
    }

    /// The body of a group: the shared expressions the rules read, computed once up front,
    /// then each rule's lets and `when`; stores the mask of rules that bailed in
    /// `Ctx::bails`. A claim group returns a mask with bit `i` set when rule `i` of the group
    /// fires. A line group (`line_level`) runs them for every line of the claim's list `slot`
    /// in one call, the claim's shared values once before the lines, and writes each line's
    /// mask to `Ctx::masks`; it returns 0.
    pub fn group(&mut self, rules: &[&'a RuleIr], shared: &[u32]) -> R<()> {
        let program = self.program;
        let mut per_line = Vec::new();
        for &id in shared {
            let Some(s) = program.shared.get(id as usize) else {
                return unsupported("a missing shared expression");
            };
            if matches!(s.expr.kind, IrKind::History(_)) {
                // A list: loops walk it where they range over it (`rows_of`).
                continue;
            }
            if matches!(s.scope, SharedScope::Line(_)) && self.line_level.is_some() {
                per_line.push(id);
                continue;
            }
            self.shared_value(id, &s.expr)?;
        }
        // A bail in the shared values leaves every rule of the group to the interpreter.
        let all_bail = self.bail;
        let bails = self.b.declare_var(W);
        let zero = self.iconst(0);
        self.b.def_var(bails, zero);
        let list = rules.first().and_then(|r| r.list_slot);
        let result = match (self.line_level, list) {
            (Some(_), Some(slot)) => {
                let rows = self.list_of(self.claim, K::Level(0), slot)?;
                self.claim_list = Some((slot, rows));
                let first = rows.0;
                let flags = MemFlagsData::trusted().with_readonly();
                let masks = self.b.ins().load(W, flags, self.ctx, calls::MASKS_OFFSET);
                self.each_row(rows, Skip::default(), Var::MAX, |g, row| {
                    g.line = row;
                    g.find_line_rows(row);
                    for &id in &per_line {
                        if let Some(s) = program.shared.get(id as usize) {
                            g.shared_value(id, &s.expr)?;
                        }
                    }
                    let m = g.rules_mask(rules, bails)?;
                    let i = g.b.ins().isub(row, first);
                    let offset = g.b.ins().ishl_imm_u(i, 3);
                    let addr = g.b.ins().iadd(masks, offset);
                    g.b.ins().store(MemFlagsData::trusted(), m, addr, 0);
                    Ok(g.iconst(0))
                })?;
                self.line_rows.clear();
                self.claim_list = None;
                self.iconst(0)
            }
            (Some(_), None) => return unsupported("a line rule without a list"),
            (None, _) => self.rules_mask(rules, bails)?,
        };
        let bl = self.b.use_var(bails);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), bl, self.ctx, calls::BAILS_OFFSET);
        self.b.ins().return_(&[result]);
        self.b.switch_to_block(all_bail);
        let every = self.iconst(if rules.len() >= 64 {
            -1
        } else {
            (1i64 << rules.len()) - 1
        });
        self.b.ins().store(
            MemFlagsData::trusted(),
            every,
            self.ctx,
            calls::BAILS_OFFSET,
        );
        let none = self.iconst(0);
        self.b.ins().return_(&[none]);
        self.b.seal_all_blocks();
        Ok(())
    }

    /// Computes shared expression `id` in its own variable space, for the rules to read.
    fn shared_value(&mut self, id: u32, expr: &Ir) -> R<()> {
        let space = std::mem::replace(&mut self.space, 1 + id);
        let (v, k) = self.expr(expr)?;
        self.space = space;
        let slot = self.b.declare_var(W);
        self.b.def_var(slot, v);
        self.shared_vals.insert(id, (slot, k));
        Ok(())
    }

    /// Each rule's lets and `when` on the claim (and line) bound now: the mask of the rules
    /// that fire; a rule that bails sets its bit in `bails` instead.
    fn rules_mask(&mut self, rules: &[&'a RuleIr], bails: Variable) -> R<Value> {
        let mask = self.b.declare_var(W);
        let zero = self.iconst(0);
        self.b.def_var(mask, zero);
        let all_bail = self.bail;
        for (i, rule) in rules.iter().enumerate() {
            // Each rule's variables live apart from the others' and the shared ones'; a bail
            // in one rule hands only that rule to the interpreter.
            self.space = u32::MAX - i as u32;
            let (own_bail, next) = (self.b.create_block(), self.b.create_block());
            let fired = self.b.append_block_param(next, W);
            self.bail = own_bail;
            for (var, e) in &rule.lets {
                if lazy::deferrable(rule, *var, e) {
                    self.deferred.insert((self.space, *var), e);
                    continue;
                }
                let (v, k) = self.expr(e)?;
                self.bind(*var, v, k);
            }
            let (w, k) = self.expr(&rule.when)?;
            if k != K::Bool {
                return unsupported("a `when` that is not a boolean");
            }
            let t = self.truth(w);
            self.b.ins().jump(next, &[t.into()]);
            self.b.switch_to_block(own_bail);
            let so_far = self.b.use_var(bails);
            let more = self.b.ins().bor_imm_u(so_far, 1i64 << i);
            self.b.def_var(bails, more);
            let no = self.iconst(0);
            self.b.ins().jump(next, &[no.into()]);
            self.b.switch_to_block(next);
            // The bit is set on a branch of its own: as one pure `bor` per rule the optimizer
            // would sink every rule's 0/1 to the end of the function, each kept (spilled)
            // until then.
            let (set, after) = (self.b.create_block(), self.b.create_block());
            self.b.ins().brif(fired, set, &[], after, &[]);
            self.b.switch_to_block(set);
            let so_far = self.b.use_var(mask);
            let m = self.b.ins().bor_imm_u(so_far, 1i64 << i);
            self.b.def_var(mask, m);
            self.b.ins().jump(after, &[]);
            self.b.switch_to_block(after);
        }
        self.bail = all_bail;
        Ok(self.b.use_var(mask))
    }

    fn bind(&mut self, var: Var, v: Value, k: K) {
        let key = (self.space, var);
        let slot = match self.vars.get(&key) {
            Some((slot, _)) => *slot,
            None => self.b.declare_var(W),
        };
        self.b.def_var(slot, v);
        self.vars.insert(key, (slot, k));
        self.loop_rows.remove(&key);
        self.some_vars.remove(&key);
    }

    fn iconst(&mut self, x: i64) -> Value {
        self.b.ins().iconst(W, x)
    }

    /// 1 when the word is a present value of kind `k`, else 0.
    fn present(&mut self, v: Value, k: K) -> Value {
        let flag = match k {
            K::Id => self.b.ins().icmp_imm_s(IntCC::NotEqual, v, 0),
            _ => self.b.ins().icmp_imm_s(IntCC::NotEqual, v, ABSENT),
        };
        self.b.ins().uextend(W, flag)
    }

    fn absent(&mut self, k: K) -> Value {
        match k {
            K::Id => self.iconst(0),
            _ => self.iconst(ABSENT),
        }
    }

    /// 1 when a boolean word is true (absent is not true).
    fn truth(&mut self, v: Value) -> Value {
        if self.is_flag(v, FLAG_DEPTH) {
            return v;
        }
        let flag = self.b.ins().icmp_imm_s(IntCC::Equal, v, 1);
        self.b.ins().uextend(W, flag)
    }

    /// Whether `v` is certainly 0 or 1 (a widened comparison, or bit logic on such), looking
    /// `depth` instructions back.
    fn is_flag(&self, v: Value, depth: u32) -> bool {
        use cranelift_codegen::ir::{InstructionData, Opcode, ValueDef};
        if self.flags.contains(&v) {
            return true;
        }
        let dfg = &self.b.func.dfg;
        let ValueDef::Result(inst, _) = dfg.value_def(v) else {
            return false;
        };
        match dfg.insts[inst] {
            InstructionData::Unary {
                opcode: Opcode::Uextend,
                arg,
            } => {
                matches!(dfg.value_def(arg), ValueDef::Result(i, _)
                    if matches!(dfg.insts[i], InstructionData::IntCompare { .. }))
            }
            InstructionData::Binary {
                opcode: Opcode::Band | Opcode::Bor | Opcode::Bxor,
                args,
            } if depth > 0 => self.is_flag(args[0], depth - 1) && self.is_flag(args[1], depth - 1),
            InstructionData::UnaryImm {
                opcode: Opcode::Iconst,
                imm,
            } => {
                matches!(i64::from(imm), 0 | 1)
            }
            _ => false,
        }
    }

    /// Leaves for the bail block when `cond` (0/1 word) is 1.
    fn bail_if(&mut self, cond: Value) {
        let go_on = self.b.create_block();
        self.b.ins().brif(cond, self.bail, &[], go_on, &[]);
        self.b.switch_to_block(go_on);
    }

    /// Calls a Rust function at `target` and bails when it answers BAIL.
    fn call_checked(&mut self, sig: SigRef, target: usize, args: &[Value]) -> Value {
        let f = self.iconst(target as i64);
        let call = self.b.ins().call_indirect(sig, f, args);
        let r = self.b.inst_results(call)[0];
        let bad = self.b.ins().icmp_imm_s(IntCC::Equal, r, calls::BAIL);
        let bad = self.b.ins().uextend(W, bad);
        self.bail_if(bad);
        r
    }

    /// Bails when a computed word collides with a sentinel (it would read as absent).
    fn guard_sentinel(&mut self, v: Value) {
        let hit = self
            .b
            .ins()
            .icmp_imm_s(IntCC::SignedLessThanOrEqual, v, UNFIT);
        let hit = self.b.ins().uextend(W, hit);
        self.bail_if(hit);
    }

    /// Evaluates `then` or `otherwise` by `cond` (0/1), joining their words.
    fn branch(
        &mut self,
        cond: Value,
        then: impl FnOnce(&mut Self) -> R<Value>,
        otherwise: impl FnOnce(&mut Self) -> R<Value>,
    ) -> R<Value> {
        let (t, e, join) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        let out = self.b.append_block_param(join, W);
        self.b.ins().brif(cond, t, &[], e, &[]);
        self.b.switch_to_block(t);
        let tv = then(self)?;
        self.b.ins().jump(join, &[tv.into()]);
        self.b.switch_to_block(e);
        let ev = otherwise(self)?;
        self.b.ins().jump(join, &[ev.into()]);
        self.b.switch_to_block(join);
        if self.is_flag(tv, FLAG_DEPTH) && self.is_flag(ev, FLAG_DEPTH) {
            self.flags.insert(out);
        }
        Ok(out)
    }

    /// A present decimal (or int, scale 0) word from scale `from` to `to` (≥ from); absent
    /// stays absent; an overflow bails.
    fn rescale(&mut self, v: Value, from: u32, to: u32) -> Value {
        if from == to {
            return v;
        }
        let factor = 10i64.pow(to - from);
        let f = self.iconst(factor);
        let (r, of) = self.b.ins().smul_overflow(v, f);
        let here = self.present(v, K::Int);
        let of = self.b.ins().uextend(W, of);
        let bad = self.b.ins().band(of, here);
        self.bail_if(bad);
        // A present value whose product lands on a sentinel would read as absent: bail.
        let r_bad = self
            .b
            .ins()
            .icmp_imm_s(IntCC::SignedLessThanOrEqual, r, UNFIT);
        let r_bad = self.b.ins().uextend(W, r_bad);
        let bad = self.b.ins().band(r_bad, here);
        self.bail_if(bad);
        let absent = self.iconst(ABSENT);
        self.b.ins().select(here, r, absent)
    }

    /// Brings two numeric words to one kind (int stays int; otherwise decimal at the larger
    /// scale).
    fn unify(&mut self, a: (Value, K), b: (Value, K)) -> R<(Value, Value, K)> {
        let scale = |k: K| match k {
            K::Int => Some(0),
            K::Dec(s) => Some(s),
            _ => None,
        };
        match (a.1, b.1) {
            (x, y) if x == y => Ok((a.0, b.0, x)),
            _ => match (scale(a.1), scale(b.1)) {
                (Some(sa), Some(sb)) => {
                    let s = sa.max(sb);
                    let x = self.rescale(a.0, sa, s);
                    let y = self.rescale(b.0, sb, s);
                    Ok((x, y, K::Dec(s)))
                }
                _ => unsupported(format!("values of kinds {:?} and {:?} together", a.1, b.1)),
            },
        }
    }

    fn kind_of(&self, ty: &Ty) -> R<K> {
        Ok(match ty.unwrap_optional() {
            Ty::Bool => K::Bool,
            Ty::Int => K::Int,
            Ty::Decimal => K::Dec(batch::DEC_SCALE),
            Ty::Date | Ty::Month => K::Date,
            Ty::DateTime => K::DateTime,
            Ty::Text | Ty::Code | Ty::Enum(_) => K::Id,
            t => return unsupported(format!("values of type {t}")),
        })
    }

    /// Compiles an expression to a word and its kind.
    pub fn expr(&mut self, ir: &Ir) -> R<(Value, K)> {
        if let Some(&known) = self.computed.get(&(ir as *const Ir)) {
            return Ok(known);
        }
        if let Some(read) = self.line_value(ir)? {
            return Ok(read);
        }
        match &ir.kind {
            IrKind::Lit(d) => self.literal(d, &ir.ty),
            IrKind::Var(v) => self.var(*v),
            IrKind::Shared(id) => {
                if let Some((slot, k)) = self.shared_vals.get(id).copied() {
                    return Ok((self.b.use_var(slot), k));
                }
                let program = self.program;
                let Some(s) = program.shared.get(*id as usize) else {
                    return unsupported("a missing shared expression");
                };
                let outer = self.space;
                self.space = 1 + *id;
                let r = self.expr(&s.expr);
                self.space = outer;
                r
            }
            IrKind::Field {
                base,
                slot,
                optional,
            } => self.field(base, *slot, *optional, &ir.ty),
            IrKind::Prop { base, prop, .. } => self.prop(base, prop, &ir.ty),
            IrKind::Lookup { table, keys, at } => self.lookup(*table, keys, at.as_deref()),
            IrKind::Not(x) => {
                let (v, _) = self.expr(x)?;
                let t = self.truth(v);
                Ok((self.b.ins().bxor_imm_u(t, 1), K::Bool))
            }
            IrKind::And(..) => Ok((self.conjunction(ir)?, K::Bool)),
            IrKind::Or(a, b) => {
                let (x, _) = self.expr(a)?;
                let tx = self.truth(x);
                let out = self.branch(
                    tx,
                    |g| Ok(g.iconst(1)),
                    |g| {
                        let (y, _) = g.expr(b)?;
                        Ok(g.truth(y))
                    },
                )?;
                Ok((out, K::Bool))
            }
            IrKind::Coalesce(a, b) => {
                let (x, kx) = self.expr(a)?;
                // A category with a text default stays a category word.
                let want = if kx == K::Cat {
                    K::Cat
                } else {
                    self.kind_of(&ir.ty)?
                };
                let here = self.present(x, kx);
                let out = self.branch(
                    here,
                    |g| g.convert(x, kx, want),
                    |g| {
                        let (y, ky) = g.expr(b)?;
                        g.convert(y, ky, want)
                    },
                )?;
                Ok((out, want))
            }
            IrKind::IsSome { value, bind } => {
                let (v, k) = self.expr(value)?;
                if let Some(var) = bind {
                    self.bind(*var, v, k);
                    self.some_vars.insert((self.space, *var));
                }
                Ok((self.present(v, k), K::Bool))
            }
            IrKind::IsNone(x) => {
                let (v, k) = self.expr(x)?;
                let p = self.present(v, k);
                Ok((self.b.ins().bxor_imm_u(p, 1), K::Bool))
            }
            IrKind::If {
                cond,
                then,
                otherwise,
            } => {
                let want = self.kind_of(&ir.ty)?;
                let (c, _) = self.expr(cond)?;
                let t = self.truth(c);
                let out = self.branch(
                    t,
                    |g| {
                        let (v, k) = g.expr(then)?;
                        g.convert(v, k, want)
                    },
                    |g| {
                        let (v, k) = g.expr(otherwise)?;
                        g.convert(v, k, want)
                    },
                )?;
                Ok((out, want))
            }
            IrKind::Bin(op, a, b) => self.binary(*op, a, b),
            IrKind::InList {
                value,
                list,
                negated,
            } => {
                let literal_items: Vec<Ir>;
                let items: &[Ir] = match &list.kind {
                    IrKind::List(items) => items,
                    IrKind::Lit(Datum::List(values)) => {
                        let Ty::List(element) = list.ty.unwrap_optional() else {
                            return unsupported("`in` over a value that is not a list");
                        };
                        literal_items = values
                            .iter()
                            .map(|v| Ir::lit(v.clone(), (**element).clone(), list.span))
                            .collect();
                        &literal_items
                    }
                    _ => return unsupported("`in` over a computed list"),
                };
                let (v, k) = self.expr(value)?;
                let here = self.present(v, k);
                let mut found = self.iconst(0);
                for item in items {
                    let (w, kw) = self.expr(item)?;
                    let eq = self.equal((v, k), (w, kw))?;
                    found = self.b.ins().bor(found, eq);
                }
                let r = if *negated {
                    self.b.ins().bxor_imm_u(found, 1)
                } else {
                    found
                };
                Ok((self.b.ins().band(r, here), K::Bool))
            }
            IrKind::InRange {
                value,
                lo,
                hi,
                inclusive,
                negated,
            } => {
                let v = self.expr(value)?;
                let l = self.expr(lo)?;
                let h = self.expr(hi)?;
                let here = self.present(v.0, v.1);
                let r = self.branch(
                    here,
                    |g| {
                        // As the interpreter: an absent bound compares as nothing (false).
                        let above = g.ordered(IntCC::SignedGreaterThanOrEqual, v, l)?;
                        let cc = if *inclusive {
                            IntCC::SignedLessThanOrEqual
                        } else {
                            IntCC::SignedLessThan
                        };
                        let below = g.ordered(cc, v, h)?;
                        let both = g.b.ins().band(above, below);
                        Ok(if *negated {
                            g.b.ins().bxor_imm_u(both, 1)
                        } else {
                            both
                        })
                    },
                    |g| Ok(g.iconst(0)),
                )?;
                Ok((r, K::Bool))
            }
            IrKind::Call { func, args } => self.call(*func, args, &ir.ty),
            IrKind::Quant {
                all,
                var,
                source,
                body,
            } => self.quant(ir, *all, *var, source, body),
            IrKind::Agg {
                kind: AggKind::Count,
                source,
                filter: None,
                ..
            } if matches!(
                &source.kind,
                IrKind::Agg {
                    kind: AggKind::Distinct,
                    by: None,
                    ..
                }
            ) =>
            {
                let IrKind::Agg {
                    var,
                    source: inner,
                    filter,
                    value,
                    ..
                } = &source.kind
                else {
                    return unsupported("a distinct count of this shape");
                };
                self.count_distinct(source, *var, inner, filter.as_deref(), value.as_deref())
            }
            IrKind::Agg {
                kind: AggKind::Groups,
                var,
                source,
                filter,
                by,
                ..
            } => self.groups(*var, source, filter.as_deref(), by.as_deref()),
            IrKind::Agg {
                kind,
                var,
                source,
                filter,
                value,
                by: None,
            } => self.aggregate(
                ir,
                (*kind, *var),
                source,
                filter.as_deref(),
                value.as_deref(),
            ),
            IrKind::Neg(x) => self.on_number(x, "negating", |g, v| {
                // A present word is above UNFIT, so its negation cannot overflow; the
                // negation of i64::MAX is UNFIT itself, which must not read as a sentinel.
                let r = g.b.ins().ineg(v);
                g.guard_sentinel(r);
                r
            }),
            IrKind::Let { var, value, body } => {
                let (v, k) = self.expr(value)?;
                self.bind(*var, v, k);
                self.expr(body)
            }
            other => unsupported(format!("`{}`", kind_name(other))),
        }
    }

    /// A word of kind `from` as kind `to` (numbers widen; other kinds must agree).
    fn convert(&mut self, v: Value, from: K, to: K) -> R<Value> {
        match (from, to) {
            (a, b) if a == b => Ok(v),
            (K::Int, K::Dec(s)) => Ok(self.rescale(v, 0, s)),
            (K::Dec(a), K::Dec(b)) if a <= b => Ok(self.rescale(v, a, b)),
            (K::Id, K::Cat) => {
                // Only a text of at most three characters is a category word (else -1).
                let here = self.present(v, K::Id);
                self.branch(
                    here,
                    |g| {
                        let c = g.text_as_category(v);
                        let long = g.b.ins().icmp_imm_s(IntCC::SignedLessThan, c, 0);
                        let long = g.b.ins().uextend(W, long);
                        g.bail_if(long);
                        Ok(c)
                    },
                    |g| Ok(g.iconst(ABSENT)),
                )
            }
            // A narrower target than the value has (a literal with more places than the
            // column): keep exactness by refusing.
            _ => unsupported(format!("a {from:?} where {to:?} is expected")),
        }
    }

    fn literal(&mut self, d: &Datum, ty: &Ty) -> R<(Value, K)> {
        Ok(match d {
            Datum::Absent => {
                let k = self.kind_of(ty)?;
                (self.absent(k), k)
            }
            Datum::Bool(b) => (self.iconst(*b as i64), K::Bool),
            Datum::Int(i) if *i > UNFIT => (self.iconst(*i), K::Int),
            Datum::Decimal(x) => {
                let w = i64::try_from(x.mantissa()).ok().filter(|w| *w > UNFIT);
                match w {
                    Some(w) if x.scale() <= MAX_SCALE => (self.iconst(w), K::Dec(x.scale())),
                    _ => return unsupported("a decimal literal this large"),
                }
            }
            Datum::Date(_) => (self.iconst(batch::date_word(d)), K::Date),
            Datum::DateTime(_) => (self.iconst(batch::datetime_word(d)), K::DateTime),
            Datum::Text(t) => {
                let id = self.base.intern(t);
                (self.iconst(id as i64), K::Id)
            }
            _ => return unsupported("a literal of this kind"),
        })
    }

    fn var(&mut self, v: Var) -> R<(Value, K)> {
        if let Some(e) = self.deferred.get(&(self.space, v)).copied() {
            return self.expr(e);
        }
        if let Some((slot, k)) = self.vars.get(&(self.space, v)).copied() {
            return Ok((self.b.use_var(slot), k));
        }
        match v {
            CLAIM => Ok((self.claim, K::Level(0))),
            LINE => match self.line_level {
                Some(level) => Ok((self.line, K::Level(level))),
                None => unsupported("the line outside a line rule"),
            },
            _ => unsupported("a variable bound by a construct not compiled"),
        }
    }

    /// The address of column `index` of the pointer table.
    fn column(&mut self, index: usize) -> Value {
        let offset = i32::try_from(index * 8).unwrap_or(i32::MAX);
        self.b.ins().load(
            W,
            MemFlagsData::trusted().with_readonly(),
            self.cols,
            offset,
        )
    }

    fn field(&mut self, base: &Ir, slot: usize, optional: bool, ty: &Ty) -> R<(Value, K)> {
        let (row, kb) = self.expr(base)?;
        let (index, kind) = match kb {
            K::Level(level) => (
                self.shape.claim_column(level, slot),
                self.shape.claim_kind(level, slot),
            ),
            K::Table(t) => (
                self.shape.table_column(t, slot),
                self.shape.table_kind(t, slot),
            ),
            _ => return unsupported("a field of a value that is not a row"),
        };
        let (Some(index), Some(kind)) = (index, kind) else {
            return unsupported("a field that is not laid out");
        };
        let k = match kind {
            // Lists are ranged over by quantifiers and aggregates (`rows_of`), not read as values.
            ColumnKind::List => return unsupported("a list field"),
            ColumnKind::None => return unsupported("a record field"),
            _ => self.kind_of(ty)?,
        };
        let word = |g: &mut Self| -> R<Value> {
            let col = g.column(index);
            let v = match kind {
                ColumnKind::Id => {
                    let at = g.b.ins().ishl_imm_u(row, 2);
                    let addr = g.b.ins().iadd(col, at);
                    g.b.ins().uload32(MemFlagsData::trusted(), addr, 0)
                }
                _ => {
                    let at = g.b.ins().ishl_imm_u(row, 3);
                    let addr = g.b.ins().iadd(col, at);
                    let v = g.b.ins().load(W, MemFlagsData::trusted(), addr, 0);
                    let unfit = g.b.ins().icmp_imm_s(IntCC::Equal, v, UNFIT);
                    let unfit = g.b.ins().uextend(W, unfit);
                    g.bail_if(unfit);
                    v
                }
            };
            Ok(v)
        };
        // Only the claim, the line under review and a loop's rows are rows for certain; a row
        // from a lookup, `first` or `last` may be absent (the checker makes rules test it
        // first, and native code checks again so that no row index it was not given is ever
        // read).
        let certain = match base.kind {
            IrKind::Var(v) if self.loop_rows.contains(&(self.space, v)) => true,
            IrKind::Var(v) => {
                (v == CLAIM || v == LINE) && !self.vars.contains_key(&(self.space, v))
            }
            _ => false,
        };
        let out = if optional || !certain {
            let here = self.present(row, kb);
            self.branch(here, word, |g| Ok(g.absent(k)))?
        } else {
            word(self)?
        };
        Ok((out, k))
    }

    /// The day number of a datetime word (absent stays absent).
    fn day_of(&mut self, t: Value) -> Value {
        let here = self.present(t, K::DateTime);
        // Floor division: a datetime before 0001-01-01 has negative seconds, and its day is
        // the one before truncation's.
        let day = self.b.ins().sdiv_imm_s(t, 86_400);
        let rem = self.b.ins().srem_imm_s(t, 86_400);
        let before = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, rem, 0);
        let before = self.b.ins().uextend(W, before);
        let day = self.b.ins().isub(day, before);
        let absent = self.iconst(ABSENT);
        self.b.ins().select(here, day, absent)
    }

    /// Seconds since midnight of a present datetime (0..86,400, also before 0001-01-01).
    fn seconds_of_day(&mut self, t: Value) -> Value {
        let rem = self.b.ins().srem_imm_s(t, 86_400);
        let before = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, rem, 0);
        let wrapped = self.b.ins().iadd_imm_s(rem, 86_400);
        self.b.ins().select(before, wrapped, rem)
    }

    fn prop(&mut self, base: &Ir, prop: &Prop, ty: &Ty) -> R<(Value, K)> {
        let (v, k) = self.expr(base)?;
        match (prop, k) {
            (Prop::Date, K::DateTime) => Ok((self.day_of(v), K::Date)),
            (Prop::Hour | Prop::Minute, K::DateTime) => {
                let here = self.present(v, k);
                let secs = self.seconds_of_day(v);
                let unit = if *prop == Prop::Hour { 3_600 } else { 60 };
                let n = self.b.ins().sdiv_imm_s(secs, unit);
                let n = if *prop == Prop::Minute {
                    self.b.ins().srem_imm_s(n, 60)
                } else {
                    n
                };
                let absent = self.iconst(ABSENT);
                Ok((self.b.ins().select(here, n, absent), K::Int))
            }
            (Prop::Code, _) => Ok((v, self.kind_of(ty)?)),
            (Prop::Category, K::Id) => {
                let here = self.present(v, k);
                let (ctx, two) = (self.ctx, self.sigs.two);
                let c = self.branch(
                    here,
                    |g| Ok(g.call_checked(two, calls::category as *const () as usize, &[ctx, v])),
                    |g| Ok(g.iconst(ABSENT)),
                )?;
                Ok((c, K::Cat))
            }
            // A category's category is itself (it has at most three characters).
            (Prop::Category, K::Cat) => Ok((v, K::Cat)),
            (Prop::GroupKey, K::Group(d)) => self.key_of(d, v),
            (Prop::GroupItems, K::Group(d)) => Ok((v, K::Items(d))),
            _ => unsupported(format!("the property {prop:?}")),
        }
    }

    fn lookup(&mut self, table: u32, keys: &[Ir], at: Option<&Ir>) -> R<(Value, K)> {
        // Taken before the keys, which may look up rows of their own.
        let only = self.compared.take().filter(|(t, _, _)| *t == table);
        let row = self.lookup_then(table, keys, at, only, |_, row| Ok(row), ABSENT)?;
        Ok((row, K::Table(table)))
    }

    /// `then(row)` where `table[keys at at]` finds a row, else `otherwise` (without a
    /// row). `only`: the row's text field the caller compares and with what, which rules out
    /// keys in no row with that text.
    fn lookup_then(
        &mut self,
        table: u32,
        keys: &[Ir],
        at: Option<&Ir>,
        only: Option<(u32, usize, String)>,
        then: impl FnOnce(&mut Self, Value) -> R<Value>,
        otherwise: i64,
    ) -> R<Value> {
        let mut key_words = Vec::with_capacity(2);
        for key in keys {
            let (kv, kk) = self.expr(key)?;
            if kk != K::Id {
                return unsupported("a lookup by a key that is not text");
            }
            key_words.push(kv);
        }
        let (kv, kv2) = match key_words.as_slice() {
            [a] => (*a, None),
            [a, b] => (*a, Some(*b)),
            _ => return unsupported("a lookup with more than two key columns"),
        };
        let day = match at {
            Some(a) => {
                let (d, kd) = self.expr(a)?;
                match kd {
                    K::Date => d,
                    K::DateTime => self.day_of(d),
                    _ => return unsupported("a lookup at a value that is not a date"),
                }
            }
            None => self.iconst(ABSENT),
        };
        let mut key_here = self.present(kv, K::Id);
        if let Some(k2) = kv2 {
            let p2 = self.present(k2, K::Id);
            key_here = self.b.ins().band(key_here, p2);
        }
        let day_here = if at.is_some() {
            self.present(day, K::Date)
        } else {
            self.iconst(1)
        };
        let both = self.b.ins().band(key_here, day_here);
        let keys: Vec<Value> = [Some(kv), kv2].into_iter().flatten().collect();
        let only = only.as_ref().map(|(_, slot, text)| (*slot, &**text));
        let single = self.shape.single_periods(table).filter(|_| kv2.is_none());
        let (ctx, sig, sig2) = (self.ctx, self.sigs.lookup, self.sigs.lookup2);
        // Two keys go by the pair filter where there is one (it is exact where it says no),
        // one key by its column's presence, and a key with single-period entries by no test
        // (a key in no row has the entry that holds on no day).
        let (keys, cond) = match (kv2, self.shape.pair_filter(table, only)) {
            (Some(k2), Some(filter)) => {
                let may = self.may_have_pair(filter, kv, k2);
                (Vec::new(), self.b.ins().band(both, may))
            }
            (None, _) if single.is_some() => (Vec::new(), both),
            _ => (keys, both),
        };
        self.if_keys_may(table, (0, &keys), only, (cond, otherwise), |g| {
            let row = match (single, kv2) {
                (Some(entries), _) => g.single_period(table, entries, kv, day)?,
                (None, None) => {
                    let t = g.iconst(table as i64);
                    g.call_checked(sig, calls::lookup as *const () as usize, &[ctx, t, kv, day])
                }
                (None, Some(k2)) => {
                    let t = g.iconst(table as i64);
                    g.call_checked(
                        sig2,
                        calls::lookup2 as *const () as usize,
                        &[ctx, t, kv, k2, day],
                    )
                }
            };
            then(g, row)
        })
    }

    /// `found` where `cond` holds and each of `keys` (of key columns `first..`) may be in its
    /// column, else ABSENT: a key id that no row has in its column finds no row, known
    /// without the call. Each key is tested only where the ones before passed: most keys of
    /// a pairs table's lookups are in no row, and a loop's own key, tested first when it is
    /// the first, usually ends it.
    fn if_keys_may(
        &mut self,
        table: u32,
        (first, keys): (usize, &[Value]),
        only: Option<(usize, &str)>,
        (cond, otherwise): (Value, i64),
        found: impl FnOnce(&mut Self) -> R<Value>,
    ) -> R<Value> {
        self.branch(
            cond,
            |g| match keys.split_first() {
                None => found(g),
                Some((&key, rest)) => {
                    // The keys are present (`cond`) ids (the lookup takes only those).
                    let may = g.may_have_key(table, first, key, only);
                    g.if_keys_may(table, (first + 1, rest), only, (may, otherwise), found)
                }
            },
            |g| Ok(g.iconst(otherwise)),
        )
    }

    /// A one-column key's row on `day` from the table's single-period entries: inline for a
    /// key with one period, by the lookup call for a key with several.
    fn single_period(
        &mut self,
        table: u32,
        (at, len): (usize, usize),
        key: Value,
        day: Value,
    ) -> R<Value> {
        // An id past the entries (a batch's own string) is in no row: entry 0, no day.
        let inside = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, key, len as i64);
        let zero = self.iconst(0);
        let index = self.b.ins().select(inside, key, zero);
        let offset = self.b.ins().imul_imm_s(index, 24);
        let base = self.iconst(at as i64);
        let addr = self.b.ins().iadd(base, offset);
        // The entries outlive the code and `index` is below their number (at least 1).
        let flags = MemFlagsData::trusted().with_readonly();
        let start = self.b.ins().load(W, flags, addr, 0);
        let several = self.b.ins().icmp_imm_s(IntCC::Equal, start, calls::CALL);
        let (ctx, sig) = (self.ctx, self.sigs.lookup);
        self.branch(
            several,
            |g| {
                let t = g.iconst(table as i64);
                Ok(g.call_checked(
                    sig,
                    calls::lookup as *const () as usize,
                    &[ctx, t, key, day],
                ))
            },
            |g| {
                let end = g.b.ins().load(W, flags, addr, 8);
                let row = g.b.ins().load(W, flags, addr, 16);
                let from = g.b.ins().icmp(IntCC::SignedLessThanOrEqual, start, day);
                let to = g.b.ins().icmp(IntCC::SignedLessThanOrEqual, day, end);
                let on = g.b.ins().band(from, to);
                let absent = g.iconst(ABSENT);
                Ok(g.b.ins().select(on, row, absent))
            },
        )
    }

    /// 0 when `key`, a word of kind `K::Id`, is certainly in no row of `table`'s key column
    /// `column` (a lookup by it finds nothing), else 1. An absent word is in no row either:
    /// callers test presence as well.
    fn may_have_key(
        &mut self,
        table: u32,
        column: usize,
        key: Value,
        only: Option<(usize, &str)>,
    ) -> Value {
        let Some((at, len)) = self.shape.key_presence_where(table, column, only) else {
            return self.iconst(1);
        };
        let inside = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, key, len as i64);
        let zero = self.iconst(0);
        let index = self.b.ins().select(inside, key, zero);
        let base = self.iconst(at as i64);
        let addr = self.b.ins().iadd(base, index);
        // The array outlives the code and `index` is below its length (at least 1).
        let byte = self
            .b
            .ins()
            .uload8(W, MemFlagsData::trusted().with_readonly(), addr, 0);
        let has = self.b.ins().icmp_imm_u(IntCC::NotEqual, byte, 0);
        let has = self.b.ins().band(inside, has);
        self.b.ins().uextend(W, has)
    }

    /// 0 when no row of the table whose pair filter is `(at, shift)` has the key words `k1`
    /// and `k2` (`PairFilter::place`), else 1. Any words give a bit inside the filter, so
    /// absent ones may be tested too (callers test presence as well).
    fn may_have_pair(&mut self, (at, shift): (usize, u32), k1: Value, k2: Value) -> Value {
        let high = self.b.ins().ishl_imm_u(k1, 32);
        let word = self.b.ins().bor(high, k2);
        let mixed = self.b.ins().imul_imm_s(word, pair_filter::MIX as i64);
        let place = self.b.ins().ushr_imm_u(mixed, i64::from(shift));
        let byte = self.b.ins().ushr_imm_u(place, 3);
        let base = self.iconst(at as i64);
        let addr = self.b.ins().iadd(base, byte);
        // The filter outlives the code, and `byte` is below its length: `place` has
        // 64 - shift bits, the filter 2^(64 - shift) bits.
        let bits = self
            .b
            .ins()
            .uload8(W, MemFlagsData::trusted().with_readonly(), addr, 0);
        let bit = self.b.ins().band_imm_u(place, 7);
        let bits = self.b.ins().ushr(bits, bit);
        self.b.ins().band_imm_u(bits, 1)
    }

    /// 1 when both are present and equal.
    fn equal(&mut self, a: (Value, K), b: (Value, K)) -> R<Value> {
        if a.1 == b.1 && plain_word(a.1) {
            // Words of one kind compare as they are, and equal words are both present or
            // both absent: no branch.
            let e = self.b.ins().icmp(IntCC::Equal, a.0, b.0);
            let e = self.b.ins().uextend(W, e);
            let pa = self.present(a.0, a.1);
            return Ok(self.b.ins().band(e, pa));
        }
        let pa = self.present(a.0, a.1);
        let pb = self.present(b.0, b.1);
        let both = self.b.ins().band(pa, pb);
        let eq = self.branch(
            both,
            |g| {
                let (x, y, _) = g.comparable(a, b)?;
                let e = g.b.ins().icmp(IntCC::Equal, x, y);
                Ok(g.b.ins().uextend(W, e))
            },
            |g| Ok(g.iconst(0)),
        )?;
        Ok(eq)
    }

    /// Two present words brought to one comparable kind.
    fn comparable(&mut self, a: (Value, K), b: (Value, K)) -> R<(Value, Value, K)> {
        match (a.1, b.1) {
            (K::Int | K::Dec(_), K::Int | K::Dec(_)) => self.unify(a, b),
            (K::Cat, K::Id) => Ok((a.0, self.text_as_category(b.0), K::Cat)),
            (K::Id, K::Cat) => Ok((self.text_as_category(a.0), b.0, K::Cat)),
            (x, y)
                if x == y
                    && !matches!(
                        x,
                        K::Level(_) | K::Table(_) | K::Groups(_) | K::Group(_) | K::Items(_)
                    ) =>
            {
                Ok((a.0, b.0, x))
            }
            (x, y) => unsupported(format!("comparing {x:?} with {y:?}")),
        }
    }

    /// `table[…]?.field == "text"` (either way round) as one test: where the lookup finds no
    /// row (most keys of a pairs table), 0 at once, with no absent row and field to test
    /// after. None where the lookup is not evaluated here (a value read back) or the
    /// operands are not of that shape.
    fn compared_lookup(&mut self, a: &Ir, b: &Ir) -> R<Option<Value>> {
        let Some((lookup, slot, text)) = guard::compared_operands(a, b) else {
            return Ok(None);
        };
        let IrKind::Lookup { table, keys, at } = &lookup.kind else {
            return Ok(None);
        };
        let at_lookup = lookup as *const Ir;
        let planned = self.computed.contains_key(&at_lookup)
            || self.aliases.contains_key(&at_lookup)
            || self
                .lines
                .as_ref()
                .is_some_and(|p| p.at_of(lookup).is_some());
        if planned {
            return Ok(None);
        }
        // The interpreter evaluates the field's side first; a literal cannot fail.
        let (field, literal) = if matches!(a.kind, IrKind::Field { .. }) {
            (a, b)
        } else {
            (b, a)
        };
        let text_word = self.expr(literal)?;
        let only = Some((*table, slot, text.to_string()));
        let t = *table;
        let v = self.lookup_then(
            t,
            keys,
            at.as_deref(),
            only,
            |g, row| {
                // The field reads the row found here.
                g.computed.insert(at_lookup, (row, K::Table(t)));
                let read = g.expr(field);
                g.computed.remove(&at_lookup);
                g.equal(read?, text_word)
            },
            0,
        )?;
        Ok(Some(v))
    }

    fn binary(&mut self, op: BinOp, a: &Ir, b: &Ir) -> R<(Value, K)> {
        if op == BinOp::Eq {
            if let Some(v) = self.compared_lookup(a, b)? {
                return Ok((v, K::Bool));
            }
            self.compared =
                guard::compared_operands(a, b).and_then(|(l, slot, text)| match l.kind {
                    IrKind::Lookup { table, .. } => Some((table, slot, text.to_string())),
                    _ => None,
                });
        }
        let both = self.expr(a).and_then(|x| self.expr(b).map(|y| (x, y)));
        // Never left for a later lookup, whatever happened.
        self.compared = None;
        let (x, y) = both?;
        let some = |g: &Self, e: &Ir| matches!(e.kind, IrKind::Var(v) if g.some_vars.contains(&(g.space, v)));
        match op {
            // Equal to a value known present: present too, so equal words are enough.
            BinOp::Eq if x.1 == y.1 && (some(self, a) || some(self, b)) && plain_word(x.1) => {
                let e = self.b.ins().icmp(IntCC::Equal, x.0, y.0);
                Ok((self.b.ins().uextend(W, e), K::Bool))
            }
            BinOp::Eq => Ok((self.equal(x, y)?, K::Bool)),
            BinOp::Ne => {
                let pa = self.present(x.0, x.1);
                let pb = self.present(y.0, y.1);
                let both = self.b.ins().band(pa, pb);
                let eq = self.equal(x, y)?;
                let ne = self.b.ins().bxor_imm_u(eq, 1);
                Ok((self.b.ins().band(both, ne), K::Bool))
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let cc = match op {
                    BinOp::Lt => IntCC::SignedLessThan,
                    BinOp::Le => IntCC::SignedLessThanOrEqual,
                    BinOp::Gt => IntCC::SignedGreaterThan,
                    _ => IntCC::SignedGreaterThanOrEqual,
                };
                Ok((self.ordered(cc, x, y)?, K::Bool))
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul => self.arithmetic(op, x, y),
            BinOp::Div => self.divide(x, y),
        }
    }

    /// 1 when both are present and `x cc y`, else 0.
    fn ordered(&mut self, cc: IntCC, x: (Value, K), y: (Value, K)) -> R<Value> {
        let pa = self.present(x.0, x.1);
        let pb = self.present(y.0, y.1);
        let both = self.b.ins().band(pa, pb);
        if x.1 == y.1 && matches!(x.1, K::Int | K::Dec(_) | K::Date | K::DateTime | K::Cat) {
            // Words of one numeric kind order as integers: no call, no rescale, no branch.
            let c = self.b.ins().icmp(cc, x.0, y.0);
            let c = self.b.ins().uextend(W, c);
            return Ok(self.b.ins().band(c, both));
        }
        self.branch(
            both,
            |g| {
                let (p, q) = g.order_words(x, y)?;
                let c = g.b.ins().icmp(cc, p, q);
                Ok(g.b.ins().uextend(W, c))
            },
            |g| Ok(g.iconst(0)),
        )
    }

    /// Two present words as integers whose signed order is the interpreter's order of the
    /// values: numbers, dates and categories as they are; texts by a call comparing the
    /// strings (its answer against 0).
    fn order_words(&mut self, x: (Value, K), y: (Value, K)) -> R<(Value, Value)> {
        if x.1 == K::Id && y.1 == K::Id {
            let (ctx, ctx_two) = (self.ctx, self.sigs.ctx_two);
            let r = self.call_checked(
                ctx_two,
                calls::text_cmp as *const () as usize,
                &[ctx, x.0, y.0],
            );
            return Ok((r, self.iconst(0)));
        }
        let (p, q, k) = self.comparable(x, y)?;
        if k == K::Cat && x.1 != y.1 {
            // A text longer than a category became -1: fine for `==`, not for order.
            let low = self.b.ins().smin(p, q);
            let long = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, low, 0);
            let long = self.b.ins().uextend(W, long);
            self.bail_if(long);
        }
        Ok((p, q))
    }

    /// A present text id as a category word (-1 when the text is longer than a category).
    fn text_as_category(&mut self, id: Value) -> Value {
        let (ctx, two) = (self.ctx, self.sigs.two);
        self.call_checked(
            two,
            calls::text_as_category as *const () as usize,
            &[ctx, id],
        )
    }

    fn arithmetic(&mut self, op: BinOp, x: (Value, K), y: (Value, K)) -> R<(Value, K)> {
        let k = match (op, x.1, y.1) {
            (BinOp::Sub, K::Date, K::Date) => K::Int,
            (BinOp::Add | BinOp::Sub, K::Date, K::Int) => K::Date,
            (BinOp::Add, K::Int, K::Date) => K::Date,
            (_, K::Int, K::Int) => K::Int,
            (BinOp::Mul, K::Int | K::Dec(_), K::Int | K::Dec(_)) => {
                let s = |k: K| if let K::Dec(s) = k { s } else { 0 };
                let scale = s(x.1) + s(y.1);
                if scale > MAX_SCALE {
                    return unsupported("a product with this many decimal places");
                }
                K::Dec(scale)
            }
            (_, K::Int | K::Dec(_), K::Int | K::Dec(_)) => {
                let s = |k: K| if let K::Dec(s) = k { s } else { 0 };
                K::Dec(s(x.1).max(s(y.1)))
            }
            (_, a, b) => return unsupported(format!("arithmetic on {a:?} and {b:?}")),
        };
        let pa = self.present(x.0, x.1);
        let pb = self.present(y.0, y.1);
        let both = self.b.ins().band(pa, pb);
        let out = self.branch(
            both,
            |g| {
                let (p, q) = match (op, x.1, y.1) {
                    (BinOp::Mul, _, _) | (_, K::Date, _) | (_, _, K::Date) => (x.0, y.0),
                    _ => {
                        let (p, q, _) = g.unify(x, y)?;
                        (p, q)
                    }
                };
                let (r, of) = match op {
                    BinOp::Add => g.b.ins().sadd_overflow(p, q),
                    BinOp::Sub => g.b.ins().ssub_overflow(p, q),
                    _ => g.b.ins().smul_overflow(p, q),
                };
                let of = g.b.ins().uextend(W, of);
                g.bail_if(of);
                g.guard_sentinel(r);
                if k == K::Date {
                    // The interpreter's calendar ends where chrono's does: beyond, it reports
                    // an overflow; bail and let it.
                    let lo = g.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, g_min_day());
                    let hi =
                        g.b.ins()
                            .icmp_imm_s(IntCC::SignedGreaterThan, r, g_max_day());
                    let out = g.b.ins().bor(lo, hi);
                    let out = g.b.ins().uextend(W, out);
                    g.bail_if(out);
                }
                Ok(r)
            },
            |g| Ok(g.absent(k)),
        )?;
        Ok((out, k))
    }

    /// The rows a quantifier or aggregate ranges over: `(first, end, kind of an element, and
    /// for a list of values the column of the values)`; else each index is a row.
    fn rows_of(&mut self, source: &Ir) -> R<Rows> {
        match &source.kind {
            IrKind::Field {
                base,
                slot,
                optional: false,
            } => {
                // The claim's own list of a line group: its rows were found before the loop.
                let own_claim = matches!(base.kind, IrKind::Var(CLAIM))
                    && !self.vars.contains_key(&(self.space, CLAIM));
                if let Some((_, rows)) = self.claim_list.filter(|(s, _)| own_claim && s == slot) {
                    return Ok(rows);
                }
                let (row, kb) = self.expr(base)?;
                if let K::Table(t) = kb {
                    return self.table_values(row, t, *slot);
                }
                self.list_of(row, kb, *slot)
            }
            IrKind::Rows(t) => {
                let Some(rows) = self.shape.table_rows(*t) else {
                    return unsupported("rows of a table not laid out");
                };
                let first = self.iconst(0);
                let end = self.iconst(rows as i64);
                Ok((first, end, K::Table(*t), None))
            }
            IrKind::Shared(id) => {
                let program = self.program;
                match program.shared.get(*id as usize) {
                    Some(s) if matches!(s.expr.kind, IrKind::History(_)) => self.rows_of(&s.expr),
                    _ => unsupported("a quantifier over a shared list"),
                }
            }
            IrKind::History(psn) => {
                // Only the claim's own patient: the batch holds that patient's rows together.
                let own = matches!(&psn.kind, IrKind::Field { base, slot, optional: false }
                    if *slot == self.shape.psn_no()
                        && matches!(base.kind, IrKind::Var(CLAIM))
                        && !self.vars.contains_key(&(self.space, CLAIM)));
                if !own {
                    return unsupported("the history of another patient");
                }
                let ranges = self.column(self.shape.patients());
                let at = self.b.ins().ishl_imm_u(self.claim, 3);
                let addr = self.b.ins().iadd(ranges, at);
                let first = self.b.ins().uload32(MemFlagsData::trusted(), addr, 0);
                let end = self.b.ins().uload32(MemFlagsData::trusted(), addr, 4);
                let unknown = self.b.ins().icmp_imm_s(
                    IntCC::Equal,
                    first,
                    i64::from(vigil_runtime::batch::UNKNOWN_PATIENT),
                );
                let unknown = self.b.ins().uextend(W, unknown);
                self.bail_if(unknown);
                Ok((first, end, K::Level(0), None))
            }
            _ => unsupported("a quantifier over a list that is not a claim's list or a table"),
        }
    }

    /// The rows of list field `slot` of claim-level row `row` (of kind `kb`).
    fn list_of(&mut self, row: Value, kb: K, slot: usize) -> R<Rows> {
        let K::Level(level) = kb else {
            return unsupported("a list that is not a claim's");
        };
        let (Some(element), Some(index)) = (
            self.shape.list_level(level, slot),
            self.shape.claim_column(level, slot),
        ) else {
            return unsupported("a list that is not laid out");
        };
        // A row that may be absent (from `first`, `last`) has no list: an empty range, and no
        // offsets read for it.
        let here = self.present(row, kb);
        let col = self.column(index);
        let at = self.b.ins().ishl_imm_u(row, 2);
        // Offset word `k` of the row (its first element, then the next row's), 0 for none.
        let offset = |g: &mut Self, k: i32| {
            g.branch(
                here,
                |g| {
                    let addr = g.b.ins().iadd(col, at);
                    Ok(g.b.ins().uload32(MemFlagsData::trusted(), addr, 4 * k))
                },
                |g| Ok(g.iconst(0)),
            )
        };
        let first = offset(self, 0)?;
        let end = offset(self, 1)?;
        Ok((first, end, K::Level(element), None))
    }

    /// The values of a table row's list column (`sep "|"`): an absent row has none.
    fn table_values(&mut self, row: Value, table: u32, slot: usize) -> R<Rows> {
        let (Some(offsets), Some(ids)) = (
            self.shape.table_column(table, slot),
            self.shape.table_values(table, slot),
        ) else {
            return unsupported("a table list column that is not laid out");
        };
        let here = self.present(row, K::Table(table));
        let (first, end) = {
            let col = self.column(offsets);
            // An absent row reads row 0's offsets only to throw them away below; a table
            // without rows has one offset, so read nothing then.
            let rows = self.shape.table_rows(table).unwrap_or(0);
            if rows == 0 {
                let z = self.iconst(0);
                (z, z)
            } else {
                let zero = self.iconst(0);
                let r = self.b.ins().select(here, row, zero);
                let at = self.b.ins().ishl_imm_u(r, 2);
                let addr = self.b.ins().iadd(col, at);
                let a = self.b.ins().uload32(MemFlagsData::trusted(), addr, 0);
                let b = self.b.ins().uload32(MemFlagsData::trusted(), addr, 4);
                let b = self.b.ins().select(here, b, a);
                (a, b)
            }
        };
        Ok((first, end, K::Id, Some(ids)))
    }

    /// For history: the claim's own `setl_id` id and its column, so that a loop over the
    /// patient's rows leaves out every claim with the same `setl_id`, as `history()` does.
    fn history_exclusion(&mut self, source: &Ir) -> R<Option<(usize, Value)>> {
        if !is_history(self.program, source) {
            return Ok(None);
        }
        let Some(index) = self.shape.claim_column(0, self.shape.setl_id()) else {
            return unsupported("a claim without setl_id");
        };
        let col = self.column(index);
        let at = self.b.ins().ishl_imm_u(self.claim, 2);
        let addr = self.b.ins().iadd(col, at);
        let me = self.b.ins().uload32(MemFlagsData::trusted(), addr, 0);
        Ok(Some((index, me)))
    }

    /// A loop over `first..end`, binding each row to `var`; `body` runs per row (given its
    /// index) and says (0/1 word) whether to stop early. Rows `skip` names are passed over.
    fn each_row(
        &mut self,
        (first, end, k, values): Rows,
        skip: Skip,
        var: Var,
        mut body: impl FnMut(&mut Self, Value) -> R<Value>,
    ) -> R<()> {
        let i = self.b.declare_var(W);
        self.b.def_var(i, first);
        let (header, step, exit) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let at = self.b.use_var(i);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, at, end);
        let body_block = self.b.create_block();
        self.b.ins().brif(more, body_block, &[], exit, &[]);
        self.b.switch_to_block(body_block);
        if let Some(own) = skip.history {
            self.skip_own_claim(own, at, step);
        }
        if let Some((d, key)) = skip.member {
            // Before `var` is bound: the definition's own variable may share its slot.
            let inside = self.member(d, key, at)?;
            let go = self.b.create_block();
            self.b.ins().brif(inside, go, &[], step, &[]);
            self.b.switch_to_block(go);
        }
        match values {
            Some(index) => {
                let col = self.column(index);
                let off = self.b.ins().ishl_imm_u(at, 2);
                let addr = self.b.ins().iadd(col, off);
                let v = self.b.ins().uload32(MemFlagsData::trusted(), addr, 0);
                self.bind(var, v, k);
            }
            None => {
                self.bind(var, at, k);
                // `first..end` holds rows only: the element is never ABSENT.
                self.loop_rows.insert((self.space, var));
            }
        }
        let stop = body(self, at)?;
        self.b.ins().brif(stop, exit, &[], step, &[]);
        self.b.switch_to_block(step);
        let next = self.b.ins().iadd_imm_s(at, 1);
        self.b.def_var(i, next);
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(exit);
        Ok(())
    }

    /// Jumps to `step` when claim row `row` has the claim's own `setl_id` (`own`: its column
    /// and the id): such a row is not history.
    fn skip_own_claim(&mut self, (index, me): (usize, Value), row: Value, step: Block) {
        let col = self.column(index);
        let off = self.b.ins().ishl_imm_u(row, 2);
        let addr = self.b.ins().iadd(col, off);
        let id = self.b.ins().uload32(MemFlagsData::trusted(), addr, 0);
        let same = self.b.ins().icmp(IntCC::Equal, id, me);
        let go = self.b.create_block();
        self.b.ins().brif(same, step, &[], go, &[]);
        self.b.switch_to_block(go);
    }

    /// Runs `f` with the variable space set to `space`.
    fn in_space<T>(&mut self, space: u32, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        let outer = std::mem::replace(&mut self.space, space);
        let r = f(self);
        self.space = outer;
        r
    }

    /// Runs `f` with `var` bound to `v`, then binds it back to what it was.
    fn with_bound<T>(
        &mut self,
        var: Var,
        v: Value,
        k: K,
        f: impl FnOnce(&mut Self) -> R<T>,
    ) -> R<T> {
        let key = (self.space, var);
        let before = self
            .vars
            .get(&key)
            .copied()
            .map(|(slot, kind)| (self.b.use_var(slot), kind));
        self.bind(var, v, k);
        let r = f(self);
        match before {
            Some((old, kind)) => self.bind(var, old, kind),
            None => {
                self.vars.remove(&key);
            }
        }
        r
    }

    /// The rows of a list plain (not a group's items): claim lists, tables, history.
    fn plain_range(&mut self, source: &Ir) -> R<(Rows, Skip)> {
        let rows = self.rows_of(source)?;
        let history = self.history_exclusion(source)?;
        Ok((
            rows,
            Skip {
                history,
                member: None,
            },
        ))
    }

    /// The rows a list expression ranges over, with those to leave out.
    fn range_of(&mut self, source: &Ir) -> R<(Rows, Skip)> {
        let items = match &source.kind {
            IrKind::Prop {
                prop: Prop::GroupItems,
                ..
            } => true,
            IrKind::Var(v) => matches!(self.vars.get(&(self.space, *v)), Some((_, K::Items(_)))),
            _ => false,
        };
        if !items {
            return self.plain_range(source);
        }
        let (leader, k) = self.expr(source)?;
        let K::Items(d) = k else {
            return unsupported("the items of something that is not a group");
        };
        let def = self.def(d)?;
        let (rows, skip) = self.in_space(def.space, |g| g.plain_range(&def.source))?;
        let key = self.key_of(d, leader)?;
        // The group's items start at its first element; no group, no items.
        let here = self.present(leader, K::Group(d));
        let first = self.b.ins().select(here, leader, rows.1);
        Ok((
            (first, rows.1, rows.2, rows.3),
            Skip {
                history: skip.history,
                member: Some((d, key)),
            },
        ))
    }

    fn def(&self, d: u32) -> R<Rc<GroupDef>> {
        match self.defs.get(d as usize) {
            Some(def) => Ok(Rc::clone(def)),
            None => unsupported("a missing groups definition"),
        }
    }

    /// What a quantifier or aggregate ranges over: groups, or rows.
    fn source_of(&mut self, source: &Ir) -> R<Source> {
        let is_groups =
            matches!(source.ty.unwrap_optional(), Ty::List(e) if matches!(**e, Ty::Group(..)));
        if is_groups {
            return match self.expr(source)? {
                (_, K::Groups(d)) => Ok(Source::Groups(d)),
                _ => unsupported("groups not made by `groups(…)`"),
            };
        }
        let (rows, skip) = self.range_of(source)?;
        Ok(Source::Rows(rows, skip))
    }

    /// The kind of an element of a source.
    fn elem_kind(source: &Source) -> K {
        match source {
            Source::Rows(rows, _) => rows.2,
            Source::Groups(d) => K::Group(*d),
        }
    }

    /// A loop over a source, binding each element to `var`; `body` says whether to stop.
    fn each_in(
        &mut self,
        source: Source,
        var: Var,
        mut body: impl FnMut(&mut Self) -> R<Value>,
    ) -> R<()> {
        match source {
            Source::Rows(rows, skip) => self.each_row(rows, skip, var, |g, _| body(g)),
            Source::Groups(d) => self.each_group(d, var, body),
        }
    }

    /// How the loop `node` over `src` whose filter (or body) is `cond` walks: the chain the
    /// plan gives it, or every row; and what to test on each step (on a patient chain's
    /// lines, the inner loop's body).
    fn walk_of<'c>(&mut self, node: &Ir, src: Source, var: Var, cond: &'c Ir) -> R<(Walk, &'c Ir)>
    where
        'a: 'c,
    {
        if let Some((walk, body)) = self.history_chain_start(node, &src)? {
            return Ok((Walk::History(walk), body));
        }
        Ok(match self.chain_start(node)? {
            Some(c) => (Walk::Chain(c, self.keyed_conjuncts(node, var, cond)), cond),
            None => (Walk::Every(src), cond),
        })
    }

    /// A loop as `walk` says, binding each element to `var`; `body` says whether to stop.
    fn each_walk(
        &mut self,
        walk: Walk,
        var: Var,
        body: impl FnMut(&mut Self) -> R<Value>,
    ) -> R<()> {
        match walk {
            Walk::Every(source) => self.each_in(source, var, body),
            Walk::Chain(c, known) => {
                // Every line of the chain passes its keyed conjuncts: they are not tested.
                let one = self.iconst(1);
                for &at in &known {
                    self.computed.insert(at, (one, K::Bool));
                }
                let walked = self.each_chained(c, var, body);
                for at in &known {
                    self.computed.remove(at);
                }
                walked
            }
            Walk::History(c) => self.each_history_chained(c, var, body),
        }
    }

    /// `groups(var in source by by where filter)`: checks every element's `filter` and `by`
    /// once here, as the interpreter evaluates them here (a bail where it would fail), and
    /// gives the definition's word.
    fn groups(
        &mut self,
        var: Var,
        source: &Ir,
        filter: Option<&Ir>,
        by: Option<&Ir>,
    ) -> R<(Value, K)> {
        let Some(by) = by else {
            return unsupported("groups without a key");
        };
        let mut inner = vec![source, by];
        inner.extend(filter);
        if !self.closed(var, &inner) {
            return unsupported("groups that read a variable of the rule");
        }
        let (rows, skip) = self.plain_range(source)?;
        if rows.3.is_some() {
            return unsupported("groups of a list of values");
        }
        let d = u32::try_from(self.defs.len()).unwrap_or(u32::MAX);
        let def = Rc::new(GroupDef {
            var,
            source: source.clone(),
            filter: filter.cloned(),
            by: by.clone(),
            space: self.space,
            elem: rows.2,
        });
        self.alias_line_values(by, &def.by);
        if let (Some(original), Some(copy)) = (filter, &def.filter) {
            self.alias_line_values(original, copy);
        }
        self.defs.push(def);
        self.each_row(rows, skip, var, |g, _| {
            let pass = g.passes(filter)?;
            g.branch(
                pass,
                |g| {
                    g.expr(by)?;
                    Ok(g.iconst(0))
                },
                |g| Ok(g.iconst(0)),
            )?;
            Ok(g.iconst(0))
        })?;
        Ok((self.iconst(0), K::Groups(d)))
    }

    /// Whether the expressions read no variable but the claim, the line, `var` and their
    /// own binders (so that evaluating them later gives the same values).
    fn closed(&self, var: Var, exprs: &[&Ir]) -> bool {
        let mut bound = vec![var];
        let mut used = Vec::new();
        let mut stack: Vec<&Ir> = exprs.to_vec();
        while let Some(ir) = stack.pop() {
            match &ir.kind {
                IrKind::Var(v) => used.push(*v),
                IrKind::Quant { var, .. } | IrKind::Agg { var, .. } | IrKind::Let { var, .. } => {
                    bound.push(*var)
                }
                IrKind::IsSome { bind: Some(v), .. } => bound.push(*v),
                _ => {}
            }
            stack.extend(ir.children());
        }
        used.iter().all(|v| {
            bound.contains(v)
                || ((*v == CLAIM || *v == LINE) && !self.vars.contains_key(&(self.space, *v)))
        })
    }

    /// The key of the group whose first element is row `leader` (absent when ABSENT).
    fn key_of(&mut self, d: u32, leader: Value) -> R<(Value, K)> {
        let def = self.def(d)?;
        let here = self.present(leader, K::Group(d));
        let mut kind = None;
        let v = self.in_space(def.space, |g| {
            g.branch(
                here,
                |g| {
                    g.with_bound(def.var, leader, def.elem, |g| {
                        let (v, k) = g.expr(&def.by)?;
                        kind = Some(k);
                        Ok(v)
                    })
                },
                |g| Ok(g.iconst(ABSENT)),
            )
        })?;
        let Some(k) = kind else {
            return unsupported("a group key of no kind");
        };
        // The otherwise-branch's ABSENT is the absent id 0 for ids.
        let v = if k == K::Id {
            let present = self.present(leader, K::Group(d));
            let zero = self.iconst(0);
            self.b.ins().select(present, v, zero)
        } else {
            v
        };
        Ok((v, k))
    }

    /// 1 when row `at` passes definition `d`'s filter and has key `key` (present).
    fn member(&mut self, d: u32, key: (Value, K), at: Value) -> R<Value> {
        let def = self.def(d)?;
        self.in_space(def.space, |g| {
            g.with_bound(def.var, at, def.elem, |g| {
                let pass = g.passes(def.filter.as_ref())?;
                g.branch(
                    pass,
                    |g| {
                        let k = g.expr(&def.by)?;
                        g.equal(k, key)
                    },
                    |g| Ok(g.iconst(0)),
                )
            })
        })
    }

    /// A loop over the groups of definition `d`: `var` is bound to each group (its first
    /// element's row) in first-appearance order.
    fn each_group(
        &mut self,
        d: u32,
        var: Var,
        mut body: impl FnMut(&mut Self) -> R<Value>,
    ) -> R<()> {
        let def = self.def(d)?;
        let user = self.space;
        let (rows, skip) = self.in_space(def.space, |g| g.plain_range(&def.source))?;
        self.in_space(def.space, |g| {
            g.each_row(rows, skip, def.var, |g, at| {
                let pass = g.passes(def.filter.as_ref())?;
                let first = g.branch(
                    pass,
                    |g| {
                        let key = g.expr(&def.by)?;
                        let here = g.present(key.0, key.1);
                        g.branch(
                            here,
                            |g| {
                                // First of its group: no earlier passing row has its key.
                                let seen = g.b.declare_var(W);
                                let no = g.iconst(0);
                                g.b.def_var(seen, no);
                                let earlier = (rows.0, at, rows.2, rows.3);
                                g.each_row(earlier, skip, def.var, |h, before| {
                                    let hit = h.member(d, key, before)?;
                                    let now = h.b.use_var(seen);
                                    let s2 = h.b.ins().bor(now, hit);
                                    h.b.def_var(seen, s2);
                                    Ok(hit)
                                })?;
                                let was = g.b.use_var(seen);
                                Ok(g.b.ins().bxor_imm_u(was, 1))
                            },
                            |g| Ok(g.iconst(0)),
                        )
                    },
                    |g| Ok(g.iconst(0)),
                )?;
                g.branch(
                    first,
                    |g| {
                        let space = std::mem::replace(&mut g.space, user);
                        g.bind(var, at, K::Group(d));
                        let stop = body(g);
                        g.space = space;
                        stop
                    },
                    |g| Ok(g.iconst(0)),
                )
            })
        })
    }

    fn quant(&mut self, node: &Ir, all: bool, var: Var, source: &Ir, body: &Ir) -> R<(Value, K)> {
        let src = self.source_of(source)?;
        let result = self.b.declare_var(W);
        let start = self.iconst(all as i64);
        self.b.def_var(result, start);
        // `exists` holds on no row where its body cannot hold on any.
        let guard = match src {
            Source::Rows(..) if !all => self.loop_guard(var, Some(body))?,
            _ => None,
        };
        self.only_if(guard, |g| {
            let (walk, body) = if all {
                (Walk::Every(src), body)
            } else {
                g.walk_of(node, src, var, body)?
            };
            g.each_walk(walk, var, |g| {
                let (v, _) = g.expr(body)?;
                let holds = g.truth(v);
                // `all` stops at the first row that does not hold, `exists` at the first that does.
                let stop = if all {
                    g.b.ins().bxor_imm_u(holds, 1)
                } else {
                    holds
                };
                let now = g.b.use_var(result);
                let flipped = g.b.ins().bxor_imm_u(now, 1);
                let r = g.b.ins().select(stop, flipped, now);
                g.b.def_var(result, r);
                Ok(stop)
            })
        })?;
        // Every definition of `result` is a flag: so is its join.
        let holds = self.b.use_var(result);
        self.flags.insert(holds);
        Ok((holds, K::Bool))
    }

    /// 1 when the row the loop stands on passes an aggregate's `where` (always without one).
    fn passes(&mut self, filter: Option<&Ir>) -> R<Value> {
        match filter {
            Some(f) => {
                let (v, _) = self.expr(f)?;
                Ok(self.truth(v))
            }
            None => Ok(self.iconst(1)),
        }
    }

    /// `count(distinct(value for var in source where filter))` (without `value`: the
    /// elements themselves): the rows whose (present) value no earlier passing row has; no
    /// list is built.
    fn count_distinct(
        &mut self,
        node: &Ir,
        var: Var,
        source: &Ir,
        filter: Option<&Ir>,
        value: Option<&Ir>,
    ) -> R<(Value, K)> {
        let (rows, skip) = self.range_of(source)?;
        let count = self.b.declare_var(W);
        let zero = self.iconst(0);
        self.b.def_var(count, zero);
        let value_of = |g: &mut Self| -> R<(Value, K)> {
            match value {
                Some(e) => g.expr(e),
                None => g.var(var),
            }
        };
        self.each_row(rows, skip, var, |g, me| {
            let pass = g.passes(filter)?;
            let (v, k) = value_of(g)?;
            let here = g.present(v, k);
            let go = g.b.ins().band(pass, here);
            let (check, done) = (g.b.create_block(), g.b.create_block());
            g.b.ins().brif(go, check, &[], done, &[]);
            g.b.switch_to_block(check);
            // Seen before: some earlier passing row with an equal value.
            let seen = g.b.declare_var(W);
            let no = g.iconst(0);
            g.b.def_var(seen, no);
            let earlier = (rows.0, me, rows.2, rows.3);
            let mark = |h: &mut Self, hit: Value| {
                let now = h.b.use_var(seen);
                let s2 = h.b.ins().bor(now, hit);
                h.b.def_var(seen, s2);
            };
            match g.earlier_with_value(node, me)? {
                // The earlier rows with an equal value word: equal values.
                Some(c) => g.each_chained(c, var, |h| {
                    let hit = h.passes(filter)?;
                    mark(h, hit);
                    Ok(hit)
                })?,
                None => g.each_row(earlier, skip, var, |h, _| {
                    let pass = h.passes(filter)?;
                    let (w, kw) = value_of(h)?;
                    let eq = h.equal((w, kw), (v, k))?;
                    let hit = h.b.ins().band(pass, eq);
                    mark(h, hit);
                    Ok(hit)
                })?,
            }
            let was = g.b.use_var(seen);
            let new = g.b.ins().bxor_imm_u(was, 1);
            let c = g.b.use_var(count);
            let c2 = g.b.ins().iadd(c, new);
            g.b.def_var(count, c2);
            g.b.ins().jump(done, &[]);
            g.b.switch_to_block(done);
            Ok(g.iconst(0))
        })?;
        Ok((self.b.use_var(count), K::Int))
    }

    /// An aggregate `node` (of type `node.ty`) of `kind` over `var` in `source`.
    fn aggregate(
        &mut self,
        node: &Ir,
        (kind, var): (AggKind, Var),
        source: &Ir,
        filter: Option<&Ir>,
        value: Option<&Ir>,
    ) -> R<(Value, K)> {
        let ty = &node.ty;
        let src = self.source_of(source)?;
        let row_kind = Self::elem_kind(&src);
        // The kind of what is aggregated: the value, or the row itself.
        let out_kind = match (kind, value) {
            (AggKind::Count, _) => K::Int,
            (AggKind::Sum | AggKind::Min | AggKind::Max, None) => {
                return unsupported("an aggregate of rows without a value")
            }
            (AggKind::First | AggKind::Last, None) => row_kind,
            (AggKind::Distinct | AggKind::Groups, _) => {
                return unsupported("an aggregate that makes a list")
            }
            // Decimal sums and extremes carry the value's own scale, found below.
            (_, Some(_)) => self.kind_of(ty)?,
        };
        let acc = self.b.declare_var(W);
        let init = match kind {
            // A sum over no rows is 0, as is a count.
            AggKind::Count | AggKind::Sum => self.iconst(0),
            _ => self.absent(out_kind),
        };
        self.b.def_var(acc, init);
        let mut value_kind: Option<K> = None;
        let int_sum = *ty.unwrap_optional() == Ty::Int;
        // No row passes a `where` that cannot hold: the result is the empty one.
        let guard = match src {
            Source::Rows(..) => self.loop_guard(var, filter)?,
            Source::Groups(_) => None,
        };
        self.only_if(guard, |g| {
            let (walk, filter) = match filter {
                Some(f) => {
                    let (walk, f) = g.walk_of(node, src, var, f)?;
                    (walk, Some(f))
                }
                None => (Walk::Every(src), None),
            };
            g.each_walk(walk, var, |g| {
                let pass = g.passes(filter)?;
                let (yes, done) = (g.b.create_block(), g.b.create_block());
                let stop_var = g.b.declare_var(W);
                let zero = g.iconst(0);
                g.b.def_var(stop_var, zero);
                g.b.ins().brif(pass, yes, &[], done, &[]);
                g.b.switch_to_block(yes);
                let current = g.b.use_var(acc);
                match kind {
                    AggKind::Count => {
                        let n = g.b.ins().iadd_imm_s(current, 1);
                        g.b.def_var(acc, n);
                    }
                    AggKind::First | AggKind::Last => {
                        let v = match value {
                            Some(e) => {
                                let (v, k) = g.expr(e)?;
                                if k != out_kind {
                                    return unsupported("a first/last value of another kind");
                                }
                                v
                            }
                            None => g.var(var)?.0,
                        };
                        g.b.def_var(acc, v);
                        if kind == AggKind::First {
                            let one = g.iconst(1);
                            g.b.def_var(stop_var, one);
                        }
                    }
                    AggKind::Sum | AggKind::Min | AggKind::Max => {
                        let Some(e) = value else {
                            return unsupported("an aggregate without a value");
                        };
                        let (v, k) = g.expr(e)?;
                        match value_kind {
                            None => value_kind = Some(k),
                            Some(seen) if seen == k => {}
                            Some(_) => return unsupported("an aggregate over mixed kinds"),
                        }
                        if kind == AggKind::Sum
                            && (int_sum && k != K::Int || !matches!(k, K::Int | K::Dec(_)))
                        {
                            return unsupported("a sum of this kind");
                        }
                        let here = g.present(v, k);
                        let had = g.present(current, k);
                        let next = match kind {
                            AggKind::Sum => {
                                // An absent value adds nothing; the sum starts at zero.
                                let zero = g.iconst(0);
                                let base = g.b.ins().select(had, current, zero);
                                let add = g.b.ins().select(here, v, zero);
                                let (r, of) = g.b.ins().sadd_overflow(base, add);
                                let of = g.b.ins().uextend(W, of);
                                g.bail_if(of);
                                g.guard_sentinel(r);
                                r
                            }
                            _ => {
                                if !matches!(k, K::Int | K::Dec(_) | K::Date | K::DateTime) {
                                    return unsupported("min/max of this kind");
                                }
                                let cc = if kind == AggKind::Min {
                                    IntCC::SignedLessThan
                                } else {
                                    IntCC::SignedGreaterThan
                                };
                                // The first present value, then only a strictly better one.
                                let better = g.b.ins().icmp(cc, v, current);
                                let better = g.b.ins().uextend(W, better);
                                let first = g.b.ins().bxor_imm_u(had, 1);
                                let take = g.b.ins().bor(better, first);
                                let take = g.b.ins().band(take, here);
                                g.b.ins().select(take, v, current)
                            }
                        };
                        g.b.def_var(acc, next);
                    }
                    AggKind::Distinct | AggKind::Groups => {
                        return unsupported("an aggregate that makes a list")
                    }
                }
                g.b.ins().jump(done, &[]);
                g.b.switch_to_block(done);
                Ok(g.b.use_var(stop_var))
            })
        })?;
        let result = self.b.use_var(acc);
        let k = match (kind, value_kind) {
            (AggKind::Sum, Some(K::Dec(s))) => K::Dec(s),
            (AggKind::Sum, _) if int_sum => K::Int,
            (AggKind::Sum, Some(k)) => k,
            (AggKind::Sum, None) => K::Int,
            (AggKind::Min | AggKind::Max, Some(k)) => k,
            _ => out_kind,
        };
        if kind == AggKind::Sum && !int_sum {
            // A decimal sum over no rows is 0, not absent.
            let here = self.present(result, k);
            let zero = self.iconst(0);
            let r = self.b.ins().select(here, result, zero);
            return Ok((r, if let K::Int = k { K::Dec(0) } else { k }));
        }
        Ok((result, k))
    }

    fn call(&mut self, func: Func, args: &[Ir], ty: &Ty) -> R<(Value, K)> {
        match (func, args) {
            (Func::Abs, [x]) => return self.abs(x),
            (Func::Round, [x, places]) => return self.round(x, places),
            (Func::Min2 | Func::Max2, [a, b]) => return self.min_max(func == Func::Min2, a, b),
            _ => {}
        }
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.expr(a)?);
        }
        let want = self.kind_of(ty)?;
        let (a, b) = match vals.as_slice() {
            [a, b] => (*a, *b),
            _ => return unsupported(format!("the function {func:?}")),
        };
        let pa = self.present(a.0, a.1);
        let pb = self.present(b.0, b.1);
        let both = self.b.ins().band(pa, pb);
        let ctx = self.ctx;
        let (two, ctx_two) = (self.sigs.two, self.sigs.ctx_two);
        let out = match (func, a.1, b.1) {
            (Func::DaysBetween, K::Date, K::Date) => self.branch(
                both,
                |g| Ok(g.b.ins().isub(b.0, a.0)),
                |g| Ok(g.iconst(ABSENT)),
            )?,
            (Func::Age, K::Date, K::Date) => self.branch(
                both,
                |g| Ok(g.call_checked(two, calls::age as *const () as usize, &[a.0, b.0])),
                |g| Ok(g.iconst(ABSENT)),
            )?,
            (Func::StartsWith, K::Id, K::Id) => self.branch(
                both,
                |g| g.starts_with(a.0, b.0),
                // The interpreter answers absent for an absent argument: not true.
                |g| Ok(g.iconst(ABSENT)),
            )?,
            (Func::SortsBefore, K::Id, K::Id) => {
                let target = calls::sorts_before as *const () as usize;
                // A text sorts after itself: the same id needs no call (a line compared with
                // itself in a pair check).
                let same = self.b.ins().icmp(IntCC::Equal, a.0, b.0);
                let same = self.b.ins().uextend(W, same);
                let call = self.b.ins().bxor_imm_u(same, 1);
                let call = self.b.ins().band(both, call);
                let itself = self.iconst(0);
                self.branch(
                    call,
                    |g| Ok(g.call_checked(ctx_two, target, &[ctx, a.0, b.0])),
                    // The interpreter answers absent for an absent argument: not true.
                    |g| {
                        let absent = g.iconst(ABSENT);
                        Ok(g.b.ins().select(both, itself, absent))
                    },
                )?
            }
            _ => return unsupported(format!("the function {func:?} on these arguments")),
        };
        Ok((out, want))
    }
}

impl Gen<'_, '_> {
    /// `starts_with(s, p)` of two present text ids: compares their words' first bytes
    /// (`calls::text_word_of`) where `p` has at most seven bytes, else by the call.
    fn starts_with(&mut self, s: Value, p: Value) -> R<Value> {
        let ws = self.text_word(s)?;
        let wp = self.text_word(p)?;
        let lp = self.b.ins().ushr_imm_u(wp, 56);
        let lp = self.b.ins().iadd_imm_s(lp, -1);
        let long = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, lp, 8);
        let (ctx, sig) = (self.ctx, self.sigs.ctx_two);
        self.branch(
            long,
            |g| Ok(g.call_checked(sig, calls::starts_with as *const () as usize, &[ctx, s, p])),
            |g| {
                let ls = g.b.ins().ushr_imm_u(ws, 56);
                let ls = g.b.ins().iadd_imm_s(ls, -1);
                let fits = g.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, ls, lp);
                // `lp` is at most 7 here: the mask keeps its 8·lp low bits.
                let shift = g.b.ins().imul_imm_s(lp, 8);
                let one = g.iconst(1);
                let mask = g.b.ins().ishl(one, shift);
                let mask = g.b.ins().iadd_imm_s(mask, -1);
                let diff = g.b.ins().bxor(ws, wp);
                let diff = g.b.ins().band(diff, mask);
                let same = g.b.ins().icmp_imm_u(IntCC::Equal, diff, 0);
                let yes = g.b.ins().band(fits, same);
                Ok(g.b.ins().uextend(W, yes))
            },
        )
    }

    /// The word of present text id `id` (`calls::TextWords`): a base string's from the
    /// kernel's array, a batch's own from its memo, by a call the first time.
    fn text_word(&mut self, id: Value) -> R<Value> {
        let fixed = MemFlagsData::trusted().with_readonly().with_can_move();
        let texts = self.b.ins().load(W, fixed, self.ctx, calls::TEXTS_OFFSET);
        let base_len = self.b.ins().load(W, fixed, texts, calls::TEXT_BASE_LEN);
        let in_base = self
            .b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, id, base_len);
        let (ctx, sig) = (self.ctx, self.sigs.two);
        let ask = move |g: &mut Self| -> R<Value> {
            Ok(g.call_checked(sig, calls::text_word as *const () as usize, &[ctx, id]))
        };
        self.branch(
            in_base,
            |g| {
                // Every id up to `base_len` has a word in the array. Not a movable load: only
                // this branch keeps it inside the array.
                let base = g.b.ins().load(W, fixed, texts, calls::TEXT_BASE);
                let at = g.b.ins().ishl_imm_u(id, 3);
                let addr = g.b.ins().iadd(base, at);
                let element = MemFlagsData::trusted().with_readonly();
                Ok(g.b.ins().load(W, element, addr, 0))
            },
            |g| {
                let own_len = g.b.ins().load(W, fixed, texts, calls::TEXT_OWN_LEN);
                let j = g.b.ins().isub(id, base_len);
                let j = g.b.ins().iadd_imm_s(j, -1);
                let inside = g.b.ins().icmp(IntCC::UnsignedLessThan, j, own_len);
                g.branch(
                    inside,
                    |g| {
                        let own = g.b.ins().load(W, fixed, texts, calls::TEXT_OWN);
                        let at = g.b.ins().ishl_imm_u(j, 3);
                        let addr = g.b.ins().iadd(own, at);
                        // Written by the call: not a fixed load.
                        let w = g.b.ins().load(W, MemFlagsData::trusted(), addr, 0);
                        let missing = g.b.ins().icmp_imm_u(IntCC::Equal, w, 0);
                        g.branch(missing, ask, |_| Ok(w))
                    },
                    ask,
                )
            },
        )
    }

    /// `x / y`: the interpreter's decimal quotient, exact here or not at all. The quotient is
    /// taken at `DIV_SCALE` places (more when the dividend has more); a remainder means the
    /// exact quotient has more places (the interpreter would round at 28 digits): bail, as
    /// for a zero divisor (its error) and any overflow.
    fn divide(&mut self, x: (Value, K), y: (Value, K)) -> R<(Value, K)> {
        let scale = |k: K| match k {
            K::Int => Ok(0),
            K::Dec(s) => Ok(s),
            k => unsupported(format!("dividing a {k:?}")),
        };
        let (sa, sb) = (scale(x.1)?, scale(y.1)?);
        let s = DIV_SCALE.max(sa.saturating_sub(sb));
        let shift = s + sb - sa;
        if s > MAX_SCALE || shift > 18 {
            return unsupported("a quotient with this many decimal places");
        }
        let pa = self.present(x.0, x.1);
        let pb = self.present(y.0, y.1);
        let both = self.b.ins().band(pa, pb);
        let out = self.branch(
            both,
            |g| {
                let zero = g.b.ins().icmp_imm_s(IntCC::Equal, y.0, 0);
                let zero = g.b.ins().uextend(W, zero);
                g.bail_if(zero);
                let f = g.iconst(10i64.pow(shift));
                let (n, of) = g.b.ins().smul_overflow(x.0, f);
                let of = g.b.ins().uextend(W, of);
                g.bail_if(of);
                // Also keeps `n` off i64::MIN, the one dividend `sdiv` by -1 traps on.
                g.guard_sentinel(n);
                let q = g.b.ins().sdiv(n, y.0);
                let r = g.b.ins().srem(n, y.0);
                let inexact = g.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
                let inexact = g.b.ins().uextend(W, inexact);
                g.bail_if(inexact);
                g.guard_sentinel(q);
                Ok(q)
            },
            |g| Ok(g.iconst(ABSENT)),
        )?;
        Ok((out, K::Dec(s)))
    }

    /// `abs(x)` of a number (absent stays absent).
    fn abs(&mut self, x: &Ir) -> R<(Value, K)> {
        self.on_number(x, "abs of", |g, v| {
            // A present word is above UNFIT, so its negation cannot overflow.
            let neg = g.b.ins().ineg(v);
            let below = g.b.ins().icmp_imm_s(IntCC::SignedLessThan, v, 0);
            g.b.ins().select(below, neg, v)
        })
    }

    /// `f` of a number where it is present, of the same kind; absent stays absent.
    fn on_number(
        &mut self,
        x: &Ir,
        what: &str,
        f: impl FnOnce(&mut Self, Value) -> Value,
    ) -> R<(Value, K)> {
        let (v, k) = self.expr(x)?;
        if !matches!(k, K::Int | K::Dec(_)) {
            return unsupported(format!("{what} a {k:?}"));
        }
        let here = self.present(v, k);
        let out = self.branch(here, |g| Ok(f(g, v)), |g| Ok(g.iconst(ABSENT)))?;
        Ok((out, k))
    }

    /// `round(x, places)` with literal places: half away from zero, as the interpreter.
    fn round(&mut self, x: &Ir, places: &Ir) -> R<(Value, K)> {
        let IrKind::Lit(Datum::Int(p)) = places.kind else {
            return unsupported("round to places that are not a literal");
        };
        let (v, k) = self.expr(x)?;
        let s = match k {
            K::Int => 0,
            K::Dec(s) => s,
            k => return unsupported(format!("rounding a {k:?}")),
        };
        // The interpreter clamps the places to 0..=28; at or beyond the scale nothing changes.
        let p = u32::try_from(p.clamp(0, 28)).unwrap_or(0);
        if p >= s {
            return Ok((v, K::Dec(s)));
        }
        let f = 10i64.pow(s - p);
        let here = self.present(v, k);
        let out = self.branch(
            here,
            |g| {
                let q = g.b.ins().sdiv_imm_s(v, f);
                let r = g.b.ins().srem_imm_s(v, f);
                // |r| < f ≤ 10^12: doubling cannot overflow.
                let nr = g.b.ins().ineg(r);
                let below = g.b.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
                let mag = g.b.ins().select(below, nr, r);
                let twice = g.b.ins().iadd(mag, mag);
                let up =
                    g.b.ins()
                        .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, twice, f);
                let up = g.b.ins().uextend(W, up);
                // Away from zero: the remainder has the value's sign.
                let neg = g.b.ins().icmp_imm_s(IntCC::SignedLessThan, v, 0);
                let one = g.iconst(1);
                let minus = g.iconst(-1);
                let step = g.b.ins().select(neg, minus, one);
                let zero = g.iconst(0);
                let step = g.b.ins().select(up, step, zero);
                Ok(g.b.ins().iadd(q, step))
            },
            |g| Ok(g.iconst(ABSENT)),
        )?;
        Ok((out, K::Dec(p)))
    }

    /// `min(a, b)` / `max(a, b)`: `a` unless both are present and `b` is strictly better, as
    /// the interpreter (an absent argument gives `a`).
    fn min_max(&mut self, min: bool, a: &Ir, b: &Ir) -> R<(Value, K)> {
        let x = self.expr(a)?;
        let y = self.expr(b)?;
        let (p, q, k) = match (x.1, y.1) {
            (K::Int | K::Dec(_), K::Int | K::Dec(_)) => self.unify(x, y)?,
            (s, t) if s == t && matches!(s, K::Bool | K::Date | K::DateTime | K::Id | K::Cat) => {
                (x.0, y.0, s)
            }
            (s, t) => return unsupported(format!("min/max of {s:?} and {t:?}")),
        };
        let pa = self.present(p, k);
        let pb = self.present(q, k);
        let both = self.b.ins().band(pa, pb);
        let take_b = self.branch(
            both,
            |g| {
                let (u, w) = g.order_words((p, k), (q, k))?;
                let cc = if min {
                    IntCC::SignedGreaterThan
                } else {
                    IntCC::SignedLessThan
                };
                let c = g.b.ins().icmp(cc, u, w);
                Ok(g.b.ins().uextend(W, c))
            },
            |g| Ok(g.iconst(0)),
        )?;
        Ok((self.b.ins().select(take_b, q, p), k))
    }
}

/// Whether `source` is `history(…)`, written out or shared.
pub(crate) fn is_history(program: &Program, source: &Ir) -> bool {
    match &source.kind {
        IrKind::History(_) => true,
        IrKind::Shared(id) => program
            .shared
            .get(*id as usize)
            .is_some_and(|s| matches!(s.expr.kind, IrKind::History(_))),
        _ => false,
    }
}

/// Whether words of kind `k` are equal exactly when their values are (no rows, no groups).
pub(crate) fn plain_word(k: K) -> bool {
    !matches!(
        k,
        K::Level(_) | K::Table(_) | K::Groups(_) | K::Group(_) | K::Items(_)
    )
}

fn g_min_day() -> i64 {
    batch::date_word(&Datum::Date(chrono::NaiveDate::MIN))
}

fn g_max_day() -> i64 {
    batch::date_word(&Datum::Date(chrono::NaiveDate::MAX))
}

fn kind_name(kind: &IrKind) -> &'static str {
    match kind {
        IrKind::Rows(_) => "all rows of a table",
        IrKind::History(_) => "history",
        IrKind::List(_) => "a list",
        IrKind::Neg(_) => "negation",
        IrKind::InRange { .. } => "`in` a range",
        IrKind::Quant { .. } => "a quantifier",
        IrKind::Agg { .. } => "an aggregate",
        _ => "this construct",
    }
}

//! A rulebook compiled to native code, and running it over a batch.
//!
//! Rules are grouped by what they range over (the claim rules; the line rules of each list)
//! and each group is one native function, so a value several rules read (the catalogue row
//! of a line) is computed once per row. The native code screens: for each claim it says
//! which rules certainly do not fire and on which lines the others fire. The interpreter
//! never looks at the first, evaluates only the fired lines of the second, and evaluates
//! whole the rules that bailed or are not compiled; its findings are the ones reported, so
//! amounts and messages are the reference semantics by construction.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use cranelift_codegen::ir::{types, AbiParam, UserFuncName};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};
use vigil_compiler::ir::{Ir, IrKind, Program, RuleIr, SharedScope};
use vigil_compiler::model::{Rulebook, Scope};
use vigil_runtime::batch::{self, Batch, ColumnKind, Interner, Level, Reads};
use vigil_runtime::claims::ClaimLayout;
use vigil_runtime::screen::Needs;
use vigil_runtime::tables::LoadedTable;

use crate::calls::{Ctx, IdIndex, TextWords, World};
use crate::codegen::{Gen, Unsupported, K};
use crate::line_values::{LineValues, PatientChain};
use crate::pair_filter::PairFilter;
use crate::shape::Shape;

/// Why the backend could not be set up at all (no native target, a Cranelift error).
#[derive(Debug, thiserror::Error)]
pub enum JitError {
    #[error("this machine has no native code generator: {0}")]
    Host(String),
    #[error("native code generation failed: {0}")]
    Codegen(String),
}

type GroupFn = unsafe extern "C" fn(*const Ctx, i64, i64) -> i64;

/// Rules that range over the same rows, compiled into one function.
struct Group {
    /// `None` for the claim rules; else the claim's list slot the rules range over.
    list_slot: Option<usize>,
    /// Program rule indexes; bit `i` of the function's mask is `rules[i]`.
    rules: Vec<usize>,
    func: GroupFn,
}

/// The function that fills a claim's per-line values of one list (`crate::line_values`).
struct Prepare {
    /// The claim's list slot.
    list_slot: usize,
    /// Words per line (the stride of the scratch array).
    entries: usize,
    /// `fn(ctx, claim_row, 0) -> 0, or 1 when it bailed`; None when no value compiled.
    func: Option<GroupFn>,
    /// The chains linked after the values: (key words, head word, next word) of each line.
    chains: Vec<(Vec<usize>, usize, usize)>,
}

/// The JIT module's code stays mapped while the kernel lives.
struct Code(#[allow(dead_code)] JITModule);

// SAFETY: after `finalize_definitions` the module's code and data are immutable; the kernel
// only calls the finalized functions, which read their arguments and never the module, so
// sharing the module between threads (and moving it) is sound.
unsafe impl Send for Code {}
// SAFETY: as above: nothing mutates the module after it is finalized.
unsafe impl Sync for Code {}

/// A compiled rulebook.
pub struct Kernel {
    _code: Code,
    groups: Vec<Group>,
    /// Run for each claim before the groups, by planned list (the scratch header's order).
    prepares: Vec<Prepare>,
    /// The chains of the patient's lines (`line_values::PatientChain`), after the lists in
    /// the scratch header: (the claim's list slot, the line field of the key).
    patients: Vec<(usize, usize)>,
    shape: Shape,
    /// Strings of the tables and the rules' literals; every batch's ids extend these.
    base: Interner,
    /// The tables as columns, by program table index.
    tables: Vec<Level>,
    /// The same tables as loaded: lookups answer row indexes into exactly these, so native
    /// code only ever reads rows that its own table columns hold.
    loaded: Vec<LoadedTable>,
    /// Their key indexes by interned id.
    by_id: Vec<Option<IdIndex>>,
    /// Key presence among the rows whose text field holds a value (`Shape::know_keys_where`):
    /// native code reads them, so they live as long as it.
    _keys_where: Vec<Vec<u8>>,
    /// Pair filters among the rows whose text field holds a value (`Shape::know_pairs`), kept
    /// alive for the same reason.
    _pairs_where: Vec<PairFilter>,
    /// Per program rule: `None` when compiled, else why it runs on the interpreter.
    pub coverage: Vec<Option<String>>,
    /// Per program rule: whether it runs on the interpreter (`coverage` is `Some`), as every
    /// claim's `Needs` start.
    undecided: Vec<bool>,
    /// How long compiling took.
    pub compile_time: Duration,
    /// The values computed once per line of each claim before the rules run (their loops
    /// read them back), and the chains of lines linked from them with how many loops walk
    /// each, in the IR's notation.
    pub line_values: Vec<String>,
    /// The claim fields the native code reads (what a batch must lay out).
    reads: Reads,
    /// The word of each base string (`calls::text_word_of`), by id.
    text_words: Vec<i64>,
}

/// What the native code says of one rule on one claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not compiled: the interpreter decides.
    Interpreted,
    /// The native code could not decide (an overflow, a value too wide): the interpreter does.
    Bail,
    /// Decided: for a claim rule, `[0]` if it fires; for a line rule, the fired lines.
    Decided(Vec<usize>),
}

impl Kernel {
    /// Compiles every rule it can of `program`; the rest stay with the interpreter.
    pub fn compile(
        program: &Program,
        rulebook: &Rulebook,
        layout: &ClaimLayout,
        tables: &[LoadedTable],
    ) -> Result<Kernel, JitError> {
        let started = Instant::now();
        let mut base = Interner::default();
        let mut table_levels = Vec::new();
        let mut table_shapes = Vec::new();
        for (i, name) in program.tables.iter().enumerate() {
            // Native code reads table `i`'s rows from level `i`: every table must be there.
            let (Some(decl), Some(loaded)) = (rulebook.tables.get(name), tables.get(i)) else {
                return Err(JitError::Codegen(format!(
                    "table `{name}` is not loaded (tables must come in program order)"
                )));
            };
            let level = batch::table_level(decl, loaded.rows(), &mut base);
            let kinds = decl.columns.iter().map(|c| ColumnKind::of(&c.ty)).collect();
            table_shapes.push((level.clone(), kinds));
            table_levels.push(level);
        }
        let mut shape = Shape::new(layout, &table_shapes);
        // The id indexes need only the tables' strings, all interned above; native code tests
        // a key against their presence arrays before it calls (the kernel keeps them alive
        // and unchanged for as long as the code).
        let by_id: Vec<Option<IdIndex>> = tables.iter().map(|t| IdIndex::new(t, &base)).collect();
        for (t, index) in by_id.iter().enumerate() {
            if let Some(index) = index {
                for column in 0..2 {
                    shape.know_keys(t, column, index.presence(column));
                }
                shape.know_single(t, index.single());
                if let Some(pairs) = index.pairs() {
                    shape.know_pairs(t as u32, None, pairs);
                }
            }
        }
        // Lookups whose row is only compared with a text (`item_pairs[…]?.relation ==
        // excludes`) test their keys against the rows with that text.
        let mut keys_where: Vec<Vec<u8>> = Vec::new();
        let mut pairs_where: Vec<PairFilter> = Vec::new();
        let mut seen_pairs = BTreeSet::new();
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&Ir> = program
            .rules
            .iter()
            .flat_map(|r| r.lets.iter().map(|(_, e)| e).chain([&r.when]))
            .collect();
        stack.extend(program.shared.iter().map(|s| &s.expr));
        while let Some(ir) = stack.pop() {
            stack.extend(ir.children());
            let Some((lookup, slot, text)) = crate::codegen::compared_field(ir) else {
                continue;
            };
            let IrKind::Lookup { table, keys, .. } = &lookup.kind else {
                continue;
            };
            let (Some(Some(_)), Some(loaded)) =
                (by_id.get(*table as usize), tables.get(*table as usize))
            else {
                continue;
            };
            if keys.len() == 2 && seen_pairs.insert((*table, slot, text.to_string())) {
                if let Some(pairs) = crate::calls::pairs_where(loaded, &base, slot, text) {
                    shape.know_pairs(*table, Some((slot, text)), &pairs);
                    pairs_where.push(pairs);
                }
            }
            for column in 0..keys.len().min(2) {
                if !seen.insert((*table, column, slot, text.to_string())) {
                    continue;
                }
                let present = crate::calls::presence_where(loaded, &base, column, slot, text);
                shape.know_keys_where((*table, column, slot), text, &present);
                keys_where.push(present);
            }
        }

        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, k: &str, v: &str| {
            f.set(k, v).map_err(|e| JitError::Codegen(e.to_string()))
        };
        set(&mut flags, "opt_level", "speed")?;
        set(&mut flags, "use_colocated_libcalls", "false")?;
        set(&mut flags, "is_pic", "false")?;
        let isa = cranelift_native::builder()
            .map_err(|e| JitError::Host(e.to_string()))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| JitError::Codegen(e.to_string()))?;
        let mut module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
        let call_conv = module.target_config().default_call_conv;
        let mut sig = module.make_signature();
        for _ in 0..3 {
            sig.params.push(AbiParam::new(types::I64));
        }
        sig.returns.push(AbiParam::new(types::I64));

        // Which rules compile, each on its own (a dry run: no machine code yet).
        let mut fctx = FunctionBuilderContext::new();
        let mut coverage: Vec<Option<String>> = Vec::with_capacity(program.rules.len());
        for rule in &program.rules {
            let why = match (rule.scope, rule.list_slot) {
                (Scope::Provider, _) => Some("provider rules run on the interpreter".into()),
                (Scope::Line, None) => Some("a line rule without a list".into()),
                _ => {
                    let mut func = cranelift_codegen::ir::Function::new();
                    func.signature = sig.clone();
                    let level = line_level(&shape, rule);
                    // A dry run may stop halfway: give it a context of its own.
                    let mut dry = FunctionBuilderContext::new();
                    let b = FunctionBuilder::new(&mut func, &mut dry);
                    let mut g = Gen::new(b, program, &shape, &mut base, call_conv, level);
                    let shared = shared_of(program, rule);
                    g.group(&[rule], &shared).err().map(|Unsupported(w)| w)
                }
            };
            coverage.push(why);
        }

        // One function per group of compiled rules (at most 63 rules each: the mask's bits).
        let mut plan: Vec<(Option<usize>, Vec<usize>)> = Vec::new();
        for (i, rule) in program.rules.iter().enumerate() {
            if coverage[i].is_some() {
                continue;
            }
            let key = rule.list_slot.filter(|_| rule.scope == Scope::Line);
            match plan.iter_mut().find(|(k, rs)| *k == key && rs.len() < 63) {
                Some((_, rs)) => rs.push(i),
                None => plan.push((key, vec![i])),
            }
        }
        // The per-line values the compiled rules' loops read: each kept when it compiles on
        // its own (a dry run), then one prepare function per list.
        let compiled: Vec<&RuleIr> = program
            .rules
            .iter()
            .zip(&coverage)
            .filter(|(_, why)| why.is_none())
            .map(|(r, _)| r)
            .collect();
        let mut lines = LineValues::plan(program, &compiled);
        let mut kinds: Vec<Vec<Option<K>>> = Vec::new();
        for (l, list) in lines.lists.iter().enumerate() {
            let mut ks = Vec::new();
            for (e, entry) in list.entries.iter().enumerate() {
                let mut func = cranelift_codegen::ir::Function::new();
                func.signature = sig.clone();
                let mut dry = FunctionBuilderContext::new();
                let b = FunctionBuilder::new(&mut func, &mut dry);
                let mut g = Gen::new(b, program, &shape, &mut base, call_conv, None);
                let mut only = vec![None; list.entries.len()];
                only[e] = Some((entry.var, entry.expr));
                ks.push(
                    g.prepare(l, list.slot, &only, only.len())
                        .ok()
                        .and_then(|k| k[e]),
                );
            }
            kinds.push(ks);
        }
        lines.settle(&kinds);
        let line_values = lines.describe();
        let lines = std::rc::Rc::new(lines);
        let mut ctx = module.make_context();
        let mut prepare_ids = Vec::new();
        for (l, list) in lines.lists.iter().enumerate() {
            let kept: Vec<Option<(u32, &Ir)>> = list
                .entries
                .iter()
                .map(|e| e.kind.map(|_| (e.var, e.expr)))
                .collect();
            if kept.iter().all(Option::is_none) {
                prepare_ids.push(None);
                continue;
            }
            let name = format!("prepare{l}");
            let id = define(&mut module, &mut ctx, &sig, &name, 1, |func, target| {
                let b = FunctionBuilder::new(func, &mut fctx);
                let mut g = Gen::new(b, program, &shape, &mut base, call_conv, None);
                g.prepare(l, list.slot, &kept, list.stride)?;
                g.b.finalize(target);
                Ok(())
            })?;
            prepare_ids.push(Some(id));
        }

        let mut ids = Vec::new();
        for (n, (_, rules)) in plan.iter().enumerate() {
            let irs: Vec<&RuleIr> = rules.iter().map(|&i| &program.rules[i]).collect();
            let mut shared = BTreeSet::new();
            for r in &irs {
                shared.extend(shared_of(program, r));
            }
            let shared: Vec<u32> = shared.into_iter().collect();
            let level = irs.first().and_then(|r| line_level(&shape, r));
            let name = format!("group{n}");
            let id = define(&mut module, &mut ctx, &sig, &name, 0, |func, target| {
                let b = FunctionBuilder::new(func, &mut fctx);
                let mut g = Gen::new(b, program, &shape, &mut base, call_conv, level);
                g.read_line_values(lines.clone());
                g.group(&irs, &shared)?;
                g.b.finalize(target);
                Ok(())
            })?;
            ids.push(id);
        }
        module
            .finalize_definitions()
            .map_err(|e| JitError::Codegen(e.to_string()))?;
        let groups = plan
            .into_iter()
            .zip(ids)
            .map(|((list_slot, rules), id)| {
                let ptr = module.get_finalized_function(id);
                // SAFETY: the function was defined above with exactly this signature
                // (three i64 parameters, one i64 result) in the platform's C convention.
                let func = unsafe { std::mem::transmute::<*const u8, GroupFn>(ptr) };
                Group {
                    list_slot,
                    rules,
                    func,
                }
            })
            .collect();
        let prepares = lines
            .lists
            .iter()
            .zip(prepare_ids)
            .map(|(list, id)| Prepare {
                list_slot: list.slot,
                entries: list.stride,
                chains: list
                    .chains
                    .iter()
                    .filter_map(|c| c.words.map(|(h, n)| (c.keys.clone(), h, n)))
                    .collect(),
                func: id.map(|id| {
                    let ptr = module.get_finalized_function(id);
                    // SAFETY: defined above with exactly this signature.
                    unsafe { std::mem::transmute::<*const u8, GroupFn>(ptr) }
                }),
            })
            .collect();
        let patients = lines.patients.iter().map(|c| (c.slot, c.field)).collect();
        let reads = shape.reads(layout);
        // Every batch starts from these strings: shared, so a batch does not copy them.
        let base = base.frozen();
        let text_words = (0..=base.len())
            .map(|id| {
                u32::try_from(id)
                    .ok()
                    .and_then(|id| base.resolve(id))
                    .map_or(0, |s| crate::calls::text_word_of(s))
            })
            .collect();
        Ok(Kernel {
            reads,
            _code: Code(module),
            by_id,
            _keys_where: keys_where,
            _pairs_where: pairs_where,
            groups,
            prepares,
            patients,
            shape,
            base,
            tables: table_levels,
            loaded: tables.to_vec(),
            undecided: coverage.iter().map(Option::is_some).collect(),
            coverage,
            line_values,
            text_words,
            compile_time: started.elapsed(),
        })
    }

    /// The strings a batch must start from (`Batch::new(layout, claims, kernel.strings())`).
    pub fn strings(&self) -> &Interner {
        &self.base
    }

    /// Rules compiled to native code.
    pub fn compiled(&self) -> usize {
        self.coverage.iter().filter(|c| c.is_none()).count()
    }

    /// Runs the native code for every claim of `batch`: per claim, per program rule.
    pub fn verdicts(&self, batch: &Batch) -> Vec<Vec<Verdict>> {
        let mut out = Vec::with_capacity(batch.levels.first().map_or(0, |l| l.rows));
        self.each_claim(batch, |_, v| out.push(v));
        out
    }

    /// Calls `each(claim_row, verdicts)` for every claim of the batch in order.
    pub fn each_claim(&self, batch: &Batch, each: impl FnMut(usize, Vec<Verdict>)) {
        self.each_claim_of(batch, None, each)
    }

    /// As `each_claim`, for the claims whose `only[row]` is true (all, without `only`): the
    /// others are context, other claims' history.
    pub fn each_claim_of(
        &self,
        batch: &Batch,
        only: Option<&[bool]>,
        mut each: impl FnMut(usize, Vec<Verdict>),
    ) {
        let mut v: Vec<Verdict> = Vec::new();
        self.walk(batch, only, |claim, event| match event {
            Event::Start => {
                v = self
                    .coverage
                    .iter()
                    .map(|c| match c {
                        Some(_) => Verdict::Interpreted,
                        None => Verdict::Decided(vec![]),
                    })
                    .collect();
            }
            Event::Fired(rule, line) => {
                if let Some(Verdict::Decided(fired)) = v.get_mut(rule) {
                    fired.push(line);
                }
            }
            Event::Bail(rule) => {
                if let Some(slot) = v.get_mut(rule) {
                    *slot = Verdict::Bail;
                }
            }
            Event::End => each(claim, std::mem::take(&mut v)),
        });
    }

    /// Runs the native groups over every claim (those of `only`) and line of `batch`,
    /// reporting as it goes.
    fn walk(&self, batch: &Batch, only: Option<&[bool]>, mut report: impl FnMut(usize, Event)) {
        let pointers = self.shape.pointers(batch, &self.tables);
        // The batch's own strings' words, computed when native code first asks.
        let mut own = vec![0i64; batch.strings.len().saturating_sub(self.base.len())];
        let texts = TextWords {
            base: self.text_words.as_ptr(),
            base_len: self.base.len() as i64,
            own: own.as_mut_ptr(),
            own_len: own.len() as i64,
        };
        let world = World {
            tables: &self.loaded,
            by_id: &self.by_id,
            strings: &batch.strings,
        };
        let ctx = Ctx {
            cols: pointers.as_ptr(),
            world: &world,
            bails: std::cell::Cell::new(0),
            lines: std::cell::Cell::new(std::ptr::null()),
            masks: std::cell::Cell::new(std::ptr::null_mut()),
            texts: &texts,
        };
        let Some(claims) = batch.levels.first() else {
            return;
        };
        let wanted = |claim: usize| only.is_none_or(|o| o.get(claim).copied().unwrap_or(false));
        let bail_all = |claim: usize, report: &mut dyn FnMut(usize, Event)| {
            for g in &self.groups {
                for &rule in &g.rules {
                    report(claim, Event::Bail(rule));
                }
            }
        };
        // A batch that leaves out a column the code reads (laid out for other reads), or
        // whose strings do not extend the kernel's (its ids would name other texts), never
        // reaches native code: every compiled rule bails and the interpreter decides.
        if !self.shape.fits(batch) || !self.extends_strings(batch) {
            for claim in 0..claims.rows {
                if !wanted(claim) {
                    continue;
                }
                report(claim, Event::Start);
                bail_all(claim, &mut report);
                report(claim, Event::End);
            }
            return;
        }
        let mut header = vec![0i64; 3 * (self.prepares.len() + self.patients.len())];
        let mut scratch: Vec<Vec<i64>> = vec![Vec::new(); self.prepares.len()];
        let mut linking = Linking::default();
        let mut patients: Vec<PatientWords> = vec![Vec::new(); self.patients.len()];
        let mut last = LastById::default();
        let mut linked_for = None;
        let mut masks: Vec<i64> = Vec::new();
        for claim in 0..claims.rows {
            if !wanted(claim) {
                continue;
            }
            report(claim, Event::Start);
            if !self.prepare(claims, claim, &ctx, &mut header, &mut scratch, &mut linking) {
                bail_all(claim, &mut report);
                report(claim, Event::End);
                continue;
            }
            // The next claim of the same patient finds its patient's chains linked.
            let patient = batch.patients.get(claim).copied();
            if patient != linked_for || patient.is_none() {
                self.link_patients(batch, claim, &mut header, &mut patients, &mut last);
                linked_for = patient;
            }
            for g in &self.groups {
                let lines = match g.list_slot {
                    None => 0,
                    Some(slot) => list_rows(claims, slot, claim).len(),
                };
                if masks.len() < lines {
                    masks.resize(lines, 0);
                }
                ctx.masks.set(masks.as_mut_ptr());
                // SAFETY: `ctx` holds the addresses of `batch`'s and the kernel's columns,
                // alive for this loop, and of this claim's scratch header and arrays
                // (`prepare` and `link_patients` above: a patient chain's words name lines
                // and claims of the batch), and of `masks`, a word for each line of the
                // claim's list, which a line group's function writes and nothing else
                // touches during the call; `claim` is a row of its level and the function
                // reads only the rows of its lists, so every load the native code makes is
                // inside a column (table rows it reads come from `lookup_row`, which answers
                // only rows of that table).
                let mask = unsafe { (g.func)(&ctx, claim as i64, 0) };
                let bailed = ctx.bails.get();
                let mut bits = bailed;
                while bits != 0 {
                    let bit = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if let Some(&rule) = g.rules.get(bit) {
                        report(claim, Event::Bail(rule));
                    }
                }
                // A claim group's mask is its result; a line group's are in `masks`. A rule
                // that bailed on some line is the interpreter's on the whole claim: its
                // fired lines do not matter (and a bail in the shared values leaves the
                // masks of the lines after it unwritten).
                let fired: &[i64] = match g.list_slot {
                    None => std::slice::from_ref(&mask),
                    Some(_) => masks.get(..lines).unwrap_or(&[]),
                };
                for (line, &mask) in fired.iter().enumerate() {
                    let mut bits = mask & !bailed;
                    while bits != 0 {
                        let bit = bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        if let Some(&rule) = g.rules.get(bit) {
                            report(claim, Event::Fired(rule, line));
                        }
                    }
                }
            }
            report(claim, Event::End);
        }
    }

    /// Whether the batch's strings start with the kernel's, as `Batch::new(…, strings())`
    /// makes them: a spot check (the first, middle and last base strings are the kernel's),
    /// not a proof; a batch made from other strings of the same length and the same texts
    /// there would pass.
    fn extends_strings(&self, batch: &Batch) -> bool {
        let n = self.base.len();
        n == 0
            || batch.strings.len() >= n
                && [1, n.div_ceil(2), n].into_iter().all(|id| {
                    u32::try_from(id)
                        .is_ok_and(|id| batch.strings.resolve(id) == self.base.resolve(id))
                })
    }

    /// Computes the claim's per-line values into `scratch` and points `ctx` at them; false
    /// when the native code bailed (the interpreter then decides the whole claim).
    fn prepare(
        &self,
        claims: &Level,
        claim: usize,
        ctx: &Ctx,
        header: &mut [i64],
        scratch: &mut [Vec<i64>],
        linking: &mut Linking,
    ) -> bool {
        for (l, p) in self.prepares.iter().enumerate() {
            let (Some(func), Some(array)) = (p.func, scratch.get_mut(l)) else {
                continue;
            };
            let rows = list_rows(claims, p.list_slot, claim);
            let need = rows.len() * p.entries;
            if array.len() < need {
                array.resize(need, 0);
            }
            if let Some(h) = header.get_mut(3 * l..3 * l + 3) {
                h[0] = array.as_mut_ptr() as i64;
                h[1] = rows.start as i64;
                h[2] = rows.len() as i64;
            }
            ctx.lines.set(header.as_ptr());
            // SAFETY: the header names an array of `rows × entries` words, alive and not
            // otherwise touched during the call; the function writes only word
            // `(row - first) × entries + e` for the rows of this claim's list.
            if unsafe { func(ctx, claim as i64, 0) } != 0 {
                return false;
            }
            for (keys, head, next) in &p.chains {
                let words = (&mut array[..need], rows.len());
                if !link(words, p.entries, keys, (*head, *next), linking) {
                    return false;
                }
            }
        }
        ctx.lines.set(header.as_ptr());
        true
    }
}

impl Kernel {
    /// Points the scratch header's patient chains at the lines of `claim`'s patient, linking
    /// them (called when the claim's patient is not the one linked last: a batch holds each
    /// patient's claims together, so once per patient). A chain that cannot be linked (no
    /// patient range, a column not laid out) gets no lines: a walk's start line is then
    /// outside its words, and `Gen::scratch_row`'s range check bails.
    fn link_patients(
        &self,
        batch: &Batch,
        claim: usize,
        header: &mut [i64],
        words: &mut [PatientWords],
        last: &mut LastById,
    ) {
        let lists = self.prepares.len();
        let range = batch
            .patients
            .get(claim)
            .copied()
            .filter(|r| r[0] != batch::UNKNOWN_PATIENT);
        for (c, (&(slot, field), words)) in self.patients.iter().zip(words).enumerate() {
            let linked = range.and_then(|r| link_patient(batch, slot, field, r, words, last));
            if let Some(h) = header.get_mut(3 * (lists + c)..3 * (lists + c) + 3) {
                let (first, lines) = linked.unwrap_or((0, 0));
                h[0] = words.as_ptr() as i64;
                h[1] = first as i64;
                h[2] = lines as i64;
            }
        }
    }
}

/// The words of one patient chain: `PatientChain::STRIDE` per line of the patient's claims'
/// list.
type PatientWords = Vec<[i64; PatientChain::STRIDE]>;

/// An open-addressing table of the key ids met while linking a patient chain, reused from
/// patient to patient without clearing: a slot is taken only when its stamp is the current
/// link's. (Sized by the patient's lines, not by the batch's strings: a batch of one claim
/// must not pay for a table of the whole catalogue's ids.)
#[derive(Default)]
struct LastById {
    /// (id, the id's last line so far, stamp).
    slots: Vec<(u32, u32, u32)>,
    stamp: u32,
}

/// Links the lines of list `slot` of the claims `first..end` (one patient's, contiguous) by
/// their field `field` (interned ids, 0 for absent: absent lines are chained together too):
/// each line's words hold the first line with its id, the next one (the number of lines
/// after the last) and its claim's row. Gives the patient's first line and number of lines;
/// None when the batch does not lay the list or the field out as the plan expects.
fn link_patient(
    batch: &Batch,
    slot: usize,
    field: usize,
    [first, end]: [u32; 2],
    words: &mut PatientWords,
    last: &mut LastById,
) -> Option<(usize, usize)> {
    let Some(batch::Column::List { offsets, level }) = batch.levels.first()?.columns.get(slot)
    else {
        return None;
    };
    let Some(batch::Column::Ids(ids)) = batch.levels.get(*level)?.columns.get(field) else {
        return None;
    };
    let claims = offsets.get(first as usize..=end as usize)?;
    let p0 = *claims.first()? as usize;
    let ids = ids.get(p0..*claims.last()? as usize)?;
    let lines = ids.len();
    // Twice the lines or more: a probe always meets an untaken slot.
    let size = (2 * lines).next_power_of_two();
    if last.slots.len() < size {
        last.slots.resize(size, (0, 0, 0));
    }
    last.stamp = last.stamp.wrapping_add(1);
    if last.stamp == 0 {
        // After 2^32 links a stale stamp could match again: start the table afresh.
        last.slots.iter_mut().for_each(|e| *e = (0, 0, 0));
        last.stamp = 1;
    }
    let (stamp, mask) = (last.stamp, size - 1);
    let slots = last.slots.get_mut(..size)?;
    u32::try_from(lines).ok()?;
    words.clear();
    words.resize(lines, [0; PatientChain::STRIDE]);
    // Plain indexes below, each in bounds by construction: `words` and `ids` have `lines`
    // entries, a slot index is masked below `size`, and an earlier line's index is below
    // the current one.
    for (j, &id) in ids.iter().enumerate() {
        let line = j as u32;
        let mut h = (id.wrapping_mul(0x9E37_79B9) >> 7) as usize & mask;
        let head = loop {
            let slot = &mut slots[h];
            if slot.2 != stamp {
                *slot = (id, line, stamp);
                break j as i64;
            }
            if slot.0 == id {
                let before = slot.1 as usize;
                slot.1 = line;
                words[before][PatientChain::NEXT] = j as i64;
                break words[before][PatientChain::HEAD];
            }
            h = (h + 1) & mask;
        };
        words[j][PatientChain::HEAD] = head;
        words[j][PatientChain::NEXT] = lines as i64;
    }
    for (owner, bounds) in (first as usize..).zip(claims.windows(2)) {
        let a = (bounds[0] as usize).checked_sub(p0)?;
        let b = (bounds[1] as usize).checked_sub(p0)?;
        for w in words.get_mut(a..b)? {
            w[PatientChain::OWNER] = owner as i64;
        }
    }
    Some((p0, lines))
}

/// An open-addressing table of the keys met while linking a chain, reused from claim to
/// claim without clearing: a slot is taken only when its stamp is the current link's.
#[derive(Default)]
struct Linking {
    /// (first key word, second, the key's last line so far, stamp).
    slots: Vec<(i64, i64, u32, u64)>,
    stamp: u64,
}

/// Links a chain over one claim's lines (`line_values::Chain`, at most two keys): in each
/// line's words (`stride` per line, `words` holding exactly the claim's lines), at `head` the
/// index of the first line whose `keys` words equal its own, at `next` the index of the next
/// such line, or the number of lines after the last. Native code walks it from a line to
/// every line with the same key, in line order. One pass in line order, a hash probe a line.
/// False if a place is out of the lines' words (the plan's places are inside by
/// construction; the claim then goes to the interpreter rather than walk a broken chain).
fn link(
    (words, lines): (&mut [i64], usize),
    stride: usize,
    keys: &[usize],
    (head, next): (usize, usize),
    linking: &mut Linking,
) -> bool {
    // `words` holds `lines` rows of `stride` (no division per claim to find out).
    if lines.checked_mul(stride) != Some(words.len()) {
        return false;
    }
    let (k1, k2) = match keys {
        [a] => (*a, None),
        [a, b] => (*a, Some(*b)),
        _ => return false,
    };
    if [k1, k2.unwrap_or(k1), head, next]
        .iter()
        .any(|&w| w >= stride)
    {
        return false;
    }
    // Twice the lines or more: a probe always meets an untaken slot.
    let size = (2 * lines).next_power_of_two();
    if linking.slots.len() < size {
        linking.slots.resize(size, (0, 0, 0, 0));
    }
    linking.stamp += 1;
    let stamp = linking.stamp;
    let Some(slots) = linking.slots.get_mut(..size) else {
        return false;
    };
    let places = Places {
        stride,
        k1,
        head,
        next,
    };
    match k2 {
        None => link_lines(words, lines, &places, slots, stamp, |_, _| 0),
        Some(k2) => link_lines(words, lines, &places, slots, stamp, |w, at| w[at + k2]),
    }
    true
}

/// Where a chain's words are in each line's `stride` words (`link`).
struct Places {
    stride: usize,
    k1: usize,
    head: usize,
    next: usize,
}

/// `link`'s pass over the lines; `second(words, at)` gives the second key word of the line
/// whose words start at `at` (0 for a one-key chain, which then pays no test per line for the
/// key it lacks).
fn link_lines(
    words: &mut [i64],
    lines: usize,
    p: &Places,
    slots: &mut [(i64, i64, u32, u64)],
    stamp: u64,
    second: impl Fn(&[i64], usize) -> i64,
) {
    let mask = slots.len() - 1;
    let Places {
        stride,
        k1,
        head,
        next,
    } = *p;
    // Plain indexes below, each in bounds by construction: every word place was checked
    // below `stride` by `link`, `words` holds `lines` rows of `stride`, a slot index is
    // masked below the table's size (a power of two), and an earlier line's row is below
    // the current one.
    for line in 0..lines {
        let at = line * stride;
        let a = words[at + k1];
        let b = second(words, at);
        let mixed = (a as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (b as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        let mut h = ((mixed ^ (mixed >> 32)) as usize) & mask;
        let first = loop {
            let slot = &mut slots[h];
            if slot.3 != stamp {
                *slot = (a, b, line as u32, stamp);
                break line as i64;
            }
            if (slot.0, slot.1) == (a, b) {
                let before = slot.2 as usize * stride;
                slot.2 = line as u32;
                words[before + next] = line as i64;
                break words[before + head];
            }
            h = (h + 1) & mask;
        };
        words[at + head] = first;
        words[at + next] = lines as i64;
    }
}

/// The rows of claim `claim`'s list in `slot` (none when the batch does not lay it out).
fn list_rows(claims: &Level, slot: usize, claim: usize) -> std::ops::Range<usize> {
    match claims.columns.get(slot) {
        Some(batch::Column::List { offsets, .. }) => {
            match (offsets.get(claim), offsets.get(claim + 1)) {
                (Some(&a), Some(&b)) => a as usize..b as usize,
                _ => 0..0,
            }
        }
        _ => 0..0,
    }
}

/// What the walk over a batch reports.
enum Event {
    Start,
    /// Rule (program index) fired on a line (index within the claim's list; 0 for a claim rule).
    Fired(usize, usize),
    Bail(usize),
    End,
}

impl vigil_runtime::screen::Screen for Kernel {
    fn strings(&self) -> &Interner {
        &self.base
    }

    fn screen(&self, batch: &Batch, only: Option<&[bool]>, each: &mut dyn FnMut(usize, &Needs)) {
        let mut needs = Needs::default();
        self.walk(batch, only, |claim, event| match event {
            Event::Start => needs.start(&self.undecided),
            Event::Fired(rule, line) => needs.fired(rule, line),
            Event::Bail(rule) => needs.everything(rule),
            Event::End => each(claim, &needs),
        });
    }

    fn native_rules(&self) -> usize {
        self.compiled()
    }

    fn reads(&self) -> Option<&Reads> {
        Some(&self.reads)
    }
}

/// Declares function `name` in `module`, has `body` generate and finalize it (for the
/// module's target) and defines it.
fn define(
    module: &mut JITModule,
    ctx: &mut cranelift_codegen::Context,
    sig: &cranelift_codegen::ir::Signature,
    name: &str,
    namespace: u32,
    body: impl FnOnce(
        &mut cranelift_codegen::ir::Function,
        cranelift_codegen::isa::TargetFrontendConfig,
    ) -> Result<(), Unsupported>,
) -> Result<cranelift_module::FuncId, JitError> {
    let id = module
        .declare_function(name, Linkage::Local, sig)
        .map_err(|e| JitError::Codegen(e.to_string()))?;
    ctx.func.signature = sig.clone();
    ctx.func.name = UserFuncName::user(namespace, id.as_u32());
    body(&mut ctx.func, module.target_config())
        .map_err(|Unsupported(w)| JitError::Codegen(format!("{name}: {w}")))?;
    module
        .define_function(id, ctx)
        .map_err(|e| JitError::Codegen(format!("{e:?}")))?;
    module.clear_context(ctx);
    Ok(id)
}

/// The element level a line rule ranges over.
fn line_level(shape: &Shape, rule: &RuleIr) -> Option<usize> {
    match (rule.scope, rule.list_slot) {
        (Scope::Line, Some(slot)) => shape.list_level(0, slot),
        _ => None,
    }
}

/// The shared expressions a rule reads (directly), claim-scope or of its own list.
fn shared_of(program: &Program, rule: &RuleIr) -> Vec<u32> {
    let mut found = BTreeSet::new();
    let mut stack: Vec<&Ir> = rule.lets.iter().map(|(_, e)| e).collect();
    stack.push(&rule.when);
    while let Some(ir) = stack.pop() {
        if let IrKind::Shared(id) = ir.kind {
            let fits = program
                .shared
                .get(id as usize)
                .is_some_and(|s| match s.scope {
                    SharedScope::Claim => true,
                    SharedScope::Line(slot) => rule.list_slot == Some(slot),
                });
            if fits {
                found.insert(id);
            }
        }
        stack.extend(ir.children());
    }
    found.into_iter().collect()
}

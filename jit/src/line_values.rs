//! Values of each line of a claim that the rules' loops would otherwise compute again and
//! again: a line's event date inside a pair check, a catalogue flag inside `groups(…)`'s
//! filter. Each is computed once per claim and line, before the groups run, into a scratch
//! array that native code reads with one load.
//!
//! A value qualifies when it reads nothing but the claim and one line of the claim's own
//! list (bound by a loop over that list, or the line of a line rule), binds nothing the rest
//! of the rule sees, and runs no loop of its own; and when some loop reads it. Two
//! occurrences are the same value when they are the same expression with the line renamed
//! (spans aside). Computing it for every line is sound: the code is the one the occurrence
//! would have run, and where it would bail the whole claim goes to the interpreter; only
//! expressions that cannot fail qualify, so that does not happen for a line the rule
//! would have passed over.

mod chains;

use std::collections::{HashMap, HashSet};

use vigil_compiler::ir::{Ir, IrKind, Program, RuleIr, SharedScope, Var, CLAIM, LINE};
use vigil_compiler::model::Scope;
use vigil_compiler::types::Ty;

use crate::codegen::{cannot_fail, K};

/// One value per line of a list.
pub(crate) struct Entry<'a> {
    /// The expression and the variable that is the line in it (a representative occurrence).
    pub expr: &'a Ir,
    pub var: Var,
    /// Its word's kind, once the prepare function has compiled it.
    pub kind: Option<K>,
}

/// The values of one claim list's lines.
pub(crate) struct ListValues<'a> {
    /// The claim's list slot.
    pub slot: usize,
    pub entries: Vec<Entry<'a>>,
    /// The chains linked over the lines (`chains`), after the entries in each line's words.
    pub chains: Vec<Chain>,
    /// Words per line: the entries, then two per live chain (set by `settle`).
    pub stride: usize,
}

/// The lines of a claim that share a key (the words of some entries), linked in line order.
pub(crate) struct Chain {
    /// The entries whose words make the key.
    pub keys: Vec<usize>,
    /// Where each line's words hold the chain: the index (from the list's first row) of the
    /// first line with its key, and of the next line with its key (the number of lines
    /// after the last). None when a key entry did not compile: the chain is not linked.
    pub words: Option<(usize, usize)>,
}

/// A loop that walks a chain instead of every line (`chains`).
pub(crate) struct ChainUse {
    pub list: usize,
    pub chain: usize,
    /// The variable bound to the line the walk starts from; None for a `distinct`, which
    /// walks each line's own chain.
    pub outer: Option<Var>,
    /// Per key entry of the chain, in its order: the variable its conjunct compares with
    /// (the loop's own for a `distinct`).
    pub vars: Vec<Var>,
}

/// The lines of a patient's claims (one list of each) that share a field, linked in line
/// order once per patient (`chains::HistoryCandidate`). Each line has `STRIDE` words: the
/// index (from the patient's first line of the list) of the first line with its field, of
/// the next line with it (the number of lines after the last), and its claim's row.
#[derive(PartialEq, Eq)]
pub(crate) struct PatientChain {
    /// The claim's list slot, and the line field (a text or code: interned ids) of the key.
    pub slot: usize,
    pub field: usize,
}

impl PatientChain {
    pub const HEAD: usize = 0;
    pub const NEXT: usize = 1;
    pub const OWNER: usize = 2;
    pub const STRIDE: usize = 3;
}

/// A loop over the history that walks a patient chain (`chains::HistoryCandidate`).
pub(crate) struct HistoryUse<'a> {
    pub chain: usize,
    /// The line under review the walk starts from, and the variable its key conjunct
    /// compares with (bound from that line's field).
    pub line: Var,
    pub code: Var,
    /// The inner loop's variable and body: evaluated for each line of the chain, with the
    /// outer loop's variable bound to the line's claim.
    pub lines: Var,
    pub body: &'a Ir,
}

/// What the rules of a kernel read per line, by list, and where they read it.
#[derive(Default)]
pub(crate) struct LineValues<'a> {
    pub lists: Vec<ListValues<'a>>,
    /// Chains of the patient's lines; the scratch header holds them after the lists.
    pub patients: Vec<PatientChain>,
    /// By the address of a loop's node over the history: the patient chain it may walk.
    histories: HashMap<*const Ir, HistoryUse<'a>>,
    /// By the address of an occurrence in the program's IR: (list, entry, its line variable).
    at: HashMap<*const Ir, (usize, usize, Var)>,
    /// By the address of a loop's node: the chain it may walk.
    loops: HashMap<*const Ir, ChainUse>,
}

/// An expression that qualifies, where it occurs.
struct Occurrence<'a> {
    ir: &'a Ir,
    var: Var,
    slot: usize,
    /// Inside a loop over the list (evaluated once per pair of lines, not once per line).
    looped: bool,
    key: String,
}

impl<'a> LineValues<'a> {
    /// The values the rules read in loops, with every occurrence of each.
    pub fn plan(program: &'a Program, rules: &[&'a RuleIr]) -> LineValues<'a> {
        let (candidates, histories) = chains::find(program, rules);
        // A chain's keys are values even where they are cheap to compute: the chain is
        // linked from their words. Not a number, though: a cell too wide for its word
        // (UNFIT) bails the prepare function, which hands every rule of the claim to the
        // interpreter, where reading it in the rule would have handed back only that rule.
        let forced: HashSet<(usize, String)> = candidates
            .iter()
            .flat_map(|c| c.keyed.iter().map(|(_, k)| (c.slot, k.clone())))
            .collect();
        let mut found = Vec::new();
        for rule in rules {
            let Some(mut own) = own_lines(rule) else {
                continue;
            };
            for (_, e) in &rule.lets {
                visit(program, e, &mut own, &forced, &mut found);
            }
            visit(program, &rule.when, &mut own, &forced, &mut found);
        }
        // A line rule's shared values (`catalogue_row(claim, line)`, computed once at the top
        // of its group's function) may read the values of the line under review: those the
        // compiled rules read, not those only interpreted rules do (a value planned for them
        // alone would be computed, and could bail, for nothing).
        for id in shared_read(rules, program) {
            let Some(s) = program.shared.get(id as usize) else {
                continue;
            };
            if let SharedScope::Line(slot) = s.scope {
                visit(
                    program,
                    &s.expr,
                    &mut vec![(LINE, slot, false)],
                    &forced,
                    &mut found,
                );
            }
        }
        let mut plan = LineValues::default();
        let mut by_key: HashMap<(usize, &str), (usize, usize)> = HashMap::new();
        // Entries in the order their first looped occurrence is met: deterministic.
        for o in found.iter().filter(|o| o.looped) {
            if by_key.contains_key(&(o.slot, o.key.as_str())) {
                continue;
            }
            let list = match plan.lists.iter().position(|l| l.slot == o.slot) {
                Some(i) => i,
                None => {
                    plan.lists.push(ListValues {
                        slot: o.slot,
                        entries: Vec::new(),
                        chains: Vec::new(),
                        stride: 0,
                    });
                    plan.lists.len() - 1
                }
            };
            plan.lists[list].entries.push(Entry {
                expr: o.ir,
                var: o.var,
                kind: None,
            });
            let entry = plan.lists[list].entries.len() - 1;
            by_key.insert((o.slot, o.key.as_str()), (list, entry));
        }
        for o in &found {
            if let Some(&(list, entry)) = by_key.get(&(o.slot, o.key.as_str())) {
                plan.at.insert(o.ir as *const Ir, (list, entry, o.var));
            }
        }
        for list in &mut plan.lists {
            list.stride = list.entries.len();
        }
        for c in candidates {
            let places: Option<Vec<(usize, usize)>> = c
                .keyed
                .iter()
                .map(|(_, k)| by_key.get(&(c.slot, k.as_str())).copied())
                .collect();
            let Some(places) = places else {
                continue;
            };
            let Some(&(list, _)) = places.first() else {
                continue;
            };
            let keys: Vec<usize> = places.iter().map(|&(_, e)| e).collect();
            let chains = &mut plan.lists[list].chains;
            let chain = match chains.iter().position(|ch| ch.keys == keys) {
                Some(i) => i,
                None => {
                    chains.push(Chain { keys, words: None });
                    chains.len() - 1
                }
            };
            plan.loops.insert(
                c.node as *const Ir,
                ChainUse {
                    list,
                    chain,
                    outer: c.outer,
                    vars: c.keyed.iter().map(|(v, _)| *v).collect(),
                },
            );
        }
        for h in histories {
            let wanted = PatientChain {
                slot: h.slot,
                field: h.field,
            };
            let chain = match plan.patients.iter().position(|c| *c == wanted) {
                Some(i) => i,
                None => {
                    plan.patients.push(wanted);
                    plan.patients.len() - 1
                }
            };
            plan.histories.insert(
                h.node as *const Ir,
                HistoryUse {
                    chain,
                    line: h.line,
                    code: h.code,
                    lines: h.lines,
                    body: h.body,
                },
            );
        }
        plan
    }

    /// The values and linked chains, one line each, in the IR's notation (`Kernel::line_values`).
    pub fn describe(&self) -> Vec<String> {
        let mut out = Vec::new();
        for l in &self.lists {
            for e in &l.entries {
                if let Some(kind) = e.kind {
                    out.push(format!(
                        "per line of .{} (the line is ${}): {} : {kind:?}",
                        l.slot,
                        e.var,
                        vigil_compiler::ir::show(e.expr)
                    ));
                }
            }
            for (c, chain) in l.chains.iter().enumerate() {
                if chain.words.is_none() {
                    continue;
                }
                let keys: Vec<String> = chain
                    .keys
                    .iter()
                    .filter_map(|&k| l.entries.get(k))
                    .map(|e| vigil_compiler::ir::show(e.expr))
                    .collect();
                let walks = self
                    .loops
                    .values()
                    .filter(|u| std::ptr::eq(&self.lists[u.list], l) && u.chain == c)
                    .count();
                out.push(format!(
                    "lines of .{} chained by {}: walked by {walks} loop{}",
                    l.slot,
                    keys.join(", "),
                    if walks == 1 { "" } else { "s" }
                ));
            }
        }
        for (c, chain) in self.patients.iter().enumerate() {
            let walks = self.histories.values().filter(|u| u.chain == c).count();
            out.push(format!(
                "lines of .{} of the patient's claims chained by .{}: walked by {walks} loop{}",
                chain.slot,
                chain.field,
                if walks == 1 { "" } else { "s" }
            ));
        }
        out
    }

    /// The patient chain the loop `node` over the history may walk, and its index in the
    /// scratch header (after the lists').
    pub fn history_of(&self, node: &Ir) -> Option<(&HistoryUse<'a>, usize)> {
        let using = self.histories.get(&(node as *const Ir))?;
        Some((using, self.lists.len() + using.chain))
    }

    /// The chain the loop `node` may walk, with its list's plan.
    pub fn chain_of(&self, node: &Ir) -> Option<(&ChainUse, &ListValues<'a>)> {
        let using = self.loops.get(&(node as *const Ir))?;
        Some((using, self.lists.get(using.list)?))
    }

    /// Where `ir` is read from, if it is one of the values: (list, entry, line variable, kind).
    pub fn find(&self, ir: &Ir) -> Option<(usize, usize, Var, K)> {
        let &(list, entry, var) = self.at.get(&(ir as *const Ir))?;
        let kind = self.lists.get(list)?.entries.get(entry)?.kind?;
        Some((list, entry, var, kind))
    }

    /// The place of an occurrence (list, entry, line variable), kind or not.
    pub fn at_of(&self, ir: &Ir) -> Option<&(usize, usize, Var)> {
        self.at.get(&(ir as *const Ir))
    }

    /// Drops the entries the prepare function could not compile, keeping the others'
    /// places (`kinds[list][entry]`: None for a dropped one).
    /// A chain is linked only when every key compiled to a word equal words of which are
    /// equal values.
    pub fn settle(&mut self, kinds: &[Vec<Option<K>>]) {
        for (list, ks) in self.lists.iter_mut().zip(kinds) {
            for (e, k) in list.entries.iter_mut().zip(ks) {
                e.kind = *k;
            }
            let mut stride = list.entries.len();
            for chain in &mut list.chains {
                let plain = chain.keys.iter().all(|&e| {
                    list.entries
                        .get(e)
                        .and_then(|e| e.kind)
                        .is_some_and(crate::codegen::plain_word)
                });
                chain.words = plain.then(|| {
                    stride += 2;
                    (stride - 2, stride - 1)
                });
            }
            list.stride = stride;
        }
    }
}

/// Finds the qualifying expressions under `ir`, outermost first; `own` holds the variables
/// bound to lines of the claim's own lists (variable, list slot, bound by a loop).
fn visit<'a>(
    program: &'a Program,
    ir: &'a Ir,
    own: &mut Vec<(Var, usize, bool)>,
    forced: &HashSet<(usize, String)>,
    found: &mut Vec<Occurrence<'a>>,
) {
    if let Some((var, slot, looped, cheap)) =
        line_of(program, ir, own).filter(|_| !wraps_lookup(ir))
    {
        let key = key(program, ir, var);
        let wide = matches!(ir.ty.unwrap_optional(), Ty::Int | Ty::Decimal);
        if !cheap || !wide && forced.contains(&(slot, key.clone())) {
            found.push(Occurrence {
                ir,
                var,
                slot,
                looped,
                key,
            });
            return;
        }
    }
    let (var, source) = match &ir.kind {
        IrKind::Quant { var, source, .. } | IrKind::Agg { var, source, .. } => (*var, source),
        _ => {
            for c in ir.children() {
                visit(program, c, own, forced, found);
            }
            return;
        }
    };
    let children = ir.children();
    // The source first: it is evaluated outside the loop.
    if let Some((first, rest)) = children.split_first() {
        visit(program, first, own, forced, found);
        let pushed = own_list(source).map(|slot| own.push((var, slot, true)));
        for c in rest {
            visit(program, c, own, forced, found);
        }
        if pushed.is_some() {
            own.pop();
        }
    }
}

/// The shared expressions `rules` read, directly or through other shared expressions, in id
/// order.
fn shared_read(rules: &[&RuleIr], program: &Program) -> std::collections::BTreeSet<u32> {
    let mut seen = std::collections::BTreeSet::new();
    let mut stack: Vec<&Ir> = rules
        .iter()
        .flat_map(|r| r.lets.iter().map(|(_, e)| e).chain([&r.when]))
        .collect();
    while let Some(ir) = stack.pop() {
        if let IrKind::Shared(id) = ir.kind {
            if seen.insert(id) {
                if let Some(s) = program.shared.get(id as usize) {
                    stack.push(&s.expr);
                }
            }
        }
        stack.extend(ir.children());
    }
    seen
}

/// Whether `ir` only tests a field of one table row it looks up (`catalogue_row(claim,
/// l)?.per_diem == true`): then the row is the value to keep per line, not the test, since
/// other expressions read the same row (every `catalogue_row(claim, line)` of the line
/// rules) and a field of it costs a load.
fn wraps_lookup(ir: &Ir) -> bool {
    if matches!(ir.kind, IrKind::Lookup { .. }) {
        return false;
    }
    let (mut nodes, mut lookups) = (0, 0);
    let mut stack = vec![ir];
    while let Some(n) = stack.pop() {
        nodes += 1;
        match &n.kind {
            IrKind::Lookup { .. } => lookups += 1,
            IrKind::Prop { .. } | IrKind::Call { .. } | IrKind::Shared(_) => return false,
            _ => stack.extend(n.children()),
        }
    }
    // The lookup, a field of it, a comparison and a literal at most.
    lookups == 1 && nodes <= 4
}

/// What a rule's expressions start from: the variables bound to lines of the claim's own
/// lists (variable, list slot, bound by a loop), the line of a line rule; None for a provider
/// rule (its values are not per line).
fn own_lines(rule: &RuleIr) -> Option<Vec<(Var, usize, bool)>> {
    match (rule.scope, rule.list_slot) {
        (Scope::Provider, _) => None,
        (Scope::Line, Some(slot)) => Some(vec![(LINE, slot, false)]),
        _ => Some(Vec::new()),
    }
}

/// The slot of `claim.<list>` (the claim under review's own list).
fn own_list(source: &Ir) -> Option<usize> {
    match &source.kind {
        IrKind::Field {
            base,
            slot,
            optional: false,
        } if matches!(base.kind, IrKind::Var(CLAIM)) => Some(*slot),
        _ => None,
    }
}

/// Whether `ir` is a per-line value: the line it reads, its list, whether that line is bound
/// by a loop, and whether it is cheap (reading it back would cost what computing it does).
fn line_of(
    program: &Program,
    ir: &Ir,
    own: &[(Var, usize, bool)],
) -> Option<(Var, usize, bool, bool)> {
    let word = !matches!(
        ir.ty.unwrap_optional(),
        Ty::List(_) | Ty::Record(_) | Ty::Group(..) | Ty::Error
    );
    // Computed for every line, it must not fail where the rule would not have evaluated
    // it (a division by a line's zero count, say): that would hand whole claims to the
    // interpreter for nothing.
    if !word || !cannot_fail(ir) {
        return None;
    }
    let mut used: Vec<Var> = Vec::new();
    let mut declared: Vec<Var> = Vec::new();
    let (mut nodes, mut costly) = (0usize, false);
    let mut stack = vec![ir];
    while let Some(n) = stack.pop() {
        nodes += 1;
        match &n.kind {
            IrKind::Var(v) => used.push(*v),
            IrKind::Shared(id) => {
                let scope = program.shared.get(*id as usize).map(|s| s.scope)?;
                costly = true;
                used.push(CLAIM);
                if matches!(scope, SharedScope::Line(_)) {
                    used.push(LINE);
                }
            }
            // Loops stay where they are (computing one for every line could cost more than
            // the rule ever spends), and a binding the rest of the rule may read cannot move.
            IrKind::Quant { .. }
            | IrKind::Agg { .. }
            | IrKind::History(_)
            | IrKind::Rows(_)
            | IrKind::IsSome { bind: Some(_), .. } => return None,
            IrKind::Let { var, .. } => declared.push(*var),
            IrKind::Lookup { .. } | IrKind::Call { .. } | IrKind::Prop { .. } => costly = true,
            _ => {}
        }
        stack.extend(n.children());
    }
    // A field compared with a literal costs what reading it back would.
    let cheap = nodes < 8 && !costly;
    let free: Vec<Var> = used
        .into_iter()
        .filter(|v| *v != CLAIM && !declared.contains(v))
        .collect();
    let line = *free.first()?;
    if free.iter().any(|v| *v != line) {
        return None;
    }
    // The innermost binding of the variable is the one in force.
    own.iter()
        .rev()
        .find(|(v, _, _)| *v == line)
        .map(|&(v, slot, looped)| (v, slot, looped, cheap))
}

/// The expression with its line renamed and its spans cleared: equal keys, equal values.
pub(crate) fn key(program: &Program, ir: &Ir, var: Var) -> String {
    let mut copy = ir.clone();
    canonical(program, &mut copy, var);
    format!("{copy:?}")
}

const ANY_LINE: Var = Var::MAX;

fn canonical(program: &Program, ir: &mut Ir, var: Var) {
    ir.span = Default::default();
    match &mut ir.kind {
        IrKind::Var(v) if *v == var => *v = ANY_LINE,
        IrKind::Shared(id) => {
            // A line-scope shared value reads the line of a line rule: spell it out so that
            // it equals the same expression written inline over another line variable.
            if let Some(s) = program.shared.get(*id as usize) {
                if matches!(s.scope, SharedScope::Line(_)) && var == LINE {
                    *ir = s.expr.clone();
                    canonical(program, ir, var);
                    return;
                }
            }
        }
        _ => {}
    }
    for c in ir.children_mut() {
        canonical(program, c, var);
    }
}

//! Loops that keep only the lines whose key equals the key of a line already bound: the self
//! joins of the pair rules, `count(other in claim.fee_list where other.hilist_code == code
//! and event_date(claim, other) == d and …)` with `code` and `d` bound from the line under
//! review. Such a loop can walk a chain of the lines that share that line's key (linked once
//! per claim, after the per-line values) instead of every line of the claim: what the
//! hand-written baseline does by sorting a claim's lines by (code, day).
//!
//! Walking the chain is exact when every line it skips fails the filter without an error:
//! each keyed conjunct is an equality of a per-line value with a variable, and every conjunct
//! up to the last keyed one cannot fail. Only loops whose result is made of the rows that pass
//! the filter qualify (`exists`, and `count`, `sum`, `min`, `max`, `first`, `last` with a
//! `where`), not `all`. That the variables hold the bound line's own key is checked again where
//! the loop runs (`codegen/chained.rs`), so this plan only chooses where to try.

use std::collections::HashMap;

use vigil_compiler::ir::{AggKind, BinOp, Ir, IrKind, Program, RuleIr, Var};

use super::{key, line_of, own_lines, own_list};
use crate::codegen::{cannot_fail, flatten, is_history};

/// A loop that may walk a chain.
pub(super) struct Candidate<'a> {
    /// The `exists` or aggregate node.
    pub node: &'a Ir,
    /// The claim's list it ranges over.
    pub slot: usize,
    /// The variable bound to the line whose key the chain starts from; None for
    /// `distinct(value for x in …)`, whose check of each line against the earlier ones
    /// walks the chain of lines with that line's value.
    pub outer: Option<Var>,
    /// Per keyed conjunct: the variable the line value is compared with, and the value's key
    /// (`line_values::key`).
    pub keyed: Vec<(Var, String)>,
}

/// A loop over the patient's history that looks for a line with the key of a line under
/// review: `first(p in history(claim.psn_no) where exists m in p.<list> where m.<field> ==
/// code and …)`, `code` bound by `line.<field> is some(code)`. It may walk the chain of the
/// patient's lines with that line's field (linked once per patient) instead of every line of
/// every claim of the patient: what the baseline does by keeping each patient's supplies
/// sorted by code. Lines are in claim order, so the first line of the chain that passes is
/// in the first claim that has one; the lines it skips fail the key conjunct without an
/// error, as the lines a claim-list chain skips do.
pub(super) struct HistoryCandidate<'a> {
    /// The `first` or `exists` node over the history.
    pub node: &'a Ir,
    /// The claim's list the inner loop ranges over, and the line field that is the key.
    pub slot: usize,
    pub field: usize,
    /// The line under review the key comes from, and the variable bound to its field.
    pub line: Var,
    pub code: Var,
    /// The inner loop's variable (a line of a history claim) and body.
    pub lines: Var,
    pub body: &'a Ir,
}

/// Where a variable bound by `x is some(v)` came from: a value of one line of a list.
struct Binder {
    slot: usize,
    row: Var,
    key: String,
}

/// The loops of `rules` that could walk a chain of the claim's lines, and those over the
/// history that could walk a chain of the patient's.
pub(super) fn find<'a>(
    program: &'a Program,
    rules: &[&'a RuleIr],
) -> (Vec<Candidate<'a>>, Vec<HistoryCandidate<'a>>) {
    let mut found = Vec::new();
    let mut histories = Vec::new();
    for rule in rules {
        let Some(own) = own_lines(rule) else {
            continue;
        };
        // Variables are unique within a rule (the lowering makes a fresh one per binder).
        let mut binders = HashMap::new();
        let mut walk = Walk {
            program,
            own,
            binders: &mut binders,
            found: &mut found,
            histories: &mut histories,
        };
        for (_, e) in &rule.lets {
            walk.visit(e);
        }
        walk.visit(&rule.when);
    }
    (found, histories)
}

struct Walk<'a, 'w> {
    program: &'a Program,
    own: Vec<(Var, usize, bool)>,
    binders: &'w mut HashMap<Var, Binder>,
    found: &'w mut Vec<Candidate<'a>>,
    histories: &'w mut Vec<HistoryCandidate<'a>>,
}

impl<'a> Walk<'a, '_> {
    fn visit(&mut self, ir: &'a Ir) {
        match &ir.kind {
            IrKind::IsSome {
                value,
                bind: Some(v),
            } => {
                if let Some((row, slot, _, _)) = line_of(self.program, value, &self.own) {
                    let key = key(self.program, value, row);
                    self.binders.insert(*v, Binder { slot, row, key });
                }
            }
            IrKind::Quant {
                all: false,
                var,
                source,
                body,
            } => {
                self.candidate(ir, *var, source, body);
                self.history(ir, *var, source, body);
            }
            IrKind::Agg {
                kind: AggKind::First,
                var,
                source,
                filter: Some(filter),
                value: None,
                by: None,
            } => {
                self.candidate(ir, *var, source, filter);
                self.history(ir, *var, source, filter);
            }
            IrKind::Agg {
                kind:
                    AggKind::Count
                    | AggKind::Sum
                    | AggKind::Min
                    | AggKind::Max
                    | AggKind::First
                    | AggKind::Last,
                var,
                source,
                filter: Some(filter),
                by: None,
                ..
            } => self.candidate(ir, *var, source, filter),
            IrKind::Agg {
                kind: AggKind::Distinct,
                var,
                source,
                value: Some(value),
                by: None,
                ..
            } => self.distinct(ir, *var, source, value),
            _ => {}
        }
        let (var, source) = match &ir.kind {
            IrKind::Quant { var, source, .. } | IrKind::Agg { var, source, .. } => (*var, source),
            _ => {
                for c in ir.children() {
                    self.visit(c);
                }
                return;
            }
        };
        let children = ir.children();
        if let Some((first, rest)) = children.split_first() {
            self.visit(first);
            let pushed = own_list(source).map(|slot| self.own.push((var, slot, true)));
            for c in rest {
                self.visit(c);
            }
            if pushed.is_some() {
                self.own.pop();
            }
        }
    }

    /// Records `node` when its filter compares line values of `var` with variables bound
    /// from one other line of the same list.
    fn candidate(&mut self, node: &'a Ir, var: Var, source: &Ir, filter: &Ir) {
        let Some(slot) = own_list(source) else {
            return;
        };
        let mut conjuncts = Vec::new();
        flatten(filter, &mut conjuncts);
        let mut own = self.own.clone();
        own.push((var, slot, true));
        let mut keyed: Vec<(Var, String)> = Vec::new();
        let mut outer = None;
        for c in conjuncts {
            // A conjunct that may fail ends the search: a skipped line must not hide its
            // error, nor that of any conjunct before a keyed one.
            if !cannot_fail(c) {
                break;
            }
            let IrKind::Bin(BinOp::Eq, a, b) = &c.kind else {
                continue;
            };
            for (value, other) in [(a, b), (b, a)] {
                let IrKind::Var(v) = other.kind else {
                    continue;
                };
                let Some(binder) = self.binders.get(&v) else {
                    continue;
                };
                let Some((line, s, _, _)) = line_of(self.program, value, &own) else {
                    continue;
                };
                if line != var
                    || s != slot
                    || binder.slot != slot
                    || binder.row == var
                    || outer.is_some_and(|o| o != binder.row)
                    || key(self.program, value, var) != binder.key
                {
                    continue;
                }
                outer = Some(binder.row);
                if !keyed.iter().any(|(_, k)| *k == binder.key) {
                    keyed.push((v, binder.key.clone()));
                }
                break;
            }
        }
        // Two keys narrow a claim's lines enough, and fit the linking's sort key; a walk
        // still tests every keyed conjunct on the lines it visits.
        keyed.truncate(2);
        if let Some(outer) = outer {
            self.found.push(Candidate {
                node,
                slot,
                outer: Some(outer),
                keyed,
            });
        }
    }

    /// Records `node` (`first` or `exists` of `var` over the history) when its filter is one
    /// loop over a list of `var` whose key conjunct compares a line field with a variable
    /// bound from the same field of a line under review.
    fn history(&mut self, node: &'a Ir, var: Var, source: &Ir, filter: &'a Ir) {
        if !is_history(self.program, source) {
            return;
        }
        let IrKind::Quant {
            all: false,
            var: lines,
            source: inner,
            body,
        } = &filter.kind
        else {
            return;
        };
        let IrKind::Field {
            base,
            slot,
            optional: false,
        } = &inner.kind
        else {
            return;
        };
        if !matches!(base.kind, IrKind::Var(p) if p == var) {
            return;
        }
        let mut conjuncts = Vec::new();
        flatten(body, &mut conjuncts);
        for c in conjuncts {
            // As for a chain of the claim's lines: a skipped line hides no error.
            if !cannot_fail(c) {
                return;
            }
            let IrKind::Bin(BinOp::Eq, a, b) = &c.kind else {
                continue;
            };
            for (value, other) in [(a, b), (b, a)] {
                let (
                    IrKind::Field {
                        base, slot: field, ..
                    },
                    IrKind::Var(code),
                ) = (&value.kind, &other.kind)
                else {
                    continue;
                };
                let Some(binder) = self.binders.get(code) else {
                    continue;
                };
                if !matches!(base.kind, IrKind::Var(m) if m == *lines)
                    || binder.slot != *slot
                    || key(self.program, value, *lines) != binder.key
                {
                    continue;
                }
                self.histories.push(HistoryCandidate {
                    node,
                    slot: *slot,
                    field: *field,
                    line: binder.row,
                    code: *code,
                    lines: *lines,
                    body,
                });
                return;
            }
        }
    }

    /// Records a `distinct(value for var in claim.<list> …)` whose value is a value of the
    /// line: a line's value was seen before exactly when an earlier line of its chain passes
    /// the filter. (An earlier line's filter and value were evaluated at that line first, so
    /// the lines the walk skips hide no error.)
    fn distinct(&mut self, node: &'a Ir, var: Var, source: &Ir, value: &Ir) {
        let Some(slot) = own_list(source) else {
            return;
        };
        let mut own = self.own.clone();
        own.push((var, slot, true));
        match line_of(self.program, value, &own) {
            Some((line, s, _, _)) if line == var && s == slot => self.found.push(Candidate {
                node,
                slot,
                outer: None,
                keyed: vec![(var, key(self.program, value, var))],
            }),
            _ => {}
        }
    }
}

//! Loop guards: a loop whose `where` (or `exists` body) can only hold where a table lookup
//! finds a row, and whose lookup has a key the loop does not change, is skipped when no row
//! of the table has that key (`item_pairs[a.hilist_code, b at d]?.relation == includes` over
//! the claim's lines is skipped for a `b` in no pair). What a hand-writer hoists by hand.
//!
//! Skipping is exact: every row would fail the condition, so the loop's result is its empty
//! result; and a guard is taken only where nothing the interpreter evaluates before the absent
//! row can fail, so no evaluation error is skipped with the loop. Evaluating the key before
//! the loop may bail where the interpreter would not look at it; a bail hands the rule to the
//! interpreter, which is always right.

use cranelift_codegen::ir::{InstBuilder, Value};
use vigil_compiler::ir::{AggKind, BinOp, Func, Ir, IrKind, Var};
use vigil_compiler::value::Value as Datum;

use super::conjuncts::{binders, mentions};
use super::{Gen, K, R};

/// When a condition can hold: some invariant keys all present (in their columns), or any of
/// several such alternatives.
enum Guard<'i> {
    /// (table, key column, key expression, the row's text field that must hold): the lookup
    /// finds nothing (or nothing whose field holds) unless every one of these keys is in its
    /// column (among the rows whose field holds).
    Keys(Vec<Key<'i>>),
    Any(Vec<Guard<'i>>),
}

/// One key a guard tests: (table, key column, key expression, (field slot, text)).
type Key<'i> = (u32, usize, &'i Ir, Option<(usize, &'i str)>);

/// Variables a loop binds: its own, and those bound inside its condition.
fn bound_inside(var: Var, cond: &Ir) -> Vec<Var> {
    let mut vars = binders(cond);
    vars.push(var);
    vars
}

/// The lookup an absent-strict operand reads: the lookup itself, or a field of its row
/// through `?.` (absent when the row is).
fn lookup_of(ir: &Ir) -> Option<&Ir> {
    match &ir.kind {
        IrKind::Lookup { .. } => Some(ir),
        IrKind::Field { base, .. } | IrKind::Prop { base, .. } => lookup_of(base),
        _ => None,
    }
}

/// `table[…]?.field == "text"` (either way round): the lookup, the field's slot and the
/// text. Its lookup's row matters only through that comparison, so a key in no row whose
/// field is that text can be answered "no row" (`calls::presence_where`).
pub(crate) fn compared_field(ir: &Ir) -> Option<(&Ir, usize, &str)> {
    match &ir.kind {
        IrKind::Bin(BinOp::Eq, a, b) => compared_operands(a, b),
        _ => None,
    }
}

/// [`compared_field`] of the operands of an `==`.
pub(crate) fn compared_operands<'i>(a: &'i Ir, b: &'i Ir) -> Option<(&'i Ir, usize, &'i str)> {
    for (x, y) in [(a, b), (b, a)] {
        if let (
            IrKind::Field {
                base,
                slot,
                optional: true,
            },
            IrKind::Lit(Datum::Text(text)),
        ) = (&x.kind, &y.kind)
        {
            if matches!(base.kind, IrKind::Lookup { .. }) {
                return Some((base, *slot, text));
            }
        }
    }
    None
}

/// Whether the interpreter evaluates `ir` with no chance of an evaluation error: reads,
/// comparisons, tests, lookups, the calls that cannot fail, and counts, quantifiers, `first`,
/// `last` and `distinct` over those; no arithmetic, no sum, no shared value (which may
/// compute anything).
pub(crate) fn cannot_fail(ir: &Ir) -> bool {
    match &ir.kind {
        IrKind::Lit(_) | IrKind::Var(_) => true,
        IrKind::Field { base, .. } | IrKind::Prop { base, .. } => cannot_fail(base),
        IrKind::Not(x) | IrKind::IsNone(x) | IrKind::IsSome { value: x, .. } => cannot_fail(x),
        IrKind::And(a, b) | IrKind::Or(a, b) | IrKind::Coalesce(a, b) => {
            cannot_fail(a) && cannot_fail(b)
        }
        IrKind::Bin(op, a, b) => {
            matches!(
                op,
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
            ) && cannot_fail(a)
                && cannot_fail(b)
        }
        IrKind::InList { value, list, .. } => cannot_fail(value) && cannot_fail(list),
        IrKind::InRange { value, lo, hi, .. } => {
            cannot_fail(value) && cannot_fail(lo) && cannot_fail(hi)
        }
        IrKind::If {
            cond,
            then,
            otherwise,
        } => cannot_fail(cond) && cannot_fail(then) && cannot_fail(otherwise),
        IrKind::Lookup { keys, at, .. } => {
            keys.iter().all(cannot_fail) && at.as_deref().is_none_or(cannot_fail)
        }
        IrKind::Call { func, args } => {
            matches!(func, Func::SortsBefore | Func::StartsWith | Func::Age)
                && args.iter().all(cannot_fail)
        }
        // Counting, picking, deduplicating and grouping cannot fail (a sum can overflow):
        // only what they evaluate can.
        IrKind::Agg {
            kind:
                AggKind::Count | AggKind::Distinct | AggKind::First | AggKind::Last | AggKind::Groups,
            ..
        }
        | IrKind::Quant { .. }
        | IrKind::Let { .. } => ir.children().into_iter().all(cannot_fail),
        _ => false,
    }
}

/// The guard of a condition that is false whenever a lookup it reads finds no row, and that
/// cannot fail in the interpreter before that absent row makes it false (a skipped loop must
/// not hide an evaluation error: a division by zero in an earlier conjunct, say).
fn guard_of<'i>(cond: &'i Ir, inside: &[Var]) -> Option<Guard<'i>> {
    let keys = |lookup: &'i Ir, only: Option<(usize, &'i str)>| -> Option<Guard<'i>> {
        // The whole lookup (every key, its date) is evaluated before it answers absent.
        if !cannot_fail(lookup) {
            return None;
        }
        let IrKind::Lookup { table, keys, .. } = &lookup.kind else {
            return None;
        };
        let invariant: Vec<Key> = keys
            .iter()
            .enumerate()
            .filter(|(_, k)| !mentions(k, inside))
            .map(|(column, k)| (*table, column, k, only))
            .collect();
        (!invariant.is_empty()).then_some(Guard::Keys(invariant))
    };
    match &cond.kind {
        // `x is some`, and `x in list` (the list is not evaluated when `x` is absent), are
        // false when `x` is absent.
        IrKind::IsSome { value, .. } => keys(lookup_of(value)?, None),
        IrKind::InList {
            value,
            negated: false,
            ..
        } => keys(lookup_of(value)?, None),
        // `x == y` is false when either is absent; both are evaluated first. A row's text
        // field compared with a text: false too where no row with that text has the key.
        IrKind::Bin(BinOp::Eq, a, b) => match (compared_field(cond), lookup_of(a), lookup_of(b)) {
            (Some((l, slot, text)), _, _) => keys(l, Some((slot, text))),
            (_, Some(l), _) if cannot_fail(b) => keys(l, None),
            (_, _, Some(l)) if cannot_fail(a) => keys(l, None),
            _ => None,
        },
        // `a and b` is false where either is; `b` is reached only past `a`.
        IrKind::And(a, b) => guard_of(a, inside).or_else(|| {
            if cannot_fail(a) {
                guard_of(b, inside)
            } else {
                None
            }
        }),
        IrKind::Or(a, b) => Some(Guard::Any(vec![guard_of(a, inside)?, guard_of(b, inside)?])),
        _ => None,
    }
}

impl Gen<'_, '_> {
    /// 1 when the loop over `var` with condition `cond` may have a row where `cond` holds, 0
    /// when certainly none; None when nothing is known (always loop).
    pub(super) fn loop_guard(&mut self, var: Var, cond: Option<&Ir>) -> R<Option<Value>> {
        let Some(cond) = cond else {
            return Ok(None);
        };
        let inside = bound_inside(var, cond);
        let Some(guard) = guard_of(cond, &inside) else {
            return Ok(None);
        };
        // Only worth it where the tables' keys are indexed by id.
        let indexed = |g: &Guard| -> bool {
            fn all(g: &Guard, shape: &crate::shape::Shape) -> bool {
                match g {
                    Guard::Keys(ks) => ks
                        .iter()
                        .all(|(t, c, _, _)| shape.key_presence(*t, *c).is_some()),
                    Guard::Any(gs) => gs.iter().all(|g| all(g, shape)),
                }
            }
            all(g, self.shape)
        };
        if !indexed(&guard) {
            return Ok(None);
        }
        self.guard_value(&guard).map(Some)
    }

    fn guard_value(&mut self, guard: &Guard) -> R<Value> {
        match guard {
            Guard::Keys(keys) => {
                let mut may = self.iconst(1);
                for (table, column, key, only) in keys {
                    let (v, k) = self.expr(key)?;
                    let here = self.present(v, k);
                    // Only an id can be ruled out: a lookup by any other word does not
                    // compile, so neither does the rule.
                    let has = if k == K::Id {
                        self.may_have_key(*table, *column, v, *only)
                    } else {
                        self.iconst(1)
                    };
                    let both = self.b.ins().band(here, has);
                    may = self.b.ins().band(may, both);
                }
                Ok(may)
            }
            Guard::Any(alternatives) => {
                let mut may = self.iconst(0);
                for g in alternatives {
                    let v = self.guard_value(g)?;
                    may = self.b.ins().bor(may, v);
                }
                Ok(may)
            }
        }
    }

    /// Runs `body` (which emits a loop) only where `guard` is 1 (always without a guard).
    pub(super) fn only_if(
        &mut self,
        guard: Option<Value>,
        body: impl FnOnce(&mut Self) -> R<()>,
    ) -> R<()> {
        let Some(guard) = guard else {
            return body(self);
        };
        let (run, after) = (self.b.create_block(), self.b.create_block());
        self.b.ins().brif(guard, run, &[], after, &[]);
        self.b.switch_to_block(run);
        body(self)?;
        self.b.ins().jump(after, &[]);
        self.b.switch_to_block(after);
        Ok(())
    }
}

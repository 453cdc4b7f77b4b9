//! Lets computed where `when` reads them. The interpreter evaluates a rule's lets first, in
//! order, so a let that may fail must run first in native code too (its failure is the
//! rule's verdict). A let that cannot fail changes nothing by running later, and CN-BEDIDLE-001's
//! count of care days (distinct event dates, pairwise over the lines) then runs only for
//! the inpatient claims its `when` tests first, not for every claim.

use vigil_compiler::ir::{AggKind, Ir, IrKind, RuleIr, Var};
use vigil_compiler::types::Ty;

use super::cannot_fail;

/// Whether let `var = e` of `rule` can be computed at its read in `when`: it cannot fail, is
/// a plain value or a `groups(…)` (whose definition is checked where it is computed; not
/// another list, nor a group or record), no other let reads it, and `when` reads it once,
/// outside any loop (so it is computed at most once per row). CN-DIEM-001's per-diem groups
/// are then checked for the inpatient claims only.
pub(super) fn deferrable(rule: &RuleIr, var: Var, e: &Ir) -> bool {
    let groups = matches!(
        &e.kind,
        IrKind::Agg {
            kind: AggKind::Groups,
            ..
        }
    );
    let plain = !matches!(
        e.ty.unwrap_optional(),
        Ty::List(_) | Ty::Group(..) | Ty::Record(_) | Ty::Error
    );
    if !cannot_fail(e) || !(plain || groups) {
        return false;
    }
    if rule.lets.iter().any(|(_, other)| reads(other, var)) {
        return false;
    }
    let (mut outside, mut inside) = (0, 0);
    count(&rule.when, var, false, &mut outside, &mut inside);
    outside == 1 && inside == 0
}

fn reads(ir: &Ir, var: Var) -> bool {
    matches!(ir.kind, IrKind::Var(v) if v == var)
        || ir.children().into_iter().any(|c| reads(c, var))
}

/// Counts the reads of `var` outside and inside loops.
fn count(ir: &Ir, var: Var, looped: bool, outside: &mut usize, inside: &mut usize) {
    if let IrKind::Var(v) = ir.kind {
        if v == var {
            if looped {
                *inside += 1;
            } else {
                *outside += 1;
            }
        }
    }
    let loop_node = matches!(ir.kind, IrKind::Quant { .. } | IrKind::Agg { .. });
    for (i, c) in ir.children().into_iter().enumerate() {
        // A loop's source is evaluated once, before it; the rest once per element.
        count(c, var, looped || (loop_node && i > 0), outside, inside);
    }
}

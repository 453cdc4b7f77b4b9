//! `and` chains in a cheaper order: a conjunct that only calls into Rust (`sorts_before`,
//! `startswith`, `age`) on plain values is evaluated after the conjuncts that follow it, when
//! none of them binds a variable it reads. The chain's value is the same in any order (every
//! conjunct is pure; one that cannot be decided bails the rule to the interpreter), the
//! delayed call cannot fail in the interpreter, and it then runs only where everything else
//! already holds.

use cranelift_codegen::ir::Value;
use vigil_compiler::ir::{Func, Ir, IrKind, Var};

use super::{Gen, R};

/// The conjuncts of an `and` chain, left to right (the order they are evaluated).
pub(crate) fn flatten<'i>(ir: &'i Ir, out: &mut Vec<&'i Ir>) {
    match &ir.kind {
        IrKind::And(a, b) => {
            flatten(a, out);
            flatten(b, out);
        }
        _ => out.push(ir),
    }
}

fn walk<'i>(ir: &'i Ir, mut visit: impl FnMut(&'i Ir)) {
    let mut stack = vec![ir];
    while let Some(ir) = stack.pop() {
        visit(ir);
        stack.extend(ir.children());
    }
}

/// Variables bound anywhere inside `ir`.
pub(super) fn binders(ir: &Ir) -> Vec<Var> {
    let mut vars = Vec::new();
    walk(ir, |ir| match &ir.kind {
        IrKind::IsSome { bind: Some(v), .. }
        | IrKind::Let { var: v, .. }
        | IrKind::Quant { var: v, .. }
        | IrKind::Agg { var: v, .. } => vars.push(*v),
        _ => {}
    });
    vars
}

/// Whether `ir` reads one of `vars`.
pub(super) fn mentions(ir: &Ir, vars: &[Var]) -> bool {
    let mut found = false;
    walk(ir, |ir| {
        if let IrKind::Var(v) = &ir.kind {
            found |= vars.contains(v);
        }
    });
    found
}

/// A value the interpreter reads without any chance of an evaluation error: a literal, a
/// variable, or a field or property of one.
fn plain(ir: &Ir) -> bool {
    match &ir.kind {
        IrKind::Lit(_) | IrKind::Var(_) => true,
        IrKind::Field { base, .. } | IrKind::Prop { base, .. } => plain(base),
        _ => false,
    }
}

/// A conjunct worth delaying: a call into Rust (or its negation) on plain values. It binds
/// nothing and cannot fail in the interpreter, so delaying it never hides an evaluation error
/// the interpreter would report (a delayed conjunct may go unevaluated).
fn costly(ir: &Ir) -> bool {
    match &ir.kind {
        IrKind::Not(x) => costly(x),
        IrKind::Call { func, args } => {
            matches!(func, Func::SortsBefore | Func::StartsWith | Func::Age)
                && args.iter().all(plain)
        }
        _ => false,
    }
}

/// The chain's conjuncts in evaluation order.
fn ordered(ir: &Ir) -> Vec<&Ir> {
    let mut parts = Vec::new();
    flatten(ir, &mut parts);
    let mut cheap: Vec<&Ir> = Vec::with_capacity(parts.len());
    let mut delayed: Vec<&Ir> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let later: Vec<Var> = parts[i + 1..].iter().flat_map(|p| binders(p)).collect();
        if costly(part) && !mentions(part, &later) {
            delayed.push(part);
        } else {
            cheap.push(part);
        }
    }
    cheap.extend(delayed);
    cheap
}

impl Gen<'_, '_> {
    /// An `and` chain: 1 when every conjunct holds, each evaluated only where the ones before
    /// it (in the cheaper order) hold.
    pub(super) fn conjunction(&mut self, chain: &Ir) -> R<Value> {
        let parts = ordered(chain);
        self.all_of(&parts)
    }

    fn all_of(&mut self, parts: &[&Ir]) -> R<Value> {
        let Some((first, rest)) = parts.split_first() else {
            return Ok(self.iconst(1));
        };
        let (x, _) = self.expr(first)?;
        let holds = self.truth(x);
        if rest.is_empty() {
            return Ok(holds);
        }
        self.branch(holds, |g| g.all_of(rest), |g| Ok(g.iconst(0)))
    }
}

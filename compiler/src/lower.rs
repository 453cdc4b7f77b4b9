//! Checked syntax to IR. Names are resolved through what the checker recorded (`Rulebook::refs`),
//! so scoping has one implementation, the checker's. Constants are folded, defs inlined
//! (arguments that are variables or literals are substituted, others bound once with `Let`),
//! and expressions that several rules compute over the same claim or line are hoisted into
//! shared slots.

use std::collections::HashMap;

use vigil_dsl::ast::{
    self, CallArgs, ClauseKind, Expr, ExprKind, InRhs, Pattern, Quantifier, TemplatePart,
};
use vigil_dsl::Span;

use crate::interp;
use crate::ir::*;
use crate::load::LoadedRulebook;
use crate::model::{Rulebook, Scope, Target};
use crate::types::Ty;
use crate::value::Value;

/// Lowers a rulebook that checked without errors.
pub fn lower(loaded: &LoadedRulebook) -> Program {
    let book = &loaded.rulebook;
    let mut l = Lower::new(book);
    let rules = book.rules.iter().map(|r| l.rule(r)).collect();
    let mut program = Program {
        rules,
        shared: vec![],
        tables: book.tables.keys().cloned().collect(),
    };
    share(&mut program);
    program
}

type LocalKey = (Span, String);

struct Lower<'a> {
    book: &'a Rulebook,
    types: HashMap<Span, Ty>,
    refs: HashMap<Span, Target>,
    tables: HashMap<String, u32>,
    consts: HashMap<String, Ir>,
    /// Local bindings in scope: one map per inlined def, innermost last.
    locals: Vec<HashMap<LocalKey, Ir>>,
    next_var: Var,
}

impl<'a> Lower<'a> {
    fn new(book: &'a Rulebook) -> Self {
        let mut types = HashMap::new();
        for (span, ty) in &book.types {
            types.entry(*span).or_insert_with(|| ty.clone());
        }
        let refs = book.refs.iter().cloned().collect();
        let tables = book
            .tables
            .keys()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect();
        let mut l = Lower {
            book,
            types,
            refs,
            tables,
            consts: HashMap::new(),
            locals: vec![HashMap::new()],
            next_var: 2,
        };
        let mut names: Vec<&String> = book.consts.keys().collect();
        names.sort();
        for name in names {
            l.const_value(name);
        }
        l
    }

    fn const_value(&mut self, name: &str) -> Ir {
        if let Some(v) = self.consts.get(name) {
            return v.clone();
        }
        let Some(c) = self.book.consts.get(name) else {
            return Ir::lit(Value::Absent, Ty::Error, Span::default());
        };
        let saved = std::mem::replace(&mut self.locals, vec![HashMap::new()]);
        let ir = self.expr(&c.decl.value);
        self.locals = saved;
        let ir = Ir {
            ty: c.ty.clone(),
            ..ir
        };
        self.consts.insert(name.to_string(), ir.clone());
        ir
    }

    fn ty(&self, span: Span) -> Ty {
        self.types.get(&span).cloned().unwrap_or(Ty::Error)
    }

    fn fresh(&mut self) -> Var {
        let v = self.next_var;
        self.next_var += 1;
        v
    }

    fn bind(&mut self, name: &ast::Ident, var: Var, ty: Ty) {
        let ir = Ir {
            kind: IrKind::Var(var),
            ty,
            span: name.span,
        };
        if let Some(scope) = self.locals.last_mut() {
            scope.insert((name.span, name.name.clone()), ir);
        }
    }

    fn bind_at(&mut self, span: Span, name: &str, var: Var, ty: Ty) {
        let ir = Ir {
            kind: IrKind::Var(var),
            ty,
            span,
        };
        if let Some(scope) = self.locals.last_mut() {
            scope.insert((span, name.to_string()), ir);
        }
    }

    fn rule(&mut self, r: &crate::model::Rule) -> RuleIr {
        self.locals = vec![HashMap::new()];
        self.next_var = 2;
        let claim_ty = Ty::Record("claim".into());
        self.bind_at(Span::default(), "claim", CLAIM, claim_ty.clone());
        let mut list_slot = None;
        let mut provider = None;
        let (mut lets, mut when, mut amount, mut message) = (vec![], None, None, vec![]);
        for c in &r.decl.clauses {
            match &c.kind {
                ClauseKind::For { binder, source } => {
                    if let ExprKind::Field { name, .. } = &source.kind {
                        list_slot =
                            self.book.records.get("claim").and_then(|rec| {
                                rec.fields.iter().position(|f| f.name == name.name)
                            });
                    }
                    let ty = match self.ty(source.span) {
                        Ty::List(t) => *t,
                        t => t,
                    };
                    self.bind(binder, LINE, ty);
                }
                ClauseKind::PerProviderMonth { month_of, filter } => {
                    let month_of = self.expr(month_of);
                    let filter = filter.as_ref().map(|f| self.expr(f));
                    let (p, m, cl, pr) = (self.fresh(), self.fresh(), self.fresh(), self.fresh());
                    let claims = Ty::List(Box::new(claim_ty.clone()));
                    self.bind_at(c.span, "provider", p, Ty::Code);
                    self.bind_at(c.span, "period", m, Ty::Month);
                    self.bind_at(c.span, "claims", cl, claims.clone());
                    self.bind_at(c.span, "previous_claims", pr, claims);
                    provider = Some(ProviderIr {
                        month_of,
                        filter,
                        provider: p,
                        period: m,
                        claims: cl,
                        previous_claims: pr,
                    });
                }
                _ => {}
            }
        }
        for c in &r.decl.clauses {
            match &c.kind {
                ClauseKind::Let { name, value } => {
                    let ir = self.expr(value);
                    let v = self.fresh();
                    self.bind(name, v, ir.ty.clone());
                    lets.push((v, ir));
                }
                ClauseKind::When(e) => when = Some(self.expr(e)),
                ClauseKind::Amount(e) => amount = Some(self.expr(e)),
                ClauseKind::Message(t) => {
                    for part in &t.parts {
                        message.push(match part {
                            TemplatePart::Text(s) => MessagePart::Text(s.clone()),
                            TemplatePart::Hole(h) => MessagePart::Hole(self.expr(h)),
                        });
                    }
                }
                _ => {}
            }
        }
        RuleIr {
            id: r.id.clone(),
            name: r.name.clone(),
            severity: r.severity,
            basis: r.basis.clone(),
            scope: r.scope,
            span: r.span,
            list_slot: if r.scope == Scope::Line {
                list_slot
            } else {
                None
            },
            provider,
            lets,
            when: when.unwrap_or_else(|| Ir::lit(Value::Bool(false), Ty::Bool, r.span)),
            amount,
            message,
            frame: self.next_var,
        }
    }

    fn node(&self, kind: IrKind, e: &Expr) -> Ir {
        fold(Ir {
            kind,
            ty: self.ty(e.span),
            span: e.span,
        })
    }

    fn boxed(&mut self, e: &Expr) -> Box<Ir> {
        Box::new(self.expr(e))
    }

    fn expr(&mut self, e: &Expr) -> Ir {
        match &e.kind {
            ExprKind::Number(text) => {
                let v = match text.parse::<i64>() {
                    Ok(i) if !text.contains('.') => Value::Int(i),
                    _ => rust_decimal::Decimal::from_str_exact(text)
                        .map(Value::Decimal)
                        .unwrap_or(Value::Absent),
                };
                Ir::lit(v, self.ty(e.span), e.span)
            }
            ExprKind::Str(s) => Ir::lit(Value::Text(s.as_str().into()), Ty::Text, e.span),
            ExprKind::Bool(b) => Ir::lit(Value::Bool(*b), Ty::Bool, e.span),
            ExprKind::Paren(inner) => self.expr(inner),
            ExprKind::Name(id) => self.name(id, e),
            ExprKind::Field {
                base,
                name,
                optional,
            } => self.field(e, base, name, *optional),
            ExprKind::Index { base, keys, at } => {
                let table = match &base.kind {
                    ExprKind::Name(id) => self.tables.get(&id.name).copied().unwrap_or(0),
                    _ => 0,
                };
                let keys = keys.iter().map(|k| self.expr(k)).collect();
                let at = at.as_ref().map(|a| self.boxed(a));
                self.node(IrKind::Lookup { table, keys, at }, e)
            }
            ExprKind::Call { name, args } => self.call(e, name, args),
            ExprKind::List(items) => {
                let items = items.iter().map(|i| self.expr(i)).collect();
                self.node(IrKind::List(items), e)
            }
            ExprKind::Neg(x) => {
                let x = self.boxed(x);
                self.node(IrKind::Neg(x), e)
            }
            ExprKind::Not(x) => {
                let x = self.boxed(x);
                self.node(IrKind::Not(x), e)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let (a, b) = (self.boxed(lhs), self.boxed(rhs));
                let kind = match op {
                    ast::BinOp::And => IrKind::And(a, b),
                    ast::BinOp::Or => IrKind::Or(a, b),
                    ast::BinOp::Coalesce => IrKind::Coalesce(a, b),
                    ast::BinOp::Add => IrKind::Bin(BinOp::Add, a, b),
                    ast::BinOp::Sub => IrKind::Bin(BinOp::Sub, a, b),
                    ast::BinOp::Mul => IrKind::Bin(BinOp::Mul, a, b),
                    ast::BinOp::Div => IrKind::Bin(BinOp::Div, a, b),
                    ast::BinOp::Eq => IrKind::Bin(BinOp::Eq, a, b),
                    ast::BinOp::Ne => IrKind::Bin(BinOp::Ne, a, b),
                    ast::BinOp::Lt => IrKind::Bin(BinOp::Lt, a, b),
                    ast::BinOp::Le => IrKind::Bin(BinOp::Le, a, b),
                    ast::BinOp::Gt => IrKind::Bin(BinOp::Gt, a, b),
                    ast::BinOp::Ge => IrKind::Bin(BinOp::Ge, a, b),
                };
                self.node(kind, e)
            }
            ExprKind::In {
                value,
                negated,
                rhs,
            } => {
                let value = self.boxed(value);
                let kind = match rhs {
                    InRhs::Set(list) => IrKind::InList {
                        value,
                        list: self.boxed(list),
                        negated: *negated,
                    },
                    InRhs::Range { lo, hi, inclusive } => IrKind::InRange {
                        value,
                        lo: self.boxed(lo),
                        hi: self.boxed(hi),
                        inclusive: *inclusive,
                        negated: *negated,
                    },
                };
                self.node(kind, e)
            }
            ExprKind::Is { value, pattern } => {
                let value = self.boxed(value);
                let kind = match pattern {
                    Pattern::None => IrKind::IsNone(value),
                    Pattern::Some(None) => IrKind::IsSome { value, bind: None },
                    Pattern::Some(Some(name)) => {
                        let v = self.fresh();
                        self.bind(name, v, value.ty.unwrap_optional().clone());
                        IrKind::IsSome {
                            value,
                            bind: Some(v),
                        }
                    }
                };
                Ir {
                    kind,
                    ty: Ty::Bool,
                    span: e.span,
                }
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                let kind = IrKind::If {
                    cond: self.boxed(cond),
                    then: self.boxed(then),
                    otherwise: self.boxed(otherwise),
                };
                self.node(kind, e)
            }
            ExprKind::Quant {
                q,
                binder,
                source,
                body,
            } => {
                let source = self.source(source);
                let var = self.fresh();
                let elem = match &source.ty {
                    Ty::List(t) => (**t).clone(),
                    t => t.clone(),
                };
                self.bind(binder, var, elem);
                let body = self.boxed(body);
                Ir {
                    kind: IrKind::Quant {
                        all: *q == Quantifier::All,
                        var,
                        source: Box::new(source),
                        body,
                    },
                    ty: Ty::Bool,
                    span: e.span,
                }
            }
        }
    }

    /// An iterated list: a table name means its rows.
    fn source(&mut self, e: &Expr) -> Ir {
        if let ExprKind::Name(id) = &e.kind {
            if let Some(Target::Table(t)) = self.refs.get(&id.span) {
                let idx = self.tables.get(t).copied().unwrap_or(0);
                return Ir {
                    kind: IrKind::Rows(idx),
                    ty: Ty::List(Box::new(Ty::Row(t.clone()))),
                    span: e.span,
                };
            }
        }
        self.expr(e)
    }

    fn name(&mut self, id: &ast::Ident, e: &Expr) -> Ir {
        match self.refs.get(&id.span).cloned() {
            Some(Target::Local { name, def }) => {
                for scope in self.locals.iter().rev().take(1) {
                    if let Some(ir) = scope.get(&(def, name.clone())) {
                        return Ir {
                            span: e.span,
                            ..ir.clone()
                        };
                    }
                }
                Ir::lit(Value::Absent, Ty::Error, e.span)
            }
            Some(Target::Const(name)) => Ir {
                span: e.span,
                ..self.const_value(&name)
            },
            Some(Target::Variant { enum_name, variant }) => {
                let code = self
                    .book
                    .enums
                    .get(&enum_name)
                    .and_then(|en| en.variants.iter().find(|v| v.name == variant))
                    .map(|v| v.code.clone())
                    .unwrap_or_default();
                Ir::lit(
                    Value::Text(code.as_str().into()),
                    Ty::Enum(enum_name),
                    e.span,
                )
            }
            _ => Ir::lit(Value::Absent, Ty::Error, e.span),
        }
    }

    fn field(&mut self, e: &Expr, base: &Expr, name: &ast::Ident, optional: bool) -> Ir {
        match self.refs.get(&name.span).cloned() {
            Some(Target::Variant { .. }) => self.name(name, e),
            // A record's field or a table row's column: a slot in declared order.
            Some(target @ (Target::Field { .. } | Target::Column { .. })) => {
                let slot = match &target {
                    Target::Field { record, field } => self
                        .book
                        .records
                        .get(record)
                        .and_then(|r| r.fields.iter().position(|f| &f.name == field)),
                    Target::Column { table, column } => self
                        .book
                        .tables
                        .get(table)
                        .and_then(|t| t.columns.iter().position(|c| &c.name == column)),
                    _ => None,
                }
                .unwrap_or(0);
                let base = self.boxed(base);
                self.node(
                    IrKind::Field {
                        base,
                        slot,
                        optional,
                    },
                    e,
                )
            }
            _ => {
                let base = self.boxed(base);
                let on = base.ty.unwrap_optional().clone();
                let prop = match (name.name.as_str(), &on) {
                    ("key", Ty::Group(..)) => Prop::GroupKey,
                    ("items", Ty::Group(..)) => Prop::GroupItems,
                    ("date", _) => Prop::Date,
                    ("hour", _) => Prop::Hour,
                    ("minute", _) => Prop::Minute,
                    ("year", _) => Prop::Year,
                    ("month", _) => Prop::Month,
                    ("day", _) => Prop::Day,
                    ("period", _) => Prop::Period,
                    ("category", _) => Prop::Category,
                    ("length", _) => Prop::Length,
                    ("code", _) => Prop::Code,
                    ("label", Ty::Enum(en)) => Prop::Label(
                        self.book
                            .enums
                            .get(en)
                            .map(|x| {
                                x.variants
                                    .iter()
                                    .map(|v| {
                                        (
                                            v.code.clone(),
                                            v.label.clone().unwrap_or_else(|| v.code.clone()),
                                        )
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    ),
                    _ => Prop::Code,
                };
                self.node(
                    IrKind::Prop {
                        base,
                        prop,
                        optional,
                    },
                    e,
                )
            }
        }
    }

    fn call(&mut self, e: &Expr, name: &ast::Ident, args: &CallArgs) -> Ir {
        if let Some(def) = self.book.defs.get(&name.name) {
            let list = match args {
                CallArgs::Exprs(l) => l.as_slice(),
                CallArgs::Comprehension(_) => &[],
            };
            let lowered: Vec<Ir> = list.iter().map(|a| self.expr(a)).collect();
            let mut scope = HashMap::new();
            let mut lets = Vec::new();
            for (param, arg) in def.decl.params.iter().zip(lowered) {
                let key = (param.name.span, param.name.name.clone());
                if matches!(arg.kind, IrKind::Var(_) | IrKind::Lit(_)) {
                    scope.insert(key, arg);
                } else {
                    let v = self.fresh();
                    scope.insert(
                        key,
                        Ir {
                            kind: IrKind::Var(v),
                            ty: arg.ty.clone(),
                            span: arg.span,
                        },
                    );
                    lets.push((v, arg));
                }
            }
            self.locals.push(scope);
            let mut body = self.expr(&def.decl.body);
            self.locals.pop();
            for (v, arg) in lets.into_iter().rev() {
                let ty = body.ty.clone();
                body = Ir {
                    kind: IrKind::Let {
                        var: v,
                        value: Box::new(arg),
                        body: Box::new(body),
                    },
                    ty,
                    span: e.span,
                };
            }
            return Ir {
                span: e.span,
                ty: self.ty(e.span),
                ..body
            };
        }
        match args {
            CallArgs::Comprehension(c) => {
                let kind = match name.name.as_str() {
                    "count" => AggKind::Count,
                    "sum" => AggKind::Sum,
                    "min" => AggKind::Min,
                    "max" => AggKind::Max,
                    "first" => AggKind::First,
                    "last" => AggKind::Last,
                    "distinct" => AggKind::Distinct,
                    _ => AggKind::Groups,
                };
                let source = self.source(&c.source);
                let var = self.fresh();
                let elem = match &source.ty {
                    Ty::List(t) => (**t).clone(),
                    t => t.clone(),
                };
                self.bind(&c.binder, var, elem);
                let filter = c.filter.as_ref().map(|f| self.boxed(f));
                let by = c.by.as_ref().map(|b| self.boxed(b));
                let value = c.value.as_ref().map(|v| self.boxed(v));
                self.node(
                    IrKind::Agg {
                        kind,
                        var,
                        source: Box::new(source),
                        filter,
                        value,
                        by,
                    },
                    e,
                )
            }
            CallArgs::Exprs(list) => {
                let n = name.name.as_str();
                if n == "history" {
                    let psn = self.boxed(&list[0]);
                    return self.node(IrKind::History(psn), e);
                }
                if n == "date" {
                    if let Some(ExprKind::Str(s)) = list.first().map(|a| &a.kind) {
                        let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                            .map(Value::Date)
                            .unwrap_or(Value::Absent);
                        return Ir::lit(d, Ty::Date, e.span);
                    }
                }
                let aggregate = match n {
                    "count" => Some(AggKind::Count),
                    "sum" => Some(AggKind::Sum),
                    "min" if list.len() == 1 => Some(AggKind::Min),
                    "max" if list.len() == 1 => Some(AggKind::Max),
                    "first" => Some(AggKind::First),
                    "last" => Some(AggKind::Last),
                    "distinct" => Some(AggKind::Distinct),
                    _ => None,
                };
                if let Some(kind) = aggregate {
                    // `count(list)` is `count(x in list)`: one form for the interpreter.
                    let source = self.source(&list[0]);
                    let var = self.fresh();
                    let elem_ty = match &source.ty {
                        Ty::List(t) => (**t).clone(),
                        t => t.clone(),
                    };
                    let value = (kind != AggKind::Count).then(|| {
                        Box::new(Ir {
                            kind: IrKind::Var(var),
                            ty: elem_ty,
                            span: e.span,
                        })
                    });
                    return self.node(
                        IrKind::Agg {
                            kind,
                            var,
                            source: Box::new(source),
                            filter: None,
                            value,
                            by: None,
                        },
                        e,
                    );
                }
                let func = match n {
                    "days_between" => Func::DaysBetween,
                    "age" => Func::Age,
                    "starts_with" => Func::StartsWith,
                    "sorts_before" => Func::SortsBefore,
                    "abs" => Func::Abs,
                    "round" => Func::Round,
                    "min" => Func::Min2,
                    _ => Func::Max2,
                };
                let args = list.iter().map(|a| self.expr(a)).collect();
                self.node(IrKind::Call { func, args }, e)
            }
        }
    }
}

/// Evaluates a node whose operands are all literals (constant folding).
fn fold(ir: Ir) -> Ir {
    let foldable = match &ir.kind {
        IrKind::Bin(..)
        | IrKind::Not(_)
        | IrKind::Neg(_)
        | IrKind::Coalesce(..)
        | IrKind::Call { .. }
        | IrKind::Prop { .. }
        | IrKind::List(_) => ir
            .children()
            .iter()
            .all(|c| matches!(c.kind, IrKind::Lit(_))),
        _ => false,
    };
    if !foldable {
        return ir;
    }
    match interp::eval_constant(&ir) {
        Some(v) => Ir {
            kind: IrKind::Lit(v),
            ..ir
        },
        None => ir,
    }
}

// ---- sharing across rules ---------------------------------------------------------------

/// Nodes worth computing once: table lookups, history, aggregates and quantifiers.
fn worth_sharing(ir: &Ir) -> bool {
    matches!(
        ir.kind,
        IrKind::Lookup { .. }
            | IrKind::History(_)
            | IrKind::Agg { .. }
            | IrKind::Quant { .. }
            | IrKind::Let { .. }
    )
}

/// The variables a node reads that it does not bind itself.
fn free_vars(ir: &Ir, bound: &mut Vec<Var>, out: &mut Vec<Var>) {
    match &ir.kind {
        IrKind::Var(v) => {
            if !bound.contains(v) && !out.contains(v) {
                out.push(*v);
            }
        }
        IrKind::Quant {
            var, source, body, ..
        } => {
            free_vars(source, bound, out);
            bound.push(*var);
            free_vars(body, bound, out);
            bound.pop();
        }
        IrKind::Agg {
            var,
            source,
            filter,
            value,
            by,
            ..
        } => {
            free_vars(source, bound, out);
            bound.push(*var);
            let n = bound.len();
            for part in [filter, by, value].into_iter().flatten() {
                free_vars(part, bound, out);
            }
            bound.truncate(n - 1);
        }
        IrKind::Let { var, value, body } => {
            free_vars(value, bound, out);
            bound.push(*var);
            free_vars(body, bound, out);
            bound.pop();
        }
        IrKind::IsSome { value, bind } => {
            free_vars(value, bound, out);
            // A flow binding is visible to the rest of the enclosing chain: it stays bound.
            if let Some(v) = bind {
                bound.push(*v);
            }
        }
        _ => {
            for c in ir.children() {
                free_vars(c, bound, out);
            }
        }
    }
}

/// A key equal for expressions that compute the same thing: bound variables renamed in order.
fn canonical_key(ir: &Ir) -> String {
    let mut renamed = ir.clone();
    let mut map: HashMap<Var, Var> = HashMap::new();
    rename(&mut renamed, &mut map);
    show(&renamed)
}

fn rename(ir: &mut Ir, map: &mut HashMap<Var, Var>) {
    let binder = |v: &mut Var, map: &mut HashMap<Var, Var>| {
        let n = 1000 + map.len() as Var;
        map.insert(*v, n);
        *v = n;
    };
    match &mut ir.kind {
        IrKind::Var(v) => {
            if let Some(n) = map.get(v) {
                *v = *n;
            }
        }
        IrKind::Quant {
            var, source, body, ..
        } => {
            rename(source, map);
            binder(var, map);
            rename(body, map);
        }
        IrKind::Agg {
            var,
            source,
            filter,
            value,
            by,
            ..
        } => {
            rename(source, map);
            binder(var, map);
            for part in [filter, by, value].into_iter().flatten() {
                rename(part, map);
            }
        }
        IrKind::Let { var, value, body } => {
            rename(value, map);
            binder(var, map);
            rename(body, map);
        }
        IrKind::IsSome { value, bind } => {
            rename(value, map);
            if let Some(v) = bind {
                binder(v, map);
            }
        }
        _ => {
            for c in ir.children_mut() {
                rename(c, map);
            }
        }
    }
}

/// Where a candidate may be computed once, if anywhere.
fn shared_scope(ir: &Ir, list_slot: Option<usize>) -> Option<SharedScope> {
    if !worth_sharing(ir) {
        return None;
    }
    let mut free = Vec::new();
    free_vars(ir, &mut Vec::new(), &mut free);
    if free.iter().all(|v| *v == CLAIM) {
        Some(SharedScope::Claim)
    } else if free.iter().all(|v| *v == CLAIM || *v == LINE) {
        list_slot.map(SharedScope::Line)
    } else {
        None
    }
}

fn rule_exprs_mut(r: &mut RuleIr) -> Vec<&mut Ir> {
    let mut v: Vec<&mut Ir> = r.lets.iter_mut().map(|(_, e)| e).collect();
    v.push(&mut r.when);
    v.extend(r.amount.as_mut());
    for part in &mut r.message {
        if let MessagePart::Hole(h) = part {
            v.push(h);
        }
    }
    v
}

fn count_candidates(
    ir: &Ir,
    list_slot: Option<usize>,
    counts: &mut HashMap<(String, String), usize>,
) {
    if let Some(scope) = shared_scope(ir, list_slot) {
        *counts
            .entry((format!("{scope:?}"), canonical_key(ir)))
            .or_default() += 1;
    }
    for c in ir.children() {
        count_candidates(c, list_slot, counts);
    }
}

fn replace_shared(
    ir: &mut Ir,
    list_slot: Option<usize>,
    counts: &HashMap<(String, String), usize>,
    ids: &mut HashMap<(String, String), u32>,
    shared: &mut Vec<Shared>,
) {
    if let Some(scope) = shared_scope(ir, list_slot) {
        let key = (format!("{scope:?}"), canonical_key(ir));
        if counts.get(&key).copied().unwrap_or(0) >= 2 {
            let id = *ids.entry(key).or_insert_with(|| {
                shared.push(Shared {
                    scope,
                    expr: ir.clone(),
                    uses: 0,
                });
                (shared.len() - 1) as u32
            });
            if let Some(s) = shared.get_mut(id as usize) {
                s.uses += 1;
            }
            ir.kind = IrKind::Shared(id);
            return;
        }
    }
    for c in ir.children_mut() {
        replace_shared(c, list_slot, counts, ids, shared);
    }
}

/// Hoists what several rules (or one rule several times) compute over the same claim or line.
/// Provider rules are left alone: they range over groups of claims, not one claim.
fn share(p: &mut Program) {
    let mut counts = HashMap::new();
    for r in &mut p.rules {
        if r.scope == Scope::Provider {
            continue;
        }
        let slot = r.list_slot;
        for e in rule_exprs_mut(r) {
            count_candidates(e, slot, &mut counts);
        }
    }
    let mut ids = HashMap::new();
    let mut shared = Vec::new();
    for r in &mut p.rules {
        if r.scope == Scope::Provider {
            continue;
        }
        let slot = r.list_slot;
        for e in rule_exprs_mut(r) {
            replace_shared(e, slot, &counts, &mut ids, &mut shared);
        }
    }
    p.shared = shared;
}

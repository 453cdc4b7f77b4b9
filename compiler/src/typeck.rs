//! Types of expressions.
//!
//! Optionals must be handled before use: a value that may be absent can be tested (`is some(x)`,
//! `is none`), defaulted (`??`), navigated (`?.`), compared for equality (`==`, `in`: false when
//! absent) or used as a lookup key (the row is absent then). Everything else needs a present
//! value, so a rule never meets a null it did not plan for.
//!
//! `x is some(v)` binds `v` in the rest of its `and` chain; in a rule's `when`, also in its
//! `amount` and `message` (they are evaluated only when `when` holds).

use vigil_dsl::ast::{
    BinOp, CallArgs, Comprehension, Expr, ExprKind, Ident, InRhs, Pattern, Quantifier,
};
use vigil_dsl::Span;

use crate::builtins;
use crate::checker::{suggest, Checker, Context, GlobalKind};
use crate::diagnostic::Diagnostic;
use crate::model::Target;
use crate::types::Ty;

/// `YYYY-MM-DD` exactly: chrono alone also takes `2026-1-1` and ` 2026-01-01`.
fn date_shaped(s: &str) -> bool {
    s.len() == 10
        && s.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// A written type as the officer wrote it, for messages.
fn fmt_type(t: &vigil_dsl::ast::TypeExpr) -> String {
    use vigil_dsl::ast::TypeExprKind;
    match &t.kind {
        TypeExprKind::Named(id) => id.name.clone(),
        TypeExprKind::List(inner) => format!("[{}]", fmt_type(inner)),
        TypeExprKind::Optional(inner) => format!("{}?", fmt_type(inner)),
    }
}

/// Help text for an optional used where a present value is needed.
const OPTIONAL_HELP: &str =
    "handle the absent case first: `x ?? default`, `x is some(v) and …v…`, or `x?.field`";

impl<'a> Checker<'a> {
    /// Types an expression; bindings made inside it do not escape.
    pub(crate) fn check_expr(&mut self, e: &Expr) -> Ty {
        let mark = self.scope.len();
        let ty = self.check_flow(e);
        self.unbind_to(mark);
        ty
    }

    /// Types an expression and leaves the bindings of its `is some(v)` conjuncts in scope.
    pub(crate) fn check_flow(&mut self, e: &Expr) -> Ty {
        let ty = match &e.kind {
            ExprKind::Binary {
                op: BinOp::And,
                lhs,
                rhs,
            } => {
                let l = self.check_flow(lhs);
                let r = self.check_flow(rhs);
                self.want_bool(&l, lhs, "`and`");
                self.want_bool(&r, rhs, "`and`");
                Ty::Bool
            }
            ExprKind::Paren(inner) => self.check_flow(inner),
            ExprKind::Is { value, pattern } => {
                let vt = self.check_expr(value);
                if !vt.is_optional() && vt != Ty::Error {
                    self.report(
                        Diagnostic::warning(
                            "V0303",
                            format!("this {vt} is never absent"),
                            value.span,
                            "always present",
                        )
                        .with_help(
                            "the test is always the same: remove it, or use the value directly",
                        ),
                    );
                }
                if let Pattern::Some(Some(name)) = pattern {
                    self.bind(name, vt.unwrap_optional().clone(), false);
                }
                Ty::Bool
            }
            _ => self.check_inner(e),
        };
        self.book.types.push((e.span, ty.clone()));
        ty
    }

    pub(crate) fn want_bool(&mut self, t: &Ty, e: &Expr, what: &str) {
        match t {
            Ty::Bool | Ty::Error => {}
            Ty::Optional(inner) if **inner == Ty::Bool => self.report(
                Diagnostic::error(
                    "V0302",
                    format!("{what} needs a present bool; this may be absent"),
                    e.span,
                    "bool?",
                )
                .with_help("write `x == true` (false when absent) or `x ?? false`"),
            ),
            t => self.report(
                Diagnostic::error(
                    "V0306",
                    format!("{what} needs a condition, found {t}"),
                    e.span,
                    format!("this is {t}, not bool"),
                )
                .with_help("compare it to something: `==`, `>`, `in`, `is some`"),
            ),
        }
    }

    fn want_present(&mut self, t: &Ty, e: &Expr, what: &str) -> Ty {
        if let Ty::Optional(inner) = t {
            self.report(
                Diagnostic::error(
                    "V0302",
                    format!("{what} needs a value, but this {t} may be absent"),
                    e.span,
                    "may be absent",
                )
                .with_help(OPTIONAL_HELP),
            );
            return (**inner).clone();
        }
        t.clone()
    }

    fn check_inner(&mut self, e: &Expr) -> Ty {
        match &e.kind {
            ExprKind::Number(text) => self.number(text, e.span),
            ExprKind::Str(_) => Ty::Text,
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Name(id) => self.name(id),
            ExprKind::Paren(inner) => self.check_expr(inner),
            ExprKind::Field {
                base,
                name,
                optional,
            } => self.field(base, name, *optional),
            ExprKind::Index { base, keys, at } => self.lookup(e, base, keys, at.as_deref()),
            ExprKind::Call { name, args } => self.call(e, name, args),
            ExprKind::List(items) => {
                self.current_span = e.span;
                self.list(items)
            }
            ExprKind::Neg(inner) => {
                let t = self.check_expr(inner);
                let t = self.want_present(&t, inner, "`-`");
                if !t.is_numeric() {
                    self.report(Diagnostic::error(
                        "V0321",
                        format!("cannot negate {t}"),
                        inner.span,
                        format!("this is {t}"),
                    ));
                    return Ty::Error;
                }
                t
            }
            ExprKind::Not(inner) => {
                let t = self.check_expr(inner);
                self.want_bool(&t, inner, "`not`");
                Ty::Bool
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(e, *op, lhs, rhs),
            ExprKind::In {
                value,
                negated,
                rhs,
            } => self.membership(value, *negated, rhs),
            ExprKind::Is { .. } => self.check_flow(e),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                let mark = self.scope.len();
                let ct = self.check_flow(cond);
                self.want_bool(&ct, cond, "`if`");
                // The condition's `is some(v)` bindings hold in the then-branch only.
                let tt = self.check_expr(then);
                self.unbind_to(mark);
                let et = self.check_expr(otherwise);
                match tt.join(&et) {
                    Some(t) => t,
                    None => {
                        self.report(
                            Diagnostic::error(
                                "V0301",
                                format!("the branches of `if` differ: {tt} and {et}"),
                                e.span,
                                "branches of two types",
                            )
                            .with_label(then.span, format!("this is {tt}"))
                            .with_label(otherwise.span, format!("this is {et}"))
                            .with_help("both branches must give the same type"),
                        );
                        Ty::Error
                    }
                }
            }
            ExprKind::Quant {
                q,
                binder,
                source,
                body,
            } => {
                let elem = self.iterate(source);
                let mark = self.scope.len();
                self.bind(binder, elem, false);
                let bt = self.check_flow(body);
                let what = if *q == Quantifier::Exists {
                    "`exists … where`"
                } else {
                    "`all … where`"
                };
                self.want_bool(&bt, body, what);
                self.unbind_to(mark);
                Ty::Bool
            }
        }
    }

    fn number(&mut self, text: &str, span: Span) -> Ty {
        if text.contains('.') {
            if rust_decimal::Decimal::from_str_exact(text).is_err() {
                self.report(
                    Diagnostic::error(
                        "V0323",
                        format!("number `{text}` has too many digits"),
                        span,
                        "not an exact decimal",
                    )
                    .with_help("a decimal holds at most 28 significant digits"),
                );
                return Ty::Error;
            }
            Ty::Decimal
        } else {
            if text.parse::<i64>().is_err() {
                self.report(
                    Diagnostic::error(
                        "V0323",
                        format!("number `{text}` is too large"),
                        span,
                        "beyond the range of int",
                    )
                    .with_help(
                        "an int is at most 9223372036854775807; write larger amounts as decimals",
                    ),
                );
                return Ty::Error;
            }
            Ty::Int
        }
    }

    fn name(&mut self, id: &Ident) -> Ty {
        if let Some((ty, def)) = self.lookup_local(&id.name) {
            self.refer(
                id.span,
                Target::Local {
                    name: id.name.clone(),
                    def,
                },
            );
            return ty;
        }
        if id.name == "claim" || id.name == "line" {
            let help = match self.context {
                Context::Const => "a constant cannot depend on claim data".to_string(),
                Context::Def => format!("a def sees only its parameters: pass the {} in, `def f(c: claim, l: fee_line) = …`", id.name),
                Context::Rule if id.name == "line" => "bind the lines first: `for line in claim.fee_list`".to_string(),
                Context::Rule => "a provider rule ranges over `claims` and `previous_claims`; `claim` is bound only in its `of` and `where`".to_string(),
            };
            self.report(
                Diagnostic::error(
                    "V0201",
                    format!("`{}` is not available here", id.name),
                    id.span,
                    "not bound here",
                )
                .with_help(help),
            );
            return Ty::Error;
        }
        match self.globals.get(&id.name).map(|(k, _)| *k) {
            Some(GlobalKind::Const) => {
                if self.context == Context::Const
                    || self.context == Context::Def
                    || self.context == Context::Rule
                {
                    self.used_globals.insert(id.name.clone());
                }
                self.refer(id.span, Target::Const(id.name.clone()));
                return self.const_type(&id.name);
            }
            Some(GlobalKind::Table) => {
                self.refer(id.span, Target::Table(id.name.clone()));
                self.report(
                    Diagnostic::error("V0317", format!("table `{}` is not a value", id.name), id.span, "a table")
                        .with_help(format!("look a row up with `{}[key at date]`, or iterate its rows: `exists r in {} where …`", id.name, id.name)),
                );
                return Ty::Error;
            }
            Some(GlobalKind::Def) => {
                self.used_globals.insert(id.name.clone());
                self.report(
                    Diagnostic::error(
                        "V0304",
                        format!("`{}` is a function", id.name),
                        id.span,
                        "not called",
                    )
                    .with_help(format!("call it: `{}(…)`", id.name)),
                );
                return Ty::Error;
            }
            Some(GlobalKind::Enum) => {
                let example = self
                    .book
                    .enums
                    .get(&id.name)
                    .and_then(|e| e.variants.first())
                    .map(|v| v.name.clone())
                    .unwrap_or_default();
                self.report(
                    Diagnostic::error(
                        "V0301",
                        format!("`{}` is a code set, not a value", id.name),
                        id.span,
                        "a code set",
                    )
                    .with_help(format!(
                        "name one of its codes: `{}.{example}` or `{example}`",
                        id.name
                    )),
                );
                return Ty::Error;
            }
            Some(GlobalKind::Schema) => {
                self.report(
                    Diagnostic::error("V0201", format!("`{}` is a schema record, not a value", id.name), id.span, "a type")
                        .with_help("the claim being checked is `claim`; its lines come from `for line in claim.fee_list`"),
                );
                return Ty::Error;
            }
            None => {}
        }
        if let Some(enums) = self.variants.get(&id.name).cloned() {
            if enums.len() == 1 {
                self.refer(
                    id.span,
                    Target::Variant {
                        enum_name: enums[0].clone(),
                        variant: id.name.clone(),
                    },
                );
                return Ty::Enum(enums[0].clone());
            }
            let options = enums
                .iter()
                .map(|e| format!("`{e}.{}`", id.name))
                .collect::<Vec<_>>()
                .join(" or ");
            self.report(
                Diagnostic::error(
                    "V0206",
                    format!("`{}` names a code in more than one code set", id.name),
                    id.span,
                    "ambiguous code",
                )
                .with_help(format!("say which: {options}")),
            );
            return Ty::Error;
        }
        let candidates = self.visible_names();
        let mut d = Diagnostic::error(
            "V0201",
            format!("unknown name `{}`", id.name),
            id.span,
            "not defined here",
        );
        if let Some(s) = suggest(&id.name, candidates.iter().map(|s| s.as_str())) {
            d = d.with_help(format!("did you mean `{s}`?"));
        }
        self.report(d);
        Ty::Error
    }

    fn field(&mut self, base: &Expr, name: &Ident, optional: bool) -> Ty {
        // `med_type.inpatient`: a code named through its code set.
        if let ExprKind::Name(b) = &base.kind {
            let is_local = self.scope.iter().any(|l| l.name == b.name);
            if !is_local && matches!(self.globals.get(&b.name), Some((GlobalKind::Enum, _))) {
                self.refer(b.span, Target::Enum(b.name.clone()));
                let variants: Vec<String> = self
                    .book
                    .enums
                    .get(&b.name)
                    .map(|e| e.variants.iter().map(|v| v.name.clone()).collect())
                    .unwrap_or_default();
                if variants.contains(&name.name) {
                    self.refer(
                        name.span,
                        Target::Variant {
                            enum_name: b.name.clone(),
                            variant: name.name.clone(),
                        },
                    );
                    return Ty::Enum(b.name.clone());
                }
                let mut d = Diagnostic::error(
                    "V0207",
                    format!("`{}` has no code named `{}`", b.name, name.name),
                    name.span,
                    "unknown code",
                );
                d = match suggest(&name.name, variants.iter().map(|s| s.as_str())) {
                    Some(s) => d.with_help(format!("did you mean `{}.{s}`?", b.name)),
                    None => d.with_help(format!(
                        "the codes of `{}` are: {}",
                        b.name,
                        variants.join(", ")
                    )),
                };
                self.report(d);
                return Ty::Error;
            }
        }
        let bt = self.check_expr(base);
        let inner = match (&bt, optional) {
            (Ty::Error, _) => return Ty::Error,
            (Ty::Optional(inner), true) => (**inner).clone(),
            (Ty::Optional(_), false) => {
                self.report(
                    Diagnostic::error(
                        "V0302",
                        format!("`.{}` on a value that may be absent ({bt})", name.name),
                        base.span,
                        "may be absent",
                    )
                    .with_help(format!(
                        "write `?.{}` to get an optional result, or {OPTIONAL_HELP}",
                        name.name
                    )),
                );
                bt.unwrap_optional().clone()
            }
            (t, true) => {
                self.report(
                    Diagnostic::warning(
                        "V0303",
                        format!("this {t} is never absent"),
                        base.span,
                        "always present",
                    )
                    .with_help(format!("write `.{}`", name.name)),
                );
                t.clone()
            }
            (t, false) => t.clone(),
        };
        let ft = self.member(&inner, name);
        if optional {
            ft.optional()
        } else {
            ft
        }
    }

    /// The type of `value.name` for a present value.
    fn member(&mut self, t: &Ty, name: &Ident) -> Ty {
        let (candidates, found): (Vec<String>, Option<Ty>) = match t {
            Ty::Record(r) => {
                let Some(rec) = self.book.records.get(r) else {
                    return Ty::Error;
                };
                let f = rec.field(&name.name).map(|f| f.ty.clone());
                let names = rec.fields.iter().map(|f| f.name.clone()).collect();
                if f.is_some() {
                    self.refer(
                        name.span,
                        Target::Field {
                            record: r.clone(),
                            field: name.name.clone(),
                        },
                    );
                }
                (names, f)
            }
            Ty::Row(tname) => {
                let Some(tab) = self.book.tables.get(tname) else {
                    return Ty::Error;
                };
                let c = tab.column(&name.name).map(|c| c.ty.clone());
                let names = tab.columns.iter().map(|c| c.name.clone()).collect();
                if c.is_some() {
                    self.refer(
                        name.span,
                        Target::Column {
                            table: tname.clone(),
                            column: name.name.clone(),
                        },
                    );
                }
                (names, c)
            }
            Ty::Group(k, v) => {
                let f = match name.name.as_str() {
                    "key" => Some((**k).clone()),
                    "items" => Some(Ty::List(v.clone())),
                    _ => None,
                };
                if f.is_some() {
                    self.refer(name.span, Target::Property(name.name.clone()));
                }
                (vec!["key".into(), "items".into()], f)
            }
            Ty::List(_) => {
                self.report(
                    Diagnostic::error("V0202", format!("a list has no field `{}`", name.name), name.span, "field of a list")
                        .with_help("look inside it with `exists x in list where …`, `count(x in list where …)` or `sum(e for x in list)`"),
                );
                return Ty::Error;
            }
            other => {
                let on = match other {
                    Ty::DateTime => "datetime",
                    Ty::Date => "date",
                    Ty::Month => "month",
                    Ty::Text | Ty::Code => "text",
                    Ty::Enum(_) => "enum",
                    _ => "",
                };
                let props: Vec<&builtins::Property> =
                    builtins::PROPERTIES.iter().filter(|p| p.on == on).collect();
                let found = props
                    .iter()
                    .find(|p| p.name == name.name)
                    .map(|p| match p.ty {
                        "date" => Ty::Date,
                        "int" => Ty::Int,
                        "month" => Ty::Month,
                        "text" => Ty::Text,
                        _ => Ty::Code,
                    });
                if found.is_some() {
                    self.refer(name.span, Target::Property(name.name.clone()));
                }
                (props.iter().map(|p| p.name.to_string()).collect(), found)
            }
        };
        if let Some(t) = found {
            return t;
        }
        let mut d = Diagnostic::error(
            "V0202",
            format!("unknown field `{}` on {t}", name.name),
            name.span,
            format!("not a field of {t}"),
        );
        d = match suggest(&name.name, candidates.iter().map(|s| s.as_str())) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None if candidates.is_empty() => d.with_help(format!("a {t} has no fields")),
            None => d.with_help(format!("the fields of {t} are: {}", candidates.join(", "))),
        };
        self.report(d);
        Ty::Error
    }

    fn lookup(&mut self, e: &Expr, base: &Expr, keys: &[Expr], at: Option<&Expr>) -> Ty {
        let table = match &base.kind {
            ExprKind::Name(id)
                if matches!(self.globals.get(&id.name), Some((GlobalKind::Table, _))) =>
            {
                self.refer(id.span, Target::Table(id.name.clone()));
                self.reads_data = true;
                if self.context == Context::Const {
                    self.report(
                        Diagnostic::error(
                            "V0316",
                            "a constant cannot read a table",
                            e.span,
                            "table lookup in a constant",
                        )
                        .with_help("constants are fixed values; look the table up inside the rule"),
                    );
                }
                id.name.clone()
            }
            _ => {
                let bt = self.check_expr(base);
                if bt != Ty::Error {
                    self.report(
                        Diagnostic::error(
                            "V0317",
                            format!("only a table can be looked up with `[…]`; this is {bt}"),
                            base.span,
                            "not a table",
                        )
                        .with_help("lists are searched with `exists x in list where …`"),
                    );
                }
                for k in keys {
                    self.check_expr(k);
                }
                if let Some(a) = at {
                    self.check_expr(a);
                }
                return Ty::Error;
            }
        };
        let Some(tab) = self.book.tables.get(&table).cloned() else {
            for k in keys {
                self.check_expr(k);
            }
            return Ty::Error;
        };
        if keys.len() != tab.key.len() {
            self.report(
                Diagnostic::error(
                    "V0308",
                    format!(
                        "`{}` is keyed by {} column(s), {}; {} given",
                        table,
                        tab.key.len(),
                        tab.key.join(", "),
                        keys.len()
                    ),
                    e.span,
                    "wrong number of keys",
                )
                .with_help(format!(
                    "write `{}[{}{}]`",
                    table,
                    tab.key.join(", "),
                    if tab.valid.is_some() { " at date" } else { "" }
                )),
            );
        }
        for (k, col) in keys.iter().zip(tab.key.iter()) {
            let kt = self.check_expr(k);
            let want = tab.column(col).map(|c| c.ty.clone()).unwrap_or(Ty::Error);
            if !kt.unwrap_optional().fits(&want) && !kt.comparable(&want) {
                self.report(Diagnostic::error(
                    "V0308",
                    format!("key `{col}` of `{table}` is {want}, this is {kt}"),
                    k.span,
                    format!("this is {kt}"),
                ));
            }
        }
        for k in keys.iter().skip(tab.key.len()) {
            self.check_expr(k);
        }
        match (at, &tab.valid) {
            (Some(a), Some(_)) => {
                let at_t = self.check_expr(a);
                if !matches!(at_t.unwrap_optional(), Ty::Date | Ty::DateTime | Ty::Error) {
                    self.report(
                        Diagnostic::error(
                            "V0309",
                            format!("a lookup is at a date; this is {at_t}"),
                            a.span,
                            format!("this is {at_t}"),
                        )
                        .with_help("use the event's date, e.g. `line.fee_ocur_time?.date`"),
                    );
                }
            }
            (None, Some((b, en))) => self.report(
                Diagnostic::error(
                    "V0309",
                    format!("`{table}` has validity dates ({b}..{en}): say at which date to look"),
                    e.span,
                    "no `at` date",
                )
                .with_help(format!(
                    "write `{table}[{} at <date>]`, the date of the event the row must be valid on",
                    tab.key.join(", ")
                )),
            ),
            (Some(a), None) => {
                self.check_expr(a);
                self.report(
                    Diagnostic::error(
                        "V0309",
                        format!("`{table}` has no validity dates; `at` has nothing to choose"),
                        a.span,
                        "unneeded `at`",
                    )
                    .with_help(format!(
                        "write `{table}[{}]`, or declare `valid begn_date..end_date` on the table",
                        tab.key.join(", ")
                    )),
                );
            }
            (None, None) => {}
        }
        Ty::Row(table).optional()
    }

    /// The element type of something iterated (`exists x in …`, `count(x in …)`, `for`).
    pub(crate) fn iterate(&mut self, source: &Expr) -> Ty {
        if let ExprKind::Name(id) = &source.kind {
            let is_local = self.scope.iter().any(|l| l.name == id.name);
            if !is_local && matches!(self.globals.get(&id.name), Some((GlobalKind::Table, _))) {
                self.refer(id.span, Target::Table(id.name.clone()));
                self.book
                    .types
                    .push((source.span, Ty::List(Box::new(Ty::Row(id.name.clone())))));
                self.reads_data = true;
                if self.context == Context::Const {
                    self.report(Diagnostic::error(
                        "V0316",
                        "a constant cannot read a table",
                        source.span,
                        "table in a constant",
                    ));
                }
                return Ty::Row(id.name.clone());
            }
        }
        let t = self.check_expr(source);
        match t {
            Ty::List(elem) => *elem,
            Ty::Error => Ty::Error,
            Ty::Optional(inner) if matches!(*inner, Ty::List(_)) => {
                self.report(
                    Diagnostic::error(
                        "V0302",
                        "this list may be absent",
                        source.span,
                        "may be absent",
                    )
                    .with_help(OPTIONAL_HELP),
                );
                match *inner {
                    Ty::List(elem) => *elem,
                    _ => Ty::Error,
                }
            }
            other => {
                self.report(
                    Diagnostic::error("V0310", format!("cannot iterate over {other}"), source.span, format!("this is {other}, not a list"))
                        .with_help("iterate over a list field such as `claim.fee_list`, `history(claim.psn_no)` or a table"),
                );
                Ty::Error
            }
        }
    }

    fn list(&mut self, items: &[Expr]) -> Ty {
        if items.is_empty() {
            // An element type of `Error` would let every use of the list pass unchecked.
            self.report(
                Diagnostic::error("V0301", "an empty list has no element type", self.current_span, "empty list")
                    .with_help("write its elements, or declare a constant's type: `const NONE_YET: [code] = []`"),
            );
            return Ty::List(Box::new(Ty::Error));
        }
        let mut elem: Option<Ty> = None;
        for it in items {
            let t = self.check_expr(it);
            elem = Some(match elem {
                None => t,
                Some(prev) => match prev.join(&t) {
                    Some(j) => j,
                    None => {
                        self.report(
                            Diagnostic::error(
                                "V0301",
                                format!("a list holds one type: {prev} and {t} mix here"),
                                it.span,
                                format!("this is {t}"),
                            )
                            .with_help("make every element the same type"),
                        );
                        prev
                    }
                },
            });
        }
        Ty::List(Box::new(elem.unwrap_or(Ty::Error)))
    }

    fn binary(&mut self, e: &Expr, op: BinOp, lhs: &Expr, rhs: &Expr) -> Ty {
        match op {
            BinOp::And => self.check_flow(e),
            BinOp::Or => {
                let l = self.check_expr(lhs);
                let r = self.check_expr(rhs);
                self.want_bool(&l, lhs, "`or`");
                self.want_bool(&r, rhs, "`or`");
                Ty::Bool
            }
            BinOp::Eq | BinOp::Ne => {
                let l = self.check_expr(lhs);
                let r = self.check_expr(rhs);
                if !l.comparable(&r) {
                    self.report(Diagnostic::error(
                        "V0301",
                        format!("cannot compare {l} with {r}"),
                        e.span,
                        format!("{l} {} {r}", op.as_str()),
                    ));
                } else {
                    self.check_code_literal(&l, rhs);
                    self.check_code_literal(&r, lhs);
                }
                if op == BinOp::Ne {
                    for (t, side) in [(&l, lhs), (&r, rhs)] {
                        if t.is_optional() {
                            self.report(
                                Diagnostic::error("V0302", format!("`!=` on a value that may be absent ({t})"), side.span, "may be absent")
                                    .with_help("say what absence means: `x is some(v) and v != …` (absent does not differ), or `not (x == …)` (absent differs)"),
                            );
                        }
                    }
                }
                Ty::Bool
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let l = self.check_expr(lhs);
                let r = self.check_expr(rhs);
                let l = self.want_present(&l, lhs, &format!("`{}`", op.as_str()));
                let r = self.want_present(&r, rhs, &format!("`{}`", op.as_str()));
                if !l.is_ordered() || !r.is_ordered() {
                    let bad = if l.is_ordered() { (&r, rhs) } else { (&l, lhs) };
                    self.report(
                        Diagnostic::error("V0313", format!("{} values have no order", bad.0), bad.1.span, format!("this is {}", bad.0))
                            .with_help("`<`, `<=`, `>`, `>=` compare numbers, dates, date-times, months and text"),
                    );
                } else if !(l.is_numeric() && r.is_numeric()
                    || l.is_textual() && r.is_textual()
                    || l == r)
                {
                    self.report(Diagnostic::error(
                        "V0301",
                        format!("cannot compare {l} with {r}"),
                        e.span,
                        format!("{l} {} {r}", op.as_str()),
                    ));
                }
                Ty::Bool
            }
            BinOp::Coalesce => {
                let l = self.check_expr(lhs);
                let r = self.check_expr(rhs);
                if !l.is_optional() && l != Ty::Error {
                    self.report(
                        Diagnostic::warning(
                            "V0303",
                            format!("this {l} is never absent"),
                            lhs.span,
                            "always present",
                        )
                        .with_help("the default is never used: remove `?? …`"),
                    );
                }
                match l.unwrap_optional().join(&r) {
                    Some(Ty::Optional(t)) if !r.is_optional() => *t,
                    Some(t) => t,
                    None => {
                        self.report(
                            Diagnostic::error(
                                "V0301",
                                format!(
                                    "the default is {r}, but the value is {}",
                                    l.unwrap_optional()
                                ),
                                rhs.span,
                                format!("this is {r}"),
                            )
                            .with_label(lhs.span, format!("this is {l}")),
                        );
                        Ty::Error
                    }
                }
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                let l = self.check_expr(lhs);
                let r = self.check_expr(rhs);
                let what = format!("`{}`", op.as_str());
                let l = self.want_present(&l, lhs, &what);
                let r = self.want_present(&r, rhs, &what);
                if op == BinOp::Div {
                    if let ExprKind::Number(n) = &rhs.kind {
                        if n.parse::<rust_decimal::Decimal>()
                            .is_ok_and(|d| d.is_zero())
                        {
                            self.report(
                                Diagnostic::error(
                                    "V0314",
                                    "division by zero",
                                    rhs.span,
                                    "always zero",
                                )
                                .with_help(
                                    "divide by a value that cannot be zero, or test it first",
                                ),
                            );
                        }
                    }
                }
                match (op, &l, &r) {
                    (_, Ty::Error, _) | (_, _, Ty::Error) => Ty::Error,
                    (BinOp::Div, a, b) if a.is_numeric() && b.is_numeric() => Ty::Decimal,
                    (_, Ty::Int, Ty::Int) => Ty::Int,
                    (_, a, b) if a.is_numeric() && b.is_numeric() => Ty::Decimal,
                    (BinOp::Add, Ty::Date, Ty::Int)
                    | (BinOp::Add, Ty::Int, Ty::Date)
                    | (BinOp::Sub, Ty::Date, Ty::Int) => Ty::Date,
                    (BinOp::Sub, Ty::Date, Ty::Date) => Ty::Int,
                    _ => {
                        let help = match (&l, &r) {
                            (Ty::DateTime, _) | (_, Ty::DateTime) => "take the date first: `t.date`; then `date ± int` and `date - date` (days) work",
                            (a, b) if a.is_textual() || b.is_textual() => "text is not arithmetic; to show values together, use a message template: \"{a} {b}\"",
                            _ => "arithmetic works on int and decimal; dates take `date ± int` and `date - date`",
                        };
                        self.report(
                            Diagnostic::error(
                                "V0321",
                                format!("cannot apply `{}` to {l} and {r}", op.as_str()),
                                e.span,
                                format!("{l} {} {r}", op.as_str()),
                            )
                            .with_help(help),
                        );
                        Ty::Error
                    }
                }
            }
        }
    }

    /// A string literal compared with a code set must be one of its codes.
    fn check_code_literal(&mut self, t: &Ty, other: &Expr) {
        let Ty::Enum(name) = t.unwrap_optional() else {
            return;
        };
        let literals: Vec<(&str, Span)> = match &other.kind {
            ExprKind::Str(s) => vec![(s.as_str(), other.span)],
            ExprKind::List(items) => items
                .iter()
                .filter_map(|i| match &i.kind {
                    ExprKind::Str(s) => Some((s.as_str(), i.span)),
                    _ => None,
                })
                .collect(),
            _ => return,
        };
        let Some(en) = self.book.enums.get(name) else {
            return;
        };
        let codes: Vec<String> = en
            .variants
            .iter()
            .map(|v| format!("\"{}\" ({})", v.code, v.name))
            .collect();
        let mut bad = Vec::new();
        for (lit, span) in literals {
            match en.variants.iter().find(|v| v.code == lit) {
                Some(_) => {}
                None => bad.push((lit.to_string(), span)),
            }
        }
        for (lit, span) in bad {
            self.report(
                Diagnostic::error(
                    "V0320",
                    format!("\"{lit}\" is not a code of `{name}`"),
                    span,
                    "unknown code",
                )
                .with_help(format!(
                    "the codes of `{name}` are {}; declare a new code in the `enum` first",
                    codes.join(", ")
                )),
            );
        }
    }

    fn membership(&mut self, value: &Expr, negated: bool, rhs: &InRhs) -> Ty {
        let vt = self.check_expr(value);
        match rhs {
            InRhs::Set(set) => {
                let st = self.check_expr(set);
                match &st {
                    Ty::List(elem) => {
                        if !vt.comparable(elem) && **elem != Ty::Error {
                            self.report(
                                Diagnostic::error(
                                    "V0301",
                                    format!("cannot look for {vt} in a list of {elem}"),
                                    value.span,
                                    format!("this is {vt}"),
                                )
                                .with_label(set.span, format!("this is [{elem}]")),
                            );
                        } else {
                            self.check_code_literal(&vt, set);
                        }
                    }
                    Ty::Error => {}
                    Ty::Optional(inner) if matches!(**inner, Ty::List(_)) => self.report(
                        Diagnostic::error(
                            "V0302",
                            "this list may be absent",
                            set.span,
                            "may be absent",
                        )
                        .with_help(OPTIONAL_HELP),
                    ),
                    other => self.report(
                        Diagnostic::error(
                            "V0310",
                            format!("`in` needs a list or a range, found {other}"),
                            set.span,
                            format!("this is {other}"),
                        )
                        .with_help("write `x in [a, b]` or `x in lo..=hi`"),
                    ),
                }
            }
            InRhs::Range { lo, hi, .. } => {
                let lt = self.check_expr(lo);
                let ht = self.check_expr(hi);
                let lt = self.want_present(&lt, lo, "a range bound");
                let ht = self.want_present(&ht, hi, "a range bound");
                for (t, side) in [(&lt, lo), (&ht, hi)] {
                    let v = vt.unwrap_optional();
                    let ok = t.is_ordered()
                        && ((v.is_numeric() && t.is_numeric() || v.is_textual() && t.is_textual())
                            || v == t
                            || *v == Ty::Error
                            || *t == Ty::Error);
                    if !ok {
                        self.report(
                            Diagnostic::error(
                                "V0301",
                                format!("a range of {t} cannot hold {v}"),
                                side.span,
                                format!("this is {t}"),
                            )
                            .with_label(value.span, format!("this is {v}")),
                        );
                    }
                }
            }
        }
        if negated && vt.is_optional() {
            self.report(
                Diagnostic::error("V0302", format!("`not in` on a value that may be absent ({vt})"), value.span, "may be absent")
                    .with_help("say what absence means: `x is some(v) and v not in …`, or `not (x in …)` (absent is not in)"),
            );
        }
        Ty::Bool
    }

    fn call(&mut self, e: &Expr, name: &Ident, args: &CallArgs) -> Ty {
        if matches!(self.globals.get(&name.name), Some((GlobalKind::Def, _))) {
            return self.call_def(e, name, args);
        }
        let Some(_) = builtins::function(&name.name) else {
            let mut names: Vec<String> = builtins::FUNCTIONS
                .iter()
                .map(|b| b.name.to_string())
                .collect();
            names.extend(self.def_decls.keys().cloned());
            let mut d = Diagnostic::error(
                "V0205",
                format!("unknown function `{}`", name.name),
                name.span,
                "not a function",
            );
            d = match suggest(&name.name, names.iter().map(|s| s.as_str())) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(
                    "declare it with `def`, or see the built-in functions in docs/language.md",
                ),
            };
            self.report(d);
            self.check_args_anyway(args);
            return Ty::Error;
        };
        self.refer(name.span, Target::Builtin(name.name.clone()));
        match args {
            CallArgs::Comprehension(c) if builtins::is_aggregate(&name.name) => {
                self.aggregate(e, name, c)
            }
            CallArgs::Comprehension(c) => {
                self.report(
                    Diagnostic::error(
                        "V0318",
                        format!("`{}` does not take `x in list`", name.name),
                        c.binder.span,
                        "comprehension given",
                    )
                    .with_help(format!(
                        "`{}`",
                        builtins::function(&name.name)
                            .map(|b| b.signature)
                            .unwrap_or("")
                    )),
                );
                self.check_args_anyway(args);
                Ty::Error
            }
            CallArgs::Exprs(list) => self.builtin_call(e, name, list),
        }
    }

    fn check_args_anyway(&mut self, args: &CallArgs) {
        match args {
            CallArgs::Exprs(list) => {
                for a in list {
                    self.check_expr(a);
                }
            }
            CallArgs::Comprehension(c) => {
                self.iterate(&c.source);
            }
        }
    }

    fn arity(&mut self, e: &Expr, name: &Ident, list: &[Expr], n: usize) -> bool {
        if list.len() == n {
            return true;
        }
        let sig = builtins::function(&name.name)
            .map(|b| b.signature)
            .unwrap_or("");
        self.report(
            Diagnostic::error(
                "V0304",
                format!(
                    "`{}` takes {n} argument(s), {} given",
                    name.name,
                    list.len()
                ),
                e.span,
                "wrong number of arguments",
            )
            .with_help(format!("`{sig}`")),
        );
        for a in list {
            self.check_expr(a);
        }
        false
    }

    fn arg(&mut self, name: &Ident, a: &Expr, want: &Ty, what: &str) -> Ty {
        let t = self.check_expr(a);
        if let Ty::Optional(_) = t {
            if !want.is_optional() {
                self.report(
                    Diagnostic::error(
                        "V0302",
                        format!(
                            "`{}` needs a present {what}; this {t} may be absent",
                            name.name
                        ),
                        a.span,
                        "may be absent",
                    )
                    .with_help(OPTIONAL_HELP),
                );
                return t.unwrap_optional().clone();
            }
        }
        if !t.fits(want) {
            self.report(
                Diagnostic::error(
                    "V0305",
                    format!("`{}` takes {what}, found {t}", name.name),
                    a.span,
                    format!("this is {t}"),
                )
                .with_help(format!(
                    "`{}`",
                    builtins::function(&name.name)
                        .map(|b| b.signature)
                        .unwrap_or("")
                )),
            );
        }
        t
    }

    fn builtin_call(&mut self, e: &Expr, name: &Ident, list: &[Expr]) -> Ty {
        match name.name.as_str() {
            "days_between" | "age" => {
                if !self.arity(e, name, list, 2) {
                    return Ty::Int;
                }
                let what = if name.name == "age" {
                    ["a birth date", "a date"]
                } else {
                    ["a date", "a date"]
                };
                self.arg(name, &list[0], &Ty::Date, what[0]);
                self.arg(name, &list[1], &Ty::Date, what[1]);
                Ty::Int
            }
            "starts_with" | "sorts_before" => {
                if !self.arity(e, name, list, 2) {
                    return Ty::Bool;
                }
                self.arg(name, &list[0], &Ty::Text, "text");
                self.arg(name, &list[1], &Ty::Text, "text");
                Ty::Bool
            }
            "history" => {
                if !self.arity(e, name, list, 1) {
                    return Ty::List(Box::new(Ty::Record("claim".into())));
                }
                self.arg(name, &list[0], &Ty::Text, "a patient number (psn_no)");
                self.reads_data = true;
                if self.context == Context::Const {
                    self.report(Diagnostic::error(
                        "V0316",
                        "a constant cannot read claim history",
                        e.span,
                        "history in a constant",
                    ));
                }
                Ty::List(Box::new(Ty::Record("claim".into())))
            }
            "date" => {
                if !self.arity(e, name, list, 1) {
                    return Ty::Date;
                }
                match &list[0].kind {
                    ExprKind::Str(s)
                        if date_shaped(s)
                            && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => {}
                    ExprKind::Str(s) => {
                        let what = if date_shaped(s) {
                            "is not a calendar date"
                        } else {
                            "is not written as YYYY-MM-DD"
                        };
                        self.report(
                            Diagnostic::error("V0322", format!("\"{s}\" {what}"), list[0].span, "not a valid date")
                                .with_help("write an existing date as \"YYYY-MM-DD\", e.g. `date(\"2026-02-28\")`"),
                        );
                    }
                    _ => {
                        self.check_expr(&list[0]);
                        self.report(
                            Diagnostic::error(
                                "V0322",
                                "`date` takes a date written as \"YYYY-MM-DD\"",
                                list[0].span,
                                "not a fixed date",
                            )
                            .with_help("e.g. `date(\"2026-01-01\")`"),
                        );
                    }
                }
                Ty::Date
            }
            "abs" => {
                if !self.arity(e, name, list, 1) {
                    return Ty::Error;
                }
                let t = self.arg(name, &list[0], &Ty::Decimal, "a number");
                if t.is_numeric() {
                    t
                } else {
                    Ty::Error
                }
            }
            "round" => {
                if !self.arity(e, name, list, 2) {
                    return Ty::Decimal;
                }
                self.arg(name, &list[0], &Ty::Decimal, "a number");
                match &list[1].kind {
                    ExprKind::Number(n) if n.parse::<u32>().is_ok_and(|p| p <= 10) => {}
                    _ => {
                        self.check_expr(&list[1]);
                        self.report(
                            Diagnostic::error(
                                "V0305",
                                "`round` takes a fixed number of places, 0 to 10",
                                list[1].span,
                                "not a fixed small int",
                            )
                            .with_help("e.g. `round(x, 2)`"),
                        );
                    }
                }
                Ty::Decimal
            }
            "min" | "max" if list.len() == 2 => {
                let a = self.check_expr(&list[0]);
                let b = self.check_expr(&list[1]);
                let a = self.want_present(&a, &list[0], &format!("`{}`", name.name));
                let b = self.want_present(&b, &list[1], &format!("`{}`", name.name));
                match a.join(&b) {
                    Some(t) if t.is_ordered() => t,
                    _ => {
                        self.report(Diagnostic::error(
                            "V0305",
                            format!(
                                "`{}` compares two values of one ordered type; found {a} and {b}",
                                name.name
                            ),
                            e.span,
                            "mixed types",
                        ));
                        Ty::Error
                    }
                }
            }
            "count" | "sum" | "min" | "max" | "first" | "last" | "distinct" => {
                if !self.arity(e, name, list, 1) {
                    return Ty::Error;
                }
                let elem = self.iterate(&list[0]);
                self.aggregate_result(e, name, &elem, &list[0])
            }
            "groups" => {
                self.report(
                    Diagnostic::error(
                        "V0318",
                        "`groups` takes `x in list by key`",
                        e.span,
                        "no `by` key",
                    )
                    .with_help("e.g. `groups(l in claim.fee_list by l.rx_drord_no)`"),
                );
                for a in list {
                    self.check_expr(a);
                }
                Ty::Error
            }
            _ => Ty::Error,
        }
    }

    fn aggregate_result(&mut self, e: &Expr, name: &Ident, elem: &Ty, at: &Expr) -> Ty {
        match name.name.as_str() {
            "count" => Ty::Int,
            "sum" => {
                let t = self.want_present(elem, at, "`sum`");
                match t {
                    Ty::Int => Ty::Int,
                    Ty::Decimal | Ty::Error => Ty::Decimal,
                    other => {
                        self.report(Diagnostic::error(
                            "V0305",
                            format!("`sum` adds numbers, not {other}"),
                            at.span,
                            format!("this is {other}"),
                        ));
                        Ty::Error
                    }
                }
            }
            "min" | "max" => {
                let t = self.want_present(elem, at, &format!("`{}`", name.name));
                if !t.is_ordered() {
                    self.report(Diagnostic::error(
                        "V0313",
                        format!("{t} values have no order"),
                        at.span,
                        format!("this is {t}"),
                    ));
                    return Ty::Error;
                }
                t.optional()
            }
            "first" | "last" => elem.clone().optional(),
            "distinct" => {
                let t = elem.unwrap_optional().clone();
                if !t.is_scalar() {
                    self.report(
                        Diagnostic::error(
                            "V0305",
                            format!("`distinct` takes scalar values, not {t}"),
                            at.span,
                            format!("this is {t}"),
                        )
                        .with_help("take a field: `distinct(l.hilist_code for l in …)`"),
                    );
                    return Ty::Error;
                }
                Ty::List(Box::new(t))
            }
            _ => {
                let _ = e;
                Ty::Error
            }
        }
    }

    fn aggregate(&mut self, e: &Expr, name: &Ident, c: &Comprehension) -> Ty {
        let elem = self.iterate(&c.source);
        let mark = self.scope.len();
        self.bind(&c.binder, elem, false);
        if let Some(f) = &c.filter {
            let ft = self.check_flow(f);
            self.want_bool(&ft, f, "`where`");
        }
        let key = c.by.as_ref().map(|k| (self.check_expr(k), k));
        let value = c.value.as_ref().map(|v| (self.check_expr(v), v));
        let elem_ty = self
            .scope
            .get(mark)
            .map(|l| l.ty.clone())
            .unwrap_or(Ty::Error);
        let result = match name.name.as_str() {
            "groups" => match key {
                Some((kt, kexpr)) => {
                    if value.is_some() {
                        self.report(
                            Diagnostic::error(
                                "V0318",
                                "`groups` takes `x in list by key`, not a value",
                                e.span,
                                "value given",
                            )
                            .with_help("e.g. `groups(l in claim.fee_list by l.rx_drord_no)`"),
                        );
                    }
                    let k = kt.unwrap_optional().clone();
                    if !k.is_scalar() {
                        self.report(Diagnostic::error(
                            "V0305",
                            format!("a group key must be a scalar, not {k}"),
                            kexpr.span,
                            format!("this is {k}"),
                        ));
                    }
                    Ty::List(Box::new(Ty::Group(Box::new(k), Box::new(elem_ty))))
                }
                None => {
                    self.report(
                        Diagnostic::error(
                            "V0318",
                            "`groups` needs a key: `by …`",
                            e.span,
                            "no `by` key",
                        )
                        .with_help("e.g. `groups(l in claim.fee_list by l.rx_drord_no)`"),
                    );
                    Ty::Error
                }
            },
            other => {
                if let Some((_, kexpr)) = key {
                    self.report(
                        Diagnostic::error(
                            "V0318",
                            format!("`by` belongs to `groups`, not `{other}`"),
                            kexpr.span,
                            "unexpected `by`",
                        )
                        .with_help("group first: `exists g in groups(x in list by key) where …`"),
                    );
                }
                match (other, value) {
                    ("count", Some((_, v))) => {
                        self.report(
                            Diagnostic::error(
                                "V0318",
                                "`count` counts elements: write `count(x in list where …)`",
                                v.span,
                                "value given",
                            )
                            .with_help(
                                "to count distinct values: `count(distinct(e for x in list))`",
                            ),
                        );
                        Ty::Int
                    }
                    ("count", None) => Ty::Int,
                    ("first" | "last", None) => elem_ty.clone().optional(),
                    (_, None) => {
                        self.report(
                            Diagnostic::error(
                                "V0318",
                                format!("`{other}` needs a value: `{other}(e for x in list)`"),
                                e.span,
                                "no value",
                            )
                            .with_help(format!("e.g. `{other}(l.cnt for l in claim.fee_list)`")),
                        );
                        Ty::Error
                    }
                    (_, Some((vt, v))) => self.aggregate_result(e, name, &vt, v),
                }
            }
        };
        self.unbind_to(mark);
        result
    }

    fn call_def(&mut self, e: &Expr, name: &Ident, args: &CallArgs) -> Ty {
        self.used_globals.insert(name.name.clone());
        self.refer(name.span, Target::Def(name.name.clone()));
        let list = match args {
            CallArgs::Exprs(l) => l,
            CallArgs::Comprehension(c) => {
                self.report(Diagnostic::error(
                    "V0318",
                    format!("`{}` takes arguments, not `x in list`", name.name),
                    c.binder.span,
                    "comprehension given",
                ));
                self.check_args_anyway(args);
                return Ty::Error;
            }
        };
        let Some((params, ret)) = self.def_type(&name.name) else {
            return Ty::Error;
        };
        if self.def_reads_data.contains(&name.name) {
            self.reads_data = true;
            if self.context == Context::Const {
                self.report(
                    Diagnostic::error(
                        "V0316",
                        format!(
                            "a constant cannot call `{}`, which reads tables or claim history",
                            name.name
                        ),
                        e.span,
                        "reads data",
                    )
                    .with_help("constants are fixed values; call it inside the rule"),
                );
            }
        }
        let arity_ok = params.len() == list.len();
        if !arity_ok {
            let sig = self.def_decls.get(&name.name).map(|d| {
                d.params
                    .iter()
                    .map(|p| format!("{}: {}", p.name.name, fmt_type(&p.ty)))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            self.report(
                Diagnostic::error(
                    "V0304",
                    format!(
                        "`{}` takes {} argument(s), {} given",
                        name.name,
                        params.len(),
                        list.len()
                    ),
                    e.span,
                    "wrong number of arguments",
                )
                .with_help(format!("`{}({})`", name.name, sig.unwrap_or_default())),
            );
        }
        for (i, a) in list.iter().enumerate() {
            let t = self.check_expr(a);
            if let Some(p) = params.get(i).filter(|_| arity_ok) {
                if !t.fits(p) {
                    let help = if t.is_optional() && t.unwrap_optional().fits(p) {
                        OPTIONAL_HELP.to_string()
                    } else {
                        format!("pass a {p}")
                    };
                    self.report(
                        Diagnostic::error(
                            "V0305",
                            format!("argument {} of `{}` is {p}, found {t}", i + 1, name.name),
                            a.span,
                            format!("this is {t}"),
                        )
                        .with_help(help),
                    );
                }
            }
        }
        ret
    }
}

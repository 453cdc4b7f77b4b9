//! Rules and tests: the clauses every rule must carry, its scope, its typed parts, and the
//! tests that pin it down.

use std::collections::{HashMap, HashSet};

use vigil_dsl::ast::{self, AtKind, ClauseKind, ExprKind, Item, TemplatePart, TestStmt};
use vigil_dsl::Span;

use crate::checker::{suggest, Checker, Context};
use crate::diagnostic::Diagnostic;
use crate::model::{Rule, RuleSeverity, Scope, Target};
use crate::types::Ty;

const SEVERITIES: &[&str] = &["block", "warn", "info"];

/// The field that names a line in a line finding (formats.md §2).
const LINE_KEY: &str = "feedetl_sn";

impl<'a> Checker<'a> {
    /// Pass 4: every rule, then every test, then the warnings that need the whole picture.
    pub(crate) fn check_rules_and_tests(&mut self) {
        let modules = self.modules;
        let mut seen: HashMap<String, Span> = HashMap::new();
        for (_, module) in modules {
            for item in &module.items {
                if let Item::Rule(r) = item {
                    if let Some(first) = seen.get(&r.id.name) {
                        self.report(
                            Diagnostic::error(
                                "V0103",
                                format!("rule id `{}` is used twice", r.id.name),
                                r.id.span,
                                "second rule with this id",
                            )
                            .with_label(*first, "first used here")
                            .with_help(
                                "rule ids are stable keys of findings: give the new rule a new id",
                            ),
                        );
                        continue;
                    }
                    seen.insert(r.id.name.clone(), r.id.span);
                    self.check_rule(r);
                }
            }
        }
        let mut tested: HashSet<String> = HashSet::new();
        for (_, module) in modules {
            for item in &module.items {
                if let Item::Test(t) = item {
                    self.check_test(t, &mut tested);
                    self.book.tests.push(t.clone());
                }
            }
        }
        let rules: Vec<(String, Span, Scope)> = self
            .book
            .rules
            .iter()
            .map(|r| (r.id.clone(), r.decl.id.span, r.scope))
            .collect();
        for (id, span, scope) in rules {
            if !tested.contains(&id) {
                let at = match scope {
                    Scope::Claim => "at claim \"SETL_ID\"",
                    Scope::Line => "at claim \"SETL_ID\" at line \"FEEDETL_SN\"",
                    Scope::Provider => "at provider \"CODE\" at period \"YYYY-MM\"",
                };
                self.report(
                    Diagnostic::warning("V0403", format!("rule `{id}` has no test"), span, "untested rule")
                        .with_help(format!("add a test beside it: `test \"…\" {{ given claims \"tests/claims/….jsonl\"  expect {id} {at} }}`")),
                );
            }
        }
        self.warn_unused_globals();
    }

    fn warn_unused_globals(&mut self) {
        let mut unused: Vec<(String, Span, bool)> = Vec::new();
        for (name, d) in &self.const_decls {
            if !self.used_globals.contains(name) {
                unused.push((name.clone(), d.name.span, true));
            }
        }
        for (name, d) in &self.def_decls {
            if !self.used_globals.contains(name) {
                unused.push((name.clone(), d.name.span, false));
            }
        }
        unused.sort_by_key(|(_, s, _)| (s.source, s.start));
        for (name, span, is_const) in unused {
            let d = if is_const {
                Diagnostic::warning(
                    "V0402",
                    format!("constant `{name}` is never used"),
                    span,
                    "unused constant",
                )
                .with_help("remove it, or use it in a rule")
            } else {
                Diagnostic::warning(
                    "V0404",
                    format!("function `{name}` is never called"),
                    span,
                    "unused def",
                )
                .with_help("remove it, or call it from a rule")
            };
            self.report(d);
        }
    }

    fn check_rule(&mut self, r: &ast::RuleDecl) {
        self.context = Context::Rule;
        self.refer(r.id.span, Target::Rule(r.id.name.clone()));
        let mut first: HashMap<&'static str, Span> = HashMap::new();
        let mut severity = None;
        let mut basis: Option<String> = None;
        let mut scope_clause: Option<&ast::Clause> = None;
        let mut lets = Vec::new();
        let mut when = None;
        let mut amount = None;
        let mut message = None;
        let mut scope_conflict = false;
        for c in &r.clauses {
            let kind = match &c.kind {
                ClauseKind::Severity(_) => "severity",
                ClauseKind::Basis(_) => "basis",
                ClauseKind::For { .. } | ClauseKind::PerProviderMonth { .. } => "scope",
                ClauseKind::Let { .. } => "let",
                ClauseKind::When(_) => "when",
                ClauseKind::Amount(_) => "amount",
                ClauseKind::Message(_) => "message",
            };
            if kind != "let" {
                if let Some(prev) = first.get(kind) {
                    if kind == "scope" {
                        scope_conflict = true;
                    }
                    let (code, msg, help) = if kind == "scope" {
                        ("V0114", "a rule has one scope".to_string(), "a rule ranges over a claim (the default), `for line in claim.fee_list`, or `per provider month of …`; write one rule per scope")
                    } else {
                        (
                            "V0108",
                            format!("`{kind}` is given twice"),
                            "keep one: a rule has one of each clause",
                        )
                    };
                    self.report(
                        Diagnostic::error(code, msg, c.span, "repeated clause")
                            .with_label(*prev, "first given here")
                            .with_help(help),
                    );
                    continue;
                }
                first.insert(kind, c.span);
            }
            match &c.kind {
                ClauseKind::Severity(word) => {
                    severity = match word.name.as_str() {
                        "block" => Some(RuleSeverity::Block),
                        "warn" => Some(RuleSeverity::Warn),
                        "info" => Some(RuleSeverity::Info),
                        _ => {
                            let hint = suggest(&word.name, SEVERITIES.iter().copied())
                                .map(|s| format!("did you mean `{s}`? "))
                                .unwrap_or_default();
                            self.report(
                                Diagnostic::error(
                                    "V0107",
                                    format!("unknown severity `{}`", word.name),
                                    word.span,
                                    "not a severity",
                                )
                                .with_help(format!(
                                    "{hint}a severity is `block` (拦截), `warn` (提示) or `info`"
                                )),
                            );
                            Some(RuleSeverity::Info)
                        }
                    }
                }
                ClauseKind::Basis(s) => {
                    if s.value.trim().is_empty() {
                        self.report(
                            Diagnostic::error("V0105", "the legal basis is empty", s.span, "empty basis")
                                .with_help("cite the article the finding rests on, e.g. \"《医疗保障基金使用监督管理条例》第三十八条\""),
                        );
                    }
                    basis = Some(s.value.clone());
                }
                ClauseKind::For { .. } | ClauseKind::PerProviderMonth { .. } => {
                    scope_clause = Some(c)
                }
                ClauseKind::Let { name, value } => lets.push((name, value)),
                ClauseKind::When(e) => when = Some(e),
                ClauseKind::Amount(e) => amount = Some(e),
                ClauseKind::Message(t) => message = Some(t),
            }
        }
        let head = r.id.span.to(r.name.span);
        if severity.is_none() {
            self.report(
                Diagnostic::error(
                    "V0106",
                    format!("rule `{}` has no severity", r.id.name),
                    head,
                    "no `severity`",
                )
                .with_help(
                    "add `severity block` (拦截), `severity warn` (提示) or `severity info`",
                ),
            );
        }
        if basis.is_none() {
            self.report(
                Diagnostic::error(
                    "V0104",
                    format!("rule `{}` has no legal basis", r.id.name),
                    head,
                    "no `basis`",
                )
                .with_help("no finding without a rule to point to: add `basis \"《…》第…条\"`"),
            );
        }
        if when.is_none() {
            self.report(
                Diagnostic::error(
                    "V0110",
                    format!("rule `{}` has no `when`", r.id.name),
                    head,
                    "no condition",
                )
                .with_help("say when the rule fires: `when …`"),
            );
        }
        if message.is_none() {
            self.report(
                Diagnostic::error("V0109", format!("rule `{}` has no message", r.id.name), head, "no `message`")
                    .with_help("write what the officer sees, with the values that matter: `message \"单价 {p} 超过定价上限 {c}\"`"),
            );
        }

        let mark = self.scope.len();
        let scope = match scope_clause.map(|c| &c.kind) {
            Some(ClauseKind::For { binder, source }) => {
                self.bind_claim();
                let elem = self.iterate(source);
                let keyed = match &elem {
                    Ty::Record(rec) => self.book.records.get(rec).is_some_and(|r| {
                        r.field(LINE_KEY)
                            .is_some_and(|f| matches!(f.ty, Ty::Text | Ty::Code))
                    }),
                    _ => true,
                };
                match &elem {
                    Ty::Record(rec) if !keyed => self.report(
                        Diagnostic::error("V0310", format!("a line rule ranges over fee lines; `{rec}` has no `{LINE_KEY}` of type text"), source.span, "no line key")
                            .with_help("a line finding names its line by feedetl_sn (formats.md §2): write `for line in claim.fee_list`; look at other lists with `exists`/`count` inside `when`"),
                    ),
                    Ty::Record(_) | Ty::Error => {}
                    other => self.report(
                        Diagnostic::error("V0310", format!("a line rule ranges over records of the claim, not {other}"), source.span, format!("elements are {other}"))
                            .with_help("write `for line in claim.fee_list`"),
                    ),
                }
                if !is_claim_list(source) {
                    self.report(
                        Diagnostic::error("V0310", "a line rule ranges over a list field of the claim", source.span, "not a field of `claim`")
                            .with_help("write `for line in claim.fee_list`; to look at other lists, use `exists`/`count` inside `when`"),
                    );
                }
                self.bind(binder, elem, false);
                Scope::Line
            }
            Some(ClauseKind::PerProviderMonth { month_of, filter }) => {
                // `of` and `where` see each claim as `claim`; the body sees the month's claims.
                let inner = self.scope.len();
                self.bind_claim();
                let mt = self.check_expr(month_of);
                if !matches!(mt.unwrap_optional(), Ty::Date | Ty::DateTime | Ty::Error) {
                    self.report(
                        Diagnostic::error(
                            "V0301",
                            format!("a claim's month is taken from a date, not {mt}"),
                            month_of.span,
                            format!("this is {mt}"),
                        )
                        .with_help("e.g. `per provider month of claim.enddate`"),
                    );
                }
                if let Some(f) = filter {
                    let ft = self.check_expr(f);
                    self.want_bool(&ft, f, "`where`");
                }
                self.scope.truncate(inner);
                let claims = Ty::List(Box::new(Ty::Record("claim".into())));
                let span = scope_clause.map(|c| c.span).unwrap_or(r.span);
                for (name, ty) in [
                    ("provider", Ty::Code),
                    ("period", Ty::Month),
                    ("claims", claims.clone()),
                    ("previous_claims", claims),
                ] {
                    // Through `bind`, so a code or global of the same name is reported.
                    self.bind_reserved(name, ty, span);
                }
                Scope::Provider
            }
            _ => {
                self.bind_claim();
                Scope::Claim
            }
        };
        if scope_conflict {
            // The second scope was reported (V0114); its names stay quiet rather than cascade.
            let span = r.id.span;
            for name in ["line", "provider", "period", "claims", "previous_claims"] {
                if !self.scope.iter().any(|l| l.name == name) {
                    self.scope.push(crate::checker::Local {
                        name: name.into(),
                        ty: Ty::Error,
                        span,
                        used: true,
                        is_let: false,
                    });
                }
            }
        }
        for (name, value) in lets {
            let t = self.check_expr(value);
            self.bind(name, t, true);
        }
        let flow_mark = self.scope.len();
        if let Some(w) = when {
            let t = self.check_flow(w);
            self.want_bool(&t, w, "`when`");
        }
        // Bindings made by `is some(v)` in `when` stay visible in amount and message.
        for l in self.scope.iter_mut().skip(flow_mark) {
            l.used = true;
        }
        if let Some(a) = amount {
            let t = self.check_expr(a);
            match t {
                Ty::Int | Ty::Decimal | Ty::Error => {}
                Ty::Optional(ref inner) if inner.is_numeric() => self.report(
                    Diagnostic::error("V0302", "the amount may be absent", a.span, format!("this is {t}"))
                        .with_help("give the absent case a value: `x ?? 0`, or bind it in `when`: `x is some(v)`"),
                ),
                other => self.report(
                    Diagnostic::error("V0307", format!("the amount must be money, found {other}"), a.span, format!("this is {other}"))
                        .with_help("the amount (违规金额) is a number of yuan, e.g. `line.det_item_fee_sumamt ?? 0`"),
                ),
            }
        }
        if let Some(m) = message {
            for part in &m.parts {
                if let TemplatePart::Hole(h) = part {
                    let t = self.check_expr(h);
                    if t.is_optional() {
                        self.report(
                            Diagnostic::error("V0302", format!("this {t} may be absent; a message shows present values"), h.span, "may be absent")
                                .with_help("show a default, `{x ?? \"无\"}` for text or `{x ?? 0}` for numbers, or bind it in `when`"),
                        );
                    } else if !t.is_printable() {
                        self.report(
                            Diagnostic::error(
                                "V0312",
                                format!("a message cannot show {t}"),
                                h.span,
                                format!("this is {t}"),
                            )
                            .with_help("show a scalar: a field, a count, a sum, a date"),
                        );
                    }
                }
            }
        }
        // Provider-scope names are context, not `let`s: never reported as unused.
        for l in self.scope.iter_mut().skip(mark) {
            if !l.is_let {
                l.used = true;
            }
        }
        self.unbind_to(mark);
        self.book.rules.push(Rule {
            id: r.id.name.clone(),
            name: r.name.value.clone(),
            severity: severity.unwrap_or(RuleSeverity::Info),
            basis: basis.unwrap_or_default(),
            scope,
            span: r.span,
            decl: r.clone(),
        });
    }

    fn bind_claim(&mut self) {
        let span = Span::default();
        self.scope.push(crate::checker::Local {
            name: "claim".into(),
            ty: Ty::Record("claim".into()),
            span,
            used: true,
            is_let: false,
        });
    }

    fn check_test(&mut self, t: &ast::TestDecl, tested: &mut HashSet<String>) {
        let mut has_claims = false;
        for s in &t.stmts {
            match s {
                TestStmt::Given { kind, path, .. } => {
                    match kind {
                        ast::GivenKind::Claims => has_claims = true,
                        ast::GivenKind::History => {}
                        ast::GivenKind::Table(name) => {
                            if self.book.tables.contains_key(&name.name) {
                                self.refer(name.span, Target::Table(name.name.clone()));
                            } else {
                                let names: Vec<String> = self.book.tables.keys().cloned().collect();
                                let mut d = Diagnostic::error(
                                    "V0203",
                                    format!("unknown table `{}`", name.name),
                                    name.span,
                                    "not a declared table",
                                );
                                if let Some(s) =
                                    suggest(&name.name, names.iter().map(|s| s.as_str()))
                                {
                                    d = d.with_help(format!("did you mean `{s}`?"));
                                }
                                self.report(d);
                            }
                        }
                    }
                    self.check_test_file(path);
                }
                TestStmt::Expect {
                    rule, at, amount, ..
                } => {
                    let found = self
                        .book
                        .rules
                        .iter()
                        .find(|r| r.id == rule.name)
                        .map(|r| r.scope);
                    let Some(scope) = found else {
                        let ids: Vec<String> =
                            self.book.rules.iter().map(|r| r.id.clone()).collect();
                        let mut d = Diagnostic::error(
                            "V0208",
                            format!("no rule `{}` in this rulebook", rule.name),
                            rule.span,
                            "unknown rule id",
                        );
                        if let Some(s) = suggest(&rule.name, ids.iter().map(|s| s.as_str())) {
                            d = d.with_help(format!("did you mean `{s}`?"));
                        }
                        self.report(d);
                        continue;
                    };
                    tested.insert(rule.name.clone());
                    self.refer(rule.span, Target::Rule(rule.name.clone()));
                    for (kind, value) in at {
                        let fits = match kind {
                            AtKind::Claim => scope != Scope::Provider,
                            AtKind::Line => scope == Scope::Line,
                            AtKind::Provider | AtKind::Period => scope == Scope::Provider,
                        };
                        if !fits {
                            self.report(
                                Diagnostic::error("V0602", format!("`at {}` does not apply to a {} rule", kind.as_str(), scope.as_str()), value.span, format!("`{}` is a {}-scope rule", rule.name, scope.as_str()))
                                    .with_help(match scope {
                                        Scope::Claim => "a claim rule's findings are pinned with `at claim \"SETL_ID\"`",
                                        Scope::Line => "a line rule's findings are pinned with `at claim \"SETL_ID\" at line \"FEEDETL_SN\"`",
                                        Scope::Provider => "a provider rule's findings are pinned with `at provider \"CODE\" at period \"YYYY-MM\"`",
                                    }),
                            );
                        }
                    }
                    if let Some(a) = amount {
                        if !is_amount_text(&a.value) {
                            self.report(
                                Diagnostic::error(
                                    "V0603",
                                    format!("\"{}\" is not an amount", a.value),
                                    a.span,
                                    "not a decimal",
                                )
                                .with_help("write the amount as in findings, e.g. \"4.50\""),
                            );
                        }
                    }
                }
            }
        }
        if !has_claims {
            self.report(
                Diagnostic::error(
                    "V0601",
                    format!("test \"{}\" gives no claims", t.name.value),
                    t.name.span,
                    "nothing to run on",
                )
                .with_help("add `given claims \"tests/claims/….jsonl\"`"),
            );
        }
    }

    fn check_test_file(&mut self, path: &ast::StrLit) {
        let p = std::path::Path::new(&path.value);
        let escapes = crate::load::leaves_folder(&path.value);
        if escapes {
            self.report(
                Diagnostic::error("V0604", "a test file must lie inside the rulebook folder", path.span, "path leaves the rulebook folder")
                    .with_help("tests are data beside the rules: write a relative path such as \"tests/claims/price.jsonl\""),
            );
            return;
        }
        if let Some(root) = &self.root {
            if !root.join(p).is_file() {
                self.report(
                    Diagnostic::error(
                        "V0604",
                        format!("test file \"{}\" not found", path.value),
                        path.span,
                        "no such file in the rulebook folder",
                    )
                    .with_help("paths are relative to the rulebook folder"),
                );
            }
        }
    }
}

/// `claim.<field>`: the only lists a line rule may range over.
fn is_claim_list(source: &ast::Expr) -> bool {
    match &source.kind {
        ExprKind::Field {
            base,
            optional: false,
            ..
        } => matches!(&base.kind, ExprKind::Name(n) if n.name == "claim"),
        ExprKind::Paren(inner) => is_claim_list(inner),
        _ => false,
    }
}

/// An amount as findings write it: `-?digits` with at most 2 decimal places (`"4.50"`).
fn is_amount_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 2
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(digits.contains('.') && frac.is_empty())
}

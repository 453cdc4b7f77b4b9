//! Declarations: the header, schema records, code sets, tables, consts and defs, collected from
//! every file of the rulebook and resolved into the model.

use std::path::Path;

use vigil_dsl::ast::{self, Item, TypeExpr, TypeExprKind};
use vigil_dsl::Span;

use crate::checker::{suggest, Checker, Context, GlobalKind, Progress};
use crate::diagnostic::Diagnostic;
use crate::model::{Enum, Field, Header, Record, Table, Target, Variant};
use crate::types::{scalar_type, Ty, SCALAR_TYPES};

/// Fields the runtime needs in every claim: the keys of findings (formats.md §2).
const REQUIRED_CLAIM_FIELDS: &[&str] = &["setl_id", "psn_no", "fixmedins_code"];

impl<'a> Checker<'a> {
    /// Pass 1: every top-level name, so that declarations may refer to each other in any order.
    pub(crate) fn collect_globals(&mut self) {
        let modules = self.modules;
        let mut header: Option<(&ast::RulebookDecl, Span)> = None;
        for (_, module) in modules {
            for item in &module.items {
                let (name, kind) = match item {
                    Item::Rulebook(h) => {
                        if let Some((_, first)) = header {
                            self.report(
                                Diagnostic::error(
                                    "V0102",
                                    "a rulebook has one header",
                                    h.span,
                                    "second `rulebook` declaration",
                                )
                                .with_label(first, "the header is here")
                                .with_help("keep one `rulebook` declaration, in rulebook.vigil"),
                            );
                        } else {
                            header = Some((h, h.span));
                        }
                        continue;
                    }
                    Item::Schema(d) => (&d.name, GlobalKind::Schema),
                    Item::Enum(d) => (&d.name, GlobalKind::Enum),
                    Item::Table(d) => (&d.name, GlobalKind::Table),
                    Item::Const(d) => {
                        if self.declare_global(&d.name, GlobalKind::Const) {
                            self.const_decls.insert(d.name.name.clone(), d);
                        }
                        continue;
                    }
                    Item::Def(d) => {
                        if self.declare_global(&d.name, GlobalKind::Def) {
                            self.def_decls.insert(d.name.name.clone(), d);
                        }
                        continue;
                    }
                    Item::Rule(_) | Item::Test(_) => continue,
                };
                self.declare_global(name, kind);
            }
        }
        if let Some((h, span)) = header {
            self.book.header = Header {
                id: h.id.name.clone(),
                title: h.title.value.clone(),
                version: h.version.value.clone(),
                span,
            };
        }
    }

    /// Declares a top-level name; false (and a diagnostic) when the name is taken.
    fn declare_global(&mut self, name: &ast::Ident, kind: GlobalKind) -> bool {
        let builtin_type = SCALAR_TYPES.iter().any(|(t, _)| *t == name.name);
        let builtin_fn = crate::builtins::function(&name.name).is_some();
        if builtin_type || builtin_fn || name.name == "claim" && kind != GlobalKind::Schema {
            let what = if builtin_type {
                "type"
            } else {
                "function or binding"
            };
            self.report(
                Diagnostic::error(
                    "V0117",
                    format!("`{}` is a built-in {what}", name.name),
                    name.span,
                    "reserved name",
                )
                .with_help("choose another name"),
            );
            return false;
        }
        if let Some((prev_kind, prev)) = self.globals.get(&name.name).copied() {
            self.report(
                Diagnostic::error(
                    "V0111",
                    format!("`{}` is declared twice", name.name),
                    name.span,
                    format!("second declaration ({})", kind.noun()),
                )
                .with_label(prev, format!("first declared here ({})", prev_kind.noun()))
                .with_help(
                    "rename one of them: top-level names are shared by all files of the rulebook",
                ),
            );
            return false;
        }
        self.globals.insert(name.name.clone(), (kind, name.span));
        true
    }

    /// Pass 2: enums, then schema records and tables (whose types may name enums and records).
    pub(crate) fn resolve_declarations(&mut self) {
        let modules = self.modules;
        for (_, module) in modules {
            for item in &module.items {
                if let Item::Enum(d) = item {
                    self.resolve_enum(d);
                }
            }
        }
        for (_, module) in modules {
            for item in &module.items {
                match item {
                    Item::Schema(d) => self.resolve_schema(d),
                    Item::Table(d) => self.resolve_table(d),
                    _ => {}
                }
            }
        }
        self.check_claim_schema();
        let mut hiding: Vec<(String, GlobalKind, Span, String)> = self
            .globals
            .iter()
            .filter(|(_, (k, _))| {
                matches!(k, GlobalKind::Const | GlobalKind::Table | GlobalKind::Def)
            })
            .filter_map(|(n, (k, s))| {
                self.variants
                    .get(n)
                    .map(|e| (n.clone(), *k, *s, e[0].clone()))
            })
            .collect();
        hiding.sort_by_key(|(_, _, s, _)| (s.source, s.start));
        for (name, kind, span, enum_name) in hiding {
            self.report(
                Diagnostic::error(
                    "V0115",
                    format!(
                        "{} `{name}` hides the code `{enum_name}.{name}`",
                        kind.noun()
                    ),
                    span,
                    "hides a code name",
                )
                .with_help("choose another name: a bare code name must mean the code"),
            );
        }
    }

    fn owns(&self, name: &ast::Ident, kind: GlobalKind) -> bool {
        self.globals
            .get(&name.name)
            .is_some_and(|(k, s)| *k == kind && *s == name.span)
    }

    fn resolve_enum(&mut self, d: &ast::EnumDecl) {
        if !self.owns(&d.name, GlobalKind::Enum) {
            return;
        }
        let mut variants: Vec<Variant> = Vec::new();
        for v in &d.variants {
            if let Some(prev) = variants.iter().find(|p| p.name == v.name.name) {
                let prev_span = prev.span;
                self.report(
                    Diagnostic::error(
                        "V0111",
                        format!("`{}` is declared twice in `{}`", v.name.name, d.name.name),
                        v.name.span,
                        "second declaration",
                    )
                    .with_label(prev_span, "first declared here"),
                );
                continue;
            }
            if let Some(prev) = variants.iter().find(|p| p.code == v.code.value) {
                let prev_span = prev.span;
                self.report(
                    Diagnostic::error(
                        "V0113",
                        format!(
                            "code \"{}\" is named twice in `{}`",
                            v.code.value, d.name.name
                        ),
                        v.code.span,
                        "second name for the code",
                    )
                    .with_label(prev_span, "first named here")
                    .with_help("a code has one name: remove one of them"),
                );
                continue;
            }
            if v.code.value.is_empty() {
                self.report(Diagnostic::error(
                    "V0113",
                    "a code may not be empty",
                    v.code.span,
                    "empty code",
                ));
                continue;
            }
            self.variants
                .entry(v.name.name.clone())
                .or_default()
                .push(d.name.name.clone());
            self.refer(
                v.name.span,
                Target::Variant {
                    enum_name: d.name.name.clone(),
                    variant: v.name.name.clone(),
                },
            );
            variants.push(Variant {
                name: v.name.name.clone(),
                code: v.code.value.clone(),
                label: v.label.as_ref().map(|l| l.value.clone()),
                span: v.name.span,
            });
        }
        self.refer(d.name.span, Target::Enum(d.name.name.clone()));
        self.book.enums.insert(
            d.name.name.clone(),
            Enum {
                name: d.name.name.clone(),
                label: d.label.as_ref().map(|l| l.value.clone()),
                variants,
                span: d.name.span,
            },
        );
    }

    fn resolve_schema(&mut self, d: &ast::SchemaDecl) {
        if !self.owns(&d.name, GlobalKind::Schema) {
            return;
        }
        let mut fields: Vec<Field> = Vec::new();
        for f in &d.fields {
            if let Some(prev) = fields.iter().find(|p| p.name == f.name.name) {
                let prev_span = prev.span;
                self.report(
                    Diagnostic::error(
                        "V0111",
                        format!(
                            "field `{}` is declared twice in `{}`",
                            f.name.name, d.name.name
                        ),
                        f.name.span,
                        "second declaration",
                    )
                    .with_label(prev_span, "first declared here"),
                );
                continue;
            }
            let ty = self.resolve_type(&f.ty, true);
            self.refer(
                f.name.span,
                Target::Field {
                    record: d.name.name.clone(),
                    field: f.name.name.clone(),
                },
            );
            fields.push(Field {
                name: f.name.name.clone(),
                ty,
                label: f.label.as_ref().map(|l| l.value.clone()),
                sep: None,
                span: f.name.span,
            });
        }
        self.refer(
            d.name.span,
            Target::Field {
                record: d.name.name.clone(),
                field: String::new(),
            },
        );
        self.book.records.insert(
            d.name.name.clone(),
            Record {
                name: d.name.name.clone(),
                label: d.label.as_ref().map(|l| l.value.clone()),
                fields,
                span: d.name.span,
            },
        );
    }

    fn check_claim_schema(&mut self) {
        let header_span = self.book.header.span;
        match self.book.records.get("claim").cloned() {
            None => {
                self.report(
                    Diagnostic::error("V0112", "the rulebook declares no claim schema", header_span, "no `schema claim` in this rulebook")
                        .with_help("declare `schema claim \"医保结算\" { setl_id: text \"结算ID\" … }` (the national schema is in rulebooks/cn-national/schema.vigil)"),
                );
            }
            Some(claim) => {
                let missing: Vec<&str> = REQUIRED_CLAIM_FIELDS
                    .iter()
                    .copied()
                    .filter(|f| claim.field(f).is_none())
                    .collect();
                let mistyped: Vec<(String, Ty, Span)> = REQUIRED_CLAIM_FIELDS
                    .iter()
                    .filter_map(|f| claim.field(f))
                    .filter(|f| !matches!(f.ty, Ty::Text | Ty::Code))
                    .map(|f| (f.name.clone(), f.ty.clone(), f.span))
                    .collect();
                for (name, ty, span) in mistyped {
                    self.report(
                        Diagnostic::error(
                            "V0112",
                            format!("`{name}` is {ty}; a finding needs it present, as text"),
                            span,
                            "key of findings",
                        )
                        .with_help(format!(
                            "declare it `{name}: text` (or `code`): every claim has one"
                        )),
                    );
                }
                if !missing.is_empty() {
                    let span = claim.span;
                    self.report(
                        Diagnostic::error("V0112", format!("the claim schema lacks {}", missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")), span, "findings need these fields")
                            .with_help("findings name the claim, the patient and the provider (formats.md §2): declare them as text or code fields"),
                    );
                }
            }
        }
    }

    fn resolve_table(&mut self, d: &ast::TableDecl) {
        if !self.owns(&d.name, GlobalKind::Table) {
            return;
        }
        self.check_table_path(&d.path);
        let mut columns: Vec<Field> = Vec::new();
        for c in &d.columns {
            if let Some(prev) = columns.iter().find(|p| p.name == c.name.name) {
                let prev_span = prev.span;
                self.report(
                    Diagnostic::error(
                        "V0111",
                        format!(
                            "column `{}` is declared twice in `{}`",
                            c.name.name, d.name.name
                        ),
                        c.name.span,
                        "second declaration",
                    )
                    .with_label(prev_span, "first declared here"),
                );
                continue;
            }
            let ty = self.resolve_type(&c.ty, false);
            let base = ty.unwrap_optional();
            let ok = match base {
                Ty::List(inner) => inner.is_scalar() && !inner.is_optional(),
                t => t.is_scalar(),
            };
            if !ok {
                self.report(
                    Diagnostic::error("V0506", format!("column `{}` cannot hold a {ty}", c.name.name), c.ty.span, "not a table column type")
                        .with_help("a CSV cell holds a scalar (text, code, int, decimal, money, bool, date, datetime, month), a code set, or a list of scalars with `sep`"),
                );
            }
            let is_list = matches!(base, Ty::List(_));
            if let (Some(sep), false) = (&c.sep, is_list) {
                self.report(
                    Diagnostic::error(
                        "V0505",
                        format!("`sep` on column `{}`, which is not a list", c.name.name),
                        sep.span,
                        "separator of a non-list",
                    )
                    .with_help(format!(
                        "declare the column as a list, `{}: [{}] sep \"{}\"`, or remove `sep`",
                        c.name.name, ty, sep.value
                    )),
                );
            }
            if let Some(sep) = &c.sep {
                if sep.value.is_empty() || sep.value.contains(',') || sep.value.contains('"') {
                    self.report(
                        Diagnostic::error(
                            "V0505",
                            "a list separator must be non-empty and may not be `,` or `\"`",
                            sep.span,
                            "bad separator",
                        )
                        .with_help("use `|` (the catalogue's own separator)"),
                    );
                }
            }
            let sep = if is_list {
                Some(
                    c.sep
                        .as_ref()
                        .map(|s| s.value.clone())
                        .unwrap_or_else(|| "|".into()),
                )
            } else {
                None
            };
            self.refer(
                c.name.span,
                Target::Column {
                    table: d.name.name.clone(),
                    column: c.name.name.clone(),
                },
            );
            columns.push(Field {
                name: c.name.name.clone(),
                ty,
                label: c.label.as_ref().map(|l| l.value.clone()),
                sep,
                span: c.name.span,
            });
        }
        let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        for k in &d.key {
            match columns.iter().find(|c| c.name == k.name) {
                None => {
                    let hint = suggest(&k.name, names.iter().map(|s| s.as_str()));
                    let mut diag = Diagnostic::error(
                        "V0501",
                        format!(
                            "key column `{}` is not a column of `{}`",
                            k.name, d.name.name
                        ),
                        k.span,
                        "not declared below",
                    );
                    diag = match hint {
                        Some(h) => diag.with_help(format!("did you mean `{h}`?")),
                        None => diag.with_help(format!("declare it: `{}: code`", k.name)),
                    };
                    self.report(diag);
                }
                Some(c) if c.ty.is_optional() || !c.ty.is_scalar() => {
                    let ty = c.ty.clone();
                    self.report(
                        Diagnostic::error("V0501", format!("key column `{}` is {ty}", k.name), k.span, "a key must be a present scalar")
                            .with_help("key columns are never empty and hold one value: declare it without `?` and not as a list"),
                    );
                }
                Some(_) => self.refer(
                    k.span,
                    Target::Column {
                        table: d.name.name.clone(),
                        column: k.name.clone(),
                    },
                ),
            }
        }
        if let Some((a, b)) = &d.valid {
            for v in [a, b] {
                match columns.iter().find(|c| c.name == v.name) {
                    Some(c) if matches!(c.ty.unwrap_optional(), Ty::Date) => self.refer(
                        v.span,
                        Target::Column {
                            table: d.name.name.clone(),
                            column: v.name.clone(),
                        },
                    ),
                    Some(c) => {
                        let ty = c.ty.clone();
                        self.report(
                            Diagnostic::error(
                                "V0502",
                                format!("validity column `{}` is {ty}, not a date", v.name),
                                v.span,
                                "not a date column",
                            )
                            .with_help(format!(
                                "declare it as `{}: date?` (empty = open-ended)",
                                v.name
                            )),
                        );
                    }
                    None => self.report(
                        Diagnostic::error(
                            "V0502",
                            format!(
                                "validity column `{}` is not a column of `{}`",
                                v.name, d.name.name
                            ),
                            v.span,
                            "not declared below",
                        )
                        .with_help(format!("declare it: `{}: date?`", v.name)),
                    ),
                }
            }
        }
        self.refer(d.name.span, Target::Table(d.name.name.clone()));
        self.book.tables.insert(
            d.name.name.clone(),
            Table {
                name: d.name.name.clone(),
                title: d.title.as_ref().map(|t| t.value.clone()),
                path: d.path.value.clone(),
                key: d.key.iter().map(|k| k.name.clone()).collect(),
                valid: d
                    .valid
                    .as_ref()
                    .map(|(a, b)| (a.name.clone(), b.name.clone())),
                columns,
                span: d.name.span,
            },
        );
    }

    fn check_table_path(&mut self, path: &ast::StrLit) {
        let p = Path::new(&path.value);
        let escapes = crate::load::leaves_folder(&path.value);
        if escapes {
            self.report(
                Diagnostic::error("V0503", "a table file must lie inside the rulebook folder", path.span, "path leaves the rulebook folder")
                    .with_help("write a relative path such as \"tables/hilist.csv\"; to use a file elsewhere, pass `--table NAME=FILE` to `vigil run`"),
            );
            return;
        }
        if let Some(root) = &self.root {
            if !root.join(p).is_file() {
                self.report(
                    Diagnostic::warning(
                        "V0507",
                        format!("table file \"{}\" not found", path.value),
                        path.span,
                        "no such file in the rulebook folder",
                    )
                    .with_help("add the CSV file, or pass `--table NAME=FILE` when running"),
                );
            }
        }
    }

    /// Resolves a written type. `records` allows schema records (not in tables).
    pub(crate) fn resolve_type(&mut self, t: &TypeExpr, records: bool) -> Ty {
        match &t.kind {
            TypeExprKind::Optional(inner) => self.resolve_type(inner, records).optional(),
            TypeExprKind::List(inner) => Ty::List(Box::new(self.resolve_type(inner, records))),
            TypeExprKind::Named(id) => {
                if let Some(ty) = scalar_type(&id.name) {
                    return ty;
                }
                match self.globals.get(&id.name).map(|(k, _)| *k) {
                    Some(GlobalKind::Enum) => {
                        self.refer(id.span, Target::Enum(id.name.clone()));
                        Ty::Enum(id.name.clone())
                    }
                    Some(GlobalKind::Schema) if records => {
                        self.refer(
                            id.span,
                            Target::Field {
                                record: id.name.clone(),
                                field: String::new(),
                            },
                        );
                        Ty::Record(id.name.clone())
                    }
                    Some(GlobalKind::Schema | GlobalKind::Table) if !records => {
                        self.report(
                            Diagnostic::error("V0506", format!("`{}` is a record; a table column holds a scalar", id.name), id.span, "not a table column type")
                                .with_help("a CSV cell holds a scalar (text, code, int, decimal, money, bool, date, datetime, month), a code set, or a list of scalars with `sep`"),
                        );
                        Ty::Error
                    }
                    Some(GlobalKind::Table) if records => {
                        self.refer(id.span, Target::Table(id.name.clone()));
                        Ty::Row(id.name.clone())
                    }
                    _ => {
                        let mut candidates: Vec<&str> =
                            SCALAR_TYPES.iter().map(|(n, _)| *n).collect();
                        let globals: Vec<String> = self
                            .globals
                            .iter()
                            .filter(|(_, (k, _))| {
                                matches!(k, GlobalKind::Enum)
                                    || records && matches!(k, GlobalKind::Schema)
                            })
                            .map(|(n, _)| n.clone())
                            .collect();
                        candidates.extend(globals.iter().map(|s| s.as_str()));
                        let help = match suggest(&id.name, candidates.iter().copied()) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "types are bool, int, decimal, money, text, code, date, datetime, month, a code set (`enum`), a schema record, `[T]` and `T?`".into(),
                        };
                        self.report(
                            Diagnostic::error(
                                "V0204",
                                format!("unknown type `{}`", id.name),
                                id.span,
                                "not a type",
                            )
                            .with_help(help),
                        );
                        Ty::Error
                    }
                }
            }
        }
    }

    /// Pass 3: every const and def, typed lazily so that order does not matter.
    pub(crate) fn check_consts_and_defs(&mut self) {
        let mut names: Vec<String> = self.const_decls.keys().cloned().collect();
        names.sort();
        for n in names {
            self.const_type(&n);
        }
        let mut names: Vec<String> = self.def_decls.keys().cloned().collect();
        names.sort();
        for n in names {
            self.def_type(&n);
        }
    }

    /// The type of a const, checking it on first use. A cycle is reported once.
    pub(crate) fn const_type(&mut self, name: &str) -> Ty {
        match self.const_progress.get(name) {
            Some(Progress::Done(t)) => return t.clone(),
            Some(Progress::Checking) => {
                if let Some(d) = self.const_decls.get(name).copied() {
                    self.report(
                        Diagnostic::error(
                            "V0209",
                            format!("constant `{name}` depends on itself"),
                            d.name.span,
                            "defined in terms of itself",
                        )
                        .with_help("a constant must be computable without itself: break the cycle"),
                    );
                }
                self.const_progress
                    .insert(name.to_string(), Progress::Done(Ty::Error));
                return Ty::Error;
            }
            None => {}
        }
        let Some(d) = self.const_decls.get(name).copied() else {
            return Ty::Error;
        };
        if self.chain_depth >= crate::checker::MAX_CHAIN {
            self.report_long_chain(d.name.span, name);
            return Ty::Error;
        }
        self.const_progress
            .insert(name.to_string(), Progress::Checking);
        self.chain_depth += 1;
        let saved_scope = std::mem::take(&mut self.scope);
        let saved_ctx = std::mem::replace(&mut self.context, Context::Const);
        let empty_with_type = d.ty.is_some()
            && matches!(&d.value.kind, vigil_dsl::ast::ExprKind::List(items) if items.is_empty());
        let mut ty = if empty_with_type {
            Ty::Error
        } else {
            self.check_expr(&d.value)
        };
        if let Some(t) = &d.ty {
            let want = self.resolve_type(t, true);
            if matches!(want.unwrap_optional(), Ty::Record(_) | Ty::Row(_)) {
                self.report(
                    Diagnostic::error(
                        "V0316",
                        format!("a constant cannot be a {want}"),
                        t.span,
                        "not a constant type",
                    )
                    .with_help(
                        "constants are fixed scalars or lists of them: numbers, text, codes, dates",
                    ),
                );
            }
            if !ty.fits(&want) {
                self.report(
                    Diagnostic::error(
                        "V0301",
                        format!("constant `{name}` is declared {want} but its value is {ty}"),
                        d.value.span,
                        format!("this is {ty}"),
                    )
                    .with_label(t.span, "declared type"),
                );
            }
            ty = want;
        }
        self.scope = saved_scope;
        self.chain_depth -= 1;
        self.context = saved_ctx;
        if let Some(Progress::Done(Ty::Error)) = self.const_progress.get(name) {
            return Ty::Error;
        }
        self.book.consts.insert(
            name.to_string(),
            crate::model::Const {
                name: name.to_string(),
                ty: ty.clone(),
                decl: d.clone(),
            },
        );
        self.const_progress
            .insert(name.to_string(), Progress::Done(ty.clone()));
        self.refer(d.name.span, Target::Const(name.to_string()));
        ty
    }

    /// The parameter and return types of a def, checking its body on first use.
    pub(crate) fn def_type(&mut self, name: &str) -> Option<(Vec<Ty>, Ty)> {
        let d = self.def_decls.get(name).copied()?;
        let params: Vec<Ty> = d
            .params
            .iter()
            .map(|p| self.resolve_type_quiet(&p.ty))
            .collect();
        match self.def_progress.get(name) {
            Some(Progress::Done(t)) => return Some((params, t.clone())),
            Some(Progress::Checking) => {
                self.report(
                    Diagnostic::error("V0209", format!("`{name}` calls itself"), d.name.span, "recursive definition")
                        .with_help("rules must end on every input, so a def may not call itself, directly or through another def"),
                );
                self.def_progress
                    .insert(name.to_string(), Progress::Done(Ty::Error));
                return Some((params, Ty::Error));
            }
            None => {}
        }
        if self.chain_depth >= crate::checker::MAX_CHAIN {
            self.report_long_chain(d.name.span, name);
            return Some((params, Ty::Error));
        }
        self.def_progress
            .insert(name.to_string(), Progress::Checking);
        self.chain_depth += 1;
        let saved_scope = std::mem::take(&mut self.scope);
        let saved_ctx = std::mem::replace(&mut self.context, Context::Def);
        let mut param_tys = Vec::new();
        for p in &d.params {
            let t = self.resolve_type(&p.ty, true);
            self.bind(&p.name, t.clone(), false);
            param_tys.push(t);
        }
        let saved_reads = std::mem::replace(&mut self.reads_data, false);
        let body_ty = self.check_expr(&d.body);
        if self.reads_data {
            self.def_reads_data.insert(name.to_string());
        }
        self.reads_data = saved_reads || self.reads_data;
        let ret = match &d.ret {
            Some(r) => {
                let want = self.resolve_type(r, true);
                if !body_ty.fits(&want) {
                    self.report(
                        Diagnostic::error(
                            "V0301",
                            format!(
                                "`{name}` is declared to return {want} but its body is {body_ty}"
                            ),
                            d.body.span,
                            format!("this is {body_ty}"),
                        )
                        .with_label(r.span, "declared return type"),
                    );
                }
                want
            }
            None => body_ty,
        };
        self.scope = saved_scope;
        self.chain_depth -= 1;
        self.context = saved_ctx;
        let ret = match self.def_progress.get(name) {
            Some(Progress::Done(Ty::Error)) => Ty::Error,
            _ => ret,
        };
        self.def_progress
            .insert(name.to_string(), Progress::Done(ret.clone()));
        self.refer(d.name.span, Target::Def(name.to_string()));
        self.book.defs.insert(
            name.to_string(),
            crate::model::Def {
                name: name.to_string(),
                params: d
                    .params
                    .iter()
                    .map(|p| p.name.name.clone())
                    .zip(param_tys.iter().cloned())
                    .collect(),
                ret: ret.clone(),
                decl: d.clone(),
            },
        );
        Some((param_tys, ret))
    }

    /// Resolves a type without reporting (the def's own check reports its problems once).
    fn resolve_type_quiet(&mut self, t: &TypeExpr) -> Ty {
        let n = self.diags.len();
        let refs = self.book.refs.len();
        let ty = self.resolve_type(t, true);
        self.diags.truncate(n);
        self.book.refs.truncate(refs);
        ty
    }
}

impl Checker<'_> {
    /// Reports a chain deeper than `MAX_CHAIN` once: every entry into a long chain hits it.
    fn report_long_chain(&mut self, span: Span, name: &str) {
        if !std::mem::replace(&mut self.long_chain_reported, true) {
            self.report(too_long_chain(span, name));
        }
    }
}

/// A const or def whose definition chain is deeper than `MAX_CHAIN`.
fn too_long_chain(span: Span, name: &str) -> Diagnostic {
    Diagnostic::error(
        "V0209",
        format!("`{name}` is defined through too long a chain of consts and defs"),
        span,
        "chain too long",
    )
    .with_help(format!(
        "at most {} consts and defs may be defined in terms of each other in a row: define this one more directly",
        crate::checker::MAX_CHAIN
    ))
}

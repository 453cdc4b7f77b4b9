//! Hover: what the name under the cursor is, in the officer's terms: a field's Chinese label
//! and type, a constant's value, a rule's severity and legal basis, a built-in's signature and
//! doc (from the compiler's `builtins`), a local's type.

use std::fmt::Write as _;

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind};
use vigil_compiler::builtins;
use vigil_compiler::model::{Rulebook, Target};
use vigil_compiler::types::Ty;
use vigil_compiler::LoadedRulebook;
use vigil_dsl::ast::{ClauseKind, Item};
use vigil_dsl::Span;

use crate::navigation::target_at;
use crate::workspace::Cursor;

/// At most this many codes of a code set are listed in its hover.
const LISTED_CODES: usize = 30;

/// The hover for the name under the cursor, if it names something.
pub fn hover(cur: &Cursor<'_>) -> Option<Hover> {
    let loaded = &cur.book.current;
    let (span, target) = target_at(&loaded.rulebook, cur.source, cur.offset)?;
    let text = describe(loaded, span, target)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(
            cur.index
                .range(cur.text, span.start as usize, span.end as usize),
        ),
    })
}

/// Markdown describing `target`, named at `span`.
fn describe(loaded: &LoadedRulebook, span: Span, target: &Target) -> Option<String> {
    let book = &loaded.rulebook;
    let mut out = String::new();
    match target {
        Target::Field { record, field } if field.is_empty() => {
            let rec = book.records.get(record)?;
            let _ = write!(out, "**schema {}**{}", rec.name, label_suffix(&rec.label));
            let _ = write!(out, "\n\nclaim record, {} fields", rec.fields.len());
        }
        Target::Field { record, field } => {
            let rec = book.records.get(record)?;
            let f = rec.field(field)?;
            let _ = write!(out, "**{}**: {}{}", f.name, f.ty, label_suffix(&f.label));
            let _ = write!(
                out,
                "\n\nfield of schema record `{}`{}",
                rec.name,
                paren_label(&rec.label)
            );
        }
        Target::Column { table, column } => {
            let t = book.tables.get(table)?;
            let c = t.column(column)?;
            let _ = write!(out, "**{}**: {}{}", c.name, c.ty, label_suffix(&c.label));
            let _ = write!(
                out,
                "\n\ncolumn of table `{}`{}",
                t.name,
                paren_label(&t.title)
            );
            if t.key.contains(&c.name) {
                out.push_str(" · key column");
            }
            if let Some(sep) = &c.sep {
                let _ = write!(out, " · cells split on `{sep}`");
            }
        }
        Target::Table(name) => {
            let t = book.tables.get(name)?;
            let _ = write!(out, "**table {}**{}", t.name, label_suffix(&t.title));
            let _ = write!(out, "\n\nfrom `{}` · key `{}`", t.path, t.key.join(", "));
            if let Some((from, to)) = &t.valid {
                let _ = write!(out, " · valid `{from}..{to}`");
            }
            let _ = write!(out, " · {} columns", t.columns.len());
        }
        Target::Enum(name) => {
            let e = book.enums.get(name)?;
            let _ = writeln!(out, "**enum {}**{}", e.name, label_suffix(&e.label));
            for v in e.variants.iter().take(LISTED_CODES) {
                let _ = write!(
                    out,
                    "\n- `{}` = \"{}\"{}",
                    v.name,
                    v.code,
                    label_suffix(&v.label)
                );
            }
            if e.variants.len() > LISTED_CODES {
                let _ = write!(out, "\n- … {} more", e.variants.len() - LISTED_CODES);
            }
        }
        Target::Variant { enum_name, variant } => {
            let e = book.enums.get(enum_name)?;
            let v = e.variants.iter().find(|v| &v.name == variant)?;
            let _ = write!(
                out,
                "**{}** = \"{}\"{}",
                v.name,
                v.code,
                label_suffix(&v.label)
            );
            let _ = write!(
                out,
                "\n\ncode of enum `{}`{}",
                e.name,
                paren_label(&e.label)
            );
        }
        Target::Const(name) => {
            let c = book.consts.get(name)?;
            let value = loaded.sources.snippet(c.decl.value.span);
            let _ = write!(out, "**const {}**: {}", c.name, c.ty);
            let _ = write!(out, "\n\n```vigil\nconst {} = {}\n```", c.name, value);
        }
        Target::Def(name) => {
            let d = book.defs.get(name)?;
            let params: Vec<String> = d.params.iter().map(|(n, t)| format!("{n}: {t}")).collect();
            let _ = write!(
                out,
                "```vigil\ndef {}({}) -> {}\n```",
                d.name,
                params.join(", "),
                d.ret
            );
        }
        Target::Rule(id) => {
            let r = book.rules.iter().find(|r| &r.id == id)?;
            let _ = write!(out, "**{}** {}", r.id, r.name);
            let _ = write!(
                out,
                "\n\nseverity `{}` · scope `{}`\n\nbasis: {}",
                r.severity.as_str(),
                r.scope.as_str(),
                r.basis
            );
        }
        Target::Builtin(name) => {
            let b = builtins::function(name)?;
            let _ = write!(out, "```vigil\n{}\n```\n\n{}", b.signature, b.doc);
        }
        Target::Property(name) => {
            let base = base_type(loaded, span);
            let on = base.as_ref().map(property_kind).unwrap_or("");
            let prop = builtins::PROPERTIES
                .iter()
                .find(|p| p.name == name && p.on == on)
                .or_else(|| builtins::PROPERTIES.iter().find(|p| p.name == name))?;
            let ty = match base.as_ref().map(Ty::unwrap_optional) {
                Some(Ty::Group(k, _)) if prop.name == "key" => k.to_string(),
                Some(Ty::Group(_, v)) if prop.name == "items" => format!("[{v}]"),
                _ => prop.ty.to_string(),
            };
            let _ = write!(out, "**.{}**: {} — {}", prop.name, ty, prop.doc);
            let _ = write!(out, "\n\nproperty of a {}", prop.on);
        }
        Target::Local { name, def } if def.is_empty() && name == "claim" => {
            let rec = book.records.get("claim")?;
            let _ = write!(out, "**claim**: claim{}", label_suffix(&rec.label));
            out.push_str("\n\nthe claim under review (schema record `claim`)");
        }
        Target::Local { name, def } => {
            let _ = write!(out, "**{name}**");
            if let Some(ty) = local_type(loaded, span, *def) {
                let _ = write!(out, ": {ty}");
            }
            out.push_str("\n\nlocal binding");
        }
    }
    Some(out)
}

/// ` — 标签` after a name, or nothing.
fn label_suffix(label: &Option<String>) -> String {
    label
        .as_deref()
        .filter(|l| !l.is_empty())
        .map(|l| format!(" — {l}"))
        .unwrap_or_default()
}

/// ` (标签)` after a name, or nothing.
fn paren_label(label: &Option<String>) -> String {
    label
        .as_deref()
        .filter(|l| !l.is_empty())
        .map(|l| format!(" ({l})"))
        .unwrap_or_default()
}

/// The type checked for the expression at exactly `span`.
pub fn type_at(book: &Rulebook, span: Span) -> Option<&Ty> {
    book.types.iter().find(|(s, _)| *s == span).map(|(_, t)| t)
}

/// The type of a local: at a use, the use's type; at its binding, the type of any use, else of
/// the `let` value or the `def` parameter it names.
fn local_type(loaded: &LoadedRulebook, span: Span, def: Span) -> Option<Ty> {
    let book = &loaded.rulebook;
    if let Some(t) = type_at(book, span) {
        return Some(t.clone());
    }
    let from_use = book
        .refs
        .iter()
        .filter(|(_, t)| matches!(t, Target::Local { def: d, .. } if *d == def))
        .find_map(|(s, _)| type_at(book, *s));
    if let Some(t) = from_use {
        return Some(t.clone());
    }
    for d in book.defs.values() {
        if let Some(p) = d.decl.params.iter().position(|p| p.name.span == def) {
            return d.params.get(p).map(|(_, t)| t.clone());
        }
    }
    for (_, module) in &loaded.modules {
        for item in &module.items {
            let Item::Rule(rule) = item else { continue };
            for clause in &rule.clauses {
                if let ClauseKind::Let { name, value } = &clause.kind {
                    if name.span == def {
                        return type_at(book, value.span).cloned();
                    }
                }
            }
        }
    }
    None
}

/// The type of the value a property is read from: the expression that ends just before the
/// `.` or `?.` in front of the property's name.
fn base_type(loaded: &LoadedRulebook, name: Span) -> Option<Ty> {
    let text = &loaded.sources.get(name.source)?.text;
    let end = expression_end_before_dot(text, name.start as usize)?;
    loaded
        .rulebook
        .types
        .iter()
        .filter(|(s, _)| s.source == name.source && s.end as usize == end)
        .min_by_key(|(s, _)| s.len())
        .map(|(_, t)| t.clone())
}

/// The byte offset where the expression before a `.name` / `?.name` ends, given where `name`
/// starts; `None` when no dot is there.
pub fn expression_end_before_dot(text: &str, name_start: usize) -> Option<usize> {
    let before = text.get(..name_start)?;
    let before = before.trim_end_matches(is_blank);
    let before = before.strip_suffix('.')?;
    let before = before.strip_suffix('?').unwrap_or(before);
    Some(before.trim_end_matches(is_blank).len())
}

/// White space as the grammar counts it (the ideographic space and the byte-order mark too).
pub fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{3000}' | '\u{FEFF}')
}

/// Which kind of value a property applies to, as `builtins::PROPERTIES` names it.
pub fn property_kind(ty: &Ty) -> &'static str {
    match ty.unwrap_optional() {
        Ty::DateTime => "datetime",
        Ty::Date => "date",
        Ty::Month => "month",
        Ty::Text | Ty::Code => "text",
        Ty::Enum(_) => "enum",
        Ty::Group(..) => "group",
        _ => "",
    }
}

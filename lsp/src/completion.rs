//! Completion: the fields of a record after `claim.` / `line.` / any record-typed expression and
//! a `.`, a row's columns, properties, code names, rule ids after `expect`, type names after `:`,
//! and otherwise every name a rule may use.
//!
//! When the document parsed, the checked type of the expression before the dot says what it
//! is. When it does not (the officer has just typed `claim.`), the identifier chain before the
//! dot (`claim`, `line.hilist_code`, `catalogue_row(…)?.`, `hilist[…]`) is resolved by name
//! against the last model of the rulebook in which every file parsed.

use lsp_types::{CompletionItem, CompletionItemKind, CompletionTextEdit, Documentation, TextEdit};
use vigil_compiler::builtins;
use vigil_compiler::model::Target;
use vigil_compiler::types::{Ty, SCALAR_TYPES};
use vigil_compiler::LoadedRulebook;

use crate::hover::{expression_end_before_dot, is_blank, property_kind, type_at};
use crate::workspace::Cursor;

/// Words of the language an officer types: declarations, clauses, expressions, tests.
const KEYWORDS: &[&str] = &[
    "rulebook", "version", "schema", "enum", "table", "from", "key", "valid", "sep", "const",
    "def", "rule", "severity", "basis", "for", "per", "provider", "month", "of", "let", "when",
    "amount", "message", "test", "given", "claims", "history", "expect", "no", "at", "line",
    "period", "block", "warn", "info", "and", "or", "not", "in", "is", "some", "none", "where",
    "exists", "all", "by", "true", "false", "if", "then", "else",
];

/// How far back the identifier chain before a dot is looked for.
const CHAIN_LOOKBACK: usize = 4096;

/// The completion items at the cursor.
pub fn completion(cur: &Cursor<'_>) -> Vec<CompletionItem> {
    let text = cur.text;
    let offset = cur.offset;
    let line_start = cur.index.line_start(offset);
    let line_before = text.get(line_start..offset).unwrap_or("");
    if let Some(partial) = expect_partial(line_before) {
        return rule_ids(cur, partial);
    }
    let word_start = offset - trailing_ident_len(text.get(..offset).unwrap_or(""));
    if let Some(base_end) = expression_end_before_dot(text, word_start) {
        return members(cur, base_end);
    }
    if is_type_position(text.get(..word_start).unwrap_or("")) {
        return type_names(cur.names_model());
    }
    general(cur)
}

/// After `expect` or `expect no` on a test line: the rule id typed so far.
fn expect_partial(line_before: &str) -> Option<&str> {
    let rest = line_before
        .trim_start_matches(is_blank)
        .strip_prefix("expect")?;
    if !rest.starts_with(is_blank) {
        return None;
    }
    let mut rest = rest.trim_start_matches(is_blank);
    if let Some(after_no) = rest.strip_prefix("no") {
        if after_no.starts_with(is_blank) {
            rest = after_no.trim_start_matches(is_blank);
        }
    }
    rest.chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_' || c == '-')
        .then_some(rest)
}

/// The rule ids of the rulebook, replacing the part of an id already typed.
fn rule_ids(cur: &Cursor<'_>, partial: &str) -> Vec<CompletionItem> {
    let range = cur
        .index
        .range(cur.text, cur.offset - partial.len(), cur.offset);
    cur.names_model()
        .rulebook
        .rules
        .iter()
        .map(|r| CompletionItem {
            label: r.id.clone(),
            kind: Some(CompletionItemKind::EVENT),
            detail: Some(r.name.clone()),
            documentation: Some(Documentation::String(format!(
                "severity {} · scope {}\nbasis: {}",
                r.severity.as_str(),
                r.scope.as_str(),
                r.basis
            ))),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(range, r.id.clone()))),
            ..CompletionItem::default()
        })
        .collect()
}

/// The length in bytes of the identifier characters that end `text`.
fn trailing_ident_len(text: &str) -> usize {
    let kept = text.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    text.len() - kept.len()
}

/// Whether a type is expected here: after `name:`, `->` or `: [`.
fn is_type_position(before: &str) -> bool {
    let t = before.trim_end_matches(is_blank);
    let t = match t.strip_suffix('[') {
        Some(inner) => inner.trim_end_matches(is_blank),
        None => t,
    };
    t.ends_with(':') || t.ends_with("->")
}

/// What may follow `base.` where the expression `base` ends at `base_end`.
fn members(cur: &Cursor<'_>, base_end: usize) -> Vec<CompletionItem> {
    if cur.parsed() {
        let current = &cur.book.current.rulebook;
        let checked = current
            .types
            .iter()
            .filter(|(s, _)| s.source == cur.source && s.end as usize == base_end)
            .min_by_key(|(s, _)| s.len())
            .map(|(_, t)| t.clone());
        if let Some(ty) = checked {
            return members_of(&cur.book.current, &ty);
        }
    }
    let model = cur.names_model();
    match resolve_chain(cur, model, base_end) {
        Some(Resolved::Value(ty)) => members_of(model, &ty),
        Some(Resolved::CodeSet(name)) => variants(model, Some(&name)),
        None => Vec::new(),
    }
}

/// One step of an identifier chain, in reading order.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// The name the chain starts with.
    Name(String),
    /// `(…)` after a name: a call.
    Call,
    /// `[…]`: a table lookup.
    Index,
    /// `.name` or `?.name`.
    Member(String),
}

/// What an identifier chain stands for.
enum Resolved {
    Value(Ty),
    /// A code set's name: `med_type.` is followed by one of its codes.
    CodeSet(String),
}

/// The steps of the chain that ends at `end` (`claim.fee_list`, `catalogue_row(claim, line)?`),
/// read backwards from there; `None` when it does not start with a name.
fn chain_before(text: &str, end: usize) -> Option<Vec<Step>> {
    let start = crate::position::floor_boundary(text, end.saturating_sub(CHAIN_LOOKBACK));
    let window = text.get(start..end)?;
    let mut rest = window;
    let mut steps = Vec::new();
    loop {
        rest = rest.trim_end_matches(is_blank);
        let last = rest.chars().next_back()?;
        if last == ')' || last == ']' {
            let open = matching_open(rest)?;
            steps.push(if last == ')' { Step::Call } else { Step::Index });
            rest = rest[..open].trim_end_matches(is_blank);
            if last == ')' {
                // A call needs its function's name; `(e).x` is not resolved by name.
                let n = trailing_ident_len(rest);
                if n == 0 {
                    return None;
                }
                steps.push(Step::Name(rest[rest.len() - n..].to_string()));
                break;
            }
            continue;
        }
        let n = trailing_ident_len(rest);
        if n == 0 {
            return None;
        }
        let word = rest[rest.len() - n..].to_string();
        rest = &rest[..rest.len() - n];
        match expression_end_before_dot(rest, rest.len()) {
            Some(before) => {
                steps.push(Step::Member(word));
                rest = &rest[..before];
            }
            None => {
                steps.push(Step::Name(word));
                break;
            }
        }
    }
    steps.reverse();
    match steps.first() {
        Some(Step::Name(first)) if !first.starts_with(|c: char| c.is_ascii_digit()) => Some(steps),
        _ => None,
    }
}

/// The byte offset of the bracket that opens the one `text` ends with.
fn matching_open(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices().rev() {
        match c {
            ')' | ']' => depth += 1,
            '(' | '[' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Resolves the chain ending at `end` by name against `model`.
fn resolve_chain(cur: &Cursor<'_>, model: &LoadedRulebook, end: usize) -> Option<Resolved> {
    let steps = chain_before(cur.text, end)?;
    let book = &model.rulebook;
    let mut it = steps.into_iter().peekable();
    let Some(Step::Name(head)) = it.next() else {
        return None;
    };
    let mut ty = match it.peek() {
        Some(Step::Call) => {
            it.next();
            match (book.defs.get(&head), head.as_str()) {
                (Some(d), _) => d.ret.clone(),
                (None, "history") => Ty::List(Box::new(Ty::Record("claim".into()))),
                _ => return None,
            }
        }
        Some(Step::Index) if book.tables.contains_key(&head) => {
            it.next();
            Ty::Row(head.clone()).optional()
        }
        next => {
            if let Some(t) = local_type_by_name(cur, model, &head) {
                t
            } else if head == "claim" && book.records.contains_key("claim") {
                Ty::Record(head.clone())
            } else if let Some(c) = book.consts.get(&head) {
                c.ty.clone()
            } else if next.is_none() && book.enums.contains_key(&head) {
                return Some(Resolved::CodeSet(head));
            } else {
                return None;
            }
        }
    };
    for step in it {
        ty = match step {
            Step::Member(name) => member_type(model, &ty, &name)?,
            Step::Call | Step::Index | Step::Name(_) => return None,
        };
    }
    Some(Resolved::Value(ty))
}

/// The type of a local named `name`, as checked at a use of it: preferring uses in this file
/// before the cursor, nearest first (the model may be older than the text, so this is by name).
fn local_type_by_name(cur: &Cursor<'_>, model: &LoadedRulebook, name: &str) -> Option<Ty> {
    let book = &model.rulebook;
    let same_file = model
        .sources
        .files()
        .iter()
        .find(|f| f.path == cur.path)
        .map(|f| f.id);
    let mut uses: Vec<_> = book
        .refs
        .iter()
        .filter(|(_, t)| matches!(t, Target::Local { name: n, .. } if n == name))
        .filter_map(|(span, _)| Some((span, type_at(book, *span)?)))
        .collect();
    uses.sort_by_key(|(span, _)| {
        let here = Some(span.source) == same_file;
        let before = (span.start as usize) <= cur.offset;
        (here, before, if before { span.start } else { 0 })
    });
    uses.last().map(|(_, t)| (*t).clone())
}

/// The type of `ty.name`: a field, a column, a group's key or items, or a property.
fn member_type(model: &LoadedRulebook, ty: &Ty, name: &str) -> Option<Ty> {
    let book = &model.rulebook;
    match ty.unwrap_optional() {
        Ty::Record(r) => book.records.get(r)?.field(name).map(|f| f.ty.clone()),
        Ty::Row(t) => book.tables.get(t)?.column(name).map(|c| c.ty.clone()),
        Ty::Group(k, v) => match name {
            "key" => Some((**k).clone()),
            "items" => Some(Ty::List(v.clone())),
            _ => None,
        },
        other => {
            let kind = property_kind(other);
            let p = builtins::PROPERTIES
                .iter()
                .find(|p| p.on == kind && p.name == name)?;
            Some(match p.ty {
                "date" => Ty::Date,
                "int" => Ty::Int,
                "month" => Ty::Month,
                "text" => Ty::Text,
                _ => Ty::Code,
            })
        }
    }
}

/// What may follow a value of type `ty` and a dot.
fn members_of(model: &LoadedRulebook, ty: &Ty) -> Vec<CompletionItem> {
    let book = &model.rulebook;
    match ty.unwrap_optional() {
        Ty::Record(r) => {
            let Some(rec) = book.records.get(r) else {
                return Vec::new();
            };
            let owner = format!("field of schema record `{}`", rec.name);
            fields(&rec.fields, &owner)
        }
        Ty::Row(t) => {
            let Some(table) = book.tables.get(t) else {
                return Vec::new();
            };
            let owner = format!("column of table `{}`", table.name);
            fields(&table.columns, &owner)
        }
        Ty::Group(k, v) => vec![
            property_item("key", &k.to_string(), "The key the group was made by."),
            property_item(
                "items",
                &format!("[{v}]"),
                "The elements of the group, in their original order.",
            ),
        ],
        other => {
            let kind = property_kind(other);
            builtins::PROPERTIES
                .iter()
                .filter(|p| !kind.is_empty() && p.on == kind)
                .map(|p| property_item(p.name, p.ty, p.doc))
                .collect()
        }
    }
}

/// Fields or columns, in declaration order, with type and label as detail.
fn fields(list: &[vigil_compiler::model::Field], owner: &str) -> Vec<CompletionItem> {
    list.iter()
        .enumerate()
        .map(|(i, f)| CompletionItem {
            label: f.name.clone(),
            kind: Some(CompletionItemKind::FIELD),
            detail: Some(match &f.label {
                Some(l) if !l.is_empty() => format!("{} — {l}", f.ty),
                _ => f.ty.to_string(),
            }),
            documentation: Some(Documentation::String(owner.to_string())),
            sort_text: Some(format!("{i:04}")),
            ..CompletionItem::default()
        })
        .collect()
}

fn property_item(name: &str, ty: &str, doc: &str) -> CompletionItem {
    CompletionItem {
        label: name.to_string(),
        kind: Some(CompletionItemKind::PROPERTY),
        detail: Some(ty.to_string()),
        documentation: Some(Documentation::String(doc.to_string())),
        ..CompletionItem::default()
    }
}

/// The codes of one code set (or of all), detail `enum "code" label`.
fn variants(model: &LoadedRulebook, only: Option<&str>) -> Vec<CompletionItem> {
    model
        .rulebook
        .enums
        .values()
        .filter(|e| only.is_none_or(|name| e.name == name))
        .flat_map(|e| {
            e.variants.iter().map(move |v| CompletionItem {
                label: v.name.clone(),
                kind: Some(CompletionItemKind::ENUM_MEMBER),
                detail: Some(
                    format!(
                        "{} \"{}\" {}",
                        e.name,
                        v.code,
                        v.label.as_deref().unwrap_or("")
                    )
                    .trim_end()
                    .to_string(),
                ),
                ..CompletionItem::default()
            })
        })
        .collect()
}

/// Type names: the scalars, schema records, code sets and tables.
fn type_names(model: &LoadedRulebook) -> Vec<CompletionItem> {
    let book = &model.rulebook;
    let mut out: Vec<CompletionItem> = SCALAR_TYPES
        .iter()
        .map(|(name, doc)| CompletionItem {
            label: name.to_string(),
            kind: Some(CompletionItemKind::TYPE_PARAMETER),
            detail: Some(doc.to_string()),
            ..CompletionItem::default()
        })
        .collect();
    out.extend(book.records.values().map(|r| CompletionItem {
        label: r.name.clone(),
        kind: Some(CompletionItemKind::STRUCT),
        detail: r.label.clone(),
        ..CompletionItem::default()
    }));
    out.extend(book.enums.values().map(|e| CompletionItem {
        label: e.name.clone(),
        kind: Some(CompletionItemKind::ENUM),
        detail: e.label.clone(),
        ..CompletionItem::default()
    }));
    out.extend(book.tables.values().map(|t| CompletionItem {
        label: t.name.clone(),
        kind: Some(CompletionItemKind::CLASS),
        detail: t.title.clone(),
        ..CompletionItem::default()
    }));
    out
}

/// Every name that may start an expression, and the keywords.
fn general(cur: &Cursor<'_>) -> Vec<CompletionItem> {
    let model = cur.names_model();
    let book = &model.rulebook;
    let mut out: Vec<CompletionItem> = KEYWORDS
        .iter()
        .map(|k| CompletionItem {
            label: k.to_string(),
            kind: Some(CompletionItemKind::KEYWORD),
            ..CompletionItem::default()
        })
        .collect();
    out.push(CompletionItem {
        label: "claim".into(),
        kind: Some(CompletionItemKind::VARIABLE),
        detail: Some("the claim under review".into()),
        ..CompletionItem::default()
    });
    out.extend(locals_in_scope(cur));
    out.extend(builtins::FUNCTIONS.iter().map(|b| CompletionItem {
        label: b.name.to_string(),
        kind: Some(CompletionItemKind::FUNCTION),
        detail: Some(b.signature.to_string()),
        documentation: Some(Documentation::String(b.doc.to_string())),
        ..CompletionItem::default()
    }));
    out.extend(book.consts.values().map(|c| CompletionItem {
        label: c.name.clone(),
        kind: Some(CompletionItemKind::CONSTANT),
        detail: Some(format!(
            "const: {} = {}",
            c.ty,
            model.sources.snippet(c.decl.value.span)
        )),
        ..CompletionItem::default()
    }));
    out.extend(book.defs.values().map(|d| {
        let params: Vec<String> = d.params.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        CompletionItem {
            label: d.name.clone(),
            kind: Some(CompletionItemKind::FUNCTION),
            detail: Some(format!(
                "def {}({}) -> {}",
                d.name,
                params.join(", "),
                d.ret
            )),
            ..CompletionItem::default()
        }
    }));
    out.extend(book.tables.values().map(|t| CompletionItem {
        label: t.name.clone(),
        kind: Some(CompletionItemKind::CLASS),
        detail: Some(match &t.title {
            Some(title) => format!("table {title}"),
            None => "table".into(),
        }),
        ..CompletionItem::default()
    }));
    out.extend(book.enums.values().map(|e| CompletionItem {
        label: e.name.clone(),
        kind: Some(CompletionItemKind::ENUM),
        detail: e.label.clone(),
        ..CompletionItem::default()
    }));
    out.extend(variants(model, None));
    out
}

/// The locals bound before the cursor in the declaration around it (when the document parsed,
/// so that the model's positions are this text's).
fn locals_in_scope(cur: &Cursor<'_>) -> Vec<CompletionItem> {
    if !cur.parsed() {
        return Vec::new();
    }
    let loaded = &cur.book.current;
    let Some(item_span) = loaded
        .modules
        .iter()
        .find(|(id, _)| *id == cur.source)
        .and_then(|(_, m)| {
            m.items
                .iter()
                .map(|i| i.span())
                .find(|s| s.contains(cur.offset))
        })
    else {
        return Vec::new();
    };
    let book = &loaded.rulebook;
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for (span, target) in &book.refs {
        let Target::Local { name, def } = target else {
            continue;
        };
        if span != def
            || def.source != cur.source
            || !item_span.contains(def.start as usize)
            || def.end as usize > cur.offset
            || seen.contains(&name.as_str())
        {
            continue;
        }
        seen.push(name);
        let ty = book
            .refs
            .iter()
            .filter(|(_, t)| matches!(t, Target::Local { def: d, .. } if d == def))
            .find_map(|(s, _)| type_at(book, *s));
        out.push(CompletionItem {
            label: name.clone(),
            kind: Some(CompletionItemKind::VARIABLE),
            detail: ty.map(|t| t.to_string()),
            ..CompletionItem::default()
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_read_backwards() {
        let text = "when catalogue_row(claim, line)?.pric_uplmt_amt";
        let end = text.len();
        assert_eq!(
            chain_before(text, end),
            Some(vec![
                Step::Name("catalogue_row".into()),
                Step::Call,
                Step::Member("pric_uplmt_amt".into()),
            ])
        );
        let text = "x == hilist[code at d] ?. hilist_name";
        assert_eq!(
            chain_before(text, text.len()),
            Some(vec![
                Step::Name("hilist".into()),
                Step::Index,
                Step::Member("hilist_name".into()),
            ])
        );
        assert_eq!(chain_before("(a + b)", 7), None);
        assert_eq!(chain_before("1", 1), None);
        assert_eq!(chain_before("", 0), None);
        assert_eq!(chain_before("a]", 2), None);
    }

    #[test]
    fn contexts() {
        assert_eq!(expect_partial("  expect no CN-PR"), Some("CN-PR"));
        assert_eq!(expect_partial("expect "), Some(""));
        assert_eq!(expect_partial("expected"), None);
        assert!(is_type_position("  fee_list: ["));
        assert!(is_type_position("def f(c: claim) -> "));
        assert!(!is_type_position("when a "));
    }
}

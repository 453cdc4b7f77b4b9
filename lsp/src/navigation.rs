//! What a name under the cursor refers to (`Rulebook::refs`), where it is declared, and every
//! place that names the same thing: go to definition and find references.

use lsp_types::Location;
use vigil_compiler::model::{Rulebook, Target};
use vigil_compiler::LoadedRulebook;
use vigil_dsl::{SourceId, Span};

use crate::diagnostics::SourceLines;
use crate::workspace::{Cursor, Workspace};

/// The name at `offset` of `source` and what it refers to: the innermost recorded name whose
/// span holds the offset (its end included, so a cursor just after a word finds it).
pub fn target_at(book: &Rulebook, source: SourceId, offset: usize) -> Option<(Span, &Target)> {
    book.refs
        .iter()
        .filter(|(span, _)| span.source == source && span.contains(offset))
        .min_by_key(|(span, _)| span.len())
        .map(|(span, target)| (*span, target))
}

/// Where a target is declared: the name in its declaration (`None` for built-ins).
pub fn definition_span(book: &Rulebook, target: &Target) -> Option<Span> {
    match target {
        Target::Field { record, field } => {
            let rec = book.records.get(record)?;
            if field.is_empty() {
                Some(rec.span)
            } else {
                rec.field(field).map(|f| f.span)
            }
        }
        Target::Column { table, column } => book.tables.get(table)?.column(column).map(|c| c.span),
        Target::Table(t) => book.tables.get(t).map(|t| t.span),
        Target::Enum(e) => book.enums.get(e).map(|e| e.span),
        Target::Variant { enum_name, variant } => book
            .enums
            .get(enum_name)?
            .variants
            .iter()
            .find(|v| &v.name == variant)
            .map(|v| v.span),
        Target::Const(c) => book.consts.get(c).map(|c| c.decl.name.span),
        Target::Def(d) => book.defs.get(d).map(|d| d.decl.name.span),
        Target::Rule(r) => book
            .rules
            .iter()
            .find(|rule| &rule.id == r)
            .map(|rule| rule.decl.id.span),
        // `claim` is bound by every rule with no text of its own: its declaration is the schema.
        Target::Local { name, def } if def.is_empty() && name == "claim" => {
            book.records.get("claim").map(|r| r.span)
        }
        Target::Local { def, .. } if def.is_empty() => None,
        Target::Local { def, .. } => Some(*def),
        Target::Builtin(_) | Target::Property(_) => None,
    }
}

/// The declaration of the name under the cursor.
pub fn definition(ws: &Workspace, cur: &Cursor<'_>) -> Option<Location> {
    let loaded = &cur.book.current;
    let (_, target) = target_at(&loaded.rulebook, cur.source, cur.offset)?;
    let span = definition_span(&loaded.rulebook, target)?;
    location(ws, loaded, &mut SourceLines::new(&loaded.sources), span)
}

/// Every use of the name under the cursor, in file and position order; its declaration too
/// when `include_declaration`.
pub fn references(ws: &Workspace, cur: &Cursor<'_>, include_declaration: bool) -> Vec<Location> {
    let loaded = &cur.book.current;
    let book = &loaded.rulebook;
    let Some((_, target)) = target_at(book, cur.source, cur.offset) else {
        return Vec::new();
    };
    let declared = definition_span(book, target);
    let mut spans: Vec<Span> = book
        .refs
        .iter()
        .filter(|(_, t)| t == target)
        .map(|(span, _)| *span)
        .filter(|span| include_declaration || Some(*span) != declared)
        .collect();
    if include_declaration {
        if let Some(d) = declared {
            spans.push(d);
        }
    }
    spans.sort_by_key(|s| (s.source, s.start, s.end));
    spans.dedup();
    let mut lines = SourceLines::new(&loaded.sources);
    spans
        .into_iter()
        .filter_map(|span| location(ws, loaded, &mut lines, span))
        .collect()
}

/// A span as an editor location.
fn location(
    ws: &Workspace,
    loaded: &LoadedRulebook,
    lines: &mut SourceLines<'_>,
    span: Span,
) -> Option<Location> {
    let file = loaded.sources.get(span.source)?;
    let uri = ws.uri_for(&file.path)?;
    Some(Location::new(uri, lines.range(span)))
}

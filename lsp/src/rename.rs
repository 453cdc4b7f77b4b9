//! Rename: lets and binders, consts, defs, tables and table columns, across every file of the
//! rulebook. A column's rename also renames its header cell in the table's CSV file, so that
//! the table still loads. Schema fields and codes are not renamed: their names are the national
//! data contract (formats.md), which claims and other systems share.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use lsp_types::{Position, Range, TextEdit, Uri, WorkspaceEdit};
use vigil_compiler::model::{Rulebook, Target};
use vigil_dsl::Span;

use crate::diagnostics::SourceLines;
use crate::navigation::{definition_span, target_at};
use crate::workspace::{Cursor, Workspace};

/// Why a rename was refused, in words for the editor.
pub type Refusal = String;

/// The name under the cursor, if it can be renamed: its range and text (prepareRename).
pub fn prepare(cur: &Cursor<'_>) -> Result<(Range, String), Refusal> {
    let loaded = &cur.book.current;
    let (span, target) =
        target_at(&loaded.rulebook, cur.source, cur.offset).ok_or("nothing to rename here")?;
    renamable(target)?;
    let text = loaded.sources.snippet(span).to_string();
    let mut lines = SourceLines::new(&loaded.sources);
    Ok((lines.range(span), text))
}

/// The edits that rename the name under the cursor to `new_name`.
pub fn rename(ws: &Workspace, cur: &Cursor<'_>, new_name: &str) -> Result<WorkspaceEdit, Refusal> {
    let loaded = &cur.book.current;
    let book = &loaded.rulebook;
    let (_, target) = target_at(book, cur.source, cur.offset).ok_or("nothing to rename here")?;
    renamable(target)?;
    if !is_identifier(new_name) {
        return Err(format!(
            "`{new_name}` is not a name: use letters, digits and `_`, not starting with a digit"
        ));
    }
    let old = match target {
        Target::Local { name, .. }
        | Target::Const(name)
        | Target::Def(name)
        | Target::Table(name) => name.clone(),
        Target::Column { column, .. } => column.clone(),
        _ => return Err("this cannot be renamed".into()),
    };
    if new_name == old {
        return Ok(WorkspaceEdit::default());
    }
    if matches!(target, Target::Const(_) | Target::Def(_) | Target::Table(_))
        && taken(book, new_name)
    {
        return Err(format!("`{new_name}` is already declared in this rulebook"));
    }
    if let Target::Column { table, .. } = target {
        if book
            .tables
            .get(table)
            .is_some_and(|t| t.column(new_name).is_some())
        {
            return Err(format!("table `{table}` already has a column `{new_name}`"));
        }
    }

    let mut spans: Vec<Span> = book
        .refs
        .iter()
        .filter(|(_, t)| t == target)
        .map(|(s, _)| *s)
        .collect();
    spans.extend(definition_span(book, target));
    spans.sort_by_key(|s| (s.source, s.start, s.end));
    spans.dedup();
    let mut lines = SourceLines::new(&loaded.sources);
    // Collected by the URI's text: a `Uri` caches parts of itself, so it is kept out of keys
    // until lsp-types' `WorkspaceEdit` (keyed by `Uri`) is built at the end.
    let mut changes: BTreeMap<String, (Uri, Vec<TextEdit>)> = BTreeMap::new();
    for span in spans {
        // Only a span that reads exactly the old name is edited: never a wider one.
        if loaded.sources.snippet(span) != old {
            continue;
        }
        let Some(file) = loaded.sources.get(span.source) else {
            continue;
        };
        let Some(uri) = ws.uri_for(&file.path) else {
            continue;
        };
        changes
            .entry(uri.as_str().to_string())
            .or_insert_with(|| (uri.clone(), Vec::new()))
            .1
            .push(TextEdit::new(lines.range(span), new_name.to_string()));
    }
    if let (Target::Column { table, .. }, Some(root)) = (target, &loaded.root) {
        if let Some((uri, edit)) = book
            .tables
            .get(table)
            .and_then(|t| header_edit(ws, &root.join(&t.path), &old, new_name))
        {
            changes
                .entry(uri.as_str().to_string())
                .or_insert_with(|| (uri.clone(), Vec::new()))
                .1
                .push(edit);
        }
    }
    Ok(workspace_edit(changes))
}

/// The `WorkspaceEdit` lsp-types defines, keyed by `Uri`: its cached parts never change once
/// built, so hashing it as a key is sound.
#[allow(clippy::mutable_key_type)]
fn workspace_edit(changes: BTreeMap<String, (Uri, Vec<TextEdit>)>) -> WorkspaceEdit {
    let map: HashMap<Uri, Vec<TextEdit>> = changes.into_values().collect();
    WorkspaceEdit {
        changes: Some(map),
        ..WorkspaceEdit::default()
    }
}

fn renamable(target: &Target) -> Result<(), Refusal> {
    match target {
        Target::Local { name, def } => {
            // `claim`, and the names a provider rule binds, have no declaration of their own.
            if def.is_empty() || name == "claim" {
                return Err(format!(
                    "`{name}` is bound by the rule itself and cannot be renamed"
                ));
            }
            Ok(())
        }
        Target::Const(_) | Target::Def(_) | Target::Table(_) | Target::Column { .. } => Ok(()),
        Target::Field { .. } => Err(
            "schema fields carry the national field names of the claim data and are not renamed"
                .into(),
        ),
        Target::Enum(_) | Target::Variant { .. } => {
            Err("code sets and codes are not renamed here".into())
        }
        Target::Rule(_) => {
            Err("rule ids are the stable keys of findings and are not renamed".into())
        }
        Target::Builtin(_) | Target::Property(_) => Err("built-in names cannot be renamed".into()),
    }
}

fn taken(book: &Rulebook, name: &str) -> bool {
    book.consts.contains_key(name)
        || book.defs.contains_key(name)
        || book.tables.contains_key(name)
        || book.records.contains_key(name)
        || book.enums.contains_key(name)
}

fn is_identifier(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "and", "or", "not", "in", "is", "some", "none", "where", "exists", "all", "for", "at",
        "by", "true", "false", "if", "then", "else",
    ];
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&s)
}

/// The edit of the CSV header cell that names `old`, in the table's file.
fn header_edit(ws: &Workspace, file: &Path, old: &str, new_name: &str) -> Option<(Uri, TextEdit)> {
    let text = std::fs::read_to_string(file).ok()?;
    let header = text.lines().next()?;
    let mut cell_start = 0usize;
    for cell in header.split(',') {
        let bare = cell.trim().trim_start_matches('\u{FEFF}').trim_matches('"');
        if bare == old {
            let at = cell_start + cell.find(old)?;
            let start = header[..at].encode_utf16().count() as u32;
            let end = start + old.encode_utf16().count() as u32;
            let range = Range::new(Position::new(0, start), Position::new(0, end));
            return Some((
                ws.uri_for(file)?,
                TextEdit::new(range, new_name.to_string()),
            ));
        }
        cell_start += cell.len() + 1;
    }
    None
}

//! The outline of a document: its header, schemas (with fields), code sets (with codes), tables
//! (with columns), constants, defs, rules (id and name) and tests.

use lsp_types::{DocumentSymbol, SymbolKind};
use vigil_dsl::ast::{Item, Module};
use vigil_dsl::Span;

use crate::workspace::Cursor;

/// The symbols of the document under `cur` (none while it does not parse).
pub fn document_symbols(cur: &Cursor<'_>) -> Vec<DocumentSymbol> {
    let Some((_, module)) = cur
        .book
        .current
        .modules
        .iter()
        .find(|(id, _)| *id == cur.source)
    else {
        return Vec::new();
    };
    let sym = |name: &str, detail: Option<&str>, kind, whole: Span, name_span: Span| {
        symbol(cur, name, detail, kind, whole, name_span)
    };
    outline(module, &sym)
}

type MakeSymbol<'a> = dyn Fn(&str, Option<&str>, SymbolKind, Span, Span) -> DocumentSymbol + 'a;

fn outline(module: &Module, sym: &MakeSymbol<'_>) -> Vec<DocumentSymbol> {
    let label = |s: &Option<vigil_dsl::ast::StrLit>| s.as_ref().map(|l| l.value.clone());
    module
        .items
        .iter()
        .map(|item| match item {
            Item::Rulebook(d) => sym(
                &d.id.name,
                Some(&d.title.value),
                SymbolKind::PACKAGE,
                d.span,
                d.id.span,
            ),
            Item::Schema(d) => {
                let mut s = sym(
                    &d.name.name,
                    label(&d.label).as_deref(),
                    SymbolKind::STRUCT,
                    d.span,
                    d.name.span,
                );
                s.children = Some(
                    d.fields
                        .iter()
                        .map(|f| {
                            sym(
                                &f.name.name,
                                label(&f.label).as_deref(),
                                SymbolKind::FIELD,
                                f.span,
                                f.name.span,
                            )
                        })
                        .collect(),
                );
                s
            }
            Item::Enum(d) => {
                let mut s = sym(
                    &d.name.name,
                    label(&d.label).as_deref(),
                    SymbolKind::ENUM,
                    d.span,
                    d.name.span,
                );
                s.children = Some(
                    d.variants
                        .iter()
                        .map(|v| {
                            let detail = match &v.label {
                                Some(l) => format!("\"{}\" {}", v.code.value, l.value),
                                None => format!("\"{}\"", v.code.value),
                            };
                            sym(
                                &v.name.name,
                                Some(&detail),
                                SymbolKind::ENUM_MEMBER,
                                v.span,
                                v.name.span,
                            )
                        })
                        .collect(),
                );
                s
            }
            Item::Table(d) => {
                let mut s = sym(
                    &d.name.name,
                    label(&d.title).as_deref(),
                    SymbolKind::CLASS,
                    d.span,
                    d.name.span,
                );
                s.children = Some(
                    d.columns
                        .iter()
                        .map(|c| {
                            sym(
                                &c.name.name,
                                label(&c.label).as_deref(),
                                SymbolKind::FIELD,
                                c.span,
                                c.name.span,
                            )
                        })
                        .collect(),
                );
                s
            }
            Item::Const(d) => sym(
                &d.name.name,
                None,
                SymbolKind::CONSTANT,
                d.span,
                d.name.span,
            ),
            Item::Def(d) => sym(
                &d.name.name,
                None,
                SymbolKind::FUNCTION,
                d.span,
                d.name.span,
            ),
            Item::Rule(d) => sym(
                &d.id.name,
                Some(&d.name.value),
                SymbolKind::EVENT,
                d.span,
                d.id.span,
            ),
            Item::Test(d) => sym(
                &d.name.value,
                Some("test"),
                SymbolKind::METHOD,
                d.span,
                d.name.span,
            ),
        })
        .collect()
}

/// One symbol; `name_span` must lie inside `whole` (the LSP requires it), so it is clamped.
fn symbol(
    cur: &Cursor<'_>,
    name: &str,
    detail: Option<&str>,
    kind: SymbolKind,
    whole: Span,
    name_span: Span,
) -> DocumentSymbol {
    let start = name_span.start.clamp(whole.start, whole.end) as usize;
    let end = name_span.end.clamp(whole.start, whole.end) as usize;
    // An empty name is refused by some clients.
    let name = if name.is_empty() { "(unnamed)" } else { name };
    #[allow(deprecated)] // `deprecated` is a required field of the struct, superseded by `tags`
    DocumentSymbol {
        name: name.to_string(),
        detail: detail.map(str::to_string),
        kind,
        tags: None,
        deprecated: None,
        range: cur
            .index
            .range(cur.text, whole.start as usize, whole.end as usize),
        selection_range: cur.index.range(cur.text, start, end),
        children: None,
    }
}

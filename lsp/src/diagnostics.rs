//! The compiler's `Diagnostic` values as LSP diagnostics: the same code, severity, message and
//! labels the terminal shows, with the help line appended to the message.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use lsp_types::{
    DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Range, Uri,
};
use vigil_compiler::source::SourceMap;
use vigil_compiler::{Diagnostic, LoadedRulebook, Severity};
use vigil_dsl::{SourceId, Span};

use crate::position::LineIndex;

/// The name editors show as the diagnostics' origin.
const SOURCE: &str = "vigil";

/// Every file of a checked rulebook with its diagnostics, including files with none (so that
/// publishing them clears what an earlier check reported).
///
/// `loose_doc` is the document of a rulebook with no folder: the compiler's "no header"
/// diagnostic points into a `rulebook.vigil` that does not exist, so it is shown at the start
/// of the document instead.
pub fn by_file(
    loaded: &LoadedRulebook,
    loose_doc: Option<&Path>,
    uri_of: &dyn Fn(&Path) -> Option<Uri>,
) -> BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> {
    let mut lines = SourceLines::new(&loaded.sources);
    let mut out: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
    for file in loaded.sources.files() {
        if let Some(path) = shown_in(&file.path, loose_doc) {
            out.entry(path.0).or_default();
        }
    }
    for d in &loaded.diagnostics {
        let Some(file) = loaded.sources.get(d.primary.span.source) else {
            continue;
        };
        let Some((path, moved)) = shown_in(&file.path, loose_doc) else {
            continue;
        };
        let range = if moved {
            Range::default()
        } else {
            lines.range(d.primary.span)
        };
        let converted = to_lsp(d, range, &mut lines, uri_of);
        out.entry(path).or_default().push(converted);
    }
    out
}

/// Where a file's diagnostics are shown, and whether they were moved there from a file that
/// does not exist.
fn shown_in(path: &Path, loose_doc: Option<&Path>) -> Option<(PathBuf, bool)> {
    match loose_doc {
        Some(doc) => Some((doc.to_path_buf(), path != doc)),
        None if path.is_relative() => None,
        None => Some((path.to_path_buf(), false)),
    }
}

/// One diagnostic for the editor, its primary span already converted to `range`.
pub fn to_lsp(
    d: &Diagnostic,
    range: Range,
    lines: &mut SourceLines<'_>,
    uri_of: &dyn Fn(&Path) -> Option<Uri>,
) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|label| {
            let file = lines.sources.get(label.span.source)?;
            let uri = uri_of(&file.path)?;
            Some(DiagnosticRelatedInformation {
                location: Location::new(uri, lines.range(label.span)),
                message: label.text.clone(),
            })
        })
        .collect();
    lsp_types::Diagnostic {
        range,
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        code_description: None,
        source: Some(SOURCE.to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// Spans of a rulebook's files as LSP ranges, each file's lines indexed once.
pub struct SourceLines<'a> {
    sources: &'a SourceMap,
    indexes: HashMap<SourceId, LineIndex>,
}

impl<'a> SourceLines<'a> {
    /// Ranges into the files of `sources`.
    pub fn new(sources: &'a SourceMap) -> Self {
        SourceLines {
            sources,
            indexes: HashMap::new(),
        }
    }

    /// The LSP range of a span (empty at the start for a span into no known file).
    pub fn range(&mut self, span: Span) -> Range {
        let Some(file) = self.sources.get(span.source) else {
            return Range::default();
        };
        let index = self
            .indexes
            .entry(span.source)
            .or_insert_with(|| LineIndex::new(&file.text));
        index.range(&file.text, span.start as usize, span.end as usize)
    }
}

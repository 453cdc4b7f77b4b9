//! Diagnostics are values: a code, a severity, a message, spans with labels, and help.
//!
//! One value, several renderings: miette in the terminal (`render`), JSON lines for CI tools
//! (`to_json`), and LSP diagnostics in the language server. Nothing here decides how to show.

use std::fmt::Write as _;

use serde::Serialize;
use vigil_dsl::{line_col, Span};

use crate::source::SourceMap;

/// How bad a diagnostic is. Errors stop a rulebook from running; warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A span and what to say about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// A problem found in a rulebook.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Stable code, `V0301`; documented in docs/language.md.
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is; the underline in the terminal and the editor.
    pub primary: Label,
    /// Other places that explain it (the first definition of a duplicate, …).
    pub secondary: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            primary: Label {
                span,
                text: label.into(),
            },
            secondary: vec![],
            help: None,
        }
    }

    /// A warning at `span`.
    pub fn warning(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span, label)
        }
    }

    /// Adds help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, text: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    /// Orders diagnostics by file, position, then code: the order they are shown in.
    pub fn sort_key(&self) -> (u32, u32, u32, &'static str) {
        (
            self.primary.span.source.0,
            self.primary.span.start,
            self.primary.span.end,
            self.code,
        )
    }

    /// The diagnostic as one JSON object (file, line, column, end_line, end_column, …).
    pub fn to_json(&self, sources: &SourceMap) -> serde_json::Value {
        let (file, (line, column), (end_line, end_column)) =
            match sources.get(self.primary.span.source) {
                Some(f) => (
                    f.path.display().to_string(),
                    line_col(&f.text, self.primary.span.start as usize),
                    line_col(&f.text, self.primary.span.end as usize),
                ),
                None => (String::new(), (0, 0), (0, 0)),
            };
        serde_json::json!({
            "file": file,
            "line": line,
            "column": column,
            "end_line": end_line,
            "end_column": end_column,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "label": self.primary.text,
            "help": self.help,
        })
    }

    /// A one-line summary: `file:line:col: error[V0202]: message`.
    pub fn headline(&self, sources: &SourceMap) -> String {
        let (file, (line, col)) = match sources.get(self.primary.span.source) {
            Some(f) => (
                f.path.display().to_string(),
                line_col(&f.text, self.primary.span.start as usize),
            ),
            None => (String::from("<unknown>"), (0, 0)),
        };
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!(
            "{file}:{line}:{col}: {sev}[{}]: {}",
            self.code, self.message
        )
    }

    /// miette pads the underline to the span's column with a format width, which Rust caps at
    /// 65,535: a span far out on a very long line must not reach it.
    fn has_overlong_line(&self, sources: &SourceMap) -> bool {
        const LONGEST_DRAWN_LINE: usize = 4096;
        std::iter::once(&self.primary)
            .chain(&self.secondary)
            .any(|l| {
                let Some(f) = sources.get(l.span.source) else {
                    return false;
                };
                let mut at = (l.span.start as usize).min(f.text.len());
                while !f.text.is_char_boundary(at) {
                    at -= 1;
                }
                let line_start = f.text[..at].rfind('\n').map_or(0, |i| i + 1);
                let line_end = f.text[at..].find('\n').map_or(f.text.len(), |i| at + i);
                line_end - line_start > LONGEST_DRAWN_LINE
            })
    }

    /// The diagnostic without a source snippet: headline, label and help.
    fn render_plain(&self, sources: &SourceMap) -> String {
        let mut out = format!("{}\n  = {}\n", self.headline(sources), self.primary.text);
        if let Some(h) = &self.help {
            let _ = writeln!(out, "  help: {h}");
        }
        out
    }

    /// Renders with miette: file:line:col, the source with the span underlined, labels, help.
    /// `color` selects ANSI colours (for a terminal) or plain text (files, tests).
    pub fn render(&self, sources: &SourceMap, color: bool) -> String {
        if self.has_overlong_line(sources) {
            return self.render_plain(sources);
        }
        let report = MietteView::new(self, sources);
        let theme = if color {
            miette::GraphicalTheme::unicode()
        } else {
            miette::GraphicalTheme::unicode_nocolor()
        };
        // miette counts header columns in bytes; ours count characters, as editors do.
        let handler = miette::GraphicalReportHandler::new_themed(theme)
            .with_width(100)
            .with_context_lines(1)
            .without_primary_span_start();
        let mut out = String::new();
        if handler.render_report(&mut out, &report).is_err() {
            // The fallback keeps the essentials when the graphical renderer can't lay it out.
            let _ = writeln!(out, "{}", self.headline(sources));
        }
        out
    }
}

/// Adapter that shows a `Diagnostic` to miette with the file it points into.
#[derive(Debug)]
struct MietteView {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    source: miette::NamedSource<String>,
    labels: Vec<miette::LabeledSpan>,
}

impl MietteView {
    fn new(d: &Diagnostic, sources: &SourceMap) -> Self {
        let file = sources.get(d.primary.span.source);
        let (name, text) = match file {
            Some(f) => {
                let (line, col) = line_col(&f.text, d.primary.span.start as usize);
                (format!("{}:{line}:{col}", f.path.display()), f.text.clone())
            }
            None => (String::from("<unknown>"), String::new()),
        };
        let clamp = |s: Span| {
            let start = (s.start as usize).min(text.len());
            let end = (s.end as usize).clamp(start, text.len());
            (start, end - start)
        };
        let mut labels = vec![miette::LabeledSpan::new_primary_with_span(
            Some(d.primary.text.clone()),
            clamp(d.primary.span),
        )];
        for l in &d.secondary {
            // miette draws one source per report: labels in other files go into the help text.
            if l.span.source == d.primary.span.source {
                labels.push(miette::LabeledSpan::new_with_span(
                    Some(l.text.clone()),
                    clamp(l.span),
                ));
            }
        }
        let mut help = d.help.clone();
        let elsewhere: Vec<String> = d
            .secondary
            .iter()
            .filter(|l| l.span.source != d.primary.span.source)
            .filter_map(|l| {
                let f = sources.get(l.span.source)?;
                let (line, col) = line_col(&f.text, l.span.start as usize);
                Some(format!("{}:{line}:{col}: {}", f.path.display(), l.text))
            })
            .collect();
        if !elsewhere.is_empty() {
            let extra = elsewhere.join("\n");
            help = Some(match help {
                Some(h) => format!("{h}\n{extra}"),
                None => extra,
            });
        }
        MietteView {
            message: d.message.clone(),
            code: d.code.to_string(),
            severity: match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            help,
            source: miette::NamedSource::new(name, text).with_language("vigil"),
            labels,
        }
    }
}

impl std::fmt::Display for MietteView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MietteView {}

impl miette::Diagnostic for MietteView {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

//! Comparing syntax trees without their positions.

use vigil_dsl::ast::Module;

/// The tree's debug text with every span blanked, so that trees compare modulo positions.
pub fn without_spans(m: &Module) -> String {
    const SPAN: &str = "Span { source: SourceId(";
    let text = format!("{m:?}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(SPAN) {
        out.push_str(&rest[..i]);
        out.push_str("Span");
        let after = &rest[i..];
        rest = after.find(" }").map_or("", |j| &after[j + 2..]);
    }
    out.push_str(rest);
    out
}

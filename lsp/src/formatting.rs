//! Document formatting: the formatter's one layout (`vigil_dsl::fmt::format_source`), as a
//! single edit replacing the whole text. A text that does not parse gets no edits.

use lsp_types::{Range, TextEdit};

use crate::position::LineIndex;

/// The edits that lay `text` out canonically: none when it is already, or does not parse.
pub fn format(text: &str) -> Vec<TextEdit> {
    match vigil_dsl::fmt::format_source(text) {
        Ok(formatted) if formatted != text => {
            let index = LineIndex::new(text);
            let whole = Range::new(lsp_types::Position::new(0, 0), index.end(text));
            vec![TextEdit::new(whole, formatted)]
        }
        _ => Vec::new(),
    }
}

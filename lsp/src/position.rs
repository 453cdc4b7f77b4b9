//! Positions as editors count them: an LSP position is a line and a column in UTF-16 code units
//! (a CJK character is one unit but three bytes; an emoji is two units and four bytes), while
//! the compiler's spans are byte offsets. Every conversion goes through [`LineIndex`].

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};

/// Where each line of a text starts, for converting byte offsets to and from LSP positions.
///
/// Lines end at `\n`, `\r\n` or a lone `\r`, as the LSP specification counts them.
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset of the first character of each line; the first is always 0.
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    /// Indexes the lines of `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    /// The LSP position of a byte offset (clamped to the text, moved back to a char boundary).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = floor_boundary(text, offset.min(self.len));
        let line = self.line_of(offset);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let character: usize = text
            .get(start..offset)
            .unwrap_or("")
            .chars()
            .map(char::len_utf16)
            .sum();
        Position::new(to_u32(line), to_u32(character))
    }

    /// The LSP range of a byte range.
    pub fn range(&self, text: &str, start: usize, end: usize) -> Range {
        let start_pos = self.position(text, start);
        let end_pos = self.position(text, end.max(start));
        Range::new(start_pos, end_pos)
    }

    /// The byte offset of an LSP position. A line past the end is the end of the text; a
    /// column past the end of its line is the end of the line; a column inside a surrogate
    /// pair is the start of that character.
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let line = pos.line as usize;
        let Some(&start) = self.starts.get(line) else {
            return self.len;
        };
        let line_text = text.get(start..self.line_end(text, line)).unwrap_or("");
        let mut units = 0usize;
        for (i, c) in line_text.char_indices() {
            let next = units + c.len_utf16();
            if next > pos.character as usize {
                return start + i;
            }
            units = next;
        }
        start + line_text.len()
    }

    /// The byte offset where line `line`'s text ends (before its line break).
    fn line_end(&self, text: &str, line: usize) -> usize {
        let Some(&next) = self.starts.get(line + 1) else {
            return self.len;
        };
        // `next` follows a line break (`\n`, `\r\n` or a lone `\r`), so it is at least 1.
        let last = next.saturating_sub(1);
        let bytes = text.as_bytes();
        if bytes.get(last) == Some(&b'\n') && last > 0 && bytes.get(last - 1) == Some(&b'\r') {
            last - 1
        } else {
            last
        }
    }

    /// The byte offset where the line holding `offset` starts.
    pub fn line_start(&self, offset: usize) -> usize {
        self.starts.get(self.line_of(offset)).copied().unwrap_or(0)
    }

    /// The line holding `offset` (`starts[0]` is 0, so some line starts at or before it).
    fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// The position just past the last character.
    pub fn end(&self, text: &str) -> Position {
        self.position(text, self.len)
    }
}

/// Applies one `didChange` content change to `text`: a whole new text, or a range replaced.
pub fn apply_change(text: &mut String, change: TextDocumentContentChangeEvent) {
    match change.range {
        None => *text = change.text,
        Some(range) => {
            let index = LineIndex::new(text);
            let start = index.offset(text, range.start);
            let end = index.offset(text, range.end).max(start);
            text.replace_range(start..end, &change.text);
        }
    }
}

/// The largest char boundary at or before `offset`.
pub fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// LSP counts in `u32`; a text longer than that (the compiler refuses files over 8 MiB) saturates.
fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_utf16_units() {
        let text = "规则 a\n😀x\r\nyz\rw";
        let idx = LineIndex::new(text);
        // `a` is after two CJK chars (2 units) and a space.
        let a = text.find('a').unwrap_or(0);
        assert_eq!(idx.position(text, a), Position::new(0, 3));
        let x = text.find('x').unwrap_or(0);
        assert_eq!(idx.position(text, x), Position::new(1, 2));
        let w = text.find('w').unwrap_or(0);
        assert_eq!(idx.position(text, w), Position::new(3, 0));
        for off in [a, x, w, text.find('y').unwrap_or(0)] {
            assert_eq!(idx.offset(text, idx.position(text, off)), off);
        }
        // Inside the surrogate pair: the start of the emoji.
        assert_eq!(
            idx.offset(text, Position::new(1, 1)),
            text.find('😀').unwrap_or(0)
        );
        // Past the end of a line: the end of that line, before `\r\n`.
        assert_eq!(idx.offset(text, Position::new(1, 99)), x + 1);
        // Past the last line: the end of the text.
        assert_eq!(idx.offset(text, Position::new(99, 0)), text.len());
        // Inside a multi-byte char: moved back to its start.
        assert_eq!(idx.position(text, 1), Position::new(0, 0));
    }

    /// The reference: a position found by walking the text one char at a time.
    fn reference_offset(text: &str, pos: Position) -> usize {
        let (mut line, mut col) = (0u32, 0u32);
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if line == pos.line && (col >= pos.character || c == '\n' || c == '\r') {
                return i;
            }
            if line == pos.line && col + c.len_utf16() as u32 > pos.character {
                return i;
            }
            match c {
                '\n' => {
                    line += 1;
                    col = 0;
                }
                '\r' => {
                    if chars.peek().map(|(_, n)| *n) == Some('\n') {
                        chars.next();
                    }
                    line += 1;
                    col = 0;
                }
                _ => col += c.len_utf16() as u32,
            }
        }
        text.len()
    }

    proptest::proptest! {
        #[test]
        fn offsets_agree_with_a_char_walk(
            text in "[a规😀\r\n ]{0,40}",
            line in 0u32..8,
            character in 0u32..12,
        ) {
            let idx = LineIndex::new(&text);
            let pos = Position::new(line, character);
            proptest::prop_assert_eq!(idx.offset(&text, pos), reference_offset(&text, pos));
        }

        #[test]
        fn positions_round_trip(text in "[a规😀\r\n ]{0,40}", at in 0usize..200) {
            let idx = LineIndex::new(&text);
            let off = floor_boundary(&text, at);
            let pos = idx.position(&text, off);
            // A position inside `\r\n` maps to the line end, the start of the pair.
            let back = idx.offset(&text, pos);
            proptest::prop_assert!(back == off || (text.as_bytes().get(off) == Some(&b'\n') && back + 1 == off));
        }

        #[test]
        fn range_edits_replace_what_they_name(
            text in "[a规😀\n ]{0,30}",
            sl in 0u32..5, sc in 0u32..8, el in 0u32..5, ec in 0u32..8,
            insert in "[b界🙂\n]{0,5}",
        ) {
            let start = Position::new(sl, sc);
            let end = Position::new(el, ec);
            let (a, b) = (reference_offset(&text, start), reference_offset(&text, end));
            let mut expected = text.clone();
            expected.replace_range(a..b.max(a), &insert);
            let mut got = text.clone();
            apply_change(&mut got, TextDocumentContentChangeEvent {
                range: Some(Range::new(start, end)),
                range_length: None,
                text: insert.clone(),
            });
            proptest::prop_assert_eq!(got, expected);
        }
    }
}

//! Comments in a source text. The grammar skips them; the formatter puts them back by position.

/// A `//` comment: its text (with the slashes, without the newline) and byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub text: String,
    pub start: usize,
    pub end: usize,
    /// True when code precedes the comment on its line (a trailing comment).
    pub trailing: bool,
}

/// Every `//` comment outside string literals, in order.
pub fn scan(text: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut in_string = false;
    let mut line_has_code = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
            if b == b'\n' {
                line_has_code = false;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                line_has_code = true;
            }
            b'\n' => line_has_code = false,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map(|n| i + n).unwrap_or(text.len());
                let raw = text[i..end].trim_end();
                out.push(Comment { text: raw.to_string(), start: i, end, trailing: line_has_code });
                i = end;
                continue;
            }
            b' ' | b'\t' | b'\r' => {}
            _ => line_has_code = true,
        }
        i += 1;
    }
    out
}

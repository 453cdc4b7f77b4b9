//! Comments and nesting in a source text, found by a small lexical scan that knows strings,
//! message-template holes (`"… {expr} …"`) and `//` comments. The grammar skips comments; the
//! formatter puts them back by position, and the parser's depth guard uses the nesting.

/// A `//` comment: its text (with the slashes, without the newline) and byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub text: String,
    pub start: usize,
    /// End of the comment text, trailing whitespace excluded.
    pub end: usize,
    /// True when code precedes the comment on its line (a trailing comment).
    pub trailing: bool,
}

/// What the scanner is inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// Code nested in `(`, `[` or `{`.
    Bracket,
    /// A string literal; `true` for a message template, whose `{` opens a hole.
    Str(bool),
    /// A `{expr}` hole in a template: code until its `}`.
    Hole,
}

/// The result of one scan.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    pub comments: Vec<Comment>,
    /// Where nesting first went past `parse::MAX_DEPTH`, if it did.
    pub too_deep_at: Option<usize>,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\u{3000}' | '\u{FEFF}')
}

/// Scans a source text once. `takes_holes(offset)` says whether the string literal opening at
/// `offset` is a message template; when unsure, say yes: a hole is then searched for.
pub fn scan_source(text: &str, takes_holes: impl Fn(usize) -> bool) -> Scan {
    let mut out = Scan::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut line_has_code = false;
    // Brackets and holes open (string frames do not count): kept as a running count, so the
    // scan stays linear however deep the text nests.
    let mut depth = 0usize;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\n' {
            line_has_code = false;
        }
        if let Some(&Frame::Str(template)) = stack.last() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' | '\n' => {
                    stack.pop();
                }
                '{' if template && chars.peek().map(|(_, n)| *n) == Some('{') => {
                    chars.next();
                }
                '{' if template => {
                    stack.push(Frame::Hole);
                    depth += 1;
                }
                _ => {}
            }
        } else {
            match c {
                '/' if chars.peek().map(|(_, n)| *n) == Some('/') => {
                    let end_of_line = text[i..].find('\n').map(|n| i + n).unwrap_or(text.len());
                    let body = text[i..end_of_line].trim_end_matches(is_space);
                    out.comments.push(Comment {
                        text: body.to_string(),
                        start: i,
                        end: i + body.len(),
                        trailing: line_has_code,
                    });
                    while chars.peek().is_some_and(|(j, _)| *j < end_of_line) {
                        chars.next();
                    }
                    continue;
                }
                '"' => stack.push(Frame::Str(takes_holes(i))),
                '(' | '[' | '{' => {
                    stack.push(Frame::Bracket);
                    depth += 1;
                }
                ')' | ']' | '}' => {
                    if matches!(stack.last(), Some(Frame::Bracket | Frame::Hole)) {
                        stack.pop();
                        depth -= 1;
                    }
                }
                _ => {}
            }
        }
        if !c.is_whitespace() && !is_space(c) {
            line_has_code = true;
        }
        if depth > crate::parse::MAX_DEPTH && out.too_deep_at.is_none() {
            out.too_deep_at = Some(i);
        }
    }
    out
}

/// Every `//` comment outside string literals, in order, without a syntax tree: every string
/// is taken to be a template.
pub fn scan(text: &str) -> Vec<Comment> {
    scan_source(text, |_| true).comments
}

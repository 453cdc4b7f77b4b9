//! The canonical layout of a `.vigil` file: [`format_source`] prints any text that parses in the
//! one layout the rulebooks are kept in, and never drops a comment.
//!
//! # Layout rules
//!
//! Every rule below depends only on the tree, the comments and where the source had blank
//! lines, so formatting is deterministic and formatting formatted text changes nothing.
//!
//! * Indentation is 2 spaces; one member of a block per line; no trailing whitespace; the file
//!   ends with exactly one newline (an empty file stays empty).
//! * Top-level items are separated by exactly one blank line. Elsewhere (between the members of
//!   a block, between comments, between a comment and the item under it) one blank line is kept
//!   where the source had one or more, and none at the start or end of a block. A block with
//!   nothing in it prints as `{}`.
//! * Declarations and clauses keep their source order (a `let` may depend on the one above).
//! * Tokens are separated by one space, except around `.`, `?.`, `..`, `..=`, after unary `-`,
//!   inside brackets and before `,` and `:`. Field, column and variant names are not aligned.
//! * Parentheses are printed where the officer wrote them and nowhere else; a tree built by code
//!   (not by the parser) gets the few extra ones its re-parse needs.
//! * Line breaking. An expression that starts on a line (the body of `when`, `let`, `amount`,
//!   `for`, `per`, `const`, `def`) stays on that line when the line fits in 100 columns
//!   (counted in characters, comments not counted). Otherwise the first of these that applies:
//!   - an `and`/`or` chain at the top of a body, of a `where`, or directly inside parentheses
//!     puts one operand per line; each continuation line starts with the operator,
//!     right-aligned so that every operand starts in the column of the first (`when a` /
//!     `   and b`: `and` 4 columns left of the operands, `or` 3). A chain that is itself an
//!     operand of a chain stays on one line unless parenthesised;
//!   - a quantifier keeps `exists x in source` on its line and puts `where body` on the next,
//!     `where` under the `e` of `exists` (or the `a` of `all`); the body follows `where ` under
//!     these same rules, so the `and`s of its chain land 2 columns right of `where`;
//!   - a comprehension `f(value for x in source by k where c)` keeps `f(value for x in source
//!     by k` on its line (moving `for x in source by k` to a line of its own, under the value,
//!     when that line would overflow) and puts `where c)` on the next line under the first
//!     argument;
//!   - parentheses `(e)` lay `e` out after the `(` by these rules; `not e` lays out `e` after
//!     `not `;
//!   - an expression whose first operand alone overflows (`first(…) is some(x)`,
//!     `count(…) + 1 > n`, `f(…).field`) lays that operand out by these rules and continues
//!     with the rest on its last line;
//!   - `per provider month of d where c` puts `where c` on its own line, 4 columns in;
//!   - anything else (a plain call, a list, an arithmetic chain) stays on one line, even past
//!     100 columns.
//! * Comments. An own-line comment before a member prints before it, at its indentation; a
//!   comment at the end of a member's last line, or after the `{` of a header, stays at the end
//!   of that line; in a broken chain, a comment stays between the operands it was between (at
//!   the end of the operand's line, or on its own line at the operator column); any other
//!   comment inside a member (inside a one-line expression, a header, a template hole) moves to
//!   its own line just before that member. Comments after the last member of a block stay at
//!   the end of the block; comments after the last item stay at the end of the file.

use crate::ast::*;
use crate::comments::Comment;
use crate::parse::escape;
use crate::span::{SourceId, Span};
use crate::ParseError;

/// Lines longer than this many characters break where the rules above allow.
const WIDTH: usize = 100;
/// Spaces per block level.
const INDENT: usize = 2;

/// Formats one source file to the canonical layout; Err if it does not parse.
pub fn format_source(text: &str) -> Result<String, ParseError> {
    let module = crate::parse(SourceId(0), text)?;
    let comments = scan_comments(text, &module);
    // Printing recurses once per nesting level, like parsing.
    Ok(crate::stack::on_large_stack(|| {
        format_module(&module, &comments, text)
    }))
}

/// Prints `m`, parsed from `text`, in the canonical layout, putting back `comments` (as found
/// by [`scan_comments`] on the same text) by position.
pub fn format_module(m: &Module, comments: &[Comment], text: &str) -> String {
    let mut comments = comments.to_vec();
    comments.sort_by_key(|c| c.start);
    let used = vec![false; comments.len()];
    let mut printer = Printer {
        text,
        comments,
        used,
    };
    let entries = printer.members(0, text.len(), m.items.iter().map(Member::Item), 0, true);
    let lines = join(&printer, entries);
    if lines.is_empty() {
        return String::new();
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Every `//` comment of `text` (which parsed into `module`), in order.
///
/// Unlike [`crate::comments::scan`], this knows message templates from the tree, so a `{` in a
/// plain string opens nothing; in a template, a `{hole}` is code, so a `"//"` string inside a
/// hole is not a comment and a comment inside a hole is one.
pub fn scan_comments(text: &str, module: &Module) -> Vec<Comment> {
    let mut templates: Vec<usize> = Vec::new();
    for item in &module.items {
        if let Item::Rule(rule) = item {
            for clause in &rule.clauses {
                if let ClauseKind::Message(t) = &clause.kind {
                    templates.push(t.span.start as usize);
                }
            }
        }
    }
    templates.sort_unstable();
    crate::comments::scan_source(text, |at| templates.binary_search(&at).is_ok()).comments
}

/// The grammar's whitespace (`WHITESPACE` in `vigil.pest`).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{3000}' | '\u{FEFF}')
}

/// Whitespace that does not end a line.
fn is_inline_space(c: char) -> bool {
    c != '\n' && is_space(c)
}

/// Width of printed text in columns: one per character.
fn width(s: &str) -> usize {
    s.chars().count()
}

fn quote(value: &str) -> String {
    format!("\"{}\"", escape(value, false))
}

/// ` "label"`, or nothing.
fn label(l: &Option<StrLit>) -> String {
    l.as_ref()
        .map(|l| format!(" {}", quote(&l.value)))
        .unwrap_or_default()
}

fn type_text(t: &TypeExpr) -> String {
    match &t.kind {
        TypeExprKind::Named(name) => name.name.clone(),
        TypeExprKind::List(elem) => format!("[{}]", type_text(elem)),
        TypeExprKind::Optional(inner) => format!("{}?", type_text(inner)),
    }
}

/// Appends text to the last printed line.
fn append_text(lines: &mut [String], text: &str) {
    if let Some(last) = lines.last_mut() {
        last.push_str(text);
    }
}

/// Appends a trailing comment to the last printed line.
fn append_comment(lines: &mut [String], comment: &str) {
    if let Some(last) = lines.last_mut() {
        last.push(' ');
        last.push_str(comment);
    }
}

/// Something printed on lines of its own: a top-level item or a member of a block.
#[derive(Clone, Copy)]
enum Member<'m> {
    Item(&'m Item),
    Field(&'m FieldDecl),
    Variant(&'m VariantDecl),
    Column(&'m ColumnDecl),
    Clause(&'m Clause),
    Stmt(&'m TestStmt),
}

impl Member<'_> {
    fn span(self) -> Span {
        match self {
            Member::Item(i) => i.span(),
            Member::Field(f) => f.span,
            Member::Variant(v) => v.span,
            Member::Column(c) => c.span,
            Member::Clause(c) => c.span,
            Member::Stmt(s) => s.span(),
        }
    }
}

/// A printed member or comment, with the source range it came from: blank lines between
/// entries follow the source.
struct Entry {
    start: usize,
    end: usize,
    lines: Vec<String>,
    /// A top-level item: one blank line always follows it.
    item: bool,
}

/// Joins entries with the blank lines the layout rules ask for.
fn join(p: &Printer, entries: Vec<Entry>) -> Vec<String> {
    let mut out = Vec::new();
    let mut prev: Option<(usize, bool)> = None;
    for e in entries {
        if let Some((end, item)) = prev {
            if item || p.blank_between(end, e.start) {
                out.push(String::new());
            }
        }
        prev = Some((e.end, e.item));
        out.extend(e.lines);
    }
    out
}

struct Printer<'a> {
    text: &'a str,
    /// Sorted by start.
    comments: Vec<Comment>,
    /// Which comments are already printed (or placed in lines not yet emitted).
    used: Vec<bool>,
}

impl Printer<'_> {
    // ---- comments and source positions ----------------------------------------------------

    /// Claims the unprinted comments that start in `start..end`, in order.
    fn take_range(&mut self, start: usize, end: usize) -> Vec<usize> {
        let first = self.comments.partition_point(|c| c.start < start);
        let mut taken = Vec::new();
        for i in first..self.comments.len() {
            if self.comments[i].start >= end {
                break;
            }
            if !self.used[i] {
                self.used[i] = true;
                taken.push(i);
            }
        }
        taken
    }

    /// Claims the comment that follows `end` on the same line (before `limit`), if any.
    fn take_trailing(&mut self, end: usize, limit: usize) -> Option<usize> {
        let i = self.comments.partition_point(|c| c.start < end);
        let c = self.comments.get(i)?;
        if self.used[i] || c.start >= limit {
            return None;
        }
        if !self.text.get(end..c.start)?.chars().all(is_inline_space) {
            return None;
        }
        self.used[i] = true;
        Some(i)
    }

    /// Where a node's text ends. The parser's spans can run on over the whitespace and
    /// comments after a node (pest includes them when a rule ends in an optional part), so
    /// step back over those.
    fn end(&self, span: Span) -> usize {
        let start = span.start as usize;
        let mut end = (span.end as usize).min(self.text.len());
        loop {
            let Some(inside) = self.text.get(start..end) else {
                return end;
            };
            end = start + inside.trim_end_matches(is_space).len();
            let i = self.comments.partition_point(|c| c.start < end);
            match i.checked_sub(1).map(|i| &self.comments[i]) {
                Some(c) if c.start >= start && end <= c.end => end = c.start,
                _ => return end,
            }
        }
    }

    /// True when the source between two offsets holds a blank line.
    fn blank_between(&self, end: usize, start: usize) -> bool {
        self.text
            .get(end..start)
            .is_some_and(|gap| gap.matches('\n').count() >= 2)
    }

    fn comment_line(&self, i: usize, indent: usize) -> String {
        format!("{}{}", " ".repeat(indent), self.comments[i].text)
    }

    /// Entries for the unprinted comments in `start..end`.
    fn comment_entries(
        &mut self,
        start: usize,
        end: usize,
        indent: usize,
        entries: &mut Vec<Entry>,
    ) {
        for i in self.take_range(start, end) {
            let c = &self.comments[i];
            let (start, end) = (c.start, c.end);
            entries.push(Entry {
                start,
                end,
                lines: vec![self.comment_line(i, indent)],
                item: false,
            });
        }
    }

    /// The first `{` at or after `from` outside comments: the brace that opens a block.
    fn open_brace(&self, from: usize, limit: usize) -> usize {
        let bytes = self.text.as_bytes();
        let limit = limit.min(bytes.len());
        let mut i = from;
        while i < limit {
            match bytes[i] {
                b'{' => return i,
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    while i < limit && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                _ => i += 1,
            }
        }
        // Not reached for a tree the parser built: every block header is followed by `{`.
        from
    }

    // ---- blocks -----------------------------------------------------------------------------

    /// The members of the region `start..end` with the comments around them.
    fn members<'m>(
        &mut self,
        start: usize,
        end: usize,
        members: impl IntoIterator<Item = Member<'m>>,
        indent: usize,
        top: bool,
    ) -> Vec<Entry> {
        let mut entries = Vec::new();
        let mut cursor = start;
        for m in members {
            let span = m.span();
            let (s, e) = (span.start as usize, self.end(span));
            self.comment_entries(cursor, s, indent, &mut entries);
            let body = self.render(m, indent);
            // Comments inside the member that its layout had no place for go above it.
            let mut lines: Vec<String> = self
                .take_range(s, e)
                .into_iter()
                .map(|i| self.comment_line(i, indent))
                .collect();
            lines.extend(body);
            let mut last = e;
            if let Some(i) = self.take_trailing(e, end) {
                append_comment(&mut lines, &self.comments[i].text);
                last = self.comments[i].end;
            }
            entries.push(Entry {
                start: s,
                end: last,
                lines,
                item: top,
            });
            cursor = cursor.max(last);
        }
        self.comment_entries(cursor, end, indent, &mut entries);
        entries
    }

    /// `head {`, the members, `}`.
    fn block<'m>(
        &mut self,
        head: String,
        span: Span,
        header_end: u32,
        members: impl IntoIterator<Item = Member<'m>>,
    ) -> Vec<String> {
        // The parser's span of a block item ends just after its `}`.
        let close = (span.end as usize).saturating_sub(1);
        let open = self.open_brace(header_end as usize, close);
        let mut first = format!("{head} {{");
        let trailing = self.take_trailing(open + 1, close);
        if let Some(i) = trailing {
            first.push(' ');
            first.push_str(&self.comments[i].text);
        }
        let entries = self.members(open + 1, close, members, INDENT, false);
        if entries.is_empty() && trailing.is_none() {
            return vec![format!("{head} {{}}")];
        }
        let mut lines = vec![first];
        lines.extend(join(self, entries));
        lines.push("}".to_string());
        lines
    }

    fn render(&mut self, m: Member, indent: usize) -> Vec<String> {
        let pad = " ".repeat(indent);
        match m {
            Member::Item(item) => self.item(item),
            Member::Field(f) => vec![format!(
                "{pad}{}: {}{}",
                f.name.name,
                type_text(&f.ty),
                label(&f.label)
            )],
            Member::Variant(v) => vec![format!(
                "{pad}{} = {}{}",
                v.name.name,
                quote(&v.code.value),
                label(&v.label)
            )],
            Member::Column(c) => {
                let sep = c
                    .sep
                    .as_ref()
                    .map(|s| format!(" sep {}", quote(&s.value)))
                    .unwrap_or_default();
                vec![format!(
                    "{pad}{}: {}{sep}{}",
                    c.name.name,
                    type_text(&c.ty),
                    label(&c.label)
                )]
            }
            Member::Clause(c) => self.clause(c, &pad),
            Member::Stmt(s) => vec![test_stmt(s, &pad)],
        }
    }

    fn item(&mut self, item: &Item) -> Vec<String> {
        match item {
            Item::Rulebook(d) => vec![format!(
                "rulebook {} {} version {}",
                d.id.name,
                quote(&d.title.value),
                quote(&d.version.value)
            )],
            Item::Schema(d) => {
                let head = format!("schema {}{}", d.name.name, label(&d.label));
                let header_end = d.label.as_ref().map_or(d.name.span.end, |l| l.span.end);
                self.block(head, d.span, header_end, d.fields.iter().map(Member::Field))
            }
            Item::Enum(d) => {
                let head = format!("enum {}{}", d.name.name, label(&d.label));
                let header_end = d.label.as_ref().map_or(d.name.span.end, |l| l.span.end);
                self.block(
                    head,
                    d.span,
                    header_end,
                    d.variants.iter().map(Member::Variant),
                )
            }
            Item::Table(d) => {
                let key = match d.key.as_slice() {
                    [one] => one.name.clone(),
                    many => format!(
                        "({})",
                        many.iter()
                            .map(|k| k.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let valid = d
                    .valid
                    .as_ref()
                    .map(|(a, b)| format!(" valid {}..{}", a.name, b.name))
                    .unwrap_or_default();
                let head = format!(
                    "table {}{} from {} key {key}{valid}",
                    d.name.name,
                    label(&d.title),
                    quote(&d.path.value)
                );
                // Only names and punctuation follow the path, so the next `{` opens the block.
                self.block(
                    head,
                    d.span,
                    d.path.span.end,
                    d.columns.iter().map(Member::Column),
                )
            }
            Item::Const(d) => {
                let ty =
                    d.ty.as_ref()
                        .map(|t| format!(": {}", type_text(t)))
                        .unwrap_or_default();
                self.layout(format!("const {}{ty} = ", d.name.name), &d.value, "", true)
            }
            Item::Def(d) => {
                let params: Vec<String> = d
                    .params
                    .iter()
                    .map(|p| format!("{}: {}", p.name.name, type_text(&p.ty)))
                    .collect();
                let ret = d
                    .ret
                    .as_ref()
                    .map(|t| format!(" -> {}", type_text(t)))
                    .unwrap_or_default();
                self.layout(
                    format!("def {}({}){ret} = ", d.name.name, params.join(", ")),
                    &d.body,
                    "",
                    true,
                )
            }
            Item::Rule(d) => {
                let head = format!("rule {} {}", d.id.name, quote(&d.name.value));
                self.block(
                    head,
                    d.span,
                    d.name.span.end,
                    d.clauses.iter().map(Member::Clause),
                )
            }
            Item::Test(d) => {
                let head = format!("test {}", quote(&d.name.value));
                self.block(
                    head,
                    d.span,
                    d.name.span.end,
                    d.stmts.iter().map(Member::Stmt),
                )
            }
        }
    }

    fn clause(&mut self, c: &Clause, pad: &str) -> Vec<String> {
        match &c.kind {
            ClauseKind::Severity(s) => vec![format!("{pad}severity {}", s.name)],
            ClauseKind::Basis(b) => vec![format!("{pad}basis {}", quote(&b.value))],
            ClauseKind::For { binder, source } => {
                self.layout(format!("{pad}for {} in ", binder.name), source, "", true)
            }
            ClauseKind::PerProviderMonth { month_of, filter } => {
                let head = format!("{pad}per provider month of ");
                let Some(filter) = filter else {
                    return self.layout(head, month_of, "", true);
                };
                let one = format!("{head}{} where {}", expr_text(month_of), expr_text(filter));
                if width(&one) <= WIDTH {
                    return vec![one];
                }
                let mut lines = self.layout(head, month_of, "", true);
                let where_head = format!("{pad}    where ");
                lines.extend(self.layout(where_head, filter, "", true));
                lines
            }
            ClauseKind::Let { name, value } => {
                self.layout(format!("{pad}let {} = ", name.name), value, "", true)
            }
            ClauseKind::When(e) => self.layout(format!("{pad}when "), e, "", true),
            ClauseKind::Amount(e) => self.layout(format!("{pad}amount "), e, "", true),
            ClauseKind::Message(t) => vec![format!("{pad}message {}", template_text(t))],
        }
    }

    // ---- line breaking ----------------------------------------------------------------------

    /// `head`, then `e`, then `tail` (text that must follow `e` on its last line): one line
    /// when it fits, else broken by the rules at the top of this module. `chains` is false for
    /// an operand of a chain, whose own `and`/`or` never break.
    fn layout(&mut self, head: String, e: &Expr, tail: &str, chains: bool) -> Vec<String> {
        let one = expr_text(e);
        if width(&head) + width(&one) + width(tail) <= WIDTH {
            return vec![format!("{head}{one}{tail}")];
        }
        if chains {
            if let Some((op, operands)) = chain(e) {
                return self.chain(head, op, &operands, tail);
            }
        }
        match &e.kind {
            ExprKind::Quant { .. } => return self.quantifier(head, e, tail),
            ExprKind::If { .. } => return self.conditional(head, e, tail),
            ExprKind::Call {
                name,
                args: CallArgs::Comprehension(c),
            } => return self.comprehension(head, name, c, tail),
            ExprKind::Paren(inner) => {
                return self.layout(format!("{head}("), inner, &format!("){tail}"), true)
            }
            ExprKind::Not(x) if !needs_parens(x, NOT_OPERAND, false) => {
                return self.layout(format!("{head}not "), x, tail, false)
            }
            _ => {}
        }
        // The leftmost operand breaks when it alone overflows; the rest follows its last line.
        if let Some(left) = leftmost(e) {
            let left_text = expr_text(left);
            if width(&head) + width(&left_text) > WIDTH {
                if let Some(rest) = one.strip_prefix(left_text.as_str()) {
                    return self.layout(head, left, &format!("{rest}{tail}"), false);
                }
            }
        }
        vec![format!("{head}{one}{tail}")]
    }

    /// One operand per line, continuation lines led by the operator.
    fn chain(&mut self, head: String, op: BinOp, operands: &[&Expr], tail: &str) -> Vec<String> {
        let Some((first, rest)) = operands.split_first() else {
            return vec![format!("{head}{tail}")];
        };
        let keyword = op.as_str();
        let cont = " ".repeat(width(&head).saturating_sub(keyword.len() + 1));
        let mut lines = self.operand(head, first, lhs_min(op), true, "");
        let mut prev = *first;
        for (k, &next) in rest.iter().enumerate() {
            let (prev_end, next_start) = (self.end(prev.span), next.span.start as usize);
            if let Some(i) = self.take_trailing(prev_end, next_start) {
                append_comment(&mut lines, &self.comments[i].text);
            }
            for i in self.take_range(prev_end, next_start) {
                lines.push(format!("{cont}{}", self.comments[i].text));
            }
            let last_tail = if k + 1 == rest.len() { tail } else { "" };
            lines.extend(self.operand(
                format!("{cont}{keyword} "),
                next,
                rhs_min(op),
                false,
                last_tail,
            ));
            prev = next;
        }
        lines
    }

    fn operand(
        &mut self,
        head: String,
        e: &Expr,
        min: u8,
        closed: bool,
        tail: &str,
    ) -> Vec<String> {
        if needs_parens(e, min, closed) {
            return vec![format!("{head}({}){tail}", expr_text(e))];
        }
        self.layout(head, e, tail, false)
    }

    /// `exists x in source`, then `where body` on the next line, `where` under `exists`.
    fn quantifier(&mut self, head: String, e: &Expr, tail: &str) -> Vec<String> {
        let ExprKind::Quant {
            q,
            binder,
            source,
            body,
        } = &e.kind
        else {
            return vec![format!("{head}{}{tail}", expr_text(e))];
        };
        let column = width(&head);
        let mut first = head;
        first.push_str(quantifier_word(*q));
        first.push(' ');
        first.push_str(&binder.name);
        first.push_str(" in ");
        write_child(&mut first, source, CMP_OPERAND, true);
        let mut lines = vec![first];
        lines.extend(self.layout(format!("{}where ", " ".repeat(column)), body, tail, true));
        lines
    }

    /// `if c then a`, then each `else if c then a` and the final `else b` on a line of its own,
    /// `else` under `if`.
    fn conditional(&mut self, head: String, e: &Expr, tail: &str) -> Vec<String> {
        let pad = " ".repeat(width(&head));
        let mut lines = Vec::new();
        let mut lead = head;
        let mut current = e;
        while let ExprKind::If {
            cond,
            then,
            otherwise,
        } = &current.kind
        {
            let mut line = format!("{lead}if ");
            write_child(&mut line, cond, ANY, false);
            line.push_str(" then ");
            write_child(&mut line, then, ANY, false);
            lines.push(line);
            lead = format!("{pad}else ");
            current = otherwise;
        }
        lines.extend(self.layout(lead, current, tail, true));
        lines
    }

    /// `f(value for x in source by k` (with `for …` on a line of its own when the first line
    /// would overflow), then `where body)` on the next line, both under the first argument.
    fn comprehension(
        &mut self,
        head: String,
        name: &Ident,
        c: &Comprehension,
        tail: &str,
    ) -> Vec<String> {
        let open = format!("{head}{}(", name.name);
        let pad = " ".repeat(width(&open));
        let mut binding = format!("{} in ", c.binder.name);
        write_child(&mut binding, &c.source, CMP_OPERAND, true);
        if let Some(by) = &c.by {
            binding.push_str(" by ");
            write_child(&mut binding, by, CMP_OPERAND, true);
        }
        let mut lines = match &c.value {
            None => vec![format!("{open}{binding}")],
            Some(v) => {
                let mut value = String::new();
                write_first_arg(&mut value, v);
                let joined = format!("{open}{value} for {binding}");
                if width(&joined) <= WIDTH {
                    vec![joined]
                } else {
                    vec![format!("{open}{value}"), format!("{pad}for {binding}")]
                }
            }
        };
        let close = format!("){tail}");
        match &c.filter {
            Some(f) => lines.extend(self.layout(format!("{pad}where "), f, &close, true)),
            None => append_text(&mut lines, &close),
        }
        lines
    }
}

fn test_stmt(s: &TestStmt, pad: &str) -> String {
    match s {
        TestStmt::Given { kind, path, .. } => {
            let what = match kind {
                GivenKind::Claims => "claims".to_string(),
                GivenKind::History => "history".to_string(),
                GivenKind::Table(t) => format!("table {}", t.name),
            };
            format!("{pad}given {what} {}", quote(&path.value))
        }
        TestStmt::Expect {
            negated,
            rule,
            at,
            amount,
            ..
        } => {
            let mut line = format!(
                "{pad}expect {}{}",
                if *negated { "no " } else { "" },
                rule.name
            );
            for (kind, value) in at {
                line.push_str(&format!(" at {} {}", kind.as_str(), quote(&value.value)));
            }
            if let Some(a) = amount {
                line.push_str(&format!(" amount {}", quote(&a.value)));
            }
            line
        }
    }
}

fn template_text(t: &Template) -> String {
    let mut out = String::from("\"");
    for part in &t.parts {
        match part {
            TemplatePart::Text(s) => out.push_str(&escape(s, true)),
            TemplatePart::Hole(e) => {
                out.push('{');
                write_child(&mut out, e, ANY, false);
                out.push('}');
            }
        }
    }
    out.push('"');
    out
}

// ---- expressions on one line -----------------------------------------------------------------
//
// Binding levels follow the grammar: or 1, and 2, not/quantifier 3, comparison/in/is 4, ?? 5,
// + - 6, * / 7, unary - 8, postfix 9, atoms 10. A child printed where the grammar expects a
// higher level needs parentheses; so does a quantifier (whose body reaches as far right as it
// can) anywhere something follows it. A tree from the parser never needs either: the checks
// only matter for trees built by code.

const ANY: u8 = 1;
const NOT_OPERAND: u8 = 3;
const CMP_OPERAND: u8 = 5;
const UNARY_OPERAND: u8 = 8;
const POSTFIX_BASE: u8 = 9;

fn level(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary { op, .. } => op.precedence(),
        ExprKind::Not(_) | ExprKind::Quant { .. } | ExprKind::If { .. } => 3,
        ExprKind::In { .. } | ExprKind::Is { .. } => 4,
        ExprKind::Neg(_) => 8,
        ExprKind::Field { .. } | ExprKind::Index { .. } => 9,
        _ => 10,
    }
}

fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    )
}

/// Lowest level the left operand of `op` may have: operators chain to the left, comparisons
/// do not chain.
fn lhs_min(op: BinOp) -> u8 {
    if is_comparison(op) {
        CMP_OPERAND
    } else {
        op.precedence()
    }
}

fn rhs_min(op: BinOp) -> u8 {
    if is_comparison(op) {
        CMP_OPERAND
    } else {
        op.precedence() + 1
    }
}

/// Whether `e` needs parentheses where the grammar expects level `min`; `closed` when
/// something follows it that a quantifier body would swallow.
fn needs_parens(e: &Expr, min: u8, closed: bool) -> bool {
    level(e) < min || (closed && ends_open(e))
}

/// True when the printed `e` ends in a quantifier body, which would run on into what follows.
fn ends_open(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Quant { .. } | ExprKind::If { .. } => true,
        ExprKind::Not(x) => !needs_parens(x, NOT_OPERAND, false) && ends_open(x),
        ExprKind::Binary { op, rhs, .. } => {
            !needs_parens(rhs, rhs_min(*op), false) && ends_open(rhs)
        }
        _ => false,
    }
}

/// True when the printed `e` starts `name in`: as the first argument of a call the grammar
/// reads that as a comprehension `count(x in l)`.
fn starts_name_in(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::In {
            value,
            negated: false,
            ..
        } => matches!(value.kind, ExprKind::Name(_)),
        ExprKind::Binary { op, lhs, .. } => {
            !needs_parens(lhs, lhs_min(*op), true) && starts_name_in(lhs)
        }
        _ => false,
    }
}

/// An `and`/`or` expression as its operator and operands, left to right.
fn chain(e: &Expr) -> Option<(BinOp, Vec<&Expr>)> {
    let ExprKind::Binary { op, .. } = &e.kind else {
        return None;
    };
    let op = *op;
    if !matches!(op, BinOp::And | BinOp::Or) {
        return None;
    }
    let mut operands = Vec::new();
    let mut cur = e;
    while let ExprKind::Binary { op: o, lhs, rhs } = &cur.kind {
        if *o != op || (!std::ptr::eq(cur, e) && needs_parens(cur, lhs_min(op), true)) {
            break;
        }
        operands.push(&**rhs);
        cur = lhs;
    }
    operands.push(cur);
    operands.reverse();
    Some((op, operands))
}

/// The operand printed first in `e` (without parentheses of its own), for the operators whose
/// layout may break inside it: comparisons, arithmetic, `??`, `in`, `is` and postfix.
fn leftmost(e: &Expr) -> Option<&Expr> {
    let (left, min) = match &e.kind {
        ExprKind::Binary { op, lhs, .. } if !matches!(op, BinOp::And | BinOp::Or) => {
            (lhs, lhs_min(*op))
        }
        ExprKind::In { value, .. } | ExprKind::Is { value, .. } => (value, CMP_OPERAND),
        ExprKind::Field { base, .. } | ExprKind::Index { base, .. } => (base, POSTFIX_BASE),
        _ => return None,
    };
    (!needs_parens(left, min, true)).then_some(&**left)
}

fn quantifier_word(q: Quantifier) -> &'static str {
    match q {
        Quantifier::Exists => "exists",
        Quantifier::All => "all",
    }
}

fn expr_text(e: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, e);
    out
}

fn write_child(out: &mut String, e: &Expr, min: u8, closed: bool) {
    if needs_parens(e, min, closed) {
        out.push('(');
        write_expr(out, e);
        out.push(')');
    } else {
        write_expr(out, e);
    }
}

/// The first argument of a call, or the value of a comprehension.
fn write_first_arg(out: &mut String, e: &Expr) {
    if starts_name_in(e) {
        out.push('(');
        write_expr(out, e);
        out.push(')');
    } else {
        write_child(out, e, ANY, false);
    }
}

fn write_list(out: &mut String, items: &[Expr]) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_child(out, item, ANY, false);
    }
}

fn write_expr(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Number(n) => out.push_str(n),
        ExprKind::Str(s) => out.push_str(&quote(s)),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::Name(n) => out.push_str(&n.name),
        ExprKind::Field {
            base,
            name,
            optional,
        } => {
            write_child(out, base, POSTFIX_BASE, true);
            out.push_str(if *optional { "?." } else { "." });
            out.push_str(&name.name);
        }
        ExprKind::Index { base, keys, at } => {
            write_child(out, base, POSTFIX_BASE, true);
            out.push('[');
            write_list(out, keys);
            if let Some(at) = at {
                out.push_str(" at ");
                write_child(out, at, ANY, false);
            }
            out.push(']');
        }
        ExprKind::Call { name, args } => {
            out.push_str(&name.name);
            out.push('(');
            match args {
                CallArgs::Exprs(args) => {
                    if let Some((first, rest)) = args.split_first() {
                        write_first_arg(out, first);
                        for a in rest {
                            out.push_str(", ");
                            write_child(out, a, ANY, false);
                        }
                    }
                }
                CallArgs::Comprehension(c) => {
                    if let Some(v) = &c.value {
                        write_first_arg(out, v);
                        out.push_str(" for ");
                    }
                    out.push_str(&c.binder.name);
                    out.push_str(" in ");
                    write_child(out, &c.source, CMP_OPERAND, true);
                    if let Some(by) = &c.by {
                        out.push_str(" by ");
                        write_child(out, by, CMP_OPERAND, true);
                    }
                    if let Some(f) = &c.filter {
                        out.push_str(" where ");
                        write_child(out, f, ANY, false);
                    }
                }
            }
            out.push(')');
        }
        ExprKind::List(items) => {
            out.push('[');
            write_list(out, items);
            out.push(']');
        }
        ExprKind::Neg(x) => {
            out.push('-');
            write_child(out, x, UNARY_OPERAND, false);
        }
        ExprKind::Not(x) => {
            out.push_str("not ");
            write_child(out, x, NOT_OPERAND, false);
        }
        ExprKind::Binary { op, lhs, rhs } => {
            write_child(out, lhs, lhs_min(*op), true);
            out.push(' ');
            out.push_str(op.as_str());
            out.push(' ');
            write_child(out, rhs, rhs_min(*op), false);
        }
        ExprKind::In {
            value,
            negated,
            rhs,
        } => {
            write_child(out, value, CMP_OPERAND, true);
            out.push_str(if *negated { " not in " } else { " in " });
            match rhs {
                InRhs::Set(set) => write_child(out, set, CMP_OPERAND, false),
                InRhs::Range { lo, hi, inclusive } => {
                    write_child(out, lo, CMP_OPERAND, true);
                    out.push_str(if *inclusive { "..=" } else { ".." });
                    write_child(out, hi, CMP_OPERAND, false);
                }
            }
        }
        ExprKind::Is { value, pattern } => {
            write_child(out, value, CMP_OPERAND, true);
            out.push_str(" is ");
            match pattern {
                Pattern::Some(None) => out.push_str("some"),
                Pattern::Some(Some(v)) => {
                    out.push_str("some(");
                    out.push_str(&v.name);
                    out.push(')');
                }
                Pattern::None => out.push_str("none"),
            }
        }
        ExprKind::Quant {
            q,
            binder,
            source,
            body,
        } => {
            out.push_str(quantifier_word(*q));
            out.push(' ');
            out.push_str(&binder.name);
            out.push_str(" in ");
            write_child(out, source, CMP_OPERAND, true);
            out.push_str(" where ");
            write_child(out, body, ANY, false);
        }
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => {
            out.push_str("if ");
            write_child(out, cond, ANY, false);
            out.push_str(" then ");
            write_child(out, then, ANY, false);
            out.push_str(" else ");
            write_child(out, otherwise, ANY, false);
        }
        ExprKind::Paren(x) => {
            out.push('(');
            write_child(out, x, ANY, false);
            out.push(')');
        }
    }
}

//! Text to syntax tree. The parser never panics: any input gives a tree or a `ParseError`.

use pest::iterators::Pair;
use pest::Parser as _;

use crate::ast::*;
use crate::span::{SourceId, Span};

#[derive(pest_derive::Parser)]
#[grammar = "vigil.pest"]
struct VigilParser;

/// Deepest expression nesting accepted. Real rules nest a handful of levels; the bound keeps
/// every recursive pass over the tree (checker, formatter, lowering, drop) within a normal stack.
pub const MAX_DEPTH: usize = 200;

/// Largest single source file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 8 << 20;

/// Why a file did not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Stable diagnostic code (`V0001`…).
    pub code: &'static str,
    pub message: String,
    /// Where the parser stopped.
    pub span: Span,
    /// What would have been accepted there, in words.
    pub expected: Vec<String>,
    /// A hint for the officer, if one fits.
    pub help: Option<String>,
}

/// Parses one file. `source` tags the spans.
pub fn parse(source: SourceId, text: &str) -> Result<Module, ParseError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(ParseError {
            code: "V0002",
            message: format!(
                "file is too large to be a rulebook file ({} bytes)",
                text.len()
            ),
            span: Span::new(source, 0, 0),
            expected: vec![],
            help: Some(format!(
                "split it: a file may hold at most {MAX_FILE_BYTES} bytes"
            )),
        });
    }
    prescan_nesting(source, text)?;
    // pest recurses once per grammar level, so parse where the stack is large.
    crate::stack::on_large_stack(|| parse_on_this_thread(source, text))
}

fn internal(source: SourceId) -> ParseError {
    ParseError {
        code: "V0001",
        message: "the parser failed on this file".into(),
        span: Span::new(source, 0, 0),
        expected: vec![],
        help: Some("please report this file to the Vigil maintainers".into()),
    }
}

/// Rejects nesting deeper than `MAX_DEPTH` (brackets and template holes, outside comments and
/// string text) and runaway quantifier chains before pest sees them.
fn prescan_nesting(source: SourceId, text: &str) -> Result<(), ParseError> {
    let scan = crate::comments::scan_source(text, |_| true);
    if let Some(at) = scan.too_deep_at {
        return Err(too_deep(Span::new(source, at, at + 1)));
    }
    Ok(())
}

fn too_deep(span: Span) -> ParseError {
    ParseError {
        code: "V0002",
        message: "expression nested too deeply".into(),
        span,
        expected: vec![],
        help: Some(format!(
            "split it into `let` bindings or `def`s: at most {MAX_DEPTH} levels of nesting are allowed"
        )),
    }
}

fn parse_on_this_thread(source: SourceId, text: &str) -> Result<Module, ParseError> {
    let mut pairs = match VigilParser::parse(Rule::file, text) {
        Ok(p) => p,
        Err(first) => {
            // Valid files pay nothing for error detail: only a failed parse is run again with
            // pest's attempt tracking, which records the literal tokens (`{`, `}`) expected.
            pest::set_error_detail(true);
            let detailed = VigilParser::parse(Rule::file, text).err();
            pest::set_error_detail(false);
            return Err(syntax_error(source, text, detailed.unwrap_or(first)));
        }
    };
    let file = match pairs.next() {
        Some(p) => p,
        None => return Ok(Module::default()),
    };
    let b = Builder::new(source, text);
    let mut items = Vec::new();
    for pair in file.into_inner() {
        if pair.as_rule() == Rule::EOI {
            continue;
        }
        items.push(b.item(pair)?);
    }
    Ok(Module { items })
}

fn syntax_error(source: SourceId, text: &str, e: pest::error::Error<Rule>) -> ParseError {
    use pest::error::{ErrorVariant, InputLocation};
    let mut pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<String> = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(|r| describe(*r)).collect()
        }
        ErrorVariant::CustomError { message } => vec![message.clone()],
    };
    if let Some(attempts) = e.parse_attempts() {
        let furthest = attempts.max_position.min(text.len());
        if furthest != pos {
            // The rule-level expectations were for an earlier position: only tokens count here.
            expected.clear();
            pos = furthest;
        }
        // `ParsingToken` is not re-exported by pest; its Display is the token itself.
        let words: Vec<String> = attempts
            .expected_tokens()
            .iter()
            .map(|t| t.to_string())
            .filter(|t| !t.is_empty() && t != "BUILTIN_RULE" && t != "_" && !is_char_range(t))
            .collect();
        expected.extend(describe_tokens(&words));
    }
    while !text.is_char_boundary(pos) {
        pos -= 1;
    }
    expected.sort();
    expected.dedup();
    // "an operator" says what `==`, `and`, `.` … would each say; keep the list short.
    if expected.len() > 6 {
        expected.retain(|e| !e.starts_with('`') || e == "`}`" || e == "`)`" || e == "`]`");
    }
    let found_end = text[pos..]
        .char_indices()
        .find(|(_, c)| c.is_whitespace())
        .map(|(i, _)| pos + i)
        .unwrap_or(text.len());
    let found = &text[pos..found_end];
    let found_desc = if pos >= text.len() {
        "end of file".to_string()
    } else if found.is_empty() {
        "end of line".to_string()
    } else {
        let shown: String = found.chars().take(24).collect();
        format!("`{shown}`")
    };
    let message = if expected.is_empty() {
        format!("unexpected {found_desc}")
    } else {
        format!("expected {}, found {found_desc}", join_or(&expected))
    };
    let help = syntax_hint(&expected, found);
    // At end of file, point at the last character so that the underline has something to mark.
    let (start, end) = if pos < text.len() {
        (
            pos,
            pos + text[pos..]
                .chars()
                .next()
                .map(|c| c.len_utf8())
                .unwrap_or(0),
        )
    } else {
        let trimmed = text.trim_end();
        let last = trimmed.char_indices().last().map(|(i, _)| i).unwrap_or(0);
        (last, trimmed.len())
    };
    ParseError {
        code: "V0001",
        message,
        span: Span::new(source, start, end),
        expected,
        help,
    }
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

fn syntax_hint(expected: &[String], found: &str) -> Option<String> {
    let has = |s: &str| expected.iter().any(|e| e == s);
    if found.starts_with('\'') {
        return Some("strings are written in double quotes: \"…\"".into());
    }
    if found.starts_with('=') && !found.starts_with("==") && has("an operator") {
        return Some("compare with `==`; `=` only appears in `let`, `const` and `def`".into());
    }
    if found.starts_with("&&") || found.starts_with("||") {
        return Some("write `and` / `or` instead of `&&` / `||`".into());
    }
    if has("a declaration") {
        return Some(
            "a file holds `rulebook`, `schema`, `enum`, `table`, `const`, `def`, `rule` and `test` declarations".into(),
        );
    }
    if has("a rule clause") {
        return Some(
            "a rule holds `severity`, `basis`, `for`/`per`, `let`, `when`, `amount` and `message` clauses".into(),
        );
    }
    None
}

/// pest prints a character class `'a'..'z'` as `a..z`.
fn is_char_range(t: &str) -> bool {
    let chars: Vec<char> = t.chars().collect();
    chars.len() == 4 && chars[1] == '.' && chars[2] == '.'
}

/// Words for the literal tokens pest expected: clause and declaration keywords are summed up,
/// operators become "an operator", layout tokens are dropped.
fn describe_tokens(tokens: &[String]) -> Vec<String> {
    const OPERATORS: &[&str] = &[
        "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "??", "?.", ".", "[", "and", "or",
        "in", "is", "not", "..", "..=",
    ];
    const CLAUSES: &[&str] = &[
        "severity", "basis", "for", "per", "let", "when", "amount", "message",
    ];
    const DECLS: &[&str] = &[
        "rulebook", "schema", "enum", "table", "const", "def", "rule", "test",
    ];
    const LAYOUT: &[&str] = &[" ", "\t", "\r", "\n", "//", "\u{3000}", "\u{FEFF}"];
    let mut out = Vec::new();
    let has = |set: &[&str]| tokens.iter().filter(|t| set.contains(&t.as_str())).count() >= 3;
    let (clauses, decls, ops) = (has(CLAUSES), has(DECLS), has(OPERATORS));
    if clauses {
        out.push("a rule clause".to_string());
    }
    if decls {
        out.push("a declaration".to_string());
    }
    if ops {
        out.push("an operator".to_string());
    }
    for t in tokens {
        let t = t.as_str();
        if LAYOUT.contains(&t)
            || clauses && CLAUSES.contains(&t)
            || decls && DECLS.contains(&t)
            || ops && OPERATORS.contains(&t)
        {
            continue;
        }
        out.push(match t {
            "\"" => "a string in double quotes".to_string(),
            _ => format!("`{t}`"),
        });
    }
    out
}

/// Human words for what the grammar expected; `None` hides internal rules from the message.
fn describe(rule: Rule) -> Option<String> {
    let s = match rule {
        Rule::EOI => "end of file",
        Rule::ident => "a name",
        Rule::rule_id => "a rule id such as `CN-PRICE-001`",
        Rule::book_id => "a rulebook id such as `cn-national`",
        Rule::string | Rule::template => "a string in double quotes",
        Rule::number => "a number",
        Rule::expr
        | Rule::or_expr
        | Rule::and_expr
        | Rule::not_expr
        | Rule::cmp_expr
        | Rule::coalesce
        | Rule::add_expr
        | Rule::mul_expr
        | Rule::unary
        | Rule::postfix
        | Rule::quant_expr
        | Rule::if_expr => "an expression",
        Rule::cmp_op
        | Rule::add_op
        | Rule::mul_op
        | Rule::kw_and
        | Rule::kw_or
        | Rule::cmp_tail
        | Rule::in_tail
        | Rule::is_tail
        | Rule::field_op
        | Rule::opt_field_op
        | Rule::index_op => "an operator",
        Rule::rulebook_decl
        | Rule::schema_decl
        | Rule::enum_decl
        | Rule::table_decl
        | Rule::const_decl
        | Rule::def_decl
        | Rule::rule_decl
        | Rule::test_decl => "a declaration",
        Rule::severity_clause
        | Rule::basis_clause
        | Rule::for_clause
        | Rule::per_clause
        | Rule::let_clause
        | Rule::when_clause
        | Rule::amount_clause
        | Rule::message_clause => "a rule clause",
        Rule::given_stmt | Rule::expect_stmt => "`given` or `expect`",
        Rule::field_decl => "a field `name: type \"label\"`",
        Rule::column_decl => "a column `name: type`",
        Rule::variant_decl => "a code `name = \"code\" \"label\"`",
        Rule::type_expr | Rule::named_type | Rule::list_type => "a type",
        Rule::opt_mark => "`?`",
        Rule::key_cols => "key column(s)",
        Rule::valid_clause => "`valid`",
        Rule::sep_clause => "`sep`",
        Rule::param => "a parameter `name: type`",
        Rule::pattern => "`some`, `some(name)` or `none`",
        Rule::range_op => "`..` or `..=`",
        Rule::given_kind | Rule::given_table => "`claims`, `history` or `table NAME`",
        Rule::at_kind => "`claim`, `line`, `provider` or `period`",
        Rule::expect_at => "`at`",
        Rule::expect_amount => "`amount`",
        Rule::expect_no => "`no`",
        Rule::tmpl_hole | Rule::tmpl_text | Rule::tmpl_lbrace | Rule::tmpl_rbrace => "message text",
        Rule::paren | Rule::list_lit | Rule::call => "an expression",
        Rule::kw_true | Rule::kw_false => "`true` or `false`",
        // Keywords are reported as the literal tokens pest records for them.
        _ => return None,
    };
    Some(s.to_string())
}

struct Builder {
    source: SourceId,
    /// Comment start by comment end: spans are trimmed of trailing comments.
    comment_starts: std::collections::HashMap<usize, usize>,
    text_len: usize,
    text: String,
}

type R<T> = Result<T, ParseError>;

impl Builder {
    fn new(source: SourceId, text: &str) -> Self {
        let comment_starts = crate::comments::scan(text)
            .into_iter()
            .map(|c| (c.end, c.start))
            .collect();
        Builder {
            source,
            comment_starts,
            text_len: text.len(),
            text: text.to_string(),
        }
    }

    /// The span of a node without the whitespace and comments pest lets it swallow at its end.
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        let start = s.start();
        let mut end = s.end().min(self.text_len);
        loop {
            let before = self.text[start..end]
                .trim_end_matches([' ', '\t', '\r', '\n', '\u{3000}', '\u{FEFF}']);
            end = start + before.len();
            match self.comment_starts.get(&end) {
                Some(&c) if c >= start && c < end => end = c,
                _ => break,
            }
        }
        Span::new(self.source, start, end)
    }

    fn ident(&self, p: Pair<Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    fn string(&self, p: Pair<Rule>) -> StrLit {
        let span = self.span(&p);
        let raw = p.into_inner().next().map(|i| i.as_str()).unwrap_or("");
        StrLit {
            value: unescape(raw),
            span,
        }
    }

    fn item(&self, p: Pair<Rule>) -> R<Item> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut it = p
            .into_inner()
            .filter(|p| !is_keyword(p.as_rule()))
            .peekable();
        Ok(match rule {
            Rule::rulebook_decl => {
                let id = self.ident(next_or(&mut it, self.source, span)?);
                let title = self.string(next_or(&mut it, self.source, span)?);
                let version = self.string(next_or(&mut it, self.source, span)?);
                Item::Rulebook(RulebookDecl {
                    id,
                    title,
                    version,
                    span,
                })
            }
            Rule::schema_decl => {
                let name = self.ident(next_or(&mut it, self.source, span)?);
                let mut label = None;
                let mut fields = Vec::new();
                for p in it {
                    match p.as_rule() {
                        Rule::string => label = Some(self.string(p)),
                        _ => fields.push(self.field(p)?),
                    }
                }
                Item::Schema(SchemaDecl {
                    name,
                    label,
                    fields,
                    span,
                })
            }
            Rule::enum_decl => {
                let name = self.ident(next_or(&mut it, self.source, span)?);
                let mut label = None;
                let mut variants = Vec::new();
                for p in it {
                    match p.as_rule() {
                        Rule::string => label = Some(self.string(p)),
                        _ => {
                            let vspan = self.span(&p);
                            let mut v = p.into_inner();
                            let name = self.ident(next_or(&mut v, self.source, span)?);
                            let code = self.string(next_or(&mut v, self.source, span)?);
                            let label = v.next().map(|p| self.string(p));
                            variants.push(VariantDecl {
                                name,
                                code,
                                label,
                                span: vspan,
                            });
                        }
                    }
                }
                Item::Enum(EnumDecl {
                    name,
                    label,
                    variants,
                    span,
                })
            }
            Rule::table_decl => {
                let name = self.ident(next_or(&mut it, self.source, span)?);
                let mut title = None;
                let mut path = None;
                let mut key = Vec::new();
                let mut valid = None;
                let mut columns = Vec::new();
                for p in it {
                    match p.as_rule() {
                        Rule::string if path.is_none() && title.is_none() && key.is_empty() => {
                            // The first string is the title when a second (the path) follows.
                            title = Some(self.string(p));
                        }
                        Rule::string => path = Some(self.string(p)),
                        Rule::key_cols => key = p.into_inner().map(|i| self.ident(i)).collect(),
                        Rule::valid_clause => {
                            let mut v = p.into_inner().filter(|p| p.as_rule() == Rule::ident);
                            let a = self.ident(next_or(&mut v, self.source, span)?);
                            let b = self.ident(next_or(&mut v, self.source, span)?);
                            valid = Some((a, b));
                        }
                        _ => columns.push(self.column(p)?),
                    }
                }
                // `table t from "p"` without a title: the only string is the path.
                let path = match (path, title.take()) {
                    (Some(path), t) => {
                        title = t;
                        path
                    }
                    (None, Some(only)) => only,
                    (None, None) => StrLit {
                        value: String::new(),
                        span,
                    },
                };
                Item::Table(TableDecl {
                    name,
                    title,
                    path,
                    key,
                    valid,
                    columns,
                    span,
                })
            }
            Rule::const_decl => {
                let name = self.ident(next_or(&mut it, self.source, span)?);
                let mut ty = None;
                let mut value = None;
                for p in it {
                    match p.as_rule() {
                        Rule::type_expr => ty = Some(self.type_expr(p)),
                        _ => value = Some(self.expr(p, 0)?),
                    }
                }
                let value = value.unwrap_or(Expr {
                    kind: ExprKind::Bool(false),
                    span,
                });
                Item::Const(ConstDecl {
                    name,
                    ty,
                    value,
                    span,
                })
            }
            Rule::def_decl => {
                let name = self.ident(next_or(&mut it, self.source, span)?);
                let mut params = Vec::new();
                let mut ret = None;
                let mut body = None;
                for p in it {
                    match p.as_rule() {
                        Rule::param => {
                            let pspan = self.span(&p);
                            let mut pi = p.into_inner();
                            let name = self.ident(next_or(&mut pi, self.source, span)?);
                            let ty = self.type_expr(next_or(&mut pi, self.source, span)?);
                            params.push(Param {
                                name,
                                ty,
                                span: pspan,
                            });
                        }
                        Rule::type_expr => ret = Some(self.type_expr(p)),
                        _ => body = Some(self.expr(p, 0)?),
                    }
                }
                let body = body.unwrap_or(Expr {
                    kind: ExprKind::Bool(false),
                    span,
                });
                Item::Def(DefDecl {
                    name,
                    params,
                    ret,
                    body,
                    span,
                })
            }
            Rule::rule_decl => {
                let id = self.ident(next_or(&mut it, self.source, span)?);
                let name = self.string(next_or(&mut it, self.source, span)?);
                let clauses = it.map(|p| self.clause(p)).collect::<R<Vec<_>>>()?;
                Item::Rule(RuleDecl {
                    id,
                    name,
                    clauses,
                    span,
                })
            }
            Rule::test_decl => {
                let name = self.string(next_or(&mut it, self.source, span)?);
                let stmts = it.map(|p| self.test_stmt(p)).collect::<R<Vec<_>>>()?;
                Item::Test(TestDecl { name, stmts, span })
            }
            other => return Err(unexpected_node(self.source, span, other)),
        })
    }

    fn field(&self, p: Pair<Rule>) -> R<FieldDecl> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let name = self.ident(next_or(&mut it, self.source, span)?);
        let ty = self.type_expr(next_or(&mut it, self.source, span)?);
        let label = it.next().map(|p| self.string(p));
        Ok(FieldDecl {
            name,
            ty,
            label,
            span,
        })
    }

    fn column(&self, p: Pair<Rule>) -> R<ColumnDecl> {
        let span = self.span(&p);
        let mut name = None;
        let mut ty = None;
        let mut sep = None;
        let mut label = None;
        for p in p.into_inner() {
            match p.as_rule() {
                Rule::ident => name = Some(self.ident(p)),
                Rule::type_expr => ty = Some(self.type_expr(p)),
                Rule::sep_clause => {
                    sep = p
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::string)
                        .map(|p| self.string(p))
                }
                Rule::string => label = Some(self.string(p)),
                _ => {}
            }
        }
        let name = name.unwrap_or(Ident {
            name: String::new(),
            span,
        });
        let ty = ty.unwrap_or(TypeExpr {
            kind: TypeExprKind::Named(name.clone()),
            span,
        });
        Ok(ColumnDecl {
            name,
            ty,
            sep,
            label,
            span,
        })
    }

    fn type_expr(&self, p: Pair<Rule>) -> TypeExpr {
        let span = self.span(&p);
        let mut inner = p.into_inner();
        let base = match inner.next() {
            Some(b) => b,
            None => {
                return TypeExpr {
                    kind: TypeExprKind::Named(Ident {
                        name: String::new(),
                        span,
                    }),
                    span,
                }
            }
        };
        let bspan = self.span(&base);
        let base_ty = match base.as_rule() {
            Rule::list_type => {
                let elem = base.into_inner().next().map(|e| self.type_expr(e));
                match elem {
                    Some(e) => TypeExpr {
                        kind: TypeExprKind::List(Box::new(e)),
                        span: bspan,
                    },
                    None => TypeExpr {
                        kind: TypeExprKind::Named(Ident {
                            name: String::new(),
                            span,
                        }),
                        span,
                    },
                }
            }
            _ => {
                let id = base.into_inner().next().map(|i| self.ident(i));
                let id = id.unwrap_or(Ident {
                    name: String::new(),
                    span: bspan,
                });
                TypeExpr {
                    kind: TypeExprKind::Named(id),
                    span: bspan,
                }
            }
        };
        if inner.next().is_some() {
            TypeExpr {
                kind: TypeExprKind::Optional(Box::new(base_ty)),
                span,
            }
        } else {
            base_ty
        }
    }

    fn clause(&self, p: Pair<Rule>) -> R<Clause> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut it = p.into_inner().filter(|p| !is_keyword(p.as_rule()));
        let kind = match rule {
            Rule::severity_clause => {
                ClauseKind::Severity(self.ident(next_or(&mut it, self.source, span)?))
            }
            Rule::basis_clause => {
                ClauseKind::Basis(self.string(next_or(&mut it, self.source, span)?))
            }
            Rule::for_clause => {
                let binder = self.ident(next_or(&mut it, self.source, span)?);
                let source = self.expr(next_or(&mut it, self.source, span)?, 0)?;
                ClauseKind::For { binder, source }
            }
            Rule::per_clause => {
                let month_of = self.expr(next_or(&mut it, self.source, span)?, 0)?;
                let filter = it.next().map(|p| self.expr(p, 0)).transpose()?;
                ClauseKind::PerProviderMonth { month_of, filter }
            }
            Rule::let_clause => {
                let name = self.ident(next_or(&mut it, self.source, span)?);
                let value = self.expr(next_or(&mut it, self.source, span)?, 0)?;
                ClauseKind::Let { name, value }
            }
            Rule::when_clause => {
                ClauseKind::When(self.expr(next_or(&mut it, self.source, span)?, 0)?)
            }
            Rule::amount_clause => {
                ClauseKind::Amount(self.expr(next_or(&mut it, self.source, span)?, 0)?)
            }
            Rule::message_clause => {
                ClauseKind::Message(self.template(next_or(&mut it, self.source, span)?)?)
            }
            other => return Err(unexpected_node(self.source, span, other)),
        };
        Ok(Clause { kind, span })
    }

    fn template(&self, p: Pair<Rule>) -> R<Template> {
        let span = self.span(&p);
        let mut parts: Vec<TemplatePart> = Vec::new();
        for part in p.into_inner() {
            let piece = match part.as_rule() {
                Rule::tmpl_text => TemplatePart::Text(unescape(part.as_str())),
                Rule::tmpl_lbrace => TemplatePart::Text("{".into()),
                Rule::tmpl_rbrace => TemplatePart::Text("}".into()),
                _ => {
                    let e = part.into_inner().next();
                    match e {
                        Some(e) => TemplatePart::Hole(self.expr(e, 0)?),
                        None => continue,
                    }
                }
            };
            // Adjacent text pieces merge, so `{{` does not split the text in the tree.
            match (parts.last_mut(), piece) {
                (Some(TemplatePart::Text(prev)), TemplatePart::Text(t)) => prev.push_str(&t),
                (_, piece) => parts.push(piece),
            }
        }
        Ok(Template { parts, span })
    }

    fn test_stmt(&self, p: Pair<Rule>) -> R<TestStmt> {
        let span = self.span(&p);
        let rule = p.as_rule();
        let it = p.into_inner().filter(|p| !is_keyword(p.as_rule()));
        match rule {
            Rule::given_stmt => {
                let mut kind = GivenKind::Claims;
                let mut path = StrLit {
                    value: String::new(),
                    span,
                };
                for p in it {
                    match p.as_rule() {
                        Rule::given_kind => {
                            kind = if p.as_str() == "history" {
                                GivenKind::History
                            } else {
                                GivenKind::Claims
                            }
                        }
                        Rule::given_table => {
                            let id = p.into_inner().find(|p| p.as_rule() == Rule::ident);
                            let id = id.map(|i| self.ident(i)).unwrap_or(Ident {
                                name: String::new(),
                                span,
                            });
                            kind = GivenKind::Table(id);
                        }
                        _ => path = self.string(p),
                    }
                }
                Ok(TestStmt::Given { kind, path, span })
            }
            _ => {
                let mut negated = false;
                let mut rule_id = None;
                let mut at = Vec::new();
                let mut amount = None;
                for p in it {
                    match p.as_rule() {
                        Rule::expect_no => negated = true,
                        Rule::rule_id => rule_id = Some(self.ident(p)),
                        Rule::expect_at => {
                            let mut kind = AtKind::Claim;
                            let mut value = None;
                            for q in p.into_inner() {
                                match q.as_rule() {
                                    Rule::at_kind => {
                                        kind = match q.as_str() {
                                            "line" => AtKind::Line,
                                            "provider" => AtKind::Provider,
                                            "period" => AtKind::Period,
                                            _ => AtKind::Claim,
                                        }
                                    }
                                    Rule::string => value = Some(self.string(q)),
                                    _ => {}
                                }
                            }
                            if let Some(v) = value {
                                at.push((kind, v));
                            }
                        }
                        Rule::expect_amount => {
                            amount = p
                                .into_inner()
                                .find(|q| q.as_rule() == Rule::string)
                                .map(|q| self.string(q))
                        }
                        _ => {}
                    }
                }
                let rule = rule_id.unwrap_or(Ident {
                    name: String::new(),
                    span,
                });
                Ok(TestStmt::Expect {
                    negated,
                    rule,
                    at,
                    amount,
                    span,
                })
            }
        }
    }

    // ---- expressions --------------------------------------------------------------------

    fn expr(&self, p: Pair<Rule>, depth: usize) -> R<Expr> {
        let span = self.span(&p);
        if depth > MAX_DEPTH {
            return Err(too_deep(span));
        }
        let rule = p.as_rule();
        // Depth counts real nesting (brackets, calls, quantifier and `if` bodies), not the
        // grammar's precedence layers, so MAX_DEPTH is the limit an officer can see.
        let opens = matches!(
            rule,
            Rule::paren | Rule::list_lit | Rule::call | Rule::quant_expr | Rule::if_expr
        );
        let d = if opens { depth + 1 } else { depth };
        match rule {
            Rule::expr => {
                let inner = first(p, self.source, span)?;
                self.expr(inner, d)
            }
            Rule::or_expr | Rule::and_expr => {
                let op = if rule == Rule::or_expr {
                    BinOp::Or
                } else {
                    BinOp::And
                };
                let mut operands = p.into_inner().filter(|p| !is_keyword(p.as_rule()));
                let firstp = next_or(&mut operands, self.source, span)?;
                let mut acc = self.expr(firstp, d)?;
                let mut chain = 0;
                for q in operands {
                    chain += 1;
                    if d + chain > MAX_DEPTH {
                        return Err(too_deep(span));
                    }
                    acc = binary(op, acc, self.expr(q, d)?);
                }
                Ok(acc)
            }
            Rule::not_expr => {
                let mut nots = Vec::new();
                let mut body = None;
                for q in p.into_inner() {
                    if q.as_rule() == Rule::kw_not {
                        nots.push(self.span(&q));
                    } else {
                        body = Some(q);
                    }
                }
                if d + nots.len() > MAX_DEPTH {
                    return Err(too_deep(span));
                }
                let body = body.ok_or_else(|| internal(self.source))?;
                let mut e = self.expr(body, d)?;
                for ns in nots.into_iter().rev() {
                    let s = ns.to(e.span);
                    e = Expr {
                        kind: ExprKind::Not(Box::new(e)),
                        span: s,
                    };
                }
                Ok(e)
            }
            Rule::quant_expr => {
                let mut it = p.into_inner();
                let qk = next_or(&mut it, self.source, span)?;
                let q = if qk.as_rule() == Rule::kw_exists {
                    Quantifier::Exists
                } else {
                    Quantifier::All
                };
                let mut rest = it.filter(|p| !is_keyword(p.as_rule()));
                let binder = self.ident(next_or(&mut rest, self.source, span)?);
                let source = self.expr(next_or(&mut rest, self.source, span)?, d)?;
                let body = self.expr(next_or(&mut rest, self.source, span)?, d)?;
                Ok(Expr {
                    kind: ExprKind::Quant {
                        q,
                        binder,
                        source: Box::new(source),
                        body: Box::new(body),
                    },
                    span,
                })
            }
            Rule::if_expr => {
                let mut rest = p.into_inner().filter(|p| !is_keyword(p.as_rule()));
                let cond = self.expr(next_or(&mut rest, self.source, span)?, d)?;
                let then = self.expr(next_or(&mut rest, self.source, span)?, d)?;
                let otherwise = self.expr(next_or(&mut rest, self.source, span)?, d)?;
                Ok(Expr {
                    kind: ExprKind::If {
                        cond: Box::new(cond),
                        then: Box::new(then),
                        otherwise: Box::new(otherwise),
                    },
                    span,
                })
            }
            Rule::cmp_expr => {
                let mut it = p.into_inner();
                let lhs = self.expr(next_or(&mut it, self.source, span)?, d)?;
                let tail = match it.next() {
                    None => return Ok(lhs),
                    Some(t) => t,
                };
                match tail.as_rule() {
                    Rule::cmp_tail => {
                        let mut ti = tail.into_inner();
                        let op = match next_or(&mut ti, self.source, span)?.as_str() {
                            "==" => BinOp::Eq,
                            "!=" => BinOp::Ne,
                            "<" => BinOp::Lt,
                            "<=" => BinOp::Le,
                            ">" => BinOp::Gt,
                            _ => BinOp::Ge,
                        };
                        let rhs = self.expr(next_or(&mut ti, self.source, span)?, d)?;
                        Ok(Expr {
                            kind: ExprKind::Binary {
                                op,
                                lhs: Box::new(lhs),
                                rhs: Box::new(rhs),
                            },
                            span,
                        })
                    }
                    Rule::in_tail => {
                        let mut negated = false;
                        let mut exprs = Vec::new();
                        let mut inclusive = None;
                        for q in tail.into_inner() {
                            match q.as_rule() {
                                Rule::kw_not => negated = true,
                                Rule::kw_in => {}
                                Rule::range_op => inclusive = Some(q.as_str() == "..="),
                                _ => exprs.push(self.expr(q, d)?),
                            }
                        }
                        let mut ex = exprs.into_iter();
                        let a = ex.next().ok_or_else(|| internal(self.source))?;
                        let rhs = match (inclusive, ex.next()) {
                            (Some(inclusive), Some(hi)) => InRhs::Range {
                                lo: Box::new(a),
                                hi: Box::new(hi),
                                inclusive,
                            },
                            _ => InRhs::Set(Box::new(a)),
                        };
                        Ok(Expr {
                            kind: ExprKind::In {
                                value: Box::new(lhs),
                                negated,
                                rhs,
                            },
                            span,
                        })
                    }
                    _ => {
                        let pat = tail.into_inner().find(|q| q.as_rule() == Rule::pattern);
                        let pat = pat.ok_or_else(|| internal(self.source))?;
                        let mut pi = pat.into_inner();
                        let kw = next_or(&mut pi, self.source, span)?;
                        let pattern = if kw.as_rule() == Rule::kw_none {
                            Pattern::None
                        } else {
                            Pattern::Some(pi.next().map(|i| self.ident(i)))
                        };
                        Ok(Expr {
                            kind: ExprKind::Is {
                                value: Box::new(lhs),
                                pattern,
                            },
                            span,
                        })
                    }
                }
            }
            Rule::coalesce | Rule::add_expr | Rule::mul_expr => {
                let mut it = p.into_inner();
                let mut acc = self.expr(next_or(&mut it, self.source, span)?, d)?;
                let mut chain = 0;
                while let Some(q) = it.next() {
                    // `??` operands follow each other; `+ - * /` come as operator, operand.
                    let (op, operand) = match q.as_rule() {
                        Rule::add_op | Rule::mul_op => {
                            let op = match q.as_str() {
                                "+" => BinOp::Add,
                                "-" => BinOp::Sub,
                                "*" => BinOp::Mul,
                                _ => BinOp::Div,
                            };
                            (op, next_or(&mut it, self.source, span)?)
                        }
                        _ => (BinOp::Coalesce, q),
                    };
                    chain += 1;
                    if d + chain > MAX_DEPTH {
                        return Err(too_deep(span));
                    }
                    acc = binary(op, acc, self.expr(operand, d)?);
                }
                Ok(acc)
            }
            Rule::unary => {
                let mut negs = Vec::new();
                let mut body = None;
                for q in p.into_inner() {
                    if q.as_rule() == Rule::neg {
                        negs.push(self.span(&q));
                    } else {
                        body = Some(q);
                    }
                }
                if d + negs.len() > MAX_DEPTH {
                    return Err(too_deep(span));
                }
                let mut e = self.expr(body.ok_or_else(|| internal(self.source))?, d)?;
                for ns in negs.into_iter().rev() {
                    let s = ns.to(e.span);
                    e = Expr {
                        kind: ExprKind::Neg(Box::new(e)),
                        span: s,
                    };
                }
                Ok(e)
            }
            Rule::postfix => {
                let mut it = p.into_inner();
                let mut acc = self.expr(next_or(&mut it, self.source, span)?, d)?;
                let mut chain = 0;
                for op in it {
                    chain += 1;
                    if d + chain > MAX_DEPTH {
                        return Err(too_deep(span));
                    }
                    let ospan = self.span(&op);
                    let s = acc.span.to(ospan);
                    match op.as_rule() {
                        Rule::field_op | Rule::opt_field_op => {
                            let optional = op.as_rule() == Rule::opt_field_op;
                            let name = self.ident(first(op, self.source, ospan)?);
                            acc = Expr {
                                kind: ExprKind::Field {
                                    base: Box::new(acc),
                                    name,
                                    optional,
                                },
                                span: s,
                            };
                        }
                        _ => {
                            let mut keys = Vec::new();
                            let mut at = None;
                            let mut after_at = false;
                            for q in op.into_inner() {
                                match q.as_rule() {
                                    Rule::kw_at => after_at = true,
                                    _ if after_at => at = Some(Box::new(self.expr(q, d + 1)?)),
                                    _ => keys.push(self.expr(q, d + 1)?),
                                }
                            }
                            acc = Expr {
                                kind: ExprKind::Index {
                                    base: Box::new(acc),
                                    keys,
                                    at,
                                },
                                span: s,
                            };
                        }
                    }
                }
                Ok(acc)
            }
            Rule::number => Ok(Expr {
                kind: ExprKind::Number(p.as_str().to_string()),
                span,
            }),
            Rule::string => Ok(Expr {
                kind: ExprKind::Str(self.string(p).value),
                span,
            }),
            Rule::kw_true => Ok(Expr {
                kind: ExprKind::Bool(true),
                span,
            }),
            Rule::kw_false => Ok(Expr {
                kind: ExprKind::Bool(false),
                span,
            }),
            Rule::ident => Ok(Expr {
                kind: ExprKind::Name(self.ident(p)),
                span,
            }),
            Rule::paren => {
                let inner = self.expr(first(p, self.source, span)?, d)?;
                Ok(Expr {
                    kind: ExprKind::Paren(Box::new(inner)),
                    span,
                })
            }
            Rule::list_lit => {
                let items = p
                    .into_inner()
                    .map(|q| self.expr(q, d))
                    .collect::<R<Vec<_>>>()?;
                Ok(Expr {
                    kind: ExprKind::List(items),
                    span,
                })
            }
            Rule::call => self.call(p, d, span),
            other => Err(unexpected_node(self.source, span, other)),
        }
    }

    fn call(&self, p: Pair<Rule>, d: usize, span: Span) -> R<Expr> {
        let mut it = p.into_inner();
        let name = self.ident(next_or(&mut it, self.source, span)?);
        let mut exprs = Vec::new();
        let mut comp: Option<Comprehension> = None;
        for q in it {
            match q.as_rule() {
                Rule::binder_comp => {
                    let mut c = self.comp_parts(q, d)?;
                    c.value = None;
                    comp = Some(c);
                }
                Rule::value_comp => {
                    let mut c = self.comp_parts(q, d)?;
                    c.value = exprs.pop();
                    comp = Some(c);
                }
                Rule::more_args => {
                    for a in q.into_inner() {
                        exprs.push(self.expr(a, d)?);
                    }
                }
                _ => exprs.push(self.expr(q, d)?),
            }
        }
        let args = match comp {
            Some(c) => CallArgs::Comprehension(Box::new(c)),
            None => CallArgs::Exprs(exprs),
        };
        Ok(Expr {
            kind: ExprKind::Call { name, args },
            span,
        })
    }

    fn comp_parts(&self, p: Pair<Rule>, d: usize) -> R<Comprehension> {
        let span = self.span(&p);
        let mut binder = None;
        let mut source = None;
        let mut by = None;
        let mut filter = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::ident => binder = Some(self.ident(q)),
                Rule::comp_by => by = Some(self.expr(first(q, self.source, span)?, d)?),
                Rule::comp_where => filter = Some(self.expr(first(q, self.source, span)?, d)?),
                r if is_keyword(r) => {}
                _ => source = Some(self.expr(q, d)?),
            }
        }
        Ok(Comprehension {
            value: None,
            binder: binder.ok_or_else(|| internal(self.source))?,
            source: source.ok_or_else(|| internal(self.source))?,
            by,
            filter,
        })
    }
}

/// `lhs op rhs`, spanning both operands.
fn binary(op: BinOp, lhs: Expr, rhs: Expr) -> Expr {
    let span = lhs.span.to(rhs.span);
    Expr {
        kind: ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        span,
    }
}

fn is_keyword(rule: Rule) -> bool {
    format!("{rule:?}").starts_with("kw_")
}

/// First inner pair, skipping keywords.
fn first(p: Pair<Rule>, source: SourceId, span: Span) -> R<Pair<Rule>> {
    let mut it = p.into_inner().filter(|q| !is_keyword(q.as_rule()));
    next_or(&mut it, source, span)
}

fn next_or<'a>(
    it: &mut impl Iterator<Item = Pair<'a, Rule>>,
    source: SourceId,
    span: Span,
) -> R<Pair<'a, Rule>> {
    it.next()
        .ok_or(ParseError {
            code: "V0001",
            message: "incomplete syntax".into(),
            span,
            expected: vec![],
            help: None,
        })
        .map_err(|mut e| {
            e.span.source = source;
            e
        })
}

fn unexpected_node(source: SourceId, span: Span, rule: Rule) -> ParseError {
    ParseError {
        code: "V0001",
        message: format!("unexpected syntax node {rule:?}"),
        span: Span { source, ..span },
        expected: vec![],
        help: Some("please report this file to the Vigil maintainers".into()),
    }
}

/// Undo string escapes (`\"`, `\\`, `\n`, `\t`, `\{`, `\}`).
pub fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Escape a string value for printing inside double quotes.
pub fn escape(value: &str, template: bool) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '{' if template => out.push_str("{{"),
            '}' if template => out.push_str("}}"),
            c => out.push(c),
        }
    }
    out
}

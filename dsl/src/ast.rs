//! The syntax tree of one `.vigil` file. Every node carries the span of its text.
//!
//! The tree is purely syntactic: names are not resolved and nothing is typed here; that is the
//! compiler's job. Literals keep their source text so that the formatter and the compiler decide
//! what they mean (an exact decimal is never parsed through a float).

use crate::span::Span;

/// A name as written, with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal: `value` is unescaped, `span` covers the quotes.
#[derive(Debug, Clone, PartialEq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// One parsed file: its items in source order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Module {
    pub items: Vec<Item>,
}

/// A top-level declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Rulebook(RulebookDecl),
    Schema(SchemaDecl),
    Enum(EnumDecl),
    Table(TableDecl),
    Const(ConstDecl),
    Def(DefDecl),
    Rule(RuleDecl),
    Test(TestDecl),
}

impl Item {
    /// The span of the whole declaration.
    pub fn span(&self) -> Span {
        match self {
            Item::Rulebook(d) => d.span,
            Item::Schema(d) => d.span,
            Item::Enum(d) => d.span,
            Item::Table(d) => d.span,
            Item::Const(d) => d.span,
            Item::Def(d) => d.span,
            Item::Rule(d) => d.span,
            Item::Test(d) => d.span,
        }
    }
}

/// `rulebook cn-national "国家医保智能审核规则" version "2026.11"`: the header of a rulebook.
#[derive(Debug, Clone, PartialEq)]
pub struct RulebookDecl {
    pub id: Ident,
    pub title: StrLit,
    pub version: StrLit,
    pub span: Span,
}

/// `schema claim "医保结算" { field: type "label" ... }`: a record type of the claim data.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaDecl {
    pub name: Ident,
    pub label: Option<StrLit>,
    pub fields: Vec<FieldDecl>,
    pub span: Span,
}

/// One field of a schema record: `psn_no: text "人员编号"`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub label: Option<StrLit>,
    pub span: Span,
}

/// `enum med_type "医疗类别" { inpatient = "21" "普通住院" ... }`: a national code set.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumDecl {
    pub name: Ident,
    pub label: Option<StrLit>,
    pub variants: Vec<VariantDecl>,
    pub span: Span,
}

/// One named code of an enum: `inpatient = "21" "普通住院"`.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantDecl {
    pub name: Ident,
    pub code: StrLit,
    pub label: Option<StrLit>,
    pub span: Span,
}

/// A reference table: `table hilist "医保目录" from "tables/hilist.csv" key hilist_code valid begn_date..end_date { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDecl {
    pub name: Ident,
    pub title: Option<StrLit>,
    pub path: StrLit,
    pub key: Vec<Ident>,
    pub valid: Option<(Ident, Ident)>,
    pub columns: Vec<ColumnDecl>,
    pub span: Span,
}

/// A typed column of a table: `lmt_dx: [code] sep "|" "限定支付范围"`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub sep: Option<StrLit>,
    pub label: Option<StrLit>,
    pub span: Span,
}

/// A type as written: a name, a list `[T]`, or an optional `T?`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

/// The shape of a written type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeExprKind {
    Named(Ident),
    List(Box<TypeExpr>),
    Optional(Box<TypeExpr>),
}

/// `const OTP_MAX_DAYS = 7`: a named value an officer changes in one place.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstDecl {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub value: Expr,
    pub span: Span,
}

/// `def event_date(c: claim, l: fee_line) -> date? = ...`: a named, non-recursive expression.
#[derive(Debug, Clone, PartialEq)]
pub struct DefDecl {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: Option<TypeExpr>,
    pub body: Expr,
    pub span: Span,
}

/// A parameter of a `def`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
    pub span: Span,
}

/// `rule CN-PRICE-001 "超标准收费" { clauses }`.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDecl {
    pub id: Ident,
    pub name: StrLit,
    pub clauses: Vec<Clause>,
    pub span: Span,
}

/// One clause of a rule, with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub kind: ClauseKind,
    pub span: Span,
}

/// What a rule clause says.
#[derive(Debug, Clone, PartialEq)]
pub enum ClauseKind {
    /// `severity block|warn|info` (the word is checked by the compiler).
    Severity(Ident),
    /// `basis "《…》第…条"`: the legal citation.
    Basis(StrLit),
    /// `for line in claim.fee_list`: one evaluation (and finding) per element.
    For { binder: Ident, source: Expr },
    /// `per provider month of <date> [where <cond>]`: one evaluation per provider and month.
    PerProviderMonth {
        month_of: Expr,
        filter: Option<Expr>,
    },
    /// `let name = expr`.
    Let { name: Ident, value: Expr },
    /// `when cond`.
    When(Expr),
    /// `amount expr`.
    Amount(Expr),
    /// `message "text {hole}"`.
    Message(Template),
}

/// A message template: literal text and `{expr}` holes.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
    pub span: Span,
}

/// A piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    /// Literal text, unescaped.
    Text(String),
    /// A `{expr}` hole.
    Hole(Expr),
}

/// `test "name" { given ...  expect ... }`: a rule test that lives beside the rules.
#[derive(Debug, Clone, PartialEq)]
pub struct TestDecl {
    pub name: StrLit,
    pub stmts: Vec<TestStmt>,
    pub span: Span,
}

/// A statement of a test.
#[derive(Debug, Clone, PartialEq)]
pub enum TestStmt {
    /// `given claims "file"`, `given history "file"` or `given table hilist "file"`.
    Given {
        kind: GivenKind,
        path: StrLit,
        span: Span,
    },
    /// `expect [no] RULE [at line "7"]… [amount "4.50"]`.
    Expect {
        negated: bool,
        rule: Ident,
        at: Vec<(AtKind, StrLit)>,
        amount: Option<StrLit>,
        span: Span,
    },
}

impl TestStmt {
    /// The span of the statement.
    pub fn span(&self) -> Span {
        match self {
            TestStmt::Given { span, .. } | TestStmt::Expect { span, .. } => *span,
        }
    }
}

/// What a `given` supplies.
#[derive(Debug, Clone, PartialEq)]
pub enum GivenKind {
    Claims,
    History,
    Table(Ident),
}

/// What an `expect … at` pins down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtKind {
    Claim,
    Line,
    Provider,
    Period,
}

impl AtKind {
    /// The keyword as written.
    pub fn as_str(self) -> &'static str {
        match self {
            AtKind::Claim => "claim",
            AtKind::Line => "line",
            AtKind::Provider => "provider",
            AtKind::Period => "period",
        }
    }
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// Binary operators, in the order of their precedence groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Coalesce,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Coalesce => "??",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }

    /// Binding strength: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::Coalesce => 5,
            BinOp::Add | BinOp::Sub => 6,
            BinOp::Mul | BinOp::Div => 7,
        }
    }
}

/// `exists` or `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    Exists,
    All,
}

/// The right-hand side of `in`.
#[derive(Debug, Clone, PartialEq)]
pub enum InRhs {
    /// `x in list`.
    Set(Box<Expr>),
    /// `x in lo..hi` or `x in lo..=hi`.
    Range {
        lo: Box<Expr>,
        hi: Box<Expr>,
        inclusive: bool,
    },
}

/// The pattern of `x is …`.
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    /// `is some` or `is some(name)`: present, optionally binding the value.
    Some(Option<Ident>),
    /// `is none`: absent.
    None,
}

/// The arguments of a call.
#[derive(Debug, Clone, PartialEq)]
pub enum CallArgs {
    /// `f(a, b)`.
    Exprs(Vec<Expr>),
    /// `count(x in l where c)`, `sum(e for x in l where c)`, `groups(x in l by k where c)`.
    Comprehension(Box<Comprehension>),
}

/// A comprehension over a list inside an aggregate call.
#[derive(Debug, Clone, PartialEq)]
pub struct Comprehension {
    /// The value taken per element (`e` in `sum(e for x in l)`); absent in `count(x in l)`.
    pub value: Option<Expr>,
    pub binder: Ident,
    pub source: Expr,
    pub by: Option<Expr>,
    pub filter: Option<Expr>,
}

/// The shape of an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A number as written (`7`, `1.30`): the compiler decides int or decimal exactly.
    Number(String),
    /// A string literal (unescaped).
    Str(String),
    Bool(bool),
    /// A bare name: a binding, const, table, enum variant or enum.
    Name(Ident),
    /// `base.name` or `base?.name`.
    Field {
        base: Box<Expr>,
        name: Ident,
        optional: bool,
    },
    /// `table[k1, k2 at date]`.
    Index {
        base: Box<Expr>,
        keys: Vec<Expr>,
        at: Option<Box<Expr>>,
    },
    Call {
        name: Ident,
        args: CallArgs,
    },
    List(Vec<Expr>),
    /// `-x`.
    Neg(Box<Expr>),
    /// `not x`.
    Not(Box<Expr>),
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `x [not] in …`.
    In {
        value: Box<Expr>,
        negated: bool,
        rhs: InRhs,
    },
    /// `x is some(v)` / `x is none`.
    Is {
        value: Box<Expr>,
        pattern: Pattern,
    },
    /// `exists x in l where c` / `all x in l where c`.
    Quant {
        q: Quantifier,
        binder: Ident,
        source: Box<Expr>,
        body: Box<Expr>,
    },
    /// `if cond then a else b`.
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// `(e)`, kept so that the formatter prints what the officer wrote.
    Paren(Box<Expr>),
}

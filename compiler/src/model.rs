//! A checked rulebook: its declarations resolved and typed, plus what every name refers to.
//! This is what lowering, the runtime and the language server read.

use std::collections::BTreeMap;

use vigil_dsl::ast;
use vigil_dsl::Span;

use crate::types::Ty;

/// `rulebook id "title" version "v"`.
#[derive(Debug, Clone, Default)]
pub struct Header {
    pub id: String,
    pub title: String,
    pub version: String,
    pub span: Span,
}

/// A field of a schema record or a column of a table.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ty: Ty,
    pub label: Option<String>,
    /// The separator of a list column in a CSV cell.
    pub sep: Option<String>,
    pub span: Span,
}

/// A record of the claim schema.
#[derive(Debug, Clone)]
pub struct Record {
    pub name: String,
    pub label: Option<String>,
    pub fields: Vec<Field>,
    /// The span of the record's name.
    pub span: Span,
}

impl Record {
    /// A field by name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A named code of an enum.
#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    pub code: String,
    pub label: Option<String>,
    pub span: Span,
}

/// A national code set.
#[derive(Debug, Clone)]
pub struct Enum {
    pub name: String,
    pub label: Option<String>,
    pub variants: Vec<Variant>,
    pub span: Span,
}

/// A reference table.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub title: Option<String>,
    /// As written: relative to the rulebook folder.
    pub path: String,
    pub key: Vec<String>,
    pub valid: Option<(String, String)>,
    pub columns: Vec<Field>,
    pub span: Span,
}

impl Table {
    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&Field> {
        self.columns.iter().find(|f| f.name == name)
    }
}

/// `severity block|warn|info`: what a finding does at settlement time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleSeverity {
    /// 拦截: the claim is stopped.
    Block,
    /// 提示: the officer is prompted.
    Warn,
    /// Recorded only.
    Info,
}

impl RuleSeverity {
    /// The word used in rules and in findings (`sev_deg`).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleSeverity::Block => "block",
            RuleSeverity::Warn => "warn",
            RuleSeverity::Info => "info",
        }
    }
}

/// What one evaluation of a rule ranges over, and so what a finding names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// One evaluation per claim.
    Claim,
    /// One per element of a claim's list (`for line in claim.fee_list`).
    Line,
    /// One per provider and calendar month.
    Provider,
}

impl Scope {
    /// The word used in findings (`scope`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Claim => "claim",
            Scope::Line => "line",
            Scope::Provider => "provider",
        }
    }
}

/// A checked rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub severity: RuleSeverity,
    pub basis: String,
    pub scope: Scope,
    pub span: Span,
    /// The rule as written; its expressions' types are in `Rulebook::types`.
    pub decl: ast::RuleDecl,
}

/// A checked `const`.
#[derive(Debug, Clone)]
pub struct Const {
    pub name: String,
    pub ty: Ty,
    pub decl: ast::ConstDecl,
}

/// A checked `def`.
#[derive(Debug, Clone)]
pub struct Def {
    pub name: String,
    pub params: Vec<(String, Ty)>,
    pub ret: Ty,
    pub decl: ast::DefDecl,
}

/// What a name or field at some span refers to (hover, go to definition, rename).
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Field {
        record: String,
        field: String,
    },
    Column {
        table: String,
        column: String,
    },
    Table(String),
    Enum(String),
    Variant {
        enum_name: String,
        variant: String,
    },
    Const(String),
    Def(String),
    Rule(String),
    Builtin(String),
    Property(String),
    /// A local binding (let, binder, parameter): the span of its definition.
    Local {
        name: String,
        def: Span,
    },
}

/// A rulebook that passed the checker (possibly with warnings).
#[derive(Debug, Clone, Default)]
pub struct Rulebook {
    pub header: Header,
    pub records: BTreeMap<String, Record>,
    pub enums: BTreeMap<String, Enum>,
    pub tables: BTreeMap<String, Table>,
    pub consts: BTreeMap<String, Const>,
    pub defs: BTreeMap<String, Def>,
    /// In source order.
    pub rules: Vec<Rule>,
    pub tests: Vec<ast::TestDecl>,
    /// The type of every checked expression, by its span.
    pub types: Vec<(Span, Ty)>,
    /// What each name use refers to, by the span of the name.
    pub refs: Vec<(Span, Target)>,
}

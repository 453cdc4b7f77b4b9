//! The checker's state and entry point. Declarations (decls.rs), expressions (typeck.rs) and
//! rules and tests (rules.rs) are checked by `impl Checker` blocks in their own modules.
//!
//! The checker never stops at the first error: every problem becomes a `Diagnostic` and the
//! offending expression gets `Ty::Error`, which agrees with everything, so that one mistake
//! gives one diagnostic.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use vigil_dsl::ast::{self, Module};
use vigil_dsl::{SourceId, Span};

use crate::diagnostic::Diagnostic;
use crate::model::{Rulebook, Target};
use crate::types::Ty;

/// What a top-level name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GlobalKind {
    Schema,
    Enum,
    Table,
    Const,
    Def,
}

impl GlobalKind {
    pub(crate) fn noun(self) -> &'static str {
        match self {
            GlobalKind::Schema => "schema record",
            GlobalKind::Enum => "code set",
            GlobalKind::Table => "table",
            GlobalKind::Const => "constant",
            GlobalKind::Def => "function",
        }
    }
}

/// A name bound inside a rule or def.
#[derive(Debug, Clone)]
pub(crate) struct Local {
    pub name: String,
    pub ty: Ty,
    pub span: Span,
    pub used: bool,
    /// `let` bindings are reported when unused; binders and parameters are not.
    pub is_let: bool,
}

/// Where an expression is being checked: constants may not read claims; defs see only their
/// parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Context {
    Const,
    Def,
    Rule,
}

/// Lazy checking of consts and defs in any order, with cycle detection.
#[derive(Debug, Clone)]
pub(crate) enum Progress {
    Checking,
    Done(Ty),
}

/// Inputs and results of one check of a rulebook.
pub(crate) struct Checker<'a> {
    pub modules: &'a [(SourceId, Module)],
    /// The rulebook folder, for checking that test and table files exist.
    pub root: Option<PathBuf>,
    pub diags: Vec<Diagnostic>,
    pub book: Rulebook,
    pub globals: HashMap<String, (GlobalKind, Span)>,
    pub const_decls: HashMap<String, &'a ast::ConstDecl>,
    pub def_decls: HashMap<String, &'a ast::DefDecl>,
    pub const_progress: HashMap<String, Progress>,
    pub def_progress: HashMap<String, Progress>,
    pub used_globals: HashSet<String>,
    /// Variant name → the enums that name it (a bare variant must be unique).
    pub variants: HashMap<String, Vec<String>>,
    pub scope: Vec<Local>,
    pub context: Context,
    /// How many consts and defs are being checked inside each other right now.
    pub chain_depth: usize,
    /// The span of the list literal being checked (for the empty-list diagnostic).
    pub current_span: Span,
    pub long_chain_reported: bool,
    /// Set while checking an expression that reads tables or claim history (not constant).
    pub reads_data: bool,
    /// Defs whose body reads tables or history: a constant may not call them.
    pub def_reads_data: HashSet<String>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(modules: &'a [(SourceId, Module)], root: Option<PathBuf>) -> Self {
        Checker {
            modules,
            root,
            diags: Vec::new(),
            book: Rulebook::default(),
            globals: HashMap::new(),
            const_decls: HashMap::new(),
            def_decls: HashMap::new(),
            const_progress: HashMap::new(),
            def_progress: HashMap::new(),
            used_globals: HashSet::new(),
            variants: HashMap::new(),
            scope: Vec::new(),
            context: Context::Rule,
            chain_depth: 0,
            current_span: Span::default(),
            long_chain_reported: false,
            reads_data: false,
            def_reads_data: HashSet::new(),
        }
    }

    /// Reports a diagnostic.
    pub(crate) fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Records what the name at `span` refers to.
    pub(crate) fn refer(&mut self, span: Span, target: Target) {
        self.book.refs.push((span, target));
    }

    /// Looks up a local binding, marking it used.
    pub(crate) fn lookup_local(&mut self, name: &str) -> Option<(Ty, Span)> {
        let local = self.scope.iter_mut().rev().find(|l| l.name == name)?;
        local.used = true;
        Some((local.ty.clone(), local.span))
    }

    /// Binds a local; reports shadowing of another local or a global.
    pub(crate) fn bind(&mut self, name: &ast::Ident, ty: Ty, is_let: bool) {
        if name.name == "claim" {
            self.report(
                Diagnostic::error(
                    "V0115",
                    format!("`{}` is the claim being checked", name.name),
                    name.span,
                    "bound again",
                )
                .with_help("choose another name: `claim` always means the claim under review"),
            );
        } else if let Some(prev) = self.scope.iter().rev().find(|l| l.name == name.name) {
            let prev_span = prev.span;
            self.report(
                Diagnostic::error(
                    "V0115",
                    format!("`{}` is already bound here", name.name),
                    name.span,
                    "bound again",
                )
                .with_label(prev_span, "first bound here")
                .with_help("choose another name: a name means one thing within a rule"),
            );
        } else if let Some((kind, gspan)) = self
            .globals
            .get(&name.name)
            .copied()
            .filter(|(k, _)| *k != GlobalKind::Schema)
        {
            self.report(
                Diagnostic::error(
                    "V0115",
                    format!("`{}` hides the {} of the same name", name.name, kind.noun()),
                    name.span,
                    "hides a declaration",
                )
                .with_label(gspan, "declared here")
                .with_help("choose another name"),
            );
        } else if let Some(enums) = self.variants.get(&name.name) {
            self.report(
                Diagnostic::error("V0115", format!("`{}` hides the code `{}.{}`", name.name, enums[0], name.name), name.span, "hides a code name")
                    .with_help(format!(
                        "to test for the code, compare: `x == {}`; to bind the value, choose another name: `is some(v)`",
                        name.name
                    )),
            );
        }
        self.refer(
            name.span,
            Target::Local {
                name: name.name.clone(),
                def: name.span,
            },
        );
        self.scope.push(Local {
            name: name.name.clone(),
            ty,
            span: name.span,
            used: false,
            is_let,
        });
    }

    /// Binds a name the rule's scope provides (`provider`, `period`, …) at the scope clause,
    /// reporting a code or global it would hide.
    pub(crate) fn bind_reserved(&mut self, name: &str, ty: Ty, span: Span) {
        let clash = if let Some(enums) = self.variants.get(name) {
            Some(format!("the code `{}.{name}`", enums[0]))
        } else {
            self.globals
                .get(name)
                .filter(|(k, _)| *k != GlobalKind::Schema)
                .map(|(k, _)| format!("the {} `{name}`", k.noun()))
        };
        if let Some(what) = clash {
            self.report(
                Diagnostic::error("V0115", format!("`{name}`, which a provider rule binds, would hide {what}"), span, "scope names clash")
                    .with_help(format!("rename {what}: `provider`, `period`, `claims` and `previous_claims` are the names of a provider rule")),
            );
        }
        self.scope.push(Local {
            name: name.to_string(),
            ty,
            span,
            used: false,
            is_let: false,
        });
    }

    /// Drops locals bound after `len`, warning about unused `let`s.
    pub(crate) fn unbind_to(&mut self, len: usize) {
        while self.scope.len() > len {
            if let Some(l) = self.scope.pop() {
                if l.is_let && !l.used {
                    self.report(
                        Diagnostic::warning(
                            "V0401",
                            format!("`{}` is never used", l.name),
                            l.span,
                            "unused binding",
                        )
                        .with_help("remove the `let`, or use it in `when`, `amount` or `message`"),
                    );
                }
            }
        }
    }

    /// Every name visible here, for did-you-mean suggestions.
    pub(crate) fn visible_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.scope.iter().map(|l| l.name.clone()).collect();
        names.extend(
            self.globals
                .iter()
                .filter(|(_, (k, _))| matches!(k, GlobalKind::Const | GlobalKind::Table))
                .map(|(n, _)| n.clone()),
        );
        names.extend(self.variants.keys().cloned());
        names.sort();
        names
    }
}

/// Deepest chain of consts and defs defined in terms of each other. Real rulebooks chain a few;
/// the bound keeps checking and inlining within the stack.
pub const MAX_CHAIN: usize = 64;

/// The closest candidate to a misspelt name, if any is close enough to suggest.
pub fn suggest<'s>(name: &str, candidates: impl IntoIterator<Item = &'s str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let score = strsim::jaro_winkler(name, c);
        let close =
            score >= 0.84 || strsim::damerau_levenshtein(name, c) <= name.len().min(c.len()) / 3;
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

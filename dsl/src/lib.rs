//! The Vigil rule language as text: grammar, syntax tree with spans, parse errors, formatter.
//!
//! This crate knows nothing of types, tables or claims: it turns text into a tree and back.

pub mod ast;
pub mod comments;
pub mod fmt;
pub mod parse;
pub mod span;
pub mod stack;

pub use parse::{parse, ParseError};
pub use span::{line_col, SourceId, Span};

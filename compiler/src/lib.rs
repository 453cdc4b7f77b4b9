//! The Vigil compiler: resolves and type-checks a rulebook against its claim schema and
//! reference tables, and reports every problem as a `Diagnostic` value.
//!
//! Start at `load::load_rulebook` (a folder on disk) or `load::check_sources` (texts in memory,
//! as the language server has them); the result is a `LoadedRulebook` with diagnostics and the
//! checked `model::Rulebook`.

pub mod builtins;
mod checker;
mod decls;
pub mod diagnostic;
pub mod interp;
pub mod ir;
pub mod load;
pub mod lower;
pub mod model;
mod rules;
pub mod source;
pub mod trace;
mod typeck;
pub mod types;
pub mod value;

pub use checker::suggest;
pub use diagnostic::{Diagnostic, Severity};
pub use load::{check_sources, check_sources_cached, load_rulebook, LoadedRulebook, ParseCache};

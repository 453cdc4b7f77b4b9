//! The Vigil runtime: reads claims and reference tables, runs a compiled rulebook, writes
//! findings. It asks the compiler for a checked rulebook and never parses rule text itself.

pub mod claims;
pub mod engine;
pub mod explain;
pub mod findings;
pub mod overlap;
pub mod scalars;
pub mod tables;
/// The value model is the compiler's (the interpreter computes with it); re-exported here for
/// the readers and for services that link the runtime.
pub use vigil_compiler::value;

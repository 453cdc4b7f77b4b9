//! The Vigil runtime: reads claims and reference tables, runs a compiled rulebook, writes
//! findings. It asks the compiler for a checked rulebook and never parses rule text itself.

pub mod batch;
pub mod claims;
pub mod compare;
pub mod engine;
pub mod findings;
pub mod findings_file;
pub mod fingerprint;
pub mod overlap;
pub mod scalars;
pub mod screen;
pub mod tables;
/// The value model is the compiler's (the interpreter computes with it); re-exported here for
/// the readers and for services that link the runtime.
pub use vigil_compiler::value;

//! The Vigil runtime: reads claims and reference tables, runs a compiled rulebook, writes
//! findings. It asks the compiler for a checked rulebook and never parses rule text itself.

pub mod claims;
pub mod scalars;
pub mod tables;
pub mod value;

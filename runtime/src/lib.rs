//! The Vigil runtime: reads claims and reference tables, runs a compiled rulebook, writes
//! findings. It asks the compiler for a checked rulebook and never parses rule text itself.
//!
//! Claim readers, tables, the history index and the executor arrive with the runtime issue;
//! until then this crate only re-exports the loading entry point services will call.

//! The native backend: a lowered rulebook compiled by Cranelift into functions over the
//! runtime's columnar batches (`vigil_runtime::batch`).
//!
//! The interpreter is the meaning; this crate must agree with it everywhere it answers, and
//! says so by construction where it cannot: a rule it does not compile, or a row it cannot
//! decide (a value too wide for its words, an overflow), goes to the interpreter.

pub mod calls;
mod codegen;
pub mod kernel;
mod line_values;
pub mod pair_filter;
pub mod shape;

pub use kernel::{JitError, Kernel, Verdict};

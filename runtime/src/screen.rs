//! Screening: a faster evaluator (the native backend) that says, for each claim of a batch,
//! which rules certainly do not fire there, so that the interpreter evaluates only the rest.
//!
//! The interpreter stays the one meaning: every finding and every evaluation error a run
//! reports comes from it. A screen only removes work, and only where it is sure.

use crate::batch::{Batch, Interner};

/// A screen over columnar batches. It holds the tables it was built with.
pub trait Screen: Send + Sync {
    /// The strings a batch must start from (`Batch::new(layout, claims, screen.strings())`).
    fn strings(&self) -> &Interner;

    /// Calls `each(claim_row, needs)` for every claim of `batch`, in order. `needs[rule]` (by
    /// program rule index) is false only when that rule certainly neither fires on the claim
    /// nor fails to evaluate there; the interpreter evaluates every rule marked true.
    fn screen(&self, batch: &Batch, each: &mut dyn FnMut(usize, &[bool]));

    /// How many rules it decides itself (the others are always marked true).
    fn native_rules(&self) -> usize;
}

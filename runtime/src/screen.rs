//! Screening: a faster evaluator (the native backend) that says, for each claim of a batch,
//! what the interpreter must still evaluate: nothing of a rule that certainly does not fire,
//! only the fired lines of a line rule it decided, everything of a rule it could not decide.
//!
//! The interpreter stays the one meaning: every finding and every evaluation error a run
//! reports comes from it. A screen only removes work, and only where it is sure.

use crate::batch::{Batch, Interner, Reads};

/// A screen over columnar batches. It holds the tables it was built with.
pub trait Screen: Send + Sync {
    /// The strings a batch must start from (`Batch::new(layout, claims, screen.strings())`).
    fn strings(&self) -> &Interner;

    /// Calls `each(claim_row, needs)` for every claim of `batch`, in order, with what the
    /// interpreter must still evaluate there (see [`Needs`]). With `only`, the claims whose
    /// `only[row]` is false are context (another claim's history) and are not screened.
    fn screen(&self, batch: &Batch, only: Option<&[bool]>, each: &mut dyn FnMut(usize, &Needs));

    /// How many rules it decides itself (the others are always needed whole).
    fn native_rules(&self) -> usize;

    /// The fields it reads, when it knows them: batches laid out for it may leave the others
    /// out (`Batch::by_patient_reading`).
    fn reads(&self) -> Option<&Reads> {
        None
    }
}

/// What one rule still needs from the interpreter on one claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need<'a> {
    /// The rule certainly neither fires nor fails to evaluate on this claim.
    Nothing,
    /// A claim rule that fires, or a line rule that fires on exactly these lines (indexes in
    /// its list, ascending) and on no other, with no evaluation error on any line: the
    /// interpreter computes those findings (amount, message) only.
    Fired(&'a [usize]),
    /// Not decided (not compiled, or the native code bailed): the interpreter decides it all.
    Everything,
}

/// Per program rule, what the interpreter must still do on one claim; reused claim to claim.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    whole: Vec<bool>,
    fired: Vec<Vec<usize>>,
    /// The rules whose `fired` is not empty: a new claim clears only those (most claims
    /// fire few rules, and a run starts every claim).
    touched: Vec<usize>,
}

impl Needs {
    /// Starts a claim: `whole[rule]` for the rules the screen never decides, nothing else.
    pub fn start(&mut self, undecided: &[bool]) {
        self.whole.clear();
        self.whole.extend_from_slice(undecided);
        self.fired.resize_with(self.whole.len(), Vec::new);
        for rule in self.touched.drain(..) {
            if let Some(f) = self.fired.get_mut(rule) {
                f.clear();
            }
        }
    }

    /// The rule fired on `line` (0 for a claim rule); lines come in ascending order.
    pub fn fired(&mut self, rule: usize, line: usize) {
        if let Some(f) = self.fired.get_mut(rule) {
            if f.is_empty() {
                self.touched.push(rule);
            }
            if f.last() != Some(&line) {
                f.push(line);
            }
        }
    }

    /// The rule could not be decided: the interpreter evaluates it whole.
    pub fn everything(&mut self, rule: usize) {
        if let Some(w) = self.whole.get_mut(rule) {
            *w = true;
        }
    }

    /// What `rule` needs; a rule this claim's screen never heard of is needed whole.
    pub fn get(&self, rule: usize) -> Need<'_> {
        match (self.whole.get(rule), self.fired.get(rule)) {
            (Some(false), Some(f)) if f.is_empty() => Need::Nothing,
            (Some(false), Some(f)) => Need::Fired(f),
            _ => Need::Everything,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_say_what_is_left_and_reset_per_claim() {
        let mut n = Needs::default();
        // Rule 0 is never decided natively; rules 1 and 2 are.
        n.start(&[true, false, false]);
        n.fired(1, 2);
        n.fired(1, 2);
        n.fired(1, 5);
        assert_eq!(n.get(0), Need::Everything);
        assert_eq!(n.get(1), Need::Fired(&[2, 5]));
        assert_eq!(n.get(2), Need::Nothing);
        assert_eq!(n.get(3), Need::Everything, "a rule it never heard of");
        n.everything(1);
        assert_eq!(n.get(1), Need::Everything, "a bail outweighs fired lines");
        n.start(&[true, false, false]);
        assert_eq!(n.get(1), Need::Nothing, "the next claim starts clean");
    }
}

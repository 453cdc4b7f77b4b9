//! What the reference interpreter can tell an observer as it evaluates: the nodes it entered
//! and the values they gave. `vigil explain` records them (`Recorder`); every other caller uses
//! `NoTrace`, whose `ON` is `false`, so the hook compiles away and the normal path is as fast
//! as it was without it.
//!
//! The explanation is the interpreter's own walk, not a second evaluator that could drift.

use crate::ir::{Ir, IrKind, Var};
use crate::value::Value;

/// Which clause of a rule a traced node belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A provider rule's `where` filter on one claim.
    Filter,
    /// A provider rule's `month of` on one claim.
    MonthOf,
    /// `let` (the variable it binds).
    Let(Var),
    /// `when`.
    When,
    /// `amount`.
    Amount,
    /// A hole of the message.
    Message,
}

/// An observer of the interpreter. `enter` and `exit` bracket every node it evaluates.
pub trait Trace<'p> {
    /// Whether anything is observed: a constant, so that `NoTrace` costs nothing.
    const ON: bool;
    /// A rule starts on one line (`Some(index)` for line rules) or on the whole claim.
    fn begin(&mut self, line: Option<usize>);
    /// The clause evaluated from now on.
    fn part(&mut self, part: Part);
    /// A node starts; the handle goes back to `exit`.
    fn enter(&mut self, ir: &'p Ir) -> usize;
    /// The node ended with this value (`None`: it stopped on an error).
    fn exit(&mut self, at: usize, value: Option<&Value>);
    /// Stop (or resume) observing: the per-item bodies of quantifiers and aggregates and the
    /// evaluation of shared values are summed up by the node that holds them.
    fn mute(&mut self, on: bool);
    /// The state to go back to if the walk is restarted.
    fn mark(&self) -> Mark;
    /// Forgets everything observed since `mark`: the walk restarts after computing a shared
    /// value, and the restarted walk records those nodes again.
    fn rewind(&mut self, mark: Mark);
}

/// A point of a trace to rewind to.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mark {
    steps: usize,
    depth: u32,
    muted: u32,
}

/// Observes nothing: the interpreter's normal path.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTrace;

impl<'p> Trace<'p> for NoTrace {
    const ON: bool = false;
    fn begin(&mut self, _: Option<usize>) {}
    fn part(&mut self, _: Part) {}
    fn enter(&mut self, _: &'p Ir) -> usize {
        0
    }
    fn exit(&mut self, _: usize, _: Option<&Value>) {}
    fn mute(&mut self, _: bool) {}
    fn mark(&self) -> Mark {
        Mark::default()
    }
    fn rewind(&mut self, _: Mark) {}
}

/// One evaluated node: its clause, its depth in the expression tree, the node, its value.
#[derive(Debug, Clone)]
pub struct Step<'p> {
    pub part: Part,
    pub depth: u32,
    pub ir: &'p Ir,
    /// `None` when the node stopped on an error.
    pub value: Option<Value>,
}

/// The nodes of one evaluation of a rule (one line of a line rule, or the claim), pre-order.
#[derive(Debug, Clone, Default)]
pub struct Walk<'p> {
    /// The line, for a line rule.
    pub line: Option<usize>,
    pub steps: Vec<Step<'p>>,
}

/// Records every node the interpreter evaluates, except literals, per walk.
#[derive(Debug, Clone, Default)]
pub struct Recorder<'p> {
    pub walks: Vec<Walk<'p>>,
    part: Option<Part>,
    depth: u32,
    muted: u32,
}

/// The handle of a node that was not recorded.
const UNRECORDED: usize = usize::MAX;

impl<'p> Recorder<'p> {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<'p> Trace<'p> for Recorder<'p> {
    const ON: bool = true;

    fn begin(&mut self, line: Option<usize>) {
        self.walks.push(Walk {
            line,
            steps: Vec::new(),
        });
        self.depth = 0;
        self.muted = 0;
        self.part = None;
    }

    fn part(&mut self, part: Part) {
        self.part = Some(part);
        self.depth = 0;
    }

    fn enter(&mut self, ir: &'p Ir) -> usize {
        if self.muted > 0 || matches!(ir.kind, IrKind::Lit(_)) {
            return UNRECORDED;
        }
        let (Some(part), Some(walk)) = (self.part, self.walks.last_mut()) else {
            return UNRECORDED;
        };
        walk.steps.push(Step {
            part,
            depth: self.depth,
            ir,
            value: None,
        });
        self.depth += 1;
        walk.steps.len() - 1
    }

    fn exit(&mut self, at: usize, value: Option<&Value>) {
        if at == UNRECORDED {
            return;
        }
        self.depth = self.depth.saturating_sub(1);
        if let Some(step) = self.walks.last_mut().and_then(|w| w.steps.get_mut(at)) {
            step.value = value.cloned();
        }
    }

    fn mute(&mut self, on: bool) {
        if on {
            self.muted += 1;
        } else {
            self.muted = self.muted.saturating_sub(1);
        }
    }

    fn mark(&self) -> Mark {
        Mark {
            steps: self.walks.last().map_or(0, |w| w.steps.len()),
            depth: self.depth,
            muted: self.muted,
        }
    }

    fn rewind(&mut self, mark: Mark) {
        if let Some(w) = self.walks.last_mut() {
            w.steps.truncate(mark.steps);
        }
        self.depth = mark.depth;
        self.muted = mark.muted;
    }
}

//! The Rust API for services (事中审核, review at settlement): load a rulebook once, then check
//! one claim at a time with its patient's history, no files involved.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vigil_compiler::value::{Record, Value};

use crate::claims::{read_claim, Rejected};
use crate::engine::{ClaimError, Engine, EngineError, RunData, RunOutput};
use crate::findings::Finding;

/// What checking one claim produced.
#[derive(Debug, Clone, Default)]
pub struct ClaimResult {
    /// The claim's findings, in the order `vigil run` writes them.
    pub findings: Vec<Finding>,
    /// Rules that could not be evaluated on the claim (the other rules still were).
    pub errors: Vec<ClaimError>,
}

/// Why a record cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// The record is not a claim of this rulebook's schema (it was built by hand, or for
    /// another rulebook).
    #[error("{what} is not a claim of this rulebook: {reason}")]
    NotAClaim {
        /// `the claim` or `history[i]`.
        what: String,
        reason: String,
    },
}

impl Engine {
    /// Loads, checks and prepares the rulebook folder `book`, once when a service starts;
    /// `overrides` point declared tables at other files (`("hilist", "province.csv")`).
    pub fn load(book: &Path, overrides: &[(String, PathBuf)]) -> Result<Engine, EngineError> {
        let loaded = vigil_compiler::load_rulebook(book)?;
        if loaded.has_errors() {
            let errors = loaded
                .diagnostics
                .into_iter()
                .filter(|d| d.severity == vigil_compiler::Severity::Error)
                .collect();
            return Err(EngineError::Rulebook(errors));
        }
        // Lowering recurses once per nesting level of a rule with its defs expanded.
        vigil_dsl::stack::on_large_stack(|| Engine::new(&loaded, overrides))
    }

    /// Reads one claim from its JSON text (formats.md §1); a bad record is an error that says
    /// why, as `vigil run` would report its line.
    pub fn parse_claim(&self, json: &str) -> Result<Record, Rejected> {
        read_claim(&self.layout, json)
    }

    /// Checks one claim: its claim and line rules, history rules against `history` (the
    /// patient's other claims, any order; records of other patients and the claim itself are
    /// left out, as in a run). Provider rules need a provider's month of claims and are not
    /// run here: a run over the month's claims file reports them.
    ///
    /// It evaluates on the caller's thread, recursing once per nesting level of a rule with
    /// its defs expanded: a rulebook nested hundreds of levels deep wants a caller thread with
    /// a large stack (`vigil run` gives its workers `vigil_dsl::stack::STACK_BYTES`).
    pub fn check_claim(
        &self,
        claim: &Record,
        history: &[Record],
    ) -> Result<ClaimResult, CheckError> {
        self.claim_shape(claim, "the claim")?;
        for (i, h) in history.iter().enumerate() {
            self.claim_shape(h, &format!("history[{i}]"))?;
        }
        let claims = [Arc::new(claim.clone())];
        let history: Vec<Arc<Record>> = history.iter().cloned().map(Arc::new).collect();
        let data = RunData::new(self, &claims, &history);
        let mut out = RunOutput::default();
        out.absorb(self.screened_claim_findings(&claims[0], &data));
        out.sort();
        Ok(ClaimResult {
            findings: out.findings,
            errors: out.errors,
        })
    }

    /// A record the reader could have produced: one value per schema field, with the keys
    /// a finding needs as text.
    fn claim_shape(&self, record: &Record, what: &str) -> Result<(), CheckError> {
        let fields = self.layout.claim().fields().len();
        let fail = |reason: String| CheckError::NotAClaim {
            what: what.to_string(),
            reason,
        };
        if record.values.len() != fields {
            return Err(fail(format!(
                "it has {} values; the schema's claim has {fields} fields",
                record.values.len()
            )));
        }
        for (slot, name) in [
            (self.layout.setl_id(), "setl_id"),
            (self.layout.psn_no(), "psn_no"),
            (self.layout.fixmedins_code(), "fixmedins_code"),
        ] {
            if !matches!(record.get(slot), Value::Text(_)) {
                return Err(fail(format!("its {name} is not text")));
            }
        }
        Ok(())
    }
}

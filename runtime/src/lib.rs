//! The Vigil runtime: reads claims and reference tables, runs a compiled rulebook, writes
//! findings. It asks the compiler for a checked rulebook and never parses rule text itself.
//!
//! Two ways in:
//! - **Runs over files** (`vigil run`): [`partition::run_files`] reads a claims file and a
//!   history file and runs every rule, in memory when the input fits the memory budget and
//!   partitioned by patient when it does not; the output is the same bytes either way.
//! - **Services** (事中审核, review at settlement): [`engine::Engine::load`] loads, checks and
//!   prepares a rulebook once; [`engine::Engine::check_claim`] then checks one claim with its
//!   patient's history and returns its findings, no files involved. It runs claim and line
//!   rules (history rules against the history given); provider rules need a provider's month
//!   of claims, so a run over the month's claims file reports them, not `check_claim`.
//!
//! ```
//! use std::path::Path;
//! use vigil_runtime::engine::Engine;
//!
//! let engine = Engine::load(Path::new("../rulebooks/cn-national"), &[])
//!     .expect("the national rulebook checks clean");
//! // Aspirin billed at 0.75 a tablet; the catalogue caps it at 0.60.
//! let claim = engine
//!     .parse_claim(
//!         r#"{"setl_id":"S1","psn_no":"P1","gend":"1","brdy":"1960-01-01","insutype":"310",
//!             "med_type":"11","fixmedins_code":"H110001","begndate":"2026-06-15 08:30:00",
//!             "enddate":"2026-06-15 08:30:00","dscg_maindiag_code":"I10.x00",
//!             "fee_list":[{"feedetl_sn":"1","fee_ocur_time":"2026-06-15 09:00:00",
//!               "hilist_code":"XB01AC06A001010101234","list_type":"101",
//!               "med_chrgitm_type":"09","chrgitm_lv":"01","cnt":"30","pric":"0.75",
//!               "det_item_fee_sumamt":"22.50"}]}"#,
//!     )
//!     .expect("a well-formed claim");
//! let result = engine.check_claim(&claim, &[]).expect("a claim of this rulebook");
//! let price = result
//!     .findings
//!     .iter()
//!     .find(|f| &*f.rule_id == "CN-PRICE-001")
//!     .expect("the price cap is broken");
//! assert_eq!(price.feedetl_sn.as_deref(), Some("1"));
//! assert_eq!(price.vola_amt.to_string(), "4.50"); // (0.75 − 0.60) × 30
//! assert!(result.errors.is_empty());
//! ```

pub mod batch;
pub mod claims;
pub mod compare;
pub mod engine;
pub mod explain;
pub mod findings;
pub mod findings_file;
pub mod fingerprint;
pub mod overlap;
pub mod partition;
pub mod scalars;
pub mod screen;
pub mod service;
pub mod tables;
/// The value model is the compiler's (the interpreter computes with it); re-exported here for
/// the readers and for services that link the runtime.
pub use vigil_compiler::value;

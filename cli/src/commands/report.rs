//! `vigil report`: a findings file (and optionally its claims) as one self-contained HTML page
//! for auditors: totals, findings and money by rule, provider and month, the rules that flag
//! the same line, and a searchable table of every finding.

mod claim_keys;
mod page;
mod svg;
mod tally;

use std::path::PathBuf;

use clap::Args;
use vigil_runtime::findings_file::{read_findings, FindingsFileError, FindingsFormat};

use crate::Status;

/// Arguments of `vigil report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The findings file, as `vigil run` writes it: JSON Lines or CSV (detected).
    pub findings: PathBuf,
    /// The claims the findings came from (JSON Lines, formats.md §1): claim and line counts
    /// and the months of claim and line findings.
    #[arg(long)]
    pub claims: Option<PathBuf>,
    /// Where to write the page.
    #[arg(long)]
    pub out: PathBuf,
    /// How many providers the provider chart shows (the table lists all).
    #[arg(long, default_value_t = 15)]
    pub top: usize,
}

/// Runs the command.
pub fn run(args: ReportArgs) -> Status {
    let (format, findings) = match read_findings(&args.findings) {
        Ok(r) => r,
        Err(FindingsFileError::Io(e)) => {
            eprintln!("error: {}: {e}", args.findings.display());
            return Status::Usage;
        }
        Err(e) => {
            eprintln!("error: {}: {e}", args.findings.display());
            return Status::Findings;
        }
    };
    let keys = match &args.claims {
        None => None,
        Some(path) => match claim_keys::read_claim_keys(path) {
            Ok(k) => Some(k),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return Status::Usage;
            }
        },
    };
    let tally = match tally::Tally::of(&findings, keys.as_ref()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: {e}", args.findings.display());
            return Status::Findings;
        }
    };
    let findings_name = args.findings.display().to_string();
    let claims_name = args.claims.as_ref().map(|p| p.display().to_string());
    let html = page::render(&page::PageInput {
        findings_name: &findings_name,
        findings_format: match format {
            FindingsFormat::Jsonl => "JSON Lines",
            FindingsFormat::Csv => "CSV",
        },
        claims_name: claims_name.as_deref(),
        findings: &findings,
        keys: keys.as_ref(),
        tally: &tally,
        top: args.top,
    });
    if let Err(e) = std::fs::write(&args.out, html) {
        eprintln!("error: {}: {e}", args.out.display());
        return Status::Usage;
    }
    let rejected = keys
        .as_ref()
        .map(|k| format!(", {} claim records rejected", k.rejected.len()))
        .unwrap_or_default();
    eprintln!(
        "report: {} findings, amount {}, {} counted twice{rejected} -> {}",
        tally.total.findings,
        vigil_runtime::findings::cents_text(tally.total.cents),
        vigil_runtime::findings::cents_text(vigil_runtime::findings::cents(
            tally.overlaps.double_counted
        )),
        args.out.display()
    );
    Status::Ok
}

//! `vigil diff`: what a change of rulebook does to the findings on the same claims (per rule,
//! per provider, money moved, rules changed by content, double counting), for reviewers and CI.

mod render;
mod revision;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use vigil_runtime::claims::{ReadCounts, Rejected};
use vigil_runtime::compare::{layout_signature, Comparison};
use vigil_runtime::engine::{read_claims, Engine};
use vigil_runtime::fingerprint::{fingerprints, RuleFingerprint};
use vigil_runtime::value::Record;

use crate::Status;
use render::Report;

/// How the report is written.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Aligned tables for the terminal.
    Text,
    /// One JSON document for tools: stable keys, amounts as decimal strings.
    Json,
    /// GitHub-flavoured Markdown, to paste into a pull-request comment.
    Md,
}

/// What makes the diff fail (exit 1) as a CI gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// A finding the old rulebook did not report.
    Added,
    /// A finding the new rulebook no longer reports.
    Removed,
    /// Any difference: a finding added, removed or changed, or a rule's content.
    Any,
}

/// Arguments of `vigil diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The rulebook before the change: a folder, or `REV:path` for a folder at a git revision.
    pub old_book: String,
    /// The rulebook after the change: a folder, or `REV:path`.
    pub new_book: String,
    /// Claims to run both rulebooks over: JSON Lines, one settlement per line.
    #[arg(long)]
    pub claims: PathBuf,
    /// Earlier claims of the same patients and providers: context only.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Point a declared table at another file, for both rulebooks: `--table hilist=FILE`.
    #[arg(long = "table", value_name = "NAME=FILE", value_parser = super::run::parse_table)]
    pub tables: Vec<(String, PathBuf)>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Exit 1 when findings were added, removed, or anything differs.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// How many providers, overlapping rule pairs and changed findings to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Worker threads (0: one per core). The report is the same at any count.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

/// A rulebook loaded and ready to run, with its rules' fingerprints.
struct Side {
    engine: Engine,
    rules: std::collections::BTreeMap<String, RuleFingerprint>,
}

/// Why a side could not be prepared, as an exit status (the message is printed already).
fn prepare(label: &str, args: &DiffArgs) -> Result<Side, Status> {
    let folder = revision::resolve(label).map_err(|e| {
        eprintln!("error: {e}");
        Status::Usage
    })?;
    let loaded = super::load_checked(&folder.path).ok_or_else(|| {
        eprintln!("  (in {label})");
        Status::Findings
    })?;
    let engine = super::engine_for(&loaded, &args.tables).ok_or(Status::Findings)?;
    let rules = fingerprints(&loaded, &engine.program, &args.tables).map_err(|e| {
        eprintln!("error: {e}");
        Status::Usage
    })?;
    Ok(Side { engine, rules })
}

type Claims = (Vec<Record>, Vec<Rejected>, ReadCounts);

fn read(engine: &Engine, path: &Path) -> Result<Claims, Status> {
    read_claims(&engine.layout, path).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        Status::Usage
    })
}

/// Runs the command.
pub fn run(args: DiffArgs) -> Status {
    match diff(&args) {
        Ok(s) | Err(s) => s,
    }
}

fn diff(args: &DiffArgs) -> Result<Status, Status> {
    let old = prepare(&args.old_book, args)?;
    let new = prepare(&args.new_book, args)?;

    // Reading and checking claims is much of a run's work; do it once when both rulebooks
    // read claims into the same records.
    let shared_reading =
        layout_signature(&old.engine.layout) == layout_signature(&new.engine.layout);
    let old_claims = read(&old.engine, &args.claims)?;
    let old_history = match &args.history {
        Some(h) => read(&old.engine, h)?.0,
        None => vec![],
    };
    let old_out = old.engine.run(&old_claims.0, &old_history, args.threads);
    let new_out = if shared_reading {
        new.engine.run(&old_claims.0, &old_history, args.threads)
    } else {
        eprintln!(
            "note: the two rulebooks' claim schemas differ: the claims are read once for each"
        );
        let new_claims = read(&new.engine, &args.claims)?;
        let new_history = match &args.history {
            Some(h) => read(&new.engine, h)?.0,
            None => vec![],
        };
        if new_claims.2.rejected != old_claims.2.rejected {
            eprintln!(
                "note: the old rulebook rejects {} claims, the new one {}",
                old_claims.2.rejected, new_claims.2.rejected
            );
        }
        new.engine.run(&new_claims.0, &new_history, args.threads)
    };
    for (side, engine, out) in [
        ("old", &old.engine, &old_out),
        ("new", &new.engine, &new_out),
    ] {
        for e in out.errors.iter().take(5) {
            eprintln!("{side}: {}", engine.describe(e));
        }
        if out.errors.len() > 5 {
            eprintln!("{side}: … {} evaluation errors in all", out.errors.len());
        }
    }

    let comparison = Comparison::new(&old.rules, &new.rules, &old_out.findings, &new_out.findings);
    let counts = old_claims.2;
    let claims_file = args.claims.display().to_string();
    let report = Report {
        old_label: &args.old_book,
        new_label: &args.new_book,
        old_id: &old.engine.rulebook,
        new_id: &new.engine.rulebook,
        claims_file: &claims_file,
        claims: (counts.read, counts.accepted, counts.rejected),
        history: old_history.len(),
        shared_reading,
        errors: (old_out.errors.len(), new_out.errors.len()),
        comparison: &comparison,
        top: args.top,
    };
    let text = match args.format {
        Format::Text => report.text(),
        Format::Md => report.markdown(),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&report.json()).unwrap_or_default();
            s.push('\n');
            s
        }
    };
    let written = match &args.out {
        Some(path) => std::fs::write(path, text.as_bytes()),
        None => std::io::stdout().lock().write_all(text.as_bytes()),
    };
    if let Err(e) = written {
        let to = args.out.as_ref().map_or_else(
            || "standard output".to_string(),
            |p| p.display().to_string(),
        );
        eprintln!("error: writing the report to {to}: {e}");
        return Err(Status::Usage);
    }

    let failed = match args.fail_on {
        None => None,
        Some(FailOn::Added) => {
            (comparison.added() > 0).then(|| format!("{} findings added", comparison.added()))
        }
        Some(FailOn::Removed) => {
            (comparison.removed() > 0).then(|| format!("{} findings removed", comparison.removed()))
        }
        Some(FailOn::Any) => (!comparison.is_empty()).then(|| "the rulebooks differ".to_string()),
    };
    Ok(match failed {
        Some(why) => {
            eprintln!("diff gate failed (--fail-on): {why}");
            Status::Findings
        }
        None => Status::Ok,
    })
}

//! `vigil explain`: for one claim, every rule (or one) fired or not, and why, with the values
//! the reference interpreter saw.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use vigil_runtime::engine::read_claims;
use vigil_runtime::explain::{Explainer, Options};

use crate::Status;

/// How the explanation is written.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// For a person: rules, verdicts, the steps indented like the rule's expression.
    Text,
    /// One JSON object, stable keys, amounts as strings, for tools.
    Json,
}

/// Arguments of `vigil explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The rulebook folder.
    pub book: PathBuf,
    /// The claims file the claim is in (its other claims are history, as in `vigil run`).
    #[arg(long)]
    pub claims: PathBuf,
    /// The claim to explain.
    #[arg(long = "setl-id", value_name = "ID")]
    pub setl_id: String,
    /// Explain only this rule.
    #[arg(long, value_name = "RULE")]
    pub rule: Option<String>,
    /// Earlier claims of the same patients and providers, as `vigil run --history`.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Point a declared table at another file: `--table hilist=province/hilist.csv`.
    #[arg(long = "table", value_name = "NAME=FILE", value_parser = super::run::parse_table)]
    pub tables: Vec<(String, PathBuf)>,
    /// Show every line of a line rule in full (default: fired lines in full, and the first
    /// failing condition of the others).
    #[arg(long)]
    pub all_lines: bool,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

/// Runs the command.
pub fn run(args: ExplainArgs) -> Status {
    let Some(engine) = super::prepare(&args.book, &args.tables) else {
        return Status::Findings;
    };
    let read = |path: &PathBuf| match read_claims(&engine.layout, path) {
        Ok((claims, _, _)) => Some(claims),
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            None
        }
    };
    let Some(claims) = read(&args.claims) else {
        return Status::Usage;
    };
    let history = match &args.history {
        None => vec![],
        Some(h) => match read(h) {
            Some(c) => c,
            None => return Status::Usage,
        },
    };
    let explainer = Explainer::new(&engine, &claims, &history);
    let options = Options {
        all_lines: args.all_lines,
    };
    let explanation = match explainer.explain(&args.setl_id, args.rule.as_deref(), options) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return Status::Usage;
        }
    };
    let text = match args.format {
        Format::Text => explanation.render_text(),
        Format::Json => match serde_json::to_string_pretty(&explanation) {
            Ok(j) => j + "\n",
            Err(e) => {
                eprintln!("error: {e}");
                return Status::Usage;
            }
        },
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        eprintln!("error: writing the explanation: {e}");
        return Status::Usage;
    }
    Status::Ok
}

//! `vigil check`: load, check, and print diagnostics.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::Status;

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// Rendered for a person: file:line:col, the source underlined, help.
    Human,
    /// One JSON object per line on stdout: file, line, column, end_line, end_column, severity, code, message, label, help.
    Json,
}

/// Arguments of `vigil check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The rulebook folder (or a .vigil file inside one).
    pub path: PathBuf,
    /// Output format of the diagnostics.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Treat warnings as errors (exit 1 when there are any).
    #[arg(long)]
    pub deny_warnings: bool,
    /// Also print the rulebook's typed IR (when it has no errors).
    #[arg(long, value_enum)]
    pub emit: Option<Emit>,
}

/// What `--emit` prints on stdout.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Emit {
    /// The lowered IR: shared expressions, then each rule.
    Ir,
}

/// Runs the command.
pub fn run(args: CheckArgs) -> Status {
    let loaded = match vigil_compiler::load_rulebook(&args.path) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Status::Usage;
        }
    };
    let (errors, warnings) = loaded.counts();
    match args.format {
        Format::Json => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for d in &loaded.diagnostics {
                let _ = writeln!(out, "{}", d.to_json(&loaded.sources));
            }
        }
        Format::Human => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let stderr = std::io::stderr();
            let mut err = stderr.lock();
            for d in &loaded.diagnostics {
                let _ = write!(err, "{}", d.render(&loaded.sources, color));
            }
            let book = &loaded.rulebook;
            let name = if book.header.id.is_empty() {
                args.path.display().to_string()
            } else {
                book.header.id.clone()
            };
            let _ = writeln!(
                err,
                "checked {name}: {} file(s), {} rule(s), {} test(s): {errors} error(s), {warnings} warning(s)",
                loaded.sources.files().iter().filter(|f| !f.text.is_empty() || f.path.exists()).count(),
                book.rules.len(),
                book.tests.len(),
            );
        }
    }
    if let (Some(Emit::Ir), 0) = (args.emit, errors) {
        print!(
            "{}",
            vigil_compiler::ir::show_program(&vigil_compiler::lower::lower(&loaded))
        );
    }
    if errors > 0 || args.deny_warnings && warnings > 0 {
        Status::Findings
    } else {
        Status::Ok
    }
}

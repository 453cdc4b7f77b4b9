//! `vigil`: check, format (and, as they land, test, run, diff, explain) rulebooks.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit status a script can trust: 0 success, 1 the input is wrong, 2 usage or I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Findings,
    Usage,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        match s {
            Status::Ok => ExitCode::SUCCESS,
            Status::Findings => ExitCode::from(1),
            Status::Usage => ExitCode::from(2),
        }
    }
}

#[derive(Parser)]
#[command(
    name = "vigil",
    version,
    about = "Vigil: claim-review rules that officers write and machines run fast"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a rulebook: names, types, clauses, tests; print every problem found.
    #[command(after_help = "Examples:
  vigil check rulebooks/cn-national
  vigil check rulebooks/cn-national/limits.vigil            # the file's rulebook folder
  vigil check rulebooks/cn-national --format json            # one JSON object per line, for CI

Exit status: 0 no errors (warnings allowed), 1 errors found, 2 usage or I/O error.")]
    Check(commands::check::CheckArgs),
    /// Format .vigil files to the one canonical layout (comments kept).
    #[command(after_help = "Examples:
  vigil fmt rulebooks/cn-national              # rewrite every .vigil file under the folder
  vigil fmt --check .                          # CI: list files that are not formatted
  vigil fmt rulebooks/cn-national/limits.vigil # one file

Exit status: 0 formatted (or, with --check, already formatted), 1 a file needs formatting or
does not parse, 2 usage or I/O error.")]
    Fmt(commands::fmt::FmtArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let status = match cli.command {
        Command::Check(a) => commands::check::run(a),
        Command::Fmt(a) => commands::fmt::run(a),
    };
    status.into()
}

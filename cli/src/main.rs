//! `vigil`: check, format (and, as they land, test, run, diff, explain) rulebooks.

mod commands;

/// glibc's allocator grows the heaps of the reader's worker threads a few pages at a time
/// (a system call and page faults each time), which cost about a tenth of a run; mimalloc
/// keeps per-thread pages and does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Run a rulebook over claims and write findings (formats.md §2).
    #[command(after_help = "Examples:
  vigil run rulebooks/cn-national --claims claims.jsonl > findings.jsonl
  vigil run rulebooks/cn-national --claims claims.jsonl --history earlier.jsonl \\
      --out findings.csv --format csv --rejected rejected.jsonl
  vigil run rulebooks/cn-national --claims claims.jsonl --table hilist=province/hilist.csv
  vigil run rulebooks/cn-national --claims year.jsonl --history earlier.jsonl --memory-budget 512

Input larger than --memory-budget (default 256 MB of claims and history files) is partitioned
by patient into temporary bucket files, run one bucket at a time, and removed at the end.
Findings are sorted deterministically: the same input gives the same bytes at any --threads
and any --memory-budget.
Exit status: 0 ran (findings are results, not errors), 1 the rulebook or a table has errors,
2 usage or I/O error.")]
    Run(commands::run::RunArgs),
    /// Compare two rulebooks on the same claims: findings and money moved, per rule and provider.
    #[command(after_help = "Examples:
  vigil diff rulebooks/cn-national-old rulebooks/cn-national --claims claims.jsonl
  vigil diff HEAD~1:rulebooks/cn-national rulebooks/cn-national \\
      --claims rulebooks/cn-national/samples/claims.jsonl \\
      --history rulebooks/cn-national/samples/history.jsonl --format md --out diff.md
  vigil diff main:rulebooks/cn-national rulebooks/cn-national --claims claims.jsonl \\
      --format json --fail-on removed

OLD_BOOK and NEW_BOOK are folders, or REV:path for a folder at a git revision (read with git,
no checkout needed). Findings are matched by rule, claim, line, provider and month; a rule is
changed when its lowered meaning (constants, defs and the tables it reads included) changes.
Exit status: 0 compared (differences are results, not errors), 1 a rulebook or table has
errors or the --fail-on gate failed, 2 usage or I/O error (a missing file, git or revision).")]
    Diff(commands::diff::DiffArgs),
    /// Explain one claim: every rule (or one) fired or not, and why, with the values seen.
    #[command(after_help = "Examples:
  vigil explain rulebooks/cn-national --claims claims.jsonl --setl-id S0001
  vigil explain rulebooks/cn-national --claims claims.jsonl --history earlier.jsonl \\
      --setl-id S0001 --rule CN-PRICE-001 --all-lines
  vigil explain rulebooks/cn-national --claims claims.jsonl --setl-id S0001 --format json

The claims file's other claims and --history are the patient's history, exactly as in
`vigil run`; the verdicts, amounts and messages are the findings `vigil run` writes.
Exit status: 0 explained, 1 the rulebook or a table has errors, 2 usage or I/O error (an
unknown --setl-id or --rule included).")]
    Explain(commands::explain::ExplainArgs),
    /// Run the tests that live beside the rules (`test` blocks).
    #[command(after_help = "Examples:
  vigil test rulebooks/cn-national

Exit status: 0 every test passed, 1 a test failed or the rulebook has errors, 2 usage or I/O.")]
    Test(commands::test::TestArgs),
    /// Serve the language server (LSP) on stdin/stdout, for editors.
    #[command(after_help = "An editor starts it and talks JSON-RPC on stdin/stdout.
Diagnostics as `vigil check` reports them (every file of the rulebook folder, unsaved buffers
included), hover, completion, go to definition, find references, formatting as `vigil fmt`,
and document symbols.

Example (an editor's server command):
  vigil lsp

Exit status: 0 after the editor's shutdown and exit, 1 when the editor exits without shutdown
or disconnects, 2 for an I/O error.")]
    Lsp(LspArgs),
    /// Write the rulebook's rules as a Markdown table (docs/rules.md).
    #[command(after_help = "Examples:
  vigil doc rulebooks/cn-national --out docs/rules.md

\"What it catches\" is the comment line directly above each rule in the rulebook.")]
    Doc(commands::doc::DocArgs),
    /// Write a findings file as one self-contained HTML page for auditors (works offline).
    #[command(after_help = "Examples:
  vigil report findings.jsonl --out report.html
  vigil report findings.csv --claims claims.jsonl --out report.html
  vigil run rulebooks/cn-national --claims claims.jsonl --out findings.jsonl && \\
      vigil report findings.jsonl --claims claims.jsonl --out report.html --top 20

The page shows totals, findings and amounts by rule, provider and month (SVG charts), where
two rules flag the same line (money counted twice), and a searchable, sortable table of every
finding with its basis. Everything is inlined: it fetches nothing when opened. Without
--claims, claim counts and the months of claim and line findings are shown as unknown.
Exit status: 0 written, 1 a findings line is malformed (its line number is printed),
2 usage or I/O error.")]
    Report(commands::report::ReportArgs),
}

/// Options of `vigil lsp`.
#[derive(clap::Args)]
struct LspArgs {
    /// Talk over stdin/stdout (the only transport; accepted because editors pass it).
    #[arg(long)]
    stdio: bool,
}

/// Serves the language server until the editor exits.
fn lsp(_args: LspArgs) -> Status {
    match vigil_lsp::run_stdio() {
        Ok(()) => Status::Ok,
        Err(e @ vigil_lsp::ServeError::Io(_)) => {
            eprintln!("vigil lsp: {e}");
            Status::Usage
        }
        Err(e) => {
            eprintln!("vigil lsp: {e}");
            Status::Findings
        }
    }
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
    // Lowering, compiling and evaluating recurse once per nesting level of a rule (with its
    // defs expanded); a large stack keeps a deeply nested rulebook from overflowing it.
    let status = vigil_dsl::stack::on_large_stack(move || match cli.command {
        Command::Check(a) => commands::check::run(a),
        Command::Fmt(a) => commands::fmt::run(a),
        Command::Run(a) => commands::run::run(a),
        Command::Test(a) => commands::test::run(a),
        Command::Diff(a) => commands::diff::run(a),
        Command::Explain(a) => commands::explain::run(a),
        Command::Lsp(a) => lsp(a),
        Command::Doc(a) => commands::doc::run(a),
        Command::Report(a) => commands::report::run(a),
    });
    status.into()
}

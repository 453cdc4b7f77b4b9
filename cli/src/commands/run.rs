//! `vigil run`: a rulebook over a claims file, findings out (formats.md §2).

use std::io::{BufWriter, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};
use vigil_runtime::claims::Rejected;
use vigil_runtime::findings::{write_csv, write_jsonl, Summary};
use vigil_runtime::partition::{run_files, RunError, RunOptions, DEFAULT_MEMORY_BUDGET};

use crate::Status;

/// How findings are written.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// One JSON object per finding (formats.md §2).
    Jsonl,
    /// A header row and one row per finding, same columns.
    Csv,
}

/// Which engine evaluates the rules.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EngineKind {
    /// Native code (Cranelift) screens each claim; the interpreter evaluates what it does not
    /// clear. The same findings as `interp`, faster.
    Jit,
    /// The reference interpreter of the IR, alone.
    Interp,
}

/// Arguments of `vigil run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The rulebook folder.
    pub book: PathBuf,
    /// Claims to review: JSON Lines, one settlement per line.
    #[arg(long)]
    pub claims: PathBuf,
    /// Earlier claims of the same patients and providers: context only, no findings of their own.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Point a declared table at another file: `--table hilist=province/hilist.csv`.
    #[arg(long = "table", value_name = "NAME=FILE", value_parser = parse_table)]
    pub tables: Vec<(String, PathBuf)>,
    /// Write findings here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: Format,
    /// Write rejected records here (JSON Lines: line, setl_id, reason).
    #[arg(long)]
    pub rejected: Option<PathBuf>,
    /// Worker threads, for reading the claims and for the rules (0: one per core).
    /// Output is the same at any count.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Input (claims and history files together, in MB) held in memory at once; a larger
    /// input is partitioned by patient into temporary bucket files. Output is the same.
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_MEMORY_BUDGET / (1024 * 1024),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub memory_budget: u64,
    /// `jit` (native screening, the default) or `interp` (the reference interpreter alone):
    /// the same findings either way.
    #[arg(long, value_enum, default_value = "jit")]
    pub engine: EngineKind,
}

/// A `--table NAME=FILE` argument.
pub fn parse_table(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((name, file)) if !name.is_empty() && !file.is_empty() => {
            Ok((name.to_string(), PathBuf::from(file)))
        }
        _ => Err(format!("expected NAME=FILE, found `{s}`")),
    }
}

/// Runs the command.
pub fn run(args: RunArgs) -> Status {
    let started = Instant::now();
    let Some(loaded) = super::load_checked(&args.book) else {
        return Status::Findings;
    };
    let Some(mut engine) = super::engine_for(&loaded, &args.tables) else {
        return Status::Findings;
    };
    if matches!(args.engine, EngineKind::Jit) {
        super::attach_native(&mut engine, &loaded);
    }
    // Rejected records are written as the reader meets them, so none is held in memory; the
    // first few are kept to show on stderr when no file was asked for.
    let mut rejected_file = match &args.rejected {
        None => None,
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Some(BufWriter::new(f)),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return Status::Usage;
            }
        },
    };
    let mut shown: Vec<Rejected> = Vec::new();
    let mut sink = |r: &Rejected| -> std::io::Result<()> {
        if let Some(w) = rejected_file.as_mut() {
            writeln!(w, "{}", serde_json::to_string(r).unwrap_or_default())?;
        } else if shown.len() < SHOWN_REJECTED {
            shown.push(r.clone());
        }
        Ok(())
    };
    let options = RunOptions {
        threads: args.threads,
        memory_budget: args.memory_budget.saturating_mul(1024 * 1024),
    };
    let total = claim_count_hint(&args.claims);
    let result = with_progress(total, |counter| {
        run_files(
            &engine,
            &args.claims,
            args.history.as_deref(),
            &options,
            &mut sink,
            Some(counter),
        )
    });
    let run = match result {
        Ok(run) => run,
        Err(e) => {
            match (&e, &args.rejected) {
                (RunError::Rejected(_), Some(path)) => eprintln!("error: {}: {e}", path.display()),
                _ => eprintln!("error: {e}"),
            }
            return Status::Usage;
        }
    };
    if let (Some(w), Some(path)) = (rejected_file.as_mut(), &args.rejected) {
        if let Err(e) = w.flush() {
            eprintln!("error: {}: {e}", path.display());
            return Status::Usage;
        }
    }
    let output = &run.output;
    let written = match &args.out {
        Some(path) => std::fs::File::create(path).and_then(|f| {
            let mut w = BufWriter::new(f);
            write_findings(&mut w, args.format, &output.findings)?;
            w.flush()
        }),
        None => {
            let stdout = std::io::stdout();
            let mut w = BufWriter::new(stdout.lock());
            write_findings(&mut w, args.format, &output.findings).and_then(|_| w.flush())
        }
    };
    if let Err(e) = written {
        eprintln!("error: writing findings: {e}");
        return Status::Usage;
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "claims read {} = evaluated {} + rejected {}; {} fee lines; history {} ({} rejected)",
        run.counts.read,
        run.counts.accepted,
        run.counts.rejected,
        run.lines,
        run.history_counts.accepted,
        run.history_counts.rejected
    );
    if run.partitions > 1 {
        let _ = writeln!(
            err,
            "partitioned by patient into {} buckets (input over the {} MB memory budget)",
            run.partitions, args.memory_budget
        );
    }
    if let Some(note) = run.note {
        let _ = writeln!(err, "note: {note}");
    }
    if run.counts.rejected > 0 && args.rejected.is_none() {
        for r in &shown {
            let _ = writeln!(err, "  rejected {r}");
        }
        let _ = writeln!(
            err,
            "  (pass --rejected FILE to keep all {} rejected records)",
            run.counts.rejected
        );
    }
    for e in &output.errors {
        let _ = writeln!(err, "{}", engine.describe(e));
    }
    let _ = write!(err, "{}", Summary::of(&output.findings).render());
    let _ = writeln!(
        err,
        "time {:.2?} (engine: {})",
        started.elapsed(),
        engine.describe_engine()
    );
    Status::Ok
}

/// Rejected records shown on stderr when no `--rejected FILE` keeps them all.
const SHOWN_REJECTED: usize = 5;

/// About how many claims a file holds, for the progress bar only: its size over a typical
/// claim line's (the file is not read twice to count).
fn claim_count_hint(path: &std::path::Path) -> usize {
    const TYPICAL_LINE_BYTES: u64 = 3072;
    std::fs::metadata(path)
        .map(|m| usize::try_from(m.len() / TYPICAL_LINE_BYTES).unwrap_or(usize::MAX))
        .unwrap_or(0)
}

/// Runs `work` while a progress bar on stderr follows `counter` (drawn only on a terminal, and
/// only for runs long enough to need one).
fn with_progress<T: Send>(total: usize, work: impl FnOnce(&AtomicUsize) -> T + Send) -> T {
    let counter = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    let bar = if std::io::stderr().is_terminal() && total >= 1000 {
        ProgressBar::new(total as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} claims  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                bar.set_position(counter.load(Ordering::Relaxed) as u64);
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        let result = work(&counter);
        done.store(true, Ordering::Relaxed);
        let _ = watcher.join();
        result
    })
}

fn write_findings(
    w: &mut impl Write,
    format: Format,
    findings: &[vigil_runtime::findings::Finding],
) -> std::io::Result<()> {
    match format {
        Format::Jsonl => write_jsonl(w, findings),
        Format::Csv => write_csv(w, findings),
    }
}

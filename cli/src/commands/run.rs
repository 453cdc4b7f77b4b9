//! `vigil run`: a rulebook over a claims file, findings out (formats.md §2).

use std::io::{BufWriter, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, ValueEnum};
use vigil_runtime::engine::read_claims;
use vigil_runtime::findings::{write_csv, write_jsonl, Summary};

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
    /// The reference interpreter of the IR.
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
    /// Worker threads (0: one per core). Output is the same at any count.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    #[arg(long, value_enum, default_value = "interp")]
    pub engine: EngineKind,
}

/// `NAME=FILE` of `--table`.
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
    let Some(engine) = super::prepare(&args.book, &args.tables) else {
        return Status::Findings;
    };
    let (claims, rejected, counts) = match read_claims(&engine.layout, &args.claims) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}: {e}", args.claims.display());
            return Status::Usage;
        }
    };
    let (history, history_rejected) = match &args.history {
        None => (vec![], vec![]),
        Some(h) => match read_claims(&engine.layout, h) {
            Ok((c, r, _)) => (c, r),
            Err(e) => {
                eprintln!("error: {}: {e}", h.display());
                return Status::Usage;
            }
        },
    };
    if let Some(path) = &args.rejected {
        let written = std::fs::File::create(path).and_then(|f| {
            let mut w = BufWriter::new(f);
            for r in &rejected {
                writeln!(w, "{}", serde_json::to_string(r).unwrap_or_default())?;
            }
            w.flush()
        });
        if let Err(e) = written {
            eprintln!("error: {}: {e}", path.display());
            return Status::Usage;
        }
    }
    let output = with_progress(claims.len(), |counter| {
        engine.run_counted(&claims, &history, args.threads, Some(counter))
    });
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
    let lines: usize = claims.iter().map(|c| engine.line_count(c)).sum();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "claims read {} = evaluated {} + rejected {}; {} fee lines; history {} ({} rejected)",
        counts.read,
        counts.accepted,
        counts.rejected,
        lines,
        history.len(),
        history_rejected.len()
    );
    if !rejected.is_empty() && args.rejected.is_none() {
        for r in rejected.iter().take(5) {
            let _ = writeln!(err, "  rejected {r}");
        }
        let _ = writeln!(
            err,
            "  (pass --rejected FILE to keep all {} rejected records)",
            rejected.len()
        );
    }
    for e in &output.errors {
        let _ = writeln!(err, "{}", engine.describe(e));
    }
    let _ = write!(err, "{}", Summary::of(&output.findings).render());
    let _ = writeln!(err, "time {:.2?} (engine: interp)", started.elapsed());
    Status::Ok
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

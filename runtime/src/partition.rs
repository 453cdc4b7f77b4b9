//! Runs over claim files of any size in bounded memory, partitioned by patient.
//!
//! When the claims and history files together fit the memory budget they are read whole and
//! run as one part. Otherwise both are streamed once: every accepted claim's line is spilled,
//! as it was read and with its original line number, to a bucket file chosen by a stable hash
//! of its `psn_no` and, when the rulebook has provider rules, to a provider bucket chosen by
//! its `fixmedins_code`. Then one bucket at a time is read back and run. All claims of a
//! patient share a bucket, so history rules see exactly what they see in memory; all claims of
//! a provider share a provider bucket, so every (provider, month) group is whole.
//!
//! Rejected records are reported during the first pass, with their line numbers in the input,
//! so rejection reporting is the same on both paths. Findings stay in memory (a run's findings
//! are few next to its claims) and are sorted once at the end: the output is byte-identical at
//! any bucket and thread count. The bucket files live in a temporary folder that is removed
//! when the run ends, on error too.
//!
//! What still grows with the input: the findings, the reader's set of accepted `setl_id`s (to
//! reject repeats across the whole file; tens of bytes a claim), and the provider pass, whose
//! buckets are keyed by provider, so it holds the largest provider's claims at once.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use vigil_compiler::ir::{Ir, IrKind, MessagePart, Program, RuleIr, CLAIM};
use vigil_compiler::model::Scope;
use vigil_compiler::value::Record;

use crate::claims::{read_claims_again, ClaimReader, ReadCounts, ReadError, Rejected};
use crate::engine::{Engine, RunData, RunOutput};

/// Input bytes (claims and history files together) a run holds in memory at once by default.
pub const DEFAULT_MEMORY_BUDGET: u64 = 256 * 1024 * 1024;

/// The most buckets a run spills to: each holds two open files while spilling, which keeps a
/// run within the common limit of 1,024 open files.
pub const MAX_PARTITIONS: usize = 256;

/// Buckets for an input whose size is not known beforehand (a pipe).
const UNSIZED_PARTITIONS: usize = 16;

/// Where a run sends the claims file's rejected records, in line order, as it meets them.
pub type RejectedSink<'a> = dyn FnMut(&Rejected) -> io::Result<()> + 'a;

/// A part of a run read back: its claims-file claims and its history claims, in input order.
type Part = (Vec<Arc<Record>>, Vec<Arc<Record>>);

/// How a file run is carried out.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Input bytes held in memory at once; a larger input is partitioned by patient.
    pub memory_budget: u64,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            threads: 0,
            memory_budget: DEFAULT_MEMORY_BUDGET,
        }
    }
}

/// What a file run produced, and what it read.
#[derive(Debug, Clone, Default)]
pub struct FileRun {
    /// Findings and evaluation errors, sorted.
    pub output: RunOutput,
    /// The claims file: `read = accepted + rejected`.
    pub counts: ReadCounts,
    /// The history file (all zero without one).
    pub history_counts: ReadCounts,
    /// Fee lines (elements of the claims' keyed lists) of the evaluated claims.
    pub lines: usize,
    /// Buckets the run was split into; 1 when it ran in memory.
    pub partitions: usize,
    /// Why an input over the budget was nevertheless run in memory.
    pub note: Option<&'static str>,
}

/// Why a file run stopped (a bad record does not stop it: it is rejected).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// An input file could not be opened.
    #[error("{}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// An input file could not be read to its end.
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    /// The caller's sink for rejected records failed.
    #[error("writing rejected records: {0}")]
    Rejected(#[source] io::Error),
    /// A temporary bucket file could not be written or read.
    #[error("temporary bucket files: {0}")]
    Spill(#[source] io::Error),
    /// A spilled claim did not read back as it was read the first time.
    #[error("temporary bucket files: the claim of input line {line} reads back wrong: {reason}")]
    Reread { line: u64, reason: String },
}

/// Runs `engine` over a claims file and an optional history file. Rejected records of the
/// claims file go to `rejected` in line order as they are met (those of the history file are
/// only counted); `progress` counts evaluated claims.
pub fn run_files(
    engine: &Engine,
    claims: &Path,
    history: Option<&Path>,
    options: &RunOptions,
    rejected: &mut RejectedSink<'_>,
    progress: Option<&AtomicUsize>,
) -> Result<FileRun, RunError> {
    let partitions = partitions_for(claims, history, options.memory_budget);
    let pool = reading_pool(options.threads);
    let reading = Reading {
        engine,
        pool: pool.as_ref(),
    };
    if partitions <= 1 {
        return run_in_memory(&reading, claims, history, options, rejected, progress);
    }
    if !partition_safe(&engine.program, engine.layout.psn_no()) {
        let mut run = run_in_memory(&reading, claims, history, options, rejected, progress)?;
        run.note = Some(
            "a rule reads another patient's history (or a provider rule reads history), \
             so the run was not partitioned by patient",
        );
        return Ok(run);
    }
    run_partitioned(
        &reading, claims, history, options, partitions, rejected, progress,
    )
}

/// What reads the input: the engine's layout, parsed on the run's threads.
struct Reading<'r> {
    engine: &'r Engine,
    /// `--threads` workers (None for 0: the global pool, one thread per core).
    pool: Option<&'r rayon::ThreadPool>,
}

impl<'r> Reading<'r> {
    fn reader(&self, path: &Path) -> Result<ClaimReader<'r, BufReader<File>>, RunError> {
        let reader = ClaimReader::new(&self.engine.layout, open(path)?);
        Ok(match self.pool {
            Some(pool) => reader.on_pool(pool),
            None => reader,
        })
    }
}

/// The pool the input is parsed on: as many threads as the rules get (`--threads`), or the
/// global pool (every core) for 0 or when no pool can be built.
fn reading_pool(threads: usize) -> Option<rayon::ThreadPool> {
    if threads == 0 {
        return None;
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .ok()
}

/// How many buckets the inputs need under `budget`: 1 when they fit.
fn partitions_for(claims: &Path, history: Option<&Path>, budget: u64) -> usize {
    let size = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len())
    };
    let total: Option<u64> = std::iter::once(claims).chain(history).map(size).sum();
    match total {
        Some(bytes) => {
            let wanted = bytes.div_ceil(budget.max(1));
            usize::try_from(wanted)
                .unwrap_or(MAX_PARTITIONS)
                .clamp(1, MAX_PARTITIONS)
        }
        None => UNSIZED_PARTITIONS,
    }
}

fn open(path: &Path) -> Result<BufReader<File>, RunError> {
    File::open(path)
        .map(|f| BufReader::with_capacity(1 << 16, f))
        .map_err(|source| RunError::Open {
            path: path.to_path_buf(),
            source,
        })
}

/// Reads a whole file of claims: the accepted ones, shared; rejected ones go to `rejected`.
fn read_all(
    reading: &Reading<'_>,
    path: &Path,
    mut rejected: Option<&mut RejectedSink<'_>>,
) -> Result<(Vec<Arc<Record>>, ReadCounts), RunError> {
    let mut reader = reading.reader(path)?;
    let mut records = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(c) => records.push(Arc::new(c.record)),
            Err(r) => {
                if let Some(sink) = rejected.as_mut() {
                    sink(&r).map_err(RunError::Rejected)?;
                }
            }
        }
    }
    let counts = reader.finish().map_err(|source| RunError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok((records, counts))
}

fn run_in_memory(
    reading: &Reading<'_>,
    claims: &Path,
    history: Option<&Path>,
    options: &RunOptions,
    rejected: &mut RejectedSink<'_>,
    progress: Option<&AtomicUsize>,
) -> Result<FileRun, RunError> {
    let engine = reading.engine;
    let (claims, counts) = read_all(reading, claims, Some(rejected))?;
    let (history, history_counts) = match history {
        Some(h) => read_all(reading, h, None)?,
        None => (Vec::new(), ReadCounts::default()),
    };
    let output = engine.run_shared(&claims, &history, options.threads, progress);
    Ok(FileRun {
        output,
        counts,
        history_counts,
        lines: claims.iter().map(|c| engine.line_count(c)).sum(),
        partitions: 1,
        note: None,
    })
}

/// Whether a claim was read from the claims file or from the history file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Claims,
    History,
}

impl Origin {
    fn tag(self) -> u8 {
        match self {
            Origin::Claims => b'C',
            Origin::History => b'H',
        }
    }
}

/// The bucket files of one kind (by patient or by provider) in the run's temporary folder.
struct Buckets {
    paths: Vec<PathBuf>,
    writers: Vec<BufWriter<File>>,
}

impl Buckets {
    fn create(dir: &Path, kind: &str, count: usize) -> io::Result<Buckets> {
        let paths: Vec<PathBuf> = (0..count)
            .map(|i| dir.join(format!("{kind}-{i:03}.jsonl")))
            .collect();
        let writers = paths
            .iter()
            .map(|p| File::create(p).map(|f| BufWriter::with_capacity(1 << 14, f)))
            .collect::<io::Result<_>>()?;
        Ok(Buckets { paths, writers })
    }

    /// Appends one claim line: its origin, its input line number, a tab, its JSON text.
    fn spill(&mut self, key: &str, origin: Origin, line: u64, text: &[u8]) -> io::Result<()> {
        let at = bucket_of(key, self.writers.len());
        let w = &mut self.writers[at];
        w.write_all(&[origin.tag()])?;
        write!(w, "{line}\t")?;
        w.write_all(text)?;
        w.write_all(b"\n")
    }

    /// Flushes and closes the writers; the paths remain, to be read back in turn.
    fn close(self) -> io::Result<Vec<PathBuf>> {
        for mut w in self.writers {
            w.flush()?;
        }
        Ok(self.paths)
    }
}

/// A bucket for a key: FNV-1a, stable across runs and platforms (the standard library's
/// hasher promises neither).
fn bucket_of(key: &str, count: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // The remainder is below `count`, a usize, so it fits.
    (hash % count.max(1) as u64) as usize
}

/// Streams one input file into the buckets; rejected records go to `rejected`.
fn spill_file(
    reading: &Reading<'_>,
    path: &Path,
    origin: Origin,
    patients: &mut Buckets,
    providers: &mut Option<Buckets>,
    mut rejected: Option<&mut RejectedSink<'_>>,
) -> Result<ReadCounts, RunError> {
    let layout = &reading.engine.layout;
    let mut reader = reading.reader(path)?;
    // `while let`, not `for`: the reader's current line is read inside the loop.
    while let Some(item) = reader.next() {
        match item {
            Ok(c) => {
                let text = reader.line_text();
                let psn_no = c.record.get(layout.psn_no()).as_text().unwrap_or("");
                patients
                    .spill(psn_no, origin, c.line, text)
                    .map_err(RunError::Spill)?;
                if let Some(p) = providers.as_mut() {
                    let code = c
                        .record
                        .get(layout.fixmedins_code())
                        .as_text()
                        .unwrap_or("");
                    p.spill(code, origin, c.line, text)
                        .map_err(RunError::Spill)?;
                }
            }
            Err(r) => {
                if let Some(sink) = rejected.as_mut() {
                    sink(&r).map_err(RunError::Rejected)?;
                }
            }
        }
    }
    reader.finish().map_err(|source| RunError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a bucket back: its claims-file claims and its history claims, each in input order.
fn read_bucket(engine: &Engine, path: &Path) -> Result<Part, RunError> {
    let mut input = BufReader::with_capacity(1 << 16, File::open(path).map_err(RunError::Spill)?);
    let (mut claims, mut history) = (Vec::new(), Vec::new());
    // Lines are parsed a chunk at a time on every worker (in order), so only a chunk of text
    // is held besides the records.
    let mut chunk = Chunk::default();
    loop {
        let start = chunk.text.len();
        if input
            .read_until(b'\n', &mut chunk.text)
            .map_err(RunError::Spill)?
            == 0
        {
            break;
        }
        let body = chunk.text[start..]
            .strip_suffix(b"\n")
            .unwrap_or(&chunk.text[start..]);
        let Some(tab) = body.iter().position(|&b| b == b'\t') else {
            return Err(RunError::Reread {
                line: 0,
                reason: "a bucket line has no tab".into(),
            });
        };
        let line = std::str::from_utf8(body[..tab].get(1..).unwrap_or_default())
            .ok()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        let is_claim = body.first() == Some(&b'C');
        chunk
            .lines
            .push((is_claim, line, start + tab + 1..start + body.len()));
        if chunk.lines.len() >= CHUNK_LINES || chunk.text.len() >= CHUNK_BYTES {
            chunk.parse(engine, &mut claims, &mut history)?;
        }
    }
    chunk.parse(engine, &mut claims, &mut history)?;
    Ok((claims, history))
}

/// The most lines, and bytes, of a bucket parsed together.
const CHUNK_LINES: usize = 4096;
const CHUNK_BYTES: usize = 8 << 20;

/// Bucket lines read but not yet parsed: their text end to end, and per line whether it is a
/// claim of the claims file, its line number there and where its JSON is in `text`.
#[derive(Default)]
struct Chunk {
    text: Vec<u8>,
    lines: Vec<(bool, u64, std::ops::Range<usize>)>,
}

impl Chunk {
    /// Parses the chunk's lines into `claims` and `history`, and empties it.
    fn parse(
        &mut self,
        engine: &Engine,
        claims: &mut Vec<Arc<Record>>,
        history: &mut Vec<Arc<Record>>,
    ) -> Result<(), RunError> {
        let texts: Vec<&[u8]> = self
            .lines
            .iter()
            .map(|(_, _, span)| self.text.get(span.clone()).unwrap_or_default())
            .collect();
        let records = read_claims_again(&engine.layout, &texts);
        for (&(is_claim, line, _), record) in self.lines.iter().zip(records) {
            let record = record.map_err(|r| RunError::Reread {
                line,
                reason: r.reason,
            })?;
            if is_claim {
                claims.push(Arc::new(record));
            } else {
                history.push(Arc::new(record));
            }
        }
        self.text.clear();
        self.lines.clear();
        Ok(())
    }
}

fn run_partitioned(
    reading: &Reading<'_>,
    claims: &Path,
    history: Option<&Path>,
    options: &RunOptions,
    partitions: usize,
    rejected: &mut RejectedSink<'_>,
    progress: Option<&AtomicUsize>,
) -> Result<FileRun, RunError> {
    let engine = reading.engine;
    // Removed when dropped: at the end of the run and on every early return.
    let dir = tempfile::Builder::new()
        .prefix("vigil-run-")
        .tempdir()
        .map_err(RunError::Spill)?;
    let has_provider_rules = engine
        .program
        .rules
        .iter()
        .any(|r| r.scope == Scope::Provider);
    let mut patients =
        Buckets::create(dir.path(), "patients", partitions).map_err(RunError::Spill)?;
    let mut providers = if has_provider_rules {
        Some(Buckets::create(dir.path(), "providers", partitions).map_err(RunError::Spill)?)
    } else {
        None
    };
    let counts = spill_file(
        reading,
        claims,
        Origin::Claims,
        &mut patients,
        &mut providers,
        Some(rejected),
    )?;
    let history_counts = match history {
        Some(h) => spill_file(
            reading,
            h,
            Origin::History,
            &mut patients,
            &mut providers,
            None,
        )?,
        None => ReadCounts::default(),
    };
    let patient_paths = patients.close().map_err(RunError::Spill)?;
    let provider_paths = match providers {
        Some(p) => p.close().map_err(RunError::Spill)?,
        None => Vec::new(),
    };
    engine.in_pool(options.threads, || {
        let mut output = RunOutput::default();
        let mut lines = 0;
        for path in &patient_paths {
            let (claims, history) = read_bucket(engine, path)?;
            lines += claims.iter().map(|c| engine.line_count(c)).sum::<usize>();
            let data = RunData::new(engine, &claims, &history);
            output.absorb(engine.patient_findings(&claims, &data, progress));
            // Done with it: free the disk as the run goes.
            let _ = std::fs::remove_file(path);
        }
        for path in &provider_paths {
            let (claims, history) = read_bucket(engine, path)?;
            // Provider rules read no patient's history (`partition_safe`): tables suffice.
            let data = RunData::new(engine, &[], &[]);
            output.absorb(engine.provider_findings(&claims, &history, &data));
            let _ = std::fs::remove_file(path);
        }
        output.sort();
        Ok(FileRun {
            output,
            counts,
            history_counts,
            lines,
            partitions,
            note: None,
        })
    })
}

/// Whether a partition by patient holds everything every rule can see: claim and line rules
/// read only their own patient's history (`history(claim.psn_no)`), provider rules none.
pub fn partition_safe(program: &Program, psn_no: usize) -> bool {
    program.rules.iter().all(|rule| {
        let own_allowed = rule.scope != Scope::Provider;
        rule_exprs(rule).all(|ir| history_is_own(ir, program, psn_no, own_allowed))
    })
}

/// Every expression of a rule.
fn rule_exprs(rule: &RuleIr) -> impl Iterator<Item = &Ir> {
    let provider = rule
        .provider
        .iter()
        .flat_map(|p| std::iter::once(&p.month_of).chain(p.filter.as_ref()));
    let holes = rule.message.iter().filter_map(|m| match m {
        MessagePart::Hole(h) => Some(h),
        MessagePart::Text(_) => None,
    });
    rule.lets
        .iter()
        .map(|(_, e)| e)
        .chain(std::iter::once(&rule.when))
        .chain(rule.amount.as_ref())
        .chain(holes)
        .chain(provider)
}

/// Whether every `history(…)` under `ir` (shared values followed) is the claim's own patient's,
/// and there is none at all when `own_allowed` is false.
fn history_is_own(ir: &Ir, program: &Program, psn_no: usize, own_allowed: bool) -> bool {
    let here = match &ir.kind {
        IrKind::History(arg) => {
            own_allowed
                && matches!(&arg.kind, IrKind::Field { base, slot, .. }
                    if *slot == psn_no && matches!(base.kind, IrKind::Var(CLAIM)))
        }
        // A shared value only refers to values shared before it, so this ends.
        IrKind::Shared(id) => program
            .shared
            .get(*id as usize)
            .is_none_or(|s| history_is_own(&s.expr, program, psn_no, own_allowed)),
        _ => true,
    };
    here && ir
        .children()
        .into_iter()
        .all(|c| history_is_own(c, program, psn_no, own_allowed))
}

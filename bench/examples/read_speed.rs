//! How fast claims are read: a JSON Lines file turned into records by
//! `vigil_runtime::engine::read_claims`, best of a few rounds.
//!
//! `cargo run --release -p vigil-bench --example read_speed -- FILE [ROUNDS] [DUMP]`
//! (rounds default 3). Prints claims/s and MB/s; with DUMP, also writes every record and
//! rejection, in order, as debug text to that file, so two builds can be compared byte for
//! byte. Asserts nothing about the times.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use vigil_bench::national_root;
use vigil_runtime::claims::ClaimLayout;
use vigil_runtime::engine::read_claims;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let file = PathBuf::from(
        args.next()
            .ok_or("usage: read_speed FILE [ROUNDS] [DUMP]")?,
    );
    let rounds: u32 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(3);
    let dump = args.next().map(PathBuf::from);

    let loaded = vigil_compiler::load_rulebook(&national_root())?;
    let layout = ClaimLayout::new(&loaded.rulebook)?;
    let bytes = std::fs::metadata(&file)?.len();

    let mut best = Duration::MAX;
    let mut last = None;
    for round in 1..=rounds.max(1) {
        // The last round's records go first, so peak memory is one round's.
        drop(last.take());
        let started = Instant::now();
        let read = read_claims(&layout, &file)?;
        let took = started.elapsed();
        eprintln!(
            "round {round}: {} claims, {} rejected in {took:.2?}",
            read.0.len(),
            read.1.len()
        );
        best = best.min(took);
        last = Some(read);
    }
    let secs = best.as_secs_f64();
    let (claims, rejected, counts) = last.ok_or("no round ran")?;
    println!(
        "best of {rounds}: {best:.2?}: {:.0} claims/s, {:.1} MB/s ({} lines read)",
        claims.len() as f64 / secs,
        bytes as f64 / 1e6 / secs,
        counts.read
    );
    if let Some(dump) = dump {
        let mut out = std::io::BufWriter::new(std::fs::File::create(dump)?);
        for claim in &claims {
            writeln!(out, "{claim:?}")?;
        }
        for r in &rejected {
            writeln!(out, "{r:?}")?;
        }
        writeln!(out, "{counts:?}")?;
        out.flush()?;
    }
    Ok(())
}

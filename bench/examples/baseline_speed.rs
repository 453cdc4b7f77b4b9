//! How fast the hand-written baseline decides the 23 national rules over a batch already in
//! memory (compute only), next to laying out that batch, on generated claims.
//!
//! `cargo run --release -p vigil-bench --example baseline_speed -- [CLAIMS] [SEED]`
//! (defaults 100000 and 2). Prints the times; asserts nothing about them.

use std::sync::Arc;
use std::time::Instant;

use vigil_bench::baseline::Baseline;
use vigil_bench::gen::{generate, GenConfig, Tables as GenTables};
use vigil_bench::national_root;
use vigil_compiler::value::Record;
use vigil_runtime::batch::{Batch, Interner};
use vigil_runtime::claims::{ClaimLayout, ClaimReader};
use vigil_runtime::tables::{LoadedTable, Tables};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let claims: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let seed: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2);

    let root = national_root();
    let loaded = vigil_compiler::load_rulebook(&root)?;
    let layout = ClaimLayout::new(&loaded.rulebook)?;
    let tables: Vec<LoadedTable> = Tables::load(&loaded.rulebook, &root, &[])
        .map_err(|e| format!("{e:?}"))?
        .iter()
        .cloned()
        .collect();
    let baseline = Baseline::new(&layout, &tables, &Interner::default())?;

    let started = Instant::now();
    let mut text = Vec::new();
    let cfg = GenConfig {
        claims,
        seed,
        rate: 0.05,
    };
    generate(&GenTables::load(&root)?, &cfg, &mut text, None)?;
    let mut reader = ClaimReader::new(&layout, &text[..]);
    let records: Vec<Arc<Record>> = reader
        .by_ref()
        .filter_map(Result::ok)
        .map(|c| Arc::new(c.record))
        .collect();
    reader.finish()?;
    eprintln!(
        "generated and read {} claims in {:.2?}",
        records.len(),
        started.elapsed()
    );

    let started = Instant::now();
    let batch = Batch::new(&layout, &records, baseline.strings());
    let lines = batch
        .levels
        .iter()
        .find(|l| l.record == "fee_line")
        .map_or(0, |l| l.rows);
    eprintln!(
        "batch of {} claims, {lines} fee lines laid out in {:.2?}",
        records.len(),
        started.elapsed()
    );

    for round in 1..=3 {
        let started = Instant::now();
        let outcome = baseline.run(&batch)?;
        let took = started.elapsed();
        eprintln!(
            "round {round}: {} findings, {} bailed, {} KPI months in {took:.2?}: {:.0} claims/s, {:.0} lines/s",
            outcome.fired(),
            outcome.bailed(),
            outcome.kpi.len(),
            records.len() as f64 / took.as_secs_f64(),
            lines as f64 / took.as_secs_f64(),
        );
    }
    Ok(())
}

//! What each compiled rule costs in native code alone: every national rule the kernel
//! compiles, compiled on its own and run over generated claims laid out by patient (history
//! included), next to all of them together and the hand-written baseline. It shows where the
//! native decisions spend their time.
//!
//! `cargo run --release -p vigil-bench --example native_rules -- [CLAIMS] [SEED]` (defaults
//! 30000 and 1). Prints the times, best of 3; asserts nothing about them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil_bench::baseline::Baseline;
use vigil_bench::gen::{generate, GenConfig, Tables as GenTables};
use vigil_bench::{national_root, patient_batch};
use vigil_compiler::ir::Program;
use vigil_compiler::value::Record;
use vigil_jit::Kernel;
use vigil_runtime::claims::{ClaimLayout, ClaimReader};
use vigil_runtime::tables::{LoadedTable, Tables};

fn best(mut f: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn read(layout: &ClaimLayout, text: &[u8]) -> Result<Vec<Arc<Record>>, Box<dyn std::error::Error>> {
    let mut reader = ClaimReader::new(layout, text);
    let records = reader
        .by_ref()
        .filter_map(Result::ok)
        .map(|c| Arc::new(c.record))
        .collect();
    reader.finish()?;
    Ok(records)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let claims: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(30_000);
    let seed: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1);

    let root = national_root();
    let loaded = vigil_compiler::load_rulebook(&root)?;
    let program = vigil_compiler::lower::lower(&loaded);
    let layout = ClaimLayout::new(&loaded.rulebook)?;
    let all = Tables::load(&loaded.rulebook, &root, &[]).map_err(|e| format!("{e:?}"))?;
    let tables: Vec<LoadedTable> = program
        .tables
        .iter()
        .filter_map(|n| all.get(n).cloned())
        .collect();

    let (mut text, mut history) = (Vec::new(), Vec::new());
    let cfg = GenConfig {
        claims,
        seed,
        rate: 0.05,
    };
    generate(
        &GenTables::load(&root)?,
        &cfg,
        &mut text,
        Some(&mut history),
    )?;
    let (claims, history) = (read(&layout, &text)?, read(&layout, &history)?);
    let rows: usize = claims.len() + history.len();

    let run = |program: &Program| -> Result<(usize, Duration), Box<dyn std::error::Error>> {
        let kernel = Kernel::compile(program, &loaded.rulebook, &layout, &tables)?;
        let (batch, own) = patient_batch(&layout, &claims, &history, kernel.strings());
        let time = best(|| kernel.each_claim_of(&batch, Some(&own), |_, _| {}));
        Ok((kernel.compiled(), time))
    };
    let (compiled, together) = run(&program)?;
    let baseline = Baseline::new(&layout, &tables, &vigil_runtime::batch::Interner::default())?;
    let all_rows: Vec<Arc<Record>> = claims.iter().chain(&history).cloned().collect();
    let batch = vigil_runtime::batch::Batch::new(&layout, &all_rows, baseline.strings());
    let base = best(|| {
        let _ = baseline.run_with_history(&batch, claims.len());
    });
    println!(
        "{} claims, {} history claims; {compiled} rules native together: {:.1} ms; the baseline, all {} rules: {:.1} ms",
        claims.len(),
        rows - claims.len(),
        together.as_secs_f64() * 1e3,
        program.rules.len(),
        base.as_secs_f64() * 1e3
    );
    println!("| rule | native alone | ns per claim |");
    println!("|---|---|---|");
    for rule in &program.rules {
        let alone = Program {
            rules: vec![rule.clone()],
            ..program.clone()
        };
        let (n, time) = run(&alone)?;
        if n == 0 {
            println!("| {} | interpreted | — |", rule.id);
            continue;
        }
        println!(
            "| {} | {:.1} ms | {:.0} |",
            rule.id,
            time.as_secs_f64() * 1e3,
            time.as_secs_f64() * 1e9 / claims.len() as f64
        );
    }
    Ok(())
}

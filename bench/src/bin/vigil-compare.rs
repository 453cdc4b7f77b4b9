//! `vigil-compare`: the native engine against the interpreter and the hand-written baseline, on
//! one claims file, in one process, printed as a table of times and ratios (`bench/run` runs
//! it). Asserts nothing about time: it measures.
//!
//! Usage: `vigil-compare --claims FILE [--history FILE] [--latency N]`

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil_bench::baseline::Baseline;
use vigil_bench::national_root;
use vigil_compiler::interp::ClaimEval;
use vigil_compiler::value::{Record, Value};
use vigil_jit::Kernel;
use vigil_runtime::batch::Batch;
use vigil_runtime::engine::{read_claims, Engine};
use vigil_runtime::screen::{Need, Screen};
use vigil_runtime::tables::TablesOnly;

/// The allocator `vigil` runs with (cli/src/main.rs), so that end to end here is end to end
/// there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    claims: PathBuf,
    history: Option<PathBuf>,
    latency: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        claims: PathBuf::new(),
        history: None,
        latency: 2000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--claims" => a.claims = value.into(),
            "--history" => a.history = Some(value.into()),
            "--latency" => a.latency = value.parse().map_err(|e| format!("--latency: {e}"))?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if a.claims.as_os_str().is_empty() {
        return Err("usage: vigil-compare --claims FILE [--history FILE] [--latency N]".into());
    }
    Ok(a)
}

/// The best of `n` runs of `f` (the least disturbed by the rest of the machine).
fn best<T>(n: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut fastest = Duration::MAX;
    let mut last = None;
    for _ in 0..n {
        let t = Instant::now();
        let v = f();
        fastest = fastest.min(t.elapsed());
        last = Some(v);
    }
    // `n` is at least 1 at every call below, so a value was produced.
    (fastest, last.expect("n >= 1"))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn ratio(slow: Duration, fast: Duration) -> String {
    format!("{:.1}×", slow.as_secs_f64() / fast.as_secs_f64().max(1e-12))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args()?;
    let book = national_root();
    let loaded = vigil_compiler::load_rulebook(&book)?;
    let interp = Engine::new(&loaded, &[])?;
    let mut jit = Engine::new(&loaded, &[])?;
    let (compile, kernel) = best(5, || {
        Kernel::compile(&jit.program, &loaded.rulebook, &jit.layout, jit.tables())
    });
    let kernel = Arc::new(kernel?);
    jit.set_screen(kernel.clone());

    // Reading: JSON to records (what end to end pays before any rule runs).
    let t = Instant::now();
    let (claims, rejected, _) = read_claims(&interp.layout, &a.claims)?;
    let history = match &a.history {
        Some(h) => read_claims(&interp.layout, h)?.0,
        None => vec![],
    };
    let read = t.elapsed();
    let lines: usize = claims.iter().map(|c| interp.line_count(c)).sum();
    println!(
        "{} claims ({} lines), {} history claims, {} rejected; rulebook {} ({} of {} rules native)",
        claims.len(),
        lines,
        history.len(),
        rejected.len(),
        interp.rulebook,
        kernel.compiled(),
        interp.program.rules.len()
    );

    let shared: Vec<Arc<Record>> = claims.iter().cloned().map(Arc::new).collect();
    let all: Vec<Arc<Record>> = shared
        .iter()
        .cloned()
        .chain(history.iter().cloned().map(Arc::new))
        .collect();
    let baseline = Baseline::new(&interp.layout, interp.tables(), kernel.strings())?;
    let (layout_time, batch) = best(3, || Batch::new(&interp.layout, &all, baseline.strings()));

    // Compute only, every rule, one thread.
    let history_shared = &all[shared.len()..];
    let (t_interp, out_interp) = best(1, || interp.run_shared(&shared, history_shared, 1, None));
    let (t_jit, out_jit) = best(1, || jit.run_shared(&shared, history_shared, 1, None));
    let same = out_interp.findings == out_jit.findings && out_interp.errors == out_jit.errors;
    let (t_base, outcome) = best(3, || baseline.run_with_history(&batch, shared.len()));
    let outcome = outcome?;

    // Native decisions alone against the baseline's, like for like: every rule the kernel
    // compiles, on one batch laid out by patient (history rules walk it), the run's claims
    // decided and the history rows context; no interpreter, no findings.
    let t = Instant::now();
    let (patient_batch, only) =
        vigil_bench::patient_batch(&interp.layout, &shared, history_shared, kernel.strings());
    let patient_layout = t.elapsed();
    // Through the screen a run uses (`Needs`, reused from claim to claim).
    let compiled: Vec<usize> = (0..interp.program.rules.len())
        .filter(|&i| kernel.coverage[i].is_none())
        .collect();
    let (t_decide, decided) = best(3, || {
        let mut fired = 0usize;
        kernel.screen(&patient_batch, Some(&only), &mut |_, needs| {
            for &i in &compiled {
                if let Need::Fired(lines) = needs.get(i) {
                    fired += lines.len();
                }
            }
        });
        fired
    });

    // The rules the native code decides that read no history, alone: native screening vs the
    // interpreter on the same rules (history rules need whole patients and the run's history,
    // which the full runs above measure).
    let native: Vec<usize> = (0..interp.program.rules.len())
        .filter(|&i| kernel.coverage[i].is_none() && !interp.program.reads_history(i))
        .collect();
    let claims_batch = Batch::new(&interp.layout, &shared, kernel.strings());
    let (t_native, cleared) = best(3, || {
        let mut cleared = 0usize;
        kernel.screen(&claims_batch, None, &mut |_, needs| {
            cleared += native
                .iter()
                .filter(|&&i| needs.get(i) == Need::Nothing)
                .count();
        });
        cleared
    });
    let data = TablesOnly(interp.tables());
    let (t_native_interp, _) = best(1, || {
        let mut hits = 0usize;
        for c in &shared {
            let mut eval = ClaimEval::new(&interp.program, &data, c.clone());
            for &i in &native {
                hits += eval.rule(i).map(|h| h.len()).unwrap_or(0);
            }
        }
        hits
    });

    // End to end, file to findings (read + run; one thread).
    let end_to_end = |engine: &Engine| -> Result<Duration, Box<dyn std::error::Error>> {
        let t = Instant::now();
        let (c, _, _) = read_claims(&engine.layout, &a.claims)?;
        let h = match &a.history {
            Some(h) => read_claims(&engine.layout, h)?.0,
            None => vec![],
        };
        // Records move into the run, as `vigil run` moves them: nothing is copied.
        let c: Vec<Arc<Record>> = c.into_iter().map(Arc::new).collect();
        let h: Vec<Arc<Record>> = h.into_iter().map(Arc::new).collect();
        let out = engine.run_shared(&c, &h, 1, None);
        let mut sink = std::io::sink();
        vigil_runtime::findings::write_jsonl(&mut sink, &out.findings)?;
        Ok(t.elapsed())
    };
    let e2e_interp = end_to_end(&interp)?;
    let e2e_jit = end_to_end(&jit)?;

    // One claim at a time through the service API, with the patient's other claims.
    let mut by_patient: std::collections::HashMap<&Value, Vec<&Record>> = Default::default();
    for c in claims.iter().chain(&history) {
        by_patient
            .entry(c.get(interp.layout.psn_no()))
            .or_default()
            .push(c);
    }
    let latency = |engine: &Engine| -> (Duration, Duration) {
        let mut times: Vec<Duration> = Vec::new();
        for c in claims.iter().take(a.latency) {
            let others: Vec<Record> = by_patient
                .get(c.get(interp.layout.psn_no()))
                .map(|v| {
                    v.iter()
                        .filter(|o| {
                            o.get(interp.layout.setl_id()) != c.get(interp.layout.setl_id())
                        })
                        .map(|o| (*o).clone())
                        .collect()
                })
                .unwrap_or_default();
            let t = Instant::now();
            let _ = engine.check_claim(c, &others);
            times.push(t.elapsed());
        }
        times.sort();
        let at = |q: f64| {
            times
                .get(((times.len() as f64 - 1.0) * q) as usize)
                .copied()
                .unwrap_or_default()
        };
        (at(0.5), at(0.99))
    };
    let (p50_i, p99_i) = latency(&interp);
    let (p50_j, p99_j) = latency(&jit);

    let us = |d: Duration| format!("{:.0} µs", d.as_secs_f64() * 1e6);
    println!();
    println!("| measure | interpreter | jit | baseline | jit vs interp | jit vs baseline |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| compute, all {} rules (claims in memory; jit lays out its batches) | {} | {} | {} (batch laid out) | {} | {:.2}× |",
        interp.program.rules.len(),
        ms(t_interp),
        ms(t_jit),
        ms(t_base),
        ratio(t_interp, t_jit),
        t_base.as_secs_f64() / t_jit.as_secs_f64()
    );
    println!(
        "| native decisions alone, the {} compiled rules (baseline: all {}; batch laid out by patient, no findings made) | — | {} | {} | — | {:.2}× |",
        kernel.compiled(),
        interp.program.rules.len(),
        ms(t_decide),
        ms(t_base),
        t_base.as_secs_f64() / t_decide.as_secs_f64()
    );
    println!(
        "| compute, the {} native rules that read no history, alone (batch laid out) | {} | {} | — | {} | — |",
        native.len(),
        ms(t_native_interp),
        ms(t_native),
        ratio(t_native_interp, t_native)
    );
    println!(
        "| end to end, file to findings | {} | {} | — | {} | — |",
        ms(e2e_interp),
        ms(e2e_jit),
        ratio(e2e_interp, e2e_jit)
    );
    println!(
        "| single claim via `check_claim`, median / p99 ({} claims) | {} / {} | {} / {} | — | {} | — |",
        a.latency.min(claims.len()),
        us(p50_i),
        us(p99_i),
        us(p50_j),
        us(p99_j),
        ratio(p50_i, p50_j)
    );
    println!();
    println!(
        "reading the input (JSON to records): {}; laying out one batch of claims + history: {} (by patient: {}); compiling the rulebook: {}",
        ms(read),
        ms(layout_time),
        ms(patient_layout),
        ms(compile)
    );
    println!(
        "jit findings identical to the interpreter's: {same}; baseline fired {} places, bailed {}; native screening cleared {cleared} rule-claim pairs; native decisions fired {decided} places",
        outcome.fired(),
        outcome.bailed()
    );
    if !same {
        return Err("the jit and the interpreter disagree".into());
    }
    Ok(())
}

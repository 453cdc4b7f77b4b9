//! What each compiled rule costs in native code alone: every national rule the kernel
//! compiles, compiled on its own and run over generated claims laid out by patient (history
//! included), next to all of them together and the hand-written baseline. It shows where the
//! native decisions spend their time.
//!
//! `cargo run --release -p vigil-bench --example native_rules -- [CLAIMS] [SEED]` (defaults
//! 30000 and 1). Prints the times, best of 3; asserts nothing about them.
//!
//! To see where the native code spends its time, `--profile RUNS [RULE]` runs the rules
//! together (or rule RULE alone) RUNS times, then the baseline RUNS times, for a profiler. Under
//! `perf record`, Cranelift names its functions in `/tmp/perf-PID.map`; this copies each
//! function's machine code to `target/jit-code/NAME-ADDRESS.bin`, which
//! `objdump -D -b binary -mi386:x86-64 --adjust-vma=0xADDRESS FILE` disassembles and
//! `perf script -F ip,sym` places samples in:
//!
//! ```text
//! perf record -o /tmp/p.data target/release/examples/native_rules 30000 1 --profile 40
//! perf report -i /tmp/p.data --sort symbol
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil_bench::baseline::Baseline;
use vigil_bench::gen::{generate, GenConfig, Tables as GenTables};
use vigil_bench::{national_root, patient_batch};
use vigil_compiler::ir::Program;
use vigil_compiler::value::Record;
use vigil_jit::Kernel;
use vigil_runtime::claims::{ClaimLayout, ClaimReader};
use vigil_runtime::screen::Screen;
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
    let profile: Option<(u32, Option<String>)> = match args.next().as_deref() {
        Some("--profile") => Some((
            args.next().map(|a| a.parse()).transpose()?.unwrap_or(40),
            args.next(),
        )),
        Some(other) => return Err(format!("unknown argument {other}").into()),
        None => None,
    };

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
        let time = best(|| kernel.screen(&batch, Some(&own), &mut |_, _| {}));
        Ok((kernel.compiled(), time))
    };
    let baseline = Baseline::new(&layout, &tables, &vigil_runtime::batch::Interner::default())?;
    let all_rows: Vec<Arc<Record>> = claims.iter().chain(&history).cloned().collect();
    let batch = vigil_runtime::batch::Batch::new(&layout, &all_rows, baseline.strings());
    let run_baseline = || {
        let _ = baseline.run_with_history(&batch, claims.len());
    };
    if let Some((runs, only)) = profile {
        return profile_runs(&program, runs, only.as_deref(), run_baseline, |program| {
            let kernel = Kernel::compile(program, &loaded.rulebook, &layout, &tables)?;
            let (batch, own) = patient_batch(&layout, &claims, &history, kernel.strings());
            Ok((kernel, batch, own))
        });
    }
    let (compiled, together) = run(&program)?;
    let base = best(run_baseline);
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

/// What `compile` gives: the kernel, its batch and the claims it decides.
type Compiled = (Kernel, vigil_runtime::batch::Batch, Vec<bool>);

/// `--profile`: the rules (or one) run `runs` times, their machine code copied out; then
/// the baseline `runs` times (`bench/instructions` counts each apart).
fn profile_runs(
    program: &Program,
    runs: u32,
    only: Option<&str>,
    baseline: impl Fn(),
    compile: impl Fn(&Program) -> Result<Compiled, Box<dyn std::error::Error>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let chosen = Program {
        rules: program
            .rules
            .iter()
            .filter(|r| only.is_none_or(|id| r.id == id))
            .cloned()
            .collect(),
        ..program.clone()
    };
    if chosen.rules.is_empty() {
        return Err(format!("no rule {}", only.unwrap_or("")).into());
    }
    let (kernel, batch, own) = compile(&chosen)?;
    copy_code()?;
    let t = Instant::now();
    native_repeatedly(&kernel, &batch, &own, runs);
    let per_run = |t: Instant| t.elapsed().as_secs_f64() * 1e3 / f64::from(runs.max(1));
    println!(
        "{} rules native, {runs} runs: {:.1} ms per run",
        kernel.compiled(),
        per_run(t)
    );
    let t = Instant::now();
    baseline_repeatedly(&baseline, runs);
    println!("the baseline, {runs} runs: {:.1} ms per run", per_run(t));
    Ok(())
}

/// The native rules `runs` times through the screen a run uses: a function of its own (never inlined), which
/// `bench/instructions` tells callgrind to count.
#[inline(never)]
fn native_repeatedly(
    kernel: &Kernel,
    batch: &vigil_runtime::batch::Batch,
    own: &[bool],
    runs: u32,
) {
    for _ in 0..runs {
        kernel.screen(batch, Some(own), &mut |_, _| {});
    }
}

/// The baseline `runs` times, as [`native_repeatedly`].
#[inline(never)]
fn baseline_repeatedly(baseline: &impl Fn(), runs: u32) {
    for _ in 0..runs {
        baseline();
    }
}

/// Copies the functions Cranelift listed in this process's perf map (written only under
/// `perf record`) to `target/jit-code/`.
fn copy_code() -> Result<(), Box<dyn std::error::Error>> {
    let Ok(map) = std::fs::read_to_string(format!("/tmp/perf-{}.map", std::process::id())) else {
        return Ok(());
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/jit-code");
    std::fs::create_dir_all(&dir)?;
    for line in map.lines() {
        let mut f = line.splitn(3, ' ');
        let (Some(at), Some(len), Some(name)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let (at, len) = (
            usize::from_str_radix(at, 16)?,
            usize::from_str_radix(len, 16)?,
        );
        // SAFETY: the map lists this process's JIT functions, compiled above by the kernel,
        // which is alive: each `len` bytes at `at` are mapped, readable code.
        let code = unsafe { std::slice::from_raw_parts(at as *const u8, len) };
        std::fs::write(dir.join(format!("{name}-{at:x}.bin")), code)?;
    }
    eprintln!("machine code in {}", dir.display());
    Ok(())
}

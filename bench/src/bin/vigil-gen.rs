//! `vigil-gen`: synthetic claims (formats.md §1) with planted violations, for benches and tests.
//!
//! `vigil-gen --rulebook rulebooks/cn-national --claims N --seed S --out F [--history-out H]
//! [--rate 0.05]` streams N claims to F (constant memory), the same bytes for the same
//! arguments, and prints how many violations of each rule it planted to stderr.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use vigil_bench::gen::{generate, GenConfig, Tables};

const USAGE: &str = "usage: vigil-gen --rulebook DIR --claims N --seed S --out FILE \
                     [--history-out FILE] [--rate 0.05]";

struct Args {
    rulebook: PathBuf,
    out: PathBuf,
    history_out: Option<PathBuf>,
    cfg: GenConfig,
}

fn parse_args() -> Result<Args, String> {
    let mut rulebook = None;
    let mut out = None;
    let mut history_out = None;
    let mut claims = None;
    let mut seed = 0u64;
    let mut rate = 0.05f64;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--rulebook" => rulebook = Some(PathBuf::from(&value)),
            "--out" => out = Some(PathBuf::from(&value)),
            "--history-out" => history_out = Some(PathBuf::from(&value)),
            "--claims" => claims = Some(value.parse::<u64>().map_err(|e| bad(&e))?),
            "--seed" => seed = value.parse().map_err(|e| bad(&e))?,
            "--rate" => {
                rate = value.parse().map_err(|e| bad(&e))?;
                if !(0.0..=1.0).contains(&rate) {
                    return Err(format!("--rate {value}: must be between 0 and 1"));
                }
            }
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    Ok(Args {
        rulebook: rulebook.ok_or_else(|| format!("--rulebook is required\n{USAGE}"))?,
        out: out.ok_or_else(|| format!("--out is required\n{USAGE}"))?,
        history_out,
        cfg: GenConfig {
            claims: claims.ok_or_else(|| format!("--claims is required\n{USAGE}"))?,
            seed,
            rate,
        },
    })
}

fn run(args: Args) -> Result<(), String> {
    let tables = Tables::load(&args.rulebook).map_err(|e| e.to_string())?;
    let create = |p: &PathBuf| {
        File::create(p)
            .map(|f| BufWriter::with_capacity(1 << 20, f))
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    let mut out = create(&args.out)?;
    let mut history = args.history_out.as_ref().map(create).transpose()?;
    let summary = generate(
        &tables,
        &args.cfg,
        &mut out,
        history.as_mut().map(|h| h as &mut dyn Write),
    )
    .map_err(|e| format!("{}: {e}", args.out.display()))?;
    out.flush()
        .map_err(|e| format!("{}: {e}", args.out.display()))?;
    if let (Some(h), Some(p)) = (history.as_mut(), &args.history_out) {
        h.flush().map_err(|e| format!("{}: {e}", p.display()))?;
    }
    eprint!("{}", summary.report());
    Ok(())
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vigil-gen: {e}");
            ExitCode::from(2)
        }
    }
}

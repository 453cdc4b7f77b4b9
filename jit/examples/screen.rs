//! Measures native screening against the interpreter on one claims file, for the rules the
//! backend compiles: `cargo run --release -p vigil-jit --example screen -- CLAIMS.jsonl`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use vigil_compiler::interp::{ClaimEval, Data};
use vigil_compiler::value::{Record, Value};
use vigil_jit::{Kernel, Verdict};
use vigil_runtime::batch::Batch;
use vigil_runtime::claims::ClaimLayout;
use vigil_runtime::engine::read_claims;
use vigil_runtime::tables::{LoadedTable, Tables};

struct TablesOnly<'t>(&'t [LoadedTable]);

impl Data for TablesOnly<'_> {
    fn lookup(&self, table: u32, key: &[Value], at: Option<NaiveDate>) -> Option<Arc<Record>> {
        self.0.get(table as usize)?.lookup(key, at).cloned()
    }
    fn rows(&self, table: u32) -> Vec<Arc<Record>> {
        self.0
            .get(table as usize)
            .map(|t| t.rows().to_vec())
            .unwrap_or_default()
    }
    fn history(&self, _: &str, _: &Record) -> Vec<Arc<Record>> {
        vec![]
    }
}

fn main() {
    let file = std::env::args().nth(1).expect("usage: screen CLAIMS.jsonl");
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national");
    let loaded = vigil_compiler::load_rulebook(&book).expect("rulebook");
    let program = vigil_compiler::lower::lower(&loaded);
    let layout = ClaimLayout::new(&loaded.rulebook).expect("layout");
    let all = Tables::load(&loaded.rulebook, &book, &[]).expect("tables");
    let tables: Vec<LoadedTable> = program
        .tables
        .iter()
        .map(|n| all.get(n).expect("table").clone())
        .collect();
    let kernel = Kernel::compile(&program, &loaded.rulebook, &layout, &tables).expect("compile");
    println!(
        "compile: {:?}, {} rules native",
        kernel.compile_time,
        kernel.compiled()
    );
    let (claims, _, _) = read_claims(&layout, Path::new(&file)).expect("claims");
    let claims: Vec<Arc<Record>> = claims.into_iter().map(Arc::new).collect();
    let t = Instant::now();
    let batch = Batch::new(&layout, &claims, kernel.strings());
    println!("batch: {:?} for {} claims", t.elapsed(), claims.len());
    let t = Instant::now();
    let again = Batch::new(&layout, &claims, kernel.strings());
    println!(
        "batch again: {:?} ({} strings)",
        t.elapsed(),
        again.strings.len()
    );
    drop(again);
    let native: Vec<usize> = (0..program.rules.len())
        .filter(|&i| kernel.coverage[i].is_none())
        .collect();
    let data = TablesOnly(&tables);

    let t = Instant::now();
    let mut interp_hits = 0usize;
    for c in &claims {
        let mut eval = ClaimEval::new(&program, &data, c.clone());
        for &i in &native {
            interp_hits += eval.rule(i).map(|h| h.len()).unwrap_or(0);
        }
    }
    let interp = t.elapsed();

    let t = Instant::now();
    let mut jit_hits = 0usize;
    kernel.each_claim(&batch, |_, v| {
        for &i in &native {
            if let Verdict::Decided(lines) = &v[i] {
                jit_hits += lines.len();
            }
        }
    });
    let jit = t.elapsed();
    println!("interpreter: {interp:?} ({interp_hits} hits); native: {jit:?} ({jit_hits} hits); ratio {:.1}x",
        interp.as_secs_f64() / jit.as_secs_f64());
}

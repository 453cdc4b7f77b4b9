//! The front end on the national rulebook: read, parse, check, format.
//!
//! The language server re-checks the whole rulebook on every edit, so `check` here is the
//! latency an officer feels while typing. `read` (loading the files from disk) is the baseline
//! the others are compared with.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use vigil_bench::{national_root, national_texts};

fn frontend(c: &mut Criterion) {
    let texts = national_texts();
    assert!(
        !texts.is_empty(),
        "the national rulebook is in the repository"
    );
    let mut g = c.benchmark_group("national");
    g.bench_function("read", |b| {
        b.iter(|| {
            let files = vigil_compiler::load::vigil_files(&national_root()).unwrap_or_default();
            black_box(
                files
                    .iter()
                    .filter_map(|p| std::fs::read_to_string(p).ok())
                    .count(),
            )
        })
    });
    g.bench_function("parse", |b| {
        b.iter(|| {
            for (i, (_, t)) in texts.iter().enumerate() {
                let _ = black_box(vigil_dsl::parse(vigil_dsl::SourceId(i as u32), t));
            }
        })
    });
    g.bench_function("check", |b| {
        b.iter(|| {
            black_box(vigil_compiler::check_sources(
                Some(national_root()),
                texts.clone(),
            ))
        })
    });
    g.bench_function("load_and_check", |b| {
        b.iter(|| black_box(vigil_compiler::load_rulebook(&national_root())))
    });
    g.bench_function("format", |b| {
        b.iter(|| {
            for (_, t) in &texts {
                let _ = black_box(vigil_dsl::fmt::format_source(t));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, frontend);
criterion_main!(benches);

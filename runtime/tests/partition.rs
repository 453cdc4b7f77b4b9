//! Runs partitioned by patient give the bytes of runs in memory, at any bucket and thread
//! count, and report rejected records exactly as runs in memory do.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use vigil_runtime::claims::Rejected;
use vigil_runtime::engine::Engine;
use vigil_runtime::findings::write_jsonl;
use vigil_runtime::partition::{partition_safe, run_files, FileRun, RunOptions};

fn national() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national")
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::load(&national(), &[]).expect("the national rulebook loads"))
}

/// A run and what it wrote: findings as JSON Lines, evaluation errors, rejected records.
struct Written {
    run: FileRun,
    findings: String,
    errors: Vec<String>,
    rejected: Vec<Rejected>,
}

fn run(claims: &Path, history: Option<&Path>, threads: usize, budget: u64) -> Written {
    let engine = engine();
    let mut rejected = Vec::new();
    let options = RunOptions {
        threads,
        memory_budget: budget,
    };
    let run = run_files(
        engine,
        claims,
        history,
        &options,
        &mut |r: &Rejected| {
            rejected.push(r.clone());
            Ok(())
        },
        None,
    )
    .expect("the run reads its files");
    let mut out = Vec::new();
    write_jsonl(&mut out, &run.output.findings).expect("writing to memory");
    let errors = run
        .output
        .errors
        .iter()
        .map(|e| engine.describe(e))
        .collect();
    Written {
        findings: String::from_utf8(out).expect("findings are UTF-8"),
        errors,
        rejected,
        run,
    }
}

/// Each run of `runs` (threads, budget in bytes, at least that many partitions) gives the in-memory run's bytes; returns
/// the in-memory run's findings.
fn assert_same_as_in_memory(
    claims: &Path,
    history: Option<&Path>,
    runs: &[(usize, u64, usize)],
) -> String {
    let reference = run(claims, history, 1, u64::MAX);
    assert_eq!(reference.run.partitions, 1);
    assert!(!reference.findings.is_empty(), "the input has findings");
    for &(threads, budget, partitions) in runs {
        let other = run(claims, history, threads, budget);
        let how = format!("{threads} threads, {} partitions", other.run.partitions);
        assert!(other.run.partitions >= partitions, "{how}");
        assert!(
            other.findings == reference.findings,
            "findings differ at {how}"
        );
        assert_eq!(other.errors, reference.errors, "{how}");
        assert_eq!(other.rejected, reference.rejected, "{how}");
        assert_eq!(other.run.counts, reference.run.counts, "{how}");
        assert_eq!(
            other.run.history_counts, reference.run.history_counts,
            "{how}"
        );
        assert_eq!(other.run.lines, reference.run.lines, "{how}");
    }
    reference.findings
}

#[test]
fn the_national_rulebook_can_be_partitioned_by_patient() {
    let engine = engine();
    assert!(partition_safe(&engine.program, engine.layout.psn_no()));
}

#[test]
fn samples_partitioned_give_the_in_memory_bytes_at_1_2_and_4_threads() {
    let samples = national().join("samples");
    let (claims, history) = (samples.join("claims.jsonl"), samples.join("history.jsonl"));
    // 10 MB of input: 256 KB forces 40 buckets, 2 MB six. One thread in memory is the
    // reference; 2 and 4 threads run partitioned.
    let in_memory = assert_same_as_in_memory(
        &claims,
        Some(&history),
        &[(2, 256 << 10, 40), (4, 2 << 20, 5)],
    );
    let golden = std::fs::read_to_string(samples.join("expected_findings.jsonl"))
        .expect("the golden findings are in the repository");
    assert!(in_memory == golden, "the golden findings");
}

#[test]
fn generated_claims_partitioned_give_the_in_memory_bytes() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (claims, history) = (
        dir.path().join("claims.jsonl"),
        dir.path().join("history.jsonl"),
    );
    let tables = vigil_bench::gen::Tables::load(&national()).expect("the national tables");
    let config = vigil_bench::gen::GenConfig {
        claims: 1500,
        seed: 7,
        rate: 0.05,
    };
    let mut out = std::fs::File::create(&claims).expect("create claims");
    let mut earlier = std::fs::File::create(&history).expect("create history");
    vigil_bench::gen::generate(&tables, &config, &mut out, Some(&mut earlier))
        .expect("generate claims");
    assert_same_as_in_memory(
        &claims,
        Some(&history),
        &[(4, 64 << 10, 20), (1, 1 << 20, 2)],
    );
}

/// Bad lines among good ones: the same rejected records, with the same line numbers, and
/// `read = evaluated + rejected`, whether the run is partitioned or not.
#[test]
fn rejected_records_keep_their_line_numbers_when_partitioned() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let samples =
        std::fs::read_to_string(national().join("samples/claims.jsonl")).expect("the samples");
    let mut lines: Vec<String> = samples.lines().take(120).map(String::from).collect();
    lines.insert(3, "not json".into());
    lines.insert(10, String::new());
    lines.insert(40, r#"{"setl_id":"NO-PSN","fixmedins_code":"H1"}"#.into());
    let duplicate = lines[60].clone();
    lines.insert(90, duplicate);
    let claims = dir.path().join("claims.jsonl");
    std::fs::write(&claims, lines.join("\n") + "\n").expect("write claims");

    let reference = run(&claims, None, 1, u64::MAX);
    let partitioned = run(&claims, None, 2, 16 << 10);
    assert!(
        partitioned.run.partitions > 10,
        "{}",
        partitioned.run.partitions
    );
    let numbers: Vec<u64> = partitioned.rejected.iter().map(|r| r.line).collect();
    assert_eq!(numbers, vec![4, 41, 91]);
    assert_eq!(partitioned.rejected, reference.rejected);
    let counts = partitioned.run.counts;
    assert_eq!(
        (counts.read, counts.accepted, counts.rejected),
        (123, 120, 3)
    );
    assert_eq!(counts, reference.run.counts);
    assert!(partitioned.findings == reference.findings);
}

#[test]
fn a_missing_file_is_an_error_value() {
    let missing = national().join("samples/no-such-file.jsonl");
    let result = run_files(
        engine(),
        &missing,
        None,
        &RunOptions::default(),
        &mut |_: &Rejected| Ok(()),
        None,
    );
    let message = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("no-such-file.jsonl"), "{message}");
}

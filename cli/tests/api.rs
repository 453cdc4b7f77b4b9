//! The Rust API for services against the command line: `Engine::check_claim` on each sample
//! claim, with its patient's other claims, gives exactly the findings `vigil run` reports for
//! that claim (provider findings aside: they need a month of claims). And a run partitioned by
//! a small memory budget writes the golden bytes and leaves no temporary files behind.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vigil_runtime::engine::Engine;
use vigil_runtime::findings::write_jsonl;
use vigil_runtime::value::Record;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn vigil(args: &[&str], tmp: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .current_dir(repo())
        .env("NO_COLOR", "1")
        .env("TMPDIR", tmp)
        .output()
        .expect("the vigil binary was built by cargo for this test")
}

const CLAIMS: &str = "rulebooks/cn-national/samples/claims.jsonl";
const HISTORY: &str = "rulebooks/cn-national/samples/history.jsonl";

#[test]
fn check_claim_gives_the_runs_findings_for_every_sample_claim() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let out = vigil(
        &[
            "run",
            "rulebooks/cn-national",
            "--claims",
            CLAIMS,
            "--history",
            HISTORY,
        ],
        tmp.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The run's claim and line findings, by claim, in the run's order.
    let mut expected: HashMap<String, String> = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a finding is JSON");
        if v["scope"] == "provider" {
            continue;
        }
        let setl_id = v["setl_id"]
            .as_str()
            .expect("a claim finding names its claim");
        let entry = expected.entry(setl_id.to_string()).or_default();
        entry.push_str(line);
        entry.push('\n');
    }

    let engine = Engine::load(&repo().join("rulebooks/cn-national"), &[])
        .expect("the national rulebook loads");
    let read = |file: &str| -> Vec<(String, Record)> {
        std::fs::read_to_string(repo().join(file))
            .expect("the samples are in the repository")
            .lines()
            .map(|l| {
                let psn_no = serde_json::from_str::<serde_json::Value>(l).expect("JSON")["psn_no"]
                    .as_str()
                    .expect("psn_no")
                    .to_string();
                (psn_no, engine.parse_claim(l).expect("a sample claim reads"))
            })
            .collect()
    };
    let (claims, history) = (read(CLAIMS), read(HISTORY));
    // Each patient's claims from both files, claims file first, as a run indexes them.
    let mut by_patient: BTreeMap<&str, Vec<&Record>> = BTreeMap::new();
    for (psn_no, record) in claims.iter().chain(&history) {
        by_patient.entry(psn_no).or_default().push(record);
    }
    let mut checked = 0;
    for (psn_no, claim) in &claims {
        let others: Vec<Record> = by_patient[psn_no.as_str()]
            .iter()
            .filter(|r| !std::ptr::eq(**r, claim))
            .map(|r| (*r).clone())
            .collect();
        let result = engine
            .check_claim(claim, &others)
            .expect("a claim read by the engine");
        assert!(result.errors.is_empty(), "{:?}", result.errors);
        let mut got = Vec::new();
        write_jsonl(&mut got, &result.findings).expect("writing to memory");
        let setl_id = claim.values[engine.layout.setl_id()].to_string();
        let want = expected.remove(&setl_id).unwrap_or_default();
        assert_eq!(String::from_utf8_lossy(&got), want, "claim {setl_id}");
        checked += 1;
    }
    assert_eq!(checked, 3000);
    assert!(
        expected.is_empty(),
        "findings of unknown claims: {expected:?}"
    );
}

#[test]
fn a_partitioned_run_writes_the_golden_findings_and_cleans_up() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let out = vigil(
        &[
            "run",
            "rulebooks/cn-national",
            "--claims",
            CLAIMS,
            "--history",
            HISTORY,
            "--memory-budget",
            "1",
            "--threads",
            "2",
        ],
        tmp.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("partitioned by patient into 10 buckets"),
        "{err}"
    );
    assert!(
        err.contains("claims read 3000 = evaluated 3000 + rejected 0"),
        "{err}"
    );
    let golden =
        std::fs::read(repo().join("rulebooks/cn-national/samples/expected_findings.jsonl"))
            .expect("the golden findings are in the repository");
    assert!(
        out.stdout == golden,
        "a partitioned run gives the golden bytes"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("the temporary folder")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_partitioned_run_that_fails_cleans_up_too() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    // A folder as the history file: the claims are spilled, then reading history fails.
    let out = vigil(
        &[
            "run",
            "rulebooks/cn-national",
            "--claims",
            CLAIMS,
            "--history",
            "rulebooks/cn-national/samples",
            "--memory-budget",
            "1",
        ],
        tmp.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("samples"), "{err}");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("the temporary folder")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

//! End-to-end: the `vigil` binary as an officer or a CI script runs it.

mod support;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{copy_dir, replace_in};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn vigil(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("the vigil binary was built by cargo for this test")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A copy of the national rulebook in a temporary folder, to break on purpose.
fn national_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder can be made");
    copy_dir(
        &repo().join("rulebooks/cn-national"),
        &dir.path().join("cn-national"),
    );
    dir
}

#[test]
fn national_rulebook_checks_clean() {
    let out = vigil(&["check", "rulebooks/cn-national"], &repo());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{err}");
    assert!(err.contains("checked cn-national:"), "{err}");
    assert!(err.contains(" 0 error(s)"), "{err}");
}

#[test]
fn misspelt_field_points_at_it_and_suggests_the_name() {
    let dir = national_copy();
    let file = dir.path().join("cn-national/limits.vigil");
    replace_in(&file, "line.pric is some(p)", "line.price is some(p)");
    let out = vigil(&["check", "cn-national"], dir.path());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{err}");
    let line = std::fs::read_to_string(&file)
        .expect("read")
        .lines()
        .position(|l| l.contains("line.price"))
        .map(|i| i + 1)
        .expect("the misspelling is in the file");
    let col = std::fs::read_to_string(&file)
        .expect("read")
        .lines()
        .nth(line - 1)
        .and_then(|l| l.find("price"))
        .map(|c| c + 1);
    let at = format!("cn-national/limits.vigil:{line}:{}", col.unwrap_or(0));
    assert!(err.contains(&at), "expected {at} in:\n{err}");
    assert!(err.contains("unknown field `price` on fee_line"), "{err}");
    assert!(err.contains("did you mean `pric`?"), "{err}");
}

#[test]
fn json_format_gives_one_object_per_diagnostic() {
    let dir = national_copy();
    replace_in(
        &dir.path().join("cn-national/stays.vigil"),
        "severity warn",
        "severity high",
    );
    let out = vigil(&["check", "cn-national", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let diags: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    let bad = diags
        .iter()
        .find(|d| d["code"] == "V0107")
        .expect("the unknown severity is reported");
    assert_eq!(bad["severity"], "error");
    assert_eq!(bad["file"], "cn-national/stays.vigil");
    for key in ["line", "column", "end_line", "end_column"] {
        assert!(bad[key].as_u64().is_some_and(|n| n > 0), "{key} in {bad}");
    }
    assert!(
        bad["help"].as_str().is_some_and(|h| h.contains("block")),
        "{bad}"
    );
}

#[test]
fn missing_path_is_a_usage_error() {
    let out = vigil(&["check", "no/such/book"], &repo());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no such file or folder"));
    let out = vigil(&["check"], &repo());
    assert_eq!(
        out.status.code(),
        Some(2),
        "a missing argument is a usage error"
    );
}

#[test]
fn help_shows_examples() {
    for cmd in ["check", "fmt", "explain"] {
        let out = vigil(&[cmd, "--help"], &repo());
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("Examples:"), "{cmd} --help");
    }
}

#[test]
fn fmt_check_then_fix() {
    let dir = national_copy();
    let out = vigil(&["fmt", "--check", "cn-national"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "the repository's rulebook is formatted: {}",
        text(&out.stdout)
    );

    let file = dir.path().join("cn-national/providers.vigil");
    replace_in(&file, "  severity warn\n", "      severity    warn\n");
    let out = vigil(&["fmt", "--check", "cn-national"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("providers.vigil"));

    let out = vigil(&["fmt", "cn-national"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let out = vigil(&["fmt", "--check", "cn-national"], dir.path());
    assert_eq!(out.status.code(), Some(0), "fmt fixed the file");
    assert!(std::fs::read_to_string(&file)
        .expect("read")
        .contains("\n  severity warn\n"));
}

#[test]
fn fmt_refuses_a_file_that_does_not_parse() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("broken.vigil");
    std::fs::write(&file, "rule X-1 \"x\" {\n  when a = b\n}\n").expect("write");
    let out = vigil(&["fmt", "broken.vigil"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("broken.vigil:2:"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        "rule X-1 \"x\" {\n  when a = b\n}\n",
        "left untouched"
    );
}

fn run_national(extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "rulebooks/cn-national",
        "--claims",
        "tests/run/formats_example.jsonl",
    ];
    args.extend_from_slice(extra);
    vigil(&args, &repo())
}

#[test]
fn run_writes_findings_and_rejects_bad_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rejected = dir.path().join("rejected.jsonl");
    let out = run_national(&["--rejected", rejected.to_str().expect("utf-8 temp path")]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("claims read 3 = evaluated 1 + rejected 2"),
        "{err}"
    );
    let findings = text(&out.stdout);
    let hash_free: String = findings
        .lines()
        .map(|l| match l.find("\"rulebook\":\"cn-national@sha256:") {
            Some(i) => format!("{}\"rulebook\":\"cn-national@sha256:HASH\"}}", &l[..i]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(hash_free);
    let rejected: Vec<serde_json::Value> = std::fs::read_to_string(&rejected)
        .expect("rejected file written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0]["line"], 2);
    assert_eq!(rejected[0]["setl_id"], "S0002");
    assert_eq!(rejected[1]["line"], 3);
}

#[test]
fn run_output_is_the_same_at_any_thread_count() {
    let one = run_national(&["--threads", "1"]);
    let three = run_national(&["--threads", "3"]);
    assert_eq!(one.status.code(), Some(0));
    assert!(!one.stdout.is_empty());
    assert_eq!(one.stdout, three.stdout);
    let csv = run_national(&["--format", "csv"]);
    assert!(text(&csv.stdout).starts_with(
        "rule_id,rule_name,scope,setl_id,psn_no,fixmedins_code,feedetl_sn,period,vola_amt"
    ));
}

#[test]
fn run_refuses_a_rulebook_with_errors() {
    let dir = national_copy();
    replace_in(
        &dir.path().join("cn-national/limits.vigil"),
        "line.pric is some(p)",
        "line.price is some(p)",
    );
    let out = vigil(&["run", "cn-national", "--claims", "x.jsonl"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("nothing was run"));
}

#[test]
fn vigil_test_runs_the_rulebooks_tests() {
    let out = vigil(&["test", "rulebooks/cn-national"], &repo());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("ok"), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");

    let dir = national_copy();
    replace_in(
        &dir.path().join("cn-national/stays.vigil"),
        "amount \"6100.00\"",
        "amount \"6100.01\"",
    );
    let out = vigil(&["test", "cn-national"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("expected CN-READMIT-001 at claim \"S2\" amount 6100.01"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn an_overflow_is_an_error_for_that_claim_and_other_rules_still_run() {
    let out = vigil(
        &[
            "run",
            "rulebooks/cn-national",
            "--claims",
            "tests/run/overflow.jsonl",
        ],
        &repo(),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("evaluation error in claim OVF1: CN-PRICE-001: arithmetic overflow"),
        "{err}"
    );
    // It says where in the rule text: the `amount` expression of CN-PRICE-001.
    let limits =
        std::fs::read_to_string(repo().join("rulebooks/cn-national/limits.vigil")).expect("read");
    let line = limits
        .lines()
        .position(|l| l.trim_start().starts_with("amount (p - c) * n"))
        .map(|i| i + 1)
        .expect("CN-PRICE-001's amount");
    assert!(err.contains(&format!("limits.vigil:{line}:")), "{err}");
    let findings = text(&out.stdout);
    assert!(
        findings.contains("\"rule_id\":\"CN-QTY-001\""),
        "QTY still ran: {findings}"
    );
    assert!(!findings.contains("CN-PRICE-001"), "{findings}");
}

#[test]
fn a_bad_table_stops_the_run_with_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("hilist.csv");
    let good = std::fs::read_to_string(repo().join("rulebooks/cn-national/tables/hilist.csv"))
        .expect("read");
    std::fs::write(
        &bad,
        good.replacen("0.60", "0,6O", 1)
            .replacen(",0,6O", ",\"0,6O\"", 1),
    )
    .expect("write");
    let table = format!("hilist={}", bad.display());
    let out = run_national(&["--table", &table]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("hilist.csv:2:"), "{err}");
    assert!(out.stdout.is_empty(), "nothing runs on a bad table");
}

#[test]
fn docs_rules_md_is_generated_from_the_rulebook() {
    let out = vigil(&["doc", "rulebooks/cn-national"], &repo());
    assert_eq!(out.status.code(), Some(0));
    let committed = std::fs::read_to_string(repo().join("docs/rules.md"))
        .expect("docs/rules.md is in the repository");
    assert_eq!(
        text(&out.stdout),
        committed,
        "docs/rules.md is out of date: run `vigil doc rulebooks/cn-national --out docs/rules.md`"
    );
    assert_eq!(
        committed.lines().filter(|l| l.starts_with("| CN-")).count(),
        23
    );
}

/// The national rulebook over its sample claims (every rule planted by `vigil-gen --seed 1`)
/// gives exactly the findings checked in, byte for byte.
#[test]
fn the_samples_give_the_golden_findings() {
    let out = vigil(
        &[
            "run",
            "rulebooks/cn-national",
            "--claims",
            "rulebooks/cn-national/samples/claims.jsonl",
            "--history",
            "rulebooks/cn-national/samples/history.jsonl",
            "--threads",
            "2",
        ],
        &repo(),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("claims read 3000 = evaluated 3000 + rejected 0"),
        "{err}"
    );
    let expected = std::fs::read_to_string(
        repo().join("rulebooks/cn-national/samples/expected_findings.jsonl"),
    )
    .expect("the golden findings are in the repository");
    let got = text(&out.stdout);
    if got != expected {
        let first = got.lines().zip(expected.lines()).position(|(a, b)| a != b);
        panic!(
            "findings differ from samples/expected_findings.jsonl (first differing line: {first:?}; {} vs {} lines).\n\
             If a rule changed on purpose, review the difference and regenerate:\n  \
             cargo run -p vigil -- run rulebooks/cn-national --claims rulebooks/cn-national/samples/claims.jsonl \
             --history rulebooks/cn-national/samples/history.jsonl --out rulebooks/cn-national/samples/expected_findings.jsonl",
            got.lines().count(),
            expected.lines().count()
        );
    }
    let rules: std::collections::BTreeSet<&str> = got
        .lines()
        .filter_map(|l| l.split("\"rule_id\":\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(
        rules.len(),
        23,
        "every rule fires on the samples: {rules:?}"
    );
}

fn explain_sample(extra: &[&str]) -> Output {
    let mut args = vec![
        "explain",
        "rulebooks/cn-national",
        "--claims",
        "rulebooks/cn-national/samples/claims.jsonl",
        "--history",
        "rulebooks/cn-national/samples/history.jsonl",
    ];
    args.extend_from_slice(extra);
    vigil(&args, &repo())
}

#[test]
fn explain_shows_one_rule_of_a_sample_claim_in_text_and_json() {
    let out = explain_sample(&["--setl-id", "S0000000861", "--rule", "CN-LVL-001"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("CN-LVL-001 超医院等级使用 [line]: FIRED 39.15"),
        "{shown}"
    );
    assert!(shown.contains("hilist row [XL01EAY001A001010102425] valid 2026-01-01..open"));
    let out = explain_sample(&[
        "--setl-id",
        "S0000000861",
        "--rule",
        "CN-LVL-001",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("explain --format json prints JSON");
    assert_eq!(json["rules"][0]["verdict"], "fired");
    assert_eq!(json["rules"][0]["findings"][0]["vola_amt"], "39.15");
}

#[test]
fn explain_an_unknown_claim_or_rule_is_a_usage_error_with_a_suggestion() {
    let out = explain_sample(&["--setl-id", "S000000861"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean `S0000000861`?"),
        "{}",
        text(&out.stderr)
    );
    let out = explain_sample(&["--setl-id", "S0000000861", "--rule", "CN-LVL-01"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("did you mean `CN-LVL-001`?"));
}

/// A rule nested as deep as the checker allows, through a chain of defs each nested as deep
/// again (some 5,000 levels once the defs are expanded), runs on both engines with the same
/// findings: lowering, compiling and evaluating have the stack they need, and nothing
/// overflows it (it did, and aborted the process).
#[test]
fn a_deeply_nested_rulebook_runs_without_overflowing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let book = dir.path().join("deep");
    std::fs::create_dir(&book).expect("rulebook folder");
    let national = repo().join("rulebooks/cn-national");
    for f in [
        "rulebook.vigil",
        "schema.vigil",
        "tables.vigil",
        "common.vigil",
    ] {
        std::fs::copy(national.join(f), book.join(f)).expect("copy a rulebook file");
    }
    copy_dir(&national.join("tables"), &book.join("tables"));
    let mut src = String::new();
    for i in 0..55 {
        let inner = if i < 54 {
            format!("d{}(c)", i + 1)
        } else {
            "c.gend == male".to_string()
        };
        src.push_str(&format!(
            "def d{i}(c: claim) -> bool = {}{inner}{}\n",
            "not (".repeat(90),
            ")".repeat(90)
        ));
    }
    src.push_str(&format!(
        "rule DEEP-1 \"deep\" {{\n  severity info\n  basis \"b\"\n  when {}d0(claim){}\n  message \"x\"\n}}\n",
        "not (".repeat(180),
        ")".repeat(180)
    ));
    std::fs::write(book.join("deep.vigil"), src).expect("write the rule");
    let claims = dir.path().join("claims.jsonl");
    let sample = std::fs::read_to_string(national.join("samples/claims.jsonl")).expect("samples");
    let first: Vec<&str> = sample.lines().take(40).collect();
    std::fs::write(&claims, first.join("\n") + "\n").expect("write claims");
    let run = |engine: &str| {
        let out = vigil(
            &[
                "run",
                book.to_str().expect("utf-8 temp path"),
                "--claims",
                claims.to_str().expect("utf-8 temp path"),
                "--engine",
                engine,
            ],
            &repo(),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        out.stdout
    };
    let native = run("jit");
    assert_eq!(native, run("interp"));
    // Men's claims fire: an even number of `not`s (180 + 55 × 90) keeps the comparison.
    assert!(text(&native).lines().count() > 5, "{}", text(&native));
}

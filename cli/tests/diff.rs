//! `vigil diff` end to end: copies of the national rulebook changed on purpose, and each
//! diff checked against what two plain `vigil run`s of the same rulebooks give.

use std::collections::BTreeMap;
mod support;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{copy_dir, replace_in};

use serde_json::Value;

/// Sample claims the tests run on: enough for every changed rule below to fire, few enough
/// that a debug build runs two rulebooks over them in a second or two.
const CLAIMS: usize = 300;

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

/// A temporary folder with `old/` and `new/`, two copies of the national rulebook, and the
/// first [`CLAIMS`] sample claims with the sample history.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder can be made");
    let book = repo().join("rulebooks/cn-national");
    copy_dir(&book, &dir.path().join("old"));
    copy_dir(&book, &dir.path().join("new"));
    let claims = std::fs::read_to_string(book.join("samples/claims.jsonl")).expect("samples");
    let some: String = claims
        .lines()
        .take(CLAIMS)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.path().join("claims.jsonl"), some).expect("write claims");
    std::fs::copy(
        book.join("samples/history.jsonl"),
        dir.path().join("history.jsonl"),
    )
    .expect("copy history");
    dir
}

/// Removes the rule `id` from `file`, with every test block that names it (a top-level block
/// runs from its `rule `/`test ` line to the next `}` at the start of a line).
fn remove_rule(file: &Path, id: &str) {
    let t = std::fs::read_to_string(file).expect("read");
    let mut out = String::new();
    let mut block: Option<String> = None;
    for line in t.split_inclusive('\n') {
        if let Some(b) = &mut block {
            b.push_str(line);
            if line.starts_with('}') {
                let b = block.take().expect("inside a block");
                if !b.contains(id) {
                    out.push_str(&b);
                }
            }
        } else if line.starts_with("rule ") || line.starts_with("test ") {
            block = Some(line.to_string());
        } else {
            out.push_str(line);
        }
    }
    assert!(out.len() < t.len(), "{} has no rule {id}", file.display());
    std::fs::write(file, out).expect("write");
}

const ADDED_RULE: &str = r#"
// A claim whose total is over 1,000 yuan, for review.
rule CN-TEST-BIG "大额结算" {
  severity info
  basis "测试规则"
  when claim.medfee_sumamt is some(total) and total > 1000
  amount total - 1000
  message "医疗费总额 {total} 超过 1000"
}
"#;

fn diff_json(dir: &Path, old: &str, new: &str, extra: &[&str]) -> (Value, Output) {
    let mut args = vec![
        "diff",
        old,
        new,
        "--claims",
        "claims.jsonl",
        "--history",
        "history.jsonl",
        "--format",
        "json",
    ];
    args.extend(extra);
    let out = vigil(&args, dir);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "diff prints JSON ({e}); stdout:\n{}\nstderr:\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    });
    (v, out)
}

/// The findings of a plain `vigil run` of `book` on the workspace's claims.
fn run_findings(dir: &Path, book: &str) -> Vec<Value> {
    let out = vigil(
        &[
            "run",
            book,
            "--claims",
            "claims.jsonl",
            "--history",
            "history.jsonl",
        ],
        dir,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a finding is JSON"))
        .collect()
}

/// Hundredths from a `vola_amt` string (`"12.30"`, `"-0.05"`).
fn cents(s: &str) -> i128 {
    let negative = s.starts_with('-');
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let c: i128 = digits.parse().expect("an amount");
    if negative {
        -c
    } else {
        c
    }
}

fn money(c: i128) -> String {
    format!(
        "{}{}.{:02}",
        if c < 0 { "-" } else { "" },
        c.abs() / 100,
        c.abs() % 100
    )
}

/// Per rule, what comparing two findings files by place gives: (added, removed, amount
/// changed, message changed, old total, new total), for the rules where anything moved.
type Moves = BTreeMap<String, (u64, u64, u64, u64, String, String)>;

fn expected_moves(old: &[Value], new: &[Value]) -> Moves {
    let key = |f: &Value| {
        [
            "rule_id",
            "scope",
            "setl_id",
            "feedetl_sn",
            "fixmedins_code",
            "period",
        ]
        .map(|k| f[k].as_str().unwrap_or("").to_string())
    };
    let index = |fs: &[Value]| -> BTreeMap<[String; 6], Value> {
        let mut m = BTreeMap::new();
        for f in fs {
            assert!(
                m.insert(key(f), f.clone()).is_none(),
                "one finding per place"
            );
        }
        m
    };
    let (o, n) = (index(old), index(new));
    let mut totals: BTreeMap<String, (u64, u64, u64, u64, i128, i128)> = BTreeMap::new();
    for (k, f) in &o {
        let t = totals.entry(k[0].clone()).or_default();
        t.4 += cents(f["vola_amt"].as_str().expect("amount"));
        match n.get(k) {
            None => t.1 += 1,
            Some(g) if g["vola_amt"] != f["vola_amt"] => t.2 += 1,
            Some(g) if g["vola_cont"] != f["vola_cont"] => t.3 += 1,
            Some(_) => {}
        }
    }
    for (k, f) in &n {
        let t = totals.entry(k[0].clone()).or_default();
        t.5 += cents(f["vola_amt"].as_str().expect("amount"));
        if !o.contains_key(k) {
            t.0 += 1;
        }
    }
    totals
        .into_iter()
        .filter(|(_, t)| t.0 + t.1 + t.2 + t.3 > 0)
        .map(|(id, t)| (id, (t.0, t.1, t.2, t.3, money(t.4), money(t.5))))
        .collect()
}

/// The same figures, as the diff reports them.
fn reported_moves(diff: &Value) -> Moves {
    diff["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| {
            ["added", "removed", "amount_changed", "message_changed"]
                .iter()
                .any(|k| r[k] != 0)
        })
        .map(|r| {
            let n = |k: &str| r[k].as_u64().expect("a count");
            let s = |k: &str| r[k].as_str().expect("an amount").to_string();
            (
                s("rule_id"),
                (
                    n("added"),
                    n("removed"),
                    n("amount_changed"),
                    n("message_changed"),
                    s("old_vola_amt"),
                    s("new_vola_amt"),
                ),
            )
        })
        .collect()
}

fn statuses(diff: &Value) -> Vec<(String, String)> {
    diff["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| r["status"] != "unchanged")
        .map(|r| {
            (
                r["rule_id"].as_str().expect("id").to_string(),
                r["status"].as_str().expect("status").to_string(),
            )
        })
        .collect()
}

/// The diff's figures agree with two plain runs, per rule and in total.
fn assert_matches_two_runs(dir: &Path, diff: &Value) -> Moves {
    let old = run_findings(dir, "old");
    let new = run_findings(dir, "new");
    let expected = expected_moves(&old, &new);
    assert_eq!(reported_moves(diff), expected);
    let total = |fs: &[Value]| -> i128 {
        fs.iter()
            .map(|f| cents(f["vola_amt"].as_str().expect("amount")))
            .sum()
    };
    assert_eq!(
        diff["totals"]["money_moved"],
        money(total(&new) - total(&old)).as_str()
    );
    assert_eq!(diff["totals"]["old_vola_amt"], money(total(&old)).as_str());
    assert_eq!(diff["totals"]["new_vola_amt"], money(total(&new)).as_str());
    let changes = diff["findings"].as_array().expect("findings").len() as u64;
    let counted: u64 = expected
        .values()
        .map(|(a, r, c, m, _, _)| a + r + c + m)
        .sum();
    assert_eq!(changes, counted, "one entry per changed finding");
    expected
}

#[test]
fn identical_rulebooks_give_an_empty_diff() {
    let dir = workspace();
    let (diff, out) = diff_json(dir.path(), "old", "new", &["--fail-on", "any"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(diff["changed"], false);
    assert_eq!(diff["rules"], serde_json::json!([]));
    assert_eq!(diff["findings"], serde_json::json!([]));
    assert_eq!(diff["providers"], serde_json::json!([]));
    assert_eq!(diff["rules_unchanged"], 23);
    assert_eq!(diff["totals"]["money_moved"], "0.00");
    assert_eq!(diff["claims"]["shared_reading"], true);
    assert_eq!(diff["claims"]["evaluated"], CLAIMS as u64);

    let out = vigil(
        &["diff", "old", "new", "--claims", "claims.jsonl"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).contains("No change"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_changed_threshold_moves_what_two_runs_move() {
    let dir = workspace();
    replace_in(
        &dir.path().join("new/prescriptions.vigil"),
        "const OUTPATIENT_RX_DAYS = 7",
        "const OUTPATIENT_RX_DAYS = 10",
    );
    let (diff, out) = diff_json(dir.path(), "old", "new", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        statuses(&diff),
        vec![("CN-QTY-001".to_string(), "changed".to_string())],
        "only the rule that reads the constant changed"
    );
    let moves = assert_matches_two_runs(dir.path(), &diff);
    let qty = &moves["CN-QTY-001"];
    assert!(
        qty.1 > 0 && qty.2 > 0,
        "a longer limit removes findings and lowers others: {qty:?}"
    );
    assert_eq!(moves.len(), 1, "{moves:?}");
    // Fewer findings: the gate on removals fails (and the report is still written), the
    // gate on additions passes.
    let out = vigil(
        &[
            "diff",
            "old",
            "new",
            "--claims",
            "claims.jsonl",
            "--history",
            "history.jsonl",
            "--format",
            "md",
            "--top",
            "5",
            "--out",
            "diff.md",
            "--fail-on",
            "removed",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("findings removed"));
    let md = std::fs::read_to_string(dir.path().join("diff.md")).expect("the report");
    // The rulebooks' content ids change with any edit of the national rulebook; the figures
    // are what this snapshot is about.
    let md: String = md
        .lines()
        .map(|l| match l.find("@sha256:") {
            Some(i) => format!("{}@sha256:…`", &l[..i]),
            None => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect();
    insta::assert_snapshot!("markdown_report_of_a_changed_threshold", md);
    // One worker thread gives the same report as one per core.
    let (one_thread, out) = diff_json(
        dir.path(),
        "old",
        "new",
        &["--fail-on", "added", "--threads", "1"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(one_thread, diff);
}

#[test]
fn a_removed_rule_removes_its_findings() {
    let dir = workspace();
    remove_rule(&dir.path().join("new/stays.vigil"), "CN-NIGHT-001");
    let (diff, out) = diff_json(dir.path(), "old", "new", &["--fail-on", "any"]);
    assert_eq!(out.status.code(), Some(1), "the gate fails on any change");
    assert_eq!(
        statuses(&diff),
        vec![("CN-NIGHT-001".to_string(), "removed".to_string())]
    );
    let moves = assert_matches_two_runs(dir.path(), &diff);
    let night = &moves["CN-NIGHT-001"];
    assert!(
        night.1 > 0 && night.0 == 0 && night.5 == "0.00",
        "{night:?}"
    );
    assert_eq!(moves.len(), 1, "{moves:?}");
    assert_eq!(diff["rules_removed"], 1);
}

#[test]
fn an_added_rule_adds_its_findings() {
    let dir = workspace();
    let file = dir.path().join("new/charges.vigil");
    let mut t = std::fs::read_to_string(&file).expect("read");
    t.push_str(ADDED_RULE);
    std::fs::write(&file, t).expect("write");
    let (diff, out) = diff_json(dir.path(), "old", "new", &["--fail-on", "added"]);
    assert_eq!(out.status.code(), Some(1), "the gate fails on additions");
    assert_eq!(
        statuses(&diff),
        vec![("CN-TEST-BIG".to_string(), "added".to_string())]
    );
    let moves = assert_matches_two_runs(dir.path(), &diff);
    assert!(moves["CN-TEST-BIG"].0 > 0, "{moves:?}");
    assert_eq!(moves.len(), 1, "{moves:?}");
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

#[test]
fn old_book_at_a_git_revision() {
    let dir = workspace();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    git(repo, &["add", "old"]);
    git(repo, &["commit", "-q", "-m", "the rulebook"]);
    replace_in(
        &repo.join("old/prescriptions.vigil"),
        "const OUTPATIENT_RX_DAYS = 7",
        "const OUTPATIENT_RX_DAYS = 10",
    );
    git(repo, &["commit", "-q", "-am", "a longer limit"]);
    replace_in(
        &repo.join("new/prescriptions.vigil"),
        "const OUTPATIENT_RX_DAYS = 7",
        "const OUTPATIENT_RX_DAYS = 10",
    );
    // HEAD~1:old is the unchanged rulebook, `new` a folder with the change.
    let (from_git, out) = diff_json(repo, "HEAD~1:old", "new", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::remove_dir_all(repo.join("old")).expect("remove");
    git(repo, &["checkout", "-q", "HEAD~1", "--", "old"]);
    let (from_folders, _) = diff_json(repo, "old", "new", &[]);
    for key in ["rules", "totals", "findings", "providers", "overlaps"] {
        assert_eq!(from_git[key], from_folders[key], "{key}");
    }
    assert_eq!(from_git["old"]["rulebook"], from_folders["old"]["rulebook"]);
    assert_ne!(from_git["rules"], serde_json::json!([]));

    // Both sides from git: HEAD~1 against HEAD.
    let (both, out) = diff_json(repo, "HEAD~1:old", "HEAD:old", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(both["totals"], from_folders["totals"]);

    for (book, says) in [
        ("NOREV:old", "no revision `NOREV`"),
        ("HEAD~1:nothing", "has no folder `nothing`"),
        ("missing-folder", "no such folder"),
    ] {
        let out = vigil(&["diff", book, "new", "--claims", "claims.jsonl"], repo);
        assert_eq!(out.status.code(), Some(2), "{book}");
        assert!(
            text(&out.stderr).contains(says),
            "{book}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_revision_outside_a_repository_is_a_usage_error() {
    let dir = workspace();
    let out = vigil(
        &["diff", "HEAD:old", "new", "--claims", "claims.jsonl"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not inside a git repository"),
        "{}",
        text(&out.stderr)
    );
}

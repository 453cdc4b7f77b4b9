//! `vigil report`: the HTML page of a small findings file (cli/tests/report/), its totals,
//! escaping, the two input layouts, and a malformed line. The page in a real browser is
//! tests/report/run.sh.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vigil_runtime::findings::{write_csv, Summary};
use vigil_runtime::findings_file::read_findings;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/report")
        .join(name)
}

fn vigil(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .arg("report")
        .args(args)
        .output()
        .expect("the vigil binary was built by cargo for this test")
}

/// Runs `vigil report FINDINGS [--claims CLAIMS]` into a temporary file; the page.
fn report(findings: &Path, claims: Option<&Path>) -> String {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join("report.html");
    let mut args: Vec<&Path> = vec![findings];
    if let Some(c) = claims {
        args.extend([Path::new("--claims"), c]);
    }
    args.extend([Path::new("--out"), &out]);
    let run = vigil(&args);
    assert_eq!(
        run.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read_to_string(&out).expect("the page was written")
}

/// The `data-value` of the element with `data-total="key"`.
fn total(page: &str, key: &str) -> String {
    let marker = format!("data-total=\"{key}\" data-value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no total {key}"))
        + marker.len();
    let len = page[start..].find('"').expect("a closing quote");
    page[start..start + len].to_string()
}

/// The page from `start` up to and including the first `end` after it.
fn between<'p>(page: &'p str, start: &str, end: &str) -> &'p str {
    let from = page.find(start).expect("the start marker");
    let to = from + page[from..].find(end).expect("the end marker") + end.len();
    &page[from..to]
}

#[test]
fn totals_are_the_files_totals() {
    let page = report(&data("findings.jsonl"), Some(&data("claims.jsonl")));
    let expected = [
        ("claims", "3"),
        ("lines", "4"),
        ("rejected", "1"),
        ("medfee", "950.50"),
        ("findings", "6"),
        ("amount", "20.75"),
        ("flagged-claims", "4"),
        ("flagged-lines", "2"),
        ("providers", "3"),
        ("double-counted", "3.00"),
        ("amount-net", "17.75"),
    ];
    for (key, value) in expected {
        assert_eq!(total(&page, key), value, "{key}");
    }
    // S1's line and provider H1's period are October; S2 (enddate) is November; S9 is not a
    // claim of the file, so its month is unknown.
    assert!(page.contains(
        "<tr data-month=\"2026-10\"><td>2026-10</td><td class=\"num\">1</td><td class=\"num\" data-findings=\"3\">"
    ));
    assert!(page.contains("<tr data-month=\"unknown\"><td>unknown</td>"));
    assert!(page.contains("1 findings name a claim that is not in the claims file."));
    assert!(page.contains(
        "<td class=\"num\">4</td><td>not valid JSON: expected ident at line 1 column 2</td>"
    ));
    insta::assert_snapshot!(
        "totals_with_claims",
        between(&page, "<section id=\"totals\">", "</section>")
    );
}

#[test]
fn without_claims_the_page_says_what_is_unknown() {
    let page = report(&data("findings.jsonl"), None);
    assert_eq!(total(&page, "claims"), "unknown");
    assert_eq!(total(&page, "lines"), "unknown");
    assert_eq!(total(&page, "amount"), "20.75");
    assert!(page
        .contains("not given: claim counts and the months of claim and line findings are unknown"));
    assert!(page.contains("pass --claims to place them"));
    insta::assert_snapshot!(
        "totals_without_claims",
        between(&page, "<section id=\"totals\">", "</section>")
    );
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let a = report(&data("findings.jsonl"), Some(&data("claims.jsonl")));
    let b = report(&data("findings.jsonl"), Some(&data("claims.jsonl")));
    assert!(a == b, "two reports of the same files differ");
}

#[test]
fn csv_and_jsonl_give_the_same_page() {
    let (_, findings) = read_findings(&data("findings.jsonl")).expect("the test findings read");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let csv = dir.path().join("findings.csv");
    let mut bytes = Vec::new();
    write_csv(&mut bytes, &findings).expect("CSV to memory");
    std::fs::write(&csv, bytes).expect("write CSV");
    let from_jsonl = report(&data("findings.jsonl"), Some(&data("claims.jsonl")));
    let from_csv = report(&csv, Some(&data("claims.jsonl")));
    // Only the header names the file and its layout.
    let body = |p: &str| p[p.find("</header>").expect("a header")..].to_string();
    assert!(from_csv.contains("(CSV)"));
    assert!(
        body(&from_jsonl) == body(&from_csv),
        "the CSV page differs from the JSONL page"
    );
}

#[test]
fn data_is_escaped_never_markup() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("hostile.jsonl");
    std::fs::write(
        &file,
        r#"{"rule_id":"R-<b>1</b>","rule_name":"<img src=x onerror=alert(1)>","scope":"claim","setl_id":"S\"><script>alert(2)</script>","psn_no":"P'1","fixmedins_code":"H&1","vola_amt":"1.00","sev_deg":"warn","vola_cont":"<script>alert(3)</script>","vola_evid":"</td></table><iframe src=https://example.com>","rulebook":"b@<x>"}
"#,
    )
    .expect("write findings");
    let page = report(&file, None);
    assert_eq!(
        page.matches("<script").count(),
        1,
        "only the page's own script"
    );
    for markup in ["<b>", "<img", "<iframe", "alert(2)</script>"] {
        assert!(!page.contains(markup), "{markup} is in the page unescaped");
    }
    for text in [
        "&lt;script&gt;alert(3)&lt;/script&gt;",
        "S&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;",
        "R-&lt;b&gt;1&lt;/b&gt;",
        "P&#39;1",
        "H&amp;1",
        "&lt;/td&gt;&lt;/table&gt;&lt;iframe src=https://example.com&gt;",
        "b@&lt;x&gt;",
    ] {
        assert!(page.contains(text), "{text} is not in the page");
    }
}

#[test]
fn a_bad_findings_line_fails_with_its_line_number() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let text = std::fs::read_to_string(data("findings.jsonl")).expect("read findings");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[2] = lines[2].replace(r#""rule_name":"超标准收费","#, "");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, lines.join("\n")).expect("write findings");
    let out = dir.path().join("report.html");
    let run = vigil(&[&bad, Path::new("--out"), &out]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "stderr: {err}");
    assert!(
        err.contains("line 3: `rule_name` is missing"),
        "stderr: {err}"
    );
    assert!(!out.exists(), "no page is written for a bad findings file");
    let missing = vigil(&[&dir.path().join("none.jsonl"), Path::new("--out"), &out]);
    assert_eq!(
        missing.status.code(),
        Some(2),
        "a missing file is an I/O error"
    );
}

#[test]
fn the_national_sample_totals_match_the_run_summary() {
    let samples = repo().join("rulebooks/cn-national/samples");
    let findings = samples.join("expected_findings.jsonl");
    let page = report(&findings, Some(&samples.join("claims.jsonl")));
    let (_, read) = read_findings(&findings).expect("the golden findings read");
    let summary = Summary::of(&read);
    assert_eq!(
        total(&page, "findings"),
        summary.total_findings().to_string()
    );
    let cents = summary.total_cents().expect("no overflow");
    assert_eq!(
        total(&page, "amount"),
        vigil_runtime::findings::cents_text(cents)
    );
    assert_eq!(total(&page, "claims"), "3000");
}

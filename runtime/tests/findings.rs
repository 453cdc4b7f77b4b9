//! Findings: rounding, the two writers (snapshots of formats.md §2 output), the deterministic
//! order, the summary, and the rulebook's content id.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use proptest::prelude::*;
use rust_decimal::Decimal;
use vigil_compiler::model::{RuleSeverity, Scope};
use vigil_runtime::findings::{
    round_amount, rulebook_id, sort_findings, write_csv, write_jsonl, Finding, Summary, COLUMNS,
};

/// A stand-in content id: these tests are about layout, not hashing.
const BOOK: &str = "cn-national@sha256:0123abcd";

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn line(rule: &str, setl: &str, sn: &str, amt: &str) -> Finding {
    Finding {
        rule_id: rule.into(),
        rule_name: "超标准收费".into(),
        scope: Scope::Line,
        setl_id: Some(setl.into()),
        psn_no: Some("P000123".into()),
        fixmedins_code: "H110001".into(),
        feedetl_sn: Some(sn.into()),
        period: None,
        vola_amt: dec(amt),
        sev_deg: RuleSeverity::Block,
        vola_cont: "单价 0.75 超过定价上限 0.60".into(),
        vola_evid: "《医疗保障基金使用监督管理条例》第三十八条".into(),
        rulebook: BOOK.into(),
    }
}

fn claim(rule: &str, setl: &str, amt: &str) -> Finding {
    Finding {
        rule_id: rule.into(),
        rule_name: "超住院天数".into(),
        scope: Scope::Claim,
        setl_id: Some(setl.into()),
        psn_no: Some("P000456".into()),
        fixmedins_code: "H110002".into(),
        feedetl_sn: None,
        period: None,
        vola_amt: dec(amt),
        sev_deg: RuleSeverity::Warn,
        vola_cont: "住院 9 天".into(),
        vola_evid: "《医疗保障基金使用监督管理条例》第十五条".into(),
        rulebook: BOOK.into(),
    }
}

fn provider(rule: &str, code: &str, period: &str, amt: &str) -> Finding {
    Finding {
        rule_id: rule.into(),
        rule_name: "次均费用异常".into(),
        scope: Scope::Provider,
        setl_id: None,
        psn_no: None,
        fixmedins_code: code.into(),
        feedetl_sn: None,
        period: Some(period.into()),
        vola_amt: dec(amt),
        sev_deg: RuleSeverity::Info,
        vola_cont: "次均费用 1234.50 高于同级均值".into(),
        vola_evid: "《医疗保障基金使用监督管理条例》第三十八条".into(),
        rulebook: BOOK.into(),
    }
}

/// A few findings of all three scopes, out of order, with text that CSV must quote.
fn sample() -> Vec<Finding> {
    let mut quoted = claim("CN-STAY-002", "S0003", "0");
    quoted.vola_cont = "诊断 \"I63.900\", 见备注\n第二行".into();
    vec![
        provider("CN-PROV-001", "H110009", "2026-10", "1234.5"),
        line("CN-PRICE-001", "S0001", "10", "4.5"),
        claim("CN-STAY-001", "S0002", "12.345"),
        line("CN-PRICE-001", "S0001", "2", "-0.005"),
        quoted,
        provider("CN-PROV-001", "H110001", "2026-11", "0.004"),
    ]
}

fn jsonl(findings: &[Finding]) -> String {
    let mut out = Vec::new();
    write_jsonl(&mut out, findings).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("the writer writes UTF-8")
}

fn csv(findings: &[Finding]) -> String {
    let mut out = Vec::new();
    write_csv(&mut out, findings).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("the writer writes UTF-8")
}

#[test]
fn round_amount_rounds_halves_away_from_zero_to_two_places() {
    for (input, expected) in [
        ("0.005", "0.01"),
        ("-0.005", "-0.01"),
        ("2.345", "2.35"),
        ("2.344", "2.34"),
        ("-2.345", "-2.35"),
        ("0.0049999", "0.00"),
        ("0", "0.00"),
        ("1", "1.00"),
        ("4.5", "4.50"),
        ("-0.00", "0.00"),
        ("-0.001", "0.00"),
        ("1234567.8951", "1234567.90"),
        ("99999999999999.995", "100000000000000.00"),
        ("-99999999999999.995", "-100000000000000.00"),
        (
            "123456789012345678901234.565",
            "123456789012345678901234.57",
        ),
        ("0.0000000000000000000000000005", "0.00"),
    ] {
        let r = round_amount(dec(input));
        assert_eq!(r.to_string(), expected, "round_amount({input})");
        assert_eq!(r.scale(), 2, "round_amount({input}) has scale 2");
    }
}

#[test]
fn amounts_beyond_two_places_of_room_are_still_written_with_two() {
    // Decimal::MAX has no room for 2 places; round_amount keeps it, the writers add ".00".
    let max = round_amount(Decimal::MAX);
    assert_eq!(max, Decimal::MAX);
    let mut f = line("CN-PRICE-001", "S0001", "1", "0");
    f.vola_amt = Decimal::MAX;
    assert!(jsonl(&[f.clone()]).contains(r#""vola_amt":"79228162514264337593543950335.00""#));
    f.vola_amt = Decimal::MIN;
    assert!(jsonl(&[f.clone()]).contains(r#""vola_amt":"-79228162514264337593543950335.00""#));
    f.vola_amt = dec("7922816251426433759354395033.5");
    assert!(jsonl(&[f]).contains(r#""vola_amt":"7922816251426433759354395033.50""#));
}

#[test]
fn jsonl_output() {
    let mut findings = sample();
    sort_findings(&mut findings);
    let text = jsonl(&findings);
    // Every line is one object with the contract's keys in the contract's order, absent keys
    // left out by scope.
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("each line is JSON");
        let obj = v.as_object().expect("each line is an object");
        let scope = obj["scope"].as_str().expect("scope is text");
        let expected: Vec<&str> = COLUMNS
            .iter()
            .copied()
            .filter(|k| match *k {
                "setl_id" | "psn_no" => scope != "provider",
                "feedetl_sn" => scope == "line",
                "period" => scope == "provider",
                _ => true,
            })
            .collect();
        // serde_json without preserve_order sorts keys, so read the order from the text.
        let mut at: Vec<(usize, &str)> = expected
            .iter()
            .map(|k| (l.find(&format!("\"{k}\":")).expect("key present"), *k))
            .collect();
        at.sort();
        let order: Vec<&str> = at.into_iter().map(|(_, k)| k).collect();
        assert_eq!(order, expected);
        assert_eq!(obj.len(), expected.len(), "{l}");
    }
    assert!(text.ends_with('\n'));
    assert!(text.contains("超标准收费"), "Chinese written as UTF-8");
    assert_eq!(text, jsonl(&findings), "identical input, identical bytes");
    insta::assert_snapshot!(text);
}

#[test]
fn csv_output() {
    let mut findings = sample();
    sort_findings(&mut findings);
    let text = csv(&findings);
    // Rows end in CRLF (RFC 4180); a line break inside a quoted cell stays as written.
    let rows = text.split("\r\n").collect::<Vec<_>>();
    assert_eq!(
        rows.len(),
        findings.len() + 2,
        "header, rows, and the final CRLF"
    );
    assert_eq!(rows[0], COLUMNS.join(","));
    // Read back: the same 13 cells, the absent ones empty.
    let mut reader = ::csv::Reader::from_reader(text.as_bytes());
    let records: Vec<::csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("the output is valid CSV");
    assert_eq!(records.len(), findings.len());
    for (r, f) in records.iter().zip(&findings) {
        assert_eq!(r.len(), 13);
        assert_eq!(&r[10], f.vola_cont.as_str());
        assert_eq!(&r[6], f.feedetl_sn.as_deref().unwrap_or(""));
    }
    insta::assert_snapshot!(text.replace("\r\n", "\\r\\n\n"));
}

#[test]
fn fee_lines_sort_as_numbers_before_other_text() {
    let mut findings: Vec<Finding> = ["A1", "10", "2", "007", "7", "B", "1"]
        .iter()
        .map(|sn| line("CN-PRICE-001", "S0001", sn, "1"))
        .collect();
    sort_findings(&mut findings);
    let order: Vec<&str> = findings
        .iter()
        .map(|f| f.feedetl_sn.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(order, ["1", "2", "007", "7", "10", "A1", "B"]);
}

#[test]
fn order_is_scope_then_rule_then_claim_or_provider() {
    let mut findings = sample();
    sort_findings(&mut findings);
    let keys: Vec<(&str, &str, &str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f.scope.as_str(),
                &*f.rule_id,
                f.setl_id.as_deref().unwrap_or(&f.fixmedins_code),
                f.feedetl_sn
                    .as_deref()
                    .or(f.period.as_deref())
                    .unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("claim", "CN-STAY-001", "S0002", ""),
            ("claim", "CN-STAY-002", "S0003", ""),
            ("line", "CN-PRICE-001", "S0001", "2"),
            ("line", "CN-PRICE-001", "S0001", "10"),
            ("provider", "CN-PROV-001", "H110001", "2026-11"),
            ("provider", "CN-PROV-001", "H110009", "2026-10"),
        ]
    );
}

/// Findings drawn from small alphabets so that most fields collide and the tie-breakers are
/// exercised, amounts included in equal values of different scale (`1.5`, `1.50`).
fn arb_finding() -> impl Strategy<Value = Finding> {
    let text = |xs: &'static [&'static str]| prop::sample::select(xs).prop_map(Arc::<str>::from);
    (
        prop::sample::select(&[Scope::Claim, Scope::Line, Scope::Provider][..]),
        text(&["R1", "R2"]),
        text(&["名一", "名二"]),
        text(&["S1", "S2"]),
        text(&["P1", "P2"]),
        text(&["H1", "H2"]),
        text(&["1", "2", "10", "01", "A1", "a"]),
        prop::sample::select(&["2026-01", "2026-02"][..]),
        prop::sample::select(&["0", "1.5", "1.50", "1.505", "-0.005", "0.00"][..]),
        prop::sample::select(&[RuleSeverity::Block, RuleSeverity::Warn, RuleSeverity::Info][..]),
        prop::sample::select(&["甲", "乙"][..]),
        (text(&["E1", "E2"]), text(&["b@1", "b@2"])),
    )
        .prop_map(
            // proptest's tuples stop at 12; the rulebook id rides in a pair.
            |(
                scope,
                rule_id,
                rule_name,
                setl,
                psn,
                fix,
                sn,
                period,
                amt,
                sev,
                cont,
                (evid, book),
            )| {
                let claimish = scope != Scope::Provider;
                Finding {
                    rule_id,
                    rule_name,
                    scope,
                    setl_id: claimish.then_some(setl),
                    psn_no: claimish.then_some(psn),
                    fixmedins_code: fix,
                    feedetl_sn: (scope == Scope::Line).then_some(sn),
                    period: (scope == Scope::Provider).then(|| period.to_string()),
                    vola_amt: dec(amt),
                    sev_deg: sev,
                    vola_cont: cont.to_string(),
                    vola_evid: evid,
                    rulebook: book,
                }
            },
        )
}

proptest! {
    #[test]
    fn the_order_does_not_depend_on_arrival(
        (a, b) in prop::collection::vec(arb_finding(), 0..40)
            .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
    ) {
        let (mut a, mut b) = (a, b);
        sort_findings(&mut a);
        sort_findings(&mut b);
        prop_assert_eq!(jsonl(&a), jsonl(&b));
        prop_assert_eq!(csv(&a), csv(&b));
        prop_assert_eq!(Summary::of(&a), Summary::of(&b));
    }
}

#[test]
fn the_order_is_the_same_for_every_permutation_of_a_small_input() {
    let mut dup = line("CN-PRICE-001", "S0001", "2", "1.5");
    dup.vola_amt = dec("1.50");
    let findings = vec![
        line("CN-PRICE-001", "S0001", "2", "1.5"),
        dup,
        line("CN-PRICE-001", "S0001", "A1", "1"),
        line("CN-PRICE-001", "S0001", "10", "1"),
        provider("CN-PROV-001", "H1", "2026-10", "1"),
    ];
    let mut canonical = findings.clone();
    sort_findings(&mut canonical);
    let expected = jsonl(&canonical);
    let mut seen = 0;
    permute(&mut findings.clone(), 0, &mut |p| {
        let mut p = p.to_vec();
        sort_findings(&mut p);
        assert_eq!(jsonl(&p), expected);
        seen += 1;
    });
    assert_eq!(seen, 120);
}

/// Calls `f` with every permutation of `v[k..]` (Heap's algorithm would do; this is plainer).
fn permute(v: &mut [Finding], k: usize, f: &mut impl FnMut(&[Finding])) {
    if k == v.len() {
        f(v);
        return;
    }
    for i in k..v.len() {
        v.swap(k, i);
        permute(v, k + 1, f);
        v.swap(k, i);
    }
}

#[test]
fn the_summary_adds_rounded_amounts() {
    let findings = vec![
        line("CN-PRICE-001", "S0001", "1", "0.005"),
        line("CN-PRICE-001", "S0001", "2", "0.005"),
        line("CN-PRICE-001", "S0002", "1", "4.5"),
        claim("CN-STAY-001", "S0002", "12.345"),
        provider("CN-PROV-001", "H110001", "2026-10", "0"),
    ];
    let summary = Summary::of(&findings);
    let rules: Vec<(&str, u64, String)> = summary
        .rules()
        .map(|(id, t)| (id, t.findings, t.amount_text()))
        .collect();
    // 0.01 + 0.01 + 4.50, not round(0.005 + 0.005 + 4.5) = 4.51.
    assert_eq!(
        rules,
        [
            ("CN-PRICE-001", 3, "4.52".to_string()),
            ("CN-PROV-001", 1, "0.00".to_string()),
            ("CN-STAY-001", 1, "12.35".to_string()),
        ]
    );
    // What a reader of the findings file adds up.
    let from_file: Decimal = jsonl(&findings)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
            dec(v["vola_amt"].as_str().expect("text"))
        })
        .sum();
    assert_eq!(summary.total_cents(), Some(1687));
    assert_eq!(from_file, dec("16.87"));
    assert_eq!(summary.total_findings(), 5);

    // Merging per-thread summaries gives the same as one summary.
    let mut merged = Summary::of(&findings[..2]);
    merged.merge(Summary::of(&findings[2..]));
    assert_eq!(merged, summary);

    insta::assert_snapshot!(summary.render());
}

#[test]
fn the_summary_of_nothing() {
    assert_eq!(Summary::new().total_cents(), Some(0));
    insta::assert_snapshot!(Summary::new().render());
}

fn national_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national")
}

fn id_of(root: &Path) -> String {
    let loaded =
        vigil_compiler::load_rulebook(root).unwrap_or_else(|e| panic!("{}: {e}", root.display()));
    rulebook_id(&loaded)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

#[test]
fn the_national_rulebook_id_is_stable_and_follows_its_text_only() {
    let id = id_of(&national_root());
    let (name, hex) = id.split_once("@sha256:").expect("NAME@sha256:HEX");
    assert_eq!(name, "cn-national");
    assert_eq!(hex.len(), 64);
    assert!(hex.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
    assert_eq!(id_of(&national_root()), id, "loading twice");

    // Elsewhere on disk, under another folder name: the same id.
    let tmp = tempfile::tempdir().expect("tempdir");
    let first = tmp.path().join("a/cn-national");
    copy_dir(&national_root(), &first);
    assert_eq!(id_of(&first), id, "copied");
    let moved = tmp.path().join("b/deeper/national-copy");
    std::fs::create_dir_all(moved.parent().expect("has a parent")).expect("create folder");
    std::fs::rename(&first, &moved).expect("move folder");
    assert_eq!(id_of(&moved), id, "moved");

    // A table is data: changing it leaves the id.
    let table = moved.join("tables/providers.csv");
    let mut csv_text = std::fs::read(&table).expect("read table");
    csv_text.extend_from_slice(b"H999999,Test,1,hospital\n");
    std::fs::write(&table, csv_text).expect("write table");
    assert_eq!(id_of(&moved), id, "table changed");

    // One byte of one rule file: another id.
    let file = moved.join("charges.vigil");
    let mut bytes = std::fs::read(&file).expect("read rule file");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&file, &bytes).expect("write rule file");
    let changed = id_of(&moved);
    assert_ne!(changed, id, "one byte changed");
    assert!(changed.starts_with("cn-national@sha256:"));
    bytes[last] ^= 0x01;
    std::fs::write(&file, &bytes).expect("write rule file");
    assert_eq!(id_of(&moved), id, "changed back");
}

/// A two-file rulebook in memory, as `check_sources` takes it.
fn tiny(root: &str, files: &[(&str, &str)]) -> String {
    let root = PathBuf::from(root);
    let texts = files
        .iter()
        .map(|(p, t)| (root.join(p), t.to_string()))
        .collect();
    rulebook_id(&vigil_compiler::check_sources(Some(root), texts))
}

const HEADER: &str = "rulebook tiny \"小\" version \"1\"\n";
const RULES: &str = "// 规则\nconst x = 1\n";

#[test]
fn the_id_hashes_path_zero_length_text_in_path_order() {
    // Computed independently (Python hashlib) over
    // "a/x.vigil" 0 len_le64 RULES "rulebook.vigil" 0 len_le64 HEADER.
    let expected = "tiny@sha256:5f121c87b7bef7adcfb127a851494b6ef050c86df41e1815a37fd448d76231d0";
    assert_eq!(
        tiny(
            "/srv/books/tiny",
            &[("rulebook.vigil", HEADER), ("a/x.vigil", RULES)]
        ),
        expected
    );
    assert_eq!(
        tiny(
            "/elsewhere",
            &[("a/x.vigil", RULES), ("rulebook.vigil", HEADER)]
        ),
        expected,
        "neither the folder nor the load order matters"
    );
}

#[test]
fn renaming_a_file_or_moving_text_between_files_changes_the_id() {
    let base = tiny("/b", &[("rulebook.vigil", HEADER), ("a/x.vigil", RULES)]);
    let renamed = tiny("/b", &[("rulebook.vigil", HEADER), ("a/y.vigil", RULES)]);
    assert_ne!(renamed, base);
    let moved_folder = tiny("/b", &[("rulebook.vigil", HEADER), ("x.vigil", RULES)]);
    assert_ne!(moved_folder, base);
    // The concatenation is the same; the boundary is not.
    let (head, tail) = RULES.split_at(3);
    let a = tiny(
        "/b",
        &[
            ("rulebook.vigil", HEADER),
            ("a/x.vigil", head),
            ("a/z.vigil", tail),
        ],
    );
    let b = tiny(
        "/b",
        &[
            ("rulebook.vigil", HEADER),
            ("a/x.vigil", RULES),
            ("a/z.vigil", ""),
        ],
    );
    assert_ne!(a, b);
}

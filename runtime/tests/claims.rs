//! The claim reader against the national schema. The cases are data: every `*.jsonl` file in
//! `tests/data/claims/` is read and its accepted claims, rejected lines and counts are compared
//! with the snapshot beside it (`<name>.snap`); adding a case means adding a file.

use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;
use rust_decimal::Decimal;
use vigil_compiler::types::Ty;
use vigil_runtime::claims::{
    ClaimLayout, ClaimReader, FieldLayout, LayoutError, ReadClaim, ReadCounts, RecordLayout,
    Rejected,
};
use vigil_runtime::value::{Record, Value};

fn national_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national")
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/claims")
}

/// The national rulebook's checked model, loaded once.
fn national_rulebook() -> &'static vigil_compiler::model::Rulebook {
    static BOOK: OnceLock<vigil_compiler::model::Rulebook> = OnceLock::new();
    BOOK.get_or_init(|| {
        let loaded = vigil_compiler::load_rulebook(&national_dir()).expect("national rulebook");
        assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
        loaded.rulebook
    })
}

fn national() -> &'static ClaimLayout {
    static LAYOUT: OnceLock<ClaimLayout> = OnceLock::new();
    LAYOUT.get_or_init(|| ClaimLayout::new(national_rulebook()).expect("national layout"))
}

/// Reads every claim of `input`: the results in order, and the final counts.
fn read_all(
    layout: &ClaimLayout,
    input: impl BufRead,
) -> (Vec<Result<ReadClaim, Rejected>>, ReadCounts) {
    let mut reader = ClaimReader::new(layout, input);
    let results: Vec<_> = reader.by_ref().collect();
    let counts = reader.finish().expect("in-memory input cannot fail");
    (results, counts)
}

fn read_str(text: &str) -> (Vec<Result<ReadClaim, Rejected>>, ReadCounts) {
    read_all(national(), text.as_bytes())
}

/// The one claim a line gives, or its rejection.
fn read_one(line: &str) -> Result<ReadClaim, Rejected> {
    let (mut results, _) = read_str(line);
    assert_eq!(results.len(), 1, "one line, one result");
    results.remove(0)
}

fn field<'r>(record: &'r Record, layout: &RecordLayout, name: &str) -> &'r Value {
    record.get(layout.slot(name).expect("a field of the schema"))
}

fn dec(s: &str) -> Value {
    Value::Decimal(Decimal::from_str(s).expect("a decimal literal"))
}

/// A field's value; a list's elements and a record's fields one per line below it.
fn render_value(
    layout: &ClaimLayout,
    field: &FieldLayout,
    value: &Value,
    indent: usize,
    out: &mut String,
) {
    let pad = "  ".repeat(indent);
    match value {
        Value::Absent => out.push_str("absent\n"),
        Value::Bool(b) => writeln!(out, "bool {b}").unwrap(),
        Value::Int(i) => writeln!(out, "int {i}").unwrap(),
        Value::Decimal(d) => writeln!(out, "decimal {d}").unwrap(),
        Value::Text(t) => writeln!(out, "text {}", serde_json::to_string(&**t).unwrap()).unwrap(),
        Value::Date(_) => writeln!(out, "date {value}").unwrap(),
        Value::DateTime(_) => writeln!(out, "datetime {value}").unwrap(),
        Value::List(items) => {
            writeln!(out, "list of {}", items.len()).unwrap();
            for (i, item) in items.iter().enumerate() {
                write!(out, "{pad}  [{i}] ").unwrap();
                render_value(layout, field, item, indent + 1, out);
            }
        }
        Value::Record(record) => {
            let rec = layout.record_of(field).expect("a field of record type");
            writeln!(out, "{}", rec.name()).unwrap();
            render_record(layout, rec, record, indent + 1, out);
        }
    }
}

/// A claim as the snapshot shows it: every field in schema order with its value's kind.
fn render_record(
    layout: &ClaimLayout,
    rec: &RecordLayout,
    record: &Record,
    indent: usize,
    out: &mut String,
) {
    assert_eq!(
        record.values.len(),
        rec.fields().len(),
        "one value per field"
    );
    let pad = "  ".repeat(indent);
    for (f, value) in rec.fields().iter().zip(&record.values) {
        write!(out, "{pad}{}: ", f.name()).unwrap();
        render_value(layout, f, value, indent, out);
    }
}

/// A case file's reading, as its snapshot holds it.
fn run_case(layout: &ClaimLayout, path: &Path) -> String {
    let file = std::fs::File::open(path).expect("case file");
    let (results, counts) = read_all(layout, BufReader::new(file));
    let mut out = String::new();
    let mut rejected = String::new();
    for result in &results {
        match result {
            Ok(claim) => {
                writeln!(out, "line {}: accepted", claim.line).unwrap();
                render_record(layout, layout.claim(), &claim.record, 1, &mut out);
            }
            Err(r) => writeln!(rejected, "{}", serde_json::to_string(r).unwrap()).unwrap(),
        }
    }
    writeln!(
        out,
        "--- rejected (the JSON Lines of --rejected FILE)\n{rejected}--- counts"
    )
    .unwrap();
    writeln!(out, "{}", serde_json::to_string(&counts).unwrap()).unwrap();
    out
}

#[test]
fn claim_files_match_their_snapshots() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .expect("data dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 2, "the valid and rejected cases are there");
    for path in cases {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let output = run_case(national(), &path);
        insta::with_settings!({
            snapshot_path => data_dir(),
            prepend_module_to_snapshot => false,
            input_file => &path,
        }, {
            insta::assert_snapshot!(name, output);
        });
    }
}

#[test]
fn every_valid_line_is_accepted_and_every_bad_one_rejected_with_its_line_number() {
    let read_file = |name: &str| {
        let text = std::fs::read_to_string(data_dir().join(name)).unwrap();
        let physical: Vec<u64> = text
            .split('\n')
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, _)| i as u64 + 1)
            .collect();
        let (results, counts) = read_str(&text);
        (results, counts, physical)
    };
    let (results, counts, physical) = read_file("valid.jsonl");
    assert!(results.iter().all(Result::is_ok), "{results:#?}");
    let lines: Vec<u64> = results.iter().map(|r| r.as_ref().unwrap().line).collect();
    assert_eq!(lines, physical);
    assert_eq!(
        (counts.read, counts.accepted, counts.rejected),
        (physical.len() as u64, physical.len() as u64, 0)
    );

    let (results, counts, physical) = read_file("rejected.jsonl");
    let lines: Vec<u64> = results
        .iter()
        .map(|r| match r {
            Ok(c) => c.line,
            Err(r) => r.line,
        })
        .collect();
    assert_eq!(
        lines, physical,
        "one result per non-blank line, numbered as in the file"
    );
    let accepted: Vec<u64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|c| c.line)
        .collect();
    assert_eq!(accepted, [1], "only the first `D1` is a good claim");
    assert_eq!(counts.read, counts.accepted + counts.rejected);
    // Every line's reason differs, except that `null` reads as missing (lines 6 and 7).
    let mut reasons: Vec<&str> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|r| r.reason.as_str())
        .collect();
    let all = reasons.len();
    reasons.sort();
    reasons.dedup();
    assert_eq!(reasons.len(), all - 1);
}

#[test]
fn the_national_layout_resolves_key_slots_in_schema_order() {
    let layout = national();
    let claim = layout.claim();
    assert_eq!(claim.name(), "claim");
    assert_eq!(layout.setl_id(), 0);
    assert_eq!(layout.psn_no(), 2);
    assert_eq!(layout.fixmedins_code(), 7);
    assert_eq!(claim.slot("fee_list"), Some(claim.fields().len() - 1));
    let fee_line = layout.record("fee_line").unwrap();
    assert_eq!(fee_line.line_key(), Some(0));
    assert_eq!(layout.record("diagnosis").unwrap().line_key(), None);
    let names: Vec<&str> = national_rulebook().records["claim"]
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    let slots: Vec<&str> = claim.fields().iter().map(|f| f.name()).collect();
    assert_eq!(names, slots);
}

#[test]
fn decimals_are_exact_whether_strings_or_numbers() {
    let claim = read_one(
        r#"{"setl_id":"S","psn_no":"P","fixmedins_code":"H","medfee_sumamt":0.1,"fund_pay_sumamt":"0.10","hifp_pay":0.2,"acct_pay":"0.3","psn_cash_pay":12345678901234567890.12345678,"fee_list":[{"feedetl_sn":"1","cnt":1e3,"pric":"2.5E-3","det_item_fee_sumamt":-0.000,"pric_uplmt_amt":"79228162514264337593543950335","prd_days":"30"}]}"#,
    )
    .unwrap();
    let (layout, record) = (national(), &claim.record);
    let c = layout.claim();
    let get = |name| field(record, c, name).clone();
    let Value::Decimal(a) = get("medfee_sumamt") else {
        panic!("decimal")
    };
    let Value::Decimal(b) = get("fund_pay_sumamt") else {
        panic!("decimal")
    };
    let Value::Decimal(x) = get("hifp_pay") else {
        panic!("decimal")
    };
    let Value::Decimal(y) = get("acct_pay") else {
        panic!("decimal")
    };
    assert_eq!(a, b, "0.1 and \"0.10\" are the same value");
    assert_eq!(
        (a.scale(), b.scale()),
        (1, 2),
        "each keeps the scale it was written with"
    );
    assert_eq!(b.to_string(), "0.10");
    assert_eq!(
        a + x,
        y,
        "0.1 + 0.2 = 0.3 exactly: no binary floating point on the way"
    );
    assert_eq!(get("psn_cash_pay"), dec("12345678901234567890.12345678"));
    let Value::List(lines) = get("fee_list") else {
        panic!("list")
    };
    let Value::Record(line) = &lines[0] else {
        panic!("record")
    };
    let fl = layout.record("fee_line").unwrap();
    assert_eq!(field(line, fl, "cnt"), &dec("1000"));
    assert_eq!(field(line, fl, "pric"), &dec("0.0025"));
    assert_eq!(field(line, fl, "det_item_fee_sumamt"), &dec("0.000"));
    assert_eq!(
        field(line, fl, "pric_uplmt_amt"),
        &Value::Decimal(Decimal::MAX)
    );
    assert_eq!(field(line, fl, "prd_days"), &Value::Int(30));
}

#[test]
fn dates_read_as_datetimes_at_midnight_and_missing_optionals_are_absent() {
    let claim = read_one(
        r#"{"setl_id":"S","psn_no":"P","fixmedins_code":"H","brdy":"2000-02-29","begndate":"2026-10-01","enddate":"2026-10-09 23:59:59","gend":null}"#,
    )
    .unwrap();
    let c = national().claim();
    let r = &claim.record;
    assert_eq!(
        field(r, c, "brdy"),
        &Value::Date(NaiveDate::from_ymd_opt(2000, 2, 29).unwrap())
    );
    let at = |s| Value::DateTime(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap());
    assert_eq!(field(r, c, "begndate"), &at("2026-10-01 00:00:00"));
    assert_eq!(field(r, c, "enddate"), &at("2026-10-09 23:59:59"));
    for absent in ["gend", "mdtrt_id", "setl_time", "medfee_sumamt"] {
        assert_eq!(field(r, c, absent), &Value::Absent, "{absent}");
    }
    for empty in ["diseinfo", "fee_list"] {
        assert_eq!(field(r, c, empty), &Value::List(vec![]), "{empty}");
    }
}

#[test]
fn a_rejected_line_serialises_as_a_line_of_the_rejected_file() {
    let rejected = read_one(r#"{"setl_id":"S9","psn_no":"P","fixmedins_code":"H","fee_list":[{"feedetl_sn":"1"},{"feedetl_sn":"2"},{"feedetl_sn":"3"},{"feedetl_sn":"4","pric":"abc"}]}"#)
        .unwrap_err();
    assert_eq!(
        serde_json::to_string(&rejected).unwrap(),
        r#"{"line":1,"setl_id":"S9","reason":"fee_list[3].pric: \"abc\" is not a decimal"}"#
    );
    assert_eq!(
        rejected.to_string(),
        r#"line 1: fee_list[3].pric: "abc" is not a decimal"#
    );
    let unnamed = read_one("not json").unwrap_err();
    assert_eq!(
        serde_json::to_string(&unnamed).unwrap(),
        r#"{"line":1,"setl_id":null,"reason":"not valid JSON at column 2: expected ident"}"#
    );
}

#[test]
fn a_byte_order_mark_is_ignored_and_bad_utf8_is_one_rejected_line() {
    let mut input =
        b"\xEF\xBB\xBF{\"setl_id\":\"S1\",\"psn_no\":\"P\",\"fixmedins_code\":\"H\"}\n".to_vec();
    input.extend_from_slice(b"{\"setl_id\":\"S\xFF2\"}\n\n");
    input.extend_from_slice(b"{\"setl_id\":\"S3\",\"psn_no\":\"P\",\"fixmedins_code\":\"H\"}");
    let (results, counts) = read_all(national(), &input[..]);
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].as_ref().unwrap().line, 1);
    let bad = results[1].as_ref().unwrap_err();
    assert_eq!(
        (bad.line, bad.reason.as_str()),
        (2, "not valid UTF-8 (at byte 14)")
    );
    assert_eq!(
        results[2].as_ref().unwrap().line,
        4,
        "a last line without a newline is read"
    );
    assert_eq!(
        counts,
        ReadCounts {
            read: 3,
            accepted: 2,
            rejected: 1
        }
    );
}

#[test]
fn an_overlong_line_is_rejected_without_being_held_and_the_next_is_read() {
    let good = r#"{"setl_id":"S1","psn_no":"P","fixmedins_code":"H"}"#;
    let long = format!(
        r#"{{"setl_id":"S2","psn_no":"P","fixmedins_code":"H","pad":"{}"}}"#,
        "x".repeat(10_000)
    );
    let text = format!("{long}\n{good}\n");
    let mut reader = ClaimReader::new(national(), BufReader::with_capacity(64, text.as_bytes()))
        .with_max_line_bytes(1000);
    let first = reader.next().unwrap().unwrap_err();
    assert_eq!(
        (first.line, first.reason.as_str()),
        (1, "the line is longer than 1000 bytes")
    );
    assert_eq!(reader.next().unwrap().unwrap().line, 2);
    assert!(reader.next().is_none());
    assert_eq!(
        reader.finish().unwrap(),
        ReadCounts {
            read: 2,
            accepted: 1,
            rejected: 1
        }
    );
}

#[test]
fn deep_nesting_is_no_stack_overflow() {
    let deep = |value: &str| {
        let line = format!(r#"{{"setl_id":"S","psn_no":"P","fixmedins_code":"H",{value}}}"#);
        read_one(&line).map(|_| ()).map_err(|r| r.reason)
    };
    let arrays = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(100_000), "}".repeat(100_000));
    // Values skipped unread (unknown fields, raw scalars) are skipped without recursion.
    assert_eq!(deep(&format!(r#""prov_ext":{arrays}"#)), Ok(()));
    assert_eq!(deep(&format!(r#""prov_ext":{objects}"#)), Ok(()));
    assert_eq!(
        deep(&format!(r#""medfee_sumamt":{arrays}"#)),
        Err("medfee_sumamt: an array is not a decimal".into())
    );
    // Values read into records and lists descend only as deep as the schema does.
    assert_eq!(
        deep(&format!(r#""fee_list":{arrays}"#)),
        Err("fee_list[0]: an array is not a fee_line record (a JSON object)".into())
    );
    assert_eq!(
        deep(&format!(
            r#""fee_list":[{{"feedetl_sn":"1","cnt":{objects}}}]"#
        )),
        Err("fee_list[0].cnt: an object is not a decimal".into())
    );
}

/// An endless claim file: numbered claims, forever.
struct Endless {
    next: u64,
    pending: Vec<u8>,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.is_empty() {
            self.next += 1;
            self.pending = format!(
                "{{\"setl_id\":\"S{}\",\"psn_no\":\"P\",\"fixmedins_code\":\"H\",\"fee_list\":[{{\"feedetl_sn\":\"1\",\"pric\":\"0.50\"}}]}}\n",
                self.next
            )
            .into_bytes();
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

#[test]
fn the_reader_streams_one_line_at_a_time() {
    // An input that never ends can only be read by a reader that does not slurp it.
    let input = BufReader::new(Endless {
        next: 0,
        pending: Vec::new(),
    });
    let mut reader = ClaimReader::new(national(), input);
    let lines: Vec<u64> = reader
        .by_ref()
        .take(1000)
        .map(|r| r.unwrap().line)
        .collect();
    assert_eq!(lines, (1..=1000).collect::<Vec<_>>());
    assert_eq!(
        reader.counts(),
        ReadCounts {
            read: 1000,
            accepted: 1000,
            rejected: 0
        }
    );
}

/// Gives its text, then fails.
struct FailsAfter(&'static [u8]);

impl Read for FailsAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0.is_empty() {
            return Err(io::Error::other("disk gone"));
        }
        let n = buf.len().min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn an_io_error_ends_the_reading_and_is_reported_by_finish() {
    let input = BufReader::new(FailsAfter(
        b"{\"setl_id\":\"S1\",\"psn_no\":\"P\",\"fixmedins_code\":\"H\"}\n\n{\"setl_id\"",
    ));
    let mut reader = ClaimReader::new(national(), input);
    assert!(reader.next().unwrap().is_ok());
    assert!(reader.next().is_none(), "a half line is not guessed at");
    assert!(reader.next().is_none(), "and the reader stays ended");
    assert!(reader.error().is_some());
    let err = reader.finish().unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot read claims after line 2: disk gone"
    );
}

/// Copies a folder tree.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_field_a_province_adds_to_the_schema_is_read_with_no_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("cn-province");
    copy_dir(&national_dir(), &book);
    let schema_path = book.join("schema.vigil");
    let schema = std::fs::read_to_string(&schema_path).unwrap();
    let anchor = "  fee_list: [fee_line] \"费用明细\"\n";
    assert!(schema.contains(anchor));
    let schema = schema.replacen(
        anchor,
        &format!("{anchor}  extra_flag: text? \"省扩展标志\"\n"),
        1,
    );
    std::fs::write(&schema_path, schema).unwrap();
    let loaded = vigil_compiler::load_rulebook(&book).unwrap();
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    let layout = ClaimLayout::new(&loaded.rulebook).unwrap();
    let slot = layout
        .claim()
        .slot("extra_flag")
        .expect("the new field has a slot");
    assert_eq!(
        slot,
        layout.claim().fields().len() - 1,
        "after fee_list, as declared"
    );

    let text = concat!(
        r#"{"setl_id":"S1","psn_no":"P","fixmedins_code":"H","extra_flag":"JS-01"}"#,
        "\n",
        r#"{"setl_id":"S2","psn_no":"P","fixmedins_code":"H"}"#,
        "\n",
        r#"{"setl_id":"S3","psn_no":"P","fixmedins_code":"H","extra_flag":1}"#,
        "\n",
    );
    let (results, _) = read_all(&layout, text.as_bytes());
    assert_eq!(
        results[0].as_ref().unwrap().record.get(slot),
        &Value::Text("JS-01".into())
    );
    assert_eq!(
        results[1].as_ref().unwrap().record.get(slot),
        &Value::Absent
    );
    assert_eq!(
        results[2].as_ref().unwrap_err().reason,
        "extra_flag: 1 is not text (a JSON string)"
    );
    // The national layout ignores the field as an unknown one.
    assert_eq!(
        read_one(text.lines().next().unwrap())
            .unwrap()
            .record
            .values
            .len(),
        slot
    );
}

#[test]
fn a_schema_the_reader_cannot_serve_is_a_layout_error() {
    use vigil_compiler::model::Rulebook;
    assert_eq!(
        ClaimLayout::new(&Rulebook::default()).unwrap_err(),
        LayoutError::NoClaimRecord
    );

    let edit = |f: &dyn Fn(&mut vigil_compiler::model::Record)| {
        let mut book = national_rulebook().clone();
        f(book.records.get_mut("claim").unwrap());
        ClaimLayout::new(&book).unwrap_err().to_string()
    };
    let set_ty = |name: &'static str, ty: Ty| {
        move |claim: &mut vigil_compiler::model::Record| {
            claim.fields.iter_mut().find(|f| f.name == name).unwrap().ty = ty.clone();
        }
    };
    assert_eq!(
        edit(&set_ty("brdy", Ty::Optional(Box::new(Ty::Month)))),
        "`claim.brdy` has type `month?`, which a claim file cannot carry"
    );
    assert_eq!(
        edit(&set_ty(
            "fee_list",
            Ty::List(Box::new(Ty::Record("fee_lines".into())))
        )),
        "`claim.fee_list` has type `fee_lines`, which is not a schema record of the rulebook"
    );
    assert_eq!(
        edit(&set_ty("psn_no", Ty::Optional(Box::new(Ty::Text)))),
        "the claim schema's `psn_no` is `text?`; every finding names it, so it must be required text or code"
    );
    assert_eq!(
        edit(&|claim| claim.fields.retain(|f| f.name != "fixmedins_code")),
        "the claim schema lacks `fixmedins_code`, which every finding names"
    );
}

// ---- properties: nothing panics, counts reconcile, accepted claims fit the schema ----

/// Whether a value fits a schema type (what every accepted claim must satisfy).
fn conforms(layout: &ClaimLayout, ty: &Ty, value: &Value) -> bool {
    match (ty, value) {
        (Ty::Optional(_), Value::Absent) => true,
        (Ty::Optional(t), v) => conforms(layout, t, v),
        (Ty::List(t), Value::List(items)) => items.iter().all(|v| conforms(layout, t, v)),
        (Ty::Record(name), Value::Record(r)) => {
            let rec = layout.record(name).unwrap();
            r.values.len() == rec.fields().len()
                && rec
                    .fields()
                    .iter()
                    .zip(&r.values)
                    .all(|(f, v)| conforms(layout, f.ty(), v))
        }
        (Ty::Text | Ty::Code | Ty::Enum(_), Value::Text(_)) => true,
        (Ty::Int, Value::Int(_))
        | (Ty::Decimal, Value::Decimal(_))
        | (Ty::Bool, Value::Bool(_))
        | (Ty::Date, Value::Date(_))
        | (Ty::DateTime, Value::DateTime(_)) => true,
        _ => false,
    }
}

/// Reads `input` and checks what holds for any input at all.
fn check_any_input(input: &[u8]) -> Result<(), TestCaseError> {
    let layout = national();
    let (results, counts) = read_all(layout, input);
    prop_assert_eq!(counts.read, results.len() as u64);
    prop_assert_eq!(counts.read, counts.accepted + counts.rejected);
    prop_assert_eq!(
        counts.accepted,
        results.iter().filter(|r| r.is_ok()).count() as u64
    );
    let physical = input.split(|&b| b == b'\n').count() as u64;
    let mut last = 0;
    for result in &results {
        let line = match result {
            Ok(claim) => {
                let claim_ty = Ty::Record("claim".into());
                prop_assert!(conforms(
                    layout,
                    &claim_ty,
                    &Value::Record(std::sync::Arc::new(claim.record.clone()))
                ));
                let id = claim.record.get(layout.setl_id());
                prop_assert!(id.as_text().is_some_and(|t| !t.trim().is_empty()));
                claim.line
            }
            Err(r) => {
                prop_assert!(!r.reason.is_empty());
                r.line
            }
        };
        prop_assert!(
            line > last && line <= physical,
            "line {} after {}",
            line,
            last
        );
        last = line;
    }
    Ok(())
}

fn example_claim() -> String {
    std::fs::read_to_string(data_dir().join("valid.jsonl"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string()
}

/// A JSON value of any kind, written as text (numbers as arbitrary literals).
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        "-?[0-9]{1,35}(\\.[0-9]{1,35})?([eE][-+]?[0-9]{1,4})?",
        "\"-?[0-9]{0,32}(\\.[0-9]{0,32})?\"",
        "\"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?\"",
        "\"[01 ]{0,2}\"",
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[a-z_]{1,12}", inner), 0..4).prop_map(|kv| {
                let fields: Vec<String> = kv
                    .into_iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// A field name of the schema (or not), for a structured mutation.
fn field_name() -> impl Strategy<Value = String> {
    let layout = national();
    let mut names: Vec<String> = Vec::new();
    for rec in ["claim", "fee_line", "diagnosis"] {
        names.extend(
            layout
                .record(rec)
                .unwrap()
                .fields()
                .iter()
                .map(|f| f.name().to_string()),
        );
    }
    names.push("unknown_field".into());
    proptest::sample::select(names)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_and_counts_reconcile(input in prop::collection::vec(any::<u8>(), 0..600)) {
        check_any_input(&input)?;
    }

    #[test]
    fn random_lines_never_panic_and_counts_reconcile(
        lines in prop::collection::vec(prop_oneof![json_text(), "[ -~]{0,40}", Just(example_claim()), Just(String::new())], 0..12)
    ) {
        check_any_input(lines.join("\n").as_bytes())?;
    }

    #[test]
    fn mutated_claims_never_panic_and_counts_reconcile(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>(), 1usize..8), 1..6)
    ) {
        let mut bytes = example_claim().into_bytes();
        for (at, kind, byte, len) in edits {
            let i = at.index(bytes.len() + 1);
            match kind {
                0 => { bytes.insert(i, byte); }
                1 => { bytes.drain(i..(i + len).min(bytes.len())); }
                2 => if i < bytes.len() { bytes[i] = byte; },
                _ => { let piece: Vec<u8> = bytes[i..(i + len).min(bytes.len())].to_vec(); bytes.splice(i..i, piece); }
            }
        }
        let mut input = bytes.clone();
        input.push(b'\n');
        input.extend_from_slice(example_claim().as_bytes());
        check_any_input(&input)?;
    }

    #[test]
    fn claims_with_a_field_set_to_any_json_never_panic(
        name in field_name(), value in json_text(), in_line in any::<bool>(), in_diag in any::<bool>()
    ) {
        let mut claim: serde_json::Value = serde_json::from_str(&example_claim()).unwrap();
        let target = if in_line {
            &mut claim["fee_list"][0]
        } else if in_diag {
            &mut claim["diseinfo"][1]
        } else {
            &mut claim
        };
        target[name.as_str()] = serde_json::Value::String("@@VALUE@@".into());
        let line = serde_json::to_string(&claim).unwrap().replace("\"@@VALUE@@\"", &value);
        check_any_input(format!("{line}\n{line}\n").as_bytes())?;
    }

    #[test]
    fn decimal_numbers_are_read_exactly_or_rejected_as_not_fitting(
        int in "[0-9]{1,34}", frac in "([0-9]{1,34})?", exp in "([eE][-+]?[0-9]{1,2})?", negative in any::<bool>(), quoted in any::<bool>()
    ) {
        let literal = format!("{}{}{}{}", if negative { "-" } else { "" }, int, if frac.is_empty() { String::new() } else { format!(".{frac}") }, exp);
        let value = if quoted { format!("\"{literal}\"") } else { literal.clone() };
        let line = format!(r#"{{"setl_id":"S","psn_no":"P","fixmedins_code":"H","medfee_sumamt":{value}}}"#);
        let (wanted_digits, wanted_exp) = normalise(&literal);
        // JSON numbers forbid leading zeros; strings allow them.
        let json_ok = quoted || !(int.len() > 1 && int.starts_with('0'));
        match read_one(&line) {
            Ok(claim) => {
                prop_assert!(json_ok);
                let Value::Decimal(d) = field(&claim.record, national().claim(), "medfee_sumamt").clone() else {
                    return Err(TestCaseError::fail("not a decimal"));
                };
                let got = normalise(&d.to_string());
                prop_assert_eq!(got, (wanted_digits, wanted_exp), "{} read as {}", literal, d);
            }
            Err(rejected) => {
                if json_ok {
                    prop_assert!(rejected.reason.contains("does not fit a decimal"), "{}", rejected.reason);
                    prop_assert!(!fits(&wanted_digits, wanted_exp), "{} fits but was rejected", literal);
                }
            }
        }
    }
}

/// A number literal as (sign and significant digits, power of ten of the last digit):
/// equal values give equal pairs, whatever the scale or exponent they were written with.
fn normalise(literal: &str) -> (String, i64) {
    let (negative, unsigned) = match literal.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, literal),
    };
    let (mantissa, exp) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.trim_start_matches('+').parse::<i64>().unwrap()),
        None => (unsigned, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    let mut power = exp - frac.len() as i64;
    let trimmed = digits.trim_end_matches('0');
    power += (digits.len() - trimmed.len()) as i64;
    if trimmed.is_empty() {
        return ("0".into(), 0);
    }
    (
        format!("{}{trimmed}", if negative { "-" } else { "" }),
        power,
    )
}

/// Whether digits × 10^power fits rust_decimal: at most 28 places, mantissa under 2^96.
fn fits(digits: &str, power: i64) -> bool {
    let digits = digits.trim_start_matches('-');
    if power < -28 {
        return false;
    }
    let zeros = power.max(0) as usize;
    if digits.len() + zeros > 29 {
        return false;
    }
    let mantissa: u128 = format!("{digits}{}", "0".repeat(zeros)).parse().unwrap();
    mantissa < (1u128 << 96)
}

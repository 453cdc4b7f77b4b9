//! The reference-table loader and lookup.
//!
//! The corpus: every `tests/data/tables/cases/TABLE.WHAT.csv` is a file an officer could hand
//! in for table `TABLE` (declared by the national rulebook, or by the test rulebook in
//! `tests/data/tables/rulebook/` for the column kinds the national tables do not use), and
//! `tests/snapshots/table_case__TABLE.WHAT.snap` is what the loader makes of it: the rows read,
//! or every error. Adding a case means adding a file.
//!
//! Lookups run on the national rulebook with `--table` overrides pointing at
//! `tests/data/tables/lookup/`, a catalogue whose codes change price mid-year.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;
use vigil_compiler::model::{Rulebook, Table};
use vigil_runtime::tables::{LoadedTable, TableError, Tables, MAX_ERRORS};
use vigil_runtime::value::{Record, Value};

/// Test data, relative to the package root (cargo runs tests there), so snapshots show short
/// paths that do not depend on the checkout.
const CASES: &str = "tests/data/tables/cases";
const LOOKUP: &str = "tests/data/tables/lookup";
const TEST_RULEBOOK: &str = "tests/data/tables/rulebook";

fn national_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national")
}

/// A rulebook folder, checked; a rulebook with errors fails the test.
fn checked(root: &Path) -> Rulebook {
    let loaded =
        vigil_compiler::load_rulebook(root).unwrap_or_else(|e| panic!("{}: {e}", root.display()));
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == vigil_compiler::Severity::Error)
        .map(|d| d.headline(&loaded.sources))
        .collect();
    assert!(
        errors.is_empty(),
        "{}:\n{}",
        root.display(),
        errors.join("\n")
    );
    loaded.rulebook
}

fn national() -> Rulebook {
    checked(&national_root())
}

/// Every table either rulebook declares, by name (the two use distinct names).
fn declarations() -> BTreeMap<String, Table> {
    let mut decls = national().tables;
    for (name, t) in checked(Path::new(TEST_RULEBOOK)).tables {
        assert!(
            decls.insert(name.clone(), t).is_none(),
            "table `{name}` is declared by both rulebooks"
        );
    }
    decls
}

fn text(s: &str) -> Value {
    Value::Text(Arc::from(s))
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn dec(s: &str) -> Value {
    Value::Decimal(s.parse().unwrap_or_else(|e| panic!("{s}: {e}")))
}

/// What the loader made of a file: every row with its columns named, or every error.
fn render(decl: &Table, result: &Result<LoadedTable, Vec<TableError>>) -> String {
    let mut out = String::new();
    match result {
        Ok(t) => {
            out.push_str(&format!("ok: {} row(s)\n", t.len()));
            for (i, row) in t.rows().iter().enumerate() {
                out.push_str(&format!("row {}:\n", i + 1));
                for (c, v) in decl.columns.iter().zip(&row.values) {
                    out.push_str(&format!("  {}: {v:?}\n", c.name));
                }
            }
        }
        Err(errors) => {
            out.push_str(&format!("{} error(s)\n", errors.len()));
            for e in errors {
                out.push_str(&format!("{e}\n"));
            }
        }
    }
    out
}

#[test]
fn corpus() {
    let decls = declarations();
    let mut files: Vec<PathBuf> = std::fs::read_dir(CASES)
        .unwrap_or_else(|e| panic!("{CASES}: {e}"))
        .map(|e| e.expect("a listed case entry can be read").path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "the corpus has {} cases", files.len());
    for file in files {
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let table = stem.split('.').next().unwrap_or_default();
        let decl = decls.get(table).unwrap_or_else(|| {
            panic!(
                "{}: a case is named TABLE.WHAT.csv with a declared TABLE",
                file.display()
            )
        });
        let result = LoadedTable::load(decl, &file);
        if let Ok(t) = &result {
            for row in t.rows() {
                assert_eq!(row.values.len(), decl.columns.len(), "{stem}: row width");
            }
        }
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_input_file(Path::new(env!("CARGO_MANIFEST_DIR")).join(&file));
        settings
            .bind(|| insta::assert_snapshot!(format!("table_case__{stem}"), render(decl, &result)));
    }
}

#[test]
fn national_tables_load() {
    let book = national();
    let tables = Tables::load(&book, &national_root(), &[])
        .unwrap_or_else(|e| panic!("{}", errors_text(&e)));
    for name in book.tables.keys() {
        assert!(tables.get(name).is_some(), "table `{name}` not loaded");
    }
    assert_eq!(tables.iter().count(), book.tables.len());
    let hilist = tables.get("hilist").expect("declared above");
    let slot = |c: &str| {
        hilist
            .column_slot(c)
            .unwrap_or_else(|| panic!("column {c}"))
    };
    let bed = hilist
        .lookup(&[text("110200001000000")], Some(date("2026-03-01")))
        .expect("the bed fee is in the national catalogue");
    assert_eq!(bed.get(slot("pric_uplmt_amt")), &dec("60.00"));
    assert_eq!(bed.get(slot("per_diem")), &Value::Bool(true));
    assert_eq!(bed.get(slot("lmt_dx")), &Value::List(vec![]));
    assert_eq!(bed.get(slot("gend_lmt")), &Value::Absent);
    assert_eq!(bed.get(slot("end_date")), &Value::Absent);
    let metformin = hilist
        .lookup(&[text("XA10BA02A001010100000")], Some(date("2026-03-01")))
        .expect("metformin is in the national catalogue");
    assert_eq!(
        metformin.get(slot("lmt_dx")),
        &Value::List(vec![text("E11")])
    );
    // Before the catalogue's first day there is no row.
    assert!(hilist
        .lookup(&[text("XA10BA02A001010100000")], Some(date("2025-12-31")))
        .is_none());
    let providers = tables.get("providers").expect("declared");
    assert_eq!(providers.len(), data_rows("providers.csv"));
    let org = providers
        .lookup(&[text("H110001")], None)
        .expect("a provider without validity is found with no date");
    assert_eq!(org.get(2), &Value::Int(3));
    assert_eq!(
        tables.get("item_pairs").expect("declared").len(),
        data_rows("item_pairs.csv")
    );
    let dx = tables.get("dx_gender").expect("declared");
    assert_eq!(dx.rows().len(), data_rows("dx_gender.csv"));
    assert_eq!(dx.column_slot("gend"), Some(1));
    assert_eq!(dx.column_slot("sex"), None);
}

/// Data rows of a national table file (its cells hold no line breaks): the tables are data a
/// province replaces, so tests count them rather than pin a number.
fn data_rows(file: &str) -> usize {
    let text = std::fs::read_to_string(national_root().join("tables").join(file))
        .expect("national table file");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count()
}

#[test]
fn test_rulebook_tables_load() {
    let book = checked(Path::new(TEST_RULEBOOK));
    let tables = Tables::load(&book, Path::new(TEST_RULEBOOK), &[])
        .unwrap_or_else(|e| panic!("{}", errors_text(&e)));
    let kinds = tables.get("kinds").expect("declared");
    let k1 = kinds
        .lookup(&[text("K1")], None)
        .expect("K1 is in the file");
    let levels = kinds.column_slot("levels").expect("declared");
    assert_eq!(
        k1.get(levels),
        &Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(3)])
    );
}

fn errors_text(errors: &[TableError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The national rulebook with the catalogue and the item pairs read from `tests/data/tables/
/// lookup/`, outside the rulebook folder, as `--table` allows.
fn overridden() -> Tables {
    let overrides = vec![
        ("hilist".to_string(), Path::new(LOOKUP).join("hilist.csv")),
        (
            "item_pairs".to_string(),
            Path::new(LOOKUP).join("item_pairs.csv"),
        ),
    ];
    Tables::load(&national(), &national_root(), &overrides)
        .unwrap_or_else(|e| panic!("{}", errors_text(&e)))
}

/// The catalogue name of the row `code` has on `day`, if any.
fn name_on(tables: &Tables, code: &str, day: &str) -> Option<String> {
    let hilist = tables.get("hilist")?;
    let slot = hilist.column_slot("hilist_name")?;
    let row: &Record = hilist.lookup(&[text(code)], Some(date(day)))?;
    Some(row.get(slot).to_string())
}

#[test]
fn override_replaces_the_declared_file() {
    let tables = overridden();
    let hilist = tables.get("hilist").expect("declared");
    assert_eq!(hilist.path(), Path::new(LOOKUP).join("hilist.csv"));
    assert_eq!(hilist.name(), "hilist");
    assert_eq!(hilist.len(), 6);
    // The national file's codes are not there: the override replaces, it does not add.
    assert!(hilist
        .lookup(&[text("110200001000000")], Some(date("2026-03-01")))
        .is_none());
    // Tables not overridden come from the rulebook folder.
    assert_eq!(
        tables.get("providers").expect("declared").path(),
        national_root().join("tables/providers.csv")
    );
}

#[test]
fn a_code_whose_row_changes_mid_year() {
    let t = overridden();
    let name = |day| name_on(&t, "X01", day);
    assert_eq!(name("2025-12-31"), None);
    assert_eq!(name("2026-01-01").as_deref(), Some("上半年价格"));
    assert_eq!(name("2026-03-15").as_deref(), Some("上半年价格"));
    assert_eq!(name("2026-06-30").as_deref(), Some("上半年价格"));
    assert_eq!(name("2026-07-01").as_deref(), Some("下半年价格"));
    assert_eq!(name("2026-12-31").as_deref(), Some("下半年价格"));
    // Open end: valid for ever after.
    assert_eq!(name("2099-12-31").as_deref(), Some("下半年价格"));
}

#[test]
fn a_gap_between_periods_has_no_row() {
    let t = overridden();
    let name = |day| name_on(&t, "W01", day);
    assert_eq!(name("2026-01-31").as_deref(), Some("一月"));
    assert_eq!(name("2026-02-01"), None);
    assert_eq!(name("2026-02-28"), None);
    assert_eq!(name("2026-03-01").as_deref(), Some("三月"));
    assert_eq!(name("2026-03-31").as_deref(), Some("三月"));
    assert_eq!(name("2026-04-01"), None);
}

#[test]
fn open_ended_periods() {
    let t = overridden();
    // Open start: valid on any day up to the end.
    assert_eq!(
        name_on(&t, "Y01", "1900-01-01").as_deref(),
        Some("截至三月底")
    );
    assert_eq!(
        name_on(&t, "Y01", "2026-03-31").as_deref(),
        Some("截至三月底")
    );
    assert_eq!(name_on(&t, "Y01", "2026-04-01"), None);
    // Both ends open.
    for day in ["0001-01-01", "2026-06-15", "9999-12-31"] {
        assert_eq!(name_on(&t, "Z01", day).as_deref(), Some("始终有效"));
    }
}

#[test]
fn lookups_that_find_nothing() {
    let t = overridden();
    let hilist = t.get("hilist").expect("declared");
    // A table with validity needs a date: an absent date finds nothing.
    assert!(hilist.lookup(&[text("Z01")], None).is_none());
    assert!(hilist
        .lookup(&[text("NOPE")], Some(date("2026-01-01")))
        .is_none());
    assert!(hilist
        .lookup(&[Value::Absent], Some(date("2026-01-01")))
        .is_none());
    // The wrong number of key values finds nothing rather than panicking.
    assert!(hilist.lookup(&[], Some(date("2026-01-01"))).is_none());
    assert!(hilist
        .lookup(&[text("Z01"), text("Z01")], Some(date("2026-01-01")))
        .is_none());
}

#[test]
fn composite_keys() {
    let t = overridden();
    let pairs = t.get("item_pairs").expect("declared");
    let relation = pairs.column_slot("relation").expect("declared");
    let rel = |a: &str, b: &str, day: &str| {
        pairs
            .lookup(&[text(a), text(b)], Some(date(day)))
            .map(|r| r.get(relation).to_string())
    };
    assert_eq!(
        rel("310100001", "310100002", "2026-03-31").as_deref(),
        Some("includes")
    );
    assert_eq!(
        rel("310100001", "310100002", "2026-04-01").as_deref(),
        Some("excludes")
    );
    // The key is ordered: (b, a) is another key with its own period.
    assert_eq!(rel("310100002", "310100001", "2025-12-31"), None);
    assert_eq!(
        rel("310100002", "310100001", "2026-01-01").as_deref(),
        Some("excludes")
    );
    assert_eq!(rel("310100001", "310100001", "2026-01-01"), None);
}

#[test]
fn an_int_key_finds_a_decimal_row() {
    let book = checked(Path::new(TEST_RULEBOOK));
    let tables = Tables::load(&book, Path::new(TEST_RULEBOOK), &[])
        .unwrap_or_else(|e| panic!("{}", errors_text(&e)));
    let prices = tables.get("prices").expect("declared");
    let band = |key: Value| prices.lookup(&[key], None).map(|r| r.get(1).to_string());
    // 60 == 60.00: decimals compare by value, and an int key is widened.
    assert_eq!(band(Value::Int(60)).as_deref(), Some("low"));
    assert_eq!(band(dec("60")).as_deref(), Some("low"));
    assert_eq!(band(dec("120.50")).as_deref(), Some("high"));
    assert_eq!(band(Value::Int(120)), None);
    assert_eq!(band(text("60.00")), None);
}

#[test]
fn override_errors() {
    let book = national();
    let root = national_root();
    let cases: Vec<(&str, Vec<(String, PathBuf)>)> = vec![
        (
            "an override for a table not declared",
            vec![("hilsit".into(), Path::new(LOOKUP).join("hilist.csv"))],
        ),
        (
            "an override nothing is close to",
            vec![("drugs".into(), Path::new(LOOKUP).join("hilist.csv"))],
        ),
        (
            "one table overridden twice",
            vec![
                ("hilist".into(), Path::new(LOOKUP).join("hilist.csv")),
                ("hilist".into(), Path::new(CASES).join("hilist.bom.csv")),
            ],
        ),
        (
            "an override naming a missing file",
            vec![("providers".into(), Path::new(LOOKUP).join("providers.csv"))],
        ),
        (
            "an override naming a bad file: its errors, the other tables loaded",
            vec![(
                "providers".into(),
                Path::new(CASES).join("providers.duplicate_key.csv"),
            )],
        ),
    ];
    let mut out = String::new();
    for (what, overrides) in cases {
        let errors = Tables::load(&book, &root, &overrides)
            .err()
            .unwrap_or_else(|| panic!("{what}: loaded"));
        out.push_str(&format!("# {what}\n{}\n\n", errors_text(&errors)));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn a_declared_path_that_leaves_the_folder_is_refused() {
    let mut book = national();
    let decl = book.tables.get_mut("dx_gender").expect("declared");
    decl.path = "../cn-national/tables/dx_gender.csv".into();
    let errors =
        Tables::load(&book, &national_root(), &[]).expect_err("the path leaves the folder");
    insta::assert_snapshot!(errors_text(&errors));
    // The same file named on the command line is used as given.
    let file = national_root().join("tables/dx_gender.csv");
    let tables = Tables::load(&book, &national_root(), &[("dx_gender".into(), file)])
        .unwrap_or_else(|e| panic!("{}", errors_text(&e)));
    assert_eq!(
        tables.get("dx_gender").map(LoadedTable::len),
        Some(data_rows("dx_gender.csv"))
    );
}

#[test]
fn a_missing_declared_file() {
    let book = checked(Path::new(TEST_RULEBOOK));
    // The national folder has no kinds.csv or prices.csv.
    let errors = Tables::load(&book, &national_root(), &[]).expect_err("no such files");
    assert_eq!(errors.len(), 2);
    assert!(errors.iter().all(|e| e.line == 0 && e.column.is_none()));
    assert!(
        errors[0]
            .to_string()
            .ends_with("tables/kinds.csv: no such file (add it, or pass `--table kinds=FILE`)"),
        "{}",
        errors[0]
    );
}

#[test]
fn errors_stop_at_the_cap() {
    let decls = declarations();
    let decl = &decls["providers"];
    let mut csv = String::from("fixmedins_code,fixmedins_name,hosp_lv,kind\n");
    for i in 0..(MAX_ERRORS * 2) {
        csv.push_str(&format!("H{i},医院,甲,hospital\n"));
    }
    let errors = LoadedTable::parse(decl, Path::new("many.csv"), csv.as_bytes())
        .expect_err("every row is bad");
    assert_eq!(errors.len(), MAX_ERRORS + 1);
    assert_eq!(
        errors[0].to_string(),
        "many.csv:2: column `hosp_lv`: `甲` is not a whole number"
    );
    assert_eq!(errors[MAX_ERRORS - 1].line, MAX_ERRORS + 1);
    assert!(
        errors[MAX_ERRORS]
            .to_string()
            .starts_with("many.csv: stopped at 100 errors"),
        "{}",
        errors[MAX_ERRORS]
    );
    // Fewer than the cap: all of them, and no note.
    let few: String = csv.lines().take(11).map(|l| format!("{l}\n")).collect();
    let errors = LoadedTable::parse(decl, Path::new("few.csv"), few.as_bytes())
        .expect_err("every row is bad");
    assert_eq!(errors.len(), 10);
}

#[test]
fn a_long_bad_cell_is_cut_short_in_the_message() {
    let decls = declarations();
    let long = "9".repeat(30) + &"x".repeat(1000);
    let csv = format!("fixmedins_code,fixmedins_name,hosp_lv,kind\nH1,医院,{long},hospital\n");
    let errors = LoadedTable::parse(&decls["providers"], Path::new("t.csv"), csv.as_bytes())
        .expect_err("a bad int");
    assert!(errors[0].message.chars().count() < 80, "{}", errors[0]);
    assert!(errors[0].message.contains("xxxxxxxxxx…`"), "{}", errors[0]);
}

/// Cell text drawn from what breaks readers: separators, quotes, line ends, a BOM, digits,
/// dates, and characters outside ASCII.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,4}",
        "-?[0-9]{1,30}(\\.[0-9]{0,30})?",
        "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?",
        "(true|false|1|0|TRUE|)",
        "[a-zA-Z|;, \"\r\n\u{feff}\u{3000}阿司]{0,8}",
        "\"[^\"]{0,6}\"",
        any::<String>(),
    ]
}

fn csv_text() -> impl Strategy<Value = String> {
    prop_oneof![
        // Arbitrary text.
        any::<String>(),
        // Rows of cells under a header that may or may not match the declaration.
        (
            prop_oneof![
                Just("hilist_code,hilist_name,list_type,med_chrgitm_type,chrgitm_lv,gend_lmt,min_age,max_age,hosp_lv_min,lmt_dx,pric_uplmt_amt,daily_max,per_diem,begn_date,end_date".to_string()),
                Just("code,name,kind,on,flag,n,amount,ratio,day,seen,period,tags,levels".to_string()),
                "[a-z_,\"]{0,40}",
            ],
            prop::collection::vec(prop::collection::vec(cell(), 0..16), 0..8),
            prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
        )
            .prop_map(|(header, rows, end)| {
                let mut s = header;
                for r in rows {
                    s.push_str(end);
                    s.push_str(&r.join(","));
                }
                s
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Whatever the file holds, the loader answers with a table or errors, and never panics;
    /// a table it answers with has full rows and can be looked up.
    #[test]
    fn the_loader_never_panics(input in csv_text(), bom in any::<bool>(), date_shift in 0i64..800) {
        let decls = declarations_cached();
        let mut bytes = Vec::new();
        if bom {
            bytes.extend_from_slice(b"\xEF\xBB\xBF");
        }
        bytes.extend_from_slice(input.as_bytes());
        for name in ["hilist", "kinds", "item_pairs"] {
            let decl = &decls[name];
            match LoadedTable::parse(decl, Path::new("fuzz.csv"), &bytes) {
                Ok(t) => {
                    let at = date("2025-06-01") + chrono::Duration::days(date_shift);
                    for row in t.rows() {
                        prop_assert_eq!(row.values.len(), decl.columns.len());
                        let key: Vec<Value> = decl
                            .key
                            .iter()
                            .map(|k| row.get(t.column_slot(k).unwrap_or(usize::MAX)).clone())
                            .collect();
                        let _ = t.lookup(&key, Some(at));
                    }
                }
                Err(errors) => {
                    prop_assert!(!errors.is_empty());
                    prop_assert!(errors.len() <= MAX_ERRORS + 1);
                    for e in &errors {
                        let _ = e.to_string();
                    }
                }
            }
        }
    }

    /// A row's lookup on any day finds the row whose period holds the day: the index agrees
    /// with a scan of the rows.
    #[test]
    fn lookup_agrees_with_a_scan(day in 0i64..1200) {
        let tables = overridden_cached();
        let at = date("2025-06-01") + chrono::Duration::days(day);
        let hilist = tables.get("hilist").expect("declared");
        let (code, begn, end) = (
            hilist.column_slot("hilist_code").expect("declared"),
            hilist.column_slot("begn_date").expect("declared"),
            hilist.column_slot("end_date").expect("declared"),
        );
        for code_text in ["X01", "W01", "Y01", "Z01"] {
            let scanned = hilist.rows().iter().find(|r| {
                r.get(code) == &text(code_text)
                    && match r.get(begn) { Value::Date(d) => *d <= at, _ => true }
                    && match r.get(end) { Value::Date(d) => at <= *d, _ => true }
            });
            prop_assert_eq!(hilist.lookup(&[text(code_text)], Some(at)), scanned);
        }
    }
}

fn declarations_cached() -> &'static BTreeMap<String, Table> {
    static DECLS: std::sync::OnceLock<BTreeMap<String, Table>> = std::sync::OnceLock::new();
    DECLS.get_or_init(declarations)
}

fn overridden_cached() -> &'static Tables {
    static TABLES: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    TABLES.get_or_init(overridden)
}

#[test]
fn decimal_cells_are_exact() {
    let decls = declarations();
    let csv = "code,name,kind,on,flag,n,amount,ratio,day,seen,period,tags,levels\n\
               K1,x,,,,,0.1,0.3000000000000000000000000001,,,,,\n";
    let t = LoadedTable::parse(&decls["kinds"], Path::new("t.csv"), csv.as_bytes())
        .unwrap_or_else(|e| panic!("{}", errors_text(&e)));
    let row = &t.rows()[0];
    let ratio = row.get(t.column_slot("ratio").expect("declared"));
    assert_eq!(
        ratio,
        &Value::Decimal(
            "0.3000000000000000000000000001"
                .parse::<Decimal>()
                .expect("28 places fit")
        )
    );
    assert_eq!(ratio.to_string(), "0.3000000000000000000000000001");
}

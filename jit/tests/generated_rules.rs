//! Generated rules: random well-typed `when` expressions (numbers, decimals at several scales,
//! division, negation, `abs`, `round`, `min`/`max`, dates, optionals, `??`, comparisons, text
//! order, categories, boolean logic, `if`, quantifiers and aggregates over the claim's lines
//! and over `groups(…)` of them), compiled natively and interpreted on sample claims and on claims pushed to
//! the edges (absent fields, huge and over-precise amounts, empty line lists). Wherever the
//! native code decides, it decides what the interpreter does.

use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use vigil_compiler::interp::ClaimEval;
use vigil_compiler::value::Record;
use vigil_jit::{Kernel, Verdict};
use vigil_runtime::batch::Batch;
use vigil_runtime::claims::{ClaimLayout, ClaimReader};
use vigil_runtime::tables::{LoadedTable, Tables, TablesOnly};

mod support;
use support::{base_dir, book, lines_of, number_binders, read, setup_at, CHAINED};

fn int_lit() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("1".to_string()),
        Just("7".to_string()),
        Just("-3".to_string()),
        Just("1000000000000".to_string()),
        Just("9223372036854775807".to_string()),
    ]
}

fn dec_lit() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0.5".to_string()),
        Just("12.3456".to_string()),
        Just("0.01".to_string()),
        Just("99999999999.99".to_string()),
        Just("-2.25".to_string()),
        Just("3.000000000001".to_string()),
    ]
}

/// A line's number, with a default for absent.
fn line_num(l: &'static str) -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just("cnt"),
            Just("pric"),
            Just("det_item_fee_sumamt"),
            Just("prd_days")
        ],
        prop_oneof![int_lit(), dec_lit()],
    )
        .prop_map(move |(f, d)| format!("({l}.{f} ?? {d})"))
}

fn num(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        int_lit(),
        dec_lit(),
        line_num("line"),
        Just("(claim.medfee_sumamt ?? 0)".to_string()),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        3 => leaf,
        2 => (num(depth - 1), prop_oneof![Just("+"), Just("-"), Just("*")], num(depth - 1))
            .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
        1 => (line_num("l"), boolean_l(depth - 1))
            .prop_map(|(v, c)| format!("sum({v} for l in claim.fee_list where {c})")),
        1 => boolean_l(depth - 1).prop_map(|c| format!("count(l in claim.fee_list where {c})")),
        1 => line_num("l").prop_map(|v| format!("(max({v} for l in claim.fee_list) ?? 0)")),
        1 => boolean_l(depth - 1).prop_map(|c| {
            format!("count(distinct(l.hilist_code for l in claim.fee_list where {c}))")
        }),
        1 => line_num("l").prop_map(|v| format!("count(distinct({v} for l in claim.fee_list))")),
        1 => (date(), date()).prop_map(|(a, b)| format!("days_between({a}, {b})")),
        // A literal zero divisor does not check (V0314); a zero count does, and fails when run.
        1 => (num(depth - 1), num(depth - 1)).prop_map(|(a, b)| {
            let b = if b == "0" { "(line.cnt ?? 0)".to_string() } else { b };
            format!("({a} / {b})")
        }),
        1 => num(depth - 1).prop_map(|a| format!("(-{a})")),
        1 => num(depth - 1).prop_map(|a| format!("abs({a})")),
        1 => (num(depth - 1), 0i64..5).prop_map(|(a, p)| format!("round({a}, {p})")),
        1 => (prop_oneof![Just("min"), Just("max")], num(depth - 1), num(depth - 1))
            .prop_map(|(f, a, b)| format!("{f}({a}, {b})")),
        1 => groups().prop_map(|(g, _)| format!("count(g in {g})")),
        1 => (groups(), line_num("m")).prop_map(|((g, _), v)| {
            format!("sum(sum({v} for m in g.items) for g in {g} where count(m in g.items) > 1)")
        }),
    ]
    .boxed()
}

/// `groups(…)` of the claim's lines by a key of several kinds, with or without a filter, and
/// a condition on its group `g` that fits the key's type.
fn groups() -> impl Strategy<Value = (String, String)> {
    let key = prop_oneof![
        Just(("gl.hilist_code", "g.key == line.hilist_code")),
        Just((
            "gl.hilist_code?.category",
            "g.key == line.hilist_code?.category"
        )),
        Just(("gl.hilist_code?.category", "g.key < \"XB05\"")),
        Just(("gl.rx_drord_no", "g.key == line.rx_drord_no")),
        Just(("gl.prd_days", "g.key > 3")),
        Just(("gl.cnt", "g.key >= 2")),
    ];
    let filter = prop_oneof![
        Just(""),
        Just(" where (gl.cnt ?? 0) > 1"),
        Just(" where gl.pric is some"),
        Just(" where sorts_before(gl.feedetl_sn, line.feedetl_sn)"),
        Just(" where gl.hilist_code?.category == line.hilist_code?.category"),
    ];
    (key, filter).prop_map(|((k, c), f)| {
        (
            format!("groups(gl in claim.fee_list by {k}{f})"),
            c.to_string(),
        )
    })
}

/// A condition on a group `g` of lines (`key` is one on its key).
fn group_cond(key: String) -> impl Strategy<Value = String> {
    prop_oneof![
        line_num("m").prop_map(|v| format!("sum({v} for m in g.items) > 2")),
        Just("count(distinct(m.hilist_code for m in g.items)) > 1".to_string()),
        Just("(max(m.pric ?? 0 for m in g.items) ?? 0) >= 10".to_string()),
        Just(key),
        Just("count(m in g.items where m.feedetl_sn == line.feedetl_sn) > 0".to_string()),
    ]
}

fn date() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("(line.fee_ocur_time?.date ?? date(\"2026-01-01\"))".to_string()),
        Just("(claim.begndate?.date ?? date(\"2026-03-01\"))".to_string()),
        Just("date(\"2026-02-28\")".to_string()),
        (0i64..40).prop_map(|n| format!("((claim.enddate?.date ?? date(\"2026-06-30\")) - {n})")),
    ]
}

/// A value bound by `is some` and compared inside a loop (native code knows it present).
const SOME_CODE: &str = "(line.hilist_code is some(hc) and (exists l in claim.fee_list where l.hilist_code == hc and l.feedetl_sn != line.feedetl_sn))";

/// A condition on the iterated line `l` (and the current line).
fn boolean_l(depth: u32) -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        (line_num("l"), int_lit()).prop_map(|(a, b)| format!("{a} > {b}")),
        Just("l.pric is none".to_string()),
        Just("sorts_before(l.feedetl_sn, line.feedetl_sn)".to_string()),
        Just("l.hilist_code == line.hilist_code".to_string()),
        Just("l.hilist_code?.category == line.hilist_code?.category".to_string()),
        Just("l.feedetl_sn < line.feedetl_sn".to_string()),
        Just("min(l.feedetl_sn, line.feedetl_sn) == l.feedetl_sn".to_string()),
        // Values of `l` alone, computed once per line before the rules run (line_values.rs).
        Just("event_date(claim, l) == event_date(claim, line)".to_string()),
        Just("(event_date(claim, l) ?? date(\"2026-01-01\")) < date(\"2026-10-02\")".to_string()),
        Just("catalogue_row(claim, l)?.per_diem == true".to_string()),
        Just("(catalogue_row(claim, l)?.daily_max ?? 0) >= 1".to_string()),
        // A pair row only compared with a relation: keys tested among that relation's rows.
        Just("item_pairs[l.hilist_code, line.hilist_code at (event_date(claim, l) ?? date(\"2026-10-10\"))]?.relation == excludes".to_string()),
        Just("includes == item_pairs[line.hilist_code, l.hilist_code at (event_date(claim, line) ?? date(\"2026-10-10\"))]?.relation".to_string()),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        3 => leaf,
        1 => (boolean_l(depth - 1), boolean_l(depth - 1)).prop_map(|(a, b)| format!("({a} and {b})")),
        1 => boolean_l(depth - 1).prop_map(|a| format!("not ({a})")),
    ]
    .boxed()
}

fn boolean(depth: u32) -> BoxedStrategy<String> {
    let cmp = prop_oneof![
        Just("=="),
        Just("!="),
        Just("<"),
        Just("<="),
        Just(">"),
        Just(">=")
    ];
    let leaf = prop_oneof![
        (num(depth.min(2)), cmp.clone(), num(depth.min(2)))
            .prop_map(|(a, o, b)| format!("{a} {o} {b}")),
        (date(), cmp, date()).prop_map(|(a, o, b)| format!("{a} {o} {b}")),
        Just("line.cnt is none".to_string()),
        Just("line.pric is some(p) and p > 1".to_string()),
        Just(SOME_CODE.to_string()),
        prop::sample::select(CHAINED.to_vec()).prop_map(str::to_string),
        Just("line.hilist_code?.category == claim.dscg_maindiag_code?.category".to_string()),
        Just("(line.hilist_code?.category ?? \"\") <= \"XB0\"".to_string()),
        Just("(line.rx_drord_no ?? \"\") >= \"RX2\"".to_string()),
        Just("line.hilist_code?.category == \"XB05\"".to_string()),
        // Prefixes up to seven bytes compare by the texts' words, longer ones by a call;
        // texts of the tables (the catalogue's codes) and of the claims alone (line numbers).
        (
            prop::sample::select(vec![
                "line.hilist_code ?? \"\"",
                "line.hilist_name ?? \"\"",
                "line.feedetl_sn",
                "claim.dscg_maindiag_code ?? \"\""
            ]),
            prop::sample::select(vec![
                "\"\"",
                "\"2\"",
                "\"25\"",
                "\"2501020\"",
                "\"25010203\"",
                "\"250102035000000\"",
                "\"1\"",
                "\"阿\"",
                "\"阿司\"",
                "\"阿司匹林\"",
                "\"X\"",
                "line.hilist_code?.category ?? \"\"",
                "claim.dscg_maindiag_code ?? \"\""
            ]),
        )
            .prop_map(|(t, p)| format!("starts_with({t}, {p})")),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        3 => leaf,
        1 => (boolean(depth - 1), boolean(depth - 1)).prop_map(|(a, b)| format!("({a} and {b})")),
        1 => (boolean(depth - 1), boolean(depth - 1)).prop_map(|(a, b)| format!("({a} or {b})")),
        1 => boolean(depth - 1).prop_map(|a| format!("not ({a})")),
        1 => (boolean(depth - 1), boolean(depth - 1), boolean(depth - 1))
            .prop_map(|(c, a, b)| format!("(if {c} then {a} else {b})")),
        1 => boolean_l(depth - 1).prop_map(|c| format!("(exists l in claim.fee_list where {c})")),
        1 => boolean_l(depth - 1).prop_map(|c| format!("(all l in claim.fee_list where {c})")),
        1 => groups()
            .prop_flat_map(|(g, k)| group_cond(k).prop_map(move |c| format!("(exists g in {g} where {c})"))),
        1 => groups().prop_flat_map(|(g, k)| {
            group_cond(k).prop_map(move |c| format!("(first(g in {g} where {c}) is some)"))
        }),
    ]
    .boxed()
}

/// Sample claims, and the same claims pushed to the edges of the native layout.
fn claims_text() -> Vec<u8> {
    let text = std::fs::read_to_string(book().join("samples/claims.jsonl")).expect("samples");
    let mut out = String::new();
    for (i, line) in text.lines().take(240).enumerate() {
        out.push_str(line);
        out.push('\n');
        let mut v: serde_json::Value = serde_json::from_str(line).expect("sample JSON");
        v["setl_id"] = format!("EDGE{i}").into();
        if let Some(lines) = v["fee_list"].as_array_mut() {
            for (j, l) in lines.iter_mut().enumerate() {
                match (i + j) % 6 {
                    0 => l["cnt"] = "922337203685477.5807".into(),
                    1 => l["pric"] = "0.00001".into(),
                    2 => {
                        if let Some(o) = l.as_object_mut() {
                            o.remove("pric");
                            o.remove("fee_ocur_time");
                        }
                    }
                    3 => l["det_item_fee_sumamt"] = "-99999999999.99".into(),
                    4 => l["prd_days"] = serde_json::json!(9223372036854775807i64),
                    _ => {}
                }
            }
            if i % 7 == 0 {
                lines.clear();
            }
        }
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out.into_bytes()
}

#[test]
fn generated_rules_agree_with_the_interpreter() {
    // Debug builds of the checker, the interpreter and the code generator recurse per nesting
    // level with large frames; the deepest generated rules need more than a test thread's
    // default 2 MiB.
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(generated_rules_agree)
        .expect("spawn the test thread")
        .join()
        .expect("the generated rules agree");
}

fn generated_rules_agree() {
    let dir = base_dir();
    let text = claims_text();
    let mut runner = TestRunner::new(Config {
        cases: 16 * support::scale() as u32,
        failure_persistence: None,
        ..Config::default()
    });
    let rules = prop::collection::vec(boolean(3), 6);
    let decided_total = std::cell::Cell::new(0usize);
    let native_rules = std::cell::Cell::new(0usize);
    let bailed = std::cell::Cell::new(0usize);
    let with_line_values = std::cell::Cell::new(0usize);
    let with_chains = std::cell::Cell::new(0usize);
    runner
        .run(&rules, |whens| {
            let mut src = String::new();
            // Every binder gets a name of its own: a name means one thing within a rule.
            let whens: Vec<String> = whens
                .iter()
                .map(|w| {
                    let mut out = String::new();
                    for (n, part) in w.split("is some(p) and p > 1").enumerate() {
                        if n > 0 {
                            out.push_str(&format!("is some(p{n}) and p{n} > 1"));
                        }
                        out.push_str(part);
                    }
                    let mut renamed = String::new();
                    for (n, part) in out.split(SOME_CODE).enumerate() {
                        if n > 0 {
                            renamed.push_str(&SOME_CODE.replace("hc", &format!("hc{n}")));
                        }
                        renamed.push_str(part);
                    }
                    number_binders(&renamed)
                })
                .collect();
            for (i, w) in whens.iter().enumerate() {
                // A let the native code computes where `when` reads it (a count cannot fail;
                // `a_failing_let_is_computed_first` has one that can).
                let (lets, when) = match i % 3 {
                    1 => (
                        "  let n = count(l in claim.fee_list where l.hilist_code == line.hilist_code and l.feedetl_sn != line.feedetl_sn)\n",
                        format!("({w}) and n >= 2"),
                    ),
                    _ => ("", w.clone()),
                };
                src.push_str(&format!(
                    "rule GEN-{i} \"generated\" {{\n  severity info\n  basis \"generated\"\n  for line in claim.fee_list\n{lets}  when {when}\n  message \"x\"\n}}\n\n"
                ));
            }
            std::fs::write(dir.path().join("generated.vigil"), &src).expect("write rules");
            let loaded = vigil_compiler::load_rulebook(dir.path()).expect("loads");
            let errors: Vec<String> = loaded
                .diagnostics
                .iter()
                .filter(|d| d.severity == vigil_compiler::Severity::Error)
                .map(|d| d.render(&loaded.sources, false))
                .collect();
            prop_assert!(errors.is_empty(), "generated rules must check:\n{}\n{src}", errors.join("\n"));
            let program = vigil_compiler::lower::lower(&loaded);
            let layout = ClaimLayout::new(&loaded.rulebook).expect("layout");
            let all = Tables::load(&loaded.rulebook, dir.path(), &[]).expect("tables");
            let tables: Vec<LoadedTable> =
                program.tables.iter().map(|n| all.get(n).expect("table").clone()).collect();
            let kernel = Kernel::compile(&program, &loaded.rulebook, &layout, &tables)
                .expect("compiles");
            native_rules.set(native_rules.get() + kernel.compiled());
            if !kernel.line_values.is_empty() {
                with_line_values.set(with_line_values.get() + 1);
            }
            if kernel.line_values.iter().any(|v| v.contains("chained by")) {
                with_chains.set(with_chains.get() + 1);
            }
            let mut reader = ClaimReader::new(&layout, &text[..]);
            let claims: Vec<Arc<Record>> =
                reader.by_ref().filter_map(Result::ok).map(|c| Arc::new(c.record)).collect();
            let batch = Batch::new(&layout, &claims, kernel.strings());
            let verdicts = kernel.verdicts(&batch);
            let data = TablesOnly(&tables);
            for (claim, per_rule) in claims.iter().zip(&verdicts) {
                let mut eval = ClaimEval::new(&program, &data, claim.clone());
                for (rule, v) in per_rule.iter().enumerate() {
                    let lines = match v {
                        Verdict::Decided(lines) => lines,
                        Verdict::Bail => {
                            bailed.set(bailed.get() + 1);
                            continue;
                        }
                        Verdict::Interpreted => continue,
                    };
                    decided_total.set(decided_total.get() + 1);
                    // A decided rule never hides an evaluation error: the native code bails on
                    // every overflow the interpreter would report.
                    let hits = eval.rule(rule);
                    prop_assert!(hits.is_ok(), "native decided where the interpreter fails: {hits:?}\n{}", whens[rule]);
                    let want = hits.as_deref().map(lines_of).unwrap_or_default();
                    prop_assert_eq!(lines, &want, "rule {} on claim {}", whens[rule], claim.get(layout.setl_id()));
                }
            }
            Ok(())
        })
        .expect("native and interpreted agree");
    let (native_rules, decided_total) = (native_rules.get(), decided_total.get());
    assert!(
        native_rules > 16 * support::scale() * 6 / 2,
        "most generated rules compile natively ({native_rules})"
    );
    eprintln!("{native_rules} of {} generated rules native; {decided_total} rule-claim verdicts decided natively, {} bailed", 16 * support::scale() * 6, bailed.get());
    assert!(decided_total > 2_000, "decided {decided_total}");
    assert!(
        with_line_values.get() > 0,
        "some generated rulebooks read values computed per line ahead"
    );
    assert!(
        with_chains.get() > 0,
        "some generated rulebooks walk chains of the lines that share a key"
    );
    // Mixed scales (an int against a decimal, a 2-place literal against a 4-place column) are
    // decided natively, not handed back: only the edge claims' wide values should bail.
    assert!(
        decided_total > 3 * bailed.get(),
        "decided {decided_total}, bailed {}",
        bailed.get()
    );
    assert!(
        bailed.get() > 0,
        "the edge claims make the native code hand claims back"
    );
}

/// Datetimes before 0001-01-01 (the claims reader takes year 0000) have negative seconds in
/// the batch: `.date`, `.hour` and `.minute` must floor, as the interpreter's calendar does.
#[test]
fn datetimes_before_the_common_era_keep_their_day_and_hour() {
    let dir = base_dir();
    let conditions = [
        "line.fee_ocur_time?.date == date(\"0000-12-30\")",
        "line.fee_ocur_time?.date == date(\"0000-12-31\")",
        "line.fee_ocur_time?.hour == 23",
        "line.fee_ocur_time?.minute == 59",
        "line.fee_ocur_time?.hour == 0",
        "(line.fee_ocur_time?.date ?? date(\"2026-01-01\")) < (claim.begndate?.date ?? date(\"2026-01-01\"))",
    ];
    let mut src = String::new();
    for (i, w) in conditions.iter().enumerate() {
        src.push_str(&format!(
            "rule OLD-{i} \"old\" {{\n  severity info\n  basis \"b\"\n  for line in claim.fee_list\n  when {w}\n  message \"x\"\n}}\n\n"
        ));
    }
    std::fs::write(dir.path().join("old.vigil"), &src).expect("write rules");
    let support::Setup {
        program,
        layout,
        tables,
        kernel,
    } = setup_at(dir.path());
    assert_eq!(kernel.compiled(), conditions.len(), "{:?}", kernel.coverage);

    let sample = std::fs::read_to_string(book().join("samples/claims.jsonl")).expect("samples");
    let first = sample.lines().next().expect("a sample claim");
    let mut text = String::new();
    for (i, (time, begun)) in [
        ("0000-12-30 23:59:59", "0000-12-31 00:00:00"),
        ("0000-12-31 00:00:00", "0000-12-30 12:00:00"),
        ("0000-01-01 00:00:01", "0001-01-01 00:00:00"),
        ("0001-01-01 00:00:00", "0000-12-31 23:59:59"),
    ]
    .iter()
    .enumerate()
    {
        let mut v: serde_json::Value = serde_json::from_str(first).expect("sample JSON");
        v["setl_id"] = format!("OLD{i}").into();
        v["begndate"] = (*begun).into();
        if let Some(lines) = v["fee_list"].as_array_mut() {
            for l in lines.iter_mut() {
                l["fee_ocur_time"] = (*time).into();
            }
        }
        text.push_str(&v.to_string());
        text.push('\n');
    }
    let claims = read(&layout, text.as_bytes());
    assert_eq!(claims.len(), 4, "year 0000 is read");
    let verdicts = kernel.verdicts(&Batch::new(&layout, &claims, kernel.strings()));
    let data = TablesOnly(&tables);
    let mut fired = 0;
    for (claim, per_rule) in claims.iter().zip(&verdicts) {
        let mut eval = ClaimEval::new(&program, &data, claim.clone());
        for (rule, v) in per_rule.iter().enumerate() {
            let want = lines_of(&eval.rule(rule).expect("evaluates"));
            fired += want.len();
            assert_eq!(
                *v,
                Verdict::Decided(want),
                "{} on {}",
                conditions[rule],
                claim.get(layout.setl_id())
            );
        }
    }
    assert!(fired > 0, "the conditions fire somewhere");
}

/// A loop skipped by its guard (a lookup by a key no row has) must not hide an evaluation
/// error the interpreter raises before it reaches that lookup: a division by zero in an
/// earlier conjunct. Nor may a loop walk a chain of the lines with a code past such a
/// conjunct (CHAIN-1: the failing line has no code, so no line's chain holds it).
/// Where the interpreter fails, the native code must not decide.
#[test]
fn a_skipped_loop_hides_no_evaluation_error() {
    let dir = base_dir();
    std::fs::write(
        dir.path().join("guarded.vigil"),
        "rule GUARD-1 \"guarded\" {\n  severity info\n  basis \"b\"\n  when exists l in claim.fee_list\n       where (l.pric ?? 1) / (l.cnt ?? 0) > 0\n         and item_pairs[l.hilist_code, claim.fixmedins_code at date(\"2026-01-01\")]?.relation == includes\n  message \"x\"\n}\n\nrule GUARD-2 \"guarded, nothing before the lookup\" {\n  severity info\n  basis \"b\"\n  when exists l in claim.fee_list\n       where item_pairs[l.hilist_code, claim.fixmedins_code at date(\"2026-01-01\")]?.relation == includes\n         and (l.pric ?? 1) / (l.cnt ?? 0) > 0\n  message \"x\"\n}\n\nrule CHAIN-1 \"a failing conjunct before the key\" {\n  severity info\n  basis \"b\"\n  for line in claim.fee_list\n  when line.hilist_code is some(h)\n   and count(l in claim.fee_list where (l.cnt ?? 1) / (l.cnt ?? 1) > 0 and l.hilist_code == h) >= 1\n  message \"x\"\n}\n",
    )
    .expect("write rules");
    let s = support::setup_at(dir.path());
    let claims = zero_counts(&s, 30);
    let verdicts = s
        .kernel
        .verdicts(&Batch::new(&s.layout, &claims, s.kernel.strings()));
    let data = TablesOnly(&s.tables);
    let (mut failing, mut decided) = (0, 0);
    for (claim, per_rule) in claims.iter().zip(&verdicts) {
        let mut eval = ClaimEval::new(&s.program, &data, claim.clone());
        for (rule, v) in per_rule.iter().enumerate() {
            let result = eval.rule(rule);
            if let Verdict::Decided(lines) = v {
                decided += 1;
                let hits = result.expect("native decided, so the interpreter must not fail");
                assert_eq!(*lines, lines_of(&hits));
            } else if result.is_err() {
                failing += 1;
            }
        }
    }
    assert!(
        failing > 10,
        "the zero counts make the interpreter fail: {failing}"
    );
    assert!(
        decided > 10,
        "the claims without a zero count are decided: {decided}"
    );
}

/// The first `n` sample claims, every other one with a first line of count 0 (a division by
/// it fails in the interpreter) and no code.
fn zero_counts(s: &support::Setup, n: usize) -> Vec<Arc<Record>> {
    let sample = std::fs::read_to_string(book().join("samples/claims.jsonl")).expect("samples");
    let mut text = String::new();
    for (i, line) in sample.lines().take(n).enumerate() {
        let mut v: serde_json::Value = serde_json::from_str(line).expect("sample JSON");
        if let Some(first) = v["fee_list"].as_array_mut().and_then(|l| l.first_mut()) {
            if i % 2 == 0 {
                first["cnt"] = "0".into();
                if let Some(line) = first.as_object_mut() {
                    line.remove("hilist_code");
                }
            }
        }
        text.push_str(&v.to_string());
        text.push('\n');
    }
    read(&s.layout, text.as_bytes())
}

/// A let that can fail is evaluated first, as the interpreter does, even where `when` fails
/// before reading it: native code must not decide a claim the interpreter reports an error
/// for. A let that cannot fail is computed where `when` reads it, with the same verdicts.
#[test]
fn a_failing_let_is_computed_first() {
    let dir = base_dir();
    std::fs::write(
        dir.path().join("lets.vigil"),
        "rule LET-1 \"failing let\" {\n  severity info\n  basis \"b\"\n  for line in claim.fee_list\n  let q = (line.pric ?? 1) / (line.cnt ?? 0)\n  when claim.med_type == \"41\" and q > 0\n  message \"x\"\n}\n\nrule LET-2 \"deferred let\" {\n  severity info\n  basis \"b\"\n  for line in claim.fee_list\n  let n = count(l in claim.fee_list where l.hilist_code == line.hilist_code)\n  when claim.med_type == \"21\" and n >= 2\n  message \"x\"\n}\n",
    )
    .expect("write rules");
    let s = support::setup_at(dir.path());
    assert_eq!(s.kernel.compiled(), 2, "{:?}", s.kernel.coverage);
    let claims = zero_counts(&s, 40);
    let verdicts = s
        .kernel
        .verdicts(&Batch::new(&s.layout, &claims, s.kernel.strings()));
    let data = TablesOnly(&s.tables);
    let (mut failing, mut decided, mut fired) = (0, [0, 0], 0);
    for (claim, per_rule) in claims.iter().zip(&verdicts) {
        let mut eval = ClaimEval::new(&s.program, &data, claim.clone());
        for (rule, v) in per_rule.iter().enumerate() {
            let result = eval.rule(rule);
            if let Verdict::Decided(lines) = v {
                decided[rule] += 1;
                let hits = result.expect("native decided, so the interpreter must not fail");
                assert_eq!(*lines, lines_of(&hits));
                fired += lines.len();
            } else if result.is_err() {
                failing += 1;
            }
        }
    }
    assert!(failing >= 10, "the zero counts make LET-1 fail: {failing}");
    assert!(
        decided[0] > 0 && decided[1] == claims.len(),
        "decided {decided:?}"
    );
    assert!(fired > 0, "LET-2 fires somewhere");
}

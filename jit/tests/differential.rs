//! The native code agrees with the interpreter: on the national rulebook's samples and on
//! generated claims of several seeds, for every compiled rule, every claim and every line,
//! the native verdict is exactly the set of lines (or the claim) the interpreter fires on.

use std::sync::Arc;

use chrono::NaiveDate;
use vigil_compiler::interp::{ClaimEval, Data};
use vigil_compiler::value::{Record, Value};
use vigil_jit::Verdict;
use vigil_runtime::batch::Batch;
use vigil_runtime::tables::TablesOnly;

mod support;
use support::{base_dir, book, lines_of, read, setup, setup_at, Setup};

/// Compares every decided verdict with the interpreter (rules that read no history: these
/// batches are not laid out by patient); returns (decided, bailed) counts.
fn agree(s: &Setup, claims: &[Arc<Record>]) -> (usize, usize) {
    let batch = Batch::new(&s.layout, claims, s.kernel.strings());
    let verdicts = s.kernel.verdicts(&batch);
    assert_eq!(verdicts.len(), claims.len());
    let data = TablesOnly(&s.tables);
    let (mut decided, mut bailed) = (0, 0);
    let history: Vec<bool> = (0..s.program.rules.len())
        .map(|i| s.program.reads_history(i))
        .collect();
    for (claim, per_rule) in claims.iter().zip(&verdicts) {
        let mut eval = ClaimEval::new(&s.program, &data, claim.clone());
        for (rule, verdict) in per_rule.iter().enumerate() {
            if history[rule] {
                continue;
            }
            let lines = match verdict {
                Verdict::Interpreted => continue,
                Verdict::Bail => {
                    bailed += 1;
                    continue;
                }
                Verdict::Decided(lines) => lines,
            };
            decided += 1;
            let hits = eval
                .rule(rule)
                .expect("a decided rule evaluates without error");
            let want = lines_of(&hits);
            assert_eq!(
                lines,
                &want,
                "rule {} on claim {}",
                s.program.rules[rule].id,
                claim.get(s.layout.setl_id())
            );
        }
    }
    (decided, bailed)
}

#[test]
fn compiles_every_national_rule_but_the_provider_ones() {
    let s = setup();
    let report: Vec<String> = s
        .program
        .rules
        .iter()
        .zip(&s.kernel.coverage)
        .map(|(r, c)| format!("{}: {}", r.id, c.as_deref().unwrap_or("native")))
        .collect();
    eprintln!("{}", report.join("\n"));
    // Every construct the national rules use is compiled: only provider rules stay behind.
    let providers = s
        .program
        .rules
        .iter()
        .filter(|r| r.scope == vigil_compiler::model::Scope::Provider)
        .count();
    assert_eq!(
        s.kernel.compiled(),
        s.program.rules.len() - providers,
        "{}",
        report.join("\n")
    );
}

#[test]
fn agrees_with_the_interpreter_on_the_samples() {
    let s = setup();
    let text = std::fs::read(book().join("samples/claims.jsonl")).expect("samples");
    let claims = read(&s.layout, &text);
    let (decided, bailed) = agree(&s, &claims);
    assert!(decided > claims.len() * 4, "decided {decided}");
    assert_eq!(bailed, 0, "sample values all fit the native layout");
}

/// 1,500 generated claims of `seed` (each violation kind planted at rate 0.05), read in
/// `s`'s layout.
fn generated(s: &Setup, tables: &vigil_bench::gen::Tables, seed: u64) -> Vec<Arc<Record>> {
    let mut out = Vec::new();
    let cfg = vigil_bench::gen::GenConfig {
        claims: 1500,
        seed,
        rate: 0.05,
    };
    vigil_bench::gen::generate(tables, &cfg, &mut out, None).expect("generates");
    read(&s.layout, &out)
}

#[test]
fn agrees_with_the_interpreter_on_generated_claims() {
    let s = setup();
    let gen_tables = vigil_bench::gen::Tables::load(&book()).expect("generator tables");
    // Four seeds in CI; `VIGIL_DIFF_SCALE=n` runs 4n (bench/differential).
    for seed in
        (0..4 * support::scale() as u64).map(|i| [2, 3, 5, 8][i as usize % 4] + 10 * (i / 4))
    {
        let claims = generated(&s, &gen_tables, seed);
        let (decided, _) = agree(&s, &claims);
        assert!(decided > 0);
    }
}

#[test]
fn the_id_index_answers_as_the_table_does() {
    use vigil_jit::calls::IdIndex;
    use vigil_runtime::batch::{date_word, Interner, ABSENT};
    let s = setup();
    for table in &s.tables {
        let mut strings = Interner::default();
        for (key, _) in table.index_entries() {
            for v in key {
                if let Value::Text(t) = v {
                    strings.intern(t);
                }
            }
        }
        let Some(index) = IdIndex::new(table, &strings) else {
            continue;
        };
        let keys: Vec<Vec<Value>> = table.index_entries().map(|(k, _)| k.to_vec()).collect();
        let start = NaiveDate::from_ymd_opt(2025, 12, 1).expect("date");
        for key in &keys {
            let ids: Vec<u32> = key
                .iter()
                .map(|v| {
                    strings
                        .get(v.as_text().expect("text key"))
                        .expect("interned")
                })
                .collect();
            let (k1, k2) = (ids[0], ids.get(1).copied().unwrap_or(0));
            // What native code answers from the single-period entries of a one-column key
            // (codegen.rs `single_period`): the entry, or the call where it says so.
            let inline = |day: i64| {
                let entries = index.single();
                let [start, end, row] = entries.get(k1 as usize).copied().unwrap_or(entries[0]);
                if start == vigil_jit::calls::CALL {
                    index.find(k1, 0, day)
                } else if start <= day && day <= end {
                    row
                } else {
                    ABSENT
                }
            };
            let one_column = key.len() == 1;
            assert_eq!(
                index.find(k1, k2, ABSENT),
                table.lookup_row(key, None).map_or(ABSENT, |r| r as i64)
            );
            if one_column {
                assert_eq!(inline(ABSENT), index.find(k1, 0, ABSENT), "{key:?}");
            }
            for offset in 0..430 {
                let day = start + chrono::Duration::days(offset);
                let want = table
                    .lookup_row(key, Some(day))
                    .map_or(ABSENT, |r| r as i64);
                assert_eq!(
                    index.find(k1, k2, date_word(&Value::Date(day))),
                    want,
                    "{} {key:?} {day}",
                    table.name()
                );
                if one_column {
                    assert_eq!(inline(date_word(&Value::Date(day))), want, "{key:?} {day}");
                }
            }
        }
        // A key no row has.
        assert_eq!(index.find(u32::MAX, 0, 0), ABSENT);
        let entries = index.single();
        assert_eq!(
            entries[0][2], ABSENT,
            "id 0 and ids past the end find no row"
        );
        // The national catalogue has codes with one period and codes with several: both
        // paths of the inline lookup are taken.
        if table.name() == "hilist" {
            assert!(entries.iter().any(|e| e[0] == vigil_jit::calls::CALL));
            assert!(entries
                .iter()
                .any(|e| e[0] != vigil_jit::calls::CALL && e[2] != ABSENT));
        }
    }
}

/// History as a run gives it: the patient's other claims (by setl_id), oldest first.
struct WithHistory<'t> {
    tables: TablesOnly<'t>,
    patients: std::collections::HashMap<String, Vec<Arc<Record>>>,
    setl_id: usize,
}

impl Data for WithHistory<'_> {
    fn lookup(&self, table: u32, key: &[Value], at: Option<NaiveDate>) -> Option<Arc<Record>> {
        self.tables.lookup(table, key, at)
    }
    fn rows(&self, table: u32) -> Vec<Arc<Record>> {
        self.tables.rows(table)
    }
    fn history(&self, psn_no: &str, current: &Record) -> Vec<Arc<Record>> {
        let me = current.get(self.setl_id);
        self.patients
            .get(psn_no)
            .map(|l| {
                l.iter()
                    .filter(|c| c.get(self.setl_id) != me)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[test]
fn history_rules_agree_on_whole_patients() {
    let s = setup();
    let history_rules: Vec<usize> = (0..s.program.rules.len())
        .filter(|&i| s.kernel.coverage[i].is_none() && s.program.reads_history(i))
        .collect();
    assert!(
        history_rules.len() >= 5,
        "history rules native: {history_rules:?}"
    );
    let (decided, fired, rows) = agree_on_patients(&s, &history_rules);
    assert!(decided > rows * 4, "decided {decided}");
    assert!(fired > 50, "the samples fire history rules ({fired})");
}

/// Groups of a patient's history and of a claim's lines, keyed by codes and categories, with
/// division and rounding on the groups' items: native where compiled, agreeing on whole
/// patients.
const GROUP_RULES: &str = r#"
rule X-HG-1 "history groups by provider" {
  severity info
  basis "test"
  let stays = groups(p in history(claim.psn_no) by p.fixmedins_code where p.med_type == inpatient)
  when exists g in stays where count(g.items) >= 2 and g.key == claim.fixmedins_code
  message "x"
}

rule X-HG-2 "history groups by diagnosis category" {
  severity info
  basis "test"
  let by_dx = groups(p in history(claim.psn_no) by p.dscg_maindiag_code?.category)
  when first(g in by_dx where g.key == claim.dscg_maindiag_code?.category) is some(g0)
   and sum(q.medfee_sumamt ?? 0 for q in g0.items) / count(g0.items) > (claim.medfee_sumamt ?? 0)
  message "x"
}

rule X-HG-3 "line groups by item category" {
  severity info
  basis "test"
  for line in claim.fee_list
  when exists g in groups(l in claim.fee_list by l.hilist_code?.category)
       where g.key == line.hilist_code?.category and count(g.items) > 1
         and round(sum(m.cnt ?? 0 for m in g.items) / 4, 1) > -abs(-1)
  message "x"
}

rule X-HG-4 "line groups whose filter may fail, read after a claim test" {
  severity info
  basis "test"
  let gs = groups(l in claim.fee_list by l.hilist_code where 100 / ((l.cnt ?? 0) - 1) > 1)
  when claim.med_type == inpatient and exists g in gs where count(g.items) > 1
  message "x"
}

rule X-HG-5 "line groups that cannot fail, read after a claim test" {
  severity info
  basis "test"
  let gs = groups(l in claim.fee_list by l.hilist_code where (l.cnt ?? 0) > 1)
  when claim.med_type == inpatient and exists g in gs where count(g.items) > 1
  message "x"
}
"#;

/// The schema, tables and definitions (without the national rules and their test files) with
/// the rules of `text`: the setup, and the indexes of the `count` rules whose ids start with
/// `prefix`, each asserted native.
fn native_rules(text: &str, prefix: &str, count: usize) -> (Setup, Vec<usize>) {
    let dir = base_dir();
    std::fs::write(dir.path().join("test.vigil"), text).expect("write rules");
    let s = setup_at(dir.path());
    let rules: Vec<usize> = (0..s.program.rules.len())
        .filter(|&i| s.program.rules[i].id.starts_with(prefix))
        .collect();
    assert_eq!(rules.len(), count);
    for &r in &rules {
        assert_eq!(
            s.kernel.coverage[r], None,
            "{} is native",
            s.program.rules[r].id
        );
    }
    (s, rules)
}

#[test]
fn group_rules_agree_on_whole_patients() {
    let (s, rules) = native_rules(GROUP_RULES, "X-HG-", 5);
    for &r in &rules {
        let (decided, fired, rows) = agree_on_patients(&s, &[r]);
        eprintln!(
            "{}: {decided} of {rows} claims decided natively, {fired} fired",
            s.program.rules[r].id
        );
    }
    let (decided, fired, rows) = agree_on_patients(&s, &rules);
    assert!(decided > rows, "decided {decided}");
    assert!(fired > 0, "the group rules fire ({fired})");
}

/// Lays the samples and their history out by patient and compares every decided verdict of
/// `rules` with the interpreter's: (decided, fired, claims).
fn agree_on_patients(s: &Setup, history_rules: &[usize]) -> (usize, usize, usize) {
    let claims = std::fs::read(book().join("samples/claims.jsonl")).expect("samples");
    let history = std::fs::read(book().join("samples/history.jsonl")).expect("history");
    agree_on_patients_of(s, history_rules, &claims, &history)
}

/// As `agree_on_patients`, on the claims and history files given (JSON lines).
fn agree_on_patients_of(
    s: &Setup,
    history_rules: &[usize],
    claims: &[u8],
    history: &[u8],
) -> (usize, usize, usize) {
    let claims = read(&s.layout, claims);
    let history = read(&s.layout, history);
    let (psn, setl) = (s.layout.psn_no(), s.layout.setl_id());
    let begn = s.layout.claim().slot("begndate").expect("begndate");
    let mut patients: std::collections::HashMap<String, Vec<Arc<Record>>> = Default::default();
    for c in claims.iter().chain(&history) {
        if let Value::Text(p) = c.get(psn) {
            patients.entry(p.to_string()).or_default().push(c.clone());
        }
    }
    // Oldest first: begndate, then setl_id in serial order (the run's history order).
    for list in patients.values_mut() {
        list.sort_by(|a, b| {
            a.get(begn).cmp(b.get(begn)).then_with(|| {
                let (x, y) = (a.get(setl).to_string(), b.get(setl).to_string());
                if vigil_compiler::interp::sorts_before(&x, &y) {
                    std::cmp::Ordering::Less
                } else if vigil_compiler::interp::sorts_before(&y, &x) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
        });
    }
    let mut keys: Vec<&String> = patients.keys().collect();
    keys.sort();
    let groups: Vec<Vec<Arc<Record>>> = keys.iter().map(|k| patients[*k].clone()).collect();
    let slices: Vec<&[Arc<Record>]> = groups.iter().map(Vec::as_slice).collect();
    let batch = Batch::by_patient(&s.layout, &slices, s.kernel.strings());
    let rows: Vec<Arc<Record>> = groups.iter().flatten().cloned().collect();
    let data = WithHistory {
        tables: TablesOnly(&s.tables),
        patients: patients.clone(),
        setl_id: setl,
    };
    let verdicts = s.kernel.verdicts(&batch);
    // A partitioned run screens only some claims of a batch (the others are history): the
    // same verdicts for those.
    let only: Vec<bool> = (0..rows.len()).map(|i| i % 3 != 1).collect();
    let mut screened = Vec::new();
    s.kernel
        .each_claim_of(&batch, Some(&only), |claim, v| screened.push((claim, v)));
    assert_eq!(screened.len(), only.iter().filter(|o| **o).count());
    for (claim, v) in &screened {
        assert_eq!(v, &verdicts[*claim], "claim row {claim} screened alone");
    }
    let (mut decided, mut fired) = (0, 0);
    for (claim, per_rule) in rows.iter().zip(&verdicts) {
        let mut eval = ClaimEval::new(&s.program, &data, claim.clone());
        for &rule in history_rules {
            let Verdict::Decided(lines) = &per_rule[rule] else {
                continue;
            };
            decided += 1;
            let want = lines_of(&eval.rule(rule).expect("evaluates"));
            fired += want.len();
            assert_eq!(
                lines,
                &want,
                "{} on {}",
                s.program.rules[rule].id,
                claim.get(setl)
            );
        }
    }
    (decided, fired, rows.len())
}

/// A batch whose strings do not start with the kernel's names other texts by the same ids:
/// native code never sees it, every compiled rule bails.
#[test]
fn a_batch_built_on_other_strings_bails() {
    let s = setup();
    let claims = read(
        &s.layout,
        &std::fs::read(book().join("samples/claims.jsonl")).expect("samples"),
    );
    let foreign = vigil_runtime::batch::Interner::default();
    let verdicts = s
        .kernel
        .verdicts(&Batch::new(&s.layout, &claims[..5], &foreign));
    assert_eq!(verdicts.len(), 5);
    for per_rule in &verdicts {
        for (rule, v) in per_rule.iter().enumerate() {
            let want = match s.kernel.coverage[rule] {
                None => Verdict::Bail,
                Some(_) => Verdict::Interpreted,
            };
            assert_eq!(v, &want, "{}", s.program.rules[rule].id);
        }
    }
}

/// One kernel screens several batches at once (a service's threads): each walk keeps its own
/// memo of its batch's texts, so two batches whose own strings differ at the same ids get
/// the verdicts each gets alone.
#[test]
fn batches_screened_at_once_by_one_kernel_get_their_own_verdicts() {
    let s = setup();
    let sample = std::fs::read_to_string(book().join("samples/claims.jsonl")).expect("samples");
    // The same claims twice, the second time with diagnoses no table holds (the batch's own
    // strings, whose words are computed on first use), in another order.
    let mut other = String::new();
    for (i, line) in sample.lines().enumerate() {
        let mut v: serde_json::Value = serde_json::from_str(line).expect("sample JSON");
        let dx = ["N40.9X", "O80.0Y", "C61Z", "E11.9W"][i % 4];
        v["dscg_maindiag_code"] = format!("{dx}{i}").into();
        other.push_str(&v.to_string());
        other.push('\n');
    }
    let first = read(&s.layout, sample.as_bytes());
    let mut second = read(&s.layout, other.as_bytes());
    second.reverse();
    let a = Batch::new(&s.layout, &first, s.kernel.strings());
    let b = Batch::new(&s.layout, &second, s.kernel.strings());
    let (alone_a, alone_b) = (s.kernel.verdicts(&a), s.kernel.verdicts(&b));
    assert_ne!(alone_a, alone_b, "the diagnoses change some verdicts");
    // And the interpreter agrees with the second batch's (its diagnoses' words are the memo's).
    let (decided, _) = agree(&s, &second);
    assert!(decided > second.len());
    for _ in 0..4 {
        let (at_once_a, at_once_b) = std::thread::scope(|scope| {
            let ta = scope.spawn(|| s.kernel.verdicts(&a));
            let tb = scope.spawn(|| s.kernel.verdicts(&b));
            (ta.join().expect("thread a"), tb.join().expect("thread b"))
        });
        assert_eq!(at_once_a, alone_a);
        assert_eq!(at_once_b, alone_b);
    }
}

/// Two line rules sharing a value of the line (an aggregate: the compiler shares those) that
/// overflows a native word on some lines (a price of a million: its square overflows the
/// scaled word, not the interpreter's decimal), a third line rule beside them, and a claim
/// rule: where the shared value bails, every line rule of the claim goes to the interpreter
/// (`Needs` answers Everything) and the claim rule stays decided; elsewhere all agree with
/// the interpreter.
const SHARED_BAIL_RULES: &str = r#"
rule S-1 "a large square" {
  severity info
  basis "test"
  for line in claim.fee_list
  when sum((l.pric ?? 0) * (l.pric ?? 0) for l in claim.fee_list where l.feedetl_sn == line.feedetl_sn) > 100
  message "x"
}

rule S-2 "a larger square" {
  severity info
  basis "test"
  for line in claim.fee_list
  when sum((l.pric ?? 0) * (l.pric ?? 0) for l in claim.fee_list where l.feedetl_sn == line.feedetl_sn) > 10000
  message "x"
}

rule S-3 "a count" {
  severity info
  basis "test"
  for line in claim.fee_list
  when (line.cnt ?? 0) > 1
  message "x"
}

rule S-4 "inpatient" {
  severity info
  basis "test"
  when claim.med_type == inpatient
  message "x"
}
"#;

#[test]
fn a_bail_in_a_line_s_shared_value_hands_the_claim_s_line_rules_back() {
    let (s, rules) = native_rules(SHARED_BAIL_RULES, "S-", 4);
    let sample = std::fs::read_to_string(book().join("samples/claims.jsonl")).expect("samples");
    let mut text = String::new();
    for (i, line) in sample.lines().take(60).enumerate() {
        let mut v: serde_json::Value = serde_json::from_str(line).expect("sample JSON");
        if i % 3 == 0 {
            if let Some(l) = v["fee_list"].as_array_mut().and_then(|ls| ls.last_mut()) {
                l["pric"] = "1000000.00".into();
            }
        }
        text.push_str(&v.to_string());
        text.push('\n');
    }
    let claims = read(&s.layout, text.as_bytes());
    let batch = Batch::new(&s.layout, &claims, s.kernel.strings());
    let verdicts = s.kernel.verdicts(&batch);
    let data = TablesOnly(&s.tables);
    let (mut handed_back, mut decided) = (0, 0);
    use vigil_runtime::screen::{Need, Screen};
    let mut screened = Vec::new();
    s.kernel.screen(&batch, None, &mut |claim, needs| {
        let line_rules_whole = rules[..3]
            .iter()
            .all(|&r| matches!(needs.get(r), Need::Everything));
        screened.push((
            claim,
            line_rules_whole,
            matches!(needs.get(rules[3]), Need::Everything),
        ));
    });
    for ((claim, per_rule), (_, whole, claim_rule_whole)) in
        claims.iter().zip(&verdicts).zip(&screened)
    {
        let huge = claim.get(s.layout.setl_id()).to_string();
        let bailed = rules[..3].iter().all(|&r| per_rule[r] == Verdict::Bail);
        assert_eq!(
            bailed, *whole,
            "{huge}: the screen says what the verdicts say"
        );
        assert!(!claim_rule_whole, "{huge}: the claim rule stays decided");
        let mut eval = ClaimEval::new(&s.program, &data, claim.clone());
        for &r in &rules {
            let hits = eval
                .rule(r)
                .expect("the interpreter's wide decimals hold it");
            if let Verdict::Decided(lines) = &per_rule[r] {
                assert_eq!(
                    lines,
                    &lines_of(&hits),
                    "{} on {huge}",
                    s.program.rules[r].id
                );
            }
        }
        if bailed {
            handed_back += 1;
        } else {
            decided += 1;
        }
    }
    assert!(
        handed_back >= 15,
        "claims with the large price: {handed_back}"
    );
    assert!(decided >= 30, "the others: {decided}");
}

/// Two native rules, and two that stay interpreted (a product of four prices has too many
/// decimal places for a native word) sharing a loop over the lines: the loop is planned for
/// the interpreted rules alone, so not at all; computed per line it would fail on these
/// claims' prices and hand every native rule of the claim back.
const MIXED_RULES: &str = r#"
rule C-1 "inpatient" {
  severity info
  basis "test"
  when claim.med_type == inpatient
  message "x"
}

rule C-2 "a count" {
  severity info
  basis "test"
  for line in claim.fee_list
  when (line.cnt ?? 0) > 1
  message "x"
}

rule I-1 "a price against the others' caps" {
  severity info
  basis "test"
  for line in claim.fee_list
  when (exists l in claim.fee_list where (catalogue_row(claim, l)?.pric_uplmt_amt ?? 0) < (l.pric ?? 0) and l.feedetl_sn != line.feedetl_sn)
   and (line.pric ?? 0) * (line.pric ?? 0) * (line.pric ?? 0) * (line.pric ?? 0) > 1
  message "x"
}

rule I-2 "the same, another bound" {
  severity info
  basis "test"
  for line in claim.fee_list
  when (exists l in claim.fee_list where (catalogue_row(claim, l)?.pric_uplmt_amt ?? 0) < (l.pric ?? 0) and l.feedetl_sn != line.feedetl_sn)
   and (line.pric ?? 0) * (line.pric ?? 0) * (line.pric ?? 0) * (line.pric ?? 0) > 2
  message "x"
}
"#;

#[test]
fn rules_left_to_the_interpreter_do_not_hand_back_native_ones() {
    let (s, native) = native_rules(MIXED_RULES, "C-", 2);
    let interpreted: Vec<usize> = (0..s.program.rules.len())
        .filter(|&i| s.program.rules[i].id.starts_with("I-"))
        .collect();
    assert_eq!(interpreted.len(), 2);
    for &r in &interpreted {
        assert!(
            s.kernel.coverage[r].is_some(),
            "{} is interpreted",
            s.program.rules[r].id
        );
    }
    let sample = std::fs::read_to_string(book().join("samples/claims.jsonl")).expect("samples");
    let mut text = String::new();
    for line in sample.lines().take(50) {
        let mut v: serde_json::Value = serde_json::from_str(line).expect("sample JSON");
        if let Some(lines) = v["fee_list"].as_array_mut() {
            for l in lines {
                l["pric"] = "0.00001".into();
            }
        }
        text.push_str(&v.to_string());
        text.push('\n');
    }
    let claims = read(&s.layout, text.as_bytes());
    assert_eq!(claims.len(), 50);
    let verdicts = s
        .kernel
        .verdicts(&Batch::new(&s.layout, &claims, s.kernel.strings()));
    for (claim, per_rule) in claims.iter().zip(&verdicts) {
        for &r in &native {
            assert!(
                matches!(per_rule[r], Verdict::Decided(_)),
                "{} on {}: {:?}",
                s.program.rules[r].id,
                claim.get(s.layout.setl_id()),
                per_rule[r]
            );
        }
    }
}

/// Loops over the history that look for a line with the code of the line under review, as
/// CN-REPEAT-001 does: the first two walk the chain of the patient's lines with that code,
/// X-HC-2 with a conjunct that may fail (a division) after the code; X-HC-3 may fail before
/// the code, so it walks every line. X-HC-4 walks a second patient chain (by the ordering
/// doctor) and reads the claim it found; X-HC-5 walks a chain of the claim's own lines, so
/// the patient chains sit after a list in the scratch header.
const HISTORY_CHAIN_RULES: &str = r#"
rule X-HC-1 "an earlier supply of the same code" {
  severity info
  basis "test"
  for line in claim.fee_list
  when line.hilist_code is some(code)
   and event_date(claim, line) is some(d)
   and first(p in history(claim.psn_no)
             where exists m in p.fee_list
                   where m.hilist_code == code
                     and event_date(p, m) is some(d0)
                     and d0 <= d
                     and m.prd_days is some(p0)
                     and days_between(d, d0 + p0) > -30) is some(prev)
   and prev.setl_id != claim.setl_id
  message "x"
}

rule X-HC-2 "any claim of the patient with the code, divided" {
  severity info
  basis "test"
  for line in claim.fee_list
  when line.hilist_code is some(code)
   and exists p in history(claim.psn_no)
       where exists m in p.fee_list
             where (m.cnt ?? 0) > -1 and code == m.hilist_code and 100 / (m.cnt ?? 0) > 1
  message "x"
}

rule X-HC-3 "the code after a conjunct that may fail" {
  severity info
  basis "test"
  for line in claim.fee_list
  when line.hilist_code is some(code)
   and exists p in history(claim.psn_no)
       where exists m in p.fee_list
             where 100 / ((m.cnt ?? 0) - 1) > 1 and m.hilist_code == code
  message "x"
}

rule X-HC-5 "the same code twice in the claim" {
  severity info
  basis "test"
  for line in claim.fee_list
  when line.hilist_code is some(code)
   and exists other in claim.fee_list
       where other.hilist_code == code and sorts_before(other.feedetl_sn, line.feedetl_sn)
  message "x"
}

rule X-HC-4 "the doctor's earlier claim, costlier" {
  severity info
  basis "test"
  for line in claim.fee_list
  when line.bilg_dr_code is some(dr)
   and first(p in history(claim.psn_no)
             where exists m in p.fee_list where m.bilg_dr_code == dr) is some(q)
   and (q.medfee_sumamt ?? 0) > (claim.medfee_sumamt ?? 0)
  message "x"
}
"#;

#[test]
fn history_loops_walk_the_patient_s_lines_with_the_code() {
    let (s, rules) = native_rules(HISTORY_CHAIN_RULES, "X-HC-", 5);
    let chains: Vec<&String> = s
        .kernel
        .line_values
        .iter()
        .filter(|l| l.contains("chained by"))
        .collect();
    assert_eq!(chains.len(), 3, "{:?}", s.kernel.line_values);
    assert!(!chains[0].contains("patient"), "{chains:?}");
    assert!(chains[1].ends_with("walked by 2 loops"), "{chains:?}");
    assert!(chains[2].ends_with("walked by 1 loop"), "{chains:?}");
    let (decided, fired, rows) = agree_on_patients(&s, &rules);
    assert!(decided > rows, "decided {decided} of {rows}");
    assert!(
        fired > 10,
        "the history rules fire on the samples ({fired})"
    );
    // Generated patients: several claims each, codes given again and again.
    let tables = vigil_bench::gen::Tables::load(&book()).expect("generator tables");
    for seed in [31, 32] {
        let cfg = vigil_bench::gen::GenConfig {
            claims: 800,
            seed,
            rate: 0.05,
        };
        let (mut claims, mut history) = (Vec::new(), Vec::new());
        vigil_bench::gen::generate(&tables, &cfg, &mut claims, Some(&mut history))
            .expect("generates");
        // Some lines without a code or a doctor, and some history claims given the `setl_id`
        // of a claim of their patient in the run (history leaves out every claim with the
        // claim's `setl_id`, not only the claim itself).
        let mut run_ids: std::collections::HashMap<String, Vec<String>> = Default::default();
        for line in String::from_utf8(claims.clone()).expect("utf-8").lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect("claim JSON");
            let (Some(p), Some(id)) = (v["psn_no"].as_str(), v["setl_id"].as_str()) else {
                continue;
            };
            run_ids
                .entry(p.to_string())
                .or_default()
                .push(id.to_string());
        }
        let mut edited = String::new();
        let mut shared = 0;
        for (i, line) in String::from_utf8(history)
            .expect("utf-8")
            .lines()
            .enumerate()
        {
            let mut v: serde_json::Value = serde_json::from_str(line).expect("history JSON");
            if let Some(lines) = v["fee_list"].as_array_mut() {
                for (j, l) in lines.iter_mut().enumerate() {
                    if (i + j) % 11 == 0 {
                        l["hilist_code"] = serde_json::Value::Null;
                    }
                    if (i + j) % 3 == 0 {
                        l["bilg_dr_code"] = ["D1", "D2"][(i + j) % 2].into();
                    }
                }
            }
            let psn = v["psn_no"].as_str().unwrap_or_default().to_string();
            if i % 2 == 0 {
                if let Some(id) = run_ids.get_mut(&psn).and_then(Vec::pop) {
                    v["setl_id"] = id.into();
                    shared += 1;
                }
            }
            edited.push_str(&v.to_string());
            edited.push('\n');
        }
        assert!(
            shared > 10,
            "seed {seed}: {shared} history claims share a run claim's id"
        );
        let (decided, fired, rows) = agree_on_patients_of(&s, &rules, &claims, edited.as_bytes());
        eprintln!("seed {seed}: {decided} of {rows} decided natively, {fired} fired");
        assert!(decided > rows, "seed {seed}: decided {decided} of {rows}");
        assert!(fired > 100, "seed {seed}: {fired} fired");
    }
}

/// A pair whose relation changes between its periods (includes until 2026-03-01, excludes
/// from 2026-03-02): a lookup only compared with `excludes` tests its keys among the rows
/// with that relation, and the key is among them although its first period is not. On a
/// day of each period the native code decides as the interpreter: the later day fires.
#[test]
fn a_pair_whose_relation_changes_is_tested_in_every_period() {
    let dir = base_dir();
    let pairs = dir.path().join("tables/item_pairs.csv");
    let mut csv = std::fs::read_to_string(&pairs).expect("item_pairs");
    csv.push_str("990000000000001,990000000000002,includes,2026-01-01,2026-03-01\n");
    csv.push_str("990000000000001,990000000000002,excludes,2026-03-02,\n");
    std::fs::write(&pairs, csv).expect("write item_pairs");
    std::fs::write(
        dir.path().join("pairs.vigil"),
        "rule EXCL-1 \"excluded pair\" {\n  severity info\n  basis \"b\"\n  for line in claim.fee_list\n  when exists l in claim.fee_list\n       where item_pairs[l.hilist_code, line.hilist_code at (event_date(claim, l) ?? date(\"2026-10-10\"))]?.relation == excludes\n  message \"x\"\n}\n",
    )
    .expect("write rules");
    let s = setup_at(dir.path());
    let sample = std::fs::read_to_string(book().join("samples/claims.jsonl")).expect("samples");
    let first = sample.lines().next().expect("a sample claim");
    let mut text = String::new();
    for (i, day) in ["2026-02-15", "2026-03-01", "2026-03-02", "2026-05-01"]
        .iter()
        .enumerate()
    {
        let mut v: serde_json::Value = serde_json::from_str(first).expect("sample JSON");
        v["setl_id"] = format!("PAIR-PERIOD-{i}").into();
        if let Some(lines) = v["fee_list"].as_array_mut() {
            for (j, l) in lines.iter_mut().enumerate().take(2) {
                l["hilist_code"] = ["990000000000001", "990000000000002"][j].into();
                l["fee_ocur_time"] = format!("{day} 10:00:00").into();
            }
        }
        text.push_str(&v.to_string());
        text.push('\n');
    }
    let claims = read(&s.layout, text.as_bytes());
    assert_eq!(claims.len(), 4);
    let verdicts = s
        .kernel
        .verdicts(&Batch::new(&s.layout, &claims, s.kernel.strings()));
    let data = TablesOnly(&s.tables);
    let mut fired = Vec::new();
    for (claim, per_rule) in claims.iter().zip(&verdicts) {
        let Some(Verdict::Decided(lines)) = per_rule.first() else {
            panic!("decided natively: {per_rule:?}");
        };
        let hits = ClaimEval::new(&s.program, &data, claim.clone())
            .rule(0)
            .expect("evaluates");
        assert_eq!(lines, &lines_of(&hits));
        fired.push(lines.clone());
    }
    assert_eq!(
        fired,
        [vec![], vec![], vec![1], vec![1]],
        "line 2 (b) fires from 2026-03-02"
    );
}

/// Chain walks whose loops compare a line value with variables that are not the chain's own
/// key (helper-29's review): K-1 compares the line under review's code with a variable bound
/// from another line, K-4 compares the walked line's code with two variables of which only
/// the first is the start line's code, K-5 compares the prescription number with the code.
/// A walk may skip only the conjuncts its chain is keyed by; skipping any of these changes
/// what fires.
const KEYED_RULES: &str = r#"
rule K-1 "another line's code" {
  severity info
  basis "test"
  for line in claim.fee_list
  when exists m in claim.fee_list where m.hilist_code is some(mc) and m.feedetl_sn != line.feedetl_sn
    and count(l in claim.fee_list where l.hilist_code == mc and line.hilist_code == mc) >= 1
  message "x"
}

rule K-4 "two codes" {
  severity info
  basis "test"
  for line in claim.fee_list
  when line.hilist_code is some(hc)
   and first(m in claim.fee_list where m.feedetl_sn != line.feedetl_sn) is some(o)
   and o.hilist_code is some(oc)
   and count(l in claim.fee_list where l.hilist_code == hc and l.hilist_code == oc) >= 1
  message "x"
}

rule K-5 "a key compared with another value" {
  severity info
  basis "test"
  for line in claim.fee_list
  when line.hilist_code is some(hc) and line.rx_drord_no is some(rx)
   and count(l in claim.fee_list where l.rx_drord_no == rx) >= 1
   and count(l3 in claim.fee_list where l3.hilist_code == hc and l3.rx_drord_no == hc) == 0
  message "x"
}
"#;

#[test]
fn a_chain_walk_skips_only_the_conjuncts_its_chain_is_keyed_by() {
    let (s, rules) = native_rules(KEYED_RULES, "K-", 3);
    let gen_tables = vigil_bench::gen::Tables::load(&book()).expect("generator tables");
    let mut fired = vec![0usize; rules.len()];
    for seed in [2, 3] {
        let claims = generated(&s, &gen_tables, seed);
        let (decided, _) = agree(&s, &claims);
        assert!(decided > 0);
        let verdicts = s
            .kernel
            .verdicts(&Batch::new(&s.layout, &claims, s.kernel.strings()));
        for per_rule in &verdicts {
            for (n, &r) in rules.iter().enumerate() {
                if matches!(&per_rule[r], Verdict::Decided(lines) if !lines.is_empty()) {
                    fired[n] += 1;
                }
            }
        }
    }
    // Each rule fires somewhere, so each comparison above is of verdicts that matter.
    assert!(fired.iter().all(|&f| f > 0), "fired on claims: {fired:?}");
}

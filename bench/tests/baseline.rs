//! The hand-written baseline agrees with the interpreter: on the national rulebook's samples
//! (with their history) and on generated claims of three seeds, the engine's findings, mapped
//! back to (claim, rule, line) and (provider, month), are exactly the baseline's, apart from
//! the (claim, rule) pairs the baseline bailed on (none on these inputs).

use std::collections::BTreeSet;
use std::sync::Arc;

use vigil_bench::baseline::{Baseline, BaselineError, Outcome, KPI, RULES};
use vigil_bench::gen::{generate, GenConfig, Tables as GenTables};
use vigil_bench::national_root;
use vigil_compiler::value::{Record, Value};
use vigil_runtime::batch::{Batch, Interner};
use vigil_runtime::claims::{ClaimLayout, ClaimReader};
use vigil_runtime::engine::Engine;
use vigil_runtime::tables::{LoadedTable, Tables};

/// (setl_id, rule_id, feedetl_sn or "" for a claim rule).
type Key = (String, String, String);

struct Setup {
    engine: Engine,
    baseline: Baseline,
}

fn setup() -> Setup {
    let root = national_root();
    let loaded = vigil_compiler::load_rulebook(&root).expect("the national rulebook loads");
    let engine = Engine::new(&loaded, &[]).expect("the national rulebook checks");
    let tables: Vec<LoadedTable> = Tables::load(&loaded.rulebook, &root, &[])
        .expect("the national tables load")
        .iter()
        .cloned()
        .collect();
    let baseline =
        Baseline::new(&engine.layout, &tables, &Interner::default()).expect("baseline builds");
    Setup { engine, baseline }
}

fn read(layout: &ClaimLayout, bytes: &[u8]) -> Vec<Record> {
    let mut reader = ClaimReader::new(layout, bytes);
    let claims: Vec<Record> = reader
        .by_ref()
        .map(|c| c.expect("every test claim is readable").record)
        .collect();
    reader.finish().expect("reading from memory cannot fail");
    claims
}

fn text(v: &Value) -> String {
    v.as_text().unwrap_or("").to_string()
}

/// Compares the baseline with the engine on `claims` (+ `history`); returns the findings
/// compared and the rules among them.
fn agree(s: &Setup, claims: &[Record], history: &[Record]) -> (usize, BTreeSet<String>) {
    let layout = &s.engine.layout;
    let all: Vec<Arc<Record>> = claims
        .iter()
        .chain(history)
        .cloned()
        .map(Arc::new)
        .collect();
    let batch = Batch::new(layout, &all, s.baseline.strings());
    let outcome = s
        .baseline
        .run_with_history(&batch, claims.len())
        .expect("the baseline runs on a batch of its strings");
    assert_eq!(outcome.claims(), claims.len());
    assert_eq!(
        outcome.bailed(),
        0,
        "every value of these claims fits the batch"
    );

    let run = s.engine.run(claims, history, 0);
    assert!(
        run.errors.is_empty(),
        "interpreter errors: {:?}",
        run.errors
    );
    let mut want: BTreeSet<Key> = BTreeSet::new();
    let mut want_kpi: BTreeSet<(String, String)> = BTreeSet::new();
    for f in &run.findings {
        match &f.period {
            Some(period) => {
                assert_eq!(&*f.rule_id, RULES[KPI]);
                want_kpi.insert((f.fixmedins_code.to_string(), period.clone()));
            }
            None => {
                want.insert((
                    f.setl_id.as_deref().unwrap_or("").to_string(),
                    f.rule_id.to_string(),
                    f.feedetl_sn.as_deref().unwrap_or("").to_string(),
                ));
            }
        }
    }

    let (got, got_kpi) = findings(s, claims, &batch, &outcome);
    let missing: Vec<&Key> = want.difference(&got).collect();
    let extra: Vec<&Key> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the baseline misses {missing:?}\nand adds {extra:?}"
    );
    assert_eq!(got_kpi, want_kpi, "CN-KPI-001 provider-months");
    let mut rules: BTreeSet<String> = got.iter().map(|(_, rule, _)| rule.clone()).collect();
    if !got_kpi.is_empty() {
        rules.insert(RULES[KPI].to_string());
    }
    (got.len() + got_kpi.len(), rules)
}

/// The baseline's verdicts as findings keys.
fn findings(
    s: &Setup,
    claims: &[Record],
    batch: &Batch,
    outcome: &Outcome,
) -> (BTreeSet<Key>, BTreeSet<(String, String)>) {
    let layout = &s.engine.layout;
    let fee_list = layout.claim().slot("fee_list").expect("fee_list");
    let sn = layout
        .record("fee_line")
        .and_then(|r| r.slot("feedetl_sn"))
        .expect("feedetl_sn");
    let mut got = BTreeSet::new();
    for (i, claim) in claims.iter().enumerate() {
        let setl_id = text(claim.get(layout.setl_id()));
        let lines: &[Value] = match claim.get(fee_list) {
            Value::List(items) => items,
            _ => &[],
        };
        for (rule, id) in RULES.iter().enumerate() {
            let fired = outcome.verdict(i, rule).expect("no rule bails here");
            let line_rule = s.engine.program.rules[rule].list_slot.is_some();
            for line in fired {
                let line_sn = match (line_rule, lines.get(line)) {
                    (true, Some(Value::Record(r))) => text(r.get(sn)),
                    (true, _) => panic!("{id} fired on a line {line} claim {setl_id} lacks"),
                    (false, _) => String::new(),
                };
                got.insert((setl_id.clone(), id.to_string(), line_sn));
            }
        }
    }
    let kpi = outcome
        .kpi
        .iter()
        .map(|m| {
            assert!(!m.bailed, "no provider-month bails here");
            let provider = batch.strings.resolve(m.provider).map_or("", |s| &**s);
            (
                provider.to_string(),
                format!("{:04}-{:02}", m.year, m.month),
            )
        })
        .collect();
    (got, kpi)
}

#[test]
fn rule_order_is_the_programs() {
    let s = setup();
    let ids: Vec<&str> = s
        .engine
        .program
        .rules
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(ids, RULES);
}

#[test]
fn agrees_with_the_interpreter_on_the_samples() {
    let s = setup();
    let dir = national_root().join("samples");
    let claims = read(
        &s.engine.layout,
        &std::fs::read(dir.join("claims.jsonl")).expect("samples"),
    );
    let history = read(
        &s.engine.layout,
        &std::fs::read(dir.join("history.jsonl")).expect("sample history"),
    );
    let (compared, rules) = agree(&s, &claims, &history);
    // The samples plant every rule: all 23 are compared firing, not only staying silent.
    assert_eq!(rules.len(), RULES.len(), "rules fired: {rules:?}");
    let expected = std::fs::read_to_string(dir.join("expected_findings.jsonl")).expect("golden");
    assert_eq!(compared, expected.lines().count());
}

#[test]
fn agrees_with_the_interpreter_on_generated_claims() {
    let s = setup();
    let tables = GenTables::load(&national_root()).expect("generator tables");
    for seed in [4, 6, 7] {
        let cfg = GenConfig {
            claims: 1500,
            seed,
            rate: 0.05,
        };
        let (mut out, mut history) = (Vec::new(), Vec::new());
        generate(&tables, &cfg, &mut out, Some(&mut history)).expect("generates in memory");
        let claims = read(&s.engine.layout, &out);
        let history = read(&s.engine.layout, &history);
        let (compared, rules) = agree(&s, &claims, &history);
        assert!(
            compared > 0 && rules.len() >= 20,
            "seed {seed}: {compared} findings of {rules:?}"
        );
    }
}

#[test]
fn a_batch_built_on_other_strings_is_refused() {
    let s = setup();
    let claims = read(
        &s.engine.layout,
        &std::fs::read(national_root().join("samples/claims.jsonl")).expect("samples"),
    );
    let all: Vec<Arc<Record>> = claims.into_iter().take(5).map(Arc::new).collect();
    let batch = Batch::new(&s.engine.layout, &all, &Interner::default());
    assert!(matches!(
        s.baseline.run(&batch),
        Err(BaselineError::ForeignStrings)
    ));
}

/// A price with more places than the batch's words hold is UNFIT: CN-PRICE-001 bails on that
/// claim (the interpreter decides it), and every other rule and claim is still decided.
#[test]
fn an_unfit_price_bails_its_rule_on_its_claim_only() {
    let s = setup();
    let layout = &s.engine.layout;
    let mut claims = read(
        layout,
        &std::fs::read(national_root().join("samples/claims.jsonl")).expect("samples"),
    );
    claims.truncate(20);
    let fee_list = layout.claim().slot("fee_list").expect("fee_list");
    let pric = layout
        .record("fee_line")
        .and_then(|r| r.slot("pric"))
        .expect("pric");
    let cap = layout
        .record("fee_line")
        .and_then(|r| r.slot("pric_uplmt_amt"))
        .expect("pric_uplmt_amt");
    // The first claim with a priced line that has its own cap: give the line a price of five
    // places, so the price rule has to compare it.
    let (target, line) = claims
        .iter()
        .enumerate()
        .find_map(|(i, c)| match c.get(fee_list) {
            Value::List(items) => items
                .iter()
                .position(|l| matches!(l, Value::Record(r) if !r.get(pric).is_absent() && !r.get(cap).is_absent()))
                .map(|line| (i, line)),
            _ => None,
        })
        .expect("a sample line with a price and a cap");
    if let Value::List(items) = &mut claims[target].values[fee_list] {
        if let Value::Record(r) = &mut items[line] {
            Arc::make_mut(r).values[pric] = Value::Decimal(rust_decimal::Decimal::new(12_345, 5));
        }
    }
    let all: Vec<Arc<Record>> = claims.iter().cloned().map(Arc::new).collect();
    let batch = Batch::new(layout, &all, s.baseline.strings());
    let outcome = s.baseline.run(&batch).expect("runs");
    let price = RULES
        .iter()
        .position(|r| *r == "CN-PRICE-001")
        .expect("rule");
    for claim in 0..claims.len() {
        for rule in 0..RULES.len() {
            let bailed = outcome.verdict(claim, rule).is_none();
            assert_eq!(
                bailed,
                claim == target && rule == price,
                "claim {claim} rule {rule}"
            );
        }
    }
    assert_eq!(outcome.bailed(), 1);
}

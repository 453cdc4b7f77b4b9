//! `vigil explain` agrees with `vigil run`: on every sample claim, under every rule, the
//! explanation's findings are the ones the run writes for that claim (and, for provider rules,
//! for the claim's provider and month). Snapshots of two explanations.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use vigil_compiler::model::Scope;
use vigil_runtime::engine::{read_claims, Engine};
use vigil_runtime::explain::{Explainer, Options, Verdict};
use vigil_runtime::findings::{finding_json, Finding};
use vigil_runtime::value::Record;

fn national() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national")
}

fn setup() -> (Engine, Vec<Record>, Vec<Record>) {
    let loaded = vigil_compiler::load_rulebook(&national()).expect("the national rulebook loads");
    let engine = Engine::new(&loaded, &[]).expect("the national rulebook runs");
    let samples = national().join("samples");
    let (claims, _, _) =
        read_claims(&engine.layout, &samples.join("claims.jsonl")).expect("sample claims read");
    let (history, _, _) =
        read_claims(&engine.layout, &samples.join("history.jsonl")).expect("sample history read");
    (engine, claims, history)
}

/// A finding as its JSON line, without the rulebook hash (the same on both sides anyway).
fn key(f: &Finding) -> String {
    finding_json(f).to_string()
}

#[test]
fn explain_agrees_with_run_on_every_sample_claim_and_rule() {
    let (engine, claims, history) = setup();
    let run = engine.run(&claims, &history, 0);
    assert!(run.errors.is_empty(), "the samples evaluate without errors");
    let explainer = Explainer::new(&engine, &claims, &history);
    let setl_slot = engine.layout.setl_id();
    let mut claim_findings = 0;
    let mut provider_checked = BTreeSet::new();
    // Explained in parallel (the explainer is shared), checked in claim order.
    let explained_all: Vec<_> = claims
        .par_iter()
        .map(|claim| {
            let setl_id = claim.get(setl_slot).to_string();
            let x = explainer.explain(&setl_id, None, Options::default());
            (setl_id, x)
        })
        .collect();
    for (setl_id, x) in explained_all {
        let x = x.expect("every sample claim is explained");
        assert_eq!(x.rules.len(), engine.program.rules.len());
        let mut explained: Vec<String> = Vec::new();
        for r in &x.rules {
            assert_ne!(r.verdict, Verdict::Error, "{setl_id} {}", r.rule_id);
            assert_eq!(
                r.verdict == Verdict::Fired,
                !r.findings.is_empty(),
                "{setl_id} {}: the verdict says what the findings say",
                r.rule_id
            );
            if r.scope == "provider" {
                // The run's findings for this rule, provider and month: the same, if any.
                if let Some(g) = &r.group {
                    let expected: Vec<String> = run
                        .findings
                        .iter()
                        .filter(|f| {
                            f.scope == Scope::Provider
                                && *f.rule_id == r.rule_id
                                && *f.fixmedins_code == g.fixmedins_code
                                && f.period.as_deref() == Some(g.period.as_str())
                        })
                        .map(key)
                        .collect();
                    let got: Vec<String> = r.findings.iter().map(key).collect();
                    assert_eq!(got, expected, "{setl_id} {} {}", r.rule_id, g.period);
                    provider_checked.insert((
                        r.rule_id.clone(),
                        g.fixmedins_code.clone(),
                        g.period.clone(),
                    ));
                }
            } else {
                explained.extend(r.findings.iter().map(key));
            }
        }
        let expected: Vec<String> = run
            .findings
            .iter()
            .filter(|f| f.scope != Scope::Provider && f.setl_id.as_deref() == Some(&*setl_id))
            .map(key)
            .collect();
        explained.sort();
        let mut expected_sorted = expected.clone();
        expected_sorted.sort();
        assert_eq!(explained, expected_sorted, "claim {setl_id}");
        claim_findings += expected.len();
    }
    let run_claim_findings = run
        .findings
        .iter()
        .filter(|f| f.scope != Scope::Provider)
        .count();
    assert_eq!(
        claim_findings, run_claim_findings,
        "every finding of the run was explained"
    );
    // Every provider finding of the run is the month of some sample claim, and was checked.
    for f in run.findings.iter().filter(|f| f.scope == Scope::Provider) {
        let k = (
            f.rule_id.to_string(),
            f.fixmedins_code.to_string(),
            f.period.clone().unwrap_or_default(),
        );
        assert!(
            provider_checked.contains(&k),
            "provider finding {k:?} explained"
        );
    }
}

/// The explanation with the rulebook's content hash masked, so that a rule edit elsewhere in
/// the rulebook does not change these snapshots' header.
fn masked(text: String, engine: &Engine) -> String {
    text.replace(&*engine.rulebook, "cn-national@sha256:…")
}

#[test]
fn a_claim_that_fires_a_lookup_and_a_history_rule() {
    let (engine, claims, history) = setup();
    let explainer = Explainer::new(&engine, &claims, &history);
    let x = explainer
        .explain("S0000000861", None, Options::default())
        .expect("a sample claim");
    let fired: Vec<&str> = x
        .rules
        .iter()
        .filter(|r| r.verdict == Verdict::Fired)
        .map(|r| r.rule_id.as_str())
        .collect();
    assert_eq!(fired, ["CN-LVL-001", "CN-REPEAT-001", "CN-NIGHT-001"]);
    insta::assert_snapshot!("explain_fired_text", x.render_text());
    let json = serde_json::to_string_pretty(&x).expect("an explanation is JSON");
    insta::assert_snapshot!("explain_fired_json", masked(json, &engine));
}

#[test]
fn a_claim_that_fires_nothing() {
    let (engine, claims, history) = setup();
    let explainer = Explainer::new(&engine, &claims, &history);
    let x = explainer
        .explain("S0000003208", None, Options::default())
        .expect("a sample claim");
    assert!(x.rules.iter().all(|r| r.verdict != Verdict::Fired));
    insta::assert_snapshot!("explain_quiet_text", x.render_text());
    let json = serde_json::to_string_pretty(&x).expect("an explanation is JSON");
    insta::assert_snapshot!("explain_quiet_json", masked(json, &engine));
}

#[test]
fn unknown_claims_and_rules_suggest_a_name() {
    let (engine, claims, history) = setup();
    let explainer = Explainer::new(&engine, &claims, &history);
    let e = explainer
        .explain("S000000861", None, Options::default())
        .expect_err("no such claim");
    assert!(e.to_string().contains("did you mean `S0000000861`"), "{e}");
    let e = explainer
        .explain("S0000000861", Some("CN-PRICE-01"), Options::default())
        .expect_err("no such rule");
    assert!(e.to_string().contains("did you mean `CN-PRICE-001`"), "{e}");
    let one = explainer
        .explain(
            "S0000000861",
            Some("CN-LVL-001"),
            Options { all_lines: true },
        )
        .expect("one rule");
    assert_eq!(one.rules.len(), 1);
    assert!(one.rules[0].walks.iter().all(|w| w.shown == "all"));
}

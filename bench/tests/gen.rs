//! The claim generator against the engine: its claims are all readable, the same seed gives the
//! same bytes, and the national rulebook finds exactly the violations it planted, every rule at
//! least once. Exactly: a clean claim triggers no rule, and each plant fires once.

use std::collections::BTreeMap;

use vigil_bench::gen::{generate, GenConfig, Summary, Tables, RULES};
use vigil_bench::national_root;
use vigil_compiler::value::Record;
use vigil_runtime::claims::ClaimReader;
use vigil_runtime::engine::Engine;

fn generated(cfg: &GenConfig, with_history: bool) -> (Vec<u8>, Vec<u8>, Summary) {
    let tables = Tables::load(&national_root()).expect("the national tables load");
    let mut out = Vec::new();
    let mut history = Vec::new();
    let summary = generate(
        &tables,
        cfg,
        &mut out,
        if with_history {
            Some(&mut history)
        } else {
            None
        },
    )
    .expect("writing to memory cannot fail");
    (out, history, summary)
}

fn read(engine: &Engine, bytes: &[u8]) -> Vec<Record> {
    let mut reader = ClaimReader::new(&engine.layout, bytes);
    let mut claims = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(c) => claims.push(c.record),
            Err(r) => panic!("generated claim rejected: {r:?}"),
        }
    }
    reader.finish().expect("reading from memory cannot fail");
    claims
}

/// Findings per rule id of the engine on generated claims, and what the generator planted.
fn found_and_planted(
    cfg: &GenConfig,
    with_history: bool,
) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let (out, history, summary) = generated(cfg, with_history);
    let loaded = vigil_compiler::load_rulebook(&national_root()).expect("the rulebook loads");
    let engine = Engine::new(&loaded, &[]).expect("the national rulebook checks");
    let claims = read(&engine, &out);
    assert_eq!(claims.len() as u64, cfg.claims);
    let history = read(&engine, &history);
    assert_eq!(history.len() as u64, summary.history_claims);
    let run = engine.run(&claims, &history, 0);
    assert!(run.errors.is_empty(), "evaluation errors: {:?}", run.errors);
    let mut found: BTreeMap<String, u64> = RULES.iter().map(|r| (r.to_string(), 0)).collect();
    for f in &run.findings {
        *found.entry(f.rule_id.to_string()).or_default() += 1;
    }
    let planted = RULES
        .iter()
        .zip(summary.planted)
        .map(|(r, n)| (r.to_string(), n))
        .collect();
    (found, planted)
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let cfg = GenConfig {
        claims: 2000,
        seed: 42,
        rate: 0.05,
    };
    let (a, ha, _) = generated(&cfg, true);
    let (b, hb, _) = generated(&cfg, true);
    assert!(a == b && ha == hb, "two runs with one seed differ");
    let (c, _, _) = generated(&GenConfig { seed: 43, ..cfg }, true);
    assert_ne!(a, c);
    assert_eq!(a.iter().filter(|&&b| b == b'\n').count(), 2000);
}

#[test]
fn every_rule_fires_exactly_where_planted() {
    let cfg = GenConfig {
        claims: 5000,
        seed: 1,
        rate: 0.05,
    };
    let (found, planted) = found_and_planted(&cfg, false);
    for rule in RULES {
        assert!(found[rule] > 0, "{rule} never fired: found {found:?}");
    }
    assert_eq!(found, planted, "findings per rule differ from the plants");
}

#[test]
fn with_a_history_file_the_plants_still_fire_exactly() {
    let cfg = GenConfig {
        claims: 3000,
        seed: 7,
        rate: 0.05,
    };
    let (found, planted) = found_and_planted(&cfg, true);
    assert_eq!(found, planted, "findings per rule differ from the plants");
}

#[test]
fn rate_zero_plants_nothing_and_nothing_fires() {
    let cfg = GenConfig {
        claims: 2000,
        seed: 3,
        rate: 0.0,
    };
    let (found, planted) = found_and_planted(&cfg, false);
    assert!(
        planted.values().all(|&n| n == 0),
        "planted at rate 0: {planted:?}"
    );
    assert!(
        found.values().all(|&n| n == 0),
        "clean claims fired: {found:?}"
    );
}

//! `ClaimEval::rule_lines`, which a screened run uses on the lines the native code says fired,
//! gives exactly `rule`'s hits on those lines: checked on every sample claim and line rule
//! that does not read history, for all fired lines, a part of them, none, and an index past
//! the list.

use std::path::Path;
use std::sync::Arc;

use vigil_compiler::interp::ClaimEval;
use vigil_compiler::model::Scope;
use vigil_runtime::engine::{read_claims, Engine};
use vigil_runtime::tables::TablesOnly;

#[test]
fn rule_lines_is_rule_on_those_lines() {
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national");
    let loaded = vigil_compiler::load_rulebook(&book).expect("the national rulebook loads");
    let engine = Engine::new(&loaded, &[]).expect("the engine builds");
    let (claims, rejected, _) =
        read_claims(&engine.layout, &book.join("samples/claims.jsonl")).expect("samples read");
    assert!(rejected.is_empty());
    let data = TablesOnly(engine.tables());
    let program = &engine.program;
    let rules: Vec<usize> = (0..program.rules.len())
        .filter(|&i| program.rules[i].scope == Scope::Line && !program.reads_history(i))
        .collect();
    assert!(rules.len() >= 10, "the national line rules: {rules:?}");
    let mut fired = 0;
    for claim in claims.into_iter().map(Arc::new) {
        for &i in &rules {
            let whole = ClaimEval::new(program, &data, claim.clone())
                .rule(i)
                .expect("the samples evaluate");
            let lines: Vec<usize> = whole.iter().filter_map(|h| h.line).collect();
            fired += lines.len();
            let mut eval = ClaimEval::new(program, &data, claim.clone());
            assert_eq!(eval.rule_lines(i, &lines).expect("evaluates"), whole);
            assert_eq!(eval.rule_lines(i, &[]).expect("evaluates"), vec![]);
            let every_other: Vec<usize> = lines.iter().copied().step_by(2).collect();
            let expected: Vec<_> = whole
                .iter()
                .filter(|h| h.line.is_some_and(|l| every_other.contains(&l)))
                .cloned()
                .collect();
            assert_eq!(
                eval.rule_lines(i, &every_other).expect("evaluates"),
                expected
            );
            assert_eq!(
                eval.rule_lines(i, &[usize::MAX]).expect("evaluates"),
                vec![]
            );
        }
    }
    assert!(
        fired > 500,
        "the samples fire the line rules often: {fired}"
    );
}

//! The values the kernel computes once per line of a claim before the rules run, because
//! the rules' loops read them for every pair of lines (`jit/src/line_values.rs`).

mod support;

use support::{base_dir, book, lines_of, number_binders, read, setup, setup_at, CHAINED};
use vigil_compiler::interp::ClaimEval;
use vigil_jit::Verdict;
use vigil_runtime::batch::Batch;
use vigil_runtime::tables::TablesOnly;

/// The national rulebook's: the event date (DUP, PAIR-001, PAIR-002, BEDIDLE read it in
/// loops, and the line rules for their own line), the code (DUP's key) and the catalogue row
/// (CN-DIEM-001 tests its per-diem flag in its `groups(…)` filter; the line rules'
/// `catalogue_row(claim, line)` reads it for their own line). Nothing that can fail is
/// computed ahead (a division, an aggregate). The pair rules' loops walk chains of the lines
/// that share the line's key: DUP by code and date, PAIR-001 and PAIR-002 by date; BEDIDLE
/// counts its distinct care days along the chains by date; REPEAT walks the patient's lines
/// by code.
#[test]
fn the_national_rules_read_the_event_date_and_the_catalogue_row_per_line() {
    let s = setup();
    insta::assert_snapshot!(s.kernel.line_values.join("\n"));
}

/// Which loops walk a chain of the lines sharing a key (`line_values/chains.rs`): the first
/// seven of `CHAINED` do (two keys, `first` with a value, the key on the right, `max`, a
/// loop's own line as the start, `last` with a conjunct that can fail after the key, a
/// distinct count); the last three do not (a conjunct that can fail before the key, no variable bound from a line, `all`).
/// On the samples every chained rule decides natively (the walk's check never bails) and
/// agrees with the interpreter.
#[test]
fn loops_comparing_with_a_line_s_key_walk_its_chain() {
    let dir = base_dir();
    let mut src = String::new();
    for (i, leaf) in CHAINED.iter().enumerate() {
        src.push_str(&format!(
            "rule CHAIN-{i} \"chained\" {{\n  severity info\n  basis \"b\"\n  for line in claim.fee_list\n  when {}\n  message \"x\"\n}}\n\n",
            number_binders(leaf)
        ));
    }
    std::fs::write(dir.path().join("chains.vigil"), &src).expect("write rules");
    let s = setup_at(dir.path());
    assert_eq!(
        s.kernel.compiled(),
        CHAINED.len(),
        "{:?}",
        s.kernel.coverage
    );
    insta::assert_snapshot!(s.kernel.line_values.join("\n"));

    let text = std::fs::read(book().join("samples/claims.jsonl")).expect("samples");
    let claims = read(&s.layout, &text);
    let batch = Batch::new(&s.layout, &claims, s.kernel.strings());
    let data = TablesOnly(&s.tables);
    let mut fired = 0;
    for (claim, per_rule) in claims.iter().zip(s.kernel.verdicts(&batch)) {
        let mut eval = ClaimEval::new(&s.program, &data, claim.clone());
        for (rule, verdict) in per_rule.iter().enumerate() {
            let Verdict::Decided(lines) = verdict else {
                panic!(
                    "rule {rule} on {:?}: {verdict:?}",
                    claim.get(s.layout.setl_id())
                );
            };
            let want = eval.rule(rule).map(|h| lines_of(&h));
            assert_eq!(Ok(lines), want.as_ref(), "rule {rule}");
            fired += lines.len();
        }
    }
    assert!(fired > 0, "the samples fire some of the chained rules");
}

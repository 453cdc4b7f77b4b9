//! A batch laid out with only the fields the native code reads gives the same verdicts as a
//! batch with every field; a batch missing a column the code reads never reaches native code
//! (every compiled rule bails, nothing is read).

use std::sync::Arc;

use vigil_compiler::value::Record;
use vigil_jit::Verdict;
use vigil_runtime::batch::{Batch, Reads};
use vigil_runtime::screen::Screen;

mod support;
use support::{book, read, setup, Setup};

#[test]
fn reads_lay_out_less_and_decide_the_same() {
    let Setup { layout, kernel, .. } = setup();
    let text = std::fs::read(book().join("samples/claims.jsonl")).expect("samples");
    let claims = read(&layout, &text);
    // Each claim its own patient, so history rules are decided too.
    let groups: Vec<&[Arc<Record>]> = claims.iter().map(std::slice::from_ref).collect();

    let reads = Screen::reads(&kernel).expect("the kernel knows what it reads");
    let scalars: usize = [layout.claim().name(), "fee_line", "diagnosis"]
        .iter()
        .filter_map(|r| layout.record(r))
        .map(|r| r.fields().len())
        .sum();
    assert!(
        reads.len() < scalars,
        "some fields are left out: {} of {scalars}",
        reads.len()
    );

    let full = Batch::by_patient(&layout, &groups, kernel.strings());
    let lean = Batch::by_patient_reading(&layout, &groups, kernel.strings(), Some(reads));
    assert!(
        lean.strings.len() < full.strings.len(),
        "fewer strings interned"
    );
    let expected = kernel.verdicts(&full);
    assert_eq!(kernel.verdicts(&lean), expected);
    let decided = expected
        .iter()
        .flatten()
        .filter(|v| matches!(v, Verdict::Decided(_)))
        .count();
    assert!(
        decided > claims.len() * 10,
        "most verdicts are decided: {decided}"
    );

    // Laid out for nothing: every compiled rule bails on every claim, and nothing is read.
    let bare =
        Batch::by_patient_reading(&layout, &groups, kernel.strings(), Some(&Reads::default()));
    for verdicts in kernel.verdicts(&bare) {
        for (rule, v) in verdicts.iter().enumerate() {
            let want = if kernel.coverage[rule].is_none() {
                Verdict::Bail
            } else {
                Verdict::Interpreted
            };
            assert_eq!(*v, want, "rule {rule}");
        }
    }
}

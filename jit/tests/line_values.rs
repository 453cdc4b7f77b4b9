//! The values the kernel computes once per line of a claim before the rules run, because
//! the rules' loops read them for every pair of lines (`jit/src/line_values.rs`).

mod support;

use support::setup;

/// The national rulebook's: the event date (DUP, PAIR-001, PAIR-002, BEDIDLE read it in
/// loops, and the line rules for their own line) and CN-DIEM-001's per-diem test in its
/// `groups(…)` filter. Nothing that can fail is computed ahead (a division, an aggregate).
#[test]
fn the_national_rules_read_the_event_date_and_the_per_diem_flag_per_line() {
    let s = setup();
    insta::assert_snapshot!(s.kernel.line_values.join("\n"));
}

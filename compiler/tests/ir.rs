//! The IR of the national rulebook, as text: what every rule means once names are resolved,
//! constants folded, defs inlined and shared work hoisted.

use std::path::Path;

#[test]
fn national_rulebook_ir() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national");
    let loaded =
        vigil_compiler::load_rulebook(&root).expect("the national rulebook is in the repository");
    assert!(!loaded.has_errors());
    let program = vigil_compiler::lower::lower(&loaded);
    // The catalogue row of a line is looked up once per line for every rule that reads it.
    let catalogue_row = program
        .shared
        .iter()
        .filter(|s| vigil_compiler::ir::show(&s.expr).starts_with("(lookup #"))
        .count();
    assert!(
        catalogue_row >= 1,
        "the catalogue lookup is shared:\n{}",
        vigil_compiler::ir::show_program(&program)
    );
    insta::assert_snapshot!(vigil_compiler::ir::show_program(&program));
}

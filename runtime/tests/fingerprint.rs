//! Rule fingerprints: an edit marks exactly the rules whose meaning it changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use vigil_runtime::fingerprint::fingerprints;

fn national() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            // The samples are data for runs, not part of a rule's meaning.
            if entry.file_name() != "samples" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

fn hashes(book: &Path, overrides: &[(String, PathBuf)]) -> BTreeMap<String, String> {
    let loaded = vigil_compiler::load_rulebook(book).expect("the rulebook loads");
    assert!(!loaded.has_errors(), "the rulebook checks");
    let program = vigil_compiler::lower::lower(&loaded);
    fingerprints(&loaded, &program, overrides)
        .expect("the tables can be read")
        .into_iter()
        .map(|(id, fp)| (id, fp.hash))
        .collect()
}

/// Which rules' fingerprints differ after `edit` is applied to a copy of the national rulebook.
fn changed_by(edit: impl FnOnce(&Path)) -> Vec<String> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let book = dir.path().join("cn-national");
    copy_dir(&national(), &book);
    let before = hashes(&book, &[]);
    edit(&book);
    let after = hashes(&book, &[]);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the same rules"
    );
    before
        .iter()
        .filter(|(id, h)| after[*id] != **h)
        .map(|(id, _)| id.clone())
        .collect()
}

fn replace_in(file: &Path, from: &str, to: &str) {
    let t = std::fs::read_to_string(file).expect("read");
    assert!(t.contains(from), "{} lacks {from:?}", file.display());
    std::fs::write(file, t.replacen(from, to, 1)).expect("write");
}

#[test]
fn a_constant_changes_the_rules_that_use_it() {
    let changed = changed_by(|b| {
        replace_in(
            &b.join("stays.vigil"),
            "const BEDIDLE_MIN_STAY_DAYS = 3",
            "const BEDIDLE_MIN_STAY_DAYS = 4",
        )
    });
    assert_eq!(changed, ["CN-BEDIDLE-001"]);
}

#[test]
fn a_table_row_changes_the_rules_that_read_the_table() {
    let changed = changed_by(|b| {
        replace_in(
            &b.join("tables/providers.csv"),
            "H110001,北京市示例第一人民医院,3,",
            "H110001,北京市示例第一人民医院,2,",
        )
    });
    assert!(changed.contains(&"CN-LVL-001".to_string()), "{changed:?}");
    assert!(!changed.contains(&"CN-QTY-001".to_string()), "{changed:?}");
}

#[test]
fn layout_comments_and_unused_schema_fields_change_nothing() {
    let changed = changed_by(|b| {
        let file = b.join("stays.vigil");
        let t = std::fs::read_to_string(&file).expect("read");
        std::fs::write(&file, format!("// A new first line.\n\n{t}")).expect("write");
        replace_in(
            &b.join("schema.vigil"),
            "  medfee_sumamt: money?",
            "  extra_flag: text? \"附加\"\n  medfee_sumamt: money?",
        );
    });
    assert_eq!(changed, Vec::<String>::new());
}

#[test]
fn a_message_or_a_basis_is_part_of_the_rule() {
    let changed = changed_by(|b| {
        replace_in(
            &b.join("prescriptions.vigil"),
            "basis \"《处方管理办法》第十九条\"",
            "basis \"《处方管理办法》第十九条 (2007)\"",
        )
    });
    assert_eq!(changed, ["CN-QTY-001"]);
}

#[test]
fn a_table_override_is_hashed_as_the_file_read() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let book = national();
    let csv = std::fs::read_to_string(book.join("tables/providers.csv")).expect("read");
    let other = dir.path().join("providers.csv");
    std::fs::write(&other, csv.replacen(",3,", ",1,", 1)).expect("write");
    let before = hashes(&book, &[]);
    let after = hashes(&book, &[("providers".to_string(), other)]);
    assert_ne!(before["CN-LVL-001"], after["CN-LVL-001"]);
    assert_eq!(before["CN-QTY-001"], after["CN-QTY-001"]);
}

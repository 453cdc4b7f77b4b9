//! The national rulebook checks clean, and its model holds what the catalogue needs.

use std::path::Path;

use vigil_compiler::model::Scope;
use vigil_compiler::{load_rulebook, Severity};

fn national() -> vigil_compiler::LoadedRulebook {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national");
    load_rulebook(&root).expect("the national rulebook folder is part of the repository")
}

#[test]
fn national_rulebook_has_no_errors() {
    let loaded = national();
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.headline(&loaded.sources))
        .collect();
    assert!(errors.is_empty(), "errors:\n{}", errors.join("\n"));
    assert_eq!(loaded.rulebook.header.id, "cn-national");
}

#[test]
fn national_rulebook_covers_three_scopes() {
    let loaded = national();
    let scope_of = |id: &str| {
        loaded
            .rulebook
            .rules
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.scope)
    };
    assert_eq!(scope_of("CN-PRICE-001"), Some(Scope::Line));
    assert_eq!(scope_of("CN-RX5-001"), Some(Scope::Claim));
    assert_eq!(scope_of("CN-READMIT-001"), Some(Scope::Claim));
    let claim = &loaded.rulebook.records["claim"];
    assert_eq!(
        claim
            .field("psn_no")
            .and_then(|f| f.label.clone())
            .as_deref(),
        Some("人员编号")
    );
}

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

#[test]
fn a_parse_cache_reuses_unchanged_files_and_never_serves_a_stale_tree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national");
    let files: Vec<(std::path::PathBuf, String)> = vigil_compiler::load::vigil_files(&root)
        .expect("the national rulebook folder lists")
        .into_iter()
        .map(|p| {
            let t = std::fs::read_to_string(&p).expect("readable");
            (p, t)
        })
        .collect();
    let mut cache = vigil_compiler::ParseCache::default();
    let first = vigil_compiler::check_sources_cached(Some(root.clone()), files.clone(), &mut cache);
    let uncached = vigil_compiler::check_sources(Some(root.clone()), files.clone());
    assert_eq!(first.diagnostics, uncached.diagnostics);
    assert_eq!(first.modules, uncached.modules);

    // Break one file: the cached check sees the new text.
    let mut broken = files.clone();
    let limits = broken
        .iter_mut()
        .find(|(p, _)| p.ends_with("limits.vigil"))
        .expect("limits.vigil");
    limits.1 = limits
        .1
        .replacen("line.pric is some(p)", "line.price is some(p)", 1);
    let second = vigil_compiler::check_sources_cached(Some(root.clone()), broken, &mut cache);
    assert!(
        second.diagnostics.iter().any(|d| d.code == "V0202"),
        "the edited file was parsed again"
    );

    // And back: no trace of the broken text remains.
    let third = vigil_compiler::check_sources_cached(Some(root), files, &mut cache);
    assert_eq!(third.diagnostics, uncached.diagnostics);
}

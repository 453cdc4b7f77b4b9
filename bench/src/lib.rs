//! Shared inputs of the benchmarks: the national rulebook's files, read once.

use std::path::{Path, PathBuf};

pub mod baseline;
pub mod gen;

/// The national rulebook folder of this repository.
pub fn national_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national")
}

/// Every `.vigil` file of the national rulebook with its text.
pub fn national_texts() -> Vec<(PathBuf, String)> {
    let root = national_root();
    let files = vigil_compiler::load::vigil_files(&root).unwrap_or_default();
    files
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
        .collect()
}

//! What the native backend's tests share: the national rulebook, a copy of it without its
//! rules (to add rules of a test's own), a rulebook lowered and compiled with its tables, and
//! claims read from JSON Lines. Each test file uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vigil_compiler::interp::Hit;
use vigil_compiler::ir::Program;
use vigil_compiler::value::Record;
use vigil_jit::Kernel;
use vigil_runtime::claims::{ClaimLayout, ClaimReader};
use vigil_runtime::tables::{LoadedTable, Tables};

/// How much longer than in CI to run the differential tests: `VIGIL_DIFF_SCALE` (default 1)
/// multiplies the generated rules and the generated claims' seeds (`bench/differential`).
pub fn scale() -> usize {
    std::env::var("VIGIL_DIFF_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1)
}

pub fn book() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national")
}

/// The national rulebook's schema, tables and common definitions, without its rules.
pub fn base_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in [
        "rulebook.vigil",
        "schema.vigil",
        "tables.vigil",
        "common.vigil",
    ] {
        std::fs::copy(book().join(f), dir.path().join(f)).expect("copy rulebook file");
    }
    std::fs::create_dir(dir.path().join("tables")).expect("tables dir");
    for e in std::fs::read_dir(book().join("tables")).expect("tables") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), dir.path().join("tables").join(e.file_name())).expect("copy table");
    }
    dir
}

pub struct Setup {
    pub program: Program,
    pub layout: ClaimLayout,
    pub tables: Vec<LoadedTable>,
    pub kernel: Kernel,
}

/// The national rulebook, lowered and compiled.
pub fn setup() -> Setup {
    setup_at(&book())
}

/// The rulebook at `dir`, lowered and compiled with its tables.
pub fn setup_at(dir: &Path) -> Setup {
    let loaded = vigil_compiler::load_rulebook(dir).expect("the rulebook loads");
    let errors: Vec<String> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == vigil_compiler::Severity::Error)
        .map(|d| d.render(&loaded.sources, false))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let program = vigil_compiler::lower::lower(&loaded);
    let layout = ClaimLayout::new(&loaded.rulebook).expect("schema");
    let all = Tables::load(&loaded.rulebook, dir, &[]).expect("tables load");
    let tables: Vec<LoadedTable> = program
        .tables
        .iter()
        .map(|n| all.get(n).expect("every program table is loaded").clone())
        .collect();
    let kernel = Kernel::compile(&program, &loaded.rulebook, &layout, &tables).expect("compiles");
    Setup {
        program,
        layout,
        tables,
        kernel,
    }
}

/// The records of a JSON Lines text (every line must be a good claim).
pub fn read(layout: &ClaimLayout, text: &[u8]) -> Vec<Arc<Record>> {
    let mut reader = ClaimReader::new(layout, text);
    let claims: Vec<Arc<Record>> = reader
        .by_ref()
        .filter_map(Result::ok)
        .map(|c| Arc::new(c.record))
        .collect();
    reader.finish().expect("claims read");
    claims
}

/// The lines the interpreter's hits name (0 for a claim rule): what a native `Decided` holds.
pub fn lines_of(hits: &[Hit]) -> Vec<usize> {
    hits.iter().map(|h| h.line.unwrap_or(0)).collect()
}

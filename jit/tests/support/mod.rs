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

/// Loops that keep the lines whose key equals the current line's (`line_values/chains.rs`):
/// native code walks a chain of the lines with that key. `§` stands for a number that makes
/// each occurrence's binders its own. The seventh counts distinct values along chains of the
/// lines with each value. The last three must not walk one: a conjunct that can fail before
/// the key, a loop over the other lines' codes, and `all`.
pub const CHAINED: [&str; 10] = [
    "(line.hilist_code is some(hc§) and event_date(claim, line) is some(ed§) and count(l in claim.fee_list where l.hilist_code == hc§ and event_date(claim, l) == ed§ and sorts_before(l.feedetl_sn, line.feedetl_sn)) >= 1)",
    "(event_date(claim, line) is some(ed§) and first(l.feedetl_sn for l in claim.fee_list where event_date(claim, l) == ed§ and not (l.hilist_code == line.hilist_code)) is some)",
    "(event_date(claim, line) is some(ed§) and sum(l.cnt ?? 0 for l in claim.fee_list where ed§ == event_date(claim, l)) > 3)",
    "(line.hilist_code is some(hc§) and (max(l.pric ?? 0 for l in claim.fee_list where l.hilist_code == hc§ and l.feedetl_sn != line.feedetl_sn) ?? 0) > 2)",
    "(exists m in claim.fee_list where m.hilist_code is some(mc§) and count(l in claim.fee_list where l.hilist_code == mc§ and (l.pric ?? 0) > (m.pric ?? 0)) >= 1)",
    "(line.hilist_code is some(hc§) and last(l in claim.fee_list where l.hilist_code == hc§ and (l.pric ?? 1) * (l.cnt ?? 1) > 10) is some)",
    "(count(distinct(event_date(claim, l) for l in claim.fee_list where not (l.hilist_code == line.hilist_code))) >= 2)",
    "(line.hilist_code is some(hc§) and (exists l in claim.fee_list where (l.pric ?? 1) * (l.cnt ?? 1) > 10 and l.hilist_code == hc§))",
    "(exists m in claim.fee_list where m.hilist_code is some(mc§) and count(l in claim.fee_list where l.hilist_code == line.hilist_code) > 1)",
    "(line.hilist_code is some(hc§) and (all l in claim.fee_list where l.hilist_code == hc§))",
];

/// Numbers each `§` after its leaf's place in `text` (leaves are found by their start).
pub fn number_binders(text: &str) -> String {
    let mut out = text.to_string();
    let (mut n, mut from) = (0, 0);
    while let Some((start, len)) = CHAINED
        .iter()
        .filter_map(|leaf| out[from..].find(leaf).map(|i| (from + i, leaf.len())))
        .min()
    {
        n += 1;
        let numbered = out[start..start + len].replace('§', &format!("c{n}"));
        out.replace_range(start..start + len, &numbered);
        from = start + numbered.len();
    }
    out
}

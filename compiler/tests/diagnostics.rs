//! The diagnostics corpus: every `tests/diagnostics/NAME.vigil` is a rulebook file with a
//! mistake an officer would make, and `tests/snapshots/NAME.snap` is what the compiler says
//! about it (the miette rendering, then the JSON line, of every diagnostic in the case).
//!
//! Adding a case means adding a file. A case is checked together with the clean rulebook in
//! `tests/fixture/` (its header, the national schema and three tables), with the fixture folder
//! as the rulebook root, so `"tests/claims/one.jsonl"` and `"tables/hilist.csv"` resolve.
//!
//! Marker lines may open a case, before its first comment:
//! - `// standalone`: the case is checked alone, with no rulebook folder (root `None`): for
//!   mistakes about the rulebook as a whole (no header, no claim schema);
//! - `// path: NAME`: the case is shown as `tests/diagnostics/NAME` (e.g. `rulebook.vigil`, to
//!   be the header file).
//!
//! The first comment line after the markers says what the officer did wrong. The snapshot holds
//! every diagnostic outside the fixture: those in the case file, and one on the header file the
//! loader makes up when a standalone case has none.
//!
//! Asserted: a case named `V0xxx_…` produces a `V0xxx` diagnostic; every case produces at least
//! one diagnostic; the fixture produces none; every code the compiler and parser can emit (every
//! `"V0xxx"` literal in compiler/src and dsl/src) is produced by some case.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use vigil_compiler::{check_sources, Diagnostic, LoadedRulebook};

/// The fixture folder and the cases, relative to the package root (cargo runs tests there).
const FIXTURE: &str = "tests/fixture";
const CASES: &str = "tests/diagnostics";

/// One broken rulebook file and how to check it.
struct Case {
    /// The file stem: the snapshot name.
    name: String,
    /// Where the case file is, relative to the package root.
    file: PathBuf,
    /// The path the case is shown under.
    shown_as: PathBuf,
    text: String,
    standalone: bool,
    /// What the officer did wrong (the first comment line).
    what: String,
}

impl Case {
    fn read(file: PathBuf) -> Result<Case, String> {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut case = Case {
            shown_as: Path::new(CASES).join(format!("{name}.vigil")),
            name,
            file,
            text: String::new(),
            standalone: false,
            what: String::new(),
        };
        for line in text.lines() {
            // A byte order mark is not whitespace to `trim`, but it is to the parser.
            let line = line.trim_start_matches('\u{feff}').trim();
            if line == "// standalone" {
                case.standalone = true;
            } else if let Some(p) = line.strip_prefix("// path: ") {
                case.shown_as = Path::new(CASES).join(p.trim());
            } else if let Some(c) = line.strip_prefix("//") {
                case.what = c.trim().to_string();
                break;
            } else {
                break;
            }
        }
        if case.what.is_empty() {
            return Err(format!(
                "{}: the first line (after markers) must be a comment saying what is wrong",
                case.file.display()
            ));
        }
        case.text = text;
        Ok(case)
    }

    /// Checks the case; returns the result and the id of the case file in its sources.
    fn check(&self) -> (LoadedRulebook, vigil_dsl::SourceId) {
        let (root, mut files) = if self.standalone {
            (None, Vec::new())
        } else {
            (Some(PathBuf::from(FIXTURE)), fixture_files())
        };
        let case_index = files.len();
        files.push((self.shown_as.clone(), self.text.clone()));
        let loaded = check_sources(root, files);
        // Sources are numbered in the order given.
        (loaded, vigil_dsl::SourceId(case_index as u32))
    }
}

/// The fixture's `.vigil` files, shown as `tests/fixture/…`, in path order.
fn fixture_files() -> Vec<(PathBuf, String)> {
    let mut paths = Vec::new();
    let mut stack = vec![PathBuf::from(FIXTURE)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = entry.expect("a listed fixture entry can be read").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "vigil") {
                paths.push(p);
            }
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, text)
        })
        .collect()
}

/// Every case file, sorted by name.
fn cases() -> Vec<Case> {
    assert!(
        Path::new(FIXTURE).join("rulebook.vigil").is_file(),
        "run from the vigil-compiler package folder (cargo test does): {FIXTURE}/rulebook.vigil not found"
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(CASES)
        .unwrap_or_else(|e| panic!("{CASES}: {e}"))
        .map(|e| e.expect("a listed case entry can be read").path())
        .filter(|p| p.extension().is_some_and(|e| e == "vigil"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| Case::read(f).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// A JSON object with its keys sorted, whatever serde_json's map order is in this build.
fn json_line(d: &Diagnostic, loaded: &LoadedRulebook) -> String {
    let value = d.to_json(&loaded.sources);
    match value.as_object() {
        Some(obj) => {
            let sorted: BTreeMap<&String, &serde_json::Value> = obj.iter().collect();
            serde_json::to_string(&sorted).expect("a map of JSON values serialises")
        }
        None => value.to_string(),
    }
}

/// The snapshot text of a case: each diagnostic outside the fixture, rendered, then as JSON.
fn snapshot_text(loaded: &LoadedRulebook, shown: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in shown {
        out.push_str(d.render(&loaded.sources, false).trim_end());
        out.push_str("\n\n");
        out.push_str(&json_line(d, loaded));
        out.push_str("\n\n");
    }
    out.trim_end().to_string()
}

/// The diagnostics of a case that are not in the fixture files (the case file, or the header
/// file the loader makes up when there is none), and the headlines of those in the fixture.
fn split(
    case: &Case,
    loaded: &LoadedRulebook,
    case_id: vigil_dsl::SourceId,
) -> (Vec<Diagnostic>, Vec<String>) {
    let in_fixture = |d: &Diagnostic| !case.standalone && d.primary.span.source.0 < case_id.0;
    let shown = loaded
        .diagnostics
        .iter()
        .filter(|d| !in_fixture(d))
        .cloned()
        .collect();
    let fixture = loaded
        .diagnostics
        .iter()
        .filter(|d| in_fixture(d))
        .map(|d| d.headline(&loaded.sources))
        .collect();
    (shown, fixture)
}

/// The code a case's name promises, `V0202` for `V0202_unknown_field_on_line`.
fn promised_code(name: &str) -> Option<&str> {
    let code = name.get(..5)?;
    let ok = code.starts_with("V0")
        && code[2..].bytes().all(|b| b.is_ascii_digit())
        && name[5..].starts_with('_');
    ok.then_some(code)
}

#[test]
fn fixture_checks_clean() {
    let loaded = check_sources(Some(PathBuf::from(FIXTURE)), fixture_files());
    let found: Vec<String> = loaded
        .diagnostics
        .iter()
        .map(|d| d.headline(&loaded.sources))
        .collect();
    assert!(
        found.is_empty(),
        "the fixture must check with no diagnostics at all:\n{}",
        found.join("\n")
    );
    assert_eq!(loaded.rulebook.header.id, "fixture");
    assert_eq!(loaded.rulebook.tables.len(), 3);
}

#[test]
fn corpus_snapshots() {
    let cases = cases();
    assert!(
        cases.len() >= 45,
        "the corpus has {} cases; it should have at least 45",
        cases.len()
    );
    // Every case's invariants first, all reported together; then the snapshots.
    let mut problems = Vec::new();
    let mut results = Vec::new();
    for case in &cases {
        let (loaded, case_id) = case.check();
        let (shown, fixture) = split(case, &loaded, case_id);
        if !fixture.is_empty() {
            problems.push(format!(
                "{}: diagnostics in the fixture:\n  {}",
                case.name,
                fixture.join("\n  ")
            ));
        }
        if shown.is_empty() {
            problems.push(format!("{}: no diagnostic", case.name));
        }
        if let Some(code) = promised_code(&case.name) {
            if !shown.iter().any(|d| d.code == code) {
                let got: Vec<&str> = shown.iter().map(|d| d.code).collect();
                problems.push(format!("{}: no {code} diagnostic (got {got:?})", case.name));
            }
        } else {
            problems.push(format!(
                "{}: a case is named `V0xxx_what_is_wrong`",
                case.name
            ));
        }
        results.push((case, snapshot_text(&loaded, &shown)));
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) in the corpus:\n{}",
        problems.len(),
        problems.join("\n")
    );
    for (case, text) in results {
        let mut settings = insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_description(case.what.clone());
        settings.set_input_file(Path::new(env!("CARGO_MANIFEST_DIR")).join(&case.file));
        settings.bind(|| insta::assert_snapshot!(case.name.as_str(), text));
    }
}

/// Every `"V0xxx"` string literal in the sources of a crate.
fn codes_in(dir: &Path) -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let p = entry.expect("a listed source entry can be read").path();
        if p.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let bytes = text.as_bytes();
        for i in 0..bytes.len().saturating_sub(6) {
            let lit = &bytes[i..i + 7];
            if lit[0] == b'"'
                && lit[1] == b'V'
                && lit[2] == b'0'
                && lit[3..6].iter().all(u8::is_ascii_digit)
                && lit[6] == b'"'
            {
                codes.insert(text[i + 1..i + 6].to_string());
            }
        }
    }
    codes
}

#[test]
fn corpus_covers_every_code() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut emitted = codes_in(&manifest.join("src"));
    emitted.extend(codes_in(&manifest.join("../dsl/src")));
    assert!(
        emitted.len() > 40,
        "found only {} codes in the sources: is the scan broken?",
        emitted.len()
    );
    let mut produced: BTreeSet<&'static str> = BTreeSet::new();
    for case in cases() {
        let (loaded, case_id) = case.check();
        let (shown, _) = split(&case, &loaded, case_id);
        produced.extend(shown.iter().map(|d| d.code));
    }
    let missing: Vec<&String> = emitted
        .iter()
        .filter(|c| !produced.contains(c.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} code(s) the compiler can emit are produced by no case in {CASES}: {}",
        missing.len(),
        missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
}

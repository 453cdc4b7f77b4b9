//! Nothing user-supplied panics: the national rulebook, broken at random, still checks, and
//! every diagnostic it gets is well-formed (sorted, spans inside their file and on character
//! boundaries) and renders both ways.
//!
//! The mutations are the ones an editor produces mid-keystroke: a range deleted or pasted
//! twice, two names swapped, a name replaced by another, a token typed at a random place.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use vigil_compiler::{check_sources, Diagnostic, LoadedRulebook};

/// Fragments typed into the text: operators half-written, keywords out of place, numbers out of
/// range, unbalanced brackets and quotes, full-width and invisible characters.
const TOKENS: &[&str] = &[
    "?",
    ".",
    "??",
    "?.",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "{{",
    "\"",
    "\\",
    "and",
    "or",
    "not",
    "exists x in claim.fee_list where",
    "all x in claim.fee_list where",
    "some(x)",
    "is some(v)",
    "is none",
    "1.5",
    "0",
    "/ 0",
    "-",
    "99999999999999999999",
    "0.00000000000000000000000000000001",
    "claim",
    "line",
    "claims",
    "hilist[",
    "hilist[line.hilist_code]",
    "at",
    "..=",
    "..",
    "==",
    "!=",
    "=",
    ",",
    ":",
    "in",
    "for",
    "by",
    "医保",
    "（",
    "\u{3000}",
    "\u{feff}",
    "\n",
    "//",
    "count(l in claim.fee_list)",
    "sum(l.cnt ?? 0 for l in claim.fee_list)",
    "groups(",
    "history(claim.psn_no)",
    "date(\"2026-02-30\")",
    "per provider month of claim.enddate",
    "let claim = 1",
    "rule X-1 \"n\" {",
    "test \"t\" { given claims \"tests/claims/readmit.jsonl\" expect X-1 at line \"1\" }",
    "const C = C",
    "def f(x: int) -> int = f(x)",
    "table t from \"../t.csv\" key k { k: code? }",
    "enum e { a = \"\" }",
    "rulebook b \"t\" version \"1\"",
];

/// The national rulebook's folder and `.vigil` files, read once.
fn national() -> &'static (PathBuf, Vec<(PathBuf, String)>) {
    static FILES: OnceLock<(PathBuf, Vec<(PathBuf, String)>)> = OnceLock::new();
    FILES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
            .map(|e| e.expect("a listed rulebook entry can be read").path())
            .filter(|p| p.extension().is_some_and(|e| e == "vigil"))
            .collect();
        paths.sort();
        assert!(paths.len() >= 3, "the national rulebook has its files");
        let files = paths
            .into_iter()
            .map(|p| {
                let text =
                    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                (p, text)
            })
            .collect();
        (root, files)
    })
}

/// Whether a file declares rules (as opposed to the schema, tables, consts and defs they use).
fn declares_rules(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("rule "))
}

/// The files a mutated file is checked with: the mutated one and every file that declares no
/// rule. Leaving the other rule files out keeps a case to a few milliseconds in a debug build,
/// however many rules the national rulebook grows.
fn with_context(files: &[(PathBuf, String)], mutated: Option<usize>) -> Vec<(PathBuf, String)> {
    files
        .iter()
        .enumerate()
        .filter(|(i, (_, text))| Some(*i) == mutated || !declares_rules(text))
        .map(|(_, f)| f.clone())
        .collect()
}

/// The byte ranges of the identifiers (and keywords) of a text.
fn identifiers(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let is_start = |b: u8| b.is_ascii_alphabetic() || b == b'_';
    let is_part = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if is_start(bytes[i]) && (i == 0 || !is_part(bytes[i - 1])) {
            let start = i;
            while i < bytes.len() && is_part(bytes[i]) {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

/// The nearest character boundary at or before `at`.
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// One edit of a file. Positions and choices are raw random numbers, taken modulo what there
/// is to choose from when the edit is applied.
#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Duplicate { at: usize, len: usize },
    SwapIdents { a: usize, b: usize },
    Insert { at: usize, token: usize },
    ReplaceIdent { at: usize, with: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1usize..60).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), 1usize..60).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapIdents { a, b }),
        (any::<usize>(), any::<usize>()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        (any::<usize>(), any::<usize>()).prop_map(|(at, with)| Mutation::ReplaceIdent { at, with }),
    ]
}

/// Applies an edit; an edit that does not fit the text (no identifiers) leaves it as it is.
fn apply(text: &str, m: &Mutation) -> String {
    let pos = |at: &usize| boundary(text, at % (text.len() + 1));
    match m {
        Mutation::Delete { at, len } => {
            let start = pos(at);
            let end = boundary(text, start + len);
            format!("{}{}", &text[..start], &text[end..])
        }
        Mutation::Duplicate { at, len } => {
            let start = pos(at);
            let end = boundary(text, start + len);
            format!("{}{}", &text[..end], &text[start..])
        }
        Mutation::Insert { at, token } => {
            let at = pos(at);
            let token = TOKENS[token % TOKENS.len()];
            format!("{} {token} {}", &text[..at], &text[at..])
        }
        Mutation::SwapIdents { a, b } => {
            let ids = identifiers(text);
            if ids.len() < 2 {
                return text.to_string();
            }
            let (x, y) = (a % ids.len(), b % ids.len());
            let (first, second) = if x <= y {
                (ids[x], ids[y])
            } else {
                (ids[y], ids[x])
            };
            if first == second {
                return text.to_string();
            }
            format!(
                "{}{}{}{}{}",
                &text[..first.0],
                &text[second.0..second.1],
                &text[first.1..second.0],
                &text[first.0..first.1],
                &text[second.1..]
            )
        }
        Mutation::ReplaceIdent { at, with } => {
            let ids = identifiers(text);
            if ids.is_empty() {
                return text.to_string();
            }
            let target = ids[at % ids.len()];
            let source = ids[with % ids.len()];
            format!(
                "{}{}{}",
                &text[..target.0],
                &text[source.0..source.1],
                &text[target.1..]
            )
        }
    }
}

/// Checks the files and the well-formedness of every diagnostic.
fn check_well_formed(root: &Path, files: Vec<(PathBuf, String)>) -> Result<(), TestCaseError> {
    let loaded = check_sources(Some(root.to_path_buf()), files);
    for pair in loaded.diagnostics.windows(2) {
        prop_assert!(
            pair[0].sort_key() <= pair[1].sort_key(),
            "diagnostics out of order: {} before {}",
            pair[0].headline(&loaded.sources),
            pair[1].headline(&loaded.sources)
        );
    }
    for d in &loaded.diagnostics {
        check_spans(d, &loaded)?;
        let _ = d.render(&loaded.sources, false);
        let _ = d.render(&loaded.sources, true);
        let _ = d.to_json(&loaded.sources);
        let _ = d.headline(&loaded.sources);
    }
    Ok(())
}

fn check_spans(d: &Diagnostic, loaded: &LoadedRulebook) -> Result<(), TestCaseError> {
    for label in std::iter::once(&d.primary).chain(&d.secondary) {
        let span = label.span;
        let file = loaded.sources.get(span.source);
        prop_assert!(
            file.is_some(),
            "[{}] {}: span in no loaded file: {span:?}",
            d.code,
            d.message
        );
        let text = &file.map(|f| f.text.as_str()).unwrap_or_default();
        let (start, end) = (span.start as usize, span.end as usize);
        prop_assert!(
            start <= end && end <= text.len(),
            "[{}] {}: span {start}..{end} outside a file of {} bytes",
            d.code,
            d.message,
            text.len()
        );
        prop_assert!(
            text.is_char_boundary(start) && text.is_char_boundary(end),
            "[{}] {}: span {start}..{end} splits a character",
            d.code,
            d.message
        );
    }
    Ok(())
}

/// 200 cases per property (a few seconds in a debug build); `PROPTEST_CASES=20000` hunts longer.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// One file of the national rulebook, edited one to four times.
    #[test]
    fn mutated_national_rulebook_checks_without_panic(
        file in any::<Index>(),
        edits in prop::collection::vec(mutation(), 1..=4),
    ) {
        let (root, files) = national();
        let mut files = files.clone();
        let i = file.index(files.len());
        for m in &edits {
            files[i].1 = apply(&files[i].1, m);
        }
        check_well_formed(root, with_context(&files, Some(i)))?;
    }

    /// The national rulebook with one more file made of random tokens and names.
    #[test]
    fn token_soup_checks_without_panic(
        pieces in prop::collection::vec((any::<Index>(), any::<bool>()), 1..60),
    ) {
        let (root, files) = national();
        let names: Vec<&str> = files
            .iter()
            .flat_map(|(_, t)| identifiers(t).into_iter().map(move |(s, e)| &t[s..e]))
            .collect();
        let mut soup = String::new();
        for (pick, is_name) in &pieces {
            let piece = if *is_name { names[pick.index(names.len())] } else { TOKENS[pick.index(TOKENS.len())] };
            soup.push_str(piece);
            soup.push(' ');
        }
        let mut files = with_context(files, None);
        files.push((root.join("soup.vigil"), soup));
        check_well_formed(root, files)?;
    }
}

#[test]
fn mutations_keep_text_valid() {
    let text = "rule A \"医保\" { when claim.x == 1 }";
    for len in 0..text.len() + 2 {
        for at in 0..text.len() + 2 {
            let _ = apply(text, &Mutation::Delete { at, len });
            let _ = apply(text, &Mutation::Duplicate { at, len });
            let _ = apply(text, &Mutation::Insert { at, token: len });
            let _ = apply(text, &Mutation::SwapIdents { a: at, b: len });
            let _ = apply(text, &Mutation::ReplaceIdent { at, with: len });
        }
    }
    assert_eq!(identifiers("a.b_c 医保 d1"), vec![(0, 1), (2, 5), (13, 15)]);
}

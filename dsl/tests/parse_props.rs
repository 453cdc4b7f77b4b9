//! Properties of the parser and the formatter on inputs nobody wrote on purpose: nothing
//! panics, and whatever parses formats to text that parses to the same tree and formats to
//! itself again, with the same comments.

mod spanless;
use spanless::without_spans;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestCaseError;
use vigil_dsl::ast::Module;
use vigil_dsl::fmt::{format_source, scan_comments};
use vigil_dsl::{parse, SourceId};

// ---- helpers ------------------------------------------------------------------------------

fn vigil_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            vigil_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "vigil") {
            out.push(path);
        }
    }
}

/// The sample rulebook files and the formatter cases: the seeds of the mutations.
fn seeds() -> &'static [String] {
    static SEEDS: OnceLock<Vec<String>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        vigil_files(&root.join("../rulebooks"), &mut files);
        vigil_files(&root.join("tests/fmt_cases"), &mut files);
        files.sort();
        let texts: Vec<String> = files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect();
        assert!(!texts.is_empty(), "no seed files found");
        texts
    })
}

fn comment_texts(text: &str, m: &Module) -> Vec<String> {
    let mut texts: Vec<String> = scan_comments(text, m).into_iter().map(|c| c.text).collect();
    texts.sort();
    texts
}

/// Parses and formats `text`; when it parses, checks the round trip, idempotence and comments.
/// Returns whether it parsed.
fn check(text: &str) -> Result<bool, TestCaseError> {
    let Ok(tree) = parse(SourceId(0), text) else {
        prop_assert!(
            format_source(text).is_err(),
            "formatted a text that does not parse"
        );
        return Ok(false);
    };
    let once =
        format_source(text).map_err(|e| TestCaseError::fail(format!("format failed: {e:?}")))?;
    let again = parse(SourceId(0), &once).map_err(|e| {
        TestCaseError::fail(format!(
            "formatted text does not parse: {e:?}\n--- input\n{text}\n--- output\n{once}"
        ))
    })?;
    prop_assert_eq!(
        without_spans(&tree),
        without_spans(&again),
        "tree changed\n--- input\n{}\n--- output\n{}",
        text,
        once
    );
    let twice = format_source(&once)
        .map_err(|e| TestCaseError::fail(format!("second format failed: {e:?}")))?;
    prop_assert_eq!(&once, &twice, "not idempotent\n--- input\n{}", text);
    prop_assert_eq!(
        comment_texts(text, &tree),
        comment_texts(&once, &again),
        "comments changed\n--- input\n{}",
        text
    );
    prop_assert!(once.is_empty() || (once.ends_with('\n') && !once.ends_with("\n\n")));
    prop_assert!(
        once.lines().all(|l| l.trim_end() == l),
        "trailing whitespace:\n{}",
        once
    );
    Ok(true)
}

/// Token-like pieces that stress the lexer: brackets, quotes, operators, keywords, comments,
/// non-ASCII text and the grammar's unusual whitespace.
const TOKENS: &[&str] = &[
    "(", ")", "[", "]", "{", "}", "\"", "\\", ",", ".", "?", "?.", "??", "..", "..=", "-", "+",
    "*", "/", "==", "!=", "<", ">=", "=", ":", "->", "and", "or", "not", "in", "is", "some",
    "none", "exists", "all", "where", "for", "by", "at", "true", "false", "rule", "when", "let",
    "amount", "message", "test", "expect", "given", "const", "def", "schema", "table", "key",
    "valid", "//", "// c\n", "\n", " ", "\t", "\r\n", "医保", "\u{3000}", "\u{FEFF}", "x", "claim",
    "1", "1.50", "\"s\"", "{{", "}}", "\"{x}\"", "CN-A-001", "some(v)",
];

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(TOKENS).prop_map(str::to_string),
        1 => (1usize..=5000).prop_map(|n| "(".repeat(n)),
        1 => (1usize..=300).prop_map(|n| "not ".repeat(n)),
        1 => "\\PC{0,8}",
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, token: String },
    Duplicate { at: usize, len: usize },
    Swap { a: usize, b: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (any::<usize>(), token()).prop_map(|(at, token)| Mutation::Insert { at, token }),
        (any::<usize>(), 0usize..80).prop_map(|(at, len)| Mutation::Duplicate { at, len }),
        (any::<usize>(), any::<usize>(), 1usize..30).prop_map(|(a, b, len)| Mutation::Swap {
            a,
            b,
            len
        }),
    ]
}

/// The char boundary at or before `at % (len + 1)`.
fn boundary(text: &str, at: usize) -> usize {
    let mut i = at % (text.len() + 1);
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `at..at+len` clamped to char boundaries.
fn slice(text: &str, at: usize, len: usize) -> (usize, usize) {
    let start = boundary(text, at);
    let end = boundary(text, start.saturating_add(len).min(text.len()));
    (start, end.max(start))
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut t = text.to_string();
    match m {
        Mutation::Delete { at, len } => {
            let (s, e) = slice(&t, *at, *len);
            t.replace_range(s..e, "");
        }
        Mutation::Insert { at, token } => {
            let s = boundary(&t, *at);
            t.insert_str(s, token);
        }
        Mutation::Duplicate { at, len } => {
            let (s, e) = slice(&t, *at, *len);
            let piece = t[s..e].to_string();
            t.insert_str(e, &piece);
        }
        Mutation::Swap { a, b, len } => {
            let (s1, e1) = slice(&t, *a, *len);
            let (s2, e2) = slice(&t, *b, *len);
            let ((s1, e1), (s2, e2)) = if s1 <= s2 {
                ((s1, e1), (s2, e2))
            } else {
                ((s2, e2), (s1, e1))
            };
            if e1 <= s2 {
                let first = t[s1..e1].to_string();
                let second = t[s2..e2].to_string();
                t.replace_range(s2..e2, &first);
                t.replace_range(s1..e1, &second);
            }
        }
    }
    t
}

// ---- generated expressions --------------------------------------------------------------------

/// Spacing between tokens: usually a space, sometimes nothing, a line break, a comment at the
/// end of a line or a comment on a line of its own.
fn gap() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        12 => Just(" "),
        2 => Just(""),
        2 => Just("\n    "),
        1 => Just(" // note\n  "),
        1 => Just("\n  // own line\n\n  "),
    ]
}

/// Expression text from the grammar's pieces, freely combined: most of it parses, some of it
/// does not (`a == b == c`), and long ones exercise line breaking.
fn expr_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        prop::sample::select(
            &[
                "a",
                "b",
                "claim.med_type",
                "line",
                "notes",
                "x",
                "android",
                "inpatient"
            ][..]
        )
        .prop_map(str::to_string),
        prop::sample::select(
            &[
                "0",
                "1.50",
                "15",
                "\"s\"",
                "\"a // b\"",
                "\"{}\"",
                "true",
                "false"
            ][..]
        )
        .prop_map(str::to_string),
        "[a-z_]{1,30}",
    ];
    leaf.prop_recursive(6, 96, 4, |inner| {
        let binop = prop::sample::select(
            &["and", "or", "==", "!=", "<", "<=", ">", ">=", "??", "+", "-", "*", "/", "in", "not in"][..],
        );
        prop_oneof![
            4 => (inner.clone(), gap(), binop, gap(), inner.clone()).prop_map(|(a, g1, op, g2, b)| format!("{a}{g1}{op} {g2}{b}")),
            1 => inner.clone().prop_map(|e| format!("not {e}")),
            1 => inner.clone().prop_map(|e| format!("-{e}")),
            2 => (inner.clone(), gap()).prop_map(|(e, g)| format!("({g}{e})")),
            1 => inner.clone().prop_map(|e| format!("{e}?.f")),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}.g[{b}]")),
            1 => (inner.clone(), inner.clone(), inner.clone()).prop_map(|(a, b, c)| format!("t[{a}, {b} at {c}]")),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("f({a}, {b})")),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("count(x in {a} where {b})")),
            1 => (inner.clone(), inner.clone(), inner.clone()).prop_map(|(a, b, c)| format!("sum({a} for y in {b} by {c})")),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
            1 => (inner.clone(), inner.clone(), inner.clone()).prop_map(|(a, b, c)| format!("{a} in {b}..={c}")),
            1 => inner.clone().prop_map(|e| format!("{e} is some(v)")),
            1 => inner.clone().prop_map(|e| format!("{e} is none")),
            2 => (inner.clone(), gap(), inner.clone()).prop_map(|(a, g, b)| format!("exists q in {a}{g}where {b}")),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("all r in {a} where {b}")),
        ]
    })
}

/// A file whose rule, const and def bodies are generated expressions.
fn generated_file(exprs: &[String]) -> String {
    let [w, l, m, c, d] = exprs else {
        return String::new();
    };
    format!(
        "rule CN-GEN-001 \"生成\" {{\n  let v = {l}\n  when {w} // why\n  per provider month of a where {d}\n  \
         message \"值 {{{m}}} {{{{x}}}}\"\n}}\n\nconst C = {c}\ndef f(p: int) -> bool = {d}\n"
    )
}

/// One generated expression in each place an expression can stand.
fn single_expression_files(e: &str) -> [String; 3] {
    [
        format!("rule CN-GEN-002 \"g\" {{\n  when {e}\n}}\n"),
        format!("const C = {e}\n"),
        format!("rule CN-GEN-003 \"g\" {{\n  message \"{{{e}}}\"\n}}\n"),
    ]
}

// ---- properties -------------------------------------------------------------------------------

proptest! {
    // No regression files: a failure prints its minimal input, which belongs in tests/fmt_cases.
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn random_strings_never_panic(text in "\\PC{0,300}") {
        check(&text)?;
    }

    #[test]
    fn token_soup_never_panics(tokens in prop::collection::vec(token(), 0..60)) {
        check(&tokens.concat())?;
    }

    #[test]
    fn mutated_samples_never_panic_and_format_stably(
        seed in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let seeds = seeds();
        let mut text = seeds[seed.index(seeds.len())].clone();
        for m in &mutations {
            text = apply(&text, m);
        }
        check(&text)?;
    }

}

proptest! {
    // Each case checks 16 files (the whole file and each expression in three places).
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_expressions_format_stably(exprs in prop::collection::vec(expr_text(), 5)) {
        check(&generated_file(&exprs))?;
        for e in &exprs {
            for text in single_expression_files(e) {
                check(&text)?;
            }
        }
    }
}

// ---- deep nesting: rejected or handled, never a stack overflow --------------------------------

#[test]
fn deep_nesting_is_rejected_or_formatted() {
    let deep = [
        format!("const A = {}x{}", "(".repeat(5000), ")".repeat(5000)),
        format!("const A = {}x", "(".repeat(5000)),
        format!("const A = {}x{}", "[".repeat(199), "]".repeat(199)),
        format!("const A = {}x{}", "(".repeat(19), ")".repeat(19)),
        format!("const A = {}x", "not ".repeat(5000)),
        format!("const A = {}x", "not ".repeat(190)),
        format!("const A = {}x", "-".repeat(190)),
        format!("const A = x{}", ".f".repeat(190)),
        format!("const A = x{}", "?.f".repeat(5000)),
        format!("const A = x{}", " and x".repeat(190)),
        format!("const A = x{}", " ?? x".repeat(190)),
        format!("const A = x{}", " * x".repeat(5000)),
        format!("const A = {}x", "exists q in l where ".repeat(60)),
        format!("const A = {}x", "exists q in l where ".repeat(3000)),
        format!(
            "schema s {{ a: {}int{} }}",
            "[".repeat(199),
            "]".repeat(199)
        ),
        format!(
            "rule R \"n\" {{\n  message \"{}\"\n}}",
            "{(x)}".repeat(3000)
        ),
    ];
    let mut parsed = 0;
    for text in &deep {
        if check(text).unwrap_or_else(|e| panic!("{e}")) {
            parsed += 1;
        }
    }
    assert!(parsed >= 5, "only {parsed} of the deep inputs parsed");
}

#[test]
fn generated_inputs_mostly_parse() {
    // Guards the generator: if almost nothing it makes parses, the properties test little.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = expr_text();
    let mut ok = 0;
    for _ in 0..100 {
        let e = strategy.new_tree(&mut runner).expect("generate").current();
        if parse(SourceId(0), &format!("const C = {e}\n")).is_ok() {
            ok += 1;
        }
    }
    assert!(ok >= 30, "only {ok} of 100 generated expressions parse");
}

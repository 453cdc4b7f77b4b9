//! Random edit sequences: whatever the officer types, wherever the cursor is, the server
//! answers every request without an error and never dies.

mod support;

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{json, Value};
use support::{national_copy, position_of, read, uri_of, Client};

/// Text an officer might type: fragments of the language, Chinese, emoji, brackets, quotes.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("claim.".to_string()),
        Just("line.".to_string()),
        Just("?.".to_string()),
        Just(".".to_string()),
        Just("hilist_code".to_string()),
        Just("expect no CN-".to_string()),
        Just(" is some(x) and ".to_string()),
        Just("catalogue_row(claim, line)?.".to_string()),
        Just("hilist[".to_string()),
        Just("规则😀".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("\"".to_string()),
        Just("\n".to_string()),
        Just("\u{3000}".to_string()),
        Just(": [".to_string()),
        "[a-z_.(){}\\[\\]\"规😀 \n:?-]{0,8}",
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    /// Insert text at a fraction of the document's length.
    Insert(f64, String),
    /// Delete up to this many chars from a fraction of the document's length.
    Delete(f64, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0.0..1.0f64, fragment()).prop_map(|(at, s)| Edit::Insert(at, s)),
        (0.0..1.0f64, 0usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
    ]
}

/// A rulebook folder with the national header, schema, tables and shared defs, and the file
/// under edit: the whole national book would only make each check slower.
struct Book {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

fn small_book() -> Book {
    let (dir, root) = national_copy();
    for name in ["charges", "prescriptions", "providers", "stays"] {
        let _ = std::fs::remove_file(root.join(format!("{name}.vigil")));
    }
    Book { _dir: dir, root }
}

fn char_boundary(text: &str, fraction: f64) -> usize {
    let mut at = ((text.len() as f64) * fraction) as usize;
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn probe(client: &mut Client, uri: &lsp_types::Uri, line: u32, character: u32) {
    let at = json!({ "textDocument": { "uri": uri.as_str() },
                     "position": { "line": line, "character": character } });
    let mut refs = at.clone();
    refs["context"] = json!({ "includeDeclaration": true });
    for (method, params) in [
        ("textDocument/hover", at.clone()),
        ("textDocument/completion", at.clone()),
        ("textDocument/definition", at.clone()),
        ("textDocument/references", refs),
    ] {
        let _: Value = client.result(method, params);
    }
}

fn run_case(book: &Path, file: &str, edits: &[Edit], probes: &[(u32, u32)]) {
    let path = book.join(file);
    let uri = uri_of(&path);
    let mut text = read(&path);
    let mut client = Client::initialized();
    client.open(&uri, &text);
    for (version, e) in edits.iter().enumerate() {
        let (start, end, insert) = match e {
            Edit::Insert(at, s) => {
                let at = char_boundary(&text, *at);
                (at, at, s.clone())
            }
            Edit::Delete(at, n) => {
                let at = char_boundary(&text, *at);
                let len: usize = text[at..].chars().take(*n).map(char::len_utf8).sum();
                (at, at + len, String::new())
            }
        };
        // Ranges in UTF-16 positions, counted by the client on its own copy of the text.
        let (from, to) = (position_of(&text, start), position_of(&text, end));
        text.replace_range(start..end, &insert);
        client.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri.as_str(), "version": version + 2 },
                    "contentChanges": [{ "range": { "start": from, "end": to }, "text": insert }] }),
        );
        // Probe after some edits only: the others queue up and are checked together.
        if version % 3 == 2 {
            let (line, character) = probes[version % probes.len()];
            probe(&mut client, &uri, line, character);
        }
    }
    for &(line, character) in probes {
        probe(&mut client, &uri, line, character);
        // The cursor at the end of an edited line, where completion usually runs.
        let lines: Vec<&str> = text.split('\n').collect();
        let l = (line as usize) % lines.len().max(1);
        let end = lines.get(l).map_or(0, |s| s.encode_utf16().count()) as u32;
        probe(&mut client, &uri, l as u32, end);
    }
    let doc = json!({ "textDocument": { "uri": uri.as_str() } });
    let _: Value = client.result("textDocument/documentSymbol", doc);
    let fmt = json!({ "textDocument": { "uri": uri.as_str() },
                      "options": { "tabSize": 2, "insertSpaces": true } });
    let _: Value = client.result("textDocument/formatting", fmt);
    assert!(client.shutdown().is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_edits_never_break_the_server(
        file in prop_oneof![Just("limits.vigil"), Just("schema.vigil"), Just("tables.vigil"), Just("common.vigil")],
        edits in proptest::collection::vec(edit(), 1..10),
        probes in proptest::collection::vec((0u32..160, 0u32..140), 1..4),
    ) {
        let book = small_book();
        run_case(&book.root, file, &edits, &probes);
    }
}

//! A whole editor session against a copy of the national rulebook, through the JSON-RPC
//! protocol as a real client speaks it.

mod support;

use serde_json::{json, Value};
use support::{hover_params, national_copy, position_of, read, uri_of, Client};

/// A rule appended to limits.vigil: Chinese text and an emoji before the field on the same line,
/// so that a column counted in bytes or in chars would land elsewhere than in UTF-16 units.
const APPENDED: &str = r#"
rule CN-LSP-001 "编辑器测试😀" {
  severity info
  basis "《测试》😀 第一条"
  for line in claim.fee_list
  when line.pric is some(p)
  amount p
  message "单价😀（测试）{line.FIELD ?? "无"}"
}
"#;

fn appended(field: &str) -> String {
    APPENDED.replace("FIELD", field)
}

#[test]
fn an_editing_session() {
    let (_dir, root) = national_copy();
    let limits = root.join("limits.vigil");
    let limits_uri = uri_of(&limits);
    let original = read(&limits);

    let mut client = Client::initialized();

    // A misspelt field: V0202 at its exact UTF-16 position, with the compiler's help.
    let broken = format!("{original}{}", appended("hilist_cod"));
    client.open(&limits_uri, &broken);
    let published = client.diagnostics(&limits_uri);
    let at = broken
        .rfind("hilist_cod")
        .expect("the misspelling is in the text");
    let expected = position_of(&broken, at);
    let line_text = broken[..at].rsplit('\n').next().unwrap_or("");
    assert_ne!(
        expected.character as usize,
        line_text.len(),
        "the line must have multi-byte text before the field"
    );
    assert_ne!(expected.character as usize, line_text.chars().count());
    let v0202: Vec<_> = published
        .diagnostics
        .iter()
        .filter(|d| d.code == Some(lsp_types::NumberOrString::String("V0202".into())))
        .collect();
    assert_eq!(v0202.len(), 1, "{:#?}", published.diagnostics);
    let d = v0202[0];
    assert_eq!(d.range.start, expected);
    assert_eq!(d.range.end, position_of(&broken, at + "hilist_cod".len()));
    assert_eq!(d.severity, Some(lsp_types::DiagnosticSeverity::ERROR));
    assert!(
        d.message.contains("\nhelp: did you mean `hilist_code`?"),
        "{}",
        d.message
    );
    assert_eq!(published.version, Some(1));

    // Every file of the folder gets its diagnostics, an empty set included.
    let header_uri = uri_of(&root.join("rulebook.vigil"));
    let header = client.diagnostics(&header_uri);
    assert!(header.diagnostics.is_empty(), "{:?}", header.diagnostics);

    // Fixed: the error is gone.
    let fixed = format!("{original}{}", appended("hilist_code"));
    client.change_all(&limits_uri, 2, &fixed);
    let published = client.diagnostics(&limits_uri);
    assert_eq!(published.version, Some(2));
    assert!(
        published
            .diagnostics
            .iter()
            .all(|d| d.severity != Some(lsp_types::DiagnosticSeverity::ERROR)),
        "{:#?}",
        published.diagnostics
    );

    // Hover on `hilist_code` in `line.hilist_code`: its label and type.
    let at = fixed
        .rfind("hilist_code ??")
        .expect("the field is in the text");
    let pos = position_of(&fixed, at + 3);
    let hover = client.result(
        "textDocument/hover",
        hover_params(&limits_uri, pos.line, pos.character),
    );
    let text = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(
        text.contains("**hilist_code**: code? — 医保目录编码"),
        "{text}"
    );
    assert!(text.contains("fee_line"), "{text}");
    assert_eq!(hover["range"]["start"], json!(position_of(&fixed, at)));

    // Hover on a builtin and on a rule id.
    let at = fixed
        .rfind("CN-LSP-001")
        .expect("the rule id is in the text");
    let pos = position_of(&fixed, at + 2);
    let hover = client.result(
        "textDocument/hover",
        hover_params(&limits_uri, pos.line, pos.character),
    );
    let text = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(
        text.contains("编辑器测试😀") && text.contains("《测试》😀 第一条"),
        "{text}"
    );

    // Completion after `claim.` while the document does not parse.
    let typing = fixed.replace("  when line.pric is some(p)\n", "  when claim.\n");
    client.change_all(&limits_uri, 3, &typing);
    let published = client.diagnostics(&limits_uri);
    assert!(
        published
            .diagnostics
            .iter()
            .any(|d| d.code == Some(lsp_types::NumberOrString::String("V0001".into()))),
        "the text must not parse: {:#?}",
        published.diagnostics
    );
    let at = typing.rfind("when claim.").expect("typed") + "when claim.".len();
    let pos = position_of(&typing, at);
    let items = client.result(
        "textDocument/completion",
        hover_params(&limits_uri, pos.line, pos.character),
    );
    let names = labels(&items);
    assert!(names.contains(&"psn_no".to_string()), "{names:?}");
    assert!(names.contains(&"fee_list".to_string()), "{names:?}");
    let psn = items
        .as_array()
        .and_then(|a| a.iter().find(|i| i["label"] == "psn_no"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(psn["detail"], "text — 人员编号");

    // `line.` resolves the local through the last model that parsed; `line.hilist_code?.`
    // through the field's type.
    let typing = fixed.replace("  when line.pric is some(p)\n", "  when line.\n");
    client.change_all(&limits_uri, 4, &typing);
    let at = typing.rfind("when line.").expect("typed") + "when line.".len();
    let pos = position_of(&typing, at);
    let names = labels(&client.result(
        "textDocument/completion",
        hover_params(&limits_uri, pos.line, pos.character),
    ));
    assert!(names.contains(&"hilist_code".to_string()), "{names:?}");
    assert!(names.contains(&"pric".to_string()), "{names:?}");

    // Back to a text that parses.
    client.change_all(&limits_uri, 5, &fixed);

    // Completion of a field already started, in a parsing document: the checked type.
    let at = fixed.rfind("line.hilist_code ??").expect("field") + "line.hil".len();
    let pos = position_of(&fixed, at);
    let names = labels(&client.result(
        "textDocument/completion",
        hover_params(&limits_uri, pos.line, pos.character),
    ));
    assert!(names.contains(&"hilist_code".to_string()), "{names:?}");

    // Go to definition of a constant, from a use in another file.
    let (use_path, use_at, decl_path, decl_at, name) = a_const_use(&root);
    let use_uri = uri_of(&use_path);
    let use_text = read(&use_path);
    client.open(&use_uri, &use_text);
    let pos = position_of(&use_text, use_at + 1);
    let def = client.result(
        "textDocument/definition",
        hover_params(&use_uri, pos.line, pos.character),
    );
    let decl_text = read(&decl_path);
    assert_eq!(def["uri"], uri_of(&decl_path).as_str(), "{name}");
    assert_eq!(
        def["range"]["start"],
        json!(position_of(&decl_text, decl_at))
    );
    assert_eq!(
        def["range"]["end"],
        json!(position_of(&decl_text, decl_at + name.len()))
    );
    // Its hover shows the value.
    let hover = client.result(
        "textDocument/hover",
        hover_params(&use_uri, pos.line, pos.character),
    );
    let text = hover["contents"]["value"].as_str().unwrap_or("");
    assert!(text.contains(&format!("const {name}")), "{text}");

    // References: the declaration and the use.
    let refs = client.result(
        "textDocument/references",
        json!({ "textDocument": { "uri": use_uri.as_str() },
                "position": pos, "context": { "includeDeclaration": true } }),
    );
    let refs = refs.as_array().cloned().unwrap_or_default();
    assert!(refs.len() >= 2, "{refs:?}");
    assert!(refs.iter().any(|r| r["uri"] == uri_of(&decl_path).as_str()
        && r["range"]["start"] == json!(position_of(&decl_text, decl_at))));

    // Document symbols: the rule with its name.
    let symbols = client.result(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": limits_uri.as_str() } }),
    );
    let symbols = symbols.as_array().cloned().unwrap_or_default();
    assert!(
        symbols
            .iter()
            .any(|s| s["name"] == "CN-LSP-001" && s["detail"] == "编辑器测试😀"),
        "{symbols:?}"
    );

    // Formatting a badly laid-out file: one edit with the canonical text.
    let messy_path = root.join("messy.vigil");
    let messy_uri = uri_of(&messy_path);
    client.open(&messy_uri, "const   LSP_MESSY   =\n  1\n\n\n");
    let edits = client.result(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": messy_uri.as_str() },
                "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(
        edits,
        json!([{ "range": { "start": { "line": 0, "character": 0 },
                            "end": { "line": 4, "character": 0 } },
                 "newText": "const LSP_MESSY = 1\n" }])
    );
    // A file that does not parse: no edits.
    client.change_all(&messy_uri, 2, "const = ");
    let edits = client.result(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": messy_uri.as_str() },
                "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(edits, json!([]));

    // Closing the unsaved file takes it out of the rulebook: its diagnostics are cleared.
    client.notifications.clear();
    client.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": messy_uri.as_str() } }),
    );
    client.settle();
    let cleared = client.diagnostics(&messy_uri);
    assert!(cleared.diagnostics.is_empty());

    assert!(client.shutdown().is_ok());
}

fn labels(items: &Value) -> Vec<String> {
    items
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|i| i["label"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A use of a constant of the rulebook, and its declaration: (use file, use offset, declaring
/// file, offset of the name in the declaration, name). Found in the text, so that the test
/// follows the rulebook as it changes.
fn a_const_use(
    root: &std::path::Path,
) -> (std::path::PathBuf, usize, std::path::PathBuf, usize, String) {
    let mut files: Vec<_> = std::fs::read_dir(root)
        .expect("the copy is readable")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "vigil"))
        .collect();
    files.sort();
    let texts: Vec<(std::path::PathBuf, String)> =
        files.iter().map(|p| (p.clone(), read(p))).collect();
    for (decl_path, text) in &texts {
        for (line_at, line) in line_offsets(text) {
            let Some(rest) = line.strip_prefix("const ") else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let decl_at = line_at + "const ".len();
            for (use_path, use_text) in &texts {
                for (i, _) in use_text.match_indices(name.as_str()) {
                    let whole = !use_text[..i]
                        .ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                        && !use_text[i + name.len()..]
                            .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
                    let is_decl = use_path == decl_path && i == decl_at;
                    let in_comment = use_text[..i]
                        .rsplit('\n')
                        .next()
                        .unwrap_or("")
                        .contains("//");
                    if whole && !is_decl && !in_comment {
                        return (use_path.clone(), i, decl_path.clone(), decl_at, name);
                    }
                }
            }
        }
    }
    panic!("the rulebook uses no constant");
}

fn line_offsets(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    text.split('\n').map(move |line| {
        let start = at;
        at += line.len() + 1;
        (start, line)
    })
}

//! Each feature on every kind of name, against the small rulebook in `tests/mini` (a schema, a
//! code set, a table, a constant, a rule using locals, a builtin and a property, and a test).

mod support;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use support::{hover_params, position_of, read, uri_of, Client};

fn mini() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mini")
}

/// A session with `rules.vigil` open.
struct Session {
    client: Client,
    rules: PathBuf,
    text: String,
}

impl Session {
    fn new() -> Session {
        let rules = mini().join("rules.vigil");
        let text = read(&rules);
        let mut client = Client::initialized();
        client.open(&uri_of(&rules), &text);
        let published = client.diagnostics(&uri_of(&rules));
        assert!(
            published.diagnostics.is_empty(),
            "{:?}",
            published.diagnostics
        );
        Session {
            client,
            rules,
            text,
        }
    }

    /// The request parameters at the `nth` occurrence of `needle`, `into` bytes in.
    fn at(&self, needle: &str, nth: usize, into: usize) -> Value {
        let offset = self
            .text
            .match_indices(needle)
            .nth(nth)
            .map(|(i, _)| i + into)
            .unwrap_or_else(|| panic!("`{needle}` #{nth} is not in rules.vigil"));
        let pos = position_of(&self.text, offset);
        hover_params(&uri_of(&self.rules), pos.line, pos.character)
    }

    fn hover(&mut self, needle: &str, nth: usize) -> String {
        let params = self.at(needle, nth, 1);
        let h = self.client.result("textDocument/hover", params);
        h["contents"]["value"].as_str().unwrap_or("").to_string()
    }

    fn definition(&mut self, needle: &str, nth: usize) -> Value {
        let params = self.at(needle, nth, 1);
        self.client.result("textDocument/definition", params)
    }

    fn complete(&mut self, params: Value) -> Vec<Value> {
        let items = self.client.result("textDocument/completion", params);
        items.as_array().cloned().unwrap_or_default()
    }

    fn change(&mut self, version: i32, text: &str) {
        self.text = text.to_string();
        let uri = uri_of(&self.rules);
        self.client.change_all(&uri, version, text);
    }
}

fn item<'a>(items: &'a [Value], label: &str) -> Option<&'a Value> {
    items.iter().find(|i| i["label"] == label)
}

/// The location of the `nth` occurrence of `needle` in a file of the mini rulebook.
fn location(file: &str, needle: &str, nth: usize) -> Value {
    let path = mini().join(file);
    let text = read(&path);
    let start = text
        .match_indices(needle)
        .nth(nth)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("`{needle}` is not in {file}"));
    json!({ "uri": uri_of(&path).as_str(),
            "range": { "start": position_of(&text, start), "end": position_of(&text, start + needle.len()) } })
}

#[test]
fn hover_on_every_kind_of_name() {
    let mut s = Session::new();
    let cases = [
        // (needle, occurrence, expected parts)
        (
            "hilist_code ??",
            0,
            vec![
                "**hilist_code**: code? — 医保目录编码",
                "schema record `fee_line` (费用明细)",
            ],
        ),
        (
            "hilist_name",
            0,
            vec![
                "**hilist_name**: text — 医保目录名称",
                "column of table `hilist` (医保目录)",
            ],
        ),
        (
            "hilist[",
            0,
            vec![
                "**table hilist** — 医保目录",
                "from `tables/hilist.csv` · key `hilist_code`",
            ],
        ),
        (
            "PRICE_CAP)",
            0,
            vec!["**const PRICE_CAP**: int", "const PRICE_CAP = 100"],
        ),
        (
            "CN-MINI-001 at",
            0,
            vec![
                "**CN-MINI-001** 单价过高",
                "severity `block` · scope `line`",
                "basis: 《条例》第十五条",
            ],
        ),
        (
            "age(",
            0,
            vec!["age(birth: date, at: date) -> int", "Age in whole years"],
        ),
        (
            "date is some",
            0,
            vec![
                "**.date**: date — The calendar date of a date-time.",
                "property of a datetime",
            ],
        ),
        ("p >", 0, vec!["**p**: decimal", "local binding"]),
        ("item)", 0, vec!["**item**: hilist row"]),
        (
            "inpatient",
            0,
            vec![
                "**inpatient** = \"21\" — 普通住院",
                "code of enum `med_type` (医疗类别)",
            ],
        ),
        ("fee_list", 0, vec!["**fee_list**: [fee_line] — 费用明细"]),
        (
            "claim.fee",
            0,
            vec!["**claim**: claim — 医保结算", "the claim under review"],
        ),
    ];
    for (needle, nth, parts) in cases {
        let text = s.hover(needle, nth);
        for part in parts {
            assert!(text.contains(part), "hover on `{needle}`: {text}");
        }
    }
    // Nothing under the cursor: no hover.
    let params = s.at("单价过高", 0, 3);
    assert_eq!(s.client.result("textDocument/hover", params), Value::Null);
    assert!(s.client.shutdown().is_ok());
}

#[test]
fn definition_and_references() {
    let mut s = Session::new();
    assert_eq!(
        s.definition("hilist_code ??", 0),
        location("schema.vigil", "hilist_code", 0)
    );
    assert_eq!(
        s.definition("hilist[", 0),
        location("tables.vigil", "hilist", 0)
    );
    assert_eq!(
        s.definition("hilist_name", 0),
        location("tables.vigil", "hilist_name", 0)
    );
    assert_eq!(
        s.definition("inpatient", 0),
        location("schema.vigil", "inpatient", 0)
    );
    assert_eq!(
        s.definition("PRICE_CAP)", 0),
        location("rules.vigil", "PRICE_CAP", 0)
    );
    assert_eq!(
        s.definition("CN-MINI-001 at", 0),
        location("rules.vigil", "CN-MINI-001", 0)
    );
    // A local: its binder in `is some(item)`; `line`: the `for` binder.
    assert_eq!(s.definition("item.", 0), location("rules.vigil", "item", 0));
    assert_eq!(
        s.definition("line.pric", 0),
        location("rules.vigil", "line", 0)
    );
    // `claim`: the schema record.
    assert_eq!(
        s.definition("claim.fee", 0),
        location("schema.vigil", "claim", 0)
    );
    // A type name in the schema: the record.
    let schema = mini().join("schema.vigil");
    let schema_text = read(&schema);
    let uri = uri_of(&schema);
    s.client.open(&uri, &schema_text);
    let at = schema_text.find("[fee_line]").map_or(0, |i| i + 2);
    let pos = position_of(&schema_text, at);
    let def = s.client.result(
        "textDocument/definition",
        hover_params(&uri, pos.line, pos.character),
    );
    assert_eq!(def, location("schema.vigil", "fee_line", 1));
    // A builtin has no declaration.
    assert_eq!(s.definition("age(", 0), Value::Null);

    // References of a field: its declaration and its uses, in file order.
    let mut params = s.at("hilist_code ??", 0, 2);
    params["context"] = json!({ "includeDeclaration": true });
    let refs = s.client.result("textDocument/references", params.clone());
    assert_eq!(
        refs,
        json!([
            location("rules.vigil", "hilist_code", 0),
            location("schema.vigil", "hilist_code", 0),
        ])
    );
    params["context"] = json!({ "includeDeclaration": false });
    let refs = s.client.result("textDocument/references", params);
    assert_eq!(refs, json!([location("rules.vigil", "hilist_code", 0)]));
    // A local's: binder and uses.
    let mut params = s.at("item.", 0, 1);
    params["context"] = json!({ "includeDeclaration": true });
    let refs = s.client.result("textDocument/references", params);
    assert_eq!(refs.as_array().map(Vec::len), Some(3), "{refs}");
    assert!(s.client.shutdown().is_ok());
}

#[test]
fn completion_in_every_context() {
    let mut s = Session::new();
    let original = s.text.clone();

    // General: keywords, builtins, tables, constants, codes (with their set, code and label),
    // and the locals bound before the cursor.
    let items = s.complete(s.at("amount p", 0, 7));
    for label in [
        "when",
        "exists",
        "age",
        "hilist",
        "PRICE_CAP",
        "claim",
        "line",
        "item",
        "p",
    ] {
        assert!(item(&items, label).is_some(), "no `{label}`");
    }
    let code = item(&items, "inpatient").cloned().unwrap_or(Value::Null);
    assert_eq!(code["detail"], "med_type \"21\" 普通住院");
    let cap = item(&items, "PRICE_CAP").cloned().unwrap_or(Value::Null);
    assert_eq!(cap["detail"], "const: int = 100");

    // Rule ids after `expect`, replacing what was typed.
    let params = s.at("CN-MINI-001 at", 0, 4);
    let items = s.complete(params);
    let rule = item(&items, "CN-MINI-001").cloned().unwrap_or(Value::Null);
    assert_eq!(rule["detail"], "单价过高");
    let typed = s.text.find("CN-MINI-001 at").map_or(0, |i| i);
    assert_eq!(
        rule["textEdit"]["range"]["start"],
        json!(position_of(&s.text, typed))
    );
    assert_eq!(items.len(), 1, "only rule ids after `expect`");

    // While the document does not parse: a table row's columns, a property of a field, codes
    // of a named set, the fields of a record-typed local.
    let cases = [
        (
            "  amount p\n",
            "  amount item.\n",
            "amount item.",
            vec!["hilist_name", "pric_uplmt_amt"],
            "hilist_name",
            "text — 医保目录名称",
        ),
        (
            "  amount p\n",
            "  amount line.fee_ocur_time?.\n",
            "fee_ocur_time?.",
            vec!["date", "hour"],
            "hour",
            "int",
        ),
        (
            "  amount p\n",
            "  amount med_type.\n",
            "med_type.",
            vec!["outpatient", "inpatient"],
            "outpatient",
            "med_type \"11\" 普通门诊",
        ),
        (
            "  amount p\n",
            "  amount hilist[\"x\"]?.\n",
            "]?.",
            vec!["hilist_name"],
            "hilist_name",
            "text — 医保目录名称",
        ),
        (
            "  amount p\n",
            "  amount claim.fee_list.\n",
            "fee_list.",
            vec![],
            "",
            "",
        ),
    ];
    for (version, (from, to, after, want, detail_of, detail)) in cases.into_iter().enumerate() {
        let typing = original.replace(from, to);
        s.change(version as i32 + 2, &typing);
        let items = s.complete(s.at(after, 0, after.len()));
        for label in &want {
            assert!(
                item(&items, label).is_some(),
                "`{after}`: no `{label}` in {items:?}"
            );
        }
        if want.is_empty() {
            assert!(
                items.is_empty(),
                "`{after}`: a list has no fields: {items:?}"
            );
        } else {
            let found = item(&items, detail_of).cloned().unwrap_or(Value::Null);
            assert_eq!(found["detail"], detail, "`{after}`");
        }
    }

    // A type after `:`.
    let typing = format!("{original}\ndef f(x: ");
    s.change(20, &typing);
    let items = s.complete(s.at("(x: ", 0, 4));
    for label in ["money", "date", "fee_line", "med_type", "hilist"] {
        assert!(item(&items, label).is_some(), "no type `{label}`");
    }
    assert!(item(&items, "when").is_none());
    assert!(s.client.shutdown().is_ok());
}

#[test]
fn symbols_of_a_document() {
    let mut client = Client::initialized();
    let schema = mini().join("schema.vigil");
    let uri = uri_of(&schema);
    client.open(&uri, &read(&schema));
    let symbols = client.result(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri.as_str() } }),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["claim", "fee_line", "med_type"]);
    assert_eq!(symbols[0]["detail"], "医保结算");
    assert_eq!(symbols[0]["children"][1]["name"], "psn_no");
    assert_eq!(symbols[0]["children"][1]["detail"], "人员编号");
    assert_eq!(symbols[2]["children"][1]["detail"], "\"21\" 普通住院");

    let rules = mini().join("rules.vigil");
    let uri = uri_of(&rules);
    client.open(&uri, &read(&rules));
    let symbols = client.result(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri.as_str() } }),
    );
    let outline: Vec<(String, String)> = symbols
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    (
                        s["name"].as_str().unwrap_or("").to_string(),
                        s["detail"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        outline,
        [
            ("PRICE_CAP".to_string(), String::new()),
            ("CN-MINI-001".to_string(), "单价过高".to_string()),
            ("mini".to_string(), "test".to_string()),
        ]
    );
    assert!(client.shutdown().is_ok());
}

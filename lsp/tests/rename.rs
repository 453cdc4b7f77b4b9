//! Rename through the protocol: a const across files, a column with its CSV header, a let;
//! schema fields and bad names refused.

mod support;

use serde_json::{json, Value};
use support::{national_copy, position_of, read, uri_of, Client};

fn rename_at(
    client: &mut Client,
    uri: &lsp_types::Uri,
    text: &str,
    offset: usize,
    new_name: &str,
) -> lsp_server::Response {
    let at = position_of(text, offset);
    client.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri.as_str() }, "position": { "line": at.line, "character": at.character },
                "newName": new_name }),
    )
}

fn edits_by_file(response: &lsp_server::Response) -> Vec<(String, usize)> {
    let result = response
        .response_result
        .as_ref()
        .cloned()
        .unwrap_or(Value::Null);
    let mut out: Vec<(String, usize)> = result["changes"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(uri, edits)| {
                    (
                        uri.rsplit('/').next().unwrap_or("").to_string(),
                        edits.as_array().map_or(0, Vec::len),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn rename_a_const_a_column_and_a_let_refuse_fields_and_bad_names() {
    let (_dir, root) = national_copy();
    let common = root.join("common.vigil");
    let common_text = read(&common);
    let common_uri = uri_of(&common);
    let mut client = Client::initialized();
    client.open(&common_uri, &common_text);
    client.settle();

    // A const used in another file: its declaration here and its uses there.
    let decl = common_text
        .find("OUTPATIENT_LIKE")
        .expect("the const is declared in common.vigil");
    let r = rename_at(
        &mut client,
        &common_uri,
        &common_text,
        decl + 2,
        "OUTPATIENT_TYPES",
    );
    let files = edits_by_file(&r);
    assert!(
        files.iter().any(|(f, n)| f == "common.vigil" && *n == 1),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .any(|(f, n)| f == "prescriptions.vigil" && *n >= 1),
        "{files:?}"
    );
    assert!(files.iter().any(|(f, _)| f == "stays.vigil"), "{files:?}");

    // A table column: every use, the declaration, and the CSV header cell.
    let tables = root.join("tables.vigil");
    let tables_text = read(&tables);
    let tables_uri = uri_of(&tables);
    client.open(&tables_uri, &tables_text);
    client.settle();
    let col = tables_text
        .find("daily_max")
        .expect("hilist declares daily_max");
    let r = rename_at(
        &mut client,
        &tables_uri,
        &tables_text,
        col + 1,
        "max_per_day",
    );
    let files = edits_by_file(&r);
    assert!(
        files.iter().any(|(f, n)| f == "hilist.csv" && *n == 1),
        "the CSV header is renamed too: {files:?}"
    );
    assert!(files.iter().any(|(f, _)| f == "charges.vigil"), "{files:?}");

    // A schema field: the national field names are a contract.
    let schema = root.join("schema.vigil");
    let schema_text = read(&schema);
    let schema_uri = uri_of(&schema);
    client.open(&schema_uri, &schema_text);
    client.settle();
    let field = schema_text
        .find("psn_no")
        .expect("the schema declares psn_no");
    let r = rename_at(&mut client, &schema_uri, &schema_text, field + 1, "patient");
    assert!(
        r.response_result.is_err(),
        "a schema field is not renamed: {r:?}"
    );

    // Not a name.
    let r = rename_at(&mut client, &common_uri, &common_text, decl + 2, "2BAD");
    assert!(r.response_result.is_err());
    // Already taken.
    let r = rename_at(&mut client, &common_uri, &common_text, decl + 2, "hilist");
    assert!(r.response_result.is_err());

    // prepareRename gives the name's range and text.
    let at = position_of(&common_text, decl + 2);
    let prep = client.result(
        "textDocument/prepareRename",
        json!({ "textDocument": { "uri": common_uri.as_str() }, "position": { "line": at.line, "character": at.character } }),
    );
    assert_eq!(prep["placeholder"], "OUTPATIENT_LIKE");
    assert!(client.shutdown().is_ok());
}

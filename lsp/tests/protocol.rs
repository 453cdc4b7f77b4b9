//! The protocol around the features: the handshake, shutdown and exit, errors answered as
//! errors, unknown documents answered empty, stale changes skipped, documents outside any
//! rulebook.

mod support;

use std::time::Instant;

use lsp_server::{ErrorCode, Message, Notification, Request, RequestId};
use serde_json::{json, Value};
use support::{hover_params, national_copy, read, uri_of, Client, PATIENCE};
use vigil_lsp::ServeError;

fn error_code(r: &lsp_server::Response) -> Option<i32> {
    r.response_result.as_ref().err().map(|e| e.code)
}

#[test]
fn requests_before_initialize_are_refused_and_exit_without_shutdown_is_an_error() {
    let mut client = Client::start();
    let r = client.request(
        "textDocument/hover",
        hover_params(&uri_of(std::path::Path::new("/a.vigil")), 0, 0),
    );
    assert_eq!(error_code(&r), Some(ErrorCode::ServerNotInitialized as i32));
    let init = client.request("initialize", json!({ "capabilities": {} }));
    let caps = init
        .response_result
        .as_ref()
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(caps["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(
        caps["capabilities"]["completionProvider"]["triggerCharacters"],
        json!(["."])
    );
    assert_eq!(caps["serverInfo"]["name"], "vigil");
    client.notify("exit", Value::Null);
    assert!(matches!(
        client.join(),
        Err(ServeError::ExitWithoutShutdown)
    ));
}

#[test]
fn errors_are_answered_and_unknown_documents_are_empty() {
    let mut client = Client::initialized();
    let nowhere = uri_of(std::path::Path::new("/nowhere/never.vigil"));
    let r = client.request("textDocument/typeDefinition", hover_params(&nowhere, 0, 0));
    assert_eq!(error_code(&r), Some(ErrorCode::MethodNotFound as i32));
    let r = client.request("textDocument/hover", json!({ "textDocument": 7 }));
    assert_eq!(error_code(&r), Some(ErrorCode::InvalidParams as i32));
    // A notification with bad parameters is ignored.
    client.notify("textDocument/didOpen", json!({ "textDocument": null }));
    client.notify("textDocument/didChange", json!([1, 2]));

    assert_eq!(
        client.result("textDocument/hover", hover_params(&nowhere, 3, 4)),
        Value::Null
    );
    assert_eq!(
        client.result("textDocument/definition", hover_params(&nowhere, 3, 4)),
        Value::Null
    );
    assert_eq!(
        client.result("textDocument/completion", hover_params(&nowhere, 3, 4)),
        json!([])
    );
    let refs = json!({ "textDocument": { "uri": nowhere.as_str() }, "position": { "line": 0, "character": 0 },
                       "context": { "includeDeclaration": true } });
    assert_eq!(client.result("textDocument/references", refs), json!([]));
    let doc = json!({ "textDocument": { "uri": nowhere.as_str() } });
    assert_eq!(
        client.result("textDocument/documentSymbol", doc.clone()),
        json!([])
    );
    let fmt = json!({ "textDocument": { "uri": nowhere.as_str() }, "options": { "tabSize": 2, "insertSpaces": true } });
    assert_eq!(client.result("textDocument/formatting", fmt), json!([]));

    // After shutdown, requests are refused; exit then ends the session cleanly.
    assert_eq!(client.result("shutdown", Value::Null), Value::Null);
    let r = client.request("textDocument/hover", hover_params(&nowhere, 0, 0));
    assert_eq!(error_code(&r), Some(ErrorCode::InvalidRequest as i32));
    client.notify("exit", Value::Null);
    assert!(client.join().is_ok());
}

#[test]
fn queued_changes_are_checked_once_with_the_latest_text() {
    let (_dir, root) = national_copy();
    let limits = root.join("limits.vigil");
    let uri = uri_of(&limits);
    let original = read(&limits);
    let mut messages: Vec<Message> = vec![
        Request::new(RequestId::from(1), "initialize".into(), json!({ "capabilities": {} })).into(),
        Notification::new("initialized".into(), json!({})).into(),
        Notification::new(
            "textDocument/didOpen".into(),
            json!({ "textDocument": { "uri": uri.as_str(), "languageId": "vigil", "version": 1, "text": original } }),
        )
        .into(),
    ];
    const CHANGES: i32 = 30;
    for version in 2..=CHANGES + 1 {
        // Every other text has a syntax error; the last one is clean.
        let text = if version % 2 == 0 {
            format!("{original}\nrule")
        } else {
            original.clone()
        };
        // Other notifications between the changes do not split the run.
        if version % 10 == 0 {
            messages.push(Notification::new("$/setTrace".into(), json!({ "value": "off" })).into());
        }
        messages.push(
            Notification::new(
                "textDocument/didChange".into(),
                json!({ "textDocument": { "uri": uri.as_str(), "version": version },
                        "contentChanges": [{ "text": text }] }),
            )
            .into(),
        );
    }
    messages.push(
        Request::new(
            RequestId::from(2),
            "textDocument/hover".into(),
            hover_params(&uri, 0, 0),
        )
        .into(),
    );
    let client = Client::start_after(messages);
    let deadline = Instant::now() + PATIENCE;
    let mut versions = Vec::new();
    let mut answered = 0;
    while answered < 2 {
        match client.receive(deadline) {
            Message::Response(_) => answered += 1,
            Message::Notification(n) if n.params["uri"] == uri.as_str() => {
                versions.push(n.params["version"].clone());
            }
            _ => {}
        }
    }
    // The open and all the changes were queued before the server started: one check, of the
    // last text (a late thread start could split it in two, never more).
    assert!(!versions.is_empty() && versions.len() <= 2, "{versions:?}");
    assert_eq!(versions.last(), Some(&json!(CHANGES + 1)));
    assert!(client.shutdown().is_ok());
}

#[test]
fn documents_outside_a_rulebook_are_checked_alone() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("loose.vigil");
    let uri = uri_of(&path);
    let mut client = Client::initialized();
    client.open(&uri, "const A = 1\nconst B = A +\n");
    let published = client.diagnostics(&uri);
    let codes: Vec<_> = published
        .diagnostics
        .iter()
        .map(|d| d.code.clone())
        .collect();
    assert!(
        codes.contains(&Some(lsp_types::NumberOrString::String("V0001".into()))),
        "{codes:?}"
    );
    // Without a rulebook.vigil anywhere above, the missing header is reported at the start.
    client.change_all(&uri, 2, "const A = 1\n");
    let published = client.diagnostics(&uri);
    let header = published
        .diagnostics
        .iter()
        .find(|d| d.code == Some(lsp_types::NumberOrString::String("V0101".into())));
    assert_eq!(header.map(|d| d.range), Some(lsp_types::Range::default()));

    // An unsaved buffer of another scheme is a loose document too.
    let untitled: lsp_types::Uri = "untitled:Untitled-1".parse().expect("a valid URI");
    client.open(
        &untitled,
        "rulebook x \"标题\" version \"1\"\nconst 😀 = 1\n",
    );
    let published = client.diagnostics(&untitled);
    let syntax = published
        .diagnostics
        .iter()
        .find(|d| d.code == Some(lsp_types::NumberOrString::String("V0001".into())))
        .map(|d| d.range.start);
    assert_eq!(syntax, Some(lsp_types::Position::new(1, 6)));

    // Closing a loose document clears its diagnostics.
    client.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": uri.as_str() } }),
    );
    client.settle();
    let mut last = None;
    while client
        .notifications
        .iter()
        .any(|n| n.params["uri"] == uri.as_str())
    {
        last = Some(client.diagnostics(&uri));
    }
    assert!(last.is_some_and(|p| p.diagnostics.is_empty()));
    assert!(client.shutdown().is_ok());
}

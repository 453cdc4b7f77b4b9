//! How long an officer waits for the language server on the national rulebook: a hover, an
//! edit followed by a hover (the edit makes the server re-check the whole rulebook first), and
//! completion after `claim.`. The server runs in-process behind the same JSON-RPC messages an
//! editor sends. The budget is 20 ms per answer (issue 7); bench/README.md records the figures.

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use support::{hover_params, national_copy, position_of, read, uri_of, Client};

fn latency(c: &mut Criterion) {
    let (_dir, root) = national_copy();
    let file = root.join("limits.vigil");
    let text = read(&file);
    let uri = uri_of(&file);
    let mut client = Client::initialized();
    client.open(&uri, &text);
    client.settle();
    let field = text
        .find("line.hilist_code")
        .map(|o| o + "line.".len())
        .unwrap_or(0);
    let at_field = position_of(&text, field);
    let dot = text
        .find("claim.gend")
        .map(|o| o + "claim.".len())
        .unwrap_or(0);
    let after_dot = position_of(&text, dot);

    let mut g = c.benchmark_group("lsp_national");
    g.bench_function("hover", |b| {
        b.iter(|| {
            black_box(client.result(
                "textDocument/hover",
                hover_params(&uri, at_field.line, at_field.character),
            ))
        })
    });
    let mut version = 1;
    g.bench_function("edit_then_hover", |b| {
        b.iter(|| {
            version += 1;
            // Alternate between two texts so that every edit is a real change to re-check.
            let edited = if version % 2 == 0 {
                format!("{text}\n")
            } else {
                text.clone()
            };
            client.change_all(&uri, version, &edited);
            let answer = client.result(
                "textDocument/hover",
                hover_params(&uri, at_field.line, at_field.character),
            );
            client.notifications.clear();
            black_box(answer)
        })
    });
    g.bench_function("completion_after_claim_dot", |b| {
        b.iter(|| {
            let params = json!({ "textDocument": { "uri": uri.as_str() },
                                 "position": { "line": after_dot.line, "character": after_dot.character } });
            black_box(client.result("textDocument/completion", params))
        })
    });
    g.finish();
}

criterion_group!(benches, latency);
criterion_main!(benches);

//! A test client: drives the server in-process over `Connection::memory()` with the JSON-RPC
//! messages an editor sends, and reads back what the server sends.

#![allow(dead_code)] // each test file uses a different part of the client

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use lsp_types::{Position, PublishDiagnosticsParams, Uri};
use serde_json::{json, Value};

/// How long any one answer may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The client end of a session with a server running on its own thread.
pub struct Client {
    conn: Connection,
    server: Option<JoinHandle<Result<(), vigil_lsp::ServeError>>>,
    next_id: i32,
    /// Notifications received and not yet looked at, in order.
    pub notifications: Vec<Notification>,
}

impl Client {
    /// Starts a server and a client connected to it (not yet initialized).
    pub fn start() -> Client {
        let (client, server) = Connection::memory();
        let handle = std::thread::spawn(move || vigil_lsp::run(server));
        Client {
            conn: client,
            server: Some(handle),
            next_id: 0,
            notifications: Vec::new(),
        }
    }

    /// Queues `messages` (as if the client had sent them all at once), then starts the server:
    /// it finds them all waiting.
    pub fn start_after(messages: Vec<Message>) -> Client {
        let (client, server) = Connection::memory();
        for m in messages {
            if client.sender.send(m).is_err() {
                panic!("the in-memory channel is closed");
            }
        }
        let handle = std::thread::spawn(move || vigil_lsp::run(server));
        Client {
            conn: client,
            server: Some(handle),
            next_id: 1000,
            notifications: Vec::new(),
        }
    }

    /// Starts a server and does the `initialize` handshake.
    pub fn initialized() -> Client {
        let mut c = Client::start();
        let caps = c.request("initialize", json!({ "capabilities": {} }));
        assert!(caps.response_result.is_ok(), "initialize failed: {caps:?}");
        c.notify("initialized", json!({}));
        c
    }

    /// Sends a request and waits for its response (keeping notifications that come first).
    pub fn request(&mut self, method: &str, params: Value) -> Response {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.send(Request::new(id.clone(), method.to_string(), params).into());
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self.receive(deadline) {
                Message::Response(r) if r.id == id => return r,
                Message::Response(r) => panic!("response to another request: {r:?}"),
                Message::Notification(n) => self.notifications.push(n),
                Message::Request(r) => panic!("the server asked something: {r:?}"),
            }
        }
    }

    /// Sends a request and returns its result, failing the test on an error response.
    pub fn result(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params);
        match r.response_result {
            Ok(v) => v,
            Err(e) => panic!("{method} failed: {e:?}"),
        }
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(Notification::new(method.to_string(), params).into());
    }

    fn send(&self, msg: Message) {
        if self.conn.sender.send(msg).is_err() {
            panic!("the server has gone");
        }
    }

    /// The next message from the server, whatever it is.
    pub fn receive(&self, deadline: Instant) -> Message {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.conn.receiver.recv_timeout(left) {
            Ok(m) => m,
            Err(e) => panic!("no message from the server: {e}"),
        }
    }

    /// The next diagnostics published for `uri` (waiting for them if need be).
    pub fn diagnostics(&mut self, uri: &Uri) -> PublishDiagnosticsParams {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(i) = self
                .notifications
                .iter()
                .position(|n| is_publish_for(n, uri))
            {
                let n = self.notifications.remove(i);
                return match serde_json::from_value(n.params) {
                    Ok(p) => p,
                    Err(e) => panic!("bad publishDiagnostics: {e}"),
                };
            }
            match self.receive(deadline) {
                Message::Notification(n) => self.notifications.push(n),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Waits until the server has handled everything sent so far (a request round trip).
    pub fn settle(&mut self) {
        let r = self.request(
            "textDocument/hover",
            hover_params(&uri_of(Path::new("/nowhere/x.vigil")), 0, 0),
        );
        assert!(r.response_result.is_ok());
    }

    /// `shutdown` then `exit`; returns what the server's session returned.
    pub fn shutdown(mut self) -> Result<(), vigil_lsp::ServeError> {
        let r = self.request("shutdown", Value::Null);
        assert!(r.response_result.is_ok(), "shutdown failed: {r:?}");
        self.notify("exit", Value::Null);
        self.join()
    }

    /// Waits for the server's session to end.
    pub fn join(mut self) -> Result<(), vigil_lsp::ServeError> {
        match self.server.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => panic!("the server thread panicked"),
            None => Ok(()),
        }
    }

    /// Opens a document.
    pub fn open(&mut self, uri: &Uri, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri.as_str(), "languageId": "vigil", "version": 1, "text": text } }),
        );
    }

    /// Replaces a document's whole text.
    pub fn change_all(&mut self, uri: &Uri, version: i32, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri.as_str(), "version": version },
                    "contentChanges": [{ "text": text }] }),
        );
    }
}

fn is_publish_for(n: &Notification, uri: &Uri) -> bool {
    n.method == "textDocument/publishDiagnostics"
        && n.params.get("uri").and_then(Value::as_str) == Some(uri.as_str())
}

/// Params of a request at a position of a document.
pub fn hover_params(uri: &Uri, line: u32, character: u32) -> Value {
    json!({ "textDocument": { "uri": uri.as_str() }, "position": { "line": line, "character": character } })
}

/// The `file:` URI of a path (percent-encoding all but unreserved characters and `/`).
pub fn uri_of(path: &Path) -> Uri {
    let mut s = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    match Uri::from_str(&s) {
        Ok(u) => u,
        Err(e) => panic!("bad uri {s}: {e}"),
    }
}

/// The LSP position of a byte offset, counted independently of the server: lines by `\n`,
/// columns in UTF-16 units.
pub fn position_of(text: &str, offset: usize) -> Position {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character = text[line_start..offset].encode_utf16().count();
    Position::new(line as u32, character as u32)
}

/// A copy of the national rulebook folder in a fresh temporary folder.
pub fn national_copy() -> (tempfile::TempDir, PathBuf) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national");
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("no temporary folder: {e}"),
    };
    let root = dir.path().join("cn-national");
    copy_dir(&src, &root);
    (dir, root)
}

fn copy_dir(from: &Path, to: &Path) {
    if let Err(e) = std::fs::create_dir_all(to) {
        panic!("create {}: {e}", to.display());
    }
    let entries = match std::fs::read_dir(from) {
        Ok(e) => e,
        Err(e) => panic!("read {}: {e}", from.display()),
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let target = to.join(entry.file_name());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else if let Err(e) = std::fs::copy(&p, &target) {
            panic!("copy {}: {e}", p.display());
        }
    }
}

/// Reads a file of the test's folder.
pub fn read(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => panic!("read {}: {e}", path.display()),
    }
}

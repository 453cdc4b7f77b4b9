//! The session: the `initialize` handshake, then one loop that reads messages in order, applies
//! document changes, checks changed rulebooks once the changes queued behind each other are all
//! applied, answers requests, and ends on `exit`.
//!
//! Every handler runs under `catch_unwind`: a failure is logged to stderr and answered with an
//! error response, and the session goes on.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::{
    CompletionOptions, CompletionParams, CompletionResponse, DidChangeTextDocumentParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    DocumentFormattingParams, DocumentSymbolParams, DocumentSymbolResponse, GotoDefinitionParams,
    GotoDefinitionResponse, HoverParams, HoverProviderCapability, InitializeResult, OneOf,
    PositionEncodingKind, PublishDiagnosticsParams, ReferenceParams, SaveOptions,
    ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ServeError;
use crate::workspace::Workspace;
use crate::{completion, formatting, hover, navigation, rename, symbols};

/// The notifications that change document texts: checking waits while one is queued.
const TEXT_SYNC: &[&str] = &[
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didClose",
    "textDocument/didSave",
];

/// A request that could not be answered: the JSON-RPC error code and message.
type Failure = (ErrorCode, String);

/// What the server offers the editor.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                will_save: None,
                will_save_wait_until: None,
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into()]),
            ..CompletionOptions::default()
        }),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(lsp_types::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// Serves one session on `connection` until the client's `exit`.
pub fn serve(connection: Connection) -> Result<(), ServeError> {
    let Connection { sender, receiver } = connection;
    // Messages are moved to a queue of our own as soon as they arrive, so that the changes
    // typed while a check runs can all be seen (and applied) before the next check.
    let (forward, inbox) = mpsc::channel();
    std::thread::Builder::new()
        .name("vigil-lsp-inbox".into())
        .spawn(move || {
            for msg in receiver {
                if forward.send(msg).is_err() {
                    break;
                }
            }
        })?;
    let mut server = Server {
        out: sender,
        inbox,
        queue: VecDeque::new(),
        ws: Workspace::default(),
        shut_down: false,
    };
    server.initialize()?;
    server.main_loop()
}

struct Server {
    out: crossbeam_channel::Sender<Message>,
    inbox: mpsc::Receiver<Message>,
    /// Messages received but not yet handled, in order.
    queue: VecDeque<Message>,
    ws: Workspace,
    /// `shutdown` was answered: only `exit` remains.
    shut_down: bool,
}

impl Server {
    fn send(&self, msg: impl Into<Message>) -> Result<(), ServeError> {
        self.out
            .send(msg.into())
            .map_err(|_| ServeError::OutputClosed)
    }

    /// The next message: queued, or waited for.
    fn next(&mut self) -> Result<Message, ServeError> {
        match self.queue.pop_front() {
            Some(m) => Ok(m),
            None => self.inbox.recv().map_err(|_| ServeError::Disconnected),
        }
    }

    /// Waits for `initialize` (answering other requests with "not initialized") and answers it.
    fn initialize(&mut self) -> Result<(), ServeError> {
        loop {
            match self.next()? {
                Message::Request(req) if req.method == "initialize" => {
                    let result = InitializeResult {
                        capabilities: capabilities(),
                        server_info: Some(ServerInfo {
                            name: "vigil".into(),
                            version: Some(env!("CARGO_PKG_VERSION").into()),
                        }),
                    };
                    return self.send(Response::new_ok(req.id, result));
                }
                Message::Request(req) => {
                    self.send(Response::new_err(
                        req.id,
                        ErrorCode::ServerNotInitialized as i32,
                        "the server is not initialized yet".into(),
                    ))?;
                }
                Message::Notification(n) if n.method == "exit" => {
                    return Err(ServeError::ExitWithoutShutdown)
                }
                Message::Notification(_) | Message::Response(_) => {}
            }
        }
    }

    fn main_loop(&mut self) -> Result<(), ServeError> {
        loop {
            self.queue.extend(self.inbox.try_iter());
            // Check only when no other change is queued before the next request: a run of
            // changes is applied in full, and checked once, with the latest text.
            let change_queued = self
                .queue
                .iter()
                .take_while(|m| !matches!(m, Message::Request(_)))
                .any(|m| matches!(m, Message::Notification(n) if TEXT_SYNC.contains(&n.method.as_str())));
            if self.ws.has_dirty() && !change_queued {
                self.check_changed()?;
                continue;
            }
            match self.next()? {
                Message::Request(req) => self.on_request(req)?,
                Message::Notification(n) if n.method == "exit" => {
                    return if self.shut_down {
                        Ok(())
                    } else {
                        Err(ServeError::ExitWithoutShutdown)
                    };
                }
                Message::Notification(n) => self.on_notification(n)?,
                Message::Response(_) => {}
            }
        }
    }

    /// Checks every rulebook whose texts changed and publishes its diagnostics.
    fn check_changed(&mut self) -> Result<(), ServeError> {
        for key in self.ws.take_dirty() {
            let ws = &mut self.ws;
            match catch_unwind(AssertUnwindSafe(|| ws.check(&key))) {
                Ok(published) => self.publish(published)?,
                Err(panic) => eprintln!(
                    "vigil-lsp: internal error while checking {key:?}: {}",
                    panic_text(&panic)
                ),
            }
        }
        Ok(())
    }

    fn publish(&self, sets: Vec<PublishDiagnosticsParams>) -> Result<(), ServeError> {
        for params in sets {
            self.send(Notification::new(
                "textDocument/publishDiagnostics".into(),
                params,
            ))?;
        }
        Ok(())
    }

    fn on_notification(&mut self, n: Notification) -> Result<(), ServeError> {
        let method = n.method.clone();
        let ws = &mut self.ws;
        let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<_, serde_json::Error> {
            Ok(match method.as_str() {
                "textDocument/didOpen" => {
                    let p: DidOpenTextDocumentParams = serde_json::from_value(n.params)?;
                    let doc = p.text_document;
                    ws.open(doc.uri, doc.text, doc.version);
                    Vec::new()
                }
                "textDocument/didChange" => {
                    let p: DidChangeTextDocumentParams = serde_json::from_value(n.params)?;
                    let doc = p.text_document;
                    ws.change(&doc.uri, doc.version, p.content_changes);
                    Vec::new()
                }
                "textDocument/didClose" => {
                    let p: DidCloseTextDocumentParams = serde_json::from_value(n.params)?;
                    ws.close(&p.text_document.uri)
                }
                "textDocument/didSave" => {
                    let p: DidSaveTextDocumentParams = serde_json::from_value(n.params)?;
                    ws.saved(&p.text_document.uri);
                    Vec::new()
                }
                // `initialized`, `$/cancelRequest` (seen in the queue), settings, …
                _ => Vec::new(),
            })
        }));
        match outcome {
            Ok(Ok(published)) => self.publish(published),
            Ok(Err(e)) => {
                eprintln!("vigil-lsp: ignoring {method}: bad parameters: {e}");
                Ok(())
            }
            Err(panic) => {
                eprintln!(
                    "vigil-lsp: internal error in {method}: {}",
                    panic_text(&panic)
                );
                Ok(())
            }
        }
    }

    fn on_request(&mut self, req: Request) -> Result<(), ServeError> {
        if self.shut_down {
            return self.send(Response::new_err(
                req.id,
                ErrorCode::InvalidRequest as i32,
                "the server is shutting down".into(),
            ));
        }
        if req.method == "shutdown" {
            self.shut_down = true;
            return self.send(Response::new_ok(req.id, ()));
        }
        if self.cancelled(&req) {
            return self.send(Response::new_err(
                req.id,
                ErrorCode::RequestCanceled as i32,
                "cancelled".into(),
            ));
        }
        let id = req.id.clone();
        let method = req.method.clone();
        let ws = &self.ws;
        let response = match catch_unwind(AssertUnwindSafe(|| answer(ws, req))) {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
            Err(panic) => {
                let text = panic_text(&panic);
                eprintln!("vigil-lsp: internal error in {method}: {text}");
                Response::new_err(
                    id,
                    ErrorCode::InternalError as i32,
                    format!("internal error in {method}: {text}"),
                )
            }
        };
        self.send(response)
    }

    /// Whether a `$/cancelRequest` for this request is already queued behind it.
    fn cancelled(&self, req: &Request) -> bool {
        let Ok(id) = serde_json::to_value(&req.id) else {
            return false;
        };
        self.queue.iter().any(|m| {
            matches!(m, Message::Notification(n)
                if n.method == "$/cancelRequest" && n.params.get("id") == Some(&id))
        })
    }
}

/// The result of one request, as JSON.
fn answer(ws: &Workspace, req: Request) -> Result<Value, Failure> {
    match req.method.as_str() {
        "textDocument/hover" => {
            let p: HoverParams = params(req.params)?;
            let at = p.text_document_position_params;
            let found = ws
                .cursor(&at.text_document.uri, at.position)
                .and_then(|c| hover::hover(&c));
            to_json(found)
        }
        "textDocument/completion" => {
            let p: CompletionParams = params(req.params)?;
            let at = p.text_document_position;
            let items = ws
                .cursor(&at.text_document.uri, at.position)
                .map(|c| completion::completion(&c))
                .unwrap_or_default();
            to_json(CompletionResponse::Array(items))
        }
        "textDocument/definition" => {
            let p: GotoDefinitionParams = params(req.params)?;
            let at = p.text_document_position_params;
            let found = ws
                .cursor(&at.text_document.uri, at.position)
                .and_then(|c| navigation::definition(ws, &c))
                .map(GotoDefinitionResponse::Scalar);
            to_json(found)
        }
        "textDocument/references" => {
            let p: ReferenceParams = params(req.params)?;
            let at = p.text_document_position;
            let found = ws
                .cursor(&at.text_document.uri, at.position)
                .map(|c| navigation::references(ws, &c, p.context.include_declaration))
                .unwrap_or_default();
            to_json(found)
        }
        "textDocument/prepareRename" => {
            let p: lsp_types::TextDocumentPositionParams = params(req.params)?;
            let cur = ws.cursor(&p.text_document.uri, p.position);
            match cur.map(|c| rename::prepare(&c)) {
                Some(Ok((range, placeholder))) => {
                    to_json(lsp_types::PrepareRenameResponse::RangeWithPlaceholder {
                        range,
                        placeholder,
                    })
                }
                Some(Err(why)) => Err((ErrorCode::InvalidRequest, why)),
                None => to_json(Option::<lsp_types::PrepareRenameResponse>::None),
            }
        }
        "textDocument/rename" => {
            let p: lsp_types::RenameParams = params(req.params)?;
            let at = p.text_document_position;
            match ws
                .cursor(&at.text_document.uri, at.position)
                .map(|c| rename::rename(ws, &c, &p.new_name))
            {
                Some(Ok(edit)) => to_json(edit),
                Some(Err(why)) => Err((ErrorCode::InvalidRequest, why)),
                None => to_json(Option::<lsp_types::WorkspaceEdit>::None),
            }
        }
        "textDocument/formatting" => {
            let p: DocumentFormattingParams = params(req.params)?;
            let edits = ws
                .text(&p.text_document.uri)
                .map(formatting::format)
                .unwrap_or_default();
            to_json(edits)
        }
        "textDocument/documentSymbol" => {
            let p: DocumentSymbolParams = params(req.params)?;
            let found = ws
                .cursor(&p.text_document.uri, lsp_types::Position::default())
                .map(|c| symbols::document_symbols(&c))
                .unwrap_or_default();
            to_json(DocumentSymbolResponse::Nested(found))
        }
        "initialize" => Err((
            ErrorCode::InvalidRequest,
            "the server is already initialized".into(),
        )),
        other => Err((
            ErrorCode::MethodNotFound,
            format!("vigil does not answer `{other}`"),
        )),
    }
}

fn params<P: DeserializeOwned>(value: Value) -> Result<P, Failure> {
    serde_json::from_value(value).map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
}

fn to_json(value: impl serde::Serialize) -> Result<Value, Failure> {
    serde_json::to_value(value).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

/// The message a panic carried, for the log.
fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with no message".into()
    }
}

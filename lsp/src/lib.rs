//! The Vigil language server: diagnostics, hover, completion, go to definition, references,
//! formatting and document symbols for `.vigil` files, over the Language Server Protocol.
//!
//! It reuses the compiler's parser, checker and diagnostics and the dsl's formatter, never a
//! copy: what the editor shows is what `vigil check` and `vigil fmt` say. Start at
//! `server.rs` (the session loop), then `workspace.rs` (open buffers over the files on disk,
//! one check per rulebook folder).

mod completion;
mod diagnostics;
mod error;
mod formatting;
mod hover;
mod navigation;
mod position;
mod rename;
mod server;
mod symbols;
mod uri;
mod workspace;

pub use error::ServeError;

use lsp_server::Connection;

/// Serves one session over stdin and stdout (what an editor starts as `vigil lsp`).
pub fn run_stdio() -> Result<(), ServeError> {
    let (connection, io_threads) = Connection::stdio();
    match run(connection) {
        // The reader may still be waiting on stdin, and nothing can be written: don't wait.
        Err(ServeError::OutputClosed) => Err(ServeError::OutputClosed),
        served => {
            // The reader has stopped (at `exit`, or at the end of its input, whose read error
            // says more than "disconnected"); the session dropped its sender, so the writer
            // ends once everything is written.
            io_threads.join()?;
            served
        }
    }
}

/// Serves one session on `connection` (stdio, or an in-memory pair in tests) until `exit`.
pub fn run(connection: Connection) -> Result<(), ServeError> {
    server::serve(connection)
}

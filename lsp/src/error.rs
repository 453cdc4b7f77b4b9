//! Why the server stopped other than by the orderly `shutdown` then `exit`.

/// The server's session ended abnormally.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The client sent `exit` without `shutdown` first (the LSP asks for exit status 1).
    #[error("the client sent `exit` before `shutdown`")]
    ExitWithoutShutdown,
    /// The client's input ended (closed, or a message that could not be read) without `exit`.
    #[error("the client's input ended without `exit`")]
    Disconnected,
    /// Nothing more can be written to the client.
    #[error("the client no longer reads the server's output")]
    OutputClosed,
    /// The transport failed (stdin or stdout).
    #[error("language server I/O: {0}")]
    Io(#[from] std::io::Error),
}

//! The Vigil language server. It will serve the compiler's diagnostics, hover and completion
//! over stdio (the editor issue); it reuses the compiler's parser and checker, never a copy.

//! The text of a loaded rulebook, file by file: what spans point into.

use std::path::PathBuf;

use vigil_dsl::{SourceId, Span};

/// One loaded `.vigil` file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub id: SourceId,
    /// The path as shown to the officer (relative to where the command ran, when it can be).
    pub path: PathBuf,
    pub text: String,
}

/// All files of a rulebook, indexed by `SourceId`.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// Adds a file and returns its id.
    pub fn add(&mut self, path: PathBuf, text: String) -> SourceId {
        let id = SourceId(self.files.len() as u32);
        self.files.push(SourceFile { id, path, text });
        id
    }

    /// The file a span or id points into.
    pub fn get(&self, id: SourceId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// All files, in load order.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// The source text under a span (empty when out of range).
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.source)
            .and_then(|f| f.text.get(span.start as usize..span.end as usize))
            .unwrap_or("")
    }
}

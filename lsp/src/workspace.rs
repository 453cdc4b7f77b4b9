//! The documents the editor has open, laid over the files on disk, and the rulebooks they
//! belong to: each rulebook folder is checked as a whole (open buffers replacing their files'
//! disk text), and the last check whose files all parsed is kept for completion while the
//! officer is mid-typing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lsp_types::{Position, PublishDiagnosticsParams, TextDocumentContentChangeEvent, Uri};
use vigil_compiler::load::{check_sources_cached, find_root, vigil_files, ParseCache};
use vigil_compiler::LoadedRulebook;
use vigil_dsl::SourceId;

use crate::diagnostics;
use crate::position::{apply_change, LineIndex};
use crate::uri;

/// What is checked together: a rulebook folder, or one document outside any rulebook.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BookKey {
    /// A folder holding `rulebook.vigil`.
    Folder(PathBuf),
    /// A document checked on its own (its path, or a stand-in for a non-file URI).
    Loose(PathBuf),
}

/// A document the editor has open.
#[derive(Debug, Clone)]
pub struct OpenDocument {
    /// The URI exactly as the client spelled it (diagnostics are published under it).
    pub uri: Uri,
    /// The buffer's text, with every change applied.
    pub text: String,
    /// The client's version of the text.
    pub version: i32,
    /// The rulebook the document is checked with.
    pub book: BookKey,
}

/// The checked state of one rulebook.
#[derive(Debug, Clone)]
pub struct Book {
    /// The latest check, of the latest texts.
    pub current: Arc<LoadedRulebook>,
    /// The latest check in which every file parsed (completion's fallback while a file does not).
    pub last_good: Option<Arc<LoadedRulebook>>,
    /// The documents diagnostics were last published for (to clear those that left the book),
    /// by their URI's text (a `Uri` caches parts of itself, so it is no key).
    published: BTreeMap<String, Uri>,
}

/// Every open document and every rulebook they belong to.
#[derive(Debug, Default)]
pub struct Workspace {
    docs: HashMap<PathBuf, OpenDocument>,
    books: HashMap<BookKey, Book>,
    /// Each rulebook's parsed files, so that an edit re-parses only the edited file.
    parses: HashMap<BookKey, ParseCache>,
    /// Rulebooks whose texts changed since they were last checked.
    dirty: BTreeSet<BookKey>,
}

/// A position in a document, with the checked rulebook it belongs to.
pub struct Cursor<'a> {
    /// The rulebook the document belongs to.
    pub book: &'a Book,
    /// The document's file in `book.current`.
    pub source: SourceId,
    /// The document's path, as the compiler knows it.
    pub path: &'a Path,
    /// The document's text, as checked.
    pub text: &'a str,
    /// The lines of `text`.
    pub index: LineIndex,
    /// The byte offset of the position.
    pub offset: usize,
}

impl Cursor<'_> {
    /// Whether the document parsed in the latest check (so `current` describes its text).
    pub fn parsed(&self) -> bool {
        self.book
            .current
            .modules
            .iter()
            .any(|(id, _)| *id == self.source)
    }

    /// The model that knows this document's names best: the latest check if the document
    /// parsed, else the last check in which every file did.
    pub fn names_model(&self) -> &LoadedRulebook {
        match &self.book.last_good {
            Some(good) if !self.parsed() => good,
            _ => &self.book.current,
        }
    }
}

impl Workspace {
    /// A new document; its rulebook is checked before the next request.
    pub fn open(&mut self, doc_uri: Uri, text: String, version: i32) {
        let (path, book) = locate(&doc_uri);
        self.dirty.insert(book.clone());
        self.docs.insert(
            path,
            OpenDocument {
                uri: doc_uri,
                text,
                version,
                book,
            },
        );
    }

    /// Edits to an open document (whole texts or ranges, in order). Unknown documents are
    /// ignored: the client will open them first.
    pub fn change(
        &mut self,
        doc_uri: &Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) {
        let path = doc_path(doc_uri);
        if let Some(doc) = self.docs.get_mut(&path) {
            for change in changes {
                apply_change(&mut doc.text, change);
            }
            doc.version = version;
            self.dirty.insert(doc.book.clone());
        }
    }

    /// A document closed: its rulebook goes back to the disk text. Returns the diagnostics to
    /// clear (a loose document's).
    pub fn close(&mut self, doc_uri: &Uri) -> Vec<PublishDiagnosticsParams> {
        let path = doc_path(doc_uri);
        let Some(doc) = self.docs.remove(&path) else {
            return Vec::new();
        };
        match doc.book {
            BookKey::Folder(_) => {
                self.dirty.insert(doc.book);
                Vec::new()
            }
            BookKey::Loose(_) => {
                self.dirty.remove(&doc.book);
                let published = self
                    .books
                    .remove(&doc.book)
                    .map(|b| b.published)
                    .unwrap_or_default();
                published.into_values().map(clear).collect()
            }
        }
    }

    /// A document saved: files on disk may have changed under its rulebook.
    pub fn saved(&mut self, doc_uri: &Uri) {
        let path = doc_path(doc_uri);
        if let Some(doc) = self.docs.get(&path) {
            self.dirty.insert(doc.book.clone());
        }
    }

    /// Whether some rulebook waits to be checked.
    pub fn has_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// The rulebooks waiting to be checked, forgetting that they wait.
    pub fn take_dirty(&mut self) -> Vec<BookKey> {
        std::mem::take(&mut self.dirty).into_iter().collect()
    }

    /// Checks one rulebook with the current texts and returns the diagnostics to publish: one
    /// set per file of the rulebook (empty sets clear), plus clearing files that left it.
    pub fn check(&mut self, key: &BookKey) -> Vec<PublishDiagnosticsParams> {
        let (root, files) = match key {
            BookKey::Folder(root) => (Some(root.clone()), self.folder_texts(root)),
            BookKey::Loose(path) => match self.docs.get(path) {
                Some(doc) => (None, vec![(path.clone(), doc.text.clone())]),
                None => (None, Vec::new()),
            },
        };
        if files.is_empty() {
            // Nothing left to check (the folder vanished, the document closed).
            self.parses.remove(key);
            let published = self
                .books
                .remove(key)
                .map(|b| b.published)
                .unwrap_or_default();
            return published.into_values().map(clear).collect();
        }
        let inputs = files.len();
        let cache = self.parses.entry(key.clone()).or_default();
        let loaded = Arc::new(check_sources_cached(root, files, cache));
        let all_parsed = loaded.modules.len() == inputs;
        let loose_doc = match key {
            BookKey::Loose(path) => Some(path.as_path()),
            BookKey::Folder(_) => None,
        };
        let by_file = diagnostics::by_file(&loaded, loose_doc, &|p| self.uri_for(p));
        let mut out = Vec::new();
        let mut published = BTreeMap::new();
        for (path, diags) in by_file {
            let Some(file_uri) = self.uri_for(&path) else {
                continue;
            };
            let version = self.docs.get(&path).map(|d| d.version);
            published.insert(file_uri.as_str().to_string(), file_uri.clone());
            out.push(PublishDiagnosticsParams {
                uri: file_uri,
                diagnostics: diags,
                version,
            });
        }
        let previous = self.books.remove(key);
        let last_good = match (&previous, all_parsed) {
            (_, true) => Some(Arc::clone(&loaded)),
            (Some(prev), false) => prev.last_good.clone(),
            (None, false) => None,
        };
        if let Some(prev) = previous {
            for (text, gone) in prev.published {
                if !published.contains_key(&text) {
                    out.push(clear(gone));
                }
            }
        }
        self.books.insert(
            key.clone(),
            Book {
                current: loaded,
                last_good,
                published,
            },
        );
        out
    }

    /// The files of a rulebook folder: the disk text of each `.vigil` file below it, replaced
    /// by the open buffer where there is one, plus open buffers not yet saved there.
    fn folder_texts(&self, root: &Path) -> Vec<(PathBuf, String)> {
        let on_disk = vigil_files(root).unwrap_or_default();
        let mut files: BTreeMap<PathBuf, String> = BTreeMap::new();
        for path in on_disk {
            let text = match self.docs.get(&path) {
                Some(doc) => doc.text.clone(),
                None => match std::fs::read(&path) {
                    // Invalid UTF-8 is shown, not refused, as `vigil check` does.
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(_) => continue,
                },
            };
            files.insert(path, text);
        }
        for (path, doc) in &self.docs {
            if doc.book == BookKey::Folder(root.to_path_buf()) && !files.contains_key(path) {
                files.insert(path.clone(), doc.text.clone());
            }
        }
        files.into_iter().collect()
    }

    /// The URI to publish a file's diagnostics under: the open document's own URI (exactly as
    /// the client spelled it), else the file's `file:` URI.
    pub fn uri_for(&self, path: &Path) -> Option<Uri> {
        match self.docs.get(path) {
            Some(doc) => Some(doc.uri.clone()),
            None => uri::from_path(path),
        }
    }

    /// The current text of a document: the open buffer, else the text last checked.
    pub fn text(&self, doc_uri: &Uri) -> Option<&str> {
        let path = doc_path(doc_uri);
        if let Some(doc) = self.docs.get(&path) {
            return Some(&doc.text);
        }
        self.books
            .values()
            .flat_map(|b| b.current.sources.files())
            .find(|f| f.path == path)
            .map(|f| f.text.as_str())
    }

    /// The document at `doc_uri` and the byte offset of `pos` in it, with its checked rulebook.
    /// A document that is not open still answers when a checked rulebook holds its file.
    pub fn cursor(&self, doc_uri: &Uri, pos: Position) -> Option<Cursor<'_>> {
        let path = doc_path(doc_uri);
        let book = match self.docs.get(&path) {
            Some(doc) => self.books.get(&doc.book)?,
            None => self
                .books
                .values()
                .find(|b| b.current.sources.files().iter().any(|f| f.path == path))?,
        };
        let file = book
            .current
            .sources
            .files()
            .iter()
            .find(|f| f.path == path)?;
        let index = LineIndex::new(&file.text);
        let offset = index.offset(&file.text, pos);
        Some(Cursor {
            book,
            source: file.id,
            path: &file.path,
            text: &file.text,
            index,
            offset,
        })
    }
}

/// The path a document is known by and the rulebook it belongs to.
fn locate(doc_uri: &Uri) -> (PathBuf, BookKey) {
    let path = doc_path(doc_uri);
    // A stand-in path of a non-file URI is never looked up on disk: no folder holds it.
    let root = uri::to_path(doc_uri).and_then(|p| find_root(&p));
    let book = match root {
        Some(root) => BookKey::Folder(root),
        None => BookKey::Loose(path.clone()),
    };
    (path, book)
}

/// The path a document is known by: its file, or a stand-in spelled as the URI.
fn doc_path(doc_uri: &Uri) -> PathBuf {
    uri::to_path(doc_uri).unwrap_or_else(|| PathBuf::from(doc_uri.as_str()))
}

/// An empty diagnostics set: clears what the editor shows for a document.
fn clear(doc_uri: Uri) -> PublishDiagnosticsParams {
    PublishDiagnosticsParams {
        uri: doc_uri,
        diagnostics: Vec::new(),
        version: None,
    }
}

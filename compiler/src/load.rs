//! Loading a rulebook: a folder with a header file `rulebook.vigil` and any number of `.vigil`
//! files beside it or below it, parsed and checked together.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use vigil_dsl::ast::Module;
use vigil_dsl::{SourceId, Span};

use crate::checker::Checker;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Rulebook;
use crate::source::SourceMap;

/// The file that names a rulebook folder.
pub const HEADER_FILE: &str = "rulebook.vigil";

/// A rulebook that could be read: its sources, syntax trees, diagnostics and checked model.
#[derive(Debug, Clone)]
pub struct LoadedRulebook {
    /// The rulebook folder (`None` when checking loose text with no folder).
    pub root: Option<PathBuf>,
    pub sources: SourceMap,
    pub modules: Vec<(SourceId, Module)>,
    /// Sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The checked model; complete only when there are no errors.
    pub rulebook: Rulebook,
}

impl LoadedRulebook {
    /// Whether any diagnostic is an error (the rulebook must not run).
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// Counts of (errors, warnings).
    pub fn counts(&self) -> (usize, usize) {
        let errors = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        (errors, self.diagnostics.len() - errors)
    }
}

/// Why a rulebook could not be read at all (as opposed to read and found wrong).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: no such file or folder", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A folder above rulebooks, not a rulebook: checking it would resolve every table and
    /// test path from the wrong place.
    #[error("{} is not a rulebook folder (it has no rulebook.vigil); rulebooks below it: {}", path.display(), found.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NotARulebook { path: PathBuf, found: Vec<PathBuf> },
}

/// Reads and checks the rulebook at `path`: a rulebook folder, or a `.vigil` file in one (the
/// nearest folder above it holding `rulebook.vigil`; a loose file is checked on its own).
pub fn load_rulebook(path: &Path) -> Result<LoadedRulebook, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::NotFound {
            path: path.to_path_buf(),
        },
        _ => LoadError::Io {
            path: path.to_path_buf(),
            source: e,
        },
    })?;
    let (root, files) = if meta.is_dir() {
        if !path.join(HEADER_FILE).is_file() {
            let found: Vec<PathBuf> = vigil_files(path)?
                .into_iter()
                .filter(|f| f.file_name().is_some_and(|n| n == HEADER_FILE))
                .filter_map(|f| f.parent().map(Path::to_path_buf))
                .collect();
            if !found.is_empty() {
                return Err(LoadError::NotARulebook {
                    path: path.to_path_buf(),
                    found,
                });
            }
        }
        (Some(path.to_path_buf()), vigil_files(path)?)
    } else {
        match find_root(path) {
            Some(root) => {
                let files = vigil_files(&root)?;
                (Some(root), files)
            }
            None => (None, vec![path.to_path_buf()]),
        }
    };
    let mut texts = Vec::with_capacity(files.len());
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| LoadError::Io {
            path: f.clone(),
            source: e,
        })?;
        // Invalid UTF-8 is shown, not refused: the parser reports the replacement character.
        texts.push((f, String::from_utf8_lossy(&bytes).into_owned()));
    }
    Ok(check_sources(root, texts))
}

/// Whether a path written in a rulebook leaves its folder (empty, absolute, or through `..`).
/// Tables and test files live inside the folder; a table elsewhere is named on the command line.
pub fn leaves_folder(path: &str) -> bool {
    let p = Path::new(path);
    path.is_empty()
        || p.is_absolute()
        || p.components().any(|c| {
            matches!(
                c,
                std::path::Component::ParentDir
                    | std::path::Component::Prefix(_)
                    | std::path::Component::RootDir
            )
        })
}

/// The nearest folder at or above a file's folder that holds `rulebook.vigil`.
pub fn find_root(file: &Path) -> Option<PathBuf> {
    let mut dir = file.parent();
    while let Some(d) = dir {
        let d = if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        };
        if d.join(HEADER_FILE).is_file() {
            return Some(d.to_path_buf());
        }
        dir = d
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .or(if d == Path::new(".") {
                None
            } else {
                Some(Path::new(""))
            });
        if dir == Some(Path::new("")) {
            dir = None;
        }
    }
    None
}

/// Every `.vigil` file under `root`, sorted by path (hidden folders and `target/` skipped).
pub fn vigil_files(root: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| LoadError::Io {
            path: dir.clone(),
            source: e,
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| LoadError::Io {
                path: dir.clone(),
                source: e,
            })?;
            let p = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            let ft = entry.file_type().map_err(|e| LoadError::Io {
                path: p.clone(),
                source: e,
            })?;
            if ft.is_dir() {
                if name != "target" {
                    stack.push(p);
                }
            } else if name.ends_with(".vigil") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Parses and checks a rulebook given as texts (the language server's entry: unsaved buffers).
pub fn check_sources(root: Option<PathBuf>, files: Vec<(PathBuf, String)>) -> LoadedRulebook {
    check_sources_cached(root, files, &mut ParseCache::default())
}

/// Parse results kept between checks of one rulebook: a file whose text is unchanged since the
/// last check is not parsed again. The language server keeps one per rulebook, since an edit
/// changes one file and parsing is most of a check.
#[derive(Debug, Default)]
pub struct ParseCache {
    /// By source id and path (ids follow the file order, so both must match), the text parsed
    /// and what parsing it gave.
    entries: HashMap<(SourceId, PathBuf), (String, Result<Module, vigil_dsl::ParseError>)>,
}

impl ParseCache {
    fn parse(
        &mut self,
        id: SourceId,
        path: &Path,
        text: &str,
    ) -> Result<Module, vigil_dsl::ParseError> {
        let key = (id, path.to_path_buf());
        if let Some((seen, result)) = self.entries.get(&key) {
            if seen == text {
                return result.clone();
            }
        }
        let result = vigil_dsl::parse(id, text);
        self.entries.insert(key, (text.to_string(), result.clone()));
        result
    }

    /// Forgets files that are no longer part of the rulebook.
    fn keep_only(&mut self, ids: &[(SourceId, PathBuf)]) {
        self.entries.retain(|k, _| ids.contains(k));
    }
}

/// `check_sources`, parsing only the files whose text changed since `cache` last saw them.
pub fn check_sources_cached(
    root: Option<PathBuf>,
    files: Vec<(PathBuf, String)>,
    cache: &mut ParseCache,
) -> LoadedRulebook {
    // Checking recurses once per nesting level and per def in a chain of calls.
    vigil_dsl::stack::on_large_stack(move || check_here(root, files, cache))
}

fn check_here(
    root: Option<PathBuf>,
    files: Vec<(PathBuf, String)>,
    cache: &mut ParseCache,
) -> LoadedRulebook {
    let mut sources = SourceMap::default();
    let mut modules = Vec::new();
    let mut diagnostics = Vec::new();
    let mut has_header_file = false;
    let mut seen = Vec::with_capacity(files.len());
    for (path, text) in files {
        if path.file_name().is_some_and(|n| n == HEADER_FILE) {
            has_header_file = true;
        }
        let id = sources.add(path.clone(), text);
        let text = sources.get(id).map(|f| f.text.as_str()).unwrap_or("");
        seen.push((id, path.clone()));
        match cache.parse(id, &path, text) {
            Ok(m) => modules.push((id, m)),
            Err(e) => {
                let label = if e.expected.is_empty() {
                    "here".to_string()
                } else {
                    format!("expected {}", short_expected(&e.expected))
                };
                let mut d = Diagnostic::error(e.code, e.message.clone(), e.span, label);
                d.help = e.help.clone();
                diagnostics.push(d);
            }
        }
    }
    cache.keep_only(&seen);
    let header_missing = !modules.iter().any(|(_, m): &(SourceId, Module)| {
        m.items
            .iter()
            .any(|i| matches!(i, vigil_dsl::ast::Item::Rulebook(_)))
    });
    let parse_failed = !diagnostics.is_empty();
    let mut checker = Checker::new(&modules, root.clone());
    checker.collect_globals();
    checker.resolve_declarations();
    checker.check_consts_and_defs();
    checker.check_rules_and_tests();
    let mut found = checker.diags;
    let rulebook = checker.book;
    // Without a parsed header there is nothing to anchor "no claim schema" on; the header
    // diagnostic below says what is wrong.
    if header_missing {
        found.retain(|d| d.code != "V0112" || d.primary.span != Span::default());
        if !parse_failed || root.is_some() && !has_header_file {
            let path = match &root {
                Some(r) => r.join(HEADER_FILE),
                None => PathBuf::from(HEADER_FILE),
            };
            let id = if has_header_file {
                sources
                    .files()
                    .iter()
                    .find(|f| f.path.file_name().is_some_and(|n| n == HEADER_FILE))
                    .map(|f| f.id)
                    .unwrap_or(SourceId(0))
            } else {
                sources.add(path, String::new())
            };
            let help = if has_header_file {
                "start rulebook.vigil with `rulebook my-book \"标题\" version \"2026.1\"`"
            } else {
                "a rulebook is a folder with a header file rulebook.vigil: `rulebook my-book \"标题\" version \"2026.1\"`"
            };
            found.push(
                Diagnostic::error(
                    "V0101",
                    "the rulebook has no header",
                    Span::new(id, 0, 0),
                    "no `rulebook` declaration",
                )
                .with_help(help),
            );
        }
    }
    diagnostics.extend(found);
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    diagnostics.dedup();
    LoadedRulebook {
        root,
        sources,
        modules,
        diagnostics,
        rulebook,
    }
}

fn short_expected(expected: &[String]) -> String {
    match expected {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        [a, b, ..] => format!("{a}, {b}, …"),
    }
}

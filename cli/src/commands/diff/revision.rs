//! A rulebook named by a git revision, `REV:path` (`HEAD~1:rulebooks/cn-national`), copied out
//! of the repository into a temporary folder so that CI can diff against the previous
//! revision without a second checkout.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A rulebook folder ready to load: on disk already, or copied out of git.
pub struct BookFolder {
    /// The folder to load.
    pub path: PathBuf,
    /// Keeps the copy alive until the diff is done.
    _copy: Option<tempfile::TempDir>,
}

/// Why a `REV:path` could not be read: a sentence for the user, naming what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RevisionError(String);

/// The folder an argument names: a path on disk, or, when no such path exists and the
/// argument has a `:`, a folder at a git revision (`REV:path`, path from the repository's top,
/// or from the current folder when it starts with `./` or `../`, as git reads it).
pub fn resolve(arg: &str) -> Result<BookFolder, RevisionError> {
    let as_path = Path::new(arg);
    if as_path.exists() {
        return Ok(BookFolder {
            path: as_path.to_path_buf(),
            _copy: None,
        });
    }
    let Some((rev, path)) = arg.split_once(':') else {
        return Err(RevisionError(format!(
            "{arg}: no such folder (to name a git revision, write REV:path, e.g. HEAD~1:rulebooks/cn-national)"
        )));
    };
    if rev.is_empty() {
        return Err(RevisionError(format!(
            "{arg}: no revision before `:` (write REV:path, e.g. HEAD~1:{path})"
        )));
    }
    materialise(rev, path)
}

/// Runs git with `args` in `dir`; its standard output, or what went wrong.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, RevisionError> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| {
            RevisionError(if e.kind() == std::io::ErrorKind::NotFound {
                "git is not installed (it is needed to read a rulebook at REV:path)".to_string()
            } else {
                format!("git cannot be run: {e}")
            })
        })?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(RevisionError(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).trim().to_string()
}

/// Copies the folder `path` of revision `rev` into a temporary folder.
fn materialise(rev: &str, path: &str) -> Result<BookFolder, RevisionError> {
    let cwd = std::env::current_dir()
        .map_err(|e| RevisionError(format!("the current folder cannot be read: {e}")))?;
    let top = git(&cwd, &["rev-parse", "--show-toplevel"])
        .map(text)
        .map_err(|_| {
            RevisionError(format!(
                "{rev}:{path}: not inside a git repository, so the revision cannot be read"
            ))
        })?;
    let top = PathBuf::from(top);
    // git reads `REV:./x` relative to the current folder and `REV:x` from the top.
    let relative = if path.starts_with("./") || path.starts_with("../") {
        format!(
            "{}{path}",
            text(git(&cwd, &["rev-parse", "--show-prefix"])?)
        )
    } else {
        path.to_string()
    };
    let relative = relative.trim_end_matches('/');
    let commit = format!("{rev}^{{commit}}");
    if git(&top, &["rev-parse", "--verify", "--quiet", &commit]).is_err() {
        return Err(RevisionError(format!(
            "{rev}:{path}: no revision `{rev}` in this repository (a shallow clone may lack it: fetch with more depth)"
        )));
    }
    let tree = format!("{rev}:{relative}");
    let kind = git(&top, &["cat-file", "-t", &tree]).map(text);
    if kind.as_deref().ok() != Some("tree") {
        return Err(RevisionError(format!(
            "{rev}:{path}: revision `{rev}` has no folder `{relative}`"
        )));
    }
    let listing = git(&top, &["ls-tree", "-r", "-z", &tree])?;
    let copy = tempfile::tempdir()
        .map_err(|e| RevisionError(format!("no temporary folder can be made: {e}")))?;
    let name = Path::new(relative)
        .file_name()
        .map_or_else(|| "rulebook".into(), |n| n.to_os_string());
    let root = copy.path().join(name);
    for entry in listing.split(|&b| b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        // `<mode> <type> <object>\t<path>`
        let Some((meta, file)) = entry.split_once('\t') else {
            continue;
        };
        let mut meta = meta.split(' ');
        let (mode, kind, object) = (meta.next(), meta.next(), meta.next());
        // Symbolic links (120000) and submodules are not rulebook files.
        if kind != Some("blob") || mode == Some("120000") {
            continue;
        }
        let Some(object) = object else { continue };
        let target = root.join(file);
        let bytes = git(&top, &["cat-file", "blob", object])?;
        let written = target
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::write(&target, bytes));
        if let Err(e) = written {
            return Err(RevisionError(format!("{}: {e}", target.display())));
        }
    }
    std::fs::create_dir_all(&root)
        .map_err(|e| RevisionError(format!("{}: {e}", root.display())))?;
    Ok(BookFolder {
        path: root,
        _copy: Some(copy),
    })
}

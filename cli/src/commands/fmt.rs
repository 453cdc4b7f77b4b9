//! `vigil fmt`: rewrite files in the canonical layout, or check that they are in it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Args;
use vigil_compiler::diagnostic::Diagnostic;
use vigil_compiler::source::SourceMap;

use crate::Status;

/// Arguments of `vigil fmt`.
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Files or folders (folders: every .vigil file below them).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Change nothing; list the files that are not formatted and exit 1 if there are any.
    #[arg(long)]
    pub check: bool,
}

/// Runs the command.
pub fn run(args: FmtArgs) -> Status {
    let mut files = Vec::new();
    for p in &args.paths {
        match collect(p) {
            Ok(mut f) => files.append(&mut f),
            Err(e) => {
                eprintln!("error: {}: {e}", p.display());
                return Status::Usage;
            }
        }
    }
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut unformatted = 0usize;
    let mut broken = 0usize;
    for f in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {}: {e}", f.display());
                return Status::Usage;
            }
        };
        match vigil_dsl::fmt::format_source(&text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                unformatted += 1;
                if args.check {
                    println!("{}", f.display());
                } else if let Err(e) = std::fs::write(f, formatted) {
                    eprintln!("error: {}: {e}", f.display());
                    return Status::Usage;
                }
            }
            Err(e) => {
                broken += 1;
                let mut sources = SourceMap::default();
                let id = sources.add(f.clone(), text);
                let mut d = Diagnostic::error(
                    e.code,
                    e.message.clone(),
                    vigil_dsl::Span {
                        source: id,
                        ..e.span
                    },
                    "cannot format past this",
                );
                d.help = e.help.clone();
                eprint!("{}", d.render(&sources, color));
            }
        }
    }
    if args.check && unformatted > 0 {
        eprintln!(
            "{unformatted} of {} file(s) not formatted: run `vigil fmt` on them",
            files.len()
        );
    } else if !args.check && unformatted > 0 {
        eprintln!("formatted {unformatted} of {} file(s)", files.len());
    }
    if broken > 0 || args.check && unformatted > 0 {
        Status::Findings
    } else {
        Status::Ok
    }
}

fn collect(p: &Path) -> std::io::Result<Vec<PathBuf>> {
    if p.is_dir() {
        vigil_compiler::load::vigil_files(p).map_err(|e| std::io::Error::other(e.to_string()))
    } else if p.exists() {
        Ok(vec![p.to_path_buf()])
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file or folder",
        ))
    }
}

//! One module per subcommand, and the steps they share.

pub mod check;
pub mod doc;
pub mod explain;
pub mod fmt;
pub mod run;
pub mod test;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use vigil_compiler::LoadedRulebook;
use vigil_runtime::engine::Engine;

/// Loads and checks a rulebook; on errors prints them (and returns None).
pub fn load_checked(book: &Path) -> Option<LoadedRulebook> {
    let loaded = match vigil_compiler::load_rulebook(book) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return None;
        }
    };
    if loaded.has_errors() {
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        for d in loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == vigil_compiler::Severity::Error)
        {
            eprint!("{}", d.render(&loaded.sources, color));
        }
        eprintln!("error: the rulebook has errors; nothing was run");
        return None;
    }
    Some(loaded)
}

/// The engine for a checked rulebook, with table overrides; on errors prints them.
pub fn engine_for(loaded: &LoadedRulebook, tables: &[(String, PathBuf)]) -> Option<Engine> {
    match Engine::new(loaded, tables) {
        Ok(e) => Some(e),
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

/// Loads, checks and prepares a rulebook to run.
pub fn prepare(book: &Path, tables: &[(String, PathBuf)]) -> Option<Engine> {
    engine_for(&load_checked(book)?, tables)
}

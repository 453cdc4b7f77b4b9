//! One module per subcommand, and the steps they share.

pub mod check;
pub mod diff;
pub mod doc;
pub mod explain;
pub mod fmt;
pub mod report;
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

/// Compiles the rulebook to native code and lets it screen the engine's claims. A machine the
/// backend cannot generate code for keeps the interpreter alone, with a note: the findings are
/// the same either way.
pub fn attach_native(engine: &mut Engine, loaded: &LoadedRulebook) {
    match vigil_jit::Kernel::compile(
        &engine.program,
        &loaded.rulebook,
        &engine.layout,
        engine.tables(),
    ) {
        Ok(kernel) => engine.set_screen(std::sync::Arc::new(kernel)),
        Err(e) => eprintln!("note: {e}; running on the interpreter alone"),
    }
}

/// Loads, checks and prepares a rulebook to run on the interpreter alone.
pub fn prepare(book: &Path, tables: &[(String, PathBuf)]) -> Option<Engine> {
    engine_for(&load_checked(book)?, tables)
}

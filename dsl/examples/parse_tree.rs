//! Prints the syntax tree of a `.vigil` file: `cargo run -p vigil-dsl --example parse_tree FILE`.
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: parse_tree FILE");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    match vigil_dsl::parse(vigil_dsl::SourceId(0), &text) {
        Ok(m) => println!("{m:#?}"),
        Err(e) => {
            let (l, c) = vigil_dsl::line_col(&text, e.span.start as usize);
            println!("{path}:{l}:{c}: {} [{}] {:?}", e.message, e.code, e.help);
        }
    }
}

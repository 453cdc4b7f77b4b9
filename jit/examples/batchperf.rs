use std::path::Path;
use std::sync::Arc;
use vigil_runtime::batch::{Batch, Interner};
use vigil_runtime::claims::ClaimLayout;
use vigil_runtime::engine::read_claims;
fn main() {
    let file = std::env::args().nth(1).expect("file");
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national");
    let loaded = vigil_compiler::load_rulebook(&book).expect("rulebook");
    let layout = ClaimLayout::new(&loaded.rulebook).expect("layout");
    let (claims, _, _) = read_claims(&layout, Path::new(&file)).expect("claims");
    let claims: Vec<Arc<_>> = claims.into_iter().map(Arc::new).collect();
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let b = Batch::new(&layout, &claims, &Interner::default());
        println!("{:?} {}", t.elapsed(), b.levels.len());
    }
}

//! `vigil run --engine jit` and `--engine interp` write the same bytes: on the samples and on
//! generated claims of several seeds, at one thread and at several.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("vigil runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn same_by_every_engine(claims: &str, history: Option<&str>) -> usize {
    let mut base = vec!["run", "rulebooks/cn-national", "--claims", claims];
    if let Some(h) = history {
        base.extend(["--history", h]);
    }
    let with = |extra: &[&str]| {
        let mut a = base.clone();
        a.extend(extra);
        run(&a)
    };
    let reference = with(&["--engine", "interp", "--threads", "1"]);
    for extra in [
        &["--engine", "jit", "--threads", "1"][..],
        &["--engine", "jit", "--threads", "3"][..],
        &["--threads", "2"][..],
    ] {
        assert!(
            with(extra) == reference,
            "{extra:?} differs from the interpreter on {claims}"
        );
    }
    reference.iter().filter(|b| **b == b'\n').count()
}

#[test]
fn the_engines_agree_on_the_samples() {
    let findings = same_by_every_engine(
        "rulebooks/cn-national/samples/claims.jsonl",
        Some("rulebooks/cn-national/samples/history.jsonl"),
    );
    assert!(findings > 1000);
}

#[test]
fn the_engines_agree_on_generated_claims() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tables = vigil_bench::gen::Tables::load(&root().join("rulebooks/cn-national"))
        .expect("generator tables");
    for seed in [21, 22, 23] {
        let claims = dir.path().join(format!("claims-{seed}.jsonl"));
        let history = dir.path().join(format!("history-{seed}.jsonl"));
        let mut c = std::fs::File::create(&claims).expect("claims file");
        let mut h = std::fs::File::create(&history).expect("history file");
        let cfg = vigil_bench::gen::GenConfig {
            claims: 1200,
            seed,
            rate: 0.05,
        };
        vigil_bench::gen::generate(&tables, &cfg, &mut c, Some(&mut h)).expect("generates");
        drop((c, h));
        let findings = same_by_every_engine(
            claims.to_str().expect("utf-8 path"),
            Some(history.to_str().expect("utf-8 path")),
        );
        assert!(findings > 100, "seed {seed}: {findings} findings");
    }
}

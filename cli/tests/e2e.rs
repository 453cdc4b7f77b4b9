//! End-to-end: the `vigil` binary as an officer or a CI script runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn vigil(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("the vigil binary was built by cargo for this test")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A copy of the national rulebook in a temporary folder, to break on purpose.
fn national_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder can be made");
    copy_dir(
        &repo().join("rulebooks/cn-national"),
        &dir.path().join("cn-national"),
    );
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

fn replace_in(file: &Path, from: &str, to: &str) {
    let t = std::fs::read_to_string(file).expect("read");
    assert!(
        t.contains(from),
        "{} does not contain {from:?}",
        file.display()
    );
    std::fs::write(file, t.replacen(from, to, 1)).expect("write");
}

#[test]
fn national_rulebook_checks_clean() {
    let out = vigil(&["check", "rulebooks/cn-national"], &repo());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{err}");
    assert!(err.contains("checked cn-national:"), "{err}");
    assert!(err.contains(" 0 error(s)"), "{err}");
}

#[test]
fn misspelt_field_points_at_it_and_suggests_the_name() {
    let dir = national_copy();
    let file = dir.path().join("cn-national/limits.vigil");
    replace_in(&file, "line.pric is some(p)", "line.price is some(p)");
    let out = vigil(&["check", "cn-national"], dir.path());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{err}");
    let line = std::fs::read_to_string(&file)
        .expect("read")
        .lines()
        .position(|l| l.contains("line.price"))
        .map(|i| i + 1)
        .expect("the misspelling is in the file");
    let col = std::fs::read_to_string(&file)
        .expect("read")
        .lines()
        .nth(line - 1)
        .and_then(|l| l.find("price"))
        .map(|c| c + 1);
    let at = format!("cn-national/limits.vigil:{line}:{}", col.unwrap_or(0));
    assert!(err.contains(&at), "expected {at} in:\n{err}");
    assert!(err.contains("unknown field `price` on fee_line"), "{err}");
    assert!(err.contains("did you mean `pric`?"), "{err}");
}

#[test]
fn json_format_gives_one_object_per_diagnostic() {
    let dir = national_copy();
    replace_in(
        &dir.path().join("cn-national/stays.vigil"),
        "severity warn",
        "severity high",
    );
    let out = vigil(&["check", "cn-national", "--format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let diags: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    let bad = diags
        .iter()
        .find(|d| d["code"] == "V0107")
        .expect("the unknown severity is reported");
    assert_eq!(bad["severity"], "error");
    assert_eq!(bad["file"], "cn-national/stays.vigil");
    for key in ["line", "column", "end_line", "end_column"] {
        assert!(bad[key].as_u64().is_some_and(|n| n > 0), "{key} in {bad}");
    }
    assert!(
        bad["help"].as_str().is_some_and(|h| h.contains("block")),
        "{bad}"
    );
}

#[test]
fn missing_path_is_a_usage_error() {
    let out = vigil(&["check", "no/such/book"], &repo());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no such file or folder"));
    let out = vigil(&["check"], &repo());
    assert_eq!(
        out.status.code(),
        Some(2),
        "a missing argument is a usage error"
    );
}

#[test]
fn help_shows_examples() {
    for cmd in ["check", "fmt"] {
        let out = vigil(&[cmd, "--help"], &repo());
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("Examples:"), "{cmd} --help");
    }
}

#[test]
fn fmt_check_then_fix() {
    let dir = national_copy();
    let out = vigil(&["fmt", "--check", "cn-national"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "the repository's rulebook is formatted: {}",
        text(&out.stdout)
    );

    let file = dir.path().join("cn-national/providers.vigil");
    replace_in(&file, "  severity warn\n", "      severity    warn\n");
    let out = vigil(&["fmt", "--check", "cn-national"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("providers.vigil"));

    let out = vigil(&["fmt", "cn-national"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let out = vigil(&["fmt", "--check", "cn-national"], dir.path());
    assert_eq!(out.status.code(), Some(0), "fmt fixed the file");
    assert!(std::fs::read_to_string(&file)
        .expect("read")
        .contains("\n  severity warn\n"));
}

#[test]
fn fmt_refuses_a_file_that_does_not_parse() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("broken.vigil");
    std::fs::write(&file, "rule X-1 \"x\" {\n  when a = b\n}\n").expect("write");
    let out = vigil(&["fmt", "broken.vigil"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("broken.vigil:2:"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        "rule X-1 \"x\" {\n  when a = b\n}\n",
        "left untouched"
    );
}

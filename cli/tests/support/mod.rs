//! Helpers the end-to-end tests share: copies of a rulebook to break.

use std::path::Path;

/// Copies a folder and everything under it.
pub fn copy_dir(from: &Path, to: &Path) {
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

/// Replaces the first `from` in a file with `to` (the file must contain it).
pub fn replace_in(file: &Path, from: &str, to: &str) {
    let t = std::fs::read_to_string(file).expect("read");
    assert!(
        t.contains(from),
        "{} does not contain {from:?}",
        file.display()
    );
    std::fs::write(file, t.replacen(from, to, 1)).expect("write");
}

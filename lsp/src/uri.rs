//! Document URIs and the paths the compiler reads: `file:` URIs map to paths and back; any
//! other scheme (an editor's unsaved `untitled:` buffer) is a loose document with no folder.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::Uri;

/// The path a `file:` URI names, percent-decoded; `None` for other schemes or a path that is
/// not UTF-8 once decoded.
pub fn to_path(uri: &Uri) -> Option<PathBuf> {
    let text = uri.as_str();
    let scheme_len = "file:".len();
    if !text.get(..scheme_len)?.eq_ignore_ascii_case("file:") {
        return None;
    }
    let rest = &text[scheme_len..];
    // `file:///p` and `file://localhost/p` have an authority before the path; `file:/p` none.
    let path = match rest.strip_prefix("//") {
        Some(after) => &after[after.find('/')?..],
        None => rest,
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let decoded = String::from_utf8(percent_decode(path)).ok()?;
    // `/C:/rules/a.vigil` is the Windows path `C:/rules/a.vigil`.
    let bytes = decoded.as_bytes();
    let windows_drive =
        bytes.len() >= 3 && bytes[0] == b'/' && bytes[1].is_ascii_alphabetic() && bytes[2] == b':';
    if cfg!(windows) && windows_drive {
        return Some(PathBuf::from(&decoded[1..]));
    }
    Some(PathBuf::from(decoded))
}

/// The `file:` URI of an absolute path; `None` for a relative path.
pub fn from_path(path: &Path) -> Option<Uri> {
    let text = path.to_str()?.replace('\\', "/");
    let text = if text.starts_with('/') {
        text
    } else if text.as_bytes().get(1) == Some(&b':') {
        format!("/{text}")
    } else {
        return None;
    };
    let mut out = String::from("file://");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&out).ok()
}

fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                // Two hex digits make at most 255, so the cast keeps every bit.
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_round_trip() {
        let path = Path::new("/tmp/规则 书/limits.vigil");
        let uri = from_path(path);
        assert!(uri.is_some(), "an absolute path has a URI");
        if let Some(uri) = uri {
            assert!(uri.as_str().starts_with("file:///tmp/%E8%A7%84"));
            assert_eq!(to_path(&uri).as_deref(), Some(path));
        }
        let other = Uri::from_str("untitled:Untitled-1");
        assert!(other.is_ok_and(|u| to_path(&u).is_none()));
        let host = Uri::from_str("file://localhost/a/b.vigil");
        assert!(host.is_ok_and(|u| to_path(&u) == Some(PathBuf::from("/a/b.vigil"))));
        assert!(from_path(Path::new("relative.vigil")).is_none());
    }
}

//! The few contract fields of a claims file (formats.md §1) a report needs: which claims and
//! lines there are, each claim's provider, month and billed amount. No rulebook is needed, so
//! only the fixed contract fields are read; a line that is not a claim is counted as rejected
//! and shown in the report, never fatal.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use vigil_runtime::findings::cents;
use vigil_runtime::scalars::parse_datetime;

/// One claim, as far as a report needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimKey {
    /// The provider (`fixmedins_code`).
    pub fixmedins_code: String,
    /// `YYYY-MM` of `setl_time`, else `enddate`, else `begndate`; `None` if it has none.
    pub month: Option<String>,
    /// Its fee lines.
    pub lines: u64,
    /// `medfee_sumamt` in hundredths, if given.
    pub medfee_cents: Option<i128>,
}

/// A line of the claims file that is not a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedClaim {
    /// The 1-based line of the file.
    pub line: u64,
    /// Why it was not read.
    pub reason: String,
}

/// The claims of a file, by `setl_id`, and the lines that were not claims.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimKeys {
    /// Read claims by `setl_id`.
    pub claims: BTreeMap<String, ClaimKey>,
    /// Lines that were not claims, in file order.
    pub rejected: Vec<RejectedClaim>,
}

/// The fields read, as they come; anything else on the line is ignored.
#[derive(Deserialize)]
struct RawClaim<'a> {
    setl_id: String,
    psn_no: String,
    fixmedins_code: String,
    setl_time: Option<String>,
    enddate: Option<String>,
    begndate: Option<String>,
    #[serde(borrow)]
    medfee_sumamt: Option<&'a RawValue>,
    fee_list: Option<Vec<RawLine>>,
}

#[derive(Deserialize)]
struct RawLine {
    // Read only to require it: the contract makes it the line's key.
    #[allow(dead_code)]
    feedetl_sn: String,
}

/// Reads the claims file at `path`; only an I/O error is an error.
pub fn read_claim_keys(path: &Path) -> std::io::Result<ClaimKeys> {
    let file = std::fs::File::open(path)?;
    let mut reader = std::io::BufReader::new(file);
    let mut keys = ClaimKeys::default();
    let mut first_line: BTreeMap<String, u64> = BTreeMap::new();
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line += 1;
        let text = buf.trim_ascii();
        if text.is_empty() {
            continue;
        }
        match claim_of(text) {
            Ok((setl_id, key)) => {
                if let Some(first) = first_line.get(&setl_id) {
                    keys.rejected.push(RejectedClaim {
                        line,
                        reason: format!("setl_id: duplicate {setl_id:?} (first on line {first})"),
                    });
                } else {
                    first_line.insert(setl_id.clone(), line);
                    keys.claims.insert(setl_id, key);
                }
            }
            Err(reason) => keys.rejected.push(RejectedClaim { line, reason }),
        }
    }
    Ok(keys)
}

fn claim_of(text: &[u8]) -> Result<(String, ClaimKey), String> {
    let raw: RawClaim<'_> = serde_json::from_slice(text).map_err(|e| {
        if e.is_data() {
            format!("not a claim: {e}")
        } else {
            format!("not valid JSON: {e}")
        }
    })?;
    if raw.setl_id.is_empty() || raw.psn_no.is_empty() || raw.fixmedins_code.is_empty() {
        return Err("setl_id, psn_no and fixmedins_code must not be empty".to_string());
    }
    let mut month = None;
    for (name, value) in [
        ("setl_time", &raw.setl_time),
        ("enddate", &raw.enddate),
        ("begndate", &raw.begndate),
    ] {
        if let Some(v) = value {
            if parse_datetime(v).is_none() {
                return Err(format!(
                    "{name}: {v:?} is not a date or datetime (YYYY-MM-DD[ HH:MM:SS])"
                ));
            }
            // A valid date starts with its `YYYY-MM`.
            month = month.or_else(|| v.get(..7).map(str::to_string));
        }
    }
    let medfee_cents = match raw.medfee_sumamt {
        None => None,
        Some(raw) => Some(
            money_cents(raw.get())
                .ok_or_else(|| format!("medfee_sumamt: {} is not a decimal", raw.get()))?,
        ),
    };
    let key = ClaimKey {
        fixmedins_code: raw.fixmedins_code,
        month,
        lines: raw.fee_list.map_or(0, |l| l.len() as u64),
        medfee_cents,
    };
    Ok((raw.setl_id, key))
}

/// A money value's JSON text (`"12.30"` or `12.30`) in hundredths, read as a decimal, never
/// through binary floating point; `null` is no amount.
fn money_cents(json: &str) -> Option<i128> {
    if json == "null" {
        return Some(0);
    }
    let text = match json.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner,
        None => json,
    };
    let d = Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()?;
    Some(cents(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_and_rejects_what_is_not_a_claim() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("claims.jsonl");
        let text = [
            r#"{"setl_id":"S1","psn_no":"P1","fixmedins_code":"H1","begndate":"2026-09-30","setl_time":"2026-10-02 10:00:00","medfee_sumamt":"12.30","fee_list":[{"feedetl_sn":"1"},{"feedetl_sn":"2"}]}"#,
            "",
            r#"{"setl_id":"S2","psn_no":"P1","fixmedins_code":"H2","enddate":"2026-11-01","medfee_sumamt":7.5}"#,
            r#"{"setl_id":"S1","psn_no":"P1","fixmedins_code":"H1"}"#,
            r#"{"setl_id":"S3","psn_no":"P1"}"#,
            r#"{"setl_id":"S4","psn_no":"P1","fixmedins_code":"H1","setl_time":"2026-02-30"}"#,
            "not json",
        ]
        .join("\n");
        std::fs::write(&path, text).expect("write claims");
        let keys = read_claim_keys(&path).expect("readable");
        assert_eq!(keys.claims.len(), 2);
        let s1 = &keys.claims["S1"];
        assert_eq!(
            (s1.month.as_deref(), s1.lines, s1.medfee_cents),
            (Some("2026-10"), 2, Some(1230))
        );
        let s2 = &keys.claims["S2"];
        assert_eq!(
            (s2.month.as_deref(), s2.lines, s2.medfee_cents),
            (Some("2026-11"), 0, Some(750))
        );
        let lines: Vec<u64> = keys.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![4, 5, 6, 7]);
        assert!(keys.rejected[0].reason.contains("duplicate"));
        assert!(keys.rejected[1].reason.contains("fixmedins_code"));
        assert!(keys.rejected[2].reason.contains("setl_time"));
    }
}

//! Reading a findings file back (formats.md §2), JSON Lines or CSV as `vigil run` writes them,
//! for the tools that work on findings after a run (`vigil report`).
//!
//! Unlike the claim reader, this reader is strict: a findings file is the output of a run, and a
//! report or a comparison that skipped a malformed line would show totals that are not the
//! file's. The first bad line is an error that names its line number.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use vigil_compiler::model::{RuleSeverity, Scope};

use crate::findings::{Finding, COLUMNS};
use crate::scalars::parse_month;

/// Why a findings file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FindingsFileError {
    /// The file could not be opened or read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The file is neither JSON Lines nor CSV with the contract's header.
    #[error("not a findings file: the first line is neither a JSON object nor a CSV header starting with `rule_id`")]
    UnknownFormat,
    /// The CSV header lacks a column the contract requires.
    #[error("line 1: the CSV header has no `{0}` column")]
    MissingColumn(&'static str),
    /// One line (a JSON line or a CSV record) is not a finding.
    #[error("line {line}: {reason}")]
    BadLine {
        /// The 1-based physical line where the record starts.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
}

/// The two layouts `vigil run --format` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingsFormat {
    /// One JSON object per line.
    Jsonl,
    /// A header row of the contract's columns, one row per finding.
    Csv,
}

/// Reads a findings file, detecting its layout from its first non-blank line.
pub fn read_findings(path: &Path) -> Result<(FindingsFormat, Vec<Finding>), FindingsFileError> {
    let bytes = std::fs::read(path)?;
    parse_findings(&bytes)
}

/// Parses findings from the bytes of a file (see [`read_findings`]).
pub fn parse_findings(bytes: &[u8]) -> Result<(FindingsFormat, Vec<Finding>), FindingsFileError> {
    // A spreadsheet that re-saved the CSV may have put a byte-order mark in front.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .find(|l| !l.is_empty());
    match first {
        // An empty file is an empty set of findings; both layouts agree on that.
        None => Ok((FindingsFormat::Jsonl, Vec::new())),
        Some(l) if l.starts_with(b"{") => Ok((FindingsFormat::Jsonl, parse_jsonl(bytes)?)),
        Some(l) if l.starts_with(b"rule_id") || l.starts_with(b"\"rule_id\"") => {
            Ok((FindingsFormat::Csv, parse_csv(bytes)?))
        }
        Some(_) => Err(FindingsFileError::UnknownFormat),
    }
}

fn parse_jsonl(bytes: &[u8]) -> Result<Vec<Finding>, FindingsFileError> {
    let mut out = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i as u64 + 1;
        let raw = raw.trim_ascii();
        if raw.is_empty() {
            continue;
        }
        let bad = |reason: String| FindingsFileError::BadLine { line, reason };
        let value: Value =
            serde_json::from_slice(raw).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(bad("not a JSON object".to_string()));
        };
        out.push(finding_from(&JsonFields(&map)).map_err(bad)?);
    }
    Ok(out)
}

fn parse_csv(bytes: &[u8]) -> Result<Vec<Finding>, FindingsFileError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes);
    let header_err = |e: csv::Error| FindingsFileError::BadLine {
        line: 1,
        reason: e.to_string(),
    };
    let headers = reader.headers().map_err(header_err)?.clone();
    let mut index = [usize::MAX; COLUMNS.len()];
    for (slot, name) in index.iter_mut().zip(COLUMNS) {
        match headers.iter().position(|h| h.trim() == name) {
            Some(i) => *slot = i,
            None => return Err(FindingsFileError::MissingColumn(name)),
        }
    }
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| FindingsFileError::BadLine {
            line: e.position().map_or(0, |p| line_at(bytes, p.byte())),
            reason: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| line_at(bytes, p.byte()));
        // A blank row between records is not a finding (the csv reader already skips
        // empty lines; this catches a row of empty cells).
        if record.iter().all(|c| c.is_empty()) {
            continue;
        }
        let fields = CsvFields {
            record: &record,
            index: &index,
        };
        out.push(
            finding_from(&fields).map_err(|reason| FindingsFileError::BadLine { line, reason })?,
        );
    }
    Ok(out)
}

/// The 1-based physical line where a record starts, from the csv reader's byte offset. Its
/// own line count does not count line breaks inside quoted cells (a message may hold one), and
/// its offset may point at the end of the previous row's line break, which is skipped.
fn line_at(bytes: &[u8], offset: u64) -> u64 {
    let mut start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
        start += 1;
    }
    bytes[..start].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

/// The fields of one finding, whichever layout it came in.
trait Fields {
    /// The text of a field; `Ok(None)` when absent (or an empty CSV cell).
    fn text(&self, name: &'static str) -> Result<Option<&str>, String>;
}

struct JsonFields<'a>(&'a Map<String, Value>);

impl Fields for JsonFields<'_> {
    fn text(&self, name: &'static str) -> Result<Option<&str>, String> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!(
                "`{name}` must be a string, found {}",
                json_kind(other)
            )),
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

struct CsvFields<'a> {
    record: &'a csv::StringRecord,
    index: &'a [usize; COLUMNS.len()],
}

impl Fields for CsvFields<'_> {
    fn text(&self, name: &'static str) -> Result<Option<&str>, String> {
        let Some(col) = COLUMNS.iter().position(|c| *c == name) else {
            return Ok(None);
        };
        Ok(self
            .record
            .get(self.index[col])
            .filter(|cell| !cell.is_empty()))
    }
}

/// A field the contract requires.
fn required<'f>(f: &'f impl Fields, name: &'static str) -> Result<&'f str, String> {
    f.text(name)?.ok_or_else(|| format!("`{name}` is missing"))
}

fn finding_from(f: &impl Fields) -> Result<Finding, String> {
    let rule_id = required(f, "rule_id")?;
    let rule_name = required(f, "rule_name")?;
    let scope = match required(f, "scope")? {
        "line" => Scope::Line,
        "claim" => Scope::Claim,
        "provider" => Scope::Provider,
        other => {
            return Err(format!(
                "`scope` must be line, claim or provider, found {other:?}"
            ))
        }
    };
    let sev_deg = match required(f, "sev_deg")? {
        "block" => RuleSeverity::Block,
        "warn" => RuleSeverity::Warn,
        "info" => RuleSeverity::Info,
        other => {
            return Err(format!(
                "`sev_deg` must be block, warn or info, found {other:?}"
            ))
        }
    };
    let amount = required(f, "vola_amt")?;
    let vola_amt = parse_amount(amount).ok_or_else(|| {
        format!("`vola_amt` must be a decimal string like \"12.30\", found {amount:?}")
    })?;
    let keyed = scope != Scope::Provider;
    let setl_id = f.text("setl_id")?;
    let psn_no = f.text("psn_no")?;
    let feedetl_sn = f.text("feedetl_sn")?;
    let period = f.text("period")?;
    if keyed && setl_id.is_none() {
        return Err(format!(
            "`setl_id` is missing (a {} finding names its claim)",
            scope.as_str()
        ));
    }
    if scope == Scope::Line && feedetl_sn.is_none() {
        return Err("`feedetl_sn` is missing (a line finding names its line)".to_string());
    }
    if scope == Scope::Provider {
        match period {
            Some(p) if parse_month(p).is_some() => {}
            Some(p) => return Err(format!("`period` must be YYYY-MM, found {p:?}")),
            None => {
                return Err("`period` is missing (a provider finding names its month)".to_string())
            }
        }
    }
    let arc = |s: &str| -> Arc<str> { Arc::from(s) };
    Ok(Finding {
        rule_id: arc(rule_id),
        rule_name: arc(rule_name),
        scope,
        setl_id: setl_id.map(arc),
        psn_no: psn_no.map(arc),
        fixmedins_code: arc(required(f, "fixmedins_code")?),
        feedetl_sn: feedetl_sn.map(arc),
        period: period.map(str::to_string),
        vola_amt,
        sev_deg,
        // A rule may have no message or basis text worth writing; absent reads as empty.
        vola_cont: f.text("vola_cont")?.unwrap_or("").to_string(),
        vola_evid: arc(f.text("vola_evid")?.unwrap_or("")),
        rulebook: arc(f.text("rulebook")?.unwrap_or("")),
    })
}

/// A plain decimal (`12.30`, `-4`, `0.5`): digits with at most one point and an optional sign;
/// no exponent, no spaces, no thousands separators, so that what is summed is what was written.
fn parse_amount(s: &str) -> Option<Decimal> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || (body.contains('.') && frac.is_empty()) {
        return None;
    }
    Decimal::from_str(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{write_csv, write_jsonl};

    const JSONL: &str = r#"{"rule_id":"CN-PRICE-001","rule_name":"超标准收费","scope":"line","setl_id":"S1","psn_no":"P1","fixmedins_code":"H1","feedetl_sn":"7","vola_amt":"4.50","sev_deg":"block","vola_cont":"单价, \"高\"","vola_evid":"第三十八条","rulebook":"b@x"}

{"rule_id":"CN-VOL-001","rule_name":"量","scope":"provider","fixmedins_code":"H1","period":"2026-10","vola_amt":"0.00","sev_deg":"info","vola_cont":"m","vola_evid":"e","rulebook":"b@x"}
"#;

    #[test]
    fn jsonl_and_the_csv_written_from_it_read_the_same() {
        let (fmt, from_jsonl) = parse_findings(JSONL.as_bytes()).expect("valid findings");
        assert_eq!(fmt, FindingsFormat::Jsonl);
        assert_eq!(from_jsonl.len(), 2);
        assert_eq!(from_jsonl[0].vola_amt, Decimal::new(450, 2));
        let mut csv = Vec::new();
        write_csv(&mut csv, &from_jsonl).expect("write to memory");
        let (fmt, from_csv) = parse_findings(&csv).expect("valid CSV");
        assert_eq!(fmt, FindingsFormat::Csv);
        assert_eq!(from_csv, from_jsonl);
        let mut again = Vec::new();
        write_jsonl(&mut again, &from_csv).expect("write to memory");
        assert_eq!(String::from_utf8_lossy(&again), JSONL.replace("\n\n", "\n"));
    }

    #[test]
    fn a_bad_line_names_its_line_number() {
        let cases: [(&str, u64, &str); 7] = [
            ("{\"rule_id\":1}", 3, "`rule_id` must be a string"),
            ("not json", 3, "not valid JSON"),
            ("[1]", 3, "not a JSON object"),
            (
                &JSONL
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .replace("4.50", "4,5"),
                3,
                "`vola_amt` must be a decimal",
            ),
            (
                &JSONL
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .replace("\"line\"", "\"row\""),
                3,
                "`scope` must be",
            ),
            (
                &JSONL
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .replace("\"feedetl_sn\":\"7\",", ""),
                3,
                "`feedetl_sn` is missing",
            ),
            (
                &JSONL
                    .lines()
                    .nth(2)
                    .unwrap_or_default()
                    .replace("2026-10", "2026-13"),
                3,
                "`period` must be YYYY-MM",
            ),
        ];
        for (bad, line, reason) in cases {
            let text = format!("{JSONL}{bad}\n");
            match parse_findings(text.as_bytes()) {
                Err(FindingsFileError::BadLine { line: l, reason: r }) => {
                    assert_eq!(l, line + 1, "{bad}");
                    assert!(r.contains(reason), "{r} does not say {reason}");
                }
                other => panic!("{bad}: expected a bad line, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_bad_csv_record_names_its_line_and_a_missing_column_is_named() {
        let csv = "rule_id,rule_name,scope,setl_id,psn_no,fixmedins_code,feedetl_sn,period,vola_amt,sev_deg,vola_cont,vola_evid,rulebook\r\n\
                   R,n,claim,S1,P1,H1,,,1.00,warn,\"a\r\nb\",e,b@x\r\n\
                   R,n,claim,S2,P1,H1,,,x,warn,m,e,b@x\r\n";
        match parse_findings(csv.as_bytes()) {
            Err(FindingsFileError::BadLine { line, reason }) => {
                assert_eq!(line, 4, "the second record starts on line 4: {reason}");
                assert!(reason.contains("vola_amt"), "{reason}");
            }
            other => panic!("expected a bad line, got {other:?}"),
        }
        let no_amount = "rule_id,rule_name,scope\r\nR,n,claim\r\n";
        assert!(matches!(
            parse_findings(no_amount.as_bytes()),
            Err(FindingsFileError::MissingColumn("setl_id"))
        ));
        assert!(matches!(
            parse_findings(b"hello\n"),
            Err(FindingsFileError::UnknownFormat)
        ));
    }

    #[test]
    fn amounts_are_plain_decimals() {
        for ok in ["0.00", "12.30", "-4.50", "7", "123456789012.34"] {
            assert!(parse_amount(ok).is_some(), "{ok}");
        }
        for bad in [
            "", "-", "1.", ".5", "1e3", "1,000.00", " 1.00", "+1.00", "NaN",
        ] {
            assert!(parse_amount(bad).is_none(), "{bad}");
        }
    }
}

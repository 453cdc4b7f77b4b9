//! Findings (formats.md §2): what a run reports, in the one order and the one byte layout the
//! contract fixes, as JSON Lines or CSV, plus the per-rule summary shown on stderr and the
//! rulebook's content id that every finding carries.
//!
//! Amounts stay exact (`Decimal`, unrounded) in a [`Finding`]; they are rounded once, half away
//! from zero, to the 2 places of the contract where they are written or summed.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use sha2::{Digest, Sha256};
use vigil_compiler::model::{RuleSeverity, Scope};
use vigil_compiler::LoadedRulebook;

/// One violation found by one rule, on a line, a claim, or a provider's month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule's stable id (`CN-PRICE-001`).
    pub rule_id: Arc<str>,
    /// The rule's name (`超标准收费`).
    pub rule_name: Arc<str>,
    /// What the rule ranged over, and so which of the keys below are present.
    pub scope: Scope,
    /// The claim; `None` for provider scope.
    pub setl_id: Option<Arc<str>>,
    /// The patient; `None` for provider scope.
    pub psn_no: Option<Arc<str>>,
    /// The provider.
    pub fixmedins_code: Arc<str>,
    /// The fee line; line scope only.
    pub feedetl_sn: Option<Arc<str>>,
    /// The month, `YYYY-MM`; provider scope only.
    pub period: Option<String>,
    /// 违规金额, exact as the rule computed it: rounded only when written or summed.
    pub vola_amt: Decimal,
    /// `sev_deg`: block, warn or info.
    pub sev_deg: RuleSeverity,
    /// The rule's message with its values filled in.
    pub vola_cont: String,
    /// The rule's legal basis, verbatim from the rulebook.
    pub vola_evid: Arc<str>,
    /// The rulebook's content id, as [`rulebook_id`] makes it.
    pub rulebook: Arc<str>,
}

/// The contract's columns, in the contract's order (formats.md §2): the CSV header, and the
/// order of a JSON line's keys.
pub const COLUMNS: [&str; 13] = [
    "rule_id",
    "rule_name",
    "scope",
    "setl_id",
    "psn_no",
    "fixmedins_code",
    "feedetl_sn",
    "period",
    "vola_amt",
    "sev_deg",
    "vola_cont",
    "vola_evid",
    "rulebook",
];

/// An amount to the contract's 2 places, rounded half away from zero (0.005 → 0.01,
/// -0.005 → -0.01), with scale 2 so that it prints `0.00` and `4.50`.
///
/// A value too large to carry 2 places in a `Decimal` (above about 7.9 × 10^26) keeps the
/// places it has; the writers print 2 places whatever the scale.
pub fn round_amount(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    // Raising the scale never changes the value; where the mantissa has no room it stops short.
    r.rescale(2);
    // A negative zero ("-0.00" read from a claim) is written and summed as zero.
    if r.is_zero() {
        r.set_sign_positive(true);
    }
    r
}

/// A rounded amount in hundredths (fen): exact for every `Decimal`, since 2^96 × 100 fits in
/// an `i128`, so the writers and the summary share one integer and cannot disagree.
pub fn cents(d: Decimal) -> i128 {
    let r = round_amount(d);
    // round_amount leaves at most 2 places; saturating_sub only guards that invariant.
    r.mantissa() * 10i128.pow(2u32.saturating_sub(r.scale()))
}

/// Hundredths as the contract's decimal string: `-` if negative, then at least one integer
/// digit, a point and exactly 2 places.
pub fn cents_text(c: i128) -> String {
    let abs = c.unsigned_abs();
    let sign = if c < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `vola_amt` as written: rounded once, exactly 2 places.
fn amount_text(d: Decimal) -> String {
    cents_text(cents(d))
}

/// A finding as one JSON line: fields in the contract's order (serde keeps declaration order),
/// absent keys left out rather than written as `null`.
#[derive(Serialize)]
struct JsonLine<'a> {
    rule_id: &'a str,
    rule_name: &'a str,
    scope: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    setl_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    psn_no: Option<&'a str>,
    fixmedins_code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    feedetl_sn: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<&'a str>,
    vola_amt: String,
    sev_deg: &'static str,
    vola_cont: &'a str,
    vola_evid: &'a str,
    rulebook: &'a str,
}

impl<'a> JsonLine<'a> {
    fn new(f: &'a Finding) -> JsonLine<'a> {
        JsonLine {
            rule_id: &f.rule_id,
            rule_name: &f.rule_name,
            scope: f.scope.as_str(),
            setl_id: f.setl_id.as_deref(),
            psn_no: f.psn_no.as_deref(),
            fixmedins_code: &f.fixmedins_code,
            feedetl_sn: f.feedetl_sn.as_deref(),
            period: f.period.as_deref(),
            vola_amt: amount_text(f.vola_amt),
            sev_deg: f.sev_deg.as_str(),
            vola_cont: &f.vola_cont,
            vola_evid: &f.vola_evid,
            rulebook: &f.rulebook,
        }
    }
}

/// A finding as the JSON object `write_jsonl` writes for it.
pub fn finding_json(f: &Finding) -> serde_json::Value {
    serde_json::to_value(JsonLine::new(f)).unwrap_or(serde_json::Value::Null)
}

/// Writes findings as JSON Lines (formats.md §2), one object per line ending in `\n`, in the
/// order given (call [`sort_findings`] first). Chinese text is written as UTF-8, not escaped.
///
/// Each line goes to `out` in one `write_all`; wrap a file in a `BufWriter` all the same.
pub fn write_jsonl(out: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    let mut line = Vec::with_capacity(512);
    for f in findings {
        line.clear();
        serde_json::to_writer(&mut line, &JsonLine::new(f))?;
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(())
}

/// Writes findings as CSV: a header row of the 13 contract columns in the contract's order,
/// one row per finding, an empty cell where a key is absent, quoting per RFC 4180 (only cells
/// holding a comma, quote or line break are quoted) and rows ending in CRLF as RFC 4180 has
/// them. No byte-order mark: the file is plain UTF-8, as the reference tables are.
pub fn write_csv(out: &mut impl Write, findings: &[Finding]) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(COLUMNS)?;
    for f in findings {
        let amount = amount_text(f.vola_amt);
        w.write_record([
            &*f.rule_id,
            &*f.rule_name,
            f.scope.as_str(),
            f.setl_id.as_deref().unwrap_or(""),
            f.psn_no.as_deref().unwrap_or(""),
            &*f.fixmedins_code,
            f.feedetl_sn.as_deref().unwrap_or(""),
            f.period.as_deref().unwrap_or(""),
            &amount,
            f.sev_deg.as_str(),
            &f.vola_cont,
            &f.vola_evid,
            &*f.rulebook,
        ])?;
    }
    // The csv writer buffers; flushing here reports an error that dropping it would swallow.
    w.flush()
}

/// Sorts findings into the contract's deterministic order, so that the same claims and
/// rulebook give byte-identical output whatever order the threads produced them in.
///
/// The order: scope (claim, line, provider), rule id, the claim (`setl_id`) or for provider
/// scope the provider (`fixmedins_code`), the fee line (`feedetl_sn`, by number where both are
/// whole numbers, numbers before other text), the period, then every remaining field, so that
/// two findings that compare equal are written as the same bytes.
pub fn sort_findings(findings: &mut [Finding]) {
    // Unstable is enough: the order is total up to findings that are written identically.
    findings.sort_unstable_by(compare);
}

/// The total order of [`sort_findings`].
fn compare(a: &Finding, b: &Finding) -> Ordering {
    // Scope's declaration order is claim < line < provider, the order of the contract.
    a.scope
        .cmp(&b.scope)
        .then_with(|| a.rule_id.cmp(&b.rule_id))
        .then_with(|| match a.scope {
            // The scopes are equal here; a provider finding has no claim.
            Scope::Provider => a.fixmedins_code.cmp(&b.fixmedins_code),
            Scope::Claim | Scope::Line => a.setl_id.cmp(&b.setl_id),
        })
        .then_with(|| match (&a.feedetl_sn, &b.feedetl_sn) {
            (Some(x), Some(y)) => compare_serial(x, y),
            (x, y) => x.is_some().cmp(&y.is_some()),
        })
        .then_with(|| a.period.cmp(&b.period))
        .then_with(|| a.vola_cont.cmp(&b.vola_cont))
        .then_with(|| a.vola_amt.cmp(&b.vola_amt))
        // Past here only findings that a rulebook would not produce twice differ; the fields
        // still take part so that the order is total.
        .then_with(|| a.rule_name.cmp(&b.rule_name))
        .then_with(|| a.setl_id.cmp(&b.setl_id))
        .then_with(|| a.psn_no.cmp(&b.psn_no))
        .then_with(|| a.fixmedins_code.cmp(&b.fixmedins_code))
        .then_with(|| a.sev_deg.cmp(&b.sev_deg))
        .then_with(|| a.vola_evid.cmp(&b.vola_evid))
        .then_with(|| a.rulebook.cmp(&b.rulebook))
}

/// `feedetl_sn` order: fee lines are numbered `1, 2, … 10` by most platforms, so whole numbers
/// compare as numbers (of any length, without parsing), before any other text, which compares
/// as text. `07` and `7` are equal as numbers and then ordered as text, so the order is total.
fn compare_serial(a: &str, b: &str) -> Ordering {
    let whole = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    match (whole(a), whole(b)) {
        (true, true) => {
            let (x, y) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            x.len()
                .cmp(&y.len())
                .then_with(|| x.cmp(y))
                .then_with(|| a.cmp(b))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

/// The rulebook's content id, `NAME@sha256:HEX`: NAME is the header's id and HEX the lowercase
/// SHA-256 of its `.vigil` sources, so a finding names the exact rule text that produced it.
///
/// The hash runs over the sources in the order of their paths relative to the rulebook folder
/// (with `/` between folders); for each: the path, a 0 byte, the text's length in bytes as 8
/// little-endian bytes, the text. Renaming a file or moving text from one file to another
/// changes the id; moving or renaming the folder does not. The text is hashed as it was loaded
/// (invalid UTF-8 already replaced), that is, as it was checked and run.
///
/// Reference tables are data, not rules, and are not hashed: a province replaces its
/// catalogue, or points a table at another file, without changing the rulebook's id.
///
/// A loose file checked with no folder is named by its file name; a source outside the folder
/// (only possible through `check_sources`) by its whole path.
pub fn rulebook_id(loaded: &LoadedRulebook) -> String {
    let mut files: Vec<(String, &str)> = loaded
        .sources
        .files()
        .iter()
        .map(|f| {
            (
                relative_name(loaded.root.as_deref(), &f.path),
                f.text.as_str(),
            )
        })
        .collect();
    files.sort_unstable();
    let mut hash = Sha256::new();
    for (path, text) in &files {
        hash.update(path.as_bytes());
        hash.update([0u8]);
        hash.update((text.len() as u64).to_le_bytes());
        hash.update(text.as_bytes());
    }
    let mut id = format!("{}@sha256:", loaded.rulebook.header.id);
    for byte in hash.finalize() {
        // Writing to a String cannot fail.
        let _ = write!(id, "{byte:02x}");
    }
    id
}

/// A source's name in the hash: its path below the rulebook folder, folders joined by `/` on
/// every platform.
fn relative_name(root: Option<&Path>, path: &Path) -> String {
    let rel = match root {
        Some(root) => path.strip_prefix(root).ok(),
        None => path.file_name().map(Path::new),
    };
    match rel {
        Some(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        None => path.to_string_lossy().replace('\\', "/"),
    }
}

/// One rule's line in the [`Summary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTotal {
    /// The rule's name.
    pub rule_name: Arc<str>,
    /// How many findings the rule produced.
    pub findings: u64,
    /// The sum of the rounded amounts in hundredths; `None` if it left the `i128` range
    /// (only possible with tens of millions of findings of absurd size).
    pub cents: Option<i128>,
}

impl RuleTotal {
    /// The total as written in the summary: 2 places, or `overflow`.
    pub fn amount_text(&self) -> String {
        self.cents
            .map_or_else(|| "overflow".to_string(), cents_text)
    }
}

/// Findings counted and their amounts summed, per rule: the totals a reader of the findings
/// file would get by adding up its `vola_amt` column (amounts are rounded before they are
/// summed). The sum is of integers, so it does not depend on the order findings are added in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    rules: BTreeMap<Arc<str>, RuleTotal>,
}

impl Summary {
    /// An empty summary.
    pub fn new() -> Summary {
        Summary::default()
    }

    /// The summary of a set of findings.
    pub fn of(findings: &[Finding]) -> Summary {
        let mut s = Summary::new();
        for f in findings {
            s.add(f);
        }
        s
    }

    /// Counts one finding.
    pub fn add(&mut self, f: &Finding) {
        self.add_total(
            &f.rule_id,
            RuleTotal {
                rule_name: f.rule_name.clone(),
                findings: 1,
                cents: Some(cents(f.vola_amt)),
            },
        );
    }

    /// Adds another summary's counts (one per worker thread, merged at the end).
    pub fn merge(&mut self, other: Summary) {
        for (id, total) in other.rules {
            self.add_total(&id, total);
        }
    }

    fn add_total(&mut self, rule_id: &Arc<str>, t: RuleTotal) {
        match self.rules.get_mut(rule_id) {
            Some(have) => {
                have.findings = have.findings.saturating_add(t.findings);
                have.cents = have.cents.zip(t.cents).and_then(|(a, b)| a.checked_add(b));
                // One rule has one name; if two ever disagree, keep the least so that the
                // summary does not depend on arrival order.
                if t.rule_name < have.rule_name {
                    have.rule_name = t.rule_name;
                }
            }
            None => {
                self.rules.insert(rule_id.clone(), t);
            }
        }
    }

    /// Each rule's totals, by rule id.
    pub fn rules(&self) -> impl Iterator<Item = (&str, &RuleTotal)> {
        self.rules.iter().map(|(id, t)| (&**id, t))
    }

    /// All findings of all rules.
    pub fn total_findings(&self) -> u64 {
        self.rules
            .values()
            .fold(0u64, |n, t| n.saturating_add(t.findings))
    }

    /// All amounts of all rules, in hundredths; `None` on overflow.
    pub fn total_cents(&self) -> Option<i128> {
        self.rules
            .values()
            .try_fold(0i128, |sum, t| t.cents.and_then(|c| sum.checked_add(c)))
    }

    /// The summary as a table for the terminal: rule id, name, findings, amount, one rule per
    /// row by rule id, and a total row. Columns are aligned by display width (a Chinese
    /// character takes two cells).
    pub fn render(&self) -> String {
        let mut rows: Vec<[String; 4]> = vec![[
            "rule_id".to_string(),
            "rule_name".to_string(),
            "findings".to_string(),
            "vola_amt".to_string(),
        ]];
        for (id, t) in self.rules() {
            rows.push([
                id.to_string(),
                t.rule_name.to_string(),
                t.findings.to_string(),
                t.amount_text(),
            ]);
        }
        rows.push([
            "total".to_string(),
            String::new(),
            self.total_findings().to_string(),
            self.total_cents()
                .map_or_else(|| "overflow".to_string(), cents_text),
        ]);
        let mut widths = [0usize; 4];
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(display_width(cell));
            }
        }
        let mut out = String::new();
        for row in &rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let pad = " ".repeat(widths[i] - display_width(cell));
                if i > 0 {
                    line.push_str("  ");
                }
                // Text left, numbers right.
                if i < 2 {
                    line.push_str(cell);
                    line.push_str(&pad);
                } else {
                    line.push_str(&pad);
                    line.push_str(cell);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Terminal cells a text takes: 2 for East Asian wide and fullwidth characters (CJK, kana,
/// Hangul, fullwidth forms), 1 otherwise. The main ranges only, enough to align rule names.
pub fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| match u32::from(c) {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

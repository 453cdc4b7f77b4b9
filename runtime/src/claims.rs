//! The claim reader: JSON Lines of settlements (formats.md §1) in, typed `Record`s out.
//!
//! The claim schema is data. [`ClaimLayout`] is built once from a checked rulebook's schema
//! records (`claim` is the root; `[fee_line]` and `diagnosis` fields nest): it fixes each
//! record's field slots and types and maps every JSON key to its slot, so a province that adds
//! a field to `schema.vigil` has it read with no rebuild. [`ClaimReader`] then streams a file a
//! batch of lines at a time (parsed in parallel, yielded in line order), yielding a
//! [`ReadClaim`] or a [`Rejected`] per non-blank line; a bad line never stops the file.
//!
//! JSON is decoded straight into slots (no intermediate `serde_json::Value`): scalars are taken
//! as raw JSON text (`RawValue`), so numbers are read exactly as written and never pass through
//! binary floating point.
//!
//! Points formats.md leaves open, decided here:
//! - A JSON `null` is a missing field. A missing list that is not optional is an empty list.
//! - Strings are taken verbatim: no trimming, and `""` is a text value, not a missing one; but
//!   `""` where a date or a number is expected is rejected, not read as absent.
//! - Decimal strings use the JSON number syntax, leading zeros allowed (`"12.30"`, `"-1"`,
//!   `"1e3"`, `"007"`); the scale is kept as written where it fits (`"0.10"` stays `0.10`).
//! - An int is a JSON integer or a string of digits with an optional `-`; `30.0` is rejected.
//! - A date is exactly `YYYY-MM-DD` and a datetime exactly `YYYY-MM-DD HH:MM:SS` (or a date):
//!   no `T` separator, fractions or zones. A datetime where a date is expected is rejected.
//! - Keys (`setl_id`, `psn_no`, `fixmedins_code`, `feedetl_sn`) must not be blank: findings
//!   and history are keyed by them, and one blank `psn_no` would merge unrelated patients.
//! - A known key twice in one object is rejected (which value would count is ambiguous);
//!   unknown keys, repeated or not, are ignored.
//! - `feedetl_sn` is unique within each list of the claim that carries it; `setl_id` is unique
//!   among the *accepted* claims of the file, so a corrected resend after a rejected line is
//!   read, and no claim is evaluated twice.
//! - Paths in reasons index lists from 0, as jq does: `fee_list[0]` is the first line.
//! - A UTF-8 byte order mark before line 1 is ignored; a line longer than the reader's cap
//!   (64 MiB by default) is rejected without being held in memory.

use crate::scalars::{parse_date, parse_datetime, Scalar};
use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::HashMap;

use foldhash::HashMap as FastMap;
use std::fmt;
use std::hash::BuildHasher;
use std::io::{self, BufRead};
use std::iter::FusedIterator;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use vigil_compiler::model::{self, Rulebook};
use vigil_compiler::types::Ty;

use crate::value::{Record, Value};

/// The root record of the claim schema.
const CLAIM_RECORD: &str = "claim";
/// The claim fields every finding names (formats.md §2), so every claim must carry them.
const CLAIM_KEYS: [&str; 3] = ["setl_id", "psn_no", "fixmedins_code"];
/// The field naming a line of a claim's list (费用明细流水号), unique within its list.
const LINE_KEY: &str = "feedetl_sn";
/// The longest line the reader holds by default. A claim with 10 000 fee lines is about 5 MiB;
/// the cap only stops one runaway line (a file with no newlines) from exhausting memory.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 << 20;
/// How much of an offending value a reason quotes.
const SHOWN_CHARS: usize = 48;

/// Why a rulebook's claim schema cannot be read from claim files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// There is no `schema claim` record to start from.
    #[error("the rulebook declares no `claim` schema record")]
    NoClaimRecord,
    /// A field names a record the schema does not declare.
    #[error(
        "`{record}.{field}` has type `{target}`, which is not a schema record of the rulebook"
    )]
    UnknownRecord {
        record: String,
        field: String,
        target: String,
    },
    /// A field's type has no form in a claim file (a month, a table row, a type in error).
    #[error("`{record}.{field}` has type `{ty}`, which a claim file cannot carry")]
    UnsupportedType {
        record: String,
        field: String,
        ty: String,
    },
    /// The claim lacks a field every finding names.
    #[error("the claim schema lacks `{field}`, which every finding names")]
    MissingKey { field: &'static str },
    /// A field every finding names is not required text.
    #[error("the claim schema's `{field}` is `{ty}`; every finding names it, so it must be required text or code")]
    KeyType { field: &'static str, ty: String },
}

impl Scalar {
    /// What a reason says was expected.
    fn expected(self) -> &'static str {
        match self {
            Scalar::Bool => "a bool (true/false or \"1\"/\"0\")",
            Scalar::Int => "an integer",
            Scalar::Decimal => "a decimal",
            Scalar::Text => "text (a JSON string)",
            Scalar::Date => "a date (YYYY-MM-DD)",
            Scalar::DateTime => "a datetime (YYYY-MM-DD HH:MM:SS or YYYY-MM-DD)",
            Scalar::Month => "a month (YYYY-MM)",
        }
    }
}

/// How one field (or list element) is read: its shape and whether it may be absent.
#[derive(Debug, Clone)]
struct Slot {
    shape: Shape,
    optional: bool,
}

#[derive(Debug, Clone)]
enum Shape {
    Scalar(Scalar),
    /// A nested record, by its index in `ClaimLayout::records`.
    Record(usize),
    List(Box<Slot>),
}

/// A field of a schema record as the reader sees it.
#[derive(Debug, Clone)]
pub struct FieldLayout {
    name: String,
    ty: Ty,
    slot: Slot,
}

impl FieldLayout {
    /// The field's name, which is also its JSON key.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field's type as the schema declares it.
    pub fn ty(&self) -> &Ty {
        &self.ty
    }
}

/// A schema record resolved for reading: its fields in schema order (= value slots) and the
/// map from JSON key to slot.
#[derive(Debug, Clone)]
pub struct RecordLayout {
    name: String,
    fields: Vec<FieldLayout>,
    slots: FastMap<Box<str>, usize>,
    line_key: Option<usize>,
    /// Text slots that must not be blank.
    keys: Vec<usize>,
}

impl RecordLayout {
    /// The record's schema name (`claim`, `fee_line`, …).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The fields in schema order; a field's index is its slot in a `Record`.
    pub fn fields(&self) -> &[FieldLayout] {
        &self.fields
    }

    /// The slot of a field, by name.
    pub fn slot(&self, name: &str) -> Option<usize> {
        self.slots.get(name).copied()
    }

    /// The slot of `feedetl_sn`, when the record carries it (it keys a list's lines).
    pub fn line_key(&self) -> Option<usize> {
        self.line_key
    }
}

/// The claim schema of a rulebook, resolved once for reading claims.
#[derive(Debug, Clone)]
pub struct ClaimLayout {
    /// The records reachable from `claim`; `claim` is first.
    records: Vec<RecordLayout>,
    setl_id: usize,
    psn_no: usize,
    fixmedins_code: usize,
}

impl ClaimLayout {
    /// Resolves the rulebook's claim schema: slots, types and the key fields' slots.
    pub fn new(rulebook: &Rulebook) -> Result<ClaimLayout, LayoutError> {
        let claim = rulebook
            .records
            .get(CLAIM_RECORD)
            .ok_or(LayoutError::NoClaimRecord)?;
        let mut resolver = Resolver {
            rulebook,
            index: HashMap::from([(CLAIM_RECORD, 0)]),
            order: vec![claim],
        };
        let mut records = Vec::new();
        // `order` grows as fields name records not seen yet; each record is resolved once.
        while let Some(record) = resolver.order.get(records.len()).copied() {
            let mut fields = Vec::with_capacity(record.fields.len());
            for field in &record.fields {
                let slot = resolver.slot(&field.ty, record, field)?;
                fields.push(FieldLayout {
                    name: field.name.clone(),
                    ty: field.ty.clone(),
                    slot,
                });
            }
            let slots = fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.name.clone().into_boxed_str(), i))
                .collect();
            let line_key = fields.iter().position(|f| f.name == LINE_KEY);
            let keys = line_key
                .filter(|&k| matches!(fields[k].slot.shape, Shape::Scalar(Scalar::Text)))
                .into_iter()
                .collect();
            records.push(RecordLayout {
                name: record.name.clone(),
                fields,
                slots,
                line_key,
                keys,
            });
        }
        let mut key_slots = [0; 3];
        for (key, slot) in CLAIM_KEYS.into_iter().zip(&mut key_slots) {
            // `records` starts with `claim`: the loop above resolved it first.
            let claim = &mut records[0];
            let found = claim
                .slot(key)
                .ok_or(LayoutError::MissingKey { field: key })?;
            let field = &claim.fields[found];
            if !matches!(
                field.slot,
                Slot {
                    shape: Shape::Scalar(Scalar::Text),
                    optional: false
                }
            ) {
                return Err(LayoutError::KeyType {
                    field: key,
                    ty: field.ty.to_string(),
                });
            }
            claim.keys.push(found);
            *slot = found;
        }
        let [setl_id, psn_no, fixmedins_code] = key_slots;
        Ok(ClaimLayout {
            records,
            setl_id,
            psn_no,
            fixmedins_code,
        })
    }

    /// The `claim` record.
    pub fn claim(&self) -> &RecordLayout {
        &self.records[0]
    }

    /// A record reachable from `claim`, by schema name.
    pub fn record(&self, name: &str) -> Option<&RecordLayout> {
        self.records.iter().find(|r| r.name == name)
    }

    /// The record a field holds: directly, as an optional, or as the elements of its list.
    pub fn record_of(&self, field: &FieldLayout) -> Option<&RecordLayout> {
        let mut slot = &field.slot;
        loop {
            match &slot.shape {
                Shape::Record(r) => return self.records.get(*r),
                Shape::List(element) => slot = element,
                Shape::Scalar(_) => return None,
            }
        }
    }

    /// The slot of `setl_id` in a claim record.
    pub fn setl_id(&self) -> usize {
        self.setl_id
    }

    /// The slot of `psn_no` in a claim record.
    pub fn psn_no(&self) -> usize {
        self.psn_no
    }

    /// The slot of `fixmedins_code` in a claim record.
    pub fn fixmedins_code(&self) -> usize {
        self.fixmedins_code
    }

    /// What a reason says a slot expected.
    fn expected(&self, slot: &Slot) -> String {
        match &slot.shape {
            Shape::Scalar(s) => s.expected().to_string(),
            Shape::Record(r) => format!("a {} record (a JSON object)", self.records[*r].name),
            Shape::List(_) => "a list (a JSON array)".to_string(),
        }
    }
}

/// Numbers the records reachable from `claim` in the order they are first named.
struct Resolver<'r> {
    rulebook: &'r Rulebook,
    index: HashMap<&'r str, usize>,
    order: Vec<&'r model::Record>,
}

impl<'r> Resolver<'r> {
    fn slot(
        &mut self,
        ty: &'r Ty,
        record: &model::Record,
        field: &model::Field,
    ) -> Result<Slot, LayoutError> {
        let shape = match ty {
            Ty::Optional(inner) => {
                let mut slot = self.slot(inner, record, field)?;
                slot.optional = true;
                return Ok(slot);
            }
            Ty::List(element) => Shape::List(Box::new(self.slot(element, record, field)?)),
            Ty::Record(name) => match self.index.get(name.as_str()) {
                Some(&i) => Shape::Record(i),
                None => {
                    let target = self.rulebook.records.get(name).ok_or_else(|| {
                        LayoutError::UnknownRecord {
                            record: record.name.clone(),
                            field: field.name.clone(),
                            target: name.clone(),
                        }
                    })?;
                    let i = self.order.len();
                    self.index.insert(name, i);
                    self.order.push(target);
                    Shape::Record(i)
                }
            },
            // Claims carry no month values: formats.md has none, so a `month` field is refused.
            t => match Scalar::of(t).filter(|s| *s != Scalar::Month) {
                Some(s) => Shape::Scalar(s),
                None => {
                    return Err(LayoutError::UnsupportedType {
                        record: record.name.clone(),
                        field: field.name.clone(),
                        ty: field.ty.to_string(),
                    })
                }
            },
        };
        Ok(Slot {
            shape,
            optional: false,
        })
    }
}

/// A claim read from one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadClaim {
    /// The 1-based physical line of the input it was read from.
    pub line: u64,
    /// The claim's values in the claim schema's field order.
    pub record: Record,
}

/// A line that could not be read as a claim: one line of `--rejected FILE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct Rejected {
    /// The 1-based physical line of the input.
    pub line: u64,
    /// The claim's `setl_id`, when the line carries one as a string.
    pub setl_id: Option<String>,
    /// Why, naming the field path (`fee_list[3].pric: "abc" is not a decimal`).
    pub reason: String,
}

/// How many non-blank lines were read, and how they ended: `read = accepted + rejected`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReadCounts {
    /// Non-blank lines read.
    pub read: u64,
    /// Lines read as claims (the claims to evaluate).
    pub accepted: u64,
    /// Lines rejected.
    pub rejected: u64,
}

/// The input itself failed (not a bad line: the file could not be read on).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Reading failed after the given number of complete lines.
    #[error("cannot read claims after line {line}: {source}")]
    Io {
        line: u64,
        #[source]
        source: io::Error,
    },
}

/// The most lines the reader parses together (in parallel on the current rayon pool).
const BATCH_LINES: usize = 2048;
/// The most bytes of lines a batch holds, so a file of huge claims still streams.
const BATCH_BYTES: usize = 4 << 20;
/// Parts of a batch per pool thread: more parts than threads even out uneven lines.
const PARTS_PER_THREAD: usize = 4;
/// The fewest lines worth a part of their own.
const MIN_PART_LINES: usize = 64;

/// Streams claims from JSON Lines: an iterator of one result per non-blank line, holding a
/// batch of lines at a time (and the `setl_id`s accepted so far, to reject repeats).
///
/// Lines are parsed a batch at a time, in parallel on the pool given to [`ClaimReader::on_pool`]
/// (else the current rayon pool: the global one, every core); the check that a
/// `setl_id` is new and the counts are then made in line order, so what the reader yields, in
/// what order, never depends on the threads.
pub struct ClaimReader<'l, R> {
    layout: &'l ClaimLayout,
    /// The threads that parse (None: the current rayon pool).
    pool: Option<&'l rayon::ThreadPool>,
    input: R,
    /// The current batch's line texts, end to end (a byte-order mark stripped).
    text: Vec<u8>,
    /// The current batch's lines, in order, and what parsing each gave; drained from the front.
    batch: std::collections::VecDeque<Parsed>,
    /// Where in `text` the line of the last yielded claim is.
    current: std::ops::Range<usize>,
    max_line_bytes: usize,
    /// The number of physical lines consumed.
    line: u64,
    counts: ReadCounts,
    /// Accepted `setl_id`s and their lines; the `Arc` is shared with the claim's value.
    setl_ids: FastMap<Arc<str>, u64>,
    /// One cache per part of a batch (see `TextCache`).
    texts: Vec<TextCache>,
    /// An input error met while filling the batch, reported once the batch is drained.
    pending_error: Option<ReadError>,
    error: Option<ReadError>,
    done: bool,
}

/// One non-blank line of a batch.
struct Parsed {
    line: u64,
    /// Where its text is in the batch's `text`.
    span: std::ops::Range<usize>,
    /// Its record, or why not, before the file-wide `setl_id` check.
    outcome: Result<Record, Rejected>,
}

/// One non-blank line of a batch before parsing: `None` for a line over the cap.
struct Pending {
    line: u64,
    span: Option<std::ops::Range<usize>>,
}

impl<'l, R: BufRead> ClaimReader<'l, R> {
    /// A reader of `input` against a layout.
    pub fn new(layout: &'l ClaimLayout, input: R) -> Self {
        ClaimReader {
            layout,
            pool: None,
            input,
            text: Vec::new(),
            batch: std::collections::VecDeque::new(),
            current: 0..0,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            line: 0,
            counts: ReadCounts::default(),
            setl_ids: FastMap::default(),
            texts: Vec::new(),
            pending_error: None,
            error: None,
            done: false,
        }
    }

    /// Parses on `pool`'s threads (`vigil run --threads`), not the current pool's.
    pub fn on_pool(mut self, pool: &'l rayon::ThreadPool) -> Self {
        self.pool = Some(pool);
        self
    }

    /// Sets the longest line held in memory; a longer line is rejected.
    pub fn with_max_line_bytes(mut self, max: usize) -> Self {
        self.max_line_bytes = max;
        self
    }

    /// The counts so far.
    pub fn counts(&self) -> ReadCounts {
        self.counts
    }

    /// The text of the line the last claim was read from (a byte-order mark stripped), so
    /// that a partitioned run can spill an accepted claim as it came and read it again later.
    pub fn line_text(&self) -> &[u8] {
        self.text.get(self.current.clone()).unwrap_or_default()
    }

    /// The error that ended the input early, if one did.
    pub fn error(&self) -> Option<&ReadError> {
        self.error.as_ref()
    }

    /// The final counts, or the error that ended the input before its end.
    pub fn finish(self) -> Result<ReadCounts, ReadError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.counts),
        }
    }

    /// Reads the next physical line (without its `\n`) onto the end of `text`: `None` at the
    /// end of the input, else whether the line was over the cap (then nothing is added).
    fn next_physical_line(&mut self) -> io::Result<Option<bool>> {
        let start = self.text.len();
        let mut any = false;
        let mut overlong = false;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.text.truncate(start);
                    return Err(e);
                }
            };
            if chunk.is_empty() {
                return Ok(any.then_some(overlong));
            }
            any = true;
            let newline = memchr::memchr(b'\n', chunk);
            let content = &chunk[..newline.unwrap_or(chunk.len())];
            if !overlong {
                if self.text.len() - start + content.len() > self.max_line_bytes {
                    overlong = true;
                    self.text.truncate(start);
                } else {
                    self.text.extend_from_slice(content);
                }
            }
            let used = newline.map_or(chunk.len(), |i| i + 1);
            self.input.consume(used);
            if newline.is_some() {
                return Ok(Some(overlong));
            }
        }
    }

    /// Reads the next batch of non-blank lines and parses them; false at the end of the input.
    fn fill(&mut self) -> bool {
        self.text.clear();
        self.current = 0..0;
        let mut pending = Vec::new();
        while pending.len() < BATCH_LINES && self.text.len() < BATCH_BYTES {
            let start = self.text.len();
            let overlong = match self.next_physical_line() {
                Ok(Some(overlong)) => overlong,
                Ok(None) => {
                    self.done = true;
                    break;
                }
                Err(source) => {
                    self.pending_error = Some(ReadError::Io {
                        line: self.line,
                        source,
                    });
                    self.done = true;
                    break;
                }
            };
            self.line += 1;
            let line = self.line;
            if overlong {
                pending.push(Pending { line, span: None });
                continue;
            }
            let mut span = start..self.text.len();
            if line == 1 && self.text[span.clone()].starts_with(b"\xEF\xBB\xBF") {
                span.start += 3;
            }
            if self.text[span.clone()]
                .iter()
                .all(|b| matches!(b, b' ' | b'\t' | b'\r'))
            {
                self.text.truncate(start);
                continue;
            }
            pending.push(Pending {
                line,
                span: Some(span),
            });
        }
        if pending.is_empty() {
            return false;
        }
        let threads = self
            .pool
            .map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
        // A small batch is one part: a part's cache would cost more than it saves.
        let parts = (threads.max(1) * PARTS_PER_THREAD).min(pending.len().div_ceil(MIN_PART_LINES));
        if self.texts.len() < parts {
            self.texts.resize_with(parts, TextCache::new);
        }
        let per_part = pending.len().div_ceil(parts);
        let (layout, text, max) = (self.layout, &self.text, self.max_line_bytes);
        let texts = &mut self.texts;
        let mut parse = || -> Vec<Vec<Parsed>> {
            use rayon::prelude::*;
            texts
                .par_iter_mut()
                .zip(pending.par_chunks(per_part))
                .map(|(texts, part)| {
                    part.iter()
                        .map(|p| parse_pending(layout, texts, text, max, p))
                        .collect()
                })
                .collect()
        };
        let parsed = match self.pool {
            Some(pool) => pool.install(parse),
            None => parse(),
        };
        self.batch.extend(parsed.into_iter().flatten());
        true
    }
}

/// Parses one line of a batch.
fn parse_pending(
    layout: &ClaimLayout,
    texts: &mut TextCache,
    text: &[u8],
    max_line_bytes: usize,
    pending: &Pending,
) -> Parsed {
    let line = pending.line;
    match &pending.span {
        Some(span) => Parsed {
            line,
            span: span.clone(),
            outcome: parse_line(layout, texts, line, &text[span.clone()]),
        },
        None => Parsed {
            line,
            span: 0..0,
            outcome: Err(Rejected {
                line,
                setl_id: None,
                reason: format!("the line is longer than {max_line_bytes} bytes"),
            }),
        },
    }
}

impl<R: BufRead> Iterator for ClaimReader<'_, R> {
    type Item = Result<ReadClaim, Rejected>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(parsed) = self.batch.pop_front() {
                let Parsed {
                    line,
                    span,
                    outcome,
                } = parsed;
                self.current = span;
                let outcome =
                    outcome.and_then(|record| admit(self.layout, &mut self.setl_ids, line, record));
                self.counts.read += 1;
                match outcome {
                    Ok(_) => self.counts.accepted += 1,
                    Err(_) => self.counts.rejected += 1,
                }
                return Some(outcome);
            }
            // The batch is drained: an input error met while filling it ends the input now.
            if let Some(error) = self.pending_error.take() {
                self.error = Some(error);
            }
            if self.done || !self.fill() {
                self.done = true;
                if let Some(error) = self.pending_error.take() {
                    self.error = Some(error);
                }
                return None;
            }
        }
    }
}

impl<R: BufRead> FusedIterator for ClaimReader<'_, R> {}

/// Reads one claim from its JSON text (a line of a claims file, formats.md §1), or says why
/// not; the reason is the one `vigil run` would report for the line (numbered 1 here).
pub fn read_claim(layout: &ClaimLayout, text: &str) -> Result<Record, Rejected> {
    let record = parse_line(layout, &mut TextCache::none(), 1, text.as_bytes())?;
    admit(layout, &mut FastMap::default(), 1, record).map(|c| c.record)
}

/// Reads claims a run admitted once already (spilled to a bucket file and read back), in
/// parallel on the current pool, in order: each as [`read_claim`] reads it, with repeated
/// texts shared as the file reader shares them.
pub fn read_claims_again(layout: &ClaimLayout, texts: &[&[u8]]) -> Vec<Result<Record, Rejected>> {
    use rayon::prelude::*;
    if texts.is_empty() {
        return Vec::new();
    }
    let parts = (rayon::current_num_threads().max(1) * PARTS_PER_THREAD)
        .min(texts.len().div_ceil(MIN_PART_LINES));
    texts
        .par_chunks(texts.len().div_ceil(parts.max(1)))
        .map(|part| {
            let mut cache = TextCache::new();
            part.iter()
                .map(|t| parse_line(layout, &mut cache, 1, t))
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect()
}

/// Reads one non-blank line as a claim record, or says why not (all but the file-wide check
/// that its `setl_id` is new, which `admit` makes).
fn parse_line(
    layout: &ClaimLayout,
    texts: &mut TextCache,
    line: u64,
    bytes: &[u8],
) -> Result<Record, Rejected> {
    let text = std::str::from_utf8(bytes).map_err(|e| Rejected {
        line,
        setl_id: None,
        reason: format!("not valid UTF-8 (at byte {})", e.valid_up_to() + 1),
    })?;
    decode_claim(layout, texts, text).map_err(|reason| Rejected {
        line,
        setl_id: probe_setl_id(text),
        reason,
    })
}

/// Accepts a parsed claim unless an earlier accepted claim of the file has its `setl_id`.
fn admit(
    layout: &ClaimLayout,
    setl_ids: &mut FastMap<Arc<str>, u64>,
    line: u64,
    record: Record,
) -> Result<ReadClaim, Rejected> {
    // The layout makes `setl_id` required text, so a decoded claim always has it as text.
    if let Value::Text(id) = record.get(layout.setl_id) {
        match setl_ids.entry(id.clone()) {
            Entry::Occupied(first) => {
                return Err(Rejected {
                    line,
                    setl_id: Some(id.to_string()),
                    reason: format!(
                        "setl_id: duplicate {} (first on line {})",
                        shown(&json_quoted(id)),
                        first.get()
                    ),
                })
            }
            Entry::Vacant(slot) => {
                slot.insert(line);
            }
        }
    }
    Ok(ReadClaim { line, record })
}

/// Decodes one line into a claim record, or gives the reason it is rejected.
fn decode_claim(layout: &ClaimLayout, texts: &mut TextCache, text: &str) -> Result<Record, String> {
    let mut decoder = Decoder {
        layout,
        failure: None,
        texts: std::mem::take(texts),
    };
    let mut json = serde_json::Deserializer::from_str(text);
    let result = (&mut json)
        .deserialize_any(RecordVisitor {
            dec: &mut decoder,
            record: layout.claim(),
        })
        .and_then(|value| json.end().map(|()| value));
    *texts = std::mem::take(&mut decoder.texts);
    match result {
        Ok(Value::Record(record)) => Ok(Arc::unwrap_or_clone(record)),
        // The record visitor gives a record for an object and `Absent` only for `null`.
        Ok(_) => Err(format!("null is not {}", layout.expected(&claim_slot()))),
        Err(e) => Err(match decoder.failure {
            Some(failure) => failure.reason(),
            None => json_error(&e),
        }),
    }
}

/// The slot a whole line fills.
fn claim_slot() -> Slot {
    Slot {
        shape: Shape::Record(0),
        optional: false,
    }
}

/// A serde_json syntax error, positioned within the line (its "line 1" would mislead).
fn json_error(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&position).unwrap_or(&full);
    if e.column() > 0 {
        format!("not valid JSON at column {}: {message}", e.column())
    } else {
        format!("not valid JSON: {message}")
    }
}

/// The `setl_id` of a line that was rejected, if the line gives one as a string before any
/// syntax error: the rejected file then names the claim.
fn probe_setl_id(text: &str) -> Option<String> {
    struct Probe<'p>(&'p mut Option<String>);
    impl<'de> Visitor<'de> for Probe<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a claim object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                if key == CLAIM_KEYS[0] {
                    *self.0 = map.next_value::<String>().ok();
                    // Stop here: the rest of the line may be what was wrong with it.
                    return Err(de::Error::custom("found"));
                }
                map.next_value::<IgnoredAny>()?;
            }
            Ok(())
        }
    }
    let mut found = None;
    let mut json = serde_json::Deserializer::from_str(text);
    // The probe always ends in an error (by design once it finds the key); only `found` counts.
    let _ = (&mut json).deserialize_map(Probe(&mut found));
    found
}

/// One step of the path to the value a line is rejected for.
#[derive(Debug, Clone, Copy)]
enum Seg<'l> {
    Field(&'l str),
    Index(usize),
}

/// Why a line is rejected: a message and the path to the offending value, innermost first
/// (each enclosing field or list adds its step as the error unwinds through it).
#[derive(Debug)]
struct Failure<'l> {
    path: Vec<Seg<'l>>,
    message: String,
}

impl Failure<'_> {
    /// `fee_list[3].pric: "abc" is not a decimal`.
    fn reason(&self) -> String {
        let mut path = String::new();
        for seg in self.path.iter().rev() {
            match seg {
                Seg::Field(name) if path.is_empty() => path.push_str(name),
                Seg::Field(name) => {
                    path.push('.');
                    path.push_str(name);
                }
                Seg::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        if path.is_empty() {
            self.message.clone()
        } else {
            format!("{path}: {}", self.message)
        }
    }
}

/// The state shared by the visitors decoding one line. serde's errors can only carry text, so
/// a rejection is recorded here and the parse is unwound with a placeholder error.
struct Decoder<'l> {
    layout: &'l ClaimLayout,
    failure: Option<Failure<'l>>,
    /// Lent by the reader for the line, and given back after it.
    texts: TextCache,
}

/// The number of texts a reader remembers.
const TEXT_CACHE_SLOTS: usize = 1 << 14;
/// Texts longer than this are not looked for in the cache: codes and names are short.
const TEXT_CACHE_MAX_LEN: usize = 64;

/// Recently read texts, so that a code repeated across lines and claims (a catalogue code, a
/// provider, a patient, a department) shares one allocation: on 120 000 generated claims this
/// saves most of the reader's allocations and memory. Direct-mapped (a text's hash picks its one
/// slot, a newcomer evicts the old), so the cache stays bounded however many distinct texts a
/// file has. Which `Arc` a value gets never changes the value, so results do not depend on it.
#[derive(Default)]
struct TextCache {
    /// Empty for a one-off read (`read_claim`), where a cache would not pay.
    slots: Vec<Option<Arc<str>>>,
    hasher: foldhash::fast::FixedState,
}

impl TextCache {
    /// A cache for reading a file.
    fn new() -> TextCache {
        TextCache {
            slots: vec![None; TEXT_CACHE_SLOTS],
            hasher: Default::default(),
        }
    }

    /// No cache: every text is its own allocation.
    fn none() -> TextCache {
        TextCache::default()
    }

    /// The text as a shared value, from the cache when it holds it.
    fn text(&mut self, text: &str) -> Arc<str> {
        if self.slots.is_empty() || text.len() > TEXT_CACHE_MAX_LEN {
            return Arc::from(text);
        }
        // The slot count is a power of two: the mask keeps the index in range.
        let at = (self.hasher.hash_one(text) as usize) & (self.slots.len() - 1);
        match &mut self.slots[at] {
            Some(held) if **held == *text => held.clone(),
            slot => {
                let fresh: Arc<str> = Arc::from(text);
                *slot = Some(fresh.clone());
                fresh
            }
        }
    }
}

impl<'l> Decoder<'l> {
    /// Records a rejection at the current value; returns the error that unwinds the parse.
    fn reject<E: de::Error>(&mut self, message: String) -> E {
        self.reject_at(Vec::new(), message)
    }

    /// Records a rejection at a value inside the current one (`path` innermost first).
    fn reject_at<E: de::Error>(&mut self, path: Vec<Seg<'l>>, message: String) -> E {
        self.failure = Some(Failure { path, message });
        E::custom("claim rejected")
    }

    /// Adds an enclosing step to a rejection unwinding through it.
    fn within(&mut self, seg: Seg<'l>) {
        if let Some(failure) = &mut self.failure {
            failure.path.push(seg);
        }
    }

    /// A value of the wrong JSON kind (`found` as JSON text or a phrase: "an array").
    fn mismatch<E: de::Error>(&mut self, found: &str, expected: &str) -> E {
        self.reject(format!("{} is not {expected}", shown(found)))
    }
}

/// Maps an object key to its slot in a record (`None`: a key the schema does not know).
/// `next` is the slot after the previous key's: exports write fields in one order, usually the
/// schema's, so comparing with that field's name first mostly saves hashing the key.
struct KeySeed<'l> {
    record: &'l RecordLayout,
    next: usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        let KeySeed { record, next } = self;
        match record.fields.get(next) {
            Some(field) if field.name == key => Ok(Some(next)),
            _ => Ok(record.slot(key)),
        }
    }
}

/// Decodes the value of one field or list element.
struct SlotSeed<'d, 'l> {
    dec: &'d mut Decoder<'l>,
    slot: &'l Slot,
    /// The field the value belongs to (a list's elements share their list's field).
    field: &'l str,
}

impl<'de> DeserializeSeed<'de> for SlotSeed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let SlotSeed { dec, slot, field } = self;
        match &slot.shape {
            Shape::Scalar(kind) => {
                let raw = <&RawValue>::deserialize(d)?;
                scalar(*kind, raw.get(), &mut dec.texts).map_err(|message| dec.reject(message))
            }
            Shape::Record(r) => {
                let record = &dec.layout.records[*r];
                d.deserialize_any(RecordVisitor { dec, record })
            }
            Shape::List(element) => d.deserialize_any(ListVisitor {
                dec,
                slot,
                element,
                field,
            }),
        }
    }
}

/// The `visit_*` methods of a record or list visitor for JSON values of the wrong kind
/// (scalars; the other compound kind each visitor rejects itself).
macro_rules! reject_scalars {
    () => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
            Err(self.wrong(&v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
            Err(self.wrong(&v.to_string()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
            Err(self.wrong(&v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
            Err(self.wrong(&v.to_string()))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
            Err(self.wrong(&json_quoted(v)))
        }
    };
}

/// Decodes a JSON object into a record (or `null` into `Absent`).
struct RecordVisitor<'d, 'l> {
    dec: &'d mut Decoder<'l>,
    record: &'l RecordLayout,
}

impl RecordVisitor<'_, '_> {
    /// Rejects a value that is not an object.
    fn wrong<E: de::Error>(self, found: &str) -> E {
        let expected = format!("a {} record (a JSON object)", self.record.name);
        self.dec.mismatch(found, &expected)
    }
}

impl<'de, 'l> Visitor<'de> for RecordVisitor<'_, 'l> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a {} record", self.record.name)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Absent)
    }

    reject_scalars!();

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Value, A::Error> {
        Err(self.wrong("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let RecordVisitor { dec, record } = self;
        let mut values = vec![Value::Absent; record.fields.len()];
        let mut seen = Seen::new(record.fields.len());
        let mut next = 0;
        while let Some(key) = map.next_key_seed(KeySeed { record, next })? {
            let Some(slot) = key else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            next = slot + 1;
            // `slot` comes from this record's own key map, so it indexes its fields.
            let field = &record.fields[slot];
            if seen.insert(slot) {
                return Err(dec.reject(format!("the key `{}` appears twice", field.name)));
            }
            let seed = SlotSeed {
                dec: &mut *dec,
                slot: &field.slot,
                field: &field.name,
            };
            match map.next_value_seed(seed) {
                Ok(value) => values[slot] = value,
                Err(e) => {
                    dec.within(Seg::Field(&field.name));
                    return Err(e);
                }
            }
        }
        for (value, field) in values.iter_mut().zip(&record.fields) {
            if value.is_absent() && !field.slot.optional {
                match field.slot.shape {
                    // formats.md: lists may be empty, and an export may leave an empty one out.
                    Shape::List(_) => *value = Value::List(Vec::new()),
                    _ => return Err(dec.reject(format!("missing required field `{}`", field.name))),
                }
            }
        }
        for &key in &record.keys {
            if matches!(&values[key], Value::Text(t) if t.trim().is_empty()) {
                let path = vec![Seg::Field(&record.fields[key].name)];
                return Err(dec.reject_at(
                    path,
                    "must not be blank (findings are keyed by it)".to_string(),
                ));
            }
        }
        Ok(Value::Record(Arc::new(Record { values })))
    }
}

/// The slots of a record already given a value, without a heap allocation per record where
/// the record has at most 128 fields.
enum Seen {
    Small(u128),
    Large(Vec<bool>),
}

impl Seen {
    fn new(fields: usize) -> Seen {
        if fields <= 128 {
            Seen::Small(0)
        } else {
            Seen::Large(vec![false; fields])
        }
    }

    /// Marks a slot seen; whether it was seen already.
    fn insert(&mut self, slot: usize) -> bool {
        match self {
            Seen::Small(bits) => {
                let bit = 1u128 << slot;
                let was = *bits & bit != 0;
                *bits |= bit;
                was
            }
            Seen::Large(seen) => std::mem::replace(&mut seen[slot], true),
        }
    }
}

/// Decodes a JSON array into a list (or `null` into `Absent`).
struct ListVisitor<'d, 'l> {
    dec: &'d mut Decoder<'l>,
    slot: &'l Slot,
    element: &'l Slot,
    field: &'l str,
}

impl ListVisitor<'_, '_> {
    /// Rejects a value that is not an array.
    fn wrong<E: de::Error>(self, found: &str) -> E {
        let expected = self.dec.layout.expected(self.slot);
        self.dec.mismatch(found, &expected)
    }
}

impl<'de> Visitor<'de> for ListVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Absent)
    }

    reject_scalars!();

    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<Value, A::Error> {
        Err(self.wrong("an object"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let ListVisitor {
            dec,
            element,
            field,
            ..
        } = self;
        let mut items = Vec::new();
        loop {
            let index = items.len();
            let seed = SlotSeed {
                dec: &mut *dec,
                slot: element,
                field,
            };
            match seq.next_element_seed(seed) {
                Ok(None) => break,
                Ok(Some(value)) => {
                    if value.is_absent() && !element.optional {
                        let message = format!("null is not {}", dec.layout.expected(element));
                        return Err(dec.reject_at(vec![Seg::Index(index)], message));
                    }
                    items.push(value);
                }
                Err(e) => {
                    dec.within(Seg::Index(index));
                    return Err(e);
                }
            }
        }
        if let Shape::Record(r) = element.shape {
            let record = &dec.layout.records[r];
            if let Some(key) = record.line_key {
                if let Some((first, again)) = repeated_key(&items, key) {
                    let value = match &items[again] {
                        Value::Record(line) => match line.get(key) {
                            Value::Text(t) => json_quoted(t),
                            v => v.to_string(),
                        },
                        _ => String::new(),
                    };
                    let path = vec![Seg::Field(&record.fields[key].name), Seg::Index(again)];
                    let message =
                        format!("duplicate {} (first at {field}[{first}])", shown(&value));
                    return Err(dec.reject_at(path, message));
                }
            }
        }
        Ok(Value::List(items))
    }
}

/// The first element whose key repeats an earlier one's: (earlier index, its index).
fn repeated_key(items: &[Value], key: usize) -> Option<(usize, usize)> {
    let mut first_at: FastMap<&Value, usize> =
        FastMap::with_capacity_and_hasher(items.len(), Default::default());
    for (i, item) in items.iter().enumerate() {
        let Value::Record(line) = item else { continue };
        let value = line.get(key);
        if value.is_absent() {
            continue;
        }
        if let Some(&first) = first_at.get(value) {
            return Some((first, i));
        }
        first_at.insert(value, i);
    }
    None
}

/// A JSON scalar as written, with strings unescaped.
enum Json<'a> {
    Null,
    Bool(bool),
    /// The number's text, exactly as written.
    Number(&'a str),
    String(Cow<'a, str>),
    Compound,
}

/// Classifies raw JSON text that serde_json has already validated.
fn classify(raw: &str) -> Json<'_> {
    match raw.as_bytes().first() {
        Some(b'n') => Json::Null,
        Some(b't') => Json::Bool(true),
        Some(b'f') => Json::Bool(false),
        Some(b'"') => {
            // Without a backslash a JSON string's content is its text, verbatim.
            match raw.get(1..raw.len() - 1) {
                Some(inner) if !inner.contains('\\') => Json::String(Cow::Borrowed(inner)),
                _ => match serde_json::from_str::<String>(raw) {
                    Ok(s) => Json::String(Cow::Owned(s)),
                    Err(_) => Json::Compound,
                },
            }
        }
        Some(b'-' | b'0'..=b'9') => Json::Number(raw),
        _ => Json::Compound,
    }
}

/// Reads a scalar field from its raw JSON text (`null` reads as `Absent`).
fn scalar(kind: Scalar, raw: &str, texts: &mut TextCache) -> Result<Value, String> {
    let json = classify(raw);
    let not = || match raw.as_bytes().first() {
        Some(b'{') => format!("an object is not {}", kind.expected()),
        Some(b'[') => format!("an array is not {}", kind.expected()),
        _ => format!("{} is not {}", shown(raw), kind.expected()),
    };
    let value = match (kind, json) {
        (_, Json::Null) => Value::Absent,
        (Scalar::Text, Json::String(s)) => Value::Text(texts.text(&s)),
        (Scalar::Int, Json::Number(n)) => read_int(n, raw).ok_or_else(not)??,
        (Scalar::Int, Json::String(s)) => read_int(&s, raw).ok_or_else(not)??,
        (Scalar::Decimal, Json::Number(n)) => read_decimal(n, raw).ok_or_else(not)??,
        (Scalar::Decimal, Json::String(s)) => read_decimal(&s, raw).ok_or_else(not)??,
        (Scalar::Date, Json::String(s)) => Value::Date(parse_date(&s).ok_or_else(not)?),
        (Scalar::DateTime, Json::String(s)) => {
            let at = parse_datetime(&s).ok_or_else(not)?;
            Value::DateTime(at)
        }
        (Scalar::Bool, Json::Bool(b)) => Value::Bool(b),
        (Scalar::Bool, Json::String(s)) if s == "1" => Value::Bool(true),
        (Scalar::Bool, Json::String(s)) if s == "0" => Value::Bool(false),
        _ => return Err(not()),
    };
    Ok(value)
}

/// An int from `-?[0-9]+`: `None` if the text is not of that form, `Some(Err)` if it
/// overflows.
fn read_int(text: &str, raw: &str) -> Option<Result<Value, String>> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        text.parse::<i64>()
            .map(Value::Int)
            .map_err(|_| format!("{} does not fit a 64-bit integer", shown(raw))),
    )
}

/// A decimal from JSON number syntax: `None` if the text is not of that form, `Some(Err)` if
/// the value does not fit `rust_decimal` exactly.
fn read_decimal(text: &str, raw: &str) -> Option<Result<Value, String>> {
    if let Some(d) = plain_decimal(text) {
        return Some(Ok(Value::Decimal(d)));
    }
    if !is_number_text(text) {
        return None;
    }
    Some(exact_decimal(text).map(Value::Decimal).map_err(|problem| {
        let why = match problem {
            DecimalProblem::TooLarge => "too many digits",
            DecimalProblem::TooPrecise => "more than 28 decimal places",
        };
        format!("{} does not fit a decimal ({why})", shown(raw))
    }))
}

/// The common form of money, `-?D+(.D+)?` with at most 28 digits, read in one pass; `None`
/// for anything else, which `exact_decimal` then reads. The value and scale are the ones
/// `exact_decimal` gives: at most 28 digits always fit the 96-bit mantissa, and the scale
/// (the fraction's digits) is at most 27, so the digits are the mantissa as written.
fn plain_decimal(text: &str) -> Option<Decimal> {
    let (negative, digits) = match text.as_bytes().split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text.as_bytes()),
    };
    // 28 digits and a point; more cannot be plain, and 29 digits still fit a u128 below.
    if digits.len() > 29 {
        return None;
    }
    let mut mantissa: u128 = 0;
    let mut point = None;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => mantissa = mantissa * 10 + u128::from(b - b'0'),
            b'.' if point.is_none() && i > 0 => point = Some(i),
            _ => return None,
        }
    }
    let scale = match point {
        Some(p) if p + 1 == digits.len() => return None,
        Some(p) => digits.len() - 1 - p,
        None if digits.is_empty() => return None,
        None => 0,
    };
    if digits.len() - usize::from(point.is_some()) > 28 {
        return None;
    }
    // Below 10^28 < 2^96, so it fits an i128 and a decimal's mantissa.
    let signed = mantissa as i128;
    let signed = if negative { -signed } else { signed };
    Decimal::try_from_i128_with_scale(signed, scale as u32).ok()
}

/// `-?D+(.D+)?([eE][+-]?D+)?`: JSON's number syntax, except that leading zeros are allowed.
fn is_number_text(text: &str) -> bool {
    fn digits(s: &str) -> bool {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
    }
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => digits(int) && digits(frac),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        digits(
            e.strip_prefix('+')
                .or_else(|| e.strip_prefix('-'))
                .unwrap_or(e),
        )
    });
    mantissa_ok && exponent_ok
}

/// Why a number does not fit `rust_decimal` (a 96-bit integer over 10^0..10^28).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecimalProblem {
    TooLarge,
    TooPrecise,
}

/// The largest mantissa `rust_decimal` holds: 2^96 - 1.
const MAX_MANTISSA: u128 = (1 << 96) - 1;

/// The exact value of a number in `is_number_text` form, keeping the scale as written
/// (`0.10` stays `0.10`) unless it must drop trailing zeros to fit.
fn exact_decimal(text: &str) -> Result<Decimal, DecimalProblem> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = unsigned.split_once(['e', 'E']).unwrap_or((unsigned, "0"));
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = || int.bytes().chain(frac.bytes());
    let total = int.len() + frac.len();
    // i128 throughout: a line's length and a saturated i64 exponent cannot overflow it.
    let mut scale = frac.len() as i128 - i128::from(exponent_value(exponent));
    let leading = digits().take_while(|&b| b == b'0').count();
    if leading == total {
        // Zero: keep the written scale where it is a decimal's.
        let scale = scale.clamp(0, i128::from(Decimal::MAX_SCALE)) as u32;
        return Decimal::try_from_i128_with_scale(0, scale).map_err(|_| DecimalProblem::TooLarge);
    }
    let trailing = digits().rev().take_while(|&b| b == b'0').count();
    let significant = total - leading - trailing;
    // The value is (significant digits) * 10^zeros / 10^scale; `zeros` starts as the
    // trailing zeros, which can be traded against the scale without changing the value.
    let mut zeros = trailing as i128;
    let max_scale = i128::from(Decimal::MAX_SCALE);
    if scale > max_scale {
        let drop = (scale - max_scale).min(zeros);
        zeros -= drop;
        scale -= drop;
        if scale > max_scale {
            return Err(DecimalProblem::TooPrecise);
        }
    }
    if scale < 0 {
        zeros -= scale;
        scale = 0;
    }
    loop {
        if let Some(m) = mantissa_value(digits().skip(leading).take(significant), zeros) {
            let signed = if negative { -(m as i128) } else { m as i128 };
            // `scale` is within 0..=28 here, and `m` within 96 bits.
            return Decimal::try_from_i128_with_scale(signed, scale as u32)
                .map_err(|_| DecimalProblem::TooLarge);
        }
        if zeros > 0 && scale > 0 {
            zeros -= 1;
            scale -= 1;
        } else {
            return Err(DecimalProblem::TooLarge);
        }
    }
}

/// The digits followed by `zeros` zeros, if that fits a decimal's 96-bit mantissa.
fn mantissa_value(digits: impl Iterator<Item = u8>, zeros: i128) -> Option<u128> {
    let mut m: u128 = 0;
    for b in digits {
        m = m.checked_mul(10)?.checked_add(u128::from(b - b'0'))?;
        if m > MAX_MANTISSA {
            return None;
        }
    }
    for _ in 0..zeros {
        m = m.checked_mul(10)?;
        if m > MAX_MANTISSA {
            return None;
        }
    }
    Some(m)
}

/// An exponent's value, saturating (any exponent that large puts a non-zero value out of range).
fn exponent_value(text: &str) -> i64 {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = digits.bytes().fold(0i64, |acc, b| {
        acc.saturating_mul(10)
            .saturating_add(i64::from(b.wrapping_sub(b'0')))
    });
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// A string as a JSON literal, for quoting it in a reason.
fn json_quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// A value as a reason quotes it: its JSON text, cut short if long.
fn shown(raw: &str) -> String {
    match raw.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &raw[..cut]),
        None => raw.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The one-pass reading of plain money agrees with the general exact reading, scale
        /// included, wherever it answers.
        #[test]
        fn plain_decimal_agrees(text in "-?[0-9]{0,30}(\\.[0-9]{0,30})?") {
            if let Some(fast) = plain_decimal(&text) {
                prop_assert!(is_number_text(&text));
                let exact = exact_decimal(&text).expect("a plain decimal fits");
                prop_assert_eq!(fast.to_string(), exact.to_string());
                prop_assert_eq!(fast.scale(), exact.scale());
                prop_assert_eq!(fast, exact);
            }
        }
    }

    #[test]
    fn plain_decimal_takes_money_and_leaves_the_rest() {
        for (text, shown) in [
            ("12.30", Some("12.30")),
            ("-0.00", Some("0.00")),
            ("007", Some("7")),
            (
                "0.100000000000000000000000001",
                Some("0.100000000000000000000000001"),
            ),
            ("0.1000000000000000000000000001", None),
            ("1.", None),
            (".5", None),
            ("-", None),
            ("", None),
            ("1e3", None),
            ("1.2.3", None),
            ("12345678901234567890123456789", None),
        ] {
            assert_eq!(
                plain_decimal(text).map(|d| d.to_string()).as_deref(),
                shown,
                "{text}"
            );
        }
    }
}

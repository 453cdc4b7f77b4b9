//! Reference tables (formats.md §3): CSV files with a header row, read into typed rows and
//! indexed by key and validity period once, so that a rule's `TABLE[key at date]` is a hash
//! probe and a binary search, never a scan.
//!
//! A table that is wrong in any cell is refused whole, with every bad cell reported (up to
//! [`MAX_ERRORS`]): an officer fixes the file in one pass, and no run starts on half a table.

use crate::scalars::{parse_date, parse_datetime, parse_month, Scalar};
use std::borrow::Cow;
use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use vigil_compiler::load::leaves_folder;
use vigil_compiler::model::{Rulebook, Table};
use vigil_compiler::suggest;
use vigil_compiler::types::Ty;

use crate::value::{Record, Value};

/// How many errors one table file reports before the loader stops reading it.
pub const MAX_ERRORS: usize = 100;

/// The longest cell text quoted back in a message: enough to recognise the cell, short enough
/// that a stray multi-kilobyte cell does not bury the report.
const SHOWN_CELL_CHARS: usize = 40;

/// What is wrong with a table file, and where: shown as `path:line: column `x`: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError {
    /// The file as it was named (the rulebook folder joined with the declared path, or the
    /// `--table` file as given).
    pub path: PathBuf,
    /// The 1-based physical line of the CSV (the header is line 1; a record whose quoted cell
    /// spans lines is at the line where it starts); 0 for the file as a whole (it cannot be
    /// read, the declaration or the override is wrong).
    pub line: usize,
    /// The declared column the error is about, if it is about one.
    pub column: Option<String>,
    /// What is wrong, for the officer who fixes the file.
    pub message: String,
}

impl TableError {
    fn whole_file(path: &Path, message: impl Into<String>) -> TableError {
        TableError {
            path: path.to_path_buf(),
            line: 0,
            column: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        f.write_str(": ")?;
        if let Some(c) = &self.column {
            write!(f, "column `{c}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for TableError {}

/// How one declared column is read: where it is in the file and what its cells hold.
#[derive(Debug)]
struct ColumnPlan {
    name: String,
    /// The cell's position in the file's rows.
    cell: usize,
    scalar: Scalar,
    optional: bool,
    /// The separator of a list column.
    sep: Option<String>,
    is_key: bool,
}

/// A row's validity period, both ends inclusive; open ends are the extreme dates.
#[derive(Debug, Clone, Copy)]
struct Period {
    start: NaiveDate,
    end: NaiveDate,
    /// The row's position in `rows`.
    row: usize,
}

/// A reference table read from its file: typed rows in file order and the key index.
#[derive(Debug, Clone)]
pub struct LoadedTable {
    name: String,
    path: PathBuf,
    /// The declared column names: a row's values are in this order.
    columns: Vec<String>,
    key_slots: Vec<usize>,
    /// For each key column, whether it is decimal (an `int` key given to it is widened).
    key_is_decimal: Vec<bool>,
    has_validity: bool,
    rows: Vec<Arc<Record>>,
    /// Each key's periods, sorted by start and disjoint; a table without validity has one
    /// period per key, the whole calendar.
    index: HashMap<Vec<Value>, Vec<Period>>,
}

impl LoadedTable {
    /// Reads the table `decl` from the CSV file at `path`.
    pub fn load(decl: &Table, path: &Path) -> Result<LoadedTable, Vec<TableError>> {
        LoadedTable::load_from(decl, path, false)
    }

    /// [`LoadedTable::load`]; `declared` says the file is the one the rulebook names, so a
    /// missing one is worth a hint about `--table`.
    fn load_from(
        decl: &Table,
        path: &Path,
        declared: bool,
    ) -> Result<LoadedTable, Vec<TableError>> {
        match std::fs::read(path) {
            Ok(bytes) => LoadedTable::parse(decl, path, &bytes),
            Err(e) => {
                let message = match e.kind() {
                    std::io::ErrorKind::NotFound if declared => format!(
                        "no such file (add it, or pass `--table {}=FILE`)",
                        decl.name
                    ),
                    std::io::ErrorKind::NotFound => "no such file".to_string(),
                    _ => format!("cannot be read: {e}"),
                };
                Err(vec![TableError::whole_file(path, message)])
            }
        }
    }

    /// Reads the table `decl` from CSV text; `path` only names the file in errors.
    pub fn parse(decl: &Table, path: &Path, bytes: &[u8]) -> Result<LoadedTable, Vec<TableError>> {
        let mut reader = Reader::new(decl, path)?;
        reader.read(bytes);
        reader.finish()
    }

    /// The table's declared name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file the table was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every row in file order, validity not applied (`exists r in dx_gender where …`).
    pub fn rows(&self) -> &[Arc<Record>] {
        &self.rows
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the file has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The declared column names, in the order of a row's values.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The slots of the key columns, in declared order.
    pub fn key_slots(&self) -> &[usize] {
        &self.key_slots
    }

    /// The slot of a declared column in every row.
    pub fn column_slot(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The row for `key` (one value per key column, in declared order) valid on `at`.
    ///
    /// For a table with validity dates the row whose period holds `at` (none when `at` is
    /// `None`); without, the key's one row and `at` is not looked at. Text, code and enum keys
    /// are all text; an `int` given for a decimal key column is compared as a decimal.
    pub fn lookup(&self, key: &[Value], at: Option<NaiveDate>) -> Option<&Arc<Record>> {
        self.rows.get(self.lookup_row(key, at)?)
    }

    /// As [`LoadedTable::lookup`], the row's index in [`LoadedTable::rows`] (native code reads
    /// the row's cells from the table's columns by this index).
    pub fn lookup_row(&self, key: &[Value], at: Option<NaiveDate>) -> Option<usize> {
        if key.len() != self.key_slots.len() {
            return None;
        }
        let key = self.normalise_key(key);
        let periods = self.index.get(key.as_ref())?;
        let period = if self.has_validity {
            let at = at?;
            // Periods are sorted by start and disjoint: the only candidate is the last one
            // starting on or before `at`.
            let after = periods.partition_point(|p| p.start <= at);
            let p = periods.get(after.checked_sub(1)?)?;
            (at <= p.end).then_some(p)?
        } else {
            periods.first()?
        };
        Some(period.row)
    }

    /// Whether rows carry validity dates (a lookup then needs a date).
    pub fn has_validity(&self) -> bool {
        self.has_validity
    }

    /// The index [`LoadedTable::lookup_row`] searches: every key with its periods as
    /// `(first day, last day, row)`, sorted by first day and disjoint (a table without
    /// validity has one period per key). For native code, which builds its own index by
    /// interned id from this one.
    pub fn index_entries(
        &self,
    ) -> impl Iterator<Item = (&[Value], Vec<(NaiveDate, NaiveDate, usize)>)> {
        self.index.iter().map(|(k, ps)| {
            (
                k.as_slice(),
                ps.iter().map(|p| (p.start, p.end, p.row)).collect(),
            )
        })
    }

    /// The key as the index holds it: an `int` for a decimal column becomes a decimal. Borrowed
    /// (no allocation) in the usual case of text keys.
    fn normalise_key<'k>(&self, key: &'k [Value]) -> Cow<'k, [Value]> {
        let widen = |(v, dec): (&Value, &bool)| *dec && matches!(v, Value::Int(_));
        if !key.iter().zip(&self.key_is_decimal).any(widen) {
            return Cow::Borrowed(key);
        }
        Cow::Owned(
            key.iter()
                .zip(&self.key_is_decimal)
                .map(|(v, dec)| match v {
                    Value::Int(i) if *dec => Value::Decimal(Decimal::from(*i)),
                    v => v.clone(),
                })
                .collect(),
        )
    }
}

/// The reading of one table file: the declaration's plan, the rows read so far and the errors.
struct Reader<'d> {
    decl: &'d Table,
    path: PathBuf,
    errors: Vec<TableError>,
    /// Set when reading stopped at [`MAX_ERRORS`].
    stopped: bool,
    plan: Vec<ColumnPlan>,
    key_slots: Vec<usize>,
    valid_slots: Option<(usize, usize)>,
    rows: Vec<Record>,
    /// The physical line of each row, for messages about pairs of rows.
    lines: Vec<usize>,
}

impl<'d> Reader<'d> {
    /// Checks the declaration itself. The checker already refuses every problem found here;
    /// the runtime checks again so that a model built some other way cannot make it panic.
    fn new(decl: &'d Table, path: &Path) -> Result<Reader<'d>, Vec<TableError>> {
        let mut errors = Vec::new();
        let slot = |name: &str| decl.columns.iter().position(|c| c.name == name);
        let mut key_slots = Vec::new();
        for k in &decl.key {
            match slot(k) {
                Some(s) => key_slots.push(s),
                None => errors.push(TableError::whole_file(
                    path,
                    format!(
                        "table `{}` declares key `{k}`, which is not a column",
                        decl.name
                    ),
                )),
            }
        }
        if decl.key.is_empty() {
            errors.push(TableError::whole_file(
                path,
                format!("table `{}` declares no key", decl.name),
            ));
        }
        let mut date_slot = |name: &str| {
            let s =
                slot(name).filter(|&s| matches!(decl.columns[s].ty.unwrap_optional(), Ty::Date));
            if s.is_none() {
                errors.push(TableError::whole_file(
                    path,
                    format!(
                        "table `{}` declares validity column `{name}`, which is not a date column",
                        decl.name
                    ),
                ));
            }
            s
        };
        let valid_slots = match &decl.valid {
            Some((a, b)) => match (date_slot(a), date_slot(b)) {
                (Some(a), Some(b)) => Some((a, b)),
                // Reported above; the reader is not built.
                _ => None,
            },
            None => None,
        };
        let mut plan = Vec::with_capacity(decl.columns.len());
        for (i, c) in decl.columns.iter().enumerate() {
            let base = c.ty.unwrap_optional();
            let (scalar, sep) = match base {
                Ty::List(item) => (
                    Scalar::of(item),
                    Some(c.sep.clone().unwrap_or_else(|| "|".to_string())),
                ),
                t => (Scalar::of(t), None),
            };
            let Some(scalar) = scalar else {
                errors.push(TableError::whole_file(
                    path,
                    format!(
                        "table `{}`: column `{}` cannot hold a {}",
                        decl.name, c.name, c.ty
                    ),
                ));
                continue;
            };
            if sep.as_deref() == Some("") {
                errors.push(TableError::whole_file(
                    path,
                    format!(
                        "table `{}`: column `{}` has an empty separator",
                        decl.name, c.name
                    ),
                ));
                continue;
            }
            plan.push(ColumnPlan {
                name: c.name.clone(),
                cell: usize::MAX,
                scalar,
                optional: c.ty.is_optional(),
                sep,
                is_key: key_slots.contains(&i),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Reader {
            decl,
            path: path.to_path_buf(),
            errors,
            stopped: false,
            plan,
            key_slots,
            valid_slots,
            rows: Vec::new(),
            lines: Vec::new(),
        })
    }

    fn error(&mut self, line: usize, column: Option<&str>, message: String) {
        self.errors.push(TableError {
            path: self.path.clone(),
            line,
            column: column.map(str::to_string),
            message,
        });
        if self.errors.len() >= MAX_ERRORS {
            self.stopped = true;
        }
    }

    /// Reads the header and every row.
    fn read(&mut self, bytes: &[u8]) {
        // Excel writes a byte order mark at the start of a "CSV UTF-8" file.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            // Rows of the wrong length are reported here, with their line, not by the parser.
            .flexible(true)
            .from_reader(bytes);
        let mut records = csv.byte_records();
        let width = match records.next() {
            None => {
                self.error(
                    1,
                    None,
                    "the file is empty: a header row is expected".into(),
                );
                return;
            }
            Some(Err(e)) => {
                self.csv_error(&e);
                return;
            }
            Some(Ok(header)) => match self.header(line_of(&header), &header) {
                Some(width) => width,
                None => return,
            },
        };
        for record in records {
            if self.stopped {
                return;
            }
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    self.csv_error(&e);
                    return;
                }
            };
            let line = line_of(&record);
            if record.len() != width {
                self.error(
                    line,
                    None,
                    format!(
                        "the row has {} cells and the header {width} (a comma inside a cell needs the cell in double quotes)",
                        record.len()
                    ),
                );
                continue;
            }
            self.row(line, &record);
        }
    }

    /// Finds each declared column in the header; returns the header's width, or `None` when a
    /// declared column is missing or doubled (the rows cannot be read then).
    fn header(&mut self, line: usize, header: &csv::ByteRecord) -> Option<usize> {
        let names: Vec<String> = header
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_string())
            .collect();
        let declared: Vec<&str> = self.decl.columns.iter().map(|c| c.name.as_str()).collect();
        let undeclared: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| !declared.contains(n))
            .collect();
        let mut ok = true;
        let mut found = Vec::with_capacity(self.plan.len());
        for p in &self.plan {
            let at: Vec<usize> = (0..names.len()).filter(|&i| names[i] == p.name).collect();
            found.push(match at.as_slice() {
                [one] => Ok(*one),
                [] => Err(match suggest(&p.name, undeclared.iter().copied()) {
                    Some(s) => format!("missing from the header; did you mean `{s}`?"),
                    None => "missing from the header".to_string(),
                }),
                many => Err(format!(
                    "appears {} times in the header (cells {}): which one is meant?",
                    many.len(),
                    many.iter()
                        .map(|i| (i + 1).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            });
        }
        for (i, f) in found.into_iter().enumerate() {
            match f {
                Ok(cell) => self.plan[i].cell = cell,
                Err(message) => {
                    ok = false;
                    let name = self.plan[i].name.clone();
                    self.error(line, Some(&name), message);
                }
            }
        }
        ok.then_some(names.len())
    }

    fn csv_error(&mut self, e: &csv::Error) {
        let line = e
            .position()
            .map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
        self.error(line, None, format!("not readable as CSV: {e}"));
    }

    /// Types one row's cells; keeps the row only when every cell is good.
    fn row(&mut self, line: usize, cells: &csv::ByteRecord) {
        let mut values = Vec::with_capacity(self.plan.len());
        let mut problems = Vec::new();
        for p in &self.plan {
            // `cell` was set by `header` for every plan entry, and the row has the header's
            // width, so the index is in range; `get` keeps a broken invariant from panicking.
            let raw = cells.get(p.cell).unwrap_or_default();
            match std::str::from_utf8(raw) {
                Ok(text) => match typed(p, text.trim()) {
                    Ok(v) => values.push(v),
                    Err(m) => problems.push((p.name.clone(), m)),
                },
                Err(_) => problems.push((
                    p.name.clone(),
                    "not valid UTF-8 (save the file as CSV UTF-8)".to_string(),
                )),
            }
        }
        if problems.is_empty() {
            self.rows.push(Record { values });
            self.lines.push(line);
        }
        for (column, message) in problems {
            if self.stopped {
                return;
            }
            self.error(line, Some(&column), message);
        }
    }

    /// Indexes the rows by key and period, reporting keys that name two rows at once.
    fn finish(mut self) -> Result<LoadedTable, Vec<TableError>> {
        // Keys in order of first appearance, so that messages come out in a stable order.
        let mut slot_of: HashMap<Vec<Value>, usize> = HashMap::with_capacity(self.rows.len());
        let mut groups: Vec<(Vec<Value>, Vec<Period>)> = Vec::new();
        if !self.stopped {
            for (i, row) in self.rows.iter().enumerate() {
                let key: Vec<Value> = self.key_slots.iter().map(|&s| row.get(s).clone()).collect();
                let period = match self.valid_slots {
                    Some((a, b)) => Period {
                        start: date_or(row.get(a), NaiveDate::MIN),
                        end: date_or(row.get(b), NaiveDate::MAX),
                        row: i,
                    },
                    None => Period {
                        start: NaiveDate::MIN,
                        end: NaiveDate::MAX,
                        row: i,
                    },
                };
                let g = *slot_of.entry(key).or_insert_with_key(|k| {
                    groups.push((k.clone(), Vec::new()));
                    groups.len() - 1
                });
                groups[g].1.push(period);
            }
        }
        let mut index = HashMap::with_capacity(groups.len());
        let mut problems: Vec<(usize, Option<String>, String)> = Vec::new();
        for (key, mut periods) in groups {
            let shown = show_key(&key);
            // A period that ends before it starts holds no date; it is an error of its own
            // and is left out of the overlap check.
            periods.retain(|p| {
                if p.start <= p.end {
                    return true;
                }
                let end = self
                    .valid_slots
                    .map(|(_, b)| self.decl.columns[b].name.clone());
                problems.push((
                    self.lines[p.row],
                    end,
                    format!(
                        "the row ends ({}) before it begins ({})",
                        p.end.format("%Y-%m-%d"),
                        p.start.format("%Y-%m-%d")
                    ),
                ));
                false
            });
            periods.sort_by_key(|p| (p.start, p.row));
            // The period reaching furthest so far: a later-starting period overlaps some
            // earlier one exactly when it starts on or before this one's end.
            let mut furthest: Option<Period> = None;
            let mut kept: Vec<Period> = Vec::with_capacity(periods.len());
            for p in periods {
                match furthest {
                    Some(f) if p.start <= f.end => {
                        let message = if self.valid_slots.is_some() {
                            format!(
                                "key {shown} is valid {} here and {} on line {}: the periods overlap, so a lookup could not choose",
                                show_period(&p),
                                show_period(&f),
                                self.lines[f.row]
                            )
                        } else {
                            format!(
                                "key {shown} is also on line {}: a key names one row",
                                self.lines[f.row]
                            )
                        };
                        problems.push((self.lines[p.row], None, message));
                        if p.end > f.end {
                            furthest = Some(p);
                        }
                    }
                    _ => {
                        furthest = Some(p);
                        kept.push(p);
                    }
                }
            }
            index.insert(key, kept);
        }
        problems.sort_by_key(|(line, _, _)| *line);
        for (line, column, message) in problems {
            if self.stopped {
                break;
            }
            self.error(line, column.as_deref(), message);
        }
        if !self.errors.is_empty() {
            let mut errors = self.errors;
            // Cell errors come in file order and key errors after them: merge into one list
            // in file order, the way the officer walks the file.
            errors.sort_by_key(|e| e.line);
            if self.stopped {
                errors.push(TableError::whole_file(
                    &self.path,
                    format!("stopped at {MAX_ERRORS} errors (there may be more): fix these and load the file again"),
                ));
            }
            return Err(errors);
        }
        let key_is_decimal = self
            .key_slots
            .iter()
            .map(|&s| matches!(self.decl.columns[s].ty.unwrap_optional(), Ty::Decimal))
            .collect();
        Ok(LoadedTable {
            name: self.decl.name.clone(),
            path: self.path,
            columns: self.decl.columns.iter().map(|c| c.name.clone()).collect(),
            key_slots: self.key_slots,
            key_is_decimal,
            has_validity: self.valid_slots.is_some(),
            rows: self.rows.into_iter().map(Arc::new).collect(),
            index,
        })
    }
}

/// The line a record starts on.
fn line_of(record: &csv::ByteRecord) -> usize {
    record
        .position()
        .map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX))
}

/// A validity bound: the date, or `open` for an empty (absent) cell.
fn date_or(v: &Value, open: NaiveDate) -> NaiveDate {
    match v {
        Value::Date(d) => *d,
        _ => open,
    }
}

fn show_key(key: &[Value]) -> String {
    match key {
        [one] => format!("`{one}`"),
        many => format!(
            "({})",
            many.iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A period as the rule language writes it, an open end left empty: `2026-01-01..`.
fn show_period(p: &Period) -> String {
    if p.start == NaiveDate::MIN && p.end == NaiveDate::MAX {
        return "on every date".to_string();
    }
    let end = |d: NaiveDate, open: NaiveDate| {
        if d == open {
            String::new()
        } else {
            d.format("%Y-%m-%d").to_string()
        }
    };
    format!(
        "{}..{}",
        end(p.start, NaiveDate::MIN),
        end(p.end, NaiveDate::MAX)
    )
}

/// A cell's value per its column's declared type (`text` is trimmed).
fn typed(p: &ColumnPlan, text: &str) -> Result<Value, String> {
    if text.is_empty() {
        return if p.is_key {
            Err("empty key cell: every row needs its key".into())
        } else if p.optional {
            Ok(Value::Absent)
        } else if p.sep.is_some() {
            Ok(Value::List(Vec::new()))
        } else if p.scalar == Scalar::Bool {
            // The catalogue leaves `per_diem` empty for the ordinary items.
            Ok(Value::Bool(false))
        } else {
            Err(
                "empty cell in a required column (declare the column with `?` if it may be empty)"
                    .into(),
            )
        };
    }
    let Some(sep) = &p.sep else {
        return scalar(p.scalar, text);
    };
    text.split(sep.as_str())
        .enumerate()
        .map(|(i, item)| {
            let item = item.trim();
            if item.is_empty() {
                return Err(format!(
                    "item {} of the list is empty (a `{sep}` doubled, or at an end)",
                    i + 1
                ));
            }
            scalar(p.scalar, item).map_err(|m| format!("item {} of the list: {m}", i + 1))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Value::List)
}

/// A non-empty, trimmed cell or list item as a value of its kind.
fn scalar(kind: Scalar, text: &str) -> Result<Value, String> {
    let bad = |what: &str| format!("{} is not {what}", shown(text));
    match kind {
        Scalar::Text => Ok(Value::Text(Arc::from(text))),
        Scalar::Bool => match text.to_ascii_lowercase().as_str() {
            "1" | "true" => Ok(Value::Bool(true)),
            "0" | "false" => Ok(Value::Bool(false)),
            _ => Err(bad("a bool (write 1, 0, true or false)")),
        },
        Scalar::Int => {
            if !is_decimal_text(text) || text.contains('.') {
                return Err(bad("a whole number"));
            }
            text.parse::<i64>()
                .map(Value::Int)
                .map_err(|_| bad("a whole number in range"))
        }
        Scalar::Decimal => {
            if !is_decimal_text(text) {
                return Err(bad(
                    "a decimal number (digits with an optional `.`, e.g. 12.50)",
                ));
            }
            // Exact: a value with more digits than a decimal holds is refused, not rounded.
            Decimal::from_str_exact(text)
                .map(Value::Decimal)
                .map_err(|_| bad("a decimal number in range (at most 28 digits)"))
        }
        Scalar::Date => parse_date(text)
            .map(Value::Date)
            .ok_or_else(|| bad("a date (YYYY-MM-DD)")),
        Scalar::DateTime => parse_datetime(text)
            .map(Value::DateTime)
            .ok_or_else(|| bad("a datetime (YYYY-MM-DD HH:MM:SS)")),
        Scalar::Month => parse_month(text)
            .map(Value::Date)
            .ok_or_else(|| bad("a month (YYYY-MM)")),
    }
}

/// A cell as quoted back in a message, cut short when long.
fn shown(text: &str) -> String {
    if text.chars().count() <= SHOWN_CELL_CHARS {
        format!("`{text}`")
    } else {
        let head: String = text.chars().take(SHOWN_CELL_CHARS).collect();
        format!("`{head}…`")
    }
}

/// `-?digits(.digits)?`: the only number form accepted, so that `1e3`, `1_000`, `.5`, `¥12`
/// and `1,200.00` are all reported rather than read some surprising way.
fn is_decimal_text(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, frac) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && frac.is_none_or(all_digits)
}

/// Every reference table of a rulebook, loaded.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    tables: BTreeMap<String, LoadedTable>,
}

impl Tables {
    /// Loads every table `rulebook` declares, from `root` joined with its declared path, or
    /// from the file an override (`--table NAME=FILE`) gives, used as given.
    ///
    /// Every table is read even after one fails, so that all their errors come back at once.
    pub fn load(
        rulebook: &Rulebook,
        root: &Path,
        overrides: &[(String, PathBuf)],
    ) -> Result<Tables, Vec<TableError>> {
        let mut errors = Vec::new();
        let mut chosen: BTreeMap<&str, &Path> = BTreeMap::new();
        for (name, file) in overrides {
            if !rulebook.tables.contains_key(name) {
                let message = match suggest(name, rulebook.tables.keys().map(String::as_str)) {
                    Some(s) => format!(
                        "`--table {name}=…`: no table `{name}` is declared; did you mean `{s}`?"
                    ),
                    None => format!("`--table {name}=…`: no table `{name}` is declared"),
                };
                errors.push(TableError::whole_file(file, message));
            } else if let Some(first) = chosen.insert(name, file) {
                // Two files for one table is a slip on the command line; refusing it beats
                // silently using whichever came last.
                errors.push(TableError::whole_file(
                    file,
                    format!(
                        "`--table {name}=…` is given twice (also `{}`)",
                        first.display()
                    ),
                ));
            }
        }
        let mut tables = BTreeMap::new();
        for (name, decl) in &rulebook.tables {
            let (path, declared) = match chosen.get(name.as_str()) {
                Some(file) => (file.to_path_buf(), false),
                None if leaves_folder(&decl.path) => {
                    errors.push(TableError::whole_file(
                        Path::new(&decl.path),
                        format!(
                            "table `{name}`: the path leaves the rulebook folder (pass `--table {name}=FILE` to use a file elsewhere)"
                        ),
                    ));
                    continue;
                }
                None => (root.join(&decl.path), true),
            };
            match LoadedTable::load_from(decl, &path, declared) {
                Ok(t) => {
                    tables.insert(name.clone(), t);
                }
                Err(e) => errors.extend(e),
            }
        }
        if errors.is_empty() {
            Ok(Tables { tables })
        } else {
            Err(errors)
        }
    }

    /// A loaded table by its declared name.
    pub fn get(&self, name: &str) -> Option<&LoadedTable> {
        self.tables.get(name)
    }

    /// Every loaded table, by name.
    pub fn iter(&self) -> impl Iterator<Item = &LoadedTable> {
        self.tables.values()
    }
}

/// Reference data of tables alone, with no patient history: what rules that read no history
/// need (the native backend's checks against the interpreter, benchmarks of such rules).
pub struct TablesOnly<'t>(pub &'t [LoadedTable]);

impl vigil_compiler::interp::Data for TablesOnly<'_> {
    fn lookup(&self, table: u32, key: &[Value], at: Option<NaiveDate>) -> Option<Arc<Record>> {
        self.0.get(table as usize)?.lookup(key, at).cloned()
    }

    fn rows(&self, table: u32) -> Vec<Arc<Record>> {
        self.0
            .get(table as usize)
            .map(|t| t.rows().to_vec())
            .unwrap_or_default()
    }

    fn history(&self, _: &str, _: &Record) -> Vec<Arc<Record>> {
        vec![]
    }
}

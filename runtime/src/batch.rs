//! The columnar batch: a run's claims laid out as fixed-width columns that native code reads
//! by offset, with no parsing, hashing or allocation per row.
//!
//! Every scalar field of the claim schema becomes one column, by its slot, at every record
//! level (the claim; the elements of each list such as `fee_list`, flattened, with offsets
//! per claim). A column's width and meaning follow from the field's type alone
//! ([`ColumnKind::of`]), so a compiler that knows the IR's types knows the layout without
//! seeing the data:
//!
//! | type | column | absent |
//! |---|---|---|
//! | bool, int | `i64` | [`ABSENT`] |
//! | decimal | `i64` scaled by 10^[`DEC_SCALE`] | [`ABSENT`]; [`UNFIT`] when the exact value has more places or is too large |
//! | date, month | `i64` days from 0001-01-01 (`num_days_from_ce`) | [`ABSENT`] |
//! | datetime | `i64` seconds from 0001-01-01 00:00:00 | [`ABSENT`] |
//! | text, code, enum | `u32` id from the batch's [`Interner`] | `0` |
//! | list | `u32` offsets into the element level (`len + 1` of them) | an empty range |
//!
//! `UNFIT` keeps money exact: a value the fixed layout cannot hold exactly is marked, and the
//! native code hands that claim back to the interpreter instead of rounding it.

use foldhash::HashMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_decimal::Decimal;
use vigil_compiler::model::Table;
use vigil_compiler::types::Ty;
use vigil_compiler::value::{Record, Value};

use crate::claims::{ClaimLayout, RecordLayout};

/// Places of a decimal column: enough for money (2) and unit prices (4).
pub const DEC_SCALE: u32 = 4;
/// 10^DEC_SCALE.
pub const DEC_ONE: i64 = 10_000;
/// An absent value in an `i64` column.
pub const ABSENT: i64 = i64::MIN;
/// A present value that the column cannot hold exactly (a decimal with more places than
/// [`DEC_SCALE`], or beyond the `i64` range once scaled; an int equal to a sentinel).
pub const UNFIT: i64 = i64::MIN + 1;

/// How a field is stored, decided by its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// `i64`: booleans (0/1) and integers.
    Int,
    /// `i64`: a decimal scaled by 10^DEC_SCALE.
    Decimal,
    /// `i64`: days from the common era (dates and months).
    Date,
    /// `i64`: seconds from the common era.
    DateTime,
    /// `u32`: an interned string id.
    Id,
    /// `u32` offsets of a list's elements in the level below.
    List,
    /// Not laid out (a nested record that is not a list): native code does not read it.
    None,
}

impl ColumnKind {
    /// The column a field of this type gets.
    pub fn of(ty: &Ty) -> ColumnKind {
        match ty.unwrap_optional() {
            Ty::Bool | Ty::Int => ColumnKind::Int,
            Ty::Decimal => ColumnKind::Decimal,
            Ty::Date | Ty::Month => ColumnKind::Date,
            Ty::DateTime => ColumnKind::DateTime,
            Ty::Text | Ty::Code | Ty::Enum(_) => ColumnKind::Id,
            Ty::List(_) => ColumnKind::List,
            _ => ColumnKind::None,
        }
    }
}

/// Strings to dense `u32` ids (0 is "absent"). The ids of a base interner (table cells and
/// rule literals, fixed when a rulebook is prepared) are shared by every batch; a batch adds
/// the strings only its claims carry.
///
/// A base is frozen once (`frozen`) and then shared, not copied: cloning a frozen interner
/// (what every batch does) copies a pointer, whatever the size of a province's catalogue.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    /// Strings frozen earlier, ids `1..=base_len`.
    base: Option<Arc<Interner>>,
    base_len: usize,
    /// This interner's own strings (ids after the base's) and the base strings it has looked
    /// up (with their base ids), so a repeated string costs one lookup.
    ids: HashMap<Arc<str>, u32>,
    strings: Vec<Arc<str>>,
}

impl Interner {
    /// The id of `s`, adding it when new.
    pub fn intern(&mut self, s: &Arc<str>) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        if let Some(id) = self.base.as_ref().and_then(|b| b.get(s)) {
            self.ids.insert(s.clone(), id);
            return id;
        }
        self.strings.push(s.clone());
        // Ids start at 1; a batch never holds 2^32 distinct strings (it would need >4 billion
        // records), and if it did the id would wrap onto a wrong string: saturate instead so
        // the worst case is a shared id, which `resolve` still answers consistently.
        let id = u32::try_from(self.base_len + self.strings.len()).unwrap_or(u32::MAX);
        self.ids.insert(s.clone(), id);
        id
    }

    /// The id of `s` if it was interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        match self.ids.get(s) {
            Some(&id) => Some(id),
            None => self.base.as_ref()?.get(s),
        }
    }

    /// The string of an id (None for 0 or an unknown id).
    pub fn resolve(&self, id: u32) -> Option<&Arc<str>> {
        let at = (id as usize).checked_sub(1)?;
        match at.checked_sub(self.base_len) {
            Some(own) => self.strings.get(own),
            None => self.base.as_ref()?.resolve(id),
        }
    }

    /// How many strings it holds (its base's included).
    pub fn len(&self) -> usize {
        self.base_len + self.strings.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// This interner as a shared base: the same ids, and clones that copy a pointer.
    pub fn frozen(self) -> Interner {
        if self.strings.is_empty() && self.base.is_some() {
            return self;
        }
        let base_len = self.len();
        Interner {
            base: Some(Arc::new(self)),
            base_len,
            ids: HashMap::default(),
            strings: Vec::new(),
        }
    }
}

/// One column: fixed-width values for every row of its level.
#[derive(Debug, Clone)]
pub enum Column {
    /// `Int`, `Decimal`, `Date` and `DateTime` columns.
    Words(Vec<i64>),
    /// `Id` columns.
    Ids(Vec<u32>),
    /// A list field: `offsets[row]..offsets[row + 1]` are its elements in `level`.
    List {
        offsets: Vec<u32>,
        /// The index of the element level in [`Batch::levels`].
        level: usize,
    },
    /// A list of texts or codes in a table cell (`sep "|"`): `offsets[row]..offsets[row + 1]`
    /// index `ids`.
    Values { offsets: Vec<u32>, ids: Vec<u32> },
    /// A field native code does not read.
    None,
}

impl Column {
    /// The address of the first value, for native code (null for `None`).
    pub fn base(&self) -> *const u8 {
        match self {
            Column::Words(v) => v.as_ptr().cast(),
            Column::Ids(v) => v.as_ptr().cast(),
            Column::List { offsets, .. } => offsets.as_ptr().cast(),
            Column::Values { offsets, .. } => offsets.as_ptr().cast(),
            Column::None => std::ptr::null(),
        }
    }

    /// The address of a `Values` column's ids (null for other columns).
    pub fn elements(&self) -> *const u8 {
        match self {
            Column::Values { ids, .. } => ids.as_ptr().cast(),
            _ => std::ptr::null(),
        }
    }
}

/// One record level: the claims, or the elements of one list field of a record level.
#[derive(Debug, Clone)]
pub struct Level {
    /// The schema record of the rows (`claim`, `fee_line`, …).
    pub record: String,
    /// Rows at this level.
    pub rows: usize,
    /// By field slot.
    pub columns: Vec<Column>,
}

/// Claims as columns. Level 0 is the claims; each list field of a level has its own level.
#[derive(Debug, Clone)]
pub struct Batch {
    pub levels: Vec<Level>,
    /// Ids of the strings in this batch's columns.
    pub strings: Interner,
    /// Per claim row, `[first, end)` of the rows of its patient (contiguous, oldest first, the
    /// row itself included): what `history(claim.psn_no)` ranges over, less the claim itself.
    /// `UNKNOWN_PATIENT` in both when the batch was not laid out by patient.
    pub patients: Vec<[u32; 2]>,
}

/// The fields a reader of batches (the native code) reads, by record and slot: a batch laid
/// out for it leaves every other field's column out (`Column::None`), which saves laying out
/// and interning what no rule looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    records: std::collections::BTreeMap<String, Vec<bool>>,
}

impl Reads {
    /// Marks field `slot` of `record` as read.
    pub fn add(&mut self, record: &str, slot: usize) {
        let fields = self.records.entry(record.to_string()).or_default();
        if fields.len() <= slot {
            fields.resize(slot + 1, false);
        }
        fields[slot] = true;
    }

    /// Whether field `slot` of `record` is read.
    pub fn reads(&self, record: &str, slot: usize) -> bool {
        self.records
            .get(record)
            .and_then(|f| f.get(slot))
            .copied()
            .unwrap_or(false)
    }

    /// How many fields are read, over all records.
    pub fn len(&self) -> usize {
        self.records
            .values()
            .map(|f| f.iter().filter(|r| **r).count())
            .sum()
    }

    /// Whether no field is read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A patient range that is not known: history rules cannot be decided on this batch.
pub const UNKNOWN_PATIENT: u32 = u32::MAX;

impl Batch {
    /// Lays out `claims` (records of `layout`'s claim schema); `base` holds the ids that the
    /// rulebook's tables and literals already use.
    pub fn new(layout: &ClaimLayout, claims: &[Arc<Record>], base: &Interner) -> Batch {
        let rows: Vec<&Record> = claims.iter().map(|c| &**c).collect();
        Batch::of_rows(layout, &rows, base, None)
    }

    /// Lays out whole patients: each group is one patient's every claim (the run's and the
    /// history's), oldest first, as the run's history index orders them. A claim's patient
    /// range is then its group, so native code can walk its history.
    pub fn by_patient(layout: &ClaimLayout, groups: &[&[Arc<Record>]], base: &Interner) -> Batch {
        Batch::by_patient_reading(layout, groups, base, None)
    }

    /// As `by_patient`, laying out only the scalar fields `reads` names (all without it);
    /// lists are always laid out, so the levels are numbered as `by_patient` numbers them.
    pub fn by_patient_reading(
        layout: &ClaimLayout,
        groups: &[&[Arc<Record>]],
        base: &Interner,
        reads: Option<&Reads>,
    ) -> Batch {
        let rows: Vec<&Record> = groups.iter().flat_map(|g| g.iter().map(|c| &**c)).collect();
        let mut batch = Batch::of_rows(layout, &rows, base, reads);
        let mut at = 0u32;
        batch.patients.clear();
        for g in groups {
            let end = at.saturating_add(u32::try_from(g.len()).unwrap_or(u32::MAX));
            batch
                .patients
                .extend(std::iter::repeat_n([at, end], g.len()));
            at = end;
        }
        batch
    }

    fn of_rows(
        layout: &ClaimLayout,
        rows: &[&Record],
        base: &Interner,
        reads: Option<&Reads>,
    ) -> Batch {
        let mut builder = Builder {
            layout,
            reads,
            strings: base.clone(),
            levels: Vec::new(),
            by_address: HashMap::default(),
        };
        builder.level(layout.claim(), rows);
        Batch {
            levels: builder.levels,
            strings: builder.strings,
            patients: vec![[UNKNOWN_PATIENT; 2]; rows.len()],
        }
    }

    /// A scalar cell read back as a value (for checks and for handing a row to the
    /// interpreter); `None` for list columns, unlaid fields and UNFIT cells.
    pub fn value(&self, level: usize, slot: usize, row: usize, kind: ColumnKind) -> Option<Value> {
        let column = self.levels.get(level)?.columns.get(slot)?;
        Some(match (column, kind) {
            (Column::Ids(ids), _) => match *ids.get(row)? {
                0 => Value::Absent,
                id => Value::Text(self.strings.resolve(id)?.clone()),
            },
            (Column::Words(w), kind) => match *w.get(row)? {
                ABSENT => Value::Absent,
                UNFIT => return None,
                w => match kind {
                    ColumnKind::Int => Value::Int(w),
                    ColumnKind::Decimal => Value::Decimal(word_to_decimal(w)),
                    ColumnKind::Date => Value::Date(day_to_date(w)?),
                    ColumnKind::DateTime => {
                        let date = day_to_date(w.div_euclid(86_400))?;
                        let secs = u32::try_from(w.rem_euclid(86_400)).ok()?;
                        Value::DateTime(date.and_time(
                            chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs, 0)?,
                        ))
                    }
                    _ => return None,
                },
            },
            _ => return None,
        })
    }

    /// The level holding the elements of list field `slot` of level `level`, if laid out.
    pub fn list_level(&self, level: usize, slot: usize) -> Option<usize> {
        match self.levels.get(level)?.columns.get(slot)? {
            Column::List { level, .. } => Some(*level),
            _ => None,
        }
    }
}

struct Builder<'l> {
    layout: &'l ClaimLayout,
    reads: Option<&'l Reads>,
    strings: Interner,
    levels: Vec<Level>,
    /// Ids by the address of the text: the claim reader shares repeated texts, so most cells
    /// are found here by one word's hash, not their characters'. Sound only while the rows
    /// are borrowed (a live text's address is no other text's), so it lives with the builder.
    by_address: HashMap<usize, u32>,
}

/// A column while its level is read.
enum Building<'r> {
    Words(ColumnKind, Vec<i64>),
    Ids(Vec<u32>),
    List {
        offsets: Vec<u32>,
        items: Vec<&'r Record>,
        element: RecordLayout,
    },
    None,
}

impl Builder<'_> {
    /// Lays out `rows` of `record` as a new level (and its lists below it); returns its index.
    ///
    /// Row by row, writing each cell to its column: every record is read once, while it is in
    /// cache (column by column would walk all the scattered records once per field).
    fn level(&mut self, record: &RecordLayout, rows: &[&Record]) -> usize {
        let index = self.levels.len();
        self.levels.push(Level {
            record: record.name().to_string(),
            rows: rows.len(),
            columns: Vec::new(),
        });
        let n = rows.len();
        let mut building: Vec<Building> = record
            .fields()
            .iter()
            .enumerate()
            .map(|(slot, field)| (slot, field, ColumnKind::of(field.ty())))
            .map(|(slot, field, kind)| match kind {
                // Lists are always laid out, so a batch's levels keep their numbers.
                ColumnKind::List => match self.layout.record_of(field) {
                    Some(element) => Building::List {
                        offsets: {
                            let mut o = Vec::with_capacity(n + 1);
                            o.push(0);
                            o
                        },
                        items: Vec::new(),
                        element: element.clone(),
                    },
                    None => Building::None,
                },
                _ if self.reads.is_some_and(|r| !r.reads(record.name(), slot)) => Building::None,
                ColumnKind::Id => Building::Ids(Vec::with_capacity(n)),
                ColumnKind::None => Building::None,
                kind => Building::Words(kind, Vec::with_capacity(n)),
            })
            .collect();
        let strings = &mut self.strings;
        let by_address = &mut self.by_address;
        for row in rows {
            for (slot, column) in building.iter_mut().enumerate() {
                let v = row.get(slot);
                match column {
                    Building::Words(kind, words) => words.push(word(*kind, v)),
                    Building::Ids(ids) => ids.push(match v {
                        Value::Text(t) => *by_address
                            .entry(Arc::as_ptr(t) as *const u8 as usize)
                            .or_insert_with(|| strings.intern(t)),
                        _ => 0,
                    }),
                    Building::List { offsets, items, .. } => {
                        if let Value::List(list) = v {
                            items.extend(list.iter().filter_map(|e| match e {
                                Value::Record(r) => Some(&**r),
                                _ => None,
                            }));
                        }
                        offsets.push(u32::try_from(items.len()).unwrap_or(u32::MAX));
                    }
                    Building::None => {}
                }
            }
        }
        let mut columns = Vec::with_capacity(building.len());
        for column in building {
            columns.push(match column {
                Building::Words(_, words) => Column::Words(words),
                Building::Ids(ids) => Column::Ids(ids),
                Building::List {
                    offsets,
                    items,
                    element,
                } => {
                    let level = self.level(&element, &items);
                    Column::List { offsets, level }
                }
                Building::None => Column::None,
            });
        }
        self.levels[index].columns = columns;
        index
    }
}

/// A scalar cell as the word of a column of `kind`.
fn word(kind: ColumnKind, v: &Value) -> i64 {
    match kind {
        ColumnKind::Int => int_word(v),
        ColumnKind::Decimal => decimal_word(v),
        ColumnKind::Date => date_word(v),
        ColumnKind::DateTime => datetime_word(v),
        _ => ABSENT,
    }
}

/// A scalar column of `kind` from its cells (`None` for list and record kinds).
pub fn scalar_column<'v>(
    kind: ColumnKind,
    cells: impl Iterator<Item = &'v Value>,
    strings: &mut Interner,
) -> Column {
    match kind {
        ColumnKind::Int => Column::Words(cells.map(int_word).collect()),
        ColumnKind::Decimal => Column::Words(cells.map(decimal_word).collect()),
        ColumnKind::Date => Column::Words(cells.map(date_word).collect()),
        ColumnKind::DateTime => Column::Words(cells.map(datetime_word).collect()),
        ColumnKind::Id => Column::Ids(
            cells
                .map(|v| match v {
                    Value::Text(t) => strings.intern(t),
                    _ => 0,
                })
                .collect(),
        ),
        ColumnKind::List | ColumnKind::None => Column::None,
    }
}

/// A reference table's rows as one level: scalar columns by the declared column types, list
/// columns of texts or codes (`sep "|"`) as `Values`.
pub fn table_level(table: &Table, rows: &[Arc<Record>], strings: &mut Interner) -> Level {
    let columns = table
        .columns
        .iter()
        .enumerate()
        .map(|(slot, c)| match c.ty.unwrap_optional() {
            Ty::List(element) if ColumnKind::of(element) == ColumnKind::Id => {
                let mut offsets = Vec::with_capacity(rows.len() + 1);
                let mut ids = Vec::new();
                offsets.push(0);
                for r in rows {
                    if let Value::List(items) = r.get(slot) {
                        ids.extend(items.iter().map(|v| match v {
                            Value::Text(t) => strings.intern(t),
                            _ => 0,
                        }));
                    }
                    offsets.push(u32::try_from(ids.len()).unwrap_or(u32::MAX));
                }
                Column::Values { offsets, ids }
            }
            _ => scalar_column(
                ColumnKind::of(&c.ty),
                rows.iter().map(|r| r.get(slot)),
                strings,
            ),
        })
        .collect();
    Level {
        record: table.name.clone(),
        rows: rows.len(),
        columns,
    }
}

/// A bool or int cell as a word.
pub fn int_word(v: &Value) -> i64 {
    match v {
        Value::Bool(b) => *b as i64,
        Value::Int(i) if *i > UNFIT => *i,
        Value::Int(_) => UNFIT,
        _ => ABSENT,
    }
}

/// A decimal cell scaled to DEC_SCALE places, or UNFIT when that is not exact.
pub fn decimal_word(v: &Value) -> i64 {
    match v {
        Value::Decimal(d) => decimal_to_word(*d),
        Value::Int(i) => i
            .checked_mul(DEC_ONE)
            .filter(|w| *w > UNFIT)
            .unwrap_or(UNFIT),
        _ => ABSENT,
    }
}

/// A decimal as a scaled word, or UNFIT.
pub fn decimal_to_word(d: Decimal) -> i64 {
    if d.scale() > DEC_SCALE {
        // More places than the column carries: exact only if the extra digits are zeros.
        let n = d.normalize();
        if n.scale() > DEC_SCALE {
            return UNFIT;
        }
        return decimal_to_word(n);
    }
    let factor = 10i128.pow(DEC_SCALE - d.scale());
    d.mantissa()
        .checked_mul(factor)
        .and_then(|w| i64::try_from(w).ok())
        .filter(|w| *w > UNFIT)
        .unwrap_or(UNFIT)
}

/// A scaled word back to the exact decimal it stands for.
pub fn word_to_decimal(w: i64) -> Decimal {
    Decimal::new(w, DEC_SCALE)
}

/// A date (or month) cell as days from the common era.
pub fn date_word(v: &Value) -> i64 {
    match v {
        Value::Date(d) => d.num_days_from_ce() as i64,
        Value::DateTime(t) => t.date().num_days_from_ce() as i64,
        _ => ABSENT,
    }
}

/// A datetime cell as seconds from the common era.
pub fn datetime_word(v: &Value) -> i64 {
    match v {
        Value::DateTime(t) => datetime_seconds(*t),
        Value::Date(d) => d.num_days_from_ce() as i64 * 86_400,
        _ => ABSENT,
    }
}

/// Seconds from 0001-01-01 00:00:00.
pub fn datetime_seconds(t: NaiveDateTime) -> i64 {
    t.date().num_days_from_ce() as i64 * 86_400 + t.num_seconds_from_midnight() as i64
}

/// The date of a day number.
pub fn day_to_date(days: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(days).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("test decimals parse")
    }

    #[test]
    fn decimals_are_scaled_exactly_or_marked_unfit() {
        assert_eq!(decimal_to_word(dec("12.30")), 123_000);
        assert_eq!(decimal_to_word(dec("-0.0001")), -1);
        assert_eq!(
            decimal_to_word(dec("1.230000")),
            12_300,
            "trailing zeros fit"
        );
        assert_eq!(decimal_to_word(dec("0.00001")), UNFIT);
        assert_eq!(decimal_to_word(dec("99999999999999999999")), UNFIT);
        for s in ["0", "4.5", "-7.25", "922337203685477.5807"] {
            assert_eq!(word_to_decimal(decimal_to_word(dec(s))), dec(s), "{s}");
        }
    }

    #[test]
    fn sentinels_never_pass_for_values() {
        assert_eq!(int_word(&Value::Int(i64::MIN)), UNFIT);
        assert_eq!(int_word(&Value::Int(i64::MIN + 2)), i64::MIN + 2);
        assert_eq!(int_word(&Value::Absent), ABSENT);
        assert_eq!(int_word(&Value::Bool(true)), 1);
    }

    #[test]
    fn dates_round_trip_through_day_numbers() {
        let d = NaiveDate::from_ymd_opt(2026, 2, 28).expect("valid date");
        assert_eq!(day_to_date(date_word(&Value::Date(d))), Some(d));
        let t = d.and_hms_opt(23, 59, 59).expect("valid time");
        assert_eq!(
            datetime_word(&Value::DateTime(t)),
            date_word(&Value::Date(d)) * 86_400 + 86_399
        );
    }

    #[test]
    fn interner_ids_start_at_one_and_are_stable() {
        let mut i = Interner::default();
        let a: Arc<str> = "A".into();
        let b: Arc<str> = "B".into();
        assert_eq!(i.intern(&a), 1);
        assert_eq!(i.intern(&b), 2);
        assert_eq!(i.intern(&a), 1);
        assert_eq!(i.resolve(2).map(|s| &**s), Some("B"));
        assert_eq!(i.resolve(0), None);
    }

    #[test]
    fn a_frozen_base_keeps_its_ids_and_batches_extend_it() {
        let mut base = Interner::default();
        let (a, b, c): (Arc<str>, Arc<str>, Arc<str>) = ("A".into(), "B".into(), "C".into());
        base.intern(&a);
        base.intern(&b);
        let base = base.frozen();
        let mut batch = base.clone();
        assert_eq!(batch.intern(&b), 2, "a base string keeps its id");
        assert_eq!(batch.intern(&c), 3, "a new string follows the base");
        assert_eq!(batch.intern(&b), 2);
        assert_eq!(batch.get("A"), Some(1));
        assert_eq!(batch.resolve(1).map(|s| &**s), Some("A"));
        assert_eq!(batch.resolve(3).map(|s| &**s), Some("C"));
        assert_eq!(batch.resolve(4), None);
        assert_eq!((batch.len(), base.len()), (3, 2));
        assert_eq!(base.get("C"), None, "the base is not changed by a batch");
        // Freezing a batch stacks it on the base, ids unchanged.
        let stacked = batch.frozen();
        let mut next = stacked.clone();
        let d: Arc<str> = "D".into();
        assert_eq!(next.intern(&d), 4);
        assert_eq!(next.resolve(3).map(|s| &**s), Some("C"));
        assert_eq!(next.resolve(2).map(|s| &**s), Some("B"));
    }
}

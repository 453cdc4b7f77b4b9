//! Where native code finds a column: the pointer table's layout, fixed at compile time from
//! the claim schema and the tables, filled per batch with that batch's column addresses.
//!
//! The table is every column of every claim level (levels as `Batch::new` numbers them, by
//! slot), then every column of every table (by program table index, then slot), then the ids
//! of the tables' list columns, then the batch's patient ranges.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use vigil_compiler::value::Record;
use vigil_runtime::batch::{Batch, Column, ColumnKind, Interner, Level, Reads};
use vigil_runtime::claims::ClaimLayout;

use crate::pair_filter::PairFilter;

/// A key column among the rows whose text field holds a value: (table, column, field slot,
/// value).
type FilteredKeys = (u32, usize, usize, String);

/// The rows a pair filter is of: (table, (field slot, value) when only those whose text
/// field holds the value).
type PairsOf = (u32, Option<(usize, String)>);

/// The pointer table's layout.
#[derive(Debug)]
pub struct Shape {
    /// Per claim level: the record it holds.
    records: Vec<String>,
    /// Every claim-level column (level, slot) code generation asked for: what native code
    /// may read, so what a batch must lay out (`Shape::reads`).
    asked: Mutex<BTreeSet<(usize, usize)>>,
    /// Per table and key column: the address and length of its key presence array
    /// (`IdIndex::presence`), when the table is indexed by id.
    keys: Vec<[Option<(usize, usize)>; 2]>,
    /// Per table: the address and length of its single-period entries (`IdIndex::single`).
    single: Vec<Option<(usize, usize)>>,
    /// Presence arrays of a key column among the rows whose text field has a value
    /// (`calls::presence_where`): (table, column, field slot, value) → (address, length).
    keys_where: Vec<(FilteredKeys, (usize, usize))>,
    /// Pair filters of two-column keys (`PairFilter`): (table, the rows' text field and its
    /// value, or None for every row) → (address, shift).
    pairs: Vec<(PairsOf, (usize, u32))>,
    /// Per claim level: its first index, and its columns' kinds.
    levels: Vec<(usize, Vec<ColumnKind>)>,
    /// Per claim level and list slot, the element level.
    lists: Vec<Vec<Option<usize>>>,
    /// Per table: its first index, and its columns' kinds.
    tables: Vec<(usize, Vec<ColumnKind>)>,
    /// Per table: its rows.
    table_rows: Vec<usize>,
    /// Per table and slot of a `Values` column: the index of its ids (after all columns).
    table_values: Vec<Vec<Option<usize>>>,
    /// The claim's `setl_id` and `psn_no` slots (history excludes the claim by `setl_id`).
    setl_id: usize,
    psn_no: usize,
    len: usize,
}

fn kind(c: &Column, declared: ColumnKind) -> ColumnKind {
    match c {
        Column::None => ColumnKind::None,
        Column::List { .. } | Column::Values { .. } => ColumnKind::List,
        _ => declared,
    }
}

impl Shape {
    /// The layout for claims of `layout` and the given table levels.
    pub fn new(layout: &ClaimLayout, tables: &[(Level, Vec<ColumnKind>)]) -> Shape {
        // An empty batch has every level a full one has: the layout decides them, not the data.
        let empty = Batch::new(layout, &[] as &[Arc<Record>], &Interner::default());
        let mut len = 0;
        let mut levels = Vec::new();
        let mut lists = Vec::new();
        for level in &empty.levels {
            let record = layout
                .record(&level.record)
                .map(|r| r.fields().to_vec())
                .unwrap_or_default();
            let kinds: Vec<ColumnKind> = level
                .columns
                .iter()
                .enumerate()
                .map(|(slot, c)| {
                    let declared = record
                        .get(slot)
                        .map(|f| ColumnKind::of(f.ty()))
                        .unwrap_or(ColumnKind::None);
                    kind(c, declared)
                })
                .collect();
            lists.push(
                level
                    .columns
                    .iter()
                    .map(|c| match c {
                        Column::List { level, .. } => Some(*level),
                        _ => None,
                    })
                    .collect(),
            );
            levels.push((len, kinds));
            len += level.columns.len();
        }
        let mut table_starts = Vec::new();
        let table_rows = tables.iter().map(|(l, _)| l.rows).collect();
        let mut table_values = Vec::new();
        for (level, kinds) in tables {
            let kinds: Vec<ColumnKind> = level
                .columns
                .iter()
                .zip(kinds)
                .map(|(c, k)| kind(c, *k))
                .collect();
            table_starts.push((len, kinds));
            len += level.columns.len();
        }
        for (level, _) in tables {
            let mut values = Vec::new();
            for c in &level.columns {
                values.push(match c {
                    Column::Values { .. } => {
                        len += 1;
                        Some(len - 1)
                    }
                    _ => None,
                });
            }
            table_values.push(values);
        }
        Shape {
            records: empty.levels.iter().map(|l| l.record.clone()).collect(),
            asked: Mutex::new(BTreeSet::new()),
            keys: vec![[None; 2]; tables.len()],
            keys_where: Vec::new(),
            pairs: Vec::new(),
            single: vec![None; tables.len()],
            levels,
            lists,
            tables: table_starts,
            table_rows,
            table_values,
            setl_id: layout.setl_id(),
            psn_no: layout.psn_no(),
            len,
        }
    }

    /// The pointer-table index of a claim-level column.
    pub fn claim_column(&self, level: usize, slot: usize) -> Option<usize> {
        // A poisoned set is still a set: a panic elsewhere cannot leave it half-written.
        self.asked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((level, slot));
        let (start, kinds) = self.levels.get(level)?;
        (slot < kinds.len()).then_some(start + slot)
    }

    /// How a claim-level column is stored.
    pub fn claim_kind(&self, level: usize, slot: usize) -> Option<ColumnKind> {
        self.levels.get(level)?.1.get(slot).copied()
    }

    /// The pointer-table index of a table column.
    pub fn table_column(&self, table: u32, slot: usize) -> Option<usize> {
        let (start, kinds) = self.tables.get(table as usize)?;
        (slot < kinds.len()).then_some(start + slot)
    }

    /// How a table column is stored.
    pub fn table_kind(&self, table: u32, slot: usize) -> Option<ColumnKind> {
        self.tables.get(table as usize)?.1.get(slot).copied()
    }

    /// The pointer-table index of the batch's patient ranges (`Batch::patients`), last.
    pub fn patients(&self) -> usize {
        self.len
    }

    /// The claim's `setl_id` slot.
    pub fn setl_id(&self) -> usize {
        self.setl_id
    }

    /// The claim's `psn_no` slot.
    pub fn psn_no(&self) -> usize {
        self.psn_no
    }

    /// The pointer-table index of the ids of a table's list column (`Column::Values`).
    pub fn table_values(&self, table: u32, slot: usize) -> Option<usize> {
        *self.table_values.get(table as usize)?.get(slot)?
    }

    /// How many rows a table has.
    pub fn table_rows(&self, table: u32) -> Option<usize> {
        self.table_rows.get(table as usize).copied()
    }

    /// The element level of list field `slot` of claim level `level`.
    pub fn list_level(&self, level: usize, slot: usize) -> Option<usize> {
        *self.lists.get(level)?.get(slot)?
    }

    /// Records where table `table`'s key column `column` presence array is, for the code to
    /// test a key before it calls. The array must outlive the generated code and not change.
    pub fn know_keys(&mut self, table: usize, column: usize, presence: &[u8]) {
        if let Some(slot) = self.keys.get_mut(table).and_then(|k| k.get_mut(column)) {
            *slot = (!presence.is_empty()).then_some((presence.as_ptr() as usize, presence.len()));
        }
    }

    /// Records table `table`'s single-period entries by key id (`IdIndex::single`), which
    /// must outlive the code.
    pub fn know_single(&mut self, table: usize, entries: &[[i64; 3]]) {
        if let Some(slot) = self.single.get_mut(table) {
            *slot = (!entries.is_empty()).then_some((entries.as_ptr() as usize, entries.len()));
        }
    }

    /// Records where the presence array of table `table`'s key column `column` among the rows
    /// whose field `slot` is the text `value` is. The array must outlive the code.
    pub fn know_keys_where(
        &mut self,
        (table, column, slot): (u32, usize, usize),
        value: &str,
        presence: &[u8],
    ) {
        if !presence.is_empty() {
            let at = (presence.as_ptr() as usize, presence.len());
            self.keys_where
                .push(((table, column, slot, value.to_string()), at));
        }
    }

    /// The presence array of table `table`'s key column `column`, among the rows whose field
    /// `slot` is the text `value` when `only` says so and such an array is known: (address,
    /// length).
    pub fn key_presence_where(
        &self,
        table: u32,
        column: usize,
        only: Option<(usize, &str)>,
    ) -> Option<(usize, usize)> {
        let filtered = only.and_then(|(slot, value)| {
            self.keys_where
                .iter()
                .find(|((t, c, s, v), _)| (*t, *c, *s) == (table, column, slot) && v == value)
                .map(|(_, at)| *at)
        });
        filtered.or_else(|| self.key_presence(table, column))
    }

    /// Records the pair filter of table `table`'s rows (those whose field `slot` is the text
    /// `value`, with `only`). The filter must outlive the code and not change.
    pub fn know_pairs(&mut self, table: u32, only: Option<(usize, &str)>, filter: &PairFilter) {
        let only = only.map(|(slot, value)| (slot, value.to_string()));
        self.pairs
            .push(((table, only), (filter.address(), filter.shift())));
    }

    /// The pair filter of table `table`'s rows whose field `slot` is the text `value` when
    /// `only` says so and such a filter is known, else of all its rows: (address, shift).
    pub fn pair_filter(&self, table: u32, only: Option<(usize, &str)>) -> Option<(usize, u32)> {
        let find = |only: Option<(usize, &str)>| {
            self.pairs
                .iter()
                .find(|((t, o), _)| {
                    *t == table && o.as_ref().map(|(s, v)| (*s, v.as_str())) == only
                })
                .map(|(_, at)| *at)
        };
        only.and_then(|o| find(Some(o))).or_else(|| find(None))
    }

    /// Table `table`'s single-period entries: (address, number of entries).
    pub fn single_periods(&self, table: u32) -> Option<(usize, usize)> {
        *self.single.get(table as usize)?
    }

    /// The presence array of table `table`'s key column `column`: (address, length).
    pub fn key_presence(&self, table: u32, column: usize) -> Option<(usize, usize)> {
        *self.keys.get(table as usize)?.get(column)?
    }

    /// The fields a batch must lay out for the code generated so far: every claim-level
    /// column it asked for, and the contract fields (history leaves out the claim's own
    /// `setl_id`). Lists are always laid out, so levels keep their numbers.
    pub fn reads(&self, layout: &ClaimLayout) -> Reads {
        let mut reads = Reads::default();
        let claim = layout.claim().name();
        for slot in [layout.setl_id(), layout.psn_no(), layout.fixmedins_code()] {
            reads.add(claim, slot);
        }
        let asked = self.asked.lock().unwrap_or_else(PoisonError::into_inner);
        for &(level, slot) in asked.iter() {
            if let Some(record) = self.records.get(level) {
                reads.add(record, slot);
            }
        }
        reads
    }

    /// Whether `batch` lays out every column native code may read, at the levels this shape
    /// numbers: a batch laid out for other reads must not reach native code.
    pub fn fits(&self, batch: &Batch) -> bool {
        if batch.levels.len() != self.levels.len() {
            return false;
        }
        let asked = self.asked.lock().unwrap_or_else(PoisonError::into_inner);
        asked.iter().all(|&(level, slot)| {
            let laid = batch.levels.get(level).and_then(|l| l.columns.get(slot));
            let declared = self.claim_kind(level, slot);
            match (laid, declared) {
                (_, None | Some(ColumnKind::None)) => true,
                (Some(column), Some(_)) => !matches!(column, Column::None),
                (None, Some(_)) => false,
            }
        })
    }

    /// The pointer table for one batch (and the kernel's table levels). Its addresses are
    /// valid while `batch` and `tables` are alive and unchanged.
    pub fn pointers(&self, batch: &Batch, tables: &[Level]) -> Vec<*const u8> {
        let mut out = Vec::with_capacity(self.len + 1);
        for level in &batch.levels {
            out.extend(level.columns.iter().map(Column::base));
        }
        for t in tables {
            out.extend(t.columns.iter().map(Column::base));
        }
        for t in tables {
            out.extend(
                t.columns
                    .iter()
                    .filter(|c| matches!(c, Column::Values { .. }))
                    .map(Column::elements),
            );
        }
        out.push(batch.patients.as_ptr().cast());
        out
    }
}

//! The four national reference tables, indexed by interned id once: a lookup per line is a
//! slice index and (for tables with validity dates) a search among the key's few periods.

use std::collections::HashMap;
use std::sync::Arc;

use vigil_compiler::value::{Record, Value};
use vigil_runtime::batch::{date_word, decimal_word, int_word, Interner, ABSENT};
use vigil_runtime::tables::LoadedTable;

use super::BaselineError;

/// "No row" in a row column.
pub(super) const NO_ROW: u32 = u32::MAX;

/// A row's validity, both ends inclusive, as day numbers (open ends are the extreme days).
#[derive(Debug, Clone, Copy)]
struct Period {
    start: i64,
    end: i64,
    row: u32,
}

/// A key's range `from..to` in [`Periods`].
type Range = (u32, u32);

/// Periods of each key, sorted by start; the loader refused overlapping periods, so at most
/// one holds a given day.
#[derive(Debug, Clone, Default)]
struct Periods {
    periods: Vec<Period>,
}

impl Periods {
    /// The row valid on `day` among `periods[range]`.
    fn find(&self, (from, to): (u32, u32), day: i64) -> u32 {
        let Some(candidates) = self.periods.get(from as usize..to as usize) else {
            return NO_ROW;
        };
        let after = candidates.partition_point(|p| p.start <= day);
        match after.checked_sub(1).and_then(|i| candidates.get(i)) {
            Some(p) if day <= p.end => p.row,
            _ => NO_ROW,
        }
    }

    /// Groups `(key, period)` pairs, returning each key's range in the sorted periods.
    fn build<K: std::hash::Hash + Eq + Copy + Ord>(
        mut keyed: Vec<(K, Period)>,
    ) -> (Periods, Vec<(K, Range)>) {
        keyed.sort_by_key(|(k, p)| (*k, p.start, p.row));
        let mut ranges: Vec<(K, Range)> = Vec::new();
        let mut periods = Vec::with_capacity(keyed.len());
        for (k, p) in keyed {
            let at = periods.len() as u32;
            match ranges.last_mut() {
                Some((last, range)) if *last == k => range.1 = at + 1,
                _ => ranges.push((k, (at, at + 1))),
            }
            periods.push(p);
        }
        (Periods { periods }, ranges)
    }
}

/// The catalogue (`hilist`): its rows' limits as columns, looked up by code id and day.
#[derive(Debug, Clone, Default)]
pub(super) struct Catalogue {
    /// By code id: the range of its periods.
    by_code: Vec<(u32, u32)>,
    periods: Periods,
    pub gend_lmt: Vec<u32>,
    pub min_age: Vec<i64>,
    pub max_age: Vec<i64>,
    pub hosp_lv_min: Vec<i64>,
    pub pric_uplmt_amt: Vec<i64>,
    pub daily_max: Vec<i64>,
    pub per_diem: Vec<bool>,
    /// By row: the range of its `lmt_dx` prefixes in `prefixes`.
    pub lmt_dx: Vec<(u32, u32)>,
    pub prefixes: Vec<Option<Arc<str>>>,
}

impl Catalogue {
    /// The row of `code` valid on `day`, or [`NO_ROW`].
    pub(super) fn row(&self, code: u32, day: i64) -> u32 {
        match self.by_code.get(code as usize) {
            Some(&range) if range.0 != range.1 => self.periods.find(range, day),
            _ => NO_ROW,
        }
    }
}

/// How two items relate in `item_pairs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Relation {
    Includes,
    Excludes,
    Other,
}

/// `item_pairs`: by (code_a, code_b) and day.
#[derive(Debug, Clone, Default)]
pub(super) struct ItemPairs {
    by_pair: HashMap<(u32, u32), (u32, u32)>,
    periods: Periods,
    relation: Vec<Relation>,
    /// By code id: whether it is the `code_b` of some `includes` row (any dates).
    pub included: Vec<bool>,
    /// By code id: whether it is either code of some `excludes` row (any dates).
    pub exclusive: Vec<bool>,
}

impl ItemPairs {
    /// The relation of the row for (a, b) valid on `day`, if any.
    pub(super) fn relation(&self, a: u32, b: u32, day: i64) -> Option<Relation> {
        let range = *self.by_pair.get(&(a, b))?;
        self.relation
            .get(self.periods.find(range, day) as usize)
            .copied()
    }
}

/// `providers`: by code id, the row's `hosp_lv` (an `i64` word).
#[derive(Debug, Clone, Default)]
pub(super) struct Providers {
    /// By code id: the row's `hosp_lv` word, `None` when the code has no row.
    pub hosp_lv: Vec<Option<i64>>,
}

/// `dx_gender` in file order: (prefix, sex id).
#[derive(Debug, Clone, Default)]
pub(super) struct DxGender {
    pub rows: Vec<(Option<Arc<str>>, u32)>,
}

/// The indexed tables.
#[derive(Debug, Clone, Default)]
pub(super) struct Reference {
    pub catalogue: Catalogue,
    pub pairs: ItemPairs,
    pub providers: Providers,
    pub dx_gender: DxGender,
}

/// One table's columns by name.
struct Cells<'t> {
    table: &'t LoadedTable,
    name: &'static str,
}

impl<'t> Cells<'t> {
    fn find(tables: &'t [LoadedTable], name: &'static str) -> Result<Cells<'t>, BaselineError> {
        tables
            .iter()
            .find(|t| t.name() == name)
            .map(|table| Cells { table, name })
            .ok_or(BaselineError::MissingTable(name))
    }

    fn slot(&self, column: &'static str) -> Result<usize, BaselineError> {
        self.table
            .column_slot(column)
            .ok_or(BaselineError::MissingColumn {
                table: self.name,
                column,
            })
    }

    fn rows(&self) -> &'t [Arc<Record>] {
        self.table.rows()
    }
}

/// The id of a text cell (0 when absent), interning it.
fn text_id(v: &Value, strings: &mut Interner) -> u32 {
    match v {
        Value::Text(t) => strings.intern(t),
        _ => 0,
    }
}

/// A row's validity period from its `begn_date` / `end_date` cells (absent = open).
fn period(row: &Record, slots: Option<(usize, usize)>, index: usize) -> Period {
    let day = |slot: usize, open: i64| match date_word(row.get(slot)) {
        ABSENT => open,
        d => d,
    };
    let (start, end) = match slots {
        Some((b, e)) => (day(b, i64::MIN), day(e, i64::MAX)),
        None => (i64::MIN, i64::MAX),
    };
    Period {
        start,
        end,
        // A table of more than 4 billion rows is not loaded into memory in the first place.
        row: u32::try_from(index).unwrap_or(NO_ROW),
    }
}

/// A dense by-id vector covering every id `strings` holds.
fn dense<T: Clone>(strings: &Interner, fill: T) -> Vec<T> {
    vec![fill; strings.len() + 1]
}

impl Reference {
    /// Indexes the national tables found by name in `tables`, interning their text cells.
    pub(super) fn new(
        tables: &[LoadedTable],
        strings: &mut Interner,
    ) -> Result<Reference, BaselineError> {
        // Intern every key and code cell first, so the dense vectors below cover their ids.
        let hilist = Cells::find(tables, "hilist")?;
        let pairs = Cells::find(tables, "item_pairs")?;
        let providers = Cells::find(tables, "providers")?;
        let dx_gender = Cells::find(tables, "dx_gender")?;

        let h_code = hilist.slot("hilist_code")?;
        let h_gend = hilist.slot("gend_lmt")?;
        let h_valid = Some((hilist.slot("begn_date")?, hilist.slot("end_date")?));
        let p_a = pairs.slot("code_a")?;
        let p_b = pairs.slot("code_b")?;
        let p_rel = pairs.slot("relation")?;
        let p_valid = Some((pairs.slot("begn_date")?, pairs.slot("end_date")?));
        let v_code = providers.slot("fixmedins_code")?;
        let v_lv = providers.slot("hosp_lv")?;
        let x_prefix = dx_gender.slot("dx_prefix")?;
        let x_gend = dx_gender.slot("gend")?;

        let h_keys: Vec<(u32, u32)> = hilist
            .rows()
            .iter()
            .map(|r| {
                (
                    text_id(r.get(h_code), strings),
                    text_id(r.get(h_gend), strings),
                )
            })
            .collect();
        let p_keys: Vec<(u32, u32)> = pairs
            .rows()
            .iter()
            .map(|r| (text_id(r.get(p_a), strings), text_id(r.get(p_b), strings)))
            .collect();
        let v_keys: Vec<u32> = providers
            .rows()
            .iter()
            .map(|r| text_id(r.get(v_code), strings))
            .collect();
        let x_sex: Vec<u32> = dx_gender
            .rows()
            .iter()
            .map(|r| text_id(r.get(x_gend), strings))
            .collect();

        // The catalogue.
        let word = |slot: &'static str, f: fn(&Value) -> i64| -> Result<Vec<i64>, BaselineError> {
            let s = hilist.slot(slot)?;
            Ok(hilist.rows().iter().map(|r| f(r.get(s))).collect())
        };
        let keyed = h_keys
            .iter()
            .enumerate()
            .filter(|(_, (code, _))| *code != 0)
            .map(|(i, (code, _))| (*code, period(&hilist.rows()[i], h_valid, i)))
            .filter(|(_, p)| p.start <= p.end)
            .collect();
        let (periods, ranges) = Periods::build(keyed);
        let mut by_code = dense(strings, (0, 0));
        for (code, range) in ranges {
            by_code[code as usize] = range;
        }
        let dx_slot = hilist.slot("lmt_dx")?;
        let per_diem_slot = hilist.slot("per_diem")?;
        let mut prefixes = Vec::new();
        let mut lmt_dx = Vec::with_capacity(hilist.rows().len());
        for r in hilist.rows() {
            let from = prefixes.len() as u32;
            if let Value::List(items) = r.get(dx_slot) {
                // An element that is not text still counts in `count(lmt_dx)` but, as
                // `starts_with` of a non-text is absent, matches no diagnosis: `None`.
                prefixes.extend(items.iter().map(|v| v.as_text().map(Arc::from)));
            }
            lmt_dx.push((from, prefixes.len() as u32));
        }
        let catalogue = Catalogue {
            by_code,
            periods,
            gend_lmt: h_keys.iter().map(|(_, g)| *g).collect(),
            min_age: word("min_age", int_word)?,
            max_age: word("max_age", int_word)?,
            hosp_lv_min: word("hosp_lv_min", int_word)?,
            pric_uplmt_amt: word("pric_uplmt_amt", decimal_word)?,
            daily_max: word("daily_max", int_word)?,
            per_diem: hilist
                .rows()
                .iter()
                .map(|r| matches!(r.get(per_diem_slot), Value::Bool(true)))
                .collect(),
            lmt_dx,
            prefixes,
        };

        // Item pairs.
        let keyed = p_keys
            .iter()
            .enumerate()
            .filter(|(_, (a, b))| *a != 0 && *b != 0)
            .map(|(i, key)| (*key, period(&pairs.rows()[i], p_valid, i)))
            .filter(|(_, p)| p.start <= p.end)
            .collect();
        let (periods, ranges) = Periods::build(keyed);
        let relation: Vec<Relation> = pairs
            .rows()
            .iter()
            .map(|r| match r.get(p_rel).as_text() {
                Some("includes") => Relation::Includes,
                Some("excludes") => Relation::Excludes,
                _ => Relation::Other,
            })
            .collect();
        let mut included = dense(strings, false);
        let mut exclusive = dense(strings, false);
        for (i, (a, b)) in p_keys.iter().enumerate() {
            match relation[i] {
                Relation::Includes => included[*b as usize] = true,
                Relation::Excludes => {
                    exclusive[*a as usize] = true;
                    exclusive[*b as usize] = true;
                }
                Relation::Other => {}
            }
        }
        let item_pairs = ItemPairs {
            by_pair: ranges.into_iter().collect(),
            periods,
            relation,
            included,
            exclusive,
        };

        // Providers: a key names one row (the loader refused duplicates).
        let mut hosp_lv = dense(strings, None);
        for (r, code) in providers.rows().iter().zip(&v_keys) {
            if *code != 0 && hosp_lv[*code as usize].is_none() {
                hosp_lv[*code as usize] = Some(int_word(r.get(v_lv)));
            }
        }

        let dx_rows = dx_gender
            .rows()
            .iter()
            .zip(x_sex)
            .map(|(r, sex)| (r.get(x_prefix).as_text().map(Arc::from), sex))
            .collect();

        Ok(Reference {
            catalogue,
            pairs: item_pairs,
            providers: Providers { hosp_lv },
            dx_gender: DxGender { rows: dx_rows },
        })
    }
}

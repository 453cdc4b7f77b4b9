//! The Rust functions native code calls for what is not worth inlining: table lookups,
//! ages, and text operations on interned ids.
//!
//! Each is `extern "C"`, takes the run's [`Ctx`] and words, and answers a word. None may
//! unwind into native code (that would abort the process): each body runs under
//! `catch_unwind` and a panic becomes [`BAIL`], which hands the claim to the interpreter.

use std::panic::{catch_unwind, AssertUnwindSafe};

use vigil_compiler::interp;
use vigil_compiler::value::Value;
use vigil_runtime::batch::{self, day_to_date, Interner, ABSENT, UNFIT};
use vigil_runtime::tables::LoadedTable;

use crate::pair_filter::PairFilter;

/// The answer that sends a claim back to the interpreter.
pub const BAIL: i64 = UNFIT;

/// What native code reads while it runs: the column addresses and what the calls need; and
/// where it writes which rules bailed.
#[repr(C)]
pub struct Ctx<'r> {
    /// Column base addresses: claim levels first, then table levels ([`crate::shape::Shape`]).
    pub cols: *const *const u8,
    /// The run's tables and the batch's strings, for the calls.
    pub world: &'r World<'r>,
    /// Written by each group function before it returns: bit `i` set when rule `i` of the
    /// group bailed. A `Cell`: native code writes it through the shared pointer it is given.
    pub bails: std::cell::Cell<i64>,
    /// The scratch header of the claim under review: per planned list, the address of its
    /// per-line values, the claim's first row of the list and its rows
    /// (`crate::line_values`). Set by the kernel before it calls any function for the claim.
    pub lines: std::cell::Cell<*const i64>,
    /// Where a line group's function writes each line's mask (bit `i`: rule `i` of the group
    /// fires on it), one word per line of the claim's list from its first. Set by the kernel
    /// to an array at least that long before it calls the function.
    pub masks: std::cell::Cell<*mut i64>,
    /// The first bytes of the texts, for `starts_with` without a call ([`TextWords`]).
    pub texts: *const TextWords,
}

/// Per text id, a word holding its first bytes ([`text_word_of`]): the kernel's base strings
/// computed once, the batch's own strings when first asked ([`text_word`]).
#[repr(C)]
pub struct TextWords {
    /// By id, `0..=base_len`.
    pub base: *const i64,
    pub base_len: i64,
    /// By id − base_len − 1: 0 until [`text_word`] computes it.
    pub own: *mut i64,
    pub own_len: i64,
}

/// Where `TextWords`' fields are, for native code.
pub const TEXT_BASE: i32 = 0;
pub const TEXT_BASE_LEN: i32 = 8;
pub const TEXT_OWN: i32 = 16;
pub const TEXT_OWN_LEN: i32 = 24;

const _: () = assert!(std::mem::offset_of!(TextWords, base_len) == TEXT_BASE_LEN as usize);
const _: () = assert!(std::mem::offset_of!(TextWords, own) == TEXT_OWN as usize);
const _: () = assert!(std::mem::offset_of!(TextWords, own_len) == TEXT_OWN_LEN as usize);

/// A text's word: its first seven bytes (UTF-8, the first in the lowest byte) and, in the top
/// byte, one more than its length capped at 8 (so never 0, and 9 for "eight bytes or more").
/// `starts_with(s, p)` for a `p` of at most seven bytes is then: `s` at least as long, and
/// the first `len(p)` bytes equal, exactly as `str::starts_with` compares bytes.
pub fn text_word_of(s: &str) -> i64 {
    let mut bytes = [0u8; 8];
    for (b, x) in bytes.iter_mut().zip(s.as_bytes().iter().take(7)) {
        *b = *x;
    }
    bytes[7] = s.len().min(8) as u8 + 1;
    i64::from_le_bytes(bytes)
}

/// Where `Ctx::bails` is, for native code (two pointers precede it in the `repr(C)` layout).
pub const BAILS_OFFSET: i32 = 16;

/// Where `Ctx::lines` is, for native code.
pub const LINES_OFFSET: i32 = 24;

/// Where `Ctx::masks` is, for native code.
pub const MASKS_OFFSET: i32 = 32;

/// Where `Ctx::texts` is, for native code.
pub const TEXTS_OFFSET: i32 = 40;

// The native code's store lands on `bails` only if the layout says so.
const _: () = assert!(std::mem::offset_of!(Ctx, bails) == BAILS_OFFSET as usize);
const _: () = assert!(std::mem::offset_of!(Ctx, lines) == LINES_OFFSET as usize);
const _: () = assert!(std::mem::offset_of!(Ctx, masks) == MASKS_OFFSET as usize);
const _: () = assert!(std::mem::offset_of!(Ctx, texts) == TEXTS_OFFSET as usize);

/// The data behind the calls.
pub struct World<'r> {
    /// By program table index.
    pub tables: &'r [LoadedTable],
    /// By program table index: the same index keyed by interned ids, where the keys are text.
    pub by_id: &'r [Option<IdIndex>],
    /// The batch's strings (which extend the kernel's base strings).
    pub strings: &'r Interner,
}

/// A table's key index by interned ids (one or two text key columns): the periods of each
/// key as day numbers, sorted and disjoint, exactly as `LoadedTable::index_entries` gives them.
///
/// Key strings are the kernel's base strings, whose ids are small and dense, so the first key
/// id indexes an array (no hashing on the hot path); a batch's own strings have larger ids and
/// are in no table.
#[derive(Debug, Clone)]
pub struct IdIndex {
    validity: bool,
    /// By first key id: 1 + its place in `entries`; 0 when no row has it.
    first: Vec<u32>,
    /// Per first key: each second key id (0 for a one-column key), ascending, with its
    /// periods (start day, end day, row).
    entries: Vec<Vec<(u32, Periods)>>,
    /// Per key column: by id, 1 when some row has that id in that column (at least one
    /// entry, id 0, which is never a key). Native code reads these before it calls.
    present: [Vec<u8>; 2],
    /// For a one-column key, by id: `[start, end, row]` when the key has a single period
    /// (the row on days `start..=end`, on every day without validity; `[1, 0, ABSENT]`, no
    /// day, for an id without a row), or `[CALL, 0, 0]` when it has several (native code then
    /// calls [`lookup`]). Native code answers most lookups from it without a call. Never
    /// empty: entry 0 answers id 0 and ids past the end.
    single: Vec<[i64; 3]>,
    /// For a two-column key: the pairs of key ids some row has.
    pairs: Option<PairFilter>,
}

/// The `start` of an [`IdIndex`] single-period entry that says "call".
pub const CALL: i64 = i64::MAX;

/// A key's validity periods: (start day, end day, row), sorted and disjoint.
type Periods = Vec<(i64, i64, i64)>;

impl IdIndex {
    /// The index of `table` by the ids of `strings` (which must hold every key string), or
    /// None when a key column is not text.
    pub fn new(table: &LoadedTable, strings: &Interner) -> Option<IdIndex> {
        let mut index = IdIndex {
            validity: table.has_validity(),
            first: Vec::new(),
            entries: Vec::new(),
            present: [vec![0], vec![0]],
            single: vec![[1, 0, ABSENT]],
            pairs: None,
        };
        let mut one_column = true;
        let mut pairs = Vec::new();
        for (key, periods) in table.index_entries() {
            one_column &= key.len() == 1;
            let id = |v: &Value| match v {
                Value::Text(t) => strings.get(t),
                _ => None,
            };
            let (k1, k2) = match key {
                [a] => (id(a)?, 0),
                [a, b] => (id(a)?, id(b)?),
                _ => return None,
            };
            if key.len() == 2 {
                pairs.push((k1, k2));
            }
            let day = |d: chrono::NaiveDate| batch::date_word(&Value::Date(d));
            let periods = periods
                .into_iter()
                .map(|(s, e, r)| (day(s), day(e), r as i64))
                .collect();
            for (column, id) in [k1, k2].into_iter().enumerate().take(key.len()) {
                let id = id as usize;
                let present = &mut index.present[column];
                if present.len() <= id {
                    present.resize(id + 1, 0);
                }
                present[id] = 1;
            }
            let k1 = k1 as usize;
            if index.first.len() <= k1 {
                index.first.resize(k1 + 1, 0);
            }
            if index.first[k1] == 0 {
                index.entries.push(Vec::new());
                index.first[k1] = u32::try_from(index.entries.len()).ok()?;
            }
            let at = index.first[k1] as usize - 1;
            index.entries.get_mut(at)?.push((k2, periods));
        }
        for seconds in &mut index.entries {
            seconds.sort_unstable_by_key(|(k2, _)| *k2);
        }
        if !one_column {
            index.pairs = Some(PairFilter::new(&pairs));
        }
        if one_column {
            index.single = vec![[1, 0, ABSENT]; index.first.len().max(1)];
            for (id, &at) in index.first.iter().enumerate() {
                let Some(seconds) = (at as usize)
                    .checked_sub(1)
                    .and_then(|i| index.entries.get(i))
                else {
                    continue;
                };
                index.single[id] = match seconds.as_slice() {
                    [(_, periods)] => match periods.as_slice() {
                        [(start, end, row)] if index.validity => [*start, *end, *row],
                        [(_, _, row)] => [i64::MIN, i64::MAX, *row],
                        _ => [CALL, 0, 0],
                    },
                    _ => [CALL, 0, 0],
                };
            }
        }
        Some(index)
    }

    /// Key column `column` (0 or 1) by id: 1 when some row has that id there, 0 otherwise
    /// (and for every id past the end). Never empty.
    pub fn presence(&self, column: usize) -> &[u8] {
        self.present.get(column).map_or(&[0][..], Vec::as_slice)
    }

    /// The pairs of key ids the rows of a two-column key have (None for one column).
    pub fn pairs(&self) -> Option<&PairFilter> {
        self.pairs.as_ref()
    }

    /// The single-period entries of a one-column key, by id (see the field).
    pub fn single(&self) -> &[[i64; 3]] {
        &self.single
    }

    /// The row for key ids `k1` (and `k2`; 0 for a one-column key) valid on `day`, or ABSENT:
    /// what `LoadedTable::lookup_row` answers for the same strings and date.
    pub fn find(&self, k1: u32, k2: u32, day: i64) -> i64 {
        let at = self.first.get(k1 as usize).copied().unwrap_or(0);
        let Some(seconds) = (at as usize)
            .checked_sub(1)
            .and_then(|i| self.entries.get(i))
        else {
            return ABSENT;
        };
        let found = seconds.binary_search_by_key(&k2, |(b, _)| *b).ok();
        let Some((_, periods)) = found.and_then(|i| seconds.get(i)) else {
            return ABSENT;
        };
        if !self.validity {
            return periods.first().map_or(ABSENT, |p| p.2);
        }
        if day == ABSENT {
            return ABSENT;
        }
        let after = periods.partition_point(|p| p.0 <= day);
        match after.checked_sub(1).and_then(|i| periods.get(i)) {
            Some(p) if day <= p.1 => p.2,
            _ => ABSENT,
        }
    }
}

/// Key column `column` (0 or 1) of `table` by id of `strings`: 1 when some row whose field
/// `slot` is the text `value` has that id there, 0 otherwise (and past the end). Native code
/// tests it before a lookup whose row is only compared so, `table[…]?.field == "value"`: a
/// key in no such row finds no row the comparison could hold on. Never empty.
pub fn presence_where(
    table: &LoadedTable,
    strings: &Interner,
    column: usize,
    slot: usize,
    value: &str,
) -> Vec<u8> {
    let mut present = vec![0u8];
    let rows = table.rows();
    for (key, periods) in table.index_entries() {
        let holds = some_row_holds(rows, &periods, slot, value);
        let id = match key.get(column) {
            Some(Value::Text(t)) if holds => strings.get(t),
            _ => None,
        };
        if let Some(id) = id.map(|i| i as usize) {
            if present.len() <= id {
                present.resize(id + 1, 0);
            }
            present[id] = 1;
        }
    }
    present
}

/// The pairs of key ids of `strings` that the rows of two-column `table` whose field `slot`
/// is the text `value` have: what [`presence_where`] is for one key column, for both at once.
/// None for a one-column key or a key that is not text.
pub fn pairs_where(
    table: &LoadedTable,
    strings: &Interner,
    slot: usize,
    value: &str,
) -> Option<PairFilter> {
    let rows = table.rows();
    let mut pairs = Vec::new();
    for (key, periods) in table.index_entries() {
        let [Value::Text(a), Value::Text(b)] = key else {
            return None;
        };
        let holds = some_row_holds(rows, &periods, slot, value);
        if let (true, Some(a), Some(b)) = (holds, strings.get(a), strings.get(b)) {
            pairs.push((a, b));
        }
    }
    Some(PairFilter::new(&pairs))
}

/// Whether the row of some of a key's periods has the text `value` in field `slot`.
fn some_row_holds(
    rows: &[std::sync::Arc<vigil_compiler::value::Record>],
    periods: &[(chrono::NaiveDate, chrono::NaiveDate, usize)],
    slot: usize,
    value: &str,
) -> bool {
    periods.iter().any(|&(_, _, r)| {
        rows.get(r)
            .is_some_and(|row| matches!(row.get(slot), Value::Text(t) if &**t == value))
    })
}

fn guarded(f: impl FnOnce() -> Option<i64>) -> i64 {
    catch_unwind(AssertUnwindSafe(f))
        .ok()
        .flatten()
        .unwrap_or(BAIL)
}

/// `table[key at day]`: the row index, ABSENT for no row, BAIL if the key cannot be read.
///
/// # Safety
/// `ctx` points to a live [`Ctx`] (native code passes the pointer it was given).
pub unsafe extern "C" fn lookup(ctx: *const Ctx, table: i64, key: i64, day: i64) -> i64 {
    // SAFETY: the caller (native code compiled by this crate) passes the `Ctx` pointer it was
    // called with, which the kernel keeps alive for the whole call.
    let world = unsafe { (*ctx).world };
    guarded(|| find_row(world, table, &[key], day))
}

/// `table[key1, key2 at day]`, as [`lookup`] for a two-column key.
///
/// # Safety
/// As [`lookup`].
pub unsafe extern "C" fn lookup2(ctx: *const Ctx, table: i64, k1: i64, k2: i64, day: i64) -> i64 {
    // SAFETY: as in `lookup`.
    let world = unsafe { (*ctx).world };
    guarded(|| find_row(world, table, &[k1, k2], day))
}

/// The row of `table` for key ids `keys` (one or two) valid on `day`: by the id index where
/// the table has one, else by the table's own lookup.
fn find_row(world: &World, table: i64, keys: &[i64], day: i64) -> Option<i64> {
    let table = usize::try_from(table).ok()?;
    // No allocation on the way to the id index: this runs once per line.
    let k1 = u32::try_from(*keys.first()?).ok()?;
    let k2 = match keys.get(1) {
        Some(k) => u32::try_from(*k).ok()?,
        None => 0,
    };
    if let Some(Some(index)) = world.by_id.get(table) {
        return Some(index.find(k1, k2, day));
    }
    let ids = &[k1, k2][..keys.len().min(2)];
    let key = ids
        .iter()
        .map(|id| world.strings.resolve(*id).map(|t| Value::Text(t.clone())))
        .collect::<Option<Vec<Value>>>()?;
    let at = if day == ABSENT {
        None
    } else {
        Some(day_to_date(day)?)
    };
    let row = world.tables.get(table)?.lookup_row(&key, at);
    Some(row.map_or(ABSENT, |r| r as i64))
}

/// Whole years from `birth` to `at` (both day numbers, both present).
pub extern "C" fn age(birth: i64, at: i64) -> i64 {
    guarded(|| Some(interp::age(day_to_date(birth)?, day_to_date(at)?)))
}

/// Whether text `s` starts with text `p` (ids, both present): 1 or 0.
///
/// # Safety
/// As [`lookup`].
pub unsafe extern "C" fn starts_with(ctx: *const Ctx, s: i64, p: i64) -> i64 {
    guarded(|| {
        // SAFETY: as in `lookup`.
        let strings = unsafe { (*ctx).world.strings };
        let s = strings.resolve(u32::try_from(s).ok()?)?;
        let p = strings.resolve(u32::try_from(p).ok()?)?;
        Some(s.starts_with(&**p) as i64)
    })
}

/// The word of text `id` (present, a batch's own string: above the base's ids), kept in
/// `TextWords::own` for the next time ([`text_word_of`]).
///
/// # Safety
/// As [`lookup`]; and `(*ctx).texts` points to a live [`TextWords`] whose `own` array has
/// `own_len` words, which only this function writes, on the thread that runs the native code.
pub unsafe extern "C" fn text_word(ctx: *const Ctx, id: i64) -> i64 {
    guarded(|| {
        // SAFETY: as in `lookup`.
        let (strings, texts) = unsafe { ((*ctx).world.strings, &*(*ctx).texts) };
        let word = text_word_of(strings.resolve(u32::try_from(id).ok()?)?);
        let at = id.checked_sub(texts.base_len + 1)?;
        if (0..texts.own_len).contains(&at) {
            // SAFETY: `at` is below `own_len`, the length of the array `own` points to, and
            // nothing else reads or writes it during this call (see the function's Safety).
            unsafe { *texts.own.add(at as usize) = word };
        }
        Some(word)
    })
}

/// Serial order of two texts (ids, both present): 1 when `a` sorts before `b`.
///
/// # Safety
/// As [`lookup`].
pub unsafe extern "C" fn sorts_before(ctx: *const Ctx, a: i64, b: i64) -> i64 {
    guarded(|| {
        // SAFETY: as in `lookup`.
        let strings = unsafe { (*ctx).world.strings };
        let a = strings.resolve(u32::try_from(a).ok()?)?;
        let b = strings.resolve(u32::try_from(b).ok()?)?;
        Some(interp::sorts_before(a, b) as i64)
    })
}

/// The category word of text `id` (present): its first three characters packed, see
/// [`pack_category`]. Native code compares categories as these words, so it never needs the
/// id of a prefix string that the batch may not hold.
///
/// # Safety
/// As [`lookup`].
pub unsafe extern "C" fn category(ctx: *const Ctx, id: i64) -> i64 {
    guarded(|| {
        // SAFETY: as in `lookup`.
        let strings = unsafe { (*ctx).world.strings };
        let s = strings.resolve(u32::try_from(id).ok()?)?;
        Some(pack_category(s.chars().take(3)))
    })
}

/// Text `id` (present) as a category word when it has at most three characters (then it
/// equals and orders against categories as the text itself would); otherwise -1, which equals
/// no category (and which native code must not order).
///
/// # Safety
/// As [`lookup`].
pub unsafe extern "C" fn text_as_category(ctx: *const Ctx, id: i64) -> i64 {
    guarded(|| {
        // SAFETY: as in `lookup`.
        let strings = unsafe { (*ctx).world.strings };
        let s = strings.resolve(u32::try_from(id).ok()?)?;
        if s.chars().count() > 3 {
            return Some(-1);
        }
        Some(pack_category(s.chars()))
    })
}

/// Up to three characters as one non-negative word: each code point plus one in 21 bits,
/// first character highest, 0 for a missing one. Equal words are equal texts, and the words
/// order as the texts do (Rust's `str` order is code-point order; a prefix sorts first).
pub fn pack_category(chars: impl Iterator<Item = char>) -> i64 {
    let mut word: i64 = 0;
    let mut taken = 0;
    for c in chars.take(3) {
        word = (word << 21) | (i64::from(u32::from(c)) + 1);
        taken += 1;
    }
    for _ in taken..3 {
        word <<= 21;
    }
    word
}

/// The order of two texts (ids, both present) as the interpreter compares them: -1, 0 or 1.
///
/// # Safety
/// As [`lookup`].
pub unsafe extern "C" fn text_cmp(ctx: *const Ctx, a: i64, b: i64) -> i64 {
    guarded(|| {
        // SAFETY: as in `lookup`.
        let strings = unsafe { (*ctx).world.strings };
        let a = strings.resolve(u32::try_from(a).ok()?)?;
        let b = strings.resolve(u32::try_from(b).ok()?)?;
        Some(match a.cmp(b) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::pack_category;

    fn cat(s: &str) -> i64 {
        pack_category(s.chars())
    }

    #[test]
    fn category_words_order_as_their_texts() {
        let texts = [
            "",
            "A",
            "AB",
            "ABC",
            "AB\u{0}",
            "B",
            "I63",
            "I64",
            "Z",
            "中",
            "中国",
            "\u{10FFFF}\u{10FFFF}\u{10FFFF}",
        ];
        for a in texts {
            for b in texts {
                assert_eq!(cat(a).cmp(&cat(b)), a.cmp(b), "{a:?} vs {b:?}");
            }
            assert!(cat(a) >= 0, "{a:?} packs to a non-negative word");
        }
    }
}

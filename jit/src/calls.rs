//! The Rust functions native code calls for what is not worth inlining: table lookups,
//! ages, and text operations on interned ids.
//!
//! Each is `extern "C"`, takes the run's [`Ctx`] and words, and answers a word. None may
//! unwind into native code (that would abort the process): each body runs under
//! `catch_unwind` and a panic becomes [`BAIL`], which hands the claim to the interpreter.

use std::panic::{catch_unwind, AssertUnwindSafe};

use vigil_compiler::interp;
use vigil_compiler::value::Value;
use vigil_runtime::batch::{day_to_date, Interner, ABSENT, UNFIT};
use vigil_runtime::tables::LoadedTable;

/// The answer that sends a claim back to the interpreter.
pub const BAIL: i64 = UNFIT;

/// What native code reads while it runs: the column addresses and what the calls need.
#[repr(C)]
pub struct Ctx<'r> {
    /// Column base addresses: claim levels first, then table levels ([`crate::Shape`]).
    pub cols: *const *const u8,
    /// The run's tables and the batch's strings, for the calls.
    pub world: &'r World<'r>,
}

/// The data behind the calls.
pub struct World<'r> {
    /// By program table index.
    pub tables: &'r [LoadedTable],
    /// The batch's strings (which extend the kernel's base strings).
    pub strings: &'r Interner,
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
    guarded(|| {
        // SAFETY: the caller (native code compiled by this crate) passes the `Ctx` pointer it
        // was called with, which the kernel keeps alive for the whole call.
        let world = unsafe { (*ctx).world };
        let t = world.tables.get(usize::try_from(table).ok()?)?;
        let key = world.strings.resolve(u32::try_from(key).ok()?)?;
        let at = if day == ABSENT {
            None
        } else {
            Some(day_to_date(day)?)
        };
        Some(
            t.lookup_row(&[Value::Text(key.clone())], at)
                .map(|r| r as i64)
                .unwrap_or(ABSENT),
        )
    })
}

/// `table[key1, key2 at day]`, as [`lookup`] for a two-column key.
///
/// # Safety
/// As [`lookup`].
pub unsafe extern "C" fn lookup2(ctx: *const Ctx, table: i64, k1: i64, k2: i64, day: i64) -> i64 {
    guarded(|| {
        // SAFETY: as in `lookup`.
        let world = unsafe { (*ctx).world };
        let t = world.tables.get(usize::try_from(table).ok()?)?;
        let k1 = world.strings.resolve(u32::try_from(k1).ok()?)?;
        let k2 = world.strings.resolve(u32::try_from(k2).ok()?)?;
        let at = if day == ABSENT {
            None
        } else {
            Some(day_to_date(day)?)
        };
        let key = [Value::Text(k1.clone()), Value::Text(k2.clone())];
        Some(t.lookup_row(&key, at).map(|r| r as i64).unwrap_or(ABSENT))
    })
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

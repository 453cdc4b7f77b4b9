//! CN-KPI-001 (provider scope): inpatient claims grouped by provider and month of discharge,
//! each month's mean cost against the month before, compared exactly as whole numbers.

use std::collections::HashMap;

use chrono::Datelike;
use vigil_runtime::batch::{day_to_date, Interner, ABSENT, UNFIT};

use super::columns::ClaimColumns;
use super::patients::day_of;

/// Both months need this many inpatient claims (`KPI_MIN_CLAIMS`).
const MIN_CLAIMS: i64 = 30;
/// The growth that fires, as a fraction: `KPI_GROWTH` = 1.3 = 13/10.
const GROWTH: (i128, i128) = (13, 10);

/// A provider-month the rule decides on: it fired, or a cost could not be read exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderMonth {
    /// The provider's `fixmedins_code` id in the batch's strings (0 when absent).
    pub provider: u32,
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
    /// `true`: a `medfee_sumamt` of the month or the month before is UNFIT, so the rule was
    /// not decided here (the interpreter decides it); `false`: the rule fired.
    pub bailed: bool,
}

/// One provider-month's inpatient claims.
#[derive(Debug, Default, Clone, Copy)]
struct Month {
    count: i64,
    /// Sum of scaled `medfee_sumamt` words (i128: no run holds enough claims to overflow it).
    total: i128,
    unfit: bool,
    /// Whether a claim of the claims file (not only history) is in it.
    reported: bool,
}

/// The provider-months that fire (or bail) among claim rows `0..rows` (rows from `claims` on are
/// history: they count, but a month of history only is not reported), in (provider text, month)
/// order.
pub(super) fn provider_months(
    c: &ClaimColumns,
    claims: usize,
    inpatient: u32,
    strings: &Interner,
) -> Vec<ProviderMonth> {
    let mut months: HashMap<(u32, i64), Month> = HashMap::new();
    for row in 0..c.rows {
        if c.med_type[row] != inpatient || c.medfee_sumamt[row] == ABSENT {
            continue;
        }
        let Some(date) = (match day_of(c.enddate[row]) {
            ABSENT => None,
            d => day_to_date(d),
        }) else {
            continue;
        };
        let key = (
            c.fixmedins_code[row],
            date.year() as i64 * 12 + date.month0() as i64,
        );
        let m = months.entry(key).or_default();
        m.count += 1;
        match c.medfee_sumamt[row] {
            UNFIT => m.unfit = true,
            w => m.total += w as i128,
        }
        m.reported |= row < claims;
    }
    let mut out: Vec<ProviderMonth> = Vec::new();
    for (&(provider, index), m) in &months {
        if !m.reported {
            continue;
        }
        let previous = months
            .get(&(provider, index - 1))
            .copied()
            .unwrap_or_default();
        if m.count < MIN_CLAIMS || previous.count < MIN_CLAIMS {
            continue;
        }
        // total / n > 1.3 × previous / n_prev, multiplied out: no division, no rounding.
        let left = m
            .total
            .checked_mul(previous.count as i128)
            .and_then(|x| x.checked_mul(GROWTH.1));
        let right = previous
            .total
            .checked_mul(m.count as i128)
            .and_then(|x| x.checked_mul(GROWTH.0));
        let (bailed, fires) = match (left, right) {
            _ if m.unfit || previous.unfit => (true, false),
            (Some(l), Some(r)) => (false, l > r),
            _ => (true, false),
        };
        if fires || bailed {
            out.push(ProviderMonth {
                provider,
                year: index.div_euclid(12) as i32,
                month: index.rem_euclid(12) as u32 + 1,
                bailed,
            });
        }
    }
    let text = |id: u32| strings.resolve(id).map_or("", |s| &**s);
    out.sort_by(|a, b| {
        (text(a.provider), a.year, a.month).cmp(&(text(b.provider), b.year, b.month))
    });
    out
}

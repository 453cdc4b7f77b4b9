//! Every claim of a run grouped by patient, oldest first (as the engine's history index orders
//! them: begndate, absent first, then setl_id in serial order), and each patient's drug
//! supplies by code for CN-REPEAT-001.

use chrono::{Datelike, NaiveDate};
use vigil_compiler::interp::sorts_before;
use vigil_runtime::batch::{Interner, ABSENT, UNFIT};

use super::columns::{ClaimColumns, LineColumns};

/// "No patient" (a claim without `psn_no` has no history).
const NO_GROUP: u32 = u32::MAX;

/// A supply's end that cannot be computed exactly (an UNFIT `prd_days`, or a date beyond the
/// calendar): a claim that needs it bails.
const BAD_END: i64 = i64::MIN;

/// One fee line of a patient's claims that carries a supply: `hilist_code`, event date and
/// `prd_days` all present.
#[derive(Debug, Clone, Copy)]
struct Supply {
    code: u32,
    /// The event date (day number).
    start: i64,
    /// `start + prd_days`, or [`BAD_END`].
    end: i64,
    setl_id: u32,
}

/// What a patient's other claims say of one line's drug (CN-REPEAT-001).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Repeat {
    /// An earlier supply of the code still lasts more than the window.
    Found,
    /// No such supply.
    None,
    /// A candidate supply's end is not exact: undecided.
    Bail,
}

/// The run's claims by patient.
pub(super) struct Patients {
    /// Claim rows, grouped by patient, each group oldest first.
    order: Vec<u32>,
    /// By claim row: its patient's group, or [`NO_GROUP`].
    group_of: Vec<u32>,
    /// By group: its range in `order` and its range in `supplies`.
    groups: Vec<((u32, u32), (u32, u32))>,
    /// By group, sorted by (code, start).
    supplies: Vec<Supply>,
}

/// The first and last day numbers chrono can represent: a supply ending outside them is an
/// overflow in the interpreter.
fn calendar() -> (i64, i64) {
    (
        NaiveDate::MIN.num_days_from_ce() as i64,
        NaiveDate::MAX.num_days_from_ce() as i64,
    )
}

impl Patients {
    /// Groups the batch's claim rows by patient and lists their supplies.
    pub(super) fn new(c: &ClaimColumns, l: &LineColumns, strings: &Interner) -> Patients {
        let serial = |a: u32, b: u32| {
            let text = |id: u32| strings.resolve(id).map_or("", |s| &**s);
            let (x, y) = (text(a), text(b));
            if sorts_before(x, y) {
                std::cmp::Ordering::Less
            } else if sorts_before(y, x) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        };
        let mut order: Vec<u32> = (0..c.rows as u32)
            .filter(|&r| c.psn_no[r as usize] != 0)
            .collect();
        // Stable: equal keys keep batch order (claims before history), as the engine does.
        order.sort_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            c.psn_no[a]
                .cmp(&c.psn_no[b])
                .then(c.begndate[a].cmp(&c.begndate[b]))
                .then_with(|| serial(c.setl_id[a], c.setl_id[b]))
        });
        let (first_day, last_day) = calendar();
        let mut group_of = vec![NO_GROUP; c.rows];
        let mut groups = Vec::new();
        let mut supplies = Vec::new();
        let mut at = 0;
        while at < order.len() {
            let psn = c.psn_no[order[at] as usize];
            let mut end = at + 1;
            while end < order.len() && c.psn_no[order[end] as usize] == psn {
                end += 1;
            }
            let group = groups.len() as u32;
            let from = supplies.len();
            for &row in &order[at..end] {
                let row = row as usize;
                group_of[row] = group;
                let begin_day = day_of(c.begndate[row]);
                let lines = c.line_offsets[row] as usize..c.line_offsets[row + 1] as usize;
                for line in lines {
                    let code = l.hilist_code[line];
                    let start = match l.fee_ocur_time[line] {
                        ABSENT => begin_day,
                        t => day_of(t),
                    };
                    let days = l.prd_days[line];
                    if code == 0 || start == ABSENT || days == ABSENT {
                        continue;
                    }
                    let end = match days {
                        UNFIT => BAD_END,
                        days => start
                            .checked_add(days)
                            .filter(|e| (first_day..=last_day).contains(e))
                            .unwrap_or(BAD_END),
                    };
                    supplies.push(Supply {
                        code,
                        start,
                        end,
                        setl_id: c.setl_id[row],
                    });
                }
            }
            supplies[from..].sort_unstable_by_key(|s| (s.code, s.start));
            groups.push((
                (at as u32, end as u32),
                (from as u32, supplies.len() as u32),
            ));
            at = end;
        }
        Patients {
            order,
            group_of,
            groups,
            supplies,
        }
    }

    /// The claim rows of `row`'s patient, oldest first (`row` itself among them).
    pub(super) fn of(&self, row: usize) -> &[u32] {
        let Some(&g) = self.group_of.get(row) else {
            return &[];
        };
        match self.groups.get(g as usize) {
            Some(&((a, b), _)) => &self.order[a as usize..b as usize],
            None => &[],
        }
    }

    /// Whether another claim of `row`'s patient (another `setl_id`) supplied `code` before
    /// `day` with more than `window` days of it left on `day`.
    pub(super) fn repeat(
        &self,
        row: usize,
        setl_id: u32,
        code: u32,
        day: i64,
        window: i64,
    ) -> Repeat {
        let Some(&g) = self.group_of.get(row) else {
            return Repeat::None;
        };
        let Some(&(_, (a, b))) = self.groups.get(g as usize) else {
            return Repeat::None;
        };
        let supplies = &self.supplies[a as usize..b as usize];
        let first = supplies.partition_point(|s| s.code < code);
        // Every candidate is looked at: the interpreter walks them in history order, and one
        // whose end overflows stops it with an error wherever it comes.
        let (mut found, mut bad) = (false, false);
        for s in &supplies[first..] {
            if s.code != code || s.start >= day {
                break;
            }
            if s.setl_id == setl_id {
                continue;
            }
            if s.end == BAD_END {
                bad = true;
            } else if s.end - day > window {
                found = true;
            }
        }
        match (bad, found) {
            (true, _) => Repeat::Bail,
            (false, true) => Repeat::Found,
            (false, false) => Repeat::None,
        }
    }
}

/// The day number of a datetime word (ABSENT stays ABSENT).
pub(super) fn day_of(seconds: i64) -> i64 {
    match seconds {
        ABSENT => ABSENT,
        s => s.div_euclid(86_400),
    }
}

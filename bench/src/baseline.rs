//! The hand-written baseline of issue 6: the 23 rules of `rulebooks/cn-national` in plain Rust
//! over the runtime's columnar [`Batch`], what an engineer would write for these rules alone.
//! The native engine is measured against it ("at least as fast as the hand-written baseline in
//! compute"), so it reads the same batch, with tables pre-indexed by interned id, decimals as
//! scaled words, dates as day numbers, and no allocation per claim or line once warm.
//!
//! It decides which rules fire where (the lines, or the claim), not amounts or messages, as the
//! native engine's verdicts do. It is exact: where a value it needs is UNFIT (present but not
//! representable in the batch's words) or a step would overflow, it says "bail" for that rule
//! on that claim instead of guessing; `bench/tests/baseline.rs` holds it to the interpreter.
//!
//! History rules see every other claim of the patient in the batch (a run's claims, then
//! optionally its history claims, which are context only), grouped once by patient;
//! CN-KPI-001 groups the whole batch by provider and month.

mod columns;
mod kpi;
mod patients;
mod reference;

use std::sync::Arc;

use chrono::Datelike;
use vigil_compiler::interp::sorts_before;
use vigil_runtime::batch::{day_to_date, Batch, Interner, ABSENT, DEC_ONE, UNFIT};
use vigil_runtime::claims::ClaimLayout;
use vigil_runtime::tables::LoadedTable;

use columns::{ClaimColumns, LineColumns, Slots};
pub use kpi::ProviderMonth;
use patients::{day_of, Patients, Repeat};
use reference::{Reference, Relation, NO_ROW};

/// The rules, in the national rulebook's program order (`Program::rules`): a rule's index
/// here is its index in every verdict.
pub const RULES: [&str; 23] = [
    "CN-DUP-001",
    "CN-PAIR-001",
    "CN-PAIR-002",
    "CN-DIEM-001",
    "CN-GEND-001",
    "CN-AGE-001",
    "CN-PRICE-001",
    "CN-LVL-001",
    "CN-DX-001",
    "CN-CAT-001",
    "CN-DXSEX-001",
    "CN-QTY-001",
    "CN-TKDRUG-001",
    "CN-RX5-001",
    "CN-REPEAT-001",
    "CN-KPI-001",
    "CN-READMIT-001",
    "CN-OVERLAP-001",
    "CN-OTPIPT-001",
    "CN-DEATH-001",
    "CN-FREQ-001",
    "CN-BEDIDLE-001",
    "CN-NIGHT-001",
];

const DUP: u8 = 0;
const PAIR_INCLUDES: u8 = 1;
const PAIR_EXCLUDES: u8 = 2;
const DIEM: u8 = 3;
const GEND: u8 = 4;
const AGE: u8 = 5;
const PRICE: u8 = 6;
const LVL: u8 = 7;
const DX: u8 = 8;
const CAT: u8 = 9;
const DXSEX: u8 = 10;
const QTY: u8 = 11;
const TKDRUG: u8 = 12;
const RX5: u8 = 13;
const REPEAT: u8 = 14;
/// CN-KPI-001's index: a provider rule, reported in [`Outcome::kpi`], never per claim.
pub const KPI: usize = 15;
const READMIT: u8 = 16;
const OVERLAP: u8 = 17;
const OTPIPT: u8 = 18;
const DEATH: u8 = 19;
const FREQ: u8 = 20;
const BEDIDLE: u8 = 21;
const NIGHT: u8 = 22;

// The rulebook's constants (prescriptions.vigil, stays.vigil), in the units the loops use.
/// 《处方管理办法》第十九条: 7 days, 3 for 急诊; 84 for 门诊慢特病 (长期处方).
const OUTPATIENT_RX_DAYS: i64 = 7;
const EMERGENCY_RX_DAYS: i64 = 3;
const CHRONIC_RX_DAYS: i64 = 84;
/// Drugs taken home at discharge: at most 14 days.
const DISCHARGE_RX_DAYS: i64 = 14;
/// 《处方管理办法》第六条: 5 drugs a prescription.
const RX_MAX_DRUGS: usize = 5;
const REPEAT_OVERLAP_DAYS: i64 = 7;
const READMIT_WINDOW_DAYS: i64 = 15;
const FREQ_MAX_VISITS: i64 = 10;
const FREQ_WINDOW_DAYS: i64 = 30;
const BEDIDLE_MIN_STAY_DAYS: i64 = 3;

/// Why the baseline cannot be built or run.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("the reference table `{0}` is not among the loaded tables")]
    MissingTable(&'static str),
    #[error("the reference table `{table}` has no column `{column}`")]
    MissingColumn {
        table: &'static str,
        column: &'static str,
    },
    #[error("the claim schema has no field `{0}`")]
    MissingField(&'static str),
    #[error("the batch does not lay out `{0}` as the claim schema says")]
    Layout(&'static str),
    #[error("the batch's strings do not extend the baseline's: build it with `Batch::new(layout, claims, baseline.strings())`")]
    ForeignStrings,
    #[error("{claims} claims asked for, but the batch holds {rows}")]
    TooManyClaims { claims: usize, rows: usize },
}

/// Ids of the codes the rules name (schema enums), in the baseline's strings.
#[derive(Debug, Clone)]
struct Codes {
    outpatient: u32,
    emergency: u32,
    chronic_outpatient: u32,
    inpatient: u32,
    pharmacy: u32,
    unspecified: u32,
    death: u32,
    yes: u32,
    self_pay: u32,
    western_or_patent: u32,
    herbal_pieces: u32,
    bed: u32,
    nursing: u32,
}

impl Codes {
    fn new(strings: &mut Interner) -> Codes {
        let mut id = |s: &str| strings.intern(&Arc::from(s));
        Codes {
            outpatient: id("11"),
            emergency: id("13"),
            chronic_outpatient: id("14"),
            inpatient: id("21"),
            pharmacy: id("41"),
            unspecified: id("9"),
            death: id("5"),
            yes: id("1"),
            self_pay: id("03"),
            western_or_patent: id("101"),
            herbal_pieces: id("102"),
            bed: id("01"),
            nursing: id("07"),
        }
    }

    /// `med_type in OUTPATIENT_LIKE` (absent is in no list).
    fn outpatient_like(&self, med_type: u32) -> bool {
        med_type != 0
            && (med_type == self.outpatient
                || med_type == self.emergency
                || med_type == self.chronic_outpatient
                || med_type == self.pharmacy)
    }
}

/// The 23 national rules, ready to run over batches built on [`Baseline::strings`].
#[derive(Debug, Clone)]
pub struct Baseline {
    slots: Slots,
    reference: Reference,
    codes: Codes,
    strings: Interner,
}

/// One fired rule on one claim: `line` is the line's index in the claim's `fee_list` (0 for a
/// claim rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fired {
    rule: u8,
    line: u32,
}

/// What the baseline decided on a batch.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// By claim: where its fired rules start in `fired` (claims + 1 entries).
    starts: Vec<usize>,
    fired: Vec<Fired>,
    /// By claim: bit `r` set when rule `r` bailed (undecided) on it.
    bailed: Vec<u32>,
    /// CN-KPI-001's provider-months (fired or bailed), by provider code and month.
    pub kpi: Vec<ProviderMonth>,
}

impl Outcome {
    /// How many claims were decided.
    pub fn claims(&self) -> usize {
        self.bailed.len()
    }

    /// Rule `rule` on claim `claim`: `None` when it bailed, else the fired line indexes in
    /// ascending order (`[0]` for a claim rule that fired; empty when it did not).
    pub fn verdict(&self, claim: usize, rule: usize) -> Option<Vec<usize>> {
        if self.bailed.get(claim)? & (1 << rule) != 0 {
            return None;
        }
        let (from, to) = (*self.starts.get(claim)?, *self.starts.get(claim + 1)?);
        let mut lines: Vec<usize> = self.fired[from..to]
            .iter()
            .filter(|f| f.rule as usize == rule)
            .map(|f| f.line as usize)
            .collect();
        lines.sort_unstable();
        Some(lines)
    }

    /// Every verdict: per claim, per rule (in [`RULES`] order, KPI's always empty).
    pub fn verdicts(&self) -> Vec<Vec<Option<Vec<usize>>>> {
        (0..self.claims())
            .map(|c| (0..RULES.len()).map(|r| self.verdict(c, r)).collect())
            .collect()
    }

    /// How many (claim, rule, line) findings fired, over all claims.
    pub fn fired(&self) -> usize {
        self.fired.len()
    }

    /// How many (claim, rule) pairs bailed.
    pub fn bailed(&self) -> usize {
        self.bailed.iter().map(|b| b.count_ones() as usize).sum()
    }
}

impl Baseline {
    /// Indexes the national tables (found by name among `tables`) over a copy of `base`
    /// (for instance the native kernel's strings, so one batch serves both).
    pub fn new(
        layout: &ClaimLayout,
        tables: &[LoadedTable],
        base: &Interner,
    ) -> Result<Baseline, BaselineError> {
        let slots = Slots::new(layout)?;
        let mut strings = base.clone();
        let reference = Reference::new(tables, &mut strings)?;
        let codes = Codes::new(&mut strings);
        Ok(Baseline {
            slots,
            reference,
            codes,
            strings,
        })
    }

    /// The strings a batch must start from: `Batch::new(layout, claims, baseline.strings())`.
    pub fn strings(&self) -> &Interner {
        &self.strings
    }

    /// Runs every rule over every claim of `batch`.
    pub fn run(&self, batch: &Batch) -> Result<Outcome, BaselineError> {
        let rows = batch.levels.first().map_or(0, |l| l.rows);
        self.run_with_history(batch, rows)
    }

    /// Runs every rule over the first `claims` rows of `batch`; the rows after them are
    /// history: context for the history rules and CN-KPI-001, with no verdicts of their own.
    pub fn run_with_history(&self, batch: &Batch, claims: usize) -> Result<Outcome, BaselineError> {
        let own = self.strings.len();
        if batch.strings.len() < own
            || (own > 0 && batch.strings.resolve(own as u32) != self.strings.resolve(own as u32))
        {
            return Err(BaselineError::ForeignStrings);
        }
        let (c, l) = columns::columns(batch, &self.slots)?;
        if claims > c.rows {
            return Err(BaselineError::TooManyClaims {
                claims,
                rows: c.rows,
            });
        }
        let patients = Patients::new(&c, &l, &batch.strings);
        let mut pass = Pass {
            base: self,
            c: &c,
            l: &l,
            strings: &batch.strings,
            patients: &patients,
            event: Vec::new(),
            row: Vec::new(),
            dx: Vec::new(),
            same_day: Vec::new(),
            days: Vec::new(),
            per_diem: Vec::new(),
            out: Outcome {
                starts: Vec::with_capacity(claims + 1),
                fired: Vec::new(),
                bailed: Vec::with_capacity(claims),
                kpi: Vec::new(),
            },
        };
        pass.out.starts.push(0);
        for claim in 0..claims {
            pass.claim(claim);
        }
        let mut out = pass.out;
        out.kpi = kpi::provider_months(&c, claims, self.codes.inpatient, &batch.strings);
        Ok(out)
    }
}

/// One run over a batch: its columns, and scratch reused from claim to claim.
struct Pass<'r, 'b> {
    base: &'r Baseline,
    c: &'r ClaimColumns<'b>,
    l: &'r LineColumns<'b>,
    strings: &'b Interner,
    patients: &'r Patients,
    /// By line of the current claim: its event date (day number or ABSENT).
    event: Vec<i64>,
    /// By line of the current claim: its catalogue row or NO_ROW.
    row: Vec<u32>,
    /// The current claim's diagnoses (main, then diseinfo), filled when a rule needs them.
    dx: Vec<&'b str>,
    /// The current claim's lines with a code and an event date as (code, day, line index),
    /// sorted: the lines of one code on one day are a run (CN-DUP-001).
    same_day: Vec<(u32, i64, u32)>,
    /// Care days of the current claim (CN-BEDIDLE-001).
    days: Vec<i64>,
    /// The current claim's per-diem lines as (code, cnt word) (CN-DIEM-001).
    per_diem: Vec<(u32, i64)>,
    out: Outcome,
}

/// The bit of a rule in a claim's bail mask.
fn bit(rule: u8) -> u32 {
    1 << rule
}

/// Stay days (common.vigil `stay_days`): discharge date minus admission date, 1 where 0.
fn stay_days(admitted: i64, discharged: i64) -> i64 {
    match discharged - admitted {
        0 => 1,
        d => d,
    }
}

/// Whole years from `birth` to `at` (day numbers): a birthday reached counts a year more.
fn age(birth: i64, at: i64) -> Option<i64> {
    let (b, a) = (day_to_date(birth)?, day_to_date(at)?);
    let mut years = a.year() as i64 - b.year() as i64;
    if (a.month(), a.day()) < (b.month(), b.day()) {
        years -= 1;
    }
    Some(years)
}

/// The first three characters of a code (`.category`).
fn category(code: &str) -> &str {
    code.char_indices().nth(3).map_or(code, |(i, _)| &code[..i])
}

impl<'b> Pass<'_, 'b> {
    fn text(&self, id: u32) -> Option<&'b str> {
        self.strings.resolve(id).map(|s| &**s)
    }

    /// `sorts_before(a, b)` on two ids (serial order: numbers by value, then text).
    fn before(&self, a: u32, b: u32) -> bool {
        a != b && sorts_before(self.text(a).unwrap_or(""), self.text(b).unwrap_or(""))
    }

    /// Fills `dx` with the claim's diagnosis codes, once per claim.
    fn diagnoses(&mut self, claim: usize, ready: &mut bool) {
        if *ready {
            return;
        }
        *ready = true;
        self.dx.clear();
        let c = self.c;
        let (from, to) = (
            c.dx_offsets[claim] as usize,
            c.dx_offsets[claim + 1] as usize,
        );
        let strings = self.strings;
        let text = |id: u32| strings.resolve(id).map(|s| &**s);
        self.dx.extend(text(c.main_dx[claim]));
        self.dx
            .extend(c.diag_code[from..to].iter().filter_map(|&id| text(id)));
    }

    /// Decides every claim and line rule on claim row `claim`.
    fn claim(&mut self, claim: usize) {
        let (c, l, base) = (self.c, self.l, self.base);
        let codes = &base.codes;
        let cat = &base.reference.catalogue;
        let pairs = &base.reference.pairs;
        let (l0, l1) = (
            c.line_offsets[claim] as usize,
            c.line_offsets[claim + 1] as usize,
        );
        let begin_day = day_of(c.begndate[claim]);
        let end_day = day_of(c.enddate[claim]);
        let med = c.med_type[claim];
        let inpatient = med != 0 && med == codes.inpatient;
        let outpatient_like = codes.outpatient_like(med);
        let setl_id = c.setl_id[claim];

        self.event.clear();
        self.row.clear();
        for line in l0..l1 {
            let day = match l.fee_ocur_time[line] {
                ABSENT => begin_day,
                t => day_of(t),
            };
            let code = l.hilist_code[line];
            self.event.push(day);
            self.row.push(if code != 0 && day != ABSENT {
                cat.row(code, day)
            } else {
                NO_ROW
            });
        }
        let mut dx_ready = false;
        let mut same_day_ready = false;
        let mut bail: u32 = 0;
        let start = self.out.fired.len();
        let provider_lv = base
            .reference
            .providers
            .hosp_lv
            .get(c.fixmedins_code[claim] as usize)
            .copied()
            .flatten();
        let rx_limit = if med == codes.emergency {
            EMERGENCY_RX_DAYS
        } else if med == codes.chronic_outpatient {
            CHRONIC_RX_DAYS
        } else {
            OUTPATIENT_RX_DAYS
        };

        // Line rules, all in one walk over the claim's lines.
        for (i, line) in (l0..l1).enumerate() {
            let day = self.event[i];
            let row = self.row[i];
            let code = l.hilist_code[line];
            let has_amount = l.det_item_fee_sumamt[line] != ABSENT;
            let fired = &mut self.out.fired;
            let mut fire = |rule: u8| {
                fired.push(Fired {
                    rule,
                    line: i as u32,
                })
            };
            if row != NO_ROW {
                let row = row as usize;
                if has_amount {
                    // CN-GEND-001
                    let limit = cat.gend_lmt[row];
                    let g = c.gend[claim];
                    if limit != 0 && g != 0 && g != codes.unspecified && g != limit {
                        fire(GEND);
                    }
                    // CN-AGE-001
                    let (lo, hi) = (cat.min_age[row], cat.max_age[row]);
                    let birth = c.brdy[claim];
                    if birth != ABSENT && (lo != ABSENT || hi != ABSENT) {
                        match age(birth, day) {
                            _ if lo == UNFIT || hi == UNFIT => bail |= bit(AGE),
                            Some(years) => {
                                if (lo != ABSENT && years < lo) || (hi != ABSENT && years > hi) {
                                    fire(AGE);
                                }
                            }
                            None => bail |= bit(AGE),
                        }
                    }
                    // CN-LVL-001
                    let min_lv = cat.hosp_lv_min[row];
                    if min_lv != ABSENT {
                        if let Some(lv) = provider_lv {
                            match (lv, min_lv) {
                                (_, UNFIT) | (UNFIT, _) => bail |= bit(LVL),
                                (ABSENT, _) => fire(LVL),
                                (lv, min_lv) if lv < min_lv => fire(LVL),
                                _ => {}
                            }
                        }
                    }
                    // CN-DX-001
                    let (from, to) = cat.lmt_dx[row];
                    if to > from {
                        if !dx_ready {
                            self.diagnoses(claim, &mut dx_ready);
                        }
                        let prefixes = &cat.prefixes[from as usize..to as usize];
                        let matched = prefixes
                            .iter()
                            .flatten()
                            .any(|p| self.dx.iter().any(|d| d.starts_with(&**p)));
                        if !matched {
                            self.out.fired.push(Fired {
                                rule: DX,
                                line: i as u32,
                            });
                        }
                    }
                    // CN-DUP-001
                    let daily_max = cat.daily_max[row];
                    if daily_max == UNFIT {
                        bail |= bit(DUP);
                    } else if daily_max != ABSENT {
                        if !same_day_ready {
                            same_day_ready = true;
                            self.same_day.clear();
                            for (j, &d) in self.event.iter().enumerate() {
                                let code = l.hilist_code[l0 + j];
                                if code != 0 && d != ABSENT {
                                    self.same_day.push((code, d, j as u32));
                                }
                            }
                            self.same_day.sort_unstable();
                        }
                        let sn = l.feedetl_sn[line];
                        let from = self.same_day.partition_point(|k| (k.0, k.1) < (code, day));
                        let earlier = self.same_day[from..]
                            .iter()
                            .take_while(|k| k.0 == code && k.1 == day)
                            .filter(|k| self.before(l.feedetl_sn[l0 + k.2 as usize], sn))
                            .count() as i64;
                        if earlier >= daily_max {
                            self.out.fired.push(Fired {
                                rule: DUP,
                                line: i as u32,
                            });
                        }
                    }
                }
            } else if code != 0 && day != ABSENT && has_amount {
                // CN-CAT-001: no catalogue row on the day, and not billed as self-pay.
                if l.chrgitm_lv[line] != codes.self_pay {
                    self.out.fired.push(Fired {
                        rule: CAT,
                        line: i as u32,
                    });
                }
            }

            // CN-PRICE-001: the catalogue's cap, else the line's own.
            let cap = match row {
                NO_ROW => l.pric_uplmt_amt[line],
                r => match cat.pric_uplmt_amt[r as usize] {
                    ABSENT => l.pric_uplmt_amt[line],
                    c => c,
                },
            };
            let price = l.pric[line];
            if cap != ABSENT && price != ABSENT && l.cnt[line] != ABSENT {
                if cap == UNFIT || price == UNFIT {
                    bail |= bit(PRICE);
                } else if price > cap {
                    self.out.fired.push(Fired {
                        rule: PRICE,
                        line: i as u32,
                    });
                }
            }

            if code != 0 && day != ABSENT && has_amount {
                // CN-PAIR-001: another line of the day whose price includes this one.
                if pairs.included.get(code as usize).copied().unwrap_or(false) {
                    let includes = (l0..l1).enumerate().any(|(j, a)| {
                        let a_code = l.hilist_code[a];
                        self.event[j] == day
                            && a_code != 0
                            && pairs.relation(a_code, code, day) == Some(Relation::Includes)
                    });
                    if includes {
                        self.out.fired.push(Fired {
                            rule: PAIR_INCLUDES,
                            line: i as u32,
                        });
                    }
                }
                // CN-PAIR-002: an earlier-numbered line of the day it excludes (or is
                // excluded by).
                if pairs.exclusive.get(code as usize).copied().unwrap_or(false) {
                    let sn = l.feedetl_sn[line];
                    let excluded = (l0..l1).enumerate().any(|(j, other)| {
                        let oc = l.hilist_code[other];
                        self.event[j] == day
                            && oc != 0
                            && pairs.exclusive.get(oc as usize).copied().unwrap_or(false)
                            && (pairs.relation(oc, code, day) == Some(Relation::Excludes)
                                || pairs.relation(code, oc, day) == Some(Relation::Excludes))
                            && self.before(l.feedetl_sn[other], sn)
                    });
                    if excluded {
                        self.out.fired.push(Fired {
                            rule: PAIR_EXCLUDES,
                            line: i as u32,
                        });
                    }
                }
            }

            let days = l.prd_days[line];
            let list_type = l.list_type[line];
            // CN-QTY-001
            if outpatient_like
                && list_type != 0
                && (list_type == codes.western_or_patent || list_type == codes.herbal_pieces)
                && days != ABSENT
                && has_amount
            {
                if days == UNFIT {
                    bail |= bit(QTY);
                } else if days > rx_limit {
                    self.out.fired.push(Fired {
                        rule: QTY,
                        line: i as u32,
                    });
                }
            }
            // CN-TKDRUG-001
            if inpatient && l.dscg_tkdrug_flag[line] == codes.yes && days != ABSENT && has_amount {
                if days == UNFIT {
                    bail |= bit(TKDRUG);
                } else if days > DISCHARGE_RX_DAYS {
                    self.out.fired.push(Fired {
                        rule: TKDRUG,
                        line: i as u32,
                    });
                }
            }
            // CN-REPEAT-001: the patient's other claims are searched before the amount is
            // looked at, as the rule reads, so a search that cannot be decided bails.
            if outpatient_like
                && list_type == codes.western_or_patent
                && days != ABSENT
                && code != 0
                && day != ABSENT
            {
                match self
                    .patients
                    .repeat(claim, setl_id, code, day, REPEAT_OVERLAP_DAYS)
                {
                    Repeat::Found if has_amount => self.out.fired.push(Fired {
                        rule: REPEAT,
                        line: i as u32,
                    }),
                    Repeat::Bail => bail |= bit(REPEAT),
                    _ => {}
                }
            }
        }

        // Claim rules.
        let mut fire_claim = |rule: u8| {
            self.out.fired.push(Fired { rule, line: 0 });
        };
        // CN-DIEM-001: per-diem items billed for more days than the stay.
        if inpatient && begin_day != ABSENT && end_day != ABSENT {
            let stay = stay_days(begin_day, end_day);
            // Summed per code over the lines sorted by code. An UNFIT count or an overflow
            // anywhere bails (the rule reads groups in order of appearance and may stop at an
            // earlier group, so bailing on any is the safe side).
            self.per_diem.clear();
            for (i, line) in (l0..l1).enumerate() {
                let r = self.row[i];
                if r != NO_ROW && cat.per_diem[r as usize] {
                    self.per_diem.push((l.hilist_code[line], l.cnt[line]));
                }
            }
            self.per_diem.sort_unstable_by_key(|g| g.0);
            let limit = stay.checked_mul(DEC_ONE);
            let (mut over, mut undecided) = (false, limit.is_none());
            for group in self.per_diem.chunk_by(|a, b| a.0 == b.0) {
                let mut billed: Option<i64> = Some(0);
                for &(_, cnt) in group {
                    billed = match cnt {
                        ABSENT => billed,
                        UNFIT => None,
                        n => billed.and_then(|b| b.checked_add(n)),
                    };
                }
                match (billed, limit) {
                    (Some(b), Some(limit)) => over |= b > limit,
                    _ => undecided = true,
                }
            }
            if undecided {
                bail |= bit(DIEM);
            } else if over {
                fire_claim(DIEM);
            }
        }
        // CN-BEDIDLE-001: days with care (a line other than bed or nursing), fewer than half
        // the stay.
        if inpatient && begin_day != ABSENT && end_day != ABSENT {
            let stay = stay_days(begin_day, end_day);
            if stay >= BEDIDLE_MIN_STAY_DAYS {
                self.days.clear();
                for (i, &day) in self.event.iter().enumerate() {
                    let t = l.med_chrgitm_type[l0 + i];
                    if day != ABSENT && !(t != 0 && (t == codes.bed || t == codes.nursing)) {
                        self.days.push(day);
                    }
                }
                self.days.sort_unstable();
                self.days.dedup();
                let care_days = self.days.len() as i64;
                if care_days * 2 < stay {
                    fire_claim(BEDIDLE);
                }
            }
        }
        // CN-NIGHT-001
        if med != 0 && med == codes.pharmacy && c.setl_time[claim] != ABSENT {
            let hour = c.setl_time[claim].rem_euclid(86_400) / 3_600;
            if !(6..22).contains(&hour) {
                fire_claim(NIGHT);
            }
        }
        // CN-RX5-001: a prescription of more than 5 distinct drugs.
        if outpatient_like {
            let drug = |i: usize| {
                l.list_type[l0 + i] == codes.western_or_patent && l.rx_drord_no[l0 + i] != 0
            };
            let n = l1 - l0;
            let over = (0..n).any(|i| {
                let rx = l.rx_drord_no[l0 + i];
                if !drug(i) || (0..i).any(|j| drug(j) && l.rx_drord_no[l0 + j] == rx) {
                    return false;
                }
                let member = |k: usize| drug(k) && l.rx_drord_no[l0 + k] == rx;
                let distinct = (i..n)
                    .filter(|&k| {
                        let code = l.hilist_code[l0 + k];
                        member(k)
                            && code != 0
                            && !(i..k).any(|m| member(m) && l.hilist_code[l0 + m] == code)
                    })
                    .count();
                distinct > RX_MAX_DRUGS
            });
            if over {
                fire_claim(RX5);
            }
        }
        // CN-DXSEX-001
        let g = c.gend[claim];
        if g != 0 && g != codes.unspecified {
            let rows = &base.reference.dx_gender.rows;
            if rows.iter().any(|(_, sex)| *sex != 0 && *sex != g) {
                if !dx_ready {
                    self.diagnoses(claim, &mut dx_ready);
                }
                let dx = &self.dx;
                let other_sex = rows.iter().any(|(prefix, sex)| {
                    *sex != 0
                        && *sex != g
                        && prefix
                            .as_deref()
                            .is_some_and(|p| dx.iter().any(|d| d.starts_with(p)))
                });
                if other_sex {
                    self.out.fired.push(Fired {
                        rule: DXSEX,
                        line: 0,
                    });
                }
            }
        }
        self.history_rules(claim, begin_day, inpatient, outpatient_like);

        if bail != 0 {
            drop_bailed(&mut self.out.fired, start, bail);
        }
        self.out.bailed.push(bail);
        self.out.starts.push(self.out.fired.len());
    }

    /// READMIT, OVERLAP, OTPIPT, DEATH and FREQ: one walk over the patient's other claims.
    fn history_rules(
        &mut self,
        claim: usize,
        begin_day: i64,
        inpatient: bool,
        outpatient_like: bool,
    ) {
        let (c, base) = (self.c, self.base);
        let codes = &base.codes;
        if begin_day == ABSENT {
            return;
        }
        let admitted = c.begndate[claim];
        let visit_ok = outpatient_like;
        let freq = c.med_type[claim] == codes.outpatient && c.med_type[claim] != 0;
        let pays = c.fund_pay_sumamt[claim] != ABSENT;
        let setl_id = c.setl_id[claim];
        let provider = c.fixmedins_code[claim];
        let main_dx = c.main_dx[claim];
        let mut found = [false; 4];
        let mut visits: i64 = 0;
        for &p in self.patients.of(claim) {
            let p = p as usize;
            if c.setl_id[p] == setl_id {
                continue;
            }
            let p_med = c.med_type[p];
            let pb = c.begndate[p];
            let pe = c.enddate[p];
            let pb_day = day_of(pb);
            let pe_day = day_of(pe);
            if p_med == codes.inpatient && p_med != 0 {
                // CN-READMIT-001: same provider, same diagnosis category, admitted within the
                // window after the other stay's discharge.
                if inpatient
                    && !found[0]
                    && provider != 0
                    && c.fixmedins_code[p] == provider
                    && pe != ABSENT
                    && pb != ABSENT
                    && pb < admitted
                    && (0..=READMIT_WINDOW_DAYS).contains(&(begin_day - pe_day))
                    && main_dx != 0
                    && c.main_dx[p] != 0
                    && self
                        .text(c.main_dx[p])
                        .zip(self.text(main_dx))
                        .is_some_and(|(a, b)| category(a) == category(b))
                {
                    found[0] = true;
                }
                // CN-OVERLAP-001: a stay elsewhere that began first and ends after this
                // admission.
                if inpatient
                    && !found[1]
                    && provider != 0
                    && c.fixmedins_code[p] != 0
                    && c.fixmedins_code[p] != provider
                    && pb != ABSENT
                    && pe != ABSENT
                    && begin_day < pe_day
                    && (pb < admitted || (pb == admitted && self.before(c.setl_id[p], setl_id)))
                {
                    found[1] = true;
                }
                // CN-OTPIPT-001: a visit strictly inside a stay.
                if visit_ok
                    && !found[2]
                    && pb != ABSENT
                    && pe != ABSENT
                    && pb_day < begin_day
                    && begin_day < pe_day
                {
                    found[2] = true;
                }
                // CN-DEATH-001: costs after a stay that ended in death.
                if !found[3]
                    && c.dscg_way[p] == codes.death
                    && c.dscg_way[p] != 0
                    && pe != ABSENT
                    && begin_day > pe_day
                {
                    found[3] = true;
                }
            } else if freq
                && p_med == codes.outpatient
                && p_med != 0
                && pb != ABSENT
                && (begin_day - (FREQ_WINDOW_DAYS - 1)..=begin_day).contains(&pb_day)
            {
                visits += 1;
            }
        }
        for (rule, hit) in [READMIT, OVERLAP, OTPIPT, DEATH].into_iter().zip(found) {
            if hit && pays {
                self.out.fired.push(Fired { rule, line: 0 });
            }
        }
        if freq && visits + 1 > FREQ_MAX_VISITS {
            self.out.fired.push(Fired {
                rule: FREQ,
                line: 0,
            });
        }
    }
}

/// Drops the findings from `start` on of the rules whose bits `bail` sets (a rule that bailed
/// on a claim has no verdict there, not even the lines it fired before it bailed).
fn drop_bailed(fired: &mut Vec<Fired>, start: usize, bail: u32) {
    let mut keep = start;
    for i in start..fired.len() {
        if bail & bit(fired[i].rule) == 0 {
            fired[keep] = fired[i];
            keep += 1;
        }
    }
    fired.truncate(keep);
}

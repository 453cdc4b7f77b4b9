//! Synthetic claims (formats.md §1) for benchmarks and tests, consistent with a rulebook's tables,
//! with violations of each national rule planted at a known rate.
//!
//! Claims are made one patient at a time: a patient's year of visits and stays is planned, then
//! written in time order, so memory holds one patient (never the file) and history rules see a
//! coherent sequence. Everything is drawn from one seeded generator: the same arguments give the
//! same bytes.
//!
//! How each rule is planted (a "credit" grows by `rate` per claim made and is spent on the next
//! claim that can host the violation, so each kind is planted on about `rate` of the claims):
//! - line rules (GEND, AGE, PRICE, LVL, DX, CAT, DUP, PAIR-001/002) and the claim rules QTY,
//!   TKDRUG, REPEAT, DXSEX, RX5, DIEM, NIGHT, BEDIDLE: one offending line or claim per credit;
//! - history rules (READMIT, OVERLAP, OTPIPT, DEATH, FREQ): planned into a patient's year with
//!   probability `rate` per patient (per patient with a stay for READMIT, OVERLAP and DEATH);
//! - KPI: a provider-month whose inpatient claims all carry an extra high-value line, chosen with
//!   probability `rate` per hospital-month, plus one whenever `rate` > 0 (the busiest hospital, a
//!   month picked by the seed). It counts as planted when both it and the month before hold ≥ 30
//!   inpatient claims; the busiest hospital gets enough of them from about 3,000 claims on.
//!
//! Clean claims are kept clean by construction: catalogue rows valid on the day, sex, age, level
//! and diagnosis limits met, prices at 80–100% of the cap, each code once a day, no `item_pairs`
//! on one day, per-diem items billed for the nights only, care every day of a stay, supplies that
//! do not overlap by more than 7 days, ≤ 4 drugs a prescription, 普通门诊 visits ≥ 3 days apart,
//! stays ≥ 20 days apart, nothing after a death. Routine items are cheap (`modest`) so monthly
//! mean costs stay within a few percent of each other and CN-KPI-001 fires only where planted.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

/// The 23 rule ids of the national rulebook, in the order of [`Summary::planted`].
pub const RULES: [&str; 23] = [
    "CN-GEND-001",
    "CN-AGE-001",
    "CN-PRICE-001",
    "CN-LVL-001",
    "CN-DX-001",
    "CN-CAT-001",
    "CN-QTY-001",
    "CN-TKDRUG-001",
    "CN-DUP-001",
    "CN-PAIR-001",
    "CN-PAIR-002",
    "CN-REPEAT-001",
    "CN-DXSEX-001",
    "CN-RX5-001",
    "CN-DIEM-001",
    "CN-NIGHT-001",
    "CN-READMIT-001",
    "CN-OVERLAP-001",
    "CN-OTPIPT-001",
    "CN-DEATH-001",
    "CN-FREQ-001",
    "CN-BEDIDLE-001",
    "CN-KPI-001",
];

const GEND: usize = 0;
const AGE: usize = 1;
const PRICE: usize = 2;
const LVL: usize = 3;
const DX: usize = 4;
const CAT: usize = 5;
const QTY: usize = 6;
const TKDRUG: usize = 7;
const DUP: usize = 8;
const PAIR1: usize = 9;
const PAIR2: usize = 10;
const REPEAT: usize = 11;
const DXSEX: usize = 12;
const RX5: usize = 13;
const DIEM: usize = 14;
const NIGHT: usize = 15;
const READMIT: usize = 16;
const OVERLAP: usize = 17;
const OTPIPT: usize = 18;
const DEATH: usize = 19;
const FREQ: usize = 20;
const BEDIDLE: usize = 21;
const KPI: usize = 22;

/// Rulebook thresholds the plants are made against (rules-cn-national.md).
const RX_DAYS_OUTPATIENT: i32 = 7;
const RX_DAYS_EMERGENCY: i32 = 3;
const RX_DAYS_CHRONIC: i32 = 84;
const RX_DAYS_DISCHARGE: i32 = 14;
const REPEAT_OVERLAP_DAYS: i32 = 7;
const READMIT_DAYS: i32 = 15;
const KPI_MIN_CLAIMS: u32 = 30;

/// Day 0 is 2026-01-01; every generated date lies in 2026.
type Day = i32;
const YEAR: i64 = 2026;
const DAYS_IN_YEAR: Day = 365;
/// With `--history-out`, claims begun before this day (February 1st) go to the history file.
const HISTORY_BEFORE: Day = 31;

/// Diagnoses the generator draws from (ICD-10 国家临床版 2.0 style); sex limits come from the
/// `dx_gender` table, never from this list.
const ACUTE_DX: [&str; 8] = [
    "J06.900", "K29.700", "M54.500", "J20.900", "R51.x00", "N40.x00", "N80.000", "L30.900",
];
const CHRONIC_DX: [&str; 6] = [
    "I10.x00", "E11.900", "I25.100", "E10.900", "D46.900", "C34.900",
];
const STAY_DX: [&str; 9] = [
    "I63.900", "J18.900", "K35.800", "I21.900", "I25.100", "E11.900", "C34.900", "N40.x00",
    "D25.900",
];
/// Candidates for a diagnosis that does not fit the patient's sex (CN-DXSEX-001).
const SEXED_DX: [&str; 6] = [
    "N40.x00", "C61.x00", "N41.000", "O80.000", "N80.000", "D25.900",
];
/// Codes that are in no catalogue (CN-CAT-001): code, name, list_type, med_chrgitm_type.
const OFF_CATALOGUE: [(&str, &str, &str, &str); 3] = [
    ("XN06AXZ999A001019999999", "某进口营养神经药", "101", "09"),
    ("339999999000000", "自主定价特需治疗", "201", "05"),
    ("C9999999999999999999", "非目录医用耗材", "301", "08"),
];

/// A reference table could not be read.
#[derive(Debug)]
pub struct TableError(pub String);

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TableError {}

/// One `hilist` row.
#[derive(Debug, Clone)]
pub struct Item {
    pub code: String,
    pub name: String,
    pub list_type: String,
    pub chrg_type: String,
    pub chrgitm_lv: String,
    pub gend_lmt: Option<u8>,
    pub min_age: Option<i32>,
    pub max_age: Option<i32>,
    pub hosp_lv_min: Option<u8>,
    pub lmt_dx: Vec<String>,
    /// Cents.
    pub cap: Option<i64>,
    pub daily_max: Option<u32>,
    pub per_diem: bool,
    begin: Day,
    end: Day,
}

impl Item {
    fn valid(&self, day: Day) -> bool {
        self.begin <= day && day <= self.end
    }
    fn is_drug(&self) -> bool {
        self.list_type == "101"
    }
    /// Care in the sense of CN-BEDIDLE-001: anything but 床位费 and 护理费.
    fn is_care(&self) -> bool {
        self.chrg_type != "01" && self.chrg_type != "07"
    }
}

/// One `providers` row.
#[derive(Debug, Clone)]
pub struct Provider {
    pub code: String,
    pub level: Option<u8>,
    pub kind: String,
}

#[derive(Debug, Clone)]
struct Pair {
    a: String,
    b: String,
    includes: bool,
    begin: Day,
    end: Day,
}

/// The reference tables of a rulebook folder, as the generator uses them.
#[derive(Debug, Clone)]
pub struct Tables {
    pub items: Vec<Item>,
    pub providers: Vec<Provider>,
    pairs: Vec<Pair>,
    dx_gender: Vec<(String, u8)>,
}

fn read_csv(path: &Path) -> Result<Vec<HashMap<String, String>>, TableError> {
    let err = |e: &dyn std::fmt::Display| TableError(format!("{}: {e}", path.display()));
    let mut reader = csv::Reader::from_path(path).map_err(|e| err(&e))?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| err(&e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| err(&e))?;
        rows.push(
            headers
                .iter()
                .cloned()
                .zip(record.iter().map(|v| v.trim().to_string()))
                .collect(),
        );
    }
    Ok(rows)
}

fn field<'r>(row: &'r HashMap<String, String>, name: &str) -> &'r str {
    row.get(name).map(String::as_str).unwrap_or("")
}

fn opt_num<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() {
        None
    } else {
        s.parse().ok()
    }
}

/// `12.3` → 1230 cents; more than 2 decimals are cut (caps in the tables have at most 2).
fn parse_cents(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac: String = frac.chars().chain("00".chars()).take(2).collect();
    Some(whole.parse::<i64>().ok()? * 100 + frac.parse::<i64>().ok()?)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A table date as a day of 2026; `open` where the cell is empty (an open end).
fn parse_day(s: &str, open: Day) -> Day {
    let mut parts = s.split('-').map(|p| p.parse::<i64>().ok());
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Some(y)), Some(Some(m)), Some(Some(d))) => {
            let n = days_from_civil(y, m as u32, d as u32) - days_from_civil(YEAR, 1, 1);
            n.clamp(-100_000, 100_000) as Day
        }
        _ => open,
    }
}

const MONTH_DAYS: [Day; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// (month, day of month) of a day of 2026.
fn month_day(day: Day) -> (u32, u32) {
    let mut rest = day;
    for (i, len) in MONTH_DAYS.iter().enumerate() {
        if rest < *len {
            return (i as u32 + 1, rest as u32 + 1);
        }
        rest -= len;
    }
    (12, 31)
}

impl Tables {
    /// Reads `tables/{hilist,providers,item_pairs,dx_gender}.csv` of a rulebook folder.
    pub fn load(rulebook: &Path) -> Result<Tables, TableError> {
        let dir = rulebook.join("tables");
        let items = read_csv(&dir.join("hilist.csv"))?
            .iter()
            .map(|r| Item {
                code: field(r, "hilist_code").to_string(),
                name: field(r, "hilist_name").to_string(),
                list_type: field(r, "list_type").to_string(),
                chrg_type: field(r, "med_chrgitm_type").to_string(),
                chrgitm_lv: field(r, "chrgitm_lv").to_string(),
                gend_lmt: opt_num(field(r, "gend_lmt")),
                min_age: opt_num(field(r, "min_age")),
                max_age: opt_num(field(r, "max_age")),
                hosp_lv_min: opt_num(field(r, "hosp_lv_min")),
                lmt_dx: field(r, "lmt_dx")
                    .split('|')
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect(),
                cap: parse_cents(field(r, "pric_uplmt_amt")),
                daily_max: opt_num(field(r, "daily_max")),
                per_diem: matches!(field(r, "per_diem"), "1" | "true"),
                begin: parse_day(field(r, "begn_date"), Day::MIN),
                end: parse_day(field(r, "end_date"), Day::MAX),
            })
            .filter(|i| !i.code.is_empty())
            .collect();
        let providers = read_csv(&dir.join("providers.csv"))?
            .iter()
            .map(|r| Provider {
                code: field(r, "fixmedins_code").to_string(),
                level: opt_num(field(r, "hosp_lv")),
                kind: field(r, "kind").to_string(),
            })
            .collect();
        let pairs = read_csv(&dir.join("item_pairs.csv"))?
            .iter()
            .map(|r| Pair {
                a: field(r, "code_a").to_string(),
                b: field(r, "code_b").to_string(),
                includes: field(r, "relation") == "includes",
                begin: parse_day(field(r, "begn_date"), Day::MIN),
                end: parse_day(field(r, "end_date"), Day::MAX),
            })
            .collect();
        let dx_gender = read_csv(&dir.join("dx_gender.csv"))?
            .iter()
            .filter_map(|r| {
                Some((
                    field(r, "dx_prefix").to_string(),
                    opt_num(field(r, "gend"))?,
                ))
            })
            .collect();
        let tables = Tables {
            items,
            providers,
            pairs,
            dx_gender,
        };
        if !tables.providers.iter().any(|p| p.kind == "hospital") {
            return Err(TableError(
                "providers.csv lists no hospital: inpatient claims need one".into(),
            ));
        }
        Ok(tables)
    }

    /// Whether codes `x` and `y` form an `item_pairs` row valid on `day`, either way round.
    fn paired(&self, x: &str, y: &str, day: Day) -> bool {
        self.pairs.iter().any(|p| {
            p.begin <= day && day <= p.end && ((p.a == x && p.b == y) || (p.a == y && p.b == x))
        })
    }

    fn in_pairs(&self, code: &str) -> bool {
        self.pairs.iter().any(|p| p.a == code || p.b == code)
    }

    /// Whether a diagnosis suits a sex under `dx_gender`.
    fn dx_fits(&self, dx: &str, sex: u8) -> bool {
        !self
            .dx_gender
            .iter()
            .any(|(prefix, g)| dx.starts_with(prefix.as_str()) && *g != sex)
    }

    fn in_catalogue(&self, code: &str) -> bool {
        self.items.iter().any(|i| i.code == code)
    }
}

/// The generator's random numbers: splitmix64, small and stable across platforms and versions.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5EED_0F71_611C_u64)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            Some(&items[self.range(0, items.len() as i64 - 1) as usize])
        }
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenConfig {
    /// Claims written to the claims file.
    pub claims: u64,
    pub seed: u64,
    /// How often each violation kind is planted (see the module documentation).
    pub rate: f64,
}

/// What was generated and planted.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub claims: u64,
    pub history_claims: u64,
    pub lines: u64,
    pub patients: u64,
    /// Per rule of [`RULES`]: the findings expected in the claims file (lines for line rules,
    /// claims for claim rules, provider-months for CN-KPI-001).
    pub planted: [u64; 23],
    /// The provider-months given a jump in mean cost, with their and the previous month's
    /// inpatient claim counts.
    pub kpi_jumps: Vec<(String, u32, u32, u32)>,
}

impl Summary {
    /// One line per rule, for stderr.
    pub fn report(&self) -> String {
        let mut s = format!(
            "vigil-gen: {} claims ({} lines, {} patients), {} history claims\n",
            self.claims, self.lines, self.patients, self.history_claims
        );
        for (id, n) in RULES.iter().zip(self.planted) {
            let _ = writeln!(
                s,
                "  {id:<15} {n:>9}  ({:.2}% of claims)",
                100.0 * n as f64 / self.claims.max(1) as f64
            );
        }
        for (p, m, prev, this) in &self.kpi_jumps {
            let _ = writeln!(
                s,
                "  KPI jump {p} 2026-{m:02}: {prev} inpatient claims the month before, {this} in the month{}",
                if *prev >= KPI_MIN_CLAIMS && *this >= KPI_MIN_CLAIMS { "" } else { " (too few: not planted)" }
            );
        }
        s
    }
}

#[derive(Debug, Clone)]
struct Line<'t> {
    day: Day,
    secs: u32,
    rx: Option<u8>,
    code: &'t str,
    name: &'t str,
    list_type: &'t str,
    chrg_type: &'t str,
    chrgitm_lv: &'t str,
    cnt: i64,
    /// Cents.
    pric: i64,
    cap: Option<i64>,
    prd_days: Option<i32>,
    take_home: bool,
}

impl<'t> Line<'t> {
    fn of(item: &'t Item, day: Day, secs: u32, cnt: i64, pric: i64) -> Line<'t> {
        Line {
            day,
            secs,
            rx: None,
            code: &item.code,
            name: &item.name,
            list_type: &item.list_type,
            chrg_type: &item.chrg_type,
            chrgitm_lv: &item.chrgitm_lv,
            cnt,
            pric,
            cap: item.cap,
            prd_days: None,
            take_home: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Visit {
    Outpatient { med_type: &'static str, day: Day },
    Stay { begin: Day, end: Day },
}

#[derive(Debug, Clone)]
struct Planned {
    visit: Visit,
    provider: usize,
    main_dx: Option<&'static str>,
    death: bool,
    /// History kinds this claim is planned to fire.
    fires: Vec<usize>,
}

impl Planned {
    fn begin(&self) -> Day {
        match self.visit {
            Visit::Outpatient { day, .. } => day,
            Visit::Stay { begin, .. } => begin,
        }
    }
}

#[derive(Debug, Clone)]
struct Claim<'t> {
    med_type: &'static str,
    provider: usize,
    begin: (Day, u32),
    end: (Day, u32),
    setl: (Day, u32),
    main_dx: Option<&'static str>,
    dx: Vec<&'static str>,
    dscg_way: &'static str,
    lines: Vec<Line<'t>>,
    fires: [u8; 23],
}

impl<'t> Claim<'t> {
    /// Whether `code` may join the lines of `day` without a duplicate or an `item_pairs` clash.
    fn fits(&self, tables: &Tables, code: &str, day: Day) -> bool {
        !self
            .lines
            .iter()
            .any(|l| l.day == day && (l.code == code || tables.paired(code, l.code, day)))
    }
    fn outpatient_like(&self) -> bool {
        matches!(self.med_type, "11" | "13" | "14" | "41")
    }
    fn rx_limit(&self) -> i32 {
        match self.med_type {
            "13" => RX_DAYS_EMERGENCY,
            "14" => RX_DAYS_CHRONIC,
            _ => RX_DAYS_OUTPATIENT,
        }
    }
    fn next_rx(&self) -> u8 {
        self.lines.iter().filter_map(|l| l.rx).max().unwrap_or(0) + 1
    }
    fn medfee(&self) -> i64 {
        self.lines.iter().map(|l| l.pric * l.cnt).sum()
    }
}

struct Patient {
    psn: u64,
    sex: u8,
    birth: (i64, u32, u32),
    insutype: &'static str,
    chronic: Vec<&'static str>,
}

impl Patient {
    fn age_on(&self, day: Day) -> i32 {
        let (m, d) = month_day(day);
        let (by, bm, bd) = self.birth;
        (YEAR - by - i64::from((m, d) < (bm, bd))) as i32
    }
}

/// Items cheap enough to bill routinely: no surgery, a cap of at most 200.00. Expensive items in
/// random draws would make a provider's monthly mean cost swing by more than CN-KPI-001's 30%.
fn modest(item: &Item) -> bool {
    item.chrg_type != "06" && item.cap.is_none_or(|c| c <= 20_000)
}

/// A table value inside a JSON string: quotes, backslashes and controls escaped.
struct Json<'a>(&'a str);

impl std::fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// One dispensing with a supply, for CN-REPEAT-001: code, date, date + prd_days.
type Dispensed<'t> = (&'t str, Day, Day);

/// Which constraint of a catalogue row a plant breaks (all others hold).
#[derive(Clone, Copy, PartialEq)]
enum Breaks {
    Nothing,
    Sex,
    Age,
    Level,
    Diagnosis,
}

/// The generator: tables, random numbers, and the credit of each planted kind.
pub struct Generator<'t> {
    tables: &'t Tables,
    rng: Rng,
    rate: f64,
    credit: [f64; 23],
    hospitals: Vec<(usize, u32)>,
    outpatient_sites: Vec<usize>,
    pharmacies: Vec<usize>,
    kpi_months: Vec<Vec<bool>>,
    kpi_counts: Vec<[u32; 12]>,
    /// Provider-months where the jump line could be added (an eligible uncapped item).
    kpi_hit: Vec<[bool; 12]>,
    next_setl: u64,
    next_psn: u64,
    buf: String,
}

impl<'t> Generator<'t> {
    pub fn new(tables: &'t Tables, seed: u64, rate: f64) -> Generator<'t> {
        let mut rng = Rng::new(seed);
        // Inpatient volume goes mostly to level-3 hospitals, and five times as much to the first
        // one listed, so that its months reach CN-KPI-001's 30 claims even in small runs.
        let mut hospitals: Vec<(usize, u32)> = tables
            .providers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind == "hospital")
            .map(|(i, p)| (i, [1, 1, 3, 8][p.level.unwrap_or(0).min(3) as usize]))
            .collect();
        if let Some(first) = hospitals.first_mut() {
            first.1 *= 5;
        }
        let outpatient_sites = (0..tables.providers.len())
            .filter(|&i| tables.providers[i].kind != "pharmacy")
            .collect();
        let pharmacies: Vec<usize> = (0..tables.providers.len())
            .filter(|&i| tables.providers[i].kind == "pharmacy")
            .collect();
        let n = tables.providers.len();
        let mut kpi_months = vec![vec![false; 12]; n];
        let busiest = hospitals
            .iter()
            .max_by_key(|(i, w)| (*w, std::cmp::Reverse(*i)))
            .map(|h| h.0);
        for &(h, _) in &hospitals {
            for m in 1..12 {
                if !kpi_months[h][m - 1] && rng.chance(rate) {
                    kpi_months[h][m] = true;
                }
            }
        }
        if let (Some(h), true) = (busiest, rate > 0.0) {
            let m = rng.range(3, 9) as usize;
            kpi_months[h][m] = true;
            kpi_months[h][m - 1] = false;
            if m + 1 < 12 {
                kpi_months[h][m + 1] = false;
            }
        }
        Generator {
            tables,
            rng,
            rate,
            credit: [0.0; 23],
            hospitals,
            outpatient_sites,
            pharmacies,
            kpi_months,
            kpi_counts: vec![[0; 12]; n],
            kpi_hit: vec![[false; 12]; n],
            next_setl: 0,
            next_psn: 0,
            buf: String::with_capacity(16 * 1024),
        }
    }

    fn take(&self, kind: usize) -> bool {
        self.credit[kind] >= 1.0
    }

    fn spend(&mut self, claim: &mut Claim, kind: usize) {
        self.credit[kind] -= 1.0;
        claim.fires[kind] += 1;
    }

    fn hospital(&mut self) -> usize {
        let total: u32 = self.hospitals.iter().map(|h| h.1).sum();
        let mut x = self.rng.range(0, i64::from(total) - 1) as u32;
        for &(i, w) in &self.hospitals {
            if x < w {
                return i;
            }
            x -= w;
        }
        self.hospitals[0].0
    }

    fn other_hospital(&mut self, not: usize) -> Option<usize> {
        let others: Vec<usize> = self
            .hospitals
            .iter()
            .map(|h| h.0)
            .filter(|&i| i != not)
            .collect();
        self.rng.pick(&others).copied()
    }

    fn pick_dx(&mut self, pool: &[&'static str], sex: u8) -> Option<&'static str> {
        let fitting: Vec<&'static str> = pool
            .iter()
            .copied()
            .filter(|d| self.tables.dx_fits(d, sex))
            .collect();
        self.rng.pick(&fitting).copied()
    }

    fn new_patient(&mut self) -> Patient {
        self.next_psn += 1;
        let sex = if self.rng.chance(0.5) { 1 } else { 2 };
        let age = if self.rng.chance(0.1) {
            self.rng.range(0, 17)
        } else {
            self.rng.range(18, 92)
        };
        let birth = (
            YEAR - age - 1,
            self.rng.range(1, 12) as u32,
            self.rng.range(1, 28) as u32,
        );
        let mut chronic = Vec::new();
        if age >= 30 && self.rng.chance(0.25) {
            if let Some(d) = self.pick_dx(&CHRONIC_DX, sex) {
                chronic.push(d);
            }
        }
        Patient {
            psn: self.next_psn,
            sex,
            birth,
            insutype: if self.rng.chance(0.6) { "310" } else { "390" },
            chronic,
        }
    }

    /// A patient's year: stays first, then outpatient visits around them.
    fn plan(&mut self, p: &Patient) -> Vec<Planned> {
        let mut plan: Vec<Planned> = Vec::new();
        let rate = self.rate;
        let has_stays = self.rng.chance(0.75);
        let mut stays: Vec<(Day, Day)> = Vec::new();
        if has_stays {
            let n = self.rng.range(1, 2);
            // From day 10: a stay discharged early in January is not forced to be short, so January's
            // mean cost is not biased low against February's (CN-KPI-001 would see a jump).
            let mut cursor = self.rng.range(10, 330) as Day;
            for _ in 0..n {
                let len = self.rng.range(3, 9) as Day;
                if cursor + len >= DAYS_IN_YEAR - 1 {
                    break;
                }
                let provider = self.hospital();
                let dx = self.pick_dx(&STAY_DX, p.sex);
                plan.push(Planned {
                    visit: Visit::Stay {
                        begin: cursor,
                        end: cursor + len,
                    },
                    provider,
                    main_dx: dx,
                    death: false,
                    fires: vec![],
                });
                stays.push((cursor, cursor + len));
                let mut last_end = cursor + len;
                // 分解住院: back at the same hospital with the same disease within 15 days.
                let readmit = self.rng.chance(rate);
                if readmit {
                    let begin = last_end + self.rng.range(1, i64::from(READMIT_DAYS - 1)) as Day;
                    let end = begin + self.rng.range(3, 6) as Day;
                    if end < DAYS_IN_YEAR - 1 {
                        plan.push(Planned {
                            visit: Visit::Stay { begin, end },
                            provider,
                            main_dx: dx,
                            death: false,
                            fires: vec![READMIT],
                        });
                        stays.push((begin, end));
                        last_end = end;
                    }
                }
                // 同时段多机构住院: admitted elsewhere before this discharge (not with a
                // readmission, which the second stay could overlap as well).
                if !readmit && self.rng.chance(rate) {
                    if let Some(other) = self.other_hospital(provider) {
                        let begin = cursor + self.rng.range(1, i64::from(len) - 1) as Day;
                        let end = begin + self.rng.range(2, 4) as Day;
                        let dx2 = self.pick_dx(&STAY_DX, p.sex);
                        plan.push(Planned {
                            visit: Visit::Stay { begin, end },
                            provider: other,
                            main_dx: dx2,
                            death: false,
                            fires: vec![OVERLAP],
                        });
                        stays.push((begin, end));
                        last_end = last_end.max(end);
                    }
                }
                // 住院期间门诊/购药: a visit strictly inside the stay.
                if self.rng.chance(rate) && !self.pharmacies.is_empty() {
                    let day = cursor + self.rng.range(1, i64::from(len) - 1) as Day;
                    let pharmacy = *self.rng.pick(&self.pharmacies).unwrap_or(&0);
                    plan.push(Planned {
                        visit: Visit::Outpatient {
                            med_type: "41",
                            day,
                        },
                        provider: pharmacy,
                        main_dx: None,
                        death: false,
                        fires: vec![OTPIPT],
                    });
                }
                cursor = last_end + self.rng.range(20, 120) as Day;
            }
        }
        let inside_stay = |day: Day| stays.iter().any(|&(b, e)| b < day && day < e);
        // 普通门诊: visits at least 3 days apart (at most 10 in 30 days), or a burst of 11–13
        // visits 2 days apart (高频门诊).
        let burst = self.rng.chance(rate);
        let mut out_days: Vec<Day> = Vec::new();
        if burst {
            let start = self.rng.range(0, 330) as Day;
            let n = self.rng.range(11, 13) as Day;
            out_days.extend((0..n).map(|k| start + 2 * k));
        } else {
            let n = self.rng.range(if has_stays { 0 } else { 1 }, 4);
            for _ in 0..n {
                let d = self.rng.range(0, i64::from(DAYS_IN_YEAR) - 1) as Day;
                if out_days.iter().all(|&o| (o - d).abs() >= 3) {
                    out_days.push(d);
                }
            }
        }
        for day in out_days {
            if inside_stay(day) {
                continue;
            }
            let provider = *self.rng.pick(&self.outpatient_sites).unwrap_or(&0);
            let dx = self.pick_dx(&ACUTE_DX, p.sex);
            plan.push(Planned {
                visit: Visit::Outpatient {
                    med_type: "11",
                    day,
                },
                provider,
                main_dx: dx,
                death: false,
                fires: vec![],
            });
        }
        // 门诊慢特病 every 4–8 weeks, and some pharmacy purchases.
        if let Some(&chronic) = p.chronic.first() {
            let provider = self.hospital();
            let mut day = self.rng.range(0, 40) as Day;
            while day < DAYS_IN_YEAR {
                if !inside_stay(day) {
                    plan.push(Planned {
                        visit: Visit::Outpatient {
                            med_type: "14",
                            day,
                        },
                        provider,
                        main_dx: Some(chronic),
                        death: false,
                        fires: vec![],
                    });
                }
                day += self.rng.range(42, 84) as Day;
            }
        }
        for _ in 0..self.rng.range(0, 2) {
            let day = self.rng.range(0, i64::from(DAYS_IN_YEAR) - 1) as Day;
            if !inside_stay(day) && !self.pharmacies.is_empty() {
                let provider = *self.rng.pick(&self.pharmacies).unwrap_or(&0);
                plan.push(Planned {
                    visit: Visit::Outpatient {
                        med_type: "41",
                        day,
                    },
                    provider,
                    main_dx: None,
                    death: false,
                    fires: vec![],
                });
            }
        }
        if self.rng.chance(0.05) {
            let day = self.rng.range(0, i64::from(DAYS_IN_YEAR) - 1) as Day;
            if !inside_stay(day) {
                let provider = self.hospital();
                let dx = self.pick_dx(&ACUTE_DX, p.sex);
                plan.push(Planned {
                    visit: Visit::Outpatient {
                        med_type: "13",
                        day,
                    },
                    provider,
                    main_dx: dx,
                    death: false,
                    fires: vec![],
                });
            }
        }
        plan.sort_by_key(|v| (v.begin(), matches!(v.visit, Visit::Outpatient { .. })));
        // Death at the end of the last stay: nothing after it, or (planted) one claim after it.
        let last_stay = plan
            .iter()
            .rposition(|v| matches!(v.visit, Visit::Stay { .. }));
        if let Some(i) = last_stay {
            let died = if self.rng.chance(0.01) {
                Some(false)
            } else if self.rng.chance(rate) {
                Some(true)
            } else {
                None
            };
            if let (Some(planted), Visit::Stay { begin, end }) = (died, plan[i].visit) {
                let overlapped = plan
                    .iter()
                    .any(|v| matches!(v.visit, Visit::Stay { begin: b, end: e } if b != begin && b < end && begin < e));
                if !overlapped && end + 10 < DAYS_IN_YEAR {
                    plan[i].death = true;
                    plan.retain(|v| v.begin() <= end);
                    if planted && !self.pharmacies.is_empty() {
                        let pharmacy = *self.rng.pick(&self.pharmacies).unwrap_or(&0);
                        plan.push(Planned {
                            visit: Visit::Outpatient {
                                med_type: "41",
                                day: end + self.rng.range(1, 10) as Day,
                            },
                            provider: pharmacy,
                            main_dx: None,
                            death: false,
                            fires: vec![DEATH],
                        });
                    }
                }
            }
        }
        // CN-FREQ-001, counted as the rule does: more than 10 普通门诊 in [d − 29, d].
        let days11: Vec<Day> = plan
            .iter()
            .filter_map(|v| match v.visit {
                Visit::Outpatient {
                    med_type: "11",
                    day,
                } => Some(day),
                _ => None,
            })
            .collect();
        for v in &mut plan {
            if let Visit::Outpatient {
                med_type: "11",
                day,
            } = v.visit
            {
                if days11
                    .iter()
                    .filter(|&&o| day - 29 <= o && o <= day)
                    .count()
                    > 10
                {
                    v.fires.push(FREQ);
                }
            }
        }
        plan
    }

    /// Which constraint of `item` the claim breaks on `day`, or None if it breaks several.
    fn breaks(&self, item: &Item, p: &Patient, claim: &Claim, day: Day) -> Option<Breaks> {
        if !item.valid(day) {
            return None;
        }
        let provider = &self.tables.providers[claim.provider];
        let sex = item.gend_lmt.is_some_and(|g| g != p.sex);
        let age = p.age_on(day);
        let age_bad =
            item.min_age.is_some_and(|lo| age < lo) || item.max_age.is_some_and(|hi| age > hi);
        let level = item
            .hosp_lv_min
            .is_some_and(|m| provider.level.is_none_or(|l| l < m));
        let dx = !item.lmt_dx.is_empty()
            && !item.lmt_dx.iter().any(|prefix| {
                claim
                    .main_dx
                    .is_some_and(|d| d.starts_with(prefix.as_str()))
                    || claim.dx.iter().any(|d| d.starts_with(prefix.as_str()))
            });
        match (sex, age_bad, level, dx) {
            (false, false, false, false) => Some(Breaks::Nothing),
            (true, false, false, false) => Some(Breaks::Sex),
            (false, true, false, false) => Some(Breaks::Age),
            (false, false, true, false) => Some(Breaks::Level),
            (false, false, false, true) => Some(Breaks::Diagnosis),
            _ => None,
        }
    }

    /// A random catalogue row for `day` that breaks exactly `want` and may join the day's lines.
    fn pick_item(
        &mut self,
        p: &Patient,
        claim: &Claim,
        day: Day,
        want: Breaks,
        filter: impl Fn(&Item) -> bool,
    ) -> Option<&'t Item> {
        let tables = self.tables;
        let mut chosen = None;
        let mut seen = 0u64;
        for item in &tables.items {
            if filter(item)
                && self.breaks(item, p, claim, day) == Some(want)
                && claim.fits(tables, &item.code, day)
            {
                seen += 1;
                if self.rng.range(1, seen as i64) == 1 {
                    chosen = Some(item);
                }
            }
        }
        chosen
    }

    fn price(&mut self, item: &Item) -> i64 {
        match item.cap {
            Some(cap) => (cap * self.rng.range(80, 100) / 100).max(1),
            // No cap: 中药饮片 are priced per gram, other items a few yuan to tens.
            None if item.list_type == "102" => self.rng.range(10, 50),
            None => self.rng.range(500, 5000),
        }
    }

    fn secs(&mut self, lo_hour: i64, hi_hour: i64) -> u32 {
        (self.rng.range(lo_hour * 3600, hi_hour * 3600 + 3599) / 60 * 60) as u32
    }

    /// Drug lines under one prescription number, `prd_days` drawn up to `max_days`, avoiding
    /// the patient's supplies still running (CN-REPEAT-001 stays quiet).
    fn add_drugs(
        &mut self,
        p: &Patient,
        claim: &mut Claim<'t>,
        day: Day,
        n: i64,
        days: Option<(i32, i32)>,
        supplies: &[Dispensed],
    ) {
        let rx = claim.next_rx();
        for _ in 0..n {
            let item = self.pick_item(p, claim, day, Breaks::Nothing, |i| {
                (i.is_drug() || i.list_type == "102")
                    && (days.is_none()
                        || !supplies
                            .iter()
                            .any(|&(c, _, end)| c == i.code && end - day > REPEAT_OVERLAP_DAYS - 1))
            });
            let Some(item) = item else { break };
            let prd = days.map(|(lo, hi)| self.rng.range(i64::from(lo), i64::from(hi)) as i32);
            let cnt = if item.list_type == "102" {
                self.rng.range(10, 30)
            } else if item.cap.is_some_and(|c| c > 1000) {
                // Dear units (an insulin pen, a vial) last days; tablets go one or two a day.
                (i64::from(prd.unwrap_or(1)) + 6) / 7
            } else {
                i64::from(prd.unwrap_or(1)) * self.rng.range(1, 2)
            };
            let pric = self.price(item);
            let secs = claim.begin.1 + 600;
            let mut line = Line::of(item, day, secs, cnt, pric);
            line.rx = Some(rx);
            line.prd_days = prd;
            claim.lines.push(line);
        }
    }

    fn add_services(&mut self, p: &Patient, claim: &mut Claim<'t>, day: Day, n: i64, secs: u32) {
        for _ in 0..n {
            let item = self.pick_item(p, claim, day, Breaks::Nothing, |i| {
                !i.is_drug() && i.list_type != "102" && i.is_care() && !i.per_diem && modest(i)
            });
            let Some(item) = item else { break };
            let cnt = if item.list_type == "301" {
                self.rng.range(1, 2)
            } else {
                1
            };
            let pric = self.price(item);
            claim.lines.push(Line::of(item, day, secs, cnt, pric));
        }
    }

    fn outpatient(&mut self, p: &Patient, v: &Planned, supplies: &[Dispensed]) -> Claim<'t> {
        let Visit::Outpatient { med_type, day } = v.visit else {
            unreachable!("called for outpatient visits only")
        };
        let start = self.secs(8, 20);
        let mut dx: Vec<&'static str> = v.main_dx.into_iter().collect();
        for c in &p.chronic {
            if !dx.contains(c) {
                dx.push(c);
            }
        }
        let mut claim = Claim {
            med_type,
            provider: v.provider,
            begin: (day, start),
            end: (day, start + 1200),
            setl: (day, start + 1500),
            main_dx: v.main_dx,
            dx,
            dscg_way: "1",
            lines: Vec::new(),
            fires: [0; 23],
        };
        let (n_services, n_drugs, days) = match med_type {
            "13" => (
                self.rng.range(1, 2),
                self.rng.range(1, 3),
                (1, RX_DAYS_EMERGENCY),
            ),
            "14" => (self.rng.range(0, 1), self.rng.range(1, 3), (28, 56)),
            "41" => (0, self.rng.range(1, 3), (3, RX_DAYS_OUTPATIENT)),
            _ => (
                self.rng.range(1, 2),
                self.rng.range(1, 4),
                (3, RX_DAYS_OUTPATIENT),
            ),
        };
        self.add_services(p, &mut claim, day, n_services, start + 300);
        self.add_drugs(p, &mut claim, day, n_drugs, Some(days), supplies);
        claim
    }

    fn stay(&mut self, p: &Patient, v: &Planned) -> Claim<'t> {
        let Visit::Stay { begin, end } = v.visit else {
            unreachable!("called for stays only")
        };
        let admitted = self.secs(8, 17);
        let discharged = self.secs(9, 11);
        let mut dx: Vec<&'static str> = v.main_dx.into_iter().collect();
        dx.extend(p.chronic.iter().copied().filter(|c| Some(*c) != v.main_dx));
        let mut claim = Claim {
            med_type: "21",
            provider: v.provider,
            begin: (begin, admitted),
            end: (end, discharged),
            setl: (end, discharged + 1800),
            main_dx: v.main_dx,
            dx,
            dscg_way: if v.death { "5" } else { "1" },
            lines: Vec::new(),
            fires: [0; 23],
        };
        let stay_days = (end - begin).max(1);
        // 疑似挂床: care on the admission day only, over at least 5 days (a take-home drug on
        // the discharge day still leaves 2 care days, under half).
        let idle = stay_days >= 5 && self.take(BEDIDLE);
        if idle {
            self.spend(&mut claim, BEDIDLE);
        }
        let tables = self.tables;
        // Mostly the cheapest bed and nursing level; one stay in ten any eligible one (ICU).
        let any = self.rng.chance(0.1);
        let cheapest = |chrg: &str| {
            tables
                .items
                .iter()
                .filter(|i| i.per_diem && i.chrg_type == chrg && i.valid(begin))
                .filter(|i| self.breaks(i, p, &claim, begin) == Some(Breaks::Nothing))
                .min_by_key(|i| i.cap.unwrap_or(i64::MAX))
        };
        let (bed, nursing) = if any {
            (
                self.pick_item(p, &claim, begin, Breaks::Nothing, |i| {
                    i.per_diem && i.chrg_type == "01"
                }),
                self.pick_item(p, &claim, begin, Breaks::Nothing, |i| {
                    i.per_diem && i.chrg_type == "07"
                }),
            )
        } else {
            (cheapest("01"), cheapest("07"))
        };
        // The per-diem items are picked once per stay, so a pair between them never meets.
        let per_diem: Vec<&'t Item> = bed.into_iter().chain(nursing).collect();
        for day in begin..=end {
            let secs = if day == begin {
                admitted + 600
            } else {
                8 * 3600
            };
            if day < end || end == begin {
                for item in &per_diem {
                    let row = tables
                        .items
                        .iter()
                        .find(|i| i.code == item.code && i.valid(day));
                    if let Some(row) = row {
                        let pric = self.price(row);
                        claim.lines.push(Line::of(row, day, secs, 1, pric));
                    }
                }
            }
            if !idle || day == begin {
                let n = self.rng.range(1, 2);
                self.add_services(p, &mut claim, day, n, secs + 1800);
                let n = self.rng.range(1, 2);
                self.add_drugs(p, &mut claim, day, n, None, &[]);
            }
        }
        if !idle && self.rng.chance(0.3) {
            let n = claim.lines.len();
            self.add_drugs(p, &mut claim, end, 1, Some((5, RX_DAYS_DISCHARGE)), &[]);
            for l in &mut claim.lines[n..] {
                l.take_home = true;
            }
        }
        claim
    }

    /// Plants the line and claim kinds whose credit is due and that this claim can host.
    fn plant(&mut self, p: &Patient, claim: &mut Claim<'t>, supplies: &[Dispensed]) {
        let tables = self.tables;
        let day = claim.begin.0;
        let secs = claim.begin.1 + 900;
        // First: a diagnosis added later could satisfy a planted CN-DX-001 line's lmt_dx.
        if self.take(DXSEX) && claim.med_type != "41" {
            let wrong: Vec<&'static str> = SEXED_DX
                .iter()
                .copied()
                .filter(|d| !tables.dx_fits(d, p.sex))
                .collect();
            if let Some(&d) = self.rng.pick(&wrong) {
                claim.dx.push(d);
                self.spend(claim, DXSEX);
            }
        }
        for (kind, want) in [
            (GEND, Breaks::Sex),
            (AGE, Breaks::Age),
            (LVL, Breaks::Level),
            (DX, Breaks::Diagnosis),
        ] {
            if self.take(kind) {
                if let Some(item) = self.pick_item(p, claim, day, want, |i| {
                    !i.per_diem && !tables.in_pairs(&i.code) && modest(i)
                }) {
                    let pric = self.price(item);
                    let mut line = Line::of(item, day, secs, 1, pric);
                    if item.is_drug() {
                        line.rx = Some(claim.next_rx());
                    }
                    claim.lines.push(line);
                    self.spend(claim, kind);
                }
            }
        }
        if self.take(PRICE) {
            let capped: Vec<usize> = (0..claim.lines.len())
                .filter(|&i| claim.lines[i].cap.is_some())
                .collect();
            if let Some(&i) = self.rng.pick(&capped) {
                let cap = claim.lines[i].cap.unwrap_or(0);
                claim.lines[i].pric = cap + (cap * self.rng.range(5, 30) / 100).max(1);
                self.spend(claim, PRICE);
            }
        }
        if self.take(CAT) {
            let (code, name, list_type, chrg_type) =
                OFF_CATALOGUE[self.rng.range(0, OFF_CATALOGUE.len() as i64 - 1) as usize];
            if !tables.in_catalogue(code) && claim.fits(tables, code, day) {
                let pric = self.rng.range(1000, 10000);
                claim.lines.push(Line {
                    day,
                    secs,
                    rx: None,
                    code,
                    name,
                    list_type,
                    chrg_type,
                    chrgitm_lv: "02",
                    cnt: 1,
                    pric,
                    cap: None,
                    prd_days: None,
                    take_home: false,
                });
                self.spend(claim, CAT);
            }
        }
        if self.take(DUP) {
            let item = self.pick_item(p, claim, day, Breaks::Nothing, |i| {
                i.daily_max.is_some_and(|m| m <= 6)
                    && !i.per_diem
                    && !tables.in_pairs(&i.code)
                    && modest(i)
            });
            if let Some(item) = item {
                let pric = self.price(item);
                for k in 0..=item.daily_max.unwrap_or(1) {
                    claim
                        .lines
                        .push(Line::of(item, day, secs + 60 * k, 1, pric));
                }
                self.spend(claim, DUP);
            }
        }
        for (kind, includes) in [(PAIR1, true), (PAIR2, false)] {
            if !self.take(kind) {
                continue;
            }
            let candidates: Vec<(&'t Item, &'t Item)> = tables
                .pairs
                .iter()
                .filter(|pair| pair.includes == includes && pair.begin <= day && day <= pair.end)
                .filter_map(|pair| {
                    let row = |code: &str| {
                        tables.items.iter().find(|i| {
                            i.code == code
                                && !i.per_diem
                                && modest(i)
                                && self.breaks(i, p, claim, day) == Some(Breaks::Nothing)
                                && claim.fits(tables, code, day)
                                && !tables.pairs.iter().any(|q| {
                                    (q.a == code || q.b == code)
                                        && !(q.a == pair.a && q.b == pair.b)
                                        && claim.lines.iter().any(|l| {
                                            l.day == day && (l.code == q.a || l.code == q.b)
                                        })
                                })
                        })
                    };
                    Some((row(&pair.a)?, row(&pair.b)?))
                })
                .collect();
            if let Some(&(a, b)) = self.rng.pick(&candidates) {
                let pa = self.price(a);
                let pb = self.price(b);
                claim.lines.push(Line::of(a, day, secs, 1, pa));
                claim.lines.push(Line::of(b, day, secs + 60, 1, pb));
                self.spend(claim, kind);
            }
        }
        if claim.outpatient_like() {
            let limit = claim.rx_limit();
            if self.take(QTY) {
                let with_days: Vec<usize> = (0..claim.lines.len())
                    .filter(|&i| claim.lines[i].prd_days.is_some())
                    .collect();
                if let Some(&i) = self.rng.pick(&with_days) {
                    let days = limit + self.rng.range(1, 14) as i32;
                    let line = &mut claim.lines[i];
                    line.cnt =
                        line.cnt / i64::from(line.prd_days.unwrap_or(1)).max(1) * i64::from(days);
                    line.prd_days = Some(days);
                    self.spend(claim, QTY);
                }
            }
            if self.take(REPEAT) {
                let due: Vec<&str> = supplies
                    .iter()
                    .filter(|&&(_, d0, end)| d0 < day && end - day > REPEAT_OVERLAP_DAYS)
                    .map(|s| s.0)
                    .collect();
                let item = self.pick_item(p, claim, day, Breaks::Nothing, |i| {
                    i.is_drug() && due.contains(&i.code.as_str())
                });
                if let Some(item) = item {
                    let prd = limit.min(5);
                    let pric = self.price(item);
                    let mut line = Line::of(item, day, secs, i64::from(prd), pric);
                    line.rx = Some(claim.next_rx());
                    line.prd_days = Some(prd);
                    claim.lines.push(line);
                    self.spend(claim, REPEAT);
                }
            }
            if self.take(RX5) {
                let rx = claim.next_rx();
                let mut added = Vec::new();
                for _ in 0..6 {
                    let item = self.pick_item(p, claim, day, Breaks::Nothing, |i| {
                        i.is_drug() && !added.contains(&i.code.as_str())
                    });
                    let Some(item) = item else { break };
                    added.push(item.code.as_str());
                    let pric = self.price(item);
                    let mut line = Line::of(item, day, secs, 1, pric);
                    line.rx = Some(rx);
                    claim.lines.push(line);
                }
                if added.len() == 6 {
                    self.spend(claim, RX5);
                } else {
                    claim.lines.retain(|l| l.rx != Some(rx));
                }
            }
            if claim.med_type == "41" && self.take(NIGHT) {
                let start = if self.rng.chance(0.5) {
                    self.secs(22, 22)
                } else {
                    self.secs(0, 4)
                };
                claim.begin.1 = start;
                claim.end.1 = start + 300;
                claim.setl.1 = start + 600;
                for l in &mut claim.lines {
                    l.secs = start + 60;
                }
                self.spend(claim, NIGHT);
            }
        }
        if claim.med_type == "21" {
            let (begin, end) = (claim.begin.0, claim.end.0);
            if self.take(TKDRUG) {
                let n = claim.lines.len();
                self.add_drugs(p, claim, end, 1, Some((15, 30)), &[]);
                if claim.lines.len() > n {
                    claim.lines[n].take_home = true;
                    self.spend(claim, TKDRUG);
                }
            }
            if self.take(DIEM) && end > begin {
                // 算入又算出: the bed billed on the discharge day as well.
                let bed = claim
                    .lines
                    .iter()
                    .find(|l| l.chrg_type == "01" && l.day == begin)
                    .cloned();
                if let Some(mut bed) = bed {
                    if claim.fits(tables, bed.code, end) {
                        // At or under the cap: only CN-DIEM-001 is planted here.
                        bed.pric = bed.cap.map_or(bed.pric, |c| bed.pric.min(c));
                        bed.day = end;
                        bed.secs = 8 * 3600;
                        claim.lines.push(bed);
                        self.spend(claim, DIEM);
                    }
                }
            }
        }
    }

    /// Adds CN-KPI-001's jump: a high-value line on every inpatient claim of a chosen
    /// provider-month (by discharge date).
    fn kpi(&mut self, p: &Patient, claim: &mut Claim<'t>) {
        let (month, _) = month_day(claim.end.0);
        let m = month as usize - 1;
        if claim.med_type != "21" || !self.kpi_months[claim.provider][m] {
            return;
        }
        let day = claim.end.0;
        let item = self.pick_item(p, claim, day, Breaks::Nothing, |i| {
            i.cap.is_none()
                && i.daily_max.is_none()
                && !i.per_diem
                && !i.is_drug()
                && i.list_type != "102"
        });
        if let Some(item) = item {
            self.kpi_hit[claim.provider][m] = true;
            let pric = (claim.medfee() * self.rng.range(70, 90) / 100).max(1);
            claim.lines.push(Line::of(item, day, 10 * 3600, 1, pric));
        }
    }

    fn write_claim(&mut self, p: &Patient, c: &Claim, out: &mut dyn Write) -> io::Result<usize> {
        self.next_setl += 1;
        let setl = self.next_setl;
        let s = &mut self.buf;
        s.clear();
        let date = |s: &mut String, day: Day| {
            let (m, d) = month_day(day);
            let _ = write!(s, "{YEAR}-{m:02}-{d:02}");
        };
        let datetime = |s: &mut String, (day, secs): (Day, u32)| {
            date(s, day);
            let _ = write!(
                s,
                " {:02}:{:02}:{:02}",
                secs / 3600 % 24,
                secs / 60 % 60,
                secs % 60
            );
        };
        let money = |s: &mut String, cents: i64| {
            let _ = write!(s, "{}.{:02}", cents / 100, cents % 100);
        };
        let provider = Json(&self.tables.providers[c.provider].code);
        let (by, bm, bd) = p.birth;
        let _ = write!(
            s,
            r#"{{"setl_id":"S{setl:010}","mdtrt_id":"M{setl:010}","psn_no":"P{:09}","gend":"{}","brdy":"{by}-{bm:02}-{bd:02}","insutype":"{}","med_type":"{}","fixmedins_code":"{provider}","begndate":""#,
            p.psn, p.sex, p.insutype, c.med_type
        );
        datetime(s, c.begin);
        s.push_str(r#"","enddate":""#);
        datetime(s, c.end);
        s.push_str(r#"","setl_time":""#);
        datetime(s, c.setl);
        s.push('"');
        if let Some(main) = c.main_dx {
            let _ = write!(s, r#","dscg_maindiag_code":"{main}""#);
        }
        if c.med_type == "21" {
            let _ = write!(s, r#","dscg_way":"{}""#, c.dscg_way);
        }
        s.push_str(r#","diseinfo":["#);
        for (i, d) in c.dx.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let main = if Some(*d) == c.main_dx { 1 } else { 0 };
            let _ = write!(s, r#"{{"diag_code":"{d}","maindiag_flag":"{main}"}}"#);
        }
        let medfee = c.medfee();
        let fund = medfee * (60 + (setl % 26) as i64) / 100;
        let acct = if c.med_type == "41" { medfee - fund } else { 0 };
        let cash = medfee - fund - acct;
        s.push_str(r#"],"medfee_sumamt":""#);
        money(s, medfee);
        s.push_str(r#"","fund_pay_sumamt":""#);
        money(s, fund);
        s.push_str(r#"","hifp_pay":""#);
        money(s, fund);
        s.push_str(r#"","acct_pay":""#);
        money(s, acct);
        s.push_str(r#"","psn_cash_pay":""#);
        money(s, cash);
        s.push_str(r#"","fee_list":["#);
        for (i, l) in c.lines.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, r#"{{"feedetl_sn":"{}","fee_ocur_time":""#, i + 1);
            datetime(s, (l.day, l.secs));
            s.push('"');
            if let Some(rx) = l.rx {
                let _ = write!(s, r#","rx_drord_no":"RX{setl:010}{rx:02}""#);
            }
            let _ = write!(
                s,
                r#","hilist_code":"{}","hilist_name":"{}","list_type":"{}","med_chrgitm_type":"{}","chrgitm_lv":"{}","cnt":"{}","pric":""#,
                Json(l.code),
                Json(l.name),
                Json(l.list_type),
                Json(l.chrg_type),
                Json(l.chrgitm_lv),
                l.cnt
            );
            money(s, l.pric);
            s.push_str(r#"","det_item_fee_sumamt":""#);
            money(s, l.pric * l.cnt);
            s.push('"');
            if let Some(cap) = l.cap {
                s.push_str(r#","pric_uplmt_amt":""#);
                money(s, cap);
                s.push('"');
            }
            if let Some(d) = l.prd_days {
                let _ = write!(s, r#","prd_days":{d}"#);
            }
            let _ = write!(
                s,
                r#","dscg_tkdrug_flag":"{}"}}"#,
                if l.take_home { 1 } else { 0 }
            );
        }
        s.push_str("]}\n");
        out.write_all(s.as_bytes())?;
        Ok(c.lines.len())
    }

    /// Writes `cfg.claims` claims to `out` (and January's to `history`, when given).
    pub fn run(
        &mut self,
        claims: u64,
        out: &mut dyn Write,
        mut history: Option<&mut dyn Write>,
    ) -> io::Result<Summary> {
        let mut summary = Summary::default();
        while summary.claims < claims {
            let p = self.new_patient();
            summary.patients += 1;
            let plan = self.plan(&p);
            let mut supplies: Vec<Dispensed> = Vec::new();
            for v in &plan {
                if summary.claims >= claims {
                    break;
                }
                let mut claim = match v.visit {
                    Visit::Outpatient { .. } => self.outpatient(&p, v, &supplies),
                    Visit::Stay { .. } => self.stay(&p, v),
                };
                for k in 0..RULES.len() {
                    self.credit[k] += self.rate;
                }
                self.plant(&p, &mut claim, &supplies);
                self.kpi(&p, &mut claim);
                for &k in &v.fires {
                    claim.fires[k] += 1;
                }
                for l in &claim.lines {
                    if let Some(d) = l.prd_days {
                        supplies.push((l.code, l.day, l.day + d));
                    }
                }
                if claim.med_type == "21" {
                    let (m, _) = month_day(claim.end.0);
                    self.kpi_counts[claim.provider][m as usize - 1] += 1;
                }
                let to_history = claim.begin.0 < HISTORY_BEFORE;
                match (&mut history, to_history) {
                    (Some(h), true) => {
                        self.write_claim(&p, &claim, &mut **h)?;
                        summary.history_claims += 1;
                    }
                    _ => {
                        summary.lines += self.write_claim(&p, &claim, out)? as u64;
                        summary.claims += 1;
                        for (k, n) in claim.fires.iter().enumerate() {
                            summary.planted[k] += u64::from(*n);
                        }
                    }
                }
            }
        }
        for (prov, months) in self.kpi_months.iter().enumerate() {
            for m in 1..12 {
                if months[m] {
                    let (prev, this) = (self.kpi_counts[prov][m - 1], self.kpi_counts[prov][m]);
                    let code = self.tables.providers[prov].code.clone();
                    summary.kpi_jumps.push((code, m as u32 + 1, prev, this));
                    // A month made of history claims only gets no finding.
                    let month_start: Day = MONTH_DAYS[..m].iter().sum();
                    let in_claims = history.is_none() || month_start >= HISTORY_BEFORE;
                    if prev >= KPI_MIN_CLAIMS
                        && this >= KPI_MIN_CLAIMS
                        && in_claims
                        && self.kpi_hit[prov][m]
                    {
                        summary.planted[KPI] += 1;
                    }
                }
            }
        }
        Ok(summary)
    }
}

/// Generates claims for the rulebook at `rulebook` (its tables) into `out`.
pub fn generate(
    tables: &Tables,
    cfg: &GenConfig,
    out: &mut dyn Write,
    history: Option<&mut dyn Write>,
) -> io::Result<Summary> {
    Generator::new(tables, cfg.seed, cfg.rate).run(cfg.claims, out, history)
}

//! The executor: a checked rulebook, its tables and a run's claims in; findings out.
//!
//! Claim and line rules run in parallel over claims (rayon, here and nowhere else); provider
//! rules run over (provider, month) groups. Output order never depends on threads: findings are
//! sorted by `findings::sort_findings` before anyone sees them.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use vigil_compiler::interp::{self, ClaimEval, Data, EvalError, Hit};
use vigil_compiler::ir::Program;
use vigil_compiler::model::Scope;
use vigil_compiler::value::{Record, Value};
use vigil_compiler::LoadedRulebook;

use crate::batch::Batch;
use crate::claims::ClaimLayout;
use crate::findings::{rulebook_id, sort_findings, Finding};
use crate::screen::{Need, Needs, Screen};
use crate::tables::{LoadedTable, TableError, Tables};

/// Why a rulebook cannot run.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the rulebook has errors: run `vigil check` on it")]
    Unchecked,
    #[error(transparent)]
    Load(#[from] vigil_compiler::load::LoadError),
    /// The rulebook's errors (`Engine::load`), each with its code and message.
    #[error("the rulebook has errors: {}", .0.iter().map(|d| format!("{}: {}", d.code, d.message)).collect::<Vec<_>>().join("; "))]
    Rulebook(Vec<vigil_compiler::Diagnostic>),
    #[error("the claim schema cannot be read: {0}")]
    Layout(String),
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Tables(Vec<TableError>),
}

/// A rulebook ready to run: lowered, with its claim layout and tables loaded.
pub struct Engine {
    pub program: Program,
    pub layout: ClaimLayout,
    pub(crate) tables: Vec<LoadedTable>,
    /// `NAME@sha256:…`: which exact rules produced a finding.
    pub rulebook: Arc<str>,
    rule_names: Vec<(Arc<str>, Arc<str>, Arc<str>)>,
    /// The rule texts, to say where an evaluation error happened.
    pub(crate) sources: vigil_compiler::source::SourceMap,
    /// A native screen, when one is set: rules it clears on a claim are not interpreted.
    screen: Option<Arc<dyn Screen>>,
}

/// A rule that could not be evaluated on one claim (the other rules still were).
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimError {
    pub setl_id: Option<String>,
    pub error: EvalError,
}

/// What a run produced.
#[derive(Debug, Clone, Default)]
pub struct RunOutput {
    /// Sorted deterministically.
    pub findings: Vec<Finding>,
    /// Sorted by claim, rule and message.
    pub errors: Vec<ClaimError>,
}

impl RunOutput {
    /// Adds one part's findings and errors (unsorted until [`RunOutput::sort`]).
    pub(crate) fn absorb(&mut self, (findings, errors): (Vec<Finding>, Vec<ClaimError>)) {
        self.findings.extend(findings);
        self.errors.extend(errors);
    }

    /// The one order of a run's output, whatever order its parts came in (threads,
    /// partitions): findings by `sort_findings`, errors by a total order of what is shown.
    pub(crate) fn sort(&mut self) {
        sort_findings(&mut self.findings);
        self.errors.sort_by(|a, b| {
            (
                &a.setl_id,
                &a.error.rule,
                &a.error.message,
                a.error.span.start,
            )
                .cmp(&(
                    &b.setl_id,
                    &b.error.rule,
                    &b.error.message,
                    b.error.span.start,
                ))
        });
    }
}

impl Engine {
    /// Prepares a rulebook that checked without errors; `overrides` point tables elsewhere.
    pub fn new(
        loaded: &LoadedRulebook,
        overrides: &[(String, PathBuf)],
    ) -> Result<Engine, EngineError> {
        if loaded.has_errors() {
            return Err(EngineError::Unchecked);
        }
        let program = vigil_compiler::lower::lower(loaded);
        let layout =
            ClaimLayout::new(&loaded.rulebook).map_err(|e| EngineError::Layout(e.to_string()))?;
        let root = loaded.root.clone().unwrap_or_else(|| PathBuf::from("."));
        let loaded_tables =
            Tables::load(&loaded.rulebook, &root, overrides).map_err(EngineError::Tables)?;
        let tables = program
            .tables
            .iter()
            .filter_map(|name| loaded_tables.get(name).cloned())
            .collect();
        let rule_names = program
            .rules
            .iter()
            .map(|r| {
                (
                    Arc::from(r.id.as_str()),
                    Arc::from(r.name.as_str()),
                    Arc::from(r.basis.as_str()),
                )
            })
            .collect();
        Ok(Engine {
            program,
            layout,
            tables,
            rulebook: rulebook_id(loaded).into(),
            rule_names,
            sources: loaded.sources.clone(),
            screen: None,
        })
    }

    /// The tables, by program table index (what a native backend compiles against).
    pub fn tables(&self) -> &[LoadedTable] {
        &self.tables
    }

    /// Lets `screen` clear, claim by claim, the rules that certainly do not fire, so the
    /// interpreter evaluates only the rest (`vigil run --engine jit`). The findings are the
    /// same with or without it; only the work differs.
    pub fn set_screen(&mut self, screen: Arc<dyn Screen>) {
        self.screen = Some(screen);
    }

    /// Whether a screen is set.
    pub fn screened(&self) -> bool {
        self.screen.is_some()
    }

    /// Which engine runs the rules, for the run's summary.
    pub fn describe_engine(&self) -> String {
        match &self.screen {
            Some(s) => format!(
                "jit, {} of {} rules native",
                s.native_rules(),
                self.program.rules.len()
            ),
            None => "interp".to_string(),
        }
    }

    /// Runs every rule. `claims` produce findings; `history` claims are context only.
    /// `threads`: 0 for one per core.
    pub fn run(&self, claims: &[Record], history: &[Record], threads: usize) -> RunOutput {
        self.run_counted(claims, history, threads, None)
    }

    /// As `run`, counting evaluated claims into `progress` as it goes (for a progress bar).
    pub fn run_counted(
        &self,
        claims: &[Record],
        history: &[Record],
        threads: usize,
        progress: Option<&AtomicUsize>,
    ) -> RunOutput {
        // Shared once here: rules and the history index then pass claims around by count.
        let claims: Vec<Arc<Record>> = claims.iter().cloned().map(Arc::new).collect();
        let history: Vec<Arc<Record>> = history.iter().cloned().map(Arc::new).collect();
        self.run_shared(&claims, &history, threads, progress)
    }

    /// As `run_counted`, on claims already shared (no copy of any record: what `vigil run`
    /// does with the records it reads).
    pub fn run_shared(
        &self,
        claims: &[Arc<Record>],
        history: &[Arc<Record>],
        threads: usize,
        progress: Option<&AtomicUsize>,
    ) -> RunOutput {
        self.in_pool(threads, || {
            let data = RunData::new(self, claims, history);
            let mut out = RunOutput::default();
            out.absorb(self.patient_findings(claims, &data, progress));
            out.absorb(self.provider_findings(claims, history, &data));
            out.sort();
            out
        })
    }

    /// Runs `work` on a pool of `threads` workers (0: one per core).
    pub(crate) fn in_pool<T: Send>(&self, threads: usize, work: impl FnOnce() -> T + Send) -> T {
        // Evaluation recurses once per nesting level of a rule (defs expanded): workers get
        // the large stack the front end runs on (address space; pages are touched as needed).
        match rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .stack_size(vigil_dsl::stack::STACK_BYTES)
            .build()
        {
            Ok(pool) => pool.install(work),
            // No pool could be built: run on the caller's thread, same result.
            Err(_) => work(),
        }
    }

    /// Claim and line rules on `claims`, in parallel over patients: each patient's claims are
    /// evaluated against that patient's own sorted index in `data`, which must hold every
    /// claim of those patients (claims file and history).
    pub(crate) fn patient_findings(
        &self,
        claims: &[Arc<Record>],
        data: &RunData,
        progress: Option<&AtomicUsize>,
    ) -> (Vec<Finding>, Vec<ClaimError>) {
        let psn_no = self.layout.psn_no();
        let mut index: HashMap<&Value, usize> = HashMap::new();
        let mut patients: Vec<Vec<&Arc<Record>>> = Vec::new();
        for c in claims {
            let at = *index.entry(c.get(psn_no)).or_insert_with(|| {
                patients.push(Vec::new());
                patients.len() - 1
            });
            patients[at].push(c);
        }
        // With a screen, patients go in chunks: each chunk's claims become one columnar batch
        // that the native code screens; the interpreter then runs only what it did not clear.
        let chunk = if self.screen.is_some() { 256 } else { 1 };
        patients
            .par_chunks(chunk)
            .map(|group| {
                let mut findings = Vec::new();
                let mut errors = Vec::new();
                let mut one = |c: &Arc<Record>, needs: Option<&Needs>| {
                    let (f, e) = self.claim_findings(c, data, needs);
                    findings.extend(f);
                    errors.extend(e);
                    if let Some(p) = progress {
                        p.fetch_add(1, AtomicOrdering::Relaxed);
                    }
                };
                match &self.screen {
                    Some(screen) => {
                        self.screen_patients(&**screen, group, data, |c, needs| one(c, Some(needs)))
                    }
                    None => {
                        for c in group.iter().flatten() {
                            one(c, None);
                        }
                    }
                }
                (findings, errors)
            })
            .reduce(
                || (Vec::new(), Vec::new()),
                |mut a, b| {
                    a.0.extend(b.0);
                    a.1.extend(b.1);
                    a
                },
            )
    }

    /// An evaluation error as a line for people: the claim, the rule, what went wrong, and
    /// where in the rule text (file:line:col).
    pub fn describe(&self, e: &ClaimError) -> String {
        let at = self
            .sources
            .get(e.error.span.source)
            .map(|f| {
                let (line, col) = vigil_dsl::line_col(&f.text, e.error.span.start as usize);
                format!(" ({}:{line}:{col})", f.path.display())
            })
            .unwrap_or_default();
        format!(
            "evaluation error in claim {}: {}{at}",
            e.setl_id.as_deref().unwrap_or("-"),
            e.error
        )
    }

    /// How many lines (elements of the claim's keyed lists) a claim carries.
    pub fn line_count(&self, claim: &Record) -> usize {
        self.layout
            .claim()
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                self.layout
                    .record_of(f)
                    .is_some_and(|r| r.line_key().is_some())
            })
            .map(|(slot, _)| match claim.get(slot) {
                Value::List(items) => items.len(),
                _ => 0,
            })
            .sum()
    }

    pub(crate) fn text(&self, claim: &Record, slot: usize) -> Option<Arc<str>> {
        match claim.get(slot) {
            Value::Text(t) => Some(t.clone()),
            _ => None,
        }
    }

    /// Screens `patients` (each the run's claims of one patient) in one batch laid out by
    /// patient: every claim of each patient in history order (from `data`), so the native code
    /// can walk their history. Calls `each` for every claim of the run among them, in batch
    /// order, with the rules it still needs. A claim without a patient number is a patient
    /// alone.
    fn screen_patients<'c>(
        &self,
        screen: &dyn Screen,
        patients: &[Vec<&'c Arc<Record>>],
        data: &'c RunData,
        mut each: impl FnMut(&'c Arc<Record>, &Needs),
    ) {
        let mut groups: Vec<&'c [Arc<Record>]> = Vec::with_capacity(patients.len());
        let mut evaluate: Vec<Option<&'c Arc<Record>>> = Vec::new();
        for own in patients {
            let psn = own.first().and_then(|c| self.text(c, self.layout.psn_no()));
            match psn.and_then(|p| data.patients.get(&p)) {
                Some(all) => {
                    for c in all {
                        evaluate.push(own.iter().copied().find(|o| Arc::ptr_eq(o, c)));
                    }
                    groups.push(all);
                }
                None => {
                    for c in own {
                        evaluate.push(Some(*c));
                        groups.push(std::slice::from_ref(*c));
                    }
                }
            }
        }
        let batch =
            Batch::by_patient_reading(&self.layout, &groups, screen.strings(), screen.reads());
        let only: Vec<bool> = evaluate.iter().map(Option::is_some).collect();
        screen.screen(&batch, Some(&only), &mut |row, needs| {
            if let Some(Some(c)) = evaluate.get(row) {
                each(c, needs);
            }
        });
    }

    /// Claim and line rules on one claim, screened first when a screen is set.
    pub(crate) fn screened_claim_findings(
        &self,
        claim: &Arc<Record>,
        data: &RunData,
    ) -> (Vec<Finding>, Vec<ClaimError>) {
        let Some(screen) = &self.screen else {
            return self.claim_findings(claim, data, None);
        };
        let mut out = None;
        self.screen_patients(&**screen, &[vec![claim]], data, |c, needs| {
            out = Some(self.claim_findings(c, data, Some(needs)));
        });
        out.unwrap_or_else(|| self.claim_findings(claim, data, None))
    }

    /// Claim and line rules on one claim; with `needs` (from a screen), only what it says is
    /// still needed: no rule it cleared, only the fired lines of a rule it decided.
    pub(crate) fn claim_findings(
        &self,
        claim: &Arc<Record>,
        data: &RunData,
        needs: Option<&Needs>,
    ) -> (Vec<Finding>, Vec<ClaimError>) {
        let mut eval = ClaimEval::new(&self.program, data, claim.clone());
        let mut findings = Vec::new();
        let mut errors = Vec::new();
        for (i, rule) in self.program.rules.iter().enumerate() {
            if rule.scope == Scope::Provider {
                continue;
            }
            let evaluated = match needs.map_or(Need::Everything, |n| n.get(i)) {
                Need::Nothing => continue,
                Need::Fired(lines) => eval.rule_lines(i, lines),
                Need::Everything => eval.rule(i),
            };
            match evaluated {
                Ok(hits) => findings.extend(
                    hits.into_iter()
                        .map(|h| self.finding(&h, Some(claim), None)),
                ),
                Err(error) => errors.push(ClaimError {
                    setl_id: self
                        .text(claim, self.layout.setl_id())
                        .map(|s| s.to_string()),
                    error,
                }),
            }
        }
        (findings, errors)
    }

    /// Provider rules: groups by provider and month over all the run's claims (history gives
    /// the previous months); findings only for months in which the claims file has a claim.
    pub(crate) fn provider_findings(
        &self,
        claims: &[Arc<Record>],
        history: &[Arc<Record>],
        data: &RunData,
    ) -> (Vec<Finding>, Vec<ClaimError>) {
        let mut findings = Vec::new();
        let mut errors = Vec::new();
        for (i, rule) in self.program.rules.iter().enumerate() {
            if rule.scope != Scope::Provider {
                continue;
            }
            // (provider, month) → claims, and whether the claims file contributed.
            let mut groups: BTreeMap<(Arc<str>, NaiveDate), MonthGroup> = BTreeMap::new();
            for (claim, from_claims) in claims
                .iter()
                .map(|c| (c, true))
                .chain(history.iter().map(|c| (c, false)))
            {
                let mut eval = ClaimEval::new(&self.program, data, claim.clone());
                match eval.provider_month(i) {
                    Ok(Some(month)) => {
                        let provider = self
                            .text(claim, self.layout.fixmedins_code())
                            .unwrap_or_else(|| Arc::from(""));
                        let entry = groups.entry((provider, month)).or_default();
                        entry.0.push(claim);
                        entry.1 |= from_claims;
                    }
                    Ok(None) => {}
                    Err(error) => errors.push(ClaimError {
                        setl_id: self
                            .text(claim, self.layout.setl_id())
                            .map(|s| s.to_string()),
                        error,
                    }),
                }
            }
            for ((provider, month), (members, reported)) in &groups {
                if !reported {
                    continue;
                }
                let previous = previous_month(*month)
                    .and_then(|m| groups.get(&(provider.clone(), m)))
                    .map(|(p, _)| p.clone())
                    .unwrap_or_default();
                let as_list = |rs: &[&Arc<Record>]| {
                    let mut sorted: Vec<&Arc<Record>> = rs.to_vec();
                    sorted.sort_by(|a, b| data.order(a, b));
                    sorted.into_iter().cloned().collect::<Vec<Arc<Record>>>()
                };
                match interp::eval_provider(
                    &self.program,
                    i,
                    data,
                    provider,
                    *month,
                    as_list(members),
                    as_list(&previous),
                ) {
                    Ok(Some(hit)) => {
                        findings.push(self.finding(&hit, None, Some((provider.clone(), *month))))
                    }
                    Ok(None) => {}
                    Err(error) => errors.push(ClaimError {
                        setl_id: None,
                        error,
                    }),
                }
            }
        }
        (findings, errors)
    }

    pub(crate) fn finding(
        &self,
        hit: &Hit,
        claim: Option<&Record>,
        provider: Option<(Arc<str>, NaiveDate)>,
    ) -> Finding {
        let rule = &self.program.rules[hit.rule];
        let (id, name, basis) = self.rule_names[hit.rule].clone();
        let feedetl_sn = match (claim, rule.list_slot, hit.line) {
            (Some(c), Some(slot), Some(i)) => match c.get(slot) {
                Value::List(items) => match items.get(i) {
                    Some(Value::Record(line)) => {
                        let key = self
                            .layout
                            .claim()
                            .fields()
                            .get(slot)
                            .and_then(|f| self.layout.record_of(f))
                            .and_then(|r| r.line_key());
                        key.and_then(|k| self.text(line, k))
                    }
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        let (fixmedins_code, period) = match (&provider, claim) {
            (Some((p, m)), _) => (p.clone(), Some(format!("{:04}-{:02}", m.year(), m.month()))),
            (None, Some(c)) => (
                self.text(c, self.layout.fixmedins_code())
                    .unwrap_or_else(|| Arc::from("")),
                None,
            ),
            (None, None) => (Arc::from(""), None),
        };
        Finding {
            rule_id: id,
            rule_name: name,
            scope: rule.scope,
            setl_id: claim.and_then(|c| self.text(c, self.layout.setl_id())),
            psn_no: claim.and_then(|c| self.text(c, self.layout.psn_no())),
            fixmedins_code,
            feedetl_sn,
            period,
            vola_amt: hit.amount,
            sev_deg: rule.severity,
            vola_cont: hit.message.clone(),
            vola_evid: basis,
            rulebook: self.rulebook.clone(),
        }
    }
}

/// A provider's claims in one month, and whether the claims file (not only history) has one.
type MonthGroup<'c> = (Vec<&'c Arc<Record>>, bool);

pub(crate) fn previous_month(m: NaiveDate) -> Option<NaiveDate> {
    if m.month() == 1 {
        NaiveDate::from_ymd_opt(m.year() - 1, 12, 1)
    } else {
        NaiveDate::from_ymd_opt(m.year(), m.month() - 1, 1)
    }
}

/// Tables by program index, and every claim of the run by patient, oldest first.
pub(crate) struct RunData<'e> {
    tables: &'e [LoadedTable],
    patients: HashMap<Arc<str>, Vec<Arc<Record>>>,
    setl_id: usize,
    begndate: Option<usize>,
}

impl<'e> RunData<'e> {
    /// The index of a run's (or a partition's) claims and history.
    pub(crate) fn new(engine: &'e Engine, claims: &[Arc<Record>], history: &[Arc<Record>]) -> Self {
        let layout = &engine.layout;
        let mut data = RunData {
            tables: &engine.tables,
            patients: HashMap::new(),
            setl_id: layout.setl_id(),
            begndate: layout.claim().slot("begndate"),
        };
        for c in claims.iter().chain(history) {
            if let Value::Text(p) = c.get(layout.psn_no()) {
                data.patients.entry(p.clone()).or_default().push(c.clone());
            }
        }
        let mut patients = std::mem::take(&mut data.patients);
        for list in patients.values_mut() {
            list.sort_by(|a, b| data.order(a, b));
        }
        data.patients = patients;
        data
    }

    /// Oldest first: by begndate (absent first), then setl_id in serial order
    /// (`interp::sorts_before`, the order the rules themselves use).
    pub(crate) fn order(&self, a: &Record, b: &Record) -> std::cmp::Ordering {
        fn date(c: &Record, slot: Option<usize>) -> &Value {
            const ABSENT: &Value = &Value::Absent;
            slot.map_or(ABSENT, |s| c.get(s))
        }
        // setl_id is text in every valid claim; anything else sorts by its printed form.
        fn text(c: &Record, slot: usize) -> std::borrow::Cow<'_, str> {
            match c.get(slot) {
                Value::Text(t) => std::borrow::Cow::Borrowed(t),
                v => std::borrow::Cow::Owned(v.to_string()),
            }
        }
        date(a, self.begndate)
            .cmp(date(b, self.begndate))
            .then_with(|| {
                let (x, y) = (text(a, self.setl_id), text(b, self.setl_id));
                if interp::sorts_before(&x, &y) {
                    std::cmp::Ordering::Less
                } else if interp::sorts_before(&y, &x) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
    }
}

impl Data for RunData<'_> {
    fn lookup(&self, table: u32, key: &[Value], at: Option<NaiveDate>) -> Option<Arc<Record>> {
        self.tables.get(table as usize)?.lookup(key, at).cloned()
    }

    fn rows(&self, table: u32) -> Vec<Arc<Record>> {
        self.tables
            .get(table as usize)
            .map(|t| t.rows().to_vec())
            .unwrap_or_default()
    }

    fn history(&self, psn_no: &str, current: &Record) -> Vec<Arc<Record>> {
        let me = current.get(self.setl_id);
        self.patients
            .get(psn_no)
            .map(|list| {
                list.iter()
                    .filter(|c| c.get(self.setl_id) != me)
                    .map(|c| (*c).clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Reads a claims file for a run: the claims and what was rejected (with line numbers).
pub fn read_claims(
    layout: &ClaimLayout,
    path: &Path,
) -> std::io::Result<(
    Vec<Record>,
    Vec<crate::claims::Rejected>,
    crate::claims::ReadCounts,
)> {
    let file = std::fs::File::open(path)?;
    let mut reader = crate::claims::ClaimReader::new(layout, std::io::BufReader::new(file));
    let mut claims = Vec::new();
    let mut rejected = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(c) => claims.push(c.record),
            Err(r) => rejected.push(r),
        }
    }
    let counts = reader
        .finish()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok((claims, rejected, counts))
}

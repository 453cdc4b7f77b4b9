//! `vigil explain`: why one claim was flagged or not, rule by rule.
//!
//! The explanation is the reference interpreter's own walk (`vigil_compiler::trace`), recorded
//! while it evaluates exactly as `vigil run` does, over the same data (`RunData`: the claims
//! file's claims plus the history), and its findings are made by the engine's own
//! `Engine::finding`. So a verdict, amount and message here are the ones `run` writes.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use vigil_compiler::interp::{self, ClaimEval, EvalError, ProviderGroup};
use vigil_compiler::ir::{IrKind, RuleIr, CLAIM, LINE};
use vigil_compiler::model::Scope;
use vigil_compiler::trace::{Part, Recorder, Step, Walk};
use vigil_compiler::types::Ty;
use vigil_compiler::value::{Record, Value};

use crate::engine::{previous_month, Engine, RunData};
use crate::findings::{finding_json, round_amount, Finding};

/// Why a claim or rule cannot be explained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    #[error("no claim with setl_id `{setl_id}` in the claims file{}", hint(.suggestion))]
    UnknownClaim {
        setl_id: String,
        suggestion: Option<String>,
    },
    #[error("no rule `{rule}` in the rulebook{}", hint(.suggestion))]
    UnknownRule {
        rule: String,
        suggestion: Option<String>,
    },
}

fn hint(suggestion: &Option<String>) -> String {
    suggestion
        .as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

/// What to show of a line rule's lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Every line with its whole walk; otherwise fired lines in full and, for the others, the
    /// first condition that failed.
    pub all_lines: bool,
}

/// One claim, explained.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub setl_id: String,
    pub psn_no: String,
    pub fixmedins_code: String,
    pub rulebook: String,
    pub rules: Vec<RuleExplanation>,
}

/// What a rule made of the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Fired,
    NotFired,
    /// The rule has nothing to look at here: a line rule on a claim without lines, a provider
    /// rule whose `where` leaves the claim out (or whose month is absent).
    NotApplicable,
    /// A provider rule's `where` and `month of` put the claim in a month's group.
    Counted,
    Error,
}

impl Verdict {
    /// As the text output says it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Fired => "FIRED",
            Verdict::NotFired => "not fired",
            Verdict::NotApplicable => "not applicable",
            Verdict::Counted => "counted",
            Verdict::Error => "error",
        }
    }
}

/// One rule's verdict on the claim, its findings (as `run` writes them) and the walks.
#[derive(Debug, Clone, Serialize)]
pub struct RuleExplanation {
    pub rule_id: String,
    pub rule_name: String,
    pub scope: &'static str,
    pub verdict: Verdict,
    /// Exactly the findings `vigil run` writes for this claim and rule (provider rules: for the
    /// claim's provider and month).
    #[serde(serialize_with = "findings_as_json")]
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Provider rules: the group the claim counts in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupView>,
    pub walks: Vec<WalkView>,
}

fn findings_as_json<S: serde::Serializer>(f: &[Finding], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(f.iter().map(finding_json))
}

/// A provider's month, as a provider rule sees it.
#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    pub fixmedins_code: String,
    /// `YYYY-MM`.
    pub period: String,
    pub claims: usize,
    pub previous_claims: usize,
}

/// One evaluation of the rule: a line, the claim, or a provider's month.
#[derive(Debug, Clone, Serialize)]
pub struct WalkView {
    /// `line 3 (feedetl_sn 7)`, `claim`, `month of this claim`, `provider H1 2026-10`.
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedetl_sn: Option<String>,
    pub outcome: Verdict,
    /// Rounded to 2 places, as the finding has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `all` steps, or only the `first_failing` condition.
    pub shown: &'static str,
    pub steps: Vec<StepView>,
}

/// One evaluated node: the rule text and the value it gave.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    /// `let NAME`, `when`, `amount`, `message`, `where`, `month of`.
    pub part: String,
    /// Nesting under the clause (0: the clause's expression itself).
    pub depth: usize,
    /// The rule text of the node, on one line.
    pub text: String,
    /// `file:line:col`, the file relative to the rulebook folder.
    pub at: String,
    pub value: Shown,
}

/// A value as an explanation shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shown {
    Absent,
    /// The node stopped on an evaluation error.
    Error,
    Scalar {
        value: String,
    },
    /// A table row: its key, its validity and its other cells.
    Row {
        table: String,
        key: String,
        valid: String,
        cells: Vec<Cell>,
    },
    /// A claim or a line: the fields that identify it.
    Record {
        record: String,
        cells: Vec<Cell>,
    },
    /// The first items of a list, and how many there are in all.
    List {
        len: usize,
        items: Vec<Shown>,
    },
}

/// A named value of a row or record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub name: String,
    pub value: String,
}

/// How many items of a list an explanation shows.
const LIST_SHOWN: usize = 10;

/// Which provider claims fall in which month, per provider rule: `run`'s grouping, made once.
type MonthGroups = BTreeMap<(Arc<str>, NaiveDate), Vec<Arc<Record>>>;

/// Explains claims of one run: the claims file and the history, as `vigil run` reads them.
pub struct Explainer<'e> {
    engine: &'e Engine,
    claims: Vec<Arc<Record>>,
    by_setl_id: HashMap<Arc<str>, usize>,
    data: RunData<'e>,
    /// By rule index; `None` for claim and line rules.
    groups: Vec<Option<MonthGroups>>,
    /// The rulebook folder the spans' files are shown relative to.
    root: PathBuf,
    /// Each span's text and place, made once: explaining many claims meets the same nodes.
    places: Mutex<HashMap<vigil_dsl::Span, (String, String)>>,
    /// Rows and records as shown, by address; each entry holds its record, so an address is
    /// never reused while cached. The same rows and claims are met again and again.
    records: Mutex<HashMap<usize, (Arc<Record>, Shown)>>,
}

impl<'e> Explainer<'e> {
    /// Prepares the run's data: history by patient, provider rules' month groups.
    pub fn new(engine: &'e Engine, claims: &[Record], history: &[Record]) -> Self {
        let claims: Vec<Arc<Record>> = claims.iter().cloned().map(Arc::new).collect();
        let history: Vec<Arc<Record>> = history.iter().cloned().map(Arc::new).collect();
        let data = RunData::new(engine, &claims, &history);
        let mut by_setl_id = HashMap::new();
        for (i, c) in claims.iter().enumerate() {
            if let Some(id) = engine.text(c, engine.layout.setl_id()) {
                by_setl_id.entry(id).or_insert(i);
            }
        }
        let groups = engine
            .program
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                (rule.scope == Scope::Provider)
                    .then(|| month_groups(engine, &data, i, &claims, &history))
            })
            .collect();
        let root = common_dir(engine.sources.files().iter().map(|f| f.path.as_path()));
        Explainer {
            engine,
            claims,
            by_setl_id,
            data,
            groups,
            root,
            places: Mutex::new(HashMap::new()),
            records: Mutex::new(HashMap::new()),
        }
    }

    /// Explains claim `setl_id` under every rule, or under `rule` alone.
    pub fn explain(
        &self,
        setl_id: &str,
        rule: Option<&str>,
        options: Options,
    ) -> Result<Explanation, ExplainError> {
        let Some(&index) = self.by_setl_id.get(setl_id) else {
            return Err(ExplainError::UnknownClaim {
                setl_id: setl_id.to_string(),
                // In file order, so that a tie is always broken the same way.
                suggestion: vigil_compiler::suggest(
                    setl_id,
                    self.claims
                        .iter()
                        .filter_map(|c| c.get(self.engine.layout.setl_id()).as_text()),
                ),
            });
        };
        let rules = &self.engine.program.rules;
        let chosen: Vec<usize> = match rule {
            None => (0..rules.len()).collect(),
            Some(id) => match rules.iter().position(|r| r.id == id) {
                Some(i) => vec![i],
                None => {
                    return Err(ExplainError::UnknownRule {
                        rule: id.to_string(),
                        suggestion: vigil_compiler::suggest(id, rules.iter().map(|r| &*r.id)),
                    })
                }
            },
        };
        let claim = &self.claims[index];
        let text = |slot| {
            self.engine
                .text(claim, slot)
                .map(|t| t.to_string())
                .unwrap_or_default()
        };
        let layout = &self.engine.layout;
        Ok(Explanation {
            setl_id: setl_id.to_string(),
            psn_no: text(layout.psn_no()),
            fixmedins_code: text(layout.fixmedins_code()),
            rulebook: self.engine.rulebook.to_string(),
            rules: {
                // One evaluator for the claim, as `run` has: shared values (the catalogue row,
                // the history) are computed once; a node that reads one records its value.
                let mut eval = ClaimEval::traced(
                    &self.engine.program,
                    &self.data,
                    claim.clone(),
                    Recorder::new(),
                );
                chosen
                    .into_iter()
                    .map(|i| self.rule(&mut eval, claim, i, options))
                    .collect()
            },
        })
    }

    fn rule<'s>(
        &'s self,
        eval: &mut ClaimEval<'s, Recorder<'s>>,
        claim: &Arc<Record>,
        index: usize,
        options: Options,
    ) -> RuleExplanation {
        let engine = self.engine;
        let rule = &engine.program.rules[index];
        let mut out = RuleExplanation {
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            scope: rule.scope.as_str(),
            verdict: Verdict::NotFired,
            findings: vec![],
            error: None,
            group: None,
            walks: vec![],
        };
        if rule.scope == Scope::Provider {
            self.provider_rule(eval, claim, index, &mut out);
            return out;
        }
        let result = eval.rule(index);
        let recorder = std::mem::take(eval.trace_mut());
        let hits = match result {
            Ok(hits) => hits,
            Err(e) => {
                out.verdict = Verdict::Error;
                out.error = Some(self.describe(&e));
                vec![]
            }
        };
        let failed = out.verdict == Verdict::Error;
        let walk_count = recorder.walks.len();
        for (n, walk) in recorder.walks.iter().enumerate() {
            let hit = hits.iter().find(|h| h.line == walk.line);
            let outcome = match hit {
                Some(_) => Verdict::Fired,
                None if failed && n + 1 == walk_count => Verdict::Error,
                None => Verdict::NotFired,
            };
            let finding = hit.map(|h| engine.finding(h, Some(claim), None));
            let feedetl_sn = match (rule.list_slot, walk.line) {
                (Some(slot), Some(i)) => self.line_key(claim, slot, i),
                _ => None,
            };
            let label = match (walk.line, &feedetl_sn) {
                (Some(i), Some(sn)) => format!("line {} (feedetl_sn {sn})", i + 1),
                (Some(i), None) => format!("line {}", i + 1),
                (None, _) => "claim".to_string(),
            };
            let whole = options.all_lines || outcome != Verdict::NotFired || walk.line.is_none();
            out.walks.push(WalkView {
                label,
                line: walk.line.map(|i| i + 1),
                feedetl_sn,
                outcome,
                amount: finding
                    .as_ref()
                    .map(|f| round_amount(f.vola_amt).to_string()),
                message: finding.as_ref().map(|f| f.vola_cont.clone()),
                shown: if whole { "all" } else { "first_failing" },
                steps: self.steps(rule, walk, !whole),
            });
            out.findings.extend(finding);
        }
        out.verdict = match out.verdict {
            Verdict::Error => Verdict::Error,
            _ if !out.findings.is_empty() => Verdict::Fired,
            _ if rule.scope == Scope::Line && walk_count == 0 => Verdict::NotApplicable,
            _ => Verdict::NotFired,
        };
        out
    }

    /// A provider rule: the claim's month (its `where` and `month of`), then the month's group.
    fn provider_rule<'s>(
        &'s self,
        eval: &mut ClaimEval<'s, Recorder<'s>>,
        claim: &Arc<Record>,
        index: usize,
        out: &mut RuleExplanation,
    ) {
        let engine = self.engine;
        let rule = &engine.program.rules[index];
        let month = eval.provider_month(index);
        let recorder = std::mem::take(eval.trace_mut());
        let month = match month {
            Ok(m) => m,
            Err(e) => {
                out.verdict = Verdict::Error;
                out.error = Some(self.describe(&e));
                None
            }
        };
        for walk in &recorder.walks {
            out.walks.push(WalkView {
                label: "month of this claim".to_string(),
                line: None,
                feedetl_sn: None,
                outcome: match (out.verdict, month) {
                    (Verdict::Error, _) => Verdict::Error,
                    (_, Some(_)) => Verdict::Counted,
                    (_, None) => Verdict::NotApplicable,
                },
                amount: None,
                message: None,
                shown: "all",
                steps: self.steps(rule, walk, false),
            });
        }
        let Some(month) = month else {
            if out.verdict != Verdict::Error {
                out.verdict = Verdict::NotApplicable;
            }
            return;
        };
        let provider = engine
            .text(claim, engine.layout.fixmedins_code())
            .unwrap_or_else(|| Arc::from(""));
        let groups = self.groups.get(index).and_then(Option::as_ref);
        let members = |m: Option<NaiveDate>| -> Vec<Arc<Record>> {
            m.and_then(|m| groups?.get(&(provider.clone(), m)))
                .cloned()
                .unwrap_or_default()
        };
        let (claims, previous) = (members(Some(month)), members(previous_month(month)));
        let period = format!("{:04}-{:02}", month.year(), month.month());
        out.group = Some(GroupView {
            fixmedins_code: provider.to_string(),
            period: period.clone(),
            claims: claims.len(),
            previous_claims: previous.len(),
        });
        let group = ProviderGroup {
            provider: &provider,
            month,
            claims,
            previous,
        };
        let (result, recorder) = interp::eval_provider_traced(
            &engine.program,
            index,
            &self.data,
            group,
            Recorder::new(),
        );
        let (outcome, finding) = match result {
            Ok(Some(hit)) => (
                Verdict::Fired,
                Some(engine.finding(&hit, None, Some((provider.clone(), month)))),
            ),
            Ok(None) => (Verdict::NotFired, None),
            Err(e) => {
                out.error = Some(self.describe(&e));
                (Verdict::Error, None)
            }
        };
        for walk in &recorder.walks {
            out.walks.push(WalkView {
                label: format!("provider {provider} {period}"),
                line: None,
                feedetl_sn: None,
                outcome,
                amount: finding
                    .as_ref()
                    .map(|f| round_amount(f.vola_amt).to_string()),
                message: finding.as_ref().map(|f| f.vola_cont.clone()),
                shown: "all",
                steps: self.steps(rule, walk, false),
            });
        }
        out.verdict = outcome;
        out.findings.extend(finding);
    }

    fn describe(&self, e: &EvalError) -> String {
        format!("{} (at {})", e.message, self.at(e.span))
    }

    fn line_key(&self, claim: &Record, slot: usize, i: usize) -> Option<String> {
        let layout = &self.engine.layout;
        let key = layout
            .claim()
            .fields()
            .get(slot)
            .and_then(|f| layout.record_of(f))
            .and_then(|r| r.line_key())?;
        match claim.get(slot) {
            Value::List(items) => match items.get(i) {
                Some(Value::Record(line)) => self.engine.text(line, key).map(|t| t.to_string()),
                _ => None,
            },
            _ => None,
        }
    }

    /// The steps of a walk worth showing, with their depth among the shown ones. `failing`:
    /// only the first conjunct of `when` that did not hold, with what is under it.
    fn steps(&self, rule: &RuleIr, walk: &Walk<'_>, failing: bool) -> Vec<StepView> {
        let steps: &[Step<'_>] = match failing.then(|| first_failing(&walk.steps)).flatten() {
            Some(range) => &walk.steps[range],
            None => &walk.steps,
        };
        let base = steps.first().map_or(0, |s| s.depth);
        let mut out = Vec::new();
        // The shown ancestors of the current step: (its depth in the walk, its span).
        let mut stack: Vec<(u32, vigil_dsl::Span)> = Vec::new();
        // Every ancestor of the current step, shown or not: (depth, the node).
        let mut path: Vec<(u32, &IrKind)> = Vec::new();
        let mut part = None;
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        for step in steps {
            // Each clause is a tree of its own.
            if part != Some(step.part) {
                stack.clear();
                path.clear();
                part = Some(step.part);
            }
            let depth = step.depth.saturating_sub(base);
            while stack.last().is_some_and(|(d, _)| *d >= depth) {
                stack.pop();
            }
            while path.last().is_some_and(|(d, _)| *d >= depth) {
                path.pop();
            }
            let parent = path.last().map(|(_, k)| *k);
            path.push((depth, &step.ir.kind));
            // `a and b and c` is one list of conditions, not a tree of pairs.
            let chained = matches!(
                (parent, &step.ir.kind),
                (Some(IrKind::And(..)), IrKind::And(..)) | (Some(IrKind::Or(..)), IrKind::Or(..))
            );
            if chained {
                continue;
            }
            if let Some(&(_, parent)) = stack.last() {
                if parent == step.ir.span && depth > 0 {
                    continue;
                }
            }
            if hidden(step) {
                continue;
            }
            let (text, at) = self.place(step.ir.span);
            out.push(StepView {
                part: part_name(rule, step.part),
                depth: stack.len(),
                text,
                at,
                value: match &step.value {
                    // A list shown once in this walk is not listed again (a month's claims,
                    // read by several clauses): its length says which it is.
                    Some(Value::List(items)) if !seen.insert(text_key(&step.value)) => {
                        Shown::List {
                            len: items.len(),
                            items: vec![],
                        }
                    }
                    Some(v) => self.show(v, &step.ir.ty),
                    None => Shown::Error,
                },
            });
            stack.push((depth, step.ir.span));
        }
        out
    }

    /// A span's text and `file:line:col`.
    fn place(&self, span: vigil_dsl::Span) -> (String, String) {
        // A poisoned cache only means another thread panicked mid-insert: its map is sound.
        let mut places = self.places.lock().unwrap_or_else(|e| e.into_inner());
        places
            .entry(span)
            .or_insert_with(|| (self.snippet(span), self.at(span)))
            .clone()
    }

    /// The rule text under a span, on one line and at most 80 characters.
    fn snippet(&self, span: vigil_dsl::Span) -> String {
        let raw = self.engine.sources.snippet(span);
        let one_line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if one_line.chars().count() > 80 {
            let cut: String = one_line.chars().take(79).collect();
            format!("{cut}…")
        } else {
            one_line
        }
    }

    /// `file:line:col`, the file relative to the rulebook folder.
    fn at(&self, span: vigil_dsl::Span) -> String {
        match self.engine.sources.get(span.source) {
            Some(f) => {
                let (line, col) = vigil_dsl::line_col(&f.text, span.start as usize);
                let path = f.path.strip_prefix(&self.root).unwrap_or(&f.path);
                format!("{}:{line}:{col}", path.display())
            }
            None => String::new(),
        }
    }

    /// A value by its type: rows with their table's columns, records by what names them.
    fn show(&self, v: &Value, ty: &Ty) -> Shown {
        let ty = ty.unwrap_optional();
        match (v, ty) {
            (Value::Absent, _) => Shown::Absent,
            (Value::Record(r), Ty::Row(_) | Ty::Record(_)) => {
                let address = Arc::as_ptr(r) as usize;
                let cached = self
                    .records
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&address)
                    .map(|(_, shown)| shown.clone());
                cached.unwrap_or_else(|| {
                    let shown = match ty {
                        Ty::Row(table) => self.show_row(r, table),
                        Ty::Record(name) => self.show_record(r, name),
                        _ => Shown::Absent,
                    };
                    self.records
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(address, (r.clone(), shown.clone()));
                    shown
                })
            }
            (Value::Record(r), Ty::Group(key, items)) => Shown::Record {
                record: "group".to_string(),
                cells: vec![
                    Cell {
                        name: "key".to_string(),
                        value: scalar_text(r.get(0), key),
                    },
                    Cell {
                        name: "items".to_string(),
                        value: match (r.get(1), &**items) {
                            (Value::List(l), _) => l.len().to_string(),
                            _ => "0".to_string(),
                        },
                    },
                ],
            },
            // A claim's own lines are in the claims file: their count says enough.
            (Value::List(items), Ty::List(inner)) if matches!(&**inner, Ty::Record(n) if *n != self.engine.layout.claim().name()) => {
                Shown::List {
                    len: items.len(),
                    items: vec![],
                }
            }
            (Value::List(items), Ty::List(inner)) => Shown::List {
                len: items.len(),
                items: items
                    .iter()
                    .take(LIST_SHOWN)
                    .map(|i| self.show(i, inner))
                    .collect(),
            },
            (Value::List(items), _) => Shown::List {
                len: items.len(),
                items: items
                    .iter()
                    .take(LIST_SHOWN)
                    .map(|i| self.show(i, &Ty::Error))
                    .collect(),
            },
            (v, ty) => Shown::Scalar {
                value: scalar_text(v, ty),
            },
        }
    }

    fn show_row(&self, row: &Record, table: &str) -> Shown {
        let Some(t) = self.engine.tables.iter().find(|t| t.name() == table) else {
            return Shown::Scalar {
                value: format!("row of {table}"),
            };
        };
        let keys = t.key_slots();
        let cell = |name: &str| {
            t.column_slot(name)
                .map(|s| row.get(s).to_string())
                .filter(|s| !s.is_empty())
        };
        let valid = match (t.column_slot("begn_date"), t.column_slot("end_date")) {
            (None, None) => "always".to_string(),
            _ => format!(
                "{}..{}",
                cell("begn_date").unwrap_or_else(|| "open".into()),
                cell("end_date").unwrap_or_else(|| "open".into())
            ),
        };
        let cells = t
            .columns()
            .iter()
            .enumerate()
            .filter(|(slot, name)| {
                !keys.contains(slot) && *name != "begn_date" && *name != "end_date"
            })
            .filter(|(slot, _)| !row.get(*slot).is_absent())
            .map(|(slot, name)| Cell {
                name: name.clone(),
                value: row.get(slot).to_string(),
            })
            .collect();
        Shown::Row {
            table: table.to_string(),
            key: keys
                .iter()
                .map(|&s| row.get(s).to_string())
                .collect::<Vec<_>>()
                .join(", "),
            valid,
            cells,
        }
    }

    /// A claim by its id, provider and dates; another record by its first few present fields.
    fn show_record(&self, r: &Record, name: &str) -> Shown {
        let layout = &self.engine.layout;
        let Some(rl) = layout.record(name) else {
            return Shown::Scalar {
                value: format!("{name} record"),
            };
        };
        let wanted: Vec<usize> = if rl.name() == layout.claim().name() {
            [
                "setl_id",
                "fixmedins_code",
                "med_type",
                "begndate",
                "enddate",
            ]
            .iter()
            .filter_map(|f| rl.slot(f))
            .collect()
        } else {
            (0..rl.fields().len())
                .filter(|&s| is_scalar(r.get(s)))
                .take(4)
                .collect()
        };
        Shown::Record {
            record: name.to_string(),
            cells: wanted
                .into_iter()
                .filter(|&s| !r.get(s).is_absent())
                .filter_map(|s| {
                    Some(Cell {
                        name: rl.fields().get(s)?.name().to_string(),
                        value: r.get(s).to_string(),
                    })
                })
                .collect(),
        }
    }
}

/// A list's identity within one walk: its items as the message shows them (records by the
/// address they are shared at, which is what a walk reads them from).
fn text_key(v: &Option<Value>) -> String {
    match v {
        Some(Value::List(items)) => items
            .iter()
            .map(|i| match i {
                Value::Record(r) => format!("@{:p}", Arc::as_ptr(r)),
                v => v.to_string(),
            })
            .collect::<Vec<_>>()
            .join("|"),
        _ => String::new(),
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Absent | Value::List(_) | Value::Record(_))
}

fn scalar_text(v: &Value, ty: &Ty) -> String {
    match v {
        Value::Absent => "absent".to_string(),
        v => interp::show(v, ty),
    }
}

/// Nodes whose value says nothing: the claim and the line themselves, and `let` wrappers of
/// inlined defs (their body is shown).
fn hidden(step: &Step<'_>) -> bool {
    matches!(
        step.ir.kind,
        IrKind::Var(CLAIM) | IrKind::Var(LINE) | IrKind::Let { .. }
    )
}

fn part_name(rule: &RuleIr, part: Part) -> String {
    match part {
        Part::Filter => "where".to_string(),
        Part::MonthOf => "month of".to_string(),
        Part::Let(var) => {
            let n = rule.lets.iter().position(|(v, _)| *v == var).unwrap_or(0);
            format!("let #{}", n + 1)
        }
        Part::When => "when".to_string(),
        Part::Amount => "amount".to_string(),
        Part::Message => "message".to_string(),
    }
}

/// The steps of the first conjunct of `when` that did not hold (pre-order: a node's subtree is
/// the run of steps after it that are deeper). `None` when there is no `when` step.
fn first_failing(steps: &[Step<'_>]) -> Option<std::ops::Range<usize>> {
    let root = steps.iter().position(|s| s.part == Part::When)?;
    let subtree_end = |at: usize| {
        let d = steps[at].depth;
        (at + 1..steps.len())
            .find(|&j| steps[j].depth <= d || steps[j].part != steps[at].part)
            .unwrap_or(steps.len())
    };
    let mut at = root;
    // Walk down `and` chains: the failing conjunct is the first child that did not hold.
    while matches!(steps[at].ir.kind, IrKind::And(..)) {
        let end = subtree_end(at);
        let child_depth = steps[at].depth + 1;
        let failing = (at + 1..end)
            .filter(|&j| steps[j].depth == child_depth)
            .find(|&j| steps[j].value != Some(Value::Bool(true)));
        match failing {
            Some(j) => at = j,
            None => break,
        }
    }
    Some(at..subtree_end(at))
}

/// The deepest folder holding every file (the rulebook folder).
fn common_dir<'p>(paths: impl Iterator<Item = &'p Path>) -> PathBuf {
    let mut common: Option<PathBuf> = None;
    for p in paths {
        let dir = p.parent().unwrap_or(Path::new(""));
        common = Some(match common {
            None => dir.to_path_buf(),
            Some(c) => c
                .components()
                .zip(dir.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    common.unwrap_or_default()
}

/// `run`'s grouping of provider rule `index`: every claim of the run (claims and history) by
/// provider and month, each month's claims oldest first.
fn month_groups(
    engine: &Engine,
    data: &RunData<'_>,
    index: usize,
    claims: &[Arc<Record>],
    history: &[Arc<Record>],
) -> MonthGroups {
    let mut groups = MonthGroups::new();
    for claim in claims.iter().chain(history) {
        let mut eval = ClaimEval::new(&engine.program, data, claim.clone());
        if let Ok(Some(month)) = eval.provider_month(index) {
            let provider = engine
                .text(claim, engine.layout.fixmedins_code())
                .unwrap_or_else(|| Arc::from(""));
            groups
                .entry((provider, month))
                .or_default()
                .push(claim.clone());
        }
    }
    for members in groups.values_mut() {
        members.sort_by(|a, b| data.order(a, b));
    }
    groups
}

impl Explanation {
    /// The explanation for a person: per rule its verdict, then each walk's steps, indented
    /// like the expression tree, each with its value and where it is in the rulebook.
    pub fn render_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "claim {}  psn_no {}  fixmedins_code {}",
            self.setl_id, self.psn_no, self.fixmedins_code
        );
        for r in &self.rules {
            let _ = write!(
                out,
                "\n{} {} [{}]: {}",
                r.rule_id,
                r.rule_name,
                r.scope,
                r.verdict.as_str()
            );
            if r.verdict == Verdict::Fired {
                let total = r
                    .findings
                    .iter()
                    .map(|f| round_amount(f.vola_amt))
                    .fold(rust_decimal::Decimal::ZERO, |a, b| a + b);
                let _ = write!(out, " {}", round_amount(total));
                if r.findings.len() > 1 {
                    let _ = write!(out, " ({} findings)", r.findings.len());
                }
            }
            out.push('\n');
            if let Some(e) = &r.error {
                let _ = writeln!(out, "  error: {e}");
            }
            if let Some(g) = &r.group {
                let _ = writeln!(
                    out,
                    "  provider {} month {}: {} claims, previous month {} claims",
                    g.fixmedins_code, g.period, g.claims, g.previous_claims
                );
            }
            for w in &r.walks {
                let _ = write!(out, "  {}: {}", w.label, w.outcome.as_str());
                if let Some(a) = &w.amount {
                    let _ = write!(out, " {a}");
                }
                if let Some(m) = &w.message {
                    let _ = write!(out, " \"{m}\"");
                }
                if w.shown == "first_failing" {
                    out.push_str(", first failing condition:");
                }
                out.push('\n');
                for s in &w.steps {
                    let indent = "  ".repeat(s.depth + 2);
                    let head = if s.depth == 0 {
                        format!("{}: ", s.part)
                    } else {
                        String::new()
                    };
                    let _ = writeln!(
                        out,
                        "{indent}{head}{} = {}    ({})",
                        s.text,
                        s.value.text(),
                        s.at
                    );
                }
            }
        }
        out
    }
}

impl Shown {
    /// On one line, as the text explanation shows it.
    pub fn text(&self) -> String {
        let cells = |cells: &[Cell]| {
            cells
                .iter()
                .map(|c| format!("{}={}", c.name, c.value))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Shown::Absent => "absent".to_string(),
            Shown::Error => "ERROR".to_string(),
            Shown::Scalar { value } => value.clone(),
            Shown::Row {
                table,
                key,
                valid,
                cells: c,
            } => format!("{table} row [{key}] valid {valid} {{{}}}", cells(c)),
            Shown::Record { record, cells: c } => format!("{record} {{{}}}", cells(c)),
            Shown::List { len, items } => {
                let shown: Vec<String> = items.iter().map(Shown::text).collect();
                let more = if *len > items.len() {
                    format!("; … {} more", len - items.len())
                } else {
                    String::new()
                };
                if shown.is_empty() {
                    format!("{len} items")
                } else {
                    format!("{len} items [{}{more}]", shown.join("; "))
                }
            }
        }
    }
}

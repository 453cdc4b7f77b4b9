//! The reference interpreter of the IR: what a rulebook means, executed directly. Every other
//! way of running rules (the native backend) must agree with it.
//!
//! Money is exact (`rust_decimal`, checked: an overflow is an `EvalError` for that claim, never
//! a wrap); `/` yields a decimal and a zero divisor is an error; an absent value equals nothing.

use foldhash::{HashMap, HashMapExt};
use std::cmp::Ordering;
use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, Timelike};
use rust_decimal::{Decimal, RoundingStrategy};
use vigil_dsl::Span;

use crate::ir::*;
use crate::model::Scope;
use crate::trace::{NoTrace, Part, Trace};
use crate::types::Ty;
use crate::value::{Record, Value};

/// Reference data the rules read: tables and the patients' other claims.
pub trait Data {
    /// The row of table `table` for `key` valid on `at` (tables without validity ignore `at`).
    fn lookup(&self, table: u32, key: &[Value], at: Option<NaiveDate>) -> Option<Arc<Record>>;
    /// All rows of a table.
    fn rows(&self, table: u32) -> Vec<Arc<Record>>;
    /// The patient's claims other than `current`, oldest first.
    fn history(&self, psn_no: &str, current: &Record) -> Vec<Arc<Record>>;
}

/// Why a rule could not be evaluated on a claim.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{rule}: {message}")]
pub struct EvalError {
    pub rule: String,
    pub message: String,
    /// Where in the rule text.
    pub span: Span,
}

/// A rule that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Index into `Program::rules`.
    pub rule: usize,
    /// Line rules: the index of the line in its list.
    pub line: Option<usize>,
    /// Exact, not yet rounded.
    pub amount: Decimal,
    pub message: String,
}

type R<T> = Result<T, (String, Span)>;

/// Evaluates the claim and line rules of a program on one claim, sharing hoisted work.
/// `T` observes the walk (`vigil explain`); the default `NoTrace` observes nothing.
pub struct ClaimEval<'a, T: Trace<'a> = NoTrace> {
    program: &'a Program,
    data: &'a dyn Data,
    claim: Value,
    claim_memo: HashMap<u32, Value>,
    line_memo: HashMap<(usize, usize, u32), Value>,
    /// The line being evaluated (list slot, index), for line-scope shared values.
    current_line: Option<(usize, usize)>,
    trace: T,
}

impl<'a> ClaimEval<'a, NoTrace> {
    /// An evaluator for one claim.
    pub fn new(program: &'a Program, data: &'a dyn Data, claim: Arc<Record>) -> Self {
        ClaimEval::traced(program, data, claim, NoTrace)
    }
}

impl<'a, T: Trace<'a>> ClaimEval<'a, T> {
    /// An evaluator for one claim whose walk `trace` observes.
    pub fn traced(program: &'a Program, data: &'a dyn Data, claim: Arc<Record>, trace: T) -> Self {
        ClaimEval {
            program,
            data,
            claim: Value::Record(claim),
            claim_memo: HashMap::new(),
            line_memo: HashMap::new(),
            current_line: None,
            trace,
        }
    }

    /// The observer, with what it saw.
    pub fn into_trace(self) -> T {
        self.trace
    }

    /// The observer, to take what it saw so far (one rule's walks) and go on with the next.
    pub fn trace_mut(&mut self) -> &mut T {
        &mut self.trace
    }

    /// Evaluates one claim- or line-scope rule; a line rule yields a hit per offending line.
    pub fn rule(&mut self, index: usize) -> Result<Vec<Hit>, EvalError> {
        self.rule_at(index, None)
    }

    /// Evaluates a line rule on the given lines only (indexes into its list, ascending; those
    /// out of range are skipped): what `rule` gives on exactly those lines, since each line is
    /// judged on its own. A claim rule is evaluated whole.
    pub fn rule_lines(&mut self, index: usize, lines: &[usize]) -> Result<Vec<Hit>, EvalError> {
        self.rule_at(index, Some(lines))
    }

    fn rule_at(&mut self, index: usize, only: Option<&[usize]>) -> Result<Vec<Hit>, EvalError> {
        let program = self.program;
        let Some(rule) = program.rules.get(index) else {
            return Ok(vec![]);
        };
        let wrap = |(message, span): (String, Span)| EvalError {
            rule: rule.id.clone(),
            message,
            span,
        };
        let mut hits = Vec::new();
        match (rule.scope, rule.list_slot) {
            (Scope::Line, Some(slot)) => {
                // The claim is shared: hold it and walk its list in place, copying nothing.
                let claim = match &self.claim {
                    Value::Record(r) => Arc::clone(r),
                    _ => return Ok(hits),
                };
                let lines: &[Value] = match claim.get(slot) {
                    Value::List(items) => items,
                    _ => &[],
                };
                let count = only.map_or(lines.len(), <[usize]>::len);
                for k in 0..count {
                    let i = only.and_then(|o| o.get(k).copied()).unwrap_or(k);
                    let Some(line) = lines.get(i).cloned() else {
                        continue;
                    };
                    self.current_line = Some((slot, i));
                    self.trace.begin(Some(i));
                    let mut frame = vec![Value::Absent; rule.frame as usize];
                    frame[CLAIM as usize] = self.claim.clone();
                    frame[LINE as usize] = line;
                    if let Some((amount, message)) = self.fire(rule, &mut frame).map_err(wrap)? {
                        hits.push(Hit {
                            rule: index,
                            line: Some(i),
                            amount,
                            message,
                        });
                    }
                }
                self.current_line = None;
            }
            (Scope::Claim, _) => {
                self.trace.begin(None);
                let mut frame = vec![Value::Absent; rule.frame.max(2) as usize];
                frame[CLAIM as usize] = self.claim.clone();
                if let Some((amount, message)) = self.fire(rule, &mut frame).map_err(wrap)? {
                    hits.push(Hit {
                        rule: index,
                        line: None,
                        amount,
                        message,
                    });
                }
            }
            _ => {}
        }
        Ok(hits)
    }

    /// Provider rules: the month a claim counts in (None when the rule's `where` rejects it or
    /// its date is absent).
    pub fn provider_month(&mut self, index: usize) -> Result<Option<NaiveDate>, EvalError> {
        let program = self.program;
        let Some(rule) = program.rules.get(index) else {
            return Ok(None);
        };
        let Some(p) = &rule.provider else {
            return Ok(None);
        };
        let wrap = |(message, span): (String, Span)| EvalError {
            rule: rule.id.clone(),
            message,
            span,
        };
        let mut frame = vec![Value::Absent; rule.frame.max(2) as usize];
        frame[CLAIM as usize] = self.claim.clone();
        self.trace.begin(None);
        if let Some(f) = &p.filter {
            self.trace.part(Part::Filter);
            if !truth(&self.eval(f, &mut frame).map_err(wrap)?) {
                return Ok(None);
            }
        }
        self.trace.part(Part::MonthOf);
        Ok(match self.eval(&p.month_of, &mut frame).map_err(wrap)? {
            Value::Date(d) => NaiveDate::from_ymd_opt(d.year(), d.month(), 1),
            Value::DateTime(t) => NaiveDate::from_ymd_opt(t.year(), t.month(), 1),
            _ => None,
        })
    }

    /// Evaluates a rule's lets, `when`, `amount` and `message` in a prepared frame.
    fn fire(&mut self, rule: &'a RuleIr, frame: &mut [Value]) -> R<Option<(Decimal, String)>> {
        for (var, e) in &rule.lets {
            self.trace.part(Part::Let(*var));
            let v = self.eval(e, frame)?;
            set(frame, *var, v);
        }
        self.trace.part(Part::When);
        if !truth(&self.eval(&rule.when, frame)?) {
            return Ok(None);
        }
        self.trace.part(Part::Amount);
        let amount = match &rule.amount {
            Some(a) => match self.eval(a, frame)? {
                Value::Int(i) => Decimal::from(i),
                Value::Decimal(d) => d,
                _ => Decimal::ZERO,
            },
            None => Decimal::ZERO,
        };
        self.trace.part(Part::Message);
        let mut message = String::new();
        for part in &rule.message {
            match part {
                MessagePart::Text(t) => message.push_str(t),
                MessagePart::Hole(h) => {
                    let v = self.eval(h, frame)?;
                    message.push_str(&show(&v, &h.ty));
                }
            }
        }
        Ok(Some((amount, message)))
    }

    fn shared(&mut self, id: u32) -> R<Value> {
        let program = self.program;
        let Some(s) = program.shared.get(id as usize) else {
            return Ok(Value::Absent);
        };
        let key = match s.scope {
            SharedScope::Claim => None,
            SharedScope::Line(_) => self.current_line.map(|(slot, i)| (slot, i, id)),
        };
        let cached = match key {
            None => self.claim_memo.get(&id),
            Some(k) => self.line_memo.get(&k),
        };
        if let Some(v) = cached {
            return Ok(v.clone());
        }
        let mut frame = vec![Value::Absent; max_var(&s.expr) as usize + 1];
        frame[CLAIM as usize] = self.claim.clone();
        if let (SharedScope::Line(slot), Some((_, i))) = (s.scope, self.current_line) {
            if let Value::Record(r) = &self.claim {
                if let Value::List(items) = r.get(slot) {
                    frame[LINE as usize] = items.get(i).cloned().unwrap_or(Value::Absent);
                }
            }
        }
        // The node that reads the shared value records it; its inner walk is not repeated.
        self.trace.mute(true);
        let v = self.eval(&s.expr, &mut frame);
        self.trace.mute(false);
        let v = v?;
        match key {
            None => self.claim_memo.insert(id, v.clone()),
            Some(k) => self.line_memo.insert(k, v.clone()),
        };
        Ok(v)
    }

    /// Evaluates `ir`. A shared value not computed yet stops the walk; it is computed (once
    /// per claim or line) and the walk starts again, now finding it in the memo.
    fn eval(&mut self, ir: &'a Ir, frame: &mut [Value]) -> R<Value> {
        loop {
            let mark = self.trace.mark();
            let (program, line) = (self.program, self.current_line);
            let (claim_memo, line_memo) = (&self.claim_memo, &self.line_memo);
            let mut memo = |id: u32| -> Option<Value> {
                match program.shared.get(id as usize)?.scope {
                    SharedScope::Claim => claim_memo.get(&id).cloned(),
                    SharedScope::Line(_) => {
                        line.and_then(|(slot, i)| line_memo.get(&(slot, i, id)).cloned())
                    }
                }
            };
            match eval(
                ir,
                frame,
                &mut memo,
                self.data,
                &self.claim,
                &mut self.trace,
            ) {
                Ok(v) => return Ok(v),
                Err(Pending::Fail(m, s)) => return Err((m, s)),
                Err(Pending::Shared(id)) => {
                    self.trace.rewind(mark);
                    self.shared(id)?;
                }
            }
        }
    }
}

/// Evaluates provider rule `index` for one provider and month, given that month's claims and
/// the previous month's (each oldest first).
pub fn eval_provider(
    program: &Program,
    index: usize,
    data: &dyn Data,
    provider: &str,
    month: NaiveDate,
    claims: Vec<Arc<Record>>,
    previous: Vec<Arc<Record>>,
) -> Result<Option<Hit>, EvalError> {
    let group = ProviderGroup {
        provider,
        month,
        claims,
        previous,
    };
    eval_provider_traced(program, index, data, group, NoTrace).0
}

/// A provider's claims in one month and in the month before (each oldest first).
#[derive(Debug, Clone)]
pub struct ProviderGroup<'g> {
    pub provider: &'g str,
    /// The first day of the month.
    pub month: NaiveDate,
    pub claims: Vec<Arc<Record>>,
    pub previous: Vec<Arc<Record>>,
}

/// As `eval_provider`, with `trace` observing the walk; gives the observer back.
pub fn eval_provider_traced<'a, T: Trace<'a>>(
    program: &'a Program,
    index: usize,
    data: &'a dyn Data,
    group: ProviderGroup<'_>,
    trace: T,
) -> (Result<Option<Hit>, EvalError>, T) {
    let Some(rule) = program.rules.get(index) else {
        return (Ok(None), trace);
    };
    let Some(p) = &rule.provider else {
        return (Ok(None), trace);
    };
    let ProviderGroup {
        provider,
        month,
        claims,
        previous,
    } = group;
    // Provider rules read no shared values (sharing is per claim), so no claim is needed.
    let mut eval = ClaimEval::traced(program, data, Arc::new(Record::default()), trace);
    eval.trace.begin(None);
    let mut frame = vec![Value::Absent; rule.frame.max(2) as usize];
    let records = |rs: Vec<Arc<Record>>| Value::List(rs.into_iter().map(Value::Record).collect());
    set(&mut frame, p.provider, Value::Text(provider.into()));
    set(&mut frame, p.period, Value::Date(month));
    set(&mut frame, p.claims, records(claims));
    set(&mut frame, p.previous_claims, records(previous));
    let fired = eval
        .fire(rule, &mut frame)
        .map_err(|(message, span)| EvalError {
            rule: rule.id.clone(),
            message,
            span,
        });
    let hit = fired.map(|f| {
        f.map(|(amount, message)| Hit {
            rule: index,
            line: None,
            amount,
            message,
        })
    });
    (hit, eval.into_trace())
}

/// Why the walk stopped: a shared value it needs is not computed yet, or an error.
enum Pending {
    Shared(u32),
    Fail(String, Span),
}

impl From<(String, Span)> for Pending {
    fn from((m, s): (String, Span)) -> Self {
        Pending::Fail(m, s)
    }
}

fn set(frame: &mut [Value], var: Var, v: Value) {
    if let Some(slot) = frame.get_mut(var as usize) {
        *slot = v;
    }
}

fn truth(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

/// The largest variable a node uses or binds.
fn max_var(ir: &Ir) -> Var {
    let own = match &ir.kind {
        IrKind::Var(v) => *v,
        IrKind::Quant { var, .. } | IrKind::Agg { var, .. } | IrKind::Let { var, .. } => *var,
        IrKind::IsSome { bind: Some(v), .. } => *v,
        _ => 0,
    };
    ir.children()
        .into_iter()
        .map(max_var)
        .fold(own.max(LINE), Var::max)
}

/// A value as a message shows it.
pub fn show(v: &Value, ty: &Ty) -> String {
    match (v, ty.unwrap_optional()) {
        (Value::Date(d), Ty::Month) => d.format("%Y-%m").to_string(),
        (v, _) => v.to_string(),
    }
}

/// Evaluates a closed expression (no claim, no data): constant folding.
pub fn eval_constant(ir: &Ir) -> Option<Value> {
    struct NoData;
    impl Data for NoData {
        fn lookup(&self, _: u32, _: &[Value], _: Option<NaiveDate>) -> Option<Arc<Record>> {
            None
        }
        fn rows(&self, _: u32) -> Vec<Arc<Record>> {
            vec![]
        }
        fn history(&self, _: &str, _: &Record) -> Vec<Arc<Record>> {
            vec![]
        }
    }
    let mut frame = vec![Value::Absent; max_var(ir) as usize + 1];
    eval(
        ir,
        &mut frame,
        &mut |_| None,
        &NoData,
        &Value::Absent,
        &mut NoTrace,
    )
    .ok()
}

type Shared<'s> = &'s mut dyn FnMut(u32) -> Option<Value>;

/// Evaluates a node, telling the trace (a no-op unless `T::ON`) where it starts and ends.
fn eval<'p, T: Trace<'p>>(
    ir: &'p Ir,
    frame: &mut [Value],
    shared: Shared<'_>,
    data: &dyn Data,
    claim: &Value,
    tr: &mut T,
) -> Result<Value, Pending> {
    if !T::ON {
        return eval_node(ir, frame, shared, data, claim, tr);
    }
    let at = tr.enter(ir);
    let result = eval_node(ir, frame, shared, data, claim, tr);
    tr.exit(at, result.as_ref().ok());
    result
}

fn eval_node<'p, T: Trace<'p>>(
    ir: &'p Ir,
    frame: &mut [Value],
    shared: Shared<'_>,
    data: &dyn Data,
    claim: &Value,
    tr: &mut T,
) -> Result<Value, Pending> {
    let sp = ir.span;
    Ok(match &ir.kind {
        IrKind::Lit(v) => v.clone(),
        IrKind::Var(v) => frame.get(*v as usize).cloned().unwrap_or(Value::Absent),
        IrKind::Shared(id) => match shared(*id) {
            Some(v) => v,
            None => return Err(Pending::Shared(*id)),
        },
        IrKind::Field { base, slot, .. } => match eval(base, frame, shared, data, claim, tr)? {
            Value::Record(r) => r.get(*slot).clone(),
            _ => Value::Absent,
        },
        IrKind::Prop { base, prop, .. } => {
            let b = eval(base, frame, shared, data, claim, tr)?;
            property(&b, prop)
        }
        IrKind::Lookup { table, keys, at } => {
            let mut key = Vec::with_capacity(keys.len());
            for k in keys {
                match eval(k, frame, shared, data, claim, tr)? {
                    Value::Absent => return Ok(Value::Absent),
                    v => key.push(v),
                }
            }
            let date = match at {
                None => None,
                Some(a) => match eval(a, frame, shared, data, claim, tr)? {
                    Value::Date(d) => Some(d),
                    Value::DateTime(t) => Some(t.date()),
                    _ => return Ok(Value::Absent),
                },
            };
            data.lookup(*table, &key, date)
                .map(Value::Record)
                .unwrap_or(Value::Absent)
        }
        IrKind::Rows(t) => Value::List(data.rows(*t).into_iter().map(Value::Record).collect()),
        IrKind::History(psn) => match (eval(psn, frame, shared, data, claim, tr)?, claim) {
            (Value::Text(p), Value::Record(current)) => Value::List(
                data.history(&p, current)
                    .into_iter()
                    .map(Value::Record)
                    .collect(),
            ),
            _ => Value::List(vec![]),
        },
        IrKind::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(eval(i, frame, shared, data, claim, tr)?);
            }
            Value::List(out)
        }
        IrKind::Not(x) => Value::Bool(!truth(&eval(x, frame, shared, data, claim, tr)?)),
        IrKind::Neg(x) => match eval(x, frame, shared, data, claim, tr)? {
            Value::Int(i) => Value::Int(i.checked_neg().ok_or_else(|| overflow(sp))?),
            Value::Decimal(d) => Value::Decimal(-d),
            _ => Value::Absent,
        },
        IrKind::And(a, b) => Value::Bool(
            truth(&eval(a, frame, shared, data, claim, tr)?)
                && truth(&eval(b, frame, shared, data, claim, tr)?),
        ),
        IrKind::Or(a, b) => Value::Bool(
            truth(&eval(a, frame, shared, data, claim, tr)?)
                || truth(&eval(b, frame, shared, data, claim, tr)?),
        ),
        IrKind::Coalesce(a, b) => match eval(a, frame, shared, data, claim, tr)? {
            Value::Absent => eval(b, frame, shared, data, claim, tr)?,
            v => v,
        },
        IrKind::Bin(op, a, b) => {
            let x = eval(a, frame, shared, data, claim, tr)?;
            let y = eval(b, frame, shared, data, claim, tr)?;
            binary(*op, x, y, sp)?
        }
        IrKind::InList {
            value,
            list,
            negated,
        } => {
            let v = eval(value, frame, shared, data, claim, tr)?;
            if v.is_absent() {
                return Ok(Value::Bool(false));
            }
            let found = match eval(list, frame, shared, data, claim, tr)? {
                Value::List(items) => items.iter().any(|i| equal(&v, i)),
                _ => false,
            };
            Value::Bool(found != *negated)
        }
        IrKind::InRange {
            value,
            lo,
            hi,
            inclusive,
            negated,
        } => {
            let v = eval(value, frame, shared, data, claim, tr)?;
            let lo = eval(lo, frame, shared, data, claim, tr)?;
            let hi = eval(hi, frame, shared, data, claim, tr)?;
            if v.is_absent() {
                return Ok(Value::Bool(false));
            }
            let above = matches!(compare(&v, &lo), Some(Ordering::Greater | Ordering::Equal));
            let below = match compare(&v, &hi) {
                Some(Ordering::Less) => true,
                Some(Ordering::Equal) => *inclusive,
                _ => false,
            };
            Value::Bool((above && below) != *negated)
        }
        IrKind::IsSome { value, bind } => match eval(value, frame, shared, data, claim, tr)? {
            Value::Absent => Value::Bool(false),
            v => {
                if let Some(var) = bind {
                    set(frame, *var, v);
                }
                Value::Bool(true)
            }
        },
        IrKind::IsNone(x) => Value::Bool(eval(x, frame, shared, data, claim, tr)?.is_absent()),
        IrKind::If {
            cond,
            then,
            otherwise,
        } => {
            if truth(&eval(cond, frame, shared, data, claim, tr)?) {
                eval(then, frame, shared, data, claim, tr)?
            } else {
                eval(otherwise, frame, shared, data, claim, tr)?
            }
        }
        IrKind::Quant {
            all,
            var,
            source,
            body,
        } => {
            let items = list_of(eval(source, frame, shared, data, claim, tr)?);
            // The body per item is summed up by this node's value (an error rewinds the mute).
            tr.mute(true);
            let mut result = *all;
            for item in items {
                set(frame, *var, item);
                let holds = truth(&eval(body, frame, shared, data, claim, tr)?);
                if holds != *all {
                    result = !*all;
                    break;
                }
            }
            tr.mute(false);
            Value::Bool(result)
        }
        IrKind::Agg {
            kind,
            var,
            source,
            filter,
            value,
            by,
        } => aggregate(
            ir,
            *kind,
            *var,
            source,
            filter.as_deref(),
            value.as_deref(),
            by.as_deref(),
            frame,
            shared,
            data,
            claim,
            tr,
        )?,
        IrKind::Call { func, args } => {
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push(eval(a, frame, shared, data, claim, tr)?);
            }
            call(*func, &vals, sp)?
        }
        IrKind::Let { var, value, body } => {
            let v = eval(value, frame, shared, data, claim, tr)?;
            set(frame, *var, v);
            eval(body, frame, shared, data, claim, tr)?
        }
    })
}

fn overflow(span: Span) -> Pending {
    Pending::Fail("arithmetic overflow".into(), span)
}

fn list_of(v: Value) -> Vec<Value> {
    match v {
        Value::List(items) => items,
        _ => vec![],
    }
}

#[allow(clippy::too_many_arguments)]
fn aggregate<'p, T: Trace<'p>>(
    ir: &'p Ir,
    kind: AggKind,
    var: Var,
    source: &'p Ir,
    filter: Option<&'p Ir>,
    value: Option<&'p Ir>,
    by: Option<&'p Ir>,
    frame: &mut [Value],
    shared: Shared<'_>,
    data: &dyn Data,
    claim: &Value,
    tr: &mut T,
) -> Result<Value, Pending> {
    let items = list_of(eval(source, frame, shared, data, claim, tr)?);
    // The filter and value per item are summed up by the aggregate's own value.
    tr.mute(true);
    let result = aggregate_items(
        ir, kind, var, items, filter, value, by, frame, shared, data, claim, tr,
    );
    tr.mute(false);
    result
}

#[allow(clippy::too_many_arguments)]
fn aggregate_items<'p, T: Trace<'p>>(
    ir: &'p Ir,
    kind: AggKind,
    var: Var,
    items: Vec<Value>,
    filter: Option<&'p Ir>,
    value: Option<&'p Ir>,
    by: Option<&'p Ir>,
    frame: &mut [Value],
    shared: Shared<'_>,
    data: &dyn Data,
    claim: &Value,
    tr: &mut T,
) -> Result<Value, Pending> {
    let mut count: i64 = 0;
    let mut picked: Vec<Value> = Vec::new();
    let mut groups: Vec<(Value, Vec<Value>)> = Vec::new();
    for item in items {
        set(frame, var, item.clone());
        if let Some(f) = filter {
            if !truth(&eval(f, frame, shared, data, claim, tr)?) {
                continue;
            }
        }
        count += 1;
        if kind == AggKind::Groups {
            let key = match by {
                Some(k) => eval(k, frame, shared, data, claim, tr)?,
                None => Value::Absent,
            };
            if key.is_absent() {
                continue;
            }
            match groups.iter_mut().find(|(k, _)| equal(k, &key)) {
                Some((_, members)) => members.push(item),
                None => groups.push((key, vec![item])),
            }
            continue;
        }
        let v = match value {
            Some(v) => eval(v, frame, shared, data, claim, tr)?,
            None => item,
        };
        if matches!(kind, AggKind::First) {
            return Ok(v);
        }
        picked.push(v);
    }
    let sp = ir.span;
    Ok(match kind {
        AggKind::Count => Value::Int(count),
        AggKind::Sum => {
            if ir.ty == Ty::Int {
                let mut total: i64 = 0;
                for v in &picked {
                    if let Value::Int(i) = v {
                        total = total.checked_add(*i).ok_or_else(|| overflow(sp))?;
                    }
                }
                Value::Int(total)
            } else {
                let mut total = Decimal::ZERO;
                for v in &picked {
                    let d = as_decimal(v).unwrap_or(Decimal::ZERO);
                    total = total.checked_add(d).ok_or_else(|| overflow(sp))?;
                }
                Value::Decimal(total)
            }
        }
        AggKind::Min | AggKind::Max => {
            let want = if kind == AggKind::Min {
                Ordering::Less
            } else {
                Ordering::Greater
            };
            let mut best: Option<Value> = None;
            for v in picked {
                if v.is_absent() {
                    continue;
                }
                best = match best {
                    Some(b) if compare(&v, &b) != Some(want) => Some(b),
                    _ => Some(v),
                };
            }
            best.unwrap_or(Value::Absent)
        }
        AggKind::First => Value::Absent,
        AggKind::Last => picked.pop().unwrap_or(Value::Absent),
        AggKind::Distinct => {
            let mut out: Vec<Value> = Vec::new();
            for v in picked {
                if !v.is_absent() && !out.iter().any(|o| equal(o, &v)) {
                    out.push(v);
                }
            }
            Value::List(out)
        }
        AggKind::Groups => Value::List(
            groups
                .into_iter()
                .map(|(k, members)| {
                    Value::Record(Arc::new(Record {
                        values: vec![k, Value::List(members)],
                    }))
                })
                .collect(),
        ),
    })
}

fn as_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(i) => Some(Decimal::from(*i)),
        Value::Decimal(d) => Some(*d),
        _ => None,
    }
}

/// Order of two present values of comparable kinds.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(_) | Value::Decimal(_), Value::Int(_) | Value::Decimal(_)) => {
            Some(as_decimal(a)?.cmp(&as_decimal(b)?))
        }
        (Value::Text(x), Value::Text(y)) => Some(x.cmp(y)),
        (Value::Date(x), Value::Date(y)) => Some(x.cmp(y)),
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// `==`: both present and equal.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Absent, _) | (_, Value::Absent) => false,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q))
        }
        (Value::Record(x), Value::Record(y)) => x == y,
        _ => compare(a, b) == Some(Ordering::Equal),
    }
}

fn binary(op: BinOp, x: Value, y: Value, sp: Span) -> Result<Value, Pending> {
    use Value::*;
    Ok(match op {
        BinOp::Eq => Bool(equal(&x, &y)),
        BinOp::Ne => Bool(!x.is_absent() && !y.is_absent() && !equal(&x, &y)),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let o = compare(&x, &y);
            Bool(match op {
                BinOp::Lt => o == Some(Ordering::Less),
                BinOp::Le => matches!(o, Some(Ordering::Less | Ordering::Equal)),
                BinOp::Gt => o == Some(Ordering::Greater),
                _ => matches!(o, Some(Ordering::Greater | Ordering::Equal)),
            })
        }
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => match (op, &x, &y) {
            (BinOp::Add, Int(a), Int(b)) => Int(a.checked_add(*b).ok_or_else(|| overflow(sp))?),
            (BinOp::Sub, Int(a), Int(b)) => Int(a.checked_sub(*b).ok_or_else(|| overflow(sp))?),
            (BinOp::Mul, Int(a), Int(b)) => Int(a.checked_mul(*b).ok_or_else(|| overflow(sp))?),
            (BinOp::Add, Date(d), Int(n)) | (BinOp::Add, Int(n), Date(d)) => {
                Date(shift(*d, *n, sp)?)
            }
            (BinOp::Sub, Date(d), Int(n)) => {
                Date(shift(*d, n.checked_neg().ok_or_else(|| overflow(sp))?, sp)?)
            }
            (BinOp::Sub, Date(a), Date(b)) => Int(a.signed_duration_since(*b).num_days()),
            (_, a, b) => {
                let (Some(a), Some(b)) = (as_decimal(a), as_decimal(b)) else {
                    return Ok(Absent);
                };
                let r = match op {
                    BinOp::Add => a.checked_add(b),
                    BinOp::Sub => a.checked_sub(b),
                    BinOp::Mul => a.checked_mul(b),
                    _ => {
                        if b.is_zero() {
                            return Err(Pending::Fail("division by zero".into(), sp));
                        }
                        a.checked_div(b)
                    }
                };
                Decimal(r.ok_or_else(|| overflow(sp))?)
            }
        },
    })
}

fn shift(d: NaiveDate, days: i64, sp: Span) -> Result<NaiveDate, Pending> {
    Duration::try_days(days)
        .and_then(|dd| d.checked_add_signed(dd))
        .ok_or_else(|| overflow(sp))
}

fn property(b: &Value, prop: &Prop) -> Value {
    use Value::*;
    match (prop, b) {
        (_, Absent) => Absent,
        (Prop::Date, DateTime(t)) => Date(t.date()),
        (Prop::Hour, DateTime(t)) => Int(t.hour() as i64),
        (Prop::Minute, DateTime(t)) => Int(t.minute() as i64),
        (Prop::Year, DateTime(t)) => Int(t.year() as i64),
        (Prop::Month, DateTime(t)) => Int(t.month() as i64),
        (Prop::Day, DateTime(t)) => Int(t.day() as i64),
        (Prop::Period, DateTime(t)) => NaiveDate::from_ymd_opt(t.year(), t.month(), 1)
            .map(Date)
            .unwrap_or(Absent),
        (Prop::Year, Date(d)) => Int(d.year() as i64),
        (Prop::Month, Date(d)) => Int(d.month() as i64),
        (Prop::Day, Date(d)) => Int(d.day() as i64),
        (Prop::Period, Date(d)) => NaiveDate::from_ymd_opt(d.year(), d.month(), 1)
            .map(Date)
            .unwrap_or(Absent),
        (Prop::Category, Text(t)) => Text(t.chars().take(3).collect::<String>().into()),
        (Prop::Length, Text(t)) => Int(t.chars().count() as i64),
        (Prop::Code, v) => v.clone(),
        (Prop::Label(labels), Text(code)) => Text(
            labels
                .iter()
                .find(|(c, _)| **c == **code)
                .map(|(_, l)| l.as_str().into())
                .unwrap_or_else(|| code.clone()),
        ),
        (Prop::GroupKey, Record(r)) => r.get(0).clone(),
        (Prop::GroupItems, Record(r)) => r.get(1).clone(),
        _ => Absent,
    }
}

/// Serial-number order: whole numbers by value (without parsing, so any length works) before
/// other text; equal numbers (`7`, `07`) and other text by their characters.
pub fn sorts_before(a: &str, b: &str) -> bool {
    serial_key(a) < serial_key(b)
}

fn serial_key(s: &str) -> (u8, usize, &str, &str) {
    if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
        let digits = s.trim_start_matches('0');
        (0, digits.len(), digits, s)
    } else {
        (1, 0, s, s)
    }
}

/// Whole years from `birth` to `at`: a birthday reached counts a year more.
pub fn age(birth: NaiveDate, at: NaiveDate) -> i64 {
    let mut years = at.year() as i64 - birth.year() as i64;
    if (at.month(), at.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years
}

fn call(func: Func, args: &[Value], sp: Span) -> Result<Value, Pending> {
    use Value::*;
    let arg = |i: usize| args.get(i).cloned().unwrap_or(Absent);
    Ok(match (func, arg(0), arg(1)) {
        (Func::DaysBetween, Date(a), Date(b)) => Int(b.signed_duration_since(a).num_days()),
        (Func::Age, Date(birth), Date(at)) => Int(age(birth, at)),
        (Func::StartsWith, Text(s), Text(p)) => Bool(s.starts_with(&*p)),
        (Func::SortsBefore, Text(a), Text(b)) => Bool(sorts_before(&a, &b)),
        (Func::Abs, Int(i), _) => Int(i.checked_abs().ok_or_else(|| overflow(sp))?),
        (Func::Abs, Decimal(d), _) => Decimal(d.abs()),
        (Func::Round, x, Int(places)) => match as_decimal(&x) {
            Some(d) => Decimal(d.round_dp_with_strategy(
                places.clamp(0, 28) as u32,
                RoundingStrategy::MidpointAwayFromZero,
            )),
            None => Absent,
        },
        (Func::Min2 | Func::Max2, a, b) => {
            let o = compare(&a, &b);
            let first = match func {
                Func::Min2 => o != Some(Ordering::Greater),
                _ => o != Some(Ordering::Less),
            };
            if first {
                a
            } else {
                b
            }
        }
        _ => Absent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test dates are valid")
    }

    #[test]
    fn age_counts_whole_years_a_birthday_reached_counts() {
        assert_eq!(age(d("1958-03-02"), d("2026-03-01")), 67);
        assert_eq!(age(d("1958-03-02"), d("2026-03-02")), 68);
        // Born on 29 February: the birthday is reached on 1 March in a common year.
        assert_eq!(age(d("2008-02-29"), d("2026-02-28")), 17);
        assert_eq!(age(d("2008-02-29"), d("2026-03-01")), 18);
    }

    #[test]
    fn serial_order_is_numeric_then_text_and_total() {
        assert!(sorts_before("2", "10"));
        assert!(!sorts_before("10", "2"));
        assert!(sorts_before(
            "99999999999999999999999",
            "100000000000000000000000"
        ));
        assert!(sorts_before("10", "A1"));
        assert!(
            sorts_before("01", "1"),
            "equal numbers fall back to their text"
        );
        assert!(!sorts_before("1", "01"));
        assert!(!sorts_before("7", "7"));
    }

    #[test]
    fn arithmetic_is_exact_and_overflow_is_an_error() {
        let sp = Span::default();
        let sum = binary(
            BinOp::Add,
            Value::Decimal(Decimal::new(1, 1)),
            Value::Decimal(Decimal::new(2, 1)),
            sp,
        );
        assert!(matches!(sum, Ok(Value::Decimal(x)) if x == Decimal::new(3, 1)));
        assert!(matches!(
            binary(BinOp::Mul, Value::Int(i64::MAX), Value::Int(2), sp),
            Err(Pending::Fail(..))
        ));
        assert!(matches!(
            binary(BinOp::Mul, Value::Decimal(Decimal::MAX), Value::Int(2), sp),
            Err(Pending::Fail(..))
        ));
        assert!(
            matches!(binary(BinOp::Div, Value::Int(1), Value::Int(0), sp), Err(Pending::Fail(m, _)) if m == "division by zero")
        );
        assert!(matches!(
            binary(BinOp::Div, Value::Int(1), Value::Int(3), sp),
            Ok(Value::Decimal(_))
        ));
    }

    #[test]
    fn absent_equals_nothing() {
        let sp = Span::default();
        assert!(matches!(
            binary(BinOp::Eq, Value::Absent, Value::Absent, sp),
            Ok(Value::Bool(false))
        ));
        assert!(matches!(
            binary(BinOp::Ne, Value::Absent, Value::Int(1), sp),
            Ok(Value::Bool(false))
        ));
        assert!(matches!(
            binary(
                BinOp::Eq,
                Value::Int(2),
                Value::Decimal(Decimal::new(200, 2)),
                sp
            ),
            Ok(Value::Bool(true))
        ));
    }
}

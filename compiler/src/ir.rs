//! The typed IR: the one meaning of a rulebook. Names are resolved (fields are slots, tables
//! are indexes, codes are literals, constants are folded, defs are inlined), every node keeps
//! its type and span, and work that several rules share is hoisted into `Program::shared`.
//!
//! Variables are slots of an evaluation frame. Var 0 is always the claim and, in a line rule,
//! var 1 the line, so that the same expression written in two rules is the same tree here.

use std::fmt::Write as _;

use vigil_dsl::Span;

use crate::model::{RuleSeverity, Scope};
use crate::types::Ty;
use crate::value::Value;

/// A slot of the evaluation frame.
pub type Var = u32;

/// The claim under review, in every rule.
pub const CLAIM: Var = 0;
/// The line under review, in a line rule.
pub const LINE: Var = 1;

/// A lowered rulebook.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub rules: Vec<RuleIr>,
    /// Expressions used by several rules, computed once per claim (or per line).
    pub shared: Vec<Shared>,
    /// Table names by index.
    pub tables: Vec<String>,
}

impl Program {
    /// Whether rule `rule` reads a patient's history (directly or through a shared value).
    pub fn reads_history(&self, rule: usize) -> bool {
        let Some(r) = self.rules.get(rule) else {
            return false;
        };
        let mut stack: Vec<&Ir> = r.lets.iter().map(|(_, e)| e).collect();
        stack.push(&r.when);
        while let Some(ir) = stack.pop() {
            match &ir.kind {
                IrKind::History(_) => return true,
                IrKind::Shared(id) => stack.extend(self.shared.get(*id as usize).map(|s| &s.expr)),
                _ => {}
            }
            stack.extend(ir.children());
        }
        false
    }
}

/// Where a shared expression is computed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedScope {
    /// Once per claim: it reads only the claim.
    Claim,
    /// Once per line of `claim.<list>` (the slot of the list): it reads the claim and the line.
    Line(usize),
}

/// A hoisted expression.
#[derive(Debug, Clone)]
pub struct Shared {
    pub scope: SharedScope,
    pub expr: Ir,
    /// How many places use it (for the IR listing).
    pub uses: usize,
}

/// A rule, lowered.
#[derive(Debug, Clone)]
pub struct RuleIr {
    pub id: String,
    pub name: String,
    pub severity: RuleSeverity,
    pub basis: String,
    pub scope: Scope,
    pub span: Span,
    /// Line rules: the slot of the claim's list the rule ranges over.
    pub list_slot: Option<usize>,
    /// Provider rules: how claims are grouped.
    pub provider: Option<ProviderIr>,
    pub lets: Vec<(Var, Ir)>,
    pub when: Ir,
    pub amount: Option<Ir>,
    pub message: Vec<MessagePart>,
    /// Frame size: every variable of the rule is below it.
    pub frame: u32,
}

/// `per provider month of <month_of> where <filter>`, and the names its body sees.
#[derive(Debug, Clone)]
pub struct ProviderIr {
    /// Evaluated with the claim in var 0.
    pub month_of: Ir,
    pub filter: Option<Ir>,
    pub provider: Var,
    pub period: Var,
    pub claims: Var,
    pub previous_claims: Var,
}

/// A piece of a message.
#[derive(Debug, Clone)]
pub enum MessagePart {
    Text(String),
    Hole(Ir),
}

/// An expression with its type and span.
#[derive(Debug, Clone)]
pub struct Ir {
    pub kind: IrKind,
    pub ty: Ty,
    pub span: Span,
}

/// Operators on two values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    /// True when both are present and equal.
    Eq,
    /// Both present (the checker sees to it) and different.
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Built-in properties, resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Prop {
    Date,
    Hour,
    Minute,
    Year,
    Month,
    Day,
    /// The calendar month of a date or date-time.
    Period,
    /// First three characters.
    Category,
    Length,
    /// An enum code as text (the value itself).
    Code,
    /// The label of an enum code: the enum's codes and labels.
    Label(Vec<(String, String)>),
    GroupKey,
    GroupItems,
}

/// Aggregates over a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggKind {
    Count,
    Sum,
    Min,
    Max,
    First,
    Last,
    Distinct,
    Groups,
}

/// Built-in functions, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    DaysBetween,
    Age,
    StartsWith,
    SortsBefore,
    Abs,
    Round,
    Min2,
    Max2,
}

/// The shape of an expression.
#[derive(Debug, Clone)]
pub enum IrKind {
    Lit(Value),
    Var(Var),
    Shared(u32),
    /// `base.field` by slot; `optional`: an absent base gives absent (`?.`).
    Field {
        base: Box<Ir>,
        slot: usize,
        optional: bool,
    },
    Prop {
        base: Box<Ir>,
        prop: Prop,
        optional: bool,
    },
    /// The row of a table valid at a date; absent when any key or the date is absent.
    Lookup {
        table: u32,
        keys: Vec<Ir>,
        at: Option<Box<Ir>>,
    },
    /// All rows of a table.
    Rows(u32),
    /// The patient's other claims, oldest first.
    History(Box<Ir>),
    List(Vec<Ir>),
    Not(Box<Ir>),
    Neg(Box<Ir>),
    And(Box<Ir>, Box<Ir>),
    Or(Box<Ir>, Box<Ir>),
    Bin(BinOp, Box<Ir>, Box<Ir>),
    Coalesce(Box<Ir>, Box<Ir>),
    /// `value in list` (false when absent), possibly negated.
    InList {
        value: Box<Ir>,
        list: Box<Ir>,
        negated: bool,
    },
    InRange {
        value: Box<Ir>,
        lo: Box<Ir>,
        hi: Box<Ir>,
        inclusive: bool,
        negated: bool,
    },
    /// True when present, binding the value.
    IsSome {
        value: Box<Ir>,
        bind: Option<Var>,
    },
    IsNone(Box<Ir>),
    If {
        cond: Box<Ir>,
        then: Box<Ir>,
        otherwise: Box<Ir>,
    },
    Quant {
        all: bool,
        var: Var,
        source: Box<Ir>,
        body: Box<Ir>,
    },
    Agg {
        kind: AggKind,
        var: Var,
        source: Box<Ir>,
        filter: Option<Box<Ir>>,
        value: Option<Box<Ir>>,
        by: Option<Box<Ir>>,
    },
    Call {
        func: Func,
        args: Vec<Ir>,
    },
    /// Evaluate `value` once into `var`, then `body` (an inlined def's argument).
    Let {
        var: Var,
        value: Box<Ir>,
        body: Box<Ir>,
    },
}

impl Ir {
    /// A literal of a type.
    pub fn lit(value: Value, ty: Ty, span: Span) -> Ir {
        Ir {
            kind: IrKind::Lit(value),
            ty,
            span,
        }
    }

    /// The children of a node, mutably, in [`Ir::children`]'s order.
    pub fn children_mut(&mut self) -> Vec<&mut Ir> {
        match &mut self.kind {
            IrKind::Lit(_) | IrKind::Var(_) | IrKind::Shared(_) | IrKind::Rows(_) => vec![],
            IrKind::Field { base, .. } | IrKind::Prop { base, .. } => vec![base],
            IrKind::Lookup { keys, at, .. } => keys.iter_mut().chain(at.as_deref_mut()).collect(),
            IrKind::History(x) | IrKind::Not(x) | IrKind::Neg(x) | IrKind::IsNone(x) => vec![x],
            IrKind::IsSome { value, .. } => vec![value],
            IrKind::List(items) | IrKind::Call { args: items, .. } => items.iter_mut().collect(),
            IrKind::And(a, b)
            | IrKind::Or(a, b)
            | IrKind::Bin(_, a, b)
            | IrKind::Coalesce(a, b) => {
                vec![a, b]
            }
            IrKind::InList { value, list, .. } => vec![value, list],
            IrKind::InRange { value, lo, hi, .. } => vec![value, lo, hi],
            IrKind::If {
                cond,
                then,
                otherwise,
            } => vec![cond, then, otherwise],
            IrKind::Quant { source, body, .. } => vec![source, body],
            IrKind::Agg {
                source,
                filter,
                value,
                by,
                ..
            } => {
                let mut v: Vec<&mut Ir> = vec![source];
                v.extend(filter.as_deref_mut());
                v.extend(by.as_deref_mut());
                v.extend(value.as_deref_mut());
                v
            }
            IrKind::Let { value, body, .. } => vec![value, body],
        }
    }

    /// The children of a node, in evaluation order.
    pub fn children(&self) -> Vec<&Ir> {
        match &self.kind {
            IrKind::Lit(_) | IrKind::Var(_) | IrKind::Shared(_) | IrKind::Rows(_) => vec![],
            IrKind::Field { base, .. } | IrKind::Prop { base, .. } => vec![base],
            IrKind::Lookup { keys, at, .. } => keys.iter().chain(at.as_deref()).collect(),
            IrKind::History(x) | IrKind::Not(x) | IrKind::Neg(x) | IrKind::IsNone(x) => vec![x],
            IrKind::IsSome { value, .. } => vec![value],
            IrKind::List(items) | IrKind::Call { args: items, .. } => items.iter().collect(),
            IrKind::And(a, b)
            | IrKind::Or(a, b)
            | IrKind::Bin(_, a, b)
            | IrKind::Coalesce(a, b) => vec![a, b],
            IrKind::InList { value, list, .. } => vec![value, list],
            IrKind::InRange { value, lo, hi, .. } => vec![value, lo, hi],
            IrKind::If {
                cond,
                then,
                otherwise,
            } => vec![cond, then, otherwise],
            IrKind::Quant { source, body, .. } => vec![source, body],
            IrKind::Agg {
                source,
                filter,
                value,
                by,
                ..
            } => {
                let mut v: Vec<&Ir> = vec![source];
                v.extend(filter.as_deref());
                v.extend(by.as_deref());
                v.extend(value.as_deref());
                v
            }
            IrKind::Let { value, body, .. } => vec![value, body],
        }
    }
}

/// The IR as text: an S-expression per node, no spans. It is also the structural key used to
/// find expressions that several rules share.
pub fn show(ir: &Ir) -> String {
    let mut out = String::new();
    write_ir(&mut out, ir);
    out
}

fn write_ir(out: &mut String, ir: &Ir) {
    let head = match &ir.kind {
        IrKind::Lit(v) => {
            let _ = match v {
                Value::Text(t) => write!(out, "{t:?}"),
                Value::Absent => write!(out, "absent"),
                v => write!(out, "{v}"),
            };
            return;
        }
        IrKind::Var(v) => {
            let _ = write!(out, "${v}");
            return;
        }
        IrKind::Shared(i) => {
            let _ = write!(out, "@{i}");
            return;
        }
        IrKind::Rows(t) => {
            let _ = write!(out, "(rows #{t})");
            return;
        }
        IrKind::Field { slot, optional, .. } => {
            format!("{}{slot}", if *optional { "?." } else { "." })
        }
        IrKind::Prop { prop, optional, .. } => {
            let name = match prop {
                Prop::Label(_) => "label".to_string(),
                p => format!("{p:?}").to_lowercase(),
            };
            format!("{}{name}", if *optional { "?." } else { "." })
        }
        IrKind::Lookup { table, at, .. } => {
            format!("lookup #{table}{}", if at.is_some() { " at" } else { "" })
        }
        IrKind::History(_) => "history".into(),
        IrKind::List(_) => "list".into(),
        IrKind::Not(_) => "not".into(),
        IrKind::Neg(_) => "neg".into(),
        IrKind::And(..) => "and".into(),
        IrKind::Or(..) => "or".into(),
        IrKind::Bin(op, ..) => format!("{op:?}").to_lowercase(),
        IrKind::Coalesce(..) => "??".into(),
        IrKind::InList { negated, .. } => if *negated { "not-in" } else { "in" }.into(),
        IrKind::InRange {
            inclusive, negated, ..
        } => {
            format!(
                "{}in-range{}",
                if *negated { "not-" } else { "" },
                if *inclusive { "=" } else { "" }
            )
        }
        IrKind::IsSome { bind, .. } => match bind {
            Some(v) => format!("some ${v}"),
            None => "some".into(),
        },
        IrKind::IsNone(_) => "none".into(),
        IrKind::If { .. } => "if".into(),
        IrKind::Quant { all, var, .. } => format!("{} ${var}", if *all { "all" } else { "exists" }),
        IrKind::Agg {
            kind,
            var,
            filter,
            value,
            by,
            ..
        } => format!(
            "{} ${var}{}{}{}",
            format!("{kind:?}").to_lowercase(),
            if value.is_some() { " value" } else { "" },
            if by.is_some() { " by" } else { "" },
            if filter.is_some() { " where" } else { "" }
        ),
        IrKind::Call { func, .. } => format!("{func:?}").to_lowercase(),
        IrKind::Let { var, .. } => format!("let ${var}"),
    };
    out.push('(');
    out.push_str(&head);
    for c in ir.children() {
        out.push(' ');
        write_ir(out, c);
    }
    out.push(')');
}

/// The whole program as text (`vigil check --emit ir`).
pub fn show_program(p: &Program) -> String {
    let mut out = String::new();
    for (i, t) in p.tables.iter().enumerate() {
        let _ = writeln!(out, "table #{i} = {t}");
    }
    for (i, s) in p.shared.iter().enumerate() {
        let scope = match s.scope {
            SharedScope::Claim => "claim".to_string(),
            SharedScope::Line(slot) => format!("line of .{slot}"),
        };
        let _ = writeln!(
            out,
            "shared @{i} per {scope}, {} uses: {} : {}",
            s.uses,
            show(&s.expr),
            s.expr.ty
        );
    }
    for r in &p.rules {
        let _ = writeln!(
            out,
            "\nrule {} \"{}\" {} {}",
            r.id,
            r.name,
            r.severity.as_str(),
            r.scope.as_str()
        );
        if let Some(slot) = r.list_slot {
            let _ = writeln!(out, "  for $1 in $0.{slot}");
        }
        if let Some(p) = &r.provider {
            let _ = writeln!(
                out,
                "  per provider ${} month ${} of {}",
                p.provider,
                p.period,
                show(&p.month_of)
            );
            if let Some(f) = &p.filter {
                let _ = writeln!(out, "    where {}", show(f));
            }
            let _ = writeln!(
                out,
                "    claims ${} previous ${}",
                p.claims, p.previous_claims
            );
        }
        for (v, e) in &r.lets {
            let _ = writeln!(out, "  let ${v} = {} : {}", show(e), e.ty);
        }
        let _ = writeln!(out, "  when {}", show(&r.when));
        if let Some(a) = &r.amount {
            let _ = writeln!(out, "  amount {} : {}", show(a), a.ty);
        }
        out.push_str("  message ");
        for part in &r.message {
            match part {
                MessagePart::Text(t) => {
                    let _ = write!(out, "{t:?} ");
                }
                MessagePart::Hole(h) => {
                    let _ = write!(out, "{{{}}} ", show(h));
                }
            }
        }
        out.push('\n');
    }
    out
}

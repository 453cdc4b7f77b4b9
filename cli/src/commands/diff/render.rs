//! The diff report in its three forms: an aligned table for the terminal, JSON for tools
//! (stable keys, amounts as exact decimal strings) and GitHub-flavoured Markdown for a
//! pull-request comment. All three show the same figures from one [`Report`].

use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde_json::{json, Value};
use vigil_runtime::compare::{Comparison, FindingChange, Move, RuleMoves, RuleStatus};
use vigil_runtime::findings::{cents_text, display_width, round_amount};

/// What a diff ran on, and what it found.
pub struct Report<'a> {
    /// OLD_BOOK as given.
    pub old_label: &'a str,
    /// NEW_BOOK as given.
    pub new_label: &'a str,
    /// The old rulebook's content id.
    pub old_id: &'a str,
    /// The new rulebook's content id.
    pub new_id: &'a str,
    /// The claims file as given.
    pub claims_file: &'a str,
    /// Claims read, evaluated and rejected (by the old rulebook's reading).
    pub claims: (u64, u64, u64),
    /// History claims read.
    pub history: usize,
    /// Whether one reading of the claims served both rulebooks.
    pub shared_reading: bool,
    /// Evaluation errors, old and new.
    pub errors: (usize, usize),
    /// The comparison.
    pub comparison: &'a Comparison,
    /// How many providers, overlap pairs and example findings to list.
    pub top: usize,
}

/// A signed amount in hundredths: `+1.50`, `-0.20`, `0.00`.
fn signed(c: i128) -> String {
    if c > 0 {
        format!("+{}", cents_text(c))
    } else {
        cents_text(c)
    }
}

fn amount(d: Decimal) -> String {
    round_amount(d).to_string()
}

fn signed_amount(d: Decimal) -> String {
    let r = round_amount(d);
    if r > Decimal::ZERO {
        format!("+{r}")
    } else {
        r.to_string()
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Report<'_> {
    fn moved_rules(&self) -> Vec<&RuleMoves> {
        self.comparison
            .rules
            .iter()
            .filter(|r| r.is_moved())
            .collect()
    }

    fn status_count(&self, s: RuleStatus) -> u64 {
        self.comparison
            .rules
            .iter()
            .filter(|r| r.status == s)
            .count() as u64
    }

    fn no_change(&self) -> &'static str {
        if self.old_id == self.new_id {
            "the rulebooks are the same text, and so are their findings and amounts"
        } else {
            "the rulebooks' text differs, but every rule means what it meant, and the findings \
             and amounts are the same"
        }
    }

    fn rules_line(&self) -> String {
        format!(
            "{} changed, {} added, {} removed, {} unchanged",
            self.status_count(RuleStatus::Changed),
            self.status_count(RuleStatus::Added),
            self.status_count(RuleStatus::Removed),
            self.status_count(RuleStatus::Unchanged)
        )
    }

    fn claims_line(&self) -> String {
        let (read, evaluated, rejected) = self.claims;
        format!(
            "{read} read = {evaluated} evaluated + {rejected} rejected; history {}; {}",
            self.history,
            if self.shared_reading {
                "read once for both rulebooks (their claim schemas agree)"
            } else {
                "read once per rulebook (their claim schemas differ)"
            }
        )
    }

    fn findings_line(&self) -> String {
        let c = self.comparison;
        format!(
            "{} added, {} removed, {} changed; money moved {} (old {} → new {})",
            c.added(),
            c.removed(),
            c.changed(),
            signed(c.new_cents().saturating_sub(c.old_cents())),
            cents_text(c.old_cents()),
            cents_text(c.new_cents())
        )
    }

    fn rule_rows(&self) -> Vec<Vec<String>> {
        self.moved_rules()
            .into_iter()
            .map(|r| {
                vec![
                    r.rule_id.clone(),
                    r.rule_name.clone(),
                    r.status.as_str().to_string(),
                    r.old_findings.to_string(),
                    r.new_findings.to_string(),
                    r.added.to_string(),
                    r.removed.to_string(),
                    r.amount_changed.to_string(),
                    r.message_changed.to_string(),
                    cents_text(r.old_cents),
                    cents_text(r.new_cents),
                    signed(r.moved_cents()),
                ]
            })
            .collect()
    }

    const RULE_HEAD: [&'static str; 12] = [
        "rule_id",
        "rule_name",
        "status",
        "old",
        "new",
        "added",
        "removed",
        "amount≠",
        "message≠",
        "old vola_amt",
        "new vola_amt",
        "moved",
    ];

    fn provider_rows(&self) -> Vec<Vec<String>> {
        self.comparison
            .providers
            .iter()
            .take(self.top)
            .map(|p| {
                vec![
                    p.fixmedins_code.clone(),
                    p.added.to_string(),
                    p.removed.to_string(),
                    p.changed.to_string(),
                    cents_text(p.old_cents),
                    cents_text(p.new_cents),
                    signed(p.moved_cents()),
                ]
            })
            .collect()
    }

    const PROVIDER_HEAD: [&'static str; 7] = [
        "fixmedins_code",
        "added",
        "removed",
        "changed",
        "old vola_amt",
        "new vola_amt",
        "moved",
    ];

    fn overlap_rows(&self) -> Vec<Vec<String>> {
        self.comparison
            .overlap_moves()
            .into_iter()
            .take(self.top)
            .map(|p| {
                vec![
                    p.a.to_string(),
                    p.b.to_string(),
                    p.old_places.to_string(),
                    p.new_places.to_string(),
                    amount(p.old_shared),
                    amount(p.new_shared),
                    signed_amount(p.new_shared - p.old_shared),
                ]
            })
            .collect()
    }

    const OVERLAP_HEAD: [&'static str; 7] = [
        "rule",
        "rule",
        "old places",
        "new places",
        "old shared",
        "new shared",
        "moved",
    ];

    fn overlap_line(&self) -> String {
        let (o, n) = (&self.comparison.old_overlaps, &self.comparison.new_overlaps);
        format!(
            "counted twice: old {} at {} → new {} at {} ({})",
            amount(o.double_counted),
            plural(o.places, "place", "places"),
            amount(n.double_counted),
            plural(n.places, "place", "places"),
            signed_amount(n.double_counted - o.double_counted)
        )
    }

    fn change_rows(&self) -> Vec<Vec<String>> {
        self.comparison
            .changes
            .iter()
            .take(self.top)
            .filter_map(|c| {
                let f = c.finding()?;
                let side = |x: &Option<vigil_runtime::findings::Finding>| {
                    x.as_ref()
                        .map_or_else(|| "-".to_string(), |f| amount(f.vola_amt))
                };
                Some(vec![
                    f.rule_id.to_string(),
                    change_word(c).to_string(),
                    f.setl_id.as_deref().unwrap_or("-").to_string(),
                    f.feedetl_sn.as_deref().unwrap_or("-").to_string(),
                    f.fixmedins_code.to_string(),
                    f.period.as_deref().unwrap_or("-").to_string(),
                    side(&c.old),
                    side(&c.new),
                ])
            })
            .collect()
    }

    const CHANGE_HEAD: [&'static str; 8] = [
        "rule_id",
        "change",
        "setl_id",
        "feedetl_sn",
        "fixmedins_code",
        "period",
        "old vola_amt",
        "new vola_amt",
    ];

    /// The report as aligned tables for the terminal.
    pub fn text(&self) -> String {
        let c = self.comparison;
        let mut out = String::new();
        let _ = writeln!(out, "vigil diff {} → {}", self.old_label, self.new_label);
        let _ = writeln!(out, "  old  {}", self.old_id);
        let _ = writeln!(out, "  new  {}", self.new_id);
        let _ = writeln!(out, "claims {}: {}", self.claims_file, self.claims_line());
        if c.is_empty() {
            let _ = writeln!(out, "\nNo change: {}.", self.no_change());
        } else {
            let _ = writeln!(out, "rules: {}", self.rules_line());
            let _ = writeln!(out, "findings: {}", self.findings_line());
            out.push_str("\nRules that changed or whose findings moved\n");
            out.push_str(&table(&Self::RULE_HEAD, &self.rule_rows(), 3));
            if !c.providers.is_empty() {
                let _ = writeln!(
                    out,
                    "\nProviders most affected (top {} of {}, by money moved)",
                    self.top.min(c.providers.len()),
                    c.providers.len()
                );
                out.push_str(&table(&Self::PROVIDER_HEAD, &self.provider_rows(), 1));
            }
            if !c.changes.is_empty() {
                let _ = writeln!(
                    out,
                    "\nFindings that changed (first {} of {})",
                    self.top.min(c.changes.len()),
                    c.changes.len()
                );
                out.push_str(&table(&Self::CHANGE_HEAD, &self.change_rows(), 6));
            }
        }
        let _ = writeln!(
            out,
            "\nOverlaps: the same line or claim flagged by two rules; {}",
            self.overlap_line()
        );
        let rows = self.overlap_rows();
        if !rows.is_empty() {
            out.push_str(&table(&Self::OVERLAP_HEAD, &rows, 2));
        }
        out
    }

    /// The report as Markdown for a pull-request comment.
    pub fn markdown(&self) -> String {
        let c = self.comparison;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "### vigil diff `{}` → `{}`\n",
            md_code(self.old_label),
            md_code(self.new_label)
        );
        let _ = writeln!(
            out,
            "- old: `{}`\n- new: `{}`\n- claims `{}`: {}",
            md_code(self.old_id),
            md_code(self.new_id),
            md_code(self.claims_file),
            self.claims_line()
        );
        if c.is_empty() {
            let _ = writeln!(out, "\n**No change**: {}.", self.no_change());
        } else {
            let _ = writeln!(out, "- rules: {}", self.rules_line());
            let _ = writeln!(out, "- findings: **{}**", self.findings_line());
            out.push_str("\n#### Rules that changed or whose findings moved\n\n");
            out.push_str(&md_table(&Self::RULE_HEAD, &self.rule_rows(), 3));
            if !c.providers.is_empty() {
                let _ = writeln!(
                    out,
                    "\n#### Providers most affected (top {} of {}, by money moved)\n",
                    self.top.min(c.providers.len()),
                    c.providers.len()
                );
                out.push_str(&md_table(&Self::PROVIDER_HEAD, &self.provider_rows(), 1));
            }
            if !c.changes.is_empty() {
                let _ = writeln!(
                    out,
                    "\n<details><summary>Findings that changed (first {} of {})</summary>\n",
                    self.top.min(c.changes.len()),
                    c.changes.len()
                );
                out.push_str(&md_table(&Self::CHANGE_HEAD, &self.change_rows(), 6));
                out.push_str("\n</details>\n");
            }
        }
        let _ = writeln!(
            out,
            "\n#### Overlaps\n\nThe same line or claim flagged by two rules; {}.",
            self.overlap_line()
        );
        let rows = self.overlap_rows();
        if !rows.is_empty() {
            out.push('\n');
            out.push_str(&md_table(&Self::OVERLAP_HEAD, &rows, 2));
        }
        out
    }

    /// The report as one JSON document (keys sorted, amounts as decimal strings).
    pub fn json(&self) -> Value {
        let c = self.comparison;
        let rules: Vec<Value> = self
            .moved_rules()
            .into_iter()
            .map(|r| {
                json!({
                    "rule_id": r.rule_id,
                    "rule_name": r.rule_name,
                    "status": r.status.as_str(),
                    "old_hash": r.old_hash,
                    "new_hash": r.new_hash,
                    "old_findings": r.old_findings,
                    "new_findings": r.new_findings,
                    "added": r.added,
                    "removed": r.removed,
                    "amount_changed": r.amount_changed,
                    "message_changed": r.message_changed,
                    "old_vola_amt": cents_text(r.old_cents),
                    "new_vola_amt": cents_text(r.new_cents),
                    "money_moved": cents_text(r.moved_cents()),
                })
            })
            .collect();
        let providers: Vec<Value> = c
            .providers
            .iter()
            .take(self.top)
            .map(|p| {
                json!({
                    "fixmedins_code": p.fixmedins_code,
                    "added": p.added,
                    "removed": p.removed,
                    "changed": p.changed,
                    "old_vola_amt": cents_text(p.old_cents),
                    "new_vola_amt": cents_text(p.new_cents),
                    "money_moved": cents_text(p.moved_cents()),
                })
            })
            .collect();
        let pairs: Vec<Value> = c
            .overlap_moves()
            .into_iter()
            .map(|p| {
                json!({
                    "a": &*p.a,
                    "b": &*p.b,
                    "old_places": p.old_places,
                    "new_places": p.new_places,
                    "old_shared": amount(p.old_shared),
                    "new_shared": amount(p.new_shared),
                })
            })
            .collect();
        let findings: Vec<Value> = c.changes.iter().filter_map(change_json).collect();
        let (read, evaluated, rejected) = self.claims;
        json!({
            "old": {"book": self.old_label, "rulebook": self.old_id, "evaluation_errors": self.errors.0},
            "new": {"book": self.new_label, "rulebook": self.new_id, "evaluation_errors": self.errors.1},
            "claims": {
                "file": self.claims_file,
                "read": read,
                "evaluated": evaluated,
                "rejected": rejected,
                "history": self.history,
                "shared_reading": self.shared_reading,
            },
            "changed": !c.is_empty(),
            "rules_changed": self.status_count(RuleStatus::Changed),
            "rules_added": self.status_count(RuleStatus::Added),
            "rules_removed": self.status_count(RuleStatus::Removed),
            "rules_unchanged": self.status_count(RuleStatus::Unchanged),
            "totals": {
                "added": c.added(),
                "removed": c.removed(),
                "changed": c.changed(),
                "old_vola_amt": cents_text(c.old_cents()),
                "new_vola_amt": cents_text(c.new_cents()),
                "money_moved": cents_text(c.new_cents().saturating_sub(c.old_cents())),
            },
            "rules": rules,
            "providers": providers,
            "providers_moved": c.providers.len(),
            "overlaps": {
                "old": {"places": c.old_overlaps.places, "double_counted": amount(c.old_overlaps.double_counted)},
                "new": {"places": c.new_overlaps.places, "double_counted": amount(c.new_overlaps.double_counted)},
                "pairs": pairs,
            },
            "findings": findings,
        })
    }
}

fn change_word(c: &FindingChange) -> &'static str {
    match c.kind {
        Move::Added => "added",
        Move::Removed => "removed",
        Move::AmountChanged => "amount",
        Move::MessageChanged => "message",
    }
}

fn change_json(c: &FindingChange) -> Option<Value> {
    let f = c.finding()?;
    Some(json!({
        "change": c.kind.as_str(),
        "rule_id": &*f.rule_id,
        "scope": f.scope.as_str(),
        "setl_id": f.setl_id.as_deref(),
        "feedetl_sn": f.feedetl_sn.as_deref(),
        "fixmedins_code": &*f.fixmedins_code,
        "period": f.period.as_deref(),
        "old_vola_amt": c.old.as_ref().map(|o| amount(o.vola_amt)),
        "new_vola_amt": c.new.as_ref().map(|n| amount(n.vola_amt)),
        "old_vola_cont": c.old.as_ref().map(|o| o.vola_cont.as_str()),
        "new_vola_cont": c.new.as_ref().map(|n| n.vola_cont.as_str()),
        "money_moved": cents_text(c.moved_cents()),
    }))
}

/// An aligned table: columns before `numeric_from` left-aligned, the rest right-aligned.
fn table(head: &[&str], rows: &[Vec<String>], numeric_from: usize) -> String {
    let mut widths: Vec<usize> = head.iter().map(|h| display_width(h)).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(display_width(cell));
        }
    }
    let head: Vec<String> = head.iter().map(|h| h.to_string()).collect();
    let mut out = String::new();
    for row in std::iter::once(&head).chain(rows) {
        let mut line = String::from("  ");
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            let pad = " ".repeat(w.saturating_sub(display_width(cell)));
            if i > 0 {
                line.push_str("  ");
            }
            if i < numeric_from {
                line.push_str(cell);
                line.push_str(&pad);
            } else {
                line.push_str(&pad);
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A GitHub-flavoured Markdown table, numbers right-aligned.
fn md_table(head: &[&str], rows: &[Vec<String>], numeric_from: usize) -> String {
    let mut out = String::from("|");
    for h in head {
        let _ = write!(out, " {} |", md_cell(h));
    }
    out.push_str("\n|");
    for i in 0..head.len() {
        out.push_str(if i < numeric_from { "---|" } else { "---:|" });
    }
    out.push('\n');
    for row in rows {
        out.push('|');
        for cell in row {
            let _ = write!(out, " {} |", md_cell(cell));
        }
        out.push('\n');
    }
    out
}

/// A table cell's text with the characters Markdown would read as markup escaped.
fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '|' | '\\' | '*' | '_' | '`' | '<' | '>' | '[' | ']' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text for inside a code span: a backtick would end it early.
fn md_code(s: &str) -> String {
    s.replace('`', "'")
}

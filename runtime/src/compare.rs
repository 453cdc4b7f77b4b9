//! Comparing two rulebooks' findings on the same claims (`vigil diff`): which findings a change
//! of rules adds, removes or re-prices, the money that moves per rule and per provider, which
//! rules changed by content, and how the double counting between rules changes.
//!
//! A finding is matched across the two runs by its place: rule id, scope, claim (`setl_id`),
//! fee line (`feedetl_sn`), provider (`fixmedins_code`) and month (`period`). A place found
//! only in the new run is *added*, only in the old *removed*; found in both with a different
//! rounded amount it is *amount changed*, with the same amount but another message *message
//! changed*. Amounts are compared and summed as the findings file carries them: rounded to
//! 2 places per finding (`findings::round_amount`), in hundredths, so that the money moved is
//! exactly what subtracting two findings files' `vola_amt` columns gives. Sums saturate at the
//! `i128` bounds (beyond 10^36 yuan, out of reach of any real run) rather than overflow.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rust_decimal::Decimal;
use vigil_compiler::model::Scope;

use crate::claims::{ClaimLayout, RecordLayout};
use crate::findings::{cents, Finding};
use crate::fingerprint::RuleFingerprint;
use crate::overlap::{overlaps, Overlaps};

/// How a rule's text changed between the two rulebooks (by [`RuleFingerprint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RuleStatus {
    /// The same content hash in both.
    Unchanged,
    /// In both, with different content hashes.
    Changed,
    /// Only in the new rulebook.
    Added,
    /// Only in the old rulebook.
    Removed,
}

impl RuleStatus {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Unchanged => "unchanged",
            RuleStatus::Changed => "changed",
            RuleStatus::Added => "added",
            RuleStatus::Removed => "removed",
        }
    }
}

/// What happened to one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Move {
    /// Only the new rulebook reports it.
    Added,
    /// Only the old rulebook reports it.
    Removed,
    /// Both report it, with different rounded amounts.
    AmountChanged,
    /// Both report it with the same amount and a different message.
    MessageChanged,
}

impl Move {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Move::Added => "added",
            Move::Removed => "removed",
            Move::AmountChanged => "amount_changed",
            Move::MessageChanged => "message_changed",
        }
    }
}

/// One finding that differs between the runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingChange {
    /// What happened.
    pub kind: Move,
    /// The old run's finding (absent when added).
    pub old: Option<Finding>,
    /// The new run's finding (absent when removed).
    pub new: Option<Finding>,
}

impl FindingChange {
    /// The finding that names the place: the new one, or the old one when removed (`None`
    /// only for a change built by hand with neither side).
    pub fn finding(&self) -> Option<&Finding> {
        self.new.as_ref().or(self.old.as_ref())
    }

    /// The money this change moves, in hundredths: new rounded amount − old rounded amount.
    pub fn moved_cents(&self) -> i128 {
        let side = |f: &Option<Finding>| f.as_ref().map_or(0, |f| cents(f.vola_amt));
        side(&self.new).saturating_sub(side(&self.old))
    }
}

/// One rule's moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMoves {
    /// The rule's id.
    pub rule_id: String,
    /// The rule's name (the new one when it has one).
    pub rule_name: String,
    /// How its text changed.
    pub status: RuleStatus,
    /// Content hash in the old rulebook.
    pub old_hash: Option<String>,
    /// Content hash in the new rulebook.
    pub new_hash: Option<String>,
    /// Findings in the old run.
    pub old_findings: u64,
    /// Findings in the new run.
    pub new_findings: u64,
    /// Findings only the new run has.
    pub added: u64,
    /// Findings only the old run has.
    pub removed: u64,
    /// Findings in both with another amount.
    pub amount_changed: u64,
    /// Findings in both with the same amount and another message.
    pub message_changed: u64,
    /// The old run's total, in hundredths.
    pub old_cents: i128,
    /// The new run's total, in hundredths.
    pub new_cents: i128,
}

impl RuleMoves {
    /// New total − old total, in hundredths.
    pub fn moved_cents(&self) -> i128 {
        self.new_cents.saturating_sub(self.old_cents)
    }

    /// Whether the rule changed in text or in findings.
    pub fn is_moved(&self) -> bool {
        self.status != RuleStatus::Unchanged
            || self.added + self.removed + self.amount_changed + self.message_changed > 0
    }

    fn new(rule_id: &str) -> RuleMoves {
        RuleMoves {
            rule_id: rule_id.to_string(),
            rule_name: String::new(),
            status: RuleStatus::Unchanged,
            old_hash: None,
            new_hash: None,
            old_findings: 0,
            new_findings: 0,
            added: 0,
            removed: 0,
            amount_changed: 0,
            message_changed: 0,
            old_cents: 0,
            new_cents: 0,
        }
    }
}

/// One provider's moves, over all rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderMoves {
    /// The provider.
    pub fixmedins_code: String,
    /// Findings added.
    pub added: u64,
    /// Findings removed.
    pub removed: u64,
    /// Findings whose amount or message changed.
    pub changed: u64,
    /// The old run's total, in hundredths.
    pub old_cents: i128,
    /// The new run's total, in hundredths.
    pub new_cents: i128,
}

impl ProviderMoves {
    /// New total − old total, in hundredths.
    pub fn moved_cents(&self) -> i128 {
        self.new_cents.saturating_sub(self.old_cents)
    }
}

/// A pair of rules that flag the same places in either run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlapMove {
    /// The rule whose id sorts first.
    pub a: Arc<str>,
    /// The other rule.
    pub b: Arc<str>,
    /// Places both flag in the old run.
    pub old_places: u64,
    /// Places both flag in the new run.
    pub new_places: u64,
    /// Money both claim in the old run.
    pub old_shared: Decimal,
    /// Money both claim in the new run.
    pub new_shared: Decimal,
}

/// Everything `vigil diff` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Every rule of either rulebook (or of either run's findings), by id.
    pub rules: Vec<RuleMoves>,
    /// Providers with a changed finding, most money moved (in absolute value) first, then by
    /// code.
    pub providers: Vec<ProviderMoves>,
    /// Every finding that differs, in place order (rule id, scope, claim, line, provider,
    /// month).
    pub changes: Vec<FindingChange>,
    /// Double counting in the old run.
    pub old_overlaps: Overlaps,
    /// Double counting in the new run.
    pub new_overlaps: Overlaps,
}

/// Where a finding is, for matching across runs.
type Place<'f> = (
    &'f str,
    Scope,
    Option<&'f str>,
    Option<&'f str>,
    &'f str,
    Option<&'f str>,
);

fn place(f: &Finding) -> Place<'_> {
    (
        &f.rule_id,
        f.scope,
        f.setl_id.as_deref(),
        f.feedetl_sn.as_deref(),
        &f.fixmedins_code,
        f.period.as_deref(),
    )
}

impl Comparison {
    /// Compares the old rulebook's rules and findings with the new one's.
    pub fn new(
        old_rules: &BTreeMap<String, RuleFingerprint>,
        new_rules: &BTreeMap<String, RuleFingerprint>,
        old: &[Finding],
        new: &[Finding],
    ) -> Comparison {
        let mut rules: BTreeMap<String, RuleMoves> = BTreeMap::new();
        for (id, fp) in old_rules {
            let r = rules
                .entry(id.clone())
                .or_insert_with(|| RuleMoves::new(id));
            r.old_hash = Some(fp.hash.clone());
            r.rule_name = fp.name.clone();
        }
        for (id, fp) in new_rules {
            let r = rules
                .entry(id.clone())
                .or_insert_with(|| RuleMoves::new(id));
            r.new_hash = Some(fp.hash.clone());
            r.rule_name = fp.name.clone();
        }
        for r in rules.values_mut() {
            r.status = match (&r.old_hash, &r.new_hash) {
                (Some(a), Some(b)) if a == b => RuleStatus::Unchanged,
                (Some(_), Some(_)) => RuleStatus::Changed,
                (None, Some(_)) => RuleStatus::Added,
                (Some(_), None) => RuleStatus::Removed,
                (None, None) => RuleStatus::Unchanged,
            };
        }

        let mut places: BTreeMap<Place<'_>, (Vec<&Finding>, Vec<&Finding>)> = BTreeMap::new();
        for f in old {
            places.entry(place(f)).or_default().0.push(f);
            let r = rule_entry(&mut rules, f);
            r.old_findings += 1;
            r.old_cents = r.old_cents.saturating_add(cents(f.vola_amt));
        }
        for f in new {
            places.entry(place(f)).or_default().1.push(f);
            let r = rule_entry(&mut rules, f);
            r.new_findings += 1;
            r.new_cents = r.new_cents.saturating_add(cents(f.vola_amt));
        }

        let mut changes = Vec::new();
        for (olds, news) in places.into_values() {
            changes.extend(match_place(olds, news));
        }

        let mut providers: BTreeMap<&str, ProviderMoves> = BTreeMap::new();
        for c in &changes {
            let Some(f) = c.finding() else {
                continue;
            };
            let r = rule_entry(&mut rules, f);
            let p = providers
                .entry(&f.fixmedins_code)
                .or_insert_with(|| ProviderMoves {
                    fixmedins_code: f.fixmedins_code.to_string(),
                    ..ProviderMoves::default()
                });
            match c.kind {
                Move::Added => {
                    r.added += 1;
                    p.added += 1;
                }
                Move::Removed => {
                    r.removed += 1;
                    p.removed += 1;
                }
                Move::AmountChanged => {
                    r.amount_changed += 1;
                    p.changed += 1;
                }
                Move::MessageChanged => {
                    r.message_changed += 1;
                    p.changed += 1;
                }
            }
            if let Some(o) = &c.old {
                p.old_cents = p.old_cents.saturating_add(cents(o.vola_amt));
            }
            if let Some(n) = &c.new {
                p.new_cents = p.new_cents.saturating_add(cents(n.vola_amt));
            }
        }
        let mut providers: Vec<ProviderMoves> = providers.into_values().collect();
        providers.sort_by(|x, y| {
            y.moved_cents()
                .unsigned_abs()
                .cmp(&x.moved_cents().unsigned_abs())
                .then_with(|| x.fixmedins_code.cmp(&y.fixmedins_code))
        });

        Comparison {
            rules: rules.into_values().collect(),
            providers,
            changes,
            old_overlaps: overlaps(old),
            new_overlaps: overlaps(new),
        }
    }

    /// Whether nothing differs: no rule's text, no finding, no overlap.
    pub fn is_empty(&self) -> bool {
        !self.rules.iter().any(RuleMoves::is_moved)
            && self.changes.is_empty()
            && self.old_overlaps == self.new_overlaps
    }

    /// Findings added over all rules.
    pub fn added(&self) -> u64 {
        self.count(Move::Added)
    }

    /// Findings removed over all rules.
    pub fn removed(&self) -> u64 {
        self.count(Move::Removed)
    }

    /// Findings whose amount or message changed, over all rules.
    pub fn changed(&self) -> u64 {
        self.changes.len() as u64 - self.added() - self.removed()
    }

    fn count(&self, kind: Move) -> u64 {
        self.changes.iter().filter(|c| c.kind == kind).count() as u64
    }

    /// The old run's total over all rules, in hundredths.
    pub fn old_cents(&self) -> i128 {
        self.rules
            .iter()
            .fold(0i128, |s, r| s.saturating_add(r.old_cents))
    }

    /// The new run's total over all rules, in hundredths.
    pub fn new_cents(&self) -> i128 {
        self.rules
            .iter()
            .fold(0i128, |s, r| s.saturating_add(r.new_cents))
    }

    /// Rule pairs that overlap in either run, most money shared in the new run first (then
    /// in the old run, then by ids).
    pub fn overlap_moves(&self) -> Vec<OverlapMove> {
        let mut pairs: BTreeMap<(Arc<str>, Arc<str>), OverlapMove> = BTreeMap::new();
        fn entry<'p>(
            pairs: &'p mut BTreeMap<(Arc<str>, Arc<str>), OverlapMove>,
            a: &Arc<str>,
            b: &Arc<str>,
        ) -> &'p mut OverlapMove {
            pairs
                .entry((a.clone(), b.clone()))
                .or_insert_with(|| OverlapMove {
                    a: a.clone(),
                    b: b.clone(),
                    old_places: 0,
                    new_places: 0,
                    old_shared: Decimal::ZERO,
                    new_shared: Decimal::ZERO,
                })
        }
        for p in &self.old_overlaps.pairs {
            let e = entry(&mut pairs, &p.a, &p.b);
            e.old_places = p.places;
            e.old_shared = p.shared_amount;
        }
        for p in &self.new_overlaps.pairs {
            let e = entry(&mut pairs, &p.a, &p.b);
            e.new_places = p.places;
            e.new_shared = p.shared_amount;
        }
        let mut out: Vec<OverlapMove> = pairs.into_values().collect();
        out.sort_by(|x, y| {
            y.new_shared
                .cmp(&x.new_shared)
                .then_with(|| y.old_shared.cmp(&x.old_shared))
                .then_with(|| (&x.a, &x.b).cmp(&(&y.a, &y.b)))
        });
        out
    }
}

fn rule_entry<'r>(rules: &'r mut BTreeMap<String, RuleMoves>, f: &Finding) -> &'r mut RuleMoves {
    rules
        .entry(f.rule_id.to_string())
        .or_insert_with(|| RuleMoves {
            rule_name: f.rule_name.to_string(),
            ..RuleMoves::new(&f.rule_id)
        })
}

/// Pairs the findings of one place: identical ones (same rounded amount and message) cancel
/// first, then the rest pair in order of amount and message; what is left over was added or
/// removed. A checked rulebook gives one finding per place, so the pairing only matters for
/// hand-made inputs, but it never loses a finding.
fn match_place<'f>(mut olds: Vec<&'f Finding>, mut news: Vec<&'f Finding>) -> Vec<FindingChange> {
    let same = |f: &Finding| (cents(f.vola_amt), f.vola_cont.clone());
    let old_keys: BTreeSet<_> = olds.iter().map(|f| same(f)).collect();
    let new_keys: BTreeSet<_> = news.iter().map(|f| same(f)).collect();
    let mut common: BTreeMap<(i128, String), usize> = BTreeMap::new();
    for k in old_keys.intersection(&new_keys) {
        let n_old = olds.iter().filter(|f| same(f) == *k).count();
        let n_new = news.iter().filter(|f| same(f) == *k).count();
        common.insert(k.clone(), n_old.min(n_new));
    }
    for list in [&mut olds, &mut news] {
        let mut left = common.clone();
        list.retain(|f| match left.get_mut(&same(f)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        });
        list.sort_by_key(|f| same(f));
    }
    let mut out = Vec::new();
    let paired = olds.len().min(news.len());
    for (o, n) in olds.iter().zip(&news) {
        let kind = if cents(o.vola_amt) != cents(n.vola_amt) {
            Move::AmountChanged
        } else {
            Move::MessageChanged
        };
        out.push(FindingChange {
            kind,
            old: Some((*o).clone()),
            new: Some((*n).clone()),
        });
    }
    for o in &olds[paired..] {
        out.push(FindingChange {
            kind: Move::Removed,
            old: Some((*o).clone()),
            new: None,
        });
    }
    for n in &news[paired..] {
        out.push(FindingChange {
            kind: Move::Added,
            old: None,
            new: Some((*n).clone()),
        });
    }
    out
}

/// A description of a claim layout that is equal for two layouts exactly when they read a
/// claims file into the same records: every record reachable from `claim`, its fields in slot
/// order with their declared types. Two rulebooks with the same description can share one
/// reading of the claims.
pub fn layout_signature(layout: &ClaimLayout) -> String {
    let mut out = String::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut queue: Vec<&RecordLayout> = vec![layout.claim()];
    while let Some(record) = queue.pop() {
        if seen.contains(&record.name()) {
            continue;
        }
        seen.push(record.name());
        out.push_str(record.name());
        out.push('{');
        for f in record.fields() {
            out.push_str(f.name());
            out.push(':');
            out.push_str(&f.ty().to_string());
            out.push(';');
            if let Some(r) = layout.record_of(f) {
                queue.push(r);
            }
        }
        out.push('}');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_compiler::model::RuleSeverity;

    fn finding(rule: &str, setl: &str, line: &str, provider: &str, amt: i64, msg: &str) -> Finding {
        Finding {
            rule_id: rule.into(),
            rule_name: rule.into(),
            scope: Scope::Line,
            setl_id: Some(setl.into()),
            psn_no: Some("P1".into()),
            fixmedins_code: provider.into(),
            feedetl_sn: Some(line.into()),
            period: None,
            vola_amt: Decimal::new(amt, 3),
            sev_deg: RuleSeverity::Warn,
            vola_cont: msg.into(),
            vola_evid: "basis".into(),
            rulebook: "b@x".into(),
        }
    }

    fn rules(list: &[(&str, &str)]) -> BTreeMap<String, RuleFingerprint> {
        list.iter()
            .map(|(id, hash)| {
                (
                    id.to_string(),
                    RuleFingerprint {
                        id: id.to_string(),
                        name: id.to_string(),
                        hash: hash.to_string(),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn the_same_findings_and_rules_compare_empty() {
        let fs = vec![
            finding("R-A", "S1", "1", "H1", 1000, "m"),
            finding("R-B", "S1", "1", "H1", 500, "m"),
        ];
        let r = rules(&[("R-A", "1"), ("R-B", "2")]);
        let c = Comparison::new(&r, &r, &fs, &fs);
        assert!(c.is_empty());
        assert_eq!(c.rules.len(), 2);
        assert!(c.providers.is_empty());
    }

    #[test]
    fn each_kind_of_move_is_counted_with_rounded_money() {
        let old = vec![
            finding("R-A", "S1", "1", "H1", 10_004, "a"), // 10.00 → removed
            finding("R-A", "S1", "2", "H2", 2_000, "a"),  // 2.00 → 3.01 (rounded half up)
            finding("R-A", "S2", "1", "H2", 1_000, "a"),  // message changes
            finding("R-A", "S3", "1", "H1", 1_000, "a"),  // same
        ];
        let new = vec![
            finding("R-A", "S1", "2", "H2", 3_005, "a"),
            finding("R-A", "S2", "1", "H2", 1_000, "b"),
            finding("R-A", "S3", "1", "H1", 1_000, "a"),
            finding("R-A", "S4", "1", "H3", 7_000, "a"), // added 7.00
        ];
        let c = Comparison::new(&rules(&[("R-A", "1")]), &rules(&[("R-A", "2")]), &old, &new);
        let r = &c.rules[0];
        assert_eq!(r.status, RuleStatus::Changed);
        assert_eq!(
            (r.added, r.removed, r.amount_changed, r.message_changed),
            (1, 1, 1, 1)
        );
        // Old 10.00 + 2.00 + 1.00 + 1.00; new 3.01 + 1.00 + 1.00 + 7.00.
        assert_eq!(
            (r.old_cents, r.new_cents, r.moved_cents()),
            (1400, 1201, -199)
        );
        let moved: Vec<(&str, i128)> = c
            .providers
            .iter()
            .map(|p| (p.fixmedins_code.as_str(), p.moved_cents()))
            .collect();
        assert_eq!(moved, vec![("H1", -1000), ("H3", 700), ("H2", 101)]);
        let sum: i128 = c.changes.iter().map(FindingChange::moved_cents).sum();
        assert_eq!(sum, r.moved_cents());
    }

    #[test]
    fn added_and_removed_rules_take_their_status() {
        let old = vec![finding("R-OLD", "S1", "1", "H1", 1000, "m")];
        let new = vec![finding("R-NEW", "S1", "1", "H1", 1000, "m")];
        let c = Comparison::new(
            &rules(&[("R-OLD", "1")]),
            &rules(&[("R-NEW", "2")]),
            &old,
            &new,
        );
        let st: Vec<(&str, RuleStatus, u64, u64)> = c
            .rules
            .iter()
            .map(|r| (r.rule_id.as_str(), r.status, r.added, r.removed))
            .collect();
        assert_eq!(
            st,
            vec![
                ("R-NEW", RuleStatus::Added, 1, 0),
                ("R-OLD", RuleStatus::Removed, 0, 1)
            ]
        );
        assert!(c.providers[0].moved_cents() == 0 && c.providers[0].added == 1);
        assert!(!c.is_empty());
    }

    #[test]
    fn duplicate_places_pair_without_losing_a_finding() {
        let old = vec![
            finding("R-A", "S1", "1", "H1", 1000, "x"),
            finding("R-A", "S1", "1", "H1", 2000, "y"),
        ];
        let new = vec![finding("R-A", "S1", "1", "H1", 2000, "y")];
        let r = rules(&[("R-A", "1")]);
        let c = Comparison::new(&r, &r, &old, &new);
        assert_eq!(c.changes.len(), 1);
        assert_eq!(c.changes[0].kind, Move::Removed);
        assert_eq!(c.rules[0].moved_cents(), -100);
    }
}

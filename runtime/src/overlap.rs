//! Overlap analysis: where two rules flag the same line (or the same claim), so that the same
//! yuan may be counted twice when an auditor adds up findings.
//!
//! Two findings overlap when they come from different rules and name the same claim and the
//! same fee line (`feedetl_sn`), or the same claim with no line (claim scope). Provider
//! findings never overlap: they name a month, not money on a line. The money that may be
//! counted twice on a line flagged by several rules is the sum of their amounts minus the
//! largest one: what the rules say beyond the single worst reading.

use std::collections::BTreeMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::findings::{round_amount, Finding};
use vigil_compiler::model::Scope;

/// Two rules that flag the same lines or claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePair {
    /// The rule whose id sorts first.
    pub a: Arc<str>,
    /// The other rule.
    pub b: Arc<str>,
    /// Lines (or claims, for claim-scope findings) both rules flag.
    pub places: u64,
    /// Over those places, the smaller of the two amounts: money both rules claim, rounded to
    /// 2 places per finding as the findings file carries it.
    pub shared_amount: Decimal,
}

/// What a set of findings double-counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overlaps {
    /// Rule pairs, most shared money first, then by ids.
    pub pairs: Vec<RulePair>,
    /// Places flagged by two or more rules.
    pub places: u64,
    /// Over those places, the sum of the amounts minus the largest: money that adding up the
    /// findings counts more than once.
    pub double_counted: Decimal,
}

/// A claim and, for line findings, the line.
type Place<'f> = (&'f str, Option<&'f str>);

/// The overlaps among `findings` (any order; the result does not depend on it).
pub fn overlaps(findings: &[Finding]) -> Overlaps {
    // (claim, line or none) → (rule, amount), kept sorted so the result is deterministic.
    let mut places: BTreeMap<Place<'_>, Vec<(&Arc<str>, Decimal)>> = BTreeMap::new();
    for f in findings {
        if f.scope == Scope::Provider {
            continue;
        }
        let Some(setl_id) = f.setl_id.as_deref() else {
            continue;
        };
        places
            .entry((setl_id, f.feedetl_sn.as_deref()))
            .or_default()
            .push((&f.rule_id, round_amount(f.vola_amt)));
    }
    let mut pairs: BTreeMap<(Arc<str>, Arc<str>), (u64, Decimal)> = BTreeMap::new();
    let mut out = Overlaps::default();
    for hits in places.values_mut() {
        hits.sort();
        hits.dedup_by(|x, y| x.0 == y.0 && x.1 == y.1);
        let mut rules: Vec<&Arc<str>> = hits.iter().map(|(r, _)| *r).collect();
        rules.dedup();
        if rules.len() < 2 {
            continue;
        }
        out.places += 1;
        let total: Decimal = hits.iter().map(|(_, a)| *a).sum();
        let largest = hits.iter().map(|(_, a)| *a).max().unwrap_or(Decimal::ZERO);
        out.double_counted += total - largest;
        for (i, (ra, aa)) in hits.iter().enumerate() {
            for (rb, ab) in &hits[i + 1..] {
                if ra == rb {
                    continue;
                }
                let e = pairs
                    .entry(((*ra).clone(), (*rb).clone()))
                    .or_insert((0, Decimal::ZERO));
                e.0 += 1;
                e.1 += (*aa).min(*ab);
            }
        }
    }
    out.pairs = pairs
        .into_iter()
        .map(|((a, b), (places, shared_amount))| RulePair {
            a,
            b,
            places,
            shared_amount,
        })
        .collect();
    out.pairs.sort_by(|x, y| {
        y.shared_amount
            .cmp(&x.shared_amount)
            .then_with(|| (&x.a, &x.b).cmp(&(&y.a, &y.b)))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_compiler::model::RuleSeverity;

    fn finding(rule: &str, scope: Scope, setl: &str, line: Option<&str>, amt: i64) -> Finding {
        Finding {
            rule_id: rule.into(),
            rule_name: rule.into(),
            scope,
            setl_id: (scope != Scope::Provider).then(|| setl.into()),
            psn_no: None,
            fixmedins_code: "H1".into(),
            feedetl_sn: line.map(Into::into),
            period: None,
            vola_amt: Decimal::new(amt, 2),
            sev_deg: RuleSeverity::Warn,
            vola_cont: String::new(),
            vola_evid: "basis".into(),
            rulebook: "b@x".into(),
        }
    }

    #[test]
    fn two_rules_on_one_line_share_the_smaller_amount() {
        let fs = vec![
            finding("R-A", Scope::Line, "S1", Some("1"), 1000),
            finding("R-B", Scope::Line, "S1", Some("1"), 400),
            finding("R-A", Scope::Line, "S1", Some("2"), 300),
            finding("R-B", Scope::Line, "S2", Some("2"), 300),
        ];
        let o = overlaps(&fs);
        assert_eq!(o.places, 1);
        assert_eq!(o.double_counted, Decimal::new(400, 2));
        assert_eq!(
            o.pairs,
            vec![RulePair {
                a: "R-A".into(),
                b: "R-B".into(),
                places: 1,
                shared_amount: Decimal::new(400, 2),
            }]
        );
    }

    #[test]
    fn three_rules_count_everything_beyond_the_largest_and_order_does_not_matter() {
        let mut fs = vec![
            finding("R-C", Scope::Line, "S1", Some("7"), 200),
            finding("R-A", Scope::Line, "S1", Some("7"), 500),
            finding("R-B", Scope::Line, "S1", Some("7"), 300),
            finding("R-X", Scope::Claim, "S1", None, 900),
            finding("R-Y", Scope::Claim, "S1", None, 100),
            finding("R-P", Scope::Provider, "", None, 100),
            finding("R-Q", Scope::Provider, "", None, 100),
        ];
        let o = overlaps(&fs);
        fs.reverse();
        assert_eq!(overlaps(&fs), o);
        assert_eq!(
            o.places, 2,
            "the line and the claim, not the provider month"
        );
        // Line: 10.00 - 5.00; claim: 10.00 - 9.00.
        assert_eq!(o.double_counted, Decimal::new(600, 2));
        let ids: Vec<(&str, &str, Decimal)> = o
            .pairs
            .iter()
            .map(|p| (&*p.a, &*p.b, p.shared_amount))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("R-A", "R-B", Decimal::new(300, 2)),
                ("R-A", "R-C", Decimal::new(200, 2)),
                ("R-B", "R-C", Decimal::new(200, 2)),
                ("R-X", "R-Y", Decimal::new(100, 2)),
            ]
        );
    }

    #[test]
    fn one_rule_twice_on_a_line_is_not_an_overlap() {
        let fs = vec![
            finding("R-A", Scope::Line, "S1", Some("1"), 100),
            finding("R-A", Scope::Line, "S1", Some("1"), 100),
        ];
        assert_eq!(overlaps(&fs), Overlaps::default());
    }
}

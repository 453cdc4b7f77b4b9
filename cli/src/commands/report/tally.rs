//! The numbers of a report: findings counted and their amounts summed in hundredths (exact
//! integers, so the order of adding never matters), in total and by rule, provider and month.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use vigil_compiler::model::{RuleSeverity, Scope};
use vigil_runtime::findings::{cents, Finding};
use vigil_runtime::overlap::{overlaps, Overlaps};

use super::claim_keys::ClaimKeys;

/// The sum of amounts left the range of an `i128` of hundredths (about 1.7 × 10^36 yuan).
#[derive(Debug, thiserror::Error)]
#[error("the findings' amounts add up to more than a report can hold exactly")]
pub struct Overflow;

/// A count of findings and their amount.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Findings.
    pub findings: u64,
    /// Their amounts (each rounded to 2 places, as the file carries it), in hundredths.
    pub cents: i128,
}

impl Bucket {
    fn add(&mut self, c: i128) -> Result<(), Overflow> {
        self.findings += 1;
        self.cents = self.cents.checked_add(c).ok_or(Overflow)?;
        Ok(())
    }
}

/// One rule's line.
#[derive(Debug, Clone)]
pub struct RuleRow {
    /// The rule's name (the least, should two findings disagree).
    pub name: Arc<str>,
    /// Its severity.
    pub severity: RuleSeverity,
    /// Its scope.
    pub scope: Scope,
    /// Its legal basis.
    pub basis: Arc<str>,
    /// Its findings.
    pub bucket: Bucket,
}

/// One provider's line.
#[derive(Debug, Clone, Default)]
pub struct ProviderRow {
    /// Its findings.
    pub bucket: Bucket,
    /// Distinct claims of this provider that some finding names.
    pub flagged_claims: u64,
    /// Its claims in the claims file (`None` without `--claims`).
    pub claims: Option<u64>,
}

/// What the claims file says (present only with `--claims`).
#[derive(Debug, Clone, Default)]
pub struct ClaimTotals {
    /// Claims read.
    pub claims: u64,
    /// Their fee lines.
    pub lines: u64,
    /// Lines of the file that were not claims.
    pub rejected: u64,
    /// The sum of `medfee_sumamt`, in hundredths.
    pub medfee_cents: i128,
    /// Flagged claims that are in the claims file.
    pub flagged_known: u64,
    /// Findings naming a claim that is not in the claims file.
    pub findings_unmatched: u64,
}

/// Everything a report shows, computed once.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// All findings.
    pub total: Bucket,
    /// By scope: claim, line, provider.
    pub by_scope: BTreeMap<Scope, Bucket>,
    /// By severity.
    pub by_severity: BTreeMap<&'static str, Bucket>,
    /// By rule id.
    pub by_rule: BTreeMap<Arc<str>, RuleRow>,
    /// By provider code.
    pub by_provider: BTreeMap<Arc<str>, ProviderRow>,
    /// By `YYYY-MM`: a provider finding's period, a claim or line finding's claim month.
    pub by_month: BTreeMap<String, Bucket>,
    /// Findings whose month is not known (no claims file, or the claim is not in it or has
    /// no dates).
    pub month_unknown: Bucket,
    /// Distinct claims some finding names.
    pub flagged_claims: u64,
    /// Distinct (claim, line) pairs some line finding names.
    pub flagged_lines: u64,
    /// Claims in the month (with `--claims`).
    pub claims_by_month: BTreeMap<String, u64>,
    /// The claims file's totals, with `--claims`.
    pub claims: Option<ClaimTotals>,
    /// The distinct `rulebook` ids of the findings.
    pub rulebooks: BTreeSet<Arc<str>>,
    /// Where rules flag the same line or claim.
    pub overlaps: Overlaps,
}

impl Tally {
    /// Counts `findings`, with the claims file's keys if given.
    pub fn of(findings: &[Finding], keys: Option<&ClaimKeys>) -> Result<Tally, Overflow> {
        let mut t = Tally::default();
        let mut claims_seen: BTreeSet<&str> = BTreeSet::new();
        let mut lines_seen: BTreeSet<(&str, &str)> = BTreeSet::new();
        let mut provider_claims: BTreeSet<(&str, &str)> = BTreeSet::new();
        let mut unmatched = 0u64;
        for f in findings {
            let c = cents(f.vola_amt);
            t.total.add(c)?;
            t.by_scope.entry(f.scope).or_default().add(c)?;
            t.by_severity
                .entry(f.sev_deg.as_str())
                .or_default()
                .add(c)?;
            let rule = t
                .by_rule
                .entry(f.rule_id.clone())
                .or_insert_with(|| RuleRow {
                    name: f.rule_name.clone(),
                    severity: f.sev_deg,
                    scope: f.scope,
                    basis: f.vola_evid.clone(),
                    bucket: Bucket::default(),
                });
            if f.rule_name < rule.name {
                rule.name = f.rule_name.clone();
            }
            rule.bucket.add(c)?;
            t.by_provider
                .entry(f.fixmedins_code.clone())
                .or_default()
                .bucket
                .add(c)?;
            if let Some(setl_id) = f.setl_id.as_deref() {
                claims_seen.insert(setl_id);
                provider_claims.insert((&f.fixmedins_code, setl_id));
                if let Some(sn) = f.feedetl_sn.as_deref() {
                    lines_seen.insert((setl_id, sn));
                }
            }
            t.rulebooks.insert(f.rulebook.clone());
            let month = match (f.scope, f.setl_id.as_deref(), keys) {
                (Scope::Provider, _, _) => f.period.clone(),
                (_, Some(setl_id), Some(keys)) => match keys.claims.get(setl_id) {
                    Some(claim) => claim.month.clone(),
                    None => {
                        unmatched += 1;
                        None
                    }
                },
                _ => None,
            };
            match month {
                Some(m) => t.by_month.entry(m).or_default().add(c)?,
                None => t.month_unknown.add(c)?,
            }
        }
        t.flagged_claims = claims_seen.len() as u64;
        t.flagged_lines = lines_seen.len() as u64;
        for (provider, _) in &provider_claims {
            if let Some(row) = t.by_provider.get_mut(*provider) {
                row.flagged_claims += 1;
            }
        }
        if let Some(keys) = keys {
            let mut totals = ClaimTotals {
                claims: keys.claims.len() as u64,
                rejected: keys.rejected.len() as u64,
                findings_unmatched: unmatched,
                ..ClaimTotals::default()
            };
            let mut per_provider: BTreeMap<&str, u64> = BTreeMap::new();
            for claim in keys.claims.values() {
                totals.lines += claim.lines;
                let medfee = claim.medfee_cents.unwrap_or(0);
                totals.medfee_cents = totals.medfee_cents.checked_add(medfee).ok_or(Overflow)?;
                *per_provider.entry(&claim.fixmedins_code).or_default() += 1;
                if let Some(m) = &claim.month {
                    *t.claims_by_month.entry(m.clone()).or_default() += 1;
                }
            }
            totals.flagged_known = claims_seen
                .iter()
                .filter(|s| keys.claims.contains_key(**s))
                .count() as u64;
            for (code, row) in t.by_provider.iter_mut() {
                row.claims = Some(per_provider.get(&**code).copied().unwrap_or(0));
            }
            t.claims = Some(totals);
        }
        t.overlaps = overlaps(findings);
        Ok(t)
    }

    /// Providers, most money first, then by code.
    pub fn providers_by_amount(&self) -> Vec<(&Arc<str>, &ProviderRow)> {
        let mut v: Vec<_> = self.by_provider.iter().collect();
        v.sort_by(|a, b| {
            b.1.bucket
                .cents
                .cmp(&a.1.bucket.cents)
                .then_with(|| b.1.bucket.findings.cmp(&a.1.bucket.findings))
                .then_with(|| a.0.cmp(b.0))
        });
        v
    }
}

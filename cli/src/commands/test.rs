//! `vigil test`: the tests that live beside the rules, each a claims file and the findings
//! expected of it.

use std::path::PathBuf;

use clap::Args;
use rust_decimal::Decimal;
use vigil_dsl::ast::{AtKind, GivenKind, TestStmt};
use vigil_runtime::engine::read_claims;
use vigil_runtime::findings::{round_amount, Finding};

use crate::Status;

/// Arguments of `vigil test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The rulebook folder.
    pub book: PathBuf,
}

/// Runs the command.
pub fn run(args: TestArgs) -> Status {
    let Some(loaded) = super::load_checked(&args.book) else {
        return Status::Findings;
    };
    let root = loaded.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let (mut passed, mut failed) = (0usize, 0usize);
    for test in &loaded.rulebook.tests {
        let mut claims_files = Vec::new();
        let mut history_files = Vec::new();
        let mut tables = Vec::new();
        for s in &test.stmts {
            if let TestStmt::Given { kind, path, .. } = s {
                let p = root.join(&path.value);
                match kind {
                    GivenKind::Claims => claims_files.push(p),
                    GivenKind::History => history_files.push(p),
                    GivenKind::Table(name) => tables.push((name.name.clone(), p)),
                }
            }
        }
        let Some(engine) = super::engine_for(&loaded, &tables) else {
            failed += 1;
            continue;
        };
        let read = |files: &[PathBuf]| -> Result<Vec<_>, String> {
            let mut all = Vec::new();
            for f in files {
                let (claims, rejected, _) =
                    read_claims(&engine.layout, f).map_err(|e| format!("{}: {e}", f.display()))?;
                if let Some(r) = rejected.first() {
                    return Err(format!("{}: {r}", f.display()));
                }
                all.extend(claims);
            }
            Ok(all)
        };
        let (claims, history) = match (read(&claims_files), read(&history_files)) {
            (Ok(c), Ok(h)) => (c, h),
            (Err(e), _) | (_, Err(e)) => {
                println!("test \"{}\" ... FAILED\n  {e}", test.name.value);
                failed += 1;
                continue;
            }
        };
        let output = engine.run(&claims, &history, 1);
        let mut problems = Vec::new();
        for s in &test.stmts {
            let TestStmt::Expect {
                negated,
                rule,
                at,
                amount,
                ..
            } = s
            else {
                continue;
            };
            let matching: Vec<&Finding> = output
                .findings
                .iter()
                .filter(|f| matches(f, &rule.name, at))
                .collect();
            let what = describe(&rule.name, at);
            match (negated, amount) {
                (true, _) if !matching.is_empty() => {
                    problems.push(format!("expected no {what}, found: {}", show(&matching)))
                }
                (false, _) if matching.is_empty() => {
                    let of_rule: Vec<&Finding> = output
                        .findings
                        .iter()
                        .filter(|f| *f.rule_id == rule.name)
                        .collect();
                    problems.push(format!(
                        "expected {what}, found none{}",
                        if of_rule.is_empty() {
                            String::new()
                        } else {
                            format!(" (the rule found: {})", show(&of_rule))
                        }
                    ))
                }
                (false, Some(a)) => {
                    let want = a.value.parse::<Decimal>().map(round_amount).ok();
                    if !matching
                        .iter()
                        .any(|f| Some(round_amount(f.vola_amt)) == want)
                    {
                        problems.push(format!(
                            "expected {what} amount {}, found: {}",
                            a.value,
                            show(&matching)
                        ));
                    }
                }
                _ => {}
            }
        }
        for e in &output.errors {
            problems.push(engine.describe(e));
        }
        if problems.is_empty() {
            println!("test \"{}\" ... ok", test.name.value);
            passed += 1;
        } else {
            println!("test \"{}\" ... FAILED", test.name.value);
            for p in problems {
                println!("  {p}");
            }
            failed += 1;
        }
    }
    println!("vigil test: {passed} passed, {failed} failed");
    if failed > 0 {
        Status::Findings
    } else {
        Status::Ok
    }
}

fn matches(f: &Finding, rule: &str, at: &[(AtKind, vigil_dsl::ast::StrLit)]) -> bool {
    *f.rule_id == *rule
        && at.iter().all(|(kind, v)| {
            let have = match kind {
                AtKind::Claim => f.setl_id.as_deref(),
                AtKind::Line => f.feedetl_sn.as_deref(),
                AtKind::Provider => Some(&*f.fixmedins_code),
                AtKind::Period => f.period.as_deref(),
            };
            have == Some(v.value.as_str())
        })
}

fn describe(rule: &str, at: &[(AtKind, vigil_dsl::ast::StrLit)]) -> String {
    let mut s = rule.to_string();
    for (kind, v) in at {
        s.push_str(&format!(" at {} \"{}\"", kind.as_str(), v.value));
    }
    s
}

fn show(findings: &[&Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            let key = f
                .feedetl_sn
                .as_deref()
                .or(f.period.as_deref())
                .unwrap_or("");
            format!(
                "{} {} {} {}",
                f.rule_id,
                f.setl_id.as_deref().unwrap_or(&f.fixmedins_code),
                key,
                round_amount(f.vola_amt)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

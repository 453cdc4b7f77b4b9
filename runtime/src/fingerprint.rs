//! Rule fingerprints: a content hash per rule of what the rule *means*, so that `vigil diff`
//! can say which rules a change of rulebook touched.
//!
//! A rule's fingerprint is the SHA-256 of a canonical text made from its lowered IR (the one
//! meaning of a rulebook): its id, name, severity, legal basis and scope; the list it ranges
//! over or its provider grouping; its lets, `when`, `amount` and message. Shared expressions
//! are expanded in place, so a change to a `def` or `const` that the rule uses (constants are
//! folded and defs inlined at lowering) changes the rule and no other. Fields are named, not
//! numbered, so adding a field to the schema does not change a rule that never reads it; but
//! a change of a field's declared type does. Each table the rule reads is named with its
//! declaration (file, key, validity columns, columns and their types) and the SHA-256 of the
//! CSV bytes read, so editing a row of `hilist.csv` changes exactly the rules that look it up.
//!
//! Spans, comments, layout and the rule's position in its file do not take part: moving or
//! reformatting a rule leaves its fingerprint alone.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use vigil_compiler::ir::{self, Ir, IrKind, MessagePart, Program, Prop, RuleIr};
use vigil_compiler::model::Rulebook;
use vigil_compiler::types::Ty;
use vigil_compiler::LoadedRulebook;

/// A rule's identity in a diff: its id, name and content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFingerprint {
    /// The rule's id.
    pub id: String,
    /// The rule's name.
    pub name: String,
    /// Lowercase hex SHA-256 of the rule's canonical text.
    pub hash: String,
}

/// Why the tables of a rulebook could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("{path}: cannot be read for the rule fingerprints: {source}")]
pub struct FingerprintError {
    /// The table file.
    pub path: PathBuf,
    /// What went wrong.
    pub source: std::io::Error,
}

/// The fingerprint of every rule of a lowered rulebook, by rule id (ids are unique in a
/// checked rulebook). `overrides` are the `--table NAME=FILE` pairs the rulebook runs with.
pub fn fingerprints(
    loaded: &LoadedRulebook,
    program: &Program,
    overrides: &[(String, PathBuf)],
) -> Result<BTreeMap<String, RuleFingerprint>, FingerprintError> {
    let root = loaded.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let tables = table_texts(&loaded.rulebook, &root, overrides)?;
    let ctx = Context {
        book: &loaded.rulebook,
        program,
        tables: &tables,
    };
    Ok(program
        .rules
        .iter()
        .map(|r| {
            let text = ctx.rule_text(r);
            let fp = RuleFingerprint {
                id: r.id.clone(),
                name: r.name.clone(),
                hash: sha256_hex(text.as_bytes()),
            };
            (r.id.clone(), fp)
        })
        .collect())
}

/// Each declared table as text: its declaration and the hash of the file it is read from.
fn table_texts(
    book: &Rulebook,
    root: &Path,
    overrides: &[(String, PathBuf)],
) -> Result<BTreeMap<String, String>, FingerprintError> {
    let mut out = BTreeMap::new();
    for (name, t) in &book.tables {
        // The last override wins, as it would on the command line were it allowed twice.
        let path = overrides
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map_or_else(|| root.join(&t.path), |(_, p)| p.clone());
        let bytes = std::fs::read(&path).map_err(|source| FingerprintError {
            path: path.clone(),
            source,
        })?;
        let columns: Vec<String> = t
            .columns
            .iter()
            .map(|c| format!("{}:{}:{}", c.name, c.ty, c.sep.as_deref().unwrap_or("")))
            .collect();
        out.insert(
            name.clone(),
            format!(
                "table {name} key {:?} valid {:?} columns {:?} data sha256:{}",
                t.key,
                t.valid,
                columns,
                sha256_hex(&bytes)
            ),
        );
    }
    Ok(out)
}

fn sha256_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(64);
    for b in Sha256::digest(bytes) {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

struct Context<'a> {
    book: &'a Rulebook,
    program: &'a Program,
    tables: &'a BTreeMap<String, String>,
}

/// What a rule's expressions refer to beyond themselves, numbered in order of first use so the
/// text does not depend on schema or table order.
#[derive(Default)]
struct Legend {
    fields: Vec<String>,
    tables: Vec<String>,
    labels: Vec<String>,
}

impl Legend {
    fn number(list: &mut Vec<String>, entry: String) -> usize {
        match list.iter().position(|e| *e == entry) {
            Some(i) => i,
            None => {
                list.push(entry);
                list.len() - 1
            }
        }
    }
}

impl Context<'_> {
    fn rule_text(&self, r: &RuleIr) -> String {
        let mut legend = Legend::default();
        let mut out = format!(
            "rule {:?} name {:?} severity {} scope {} basis {:?}\n",
            r.id,
            r.name,
            r.severity.as_str(),
            r.scope.as_str(),
            r.basis
        );
        if let Some(slot) = r.list_slot {
            let name = self
                .book
                .records
                .get("claim")
                .and_then(|c| c.fields.get(slot))
                .map_or_else(|| format!("#{slot}"), |f| f.name.clone());
            let _ = writeln!(out, "for claim.{name}");
        }
        if let Some(p) = &r.provider {
            let _ = writeln!(
                out,
                "per provider ${} month ${} of {} claims ${} previous ${}",
                p.provider,
                p.period,
                self.show(&p.month_of, &mut legend),
                p.claims,
                p.previous_claims
            );
            if let Some(f) = &p.filter {
                let _ = writeln!(out, "  where {}", self.show(f, &mut legend));
            }
        }
        for (v, e) in &r.lets {
            let _ = writeln!(out, "let ${v} = {} : {}", self.show(e, &mut legend), e.ty);
        }
        let _ = writeln!(out, "when {}", self.show(&r.when, &mut legend));
        if let Some(a) = &r.amount {
            let _ = writeln!(out, "amount {} : {}", self.show(a, &mut legend), a.ty);
        }
        out.push_str("message");
        for part in &r.message {
            match part {
                MessagePart::Text(t) => {
                    let _ = write!(out, " {t:?}");
                }
                MessagePart::Hole(h) => {
                    let _ = write!(out, " {{{}}}", self.show(h, &mut legend));
                }
            }
        }
        out.push('\n');
        for (i, f) in legend.fields.iter().enumerate() {
            let _ = writeln!(out, "field .{i} = {f}");
        }
        for (i, t) in legend.tables.iter().enumerate() {
            let _ = writeln!(out, "table #{i} = {t}");
        }
        for l in &legend.labels {
            let _ = writeln!(out, "labels {l}");
        }
        out
    }

    /// `ir::show` of the expression made independent of the rest of the rulebook.
    fn show(&self, e: &Ir, legend: &mut Legend) -> String {
        let mut e = e.clone();
        self.canonical(&mut e, legend, 0);
        let mut text = ir::show(&e);
        let _ = write!(text, " : {}", e.ty);
        text
    }

    /// Expands shared slots and renumbers fields and tables by the legend, in place.
    fn canonical(&self, e: &mut Ir, legend: &mut Legend, depth: usize) {
        if let IrKind::Shared(i) = e.kind {
            // A shared expression never refers to itself; the bound only guards that invariant.
            if let Some(s) = self.program.shared.get(i as usize).filter(|_| depth < 64) {
                *e = s.expr.clone();
                self.canonical(e, legend, depth + 1);
            }
            return;
        }
        let base_ty = match &e.kind {
            IrKind::Field { base, .. } => Some(base.ty.unwrap_optional().clone()),
            _ => None,
        };
        match &mut e.kind {
            IrKind::Field { slot, .. } => {
                let entry = match &base_ty {
                    Some(Ty::Record(rec)) => self.book.records.get(rec).and_then(|r| {
                        r.fields
                            .get(*slot)
                            .map(|f| format!("{rec}.{}: {}", f.name, f.ty))
                    }),
                    Some(Ty::Row(table)) => self.book.tables.get(table).and_then(|t| {
                        t.columns
                            .get(*slot)
                            .map(|c| format!("{table}.{}: {}", c.name, c.ty))
                    }),
                    _ => None,
                };
                if let Some(entry) = entry {
                    *slot = Legend::number(&mut legend.fields, entry);
                }
            }
            IrKind::Prop {
                prop: Prop::Label(codes),
                ..
            } => legend.labels.push(format!("{codes:?}")),
            IrKind::Lookup { table, .. } | IrKind::Rows(table) => {
                *table = self.table_number(*table, legend);
            }
            _ => {}
        }
        for c in e.children_mut() {
            self.canonical(c, legend, depth);
        }
    }

    fn table_number(&self, index: u32, legend: &mut Legend) -> u32 {
        let Some(name) = self.program.tables.get(index as usize) else {
            return index;
        };
        let entry = self
            .tables
            .get(name)
            .cloned()
            .unwrap_or_else(|| format!("table {name}"));
        u32::try_from(Legend::number(&mut legend.tables, entry)).unwrap_or(u32::MAX)
    }
}

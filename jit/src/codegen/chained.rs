//! Loops that walk a chain of the claim's lines sharing a key instead of every line
//! (`line_values::chains` says which loops may and why skipping the other lines is exact).
//!
//! The plan reads the rule's scopes to pick the line the walk starts from; the code does not
//! trust that reading: before the walk it compares the words the keyed conjuncts compare with
//! against that line's own key words, and bails (the interpreter decides the rule) where they
//! differ. So a walk only ever skips lines whose key differs from the compared words.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Block, InstBuilder, MemFlagsData, Value};
use vigil_compiler::ir::{BinOp, Ir, IrKind, Var};
use vigil_runtime::batch::ColumnKind;

use super::conjuncts::flatten;
use super::{Gen, Source, K, R, W};
use crate::line_values::PatientChain;

/// Where a chain walk starts, and what it reads.
#[derive(Clone, Copy)]
pub(super) struct Chained {
    /// The first line's index from the list's first row.
    start: Value,
    /// The planned list (its scratch header).
    list: usize,
    /// Words per line, and the word holding the next line's index.
    stride: usize,
    next: usize,
    /// The level of the list's rows.
    level: usize,
    /// Where the walk ends: at the first index not below this (the number of lines when
    /// None).
    until: Option<Value>,
}

/// A loop's linked chain, as the plan gives it.
struct Planned {
    list: usize,
    stride: usize,
    head: usize,
    next: usize,
    level: usize,
    /// The variable bound to the start line (None for a `distinct`), and per key: the
    /// compared variable, the key's word and its kind.
    outer: Option<Var>,
    keys: Vec<(Var, usize, Option<K>)>,
}

impl Planned {
    /// The walk from line `start`, ending at `until` (the number of lines when None).
    fn walk(&self, start: Value, until: Option<Value>) -> Chained {
        Chained {
            start,
            list: self.list,
            stride: self.stride,
            next: self.next,
            level: self.level,
            until,
        }
    }
}

impl<'a> Gen<'a, '_> {
    /// The linked chain the plan gives loop `node`, if any.
    fn planned(&self, node: &Ir) -> Option<Planned> {
        let (using, list) = self.lines.as_ref()?.chain_of(node)?;
        let chain = list.chains.get(using.chain)?;
        let (head, next) = chain.words?;
        Some(Planned {
            list: using.list,
            stride: list.stride,
            head,
            next,
            level: self.shape.list_level(0, list.slot)?,
            outer: using.outer,
            keys: using
                .vars
                .iter()
                .zip(&chain.keys)
                .map(|(&v, &e)| (v, e, list.entries.get(e).and_then(|e| e.kind)))
                .collect(),
        })
    }

    /// The chain the loop `node` walks, when the plan names one whose keys compiled and the
    /// line it starts from is bound here; checks that the compared variables hold that
    /// line's key words (bails where they do not).
    pub(super) fn chain_start(&mut self, node: &Ir) -> R<Option<Chained>> {
        let Some(p) = self.planned(node) else {
            return Ok(None);
        };
        let Some(row) = p.outer.and_then(|outer| self.bound_row(outer, p.level)) else {
            return Ok(None);
        };
        let mut compared = Vec::with_capacity(p.keys.len());
        for &(var, entry, kind) in &p.keys {
            match self.vars.get(&(self.space, var)) {
                Some(&(_, k)) if Some(k) == kind => {}
                _ => return Ok(None),
            }
            compared.push((self.var(var)?.0, entry));
        }
        let at = self.scratch_row(p.list, row, p.stride);
        let mut differs = self.iconst(0);
        for (v, entry) in compared {
            let own = self.scratch_word(at, entry);
            let ne = self.b.ins().icmp(IntCC::NotEqual, own, v);
            let ne = self.b.ins().uextend(W, ne);
            differs = self.b.ins().bor(differs, ne);
        }
        self.bail_if(differs);
        let start = self.scratch_word(at, p.head);
        Ok(Some(p.walk(start, None)))
    }

    /// The conjuncts of loop `node`'s condition `cond` (over `var`) that every line of its
    /// chain passes: `x == v` (either way round), `x` the line's value the chain is keyed by
    /// and `v` the variable `chain_start` checked holds the start line's key word, known
    /// present (bound by `is some`). A line of the chain has that word, so equal and
    /// present values: the interpreter would find the conjunct true (and it cannot fail).
    pub(super) fn keyed_conjuncts(&self, node: &Ir, var: Var, cond: &Ir) -> Vec<*const Ir> {
        let (Some(p), Some(plan)) = (self.planned(node), self.lines.clone()) else {
            return Vec::new();
        };
        let mut parts = Vec::new();
        flatten(cond, &mut parts);
        let keyed = |x: &Ir, y: &Ir| -> bool {
            let IrKind::Var(v) = y.kind else {
                return false;
            };
            let Some((list, entry, line, _)) = plan.find(x) else {
                return false;
            };
            self.some_vars.contains(&(self.space, v))
                && line == var
                && list == p.list
                && p.keys.iter().any(|&(kv, ke, _)| kv == v && ke == entry)
        };
        parts
            .into_iter()
            .filter(|c| match &c.kind {
                IrKind::Bin(BinOp::Eq, a, b) => keyed(a, b) || keyed(b, a),
                _ => false,
            })
            .map(|c| c as *const Ir)
            .collect()
    }

    /// For `distinct` `node` (`count(distinct(value for x in claim.<list> …))`), on the row
    /// `me` of its list: the walk over the earlier rows with `me`'s value (its chain from
    /// the first such row up to `me`), when the plan names a chain by the value.
    pub(super) fn earlier_with_value(&mut self, node: &Ir, me: Value) -> R<Option<Chained>> {
        let Some(p) = self.planned(node).filter(|p| p.outer.is_none()) else {
            return Ok(None);
        };
        let at = self.scratch_row(p.list, me, p.stride);
        let start = self.scratch_word(at, p.head);
        Ok(Some(p.walk(start, Some(at.index))))
    }

    /// A loop over the lines of a chain from its start, binding each row to `var`; `body`
    /// says (0/1 word) whether to stop early.
    pub(super) fn each_chained(
        &mut self,
        c: Chained,
        var: Var,
        mut body: impl FnMut(&mut Self) -> R<Value>,
    ) -> R<()> {
        let follow = Follow {
            list: c.list,
            stride: c.stride,
            next: c.next,
            start: c.start,
            until: c.until,
        };
        self.follow_chain(follow, |g, line| {
            let row = g.b.ins().iadd(line.first, line.at);
            g.bind(var, row, K::Level(c.level));
            g.loop_rows.insert((g.space, var));
            body(g)
        })
    }

    /// A loop along a chain in a scratch array: from index `f.start` while below `f.until`
    /// (the list's number of rows when None), to the index in word `f.next` of each line's
    /// `f.stride`; `body` binds what the line gives and says (0/1 word) whether to stop; it
    /// may jump to `line.skip` to go on to the next line at once.
    fn follow_chain(
        &mut self,
        f: Follow,
        mut body: impl FnMut(&mut Self, ChainLine) -> R<Value>,
    ) -> R<()> {
        let i = self.b.declare_var(W);
        self.b.def_var(i, f.start);
        let (header, body_block, step, exit) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(header);
        let (_, first, rows) = self.scratch_header(f.list);
        let at = self.b.use_var(i);
        // The chain's indexes are below the number of lines, and that number (or an index
        // below it) ends it: the test that ends the walk keeps every read inside the array.
        let end = f.until.unwrap_or(rows);
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, at, end);
        self.b.ins().brif(more, body_block, &[], exit, &[]);
        self.b.switch_to_block(body_block);
        let line = ChainLine {
            first,
            at,
            skip: step,
        };
        let stop = body(self, line)?;
        self.b.ins().brif(stop, exit, &[], step, &[]);
        self.b.switch_to_block(step);
        // Found here, not before the body: kept across it, the place would be spilled.
        let words = self.scratch_index(f.list, at, f.stride);
        let next = self.scratch_word(words, f.next);
        self.b.def_var(i, next);
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(exit);
        Ok(())
    }
}

/// A chain to follow ([`Gen::follow_chain`]).
#[derive(Clone, Copy)]
struct Follow {
    list: usize,
    stride: usize,
    next: usize,
    start: Value,
    until: Option<Value>,
}

/// One line of a chain being followed.
#[derive(Clone, Copy)]
struct ChainLine {
    /// The list's first row, and the line's index from it.
    first: Value,
    at: Value,
    /// The block that goes on to the next line.
    skip: Block,
}

/// A walk over the lines of the patient's claims that share the key of a line under review
/// (`line_values::PatientChain`).
#[derive(Clone, Copy)]
pub(super) struct HistoryChained {
    /// The first line's index from the patient's first line of the list.
    start: Value,
    /// The chain's place in the scratch header.
    list: usize,
    /// The level of the list's rows.
    level: usize,
    /// The inner loop's variable, bound to each line of the chain.
    lines: Var,
    /// The history's exclusion of the claim's own `setl_id` (its column, the claim's id).
    skip: Option<(usize, Value)>,
}

impl<'a> Gen<'a, '_> {
    /// The patient chain the loop `node` over the history (`src`) walks, when the plan names
    /// one and the line it starts from is bound here, with the condition to test on each line
    /// (the inner loop's body); checks that the compared variable holds that line's field
    /// (bails where it does not).
    pub(super) fn history_chain_start(
        &mut self,
        node: &Ir,
        src: &Source,
    ) -> R<Option<(HistoryChained, &'a Ir)>> {
        let Some(plan) = self.lines.clone() else {
            return Ok(None);
        };
        let (Some((using, list)), Source::Rows(_, skip)) = (plan.history_of(node), src) else {
            return Ok(None);
        };
        let Some(chain) = plan.patients.get(using.chain) else {
            return Ok(None);
        };
        let Some(level) = self.shape.list_level(0, chain.slot) else {
            return Ok(None);
        };
        // The kernel links the lines by the field's interned ids.
        if skip.member.is_some()
            || self.shape.claim_kind(level, chain.field) != Some(ColumnKind::Id)
        {
            return Ok(None);
        }
        let (Some(index), Some(row)) = (
            self.shape.claim_column(level, chain.field),
            self.bound_row(using.line, level),
        ) else {
            return Ok(None);
        };
        if !matches!(self.vars.get(&(self.space, using.code)), Some(&(_, K::Id))) {
            return Ok(None);
        }
        let (code, _) = self.var(using.code)?;
        let col = self.column(index);
        let at = self.b.ins().ishl_imm_u(row, 2);
        let addr = self.b.ins().iadd(col, at);
        let own = self.b.ins().uload32(MemFlagsData::trusted(), addr, 0);
        let differs = self.b.ins().icmp(IntCC::NotEqual, own, code);
        let differs = self.b.ins().uextend(W, differs);
        self.bail_if(differs);
        let at = self.scratch_row(list, row, PatientChain::STRIDE);
        let start = self.scratch_word(at, PatientChain::HEAD);
        let walk = HistoryChained {
            start,
            list,
            level,
            lines: using.lines,
            skip: skip.history,
        };
        Ok(Some((walk, using.body)))
    }

    /// A loop over the lines of a patient chain from its start, binding each line to the
    /// inner loop's variable and its claim to `var` (the claims with the claim's own
    /// `setl_id` left out, as the history leaves them out); `body` says (0/1 word) whether
    /// to stop early.
    pub(super) fn each_history_chained(
        &mut self,
        c: HistoryChained,
        var: Var,
        mut body: impl FnMut(&mut Self) -> R<Value>,
    ) -> R<()> {
        let follow = Follow {
            list: c.list,
            stride: PatientChain::STRIDE,
            next: PatientChain::NEXT,
            start: c.start,
            until: None,
        };
        self.follow_chain(follow, |g, line| {
            let words = g.scratch_index(c.list, line.at, PatientChain::STRIDE);
            let owner = g.scratch_word(words, PatientChain::OWNER);
            if let Some(own) = c.skip {
                g.skip_own_claim(own, owner, line.skip);
            }
            g.bind(var, owner, K::Level(0));
            g.loop_rows.insert((g.space, var));
            let row = g.b.ins().iadd(line.first, line.at);
            g.bind(c.lines, row, K::Level(c.level));
            g.loop_rows.insert((g.space, c.lines));
            body(g)
        })
    }
}

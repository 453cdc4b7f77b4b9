//! The per-line values of [`crate::line_values`] in native code: the function that fills a
//! claim's scratch array, and the loads that read it back where the expression occurs.
//!
//! The scratch header (`Ctx::lines`) holds three words per planned list: the array's
//! address, the claim's first row of that list, and its number of rows. Entry `e` of row
//! `r` is word `(r - first) * entries + e` of the array.

use std::rc::Rc;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value};
use vigil_compiler::ir::{Ir, Program, Var, LINE};

use super::{unsupported, Gen, K, R, W};
use crate::calls;
use crate::line_values::{self, LineValues};

/// Header words per list.
const HEADER: i32 = 3;

/// A row's place in a scratch array ([`Gen::scratch_row`]).
#[derive(Clone, Copy)]
pub(super) struct ScratchRow {
    base: Value,
    /// The index of the row's first word.
    word: Value,
    /// The row's index among the list's rows.
    pub index: Value,
}

impl<'a> Gen<'a, '_> {
    /// Makes the function read the values `plan` lists instead of computing them.
    pub fn read_line_values(&mut self, plan: Rc<LineValues<'a>>) {
        self.lines = Some(plan);
    }

    /// The header words of list `list`: (array address, first row, rows).
    pub(super) fn scratch_header(&mut self, list: usize) -> (Value, Value, Value) {
        // The header and its words do not change while the function runs and are always
        // there to read: loads that may move, so repeated reads merge and leave loops.
        let flags = MemFlagsData::trusted().with_readonly().with_can_move();
        let header = self.b.ins().load(W, flags, self.ctx, calls::LINES_OFFSET);
        let at = |i: i32| i32::try_from(list).unwrap_or(i32::MAX / 32) * HEADER * 8 + i * 8;
        let base = self.b.ins().load(W, flags, header, at(0));
        let first = self.b.ins().load(W, flags, header, at(1));
        let rows = self.b.ins().load(W, flags, header, at(2));
        (base, first, rows)
    }

    /// `ir` read from the scratch array, when it is a planned value and its line is bound
    /// here to a row of its list.
    pub(super) fn line_value(&mut self, ir: &Ir) -> R<Option<(Value, K)>> {
        let Some(plan) = self.lines.clone() else {
            return Ok(None);
        };
        let found = plan.find(ir).or_else(|| {
            let &(list, entry, var) = self.aliases.get(&(ir as *const Ir))?;
            let kind = plan.lists.get(list)?.entries.get(entry)?.kind?;
            Some((list, entry, var, kind))
        });
        let Some((list, entry, var, kind)) = found else {
            return Ok(None);
        };
        let Some(level) = plan
            .lists
            .get(list)
            .and_then(|l| self.shape.list_level(0, l.slot))
        else {
            return Ok(None);
        };
        let Some(row) = self.bound_row(var, level) else {
            return Ok(None);
        };
        let at = self.scratch_row(list, row, plan.lists[list].stride);
        Ok(Some((self.scratch_word(at, entry), kind)))
    }

    /// The row `var` is bound to here when it is a row of claim level `level` (the line of a
    /// line rule included).
    pub(super) fn bound_row(&mut self, var: Var, level: usize) -> Option<Value> {
        match self.vars.get(&(self.space, var)).copied() {
            Some((slot, K::Level(l))) if l == level => Some(self.b.use_var(slot)),
            Some(_) => None,
            None if var == LINE && self.line_level == Some(level) => Some(self.line),
            None => None,
        }
    }

    /// Where row `row`'s words are in list `list`'s scratch array (`stride` words a row):
    /// (the array's address, the index of its first word, its index among the list's rows).
    pub(super) fn scratch_row(&mut self, list: usize, row: Value, stride: usize) -> ScratchRow {
        if row == self.line {
            let found = self
                .line_rows
                .iter()
                .find(|(l, s, _)| *l == list && *s == stride);
            if let Some(&(_, _, at)) = found {
                return at;
            }
        }
        let (_, first, rows) = self.scratch_header(list);
        // The row is one of the claim's by construction; a row outside would read outside
        // the array, so it is checked (and bails) all the same.
        let index = self.b.ins().isub(row, first);
        let outside = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, rows);
        let outside = self.b.ins().uextend(W, outside);
        self.bail_if(outside);
        self.scratch_index(list, index, stride)
    }

    /// At the top of a line group's loop body, on line `row`: finds the line's words in each
    /// planned list of its level that has values (the kernel fills those for every claim), so
    /// that every read of the line's values below reuses them.
    pub(super) fn find_line_rows(&mut self, row: Value) {
        self.line_rows.clear();
        let Some(plan) = self.lines.clone() else {
            return;
        };
        for (l, list) in plan.lists.iter().enumerate() {
            let filled = list.entries.iter().any(|e| e.kind.is_some());
            if filled && self.shape.list_level(0, list.slot) == self.line_level {
                let at = self.scratch_row(l, row, list.stride);
                self.line_rows.push((l, list.stride, at));
            }
        }
    }

    /// As [`Gen::scratch_row`], for an index (from the list's first row) already known to be
    /// below the list's number of rows.
    pub(super) fn scratch_index(&mut self, list: usize, index: Value, stride: usize) -> ScratchRow {
        let (base, _, _) = self.scratch_header(list);
        let word = self.b.ins().imul_imm_s(index, stride as i64);
        ScratchRow { base, word, index }
    }

    /// Word `k` of a row's words.
    pub(super) fn scratch_word(&mut self, at: ScratchRow, k: usize) -> Value {
        let word = self.b.ins().iadd_imm_s(at.word, k as i64);
        let offset = self.b.ins().ishl_imm_u(word, 3);
        let addr = self.b.ins().iadd(at.base, offset);
        self.b.ins().load(W, MemFlagsData::trusted(), addr, 0)
    }

    /// Lets the copy of an expression (a `groups(…)` definition keeps one) read the values
    /// its original occurrences read.
    pub(super) fn alias_line_values(&mut self, original: &Ir, copy: &Ir) {
        let Some(plan) = self.lines.clone() else {
            return;
        };
        let mut stack = vec![(original, copy)];
        while let Some((o, c)) = stack.pop() {
            if let Some(&hit) = plan.at_of(o) {
                self.aliases.insert(c as *const Ir, hit);
                continue;
            }
            stack.extend(o.children().into_iter().zip(c.children()));
        }
    }

    /// The body of a prepare function `fn(ctx, claim, _) -> 0, or 1 when it bailed`: for
    /// every row of the claim's list `list` (slot `slot`), each expression with its line
    /// variable bound to the row, stored in the scratch array (`stride` words per row, the
    /// entries first). Gives each one's kind.
    pub fn prepare(
        &mut self,
        list: usize,
        slot: usize,
        entries: &[Option<(Var, &Ir)>],
        stride: usize,
    ) -> R<Vec<Option<K>>> {
        let Some(level) = self.shape.list_level(0, slot) else {
            return unsupported("a list that is not laid out");
        };
        let bailed = self.b.create_block();
        self.bail = bailed;
        let (base, first, rows) = self.scratch_header(list);
        let end = self.b.ins().iadd(first, rows);
        let mut kinds = vec![None; entries.len()];
        let n = stride.max(entries.len()) as i64;
        let range = (first, end, K::Level(level), None);
        // Each entry in a space of its own, as the rules' variables are apart from each other.
        let mut failure = None;
        // An entry that contains an earlier one (the catalogue row by the line's code and
        // event date, after the code and the date) reuses its value for the row.
        let program = self.program;
        let keys: Vec<Option<String>> = entries
            .iter()
            .map(|e| e.map(|(var, expr)| line_values::key(program, expr, var)))
            .collect();
        let earlier: Vec<Vec<(*const Ir, usize)>> = entries
            .iter()
            .enumerate()
            .map(|(e, entry)| match entry {
                Some((var, expr)) => contained(program, expr, *var, &keys[..e]),
                None => Vec::new(),
            })
            .collect();
        self.each_row(range, Default::default(), Var::MAX, |g, row| {
            let i = g.b.ins().isub(row, first);
            let at = g.b.ins().imul_imm_s(i, n);
            let mut values: Vec<Option<(Value, K)>> = vec![None; entries.len()];
            for (e, entry) in entries.iter().enumerate() {
                // A value left out keeps its place in the array, unread.
                let Some((var, expr)) = entry else {
                    continue;
                };
                g.computed = earlier[e]
                    .iter()
                    .filter_map(|&(at, before)| Some((at, values.get(before).copied().flatten()?)))
                    .collect();
                let space = u32::MAX / 2 + e as u32;
                let r = g.in_space(space, |g| {
                    g.bind(*var, row, K::Level(level));
                    g.expr(expr)
                });
                let (v, k) = match r {
                    Ok(x) => x,
                    Err(why) => {
                        failure = Some(why);
                        return Ok(g.iconst(1));
                    }
                };
                if !matches!(
                    k,
                    K::Bool
                        | K::Int
                        | K::Dec(_)
                        | K::Date
                        | K::DateTime
                        | K::Id
                        | K::Table(_)
                        | K::Cat
                ) {
                    failure = Some(super::Unsupported(format!("a line value of kind {k:?}")));
                    return Ok(g.iconst(1));
                }
                kinds[e] = Some(k);
                values[e] = Some((v, k));
                let word = g.b.ins().iadd_imm_s(at, e as i64);
                let offset = g.b.ins().ishl_imm_u(word, 3);
                let addr = g.b.ins().iadd(base, offset);
                g.b.ins().store(MemFlagsData::trusted(), v, addr, 0);
            }
            Ok(g.iconst(0))
        })?;
        self.computed.clear();
        if let Some(why) = failure {
            return Err(why);
        }
        let zero = self.iconst(0);
        self.b.ins().return_(&[zero]);
        self.b.switch_to_block(bailed);
        let one = self.iconst(1);
        self.b.ins().return_(&[one]);
        self.b.seal_all_blocks();
        Ok(kinds)
    }
}

/// The outermost sub-expressions of `expr` (over line variable `var`) that are one of the
/// values `before` (by key), with the value's index. `expr` itself is not its own.
fn contained(
    program: &Program,
    expr: &Ir,
    var: Var,
    before: &[Option<String>],
) -> Vec<(*const Ir, usize)> {
    let mut found = Vec::new();
    if before.iter().all(Option::is_none) {
        return found;
    }
    let mut stack: Vec<&Ir> = expr.children();
    while let Some(ir) = stack.pop() {
        let key = line_values::key(program, ir, var);
        match before
            .iter()
            .position(|b| b.as_deref() == Some(key.as_str()))
        {
            Some(i) => found.push((ir as *const Ir, i)),
            None => stack.extend(ir.children()),
        }
    }
    found
}

//! The columnar batch holds exactly what the records hold: every scalar cell of the sample
//! claims, at every level, reads back as the value the reader produced.

use std::path::Path;
use std::sync::Arc;

use vigil_runtime::batch::{Batch, Column, ColumnKind, Interner};
use vigil_runtime::claims::{ClaimLayout, RecordLayout};
use vigil_runtime::engine::read_claims;
use vigil_runtime::value::{Record, Value};

fn check_level(
    batch: &Batch,
    layout: &ClaimLayout,
    record: &RecordLayout,
    level: usize,
    rows: &[&Record],
) -> usize {
    let mut cells = 0;
    assert_eq!(batch.levels[level].rows, rows.len());
    for (slot, field) in record.fields().iter().enumerate() {
        let kind = ColumnKind::of(field.ty());
        match &batch.levels[level].columns[slot] {
            Column::List {
                offsets,
                level: below,
            } => {
                let element = layout
                    .record_of(field)
                    .expect("a list column has an element record");
                let mut items = Vec::new();
                for (row, r) in rows.iter().enumerate() {
                    let list: Vec<&Record> = match r.get(slot) {
                        Value::List(l) => l
                            .iter()
                            .filter_map(|v| match v {
                                Value::Record(x) => Some(&**x),
                                _ => None,
                            })
                            .collect(),
                        _ => vec![],
                    };
                    assert_eq!(
                        (offsets[row + 1] - offsets[row]) as usize,
                        list.len(),
                        "{} of row {row}",
                        field.name()
                    );
                    items.extend(list);
                }
                cells += check_level(batch, layout, element, *below, &items);
            }
            Column::None => {}
            _ => {
                for (row, r) in rows.iter().enumerate() {
                    let want = r.get(slot).clone();
                    let got = batch.value(level, slot, row, kind);
                    // Every sample value fits the fixed layout; an UNFIT cell would read back None.
                    let want = match (&want, kind) {
                        (Value::DateTime(t), ColumnKind::Date) => Value::Date(t.date()),
                        _ => want,
                    };
                    assert_eq!(
                        got.as_ref(),
                        Some(&want),
                        "{}.{} row {row}",
                        record.name(),
                        field.name()
                    );
                    cells += 1;
                }
            }
        }
    }
    cells
}

#[test]
fn every_sample_cell_reads_back_exactly() {
    let book = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national");
    let loaded = vigil_compiler::load_rulebook(&book).expect("the national rulebook loads");
    let layout = ClaimLayout::new(&loaded.rulebook).expect("its schema lays out");
    let (claims, rejected, _) =
        read_claims(&layout, &book.join("samples/claims.jsonl")).expect("samples read");
    assert!(rejected.is_empty());
    let claims: Vec<Arc<Record>> = claims.into_iter().map(Arc::new).collect();
    let batch = Batch::new(&layout, &claims, &Interner::default());
    let rows: Vec<&Record> = claims.iter().map(|c| &**c).collect();
    let cells = check_level(&batch, &layout, layout.claim(), 0, &rows);
    assert!(
        cells > 100_000,
        "the samples have many cells, checked {cells}"
    );
    let fee_list = layout
        .claim()
        .slot("fee_list")
        .expect("claims have fee_list");
    let lines = batch.list_level(0, fee_list).expect("fee_list is laid out");
    assert!(batch.levels[lines].rows > 10_000);
}

//! Shared inputs of the benchmarks: the national rulebook's files, read once.

use std::path::{Path, PathBuf};

pub mod baseline;
pub mod gen;

/// The national rulebook folder of this repository.
pub fn national_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rulebooks/cn-national")
}

/// Every `.vigil` file of the national rulebook with its text.
pub fn national_texts() -> Vec<(PathBuf, String)> {
    let root = national_root();
    let files = vigil_compiler::load::vigil_files(&root).unwrap_or_default();
    files
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
        .collect()
}

/// One batch of the run's claims and their history laid out by patient (each patient's claims
/// oldest first, as the engine's history index orders them: by `begndate`, then `setl_id` in
/// serial order), and per row whether it is one of `claims` (the rest are context).
pub fn patient_batch(
    layout: &vigil_runtime::claims::ClaimLayout,
    claims: &[std::sync::Arc<vigil_compiler::value::Record>],
    history: &[std::sync::Arc<vigil_compiler::value::Record>],
    strings: &vigil_runtime::batch::Interner,
) -> (vigil_runtime::batch::Batch, Vec<bool>) {
    use std::sync::Arc;
    use vigil_compiler::interp::sorts_before;
    use vigil_compiler::value::Record;
    let psn_no = layout.psn_no();
    let setl_id = layout.setl_id();
    let begndate = layout.claim().slot("begndate");
    let mut patients: std::collections::BTreeMap<String, Vec<(Arc<Record>, bool)>> =
        Default::default();
    for (c, own) in claims
        .iter()
        .map(|c| (c, true))
        .chain(history.iter().map(|c| (c, false)))
    {
        patients
            .entry(c.get(psn_no).to_string())
            .or_default()
            .push((c.clone(), own));
    }
    let mut groups: Vec<Vec<Arc<Record>>> = Vec::with_capacity(patients.len());
    let mut own = Vec::with_capacity(claims.len() + history.len());
    for (_, mut list) in patients {
        list.sort_by(|(a, _), (b, _)| {
            let date = |c: &Record| begndate.map(|s| c.get(s).clone());
            date(a).cmp(&date(b)).then_with(|| {
                let (x, y) = (a.get(setl_id).to_string(), b.get(setl_id).to_string());
                sorts_before(&y, &x).cmp(&sorts_before(&x, &y))
            })
        });
        own.extend(list.iter().map(|(_, o)| *o));
        groups.push(list.into_iter().map(|(c, _)| c).collect());
    }
    let slices: Vec<&[Arc<Record>]> = groups.iter().map(Vec::as_slice).collect();
    (
        vigil_runtime::batch::Batch::by_patient(layout, &slices, strings),
        own,
    )
}

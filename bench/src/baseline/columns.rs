//! The batch columns the 23 national rules read, found once per run by slot and checked for
//! length, so the per-claim loops index plain slices.

use vigil_runtime::batch::{Batch, Column};
use vigil_runtime::claims::ClaimLayout;

use super::BaselineError;

/// Slots of the fields the rules read, resolved from the claim schema once.
#[derive(Debug, Clone)]
pub(super) struct Slots {
    claim: [usize; CLAIM_FIELDS.len()],
    diseinfo: usize,
    fee_list: usize,
    diag_code: usize,
    line: [usize; LINE_FIELDS.len()],
}

/// Claim fields read, in the order of [`ClaimColumns`]' fields.
const CLAIM_FIELDS: [&str; 13] = [
    "setl_id",
    "psn_no",
    "gend",
    "med_type",
    "fixmedins_code",
    "dscg_maindiag_code",
    "dscg_way",
    "brdy",
    "begndate",
    "enddate",
    "setl_time",
    "medfee_sumamt",
    "fund_pay_sumamt",
];

/// Fee-line fields read, in the order of [`LineColumns`]' fields.
const LINE_FIELDS: [&str; 13] = [
    "feedetl_sn",
    "rx_drord_no",
    "hilist_code",
    "list_type",
    "med_chrgitm_type",
    "chrgitm_lv",
    "dscg_tkdrug_flag",
    "fee_ocur_time",
    "cnt",
    "pric",
    "det_item_fee_sumamt",
    "pric_uplmt_amt",
    "prd_days",
];

impl Slots {
    /// The slots of every field the rules read; an error names a field the schema lacks.
    pub(super) fn new(layout: &ClaimLayout) -> Result<Slots, BaselineError> {
        let claim = layout.claim();
        let slot = |name: &'static str| claim.slot(name).ok_or(BaselineError::MissingField(name));
        let mut claim_slots = [0; CLAIM_FIELDS.len()];
        for (s, name) in claim_slots.iter_mut().zip(CLAIM_FIELDS) {
            *s = slot(name)?;
        }
        let line = layout
            .record("fee_line")
            .ok_or(BaselineError::MissingField("fee_list"))?;
        let mut line_slots = [0; LINE_FIELDS.len()];
        for (s, name) in line_slots.iter_mut().zip(LINE_FIELDS) {
            *s = line.slot(name).ok_or(BaselineError::MissingField(name))?;
        }
        let diag_code = layout
            .record("diagnosis")
            .and_then(|r| r.slot("diag_code"))
            .ok_or(BaselineError::MissingField("diag_code"))?;
        Ok(Slots {
            claim: claim_slots,
            diseinfo: slot("diseinfo")?,
            fee_list: slot("fee_list")?,
            diag_code,
            line: line_slots,
        })
    }
}

/// Claim-level columns (level 0 of the batch).
pub(super) struct ClaimColumns<'b> {
    pub rows: usize,
    pub setl_id: &'b [u32],
    pub psn_no: &'b [u32],
    pub gend: &'b [u32],
    pub med_type: &'b [u32],
    pub fixmedins_code: &'b [u32],
    pub main_dx: &'b [u32],
    pub dscg_way: &'b [u32],
    pub brdy: &'b [i64],
    pub begndate: &'b [i64],
    pub enddate: &'b [i64],
    pub setl_time: &'b [i64],
    pub medfee_sumamt: &'b [i64],
    pub fund_pay_sumamt: &'b [i64],
    /// `diseinfo` of claim `c` is `diag_code[dx_offsets[c]..dx_offsets[c + 1]]`.
    pub dx_offsets: &'b [u32],
    pub diag_code: &'b [u32],
    /// Fee lines of claim `c` are rows `line_offsets[c]..line_offsets[c + 1]` of [`LineColumns`].
    pub line_offsets: &'b [u32],
}

/// Fee-line columns (the level below `fee_list`).
pub(super) struct LineColumns<'b> {
    pub feedetl_sn: &'b [u32],
    pub rx_drord_no: &'b [u32],
    pub hilist_code: &'b [u32],
    pub list_type: &'b [u32],
    pub med_chrgitm_type: &'b [u32],
    pub chrgitm_lv: &'b [u32],
    pub dscg_tkdrug_flag: &'b [u32],
    pub fee_ocur_time: &'b [i64],
    pub cnt: &'b [i64],
    pub pric: &'b [i64],
    pub det_item_fee_sumamt: &'b [i64],
    pub pric_uplmt_amt: &'b [i64],
    pub prd_days: &'b [i64],
}

/// The columns of `batch`, every one checked to hold a value per row of its level and every
/// list's offsets to be ascending and inside the level below: after this, indexing by a claim
/// row, or by a line row taken from the offsets, cannot go out of bounds.
pub(super) fn columns<'b>(
    batch: &'b Batch,
    slots: &Slots,
) -> Result<(ClaimColumns<'b>, LineColumns<'b>), BaselineError> {
    let claims = batch
        .levels
        .first()
        .ok_or(BaselineError::Layout("claims"))?;
    let rows = claims.rows;
    let ids = |level: usize, slot: usize, name: &'static str, len: usize| match batch
        .levels
        .get(level)
        .and_then(|l| l.columns.get(slot))
    {
        Some(Column::Ids(v)) if v.len() == len => Ok(&v[..]),
        _ => Err(BaselineError::Layout(name)),
    };
    let words = |level: usize, slot: usize, name: &'static str, len: usize| match batch
        .levels
        .get(level)
        .and_then(|l| l.columns.get(slot))
    {
        Some(Column::Words(v)) if v.len() == len => Ok(&v[..]),
        _ => Err(BaselineError::Layout(name)),
    };
    let list = |slot: usize, name: &'static str| match claims.columns.get(slot) {
        Some(Column::List { offsets, level }) => {
            let below = batch
                .levels
                .get(*level)
                .ok_or(BaselineError::Layout(name))?
                .rows;
            let ascending = offsets.windows(2).all(|w| w[0] <= w[1]);
            let fits = offsets.last().is_some_and(|&end| end as usize <= below);
            if offsets.len() == rows + 1 && ascending && fits {
                Ok((&offsets[..], *level, below))
            } else {
                Err(BaselineError::Layout(name))
            }
        }
        _ => Err(BaselineError::Layout(name)),
    };
    let c = &slots.claim;
    let (dx_offsets, dx_level, dx_rows) = list(slots.diseinfo, "diseinfo")?;
    let (line_offsets, line_level, line_rows) = list(slots.fee_list, "fee_list")?;
    let claim = ClaimColumns {
        rows,
        setl_id: ids(0, c[0], CLAIM_FIELDS[0], rows)?,
        psn_no: ids(0, c[1], CLAIM_FIELDS[1], rows)?,
        gend: ids(0, c[2], CLAIM_FIELDS[2], rows)?,
        med_type: ids(0, c[3], CLAIM_FIELDS[3], rows)?,
        fixmedins_code: ids(0, c[4], CLAIM_FIELDS[4], rows)?,
        main_dx: ids(0, c[5], CLAIM_FIELDS[5], rows)?,
        dscg_way: ids(0, c[6], CLAIM_FIELDS[6], rows)?,
        brdy: words(0, c[7], CLAIM_FIELDS[7], rows)?,
        begndate: words(0, c[8], CLAIM_FIELDS[8], rows)?,
        enddate: words(0, c[9], CLAIM_FIELDS[9], rows)?,
        setl_time: words(0, c[10], CLAIM_FIELDS[10], rows)?,
        medfee_sumamt: words(0, c[11], CLAIM_FIELDS[11], rows)?,
        fund_pay_sumamt: words(0, c[12], CLAIM_FIELDS[12], rows)?,
        dx_offsets,
        diag_code: ids(dx_level, slots.diag_code, "diag_code", dx_rows)?,
        line_offsets,
    };
    let l = &slots.line;
    let n = line_rows;
    let line = LineColumns {
        feedetl_sn: ids(line_level, l[0], LINE_FIELDS[0], n)?,
        rx_drord_no: ids(line_level, l[1], LINE_FIELDS[1], n)?,
        hilist_code: ids(line_level, l[2], LINE_FIELDS[2], n)?,
        list_type: ids(line_level, l[3], LINE_FIELDS[3], n)?,
        med_chrgitm_type: ids(line_level, l[4], LINE_FIELDS[4], n)?,
        chrgitm_lv: ids(line_level, l[5], LINE_FIELDS[5], n)?,
        dscg_tkdrug_flag: ids(line_level, l[6], LINE_FIELDS[6], n)?,
        fee_ocur_time: words(line_level, l[7], LINE_FIELDS[7], n)?,
        cnt: words(line_level, l[8], LINE_FIELDS[8], n)?,
        pric: words(line_level, l[9], LINE_FIELDS[9], n)?,
        det_item_fee_sumamt: words(line_level, l[10], LINE_FIELDS[10], n)?,
        pric_uplmt_amt: words(line_level, l[11], LINE_FIELDS[11], n)?,
        prd_days: words(line_level, l[12], LINE_FIELDS[12], n)?,
    };
    Ok((claim, line))
}

//! The report as one HTML page: the template, stylesheet and script of `cli/assets/report/`
//! with the sections filled in. Every string from the data goes through [`escape`]; the page's
//! Content-Security-Policy lets only its own script run and forbids every fetch, so it works
//! offline and a finding's text can never become markup.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};
use vigil_compiler::model::Scope;
use vigil_runtime::findings::{cents, cents_text, Finding};

use super::claim_keys::ClaimKeys;
use super::svg::{bar_chart, Bar};
use super::tally::{Bucket, Tally};

const TEMPLATE: &str = include_str!("../../../assets/report/page.html");
const STYLE: &str = include_str!("../../../assets/report/report.css");
const SCRIPT: &str = include_str!("../../../assets/report/report.js");

/// What the page says about its input, beside the numbers.
pub struct PageInput<'a> {
    /// The findings file's name as given.
    pub findings_name: &'a str,
    /// `JSON Lines` or `CSV`.
    pub findings_format: &'a str,
    /// The claims file's name, if given.
    pub claims_name: Option<&'a str>,
    /// The findings, in file order.
    pub findings: &'a [Finding],
    /// The claims file's keys, if given.
    pub keys: Option<&'a ClaimKeys>,
    /// Everything counted.
    pub tally: &'a Tally,
    /// How many providers the chart shows.
    pub top: usize,
}

/// Text made safe for HTML and SVG, in element content and in quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The whole page.
pub fn render(input: &PageInput<'_>) -> String {
    // The title names the file; the header below gives its whole path.
    let short = std::path::Path::new(input.findings_name)
        .file_name()
        .map_or_else(|| input.findings_name.into(), |n| n.to_string_lossy());
    let title = format!("Vigil audit report: {short}");
    let mut body = String::new();
    body.push_str(&header(input, &title));
    body.push_str(&totals_section(input.tally));
    body.push_str(&rules_section(input.tally));
    body.push_str(&providers_section(input.tally, input.top));
    body.push_str(&months_section(input.tally));
    body.push_str(&overlap_section(input.tally));
    if let Some(keys) = input.keys {
        body.push_str(&rejected_section(keys));
    }
    body.push_str(&findings_section(input));
    let script_hash = format!("sha256-{}", base64(&Sha256::digest(SCRIPT.as_bytes())));
    fill(
        TEMPLATE,
        &[
            ("title", &escape(&title)),
            ("style", STYLE),
            ("script_hash", &script_hash),
            ("body", &body),
            ("script", SCRIPT),
        ],
    )
}

/// The template with each `{{name}}` replaced. The template is scanned once, so a value that
/// itself holds `{{…}}` is never expanded.
fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out =
        String::with_capacity(template.len() + vars.iter().map(|v| v.1.len()).sum::<usize>());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = &after[..end];
                match vars.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Standard base64 with padding (RFC 4648), for the script's hash in the page's policy.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An integer with thousands separators.
fn grouped(digits: &str) -> String {
    let (sign, digits) = match digits.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", digits),
    };
    let mut out = String::from(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Hundredths as shown: `12,345.67`.
fn yuan(c: i128) -> String {
    let plain = cents_text(c);
    match plain.split_once('.') {
        Some((int, frac)) => format!("{}.{frac}", grouped(int)),
        None => plain,
    }
}

/// A count as shown: `2,758`.
fn count(n: u64) -> String {
    grouped(&n.to_string())
}

/// `part` of `whole` as a percentage with one decimal, rounded half up; `–` when whole is 0.
fn share(part: i128, whole: i128) -> String {
    if whole <= 0 || part < 0 {
        return "–".to_string();
    }
    match part.checked_mul(1000) {
        Some(p) => {
            let tenths = (p + whole / 2) / whole;
            format!("{}.{}%", tenths / 10, tenths % 10)
        }
        None => "–".to_string(),
    }
}

/// One figure of the totals: `key` names it for scripts and tests (`data-total`), `value` is
/// the plain number (`data-value`), `shown` what a reader sees.
fn card(out: &mut String, label: &str, key: &str, value: &str, shown: &str, note: &str) {
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "<div class=\"card\"><dt>{label}</dt><dd data-total=\"{key}\" data-value=\"{}\">{}</dd>",
        escape(value),
        escape(shown)
    );
    if !note.is_empty() {
        let _ = write!(out, "<p class=\"sub\">{}</p>", escape(note));
    }
    out.push_str("</div>\n");
}

fn header(input: &PageInput<'_>, title: &str) -> String {
    let mut s = format!("<header><h1>{}</h1><dl class=\"meta\">", escape(title));
    let _ = write!(
        s,
        "<dt>Findings file</dt><dd>{} ({})</dd>",
        escape(input.findings_name),
        escape(input.findings_format)
    );
    let _ = write!(
        s,
        "<dt>Claims file</dt><dd>{}</dd>",
        match input.claims_name {
            Some(n) => escape(n),
            None => "not given: claim counts and the months of claim and line findings are unknown"
                .to_string(),
        }
    );
    let books: Vec<String> = input.tally.rulebooks.iter().map(|b| escape(b)).collect();
    let _ = write!(
        s,
        "<dt>Rulebook</dt><dd>{}</dd></dl>",
        if books.is_empty() {
            "–".to_string()
        } else {
            books.join("<br>")
        }
    );
    s.push_str(
        "<nav><a href=\"#totals\">Totals</a> <a href=\"#rules\">By rule</a> \
         <a href=\"#providers\">By provider</a> <a href=\"#months\">By month</a> \
         <a href=\"#overlap\">Overlap</a> <a href=\"#findings\">Findings</a></nav></header>\n",
    );
    s
}

fn totals_section(t: &Tally) -> String {
    let mut s = String::from("<section id=\"totals\"><h2>Totals 总计</h2>\n<dl class=\"cards\">\n");
    match &t.claims {
        Some(c) => {
            card(
                &mut s,
                "Claims 结算",
                "claims",
                &c.claims.to_string(),
                &count(c.claims),
                "",
            );
            card(
                &mut s,
                "Fee lines 费用明细",
                "lines",
                &c.lines.to_string(),
                &count(c.lines),
                "",
            );
            card(
                &mut s,
                "Rejected claim records",
                "rejected",
                &c.rejected.to_string(),
                &count(c.rejected),
                "lines of the claims file that are not claims",
            );
            card(
                &mut s,
                "Billed 医疗费总额",
                "medfee",
                &cents_text(c.medfee_cents),
                &yuan(c.medfee_cents),
                "sum of medfee_sumamt",
            );
        }
        None => {
            for (label, key) in [("Claims 结算", "claims"), ("Fee lines 费用明细", "lines")] {
                card(
                    &mut s,
                    label,
                    key,
                    "unknown",
                    "unknown",
                    "no claims file given",
                );
            }
        }
    }
    card(
        &mut s,
        "Findings 违规",
        "findings",
        &t.total.findings.to_string(),
        &count(t.total.findings),
        "",
    );
    let amount_note = match &t.claims {
        Some(c) if c.medfee_cents > 0 => {
            format!("{} of billed", share(t.total.cents, c.medfee_cents))
        }
        _ => String::new(),
    };
    card(
        &mut s,
        "Amount 违规金额",
        "amount",
        &cents_text(t.total.cents),
        &yuan(t.total.cents),
        &amount_note,
    );
    let claims_note = match &t.claims {
        Some(c) => format!(
            "{} of claims",
            share(i128::from(c.flagged_known), i128::from(c.claims))
        ),
        None => String::new(),
    };
    card(
        &mut s,
        "Flagged claims",
        "flagged-claims",
        &t.flagged_claims.to_string(),
        &count(t.flagged_claims),
        &claims_note,
    );
    let lines_note = match &t.claims {
        Some(c) => format!(
            "{} of fee lines",
            share(i128::from(t.flagged_lines), i128::from(c.lines))
        ),
        None => String::new(),
    };
    card(
        &mut s,
        "Flagged fee lines",
        "flagged-lines",
        &t.flagged_lines.to_string(),
        &count(t.flagged_lines),
        &lines_note,
    );
    let providers = t.by_provider.len() as u64;
    card(
        &mut s,
        "Providers with findings",
        "providers",
        &providers.to_string(),
        &count(providers),
        "",
    );
    let double = cents(t.overlaps.double_counted);
    card(
        &mut s,
        "Counted twice 重复计算",
        "double-counted",
        &cents_text(double),
        &yuan(double),
        &format!(
            "on {} lines or claims flagged by two or more rules",
            count(t.overlaps.places)
        ),
    );
    let net = t.total.cents - double;
    card(
        &mut s,
        "Amount, each yuan once",
        "amount-net",
        &cents_text(net),
        &yuan(net),
        "amount minus what is counted twice",
    );
    s.push_str("</dl>\n");
    s.push_str("<table class=\"small\"><thead><tr><th>By scope</th><th class=\"num\">Findings</th><th class=\"num\">Amount</th></tr></thead><tbody>\n");
    for scope in [Scope::Claim, Scope::Line, Scope::Provider] {
        let b = t.by_scope.get(&scope).copied().unwrap_or_default();
        bucket_row(&mut s, scope.as_str(), &b, "scope");
    }
    s.push_str("</tbody></table>");
    s.push_str("<table class=\"small\"><thead><tr><th>By severity</th><th class=\"num\">Findings</th><th class=\"num\">Amount</th></tr></thead><tbody>\n");
    for sev in ["block", "warn", "info"] {
        let b = t.by_severity.get(sev).copied().unwrap_or_default();
        bucket_row(&mut s, sev, &b, "severity");
    }
    s.push_str("</tbody></table>\n");
    if let Some(c) = &t.claims {
        if c.findings_unmatched > 0 {
            let _ = write!(
                s,
                "<p class=\"warn\">{} findings name a claim that is not in the claims file.</p>",
                count(c.findings_unmatched)
            );
        }
    }
    s.push_str("</section>\n");
    s
}

fn bucket_row(s: &mut String, label: &str, b: &Bucket, kind: &str) {
    let _ = writeln!(
        s,
        "<tr data-{kind}=\"{0}\"><td>{0}</td><td class=\"num\" data-findings=\"{1}\">{2}</td>\
         <td class=\"num\" data-amount=\"{3}\">{4}</td></tr>",
        escape(label),
        b.findings,
        count(b.findings),
        cents_text(b.cents),
        yuan(b.cents)
    );
}

fn rules_section(t: &Tally) -> String {
    let mut rules: Vec<_> = t.by_rule.iter().collect();
    rules.sort_by(|a, b| {
        b.1.bucket
            .cents
            .cmp(&a.1.bucket.cents)
            .then_with(|| b.1.bucket.findings.cmp(&a.1.bucket.findings))
            .then_with(|| a.0.cmp(b.0))
    });
    let amount_bars: Vec<Bar> = rules
        .iter()
        .map(|(id, r)| Bar {
            label: format!("{id} {}", r.name),
            value: r.bucket.cents,
            shown: yuan(r.bucket.cents),
        })
        .collect();
    let mut by_count = rules.clone();
    by_count.sort_by(|a, b| {
        b.1.bucket
            .findings
            .cmp(&a.1.bucket.findings)
            .then_with(|| a.0.cmp(b.0))
    });
    let count_bars: Vec<Bar> = by_count
        .iter()
        .map(|(id, r)| Bar {
            label: format!("{id} {}", r.name),
            value: i128::from(r.bucket.findings),
            shown: count(r.bucket.findings),
        })
        .collect();
    let mut s = String::from("<section id=\"rules\"><h2>By rule 按规则</h2>");
    let _ = write!(
        s,
        "<div class=\"charts\"><figure><figcaption>Amount by rule</figcaption>{}</figure>\
         <figure><figcaption>Findings by rule</figcaption>{}</figure></div>",
        bar_chart("Amount by rule", &amount_bars),
        bar_chart("Findings by rule", &count_bars)
    );
    s.push_str(
        "<table><thead><tr><th>Rule</th><th>Name</th><th>Scope</th><th>Severity</th>\
         <th class=\"num\">Findings</th><th class=\"num\">Amount</th><th class=\"num\">Share</th>\
         <th>Basis 依据</th></tr></thead><tbody>",
    );
    for (id, r) in &rules {
        let _ = write!(
            s,
            "<tr data-rule=\"{}\"><td class=\"id\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\" data-findings=\"{}\">{}</td><td class=\"num\" data-amount=\"{}\">{}</td>\
             <td class=\"num\">{}</td><td class=\"basis\">{}</td></tr>",
            escape(id),
            escape(id),
            escape(&r.name),
            r.scope.as_str(),
            r.severity.as_str(),
            r.bucket.findings,
            count(r.bucket.findings),
            cents_text(r.bucket.cents),
            yuan(r.bucket.cents),
            share(r.bucket.cents, t.total.cents),
            escape(&r.basis)
        );
    }
    s.push_str("</tbody></table></section>\n");
    s
}

fn providers_section(t: &Tally, top: usize) -> String {
    let providers = t.providers_by_amount();
    let bars: Vec<Bar> = providers
        .iter()
        .take(top)
        .map(|(code, p)| Bar {
            label: code.to_string(),
            value: p.bucket.cents,
            shown: format!(
                "{} ({} findings)",
                yuan(p.bucket.cents),
                count(p.bucket.findings)
            ),
        })
        .collect();
    let mut s = String::from("<section id=\"providers\"><h2>By provider 按定点医药机构</h2>");
    let _ = write!(
        s,
        "<figure><figcaption>Top {} providers by amount</figcaption>{}</figure>",
        bars.len(),
        bar_chart("Top providers by amount", &bars)
    );
    s.push_str(
        "<table><thead><tr><th class=\"num\">Rank</th><th>Provider</th><th class=\"num\">Findings</th>\
         <th class=\"num\">Amount</th><th class=\"num\">Share</th><th class=\"num\">Flagged claims</th>\
         <th class=\"num\">Claims</th><th class=\"num\">Flagged share</th></tr></thead><tbody>",
    );
    for (rank, (code, p)) in providers.iter().enumerate() {
        let (claims, flagged_share) = match p.claims {
            Some(n) => (count(n), share(i128::from(p.flagged_claims), i128::from(n))),
            None => ("unknown".to_string(), "–".to_string()),
        };
        let _ = write!(
            s,
            "<tr data-provider=\"{}\"><td class=\"num\">{}</td><td class=\"id\">{}</td>\
             <td class=\"num\" data-findings=\"{}\">{}</td><td class=\"num\" data-amount=\"{}\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(code),
            rank + 1,
            escape(code),
            p.bucket.findings,
            count(p.bucket.findings),
            cents_text(p.bucket.cents),
            yuan(p.bucket.cents),
            share(p.bucket.cents, t.total.cents),
            count(p.flagged_claims),
            claims,
            flagged_share
        );
    }
    s.push_str("</tbody></table></section>\n");
    s
}

fn months_section(t: &Tally) -> String {
    let bars: Vec<Bar> = t
        .by_month
        .iter()
        .map(|(m, b)| Bar {
            label: m.clone(),
            value: b.cents,
            shown: format!("{} ({} findings)", yuan(b.cents), count(b.findings)),
        })
        .collect();
    let mut s = String::from("<section id=\"months\"><h2>By month 按月份</h2>");
    let _ = write!(
        s,
        "<figure><figcaption>Amount by month</figcaption>{}</figure>",
        bar_chart("Amount by month", &bars)
    );
    s.push_str(
        "<table><thead><tr><th>Month</th><th class=\"num\">Claims</th><th class=\"num\">Findings</th>\
         <th class=\"num\">Amount</th></tr></thead><tbody>",
    );
    let mut months: Vec<&String> = t.by_month.keys().chain(t.claims_by_month.keys()).collect();
    months.sort();
    months.dedup();
    for m in months {
        let b = t.by_month.get(m).copied().unwrap_or_default();
        let claims = match &t.claims {
            Some(_) => count(t.claims_by_month.get(m).copied().unwrap_or(0)),
            None => "unknown".to_string(),
        };
        let _ = write!(
            s,
            "<tr data-month=\"{}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\" data-findings=\"{}\">{}</td>\
             <td class=\"num\" data-amount=\"{}\">{}</td></tr>",
            escape(m),
            escape(m),
            claims,
            b.findings,
            count(b.findings),
            cents_text(b.cents),
            yuan(b.cents)
        );
    }
    if t.month_unknown.findings > 0 {
        let _ = write!(
            s,
            "<tr data-month=\"unknown\"><td>unknown</td><td class=\"num\">–</td><td class=\"num\" data-findings=\"{}\">{}</td>\
             <td class=\"num\" data-amount=\"{}\">{}</td></tr>",
            t.month_unknown.findings,
            count(t.month_unknown.findings),
            cents_text(t.month_unknown.cents),
            yuan(t.month_unknown.cents)
        );
    }
    s.push_str("</tbody></table>");
    if t.month_unknown.findings > 0 {
        let why = if t.claims.is_some() {
            "their claim is not in the claims file or has no dates"
        } else {
            "claim and line findings take their month from the claim: pass --claims to place them"
        };
        let _ = write!(
            s,
            "<p class=\"note\">The month of {} findings ({}) is unknown: {why}. Provider findings \
             carry their own period.</p>",
            count(t.month_unknown.findings),
            yuan(t.month_unknown.cents)
        );
    }
    s.push_str("</section>\n");
    s
}

fn overlap_section(t: &Tally) -> String {
    let o = &t.overlaps;
    let mut s = String::from("<section id=\"overlap\"><h2>Overlap 重复计算</h2>");
    let _ = write!(
        s,
        "<p>{} lines or claims are flagged by two or more rules; adding up their findings counts \
         <strong data-overlap=\"double-counted\" data-value=\"{}\">{}</strong> more than once \
         (on each, the amounts beyond the largest). A rule pair's shared amount is, over the \
         places both flag, the smaller of the two amounts.</p>",
        count(o.places),
        cents_text(cents(o.double_counted)),
        yuan(cents(o.double_counted))
    );
    if o.pairs.is_empty() {
        s.push_str("<p class=\"note\">No two rules flag the same line or claim.</p>");
    } else {
        s.push_str(
            "<table><thead><tr><th>Rule</th><th>and rule</th><th class=\"num\">Places</th>\
             <th class=\"num\">Shared amount</th></tr></thead><tbody>",
        );
        for p in &o.pairs {
            let name = |id: &str| {
                t.by_rule
                    .get(id)
                    .map(|r| format!(" {}", r.name))
                    .unwrap_or_default()
            };
            let _ = write!(
                s,
                "<tr><td><span class=\"id\">{}</span>{}</td><td><span class=\"id\">{}</span>{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\" data-amount=\"{}\">{}</td></tr>",
                escape(&p.a),
                escape(&name(&p.a)),
                escape(&p.b),
                escape(&name(&p.b)),
                count(p.places),
                cents_text(cents(p.shared_amount)),
                yuan(cents(p.shared_amount))
            );
        }
        s.push_str("</tbody></table>");
    }
    s.push_str("</section>\n");
    s
}

/// How many rejected claim records the page lists (all are counted).
const REJECTED_SHOWN: usize = 100;

fn rejected_section(keys: &ClaimKeys) -> String {
    let mut s = String::from("<section id=\"rejected\"><h2>Rejected claim records</h2>");
    if keys.rejected.is_empty() {
        s.push_str("<p class=\"note\">Every line of the claims file is a claim.</p>");
    } else {
        let _ = write!(
            s,
            "<p>{} lines of the claims file are not claims; they are not counted above.{}</p>\
             <table><thead><tr><th class=\"num\">Line</th><th>Reason</th></tr></thead><tbody>",
            count(keys.rejected.len() as u64),
            if keys.rejected.len() > REJECTED_SHOWN {
                format!(" The first {REJECTED_SHOWN} are listed.")
            } else {
                String::new()
            }
        );
        for r in keys.rejected.iter().take(REJECTED_SHOWN) {
            let _ = write!(
                s,
                "<tr><td class=\"num\">{}</td><td>{}</td></tr>",
                r.line,
                escape(&r.reason)
            );
        }
        s.push_str("</tbody></table>");
    }
    s.push_str("</section>\n");
    s
}

fn findings_section(input: &PageInput<'_>) -> String {
    let mut s = String::from("<section id=\"findings\"><h2>Findings 违规明细</h2>");
    let _ = write!(
        s,
        "<p class=\"search\"><label for=\"search\">Search</label> \
         <input id=\"search\" type=\"search\" placeholder=\"rule, claim, provider, message…\" autocomplete=\"off\"> \
         <span><span id=\"shown\" data-value=\"{0}\">{0}</span> of {0} shown; click a heading to sort</span></p>",
        input.findings.len()
    );
    s.push_str(
        "<table id=\"findings-table\"><thead><tr><th class=\"num\" data-type=\"num\">#</th><th>Rule</th><th>Name</th>\
         <th>Scope</th><th>Severity</th><th>Claim</th><th>Patient</th><th>Provider</th><th>Line</th>\
         <th>Month</th><th class=\"num\" data-type=\"num\">Amount</th><th>Message 违规内容</th>\
         <th>Basis 依据</th></tr></thead><tbody>",
    );
    for (i, f) in input.findings.iter().enumerate() {
        let month = match (&f.period, f.setl_id.as_deref(), input.keys) {
            (Some(p), _, _) => p.clone(),
            (None, Some(id), Some(keys)) => keys
                .claims
                .get(id)
                .and_then(|c| c.month.clone())
                .unwrap_or_default(),
            _ => String::new(),
        };
        let c = cents(f.vola_amt);
        let _ = write!(
            s,
            "<tr><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"id\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"id\">{}</td><td class=\"id\">{}</td><td class=\"id\">{}</td><td class=\"id\">{}</td>\
             <td>{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td>{}</td><td class=\"basis\">{}</td></tr>",
            i + 1,
            i + 1,
            escape(&f.rule_id),
            escape(&f.rule_name),
            f.scope.as_str(),
            f.sev_deg.as_str(),
            escape(f.setl_id.as_deref().unwrap_or("")),
            escape(f.psn_no.as_deref().unwrap_or("")),
            escape(&f.fixmedins_code),
            escape(f.feedetl_sn.as_deref().unwrap_or("")),
            escape(&month),
            c,
            cents_text(c),
            escape(&f.vola_cont),
            escape(&f.vola_evid)
        );
    }
    s.push_str("</tbody></table></section>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }

    #[test]
    fn fill_expands_the_template_only() {
        assert_eq!(
            fill("a{{x}}b{{y}}c{{z}}", &[("x", "{{y}}"), ("y", "Y")]),
            "a{{y}}bYc{{z}}"
        );
        let page = fill(
            TEMPLATE,
            &[
                ("title", ""),
                ("style", ""),
                ("script_hash", ""),
                ("body", ""),
                ("script", ""),
            ],
        );
        assert!(
            !page.contains("{{"),
            "every placeholder of the template is filled"
        );
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(base64(plain.as_bytes()), coded, "{plain}");
        }
    }

    #[test]
    fn numbers_are_grouped_and_shares_rounded() {
        assert_eq!(yuan(123456789), "1,234,567.89");
        assert_eq!(yuan(-100000), "-1,000.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(count(2758), "2,758");
        assert_eq!(count(100), "100");
        assert_eq!(share(1, 3), "33.3%");
        assert_eq!(share(2, 3), "66.7%");
        assert_eq!(share(1, 0), "–");
    }
}

//! Bar charts as inline SVG, drawn in whole pixels with integer arithmetic so that the same
//! numbers always give the same bytes; no chart library, no fonts or images to fetch.

use std::fmt::Write as _;

use super::page::escape;

/// One bar: its label, its value (hundredths or a count), and the text shown beside it.
pub struct Bar {
    /// The label left of the bar (escaped when drawn).
    pub label: String,
    /// The bar's length is proportional to this; negative values draw no bar.
    pub value: i128,
    /// The value as shown (escaped when drawn).
    pub shown: String,
}

const WIDTH: i128 = 830;
const LABEL_W: i128 = 250;
const BAR_W: i128 = 340;
const ROW_H: i128 = 22;
const TOP: i128 = 8;

/// A horizontal bar chart, one row per bar in the order given; `title` names it for screen
/// readers. The longest bar fills the width; a non-zero value draws at least one pixel.
pub fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(0);
    let height = TOP * 2 + ROW_H * bars.len() as i128;
    let mut s = String::new();
    // Writing to a String cannot fail; the results are ignored for that reason.
    let _ = write!(
        s,
        "<svg class=\"chart\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\" \
         viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\">\
         <title>{}</title>",
        escape(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = TOP + ROW_H * i as i128;
        let len = if max == 0 || bar.value <= 0 {
            0
        } else {
            // Past i128 only by absurd amounts; then divide first, losing only pixels.
            let scaled = match bar.value.checked_mul(BAR_W) {
                Some(v) => v / max,
                None => bar.value / (max / BAR_W).max(1),
            };
            scaled.clamp(1, BAR_W)
        };
        let label = escape(&clip(&bar.label, 30));
        let shown = escape(&bar.shown);
        let _ = write!(
            s,
            "<g><title>{} {}</title>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{label}</text>\
             <rect x=\"{LABEL_W}\" y=\"{}\" width=\"{len}\" height=\"{}\"></rect>\
             <text x=\"{}\" y=\"{}\" class=\"v\">{shown}</text></g>",
            escape(&bar.label),
            shown,
            LABEL_W - 6,
            y + 15,
            y + 3,
            ROW_H - 6,
            LABEL_W + len + 6,
            y + 15,
        );
    }
    s.push_str("</svg>");
    s
}

/// At most `n` characters, with an ellipsis where cut (the full label is in the tooltip).
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n - 1).collect();
    out.push('…');
    out
}

//! The text forms of dates in the data contracts (formats.md), parsed in one place so that
//! claims and reference tables agree on what a date is. Shapes are checked first: chrono alone
//! would also take `2026-1-5`.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use vigil_compiler::types::Ty;

/// The scalar kinds a claim field or a table cell can hold; text, codes and enum codes read alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Bool,
    Int,
    Decimal,
    /// Text, codes and enum codes: enums are open code sets, so any code is kept as written.
    Text,
    Date,
    DateTime,
    /// `YYYY-MM`, held as the first day of the month: `Value` has no month of its own, and the
    /// checker never lets a month meet a date, so the two cannot be confused in a rule.
    Month,
}

impl Scalar {
    /// The scalar kind of a type, if it is one.
    pub fn of(ty: &Ty) -> Option<Scalar> {
        Some(match ty {
            Ty::Bool => Scalar::Bool,
            Ty::Int => Scalar::Int,
            Ty::Decimal => Scalar::Decimal,
            Ty::Text | Ty::Code | Ty::Enum(_) => Scalar::Text,
            Ty::Date => Scalar::Date,
            Ty::DateTime => Scalar::DateTime,
            Ty::Month => Scalar::Month,
            _ => return None,
        })
    }
}

/// Whether `text` has digits where `pattern` has `9` and the same byte elsewhere.
fn shaped(text: &str, pattern: &str) -> bool {
    text.len() == pattern.len()
        && text.bytes().zip(pattern.bytes()).all(|(t, p)| match p {
            b'9' => t.is_ascii_digit(),
            p => t == p,
        })
}

/// The number written by ASCII digits (already checked by `shaped`).
fn number(digits: &[u8]) -> u32 {
    digits
        .iter()
        .fold(0, |n, d| n * 10 + u32::from(d.wrapping_sub(b'0')))
}

/// The calendar date of text already of the shape `9999-99-99...`. Read digit by digit
/// rather than through chrono's format parser: claims carry millions of dates, and the
/// format parser was the reader's largest single cost. Same result: chrono's `%Y-%m-%d` on
/// this shape is exactly `from_ymd_opt` of the three numbers.
fn date_of(b: &[u8]) -> Option<NaiveDate> {
    // A four-digit year is at most 9999: it fits i32.
    let year = number(&b[0..4]) as i32;
    NaiveDate::from_ymd_opt(year, number(&b[5..7]), number(&b[8..10]))
}

/// Exactly `YYYY-MM-DD`, a real calendar date.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    shaped(text, "9999-99-99")
        .then(|| date_of(text.as_bytes()))
        .flatten()
}

/// `YYYY-MM-DD HH:MM:SS`, or a bare date meaning midnight (formats.md: "Dates may also come as
/// `YYYY-MM-DD` where a datetime is expected").
pub fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    if shaped(text, "9999-99-99 99:99:99") {
        let b = text.as_bytes();
        // `from_hms_opt` refuses second 60, as a settlement clock has no leap seconds.
        let time =
            NaiveTime::from_hms_opt(number(&b[11..13]), number(&b[14..16]), number(&b[17..19]))?;
        Some(date_of(b)?.and_time(time))
    } else {
        parse_date(text).map(|d| d.and_time(NaiveTime::MIN))
    }
}

/// `YYYY-MM`, as the first day of the month.
pub fn parse_month(text: &str) -> Option<NaiveDate> {
    if !shaped(text, "9999-99") {
        return None;
    }
    let year = text[..4].parse::<i32>().ok()?;
    let month = text[5..].parse::<u32>().ok()?;
    NaiveDate::from_ymd_opt(year, month, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Reading digit by digit agrees with chrono's format parser on every text of the shape.
        #[test]
        fn digits_agree_with_chrono(text in "[0-9]{4}-[0-1][0-9]-[0-3][0-9] [0-2][0-9]:[0-6][0-9]:[0-6][0-9]") {
            let chrono_date = NaiveDate::parse_from_str(&text[..10], "%Y-%m-%d").ok();
            prop_assert_eq!(parse_date(&text[..10]), chrono_date);
            let chrono_at = NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S")
                .ok()
                .filter(|_| &text[17..] < "60");
            prop_assert_eq!(parse_datetime(&text), chrono_at);
        }
    }

    #[test]
    fn shapes_and_calendar() {
        assert!(parse_date("2026-02-28").is_some());
        assert!(parse_date("2026-02-29").is_none(), "not a leap year");
        assert!(parse_date("2026-2-28").is_none(), "shape is exact");
        assert!(parse_datetime("2026-10-01 08:10:00").is_some());
        assert_eq!(
            parse_datetime("2026-10-01"),
            parse_datetime("2026-10-01 00:00:00")
        );
        assert!(parse_datetime("2026-10-01T08:10:00").is_none());
        assert!(parse_datetime("2026-10-01 24:00:00").is_none());
        assert!(
            parse_datetime("2026-12-31 23:59:60").is_none(),
            "no leap seconds in settlement times"
        );
        assert_eq!(parse_month("2026-10"), parse_date("2026-10-01"));
        assert!(
            parse_date("0000-01-01").is_some(),
            "chrono's year 0 is a date"
        );
        assert!(parse_date("2024-02-29").is_some());
        assert!(parse_date("2026-00-10").is_none());
        assert!(parse_date("2026-04-31").is_none());
        assert!(parse_datetime("2026-10-01 23:60:00").is_none());
        assert!(parse_datetime("2026-10-01 23:59:59").is_some());
        assert!(parse_month("2026-13").is_none());
    }
}

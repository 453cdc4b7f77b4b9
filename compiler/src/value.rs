//! Values of claim data and table cells. Exact: decimals are `rust_decimal`, never floats;
//! dates are calendar dates. Records hold their fields in the schema's declared order, so a
//! field is found by a slot number resolved once, not by name per claim.

use std::fmt;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_decimal::Decimal;

/// One value of claim data or of a table cell.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// An optional field that the record does not carry (or an empty optional cell).
    Absent,
    Bool(bool),
    Int(i64),
    Decimal(Decimal),
    /// Text, codes and enum codes alike: all are strings of characters in the data.
    Text(Arc<str>),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    List(Vec<Value>),
    /// Shared: a claim, a line or a row is read by many rules; copying it is a count bump.
    Record(Arc<Record>),
}

/// A record of the claim schema (a claim, a fee line, a diagnosis) or a table row: its
/// values in the order the schema or table declares its fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Record {
    pub values: Vec<Value>,
}

impl Record {
    /// The value in a slot (`Absent` beyond the end, which a checked rulebook never asks for).
    pub fn get(&self, slot: usize) -> &Value {
        self.values.get(slot).unwrap_or(&Value::Absent)
    }
}

impl Value {
    /// Text of a text-like value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    /// Whether the value is absent.
    pub fn is_absent(&self) -> bool {
        matches!(self, Value::Absent)
    }
}

/// `%Y-%m-%d` without parsing a format string on every call (a run writes a date into most
/// messages). Years beyond four digits keep chrono's own form (a sign, then the digits).
fn write_date(f: &mut fmt::Formatter<'_>, d: &NaiveDate) -> fmt::Result {
    if (0..=9999).contains(&d.year()) {
        write!(f, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    } else {
        write!(f, "{}", d.format("%Y-%m-%d"))
    }
}

impl fmt::Display for Value {
    /// The form a finding's message shows: decimals as written (no exponent), dates ISO.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Absent => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Text(t) => f.write_str(t),
            Value::Date(d) => write_date(f, d),
            // A leap second (nanoseconds past 10^9) prints as :60 in chrono's own form.
            Value::DateTime(t) if t.nanosecond() >= 1_000_000_000 => {
                write!(f, "{}", t.format("%Y-%m-%d %H:%M:%S"))
            }
            Value::DateTime(t) => {
                write_date(f, &t.date())?;
                write!(f, " {:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
            }
            Value::List(items) => {
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str("|")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
            Value::Record(_) => f.write_str("{record}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written date forms agree with chrono's `%Y-%m-%d [%H:%M:%S]` everywhere,
    /// the years that fall back to chrono and a leap second included.
    #[test]
    fn dates_print_as_chrono_does() {
        let days = [
            (1, 1, 1),
            (999, 12, 31),
            (1970, 1, 1),
            (2024, 2, 29),
            (2026, 11, 23),
            (9999, 12, 31),
            (10000, 1, 1),
            (-1, 6, 15),
            (262142, 3, 4),
        ];
        for (y, m, d) in days {
            let date = NaiveDate::from_ymd_opt(y, m, d).expect("a valid date");
            assert_eq!(
                Value::Date(date).to_string(),
                date.format("%Y-%m-%d").to_string()
            );
            for (h, mi, s, nano) in [(0, 0, 0, 0), (9, 5, 7, 0), (23, 59, 59, 1_500_000_000)] {
                let t = date.and_hms_nano_opt(h, mi, s, nano).expect("a valid time");
                assert_eq!(
                    Value::DateTime(t).to_string(),
                    t.format("%Y-%m-%d %H:%M:%S").to_string()
                );
            }
        }
    }
}

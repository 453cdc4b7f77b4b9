//! Values of claim data and table cells. Exact: decimals are `rust_decimal`, never floats;
//! dates are calendar dates. Records hold their fields in the schema's declared order, so a
//! field is found by a slot number resolved once, not by name per claim.

use std::fmt;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
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

impl fmt::Display for Value {
    /// The form a finding's message shows: decimals as written (no exponent), dates ISO.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Absent => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Text(t) => f.write_str(t),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::DateTime(t) => write!(f, "{}", t.format("%Y-%m-%d %H:%M:%S")),
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

//! The types of the language.

use std::fmt;

/// A type. Records, enums and table rows are named by their declaration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ty {
    Bool,
    Int,
    /// Exact decimal; `money` is a decimal that ends up rounded to 2 places in a finding.
    Decimal,
    Text,
    /// Text drawn from a large code list (catalogue codes, ICD-10): interned by the runtime.
    Code,
    Date,
    DateTime,
    /// A calendar month (`YYYY-MM`): the period of a provider rule.
    Month,
    /// A national code set: open, so codes beyond the named ones pass through.
    Enum(String),
    /// A record of the claim schema (`claim`, `fee_line`, …).
    Record(String),
    /// A row of a reference table.
    Row(String),
    /// A group made by `groups(… by key)`: `.key` and `.items`.
    Group(Box<Ty>, Box<Ty>),
    List(Box<Ty>),
    Optional(Box<Ty>),
    /// The type of an expression already reported as wrong; it agrees with everything so that
    /// one mistake gives one diagnostic, not a cascade.
    Error,
}

impl Ty {
    /// `T?` (an optional stays single: `T??` is `T?`).
    pub fn optional(self) -> Ty {
        match self {
            Ty::Optional(_) | Ty::Error => self,
            t => Ty::Optional(Box::new(t)),
        }
    }

    /// The type inside an optional, or itself.
    pub fn unwrap_optional(&self) -> &Ty {
        match self {
            Ty::Optional(t) => t,
            t => t,
        }
    }

    /// Whether the value may be absent.
    pub fn is_optional(&self) -> bool {
        matches!(self, Ty::Optional(_))
    }

    /// Int or decimal.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Decimal | Ty::Error)
    }

    /// Text-like values: text, codes and enums are all strings of characters underneath.
    pub fn is_textual(&self) -> bool {
        matches!(self, Ty::Text | Ty::Code | Ty::Enum(_) | Ty::Error)
    }

    /// Values that can be ordered with `<`.
    pub fn is_ordered(&self) -> bool {
        matches!(
            self,
            Ty::Int
                | Ty::Decimal
                | Ty::Text
                | Ty::Code
                | Ty::Date
                | Ty::DateTime
                | Ty::Month
                | Ty::Error
        )
    }

    /// Values that can be shown in a message.
    pub fn is_printable(&self) -> bool {
        matches!(
            self,
            Ty::Bool
                | Ty::Int
                | Ty::Decimal
                | Ty::Text
                | Ty::Code
                | Ty::Date
                | Ty::DateTime
                | Ty::Month
                | Ty::Enum(_)
                | Ty::Error
        )
    }

    /// Values that can be a table key, a group key or a `distinct` element.
    pub fn is_scalar(&self) -> bool {
        self.is_printable()
    }

    /// Whether a value of `self` may be used where `want` is expected (no implicit unwrapping).
    pub fn fits(&self, want: &Ty) -> bool {
        match (self, want) {
            (Ty::Error, _) | (_, Ty::Error) => true,
            (a, b) if a == b => true,
            (Ty::Int, Ty::Decimal) => true,
            (Ty::Text | Ty::Code, Ty::Text | Ty::Code) => true,
            (Ty::Enum(_), Ty::Text | Ty::Code) => true,
            (Ty::List(a), Ty::List(b)) => a.fits(b),
            (Ty::Optional(a), Ty::Optional(b)) => a.fits(b),
            (a, Ty::Optional(b)) => a.fits(b),
            _ => false,
        }
    }

    /// Whether two values can be compared with `==` (ignoring optionality).
    pub fn comparable(&self, other: &Ty) -> bool {
        let (a, b) = (self.unwrap_optional(), other.unwrap_optional());
        match (a, b) {
            (Ty::Error, _) | (_, Ty::Error) => true,
            (Ty::Enum(x), Ty::Enum(y)) => x == y,
            (x, y) if x.is_numeric() && y.is_numeric() => true,
            (x, y) if x.is_textual() && y.is_textual() => true,
            (x, y) => x == y && x.is_scalar(),
        }
    }

    /// The common type of two branches (`a ?? b`, list elements), if any.
    pub fn join(&self, other: &Ty) -> Option<Ty> {
        let opt = self.is_optional() || other.is_optional();
        let (a, b) = (self.unwrap_optional(), other.unwrap_optional());
        let base = match (a, b) {
            (Ty::Error, t) | (t, Ty::Error) => t.clone(),
            (x, y) if x == y => x.clone(),
            (Ty::Int, Ty::Decimal) | (Ty::Decimal, Ty::Int) => Ty::Decimal,
            (Ty::Enum(_), Ty::Text | Ty::Code) | (Ty::Text | Ty::Code, Ty::Enum(_)) => Ty::Code,
            (Ty::Text, Ty::Code) | (Ty::Code, Ty::Text) => Ty::Code,
            (Ty::List(x), Ty::List(y)) => Ty::List(Box::new(x.join(y)?)),
            _ => return None,
        };
        Some(if opt { base.optional() } else { base })
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Bool => f.write_str("bool"),
            Ty::Int => f.write_str("int"),
            Ty::Decimal => f.write_str("decimal"),
            Ty::Text => f.write_str("text"),
            Ty::Code => f.write_str("code"),
            Ty::Date => f.write_str("date"),
            Ty::DateTime => f.write_str("datetime"),
            Ty::Month => f.write_str("month"),
            Ty::Enum(n) | Ty::Record(n) => f.write_str(n),
            Ty::Row(n) => write!(f, "{n} row"),
            Ty::Group(k, v) => write!(f, "group of {v} by {k}"),
            Ty::List(t) => write!(f, "[{t}]"),
            Ty::Optional(t) => write!(f, "{t}?"),
            Ty::Error => f.write_str("{unknown}"),
        }
    }
}

/// The built-in scalar type names, with what they mean (for hover and docs).
pub const SCALAR_TYPES: &[(&str, &str)] = &[
    ("bool", "true or false"),
    ("int", "a whole number"),
    ("decimal", "an exact decimal number (never a float)"),
    (
        "money",
        "an exact decimal amount of yuan; findings round it to 2 places",
    ),
    ("text", "a string"),
    (
        "code",
        "a code from a large code list (catalogue codes, ICD-10), interned by the runtime",
    ),
    ("date", "a calendar date YYYY-MM-DD"),
    ("datetime", "a date and time YYYY-MM-DD HH:MM:SS"),
    ("month", "a calendar month YYYY-MM"),
];

/// The type a scalar type name stands for.
pub fn scalar_type(name: &str) -> Option<Ty> {
    Some(match name {
        "bool" => Ty::Bool,
        "int" => Ty::Int,
        "decimal" | "money" => Ty::Decimal,
        "text" => Ty::Text,
        "code" => Ty::Code,
        "date" => Ty::Date,
        "datetime" => Ty::DateTime,
        "month" => Ty::Month,
        _ => return None,
    })
}

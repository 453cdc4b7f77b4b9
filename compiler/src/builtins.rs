//! Built-in functions and properties: their signatures and the one-line docs that hover,
//! completion and docs/language.md show. The checker types calls by name (typeck.rs).

/// A built-in function.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    pub name: &'static str,
    pub signature: &'static str,
    pub doc: &'static str,
}

/// Every built-in function, in the order the docs list them.
pub const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "count", signature: "count(x in list where cond) -> int", doc: "How many elements of the list satisfy the condition (all of them without `where`); `count(list)` counts a list." },
    Builtin { name: "sum", signature: "sum(e for x in list where cond) -> int|decimal", doc: "The exact sum of `e` over the elements that satisfy the condition; 0 for none." },
    Builtin { name: "min", signature: "min(e for x in list where cond) -> T?  |  min(a, b) -> T", doc: "The smallest value (absent for an empty list), or the smaller of two values." },
    Builtin { name: "max", signature: "max(e for x in list where cond) -> T?  |  max(a, b) -> T", doc: "The largest value (absent for an empty list), or the larger of two values." },
    Builtin { name: "first", signature: "first(x in list where cond) -> T?  |  first(e for x in list where cond) -> E?", doc: "The first element (or value) in list order that satisfies the condition; absent when none does. Names the witness that `exists` only asserts." },
    Builtin { name: "last", signature: "last(x in list where cond) -> T?  |  last(e for x in list where cond) -> E?", doc: "The last element (or value) in list order that satisfies the condition; absent when none does." },
    Builtin { name: "distinct", signature: "distinct(e for x in list where cond) -> [T]", doc: "The distinct values of `e`, in order of first appearance; absent values are left out." },
    Builtin { name: "groups", signature: "groups(x in list by key where cond) -> [group]", doc: "The elements grouped by a key (elements with an absent key are left out); each group has `.key` and `.items`." },
    Builtin { name: "history", signature: "history(psn_no: text) -> [claim]", doc: "The patient's other claims in the run (claims file and history file), oldest first; the claim being checked is not included." },
    Builtin { name: "days_between", signature: "days_between(from: date, to: date) -> int", doc: "Whole days from `from` to `to` (negative when `to` is earlier)." },
    Builtin { name: "age", signature: "age(birth: date, at: date) -> int", doc: "Age in whole years at a date: a birthday reached counts a year more." },
    Builtin { name: "starts_with", signature: "starts_with(value: text, prefix: text) -> bool", doc: "Whether a code starts with a prefix (ICD-10 prefixes such as `E11`)." },
    Builtin { name: "sorts_before", signature: "sorts_before(a: text, b: text) -> bool", doc: "Order of serial numbers: as numbers when both are whole numbers, else numbers first, then as text." },
    Builtin { name: "date", signature: "date(\"YYYY-MM-DD\") -> date", doc: "A fixed date, checked when the rulebook is compiled." },
    Builtin { name: "abs", signature: "abs(x: int|decimal) -> int|decimal", doc: "The absolute value." },
    Builtin { name: "round", signature: "round(x: decimal, places: int) -> decimal", doc: "Rounds half away from zero to `places` decimal places." },
];

/// A built-in property, written `value.name`.
#[derive(Debug, Clone, Copy)]
pub struct Property {
    /// The kind of value it applies to: `date`, `datetime`, `month`, `text`, `enum`, `group`.
    pub on: &'static str,
    pub name: &'static str,
    pub ty: &'static str,
    pub doc: &'static str,
}

/// Every built-in property.
pub const PROPERTIES: &[Property] = &[
    Property { on: "datetime", name: "date", ty: "date", doc: "The calendar date of a date-time." },
    Property { on: "datetime", name: "hour", ty: "int", doc: "The hour, 0–23." },
    Property { on: "datetime", name: "minute", ty: "int", doc: "The minute, 0–59." },
    Property { on: "datetime", name: "year", ty: "int", doc: "The year." },
    Property { on: "datetime", name: "month", ty: "int", doc: "The month, 1–12." },
    Property { on: "datetime", name: "day", ty: "int", doc: "The day of the month." },
    Property { on: "datetime", name: "period", ty: "month", doc: "The calendar month (YYYY-MM)." },
    Property { on: "date", name: "year", ty: "int", doc: "The year." },
    Property { on: "date", name: "month", ty: "int", doc: "The month, 1–12." },
    Property { on: "date", name: "day", ty: "int", doc: "The day of the month." },
    Property { on: "date", name: "period", ty: "month", doc: "The calendar month (YYYY-MM)." },
    Property { on: "month", name: "year", ty: "int", doc: "The year." },
    Property { on: "month", name: "month", ty: "int", doc: "The month, 1–12." },
    Property { on: "text", name: "category", ty: "text", doc: "The first 3 characters: the category of an ICD-10 code (`I63.900` → `I63`)." },
    Property { on: "text", name: "length", ty: "int", doc: "The number of characters." },
    Property { on: "enum", name: "code", ty: "code", doc: "The code as written in the data (`21`)." },
    Property { on: "enum", name: "label", ty: "text", doc: "The Chinese label of the code (`普通住院`), or the code itself when it is not a named one." },
    Property { on: "enum", name: "category", ty: "text", doc: "The first 3 characters of the code." },
    Property { on: "group", name: "key", ty: "K", doc: "The key the group was made by." },
    Property { on: "group", name: "items", ty: "[T]", doc: "The elements of the group, in their original order." },
];

/// Looks up a built-in function.
pub fn function(name: &str) -> Option<&'static Builtin> {
    FUNCTIONS.iter().find(|b| b.name == name)
}

/// Aggregates take a comprehension `(… x in list …)`.
pub fn is_aggregate(name: &str) -> bool {
    matches!(
        name,
        "count" | "sum" | "min" | "max" | "first" | "last" | "distinct" | "groups"
    )
}

//! MySQL value ordering driven by column metadata, and ORDER BY over rows.
//!
//! Text-protocol rows carry every value as bytes, so [`SortKey::new`] reads the column type to
//! decide what the bytes mean:
//!
//! | column type | order |
//! |---|---|
//! | TINY … LONGLONG, INT24, YEAR | integers (signed and unsigned, as `i128`) |
//! | DECIMAL, NEWDECIMAL | exact decimals ([`Decimal`]): `10.5 > 9.75` |
//! | FLOAT, DOUBLE | doubles (`-0 = 0`) |
//! | DATE, DATETIME, TIMESTAMP | chronological (zero dates first) |
//! | TIME | signed durations (`-01:00:00 < 00:00:00 < 100:00:00`) |
//! | strings, BLOB/TEXT, ENUM, SET, JSON | the column's collation ([`Collation::of`]) |
//! | BIT, GEOMETRY, anything with character set 63 | bytes |
//!
//! NULL is smaller than every value, so it sorts first ascending and last descending, as in
//! MySQL. Binary-protocol values (`Value::Int`, `Value::Date`, …) are understood too.
//!
//! Not matched: ENUM and SET columns sort by their member index in MySQL, which result metadata
//! does not reveal; here they sort as strings ([`order_is_exact`] tells). The executor ranks
//! them by their members first ([`super::member_order`]).

use std::borrow::Cow;
use std::cmp::Ordering;

use mysql_async::Value;
use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::packets::Column;

use super::collation::{Collation, TextKey};
use super::decimal::Decimal;
use super::rows::{cell, check_column, scalar_text, Row};
use super::EngineError;

/// One ORDER BY term: a column index into the rows and the direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderBy {
    /// Index of the column in the rows (and in the column metadata).
    pub column: usize,
    /// DESC rather than ASC.
    pub descending: bool,
}

impl OrderBy {
    /// `column ASC`.
    pub fn asc(column: usize) -> Self {
        Self {
            column,
            descending: false,
        }
    }

    /// `column DESC`.
    pub fn desc(column: usize) -> Self {
        Self {
            column,
            descending: true,
        }
    }
}

/// A value prepared for comparison under its column's type and collation. Keys of the same
/// column compare exactly like the values do in MySQL; equal keys mean "same group".
#[derive(Debug, Clone)]
pub enum SortKey {
    /// SQL NULL: smaller than everything.
    Null,
    /// An integer.
    Int(i128),
    /// An exact decimal.
    Decimal(Decimal),
    /// A double.
    Float(f64),
    /// A date/datetime/time packed into one ordered number.
    Temporal(i128),
    /// A string under a collation.
    Text(TextKey),
    /// Raw bytes.
    Bytes(Vec<u8>),
}

impl SortKey {
    /// The key of `value` in a column described by `column`.
    pub fn new(value: &Value, column: &Column) -> SortKey {
        if matches!(value, Value::NULL) {
            return SortKey::Null;
        }
        use ColumnType::*;
        match column.column_type() {
            MYSQL_TYPE_NULL => SortKey::Null,
            MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_LONG | MYSQL_TYPE_INT24
            | MYSQL_TYPE_LONGLONG | MYSQL_TYPE_YEAR => integer_key(value),
            MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => decimal_key(value),
            MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE => SortKey::Float(double_of(value)),
            MYSQL_TYPE_DATE
            | MYSQL_TYPE_NEWDATE
            | MYSQL_TYPE_DATETIME
            | MYSQL_TYPE_DATETIME2
            | MYSQL_TYPE_TIMESTAMP
            | MYSQL_TYPE_TIMESTAMP2 => datetime_key(value),
            MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => time_key(value),
            MYSQL_TYPE_BIT | MYSQL_TYPE_GEOMETRY => SortKey::Bytes(bytes_of(value).into_owned()),
            _ => SortKey::Text(Collation::of(column).key(&bytes_of(value))),
        }
    }

    /// Whether this is the key of NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, SortKey::Null)
    }

    fn rank(&self) -> u8 {
        match self {
            SortKey::Null => 0,
            SortKey::Int(_) | SortKey::Decimal(_) | SortKey::Float(_) => 1,
            SortKey::Temporal(_) => 2,
            SortKey::Text(_) => 3,
            SortKey::Bytes(_) => 4,
        }
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        use SortKey as K;
        match (self, other) {
            (K::Null, K::Null) => Ordering::Equal,
            (K::Int(a), K::Int(b)) => a.cmp(b),
            (K::Decimal(a), K::Decimal(b)) => a.cmp(b),
            (K::Float(a), K::Float(b)) => cmp_f64(*a, *b),
            (K::Int(a), K::Decimal(b)) => Decimal::from_i128(*a).cmp(b),
            (K::Decimal(a), K::Int(b)) => a.cmp(&Decimal::from_i128(*b)),
            (K::Int(a), K::Float(b)) => cmp_f64(*a as f64, *b),
            (K::Float(a), K::Int(b)) => cmp_f64(*a, *b as f64),
            (K::Decimal(a), K::Float(b)) => cmp_f64(a.to_f64(), *b),
            (K::Float(a), K::Decimal(b)) => cmp_f64(*a, b.to_f64()),
            (K::Temporal(a), K::Temporal(b)) => a.cmp(b),
            (K::Text(a), K::Text(b)) => a.cmp(b),
            (K::Bytes(a), K::Bytes(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SortKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SortKey {}

/// Compares two values of the column described by `column` with MySQL semantics (NULL first).
pub fn compare_values(a: &Value, b: &Value, column: &Column) -> Ordering {
    SortKey::new(a, column).cmp(&SortKey::new(b, column))
}

/// Whether ordering by this column here gives MySQL's order (false for ENUM and SET, which
/// MySQL orders by member index).
pub fn order_is_exact(column: &Column) -> bool {
    !column
        .flags()
        .intersects(ColumnFlags::ENUM_FLAG | ColumnFlags::SET_FLAG)
        && !matches!(
            column.column_type(),
            ColumnType::MYSQL_TYPE_ENUM | ColumnType::MYSQL_TYPE_SET
        )
}

/// Compares two rows by the ORDER BY terms `keys` (column metadata in `columns`). Terms whose
/// column is missing compare equal; [`check_keys`] rejects them up front.
pub fn compare_rows(a: &[Value], b: &[Value], keys: &[OrderBy], columns: &[Column]) -> Ordering {
    for key in keys {
        let Some(column) = columns.get(key.column) else {
            continue;
        };
        let ord = compare_values(cell(a, key.column), cell(b, key.column), column);
        let ord = if key.descending { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// `Ok` when every term of `keys` names one of `columns`.
pub fn check_keys(keys: &[OrderBy], columns: &[Column]) -> Result<(), EngineError> {
    keys.iter()
        .try_for_each(|key| check_column(key.column, columns.len()))
}

/// The sort keys of `row` for the terms `keys` (all checked against `columns`).
pub(crate) fn row_keys(row: &[Value], keys: &[OrderBy], columns: &[Column]) -> Vec<SortKey> {
    keys.iter()
        .map(|key| match columns.get(key.column) {
            Some(column) => SortKey::new(cell(row, key.column), column),
            None => SortKey::Null,
        })
        .collect()
}

/// Compares precomputed [`row_keys`] under the directions of `keys`.
pub(crate) fn compare_keys(a: &[SortKey], b: &[SortKey], keys: &[OrderBy]) -> Ordering {
    for ((x, y), key) in a.iter().zip(b).zip(keys) {
        let ord = x.cmp(y);
        let ord = if key.descending { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Sorts rows by `keys` (stable: ties keep their input order), as a proxy-side ORDER BY.
pub fn sort_rows(
    rows: Vec<Row>,
    keys: &[OrderBy],
    columns: &[Column],
) -> Result<Vec<Row>, EngineError> {
    check_keys(keys, columns)?;
    let mut keyed: Vec<(Vec<SortKey>, Row)> = rows
        .into_iter()
        .map(|row| (row_keys(&row, keys, columns), row))
        .collect();
    keyed.sort_by(|a, b| compare_keys(&a.0, &b.0, keys));
    Ok(keyed.into_iter().map(|(_, row)| row).collect())
}

fn cmp_f64(a: f64, b: f64) -> Ordering {
    // `+ 0.0` turns -0.0 into 0.0, which MySQL calls equal; MySQL has no NaN.
    (a + 0.0).total_cmp(&(b + 0.0))
}

/// The value's text; borrowed for the text protocol's bytes, so keying a row copies nothing.
fn bytes_of(value: &Value) -> Cow<'_, [u8]> {
    match value {
        Value::Bytes(bytes) => Cow::Borrowed(bytes),
        Value::Date(..) | Value::Time(..) => {
            Cow::Owned(value.as_sql(true).trim_matches('\'').as_bytes().to_vec())
        }
        other => Cow::Owned(scalar_text(other).unwrap_or_default()),
    }
}

fn integer_key(value: &Value) -> SortKey {
    match value {
        Value::Int(i) => SortKey::Int(i128::from(*i)),
        Value::UInt(u) => SortKey::Int(i128::from(*u)),
        Value::Bytes(text) => match std::str::from_utf8(text)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            Some(i) => SortKey::Int(i),
            None => decimal_key(value),
        },
        _ => decimal_key(value),
    }
}

fn decimal_key(value: &Value) -> SortKey {
    match value {
        Value::Int(i) => SortKey::Int(i128::from(*i)),
        Value::UInt(u) => SortKey::Int(i128::from(*u)),
        Value::Float(_) | Value::Double(_) => SortKey::Float(double_of(value)),
        _ => match Decimal::parse(&bytes_of(value)) {
            Some(d) => SortKey::Decimal(d),
            None => SortKey::Float(double_of(value)),
        },
    }
}

/// The double value of a number (unparsable text counts as 0, as MySQL's conversion does).
pub(crate) fn double_of(value: &Value) -> f64 {
    match value {
        Value::Int(i) => *i as f64,
        Value::UInt(u) => *u as f64,
        Value::Float(f) => f64::from(*f),
        Value::Double(d) => *d,
        other => std::str::from_utf8(&bytes_of(other))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0.0),
    }
}

/// Packs a calendar date and time of day into one ordered number.
fn pack_datetime(parts: [u32; 6], micros: u32) -> i128 {
    let [year, month, day, hour, minute, second] = parts.map(i128::from);
    let days = (year * 13 + month) * 32 + day;
    ((days * 24 + hour) * 60 + minute) * 60_000_000 + second * 1_000_000 + i128::from(micros)
}

fn datetime_key(value: &Value) -> SortKey {
    if let Value::Date(y, mo, d, h, mi, s, us) = *value {
        let parts = [
            u32::from(y),
            u32::from(mo),
            u32::from(d),
            u32::from(h),
            u32::from(mi),
            u32::from(s),
        ];
        return SortKey::Temporal(pack_datetime(parts, us));
    }
    let text = bytes_of(value);
    match parse_datetime(&text) {
        Some((parts, micros)) => SortKey::Temporal(pack_datetime(parts, micros)),
        None => SortKey::Bytes(text.into_owned()),
    }
}

/// Parses `YYYY-MM-DD[ HH:MM:SS[.ffffff]]`.
fn parse_datetime(text: &[u8]) -> Option<([u32; 6], u32)> {
    let text = std::str::from_utf8(text).ok()?;
    let (date, time) = text.split_once([' ', 'T']).unwrap_or((text, ""));
    let mut parts = [0u32; 6];
    let mut date_parts = date.split('-');
    for slot in &mut parts[..3] {
        *slot = date_parts.next()?.parse().ok()?;
    }
    if date_parts.next().is_some() {
        return None;
    }
    let mut micros = 0;
    if !time.is_empty() {
        let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
        let mut time_parts = hms.split(':');
        for slot in &mut parts[3..] {
            *slot = time_parts.next()?.parse().ok()?;
        }
        micros = parse_micros(frac)?;
    }
    Some((parts, micros))
}

/// Fraction digits as microseconds (`"5"` → 500000).
fn parse_micros(frac: &str) -> Option<u32> {
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
    digits.parse().ok()
}

fn time_key(value: &Value) -> SortKey {
    if let Value::Time(negative, days, h, m, s, us) = *value {
        let hours = i128::from(days) * 24 + i128::from(h);
        let magnitude =
            ((hours * 60 + i128::from(m)) * 60 + i128::from(s)) * 1_000_000 + i128::from(us);
        return SortKey::Temporal(if negative { -magnitude } else { magnitude });
    }
    let text = bytes_of(value);
    match parse_time(&text) {
        Some(micros) => SortKey::Temporal(micros),
        None => SortKey::Bytes(text.into_owned()),
    }
}

/// Parses `[-]H+:MM:SS[.ffffff]` into signed microseconds.
fn parse_time(text: &[u8]) -> Option<i128> {
    let text = std::str::from_utf8(text).ok()?;
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (hms, frac) = text.split_once('.').unwrap_or((text, ""));
    let mut parts = hms.split(':');
    let hours: i128 = parts.next()?.parse().ok()?;
    let minutes: i128 = parts.next()?.parse().ok()?;
    let seconds: i128 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let magnitude =
        ((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + i128::from(parse_micros(frac)?);
    Some(if negative { -magnitude } else { magnitude })
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;

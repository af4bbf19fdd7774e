//! A value converted to its column's type the way MariaDB converts it, before a vindex maps it.
//!
//! Drivers send values in their own types: node's mysql2 binds every number as DOUBLE, so an
//! id arrives as `4e0` and a phone as `5559991e0`; SQL text may say `id = 4.0` or `'4'`.
//! MariaDB compares and stores them in the column's type, while a vindex maps the value's
//! text (`hash` cannot read `5.559991e+06`). [`Coercion`] says how values meet the column:
//!
//! * [`Coercion::compare`] (WHERE `col = v`): the value equal rows hold ([`Compared::Value`]),
//!   proof that no row can be equal (a fraction against integers: [`Compared::NoMatch`]), or
//!   [`Compared::Unroutable`] where MariaDB's comparison is not one value the vindex can map
//!   (a number against a string column: `'05' = 5`; a DOUBLE beyond 2^53, where neighbouring
//!   integers compare equal to it). Routing must then scatter (the planner does for literals)
//!   or refuse (1235, for a `?` of a plan made for one shard).
//! * [`Coercion::store`] (INSERT, UPDATE's new lookup value): the value the column will hold:
//!   an INT column rounds a DOUBLE half to even (`rint`: 4.5 → 4, 5.5 → 6) and a DECIMAL or
//!   a numeric string half away from zero (6.5 → 7, `'8.5'` → 9), without error even in strict
//!   mode; a string column holds an integral DOUBLE below 10^15 as its digits. Values whose
//!   stored form the proxy cannot reproduce exactly are refused (`Err`, 1235).
//!
//! Values keep their own form where the column type is unknown and the old routing was
//! exact (integers; strings under an integer vindex of an unknown column).

use super::{SqlType, SqlValue};

/// How MariaDB converts values to a column, by the column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnClass {
    /// TINYINT … BIGINT.
    Integer,
    /// CHAR, VARCHAR, TEXT, BINARY, VARBINARY, BLOB, ENUM, SET.
    Text,
    /// DECIMAL, FLOAT, DOUBLE, dates, times and anything else.
    Other,
}

impl ColumnClass {
    /// The class of an `information_schema.COLUMNS.DATA_TYPE` (lower case).
    pub fn from_data_type(data_type: &str) -> Self {
        match data_type {
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" => Self::Integer,
            "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "binary"
            | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" | "enum" | "set" => {
                Self::Text
            }
            _ => Self::Other,
        }
    }

    /// The class of a VSchema column type.
    pub fn from_sql_type(ty: SqlType) -> Self {
        if ty.is_integral() && ty != SqlType::Year {
            return Self::Integer;
        }
        match ty {
            SqlType::VarChar
            | SqlType::VarBinary
            | SqlType::Char
            | SqlType::Binary
            | SqlType::Text
            | SqlType::Blob
            | SqlType::Enum
            | SqlType::Set => Self::Text,
            _ => Self::Other,
        }
    }
}

/// Vindex types that map a value by its integer reading (`ToCastUint64` / `ParseInt`).
pub fn is_integer_vindex(vindex_type: &str) -> bool {
    matches!(
        vindex_type,
        "hash" | "numeric" | "reverse_bits" | "numeric_static_map"
    )
}

/// How values meet one vindex column: its class (None when unknown) and whether the vindex
/// reads values as integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coercion {
    /// The column's class, when the shards or the VSchema say it.
    pub column: Option<ColumnClass>,
    /// The vindex maps values by their integer reading (`hash`, `numeric`, ...).
    pub integer_vindex: bool,
}

/// What a value means in `column = value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compared {
    /// Equal rows hold this value (to map through the vindex).
    Value(SqlValue),
    /// No row can be equal.
    NoMatch,
    /// Equal rows may hold values the vindex maps elsewhere; the reason.
    Unroutable(String),
}

/// Above this magnitude a DOUBLE no longer holds every integer, so several integers compare
/// equal to one DOUBLE.
const EXACT_DOUBLE: f64 = 9_007_199_254_740_992.0;
/// Below this magnitude MariaDB prints an integral DOUBLE stored into a string column as plain
/// digits (`5559991`); from 10^15 on it writes `1e15`.
const PLAIN_DOUBLE_TEXT: f64 = 1e15;

impl Coercion {
    /// Whether numbers compare with the column as numbers the vindex can map: always, except
    /// for a byte-mapping vindex on a column that is not an integer column.
    fn numbers_numeric(&self) -> bool {
        self.integer_vindex || self.column == Some(ColumnClass::Integer)
    }

    /// Whether strings are read as numbers: against an integer column, or an integer vindex's
    /// column of unknown type.
    fn strings_numeric(&self) -> bool {
        match self.column {
            Some(ColumnClass::Integer) => true,
            None => self.integer_vindex,
            _ => false,
        }
    }

    /// `column = v`: see the module documentation.
    pub fn compare(&self, v: SqlValue) -> Compared {
        let ty = v.ty();
        if ty == SqlType::Null {
            return Compared::Value(v);
        }
        if ty.is_integral() {
            if !self.numbers_numeric() && self.column.is_some() {
                return Compared::Unroutable(format!(
                    "the number {} compared with a non-integer column (MariaDB compares numerically)",
                    shown(&v)
                ));
            }
            return Compared::Value(v);
        }
        if matches!(ty, SqlType::Float64 | SqlType::Float32 | SqlType::Decimal) {
            if !self.numbers_numeric() {
                return Compared::Unroutable(format!(
                    "the {} {} compared with a non-integer column",
                    type_word(ty),
                    shown(&v)
                ));
            }
            return match exact_number(&v) {
                Some(Num::Integer(n)) if fits_exact(ty, n) => match int_value(n) {
                    Some(iv) => Compared::Value(iv),
                    None => too_large(&v),
                },
                Some(Num::Fraction) => Compared::NoMatch,
                _ => too_large(&v),
            };
        }
        if is_string(ty) && self.strings_numeric() {
            let canonical = integer_text(&v);
            if let Some(iv) = canonical {
                return Compared::Value(iv);
            }
            return match decimal(v.raw()) {
                Some(d) => match d.integer() {
                    Some(n) if n.unsigned_abs() < 1 << 53 => match int_value(n) {
                        Some(iv) => Compared::Value(iv),
                        None => too_large(&v),
                    },
                    Some(_) => too_large(&v),
                    None if d.significant_digits() <= 15 => Compared::NoMatch,
                    None => too_large(&v),
                },
                None if self.column == Some(ColumnClass::Integer) => {
                    Compared::Unroutable(format!(
                        "the string {} compared with an integer column (MariaDB reads its numeric prefix)",
                        shown(&v)
                    ))
                }
                None => Compared::Value(v),
            };
        }
        Compared::Value(v)
    }

    /// The value the column holds after storing `v`: see the module documentation.
    pub fn store(&self, v: SqlValue) -> Result<SqlValue, String> {
        let ty = v.ty();
        let integer_column = self.column == Some(ColumnClass::Integer);
        match ty {
            SqlType::Float64 | SqlType::Float32 => {
                let d =
                    float(&v).ok_or_else(|| format!("the DOUBLE {} is not a number", shown(&v)))?;
                if integer_column {
                    let r = d.round_ties_even();
                    return rounded(r).ok_or_else(|| out_of_range(&v));
                }
                if d.fract() == 0.0 && d.abs() < PLAIN_DOUBLE_TEXT {
                    return rounded(d).ok_or_else(|| out_of_range(&v));
                }
                Err(format!(
                    "the DOUBLE {} for a sharding column that is not an integer column (the proxy cannot reproduce the value MariaDB stores)",
                    shown(&v)
                ))
            }
            SqlType::Decimal => {
                let Some(d) = decimal(v.raw()) else {
                    return Ok(v);
                };
                if integer_column {
                    return d
                        .rounded_half_away()
                        .and_then(int_value)
                        .ok_or_else(|| out_of_range(&v));
                }
                match d.integer() {
                    Some(n) if self.integer_vindex => int_value(n).ok_or_else(|| out_of_range(&v)),
                    _ => Ok(v),
                }
            }
            _ if is_string(ty) && integer_column => {
                if let Some(iv) = integer_text(&v) {
                    return Ok(iv);
                }
                match decimal(v.raw()) {
                    Some(d) => d
                        .rounded_half_away()
                        .and_then(int_value)
                        .ok_or_else(|| out_of_range(&v)),
                    None => Ok(v),
                }
            }
            _ => Ok(v),
        }
    }
}

/// A string that is exactly a decimal integer in MySQL's canonical form (`-5`, not `007`)
/// as that integer; None otherwise or for other types.
pub fn integer_text(v: &SqlValue) -> Option<SqlValue> {
    if !is_string(v.ty()) {
        return None;
    }
    let text = std::str::from_utf8(v.raw()).ok()?;
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Ok(i) = text.parse::<i64>() {
        if i.to_string() == text {
            return Some(SqlValue::int64(i));
        }
    }
    if let Ok(u) = text.parse::<u64>() {
        if u.to_string() == text {
            return Some(SqlValue::uint64(u));
        }
    }
    None
}

fn is_string(ty: SqlType) -> bool {
    matches!(ty, SqlType::VarChar | SqlType::VarBinary | SqlType::Char)
}

fn type_word(ty: SqlType) -> &'static str {
    if ty == SqlType::Decimal {
        "DECIMAL"
    } else {
        "DOUBLE"
    }
}

/// The value as the client wrote it, for messages.
fn shown(v: &SqlValue) -> String {
    let text = String::from_utf8_lossy(v.raw());
    let text: String = text.chars().take(40).collect();
    if is_string(v.ty()) {
        format!("'{text}'")
    } else {
        text
    }
}

fn too_large(v: &SqlValue) -> Compared {
    Compared::Unroutable(format!(
        "the {} {} beyond the integers a DOUBLE holds exactly",
        if is_string(v.ty()) {
            "string"
        } else {
            type_word(v.ty())
        },
        shown(v)
    ))
}

fn out_of_range(v: &SqlValue) -> String {
    format!(
        "the value {} out of the range the proxy stores exactly for an integer sharding column",
        shown(v)
    )
}

/// An integer as INT64 (or UINT64 above `i64::MAX`); None beyond `u64`.
fn int_value(n: i128) -> Option<SqlValue> {
    if let Ok(i) = i64::try_from(n) {
        return Some(SqlValue::int64(i));
    }
    u64::try_from(n).ok().map(SqlValue::uint64)
}

/// An integral DOUBLE in the signed BIGINT range as INT64.
fn rounded(r: f64) -> Option<SqlValue> {
    // -2^63 ≤ r < 2^63 (both bounds are exact doubles).
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&r) {
        Some(SqlValue::int64(r as i64))
    } else {
        None
    }
}

/// Whether an integer read from a value of type `ty` stands for itself: a DOUBLE only below
/// 2^53.
fn fits_exact(ty: SqlType, n: i128) -> bool {
    ty == SqlType::Decimal || n.unsigned_abs() < 1 << 53
}

fn float(v: &SqlValue) -> Option<f64> {
    let text = std::str::from_utf8(v.raw()).ok()?;
    text.trim().parse::<f64>().ok().filter(|d| d.is_finite())
}

/// A number read from a DOUBLE or DECIMAL value.
enum Num {
    /// An integral value.
    Integer(i128),
    /// A value with a fractional part.
    Fraction,
}

fn exact_number(v: &SqlValue) -> Option<Num> {
    if v.ty() == SqlType::Decimal {
        let d = decimal(v.raw())?;
        return Some(match d.integer() {
            Some(n) => Num::Integer(n),
            None if d.has_fraction() => Num::Fraction,
            None => return None,
        });
    }
    let d = float(v)?;
    if d.fract() != 0.0 {
        return Some(Num::Fraction);
    }
    if d.abs() >= EXACT_DOUBLE {
        return None;
    }
    Some(Num::Integer(d as i128))
}

/// An exact decimal number: `digits × 10^exponent`, digits without leading zeros.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

/// The most integer digits an integer reading may have (beyond `u64` is out of range anyway).
const MAX_INTEGER_DIGITS: i64 = 21;

/// Reads `[ \t]*[+-]?digits[.digits][(e|E)[+-]digits][ \t]*` (at least one digit) exactly;
/// None for anything else.
fn decimal(raw: &[u8]) -> Option<Decimal> {
    let text = std::str::from_utf8(raw).ok()?;
    let text = text.trim_matches(|c| c == ' ' || c == '\t');
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part) {
        return None;
    }
    let mut exponent: i64 = match exp {
        Some(e) => {
            let (neg, digits) = match e.as_bytes().first()? {
                b'-' => (true, &e[1..]),
                b'+' => (false, &e[1..]),
                _ => (false, e),
            };
            if digits.is_empty() || !all_digits(digits) || digits.len() > 6 {
                return None;
            }
            let n: i64 = digits.parse().ok()?;
            if neg {
                -n
            } else {
                n
            }
        }
        None => 0,
    };
    exponent -= i64::try_from(frac_part.len()).ok()?;
    let mut digits: Vec<u8> = int_part
        .bytes()
        .chain(frac_part.bytes())
        .map(|b| b - b'0')
        .skip_while(|&d| d == 0)
        .collect();
    while digits.last() == Some(&0) {
        digits.pop();
        exponent += 1;
    }
    if digits.is_empty() {
        exponent = 0;
    }
    Some(Decimal {
        negative,
        digits,
        exponent,
    })
}

impl Decimal {
    /// Digits before the point (may be ≤ 0).
    fn integer_digits(&self) -> i64 {
        self.digits.len() as i64 + self.exponent
    }

    fn has_fraction(&self) -> bool {
        self.exponent < 0
    }

    fn significant_digits(&self) -> usize {
        self.digits.len()
    }

    /// The value when it is an integer of at most [`MAX_INTEGER_DIGITS`] digits.
    fn integer(&self) -> Option<i128> {
        if self.has_fraction() || self.integer_digits() > MAX_INTEGER_DIGITS {
            return None;
        }
        let mut n: i128 = 0;
        for &d in &self.digits {
            n = n * 10 + i128::from(d);
        }
        for _ in 0..self.exponent {
            n *= 10;
        }
        Some(if self.negative { -n } else { n })
    }

    /// The integer MariaDB stores for this value in an integer column (half away from zero),
    /// when it has at most [`MAX_INTEGER_DIGITS`] digits.
    fn rounded_half_away(&self) -> Option<i128> {
        if !self.has_fraction() {
            return self.integer();
        }
        let keep = self.integer_digits();
        if keep > MAX_INTEGER_DIGITS {
            return None;
        }
        let mut n: i128 = 0;
        let kept = usize::try_from(keep.max(0)).ok()?;
        for &d in self.digits.iter().take(kept) {
            n = n * 10 + i128::from(d);
        }
        let first_dropped = if keep < 0 {
            0
        } else {
            self.digits.get(kept).copied().unwrap_or(0)
        };
        if first_dropped >= 5 {
            n += 1;
        }
        Some(if self.negative { -n } else { n })
    }
}

#[cfg(test)]
mod tests;

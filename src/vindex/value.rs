//! The SQL value model vindexes work on, mirroring Vitess's `sqltypes.Value`.
//!
//! A value is a *(type, raw bytes)* pair whose bytes hold the MySQL textual form: INT64 `-1` is
//! the bytes `"-1"`, VARCHAR holds its raw bytes and NULL is the empty string with type NULL.
//! Vindexes never look at a parsed number directly; they convert the text with one of three
//! rules, each reproduced here exactly:
//!
//! * [`SqlValue::to_bytes`]: the raw bytes, except HEXVAL / HEXNUM (hex-decoded), BITNUM
//!   (minimal big-endian integer bytes) and EXPRESSION (an error);
//! * [`SqlValue::to_cast_u64`]: Vitess's "fastparse" unsigned parse of the text, whatever the type;
//! * [`SqlValue::to_signed_i64`]: Go's `strconv.ParseInt(text, 10, 64)`, used by `hash` for
//!   signed integral types.

use std::borrow::Cow;

use super::{SqlType, VindexError};

/// A SQL value: its type and the raw bytes of its MySQL textual form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SqlValue {
    ty: SqlType,
    raw: Vec<u8>,
}

impl SqlValue {
    /// A value of any type from its raw bytes, taken as they are (no validation).
    pub fn new(ty: SqlType, raw: impl Into<Vec<u8>>) -> Self {
        SqlValue {
            ty,
            raw: raw.into(),
        }
    }

    /// SQL NULL: type NULL with empty raw bytes.
    pub fn null() -> Self {
        Self::new(SqlType::Null, Vec::new())
    }

    /// An INT64 holding `n` as decimal text.
    pub fn int64(n: i64) -> Self {
        Self::new(SqlType::Int64, n.to_string())
    }

    /// An INT32 holding `n` as decimal text.
    pub fn int32(n: i32) -> Self {
        Self::new(SqlType::Int32, n.to_string())
    }

    /// A UINT64 holding `n` as decimal text.
    pub fn uint64(n: u64) -> Self {
        Self::new(SqlType::Uint64, n.to_string())
    }

    /// A FLOAT64 holding `f` formatted like Go's `strconv.FormatFloat(f, 'g', -1, 64)`.
    pub fn float64(f: f64) -> Self {
        Self::new(SqlType::Float64, format_go_float(f))
    }

    /// A VARCHAR holding `b`.
    pub fn varchar(b: impl Into<Vec<u8>>) -> Self {
        Self::new(SqlType::VarChar, b)
    }

    /// A VARBINARY holding `b`.
    pub fn varbinary(b: impl Into<Vec<u8>>) -> Self {
        Self::new(SqlType::VarBinary, b)
    }

    /// A HEXVAL literal as written, e.g. `x'9efa'`.
    pub fn hexval(text: &str) -> Self {
        Self::new(SqlType::HexVal, text)
    }

    /// A HEXNUM literal as written, e.g. `0x9efa`.
    pub fn hexnum(text: &str) -> Self {
        Self::new(SqlType::HexNum, text)
    }

    /// A BITNUM literal as written, e.g. `0b101`.
    pub fn bitnum(text: &str) -> Self {
        Self::new(SqlType::BitNum, text)
    }

    /// The value's type.
    pub fn ty(&self) -> SqlType {
        self.ty
    }

    /// The raw bytes (the textual form).
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// True for SQL NULL.
    pub fn is_null(&self) -> bool {
        self.ty == SqlType::Null
    }

    /// Vitess's `ToBytes`: the raw bytes, with HEXVAL/HEXNUM hex-decoded, BITNUM turned into
    /// its minimal big-endian bytes and EXPRESSION rejected.
    pub fn to_bytes(&self) -> Result<Cow<'_, [u8]>, VindexError> {
        match self.ty {
            SqlType::Expression => Err(VindexError::Value(format!(
                "expression cannot be converted to bytes: {}",
                String::from_utf8_lossy(&self.raw)
            ))),
            SqlType::HexVal => {
                let digits = self
                    .raw
                    .strip_prefix(b"x'")
                    .or_else(|| self.raw.strip_prefix(b"X'"))
                    .and_then(|r| r.strip_suffix(b"'"));
                match digits {
                    Some(d) => decode_hex(d).map(Cow::Owned),
                    None => Err(self.malformed("HEXVAL")),
                }
            }
            SqlType::HexNum => {
                let digits = self
                    .raw
                    .strip_prefix(b"0x")
                    .or_else(|| self.raw.strip_prefix(b"0X"));
                match digits {
                    Some(d) => decode_hex(d).map(Cow::Owned),
                    None => Err(self.malformed("HEXNUM")),
                }
            }
            SqlType::BitNum => match self
                .raw
                .strip_prefix(b"0b")
                .or_else(|| self.raw.strip_prefix(b"0B"))
            {
                Some(d) if !d.is_empty() => decode_bits(d)
                    .map(Cow::Owned)
                    .ok_or_else(|| self.malformed("BITNUM")),
                _ => Err(self.malformed("BITNUM")),
            },
            _ => Ok(Cow::Borrowed(&self.raw)),
        }
    }

    /// Vitess's `ToCastUint64`: the "fastparse" unsigned parse of the raw text, whatever the
    /// type. Leading and trailing spaces/tabs are allowed; signs, fractions and exponents are
    /// not; NULL and the empty string fail.
    pub fn to_cast_u64(&self) -> Result<u64, VindexError> {
        let s = &self.raw;
        let err = |why: &str| {
            VindexError::Value(format!(
                "cannot parse uint64 from {:?}{why}",
                String::from_utf8_lossy(s)
            ))
        };
        let mut i = s.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
        let start = i;
        let mut n: u64 = 0;
        while let Some(d) = s.get(i).filter(|c| c.is_ascii_digit()) {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
                .ok_or_else(|| err(": overflow"))?;
            i += 1;
        }
        if i == start {
            return Err(err(""));
        }
        if s[i..].iter().any(|&c| c != b' ' && c != b'\t') {
            return Err(err(": unparsed tail"));
        }
        Ok(n)
    }

    /// Go's `strconv.ParseInt(text, 10, 64)`: an optional sign then decimal digits only.
    pub fn to_signed_i64(&self) -> Result<i64, VindexError> {
        let err = || {
            VindexError::Value(format!(
                "cannot parse int64 from {:?}",
                String::from_utf8_lossy(&self.raw)
            ))
        };
        let (neg, digits) = match self.raw.first() {
            Some(b'-') => (true, &self.raw[1..]),
            Some(b'+') => (false, &self.raw[1..]),
            _ => (false, &self.raw[..]),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(err());
        }
        let mut mag: u64 = 0;
        for &d in digits {
            mag = mag
                .checked_mul(10)
                .and_then(|m| m.checked_add(u64::from(d - b'0')))
                .ok_or_else(err)?;
        }
        if neg {
            0i64.checked_sub_unsigned(mag).ok_or_else(err)
        } else {
            i64::try_from(mag).map_err(|_| err())
        }
    }

    fn malformed(&self, what: &str) -> VindexError {
        VindexError::Value(format!(
            "malformed {what} literal: {}",
            String::from_utf8_lossy(&self.raw)
        ))
    }
}

/// Decodes an even number of hex digits (either case).
fn decode_hex(digits: &[u8]) -> Result<Vec<u8>, VindexError> {
    if !digits.len().is_multiple_of(2) {
        return Err(VindexError::Value(format!(
            "odd number of hex digits in {:?}",
            String::from_utf8_lossy(digits)
        )));
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| {
                    VindexError::Value(format!(
                        "invalid hex digits {:?}",
                        String::from_utf8_lossy(digits)
                    ))
                })
        })
        .collect()
}

/// Reads binary digits as a big integer and returns its minimal big-endian bytes (zero → empty).
fn decode_bits(digits: &[u8]) -> Option<Vec<u8>> {
    if !digits.iter().all(|&c| c == b'0' || c == b'1') {
        return None;
    }
    let significant = &digits[digits.iter().take_while(|&&c| c == b'0').count()..];
    let mut out = Vec::with_capacity(significant.len().div_ceil(8));
    // Left-pad to whole bytes by starting the bit counter at the pad width.
    let mut filled = (8 - significant.len() % 8) % 8;
    let mut byte = 0u8;
    for &c in significant {
        byte = (byte << 1) | (c - b'0');
        filled += 1;
        if filled == 8 {
            out.push(byte);
            byte = 0;
            filled = 0;
        }
    }
    Some(out)
}

/// Formats a float like Go's `strconv.FormatFloat(f, 'g', -1, 64)`: the shortest round-trip
/// digits, in exponent form (`1e+06`) when the decimal exponent is below -4 or at least 6.
fn format_go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-1.2345e-5".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    const EPREC: i32 = 6;
    if !(-4..EPREC).contains(&exp) {
        let (head, tail) = digits.split_at(1);
        let frac = if tail.is_empty() {
            String::new()
        } else {
            format!(".{tail}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{head}{frac}e{esign}{:02}", exp.abs());
    }
    if exp < 0 {
        let zeros = "0".repeat((-exp - 1) as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let int_len = (exp + 1) as usize;
    if digits.len() <= int_len {
        format!("{sign}{digits}{}", "0".repeat(int_len - digits.len()))
    } else {
        let (i, fpart) = digits.split_at(int_len);
        format!("{sign}{i}.{fpart}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cast(ty: SqlType, s: &str) -> Option<u64> {
        SqlValue::new(ty, s).to_cast_u64().ok()
    }

    #[test]
    fn cast_u64_follows_fastparse() {
        assert_eq!(cast(SqlType::VarChar, " 7\t"), Some(7));
        assert_eq!(
            cast(SqlType::Uint64, "18446744073709551615"),
            Some(u64::MAX)
        );
        for bad in [
            "1.0",
            "1e3",
            "0x10",
            "-1",
            "+1",
            "",
            " ",
            "18446744073709551616",
            "7 x",
        ] {
            assert_eq!(cast(SqlType::VarChar, bad), None, "{bad:?}");
        }
        assert!(SqlValue::null().to_cast_u64().is_err());
    }

    #[test]
    fn signed_parse_follows_go() {
        let p = |s: &str| SqlValue::new(SqlType::Int64, s).to_signed_i64().ok();
        assert_eq!(p("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(p("+5"), Some(5));
        assert_eq!(p("9223372036854775808"), None);
        assert_eq!(p(" 5"), None);
        assert_eq!(p("-"), None);
    }

    #[test]
    fn to_bytes_decodes_literals() {
        let b = |v: SqlValue| v.to_bytes().map(|c| c.into_owned()).ok();
        assert_eq!(b(SqlValue::hexval("x'9efa'")), Some(vec![0x9e, 0xfa]));
        assert_eq!(b(SqlValue::hexval("X'9EFA'")), Some(vec![0x9e, 0xfa]));
        assert_eq!(b(SqlValue::hexnum("0x9efa")), Some(vec![0x9e, 0xfa]));
        assert_eq!(b(SqlValue::hexnum("0x9ef")), None);
        assert_eq!(b(SqlValue::hexval("x'9ef'")), None);
        assert_eq!(b(SqlValue::bitnum("0b101")), Some(vec![5]));
        assert_eq!(b(SqlValue::bitnum("0b000100000001")), Some(vec![1, 1]));
        assert_eq!(b(SqlValue::bitnum("0b11111111")), Some(vec![0xff]));
        assert_eq!(b(SqlValue::bitnum("0b0")), Some(vec![]));
        assert_eq!(b(SqlValue::bitnum("0b102")), None);
        assert_eq!(b(SqlValue::new(SqlType::Expression, "a+1")), None);
        assert_eq!(b(SqlValue::null()), Some(vec![]));
        assert_eq!(b(SqlValue::int64(-1)), Some(b"-1".to_vec()));
    }

    #[test]
    fn floats_format_like_go() {
        let f = |x: f64| SqlValue::float64(x).raw().to_vec();
        assert_eq!(f(1.0), b"1");
        assert_eq!(f(1.1), b"1.1");
        assert_eq!(f(-0.5), b"-0.5");
        assert_eq!(f(1e21), b"1e+21");
        assert_eq!(f(1e6), b"1e+06");
        assert_eq!(f(123456.0), b"123456");
        assert_eq!(f(123456789.0), b"1.23456789e+08");
        assert_eq!(f(0.0001), b"0.0001");
        assert_eq!(f(0.00001), b"1e-05");
    }
}

//! SQL literals for the SQL the proxy writes itself (scatter interpolation of prepared-statement
//! parameters, lookup reads and writes, reclaim probes, verify/repair, backfill).
//!
//! Every literal is correct under every `sql_mode` and every connection character set:
//!
//! * strings are hex literals with a character-set introducer naming the character set their
//!   bytes are in, e.g. `_gbk X'd6d0'` or `_utf8mb4 X'616263'`. No quote, backslash or
//!   multibyte lead byte of the value ever reaches the SQL text, so `NO_BACKSLASH_ESCAPES`,
//!   `ANSI_QUOTES` and GBK/SJIS/BIG5 trail bytes cannot change where the literal ends. The
//!   introducer keeps it a *character* string (coercibility 4, like a quoted literal), so a
//!   comparison with a `_ci` column stays case-insensitive; a bare `X'..'` would be binary;
//! * binary strings (charset 63, BLOB/VARBINARY cells) are `_binary X'..'`;
//! * numbers are written only when they are well-formed numbers; NaN and ±infinity are an
//!   error, never a bare word;
//! * dates and times are built from their integer fields only (`'2024-02-29 13:14:15.500000'`).
//!
//! Hex literals were chosen over backend prepared statements because the generated SQL goes
//! through the same text-protocol paths as the client's own text (scatter, lookup queries,
//! `VEXPLAIN QUERIES` logging) and needs no extra prepare round trip per statement.

use crate::vindex::{SqlType, SqlValue};
use mysql_common::value::Value;

/// A MariaDB character set, by the name its introducer uses (`_gbk`, `_utf8mb3`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Charset(&'static str);

/// Every character set MariaDB 10.x knows (`SHOW CHARACTER SET`), by canonical name.
const CHARSETS: &[&str] = &[
    "armscii8", "ascii", "big5", "binary", "cp1250", "cp1251", "cp1256", "cp1257", "cp850",
    "cp852", "cp866", "cp932", "dec8", "eucjpms", "euckr", "gb2312", "gbk", "geostd8", "greek",
    "hebrew", "hp8", "keybcs2", "koi8r", "koi8u", "latin1", "latin2", "latin5", "latin7", "macce",
    "macroman", "sjis", "swe7", "tis620", "ucs2", "ujis", "utf16", "utf16le", "utf32", "utf8mb3",
    "utf8mb4",
];

impl Charset {
    /// `utf8mb4`, the character set of pooled backend connections.
    pub const UTF8MB4: Charset = Charset("utf8mb4");
    /// `binary` (character set number 63).
    pub const BINARY: Charset = Charset("binary");
    /// `utf8mb3`, the character set of MariaDB's metadata functions (`DATABASE()`, `USER()`).
    pub const UTF8MB3: Charset = Charset("utf8mb3");

    /// The character set called `name` (any case, quotes allowed; `utf8` means `utf8mb3`).
    pub fn from_name(name: &str) -> Option<Charset> {
        let name = name
            .trim()
            .trim_matches(['\'', '"', '`'])
            .to_ascii_lowercase();
        let name = match name.as_str() {
            "utf8" => "utf8mb3",
            other => other,
        };
        CHARSETS.iter().find(|c| **c == name).map(|c| Charset(c))
    }

    /// The character set of collation number `id` (as in the handshake or a column).
    pub fn from_collation_id(id: u16) -> Option<Charset> {
        let coll = mysql_common::collations::Collation::resolve(id.into());
        Charset::from_name(coll.charset())
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        self.0
    }

    /// Whether text in this character set is UTF-8 (byte-identical to `utf8mb4` text).
    pub fn is_utf8(self) -> bool {
        matches!(self.0, "utf8mb4" | "utf8mb3")
    }
}

/// Why a value cannot be written as an SQL literal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiteralError {
    /// NaN or an infinity (MariaDB has no such DOUBLE value).
    #[error("a {0} DOUBLE parameter is not a number MariaDB can store")]
    NotFinite(&'static str),
    /// A date or time whose fields are out of range.
    #[error("malformed {0} parameter")]
    BadTemporal(&'static str),
}

/// Bytes as a plain hex literal `X'..'` (keyspace ids; binary in string context, a number in
/// numeric context).
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(3 + bytes.len() * 2);
    out.push_str("X'");
    push_hex(&mut out, bytes);
    out.push('\'');
    out
}

/// A character string whose bytes are in `charset`: `_<charset> X'..'`.
pub fn string(bytes: &[u8], charset: Charset) -> String {
    let mut out = String::with_capacity(charset.0.len() + 4 + bytes.len() * 2);
    out.push('_');
    out.push_str(charset.0);
    out.push_str(" X'");
    push_hex(&mut out, bytes);
    out.push('\'');
    out
}

/// A binary string: `_binary X'..'`.
pub fn binary(bytes: &[u8]) -> String {
    string(bytes, Charset::BINARY)
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
}

/// A finite double in exponent form (`1.5e0`), which MariaDB reads as a DOUBLE literal, the
/// type a DOUBLE parameter has. NaN and infinities are an error.
pub fn double(f: f64) -> Result<String, LiteralError> {
    if f.is_nan() {
        return Err(LiteralError::NotFinite("NaN"));
    }
    if f.is_infinite() {
        return Err(LiteralError::NotFinite("infinite"));
    }
    Ok(format!("{f:e}"))
}

/// A prepared-statement parameter as a literal; strings are taken to be in `charset` (the
/// session's `character_set_client`, the encoding clients send parameters in). Bytes that are
/// not text in `charset` (binary data bound to a VARBINARY or BLOB column) are a binary
/// string, which MariaDB compares and stores byte for byte as it does such a parameter.
pub fn param(v: &Value, charset: Charset) -> Result<String, LiteralError> {
    Ok(match v {
        Value::NULL => "NULL".into(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => double(f64::from(*f))?,
        Value::Double(d) => double(*d)?,
        Value::Bytes(b) if fits(b, charset) => string(b, charset),
        Value::Bytes(b) => binary(b),
        Value::Date(y, mo, d, h, mi, s, us) => {
            if *y > 9999 || *mo > 12 || *d > 31 || *h > 23 || *mi > 59 || *s > 59 || *us > 999_999 {
                return Err(LiteralError::BadTemporal("DATETIME"));
            }
            let mut out = format!("'{y:04}-{mo:02}-{d:02}");
            if (*h, *mi, *s, *us) != (0, 0, 0, 0) {
                out.push_str(&format!(" {h:02}:{mi:02}:{s:02}"));
                if *us != 0 {
                    out.push_str(&format!(".{us:06}"));
                }
            }
            out.push('\'');
            out
        }
        Value::Time(neg, days, h, mi, s, us) => {
            let hours = u64::from(*days) * 24 + u64::from(*h);
            if hours > 838 || *h > 23 || *mi > 59 || *s > 59 || *us > 999_999 {
                return Err(LiteralError::BadTemporal("TIME"));
            }
            let sign = if *neg { "-" } else { "" };
            let mut out = format!("'{sign}{hours:02}:{mi:02}:{s:02}");
            if *us != 0 {
                out.push_str(&format!(".{us:06}"));
            }
            out.push('\'');
            out
        }
    })
}

/// A vindex value as a literal; character strings are taken to be in `charset` (the
/// character set of the connection the value came from or goes to).
///
/// Numbers are written as numbers only when their text is a well-formed number; anything else
/// (a malformed number, a temporal, an expression's text) becomes a string literal.
pub fn value(v: &SqlValue, charset: Charset) -> String {
    let raw = v.raw();
    let ty = v.ty();
    match ty {
        SqlType::Null => "NULL".into(),
        t if t.is_integral() && is_integer(raw) => text(raw),
        SqlType::Decimal if is_decimal(raw) => text(raw),
        t if t.is_float() && is_float(raw) => text(raw),
        SqlType::HexVal => match v.to_bytes() {
            Ok(bytes) => hex(&bytes),
            Err(_) => string(raw, charset),
        },
        SqlType::HexNum => match v.to_bytes() {
            Ok(bytes) if !bytes.is_empty() => {
                let mut out = String::from("0x");
                push_hex(&mut out, &bytes);
                out
            }
            _ => string(raw, charset),
        },
        SqlType::BitNum if is_bitnum(raw) => text(raw),
        // VARBINARY is both a binary column's cell and a string parameter of unknown column
        // type: text valid in the connection's character set is written in it (a comparison
        // or an insert then converts it to the column's character set as MariaDB would the
        // parameter), anything else is binary.
        SqlType::VarBinary | SqlType::Binary | SqlType::Blob | SqlType::Geometry
            if !fits(raw, charset) =>
        {
            binary(raw)
        }
        _ => string(raw, charset),
    }
}

/// Whether `raw` can be written as a `charset` string: valid UTF-8 in utf8mb3/utf8mb4 (4-byte characters only in utf8mb4), and
/// anything in a legacy multibyte or single-byte character set (MariaDB rejects a malformed
/// one with error 1300 rather than storing other bytes).
fn fits(raw: &[u8], charset: Charset) -> bool {
    match charset.name() {
        "binary" => false,
        "utf8mb4" => std::str::from_utf8(raw).is_ok(),
        "utf8mb3" => std::str::from_utf8(raw).is_ok_and(|t| t.chars().all(|c| c.len_utf8() < 4)),
        _ => true,
    }
}

fn text(raw: &[u8]) -> String {
    // Only called on ASCII digits, signs, '.', 'e' and 'b' (checked by the callers).
    raw.iter().map(|&b| b as char).collect()
}

fn digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// `-?[0-9]+`
fn is_integer(raw: &[u8]) -> bool {
    digits(raw.strip_prefix(b"-").unwrap_or(raw))
}

/// `-?[0-9]+(\.[0-9]+)?`
fn is_decimal(raw: &[u8]) -> bool {
    let t = raw.strip_prefix(b"-").unwrap_or(raw);
    match t.iter().position(|&b| b == b'.') {
        Some(dot) => digits(&t[..dot]) && digits(&t[dot + 1..]),
        None => digits(t),
    }
}

/// `-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?`
fn is_float(raw: &[u8]) -> bool {
    match raw.iter().position(|&b| b == b'e' || b == b'E') {
        Some(e) => {
            let exp = &raw[e + 1..];
            let exp = exp
                .strip_prefix(b"-")
                .or_else(|| exp.strip_prefix(b"+"))
                .unwrap_or(exp);
            is_decimal(&raw[..e]) && digits(exp)
        }
        None => is_decimal(raw),
    }
}

/// `0[bB][01]+`
fn is_bitnum(raw: &[u8]) -> bool {
    raw.len() > 2
        && raw[0] == b'0'
        && (raw[1] == b'b' || raw[1] == b'B')
        && raw[2..].iter().all(|&b| b == b'0' || b == b'1')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_hex_with_an_introducer() {
        let gbk = Charset::from_name("GBK").expect("gbk");
        assert_eq!(string(b"", Charset::UTF8MB4), "_utf8mb4 X''");
        assert_eq!(string(&[0xd6, 0xd0, b'\''], gbk), "_gbk X'd6d027'");
        assert_eq!(binary(&[0, 0xff]), "_binary X'00ff'");
        assert_eq!(hex(&[0x16, 0x6b]), "X'166b'");
        let attack = "' OR 1=1 -- \\";
        let lit = string(attack.as_bytes(), Charset::UTF8MB4);
        let digits = lit
            .strip_prefix("_utf8mb4 X'")
            .and_then(|r| r.strip_suffix('\''))
            .expect("shape");
        assert!(digits.bytes().all(|b| b.is_ascii_hexdigit()), "{lit}");
    }

    #[test]
    fn charset_names_and_collations() {
        assert_eq!(
            Charset::from_name("utf8").map(Charset::name),
            Some("utf8mb3")
        );
        assert_eq!(
            Charset::from_name("'latin1'").map(Charset::name),
            Some("latin1")
        );
        assert_eq!(Charset::from_name("x; DROP"), None);
        assert_eq!(Charset::from_collation_id(45), Some(Charset::UTF8MB4));
        assert_eq!(
            Charset::from_collation_id(28).map(Charset::name),
            Some("gbk")
        );
        assert_eq!(
            Charset::from_collation_id(13).map(Charset::name),
            Some("sjis")
        );
        assert_eq!(
            Charset::from_collation_id(1).map(Charset::name),
            Some("big5")
        );
        assert_eq!(
            Charset::from_collation_id(8).map(Charset::name),
            Some("latin1")
        );
        assert_eq!(Charset::from_collation_id(63), Some(Charset::BINARY));
    }

    #[test]
    fn parameters() {
        let u = Charset::UTF8MB4;
        assert_eq!(param(&Value::NULL, u).as_deref(), Ok("NULL"));
        assert_eq!(param(&Value::Int(-5), u).as_deref(), Ok("-5"));
        assert_eq!(
            param(&Value::UInt(u64::MAX), u).as_deref(),
            Ok("18446744073709551615")
        );
        assert_eq!(param(&Value::Double(1.5), u).as_deref(), Ok("1.5e0"));
        assert_eq!(param(&Value::Double(-1e300), u).as_deref(), Ok("-1e300"));
        assert_eq!(param(&Value::Float(0.25), u).as_deref(), Ok("2.5e-1"));
        assert!(param(&Value::Double(f64::NAN), u).is_err());
        assert!(param(&Value::Double(f64::INFINITY), u).is_err());
        assert!(param(&Value::Float(f32::NEG_INFINITY), u).is_err());
        assert_eq!(
            param(&Value::Bytes(b"a'".to_vec()), u).as_deref(),
            Ok("_utf8mb4 X'6127'")
        );
        assert_eq!(
            param(&Value::Bytes(vec![0xff, 0x27]), u).as_deref(),
            Ok("_binary X'ff27'")
        );
        assert_eq!(
            param(&Value::Date(2024, 2, 29, 13, 14, 15, 500_000), u).as_deref(),
            Ok("'2024-02-29 13:14:15.500000'")
        );
        assert_eq!(
            param(&Value::Date(2024, 2, 29, 0, 0, 0, 0), u).as_deref(),
            Ok("'2024-02-29'")
        );
        assert_eq!(
            param(&Value::Time(true, 1, 2, 3, 4, 0), u).as_deref(),
            Ok("'-26:03:04'")
        );
        assert!(param(&Value::Date(2024, 13, 1, 0, 0, 0, 0), u).is_err());
        assert!(param(&Value::Time(false, 40, 0, 0, 0, 0), u).is_err());
    }

    #[test]
    fn vindex_values() {
        let u = Charset::UTF8MB4;
        assert_eq!(value(&SqlValue::int64(-5), u), "-5");
        assert_eq!(value(&SqlValue::null(), u), "NULL");
        assert_eq!(
            value(&SqlValue::varchar(b"it's".to_vec()), u),
            "_utf8mb4 X'69742773'"
        );
        assert_eq!(
            value(&SqlValue::varbinary(vec![0xff, 0]), u),
            "_binary X'ff00'"
        );
        assert_eq!(
            value(&SqlValue::varbinary(b"ab".to_vec()), u),
            "_utf8mb4 X'6162'"
        );
        assert_eq!(value(&SqlValue::new(SqlType::Decimal, "-1.50"), u), "-1.50");
        assert_eq!(value(&SqlValue::new(SqlType::Float64, "1e+20"), u), "1e+20");
        assert_eq!(value(&SqlValue::hexval("x'4A'"), u), "X'4a'");
        assert_eq!(value(&SqlValue::hexnum("0x4a"), u), "0x4a");
        assert_eq!(value(&SqlValue::bitnum("0b101"), u), "0b101");
        // Malformed numbers and literals are strings, never text pasted into the SQL.
        assert_eq!(
            value(&SqlValue::new(SqlType::Int64, "1 OR 1"), u),
            "_utf8mb4 X'31204f522031'"
        );
        assert_eq!(
            value(&SqlValue::new(SqlType::Float64, "NaN"), u),
            "_utf8mb4 X'4e614e'"
        );
        assert_eq!(
            value(&SqlValue::new(SqlType::HexVal, "x'4' OR '"), u),
            "_utf8mb4 X'78273427204f522027'"
        );
        assert_eq!(
            value(&SqlValue::new(SqlType::BitNum, "0b2"), u),
            "_utf8mb4 X'306232'"
        );
    }
}

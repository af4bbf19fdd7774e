//! SQL text for lookup-table queries: values as literals the shard compares the way the
//! owner's column does, and shard result cells back into vindex values.
//!
//! Strings are written as quoted literals (not hex), so a comparison with a `_ci` column is
//! case- and accent-insensitive exactly as the column's own unique key is; keyspace ids are
//! bytes and go as `X'..'`.

use super::ExecError;
use crate::vindex::{SqlType, SqlValue};
use mysql_async::Value;
use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::packets::Column;

/// Replaces each `?` with the SQL literal of the matching parameter.
pub fn interpolate(sql: &str, params: &[Value]) -> Result<String, ExecError> {
    if params.is_empty() {
        return Ok(sql.to_string());
    }
    let mut out = String::with_capacity(sql.len() + 16 * params.len());
    let mut at = 0;
    let mut n = 0;
    for t in crate::sql::tokenize(sql) {
        if t.kind == crate::sql::TokenKind::Param {
            let v = params
                .get(n)
                .ok_or_else(|| ExecError::Internal(format!("parameter {n} is not bound")))?;
            out.push_str(&sql[at..t.start]);
            out.push_str(&v.as_sql(false));
            at = t.end;
            n += 1;
        }
    }
    out.push_str(&sql[at..]);
    Ok(out)
}

/// The binary character set number (BINARY, VARBINARY, BLOB columns).
const BINARY_CHARSET: u16 = 63;

/// A value as an SQL literal.
pub(crate) fn literal(v: &SqlValue) -> String {
    let raw = v.raw();
    match v.ty() {
        SqlType::Null => "NULL".into(),
        t if t.is_integral() || t.is_float() || t == SqlType::Decimal => {
            match std::str::from_utf8(raw) {
                Ok(text) if is_number(text) => text.to_string(),
                _ => hex(raw),
            }
        }
        SqlType::HexVal | SqlType::HexNum | SqlType::BitNum => match std::str::from_utf8(raw) {
            Ok(text) => text.to_string(),
            Err(_) => hex(raw),
        },
        _ => match std::str::from_utf8(raw) {
            Ok(text) => quoted(text),
            Err(_) => hex(raw),
        },
    }
}

/// Bytes as a hex literal `X'..'` (keyspace ids).
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(3 + bytes.len() * 2);
    out.push_str("X'");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out.push('\'');
    out
}

/// A single-quoted string literal with MySQL's backslash escapes.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{1a}' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn is_number(text: &str) -> bool {
    let t = text.strip_prefix('-').unwrap_or(text);
    !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && t.as_bytes()[0].is_ascii_digit()
}

/// A quoted identifier.
pub(crate) fn ident(name: &str) -> String {
    crate::sql::quote_ident(name)
}

/// `a = x AND b = y ...` for columns and literal values (NULL compared with `IS NULL`).
pub(crate) fn conjunction(columns: &[String], values: &[String]) -> String {
    columns
        .iter()
        .zip(values)
        .map(|(c, v)| {
            if v == "NULL" {
                format!("{} IS NULL", ident(c))
            } else {
                format!("{} = {v}", ident(c))
            }
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// A text-protocol result cell as a vindex value typed by its column.
pub(crate) fn cell_value(column: Option<&Column>, cell: &Value) -> SqlValue {
    let bytes = match cell {
        Value::NULL => return SqlValue::null(),
        Value::Bytes(b) => b.clone(),
        Value::Int(i) => return SqlValue::int64(*i),
        Value::UInt(u) => return SqlValue::uint64(*u),
        other => other.as_sql(true).trim_matches('\'').as_bytes().to_vec(),
    };
    let Some(col) = column else {
        return SqlValue::varchar(bytes);
    };
    let unsigned = col.flags().contains(ColumnFlags::UNSIGNED_FLAG);
    use ColumnType::*;
    match col.column_type() {
        MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_LONG | MYSQL_TYPE_INT24
        | MYSQL_TYPE_LONGLONG | MYSQL_TYPE_YEAR => {
            let ty = if unsigned {
                SqlType::Uint64
            } else {
                SqlType::Int64
            };
            SqlValue::new(ty, bytes)
        }
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => SqlValue::new(SqlType::Decimal, bytes),
        MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE => SqlValue::new(SqlType::Float64, bytes),
        _ if col.character_set() == BINARY_CHARSET => SqlValue::varbinary(bytes),
        _ => SqlValue::varchar(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_parameters_as_literals() {
        let out = interpolate(
            "select * from t where a = ? and b in (?, ?) and c = '?'",
            &[Value::Int(5), Value::Bytes(b"x'y".to_vec()), Value::NULL],
        )
        .expect("ok");
        assert_eq!(
            out,
            "select * from t where a = 5 and b in ('x\\'y', NULL) and c = '?'"
        );
        assert!(interpolate("select ?", &[]).is_ok());
        assert!(interpolate("select ?, ?", &[Value::Int(1)]).is_err());
    }

    #[test]
    fn literals_keep_collation_semantics() {
        assert_eq!(literal(&SqlValue::int64(-5)), "-5");
        assert_eq!(literal(&SqlValue::varchar(b"it's".to_vec())), "'it\\'s'");
        assert_eq!(literal(&SqlValue::varbinary(b"ab".to_vec())), "'ab'");
        assert_eq!(literal(&SqlValue::varbinary(vec![0xff, 0x00])), "X'ff00'");
        assert_eq!(literal(&SqlValue::null()), "NULL");
        assert_eq!(hex(&[0x16, 0x6b]), "X'166b'");
    }

    #[test]
    fn conjunction_compares_null_with_is_null() {
        let cols = vec!["name".to_string(), "id".to_string()];
        let vals = vec!["'a'".to_string(), "NULL".to_string()];
        assert_eq!(conjunction(&cols, &vals), "`name` = 'a' AND `id` IS NULL");
    }
}

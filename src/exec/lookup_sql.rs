//! SQL text for lookup-table queries: values as literals the shard compares the way the
//! owner's column does, and shard result cells back into vindex values.
//!
//! Every literal comes from [`crate::sql::literal`]: strings are hex literals with an
//! introducer naming the character set of the connection the value came from (a comparison
//! with a `_ci` column stays case- and accent-insensitive, exactly as the column's own unique
//! key is, and no `sql_mode` or multibyte character set can change where the literal ends);
//! keyspace ids are bytes and go as `X'..'`.

use super::ExecError;
use crate::error::ProxyError;
use crate::sql::literal::{self, Charset};
use crate::vindex::{SqlType, SqlValue};
use mysql_async::Value;
use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::packets::Column;

/// Replaces each `?` with the SQL literal of the matching parameter; string parameters are
/// in `charset` (the session's `character_set_client`). NaN and infinite DOUBLEs are refused
/// (1210, as MariaDB has no such value).
pub fn interpolate(sql: &str, params: &[Value], charset: Charset) -> Result<String, ExecError> {
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
            out.push_str(&param(v, charset)?);
            at = t.end;
            n += 1;
        }
    }
    out.push_str(&sql[at..]);
    Ok(out)
}

/// One prepared-statement parameter as an SQL literal (see [`interpolate`]).
pub(crate) fn param(v: &Value, charset: Charset) -> Result<String, ExecError> {
    literal::param(v, charset).map_err(|e| {
        ExecError::Proxy(ProxyError::WrongArguments(format!(
            "Incorrect arguments to mysqld_stmt_execute: {e}"
        )))
    })
}

/// The binary character set number (BINARY, VARBINARY, BLOB columns).
const BINARY_CHARSET: u16 = 63;

/// A value as an SQL literal; character strings are in `charset` (the character set of the
/// connection the value came from, [`super::Cursor::charset`]).
pub(crate) fn literal(v: &SqlValue, charset: Charset) -> String {
    literal::value(v, charset)
}

/// Bytes as a hex literal `X'..'` (keyspace ids).
pub(crate) fn hex(bytes: &[u8]) -> String {
    literal::hex(bytes)
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

/// Refuses (1235) a result whose text cells the proxy cannot hash as their columns store them:
/// in a session whose character set is not UTF-8, a non-ASCII text cell arrives converted to
/// that character set (a character it lacks becomes `?`, an SJIS `\` two bytes), and a
/// lookup row placed by those bytes (`unicode_loose_md5`) would be looked for on another shard
/// than the one the stored value hashes to. Such cells are non-ASCII or hold a `?`.
pub(crate) fn ensure_cells_hashable(
    result: &super::ShardResult,
    charset: Charset,
) -> Result<(), ExecError> {
    if charset.is_utf8() {
        return Ok(());
    }
    for row in &result.rows {
        for (i, cell) in row.iter().enumerate() {
            let binary = result
                .columns
                .get(i)
                .is_some_and(|c| c.character_set() == BINARY_CHARSET);
            if let Value::Bytes(b) = cell {
                if !binary && (!b.is_ascii() || b.contains(&b'?')) {
                    return Err(ExecError::NotSupported(format!(
                        "changing rows whose lookup vindex columns hold non-ASCII text (or '?') \
                         from a {} client (use utf8mb4)",
                        charset.name()
                    )));
                }
            }
        }
    }
    Ok(())
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
        let u = Charset::UTF8MB4;
        let out = interpolate(
            "select * from t where a = ? and b in (?, ?) and c = '?'",
            &[Value::Int(5), Value::Bytes(b"x'y".to_vec()), Value::NULL],
            u,
        )
        .expect("ok");
        assert_eq!(
            out,
            "select * from t where a = 5 and b in (_utf8mb4 X'782779', NULL) and c = '?'"
        );
        assert!(interpolate("select ?", &[], u).is_ok());
        assert!(interpolate("select ?, ?", &[Value::Int(1)], u).is_err());
        let gbk = Charset::from_name("gbk").expect("gbk");
        assert_eq!(
            interpolate("select ?", &[Value::Bytes(vec![0xd6, b'\\', b'\''])], gbk).expect("ok"),
            "select _gbk X'd65c27'"
        );
        assert!(interpolate("select ?", &[Value::Double(f64::NAN)], u).is_err());
    }

    #[test]
    fn literals_keep_collation_semantics() {
        let u = Charset::UTF8MB4;
        assert_eq!(literal(&SqlValue::int64(-5), u), "-5");
        assert_eq!(
            literal(&SqlValue::varchar(b"it's".to_vec()), u),
            "_utf8mb4 X'69742773'"
        );
        assert_eq!(
            literal(&SqlValue::varbinary(b"ab".to_vec()), u),
            "_utf8mb4 X'6162'"
        );
        assert_eq!(
            literal(&SqlValue::varbinary(vec![0xff, 0x00]), u),
            "_binary X'ff00'"
        );
        assert_eq!(literal(&SqlValue::null(), u), "NULL");
        assert_eq!(hex(&[0x16, 0x6b]), "X'166b'");
    }

    #[test]
    fn conjunction_compares_null_with_is_null() {
        let cols = vec!["name".to_string(), "id".to_string()];
        let vals = vec!["'a'".to_string(), "NULL".to_string()];
        assert_eq!(conjunction(&cols, &vals), "`name` = 'a' AND `id` IS NULL");
    }
}

//! Rows read from shards written back as the VALUES of an INSERT (`INSERT … SELECT`): each
//! value as a literal the planner types and routes like one a client wrote.
//!
//! Numbers go as their digits; dates and times as quoted text (only digits and `-: .`);
//! strings quoted as they are when they hold nothing that quoting would have to escape
//! (no quote, backslash or control byte: no hand-made escaping, whatever the `sql_mode`),
//! else as `_<charset> X'..'`; other binary values as `X'..'`.

use super::{ExecError, ShardResult};
use crate::sql::{literal, Charset};
use mysql_async::Value;
use mysql_common::constants::ColumnType;
use mysql_common::packets::Column;

/// `head VALUES (…), (…) tail` for the rows of `rows`.
pub fn values_statement(
    head: &str,
    rows: &ShardResult,
    tail: &str,
    charset: Charset,
) -> Result<String, ExecError> {
    let mut sql = String::with_capacity(head.len() + tail.len() + rows.rows.len() * 32);
    sql.push_str(head.trim_end());
    sql.push_str(" VALUES ");
    for (r, row) in rows.rows.iter().enumerate() {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&value(rows.columns.get(i), v, charset)?);
        }
        sql.push(')');
    }
    if !tail.is_empty() {
        sql.push(' ');
        sql.push_str(tail);
    }
    Ok(sql)
}

fn value(column: Option<&Column>, v: &Value, charset: Charset) -> Result<String, ExecError> {
    let bytes = match v {
        Value::NULL => return Ok("NULL".into()),
        Value::Bytes(b) => b,
        other => return Err(ExecError::Internal(format!("a text row held {other:?}"))),
    };
    let column =
        column.ok_or_else(|| ExecError::Internal("a row wider than its columns".into()))?;
    let text = std::str::from_utf8(bytes).ok();
    use ColumnType::*;
    let kind = column.column_type();
    let number = super::temp_table::is_number(kind);
    let temporal = matches!(
        kind,
        MYSQL_TYPE_DATE
            | MYSQL_TYPE_NEWDATE
            | MYSQL_TYPE_TIME
            | MYSQL_TYPE_TIME2
            | MYSQL_TYPE_DATETIME
            | MYSQL_TYPE_DATETIME2
            | MYSQL_TYPE_TIMESTAMP
            | MYSQL_TYPE_TIMESTAMP2
    );
    match text {
        Some(t)
            if number && !t.is_empty() && t.bytes().all(|b| b"0123456789+-.eE".contains(&b)) =>
        {
            Ok(t.to_string())
        }
        Some(t) if temporal && t.bytes().all(|b| b"0123456789-:. ".contains(&b)) => {
            Ok(format!("'{t}'"))
        }
        _ if column.character_set() == 63 => Ok(literal::hex(bytes)),
        Some(t) if t.chars().all(|c| !c.is_control() && c != '\'' && c != '\\') => {
            Ok(format!("'{t}'"))
        }
        _ => Ok(literal::string(bytes, charset)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_as_written() {
        let rows = ShardResult {
            columns: vec![
                Column::new(ColumnType::MYSQL_TYPE_LONGLONG).with_character_set(63),
                Column::new(ColumnType::MYSQL_TYPE_VAR_STRING).with_character_set(45),
                Column::new(ColumnType::MYSQL_TYPE_DATETIME).with_character_set(63),
                Column::new(ColumnType::MYSQL_TYPE_BLOB).with_character_set(63),
            ],
            rows: vec![
                vec![
                    Value::Bytes(b"-7".to_vec()),
                    Value::Bytes("zoë".as_bytes().to_vec()),
                    Value::Bytes(b"2024-01-02 03:04:05".to_vec()),
                    Value::Bytes(vec![1, 2]),
                ],
                vec![
                    Value::NULL,
                    Value::Bytes(b"it's".to_vec()),
                    Value::NULL,
                    Value::Bytes(b"'".to_vec()),
                ],
            ],
            ..Default::default()
        };
        let sql =
            values_statement("INSERT INTO t (a, b, c, d) ", &rows, "", Charset::UTF8MB4).unwrap();
        assert_eq!(
            sql,
            "INSERT INTO t (a, b, c, d) VALUES (-7, 'zoë', '2024-01-02 03:04:05', X'0102'), (NULL, _utf8mb4 X'69742773', NULL, X'27')"
        );
    }
}

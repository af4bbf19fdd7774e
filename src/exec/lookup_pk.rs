//! The primary key of an owner table, read from a shard (`SHOW KEYS`): owner DML that
//! maintains lookup vindexes changes exactly the rows it read under lock by naming their
//! primary keys, and ON DUPLICATE KEY UPDATE recognises the row it would update by it.

use super::lookup_sql::{conjunction, ident, literal};
use super::{Cursor, ExecError};
use crate::sql::Charset;
use crate::vindex::SqlValue;

/// The primary key columns of `table` (in key order) as shard `shard` of `keyspace` defines
/// it; empty when the table has none.
pub(crate) async fn primary_key<C: Cursor>(
    cursor: &mut C,
    keyspace: &str,
    shard: usize,
    table: &str,
) -> Result<Vec<String>, ExecError> {
    let sql = format!("SHOW KEYS FROM {} WHERE Key_name = 'PRIMARY'", ident(table));
    let result = cursor.execute(keyspace, shard, sql).await?;
    let position = |name: &str| {
        result
            .columns
            .iter()
            .position(|c| c.name_str().eq_ignore_ascii_case(name))
    };
    let (Some(seq_at), Some(col_at)) = (position("Seq_in_index"), position("Column_name")) else {
        return Err(ExecError::Internal(format!(
            "SHOW KEYS FROM {table} has no Seq_in_index / Column_name column"
        )));
    };
    let text = |cell: Option<&mysql_async::Value>| match cell {
        Some(mysql_async::Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(mysql_async::Value::Int(i)) => i.to_string(),
        Some(mysql_async::Value::UInt(u)) => u.to_string(),
        _ => String::new(),
    };
    let mut key: Vec<(u64, String)> = result
        .rows
        .iter()
        .map(|r| {
            let seq = text(r.get(seq_at)).parse().unwrap_or(u64::MAX);
            (seq, text(r.get(col_at)).to_lowercase())
        })
        .collect();
    key.sort();
    Ok(key.into_iter().map(|(_, c)| c).collect())
}

/// `pk0 = v0 AND … AND pkN = vN`: the one row with these primary key values.
pub(crate) fn key_condition(columns: &[String], values: &[SqlValue], cs: Charset) -> String {
    let values: Vec<String> = values.iter().map(|v| literal(v, cs)).collect();
    conjunction(columns, &values)
}

/// `pk IN (v, …)` or `(pk0, pk1) IN ((v0, v1), …)`: the rows with these primary keys.
pub(crate) fn keys_condition(columns: &[String], rows: &[Vec<SqlValue>], cs: Charset) -> String {
    let tuple = |items: Vec<String>| {
        if items.len() == 1 {
            items.into_iter().next().unwrap_or_default()
        } else {
            format!("({})", items.join(", "))
        }
    };
    let head = tuple(columns.iter().map(|c| ident(c)).collect());
    let list: Vec<String> = rows
        .iter()
        .map(|r| tuple(r.iter().map(|v| literal(v, cs)).collect()))
        .collect();
    format!("{head} IN ({})", list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lists_use_row_constructors_only_for_composite_keys() {
        let one = vec!["id".to_string()];
        let rows = vec![vec![SqlValue::int64(1)], vec![SqlValue::int64(5)]];
        assert_eq!(
            keys_condition(&one, &rows, Charset::UTF8MB4),
            "`id` IN (1, 5)"
        );
        let two = vec!["a".to_string(), "b".to_string()];
        let rows = vec![
            vec![SqlValue::int64(1), SqlValue::varchar(b"x".to_vec())],
            vec![SqlValue::int64(2), SqlValue::varchar(b"y".to_vec())],
        ];
        assert_eq!(
            keys_condition(&two, &rows, Charset::UTF8MB4),
            "(`a`, `b`) IN ((1, _utf8mb4 X'78'), (2, _utf8mb4 X'79'))"
        );
        assert_eq!(
            key_condition(&two, &rows[0], Charset::UTF8MB4),
            "`a` = 1 AND `b` = _utf8mb4 X'78'"
        );
    }
}

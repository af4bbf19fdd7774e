//! Reading one shard's whole answer from a driver connection into a [`ShardResult`], for the
//! [`super::Cursor`] implementations (client sessions, background jobs).

use super::ShardResult;
use mysql_async::prelude::{AsQuery, Queryable};
use mysql_async::{Conn, Value};

/// Runs `sql` and collects its first result set (rows as text values), affected rows, the
/// generated id and the warning count; further result sets are drained.
pub async fn read_result(
    conn: &mut Conn,
    sql: impl AsQuery,
) -> Result<ShardResult, mysql_async::Error> {
    let mut result = conn.query_iter(sql).await?;
    let columns = result.columns().map(|c| c.to_vec()).unwrap_or_default();
    let mut out = ShardResult {
        columns,
        ..ShardResult::default()
    };
    if out.columns.is_empty() {
        out.affected_rows = result.affected_rows();
        out.last_insert_id = result.last_insert_id().unwrap_or(0);
    }
    while let Some(row) = result.next().await? {
        out.rows.push(
            row.unwrap_raw()
                .into_iter()
                .map(|v| v.unwrap_or(Value::NULL))
                .collect(),
        );
    }
    out.warnings = result.warnings();
    while !result.is_empty() {
        let _ = result.next().await?;
    }
    Ok(out)
}

//! Connections for background jobs (lookup backfills and verifies, workflow state, sequence
//! blocks, schema and version reads): the same per-shard wire pool client sessions use, so a
//! shard has one MySQL client and one pool.
//!
//! A job connection is checked out like a session's ([`Shard::session_conn`]: the checkout
//! timeout, a ping after a failure on the shard) and holds one of the pool's `pool_max`
//! permits while it runs a statement or a short exchange. A job that keeps a connection
//! across other work (the backfill's snapshot read, a job's open transaction) calls
//! [`JobConn::hold`]: like a session's transaction connection it then stops counting against
//! `pool_max`, so the job neither starves client statements of permits nor waits on itself
//! when it checks out more connections to the same shard.
//!
//! It is returned like a session's: dropped clean, it goes back to the pool; dropped inside a
//! transaction it began ([`JobConn::begin`] without commit or rollback), or after the
//! connection broke, it is closed (the server rolls the transaction back), never pooled.

use super::{BackendError, Shard, ShardConn, ShardResult};
use mysql_common::packets::Column;
use mysql_common::{Row, Value};
use std::sync::Arc;

/// A shard connection a background job uses; errors come back as [`BackendError`]s naming
/// the shard, and a connection that broke is closed when dropped.
#[derive(Debug)]
pub struct JobConn {
    sc: ShardConn,
}

impl Shard {
    /// Takes a connection for a background job from the shard's pool (see the module doc).
    pub async fn job_conn(self: &Arc<Self>) -> Result<JobConn, BackendError> {
        let conn = self.session_conn().await?;
        Ok(JobConn {
            sc: ShardConn::new(self.clone(), conn),
        })
    }
}

impl JobConn {
    /// The shard (`keyspace/shard`), for messages.
    pub fn label(&self) -> &str {
        &self.sc.shard.label
    }

    /// Stops counting against `pool_max` while the job keeps the connection across other
    /// work; when returned, it rejoins the pool only if there is room (else it is closed).
    pub fn hold(&mut self) {
        self.sc.conn.reserve();
    }

    /// Runs `sql`, discarding any rows.
    pub async fn query_drop(&mut self, sql: &str) -> Result<(), BackendError> {
        let res = self.sc.conn.query_drop(sql).await;
        self.sc.check(res)
    }

    /// Runs `sql` and returns its first result set, rows as text values (`Value::Bytes` or
    /// `Value::NULL`), with affected rows, generated id and warnings.
    pub async fn query_result(&mut self, sql: &str) -> Result<ShardResult, BackendError> {
        let res = self.sc.conn.query_result(sql).await;
        self.sc.check(res)
    }

    /// Runs `sql` and returns the rows of its first result set (text values, readable by
    /// column index or name with [`Row::get`]).
    pub async fn query(&mut self, sql: &str) -> Result<Vec<Row>, BackendError> {
        let res = self.query_result(sql).await?;
        Ok(rows(res.columns, res.rows))
    }

    /// Executes `sql` as a backend prepared statement with `params` (prepared once per
    /// connection), discarding any rows: values never become SQL text.
    pub async fn exec_drop(&mut self, sql: &str, params: &[Value]) -> Result<(), BackendError> {
        let res = self.sc.conn.exec_drop(sql.as_bytes(), params).await;
        self.sc.check(res)
    }

    /// Executes `sql` as a backend prepared statement with `params` and returns the rows of
    /// its first result set (typed values of the binary protocol).
    pub async fn exec(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, BackendError> {
        let res = self.sc.conn.exec_rows(sql.as_bytes(), params).await;
        let (columns, values) = self.sc.check(res)?;
        Ok(rows(columns, values))
    }

    /// Begins a transaction with `sql` (`BEGIN`, `START TRANSACTION WITH CONSISTENT
    /// SNAPSHOT, READ ONLY`, ...). Until [`Self::commit`] or [`Self::rollback`] succeeds, the
    /// connection is closed rather than pooled when dropped.
    pub async fn begin(&mut self, sql: &str) -> Result<(), BackendError> {
        // Marked first: a BEGIN whose answer was lost may still have begun.
        self.sc.in_txn = true;
        self.query_drop(sql).await
    }

    /// Commits the transaction begun with [`Self::begin`].
    pub async fn commit(&mut self) -> Result<(), BackendError> {
        self.end("COMMIT").await
    }

    /// Rolls back the transaction begun with [`Self::begin`].
    pub async fn rollback(&mut self) -> Result<(), BackendError> {
        self.end("ROLLBACK").await
    }

    async fn end(&mut self, sql: &str) -> Result<(), BackendError> {
        self.query_drop(sql).await?;
        self.sc.in_txn = false;
        Ok(())
    }
}

/// Rows sharing one set of column definitions.
fn rows(columns: Vec<Column>, values: Vec<Vec<Value>>) -> Vec<Row> {
    let columns: Arc<[Column]> = columns.into();
    values
        .into_iter()
        .map(|v| mysql_common::row::new_row(v, columns.clone()))
        .collect()
}

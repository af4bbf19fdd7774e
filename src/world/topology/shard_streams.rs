//! The file topology's workflow state, kept on the shards: one row per (workflow, source
//! shard stream) in `_shardgate.vindex_workflows` on the server of the target keyspace's
//! first shard, written after every backfill chunk, so a restarted proxy resumes each stream
//! where it stopped.
//!
//! Several shards (of this and other clusters) may share one server, so rows are keyed by
//! the first target shard's database name as well.

use super::{StreamRow, TopoError};
use crate::backend::{BackendError, Shard};
use crate::error::ProxyError;
use mysql_common::{Row, Value};
use std::sync::Arc;

const CREATE_DB: &str = "CREATE DATABASE IF NOT EXISTS `_shardgate`";
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS `_shardgate`.`vindex_workflows` (
  target_db VARCHAR(128) NOT NULL,
  workflow VARCHAR(255) NOT NULL,
  source_shard VARCHAR(64) NOT NULL,
  state VARCHAR(16) NOT NULL,
  phase VARCHAR(16) NOT NULL,
  message TEXT,
  last_pk TEXT,
  rows_copied BIGINT UNSIGNED NOT NULL DEFAULT 0,
  rows_total BIGINT UNSIGNED NOT NULL DEFAULT 0,
  definition TEXT,
  conflicts BIGINT UNSIGNED NOT NULL DEFAULT 0,
  conflict_values TEXT,
  updated TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (target_db, workflow, source_shard)
)";

fn err(e: BackendError) -> TopoError {
    TopoError::Proxy(Box::new(ProxyError::Backend(e)))
}

/// Creates the state table if needed.
pub async fn ensure(shard: &Arc<Shard>) -> Result<(), TopoError> {
    let mut c = shard.job_conn().await.map_err(err)?;
    c.query_drop(CREATE_DB).await.map_err(err)?;
    c.query_drop(CREATE_TABLE).await.map_err(err)?;
    c.query_drop(MIGRATE).await.map_err(err)?;
    Ok(())
}

/// Brings a table of an older version up to date (MariaDB's `ADD COLUMN IF NOT EXISTS`).
const MIGRATE: &str = "ALTER TABLE `_shardgate`.`vindex_workflows` ADD COLUMN IF NOT EXISTS conflicts BIGINT UNSIGNED NOT NULL DEFAULT 0, ADD COLUMN IF NOT EXISTS conflict_values TEXT";

const REPLACE: &str = "REPLACE INTO `_shardgate`.`vindex_workflows` (target_db, workflow, source_shard, state, phase, message, last_pk, rows_copied, rows_total, definition, conflicts, conflict_values) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// The values of [`REPLACE`]'s parameters (a backend prepared statement: no SQL is built
/// from them).
fn params(shard: &Shard, row: &StreamRow) -> [Value; 12] {
    [
        shard.database.as_str().into(),
        row.workflow.as_str().into(),
        row.source_shard.as_str().into(),
        row.state.as_str().into(),
        row.phase.as_str().into(),
        row.message.as_str().into(),
        row.last_pk.as_deref().into(),
        row.rows_copied.into(),
        row.rows_total.into(),
        row.definition.as_str().into(),
        row.conflicts.into(),
        row.conflict_values.as_str().into(),
    ]
}

/// Writes (inserts or replaces) a stream's row.
/// Creates the state table first when it does not exist yet.
pub async fn save(shard: &Arc<Shard>, row: &StreamRow) -> Result<(), TopoError> {
    let mut c = shard.job_conn().await.map_err(err)?;
    match c.exec_drop(REPLACE, &params(shard, row)).await {
        // 1146: no such table, 1049: no such database.
        Err(BackendError::Server { code, .. }) if code == 1146 || code == 1049 => {
            drop(c);
            ensure(shard).await?;
            let mut c = shard.job_conn().await.map_err(err)?;
            c.exec_drop(REPLACE, &params(shard, row)).await.map_err(err)
        }
        r => r.map_err(err),
    }
}

/// Writes the rows of every stream of a new workflow in one transaction: all of them or
/// none. `fail_after_first` (test injection) fails after the first row is written, inside
/// the transaction.
pub async fn save_all(
    shard: &Arc<Shard>,
    rows: &[StreamRow],
    fail_after_first: bool,
) -> Result<(), TopoError> {
    let mut c = shard.job_conn().await.map_err(err)?;
    c.begin("START TRANSACTION").await.map_err(err)?;
    let mut result = Ok(());
    for (i, row) in rows.iter().enumerate() {
        if i == 1 && fail_after_first {
            result = Err(TopoError::Store(crate::world::failpoint::message(
                "save_streams",
            )));
            break;
        }
        if let Err(e) = c.exec_drop(REPLACE, &params(shard, row)).await {
            result = Err(err(e));
            break;
        }
    }
    if result.is_ok() {
        if let Err(e) = c.commit().await {
            result = Err(err(e));
        }
    }
    if result.is_err() {
        // A broken connection rolls back on its own: it is closed, never pooled (nor is
        // one whose ROLLBACK fails).
        let _ = c.rollback().await;
    }
    result
}

/// Every stream row stored for this shard's database (none when the table does not exist).
pub async fn load(shard: &Arc<Shard>) -> Result<Vec<StreamRow>, TopoError> {
    let mut c = shard.job_conn().await.map_err(err)?;
    let mut migrated = false;
    loop {
        let rows = c
            .exec(
                "SELECT workflow, source_shard, state, phase, message, last_pk, rows_copied, rows_total, definition, conflicts, conflict_values FROM `_shardgate`.`vindex_workflows` WHERE target_db = ? ORDER BY workflow, source_shard",
                &[shard.database.as_str().into()],
            )
            .await;
        return match rows {
            Ok(rows) => Ok(rows.into_iter().map(stream_row).collect()),
            // 1146: no such table, 1049: no such database: nothing stored yet.
            Err(BackendError::Server { code, .. }) if code == 1146 || code == 1049 => {
                Ok(Vec::new())
            }
            // 1054: a table of an older version, without the conflict columns.
            Err(BackendError::Server { code: 1054, .. }) if !migrated => {
                c.query_drop(MIGRATE).await.map_err(err)?;
                migrated = true;
                continue;
            }
            Err(e) => Err(err(e)),
        };
    }
}

fn stream_row(mut r: Row) -> StreamRow {
    fn text(r: &mut Row, i: usize) -> String {
        r.take::<Option<String>, _>(i).flatten().unwrap_or_default()
    }
    fn number(r: &mut Row, i: usize) -> u64 {
        r.take::<Option<u64>, _>(i).flatten().unwrap_or(0)
    }
    StreamRow {
        workflow: text(&mut r, 0),
        source_shard: text(&mut r, 1),
        state: text(&mut r, 2),
        phase: text(&mut r, 3),
        message: text(&mut r, 4),
        last_pk: r.take::<Option<String>, _>(5).flatten(),
        rows_copied: number(&mut r, 6),
        rows_total: number(&mut r, 7),
        definition: text(&mut r, 8),
        conflicts: number(&mut r, 9),
        conflict_values: text(&mut r, 10),
    }
}

/// Removes a workflow's rows.
pub async fn delete(shard: &Arc<Shard>, workflow: &str) -> Result<(), TopoError> {
    let mut c = shard.job_conn().await.map_err(err)?;
    let r = c
        .exec_drop(
            "DELETE FROM `_shardgate`.`vindex_workflows` WHERE target_db = ? AND workflow = ?",
            &[shard.database.as_str().into(), workflow.into()],
        )
        .await;
    match r {
        Ok(()) => Ok(()),
        Err(BackendError::Server { code, .. }) if code == 1146 || code == 1049 => Ok(()),
        Err(e) => Err(err(e)),
    }
}

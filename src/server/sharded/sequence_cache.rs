//! Ids for `auto_increment` columns of sharded tables: blocks reserved from a Vitess-shaped
//! sequence table (`next_id`, `cache` in the row with id 0) and handed out from memory until
//! a statement needs more than the block has left.

use crate::backend::{BackendError, Shard};
use crate::error::ProxyError;
use crate::sql;
use std::collections::HashMap;
use std::sync::Arc;

/// Ids reserved from sequence tables, per `(keyspace, table)`: `[next, end)`.
#[derive(Debug, Default)]
pub struct SequenceCache {
    blocks: tokio::sync::Mutex<HashMap<(String, String), (u64, u64)>>,
}

impl SequenceCache {
    /// Drops the block reserved from `keyspace.table` (a sequence table dropped or created
    /// anew starts over: ids of an old block could collide with its new ones).
    pub(super) async fn forget(&self, keyspace: &str, table: &str) {
        self.blocks
            .lock()
            .await
            .remove(&(keyspace.to_string(), table.to_string()));
    }

    /// Takes `count` consecutive ids, fetching a new block from the sequence table when the
    /// cached one is too small (the rest of a too-small block is skipped: ids may have gaps).
    pub(in crate::server) async fn reserve(
        &self,
        shard: &Arc<Shard>,
        table: &str,
        count: u64,
    ) -> Result<u64, ProxyError> {
        let key = (shard.keyspace.clone(), table.to_string());
        let mut blocks = self.blocks.lock().await;
        if let Some((next, end)) = blocks.get_mut(&key) {
            if *end - *next >= count {
                let first = *next;
                *next += count;
                return Ok(first);
            }
        }
        let mut conn = shard.job_conn().await?;
        let quoted = sql::quote_ident(table);
        let unusable = |reason: String| BackendError::Lost {
            shard: shard.label.clone(),
            reason,
        };
        let res: Result<(u64, u64), BackendError> = async {
            conn.begin("BEGIN").await?;
            let rows = conn
                .query(&format!(
                    "SELECT next_id, cache FROM {quoted} WHERE id = 0 FOR UPDATE"
                ))
                .await?;
            let (next_id, cache) = match rows.first() {
                Some(r) => match (r.get_opt::<u64, _>(0), r.get_opt::<u64, _>(1)) {
                    (Some(Ok(next_id)), Some(Ok(cache))) => (next_id, cache),
                    _ => {
                        conn.rollback().await?;
                        return Err(unusable(format!(
                            "sequence table {table}: next_id and cache of the row with id 0 must be non-negative integers"
                        )));
                    }
                },
                None => {
                    conn.rollback().await?;
                    return Err(unusable(format!(
                        "sequence table {table} has no row with id 0"
                    )));
                }
            };
            let take = cache.max(count).max(1);
            conn.query_drop(&format!(
                "UPDATE {quoted} SET next_id = next_id + {take} WHERE id = 0"
            ))
            .await?;
            conn.commit().await?;
            Ok((next_id, next_id + take))
        }
        .await;
        let (start, end) = res.map_err(ProxyError::from)?;
        blocks.insert(key, (start + count, end));
        Ok(start)
    }
}

//! A [`Cursor`] for background jobs: shard connections straight from the pools, one open
//! transaction per (transaction list, shard) like a client session's, committed in the same
//! pre → normal → post order. It lets the backfill and `VERIFY VINDEX ... REPAIR` reuse the
//! lookup vindex code (Create with its reclaim algorithm) that client DML runs.

use crate::backend::{Backends, JobConn};
use crate::error::ProxyError;
use crate::exec::{CommitOrder, Cursor, ExecError, ShardResult};
use std::sync::Arc;

/// Open transactions of one unit of background work.
pub struct JobCursor {
    backends: Arc<Backends>,
    /// Connections in a transaction, in first-use order: (list, keyspace, shard index).
    /// Each is held outside `pool_max` like a session's transaction connection.
    open: Vec<(CommitOrder, String, usize, JobConn)>,
}

impl JobCursor {
    /// A cursor with no open transaction.
    pub fn new(backends: Arc<Backends>) -> Self {
        JobCursor {
            backends,
            open: Vec::new(),
        }
    }

    /// Commits pre, then normal, then post; on a failure the rest is rolled back.
    pub async fn commit(&mut self) -> Result<(), ExecError> {
        let mut open = std::mem::take(&mut self.open);
        open.sort_by_key(|(o, ..)| *o);
        let mut failure = None;
        for (order, _, _, mut conn) in open {
            let ended = if failure.is_none() {
                conn.commit().await
            } else {
                conn.rollback().await
            };
            if let Err(e) = ended {
                if failure.is_none() && order != CommitOrder::Post {
                    failure = Some(ExecError::Proxy(ProxyError::Backend(e)));
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Rolls every open transaction back.
    pub async fn rollback(&mut self) {
        for (_, _, _, mut conn) in self.open.drain(..) {
            let _ = conn.rollback().await;
        }
    }
}

impl Cursor for JobCursor {
    type Streams = crate::exec::Buffered;

    async fn stream_each(
        &mut self,
        keyspace: &str,
        queries: Vec<(usize, String)>,
    ) -> Result<Self::Streams, ExecError> {
        Ok(crate::exec::Buffered::new(
            self.execute_each(keyspace, queries).await?,
        ))
    }

    async fn close_streams(&mut self, streams: Self::Streams, _abandon: bool) -> u16 {
        streams.warnings()
    }

    fn shards(&self, keyspace: &str) -> Result<crate::exec::ShardRanges, ExecError> {
        self.backends
            .ranges(keyspace)
            .ok_or_else(|| ExecError::Internal(format!("unknown keyspace {keyspace}")))
    }

    async fn execute_in(
        &mut self,
        order: CommitOrder,
        keyspace: &str,
        shard: usize,
        sql: String,
    ) -> Result<ShardResult, ExecError> {
        let target = self
            .backends
            .keyspace(keyspace)
            .and_then(|s| s.get(shard))
            .cloned()
            .ok_or_else(|| ExecError::Internal(format!("no shard {shard} in {keyspace}")))?;
        let position = self
            .open
            .iter()
            .position(|(o, k, s, _)| *o == order && k == keyspace && *s == shard);
        let mut pooled;
        let conn: &mut JobConn = match (order, position) {
            (CommitOrder::Autocommit, _) => {
                pooled = target.job_conn().await.map_err(ProxyError::from)?;
                &mut pooled
            }
            (_, Some(i)) => &mut self.open[i].3,
            (_, None) => {
                let mut c = target.job_conn().await.map_err(ProxyError::from)?;
                c.hold();
                c.begin("BEGIN").await.map_err(ProxyError::from)?;
                self.open.push((order, keyspace.to_string(), shard, c));
                let last = self.open.len() - 1;
                &mut self.open[last].3
            }
        };
        let res = conn.query_result(&sql).await;
        res.map_err(|e| ExecError::Proxy(ProxyError::Backend(e)))
    }

    async fn execute_scratch(
        &mut self,
        _keyspace: &str,
        _shard: usize,
        _work: crate::exec::ScratchWork,
    ) -> Result<ShardResult, ExecError> {
        Err(ExecError::Internal(
            "workflow jobs never answer statements over copied tables".into(),
        ))
    }

    async fn next_sequence_ids(
        &mut self,
        keyspace: &str,
        table: &str,
        _count: u64,
    ) -> Result<u64, ExecError> {
        Err(ExecError::Internal(format!(
            "background jobs do not take ids from sequence {keyspace}.{table}"
        )))
    }
}

//! The executor's [`Cursor`] over a client session: every shard query runs on the connection
//! the session uses for that shard (its transaction lists, its settings), with prepared
//! statement parameters interpolated and keyspace qualifiers mapped to the shard's database.
//! A scatter takes all its connections (in shard order) before it sends, then reads the
//! answers together.

use super::session_streams::SessionStreams;
use crate::backend::{Shard, ShardConn};
use crate::error::ProxyError;
use crate::exec::{self, CommitOrder, Cursor, ExecError, ScratchWork, ShardResult};
use crate::server::connection::ClientConn;
use crate::server::last_insert_id;
use crate::server::routing;
use mysql_async::Value;
use std::sync::Arc;

/// The executor's view of the session: each shard query runs on the connection the session
/// uses for that shard (so transactions and settings apply).
pub(super) struct SessionCursor<'c> {
    /// The client connection whose session owns the shard connections.
    pub(super) conn: &'c mut ClientConn,
    /// Prepared-statement parameters, interpolated into each shard query (empty for text).
    pub(super) params: Vec<Value>,
}

impl SessionCursor<'_> {
    /// The shard and the text it is sent: parameters interpolated, keyspace qualifiers
    /// mapped to its database; logged for VEXPLAIN QUERIES.
    ///
    /// The text is taken by value and sent as it is when nothing changes (no parameters, no
    /// qualifier of the keyspace): a statement of hundreds of MiB is not copied again here.
    fn shard_query(
        &mut self,
        keyspace: &str,
        index: usize,
        sql: String,
    ) -> Result<(Arc<Shard>, Vec<u8>), ExecError> {
        let shard = self.shard(keyspace, index)?;
        let sql = match self.params.is_empty() {
            true => sql,
            false => exec::interpolate(&sql, &self.params, self.charset())?,
        };
        let mapped = match routing::map_qualifiers(&sql, keyspace, &shard.database) {
            std::borrow::Cow::Borrowed(_) => None,
            std::borrow::Cow::Owned(rewritten) => Some(rewritten),
        };
        let sql = mapped.unwrap_or_else(|| sql.into_bytes());
        self.conn.session.log_query(keyspace, &shard.name, &sql);
        Ok((shard, sql))
    }

    /// The session's connection to the shard of each query (in the order of `queries`), taken
    /// in shard order (the same order every session takes them in, so sessions waiting on
    /// full pools cannot deadlock), with the text each is sent. On a failure the ones taken
    /// are given back.
    async fn take_each(
        &mut self,
        keyspace: &str,
        queries: Vec<(usize, String)>,
    ) -> Result<Vec<(ShardConn, Vec<u8>)>, ExecError> {
        let mut order: Vec<usize> = (0..queries.len()).collect();
        order.sort_by_key(|&i| queries[i].0);
        let mut queries: Vec<Option<(usize, String)>> = queries.into_iter().map(Some).collect();
        // Indexed like `queries`, filled in shard order.
        let mut taken: Vec<Option<(ShardConn, Vec<u8>)>> = queries.iter().map(|_| None).collect();
        let mut failure = None;
        for i in order {
            let Some((index, sql)) = queries.get_mut(i).and_then(Option::take) else {
                continue;
            };
            let acquired = match self.shard_query(keyspace, index, sql) {
                Ok((shard, sql)) => self
                    .conn
                    .acquire_in(&shard, true, CommitOrder::Normal)
                    .await
                    .map(|sc| (sc, sql))
                    .map_err(ExecError::from),
                Err(e) => Err(e),
            };
            match acquired {
                Ok(slot) => taken[i] = Some(slot),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if let Some(e) = failure {
            for (sc, _) in taken.into_iter().flatten() {
                self.conn.put_back(sc).await;
            }
            return Err(e);
        }
        Ok(taken.into_iter().flatten().collect())
    }

    fn shard(&self, keyspace: &str, index: usize) -> Result<Arc<Shard>, ExecError> {
        self.conn
            .state
            .backends
            .keyspace(keyspace)
            .and_then(|s| s.get(index))
            .cloned()
            .ok_or_else(|| ExecError::Internal(format!("no shard {index} in keyspace {keyspace}")))
    }
}

impl Cursor for SessionCursor<'_> {
    fn note_lookup(&mut self, vindex: &str, op: crate::metrics::LookupOp, rows: u64) {
        self.conn.state.metrics.lookup_write(vindex, op, rows);
    }

    fn note_reclaim(&mut self, vindex: &str) {
        self.conn.state.metrics.lookup_reclaim(vindex, 1);
    }

    /// The session's character set; a session whose character set is not known never gets
    /// here for a planned statement (refused first), utf8mb4 covers the rest (DDL text).
    fn charset(&self) -> crate::sql::Charset {
        self.conn
            .session
            .charset
            .unwrap_or(crate::sql::Charset::UTF8MB4)
    }

    fn shards(&self, keyspace: &str) -> Result<crate::exec::ShardRanges, ExecError> {
        self.conn
            .state
            .backends
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
        let (shard, sql) = self.shard_query(keyspace, shard, sql)?;
        let transactional = order != CommitOrder::Autocommit;
        let mut sc = self.conn.acquire_in(&shard, transactional, order).await?;
        // The statement's own queries (normal list) while it calls LAST_INSERT_ID(expr): the
        // connection is primed with the session's value and read back afterwards.
        let tracking = match self.conn.session.last_insert_id_tracking {
            Some((primed, _)) if order == CommitOrder::Normal => Some(primed),
            _ => None,
        };
        if let Some(primed) = tracking {
            if let Err(e) = last_insert_id::prime(&mut sc, primed).await {
                self.conn.put_back(sc).await;
                return Err(ProxyError::from(e).into());
            }
        }
        let res = sc.conn.query_result(&sql).await;
        let mut res = sc.check(res);
        if let (Some(primed), Ok(r)) = (tracking, &res) {
            // (The shard's OK packet names the value even when it equals the primed one.)
            let reported = r.last_insert_id > 0;
            match last_insert_id::read_back(&mut sc).await {
                Ok(v) if v != primed || reported => {
                    self.conn.session.last_insert_id_tracking = Some((primed, Some(v)));
                }
                Ok(_) => {}
                Err(e) => res = Err(e),
            }
        }
        self.conn.put_back(sc).await;
        Ok(res.map_err(ProxyError::from)?)
    }

    /// Takes the session's connection to each shard ([`SessionCursor::take_each`]), sends
    /// every query, then reads the answers: the shards work at the same time.
    async fn execute_each(
        &mut self,
        keyspace: &str,
        queries: Vec<(usize, String)>,
    ) -> Result<Vec<ShardResult>, ExecError> {
        if queries.len() == 1 {
            if let Some((shard, sql)) = queries.into_iter().next() {
                return Ok(vec![self.execute(keyspace, shard, sql).await?]);
            }
            return Ok(Vec::new());
        }
        if self.conn.session.last_insert_id_tracking.is_some() && queries.len() > 1 {
            // Which shard's value MySQL would keep depends on a row order a scatter lacks.
            return Err(ExecError::NotSupported(
                "LAST_INSERT_ID(expr) in a statement on more than one shard".into(),
            ));
        }
        let mut taken = self.take_each(keyspace, queries).await?;
        let each = taken.iter_mut().map(|(sc, sql)| async move {
            let res = sc.conn.query_result(sql).await;
            sc.check(res)
        });
        let answers = futures_util::future::join_all(each).await;
        for (sc, _) in taken {
            self.conn.put_back(sc).await;
        }
        answers
            .into_iter()
            .map(|r| r.map_err(|e| ProxyError::from(e).into()))
            .collect()
    }

    type Streams = SessionStreams;

    /// Takes the connections as [`Cursor::execute_each`] does, sends every query, and reads
    /// each answer's column definitions ([`SessionStreams::open`]).
    async fn stream_each(
        &mut self,
        keyspace: &str,
        queries: Vec<(usize, String)>,
    ) -> Result<SessionStreams, ExecError> {
        if self.conn.session.last_insert_id_tracking.is_some() {
            // (The session runs such a statement buffered: see `execute_in`.)
            return Err(ExecError::NotSupported(
                "LAST_INSERT_ID(expr) in a statement on more than one shard".into(),
            ));
        }
        let taken = self.take_each(keyspace, queries).await?;
        match SessionStreams::open(taken).await {
            Ok(streams) => Ok(streams),
            Err((e, conns)) => {
                for sc in conns {
                    self.conn.put_back(sc).await;
                }
                Err(e)
            }
        }
    }

    async fn close_streams(&mut self, streams: SessionStreams, abandon: bool) -> u16 {
        let (conns, warnings) = streams.close(abandon).await;
        for sc in conns {
            self.conn.put_back(sc).await;
        }
        warnings
    }

    async fn execute_scratch(
        &mut self,
        keyspace: &str,
        shard: usize,
        work: ScratchWork,
    ) -> Result<ShardResult, ExecError> {
        let shard = self.shard(keyspace, shard)?;
        let mut sc = self
            .conn
            .acquire_in(&shard, true, CommitOrder::Normal)
            .await?;
        let mut result = Ok(ShardResult::default());
        for sql in &work.setup {
            if !sql.starts_with("INSERT ") {
                self.conn
                    .session
                    .log_query(keyspace, &shard.name, sql.as_bytes());
            }
            let r = sc.conn.query_drop(sql).await;
            if let Err(e) = sc.check(r) {
                result = Err(e);
                break;
            }
        }
        if result.is_ok() {
            self.conn
                .session
                .log_query(keyspace, &shard.name, work.query.as_bytes());
            let r = sc.conn.query_result(&work.query).await;
            result = sc.check(r);
        }
        for sql in &work.cleanup {
            let r = sc.conn.query_drop(sql).await;
            if sc.check(r).is_err() {
                // (Its temporary tables must never meet another statement.)
                sc.conn.mark_broken();
            }
        }
        self.conn.put_back(sc).await;
        Ok(result.map_err(ProxyError::from)?)
    }

    async fn next_sequence_ids(
        &mut self,
        keyspace: &str,
        table: &str,
        count: u64,
    ) -> Result<u64, ExecError> {
        let shard = self.shard(keyspace, 0)?;
        Ok(self
            .conn
            .state
            .sequences
            .reserve(&shard, table, count)
            .await?)
    }
}

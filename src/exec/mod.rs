//! Executing plans for sharded keyspaces: resolving routes to shards, sending each shard its
//! query through a [`Cursor`], and merging the answers.
//!
//! The [`Cursor`] trait is the only door to the shards, so these functions can be tested with a
//! recording cursor that asserts the exact shard traffic without a database.

mod dml_pick;
mod having;
mod insert_rows;
mod insert_sequence;
mod lookup;
mod lookup_owner;
mod lookup_pk;
mod lookup_reclaim;
mod lookup_route;
mod lookup_sql;
mod lookup_unowned;
mod lookup_verify;
mod lookup_write;
mod materialize;
pub mod resolve;
mod select;
mod select_stream;
mod stream;
mod temp_table;
mod write;

pub use insert_rows::values_statement;
pub(crate) use lookup::{server_code, Lookup, LookupRow};
pub(crate) use lookup_owner::keyspace_id;
pub use lookup_route::resolve_route;
pub use lookup_sql::interpolate;
pub(crate) use lookup_sql::{cell_value, literal};
pub use materialize::execute_materialized;
pub use select::{execute_select, execute_select_at, shard_sql};
pub use select_stream::{start_select, start_select_at, SelectOutput, SelectStream};
pub use stream::{collect, Buffered, ShardStreams};
pub use write::{execute_all_shards, execute_dml, execute_insert};

pub use crate::backend::CommitOrder;
pub use crate::backend::{ShardRanges, ShardResult};
use crate::engine::EngineError;
use std::future::Future;

/// Why executing a plan failed.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The statement cannot be executed exactly (→ 1235).
    #[error("{0}")]
    NotSupported(String),
    /// An error from a shard or the proxy, already in client terms.
    #[error(transparent)]
    Proxy(#[from] crate::error::ProxyError),
    /// A bug or inconsistency (→ 1105).
    #[error("{0}")]
    Internal(String),
}

impl From<EngineError> for ExecError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Unsupported(m) => ExecError::NotSupported(m),
            other => ExecError::Internal(other.to_string()),
        }
    }
}

impl From<ExecError> for crate::error::ProxyError {
    fn from(e: ExecError) -> Self {
        match e {
            ExecError::NotSupported(m) => crate::error::ProxyError::NotSupported(m),
            ExecError::Proxy(p) => p,
            ExecError::Internal(m) => crate::error::ProxyError::Internal(m),
        }
    }
}

/// Statements that must share one connection (temporary tables): see
/// [`Cursor::execute_scratch`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScratchWork {
    /// Run first, in order; the first failure stops the work (cleanup still runs).
    pub setup: Vec<String>,
    /// The statement whose answer is returned.
    pub query: String,
    /// Run last whatever happened before.
    pub cleanup: Vec<String>,
}

/// The executor's only way to reach shards.
pub trait Cursor: Send {
    /// The row streams [`Cursor::stream_each`] hands out ([`Buffered`] for a cursor that
    /// reads whole answers).
    type Streams: ShardStreams;

    /// The shards of a keyspace: name and key range, in config order.
    fn shards(&self, keyspace: &str) -> Result<ShardRanges, ExecError>;

    /// The character set of the strings this cursor's connections exchange (the session's
    /// `character_set_client`, which is also its `character_set_results`); generated SQL
    /// writes string values with this introducer. Pooled connections use utf8mb4.
    fn charset(&self) -> crate::sql::Charset {
        crate::sql::Charset::UTF8MB4
    }

    /// Counts lookup-vindex rows written for owner DML (`/metrics`); a cursor without
    /// metrics (tests, background jobs) ignores it.
    fn note_lookup(&mut self, _vindex: &str, _op: crate::metrics::LookupOp, _rows: u64) {}

    /// Counts an orphaned consistent-lookup row reclaimed by a new owner row (`/metrics`).
    fn note_reclaim(&mut self, _vindex: &str) {}

    /// Runs `sql` (keyspace qualifiers not yet mapped) on shard `shard` of `keyspace` in the
    /// session's normal transaction list and returns the whole result.
    fn execute(
        &mut self,
        keyspace: &str,
        shard: usize,
        sql: String,
    ) -> impl Future<Output = Result<ShardResult, ExecError>> + Send {
        self.execute_in(CommitOrder::Normal, keyspace, shard, sql)
    }

    /// Runs one query on each of several shards of `keyspace` (normal transaction list) and
    /// returns the answers in the order of `queries`, or the first error in that order.
    ///
    /// This default runs them one after another; the session's cursor sends every query
    /// before it reads any answer, so a scatter costs about one shard round trip instead of
    /// one per shard.
    fn execute_each(
        &mut self,
        keyspace: &str,
        queries: Vec<(usize, String)>,
    ) -> impl Future<Output = Result<Vec<ShardResult>, ExecError>> + Send {
        async move {
            let mut results = Vec::with_capacity(queries.len());
            for (shard, sql) in queries {
                results.push(self.execute(keyspace, shard, sql).await?);
            }
            Ok(results)
        }
    }

    /// [`Cursor::execute_each`] for a merge that passes rows on as it reads them: the
    /// answers are returned as row streams once every shard has started answering (its
    /// column definitions are read), so the proxy holds only what it is merging. On an error
    /// the others are read to their end and the first error in the order of `queries` is
    /// returned. The streams must be given back to [`Cursor::close_streams`].
    fn stream_each(
        &mut self,
        keyspace: &str,
        queries: Vec<(usize, String)>,
    ) -> impl Future<Output = Result<Self::Streams, ExecError>> + Send;

    /// Ends a scatter's streams and returns its warnings (summed over the shards). Rows not
    /// read yet (a LIMIT reached, an error) are read and dropped, so every connection stays
    /// usable (and its transaction open); with `abandon` (the client is gone) the connections
    /// are closed instead.
    fn close_streams(
        &mut self,
        streams: Self::Streams,
        abandon: bool,
    ) -> impl Future<Output = u16> + Send;

    /// Runs `sql` on a shard through the connection of one of the session's transaction lists
    /// (consistent lookups write lookup rows in `Pre` and delete them in `Post`).
    fn execute_in(
        &mut self,
        order: CommitOrder,
        keyspace: &str,
        shard: usize,
        sql: String,
    ) -> impl Future<Output = Result<ShardResult, ExecError>> + Send;

    /// Runs `work` on one connection to shard `shard` of `keyspace`, held from its first
    /// statement to its last (the session's connection there, so its transaction and
    /// settings apply): the setup statements, then the query, whose answer is returned, then
    /// every cleanup statement whatever happened. A connection whose cleanup fails is closed
    /// rather than reused. Statements are sent as they are (no qualifier mapping, no
    /// parameters).
    fn execute_scratch(
        &mut self,
        keyspace: &str,
        shard: usize,
        work: ScratchWork,
    ) -> impl Future<Output = Result<ShardResult, ExecError>> + Send;

    /// Reserves `count` consecutive ids from a sequence table; returns the first.
    fn next_sequence_ids(
        &mut self,
        keyspace: &str,
        table: &str,
        count: u64,
    ) -> impl Future<Output = Result<u64, ExecError>> + Send;
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod lookup_tests;

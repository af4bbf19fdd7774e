//! A backend connection held by a client session, with what the session has done to it.
//!
//! Tracking `in_txn` and `dirty` is what lets pools skip resets: a
//! connection that only ran plain statements goes straight back to its pool, one that was
//! changed is rolled back and reset (COM_RESET_CONNECTION) first, and one that broke is closed.

use super::pool::PooledConn;
use super::{BackendError, Shard};
use std::sync::Arc;

/// Identifies a shard inside a session: `(keyspace, shard)`.
pub type ShardKey = (String, String);

/// Which of a session's three transaction lists a shard connection belongs to (Vitess's
/// commit order). Consistent lookup vindexes write lookup rows on `Pre` connections and
/// delete them on `Post` connections, each its own MySQL transaction beside the `Normal` one
/// on the same shard; COMMIT then goes pre → normal → post, so every committed owner row has
/// its lookup row (`lookup-vindexes.md` §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum CommitOrder {
    /// Committed first, all of them; a failure rolls everything back.
    Pre,
    /// The statement's own transaction (owner rows, every ordinary query).
    #[default]
    Normal,
    /// Committed last; a failure is only a warning (it can leave orphan lookup rows).
    Post,
    /// Outside every transaction (a plain lookup with `autocommit`): each statement commits
    /// at once.
    Autocommit,
}

/// A connection to one shard, owned by a session while it is pinned.
#[derive(Debug)]
pub struct ShardConn {
    /// The shard.
    pub shard: Arc<Shard>,
    /// The backend connection (out of the shard's session pool).
    pub conn: PooledConn,
    /// Whether a transaction was begun on it.
    pub in_txn: bool,
    /// Whether session state was changed on it (needs a reset before reuse by others).
    pub dirty: bool,
    /// Whether it failed and must be closed instead of reused.
    pub broken: bool,
    /// The transaction list it serves in its session.
    pub order: CommitOrder,
}

impl ShardConn {
    /// Wraps a fresh pooled connection.
    pub fn new(shard: Arc<Shard>, conn: PooledConn) -> Self {
        ShardConn {
            shard,
            conn,
            in_txn: false,
            dirty: false,
            broken: false,
            order: CommitOrder::Normal,
        }
    }

    /// Runs a statement whose result the client does not see (BEGIN, SET replay, COMMIT).
    pub async fn run(&mut self, sql: &str) -> Result<(), BackendError> {
        let res = self.conn.query_drop(sql).await;
        self.check(res)
    }

    /// Maps a backend result, remembering if the connection broke.
    pub fn check<T>(&mut self, res: Result<T, super::wire::WireError>) -> Result<T, BackendError> {
        res.map_err(|e| {
            let err = BackendError::from_wire(e, &self.shard.label);
            if err.disconnects() {
                self.broken = true;
                self.conn.mark_broken();
                self.shard.mark_suspect();
            }
            err
        })
    }

    /// Returns the connection: to the pool when clean, after a rollback/reset when changed,
    /// or closed when broken or when the cleanup itself fails.
    pub async fn release(mut self) {
        if self.broken || self.conn.is_broken() {
            self.conn.discard();
            return;
        }
        if self.in_txn {
            if self.conn.query_drop("ROLLBACK").await.is_err() {
                self.conn.discard();
                return;
            }
            self.in_txn = false;
        }
        if self.dirty {
            if self.conn.reset().await.is_err() {
                self.conn.discard();
                return;
            }
            self.dirty = false;
        }
    }
}

impl Drop for ShardConn {
    /// A connection dropped without [`ShardConn::release`] while it is in a transaction or
    /// carries session state (a panic unwinding its session, a statement future dropped
    /// mid-way) is closed, never pooled: another client's session would otherwise run inside
    /// its transaction or under its settings (`sql_mode`, character set), and read the text
    /// it is sent differently than the proxy did.
    fn drop(&mut self) {
        if self.in_txn || self.dirty {
            self.conn.discard();
        }
    }
}

//! Backends: per shard, one bounded pool of the proxy's own [`wire`] connections, used by
//! client sessions (the hot path) and by background jobs (workflows, sequences, schema reads:
//! see [`job`]), and the errors talking to shards can raise.
//!
//! Pools never reset connections on return (`reset_connection` off): the session layer knows
//! which connections it changed (session variables, transactions) and resets only those. A shard
//! that fails gets its idle connections checked with a ping before reuse, so a restarted server is
//! picked up again without handing stale sockets to clients.

pub mod deadline;
pub mod health;
mod job;
pub mod pool;
mod result;
pub mod result_budget;
mod shard_conn;
pub mod wire;

pub use job::JobConn;
pub use result::{ShardRanges, ShardResult};
pub use shard_conn::{CommitOrder, ShardConn, ShardKey};

use crate::config::validate::parse_shard_url;
use crate::config::Config;
use crate::keyrange::KeyRange;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Errors from talking to shard servers.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The shard's server answered with a MySQL error: passed to the client unchanged.
    #[error("{message}")]
    Server {
        /// MySQL error number.
        code: u16,
        /// SQLSTATE.
        state: String,
        /// Server message.
        message: String,
    },
    /// No connection to the shard could be had in time.
    #[error("shard {shard} is unavailable: {reason}")]
    Unavailable {
        /// `keyspace/shard`.
        shard: String,
        /// What went wrong.
        reason: String,
    },
    /// The connection broke while a statement was in flight.
    #[error("lost connection to shard {shard}: {reason}")]
    Lost {
        /// `keyspace/shard`.
        shard: String,
        /// What went wrong.
        reason: String,
    },
}

impl BackendError {
    /// Classifies an error of the proxy's own backend client for `shard`.
    pub fn from_wire(err: wire::WireError, shard: &str) -> BackendError {
        match err {
            wire::WireError::Server {
                code,
                state,
                message,
            } => BackendError::Server {
                code,
                state,
                message,
            },
            other => BackendError::Lost {
                shard: shard.to_string(),
                reason: other.to_string(),
            },
        }
    }

    /// Whether the connection that raised this error must not be reused.
    pub fn disconnects(&self) -> bool {
        !matches!(self, BackendError::Server { .. })
    }
}

/// One shard: its key range, backend database and connection pool.
#[derive(Debug)]
pub struct Shard {
    /// Keyspace the shard belongs to.
    pub keyspace: String,
    /// Vitess shard name (`0`, `-80`, ...).
    pub name: String,
    /// Backend database holding the shard's tables.
    pub database: String,
    /// Keyspace ids this shard owns.
    pub range: KeyRange,
    /// `keyspace/shard`, for messages.
    pub label: String,
    sessions: pool::WirePool,
    checkout_timeout: Duration,
    suspect: AtomicBool,
    /// What the health checks found ([`health`]).
    pub health: health::ShardHealth,
}

impl Shard {
    /// Takes a connection for a client session from the shard's wire pool, waiting at most
    /// the checkout timeout; after a failure on the shard, reused connections are pinged first.
    pub async fn session_conn(&self) -> Result<pool::PooledConn, BackendError> {
        for _ in 0..8 {
            let mut conn = self
                .sessions
                .get(self.checkout_timeout)
                .await
                .map_err(|e| BackendError::Unavailable {
                    shard: self.label.clone(),
                    reason: match e {
                        pool::CheckoutError::Timeout => format!(
                            "no connection within {} ms",
                            self.checkout_timeout.as_millis()
                        ),
                        pool::CheckoutError::Connect(e) => e.to_string(),
                    },
                })?;
            if !self.suspect.load(Ordering::Relaxed) {
                return Ok(conn);
            }
            match Box::pin(tokio::time::timeout(self.checkout_timeout, conn.ping())).await {
                Ok(Ok(())) => {
                    self.suspect.store(false, Ordering::Relaxed);
                    return Ok(conn);
                }
                _ => conn.discard(),
            }
        }
        Err(BackendError::Unavailable {
            shard: self.label.clone(),
            reason: "connections keep failing".into(),
        })
    }

    /// The session pool's counts now (`SHOW POOLS`).
    pub fn pool_stats(&self) -> pool::PoolStats {
        self.sessions.stats()
    }

    /// Records that a connection of this shard failed (so idle ones get checked).
    pub fn mark_suspect(&self) {
        self.suspect.store(true, Ordering::Relaxed);
    }
}

/// All shards of all keyspaces.
#[derive(Debug, Default)]
pub struct Backends {
    by_keyspace: HashMap<String, Vec<Arc<Shard>>>,
    ranges: HashMap<String, ShardRanges>,
    /// The keyspace of each backend database (column definitions name the database; clients
    /// must see the keyspace: looked up for every relayed column).
    by_database: HashMap<String, String>,
    /// Keyspace names in config order.
    pub keyspace_order: Vec<String>,
}

impl Backends {
    /// Builds a pool per shard from the config (no connection is opened yet).
    pub fn new(cfg: &Config) -> anyhow::Result<Backends> {
        let mut by_keyspace = HashMap::new();
        let mut ranges_by_keyspace = HashMap::new();
        let mut keyspace_order = Vec::new();
        let tls_ca = cfg.backend_tls_ca_path();
        let tls = crate::tls::backend_config(cfg.backend.tls, tls_ca.as_deref())
            .map_err(|e| anyhow::anyhow!("backend.tls: {e}"))?;
        for ks in &cfg.keyspaces {
            let mut shards = Vec::new();
            for s in &ks.shards {
                let url = parse_shard_url(&s.url).map_err(|e| anyhow::anyhow!("{}: {e}", s.url))?;
                let range = KeyRange::parse_shard_name(&s.name)?;
                let sessions = pool::WirePool::new(
                    url.clone(),
                    pool::PoolSettings {
                        max: cfg.backend.pool_max,
                        idle_ttl: Duration::from_millis(cfg.backend.idle_timeout_ms),
                        min: cfg.backend.pool_min,
                        read_timeout: (cfg.backend.read_timeout_ms > 0)
                            .then(|| Duration::from_millis(cfg.backend.read_timeout_ms)),
                        tls: tls.clone(),
                    },
                );
                shards.push(Arc::new(Shard {
                    keyspace: ks.name.clone(),
                    name: s.name.clone(),
                    database: url.database.clone(),
                    range,
                    label: format!("{}/{}", ks.name, s.name),
                    sessions,
                    checkout_timeout: Duration::from_millis(cfg.backend.checkout_timeout_ms),
                    suspect: AtomicBool::new(false),
                    health: health::ShardHealth::default(),
                }));
            }
            keyspace_order.push(ks.name.clone());
            let ranges: Vec<(String, KeyRange)> = shards
                .iter()
                .map(|s| (s.name.clone(), s.range.clone()))
                .collect();
            ranges_by_keyspace.insert(ks.name.clone(), ranges.into());
            by_keyspace.insert(ks.name.clone(), shards);
        }
        // The first keyspace (config order) using a database wins, as before.
        let mut by_database = HashMap::new();
        for ks in keyspace_order.iter().rev() {
            for shard in by_keyspace.get(ks).into_iter().flatten() {
                by_database.insert(shard.database.clone(), ks.clone());
            }
        }
        Ok(Backends {
            by_keyspace,
            ranges: ranges_by_keyspace,
            by_database,
            keyspace_order,
        })
    }

    /// The shards of a keyspace, in config order.
    pub fn keyspace(&self, name: &str) -> Option<&[Arc<Shard>]> {
        self.by_keyspace.get(name).map(|v| v.as_slice())
    }

    /// The shard names and key ranges of a keyspace, in config order (what executors route by).
    pub fn ranges(&self, name: &str) -> Option<ShardRanges> {
        self.ranges.get(name).cloned()
    }

    /// Finds a shard by keyspace and shard name.
    pub fn shard(&self, keyspace: &str, shard: &str) -> Option<&Arc<Shard>> {
        self.keyspace(keyspace)?
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(shard))
    }

    /// The keyspace whose shards use backend database `db`, for mapping names back.
    pub fn keyspace_of_database(&self, db: &str) -> Option<&str> {
        self.by_database.get(db).map(String::as_str)
    }

    /// Starts the pools' upkeep: right away and then on a timer (half the idle timeout, between
    /// 50 ms and 5 s), every shard's session pool closes its expired idle connections and opens
    /// up to `pool_min` (see [`pool::WirePool::maintain`]), all shards concurrently.
    /// `idle_timeout` is `backend.idle_timeout_ms`. A shard that cannot be reached is logged
    /// once until it can be again. The task stops when the backends are dropped; the
    /// proxy also aborts it at shutdown.
    pub fn spawn_maintenance(
        backends: &Arc<Backends>,
        idle_timeout: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(backends);
        let tick = (idle_timeout / 2).clamp(Duration::from_millis(50), Duration::from_secs(5));
        tokio::spawn(async move {
            let mut unreachable = std::collections::HashSet::new();
            loop {
                let Some(backends) = weak.upgrade() else {
                    return;
                };
                // All shards at once: one that cannot be reached (each connect waits up to
                // the checkout timeout) does not hold up the others' reaping.
                let shards: Vec<&Arc<Shard>> = backends.by_keyspace.values().flatten().collect();
                let outcomes = futures_util::future::join_all(
                    shards
                        .iter()
                        .map(|shard| shard.sessions.maintain(shard.checkout_timeout)),
                )
                .await;
                for (shard, outcome) in shards.iter().zip(outcomes) {
                    match outcome {
                        Ok(_) => {
                            if unreachable.remove(&shard.label) {
                                tracing::info!(shard = %shard.label, "pool_min connections open again");
                            }
                        }
                        Err(e) => {
                            if unreachable.insert(shard.label.clone()) {
                                tracing::warn!(shard = %shard.label, error = ?e, "cannot open pool_min connections");
                            }
                        }
                    }
                }
                drop(backends);
                tokio::time::sleep(tick).await;
            }
        })
    }

    /// Closes every pool's idle connections (those in use close when their holders drop
    /// them).
    pub async fn shutdown(&self) {
        for shards in self.by_keyspace.values() {
            for s in shards {
                s.sessions.clear();
            }
        }
    }
}

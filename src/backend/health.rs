//! Shard health: each shard is pinged every [`HEALTH_INTERVAL`] on a connection of its own
//! (outside the session pool, so a busy pool never makes a healthy shard look down, and a
//! health check never takes a statement's connection), logged in without a default database
//! so it is not counted among the proxy's sessions on the shard database.
//!
//! `/healthz` and the status page read the result: a shard is up when its last ping
//! succeeded less than [`STALE_AFTER`] ago. Until the first ping answers, it is not.

use super::wire::WireConn;
use super::{Backends, Shard};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often each shard is pinged.
pub const HEALTH_INTERVAL: Duration = Duration::from_secs(1);

/// A shard whose last successful ping is older than this is down.
pub const STALE_AFTER: Duration = Duration::from_secs(3);

/// One shard's health (module header).
#[derive(Debug)]
pub struct ShardHealth {
    /// Reference point of `last_ok_ms`.
    epoch: Instant,
    /// Milliseconds after `epoch` of the last successful ping, plus one; 0 = never.
    last_ok_ms: AtomicU64,
    /// The last failure, until a ping succeeds.
    last_error: Mutex<Option<String>>,
}

impl Default for ShardHealth {
    fn default() -> Self {
        ShardHealth {
            epoch: Instant::now(),
            last_ok_ms: AtomicU64::new(0),
            last_error: Mutex::new(None),
        }
    }
}

/// What the health checks say of one shard now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    /// Answered within [`STALE_AFTER`].
    pub up: bool,
    /// Time since the last answer; `None` if it never answered.
    pub since_ok: Option<Duration>,
    /// The last failure, while the shard is failing.
    pub error: Option<String>,
}

impl ShardHealth {
    fn ok(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.last_ok_ms.store(ms + 1, Ordering::Relaxed);
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn failed(&self, error: String) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(error);
    }

    /// The shard's health now.
    pub fn report(&self) -> HealthReport {
        let at = self.last_ok_ms.load(Ordering::Relaxed);
        let since_ok = (at > 0).then(|| {
            self.epoch
                .elapsed()
                .saturating_sub(Duration::from_millis(at - 1))
        });
        let error = self
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        HealthReport {
            up: since_ok.is_some_and(|d| d < STALE_AFTER) && error.is_none(),
            since_ok,
            error,
        }
    }
}

/// Pings `shard` once on `conn` (connecting first when there is none); the connection is
/// kept for the next ping unless it failed.
async fn check(shard: &Shard, conn: &mut Option<WireConn>) {
    let attempt = async {
        if conn.is_none() {
            *conn = Some(shard.sessions.connect_unpooled(HEALTH_INTERVAL * 2).await?);
        }
        match conn.as_mut() {
            Some(c) => c.ping().await.map_err(|e| e.to_string()),
            None => Err("not connected".to_string()),
        }
    };
    let outcome = match tokio::time::timeout(HEALTH_INTERVAL * 2, attempt).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "no answer within {} ms",
            (HEALTH_INTERVAL * 2).as_millis()
        )),
    };
    match outcome {
        Ok(()) => shard.health.ok(),
        Err(e) => {
            *conn = None;
            shard.health.failed(e);
        }
    }
}

impl Backends {
    /// Starts pinging every shard every [`HEALTH_INTERVAL`], all shards concurrently. The
    /// task stops when the backends are dropped; the proxy also aborts it at shutdown.
    pub fn spawn_health_checks(backends: &Arc<Backends>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(backends);
        tokio::spawn(async move {
            let mut conns: Vec<Option<WireConn>> = Vec::new();
            loop {
                let Some(backends) = weak.upgrade() else {
                    return;
                };
                let shards: Vec<Arc<Shard>> = backends.all_shards().cloned().collect();
                drop(backends);
                conns.resize_with(shards.len(), || None);
                futures_util::future::join_all(
                    shards
                        .iter()
                        .zip(conns.iter_mut())
                        .map(|(shard, conn)| check(shard, conn)),
                )
                .await;
                tokio::time::sleep(HEALTH_INTERVAL).await;
            }
        })
    }

    /// Every shard, keyspaces in config order.
    pub fn all_shards(&self) -> impl Iterator<Item = &Arc<Shard>> {
        self.keyspace_order
            .iter()
            .filter_map(|k| self.keyspace(k))
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_is_up_only_after_an_answer_and_until_a_failure() {
        let h = ShardHealth::default();
        assert!(!h.report().up, "never answered");
        h.ok();
        let r = h.report();
        assert!(r.up && r.error.is_none() && r.since_ok.is_some());
        h.failed("connection refused".into());
        let r = h.report();
        assert!(!r.up);
        assert_eq!(r.error.as_deref(), Some("connection refused"));
    }
}

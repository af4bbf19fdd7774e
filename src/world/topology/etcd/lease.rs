//! This proxy's lease: granted at connect, kept alive several times per TTL, granted anew
//! after it was lost. The session is [`SessionState::Lost`] from the moment the lease may
//! have expired on the server — the send time of the last answered keep-alive plus the TTL,
//! less a margin — so the proxy refuses owner DML before other proxies can count it gone.

use super::super::SessionState;
use etcd_client::Client;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Shared between the store and its keeper task.
#[derive(Debug)]
pub struct Lease {
    /// The current lease id (0: none granted yet, or lost).
    pub id: AtomicI64,
    /// Healthy / Lost.
    pub session: watch::Sender<SessionState>,
    /// The store revision when the session last came back from `Lost`: the proxy is in step
    /// again once it serves a VSchema read at or after it.
    pub rejoined_at: AtomicI64,
    /// Set at shutdown: the keeper stops and grants nothing more.
    pub closed: std::sync::atomic::AtomicBool,
}

impl Lease {
    /// No lease yet; the session counts as healthy until the first grant fails for a TTL.
    pub fn new() -> Lease {
        Lease {
            id: AtomicI64::new(0),
            session: watch::Sender::new(SessionState::Healthy),
            rejoined_at: AtomicI64::new(0),
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The current lease id, if one is held.
    pub fn current(&self) -> Option<i64> {
        match self.id.load(Ordering::Acquire) {
            0 => None,
            id => Some(id),
        }
    }

    fn set(&self, state: SessionState) {
        self.session.send_if_modified(|s| {
            let changed = *s != state;
            *s = state;
            changed
        });
    }
}

/// Grants the first lease (so the proxy starts with one) and spawns the keeper.
pub async fn start(client: Client, lease: Arc<Lease>, ttl: i64) -> Result<(), etcd_client::Error> {
    let mut c = client.clone();
    let granted = tokio::time::timeout(Duration::from_secs(ttl as u64), c.lease_grant(ttl, None))
        .await
        .map_err(|_| etcd_client::Error::LeaseKeepAliveError("lease grant timed out".into()))??;
    lease.id.store(granted.id(), Ordering::Release);
    tokio::spawn(keep(client, lease, ttl, Instant::now()));
    Ok(())
}

/// Keeps the lease alive forever; marks the session lost when it may have expired, and
/// grants a new lease when the old one is gone.
async fn keep(client: Client, lease: Arc<Lease>, ttl: i64, mut alive_until_base: Instant) {
    let ttl_d = Duration::from_secs(ttl as u64);
    // Refuse a second before the server could expire it (at least half the TTL early).
    let margin = Duration::from_millis((ttl as u64 * 1000 / 2).min(1000));
    let period = Duration::from_millis((ttl as u64 * 1000 / 5).clamp(200, 1000));
    loop {
        if lease.closed.load(Ordering::Acquire) {
            return;
        }
        let id = match lease.current() {
            Some(id) => id,
            None => match grant(&client, ttl).await {
                Some(id) => {
                    lease.id.store(id, Ordering::Release);
                    alive_until_base = Instant::now();
                    tracing::info!(lease = id, "topology lease granted again");
                    id
                }
                None => {
                    check_lost(&lease, alive_until_base, ttl_d, margin);
                    tokio::time::sleep(period).await;
                    continue;
                }
            },
        };
        let mut c = client.clone();
        let opened = tokio::time::timeout(period * 2, c.lease_keep_alive(id)).await;
        let (mut keeper, mut stream) = match opened {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                // "lease not found": it expired; anything else: etcd unreachable.
                tracing::warn!(error = %e, "cannot keep the topology lease alive");
                if e.to_string().contains("lease not found") {
                    lease.id.store(0, Ordering::Release);
                }
                check_lost(&lease, alive_until_base, ttl_d, margin);
                tokio::time::sleep(period).await;
                continue;
            }
            Err(_) => {
                check_lost(&lease, alive_until_base, ttl_d, margin);
                continue;
            }
        };
        // The open itself was answered with a positive TTL.
        alive_until_base = Instant::now() - period * 2;
        loop {
            if lease.closed.load(Ordering::Acquire) {
                return;
            }
            let sent = Instant::now();
            let answered = tokio::time::timeout(period, async {
                keeper.keep_alive().await?;
                stream.message().await
            })
            .await;
            match answered {
                Ok(Ok(Some(resp))) if resp.ttl() > 0 => {
                    alive_until_base = sent;
                    if *lease.session.borrow() == SessionState::Lost {
                        let revision = resp.header().map_or(i64::MAX, |h| h.revision());
                        lease.rejoined_at.store(revision, Ordering::Release);
                        tracing::info!(revision, "the topology session is back; serving again once the VSchema is re-read");
                    }
                    lease.set(SessionState::Healthy);
                    let rest = period.saturating_sub(sent.elapsed());
                    tokio::time::sleep(rest).await;
                }
                Ok(Ok(Some(_))) => {
                    tracing::warn!(lease = id, "the topology lease expired");
                    lease.id.store(0, Ordering::Release);
                    check_lost(&lease, Instant::now() - ttl_d, ttl_d, margin);
                    break;
                }
                Ok(Ok(None)) | Ok(Err(_)) => {
                    check_lost(&lease, alive_until_base, ttl_d, margin);
                    tokio::time::sleep(period / 2).await;
                    break;
                }
                Err(_) => {
                    if check_lost(&lease, alive_until_base, ttl_d, margin) {
                        break;
                    }
                }
            }
        }
    }
}

/// Marks the session lost once `base + ttl - margin` has passed; returns whether it is lost.
fn check_lost(lease: &Lease, base: Instant, ttl: Duration, margin: Duration) -> bool {
    if base.elapsed() + margin >= ttl {
        if *lease.session.borrow() == SessionState::Healthy {
            tracing::error!(
                "lost the topology session (no lease renewal for {}s): refusing owner DML on keyspaces with lookup vindexes until it is back",
                ttl.as_secs()
            );
        }
        lease.set(SessionState::Lost);
        true
    } else {
        false
    }
}

async fn grant(client: &Client, ttl: i64) -> Option<i64> {
    let mut c = client.clone();
    match tokio::time::timeout(Duration::from_secs(2), c.lease_grant(ttl, None)).await {
        Ok(Ok(r)) => Some(r.id()),
        _ => None,
    }
}

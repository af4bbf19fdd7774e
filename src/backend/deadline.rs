//! Statement deadlines on backend connections.
//!
//! A statement that runs under a timeout runs inside a [`StatementWatch`]'s scope (a tokio
//! task-local, so the executor's and relay's code needs no extra argument). Every backend
//! connection the statement sends a query on registers there with its server thread id;
//! a connection that goes back to its pool leaves. When the timeout fires, the session stops
//! polling the statement, sends `KILL QUERY <thread id>` for each registered connection on a
//! connection of its own ([`kill_query`]), then lets the statement go on: each shard answers
//! its killed query with an error (1317), which the session reports as MariaDB's 1969, and
//! every connection is left between commands, usable. A shard that does not answer within
//! [`KILL_GRACE`] of the timeout has its connection closed (never pooled), and queries the
//! statement would still send are refused without reaching a shard.
//!
//! A connection the session keeps (a transaction) may have finished its query by then: a
//! `KILL QUERY` of a connection between commands is harmless on MariaDB (checked on 10.11: the
//! next command on it runs normally). Connections that went back to their pool are never
//! killed: they may serve another session by then.

use super::wire::{ShardUrl, WireConn};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long after a statement timeout its shards may take to answer their `KILL QUERY`
/// before their connections are given up (closed) and the client is answered anyway.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// How long one `KILL QUERY` (connect, log in, send) may take.
const KILL_WITHIN: Duration = Duration::from_secs(1);

tokio::task_local! {
    static WATCH: Arc<StatementWatch>;
}

/// A backend thread running (part of) a statement.
#[derive(Debug, Clone)]
pub struct KillTarget {
    /// The backend server (the same account kills its own thread).
    pub url: Arc<ShardUrl>,
    /// The TLS the connection uses (`backend.tls`), used for the killing connection too.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// The connection's thread id from the server's greeting.
    pub thread_id: u32,
}

/// One statement's timeout state: whether it fired, and the backend threads it runs on.
#[derive(Debug, Default)]
pub struct StatementWatch {
    fired: AtomicBool,
    fired_signal: tokio::sync::Notify,
    hard_deadline: Mutex<Option<Instant>>,
    running: Mutex<HashMap<u64, KillTarget>>,
}

impl StatementWatch {
    /// A watch that has not fired.
    pub fn new() -> Arc<StatementWatch> {
        Arc::new(StatementWatch::default())
    }

    /// Runs `fut` with this watch as the current statement's.
    pub fn scope<F: Future>(self: &Arc<Self>, fut: F) -> impl Future<Output = F::Output> {
        WATCH.scope(self.clone(), fut)
    }

    /// Marks the statement timed out: from now on its queries are refused and its reads wait
    /// at most until `grace` from now. Returns the backend threads to kill.
    pub fn fire(&self, grace: Duration) -> Vec<KillTarget> {
        self.fired.store(true, Ordering::Relaxed);
        *lock(&self.hard_deadline) = Some(Instant::now() + grace);
        self.fired_signal.notify_waiters();
        lock(&self.running).values().cloned().collect()
    }

    /// Whether the timeout fired.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::Relaxed)
    }

    /// Waits until the timeout fires (a read that started before must learn its deadline).
    pub async fn wait_fired(&self) {
        let notified = self.fired_signal.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.fired() {
            return;
        }
        notified.await;
    }
}

/// The current statement's watch, if it runs under one.
pub fn current() -> Option<Arc<StatementWatch>> {
    WATCH.try_with(Arc::clone).ok()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Called before a connection sends a statement's query: records its thread for the current
/// statement's watch. False when the statement already timed out (send nothing).
pub fn on_send(uid: u64, target: impl FnOnce() -> KillTarget) -> bool {
    WATCH
        .try_with(|w| {
            if w.fired() {
                return false;
            }
            lock(&w.running).entry(uid).or_insert_with(target);
            true
        })
        .unwrap_or(true)
}

/// A connection leaves the current statement (back to its pool, or closed).
pub fn forget(uid: u64) {
    let _ = WATCH.try_with(|w| lock(&w.running).remove(&uid));
}

/// When the current statement's reads must give up (its timeout fired a grace ago).
pub fn hard_deadline() -> Option<Instant> {
    WATCH.try_with(|w| *lock(&w.hard_deadline)).ok().flatten()
}

/// Whether the current statement's timeout fired (long merge loops stop on it).
pub fn timed_out() -> bool {
    WATCH.try_with(|w| w.fired()).unwrap_or(false)
}

/// Sends `KILL QUERY <thread id>` on a new connection to the target's server, within a
/// second; failures are logged (the read deadline then closes the connection).
pub async fn kill_query(target: &KillTarget) {
    let kill = async {
        let mut conn = WireConn::connect(&target.url, target.tls.as_ref()).await?;
        conn.query_drop(format!("KILL QUERY {}", target.thread_id))
            .await
    };
    match tokio::time::timeout(KILL_WITHIN, kill).await {
        Ok(Ok(())) => {}
        // 1094: the thread is gone already (its connection closed).
        Ok(Err(super::wire::WireError::Server { code: 1094, .. })) => {}
        Ok(Err(e)) => tracing::warn!(
            host = %target.url.host, port = target.url.port, thread = target.thread_id,
            error = %e, "KILL QUERY failed"
        ),
        Err(_) => tracing::warn!(
            host = %target.url.host, port = target.url.port, thread = target.thread_id,
            "KILL QUERY got no answer within {} ms", KILL_WITHIN.as_millis()
        ),
    }
}

/// Whether the server behind `url` still answers a login within `within` (the read timeout's
/// liveness probe: a stopped server accepts TCP connections but never greets). A refusal
/// (1040 "Too many connections", …) is an answer: the server runs.
pub async fn server_alive(
    url: &ShardUrl,
    tls: Option<&Arc<rustls::ClientConfig>>,
    within: Duration,
) -> bool {
    matches!(
        tokio::time::timeout(within, WireConn::connect(url, tls)).await,
        Ok(Ok(_)) | Ok(Err(super::wire::WireError::Server { .. }))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(id: u32) -> KillTarget {
        KillTarget {
            url: Arc::new(ShardUrl {
                host: "127.0.0.1".into(),
                port: 1,
                user: "u".into(),
                password: String::new(),
                database: "d".into(),
                socket: None,
            }),
            tls: None,
            thread_id: id,
        }
    }

    #[tokio::test]
    async fn registers_forgets_and_refuses_after_firing() {
        assert!(on_send(1, || target(1)), "outside a watch: no-op");
        assert!(!timed_out());
        let watch = StatementWatch::new();
        let w = watch.clone();
        watch
            .scope(async move {
                assert!(on_send(1, || target(11)));
                assert!(on_send(2, || target(12)));
                forget(1);
                assert!(hard_deadline().is_none());
                let kill = w.fire(Duration::from_secs(2));
                assert_eq!(kill.len(), 1);
                assert_eq!(kill[0].thread_id, 12);
                assert!(timed_out());
                assert!(hard_deadline().is_some());
                assert!(!on_send(3, || target(13)), "refused after firing");
            })
            .await;
        assert!(watch.fired());
    }
}

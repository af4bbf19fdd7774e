//! The clients: each runs random units of work through the proxy until the deadline,
//! reconnecting with backoff while the proxy is dead, and counts what it saw ([`Stats`]).

use crate::workload::{random_work, run_work, Work};
use crate::{CONNECT_TIMEOUT, WORK_TIMEOUT};
use mysql_async::Conn;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What one client saw.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Units of work that succeeded.
    pub(crate) ok: u64,
    /// Explicit transactions committed.
    pub(crate) commits: u64,
    /// Units of work with at least one INSERT/UPDATE/DELETE that succeeded (and committed).
    pub(crate) writes: u64,
    /// Errors by kind (`1062`, `1213`, `io`, `timeout`, ...).
    pub(crate) errors: BTreeMap<String, u64>,
    /// The first message of each error kind.
    pub(crate) samples: BTreeMap<String, String>,
    /// Successful (re)connections.
    pub(crate) connects: u64,
    /// Failed connection attempts (the proxy was down).
    pub(crate) failed_connects: u64,
}

impl Stats {
    fn error(&mut self, kind: String, message: String) {
        *self.errors.entry(kind.clone()).or_default() += 1;
        self.samples.entry(kind).or_insert(message);
    }

    /// Adds another client's counts to these.
    pub(crate) fn merge(&mut self, other: Stats) {
        self.ok += other.ok;
        self.commits += other.commits;
        self.writes += other.writes;
        self.connects += other.connects;
        self.failed_connects += other.failed_connects;
        for (k, n) in other.errors {
            *self.errors.entry(k).or_default() += n;
        }
        for (k, m) in other.samples {
            self.samples.entry(k).or_insert(m);
        }
    }
}

/// The kind of an error, and whether the connection is unusable after it.
fn classify(e: &mysql_async::Error) -> (String, bool) {
    match e {
        mysql_async::Error::Server(s) => (s.code.to_string(), false),
        mysql_async::Error::Io(_) => ("io".into(), true),
        mysql_async::Error::Driver(_) => ("driver".into(), true),
        _ => ("other".into(), true),
    }
}

/// Client `index`: random work (seeded from `seed` and `index`) on `url` until `deadline`.
pub(crate) async fn client(index: usize, seed: u64, url: String, deadline: Instant) -> Stats {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(index as u64 + 1));
    let mut stats = Stats::default();
    let mut conn: Option<Conn> = None;
    let mut backoff = Duration::from_millis(20);
    while Instant::now() < deadline {
        let Some(c) = conn.as_mut() else {
            match tokio::time::timeout(CONNECT_TIMEOUT, Conn::from_url(url.as_str())).await {
                Ok(Ok(c)) => {
                    conn = Some(c);
                    stats.connects += 1;
                    backoff = Duration::from_millis(20);
                }
                _ => {
                    stats.failed_connects += 1;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                }
            }
            continue;
        };
        let work = random_work(&mut rng);
        let broken = match tokio::time::timeout(WORK_TIMEOUT, run_work(c, &work)).await {
            Ok(Ok(())) => {
                stats.ok += 1;
                if matches!(work, Work::Txn { commit: true, .. }) {
                    stats.commits += 1;
                }
                if work.writes() {
                    stats.writes += 1;
                }
                false
            }
            Ok(Err(e)) => {
                let (kind, broken) = classify(&e);
                stats.error(kind, format!("{e} (in {work:?})"));
                broken
            }
            Err(_) => {
                stats.error("timeout".into(), format!("{work:?}"));
                true
            }
        };
        if broken {
            conn = None;
        }
    }
    if let Some(c) = conn {
        let _ = tokio::time::timeout(CONNECT_TIMEOUT, c.disconnect()).await;
    }
    stats
}

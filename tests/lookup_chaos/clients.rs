//! The clients: each runs random units of work through the proxy until the deadline,
//! reconnecting with backoff while the proxy is dead, and counts what it saw ([`Stats`]).
//! Even clients run in the default sql_mode, odd ones in NO_BACKSLASH_ESCAPES (set on the
//! connection); with the item-8 switch every fourth runs in READ COMMITTED.

use crate::config::Settings;
use crate::statements::{Gen, Stmt};
use crate::values::Mode;
use crate::workload::{random_work, run_work};
use crate::{CONNECT_TIMEOUT, WORK_TIMEOUT};
use mysql_async::prelude::*;
use mysql_async::Conn;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// What clients saw.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Units of work that ended without error.
    pub(crate) ok: u64,
    /// Units of work that failed.
    pub(crate) failed: u64,
    /// Units of work that committed at least one successful write.
    pub(crate) writes: u64,
    /// Statements sent (not counting BEGIN/COMMIT/SAVEPOINT).
    pub(crate) statements: u64,
    /// Statements that succeeded, by kind (`user.insert`, ...).
    pub(crate) ok_by_kind: BTreeMap<&'static str, u64>,
    /// Explicit transactions committed / rolled back, ROLLBACK TO SAVEPOINT run.
    pub(crate) commits: u64,
    /// See [`Stats::commits`].
    pub(crate) rollbacks: u64,
    /// See [`Stats::commits`].
    pub(crate) savepoint_rollbacks: u64,
    /// Errors by kind (`1062`, `1213`, `io`, `timeout`, ...).
    pub(crate) errors: BTreeMap<String, u64>,
    /// The first message of each error kind.
    pub(crate) samples: BTreeMap<String, String>,
    /// Refusals (1235) by their message.
    pub(crate) refusals: BTreeMap<String, u64>,
    /// Successful (re)connections and failed attempts (the proxy was down).
    pub(crate) connects: u64,
    /// See [`Stats::connects`].
    pub(crate) failed_connects: u64,
    /// The history: `(seconds since the start, client, statement, result)` of every statement
    /// and transaction control statement sent, in the order each client sent them.
    pub(crate) history: Vec<(f64, usize, String, String)>,
    /// The client and the workload's start, for [`Stats::history`].
    client: usize,
    start: Option<Instant>,
}

impl Stats {
    fn error(&mut self, kind: String, message: String) {
        *self.errors.entry(kind.clone()).or_default() += 1;
        self.samples.entry(kind).or_insert(message);
    }

    /// Appends `sql` and its result to the history.
    pub(crate) fn log(&mut self, sql: &str, r: &Result<(), mysql_async::Error>) {
        let at = self.start.map_or(0.0, |s| s.elapsed().as_secs_f64());
        let result = match r {
            Ok(()) => "ok".to_string(),
            Err(mysql_async::Error::Server(e)) => format!("ERR {} {}", e.code, e.message),
            Err(e) => format!("ERR {e}"),
        };
        self.history
            .push((at, self.client, sql.to_string(), result));
    }

    /// Counts one statement's result.
    pub(crate) fn statement(&mut self, s: &Stmt, r: &Result<(), mysql_async::Error>) {
        match r {
            Ok(()) => *self.ok_by_kind.entry(s.kind).or_default() += 1,
            Err(mysql_async::Error::Server(e)) => {
                if e.code == 1235 {
                    let key: String = e.message.chars().take(90).collect();
                    *self.refusals.entry(key).or_default() += 1;
                }
                self.error(e.code.to_string(), format!("{e} (in {})", s.sql));
            }
            Err(_) => {}
        }
    }

    /// Adds another client's counts to these.
    pub(crate) fn merge(&mut self, other: Stats) {
        self.ok += other.ok;
        self.failed += other.failed;
        self.writes += other.writes;
        self.statements += other.statements;
        self.commits += other.commits;
        self.rollbacks += other.rollbacks;
        self.savepoint_rollbacks += other.savepoint_rollbacks;
        self.connects += other.connects;
        self.failed_connects += other.failed_connects;
        for (k, n) in other.ok_by_kind {
            *self.ok_by_kind.entry(k).or_default() += n;
        }
        for (k, n) in other.errors {
            *self.errors.entry(k).or_default() += n;
        }
        for (k, m) in other.samples {
            self.samples.entry(k).or_insert(m);
        }
        for (k, n) in other.refusals {
            *self.refusals.entry(k).or_default() += n;
        }
        self.history.extend(other.history);
    }
}

/// The kind of a unit's error, and whether the connection is unusable after it.
fn classify(e: &mysql_async::Error) -> (String, bool) {
    match e {
        mysql_async::Error::Server(s) => (format!("unit failed: {}", s.code), false),
        mysql_async::Error::Io(_) => ("io".into(), true),
        mysql_async::Error::Driver(_) => ("driver".into(), true),
        _ => ("other".into(), true),
    }
}

/// What client `index` generates, and the statements that set its connection up.
fn client_setup(index: usize, settings: &Settings) -> (Gen, Vec<&'static str>) {
    let nbe = index % 2 == 1;
    let mode = Mode {
        no_backslash_escapes: nbe,
        tricky: if nbe {
            settings.hole(2)
        } else {
            settings.on("tricky_strings_default_mode")
        },
    };
    let mut setup = Vec::new();
    if nbe {
        setup.push("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
    }
    if settings.hole(8) && index % 4 == 3 {
        setup.push("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
    }
    let g = Gen {
        mode,
        shared_order_values: settings.hole(1),
        shared_nicks: settings.hole(4),
        wrong_unowned: settings.hole(6),
        double_assign: settings.hole(7),
        nondeterministic: settings.hole(8),
        multi_column_route: settings.on("multi_column_unique_route"),
    };
    (g, setup)
}

async fn connect(url: &str, setup: &[&str]) -> Result<Conn, mysql_async::Error> {
    let mut c = Conn::from_url(url).await?;
    for s in setup {
        c.query_drop(*s).await?;
    }
    Ok(c)
}

/// Client `index`: random work (seeded from the run's seed and `index`) on `url` until
/// `deadline`. Each unit of work holds `gate` shared (the create may take it exclusively).
pub(crate) async fn client(
    index: usize,
    settings: Settings,
    url: String,
    start: Instant,
    deadline: Instant,
    gate: Arc<RwLock<()>>,
) -> Stats {
    let mut rng = StdRng::seed_from_u64(settings.seed.wrapping_add(index as u64 + 1));
    let (g, setup) = client_setup(index, &settings);
    let mut stats = Stats {
        client: index,
        start: Some(start),
        ..Stats::default()
    };
    let mut conn: Option<Conn> = None;
    let mut backoff = Duration::from_millis(20);
    while Instant::now() < deadline {
        let Some(c) = conn.as_mut() else {
            match tokio::time::timeout(CONNECT_TIMEOUT, connect(&url, &setup)).await {
                Ok(Ok(c)) => {
                    stats.log("-- connected", &Ok(()));
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
        let work = random_work(&mut rng, &g);
        let guard = gate.read().await;
        let outcome = tokio::time::timeout(WORK_TIMEOUT, run_work(c, &work, &mut stats)).await;
        drop(guard);
        let broken = match outcome {
            Ok(Ok(wrote)) => {
                stats.ok += 1;
                stats.writes += u64::from(wrote);
                false
            }
            Ok(Err(e)) => {
                stats.failed += 1;
                let (kind, broken) = classify(&e);
                stats.error(kind, format!("{e} (in {work:?})"));
                broken
            }
            Err(_) => {
                stats.failed += 1;
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

//! Connection multiplexing against real MariaDB servers: many client sessions share a pool of at
//! most `backend.pool_max` backend connections per shard outside transactions; sessions in a
//! transaction keep their own (reserved) connections without starving autocommit traffic; and
//! pooled connections carry no session state from one client to the next.

mod common;

use common::{EnvSpec, TestEnv};
use mysql_async::prelude::*;
use std::time::Duration;

/// The server thread ids of the proxy's connections to `commerce/0`.
async fn backend_connection_ids(env: &TestEnv) -> Vec<u64> {
    let sessions = env.backend_sessions("commerce", "0").await;
    sessions.into_iter().map(|s| s.id).collect()
}

/// Polls until the proxy has at most `max` connections to `commerce/0` (closing is
/// asynchronous on the server side), returning the last count seen.
async fn settle_at_most(env: &TestEnv, max: usize) -> usize {
    let mut n = backend_connection_ids(env).await.len();
    for _ in 0..100 {
        if n <= max {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        n = backend_connection_ids(env).await.len();
    }
    n
}

/// `clients` sessions each run `SELECT SLEEP(secs)` on commerce at the same time, so the pool
/// opens one backend connection per statement; returns when all have disconnected.
async fn sleep_at_once(env: &TestEnv, clients: usize, secs: f64) {
    let tasks = start_sleeps(env, clients, secs).await;
    for t in tasks {
        t.await.expect("task");
    }
}

/// Starts `clients` sessions each running `SELECT SLEEP(secs)` on commerce, returning their tasks.
async fn start_sleeps(
    env: &TestEnv,
    clients: usize,
    secs: f64,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let mut c = env.client().await;
        tasks.push(tokio::spawn(async move {
            let _: Option<u64> = c
                .query_first(format!("SELECT SLEEP({secs})"))
                .await
                .expect("sleep");
            drop(c.disconnect().await);
        }));
    }
    tasks
}

/// The most `SELECT SLEEP` statements seen running on `commerce/0` at once, polled until
/// `want` are seen or the polls run out.
async fn most_sleeps_at_once(env: &TestEnv, want: usize) -> usize {
    let mut most = 0;
    for _ in 0..200 {
        let running = env
            .backend_sessions("commerce", "0")
            .await
            .into_iter()
            .filter(|s| s.info.as_deref().is_some_and(|i| i.contains("SLEEP")))
            .count();
        most = most.max(running);
        if most >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    most
}

fn spec_with_pool(max: usize) -> EnvSpec {
    let mut spec = EnvSpec::default();
    spec.backend.pool_max = max;
    spec
}

#[tokio::test(flavor = "multi_thread")]
async fn many_clients_share_a_bounded_pool() {
    let env = TestEnv::start(spec_with_pool(4)).await;
    let mut setup = env.client().await;
    setup
        .query_drop("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        .await
        .expect("create");
    setup
        .query_drop("INSERT INTO t VALUES (1, 10), (2, 20), (3, 30)")
        .await
        .expect("insert");
    // The proxy's start-up reads (workflow state, sql_mode, version) and the setup statements
    // took connections from the same pool: there is no second (background) pool.
    let before = backend_connection_ids(&env).await.len();
    assert!(
        (1..=4).contains(&before),
        "only pooled connections, at most pool_max, saw {before}"
    );
    let mut clients = Vec::new();
    for _ in 0..40 {
        clients.push(env.client().await);
    }
    // Every client runs statements at the same time; they wait for one of 4 connections.
    let mut tasks = Vec::new();
    for (i, mut c) in clients.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            for j in 0..15 {
                let id = (i + j) % 3 + 1;
                let want = Some(id as i64 * 10);
                let v: Option<i64> = c
                    .query_first(format!("SELECT v FROM t WHERE id = {id}"))
                    .await
                    .expect("select");
                assert_eq!(v, want, "text select of id {id}");
                let v: Option<i64> = c
                    .exec_first("SELECT v FROM t WHERE id = ?", (id,))
                    .await
                    .expect("prepared select");
                assert_eq!(v, want, "prepared select of id {id}");
            }
            c
        }));
    }
    let mut idle_clients = Vec::new();
    let mut peak = 0;
    let mut seen = std::collections::HashSet::new();
    let mut done = 0;
    while done < tasks.len() {
        let ids = backend_connection_ids(&env).await;
        peak = peak.max(ids.len());
        seen.extend(ids);
        done = tasks.iter().filter(|t| t.is_finished()).count();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for t in tasks {
        idle_clients.push(t.await.expect("task"));
    }
    assert!(
        peak <= 4,
        "at most pool_max backend connections, saw {peak}"
    );
    // Connections are reused, not opened and closed per statement.
    assert!(
        seen.len() <= 4,
        "at most pool_max distinct backend connections over the run, saw {}",
        seen.len()
    );
    // 41 idle client sessions hold no backend connection beyond the pool's idle ones.
    assert!(backend_connection_ids(&env).await.len() <= 4);

    // Transactions reserve connections outside the limit, and autocommit traffic still runs.
    for c in idle_clients.iter_mut().take(6) {
        c.query_drop("BEGIN").await.expect("begin");
        let _: Option<i64> = c
            .query_first("SELECT v FROM t WHERE id = 2")
            .await
            .expect("select in txn");
    }
    let reserved = backend_connection_ids(&env).await.len();
    assert!(
        reserved >= 6,
        "6 open transactions hold 6 backend connections, saw {reserved}"
    );
    let v: Option<i64> = setup
        .query_first("SELECT v FROM t WHERE id = 3")
        .await
        .expect("autocommit select while 6 transactions are open");
    assert_eq!(v, Some(30));
    for c in idle_clients.iter_mut().take(6) {
        c.query_drop("COMMIT").await.expect("commit");
    }
    let after = settle_at_most(&env, 4).await;
    assert!(
        after <= 4,
        "reserved connections beyond pool_max are closed when returned, saw {after}"
    );
    for c in idle_clients {
        drop(c.disconnect().await);
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pooled_connections_carry_no_session_state() {
    // One backend connection: every client statement runs on it, one after another.
    let env = TestEnv::start(spec_with_pool(1)).await;
    let mut a = env.client().await;
    let mut b = env.client().await;
    a.query_drop("SET @marker = 'from a'").await.expect("set");
    a.query_drop("SET SESSION sql_mode = 'ANSI_QUOTES'")
        .await
        .expect("sql_mode");
    // `a` now reserves its connection; `b` gets another one with the server defaults.
    let marker: Option<Option<String>> = b.query_first("SELECT @marker").await.expect("b");
    assert_eq!(marker, Some(None), "b does not see a's user variable");
    let mode: Option<String> = b
        .query_first("SELECT @@SESSION.sql_mode")
        .await
        .expect("b mode");
    assert!(!mode.unwrap_or_default().contains("ANSI_QUOTES"));
    let marker: Option<String> = a.query_first("SELECT @marker").await.expect("a");
    assert_eq!(marker.as_deref(), Some("from a"));
    drop(a.disconnect().await);
    drop(b.disconnect().await);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_connection_is_reset_before_reuse() {
    // One backend connection, changed by `a`, then handed to `b` after `a` leaves.
    let env = TestEnv::start(spec_with_pool(1)).await;
    let settled = settle_at_most(&env, 1).await;
    assert!(settled <= 1, "start-up connections close, saw {settled}");
    let mut a = env.client().await;
    a.query_drop("SET @marker = 'from a'").await.expect("set");
    a.query_drop("SET SESSION sql_mode = 'ANSI_QUOTES'")
        .await
        .expect("sql_mode");
    // The backend connection a runs on, as the shard lists it running a's marked statement
    // (CONNECTION_ID() is the proxy's id).
    let slow = tokio::spawn(async move {
        a.query_drop("SELECT SLEEP(1) AS changed_marker")
            .await
            .expect("marked statement");
        a
    });
    let mut changed = None;
    for _ in 0..100 {
        let sessions = env.backend_sessions("commerce", "0").await;
        if let Some(s) = sessions.iter().find(|s| {
            s.info
                .as_deref()
                .is_some_and(|i| i.contains("changed_marker"))
        }) {
            changed = Some(s.id);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let changed = changed.expect("a's backend connection");
    let a = slow.await.expect("a");
    drop(a.disconnect().await);
    // The proxy resets it (COM_RESET_CONNECTION) and returns it to the pool, after which it
    // sits idle; wait until it has been the only connection, idle for a second.
    let mut pooled = false;
    for _ in 0..100 {
        let sessions = env.backend_sessions("commerce", "0").await;
        if let [only] = sessions.as_slice() {
            if only.id == changed && only.command == "Sleep" && only.time >= 1 {
                pooled = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(pooled, "a's connection {changed} went back to the pool");
    let mut b = env.client().await;
    let (marker, mode): (Option<String>, String) = b
        .query_first("SELECT @marker, @@SESSION.sql_mode")
        .await
        .expect("b")
        .expect("a row");
    // (The harness's own listing connections may linger in the process list a moment after
    // they quit: the only connection that stays must be the one a changed.)
    let mut ids: Vec<u64> = Vec::new();
    for _ in 0..50 {
        ids = env
            .backend_sessions("commerce", "0")
            .await
            .iter()
            .map(|s| s.id)
            .collect();
        if ids == [changed] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ids, [changed], "b runs on the connection a changed");
    assert_eq!(marker, None, "the user variable was reset");
    assert!(!mode.contains("ANSI_QUOTES"), "sql_mode was reset: {mode}");
    drop(b.disconnect().await);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pool_min_is_opened_in_advance_and_idle_connections_close_without_traffic() {
    let mut spec = spec_with_pool(4);
    spec.backend.pool_min = 1;
    spec.backend.idle_timeout_ms = 300;
    let env = TestEnv::start(spec).await;
    // No client has sent anything: each shard's pool_min connection is open all the same.
    for (keyspace, shard) in [("commerce", "0"), ("customer", "-80"), ("customer", "80-")] {
        let mut open = 0;
        for _ in 0..100 {
            open = env.backend_sessions(keyspace, shard).await.len();
            if open == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(open, 1, "{keyspace}/{shard} has its pool_min connection");
    }
    // Four statements at once run on four connections (watched while they run: counting
    // sessions afterwards races the 300 ms idle reaping and the server's asynchronous close).
    let tasks = start_sleeps(&env, 4, 3.0).await;
    assert_eq!(most_sleeps_at_once(&env, 4).await, 4, "one per statement");
    for t in tasks {
        t.await.expect("task");
    }
    // Nothing else reaches the pool; the upkeep closes the three idle ones past 300 ms and
    // keeps pool_min.
    let left = settle_at_most(&env, 1).await;
    assert_eq!(left, 1, "idle connections closed down to pool_min");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        backend_connection_ids(&env).await.len(),
        1,
        "pool_min stays open"
    );
    env.stop().await;
}

/// `SHOW POOLS LIKE 'commerce/0'` as (open, idle, in use, reserved, max, min).
async fn commerce_pool(c: &mut mysql_async::Conn) -> (u64, u64, u64, u64, u64, u64) {
    let rows: Vec<mysql_async::Row> = c
        .query("SHOW POOLS LIKE 'commerce/0'")
        .await
        .expect("show pools");
    assert_eq!(rows.len(), 1, "one row for commerce/0");
    let row = &rows[0];
    let shard: String = row.get("Shard").expect("Shard");
    assert_eq!(shard, "commerce/0");
    let n = |col: &str| -> u64 {
        let text: String = row.get(col).unwrap_or_else(|| panic!("column {col}"));
        text.parse().unwrap_or_else(|_| panic!("{col} = {text:?}"))
    };
    (
        n("Open"),
        n("Idle"),
        n("InUse"),
        n("Reserved"),
        n("Max"),
        n("Min"),
    )
}

/// Polls `SHOW POOLS` (up to a second: a connection goes back to the pool just after its
/// statement's answer) until it shows `want`, returning the last counts seen.
async fn commerce_pool_settles(
    c: &mut mysql_async::Conn,
    want: (u64, u64, u64, u64, u64, u64),
) -> (u64, u64, u64, u64, u64, u64) {
    let mut seen = commerce_pool(c).await;
    for _ in 0..50 {
        if seen == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        seen = commerce_pool(c).await;
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn show_pools_counts_idle_busy_and_reserved_connections() {
    let mut spec = spec_with_pool(4);
    spec.backend.pool_min = 0;
    let env = TestEnv::start(spec).await;
    let mut admin = env.client().await;
    // Two statements at once leave two idle connections behind.
    sleep_at_once(&env, 2, 0.3).await;
    let want = (2, 2, 0, 0, 4, 0);
    assert_eq!(commerce_pool_settles(&mut admin, want).await, want);
    // A transaction keeps its connection: it leaves the pool's count for Reserved.
    let mut tx = env.client().await;
    tx.query_drop("BEGIN").await.expect("begin");
    tx.query_drop("SELECT 1 FROM DUAL").await.expect("select");
    let _: Option<u64> = tx.query_first("SELECT CONNECTION_ID()").await.expect("id");
    let want = (1, 1, 0, 1, 4, 0);
    assert_eq!(commerce_pool_settles(&mut admin, want).await, want);
    tx.query_drop("COMMIT").await.expect("commit");
    drop(tx.disconnect().await);
    // Back in the pool once the session lets it go.
    let want = (2, 2, 0, 0, 4, 0);
    assert_eq!(commerce_pool_settles(&mut admin, want).await, want);
    drop(admin.disconnect().await);
    env.stop().await;
}

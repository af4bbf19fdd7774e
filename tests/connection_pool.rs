//! Connection multiplexing against real MariaDB servers: many client sessions share a pool of at
//! most `backend.pool_max` backend connections per shard outside transactions; sessions in a
//! transaction keep their own (reserved) connections without starving autocommit traffic; and
//! pooled connections carry no session state from one client to the next.

mod common;

use common::{EnvSpec, TestEnv};
use mysql_async::prelude::*;
use std::time::Duration;

/// Server thread ids of the backend connections whose default database is `db`: the proxy's
/// connections to one shard (the test's databases are its own, so nothing else uses them).
async fn backend_connection_ids(env: &TestEnv, db: &str) -> Vec<u64> {
    let mut direct = env.shard_conn("commerce", "0").await;
    let ids: Vec<u64> = direct
        .exec(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
            (db,),
        )
        .await
        .expect("processlist");
    drop(direct.disconnect().await);
    ids
}

/// How many such connections there are.
async fn backend_connections(env: &TestEnv, db: &str) -> i64 {
    backend_connection_ids(env, db).await.len() as i64
}

/// Polls until the shard's backend connection count is at most `max` (closing is asynchronous
/// on the server side), returning the last count seen.
async fn settle_at_most(env: &TestEnv, db: &str, max: i64) -> i64 {
    let mut n = backend_connections(env, db).await;
    for _ in 0..100 {
        if n <= max {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        n = backend_connections(env, db).await;
    }
    n
}

fn spec_with_pool(max: usize) -> EnvSpec {
    let mut spec = EnvSpec::default();
    spec.backend.pool_max = max;
    spec
}

#[tokio::test(flavor = "multi_thread")]
async fn many_clients_share_a_bounded_pool() {
    let env = TestEnv::start(spec_with_pool(4)).await;
    let db = env.shard_database("commerce", "0");
    let mut setup = env.client().await;
    setup
        .query_drop("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        .await
        .expect("create");
    setup
        .query_drop("INSERT INTO t VALUES (1, 10), (2, 20), (3, 30)")
        .await
        .expect("insert");
    // The proxy's start-up reads (workflow state) used a background-job connection; it closes
    // within seconds.
    let before = settle_at_most(&env, &db, 1).await;
    assert!(
        before <= 1,
        "only the setup statements' pooled connection, saw {before}"
    );
    let mut clients = Vec::new();
    for _ in 0..40 {
        clients.push(env.client().await);
    }
    // Every client runs statements at the same time; they wait for one of 4 connections.
    let mut tasks = Vec::new();
    for (i, mut c) in clients.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut sum = 0i64;
            for j in 0..15 {
                let id = (i + j) % 3 + 1;
                let v: Option<i64> = c
                    .query_first(format!("SELECT v FROM t WHERE id = {id}"))
                    .await
                    .expect("select");
                sum += v.unwrap_or(0);
                let v: Option<i64> = c
                    .exec_first("SELECT v FROM t WHERE id = ?", (id,))
                    .await
                    .expect("prepared select");
                sum -= v.unwrap_or(0);
            }
            (c, sum)
        }));
    }
    let mut idle_clients = Vec::new();
    let mut peak = 0;
    let mut seen = std::collections::HashSet::new();
    let mut done = 0;
    while done < tasks.len() {
        let ids = backend_connection_ids(&env, &db).await;
        peak = peak.max(ids.len());
        seen.extend(ids);
        done = tasks.iter().filter(|t| t.is_finished()).count();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for t in tasks {
        let (c, sum) = t.await.expect("task");
        assert_eq!(sum, 0, "each text and prepared select saw the same row");
        idle_clients.push(c);
    }
    assert!(
        peak <= 4,
        "at most pool_max backend connections, saw {peak}"
    );
    // 41 idle client sessions hold no backend connection beyond the pool's idle ones.
    assert!(backend_connections(&env, &db).await <= 4);

    // Transactions reserve connections outside the limit, and autocommit traffic still runs.
    for c in idle_clients.iter_mut().take(6) {
        c.query_drop("BEGIN").await.expect("begin");
        let _: Option<i64> = c
            .query_first("SELECT v FROM t WHERE id = 2")
            .await
            .expect("select in txn");
    }
    let reserved = backend_connections(&env, &db).await;
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
    let after = settle_at_most(&env, &db, 4).await;
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
    // When `a` leaves, its changed connection is reset before anyone else gets it.
    drop(a.disconnect().await);
    for _ in 0..3 {
        let marker: Option<Option<String>> = b.query_first("SELECT @marker").await.expect("b");
        assert_eq!(marker, Some(None));
    }
    drop(b.disconnect().await);
    env.stop().await;
}

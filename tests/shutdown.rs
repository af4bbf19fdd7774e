//! SIGTERM and SIGINT (issue 20, point 4): the proxy stops accepting, lets a transaction in
//! flight finish within `server.shutdown_grace_ms`, rolls back what is left after it, closes
//! its pools and exits 0.

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use serde_json::json;
use std::time::{Duration, Instant};

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"t": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    EnvSpec::default().with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
}

async fn rows_on_shards(env: &TestEnv) -> Vec<u64> {
    let mut ids = Vec::new();
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("customer", shard).await;
        let r: Vec<u64> = d.query("SELECT id FROM t").await.expect("rows");
        ids.extend(r);
    }
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_transactions_then_exits_zero() {
    let mut spec = spec();
    spec.server.shutdown_grace_ms = 3000;
    let env = TestEnv::start(spec).await;
    let mut proxy = env.proxy_process().await;
    let url = proxy.url(Some("customer"));
    let mut setup = Conn::from_url(url.as_str()).await.expect("connect");
    setup
        .query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY)")
        .await
        .expect("table");
    drop(setup);
    // One transaction that finishes during the drain, one that never does, one idle session.
    let mut finishes = Conn::from_url(url.as_str()).await.expect("a");
    finishes.query_drop("BEGIN").await.expect("begin");
    finishes
        .query_drop("INSERT INTO t (id) VALUES (1)")
        .await
        .expect("insert");
    let mut abandoned = Conn::from_url(url.as_str()).await.expect("b");
    abandoned.query_drop("BEGIN").await.expect("begin");
    abandoned
        .query_drop("INSERT INTO t (id) VALUES (2)")
        .await
        .expect("insert");
    let mut idle = Conn::from_url(url.as_str()).await.expect("c");

    let sent = Instant::now();
    proxy.signal(libc::SIGTERM);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // No new clients; the idle session is closed; the transaction may go on and commit.
    assert!(
        tokio::time::timeout(Duration::from_secs(2), Conn::from_url(url.as_str()))
            .await
            .map(|r| r.is_err())
            .unwrap_or(true),
        "a new connection was accepted while draining"
    );
    assert!(
        idle.query_drop("SELECT 1").await.is_err(),
        "idle session closed"
    );
    finishes
        .query_drop("INSERT INTO t (id) VALUES (3)")
        .await
        .expect("statements in a transaction go on");
    finishes
        .query_drop("COMMIT")
        .await
        .expect("commit during the drain");
    assert!(
        finishes.query_drop("SELECT 1").await.is_err(),
        "closed after its transaction"
    );

    let status = proxy
        .wait_exit(Duration::from_secs(15))
        .await
        .expect("exits after the grace period");
    let took = sent.elapsed();
    assert!(
        status.success(),
        "exit status {status:?}; log:\n{}",
        proxy.log()
    );
    assert!(
        took >= Duration::from_millis(2500) && took < Duration::from_secs(10),
        "waited the grace period for the abandoned transaction: {took:?}"
    );
    assert!(
        abandoned.query_drop("COMMIT").await.is_err(),
        "closed at the end of the grace"
    );
    // The committed transaction's rows stay; the abandoned one was rolled back.
    assert_eq!(rows_on_shards(&env).await, [1, 3]);
    assert!(proxy.log().contains("shutdown grace period over"));
    // Logged to a file (not a terminal): no colour codes.
    assert!(!proxy.log().contains('\x1b'), "ANSI codes in a log file");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_with_nothing_open_exits_at_once() {
    let env = TestEnv::start(spec()).await;
    let mut proxy = env.proxy_process().await;
    let mut c = Conn::from_url(proxy.url(Some("customer")).as_str())
        .await
        .expect("connect");
    c.query_drop("SELECT 1").await.expect("query");
    let sent = Instant::now();
    proxy.signal(libc::SIGINT);
    let status = proxy
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("exits");
    assert!(status.success(), "{status:?}");
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}",
        sent.elapsed()
    );
    env.stop().await;
}

//! A shard that goes down: its statements fail quickly with a clear error, other keyspaces keep
//! working, and once the server is back the proxy uses it again (stale pooled connections are
//! checked before reuse).

mod common;

use common::{EnvSpec, TestEnv};
use mysql_async::prelude::*;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn down_shard_fails_fast_others_work_and_it_comes_back() {
    let mut spec = EnvSpec::default().with_private_shard("commerce", "0");
    spec.backend.checkout_timeout_ms = 2000;
    let env = TestEnv::start(spec).await;
    let mut c = env.client().await;
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .expect("create");
    c.query_drop("INSERT INTO t VALUES (1)")
        .await
        .expect("insert");
    // Warm the pool with several connections so stale ones exist after the restart.
    let mut warm = Vec::new();
    for _ in 0..4 {
        let mut w = env.client().await;
        w.query_drop("SELECT 1").await.expect("warm");
        warm.push(w);
    }
    env.private_server("commerce", "0").kill().await;

    let started = Instant::now();
    let err = c
        .query_drop("SELECT COUNT(*) FROM t")
        .await
        .expect_err("shard is down");
    assert!(started.elapsed() < Duration::from_secs(5), "failed fast");
    match err {
        mysql_async::Error::Server(e) => {
            assert_eq!(e.code, 1105, "{}", e.message);
            assert!(
                e.message.contains("commerce/0"),
                "names the shard: {}",
                e.message
            );
        }
        other => panic!("expected a server error, got {other}"),
    }
    // The client connection itself is still fine, and other keyspaces work.
    c.query_drop("USE `customer:-80`")
        .await
        .expect("use other keyspace");
    let one: Option<i64> = c.query_first("SELECT 1").await.expect("other shard works");
    assert_eq!(one, Some(1));

    env.private_server("commerce", "0").restart().await;
    c.query_drop("USE commerce").await.expect("use");
    // Stale pooled connections may fail once each at most; within a few tries it works.
    let mut back = None;
    for _ in 0..10 {
        match c.query_first::<i64, _>("SELECT COUNT(*) FROM t").await {
            Ok(v) => {
                back = v;
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    assert_eq!(back, Some(1), "the shard is used again after it returns");
    for mut w in warm {
        let n: Option<i64> = w
            .query_first("SELECT COUNT(*) FROM t")
            .await
            .expect("after restart");
        assert_eq!(n, Some(1));
    }
    env.stop().await;
}

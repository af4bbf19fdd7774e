//! A scatter SELECT runs on its shards at the same time, not one after another: with every
//! shard's rows locked by a direct transaction, the proxy's `SELECT … FOR UPDATE` must be seen
//! waiting on all four shards at once (run one by one it would wait on the first shard only),
//! and once the locks go it returns every row.

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use serde_json::json;
use std::time::Duration;

const SHARDS: [&str; 4] = ["-40", "40-80", "80-c0", "c0-"];

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"t": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    EnvSpec::default().with_keyspace(KeyspaceSpec::sharded("customer", &SHARDS, customer))
}

/// Whether the proxy runs a statement starting with `prefix` on the shard.
async fn running_on(env: &TestEnv, shard: &str, prefix: &str) -> bool {
    let sessions = env.backend_sessions("customer", shard).await;
    sessions
        .iter()
        .any(|s| s.info.as_deref().is_some_and(|i| i.starts_with(prefix)))
}

#[tokio::test(flavor = "multi_thread")]
async fn scatter_waits_on_every_shard_at_once() {
    let env = TestEnv::start(spec()).await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use");
    c.query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY, v INT)")
        .await
        .expect("ddl");
    let values: Vec<String> = (1..=40).map(|i| format!("({i}, {})", i * 10)).collect();
    c.query_drop(format!(
        "INSERT INTO t (id, v) VALUES {}",
        values.join(", ")
    ))
    .await
    .expect("insert");
    // Every shard holds rows, and a direct transaction locks all of them.
    let mut lockers = Vec::new();
    for shard in SHARDS {
        let mut d = env.shard_conn("customer", shard).await;
        d.query_drop("BEGIN").await.expect("begin");
        let ids: Vec<i64> = d.query("SELECT id FROM t FOR UPDATE").await.expect("lock");
        assert!(!ids.is_empty(), "shard {shard} holds rows");
        lockers.push(d);
    }
    c.query_drop("SET SESSION innodb_lock_wait_timeout = 30")
        .await
        .expect("timeout");
    let scatter = tokio::spawn(async move {
        c.query_drop("BEGIN").await.expect("begin");
        let ids: Vec<i64> = c
            .query("SELECT id FROM t ORDER BY id FOR UPDATE")
            .await
            .expect("scatter");
        c.query_drop("COMMIT").await.expect("commit");
        ids
    });
    let mut all_waiting = false;
    for _ in 0..200 {
        let mut waiting = 0;
        for shard in SHARDS {
            if running_on(&env, shard, "SELECT id FROM t ORDER BY id FOR UPDATE").await {
                waiting += 1;
            }
        }
        if waiting == SHARDS.len() {
            all_waiting = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for mut d in lockers {
        d.query_drop("COMMIT").await.expect("commit");
        drop(d.disconnect().await);
    }
    let ids = scatter.await.expect("scatter task");
    assert!(
        all_waiting,
        "the scatter never waited on all {} shards at once",
        SHARDS.len()
    );
    assert_eq!(ids, (1..=40).collect::<Vec<i64>>());
    env.stop().await;
}

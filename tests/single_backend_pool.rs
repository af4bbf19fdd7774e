//! One MySQL client per shard (issue 19, point 7): background jobs take their backend
//! connections from the same per-shard pool as client sessions, so a CreateLookupVindex
//! backfill never has a shard's connections go past `backend.pool_max` plus the one read
//! connection its stream holds on its source shard (outside `pool_max`, like a session's
//! transaction), and client statements keep running meanwhile.
//!
//! With a second (background) pool per shard, the source shards would see the session pool's
//! `pool_max` idle connections plus the backfill's own connections (its read and its load
//! probe), beyond that bound.

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row};
use serde_json::json;
use std::time::{Duration, Instant};

const POOL_MAX: usize = 2;
const ROWS: u64 = 12_000;
const SHARDS: [&str; 2] = ["-80", "80-"];

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"user": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    let mut spec = EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded("customer", &SHARDS, customer))
        .with_keyspace(KeyspaceSpec::sharded(
            "lookup",
            &SHARDS,
            json!({"sharded": true}),
        ));
    spec.backend.pool_max = POOL_MAX;
    spec
}

// Slow enough (about 2 s per stream) to be sampled many times; `--max_backend_load` makes the
// stream probe `Threads_running` before every chunk (a connection of its own each time).
const CREATE: &str = r#"CreateLookupVindex --max_rows_per_sec=3000 --chunk_size=500 --max_backend_load=1000 customer '{"sharded": true, "vindexes": {"email_vdx": {"type": "consistent_lookup_unique", "params": {"table": "lookup.email_vdx", "from": "email", "to": "keyspace_id"}, "owner": "user"}}, "tables": {"user": {"column_vindexes": [{"column": "email", "name": "email_vdx"}]}}}'"#;

/// Each stream's state.
async fn states(c: &mut Conn) -> Vec<String> {
    let rows: Vec<Row> = c.query("SHOW VINDEX WORKFLOWS").await.expect("show");
    rows.iter()
        .map(|r| r.get::<String, _>("state").unwrap_or_default())
        .collect()
}

/// The proxy's connections to every shard of `keyspace`, per shard.
async fn connections(env: &TestEnv, keyspace: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for shard in SHARDS {
        out.push(env.backend_sessions(keyspace, shard).await.len());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backfill_uses_the_session_pool_of_each_shard() {
    let env = TestEnv::start(spec()).await;
    let url = env.url("root", "", Some("customer"));
    let mut c = Conn::from_url(url.as_str()).await.expect("connect");
    c.query_drop("CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(64), email VARCHAR(128), KEY email (email))")
        .await
        .expect("user table");
    for batch in 0..(ROWS / 2000) {
        let values: Vec<String> = (1..=2000)
            .map(|i| {
                let id = batch * 2000 + i;
                format!("({id}, 'u', 'user{id}@x')")
            })
            .collect();
        c.query_drop(format!(
            "INSERT INTO user (id, name, email) VALUES {}",
            values.join(", ")
        ))
        .await
        .expect("load");
    }

    // Fill each customer shard's pool: POOL_MAX statements at once on both shards (the idle
    // connections then stay for `idle_timeout_ms`, a minute by default).
    let mut sleepers = Vec::new();
    for _ in 0..POOL_MAX {
        let url = url.clone();
        sleepers.push(tokio::spawn(async move {
            let mut s = Conn::from_url(url.as_str()).await.expect("connect");
            let _: Vec<Row> = s
                .query("SELECT SLEEP(0.5) FROM user LIMIT 1")
                .await
                .expect("sleep");
            drop(s.disconnect().await);
        }));
    }
    for s in sleepers {
        s.await.expect("sleeper");
    }
    assert_eq!(
        connections(&env, "customer").await,
        vec![POOL_MAX; SHARDS.len()],
        "each customer shard's pool holds pool_max idle connections"
    );

    c.query_drop(CREATE).await.expect("create");
    let mut peak_source = vec![0; SHARDS.len()];
    let mut peak_target = vec![0; SHARDS.len()];
    let mut slowest_client = Duration::ZERO;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        for (peak, now) in peak_source
            .iter_mut()
            .zip(connections(&env, "customer").await)
        {
            *peak = (*peak).max(now);
        }
        for (peak, now) in peak_target
            .iter_mut()
            .zip(connections(&env, "lookup").await)
        {
            *peak = (*peak).max(now);
        }
        // Client statements on the source shards are not starved by the backfill.
        let asked = Instant::now();
        let n: Option<u64> = c
            .query_first("SELECT COUNT(*) FROM user")
            .await
            .expect("client statement during the backfill");
        assert_eq!(n, Some(ROWS));
        slowest_client = slowest_client.max(asked.elapsed());
        let s = states(&mut c).await;
        if s.len() == SHARDS.len() && s.iter().all(|s| s == "Stopped") {
            break;
        }
        assert!(
            !s.iter().any(|s| s == "Error"),
            "a stream failed: {:?}",
            c.query::<Row, _>("SHOW VINDEX WORKFLOWS").await
        );
        assert!(
            Instant::now() < deadline,
            "backfill not done in 120 s: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "peak connections: customer {peak_source:?}, lookup {peak_target:?}; slowest client statement {slowest_client:?}"
    );
    // Source shards: the pool's connections plus the stream's held read connection.
    for (shard, peak) in SHARDS.iter().zip(&peak_source) {
        assert!(
            *peak <= POOL_MAX + 1,
            "customer/{shard}: at most pool_max + 1 backend connections during the backfill, saw {peak}"
        );
    }
    // Target shards: the pool's connections plus, per stream, a transaction per commit list
    // (pre, normal, post) its verify pass may hold there.
    for (shard, peak) in SHARDS.iter().zip(&peak_target) {
        assert!(
            *peak <= POOL_MAX + 3 * SHARDS.len(),
            "lookup/{shard}: at most pool_max + 3 per stream, saw {peak}"
        );
    }
    assert!(
        slowest_client < Duration::from_secs(3),
        "client statements wait for no backfill connection, slowest took {slowest_client:?}"
    );

    // Every owner row got its lookup row.
    let mut lookup_rows = 0;
    for shard in SHARDS {
        let mut d = env.shard_conn("lookup", shard).await;
        let n: Option<u64> = d
            .query_first("SELECT COUNT(*) FROM email_vdx")
            .await
            .expect("count");
        lookup_rows += n.unwrap_or(0);
        drop(d.disconnect().await);
    }
    assert_eq!(lookup_rows, ROWS);

    // Done: a held connection that came back to a full pool was closed.
    let mut settled = connections(&env, "customer").await;
    for _ in 0..50 {
        if settled.iter().all(|n| *n <= POOL_MAX) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        settled = connections(&env, "customer").await;
    }
    assert!(
        settled.iter().all(|n| *n <= POOL_MAX),
        "after the backfill, at most pool_max connections per shard, saw {settled:?}"
    );
    drop(c.disconnect().await);
    env.stop().await;
}

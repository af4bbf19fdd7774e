//! CreateLookupVindex across three proxies while writers use the other two; the runner dies.

use crate::cluster::Proxies;
use crate::common::owner_writers::owner_writer;
use crate::common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row};
use serde_json::json;
use shardgate::vindex::hash::vhash;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROWS: u64 = 12_000;

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"user": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
        .with_keyspace(KeyspaceSpec::sharded(
            "lookup",
            &["-80", "80-"],
            json!({"sharded": true}),
        ))
}

// Slow enough (2 streams × 1,000 rows/s) to kill the runner mid-copy.
const CREATE: &str = r#"CreateLookupVindex --max_rows_per_sec=1000 customer '{"sharded": true, "vindexes": {"email_vdx": {"type": "consistent_lookup_unique", "params": {"table": "lookup.email_vdx", "from": "email", "to": "keyspace_id", "ignore_nulls": "true"}, "owner": "user"}}, "tables": {"user": {"column_vindexes": [{"column": "email", "name": "email_vdx"}]}}}'"#;

/// (source_shard, state, rows_copied, runner).
async fn workflows(c: &mut Conn) -> Vec<(String, String, u64, String)> {
    let rows: Vec<Row> = c.query("SHOW VINDEX WORKFLOWS").await.expect("show");
    rows.into_iter()
        .map(|r| {
            (
                r.get::<String, _>("source_shard").unwrap_or_default(),
                r.get::<String, _>("state").unwrap_or_default(),
                r.get::<String, _>("rows_copied")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
                r.get::<String, _>("runner").unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_backfill_survives_its_runner_and_no_proxy_skips_a_lookup_write() {
    let env = TestEnv::start(spec()).await;
    let mut cluster = Proxies::start(&env, 3, &format!("fail{}", std::process::id())).await;
    let mut a = cluster.conn(0).await;
    a.query_drop(
        "CREATE TABLE user (id BIGINT PRIMARY KEY, email VARCHAR(128), KEY email (email))",
    )
    .await
    .expect("user table");
    for batch in 0..(ROWS / 2000) {
        let values: Vec<String> = (1..=2000)
            .map(|i| {
                let id = batch * 2000 + i;
                format!("({id}, 'user{id}@x')")
            })
            .collect();
        a.query_drop(format!(
            "INSERT INTO user (id, email) VALUES {}",
            values.join(", ")
        ))
        .await
        .expect("load");
    }
    // 8 writers, on proxies B and C.
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..8)
        .map(|i| {
            let url = cluster.proxies[1 + i % 2].url(Some("customer"));
            tokio::spawn(owner_writer(
                url,
                ROWS,
                31 + i as u64,
                stop.clone(),
                ok.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    a.query_drop(CREATE).await.expect("create through A");
    let mut b = cluster.conn(1).await;
    // Kill A once its streams copied some rows.
    let deadline = Instant::now() + Duration::from_secs(120);
    let a_id = loop {
        let w = workflows(&mut b).await;
        let copied: u64 = w.iter().map(|r| r.2).sum();
        if copied >= ROWS / 10 {
            assert!(
                w.iter().any(|r| r.1 == "Copying"),
                "too fast to kill mid-copy: {w:?}"
            );
            let runners: Vec<&String> = w.iter().map(|r| &r.3).collect();
            assert!(
                runners.iter().all(|r| *r == runners[0] && !r.is_empty()),
                "A runs every stream: {w:?}"
            );
            break runners[0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "backfill does not progress: {w:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let copied_before: u64 = workflows(&mut b).await.iter().map(|r| r.2).sum();
    drop(a);
    cluster.proxies[0].kill();
    let killed = Instant::now();
    // Another proxy resumes every stream from its saved position.
    let resumed = loop {
        let w = workflows(&mut b).await;
        if w.iter().all(|r| !r.3.is_empty() && r.3 != a_id) {
            break killed.elapsed();
        }
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "not resumed: {w:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    eprintln!("streams resumed on another proxy {resumed:?} after the runner was SIGKILLed");
    // SHOW VITESS_GATEWAYS on B: A is gone (its lease), the new runners list their streams
    // (records are republished within 100 ms of a change).
    let listed = Instant::now();
    loop {
        let gateways = crate::cluster::gateways(&mut b).await;
        let runners: Vec<String> = workflows(&mut b).await.into_iter().map(|r| r.3).collect();
        let ok = gateways.len() == 2
            && !gateways.iter().any(|g| g.0 == a_id)
            && gateways
                .iter()
                .filter(|g| runners.contains(&g.0))
                .all(|g| g.2.contains("customer.email_vdx/"));
        if ok {
            break;
        }
        assert!(
            listed.elapsed() < Duration::from_secs(5),
            "gateways {gateways:?}, runners {runners:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after: u64 = workflows(&mut b).await.iter().map(|r| r.2).sum();
    assert!(
        after >= copied_before,
        "resumed, not restarted: {after} < {copied_before}"
    );
    // In sync.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let w = workflows(&mut b).await;
        assert!(!w.iter().any(|r| r.1 == "Error"), "{w:?}");
        if !w.is_empty() && w.iter().all(|r| r.1 == "Stopped") {
            break;
        }
        assert!(Instant::now() < deadline, "not in sync: {w:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        let _ = w.await;
    }
    assert!(ok.load(Ordering::Relaxed) > 100, "the writers wrote");
    b.query_drop("ExternalizeVindex customer.email_vdx")
        .await
        .expect("externalize through B");

    // Read the shards directly: every owner row has its lookup row.
    let mut lookup: HashMap<String, Vec<u8>> = HashMap::new();
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("lookup", shard).await;
        let rows: Vec<(String, Vec<u8>)> = d
            .query("SELECT email, keyspace_id FROM email_vdx")
            .await
            .expect("lookup rows");
        for (e, k) in rows {
            assert!(
                lookup.insert(e.to_lowercase(), k).is_none(),
                "duplicate lookup row"
            );
        }
    }
    let mut owners: Vec<(u64, String)> = Vec::new();
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("customer", shard).await;
        let rows: Vec<(u64, Option<String>)> =
            d.query("SELECT id, email FROM user").await.expect("users");
        for (id, email) in rows {
            let Some(email) = email else { continue };
            assert_eq!(
                lookup.get(&email.to_lowercase()).map(Vec::as_slice),
                Some(&vhash(id)[..]),
                "user {id} ({email}) has no lookup row pointing at it"
            );
            owners.push((id, email));
        }
    }
    assert!(owners.len() as u64 > ROWS / 3);
    // Routed reads (through the vindex, on proxy C) equal what the shards hold.
    let mut c = cluster.conn(2).await;
    for (id, email) in owners.iter().step_by(owners.len() / 50 + 1) {
        let got: Vec<u64> = c
            .query(format!("SELECT id FROM user WHERE email = '{email}'"))
            .await
            .expect("routed read");
        assert_eq!(got, vec![*id], "routed read of {email}");
    }
    eprintln!(
        "{} owner rows, {} lookup rows, {} writes by 8 writers on B and C",
        owners.len(),
        lookup.len(),
        ok.load(Ordering::Relaxed)
    );
    drop((b, c));
    cluster.stop().await;
    env.stop().await;
}

//! CreateLookupVindex under load (issue 5, point 7): 200,000 owner rows on two shards, a new
//! `email` lookup vindex backfilled while clients insert, update and delete through the
//! proxy, the proxy SIGKILLed and restarted once mid-backfill, then externalized; afterwards
//! the shards are read directly: every owner row has its lookup row, no duplicate, zero
//! orphans after `VERIFY VINDEX ... REPAIR` (then the shards are read directly), and a query
//! on the column reaches one shard.
//! Also: only admin users may run it (1142), a bad spec changes nothing, and running the
//! same create twice is safe.

mod common;

use common::owner_writers::owner_writer;
use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row};
use serde_json::json;
use shardgate::vindex::hash::vhash;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROWS: u64 = 200_000;

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

const CREATE: &str = r#"CreateLookupVindex --max_rows_per_sec=25000 customer '{"sharded": true, "vindexes": {"email_vdx": {"type": "consistent_lookup_unique", "params": {"table": "lookup.email_vdx", "from": "email", "to": "keyspace_id", "ignore_nulls": "true"}, "owner": "user"}}, "tables": {"user": {"column_vindexes": [{"column": "email", "name": "email_vdx"}]}}}'"#;

/// The workflow's rows: (source_shard, state, rows_copied, percent, message).
async fn workflows(c: &mut Conn) -> Vec<(String, String, u64, String, String)> {
    let rows: Vec<Row> = c.query("SHOW VINDEX WORKFLOWS").await.expect("show");
    rows.into_iter()
        .map(|r| {
            (
                r.get::<String, _>("source_shard").unwrap_or_default(),
                r.get::<String, _>("state").unwrap_or_default(),
                r.get::<String, _>("rows_copied")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0),
                r.get::<String, _>("percent").unwrap_or_default(),
                r.get::<String, _>("message").unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backfill_under_load_with_a_kill_then_externalize() {
    let env = TestEnv::start(spec()).await;
    let mut proxy = env.proxy_process().await;
    let url = proxy.url(Some("customer"));
    let mut c = Conn::from_url(url.as_str()).await.expect("connect");
    c.query_drop("CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(64), email VARCHAR(128), KEY email (email))")
        .await
        .expect("user table");
    let started = Instant::now();
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
    eprintln!("loaded {ROWS} rows in {:?}", started.elapsed());

    // Only admins, and a bad spec changes nothing.
    let app = proxy.url(Some("customer")).replace("root@", "app:secret@");
    let mut a = Conn::from_url(app.as_str()).await.expect("app");
    let err = a.query_drop(CREATE).await.expect_err("not admin");
    assert!(
        matches!(err, mysql_async::Error::Server(ref e) if e.code == 1142),
        "{err:?}"
    );
    let bad = CREATE.replace("\"owner\": \"user\"", "\"owner\": \"nosuch\"");
    assert!(c.query_drop(bad).await.is_err());
    let before = std::fs::read_to_string(env.vschema_dir().join("customer.json")).expect("vschema");
    assert!(!before.contains("email_vdx"), "{before}");

    // Writers run from before the create until after the copy.
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..4)
        .map(|i| {
            tokio::spawn(owner_writer(
                url.clone(),
                ROWS,
                17 + i,
                stop.clone(),
                ok.clone(),
            ))
        })
        .collect();
    c.query_drop(CREATE).await.expect("create");
    c.query_drop(CREATE)
        .await
        .expect("the same create again is a no-op");
    // Kill the proxy once mid-copy.
    let deadline = Instant::now() + Duration::from_secs(150);
    loop {
        let w = workflows(&mut c).await;
        let copied: u64 = w.iter().map(|r| r.2).sum();
        if copied >= ROWS / 5 {
            assert!(
                w.iter().any(|r| r.1 == "Copying"),
                "too fast to kill mid-copy: {w:?}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "backfill does not progress: {w:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let copied_before: u64 = workflows(&mut c).await.iter().map(|r| r.2).sum();
    drop(c);
    proxy.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.restart().await;
    let mut c = Conn::from_url(url.as_str()).await.expect("reconnect");
    let after: u64 = workflows(&mut c).await.iter().map(|r| r.2).sum();
    assert!(
        after >= copied_before,
        "resumed, not restarted: {after} < {copied_before}"
    );
    // In sync: every stream stopped after copy.
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let w = workflows(&mut c).await;
        assert!(!w.iter().any(|r| r.1 == "Error"), "{w:?}");
        if !w.is_empty() && w.iter().all(|r| r.1 == "Stopped") {
            eprintln!("in sync: {w:?}");
            assert!(
                w.iter().all(|r| r.4.starts_with("Stopped after copy")),
                "{w:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "not in sync: {w:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        let _ = w.await;
    }
    assert!(ok.load(Ordering::Relaxed) > 50, "the writers wrote");
    // Before externalizing, reads by email still scatter.
    let q: Vec<(u64, String, String, String)> = c
        .query("VEXPLAIN QUERIES SELECT id FROM user WHERE email = 'user7@x'")
        .await
        .expect("vexplain");
    assert_eq!(q.len(), 2, "write_only scatters: {q:?}");
    c.query_drop("ExternalizeVindex customer.email_vdx")
        .await
        .expect("externalize");
    assert!(workflows(&mut c).await.is_empty());

    // REPAIR adds nothing (nothing is missing) and deletes the orphans the copy and the
    // writers left (lookup rows of deleted or changed users).
    let report: Row = c
        .query_first("VERIFY VINDEX customer.email_vdx REPAIR")
        .await
        .expect("verify")
        .expect("a row");
    eprintln!("VERIFY VINDEX REPAIR: {report:?}");
    assert_eq!(
        report.get::<String, _>("missing").as_deref(),
        Some("0"),
        "{report:?}"
    );
    assert_eq!(
        report.get::<String, _>("orphans"),
        report.get::<String, _>("orphans_deleted"),
        "{report:?}"
    );

    // Every owner row has its lookup row, read on the shards directly; no duplicate emails.
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
    let mut owners = 0;
    let mut emails: HashMap<String, u64> = HashMap::new();
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("customer", shard).await;
        let rows: Vec<(u64, Option<String>)> =
            d.query("SELECT id, email FROM user").await.expect("users");
        for (id, email) in rows {
            owners += 1;
            let Some(email) = email else { continue };
            let key = email.to_lowercase();
            assert_eq!(
                lookup.get(&key).map(Vec::as_slice),
                Some(&vhash(id)[..]),
                "user {id} ({email}) has no lookup row pointing at it"
            );
            assert!(emails.insert(key, id).is_none(), "email {email} held twice");
        }
    }
    eprintln!("{owners} owner rows, {} lookup rows", lookup.len());
    assert!(owners > ROWS / 2);
    // Zero orphans after REPAIR: every lookup row is an owner row's.
    assert_eq!(lookup.len(), emails.len(), "orphan lookup rows remain");
    // Reads by email now reach one lookup shard and one user shard.
    let (email, id) = emails
        .iter()
        .next()
        .map(|(e, i)| (e.clone(), *i))
        .expect("a user");
    let q: Vec<(u64, String, String, String)> = c
        .query(format!(
            "VEXPLAIN QUERIES SELECT id FROM user WHERE email = '{email}'"
        ))
        .await
        .expect("vexplain");
    let owner_shards: Vec<_> = q.iter().filter(|r| r.1 == "customer").collect();
    assert_eq!(owner_shards.len(), 1, "{q:?}");
    let got: Vec<u64> = c
        .query(format!("SELECT id FROM user WHERE email = '{email}'"))
        .await
        .expect("by email");
    assert_eq!(got, vec![id]);
    drop(c);
    proxy.stop().await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_restores_the_vschema_and_drops_the_table() {
    let env = TestEnv::start(spec()).await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use");
    c.query_drop("CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(64), email VARCHAR(128))")
        .await
        .expect("user table");
    c.query_drop("INSERT INTO user (id, name, email) VALUES (1, 'a', 'a@x'), (4, 'b', 'b@x')")
        .await
        .expect("rows");
    let before = std::fs::read_to_string(env.vschema_dir().join("customer.json")).expect("vschema");
    c.query_drop(CREATE.replace(
        "--max_rows_per_sec=25000 ",
        "--continue_after_copy_with_owner=true ",
    ))
    .await
    .expect("create");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let w = workflows(&mut c).await;
        if w.len() == 2 && w.iter().all(|r| r.1 == "Running") {
            break;
        }
        assert!(Instant::now() < deadline, "{w:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.query_drop("CancelLookupVindex customer.email_vdx")
        .await
        .expect("cancel");
    let after = std::fs::read_to_string(env.vschema_dir().join("customer.json")).expect("vschema");
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).expect("json");
    assert_eq!(parse(&after), parse(&before));
    assert!(workflows(&mut c).await.is_empty());
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("lookup", shard).await;
        let t: Vec<String> = d.query("SHOW TABLES").await.expect("tables");
        assert!(!t.contains(&"email_vdx".to_string()), "{t:?}");
    }
    // Inserts keep working without the vindex.
    c.query_drop("INSERT INTO user (id, name, email) VALUES (2, 'c', 'c@x')")
        .await
        .expect("insert");
    env.stop().await;
}

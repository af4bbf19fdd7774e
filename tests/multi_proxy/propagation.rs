//! VSchema changes reach every proxy; concurrent edits through two proxies never lose one.

use crate::cluster::{own_revision, wait_all_serving, Proxies};
use crate::common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use serde_json::json;
use std::time::Duration;

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {
            "user": {"column_vindexes": [{"column": "id", "name": "hash"}]},
            "acct": {"column_vindexes": [{"column": "id", "name": "hash"}]}
        }
    });
    EnvSpec::default().with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_vschema_change_reaches_every_proxy_and_concurrent_edits_never_lose_one() {
    let env = TestEnv::start(spec()).await;
    let cluster = Proxies::start(&env, 3, &format!("prop{}", std::process::id())).await;
    let mut conns = vec![
        cluster.conn(0).await,
        cluster.conn(1).await,
        cluster.conn(2).await,
    ];
    conns[0]
        .query_drop("CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(64))")
        .await
        .expect("table");
    // The seeded VSchema is in etcd, readable with etcdctl.
    let stored = cluster.etcd.etcdctl(&[
        "get",
        &format!("{}/vschema/customer", cluster.prefix),
        "--print-value-only",
    ]);
    let stored: serde_json::Value = serde_json::from_str(stored.trim()).expect("JSON");
    assert_eq!(
        stored["tables"]["user"]["column_vindexes"][0]["name"],
        "hash"
    );

    // A view recorded through proxy 0 changes the VSchema; time until all three serve it.
    let mut waits = Vec::new();
    for i in 0..5 {
        conns[0]
            .query_drop(format!("CREATE VIEW v{i} AS SELECT id, name FROM user"))
            .await
            .expect("view");
        let rev = own_revision(&mut conns[0]).await;
        assert!(rev > 0);
        waits.push(wait_all_serving(&mut conns, rev, Duration::from_secs(10)).await);
        // Proxy 2 knows the view now: it routes a read of it.
        let n: Option<u64> = conns[2]
            .query_first(format!("SELECT COUNT(*) FROM v{i}"))
            .await
            .expect("proxy 2 reads the new view");
        assert_eq!(n, Some(0));
    }
    // A bad VSchema written straight into etcd is rejected by every proxy (logged), which
    // keep serving the last good one; a good one after it is served again.
    let key = format!("{}/vschema/customer", cluster.prefix);
    let good = cluster.etcd.etcdctl(&["get", &key, "--print-value-only"]);
    let served = own_revision(&mut conns[1]).await;
    cluster
        .etcd
        .etcdctl(&["put", &key, r#"{"sharded": false}"#]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (i, c) in conns.iter_mut().enumerate() {
        assert_eq!(
            own_revision(c).await,
            served,
            "proxy {i} kept the last good VSchema"
        );
        let n: Option<u64> = c
            .query_first("SELECT COUNT(*) FROM v0")
            .await
            .expect("still routes");
        assert_eq!(n, Some(0));
    }
    for (i, p) in cluster.proxies.iter().enumerate() {
        assert!(
            p.log().contains("rejected the VSchema in the topology"),
            "proxy {i} logs the rejection"
        );
    }
    cluster.etcd.etcdctl(&["put", &key, good.trim()]);
    wait_all_serving(&mut conns, served + 2, Duration::from_secs(10)).await;
    waits.sort();
    eprintln!(
        "VSchema change to every proxy: median {:?}, max {:?} (5 changes, 3 proxies)",
        waits[2], waits[4]
    );

    // Two admins at once, through proxies 1 and 2, editing the same keyspace. View DDL is
    // re-derived after a lost compare-and-swap, so both always survive.
    for round in 0..10 {
        let (mut b, mut c) = (conns.remove(1), conns.remove(1));
        let (rb, rc) = tokio::join!(
            b.query_drop(format!("CREATE VIEW b{round} AS SELECT id FROM user")),
            c.query_drop(format!("CREATE VIEW c{round} AS SELECT name FROM user")),
        );
        rb.expect("view through proxy 1");
        rc.expect("view through proxy 2");
        conns.insert(1, c);
        conns.insert(1, b);
    }
    let stored = cluster.etcd.etcdctl(&[
        "get",
        &format!("{}/vschema/customer", cluster.prefix),
        "--print-value-only",
    ]);
    let stored: serde_json::Value = serde_json::from_str(stored.trim()).expect("JSON");
    for round in 0..10 {
        for name in [format!("b{round}"), format!("c{round}")] {
            assert!(
                stored["views"].get(&name).is_some(),
                "view {name} was created but is not in etcd: {}",
                stored["views"]
            );
        }
    }
    // Two CreateLookupVindex at once on the same keyspace: each succeeds or fails with the
    // conflict error (nothing of it left behind); every success is in etcd.
    conns[0]
        .query_drop("CREATE TABLE acct (id BIGINT PRIMARY KEY, a VARCHAR(64), b VARCHAR(64))")
        .await
        .expect("acct");
    conns[0]
        .query_drop("INSERT INTO acct (id, a, b) VALUES (1, 'a1', 'b1'), (2, 'a2', 'b2')")
        .await
        .expect("acct rows");
    let create = |col: &str| {
        format!(
            r#"CreateLookupVindex customer '{{"sharded": true, "vindexes": {{"{col}_vdx": {{"type": "consistent_lookup", "params": {{"table": "commerce.{col}_vdx", "from": "{col}", "to": "keyspace_id"}}, "owner": "acct"}}}}, "tables": {{"acct": {{"column_vindexes": [{{"column": "{col}", "name": "{col}_vdx"}}]}}}}}}'"#
        )
    };
    let (mut b, mut c) = (conns.remove(1), conns.remove(1));
    let (ra, rb) = tokio::join!(b.query_drop(create("a")), c.query_drop(create("b")));
    let stored = cluster.etcd.etcdctl(&[
        "get",
        &format!("{}/vschema/customer", cluster.prefix),
        "--print-value-only",
    ]);
    let stored: serde_json::Value = serde_json::from_str(stored.trim()).expect("JSON");
    let mut succeeded = 0;
    for (col, r) in [("a", ra), ("b", rb)] {
        let present = stored["vindexes"].get(format!("{col}_vdx")).is_some();
        match r {
            Ok(()) => {
                succeeded += 1;
                assert!(
                    present,
                    "{col}_vdx was created but is not in etcd: {stored}"
                );
            }
            Err(mysql_async::Error::Server(e)) => {
                assert!(
                    e.message.contains("changed concurrently"),
                    "not a conflict error: {e:?}"
                );
                assert!(!present, "a refused create left its vindex: {stored}");
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(succeeded >= 1, "one of two concurrent creates succeeds");
    eprintln!(
        "two concurrent CreateLookupVindex: {succeeded} succeeded, the other refused as a conflict"
    );
    conns.insert(1, c);
    conns.insert(1, b);
    drop(conns);
    cluster.stop().await;
    env.stop().await;
}

//! A proxy cut off from etcd refuses owner DML within its lease and recovers.

use crate::cluster::Proxies;
use crate::common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_proxy_cut_off_from_etcd_refuses_writes_keeps_reading_and_recovers() {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"user": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    let env = TestEnv::start(EnvSpec::default().with_keyspace(KeyspaceSpec::sharded(
        "customer",
        &["-80", "80-"],
        customer,
    )))
    .await;
    let cluster = Proxies::start(&env, 2, &format!("part{}", std::process::id())).await;
    let mut a = cluster.conn(0).await;
    a.query_drop("CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(64))")
        .await
        .expect("table");
    a.query_drop("INSERT INTO user (id, name) VALUES (1, 'a'), (2, 'b')")
        .await
        .expect("rows");
    // A transaction that wrote before the cut may not commit after it.
    let mut t = cluster.conn(0).await;
    t.query_drop("BEGIN").await.expect("begin");
    t.query_drop("INSERT INTO user (id, name) VALUES (10, 'in txn')")
        .await
        .expect("txn write");

    cluster.etcd.pause();
    let cut = Instant::now();
    let ttl = Duration::from_secs(3);
    let mut n = 100;
    let refused = loop {
        n += 1;
        match a
            .query_drop(format!("INSERT INTO user (id, name) VALUES ({n}, 'x')"))
            .await
        {
            Ok(()) => {}
            Err(mysql_async::Error::Server(e)) => {
                assert_eq!(e.code, 1105, "{e:?}");
                assert!(e.message.contains("lost its topology session"), "{e:?}");
                break cut.elapsed();
            }
            Err(e) => panic!("{e}"),
        }
        assert!(
            cut.elapsed() < ttl + Duration::from_secs(2),
            "still writing after the lease"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        refused <= ttl,
        "refused after {refused:?}, beyond the {ttl:?} lease"
    );
    eprintln!("writes refused {refused:?} after etcd stopped answering (lease {ttl:?})");
    // Reads keep working on the last VSchema; so do the other statements of a session.
    let names: Vec<String> = a
        .query("SELECT name FROM user WHERE id = 1")
        .await
        .expect("read");
    assert_eq!(names, ["a"]);
    let err = t.query_drop("COMMIT").await.expect_err("commit refused");
    assert!(err.to_string().contains("rolled back"), "{err}");
    assert!(a
        .query_drop("UPDATE user SET name = 'z' WHERE id = 2")
        .await
        .is_err());
    assert!(a.query_drop("DELETE FROM user WHERE id = 2").await.is_err());

    cluster.etcd.resume();
    let back = Instant::now();
    loop {
        match a
            .query_drop("INSERT INTO user (id, name) VALUES (500, 'back')")
            .await
        {
            Ok(()) => break,
            Err(mysql_async::Error::Server(e)) if e.code == 1105 => {}
            Err(e) => panic!("{e}"),
        }
        assert!(
            back.elapsed() < Duration::from_secs(30),
            "writes not accepted again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("writes accepted {:?} after etcd came back", back.elapsed());
    let ids: Vec<u64> = a
        .query("SELECT id FROM user WHERE id IN (10, 500) ORDER BY id")
        .await
        .expect("ids");
    assert_eq!(ids, [500], "the refused transaction was rolled back");
    drop((a, t));
    cluster.stop().await;
    env.stop().await;
}

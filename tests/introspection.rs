//! Vitess's introspection statements through the proxy.

mod common;

use common::{EnvSpec, TestEnv};
use mysql_async::prelude::*;

#[tokio::test(flavor = "multi_thread")]
async fn show_vitess_statements() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut c = env.client().await;
    let shards: Vec<String> = c.query("SHOW VITESS_SHARDS").await.expect("shards");
    assert_eq!(shards, vec!["commerce/0", "customer/-80", "customer/80-"]);
    let like: Vec<String> = c
        .query("SHOW VITESS_SHARDS LIKE 'customer/%'")
        .await
        .expect("like");
    assert_eq!(like, vec!["customer/-80", "customer/80-"]);
    let ks: Vec<String> = c.query("show keyspaces").await.expect("keyspaces");
    assert_eq!(ks, vec!["commerce", "customer"]);
    let vks: Vec<(String, String, String, String)> = c
        .query("SHOW VSCHEMA KEYSPACES")
        .await
        .expect("vschema keyspaces");
    assert_eq!(vks.len(), 2);
    assert!(vks.iter().any(|r| r.0 == "customer" && r.1 == "true"));
    assert!(vks.iter().any(|r| r.0 == "commerce" && r.1 == "false"));
    let target: Vec<String> = c.query("SHOW VITESS_TARGET").await.expect("target");
    assert_eq!(target, vec!["commerce"]);
    c.query_drop("USE `customer:-80`").await.expect("use");
    let target: Vec<String> = c.query("SHOW VITESS_TARGET").await.expect("target");
    assert_eq!(target, vec!["customer:-80"]);
    // Ordinary SHOW statements still reach the backend.
    c.query_drop("USE commerce").await.expect("use");
    c.query_drop("CREATE TABLE shown (id INT)")
        .await
        .expect("create");
    let tables: Vec<String> = c.query("SHOW TABLES").await.expect("tables");
    assert_eq!(tables, vec!["shown"]);
    // VEXPLAIN QUERIES runs the statement and lists what each shard received.
    let rows: Vec<(u64, String, String, String)> = c
        .query("VEXPLAIN QUERIES SELECT COUNT(*) FROM commerce.shown")
        .await
        .expect("vexplain");
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].1.as_str(), rows[0].2.as_str()), ("commerce", "0"));
    assert!(
        rows[0].3.contains("FROM `"),
        "qualifier mapped to the shard database: {}",
        rows[0].3
    );
    match c
        .query_drop("VEXPLAIN QUERIES INSERT INTO shown VALUES (1)")
        .await
    {
        Err(mysql_async::Error::Server(e)) => assert!(
            e.message.contains("VT09008") || e.message.contains("vexplain"),
            "{}",
            e.message
        ),
        other => panic!("DML under VEXPLAIN QUERIES needs the directive: {other:?}"),
    }
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM shown")
        .await
        .expect("count");
    assert_eq!(n, Some(0), "refused DML did not run");
    env.stop().await;
}

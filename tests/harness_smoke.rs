//! Smoke tests of the integration-test harness itself: shard databases exist on real servers
//! with binlog on, parallel envs are isolated, private servers can be killed and restarted,
//! the in-process proxy answers, and the out-of-process proxy can be killed and restarted.

mod common;

use common::{EnvSpec, TestEnv};
use mysql_async::prelude::Queryable;

#[tokio::test]
async fn shard_databases_exist_with_binlog_on() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let id = env.id;
    assert_eq!(
        env.shard_database("commerce", "0"),
        format!("t{id}_commerce")
    );
    assert_eq!(
        env.shard_database("customer", "-80"),
        format!("t{id}_customer_lo_80")
    );
    assert_eq!(
        env.shard_database("customer", "80-"),
        format!("t{id}_customer_80_hi")
    );
    for (ks, shard) in [("commerce", "0"), ("customer", "-80"), ("customer", "80-")] {
        let mut conn = env.shard_conn(ks, shard).await;
        let row: (String, i64, String, String) = conn
            .query_first("SELECT DATABASE(), @@log_bin, @@binlog_format, @@character_set_server")
            .await
            .expect("query")
            .expect("one row");
        assert_eq!(
            row,
            (
                env.shard_database(ks, shard),
                1,
                "ROW".into(),
                "utf8mb4".into()
            ),
            "{ks}/{shard}"
        );
        conn.disconnect().await.expect("disconnect");
    }
    // The three shards are spread over the three shared servers.
    let mut ports: Vec<u16> = env.shards.iter().map(|p| p.port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 3, "{:?}", env.shards);
    env.stop().await;
}

#[tokio::test]
async fn parallel_envs_are_isolated() {
    let (a, b) = tokio::join!(
        TestEnv::start(EnvSpec::default()),
        TestEnv::start(EnvSpec::default())
    );
    assert_ne!(a.id, b.id);
    assert_ne!(a.port(), b.port());
    for p in &a.shards {
        assert_ne!(p.database, b.shard_database(&p.keyspace, &p.shard));
    }
    let mut ca = a.shard_conn("commerce", "0").await;
    ca.query_drop("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .expect("create in a");
    ca.disconnect().await.expect("disconnect");
    let mut cb = b.shard_conn("commerce", "0").await;
    let tables: Vec<String> = cb.query("SHOW TABLES").await.expect("show tables");
    assert!(tables.is_empty(), "env b sees env a's tables: {tables:?}");
    cb.disconnect().await.expect("disconnect");

    let db = a.shard_database("commerce", "0");
    let port = a.shard_port("commerce", "0");
    a.stop().await;
    let mut conn = mysql_async::Conn::from_url(common::backend_url(port, None))
        .await
        .expect("connect");
    let left: Option<String> = conn
        .exec_first(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
            (db.clone(),),
        )
        .await
        .expect("query");
    assert_eq!(left, None, "stop() must drop {db}");
    conn.disconnect().await.expect("disconnect");
    b.stop().await;
}

#[tokio::test]
async fn private_server_can_be_killed_and_restarted() {
    let env = TestEnv::start(EnvSpec::default().with_private_shard("customer", "80-")).await;
    let server = env.private_server("customer", "80-");
    assert_eq!(env.shard_port("customer", "80-"), server.port());
    let mut conn = env.shard_conn("customer", "80-").await;
    conn.query_drop("CREATE TABLE kept (id INT PRIMARY KEY)")
        .await
        .expect("create");
    conn.query_drop("INSERT INTO kept VALUES (1)")
        .await
        .expect("insert");
    drop(conn);

    server.kill().await;
    let url = server.url(None);
    assert!(
        mysql_async::Conn::from_url(url.as_str()).await.is_err(),
        "a killed server must refuse connections"
    );
    server.restart().await;
    let mut conn = env.shard_conn("customer", "80-").await;
    let n: Option<i64> = conn
        .query_first("SELECT COUNT(*) FROM kept")
        .await
        .expect("count");
    assert_eq!(n, Some(1), "data survives a kill and restart");
    conn.disconnect().await.expect("disconnect");
    env.stop().await;
}

#[tokio::test]
async fn proxy_answers_a_query() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut conn = env.client().await;
    let one: Option<i64> = conn
        .query_first("SELECT 1")
        .await
        .expect("SELECT 1 through the proxy");
    assert_eq!(one, Some(1));
    conn.disconnect().await.expect("disconnect");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_process_can_be_killed_and_restarted() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut proxy = env.proxy_process().await;
    assert_ne!(proxy.port(), env.port(), "a port of its own");
    let url = proxy.url(Some("commerce"));
    let mut c = mysql_async::Conn::from_url(url.as_str())
        .await
        .expect("connect");
    c.query_drop("CREATE TABLE survives (id INT)")
        .await
        .expect("create");
    proxy.kill();
    assert!(!proxy.is_running());
    assert!(c.query_drop("SELECT 1").await.is_err(), "the proxy is gone");
    assert!(mysql_async::Conn::from_url(url.as_str()).await.is_err());
    proxy.restart().await;
    assert_eq!(proxy.starts(), 2);
    let mut c = mysql_async::Conn::from_url(url.as_str())
        .await
        .expect("reconnect on the same port");
    let tables: Vec<String> = c.query("SHOW TABLES").await.expect("show");
    assert_eq!(tables, vec!["survives"]);
    drop(c);
    proxy.stop().await;
    env.stop().await;
}

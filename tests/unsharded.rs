//! Unsharded keyspaces through the proxy: passthrough, keyspace-to-database mapping,
//! transactions pinned to one backend connection, session state following the session,
//! local answers, refusal of sharded statements, explicit shard targeting, and a shard outage.

mod common;

use common::{EnvSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;

async fn count(c: &mut Conn, sql: &str) -> i64 {
    c.query_first::<i64, _>(sql)
        .await
        .expect("count")
        .unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread")]
async fn passthrough_and_keyspace_mapping() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut c = env.client().await;
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(20))")
        .await
        .expect("create");
    c.query_drop("INSERT INTO t (name) VALUES ('a'), ('b'), ('c')")
        .await
        .expect("insert");
    assert_eq!(c.last_insert_id(), Some(1));
    assert_eq!(c.affected_rows(), 3);
    assert_eq!(count(&mut c, "SELECT LAST_INSERT_ID()").await, 1);
    // Qualified names use the keyspace, which maps to the shard's own database.
    assert_eq!(count(&mut c, "SELECT COUNT(*) FROM commerce.t").await, 3);
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) FROM `commerce`.`t` WHERE name <> 'commerce.t'"
        )
        .await,
        3
    );
    let db = env.shard_database("commerce", "0");
    assert_ne!(
        db, "commerce",
        "the test backend database differs from the keyspace name"
    );
    let mut direct = env.shard_conn("commerce", "0").await;
    assert_eq!(count(&mut direct, "SELECT COUNT(*) FROM t").await, 3);
    // Introspection answered by the proxy.
    let dbname: Option<String> = c.query_first("SELECT DATABASE()").await.expect("db");
    assert_eq!(dbname.as_deref(), Some("commerce"));
    let dbs: Vec<String> = c.query("SHOW DATABASES").await.expect("show");
    assert_eq!(dbs, vec!["commerce".to_string(), "customer".to_string()]);
    let comment: Option<String> = c
        .query_first("SELECT @@version_comment LIMIT 1")
        .await
        .expect("comment");
    assert!(comment.unwrap_or_default().contains("shardgate"));
    // Backend errors pass through with their own code.
    match c.query_drop("SELECT * FROM no_such_table").await {
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1146),
        other => panic!("expected 1146, got {other:?}"),
    }
    match c.query_drop("INSERT INTO t VALUES (1, 'dup')").await {
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1062),
        other => panic!("expected 1062, got {other:?}"),
    }
    match c.query_drop("SELEC 1").await {
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1064),
        other => panic!("expected 1064, got {other:?}"),
    }
    // Warnings are kept from the connection that raised them.
    c.query_drop("INSERT IGNORE INTO t VALUES (1, 'dup')")
        .await
        .expect("ignore");
    let warnings: Vec<(String, u32, String)> = c.query("SHOW WARNINGS").await.expect("warnings");
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].1, 1062);
    // USE of unknown database.
    match c.query_drop("USE nope").await {
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1049),
        other => panic!("expected 1049, got {other:?}"),
    }
    env.stop().await;
}

/// The backend threads with an open InnoDB transaction on commerce/0's database.
async fn transaction_threads(env: &TestEnv) -> Vec<u64> {
    let mut direct = env.shard_conn("commerce", "0").await;
    let threads = direct
        .exec(
            "SELECT t.trx_mysql_thread_id FROM information_schema.INNODB_TRX t \
             JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
             WHERE p.DB = ? ORDER BY 1",
            (env.shard_database("commerce", "0"),),
        )
        .await
        .expect("INNODB_TRX");
    drop(direct.disconnect().await);
    threads
}

#[tokio::test(flavor = "multi_thread")]
async fn transactions_pin_one_connection() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut c = env.client().await;
    let mut other = env.client().await;
    c.query_drop("CREATE TABLE acct (id INT PRIMARY KEY, v INT)")
        .await
        .expect("create");
    c.query_drop("INSERT INTO acct VALUES (1, 10)")
        .await
        .expect("insert");
    // A rolled back transaction leaves nothing behind.
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("UPDATE acct SET v = 11 WHERE id = 1")
        .await
        .expect("update");
    assert_eq!(
        count(&mut c, "SELECT v FROM acct WHERE id = 1").await,
        11,
        "own write visible"
    );
    assert_eq!(
        count(&mut other, "SELECT v FROM acct WHERE id = 1").await,
        10,
        "isolated"
    );
    // (CONNECTION_ID() is the proxy's id: the shard says which thread holds the transaction.)
    let in_txn = transaction_threads(&env).await;
    assert_eq!(in_txn.len(), 1, "one backend transaction: {in_txn:?}");
    count(&mut c, "SELECT v FROM acct WHERE id = 1").await;
    assert_eq!(
        transaction_threads(&env).await,
        in_txn,
        "one backend connection"
    );
    c.query_drop("ROLLBACK").await.expect("rollback");
    assert_eq!(
        count(&mut other, "SELECT v FROM acct WHERE id = 1").await,
        10
    );
    // Committed with START TRANSACTION + savepoints.
    c.query_drop("START TRANSACTION").await.expect("start");
    c.query_drop("UPDATE acct SET v = 20 WHERE id = 1")
        .await
        .expect("update");
    c.query_drop("SAVEPOINT s1").await.expect("savepoint");
    c.query_drop("UPDATE acct SET v = 30 WHERE id = 1")
        .await
        .expect("update");
    c.query_drop("ROLLBACK TO SAVEPOINT s1")
        .await
        .expect("rollback to");
    c.query_drop("COMMIT").await.expect("commit");
    assert_eq!(
        count(&mut other, "SELECT v FROM acct WHERE id = 1").await,
        20
    );
    // autocommit=0 opens transactions implicitly; autocommit=1 commits.
    c.query_drop("SET autocommit = 0").await.expect("ac0");
    c.query_drop("UPDATE acct SET v = 40 WHERE id = 1")
        .await
        .expect("update");
    assert_eq!(
        count(&mut other, "SELECT v FROM acct WHERE id = 1").await,
        20
    );
    c.query_drop("ROLLBACK").await.expect("rollback");
    c.query_drop("UPDATE acct SET v = 50 WHERE id = 1")
        .await
        .expect("update");
    c.query_drop("SET autocommit = 1").await.expect("ac1");
    assert_eq!(
        count(&mut other, "SELECT v FROM acct WHERE id = 1").await,
        50
    );
    // A client that disconnects mid-transaction gets rolled back.
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("UPDATE acct SET v = 60 WHERE id = 1")
        .await
        .expect("update");
    drop(c);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        count(&mut other, "SELECT v FROM acct WHERE id = 1").await,
        50
    );
    // Prepared BEGIN / COMMIT (sysbench's ps mode) work like the text ones.
    let mut p = env.client().await;
    p.exec_drop("BEGIN", ()).await.expect("prepared begin");
    p.exec_drop("UPDATE acct SET v = ? WHERE id = 1", (70,))
        .await
        .expect("update");
    assert_eq!(
        count(&mut other, "SELECT v FROM acct WHERE id = 1").await,
        50
    );
    p.exec_drop("COMMIT", ()).await.expect("prepared commit");
    assert_eq!(
        count(&mut other, "SELECT v FROM acct WHERE id = 1").await,
        70
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn session_state_follows_the_session() {
    let env = TestEnv::start(EnvSpec::default()).await;
    // Many concurrent sessions with different settings over a small pool: none sees another's.
    let mut tasks = Vec::new();
    for i in 0..12i64 {
        let url = env.url("root", "", Some("commerce"));
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::from_url(url).await.expect("connect");
            c.query_drop(format!("SET @mine = {i}"))
                .await
                .expect("set var");
            c.query_drop(format!("SET SESSION time_zone = '+0{}:00'", i % 10))
                .await
                .expect("tz");
            c.query_drop("SET sql_mode = 'ANSI_QUOTES'")
                .await
                .expect("mode");
            for _ in 0..20 {
                let (v, tz, mode): (i64, String, String) = c
                    .query_first("SELECT @mine, @@session.time_zone, @@session.sql_mode")
                    .await
                    .expect("read")
                    .expect("row");
                assert_eq!(v, i);
                assert_eq!(tz, format!("+0{}:00", i % 10));
                assert_eq!(mode, "ANSI_QUOTES");
            }
            // Invalid settings fail right away, like MySQL.
            match c.query_drop("SET sql_mode = 'NOT_A_MODE'").await {
                Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1231),
                other => panic!("expected 1231, got {other:?}"),
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    // A fresh session sees none of it, even on reused backend connections.
    let mut c = env.client().await;
    for _ in 0..20 {
        let (v, mode): (Option<i64>, String) = c
            .query_first("SELECT @mine, @@session.sql_mode")
            .await
            .expect("read")
            .expect("row");
        assert_eq!(v, None);
        assert_ne!(mode, "ANSI_QUOTES");
    }
    // MySQL 8 drivers' SET NAMES with a 0900 collation is accepted (MariaDB lacks it).
    c.query_drop("SET NAMES 'utf8mb4' COLLATE 'utf8mb4_0900_ai_ci'")
        .await
        .expect("names");
    // A latin1 session gets latin1 results.
    c.query_drop("SET NAMES latin1").await.expect("latin1");
    let cs: Option<String> = c
        .query_first("SELECT @@character_set_client")
        .await
        .expect("cs");
    assert_eq!(cs.as_deref(), Some("latin1"));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sharded_keyspace_needs_vschema_tables_but_shards_can_be_targeted() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use");
    match c.query_drop("SELECT * FROM user").await {
        Err(mysql_async::Error::Server(e)) => {
            // The default test VSchema of `customer` lists no tables.
            assert_eq!(e.code, 1146);
            assert!(
                e.message.contains("user") && e.message.contains("customer"),
                "{}",
                e.message
            );
        }
        other => panic!("expected 1146, got {other:?}"),
    }
    for (shard, rows) in [("-80", 2), ("80-", 3)] {
        c.query_drop(format!("USE `customer:{shard}`"))
            .await
            .expect("use shard");
        c.query_drop("CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY)")
            .await
            .expect("create");
        for i in 0..rows {
            c.query_drop(format!("INSERT INTO t VALUES ({i})"))
                .await
                .expect("insert");
        }
        let db: Option<String> = c.query_first("SELECT DATABASE()").await.expect("db");
        assert_eq!(db, Some(format!("customer:{shard}")));
    }
    for (shard, rows) in [("-80", 2), ("80-", 3)] {
        let mut direct = env.shard_conn("customer", shard).await;
        assert_eq!(count(&mut direct, "SELECT COUNT(*) FROM t").await, rows);
    }
    c.query_drop("USE customer/-80")
        .await
        .expect("use slash form");
    assert_eq!(count(&mut c, "SELECT COUNT(*) FROM t").await, 2);
    env.stop().await;
}

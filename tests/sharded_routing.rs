//! Sharded routing end to end: vindex routes reach one shard (VEXPLAIN QUERIES / PLAN), DDL
//! reaches every shard, sequences give ids and LAST_INSERT_ID, transactions span shards (and
//! `transaction_mode = 'single'` refuses that), and unsafe statements are refused with 1235.

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use serde_json::json;

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {
            "user": {
                "column_vindexes": [{"column": "id", "name": "hash"}],
                "auto_increment": {"column": "id", "sequence": "commerce.user_seq"}
            }
        }
    });
    let commerce = json!({"sharded": false, "tables": {"user_seq": {"type": "sequence"}}});
    EnvSpec::default()
        .with_vschema("commerce", commerce)
        .with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
}

async fn setup(env: &TestEnv) -> Conn {
    let mut c = env.client().await;
    c.query_drop(
        "CREATE TABLE user_seq (id INT, next_id BIGINT, cache BIGINT, PRIMARY KEY (id)) COMMENT 'vitess_sequence'",
    )
    .await
    .expect("sequence table");
    c.query_drop("INSERT INTO user_seq VALUES (0, 1, 5)")
        .await
        .expect("seed");
    c.query_drop("USE customer").await.expect("use");
    c.query_drop("CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(64))")
        .await
        .expect("ddl on every shard");
    c
}

fn shards_of(rows: &[(u64, String, String, String)]) -> Vec<String> {
    rows.iter().map(|r| format!("{}/{}", r.1, r.2)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_sequences_and_explain() {
    let env = TestEnv::start(spec()).await;
    let mut c = setup(&env).await;
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("customer", shard).await;
        let t: Vec<String> = d.query("SHOW TABLES").await.expect("tables");
        assert_eq!(t, vec!["user"], "DDL reached {shard}");
    }
    // Ids from the sequence (block size 5, so two blocks are used), LAST_INSERT_ID is the first.
    c.query_drop("INSERT INTO user (name) VALUES ('a'), ('b'), ('c')")
        .await
        .expect("insert");
    assert_eq!(c.last_insert_id(), Some(1));
    let lii: Vec<mysql_async::Row> = c.query("SELECT LAST_INSERT_ID()").await.expect("lii");
    assert_eq!(lii[0].columns_ref()[0].name_str(), "LAST_INSERT_ID()");
    assert_eq!(lii[0].get::<u64, _>(0), Some(1));
    c.query_drop("INSERT INTO user (name) VALUES ('d'), ('e'), ('f'), ('g')")
        .await
        .expect("insert");
    let ids: Vec<u64> = c
        .query("SELECT id FROM user ORDER BY id")
        .await
        .expect("ids");
    assert_eq!(ids.len(), 7);
    assert_eq!(&ids[..3], &[1, 2, 3]);
    let mut distinct = ids.clone();
    distinct.dedup();
    assert_eq!(distinct.len(), 7, "ids are unique: {ids:?}");

    // A vindex predicate reaches one shard; hash(1) = 166b.. lives on -80, hash(4) on 80-.
    let q: Vec<(u64, String, String, String)> = c
        .query("VEXPLAIN QUERIES SELECT name FROM user WHERE id = 1")
        .await
        .expect("vexplain");
    assert_eq!(shards_of(&q), vec!["customer/-80"]);
    let q: Vec<(u64, String, String, String)> = c
        .query("VEXPLAIN QUERIES SELECT name FROM user WHERE id IN (1, 4)")
        .await
        .expect("vexplain");
    assert_eq!(shards_of(&q), vec!["customer/-80", "customer/80-"]);
    assert!(
        q[0].3.contains("in (1)") || q[0].3.contains("IN (1)"),
        "pruned IN list: {}",
        q[0].3
    );
    let q: Vec<(u64, String, String, String)> = c
        .query("VEXPLAIN QUERIES SELECT COUNT(*) FROM user")
        .await
        .expect("vexplain");
    assert_eq!(
        shards_of(&q),
        vec!["customer/-80", "customer/80-"],
        "scatter"
    );
    let plan: Option<String> = c
        .query_first("VEXPLAIN PLAN SELECT name FROM user WHERE id = 4")
        .await
        .expect("plan");
    let plan: serde_json::Value = serde_json::from_str(&plan.expect("json")).expect("valid json");
    assert_eq!(plan["Variant"], "EqualUnique", "{plan}");
    let total: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM user")
        .await
        .expect("count");
    assert_eq!(total, Some(7));

    // Prepared point select binds on the shard.
    let name: Option<String> = c
        .exec_first("SELECT name FROM user WHERE id = ?", (2,))
        .await
        .expect("prepared");
    assert_eq!(name.as_deref(), Some("b"));

    // The vindex as a table: keyspace ids and shards, nothing executed on a shard.
    let rows: Vec<(String, String, String)> = c
        .query("SELECT id, hex_keyspace_id, shard FROM customer.hash WHERE id IN (1, 4, -1)")
        .await
        .expect("vindex table");
    assert_eq!(
        rows,
        vec![
            ("1".into(), "166b40b44aba4bd6".into(), "-80".into()),
            ("4".into(), "d2fd8867d50d2dfe".into(), "80-".into()),
            ("-1".into(), "355550b2150e2451".into(), "-80".into()),
        ]
    );

    // Changing the primary vindex column is refused, not half-done.
    match c.query_drop("UPDATE user SET id = 100 WHERE id = 1").await {
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1235, "{}", e.message),
        other => panic!("expected 1235, got {other:?}"),
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn transactions_span_shards() {
    let env = TestEnv::start(spec()).await;
    let mut c = setup(&env).await;
    c.query_drop("INSERT INTO user (id, name) VALUES (1, 'a'), (4, 'd')")
        .await
        .expect("insert");
    // Multi mode: one transaction over both shards, rolled back together.
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("UPDATE user SET name = 'x' WHERE id = 1")
        .await
        .expect("-80");
    c.query_drop("UPDATE user SET name = 'x' WHERE id = 4")
        .await
        .expect("80-");
    c.query_drop("ROLLBACK").await.expect("rollback");
    let names: Vec<String> = c
        .query("SELECT name FROM user ORDER BY id")
        .await
        .expect("names");
    assert_eq!(names, vec!["a", "d"]);
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("UPDATE user SET name = 'y' WHERE id IN (1, 4)")
        .await
        .expect("both");
    c.query_drop("COMMIT").await.expect("commit");
    let names: Vec<String> = c
        .query("SELECT name FROM user ORDER BY id")
        .await
        .expect("names");
    assert_eq!(names, vec!["y", "y"]);
    // Single mode refuses the second shard.
    c.query_drop("SET transaction_mode = 'single'")
        .await
        .expect("mode");
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("UPDATE user SET name = 'z' WHERE id = 1")
        .await
        .expect("first shard");
    match c
        .query_drop("UPDATE user SET name = 'z' WHERE id = 4")
        .await
    {
        Err(mysql_async::Error::Server(e)) => {
            assert!(e.message.contains("single"), "{}", e.message)
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    c.query_drop("ROLLBACK").await.expect("rollback");
    env.stop().await;
}

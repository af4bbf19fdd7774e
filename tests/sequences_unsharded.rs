//! Sequences of an unsharded keyspace (issue 18, "Also broken"): Vitess's `SELECT NEXT n
//! VALUES FROM seq` / `SELECT NEXT VALUE FROM seq` is answered by the proxy (one row, column
//! `nextval`, the first of n reserved ids) from the same cache the sharded INSERTs use, so the
//! ids never collide; bad counts, non-sequence tables and ungranted keyspaces are refused.

mod common;

use common::errors::expect_error;
use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row};
use serde_json::json;
use shardgate::config::UserConfig;

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
    let commerce = json!({"sharded": false, "tables": {
        "user_seq": {"type": "sequence"},
        "product": {}
    }});
    let mut spec = EnvSpec::default()
        .with_vschema("commerce", commerce)
        .with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer));
    spec.users.push(UserConfig {
        name: "shop".into(),
        password: "pw".into(),
        password_hash: None,
        admin: false,
        keyspaces: Some(vec!["customer".into()]),
        read_only: false,
    });
    spec
}

/// Creates and seeds `commerce.user_seq` (block size 5) and `customer.user`.
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
    c.query_drop("CREATE TABLE product (id BIGINT PRIMARY KEY)")
        .await
        .expect("product");
    c.query_drop("CREATE TABLE customer.user (id BIGINT PRIMARY KEY, name VARCHAR(64))")
        .await
        .expect("ddl on every shard");
    c
}

/// Runs a NEXT statement: its single row's single value, after checking the column name.
async fn nextval(c: &mut Conn, sql: &str) -> u64 {
    let rows: Vec<Row> = c.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(rows.len(), 1, "{sql}: one row");
    assert_eq!(rows[0].columns_ref().len(), 1, "{sql}: one column");
    assert_eq!(rows[0].columns_ref()[0].name_str(), "nextval", "{sql}");
    {
        let c = &rows[0].columns_ref()[0];
        assert_eq!(
            c.column_type(),
            mysql_async::consts::ColumnType::MYSQL_TYPE_LONGLONG
        );
        rows[0].get::<u64, _>(0).expect("nextval")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn next_values_answered_from_the_shared_cache() {
    let env = TestEnv::start(spec()).await;
    let mut c = setup(&env).await;

    // Three ids from a block of five: [1, 6) reserved, 1..=3 handed out.
    assert_eq!(
        nextval(&mut c, "SELECT NEXT 3 VALUES FROM commerce.user_seq").await,
        1
    );
    // Sharded INSERTs continue from the same block: 4 and 5.
    c.query_drop("INSERT INTO customer.user (name) VALUES ('a'), ('b')")
        .await
        .expect("insert");
    assert_eq!(c.last_insert_id(), Some(4));
    // Unqualified, in the sequence's keyspace: the block is spent, a new one starts at 6.
    assert_eq!(nextval(&mut c, "select next value from user_seq;").await, 6);
    // More than the block has left: a block of 10 from next_id 11.
    assert_eq!(
        nextval(
            &mut c,
            "select /* c */ NEXT 10 VALUES FOR `commerce`.`user_seq`"
        )
        .await,
        11
    );
    let next_id: Vec<u64> = c
        .query("SELECT next_id FROM user_seq WHERE id = 0")
        .await
        .expect("next_id");
    assert_eq!(
        next_id,
        vec![21],
        "the sequence table moved past every reserved id"
    );

    // Unqualified with no database selected: the only keyspace listing the table.
    let mut bare = env.client_as("root", "", None).await;
    assert_eq!(
        nextval(&mut bare, "SELECT NEXT 2 VALUES FROM user_seq").await,
        21
    );
    // From another keyspace's session, qualified.
    c.query_drop("USE customer").await.expect("use");
    c.query_drop("INSERT INTO user (name) VALUES ('c')")
        .await
        .expect("insert");
    let ids: Vec<u64> = c
        .query("SELECT id FROM user ORDER BY id")
        .await
        .expect("ids");
    assert_eq!(
        ids,
        vec![4, 5, 23],
        "inserted ids skip every NEXT-reserved id"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn next_values_refusals() {
    let env = TestEnv::start(spec()).await;
    let mut c = setup(&env).await;
    let r = c.query_drop("SELECT NEXT 0 VALUES FROM user_seq").await;
    expect_error(r, 1105, "zero count");
    let r = c.query_drop("SELECT NEXT 2 VALUE FROM user_seq").await;
    expect_error(r, 1064, "singular VALUE after a count");
    let r = c.query_drop("SELECT NEXT 1.5 VALUES FROM user_seq").await;
    expect_error(r, 1064, "fractional count");
    let r = c
        .query_drop("SELECT NEXT 2 VALUES FROM user_seq WHERE id = 0")
        .await;
    expect_error(r, 1064, "trailing WHERE");
    let r = c.query_drop("SELECT NEXT VALUE FROM product").await;
    expect_error(r, 1105, "not a sequence");
    let r = c.query_drop("SELECT NEXT VALUE FROM customer.user").await;
    expect_error(r, 1105, "sharded table, not a sequence");
    let r = c.query_drop("SELECT NEXT VALUE FROM no_such_seq").await;
    expect_error(r, 1146, "unknown table");
    let r = c
        .query_drop("SELECT NEXT VALUE FROM nowhere.user_seq")
        .await;
    expect_error(r, 1049, "unknown keyspace");
    // A user granted only `customer` may not draw ids from `commerce`.
    let mut shop = env.client_as("shop", "pw", Some("customer")).await;
    let r = shop
        .query_drop("SELECT NEXT VALUE FROM commerce.user_seq")
        .await;
    expect_error(r, 1044, "ungranted keyspace, qualified");
    let r = shop.query_drop("SELECT NEXT VALUE FROM user_seq").await;
    match r {
        Err(mysql_async::Error::Server(e)) => assert!(
            e.code == 1044 || e.code == 1146,
            "ungranted keyspace, unqualified: {e}"
        ),
        other => panic!("ungranted keyspace, unqualified: {other:?}"),
    }
    // None of the refusals reserved anything: the first id is still 1.
    assert_eq!(nextval(&mut c, "SELECT NEXT VALUE FROM user_seq").await, 1);
    // A column called `next` is still read by MariaDB.
    c.query_drop("CREATE TABLE t_next (`next` INT)")
        .await
        .expect("t_next");
    c.query_drop("INSERT INTO t_next VALUES (7)")
        .await
        .expect("row");
    let v: Vec<i64> = c
        .query("SELECT next FROM t_next")
        .await
        .expect("next column");
    assert_eq!(v, vec![7]);
}

#[tokio::test(flavor = "multi_thread")]
async fn next_values_prepared() {
    let env = TestEnv::start(spec()).await;
    let mut c = setup(&env).await;
    let stmt = c
        .prep("SELECT NEXT 4 VALUES FROM commerce.user_seq")
        .await
        .expect("prepare");
    assert_eq!(stmt.columns().len(), 1);
    assert_eq!(stmt.columns()[0].name_str(), "nextval");
    let first: Vec<u64> = c.exec(&stmt, ()).await.expect("execute");
    assert_eq!(first, vec![1]);
    let second: Vec<u64> = c.exec(&stmt, ()).await.expect("execute again");
    // Block of five: 1..=4 handed out, one left is too few, the next block starts at 6.
    assert_eq!(second, vec![6]);
    let r = c
        .prep("SELECT NEXT 0 VALUES FROM user_seq")
        .await
        .map(|_| ());
    let r = match r {
        Ok(()) => c.exec_drop("SELECT NEXT 0 VALUES FROM user_seq", ()).await,
        e => e,
    };
    expect_error(r, 1105, "zero count, prepared");
    let r = c
        .prep("SELECT NEXT 2 VALUE FROM user_seq")
        .await
        .map(|_| ());
    expect_error(r, 1064, "bad shape, prepared");
}

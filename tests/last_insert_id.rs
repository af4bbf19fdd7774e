//! `LAST_INSERT_ID(expr)` sets the value the next `LAST_INSERT_ID()` returns, whatever the
//! statement (issue 15, item 11): `SELECT LAST_INSERT_ID(n)`, `UPDATE … SET c =
//! LAST_INSERT_ID(c + 1)` (also matching no row), `INSERT … VALUES (…, LAST_INSERT_ID(n))`,
//! `SET @x = LAST_INSERT_ID(n)`. Each form runs through the proxy (unsharded and sharded
//! keyspace) and directly on MariaDB; the statement's answer, its OK packet's insert id and
//! the following `LAST_INSERT_ID()` must agree.

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row, Value};
use serde_json::json;

const DDL: &str = "CREATE TABLE counter (id INT NOT NULL PRIMARY KEY, c BIGINT)";
const ROWS: &str = "INSERT INTO counter (id, c) VALUES (1, 10), (2, 20), (3, 30), (4, 40)";

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"counter": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    EnvSpec::default().with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
}

/// What a client sees of one statement: its rows, its OK insert id, then `LAST_INSERT_ID()`.
async fn observe(c: &mut Conn, sql: &str) -> (Vec<Vec<Value>>, Option<u64>, Vec<Vec<Value>>) {
    let rows: Vec<Row> = c.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let id = c.last_insert_id();
    let after: Vec<Row> = c
        .query("SELECT LAST_INSERT_ID()")
        .await
        .expect("LAST_INSERT_ID()");
    (
        rows.into_iter().map(Row::unwrap).collect(),
        id,
        after.into_iter().map(Row::unwrap).collect(),
    )
}

async fn compare(keyspace: &str) {
    let env = TestEnv::start(spec()).await;
    let mut direct = env.shard_conn("commerce", "0").await;
    direct.query_drop(DDL).await.expect("direct DDL");
    direct.query_drop(ROWS).await.expect("direct rows");
    let mut proxied = env.client_as("root", "", Some(keyspace)).await;
    if keyspace == "customer" {
        proxied.query_drop(DDL).await.expect("DDL");
        proxied.query_drop(ROWS).await.expect("rows");
    } else {
        // The unsharded keyspace's database is the one `direct` reads: a twin table.
        proxied
            .query_drop("CREATE TABLE counter2 (id INT NOT NULL PRIMARY KEY, c BIGINT)")
            .await
            .expect("DDL");
    }
    let table = if keyspace == "customer" {
        "counter"
    } else {
        "counter2"
    };
    if table == "counter2" {
        proxied
            .query_drop(ROWS.replace("counter", "counter2"))
            .await
            .expect("rows");
    }
    for sql in [
        "SELECT LAST_INSERT_ID(42)",
        "SELECT 1",
        "SELECT LAST_INSERT_ID(7) + 1, 'x'",
        "UPDATE counter SET c = LAST_INSERT_ID(c + 1) WHERE id = 1",
        "SELECT c FROM counter WHERE id = 1",
        "UPDATE counter SET c = LAST_INSERT_ID(c + 100) WHERE id = 999",
        "INSERT INTO counter (id, c) VALUES (5, LAST_INSERT_ID(3))",
        "SET @x = LAST_INSERT_ID(77)",
        "SELECT @x",
        "SELECT LAST_INSERT_ID(c) FROM counter WHERE id = 2",
        "SELECT LAST_INSERT_ID(c) FROM counter WHERE id = 999",
        "INSERT INTO counter (id, c) VALUES (6, 1), (7, 2)",
        "SELECT LAST_INSERT_ID(c + 1) FROM counter WHERE id = 3",
    ] {
        let want = observe(&mut direct, sql).await;
        let got = observe(&mut proxied, &sql.replace("counter", table)).await;
        assert_eq!(got, want, "{keyspace}: {sql}");
    }
    // The multi-statement form: the second statement sees the first one's value.
    for c in [&mut direct, &mut proxied] {
        let mut res = c
            .query_iter("SELECT LAST_INSERT_ID(91); SELECT LAST_INSERT_ID()")
            .await
            .expect("multi-statement");
        let first: Vec<u64> = res.collect().await.expect("first");
        let second: Vec<u64> = res.collect().await.expect("second");
        drop(res);
        assert_eq!((first, second), (vec![91], vec![91]), "{keyspace}");
    }
    // Prepared, the argument a parameter.
    for c in [&mut direct, &mut proxied] {
        let r: Vec<Row> = c
            .exec("SELECT LAST_INSERT_ID(?)", (55,))
            .await
            .expect("prepared");
        assert_eq!(r.len(), 1);
    }
    let want: Option<u64> = direct
        .query_first("SELECT LAST_INSERT_ID()")
        .await
        .expect("d");
    let got: Option<u64> = proxied
        .query_first("SELECT LAST_INSERT_ID()")
        .await
        .expect("p");
    assert_eq!(
        (keyspace, got),
        (keyspace, want),
        "prepared LAST_INSERT_ID(?)"
    );
    // Statements on several shards: the value MySQL keeps depends on the order rows are
    // visited, so a sharded keyspace refuses them (before anything runs) and keeps its value.
    for sql in [
        "SELECT LAST_INSERT_ID(c) FROM counter ORDER BY id",
        "DELETE FROM counter WHERE id = LAST_INSERT_ID(4)",
        "UPDATE counter SET c = LAST_INSERT_ID(c + 1) WHERE c > 15",
    ] {
        if keyspace == "customer" {
            let before: Option<u64> = proxied
                .query_first("SELECT LAST_INSERT_ID()")
                .await
                .expect("before");
            let rows_before: Vec<(i64, i64)> = proxied
                .query("SELECT id, c FROM counter ORDER BY id")
                .await
                .expect("rows");
            match proxied.query_drop(sql).await {
                Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1235, "{sql}: {e}"),
                other => panic!("{sql}: expected 1235, got {other:?}"),
            }
            let after: Option<u64> = proxied
                .query_first("SELECT LAST_INSERT_ID()")
                .await
                .expect("after");
            assert_eq!(after, before, "{sql}: refused, the value is kept");
            let rows_after: Vec<(i64, i64)> = proxied
                .query("SELECT id, c FROM counter ORDER BY id")
                .await
                .expect("rows");
            assert_eq!(rows_after, rows_before, "{sql}: refused before any change");
        } else {
            let want = observe(&mut direct, sql).await;
            let got = observe(&mut proxied, &sql.replace("counter", table)).await;
            assert_eq!(got, want, "{keyspace}: {sql}");
        }
    }
    // A statement over every shard reads the session's value, not each shard connection's
    // (found by the differential checker: a scatter answered 0).
    for sql in [
        "SELECT LAST_INSERT_ID(776)",
        "SELECT LAST_INSERT_ID() AS lid, COUNT(*) FROM counter",
        "SELECT id, LAST_INSERT_ID() FROM counter ORDER BY id",
    ] {
        let want = observe(&mut direct, sql).await;
        let got = observe(&mut proxied, &sql.replace("counter", table)).await;
        assert_eq!(got, want, "{keyspace}: {sql}");
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn last_insert_id_expr_on_an_unsharded_keyspace() {
    compare("commerce").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn last_insert_id_expr_on_a_sharded_keyspace() {
    compare("customer").await;
}

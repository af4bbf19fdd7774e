//! `ROW_COUNT()` answers for the client's previous statement, as on one MariaDB (found by the
//! client matrix: the mariadb CLI's `INSERT …; SELECT ROW_COUNT()` read -1 through the proxy,
//! since the SELECT ran on another backend connection): the affected rows of a write, -1 after
//! a result set or an error, 0 after other statements. Each sequence runs through the proxy
//! (unsharded and sharded keyspace) and directly on MariaDB, and the answers must agree.

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use serde_json::json;

const DDL: &str = "CREATE TABLE rc (id INT NOT NULL PRIMARY KEY, c INT)";

/// `ROW_COUNT()` after `sql` (whose own error, if any, is ignored).
async fn after(c: &mut Conn, sql: &str) -> Option<i64> {
    let _ = c.query_drop(sql).await;
    c.query_first("SELECT ROW_COUNT()")
        .await
        .unwrap_or_else(|e| panic!("ROW_COUNT() after {sql}: {e}"))
}

async fn compare(keyspace: &str) {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"rc": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    let spec = EnvSpec::default().with_keyspace(KeyspaceSpec::sharded(
        "customer",
        &["-80", "80-"],
        customer,
    ));
    let env = TestEnv::start(spec).await;
    let mut direct = env.shard_conn("commerce", "0").await;
    direct.query_drop(DDL).await.expect("direct DDL");
    let mut proxied = env.client_as("root", "", Some(keyspace)).await;
    // A new connection.
    let mut fresh = env.shard_conn("commerce", "0").await;
    let want: Option<i64> = fresh
        .query_first("SELECT ROW_COUNT()")
        .await
        .expect("direct");
    let got: Option<i64> = proxied
        .query_first("SELECT ROW_COUNT()")
        .await
        .expect("proxied");
    assert_eq!(got, want, "{keyspace}: ROW_COUNT() on a new connection");
    let table = if keyspace == "customer" {
        proxied.query_drop(DDL).await.expect("DDL");
        "rc"
    } else {
        // The unsharded keyspace's database is the one `direct` reads: a twin table.
        proxied
            .query_drop(DDL.replace("rc", "rc2"))
            .await
            .expect("DDL");
        "rc2"
    };
    for sql in [
        "INSERT INTO rc (id, c) VALUES (1, 10), (2, 20), (3, 30)",
        "UPDATE rc SET c = c + 1 WHERE id = 2",
        "UPDATE rc SET c = c WHERE id = 2",
        "SELECT * FROM rc WHERE id = 1",
        "DELETE FROM rc WHERE id = 99",
        "DELETE FROM rc WHERE id = 3",
        "INSERT INTO rc (id, c) VALUES (1, 0)",
        "SET @x = 5",
        "INSERT INTO rc (id, c) VALUES (4, 40), (5, 50)",
        "SELECT ROW_COUNT()",
    ] {
        let want = after(&mut direct, sql).await;
        let got = after(&mut proxied, &sql.replace("rc", table)).await;
        assert_eq!(got, want, "{keyspace}: ROW_COUNT() after {sql}");
    }
    // Within one COM_QUERY, and as a prepared statement.
    for (c, t) in [(&mut direct, "rc"), (&mut proxied, table)] {
        let mut res = c
            .query_iter(format!(
                "DELETE FROM {t} WHERE id IN (4, 5); SELECT ROW_COUNT()"
            ))
            .await
            .expect("multi-statement");
        let _: Vec<mysql_async::Row> = res.collect().await.expect("DELETE");
        let second: Vec<i64> = res.collect().await.expect("ROW_COUNT()");
        drop(res);
        assert_eq!(second, vec![2], "{keyspace}: in one COM_QUERY");
        c.query_drop(format!("UPDATE {t} SET c = 7 WHERE id = 1"))
            .await
            .expect("UPDATE");
        let prepared: Option<i64> = c
            .exec_first("SELECT ROW_COUNT()", ())
            .await
            .expect("prepared");
        assert_eq!(prepared, Some(1), "{keyspace}: prepared");
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn row_count_on_an_unsharded_keyspace() {
    compare("commerce").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn row_count_on_a_sharded_keyspace() {
    compare("customer").await;
}

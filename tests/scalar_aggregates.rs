//! A scalar aggregate over no rows returns one row in which the non-aggregate items are what
//! MariaDB returns (issue 15, item 13): constants keep their value, column references are
//! NULL. Every query runs through the proxy on the sharded keyspace (scatter, DISTINCT
//! aggregates whose shards group and return nothing, routes that reach no shard, lookup routes
//! that find nothing) and directly on one MariaDB holding the same rows; the answers must be
//! equal.

mod common;

use common::user_lookups::UserLookups;
use common::TestEnv;
use mysql_async::prelude::*;
use mysql_async::{Conn, Params, Row, Value};

const USER_DDL: &str = "CREATE TABLE user (
    id BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
    phone BIGINT, KEY name (name), KEY phone (phone))";

const ROWS: &str =
    "INSERT INTO user (id, name, phone) VALUES (1, 'ann', 11), (2, 'bob', 22), (3, 'cy', NULL), (4, 'ann', 44)";

/// The sharded env with the same rows through the proxy (customer.user, with its lookup
/// vindexes) and in the unsharded keyspace's database (`commerce`), read directly.
async fn setup() -> (TestEnv, Conn, Conn) {
    let fixture = UserLookups {
        write_only_email: false,
    };
    let env = TestEnv::start(fixture.spec()).await;
    fixture.create_tables(&env).await;
    let mut direct = env.shard_conn("commerce", "0").await;
    direct.query_drop(USER_DDL).await.expect("direct DDL");
    direct.query_drop(ROWS).await.expect("direct rows");
    let mut proxied = env.client_as("root", "", Some("customer")).await;
    proxied.query_drop(ROWS).await.expect("sharded rows");
    (env, direct, proxied)
}

fn values(rows: Vec<Row>) -> Vec<Vec<Value>> {
    rows.into_iter().map(Row::unwrap).collect()
}

async fn same_text(direct: &mut Conn, proxied: &mut Conn, sql: &str) {
    let want = values(direct.query(sql).await.expect("direct"));
    let got = values(
        proxied
            .query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}")),
    );
    assert_eq!(got, want, "{sql}");
}

async fn same_prepared(direct: &mut Conn, proxied: &mut Conn, sql: &str, params: Params) {
    let want = values(direct.exec(sql, params.clone()).await.expect("direct"));
    let got = values(
        proxied
            .exec(sql, params)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}")),
    );
    assert_eq!(got, want, "{sql}");
}

#[tokio::test(flavor = "multi_thread")]
async fn constant_items_of_a_scalar_aggregate_over_no_rows() {
    let (env, mut direct, mut proxied) = setup().await;
    for sql in [
        // The case: an impossible predicate.
        "SELECT COUNT(*), 2 + 3 FROM user WHERE name = 'ann' AND 1 = 0",
        // A scatter whose shards hold no matching row.
        "SELECT COUNT(*), 2 + 3, 'k', name, COALESCE(name, 'none'), id + 1, NULL FROM user WHERE id > 1000",
        "SELECT SUM(phone), CONCAT('a', 'b'), MAX(name), name FROM user WHERE phone > 1000",
        // DISTINCT aggregates: the shards group by the argument and return no row at all.
        "SELECT COUNT(DISTINCT name), 7 FROM user WHERE id > 1000",
        "SELECT COUNT(DISTINCT name), 2 + 3, name, COALESCE(phone, -1) FROM user WHERE name = 'zed'",
        "SELECT SUM(DISTINCT phone), AVG(DISTINCT phone), 'x' FROM user WHERE phone < 0",
        // Lookup routes that find nothing: no shard is asked.
        "SELECT COUNT(*), 2 + 3, name FROM user WHERE phone = 99999",
        "SELECT COUNT(DISTINCT name), 2 + 3, name FROM user WHERE phone = 99999",
        "SELECT COUNT(*), 'n', id FROM user WHERE name = 'nobody'",
        // Routes that reach no shard.
        "SELECT COUNT(*), 6 * 7 FROM user WHERE id IN (1) AND id IN (2)",
        // With rows, for contrast.
        "SELECT COUNT(*), 2 + 3 FROM user",
        "SELECT COUNT(DISTINCT name), 2 + 3 FROM user WHERE phone = 11",
        // HAVING over the one row.
        "SELECT COUNT(*) AS n, 5 AS k FROM user WHERE id > 1000 HAVING k = 5",
    ] {
        same_text(&mut direct, &mut proxied, sql).await;
    }
    // Prepared, with the constant a parameter.
    same_prepared(
        &mut direct,
        &mut proxied,
        "SELECT COUNT(*), ? + 1, name FROM user WHERE name = ?",
        Params::Positional(vec![Value::Int(4), Value::from("nobody")]),
    )
    .await;
    same_prepared(
        &mut direct,
        &mut proxied,
        "SELECT COUNT(DISTINCT phone), CONCAT(?, 'x') FROM user WHERE id > ?",
        Params::Positional(vec![Value::from("a"), Value::Int(1000)]),
    )
    .await;
    same_prepared(
        &mut direct,
        &mut proxied,
        "SELECT COUNT(*), 2 + 3 FROM user WHERE phone = ?",
        Params::Positional(vec![Value::Int(99999)]),
    )
    .await;
    // Under ONLY_FULL_GROUP_BY (the shards group by the DISTINCT argument).
    for c in [&mut direct, &mut proxied] {
        c.query_drop("SET sql_mode = CONCAT(@@sql_mode, ',ONLY_FULL_GROUP_BY')")
            .await
            .expect("sql_mode");
    }
    for sql in [
        "SELECT COUNT(DISTINCT name), 2 + 3 FROM user WHERE id > 1000",
        "SELECT SUM(DISTINCT phone), COUNT(*), 'x' FROM user WHERE phone < 0",
        // Grouped: the metadata query cannot run under ONLY_FULL_GROUP_BY, the answer still does.
        "SELECT CONCAT(name, '!'), COUNT(DISTINCT phone), COUNT(*) FROM user GROUP BY name ORDER BY name",
    ] {
        same_text(&mut direct, &mut proxied, sql).await;
    }
    env.stop().await;
}

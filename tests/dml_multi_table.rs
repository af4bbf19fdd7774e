//! Multi-table UPDATE and DELETE on a sharded keyspace (issue 18): `UPDATE a JOIN b`, `UPDATE
//! a, b`, `DELETE a FROM a JOIN b`, `DELETE FROM a USING a JOIN b`, routed to one shard or to
//! every shard when the tables are co-located by their primary vindex columns. Each statement
//! runs through the proxy on 4 shards and directly on one MariaDB with the same rows; affected
//! rows and both tables afterwards must be equal. What the proxy cannot run exactly is
//! refused with 1235 and changes nothing.

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row, Value};
use serde_json::json;

const SHARDS: [&str; 4] = ["-40", "40-80", "80-c0", "c0-"];

const DDL: [&str; 2] = [
    "CREATE TABLE user (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(32), score INT NOT NULL)",
    "CREATE TABLE orders (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL,
        note VARCHAR(32), amount INT NOT NULL)",
];

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {
            "user": {"column_vindexes": [{"column": "id", "name": "hash"}]},
            "orders": {"column_vindexes": [{"column": "user_id", "name": "hash"}]}
        }
    });
    EnvSpec::default().with_keyspace(KeyspaceSpec::sharded("customer", &SHARDS, customer))
}

fn rows() -> [String; 2] {
    let users: Vec<String> = (1..=16)
        .map(|i| {
            let name = ["ann", "bob", "cy", "dee"][i % 4];
            format!("({i}, '{name}', {})", (i * 7) % 11)
        })
        .collect();
    // Users 13..16 have no orders; orders of user 20 have no user.
    let orders: Vec<String> = (1..=36)
        .map(|i| {
            let user = if i > 33 { 20 } else { i % 12 + 1 };
            format!("({i}, {user}, NULL, {})", (i * 5) % 23)
        })
        .collect();
    [
        format!(
            "INSERT INTO user (id, name, score) VALUES {}",
            users.join(", ")
        ),
        format!(
            "INSERT INTO orders (id, user_id, note, amount) VALUES {}",
            orders.join(", ")
        ),
    ]
}

async fn setup() -> (TestEnv, Conn, Conn) {
    let env = TestEnv::start(spec()).await;
    let mut direct = env.shard_conn("commerce", "0").await;
    let mut proxied = env.client_as("root", "", Some("customer")).await;
    for ddl in DDL {
        proxied.query_drop(ddl).await.expect("sharded DDL");
        direct.query_drop(ddl).await.expect("direct DDL");
    }
    for sql in rows() {
        proxied.query_drop(&sql).await.expect("sharded rows");
        direct.query_drop(&sql).await.expect("direct rows");
    }
    (env, direct, proxied)
}

async fn tables(c: &mut Conn) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    for t in ["user", "orders"] {
        let rows: Vec<Row> = c
            .query(format!("SELECT * FROM {t} ORDER BY id"))
            .await
            .expect("read");
        out.extend(rows.into_iter().map(Row::unwrap));
    }
    out
}

async fn same_effect(direct: &mut Conn, proxied: &mut Conn, sql: &str) {
    direct.query_drop(sql).await.expect("direct");
    proxied
        .query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(
        proxied.affected_rows(),
        direct.affected_rows(),
        "affected rows of {sql}"
    );
    assert_eq!(tables(proxied).await, tables(direct).await, "after {sql}");
}

#[tokio::test(flavor = "multi_thread")]
async fn co_located_multi_table_writes_match_one_server() {
    let (env, mut direct, mut proxied) = setup().await;
    for sql in [
        "UPDATE user u JOIN orders o ON o.user_id = u.id SET o.note = u.name WHERE u.score > 5",
        "UPDATE user u, orders o SET o.amount = o.amount + u.score WHERE o.user_id = u.id AND u.id IN (1, 2, 3)",
        "UPDATE orders o, user u SET u.score = u.score + 1, o.note = 'both' WHERE o.user_id = u.id AND o.amount > 10",
        "UPDATE user u JOIN orders o ON o.user_id = u.id SET u.name = 'one' WHERE u.id = 4",
        "UPDATE user AS u LEFT JOIN orders AS o ON o.user_id = u.id SET u.score = -1 WHERE o.id IS NULL",
        "DELETE o FROM orders o JOIN user u ON u.id = o.user_id WHERE u.name = 'ann'",
        "DELETE FROM o USING orders AS o JOIN user AS u ON u.id = o.user_id WHERE u.score < 3",
        "DELETE u, o FROM user u JOIN orders o ON o.user_id = u.id WHERE u.id = 7",
        "DELETE u FROM user u LEFT JOIN orders o ON o.user_id = u.id WHERE o.id IS NULL",
    ] {
        same_effect(&mut direct, &mut proxied, sql).await;
    }
    // A prepared multi-table UPDATE with a comma list.
    let sql = "UPDATE user u, orders o SET o.note = ? WHERE o.user_id = u.id AND u.id = ?";
    direct.exec_drop(sql, ("p", 2)).await.expect("direct");
    proxied.exec_drop(sql, ("p", 2)).await.expect("prepared");
    assert_eq!(proxied.affected_rows(), direct.affected_rows());
    assert_eq!(tables(&mut proxied).await, tables(&mut direct).await);
    // Refused: not co-located, or moving rows to another shard. Nothing changes.
    let before = tables(&mut proxied).await;
    for sql in [
        "UPDATE user u JOIN orders o ON o.id = u.id SET o.note = 'x'",
        "UPDATE user u, orders o SET o.note = 'x' WHERE o.amount = u.score",
        "UPDATE user u JOIN orders o ON o.user_id = u.id SET o.user_id = 9",
        "DELETE o FROM orders o JOIN user u ON u.score = o.amount",
    ] {
        let err = proxied.query_drop(sql).await.expect_err(sql);
        assert!(
            matches!(&err, mysql_async::Error::Server(e) if e.code == 1235),
            "{sql}: {err}"
        );
    }
    assert_eq!(tables(&mut proxied).await, before);
    env.stop().await;
}

//! Table names across keyspaces (issue 18, "Also broken"), against real MariaDB shards:
//!
//! * global routing: an unqualified name the session's sharded keyspace does not list, or any
//!   unqualified name without a session keyspace, runs in the one keyspace whose VSchema lists
//!   it (reference tables included); an ambiguous name is 1105;
//! * backend database names never reach the client, in any error path (planned, passthrough,
//!   prepared, no session keyspace);
//! * Vitess's vindex hints `USE VINDEX (..)` / `IGNORE VINDEX (..)` parse and steer routing
//!   (shown by how many shards `EXPLAIN` reaches), in text and prepared statements.

mod common;

use common::errors::expect_error;
use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row};
use serde_json::json;

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}, "xxhash": {"type": "xxhash"}},
        "tables": {
            "user": {"column_vindexes": [
                {"column": "id", "name": "hash"},
                {"column": "phone", "name": "xxhash"}
            ]},
            "ghost": {"column_vindexes": [{"column": "id", "name": "hash"}]},
            "dup": {"column_vindexes": [{"column": "id", "name": "hash"}]},
            "country": {"type": "reference", "source": "commerce.country"},
            "zip": {"type": "reference"}
        }
    });
    let commerce = json!({"sharded": false, "tables": {
        "product": {}, "country": {}, "dup": {}
    }});
    EnvSpec::default()
        .with_vschema("commerce", commerce)
        .with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
}

async fn setup(env: &TestEnv) -> Conn {
    let mut c = env.client().await;
    for ddl in [
        "CREATE TABLE product (id BIGINT PRIMARY KEY, title VARCHAR(20))",
        "CREATE TABLE country (code CHAR(2) PRIMARY KEY, name VARCHAR(20))",
        "INSERT INTO product VALUES (1, 'pen'), (2, 'ink')",
        "INSERT INTO country VALUES ('fr', 'France')",
        "CREATE TABLE customer.user (id BIGINT PRIMARY KEY, phone VARBINARY(20), name VARCHAR(20))",
        "CREATE TABLE customer.zip (code INT PRIMARY KEY)",
        "CREATE TABLE customer.country (code CHAR(2) PRIMARY KEY, name VARCHAR(20))",
        "INSERT INTO customer.user (id, phone, name) VALUES (1, 11, 'ann'), (2, 22, 'bob'), (3, 33, 'cy'), (4, 44, 'di')",
    ] {
        c.query_drop(ddl)
            .await
            .unwrap_or_else(|e| panic!("{ddl}: {e}"));
    }
    for shard in ["-80", "80-"] {
        let mut s = env.shard_conn("customer", shard).await;
        s.query_drop("INSERT INTO zip VALUES (75001)")
            .await
            .expect("reference row");
    }
    c
}

async fn ints(c: &mut Conn, sql: &str) -> Vec<i64> {
    let mut v: Vec<i64> = c.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    v.sort_unstable();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn unqualified_names_route_globally() {
    let env = TestEnv::start(spec()).await;
    let _ = setup(&env).await;

    // Session keyspace `customer` (sharded) does not list `product`: commerce's table.
    let mut c = env.client_as("root", "", Some("customer")).await;
    assert_eq!(ints(&mut c, "SELECT id FROM product").await, vec![1, 2]);
    c.query_drop("INSERT INTO product VALUES (3, 'nib')")
        .await
        .expect("insert through global routing");
    assert_eq!(
        ints(&mut c, "SELECT id FROM product WHERE id = 3").await,
        vec![3]
    );
    // Its own tables still win, and a name listed by two keyspaces is the session's.
    assert_eq!(
        ints(&mut c, "SELECT id FROM user WHERE id = 2").await,
        vec![2]
    );
    let rows: Vec<Row> = c.query("SELECT * FROM dup").await.unwrap_or_default();
    assert!(rows.is_empty());

    // No session keyspace: the sharded table, the reference table without source, the
    // unsharded source of a reference table.
    let mut bare = env.client_as("root", "", None).await;
    assert_eq!(
        ints(&mut bare, "SELECT id FROM user").await,
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        ints(&mut bare, "SELECT id FROM user WHERE id = 3").await,
        vec![3]
    );
    assert_eq!(ints(&mut bare, "SELECT COUNT(*) FROM user").await, vec![4]);
    assert_eq!(ints(&mut bare, "SELECT code FROM zip").await, vec![75001]);
    let names: Vec<String> = bare
        .query("SELECT name FROM country")
        .await
        .expect("country");
    assert_eq!(names, vec!["France".to_string()]);
    bare.query_drop("UPDATE user SET name = 'zed' WHERE id = 4")
        .await
        .expect("update routed to customer");
    let names: Vec<String> = bare
        .query("SELECT name FROM user WHERE id = 4")
        .await
        .expect("read back");
    assert_eq!(names, vec!["zed".to_string()]);
    // EXPLAIN and DESCRIBE find the table the same way.
    let explained: Vec<Row> = bare
        .query("EXPLAIN SELECT id FROM user WHERE id = 1")
        .await
        .expect("explain");
    assert_eq!(explained.len(), 1);
    let described: Vec<Row> = bare.query("DESCRIBE user").await.expect("describe");
    assert_eq!(described.len(), 3);
    // Listed by commerce and customer: ambiguous (1105), as before.
    expect_error(
        bare.query_drop("SELECT * FROM dup").await,
        1105,
        "ambiguous dup",
    );
    // Prepared, without a session keyspace: routed the same way.
    let got: Vec<i64> = bare
        .exec("SELECT id FROM user WHERE id = ?", (2,))
        .await
        .expect("prepared");
    assert_eq!(got, vec![2]);
    env.stop().await;
}

/// Every shard database name of the env.
fn backend_names(env: &TestEnv) -> Vec<String> {
    vec![
        env.shard_database("commerce", "0"),
        env.shard_database("customer", "-80"),
        env.shard_database("customer", "80-"),
    ]
}

fn error_message(r: Result<(), mysql_async::Error>, what: &str) -> String {
    match r {
        Err(mysql_async::Error::Server(e)) => e.message,
        other => panic!("{what}: expected a server error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn backend_database_names_never_reach_clients() {
    let env = TestEnv::start(spec()).await;
    let _ = setup(&env).await;
    let dbs = backend_names(&env);
    let mut bare = env.client_as("root", "", None).await;
    let mut in_customer = env.client_as("root", "", Some("customer")).await;
    let mut in_commerce = env.client_as("root", "", Some("commerce")).await;
    // (client: 0 none, 1 customer, 2 commerce; statement; the name the message must use)
    let statements: [(u8, &str, &str); 8] = [
        (0, "SELECT * FROM ghost", "customer.ghost"),
        (0, "SELECT * FROM ghost WHERE id = 1", "customer.ghost"),
        (0, "SELECT * FROM customer.ghost", "customer.ghost"),
        (1, "SELECT * FROM ghost", "customer.ghost"),
        (1, "DELETE FROM ghost WHERE id = 7", "customer.ghost"),
        (2, "SELECT * FROM missing", "commerce.missing"),
        (0, "SELECT * FROM commerce.missing", "commerce.missing"),
        (
            1,
            "SELECT * FROM customer.zip JOIN customer.nope",
            "customer",
        ),
    ];
    for (who, sql, expected) in statements {
        let c = match who {
            0 => &mut bare,
            1 => &mut in_customer,
            _ => &mut in_commerce,
        };
        let msg = error_message(c.query_drop(sql).await, sql);
        for db in &dbs {
            assert!(!msg.contains(db.as_str()), "{sql}: backend name in {msg:?}");
        }
        assert!(
            msg.contains(expected),
            "{sql}: {msg:?} should name {expected}"
        );
        let warnings: Vec<(String, u16, String)> =
            c.query("SHOW WARNINGS").await.expect("show warnings");
        for (_, _, m) in &warnings {
            for db in &dbs {
                assert!(
                    !m.contains(db.as_str()),
                    "{sql}: backend name in warning {m:?}"
                );
            }
        }
        // Prepared: the same statement's error at PREPARE.
        if let Err(mysql_async::Error::Server(e)) = c.prep(sql).await {
            for db in &dbs {
                assert!(!e.message.contains(db.as_str()), "prepare {sql}: {e}");
            }
        }
    }
    // Warnings (a note naming the table's database) read back through SHOW WARNINGS.
    in_commerce
        .query_drop("DROP TABLE IF EXISTS nosuch_t")
        .await
        .expect("drop if exists");
    let warnings: Vec<(String, u16, String)> =
        in_commerce.query("SHOW WARNINGS").await.expect("warnings");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].2.contains("commerce.nosuch_t"), "{warnings:?}");
    for db in &dbs {
        assert!(!warnings[0].2.contains(db.as_str()), "{warnings:?}");
    }
    env.stop().await;
}

/// How many shards `EXPLAIN` of `sql` reaches (one row per shard for a point query).
async fn explained_rows(c: &mut Conn, sql: &str) -> usize {
    let rows: Vec<Row> = c
        .query(format!("EXPLAIN {sql}"))
        .await
        .unwrap_or_else(|e| panic!("EXPLAIN {sql}: {e}"));
    rows.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn vindex_hints_parse_and_steer_routing() {
    let env = TestEnv::start(spec()).await;
    let _ = setup(&env).await;
    let mut c = env.client_as("root", "", Some("customer")).await;

    for sql in [
        "SELECT id FROM user USE VINDEX (hash) WHERE id = 2",
        "SELECT id FROM user IGNORE VINDEX (hash) WHERE id = 2",
        "SELECT u.id FROM user AS u USE VINDEX (xxhash) WHERE u.id = 2 AND u.phone = '22'",
        "SELECT id FROM customer.user u IGNORE VINDEX (hash, xxhash) WHERE id = 2 AND phone = '22'",
        "select id from user use index (primary) use vindex (`hash`) where id = 2",
    ] {
        assert_eq!(ints(&mut c, sql).await, vec![2], "{sql}");
    }
    // Literals and comments that look like hints are left alone.
    let got: Vec<String> = c
        .query("SELECT 'x USE VINDEX (hash) y' FROM user /* IGNORE VINDEX (hash) */ WHERE id = 1")
        .await
        .expect("literal");
    assert_eq!(got, vec!["x USE VINDEX (hash) y".to_string()]);
    // Prepared.
    let got: Vec<i64> = c
        .exec(
            "SELECT id FROM user IGNORE VINDEX (hash) WHERE id = ?",
            (3,),
        )
        .await
        .expect("prepared");
    assert_eq!(got, vec![3]);
    // In an unsharded keyspace or a shard-targeted session the hint is dropped.
    assert_eq!(
        ints(
            &mut c,
            "SELECT id FROM commerce.product USE VINDEX (hash) WHERE id = 1"
        )
        .await,
        vec![1]
    );
    let mut shard = env.client_as("root", "", Some("customer:-80")).await;
    let _ = ints(&mut shard, "SELECT id FROM user IGNORE VINDEX (hash)").await;

    // Routing: the hash vindex reaches one shard; ignoring it, every shard.
    assert_eq!(
        explained_rows(&mut c, "SELECT id FROM user WHERE id = 2").await,
        1
    );
    assert_eq!(
        explained_rows(
            &mut c,
            "SELECT id FROM user IGNORE VINDEX (hash) WHERE id = 2"
        )
        .await,
        2
    );
    assert_eq!(
        explained_rows(
            &mut c,
            "SELECT id FROM user USE VINDEX (xxhash) WHERE id = 2 AND phone = '22'"
        )
        .await,
        1
    );
    // An unknown vindex name is refused.
    expect_error(
        c.query_drop("SELECT id FROM user USE VINDEX (nope) WHERE id = 2")
            .await,
        1105,
        "unknown vindex",
    );
    env.stop().await;
}

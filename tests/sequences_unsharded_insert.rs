//! Sequences on tables of an unsharded keyspace (issue 18, "Also broken"): an `auto_increment`
//! block in an unsharded keyspace's VSchema fills the column from its sequence, as vtgate does,
//! when an INSERT omits it or writes NULL, DEFAULT or 0 (a prepared `?` bound to NULL or 0
//! too), in VALUES rows or an `INSERT ... SET`; LAST_INSERT_ID() is the first generated id; the ids are shared with the sharded
//! INSERTs drawing from the same sequence. `item.id` has no AUTO_INCREMENT in MariaDB, so an
//! id MariaDB would have to make up is an error there, never a silent wrong id.

mod common;

use common::errors::expect_error;
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
                "auto_increment": {"column": "id", "sequence": "commerce.item_seq"}
            }
        }
    });
    let commerce = json!({"sharded": false, "tables": {
        "item_seq": {"type": "sequence"},
        "item": {"auto_increment": {"column": "id", "sequence": "item_seq"}},
        "note": {}
    }});
    EnvSpec::default()
        .with_vschema("commerce", commerce)
        .with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
}

/// Creates `commerce.item_seq` (next id 100, block size 10), `commerce.item` and
/// `customer.user`.
async fn setup(env: &TestEnv) -> Conn {
    let mut c = env.client().await;
    for sql in [
        "CREATE TABLE item_seq (id INT, next_id BIGINT, cache BIGINT, PRIMARY KEY (id)) COMMENT 'vitess_sequence'",
        "INSERT INTO item_seq VALUES (0, 100, 10)",
        "CREATE TABLE item (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(32))",
        "CREATE TABLE note (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, body VARCHAR(32))",
        "CREATE TABLE customer.user (id BIGINT PRIMARY KEY, name VARCHAR(64))",
    ] {
        c.query_drop(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    c
}

async fn items(c: &mut Conn) -> Vec<(u64, String)> {
    c.query("SELECT id, name FROM item ORDER BY id")
        .await
        .expect("items")
}

async fn last_insert_id(c: &mut Conn) -> u64 {
    c.query_first("SELECT LAST_INSERT_ID()")
        .await
        .expect("last_insert_id")
        .expect("a row")
}

#[tokio::test(flavor = "multi_thread")]
async fn unsharded_inserts_take_ids_from_the_sequence() {
    let env = TestEnv::start(spec()).await;
    let mut c = setup(&env).await;

    // Omitted: ids from the sequence (MariaDB would refuse: `id` has no default).
    c.query_drop("INSERT INTO item (name) VALUES ('a'), ('b')")
        .await
        .expect("omitted id");
    assert_eq!(c.last_insert_id(), Some(100), "OK packet");
    assert_eq!(last_insert_id(&mut c).await, 100, "LAST_INSERT_ID()");
    // NULL, DEFAULT and 0 ask for ids too; a given id is kept.
    c.query_drop(
        "insert into commerce.item (id, name) values (NULL, 'c'), (DEFAULT, 'd'), (0, 'e'), (7, 'f')",
    )
    .await
    .expect("NULL / DEFAULT / 0");
    assert_eq!(c.last_insert_id(), Some(102));
    // A given id only: nothing generated, LAST_INSERT_ID() unchanged (as MariaDB keeps it).
    c.query_drop("INSERT INTO item (id, name) VALUES (8, 'g')")
        .await
        .expect("given id");
    assert_eq!(last_insert_id(&mut c).await, 102);
    // Sharded INSERTs draw from the same sequence: no id is handed out twice.
    c.query_drop("INSERT INTO customer.user (name) VALUES ('u')")
        .await
        .expect("sharded insert");
    assert_eq!(c.last_insert_id(), Some(105));
    // ON DUPLICATE KEY UPDATE and REPLACE keep their clauses.
    c.query_drop(
        "INSERT INTO item (id, name) VALUES (7, 'f2') ON DUPLICATE KEY UPDATE name = VALUES(name)",
    )
    .await
    .expect("upsert");
    c.query_drop("REPLACE INTO item (name) VALUES ('h')")
        .await
        .expect("replace");
    assert_eq!(
        items(&mut c).await,
        vec![
            (7, "f2".into()),
            (8, "g".into()),
            (100, "a".into()),
            (101, "b".into()),
            (102, "c".into()),
            (103, "d".into()),
            (104, "e".into()),
            (106, "h".into()),
        ]
    );

    // Prepared: a `?` bound to NULL or 0 gets an id, another value is kept, and the other
    // parameters stay in place.
    let stmt = c
        .prep("INSERT INTO item (id, name) VALUES (?, ?), (?, ?)")
        .await
        .expect("prepare");
    c.exec_drop(&stmt, (None::<u64>, "p1", 9u64, "p2"))
        .await
        .expect("NULL and 9");
    assert_eq!(c.last_insert_id(), Some(107));
    c.exec_drop(&stmt, (0u64, "p3", 0u64, "p4"))
        .await
        .expect("0 and 0");
    assert_eq!(c.last_insert_id(), Some(108));
    c.exec_drop("INSERT INTO item (name) VALUES (?)", ("p5",))
        .await
        .expect("omitted, prepared");
    assert_eq!(c.last_insert_id(), Some(110));
    let got: Vec<(u64, String)> = c
        .query("SELECT id, name FROM item WHERE name LIKE 'p%' ORDER BY id")
        .await
        .expect("prepared rows");
    assert_eq!(
        got,
        vec![
            (9, "p2".into()),
            (107, "p1".into()),
            (108, "p3".into()),
            (109, "p4".into()),
            (110, "p5".into()),
        ]
    );

    // In a transaction, on the session's connection: rolled back with it.
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("INSERT INTO item (name) VALUES ('t')")
        .await
        .expect("in a transaction");
    let n: Option<u64> = c
        .query_first("SELECT COUNT(*) FROM item WHERE name = 't'")
        .await
        .expect("seen in the transaction");
    assert_eq!(n, Some(1));
    c.query_drop("ROLLBACK").await.expect("rollback");
    let n: Option<u64> = c
        .query_first("SELECT COUNT(*) FROM item WHERE name = 't'")
        .await
        .expect("gone");
    assert_eq!(n, Some(0));

    // INSERT ... SET: one row; the rolled-back statement's id (111) is not handed out again.
    c.query_drop("INSERT INTO item SET name = 's1'")
        .await
        .expect("SET, omitted");
    assert_eq!(c.last_insert_id(), Some(112));
    c.query_drop(
        "INSERT INTO item SET id = NULL, name = 's2' ON DUPLICATE KEY UPDATE name = 'dup'",
    )
    .await
    .expect("SET, NULL");
    c.query_drop("INSERT INTO item SET id = 50, name = 's3'")
        .await
        .expect("SET, given");
    c.exec_drop("INSERT INTO item SET name = ?, id = ?", ("s4", None::<u64>))
        .await
        .expect("SET, prepared");
    assert_eq!(c.last_insert_id(), Some(114));
    let got: Vec<(u64, String)> = c
        .query("SELECT id, name FROM item WHERE name LIKE 's%' ORDER BY id")
        .await
        .expect("SET rows");
    assert_eq!(
        got,
        vec![
            (50, "s3".into()),
            (112, "s1".into()),
            (113, "s2".into()),
            (114, "s4".into()),
        ]
    );

    // A table without auto_increment in the VSchema is MariaDB's as before.
    c.query_drop("INSERT INTO note (body) VALUES ('x')")
        .await
        .expect("note");
    assert_eq!(c.last_insert_id(), Some(1));

    // vtgate's refusals: ids for rows the proxy does not see.
    let r = c
        .query_drop("INSERT INTO item (name) SELECT body FROM note")
        .await;
    expect_error(r, 1235, "INSERT ... SELECT");
}

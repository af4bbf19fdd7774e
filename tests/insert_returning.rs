//! `INSERT ... RETURNING` on a sharded table (issue 17.1: Django uses it on MariaDB >= 10.5,
//! which the proxy now announces): rows routed one by one, the inserted rows returned in the
//! statement's order with their sequence ids, column definitions as the shard's, text and
//! prepared; the forms whose returned rows could not be put in order are refused with 1235.

mod common;

use common::errors::expect_error;
use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::Queryable;
use mysql_async::Row;

const SHARDS: [&str; 4] = ["-40", "40-80", "80-c0", "c0-"];

/// `customer.item` sharded by `hash(id)` with ids from `commerce.item_seq`.
async fn start() -> TestEnv {
    let customer = serde_json::json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {
            "item": {
                "column_vindexes": [{"column": "id", "name": "hash"}],
                "auto_increment": {"column": "id", "sequence": "commerce.item_seq"}
            }
        }
    });
    let commerce =
        serde_json::json!({"sharded": false, "tables": {"item_seq": {"type": "sequence"}}});
    let spec = EnvSpec::default()
        .with_vschema("commerce", commerce)
        .with_keyspace(KeyspaceSpec::sharded("customer", &SHARDS, customer));
    let env = TestEnv::start(spec).await;
    let mut c = env.client().await;
    c.query_drop(
        "CREATE TABLE item_seq (id INT, next_id BIGINT, cache BIGINT, PRIMARY KEY (id)) COMMENT 'vitess_sequence'",
    )
    .await
    .expect("sequence");
    c.query_drop("INSERT INTO item_seq VALUES (0, 1, 100)")
        .await
        .expect("seed");
    c.query_drop("USE customer").await.expect("use");
    c.query_drop(
        "CREATE TABLE item (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(20) NOT NULL, qty INT)",
    )
    .await
    .expect("table");
    drop(c.disconnect().await);
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn insert_returning_on_a_sharded_table() {
    let env = start().await;
    let mut c = env.client_as("root", "", Some("customer")).await;
    let names = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let values: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("('{n}', {i})"))
        .collect();
    let sql = format!(
        "INSERT INTO item (name, qty) VALUES {} RETURNING id, name, qty * 10 AS q10",
        values.join(", ")
    );
    let mut result = c.query_iter(sql.as_str()).await.expect("insert returning");
    let columns: Vec<(String, mysql_async::consts::ColumnType)> = result
        .columns_ref()
        .iter()
        .map(|col| (col.name_str().into_owned(), col.column_type()))
        .collect();
    let rows: Vec<Row> = result.collect().await.expect("rows");
    drop(result);
    let got: Vec<(u64, String, i64)> = rows.into_iter().map(mysql_async::from_row).collect();
    // In the statement's order, with the sequence's ids 1..=8, although they sit on 4 shards.
    let expected: Vec<(u64, String, i64)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (i as u64 + 1, n.to_string(), i as i64 * 10))
        .collect();
    assert_eq!(got, expected);
    let mut on_shards = 0;
    let mut used = 0;
    for shard in SHARDS {
        let mut d = env.shard_conn("customer", shard).await;
        let n: i64 = d
            .query_first("SELECT COUNT(*) FROM item")
            .await
            .expect("count")
            .expect("row");
        on_shards += n;
        used += i64::from(n > 0);
        // The column definitions are the shard's own for the same RETURNING.
        if shard == "-40" {
            let mut direct = d
                .query_iter(
                    "INSERT INTO item (id, name, qty) VALUES (1000, 'z', 1) RETURNING id, name, qty * 10 AS q10",
                )
                .await
                .expect("direct");
            let direct_cols: Vec<(String, mysql_async::consts::ColumnType)> = direct
                .columns_ref()
                .iter()
                .map(|col| (col.name_str().into_owned(), col.column_type()))
                .collect();
            let _: Vec<Row> = direct.collect().await.expect("rows");
            drop(direct);
            d.query_drop("DELETE FROM item WHERE id = 1000")
                .await
                .expect("cleanup");
            assert_eq!(columns, direct_cols, "column definitions");
        }
    }
    assert_eq!(on_shards, 8);
    assert!(used >= 2, "rows spread over the shards");
    // Prepared, with parameters; RETURNING *.
    let got: Vec<(u64, String, Option<i64>)> = c
        .exec(
            "INSERT INTO item (name, qty) VALUES (?, ?), (?, NULL) RETURNING *",
            ("x", 7, "y"),
        )
        .await
        .expect("prepared insert returning");
    assert_eq!(
        got,
        vec![(9, "x".to_string(), Some(7)), (10, "y".to_string(), None)]
    );
    // The rows are where reads by id find them.
    let back: Option<(String, Option<i64>)> = c
        .exec_first("SELECT name, qty FROM item WHERE id = ?", (9,))
        .await
        .expect("read");
    assert_eq!(back, Some(("x".to_string(), Some(7))));
    // A duplicate fails as MariaDB fails it.
    expect_error(
        c.query_drop("INSERT INTO item (id, name) VALUES (3, 'dup') RETURNING id")
            .await,
        1062,
        "duplicate id",
    );
    // Forms whose returned rows could not be put in order are refused, not answered wrongly.
    expect_error(
        c.query_drop("INSERT IGNORE INTO item (id, name) VALUES (3, 'dup') RETURNING id")
            .await,
        1235,
        "INSERT IGNORE ... RETURNING",
    );
    expect_error(
        c.query_drop(
            "INSERT INTO item (id, name) VALUES (3, 'dup') ON DUPLICATE KEY UPDATE qty = 1 RETURNING id",
        )
        .await,
        1235,
        "ON DUPLICATE KEY UPDATE ... RETURNING",
    );
    // The connection is still usable.
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM item")
        .await
        .expect("count");
    assert_eq!(n, Some(10));
    drop(c.disconnect().await);
    env.stop().await;
}

//! A prepared multi-row INSERT into a sharded table whose rows go to different shards: each
//! shard's rows keep their own parameters (the shards used to get the first rows' values:
//! `(?, ?), (?, ?)` with ids 1 and 4 wrote (1, 'a') on both shards).

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn each_shard_gets_its_rows_parameters() {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"user": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    let env = TestEnv::start(EnvSpec::default().with_keyspace(KeyspaceSpec::sharded(
        "customer",
        &["-80", "80-"],
        customer,
    )))
    .await;
    let mut c = env.client().await;
    c.query_drop("CREATE TABLE customer.user (id BIGINT PRIMARY KEY, name VARCHAR(64), n INT)")
        .await
        .expect("ddl");
    // hash(1) and hash(2) are on -80, hash(4) on 80-: rows 1 and 3 go to one shard, row 2 to
    // the other; the suffix's parameter comes last.
    c.exec_drop(
        "INSERT INTO customer.user (id, name, n) VALUES (?, ?, 10), (?, ?, 20), (?, ?, 30) ON DUPLICATE KEY UPDATE n = ?",
        (1u64, "a", 4u64, "b", 2u64, "c", 99),
    )
    .await
    .expect("prepared multi-row insert");
    let got: Vec<(u64, String, i64)> = c
        .query("SELECT id, name, n FROM customer.user ORDER BY id")
        .await
        .expect("rows");
    assert_eq!(
        got,
        vec![
            (1, "a".into(), 10),
            (2, "c".into(), 30),
            (4, "b".into(), 20)
        ]
    );
    // Each row on the shard its id hashes to.
    let mut low = env.shard_conn("customer", "-80").await;
    let ids: Vec<u64> = low
        .query("SELECT id FROM user ORDER BY id")
        .await
        .expect("-80");
    assert_eq!(ids, vec![1, 2]);
    // The suffix's parameter: a duplicate updates with it.
    c.exec_drop(
        "INSERT INTO customer.user (id, name, n) VALUES (?, ?, 10), (?, ?, 20) ON DUPLICATE KEY UPDATE n = ?",
        (1u64, "a", 4u64, "b", 77),
    )
    .await
    .expect("upsert");
    let got: Vec<(u64, i64)> = c
        .query("SELECT id, n FROM customer.user ORDER BY id")
        .await
        .expect("rows");
    assert_eq!(got, vec![(1, 77), (2, 30), (4, 77)]);
}

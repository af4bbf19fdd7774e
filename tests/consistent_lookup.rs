//! Consistent lookup vindexes end to end: owner DML writes lookup rows in the pre list and
//! deletes them in the post list, reads route through the lookup table, duplicates of a
//! unique value get 1062, orphans are reclaimed, and a failed statement inside a transaction
//! leaves nothing behind. Shards are read directly to check every lookup row.

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use serde_json::json;

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "name_vdx": {"type": "consistent_lookup", "owner": "user",
                "params": {"table": "lookup.name_vdx", "from": "name,id", "to": "keyspace_id"}},
            "phone_vdx": {"type": "consistent_lookup_unique", "owner": "user",
                "params": {"table": "lookup.phone_vdx", "from": "phone", "to": "keyspace_id",
                           "ignore_nulls": "true"}}
        },
        "tables": {
            "user": {
                "column_vindexes": [
                    {"column": "id", "name": "hash"},
                    {"columns": ["name", "id"], "name": "name_vdx"},
                    {"column": "phone", "name": "phone_vdx"}
                ]
            }
        }
    });
    let lookup = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}, "md5": {"type": "unicode_loose_md5"}},
        "tables": {
            "name_vdx": {"column_vindexes": [{"column": "name", "name": "md5"}]},
            "phone_vdx": {"column_vindexes": [{"column": "phone", "name": "hash"}]}
        }
    });
    EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
        .with_keyspace(KeyspaceSpec::sharded("lookup", &["-80", "80-"], lookup))
}

async fn setup(env: &TestEnv) -> Conn {
    let mut c = env.client().await;
    c.query_drop("USE lookup").await.expect("use lookup");
    c.query_drop(
        "CREATE TABLE name_vdx (name VARCHAR(64) NOT NULL, id BIGINT NOT NULL, keyspace_id VARBINARY(128), PRIMARY KEY (name, id))",
    )
    .await
    .expect("name lookup table");
    c.query_drop(
        "CREATE TABLE phone_vdx (phone BIGINT NOT NULL, keyspace_id VARBINARY(128), PRIMARY KEY (phone))",
    )
    .await
    .expect("phone lookup table");
    c.query_drop("USE customer").await.expect("use customer");
    c.query_drop("CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(64), phone BIGINT)")
        .await
        .expect("user table");
    c
}

/// Every lookup row on both lookup shards: (table, key, keyspace id hex).
async fn lookup_rows(env: &TestEnv) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("lookup", shard).await;
        let names: Vec<(String, u64, String)> = d
            .query("SELECT name, id, HEX(keyspace_id) FROM name_vdx")
            .await
            .expect("names");
        out.extend(
            names
                .into_iter()
                .map(|(n, id, k)| ("name".to_string(), format!("{n}/{id}"), k)),
        );
        let phones: Vec<(u64, String)> = d
            .query("SELECT phone, HEX(keyspace_id) FROM phone_vdx")
            .await
            .expect("phones");
        out.extend(
            phones
                .into_iter()
                .map(|(p, k)| ("phone".to_string(), p.to_string(), k)),
        );
    }
    out.sort();
    out
}

fn explain_shards(rows: &[(u64, String, String, String)]) -> Vec<String> {
    rows.iter().map(|r| format!("{}/{}", r.1, r.2)).collect()
}

// hash(1) = 166B40B44ABA4BD6, hash(2) = 06E7EA22CE92708F, hash(4) = D2FD8867D50D2DFE.
const KSID_1: &str = "166B40B44ABA4BD6";
const KSID_2: &str = "06E7EA22CE92708F";
const KSID_4: &str = "D2FD8867D50D2DFE";

#[tokio::test(flavor = "multi_thread")]
async fn owner_dml_keeps_lookups_and_reads_route_through_them() {
    let env = TestEnv::start(spec()).await;
    let mut c = setup(&env).await;
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (1, 'alice', 100), (4, 'bob', 400), (2, 'carol', NULL)")
        .await
        .expect("insert");
    assert_eq!(
        lookup_rows(&env).await,
        vec![
            ("name".into(), "alice/1".into(), KSID_1.into()),
            ("name".into(), "bob/4".into(), KSID_4.into()),
            ("name".into(), "carol/2".into(), KSID_2.into()),
            ("phone".into(), "100".into(), KSID_1.into()),
            ("phone".into(), "400".into(), KSID_4.into()),
        ]
    );

    // A read by phone: one lookup shard, then one user shard.
    let rows: Vec<(u64, String, String, String)> = c
        .query("VEXPLAIN QUERIES SELECT id, name FROM user WHERE phone = 400")
        .await
        .expect("vexplain");
    let shards = explain_shards(&rows);
    assert_eq!(shards.len(), 2, "{rows:?}");
    assert!(shards[0].starts_with("lookup/"), "{rows:?}");
    assert_eq!(shards[1], "customer/80-", "{rows:?}");
    let got: Vec<(u64, String)> = c
        .query("SELECT id, name FROM user WHERE phone = 400")
        .await
        .expect("by phone");
    assert_eq!(got, vec![(4, "bob".to_string())]);
    let got: Vec<u64> = c
        .query("SELECT id FROM user WHERE name = 'ALICE'")
        .await
        .expect("by name, case-insensitive");
    assert_eq!(got, vec![1]);
    let got: Vec<u64> = c
        .query("SELECT id FROM user WHERE phone IN (100, 400, 999) ORDER BY id")
        .await
        .expect("IN");
    assert_eq!(got, vec![1, 4]);
    // No match: no user rows; a scalar aggregate still answers.
    let got: Vec<u64> = c
        .query("SELECT id FROM user WHERE phone = 999")
        .await
        .expect("no match");
    assert!(got.is_empty());
    let n: Option<u64> = c
        .query_first("SELECT COUNT(*) FROM user WHERE phone = 999")
        .await
        .expect("count");
    assert_eq!(n, Some(0));
    // The primary vindex wins over the lookup.
    let rows: Vec<(u64, String, String, String)> = c
        .query("VEXPLAIN QUERIES SELECT name FROM user WHERE phone = 400 AND id = 4")
        .await
        .expect("vexplain");
    assert_eq!(explain_shards(&rows), vec!["customer/80-"]);

    // A unique duplicate is refused with 1062, and nothing changes.
    let err = c
        .query_drop("INSERT INTO user (id, name, phone) VALUES (5, 'dave', 100)")
        .await
        .expect_err("duplicate phone");
    match err {
        mysql_async::Error::Server(e) => assert_eq!(e.code, 1062, "{e:?}"),
        other => panic!("unexpected {other:?}"),
    }
    // INSERT IGNORE drops the row instead.
    c.query_drop("INSERT IGNORE INTO user (id, name, phone) VALUES (5, 'dave', 100)")
        .await
        .expect("insert ignore");
    let n: Option<u64> = c
        .query_first("SELECT COUNT(*) FROM user WHERE id = 5")
        .await
        .expect("count");
    assert_eq!(n, Some(0));

    // UPDATE moves the lookup rows; an unchanged value is a no-op.
    c.query_drop("UPDATE user SET phone = 101, name = 'alicia' WHERE id = 1")
        .await
        .expect("update");
    c.query_drop("UPDATE user SET phone = 400 WHERE id = 4")
        .await
        .expect("same value");
    c.query_drop("DELETE FROM user WHERE name = 'carol'")
        .await
        .expect("delete by lookup");
    assert_eq!(
        lookup_rows(&env).await,
        vec![
            ("name".into(), "alicia/1".into(), KSID_1.into()),
            ("name".into(), "bob/4".into(), KSID_4.into()),
            ("phone".into(), "101".into(), KSID_1.into()),
            ("phone".into(), "400".into(), KSID_4.into()),
        ]
    );
    // The freed value can be taken by another row.
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (2, 'erin', 100)")
        .await
        .expect("freed phone");
    let got: Vec<u64> = c
        .query("SELECT id FROM user WHERE phone = 100")
        .await
        .expect("by phone");
    assert_eq!(got, vec![2]);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn orphans_are_reclaimed_and_failed_statements_leave_nothing() {
    let env = TestEnv::start(spec()).await;
    let mut c = setup(&env).await;
    // An orphan: a lookup row for phone 500 pointing at id 4, with no owner row. It is
    // written on both lookup shards; the one phone's vindex names is the one that counts.
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("lookup", shard).await;
        d.query_drop(format!("INSERT INTO phone_vdx VALUES (500, X'{KSID_4}')"))
            .await
            .expect("orphan");
    }
    // Inserting the value again reclaims the orphan (on whichever shard the row belongs).
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (1, 'alice', 500)")
        .await
        .expect("reclaim");
    let got: Vec<u64> = c
        .query("SELECT id FROM user WHERE phone = 500")
        .await
        .expect("by phone");
    assert_eq!(got, vec![1]);
    let rows = lookup_rows(&env).await;
    assert!(
        rows.contains(&("phone".into(), "500".into(), KSID_1.into())),
        "{rows:?}"
    );

    // Inside a transaction a failed statement is undone alone; ROLLBACK undoes the rest.
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (4, 'bob', 600)")
        .await
        .expect("insert in txn");
    let err = c
        .query_drop("INSERT INTO user (id, name, phone) VALUES (2, 'carol', 600)")
        .await
        .expect_err("duplicate in txn");
    assert!(
        matches!(err, mysql_async::Error::Server(ref e) if e.code == 1062),
        "{err:?}"
    );
    let got: Vec<u64> = c
        .query("SELECT id FROM user WHERE phone = 600")
        .await
        .expect("own write visible");
    assert_eq!(got, vec![4]);
    c.query_drop("COMMIT").await.expect("commit");
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (2, 'carol', 700)")
        .await
        .expect("insert");
    c.query_drop("ROLLBACK").await.expect("rollback");
    let n: Option<u64> = c
        .query_first("SELECT COUNT(*) FROM user WHERE id = 2")
        .await
        .expect("count");
    assert_eq!(n, Some(0));
    let rows = lookup_rows(&env).await;
    assert!(
        !rows.iter().any(|r| r.1 == "700" || r.1 == "carol/2"),
        "rolled back lookups: {rows:?}"
    );
    // One statement giving two rows the same unique value is a duplicate.
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (10, 'x', 1000), (11, 'y', 1001)")
        .await
        .expect("two rows");
    let err = c
        .query_drop("UPDATE user SET phone = 2000 WHERE id IN (10, 11)")
        .await
        .expect_err("same unique value twice");
    assert!(
        matches!(err, mysql_async::Error::Server(ref e) if e.code == 1062),
        "{err:?}"
    );
    let phones: Vec<u64> = c
        .query("SELECT phone FROM user WHERE id IN (10, 11) ORDER BY phone")
        .await
        .expect("unchanged");
    assert_eq!(phones, vec![1000, 1001]);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prepared_statements_maintain_and_route_through_lookups() {
    let env = TestEnv::start(spec()).await;
    let mut c = setup(&env).await;
    let ins = c
        .prep("INSERT INTO user (id, name, phone) VALUES (?, ?, ?)")
        .await
        .expect("prepare insert");
    c.exec_drop(&ins, (1u64, "alice", 100u64)).await.expect("1");
    c.exec_drop(&ins, (4u64, "bob", 400u64)).await.expect("4");
    let err = c
        .exec_drop(&ins, (2u64, "carol", 400u64))
        .await
        .expect_err("duplicate phone");
    assert!(
        matches!(err, mysql_async::Error::Server(ref e) if e.code == 1062),
        "{err:?}"
    );
    let by_phone = c
        .prep("SELECT id, name FROM user WHERE phone = ?")
        .await
        .expect("prepare select");
    let got: Vec<(u64, String)> = c.exec(&by_phone, (400u64,)).await.expect("select");
    assert_eq!(got, vec![(4, "bob".to_string())]);
    let upd = c
        .prep("UPDATE user SET phone = ? WHERE name = ?")
        .await
        .expect("prepare update");
    c.exec_drop(&upd, (401u64, "bob")).await.expect("update");
    let got: Vec<(u64, String)> = c.exec(&by_phone, (401u64,)).await.expect("select");
    assert_eq!(got, vec![(4, "bob".to_string())]);
    let got: Vec<(u64, String)> = c.exec(&by_phone, (400u64,)).await.expect("select");
    assert!(got.is_empty());
    let del = c
        .prep("DELETE FROM user WHERE phone = ?")
        .await
        .expect("prepare delete");
    c.exec_drop(&del, (100u64,)).await.expect("delete");
    assert_eq!(
        lookup_rows(&env).await,
        vec![
            ("name".into(), "bob/4".into(), KSID_4.into()),
            ("phone".into(), "401".into(), KSID_4.into()),
        ]
    );
    env.stop().await;
}

//! Owner writes of lookup vindexes that used to fail (issue 18):
//!
//! - a `consistent_lookup_unique` without `ignore_nulls` takes owner rows whose column is NULL
//!   (several of them, as a UNIQUE column takes several NULLs): no lookup row is written for
//!   them (Map never finds NULL), UPDATE to and from NULL moves the lookup row, and reads by
//!   the column or by `IS NULL` answer as one MariaDB would;
//! - `lookup_hash_unique` / `lookup_hash` owners: the lookup table's `to` column holds the
//!   number the primary `hash` vindex hashes into the row's keyspace id (`vunhash(ksid)`, here
//!   the row's id), kept in step by INSERT, UPDATE and DELETE; reads route through them.
//!
//! Lookup tables are read on the shards directly.

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use serde_json::json;

/// `user` owns `phone_vdx`, and with `hashed` also `email_vdx` and `city_vdx`.
fn spec(hashed: bool) -> EnvSpec {
    let mut customer = json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "phone_vdx": {"type": "consistent_lookup_unique", "owner": "user",
                "params": {"table": "lookup.phone_vdx", "from": "phone", "to": "keyspace_id"}},
            "email_vdx": {"type": "lookup_hash_unique", "owner": "user",
                "params": {"table": "lookup.email_vdx", "from": "email", "to": "user_id"}},
            "city_vdx": {"type": "lookup_hash", "owner": "user",
                "params": {"table": "lookup.city_vdx", "from": "city,id", "to": "user_id"}}
        },
        "tables": {
            "user": {
                "column_vindexes": [
                    {"column": "id", "name": "hash"},
                    {"column": "phone", "name": "phone_vdx"},
                    {"column": "email", "name": "email_vdx"},
                    {"columns": ["city", "id"], "name": "city_vdx"}
                ]
            }
        }
    });
    if !hashed {
        let vindexes = customer["vindexes"].as_object_mut().expect("vindexes");
        vindexes.remove("email_vdx");
        vindexes.remove("city_vdx");
        customer["tables"]["user"]["column_vindexes"]
            .as_array_mut()
            .expect("column vindexes")
            .truncate(2);
    }
    let lookup = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}, "md5": {"type": "unicode_loose_md5"}},
        "tables": {
            "phone_vdx": {"column_vindexes": [{"column": "phone", "name": "hash"}]},
            "email_vdx": {"column_vindexes": [{"column": "email", "name": "md5"}]},
            "city_vdx": {"column_vindexes": [{"column": "city", "name": "md5"}]}
        }
    });
    EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
        .with_keyspace(KeyspaceSpec::sharded("lookup", &["-80", "80-"], lookup))
}

async fn setup(env: &TestEnv) -> Conn {
    let mut c = env.client().await;
    c.query_drop("USE lookup").await.expect("use lookup");
    for ddl in [
        "CREATE TABLE phone_vdx (phone BIGINT NOT NULL, keyspace_id VARBINARY(128), PRIMARY KEY (phone))",
        "CREATE TABLE email_vdx (email VARCHAR(64) NOT NULL, user_id BIGINT UNSIGNED, PRIMARY KEY (email))",
        "CREATE TABLE city_vdx (city VARCHAR(64) NOT NULL, id BIGINT NOT NULL, user_id BIGINT UNSIGNED, PRIMARY KEY (city, id))",
    ] {
        c.query_drop(ddl).await.expect(ddl);
    }
    c.query_drop("USE customer").await.expect("use customer");
    c.query_drop(
        "CREATE TABLE user (id BIGINT PRIMARY KEY, phone BIGINT, email VARCHAR(64), city VARCHAR(64), UNIQUE KEY (phone))",
    )
    .await
    .expect("user table");
    c
}

/// Every row of lookup table `table` on both lookup shards, as text, sorted.
async fn lookup_rows(env: &TestEnv, table: &str) -> Vec<String> {
    let mut out = Vec::new();
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("lookup", shard).await;
        let sql = match table {
            "phone_vdx" => "SELECT CONCAT(phone, '>', HEX(keyspace_id)) FROM phone_vdx",
            "email_vdx" => "SELECT CONCAT(email, '>', user_id) FROM email_vdx",
            _ => "SELECT CONCAT(city, '/', id, '>', user_id) FROM city_vdx",
        };
        let rows: Vec<String> = d.query(sql).await.expect(sql);
        out.extend(rows);
    }
    out.sort();
    out
}

// hash(1) = 166B40B44ABA4BD6, hash(2) = 06E7EA22CE92708F, hash(4) = D2FD8867D50D2DFE.
const KSID_1: &str = "166B40B44ABA4BD6";
const KSID_4: &str = "D2FD8867D50D2DFE";

#[tokio::test(flavor = "multi_thread")]
async fn consistent_lookup_unique_takes_null_owner_values() {
    let env = TestEnv::start(spec(false)).await;
    let mut c = setup(&env).await;
    // NULL written, NULL twice in one statement, and the column omitted (its default NULL).
    c.query_drop("INSERT INTO user (id, phone) VALUES (1, 100), (2, NULL), (3, NULL)")
        .await
        .expect("NULL phones (used to fail: a lookup row mapping to 2 shards)");
    c.query_drop("INSERT INTO user (id) VALUES (5)")
        .await
        .expect("omitted phone");
    c.query_drop("INSERT INTO user (id, phone) VALUES (4, 400)")
        .await
        .expect("insert");
    assert_eq!(
        lookup_rows(&env, "phone_vdx").await,
        vec![format!("100>{KSID_1}"), format!("400>{KSID_4}")],
        "no lookup row for a NULL"
    );
    let ids: Vec<u64> = c
        .query("SELECT id FROM user WHERE phone IS NULL ORDER BY id")
        .await
        .expect("IS NULL");
    assert_eq!(ids, vec![2, 3, 5]);
    let ids: Vec<u64> = c
        .query("SELECT id FROM user WHERE phone = NULL")
        .await
        .expect("= NULL");
    assert!(ids.is_empty());
    let ids: Vec<u64> = c
        .query("SELECT id FROM user WHERE phone = 400")
        .await
        .expect("by phone");
    assert_eq!(ids, vec![4]);

    // NULL → value creates the lookup row, value → NULL deletes it.
    c.query_drop("UPDATE user SET phone = 200 WHERE id = 2")
        .await
        .expect("NULL to value");
    c.query_drop("UPDATE user SET phone = NULL WHERE id = 1")
        .await
        .expect("value to NULL");
    c.query_drop("DELETE FROM user WHERE id = 3")
        .await
        .expect("delete a NULL row");
    const KSID_2: &str = "06E7EA22CE92708F";
    assert_eq!(
        lookup_rows(&env, "phone_vdx").await,
        vec![format!("200>{KSID_2}"), format!("400>{KSID_4}")]
    );
    let ids: Vec<u64> = c
        .query("SELECT id FROM user WHERE phone = 200")
        .await
        .expect("moved");
    assert_eq!(ids, vec![2]);
    let ids: Vec<u64> = c
        .query("SELECT id FROM user WHERE phone IS NULL ORDER BY id")
        .await
        .expect("IS NULL");
    assert_eq!(ids, vec![1, 5]);
    // The value is still unique.
    let err = c
        .query_drop("INSERT INTO user (id, phone) VALUES (6, 200)")
        .await
        .expect_err("duplicate");
    match err {
        mysql_async::Error::Server(e) => assert_eq!(e.code, 1062, "{e:?}"),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lookup_hash_owners_keep_their_lookup_tables() {
    let env = TestEnv::start(spec(true)).await;
    let mut c = setup(&env).await;
    // (Refused with 1235 before: owner writes of lookup_hash* vindexes.)
    c.query_drop(
        "INSERT INTO user (id, phone, email, city) VALUES (1, 100, 'a@x', 'Oslo'), (2, 200, 'b@x', 'Oslo'), (4, 400, 'c@x', 'Rome')",
    )
    .await
    .expect("insert into the owner of lookup_hash vindexes");
    // `to` holds the number `hash` maps to the row's keyspace id: the row's id.
    assert_eq!(
        lookup_rows(&env, "email_vdx").await,
        vec!["a@x>1", "b@x>2", "c@x>4"]
    );
    assert_eq!(
        lookup_rows(&env, "city_vdx").await,
        vec!["Oslo/1>1", "Oslo/2>2", "Rome/4>4"]
    );

    // Reads route through them: the lookup table, then the one user shard.
    let rows: Vec<(u64, String, String, String)> = c
        .query("VEXPLAIN QUERIES SELECT id FROM user WHERE email = 'c@x'")
        .await
        .expect("vexplain");
    let shards: Vec<String> = rows.iter().map(|r| format!("{}/{}", r.1, r.2)).collect();
    let (last, lookups) = shards.split_last().expect("queries");
    assert!(!lookups.is_empty(), "{rows:?}");
    assert!(lookups.iter().all(|s| s.starts_with("lookup/")), "{rows:?}");
    assert_eq!(last, "customer/80-", "one user shard: {rows:?}");
    let ids: Vec<u64> = c
        .query("SELECT id FROM user WHERE email = 'c@x'")
        .await
        .expect("by email");
    assert_eq!(ids, vec![4]);
    let ids: Vec<u64> = c
        .query("SELECT id FROM user WHERE city = 'Oslo' ORDER BY id")
        .await
        .expect("by city");
    assert_eq!(ids, vec![1, 2]);
    let ids: Vec<u64> = c
        .query("SELECT id FROM user WHERE email IN ('a@x', 'c@x', 'z@x') ORDER BY id")
        .await
        .expect("IN");
    assert_eq!(ids, vec![1, 4]);

    // A unique value is unique.
    let err = c
        .query_drop("INSERT INTO user (id, email) VALUES (5, 'a@x')")
        .await
        .expect_err("duplicate email");
    match err {
        mysql_async::Error::Server(e) => assert_eq!(e.code, 1062, "{e:?}"),
        other => panic!("unexpected {other:?}"),
    }

    // UPDATE moves the lookup rows, DELETE (routed by a lookup) removes them.
    c.query_drop("UPDATE user SET email = 'aa@x', city = 'Rome' WHERE id = 1")
        .await
        .expect("update");
    c.query_drop("DELETE FROM user WHERE email = 'b@x'")
        .await
        .expect("delete");
    assert_eq!(
        lookup_rows(&env, "email_vdx").await,
        vec!["aa@x>1", "c@x>4"]
    );
    assert_eq!(
        lookup_rows(&env, "city_vdx").await,
        vec!["Rome/1>1", "Rome/4>4"]
    );
    let ids: Vec<u64> = c
        .query("SELECT id FROM user WHERE city = 'Rome' ORDER BY id")
        .await
        .expect("moved");
    assert_eq!(ids, vec![1, 4]);
    let n: Option<u64> = c
        .query_first("SELECT COUNT(*) FROM user WHERE email = 'b@x'")
        .await
        .expect("gone");
    assert_eq!(n, Some(0));
}

//! Vindexes against their columns' collations (issue 15, item 9): a string vindex that is not
//! exact for the column's collation must not route reads (`'s' = 'ß'` under
//! `utf8mb4_general_ci`, but `unicode_loose_md5` places them apart), a lookup table sharded by
//! such a vindex is read on every lookup shard, an exact pairing (`_bin`, `varbinary`) keeps
//! routing to one shard, and `shardgate check --connect` warns about each mismatch.
//!
//! Tables are created through the proxy, so it reads their collations after the DDL.

mod common;

use common::placement::{shard_of, text_ksid};
use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use serde_json::json;
use std::collections::BTreeSet;

const SHARDS: [&str; 2] = ["-80", "80-"];

/// `VEXPLAIN QUERIES` rows: `(#, keyspace, shard, query)`.
type Explained = Vec<(u64, String, String, String)>;

async fn vexplain(c: &mut Conn, sql: &str) -> Explained {
    c.query(format!("VEXPLAIN QUERIES {sql}"))
        .await
        .unwrap_or_else(|e| panic!("VEXPLAIN QUERIES {sql}: {e}"))
}

fn shards_of(rows: &Explained, keyspace: &str) -> Vec<String> {
    rows.iter()
        .filter(|r| r.1 == keyspace)
        .map(|r| r.2.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// `customer.t` sharded by `vindex_type` on `name`.
fn spec(vindex_type: &str) -> EnvSpec {
    EnvSpec::default().with_keyspace(KeyspaceSpec::sharded(
        "customer",
        &SHARDS,
        json!({
            "sharded": true,
            "vindexes": {"v": {"type": vindex_type}},
            "tables": {"t": {"column_vindexes": [{"column": "name", "name": "v"}]}}
        }),
    ))
}

/// The ids every shard returns for `sql`, read directly (what one MariaDB holding all the
/// rows answers), sorted.
async fn direct_ids(env: &TestEnv, keyspace: &str, sql: &str) -> Vec<i64> {
    let mut out = Vec::new();
    for shard in SHARDS {
        let mut d = env.shard_conn(keyspace, shard).await;
        let ids: Vec<i64> = d.query(sql).await.expect("direct read");
        out.extend(ids);
    }
    out.sort();
    out
}

async fn client_in(env: &TestEnv, db: &str) -> Conn {
    let mut c = env.client().await;
    c.query_drop(format!("USE {db}")).await.expect("use");
    c
}

#[tokio::test]
async fn general_ci_column_scatters_and_answers_like_mariadb() {
    // The premise: the two values sit on different shards, and MariaDB calls them equal.
    assert_ne!(
        shard_of(&SHARDS, &text_ksid("s")),
        shard_of(&SHARDS, &text_ksid("ß")),
        "'s' and 'ß' must be placed on different shards for this test"
    );
    let env = TestEnv::start(spec("unicode_loose_md5")).await;
    let mut c = client_in(&env, "customer").await;
    c.query_drop(
        "CREATE TABLE t (id BIGINT PRIMARY KEY, \
         name VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci)",
    )
    .await
    .expect("create t");
    let equal: Option<i64> = c
        .query_first("SELECT 's' = 'ß' COLLATE utf8mb4_general_ci")
        .await
        .expect("compare");
    assert_eq!(
        equal,
        Some(1),
        "MariaDB's general_ci calls 's' and 'ß' equal"
    );
    c.query_drop("INSERT INTO t (id, name) VALUES (1, 's'), (2, 'ß'), (3, 'x')")
        .await
        .expect("insert");

    let sql = "SELECT id FROM t WHERE name = 's' ORDER BY id";
    let mut got: Vec<i64> = c.query(sql).await.expect("select");
    got.sort();
    let want = direct_ids(&env, "customer", "SELECT id FROM t WHERE name = 's'").await;
    assert_eq!(want, vec![1, 2], "MariaDB's answer");
    assert_eq!(got, want, "the proxy answers what MariaDB does");
    for (sql, want) in [
        ("SELECT id FROM t WHERE name = 'ß'", vec![1, 2]),
        ("SELECT id FROM t WHERE name IN ('S', 'x')", vec![1, 2, 3]),
    ] {
        let mut got: Vec<i64> = c.query(sql).await.expect("select");
        got.sort();
        assert_eq!(got, want, "{sql}");
    }
    let q = vexplain(&mut c, "SELECT id FROM t WHERE name = 's'").await;
    assert_eq!(shards_of(&q, "customer"), SHARDS.to_vec(), "scatter: {q:?}");

    // UPDATE by the inexact vindex reaches both rows too.
    c.query_drop("UPDATE t SET id = id + 10 WHERE name = 's'")
        .await
        .expect("update");
    assert_eq!(c.affected_rows(), 2, "both rows 's' and 'ß' are updated");
    env.stop().await;
}

#[tokio::test]
async fn exact_collations_keep_routing_to_one_shard() {
    for (vindex, column, routes) in [
        (
            "unicode_loose_md5",
            "VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
            true,
        ),
        ("xxhash", "VARBINARY(32)", true),
        (
            "xxhash",
            "VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin",
            true,
        ),
        // PAD SPACE: 'a' = 'a ' but xxhash hashes different bytes.
        (
            "xxhash",
            "VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
            false,
        ),
        (
            "xxhash",
            "VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
            false,
        ),
    ] {
        let env = TestEnv::start(spec(vindex)).await;
        let mut c = client_in(&env, "customer").await;
        c.query_drop(format!(
            "CREATE TABLE t (id BIGINT PRIMARY KEY, name {column})"
        ))
        .await
        .expect("create t");
        // 'a ' equals 'a' under PAD SPACE collations (not under varbinary or nopad).
        c.query_drop("INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'a ')")
            .await
            .expect("insert");
        let q = vexplain(&mut c, "SELECT id FROM t WHERE name = 'a'").await;
        let expected = if routes { 1 } else { 2 };
        assert_eq!(
            shards_of(&q, "customer").len(),
            expected,
            "{vindex} on {column}: {q:?}"
        );
        let mut got: Vec<i64> = c
            .query("SELECT id FROM t WHERE name = 'a'")
            .await
            .expect("select");
        got.sort();
        let want = direct_ids(&env, "customer", "SELECT id FROM t WHERE name = 'a'").await;
        assert_eq!(got, want, "{vindex} on {column}: MariaDB's answer");
        env.stop().await;
    }
}

/// `customer.user` (hash on id) with a consistent lookup on `name` (non-unique) and a unique
/// one on `email`, their lookup tables in `lookup` sharded by `unicode_loose_md5` on
/// `utf8mb4_general_ci` columns.
fn lookup_spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "name_vdx": {"type": "consistent_lookup",
                "params": {"table": "lookup.name_vdx", "from": "name,id", "to": "keyspace_id"},
                "owner": "user"},
            "email_vdx": {"type": "consistent_lookup_unique",
                "params": {"table": "lookup.email_vdx", "from": "email", "to": "keyspace_id",
                    "ignore_nulls": "true"},
                "owner": "user"}
        },
        "tables": {"user": {"column_vindexes": [
            {"column": "id", "name": "hash"},
            {"columns": ["name", "id"], "name": "name_vdx"},
            {"column": "email", "name": "email_vdx"}
        ]}}
    });
    let lookup = json!({
        "sharded": true,
        "vindexes": {"md5": {"type": "unicode_loose_md5"}},
        "tables": {
            "name_vdx": {"column_vindexes": [{"column": "name", "name": "md5"}]},
            "email_vdx": {"column_vindexes": [{"column": "email", "name": "md5"}]}
        }
    });
    EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded("customer", &SHARDS, customer))
        .with_keyspace(KeyspaceSpec::sharded("lookup", &SHARDS, lookup))
}

const GENERAL_CI: &str = "CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci";

async fn create_lookup_tables(c: &mut Conn) {
    for sql in [
        "USE lookup".to_string(),
        format!("CREATE TABLE name_vdx (name VARCHAR(32) {GENERAL_CI} NOT NULL, id BIGINT NOT NULL, keyspace_id VARBINARY(128), PRIMARY KEY (name, id))"),
        format!("CREATE TABLE email_vdx (email VARCHAR(32) {GENERAL_CI} NOT NULL, keyspace_id VARBINARY(128), PRIMARY KEY (email))"),
        "USE customer".to_string(),
        format!("CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(32) {GENERAL_CI}, email VARCHAR(32) {GENERAL_CI}, note INT, KEY (name), KEY (email))"),
    ] {
        c.query_drop(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[tokio::test]
async fn lookup_table_sharded_by_an_inexact_vindex_is_read_on_every_shard() {
    let env = TestEnv::start(lookup_spec()).await;
    let mut c = env.client().await;
    create_lookup_tables(&mut c).await;
    // Lookup rows of 's' and 'ß' land on different lookup shards.
    c.query_drop("INSERT INTO user (id, name) VALUES (1, 's'), (2, 'ß'), (3, 'x')")
        .await
        .expect("insert");
    let want = direct_ids(&env, "customer", "SELECT id FROM user WHERE name = 's'").await;
    assert_eq!(want, vec![1, 2], "MariaDB's answer");
    let mut got: Vec<i64> = c
        .query("SELECT id FROM user WHERE name = 's'")
        .await
        .expect("select");
    got.sort();
    assert_eq!(got, want, "the lookup read finds both lookup rows");
    let q = vexplain(&mut c, "SELECT id FROM user WHERE name = 'ß'").await;
    assert_eq!(shards_of(&q, "lookup"), SHARDS.to_vec(), "{q:?}");
    // The owner statement still goes only where the lookup rows point.
    let owners: BTreeSet<&str> = [1i64, 2]
        .iter()
        .map(|&id| shard_of(&SHARDS, &common::placement::hash_ksid(id)))
        .collect();
    assert_eq!(
        shards_of(&q, "customer"),
        owners.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        "{q:?}"
    );
    // DML by the lookup column reaches both rows.
    c.query_drop("UPDATE user SET note = 7 WHERE name = 'S'")
        .await
        .expect("update");
    assert_eq!(c.affected_rows(), 2);
    env.stop().await;
}

#[tokio::test]
async fn check_connect_warns_about_each_mismatch() {
    let env = TestEnv::start(lookup_spec()).await;
    let mut c = env.client().await;
    create_lookup_tables(&mut c).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shardgate.toml");
    std::fs::write(&path, env.config.to_toml()).expect("write config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shardgate"))
        .args(["check", "--connect", "--config"])
        .arg(&path)
        .output()
        .expect("run shardgate check");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    // (The test servers' root account also gets a backend-grants warning per shard.)
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("warning:") && !l.contains("the shard URL's user has"))
        .collect();
    assert_eq!(warnings.len(), 2, "one per lookup table: {text}");
    for (table, column, lookup) in [
        ("name_vdx", "name", "customer.name_vdx"),
        ("email_vdx", "email", "customer.email_vdx"),
    ] {
        let line = warnings
            .iter()
            .find(|l| l.contains(&format!("table {table},")))
            .unwrap_or_else(|| panic!("no warning for {table}: {text}"));
        for part in [
            "keyspace lookup",
            &format!("column {column}"),
            "utf8mb4_general_ci",
            "vindex md5 (unicode_loose_md5)",
            "scatter",
            &format!("lookup vindex {lookup}"),
        ] {
            assert!(line.contains(part), "{part:?} missing: {line}");
        }
    }
    let email = warnings
        .iter()
        .find(|l| l.contains("table email_vdx,"))
        .expect("email warning");
    assert!(
        email.contains("uniqueness is NOT enforced across lookup shards"),
        "{email}"
    );
    // Without --connect, nothing is read and no warning is printed.
    let plain = std::process::Command::new(env!("CARGO_BIN_EXE_shardgate"))
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .expect("run shardgate check");
    assert!(plain.status.success());
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("warning:"));
    env.stop().await;
}

#[tokio::test]
async fn serve_warns_at_start_about_each_mismatch() {
    let env = TestEnv::start(lookup_spec()).await;
    let mut c = env.client().await;
    create_lookup_tables(&mut c).await;
    let proxy = env.proxy_process().await;
    let log = proxy.log();
    let line = log
        .lines()
        .find(|l| l.contains("WARN") && l.contains("table email_vdx,"))
        .unwrap_or_else(|| panic!("no start-up warning for email_vdx: {log}"));
    for part in [
        "keyspace lookup",
        "utf8mb4_general_ci",
        "unicode_loose_md5",
        "scatter",
        "uniqueness is NOT enforced across lookup shards",
    ] {
        assert!(line.contains(part), "{part:?} missing: {line}");
    }
    // The started process routes like the in-process proxy: both rows for 's'.
    let mut p = Conn::from_url(proxy.url(Some("customer")))
        .await
        .expect("connect");
    p.query_drop("INSERT INTO user (id, name) VALUES (1, 's'), (2, 'ß')")
        .await
        .expect("insert");
    let mut ids: Vec<i64> = p
        .query("SELECT id FROM user WHERE name = 's'")
        .await
        .expect("select");
    ids.sort();
    assert_eq!(ids, vec![1, 2]);
    drop(p);
    proxy.stop().await;
    env.stop().await;
}

#[tokio::test]
async fn a_forwarded_alter_to_a_ci_collation_stops_routing() {
    let env = TestEnv::start(spec("unicode_loose_md5")).await;
    let mut c = client_in(&env, "customer").await;
    c.query_drop(
        "CREATE TABLE t (id BIGINT PRIMARY KEY, \
         name VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin)",
    )
    .await
    .expect("create t");
    let sql = "SELECT id FROM t WHERE name = 's'";
    let q = vexplain(&mut c, sql).await;
    assert_eq!(shards_of(&q, "customer").len(), 1, "_bin routes: {q:?}");
    c.query_drop(
        "ALTER TABLE t MODIFY name VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
    )
    .await
    .expect("alter t");
    let q = vexplain(&mut c, sql).await;
    assert_eq!(
        shards_of(&q, "customer"),
        SHARDS.to_vec(),
        "general_ci scatters (the cached plan is not reused): {q:?}"
    );
    env.stop().await;
}

//! `shardgate check --connect` (issue 20, point 5): every VSchema table must exist on every
//! shard of its keyspace with its vindex columns, every lookup table in its keyspace with its
//! `from` and `to` columns; VSchema files naming no configured keyspace are reported. Each
//! problem is printed once, with the shards it applies to.

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_connect_names_missing_tables_and_columns_once() {
    let customer = json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "name_lk": {"type": "consistent_lookup", "params": {"table": "lookup.name_lk", "from": "name", "to": "keyspace_id"}, "owner": "user"}
        },
        "tables": {
            "user": {"column_vindexes": [{"column": "id", "name": "hash"}, {"column": "name", "name": "name_lk"}]},
            "orders": {"column_vindexes": [{"column": "uid", "name": "hash"}]}
        }
    });
    let env = TestEnv::start(
        EnvSpec::default()
            .with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
            .with_keyspace(KeyspaceSpec::unsharded("lookup")),
    )
    .await;
    // `user` complete on -80, without `name` on 80-; `orders` nowhere; the lookup table
    // without its `to` column.
    let mut a = env.shard_conn("customer", "-80").await;
    a.query_drop("CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(32))")
        .await
        .expect("a");
    let mut b = env.shard_conn("customer", "80-").await;
    b.query_drop("CREATE TABLE user (id BIGINT PRIMARY KEY)")
        .await
        .expect("b");
    let mut l = env.shard_conn("lookup", "0").await;
    l.query_drop("CREATE TABLE name_lk (name VARCHAR(32) PRIMARY KEY)")
        .await
        .expect("l");
    std::fs::write(env.vschema_dir().join("nosuch.json"), "{}").expect("stray file");

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shardgate.toml");
    std::fs::write(&path, env.config.to_toml()).expect("write config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shardgate"))
        .args(["check", "--connect", "--config"])
        .arg(&path)
        .output()
        .expect("run shardgate check");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("warning:") && !l.contains("the shard URL's user has"))
        .collect();
    for expected in [
        "customer.orders: table missing on shard(s) -80, 80-",
        "customer.user: column 'name' missing on shard(s) 80-",
        "lookup table lookup.name_lk of vindex customer.name_lk: column 'keyspace_id' missing on shard(s) 0",
        "nosuch.json: names no configured keyspace (ignored)",
    ] {
        assert_eq!(
            warnings.iter().filter(|w| w.contains(expected)).count(),
            1,
            "{expected:?} once in:\n{text}"
        );
    }
    assert_eq!(warnings.len(), 4, "nothing else: {text}");
    assert!(text.contains("4 schema problem(s)"), "{text}");
    env.stop().await;
}

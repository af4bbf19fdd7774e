//! sysbench against a sharded keyspace with nothing prepared by hand (issue 17, point 6): the
//! keyspace's VSchema says `"default_vindex": "hash"`, so sysbench's own `CREATE TABLE
//! sbtestN (id INTEGER NOT NULL AUTO_INCREMENT, ..., PRIMARY KEY (id))` through the proxy
//! creates the table on every shard, adds it to the VSchema (primary vindex `hash(id)`,
//! saved to the VSchema file) with a sequence `sbtestN_seq` in the unsharded keyspace, and
//! `cleanup`'s DROP TABLE takes both out again. Rows are checked on the shards directly: each
//! sits on the shard its id hashes to, and every shard holds some.

mod common;

use common::placement::{hash_ksid, shard_of};
use common::tools::run_tool;
use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use tokio::process::Command;

const SHARDS: [&str; 4] = ["-40", "40-80", "80-c0", "c0-"];
const TABLE_SIZE: i64 = 600;

fn spec() -> EnvSpec {
    EnvSpec::default().with_keyspace(KeyspaceSpec::sharded(
        "customer",
        &SHARDS,
        serde_json::json!({
            "sharded": true,
            "default_vindex": "hash",
            "vindexes": {"hash": {"type": "hash"}}
        }),
    ))
}

/// sysbench oltp_read_write on `customer` with `args`: (success, stdout, stderr).
async fn sysbench(port: u16, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new("sysbench");
    cmd.args([
        "--db-driver=mysql",
        "--mysql-host=127.0.0.1",
        &format!("--mysql-port={port}"),
        "--mysql-user=root",
        "--mysql-db=customer",
        "--tables=2",
        &format!("--table-size={TABLE_SIZE}"),
        "oltp_read_write",
    ])
    .args(args);
    run_tool(&mut cmd, None, std::time::Duration::from_secs(240)).await
}

/// The VSchema file of `keyspace` as saved.
fn saved(env: &TestEnv, keyspace: &str) -> serde_json::Value {
    let path = env.vschema_dir().join(format!("{keyspace}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).expect("VSchema JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn sysbench_prepare_run_cleanup_on_a_sharded_keyspace() {
    let env = TestEnv::start(spec()).await;
    let (ok, out, err) = sysbench(env.port(), &["prepare"]).await;
    assert!(ok, "prepare failed:\n{out}\n{err}");

    for (n, t) in ["sbtest1", "sbtest2"].into_iter().enumerate() {
        let customer = saved(&env, "customer");
        assert_eq!(
            customer["tables"][t],
            serde_json::json!({
                "column_vindexes": [{"column": "id", "name": "hash"}],
                "auto_increment": {"column": "id", "sequence": format!("commerce.{t}_seq")}
            }),
            "{customer}"
        );
        assert_eq!(
            saved(&env, "commerce")["tables"][format!("{t}_seq")],
            serde_json::json!({"type": "sequence"})
        );
        // Every row on the shard of hash(id); ids 1..=TABLE_SIZE from the sequence; every
        // shard holds a share.
        let mut ids = Vec::new();
        for shard in SHARDS {
            let mut d = env.shard_conn("customer", shard).await;
            let here: Vec<i64> = d.query(format!("SELECT id FROM {t}")).await.expect("ids");
            assert!(
                here.len() as i64 > TABLE_SIZE / 8,
                "{t} on {shard} holds {} rows: rows are spread by hash",
                here.len()
            );
            for id in &here {
                assert_eq!(shard_of(&SHARDS, &hash_ksid(*id)), shard, "{t} id {id}");
            }
            ids.extend(here);
        }
        ids.sort();
        assert_eq!(ids, (1..=TABLE_SIZE).collect::<Vec<_>>(), "{t}");
        // The secondary index sysbench creates (k_1 on sbtest1, ...) exists on every shard.
        for shard in SHARDS {
            let mut d = env.shard_conn("customer", shard).await;
            let keys: Vec<mysql_async::Row> = d
                .query(format!(
                    "SHOW INDEX FROM {t} WHERE Key_name = 'k_{}'",
                    n + 1
                ))
                .await
                .expect("index");
            assert!(!keys.is_empty(), "k_{} on {shard}", n + 1);
        }
    }
    // Reads through the proxy route by id to one shard.
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use");
    let explained: Vec<(u64, String, String, String)> = c
        .query("VEXPLAIN QUERIES SELECT c FROM sbtest1 WHERE id = 7")
        .await
        .expect("vexplain");
    assert_eq!(explained.len(), 1, "{explained:?}");
    assert_eq!(explained[0].2, shard_of(&SHARDS, &hash_ksid(7)));
    drop(c);

    for ps in ["--db-ps-mode=auto", "--db-ps-mode=disable"] {
        let (ok, out, err) = sysbench(
            env.port(),
            &["run", "--threads=2", "--time=0", "--events=40", ps],
        )
        .await;
        assert!(ok, "{ps} run failed:\n{out}\n{err}");
    }
    // read_write deletes and re-inserts rows by id: still TABLE_SIZE rows, each placed by id.
    for t in ["sbtest1", "sbtest2"] {
        let mut total = 0;
        for shard in SHARDS {
            let mut d = env.shard_conn("customer", shard).await;
            let here: Vec<i64> = d.query(format!("SELECT id FROM {t}")).await.expect("ids");
            for id in &here {
                assert_eq!(shard_of(&SHARDS, &hash_ksid(*id)), shard, "{t} id {id}");
            }
            total += here.len() as i64;
        }
        assert_eq!(total, TABLE_SIZE, "{t}");
    }

    let (ok, out, err) = sysbench(env.port(), &["cleanup"]).await;
    assert!(ok, "cleanup failed:\n{out}\n{err}");
    let customer = saved(&env, "customer");
    let commerce = saved(&env, "commerce");
    for t in ["sbtest1", "sbtest2"] {
        assert!(customer["tables"].get(t).is_none(), "{customer}");
        assert!(
            commerce["tables"].get(format!("{t}_seq")).is_none(),
            "{commerce}"
        );
    }
    let mut seq = env.shard_conn("commerce", "0").await;
    let left: Vec<String> = seq
        .query("SHOW TABLES LIKE 'sbtest%'")
        .await
        .expect("tables");
    assert!(left.is_empty(), "{left:?}");

    // Again from scratch: the sequences start over and nothing collides.
    let (ok, out, err) = sysbench(env.port(), &["prepare"]).await;
    assert!(ok, "second prepare failed:\n{out}\n{err}");
    let (ok, out, err) = sysbench(env.port(), &["cleanup"]).await;
    assert!(ok, "second cleanup failed:\n{out}\n{err}");
    env.stop().await;
}

/// A table without a primary key cannot be sharded by it: refused before any shard runs it.
#[tokio::test(flavor = "multi_thread")]
async fn a_table_without_a_primary_key_is_refused() {
    let env = TestEnv::start(spec()).await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use");
    common::errors::expect_error(
        c.query_drop("CREATE TABLE nokey (a INT)").await,
        1235,
        "CREATE TABLE without a primary key",
    );
    for shard in SHARDS {
        let mut d = env.shard_conn("customer", shard).await;
        let t: Vec<String> = d.query("SHOW TABLES LIKE 'nokey'").await.expect("tables");
        assert!(t.is_empty(), "{shard}: {t:?}");
    }
    // A table with a key and no AUTO_INCREMENT: sharded by it, no sequence.
    c.query_drop("CREATE TABLE keyed (uid BIGINT NOT NULL, v INT, PRIMARY KEY (uid))")
        .await
        .expect("create");
    c.query_drop("INSERT INTO keyed (uid, v) VALUES (1, 1), (2, 2), (3, 3), (4, 4)")
        .await
        .expect("insert");
    for uid in 1..=4i64 {
        let mut d = env
            .shard_conn("customer", shard_of(&SHARDS, &hash_ksid(uid)))
            .await;
        let v: Option<i64> = d
            .query_first(format!("SELECT v FROM keyed WHERE uid = {uid}"))
            .await
            .expect("row");
        assert_eq!(v, Some(uid));
    }
    assert_eq!(
        saved(&env, "customer")["tables"]["keyed"],
        serde_json::json!({"column_vindexes": [{"column": "uid", "name": "hash"}]})
    );
    env.stop().await;
}

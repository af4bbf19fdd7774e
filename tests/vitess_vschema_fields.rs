//! Vitess VSchema files load unchanged (issue 18, "Also broken"): a table's `name`, a column
//! vindex's `type` (as Vitess's `/debug/vschema` output writes them) and several `columns` on
//! a single-column functional vindex, which routes by the first column as in Vitess.
//!
//! `customer.user` lists `hash` with `columns: ["id", "tenant"]`, plus an owned
//! `consistent_lookup` over `["name", "id"]` (its multi-column meaning is unchanged). Rows are
//! inserted through the proxy; each must sit on the shard of `hash(id)` (read on the shards
//! directly), lookup rows must exist for each, a point SELECT by `id` must go to that one
//! shard and answer the row, and a SELECT by `tenant` alone must not be routed by it.

mod common;

use common::placement::{hash_ksid, shard_of};
use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use serde_json::json;
use std::collections::BTreeSet;

const SHARDS: [&str; 2] = ["-80", "80-"];

/// `VEXPLAIN QUERIES` rows: `(#, keyspace, shard, query)`.
type Explained = Vec<(u64, String, String, String)>;

async fn shards_for(c: &mut Conn, keyspace: &str, sql: &str) -> Vec<String> {
    let rows: Explained = c
        .query(format!("VEXPLAIN QUERIES {sql}"))
        .await
        .unwrap_or_else(|e| panic!("VEXPLAIN QUERIES {sql}: {e}"));
    rows.into_iter()
        .filter(|r| r.1 == keyspace)
        .map(|r| r.2)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "name_vdx": {"type": "consistent_lookup",
                "params": {"table": "lookup.name_vdx", "from": "name,id", "to": "keyspace_id"},
                "owner": "user"}
        },
        "tables": {
            "user": {
                "name": "user",
                "column_vindexes": [
                    {"columns": ["id", "tenant"], "name": "hash", "type": "hash"},
                    {"columns": ["name", "id"], "name": "name_vdx", "type": "consistent_lookup"}
                ]
            }
        }
    });
    let lookup = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {
            "name_vdx": {"name": "name_vdx",
                "column_vindexes": [{"columns": ["id", "name"], "name": "hash", "type": "hash"}]}
        }
    });
    EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded("customer", &SHARDS, customer))
        .with_keyspace(KeyspaceSpec::sharded("lookup", &SHARDS, lookup))
}

/// `(id, tenant)` pairs where `tenant` hashes to the other shard than `id`, so routing by the
/// wrong column would misplace every row.
fn rows() -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut tenant = 1000;
    for id in 1..=12i64 {
        let home = shard_of(&SHARDS, &hash_ksid(id));
        while shard_of(&SHARDS, &hash_ksid(tenant)) == home {
            tenant += 1;
        }
        out.push((id, tenant));
        tenant += 1;
    }
    out
}

#[tokio::test]
async fn vitess_shaped_vschema_routes_by_the_first_column() {
    let env = TestEnv::start(spec()).await;
    let mut c = env.client().await;
    for sql in [
        "USE lookup",
        "CREATE TABLE name_vdx (name VARCHAR(32) NOT NULL, id BIGINT NOT NULL, \
         keyspace_id VARBINARY(128), PRIMARY KEY (name, id))",
        "USE customer",
        "CREATE TABLE user (id BIGINT PRIMARY KEY, tenant BIGINT NOT NULL, name VARCHAR(32))",
    ] {
        c.query_drop(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let rows = rows();
    // One multi-row INSERT (split by shard) and single-row prepared INSERTs.
    let (multi, single) = rows.split_at(6);
    let values: Vec<String> = multi
        .iter()
        .map(|(id, t)| format!("({id}, {t}, 'n{id}')"))
        .collect();
    c.query_drop(format!(
        "INSERT INTO user (id, tenant, name) VALUES {}",
        values.join(", ")
    ))
    .await
    .expect("multi-row insert");
    for (id, t) in single {
        c.exec_drop(
            "INSERT INTO user (tenant, id, name) VALUES (?, ?, ?)",
            (t, id, format!("n{id}")),
        )
        .await
        .expect("prepared insert");
    }

    // Placement: every row on the shard of hash(id), exactly once.
    for shard in SHARDS {
        let mut d = env.shard_conn("customer", shard).await;
        let found: Vec<i64> = d.query("SELECT id FROM user ORDER BY id").await.unwrap();
        let want: Vec<i64> = rows
            .iter()
            .map(|r| r.0)
            .filter(|id| shard_of(&SHARDS, &hash_ksid(*id)) == shard)
            .collect();
        assert_eq!(found, want, "rows on customer/{shard}");
    }
    // The owned two-column lookup kept its meaning: one (name, id) row per user.
    let mut lookup_rows = Vec::new();
    for shard in SHARDS {
        let mut d = env.shard_conn("lookup", shard).await;
        let found: Vec<(String, i64)> = d.query("SELECT name, id FROM name_vdx").await.unwrap();
        lookup_rows.extend(found);
    }
    lookup_rows.sort_by_key(|r| r.1);
    let want: Vec<(String, i64)> = rows.iter().map(|(id, _)| (format!("n{id}"), *id)).collect();
    assert_eq!(lookup_rows, want, "lookup rows");

    // Point selects by the routing column go to its one shard and find the row.
    for (id, tenant) in &rows {
        let sql = format!("SELECT tenant, name FROM user WHERE id = {id}");
        let home = shard_of(&SHARDS, &hash_ksid(*id)).to_string();
        assert_eq!(
            shards_for(&mut c, "customer", &sql).await,
            vec![home],
            "{sql}"
        );
        let got: Option<(i64, String)> = c.query_first(&sql).await.expect("point select");
        assert_eq!(got, Some((*tenant, format!("n{id}"))), "{sql}");
        let got: Option<i64> = c
            .exec_first("SELECT tenant FROM user WHERE id = ?", (id,))
            .await
            .expect("prepared point select");
        assert_eq!(got, Some(*tenant), "prepared select of {id}");
    }
    // The second listed column does not route: a filter on it alone reads every shard.
    let (id, tenant) = rows[0];
    let sql = format!("SELECT id FROM user WHERE tenant = {tenant}");
    assert_eq!(
        shards_for(&mut c, "customer", &sql).await,
        SHARDS.to_vec(),
        "{sql}"
    );
    let got: Vec<i64> = c.query(&sql).await.expect("select by tenant");
    assert_eq!(got, vec![id], "{sql}");
    // The lookup still routes a read by name to the owner row's shard.
    let sql = format!("SELECT id FROM user WHERE name = 'n{id}'");
    let got: Vec<i64> = c.query(&sql).await.expect("select by name");
    assert_eq!(got, vec![id], "{sql}");
    assert_eq!(
        shards_for(&mut c, "customer", &sql).await,
        vec![shard_of(&SHARDS, &hash_ksid(id)).to_string()],
        "{sql}"
    );
    env.stop().await;
}

/// `shardgate check` accepts the Vitess-shaped file and names the file, table and reason when
/// an informational field contradicts the file.
#[test]
fn check_accepts_vitess_fields_and_explains_contradictions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vschema = dir.path().join("vschema");
    std::fs::create_dir(&vschema).expect("mkdir");
    let config = dir.path().join("shardgate.toml");
    std::fs::write(
        &config,
        r#"
[server]
mysql_listen = "127.0.0.1:15306"
[[users]]
name = "app"
password = "secret"
[vschema]
dir = "vschema"
[[keyspaces]]
name = "customer"
[[keyspaces.shards]]
name = "-80"
url = "mysql://root@127.0.0.1:17101/vt_customer"
[[keyspaces.shards]]
name = "80-"
url = "mysql://root@127.0.0.1:17102/vt_customer"
"#,
    )
    .expect("config");
    let check = |file: serde_json::Value| {
        std::fs::write(vschema.join("customer.json"), file.to_string()).expect("vschema");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_shardgate"))
            .args(["check", "--config"])
            .arg(&config)
            .output()
            .expect("run shardgate");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let good = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"user": {"name": "user",
            "column_vindexes": [{"columns": ["id", "tenant"], "name": "hash", "type": "hash"}]}}
    });
    let (ok, out) = check(good.clone());
    assert!(ok, "{out}");

    let mut bad_name = good.clone();
    bad_name["tables"]["user"]["name"] = json!("users");
    let (ok, out) = check(bad_name);
    assert!(!ok, "{out}");
    for f in ["customer.json", "table 'user'", "'name' is \"users\""] {
        assert!(out.contains(f), "{out} lacks {f}");
    }
    assert_eq!(
        out.matches("'name' is \"users\"").count(),
        1,
        "the reason is said once: {out}"
    );
    let mut bad_type = good;
    bad_type["tables"]["user"]["column_vindexes"][0]["type"] = json!("xxhash");
    let (ok, out) = check(bad_type);
    assert!(!ok, "{out}");
    for f in ["customer.json", "column_vindexes[0]", "is of type \"hash\""] {
        assert!(out.contains(f), "{out} lacks {f}");
    }
}

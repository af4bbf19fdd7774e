//! Lookup vindexes end to end (issue 4, points 2 and 3), through the in-process proxy, with the
//! lookup tables read DIRECTLY on their shards:
//!
//! - reads: `phone = ` / `name = ` reach one lookup shard and then only the owner's shard
//!   (`VEXPLAIN QUERIES`), IN lists are batched (one lookup query per lookup shard), no match
//!   means no `customer` shard, `id = ` beats `phone = ` beats `name = `, a write_only vindex
//!   is never used to route reads;
//! - owner DML: INSERT creates lookup rows, DELETE removes them, UPDATE moves them (and an
//!   UPDATE to the same value is a no-op), INSERT IGNORE drops a row whose unique value is
//!   taken, a taken unique value is 1062, and a rolled-back transaction leaves nothing behind.
//!
//! Layout: `customer` (`-80`, `80-`) table `user(id, name, phone, email)`, primary vindex
//! `hash(id)`; `name_user_vdx` consistent_lookup on `(name, id)`, `phone_user_vdx`
//! consistent_lookup_unique on `phone` (ignore_nulls), `email_user_vdx`
//! consistent_lookup_unique on `email` (write_only, ignore_nulls). Lookup tables in `lookup`
//! (`-80`, `80-`), sharded by `unicode_loose_md5` (text) and `hash` (phone).
//!
//! One module per group of tests: `reads`, `owner_dml`, `unique_values`, `write_only`. What
//! they share: the environment (here), where rows belong (`placement`), what `VEXPLAIN
//! QUERIES` shows (`vexplain`), and the rows read directly from the shards (`shard_rows`).

#[path = "../common/mod.rs"]
mod common;
mod owner_dml;
mod placement;
mod reads;
mod shard_rows;
mod unique_values;
mod vexplain;
mod write_only;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use serde_json::json;

/// The shards of both keyspaces.
const SHARDS: [&str; 2] = ["-80", "80-"];

/// The environment: `customer` and `lookup` on [`SHARDS`], with the VSchemas of the layout
/// described at the top.
fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "name_user_vdx": {
                "type": "consistent_lookup",
                "params": {"table": "lookup.name_user_vdx", "from": "name,id", "to": "keyspace_id"},
                "owner": "user"
            },
            "phone_user_vdx": {
                "type": "consistent_lookup_unique",
                "params": {
                    "table": "lookup.phone_user_vdx", "from": "phone", "to": "keyspace_id",
                    "ignore_nulls": "true"
                },
                "owner": "user"
            },
            "email_user_vdx": {
                "type": "consistent_lookup_unique",
                "params": {
                    "table": "lookup.email_user_vdx", "from": "email", "to": "keyspace_id",
                    "ignore_nulls": "true", "write_only": "true"
                },
                "owner": "user"
            }
        },
        "tables": {
            "user": {
                "column_vindexes": [
                    {"column": "id", "name": "hash"},
                    {"columns": ["name", "id"], "name": "name_user_vdx"},
                    {"column": "phone", "name": "phone_user_vdx"},
                    {"column": "email", "name": "email_user_vdx"}
                ]
            }
        }
    });
    let lookup = json!({
        "sharded": true,
        "vindexes": {
            "unicode_loose_md5": {"type": "unicode_loose_md5"},
            "hash": {"type": "hash"}
        },
        "tables": {
            "name_user_vdx": {"column_vindexes": [{"column": "name", "name": "unicode_loose_md5"}]},
            "phone_user_vdx": {"column_vindexes": [{"column": "phone", "name": "hash"}]},
            "email_user_vdx": {"column_vindexes": [{"column": "email", "name": "unicode_loose_md5"}]}
        }
    });
    EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded("customer", &SHARDS, customer))
        .with_keyspace(KeyspaceSpec::sharded("lookup", &SHARDS, lookup))
}

/// The owner table, with an index on every lookup column.
const USER_DDL: &str = "CREATE TABLE user (
    id BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
    phone BIGINT,
    email VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
    KEY name (name), KEY phone (phone), KEY email (email))";
/// The lookup tables of the three lookup vindexes.
const LOOKUP_DDL: [&str; 3] = [
    "CREATE TABLE name_user_vdx (
        name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
        id BIGINT NOT NULL, keyspace_id VARBINARY(128), PRIMARY KEY (name, id))",
    "CREATE TABLE phone_user_vdx (
        phone BIGINT NOT NULL, keyspace_id VARBINARY(128), PRIMARY KEY (phone))",
    "CREATE TABLE email_user_vdx (
        email VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
        keyspace_id VARBINARY(128), PRIMARY KEY (email))",
];

/// Starts the env, creates the tables directly on every shard, returns a client on `customer`.
async fn setup() -> (TestEnv, Conn) {
    let env = TestEnv::start(spec()).await;
    for shard in SHARDS {
        let mut c = env.shard_conn("customer", shard).await;
        c.query_drop(USER_DDL).await.expect("user DDL");
        let mut l = env.shard_conn("lookup", shard).await;
        for ddl in LOOKUP_DDL {
            l.query_drop(ddl).await.expect("lookup DDL");
        }
    }
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use customer");
    (env, c)
}

/// Sorted, without repeats (the form the readers return, for expected values).
fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort();
    v.dedup();
    v
}

//! The keyspaces and tables under test and the shard that holds a keyspace id on their layout:
//! `customer.user` with its two consistent lookup vindexes, and their lookup tables in
//! `lookup`, created directly on the shards (keyspace ids: [`crate::common::placement`]).

use crate::common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use serde_json::json;

/// The shards of both keyspaces.
pub(crate) const SHARDS: [&str; 2] = ["-80", "80-"];

fn customer_vschema() -> serde_json::Value {
    json!({
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
            }
        },
        "tables": {
            "user": {
                "column_vindexes": [
                    {"column": "id", "name": "hash"},
                    {"columns": ["name", "id"], "name": "name_user_vdx"},
                    {"column": "phone", "name": "phone_user_vdx"}
                ]
            }
        }
    })
}

fn lookup_vschema() -> serde_json::Value {
    json!({
        "sharded": true,
        "vindexes": {
            "unicode_loose_md5": {"type": "unicode_loose_md5"},
            "hash": {"type": "hash"}
        },
        "tables": {
            "name_user_vdx": {"column_vindexes": [{"column": "name", "name": "unicode_loose_md5"}]},
            "phone_user_vdx": {"column_vindexes": [{"column": "phone", "name": "hash"}]}
        }
    })
}

/// The environment: both keyspaces on [`SHARDS`].
pub(crate) fn spec() -> EnvSpec {
    EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded(
            "customer",
            &SHARDS,
            customer_vschema(),
        ))
        .with_keyspace(KeyspaceSpec::sharded("lookup", &SHARDS, lookup_vschema()))
}

/// The owner table; the indexes serve the owner-row probes of the reclaim algorithm.
const USER_DDL: &str = "CREATE TABLE user (
    id BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
    phone BIGINT,
    KEY name (name),
    KEY phone (phone))";
const NAME_LOOKUP_DDL: &str = "CREATE TABLE name_user_vdx (
    name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
    id BIGINT NOT NULL,
    keyspace_id VARBINARY(128),
    PRIMARY KEY (name, id))";
const PHONE_LOOKUP_DDL: &str = "CREATE TABLE phone_user_vdx (
    phone BIGINT NOT NULL,
    keyspace_id VARBINARY(128),
    PRIMARY KEY (phone))";

/// Creates the owner and lookup tables directly on every shard.
pub(crate) async fn create_tables(env: &TestEnv) {
    for shard in SHARDS {
        let mut c = env.shard_conn("customer", shard).await;
        c.query_drop(USER_DDL).await.expect("user DDL");
        let mut l = env.shard_conn("lookup", shard).await;
        l.query_drop(NAME_LOOKUP_DDL)
            .await
            .expect("name lookup DDL");
        l.query_drop(PHONE_LOOKUP_DDL)
            .await
            .expect("phone lookup DDL");
    }
}

/// The shard (of [`SHARDS`]) whose key range holds `ksid`.
pub(crate) fn shard_of(ksid: &[u8]) -> &'static str {
    crate::common::placement::shard_of(&SHARDS, ksid)
}

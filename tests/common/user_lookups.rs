//! The owner-table layout the lookup tests share: `customer.user` sharded by `hash(id)`, with
//! `name_user_vdx` (consistent_lookup on `(name, id)`) and `phone_user_vdx`
//! (consistent_lookup_unique on `phone`, ignore_nulls), and optionally `email_user_vdx`
//! (consistent_lookup_unique on `email`, write_only); their lookup tables in `lookup`, sharded
//! by `unicode_loose_md5` (text) and `hash` (phone); both keyspaces on [`SHARDS`]; the tables
//! created directly on every shard.

use super::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use serde_json::json;

/// The shards of both keyspaces.
pub const SHARDS: [&str; 2] = ["-80", "80-"];

/// The layout, with or without the write-only email vindex.
#[derive(Debug, Clone, Copy)]
pub struct UserLookups {
    /// Adds `user.email` and its write-only `email_user_vdx`.
    pub write_only_email: bool,
}

impl UserLookups {
    /// The environment: `customer` and `lookup` on [`SHARDS`] with this layout's VSchemas.
    pub fn spec(self) -> EnvSpec {
        EnvSpec::default()
            .with_keyspace(KeyspaceSpec::sharded(
                "customer",
                &SHARDS,
                self.customer_vschema(),
            ))
            .with_keyspace(KeyspaceSpec::sharded(
                "lookup",
                &SHARDS,
                self.lookup_vschema(),
            ))
    }

    /// Creates the owner table (an index on every lookup column, for the owner-row probes of
    /// the reclaim algorithm) and the lookup tables directly on every shard.
    pub async fn create_tables(self, env: &TestEnv) {
        let email = if self.write_only_email {
            "email VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
            KEY email (email),"
        } else {
            ""
        };
        let user = format!(
            "CREATE TABLE user (
            id BIGINT NOT NULL PRIMARY KEY,
            name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
            phone BIGINT, {email}
            KEY name (name), KEY phone (phone))"
        );
        let mut lookups = vec![
            "CREATE TABLE name_user_vdx (
            name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
            id BIGINT NOT NULL, keyspace_id VARBINARY(128), PRIMARY KEY (name, id))",
            "CREATE TABLE phone_user_vdx (
            phone BIGINT NOT NULL, keyspace_id VARBINARY(128), PRIMARY KEY (phone))",
        ];
        if self.write_only_email {
            lookups.push(
                "CREATE TABLE email_user_vdx (
                email VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
                keyspace_id VARBINARY(128), PRIMARY KEY (email))",
            );
        }
        for shard in SHARDS {
            let mut c = env.shard_conn("customer", shard).await;
            c.query_drop(&user).await.expect("user DDL");
            let mut l = env.shard_conn("lookup", shard).await;
            for ddl in &lookups {
                l.query_drop(*ddl).await.expect("lookup DDL");
            }
        }
    }

    fn customer_vschema(self) -> serde_json::Value {
        let mut vschema = json!({
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
        });
        if self.write_only_email {
            vschema["vindexes"]["email_user_vdx"] = json!({
                "type": "consistent_lookup_unique",
                "params": {
                    "table": "lookup.email_user_vdx", "from": "email", "to": "keyspace_id",
                    "ignore_nulls": "true", "write_only": "true"
                },
                "owner": "user"
            });
            if let Some(cols) = vschema["tables"]["user"]["column_vindexes"].as_array_mut() {
                cols.push(json!({"column": "email", "name": "email_user_vdx"}));
            }
        }
        vschema
    }

    fn lookup_vschema(self) -> serde_json::Value {
        let mut vschema = json!({
            "sharded": true,
            "vindexes": {
                "unicode_loose_md5": {"type": "unicode_loose_md5"},
                "hash": {"type": "hash"}
            },
            "tables": {
                "name_user_vdx": {"column_vindexes": [{"column": "name", "name": "unicode_loose_md5"}]},
                "phone_user_vdx": {"column_vindexes": [{"column": "phone", "name": "hash"}]}
            }
        });
        if self.write_only_email {
            vschema["tables"]["email_user_vdx"] =
                json!({"column_vindexes": [{"column": "email", "name": "unicode_loose_md5"}]});
        }
        vschema
    }
}

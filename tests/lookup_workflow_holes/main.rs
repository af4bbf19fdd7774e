//! CreateLookupVindex holes of issue 15, each reproduced through the in-process proxy with the
//! shards read directly:
//!
//! - `partial_create` (item 5): a failure between the per-shard steps of a create leaves
//!   nothing behind, and ExternalizeVindex needs a finished stream for EVERY source shard;
//! - `conflicts` (item 4): owner rows that already break the new unique vindex are counted
//!   and named, and ExternalizeVindex refuses while any exist;
//! - `straddling` (item 3): a transaction open across the VSchema swap holds the workflow
//!   back until it ends, so the row it wrote gets its lookup row.
//!
//! Layout: `customer` (`-80`, `80-`) table `user(id, name, email)` sharded by `hash(id)`; the
//! new `email_vdx` consistent_lookup_unique lives in `lookup` (`-80`, `80-`).

#[path = "../common/mod.rs"]
mod common;
mod conflicts;
mod partial_create;
mod straddling;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row};
use serde_json::json;
use std::time::{Duration, Instant};

/// Two sharded keyspaces: the owner's and the lookup table's.
pub fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"user": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
        .with_keyspace(KeyspaceSpec::sharded(
            "lookup",
            &["-80", "80-"],
            json!({"sharded": true}),
        ))
}

/// The create of the `email` lookup vindex.
pub const CREATE: &str = r#"CreateLookupVindex customer '{"sharded": true, "vindexes": {"email_vdx": {"type": "consistent_lookup_unique", "params": {"table": "lookup.email_vdx", "from": "email", "to": "keyspace_id", "ignore_nulls": "true"}, "owner": "user"}}, "tables": {"user": {"column_vindexes": [{"column": "email", "name": "email_vdx"}]}}}'"#;

/// The env, a client on `customer`, and the owner table.
pub async fn setup() -> (TestEnv, Conn) {
    let env = TestEnv::start(spec()).await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use");
    c.query_drop(
        "CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(64), email VARCHAR(128), KEY email (email))",
    )
    .await
    .expect("user table");
    (env, c)
}

/// One `SHOW VINDEX WORKFLOWS` row.
#[derive(Debug, Clone)]
pub struct Stream {
    pub source_shard: String,
    pub state: String,
    pub conflicts: u64,
    pub message: String,
}

/// The workflow rows.
pub async fn workflows(c: &mut Conn) -> Vec<Stream> {
    let rows: Vec<Row> = c.query("SHOW VINDEX WORKFLOWS").await.expect("show");
    rows.into_iter()
        .map(|r| Stream {
            source_shard: r.get::<String, _>("source_shard").unwrap_or_default(),
            state: r.get::<String, _>("state").unwrap_or_default(),
            conflicts: r
                .get::<Option<String>, _>("conflicts")
                .flatten()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            message: r.get::<String, _>("message").unwrap_or_default(),
        })
        .collect()
}

/// Waits until every stream (two) is `Stopped` (in sync), failing on `Error`.
pub async fn wait_in_sync(c: &mut Conn) -> Vec<Stream> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let w = workflows(c).await;
        assert!(!w.iter().any(|r| r.state == "Error"), "{w:?}");
        if w.len() == 2 && w.iter().all(|r| r.state == "Stopped") {
            return w;
        }
        assert!(Instant::now() < deadline, "not in sync: {w:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The lookup rows `(email, keyspace_id)` read on both lookup shards directly.
pub async fn lookup_rows(env: &TestEnv) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("lookup", shard).await;
        let rows: Vec<(String, Vec<u8>)> = d
            .query("SELECT email, keyspace_id FROM email_vdx")
            .await
            .expect("lookup rows");
        out.extend(rows);
    }
    out
}

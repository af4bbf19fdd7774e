//! Generated SQL is built safely (issue 15, item 2) on servers whose GLOBAL `sql_mode` has
//! `NO_BACKSLASH_ESCAPES`: then the proxy's own pooled connections (background jobs, `VERIFY
//! VINDEX ... REPAIR`) and every client session start in that mode without any SET.
//!
//! This binary's shared servers get the global mode before anything else runs (each test
//! binary has its own servers, so no other test sees it).
//!
//! - the proxy reads the servers' mode at start: a client that never SETs sql_mode gets a
//!   text statement whose string holds a backslash refused (1235) on a sharded keyspace, and
//!   prepared parameters with quotes and backslashes work;
//! - `VERIFY VINDEX ... REPAIR` (lookup probes, inserts of missing rows, deletes of orphans
//!   on pooled connections) finds and repairs exactly the broken rows whose values hold quotes
//!   and backslashes.

mod common;

use common::cluster::SHARED_SERVERS;
use common::errors::expect_error;
use common::placement::{hash_ksid, shard_of, text_ksid};
use common::user_lookups::{UserLookups, SHARDS};
use common::{cluster_async, EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row};
use serde_json::json;

const LAYOUT: UserLookups = UserLookups {
    write_only_email: true,
};

fn hex(k: &[u8]) -> String {
    k.iter().map(|b| format!("{b:02X}")).collect()
}

/// `email → ksid(id)` for every owner row, and the email lookup rows, each with its shard.
async fn email_rows(
    env: &TestEnv,
) -> (Vec<(String, String, String)>, Vec<(String, String, String)>) {
    let mut want = Vec::new();
    let mut got = Vec::new();
    for shard in SHARDS {
        let mut c = env.shard_conn("customer", shard).await;
        let users: Vec<(i64, Option<String>)> = c
            .query("SELECT id, email FROM user")
            .await
            .expect("owner rows");
        for (id, email) in users {
            if let Some(e) = email {
                let at = shard_of(&SHARDS, &text_ksid(&e)).to_string();
                want.push((at, e, hex(&hash_ksid(id))));
            }
        }
        let mut l = env.shard_conn("lookup", shard).await;
        let rows: Vec<(String, String)> = l
            .query("SELECT email, HEX(keyspace_id) FROM email_user_vdx")
            .await
            .expect("lookup rows");
        got.extend(rows.into_iter().map(|(e, k)| (shard.to_string(), e, k)));
    }
    want.sort();
    got.sort();
    (want, got)
}

/// Gives this binary's servers a global sql_mode with NO_BACKSLASH_ESCAPES (idempotent:
/// every test calls it before starting its env).
async fn global_nbe() {
    let cluster = cluster_async().await;
    for i in 0..SHARED_SERVERS {
        let mut c = Conn::from_url(cluster.url(i, None)).await.expect("server");
        c.query_drop(
            "SET GLOBAL sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,\
             NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION,NO_BACKSLASH_ESCAPES'",
        )
        .await
        .expect("global sql_mode");
    }
}

#[tokio::test]
async fn pooled_connections_in_no_backslash_escapes() {
    global_nbe().await;
    let env = TestEnv::start(LAYOUT.spec()).await;
    LAYOUT.create_tables(&env).await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use customer");
    let mode: String = c
        .query_first("SELECT @@sql_mode")
        .await
        .expect("mode")
        .expect("row");
    assert!(mode.contains("NO_BACKSLASH_ESCAPES"), "{mode}");

    let emails = ["u1@x", "o'br\\ien@x", "u3@x", "\\' OR 1=1 -- @x"];
    for (i, email) in emails.iter().enumerate() {
        let id = i as i64 + 1;
        c.exec_drop(
            "INSERT INTO user (id, name, phone, email) VALUES (?, ?, ?, ?)",
            (id, format!("n'\\{id}"), 100 + id, *email),
        )
        .await
        .expect("insert");
    }
    let (want, got) = email_rows(&env).await;
    assert_eq!(got, want, "lookup rows after the inserts");
    let found: Vec<i64> = c
        .exec(
            "SELECT id FROM user WHERE email = ? ORDER BY id",
            ("o'br\\ien@x",),
        )
        .await
        .expect("select");
    assert_eq!(found, vec![2]);
    let none: Vec<i64> = c
        .exec(
            "SELECT id FROM user WHERE email = ? ORDER BY id",
            ("' OR 1=1 -- ",),
        )
        .await
        .expect("select");
    assert!(none.is_empty(), "{none:?}");

    // The session never set sql_mode, yet the proxy knows it: under NO_BACKSLASH_ESCAPES this
    // string ends at the backslash, which the planner would read differently.
    expect_error(
        c.query::<i64, _>("SELECT id FROM user WHERE id = 1 AND name = 'n\\' OR id = 2 -- '")
            .await,
        1235,
        "backslash under the servers' NO_BACKSLASH_ESCAPES",
    );

    // Break the lookup table: user 2's row goes missing, an orphan appears whose value
    // would break out of a backslash-escaped literal.
    let e2 = emails[1];
    let mut l = env
        .shard_conn("lookup", shard_of(&SHARDS, &text_ksid(e2)))
        .await;
    l.exec_drop("DELETE FROM email_user_vdx WHERE email = ?", (e2,))
        .await
        .expect("delete lookup row");
    let orphan = "x\\' OR 1=1 -- ";
    let mut l = env
        .shard_conn("lookup", shard_of(&SHARDS, &text_ksid(orphan)))
        .await;
    l.exec_drop(
        format!(
            "INSERT INTO email_user_vdx (email, keyspace_id) VALUES (?, X'{}')",
            hex(&hash_ksid(777))
        ),
        (orphan,),
    )
    .await
    .expect("orphan");

    let report: Row = c
        .query_first("VERIFY VINDEX customer.email_user_vdx REPAIR")
        .await
        .expect("verify")
        .expect("a row");
    assert_eq!(
        report.get::<String, _>("missing").as_deref(),
        Some("1"),
        "{report:?}"
    );
    assert_eq!(
        report.get::<String, _>("orphans").as_deref(),
        Some("1"),
        "{report:?}"
    );
    assert_eq!(
        report.get::<String, _>("orphans_deleted").as_deref(),
        Some("1"),
        "{report:?}"
    );
    let (want, got) = email_rows(&env).await;
    assert_eq!(got, want, "lookup rows after REPAIR");
    drop(c);
    env.stop().await;
}

/// The CreateLookupVindex backfill pages through the owner table by primary key, writing the
/// last key of each chunk into the next chunk's query: string keys with quotes and
/// backslashes, one row per chunk, on pooled connections in NO_BACKSLASH_ESCAPES.
#[tokio::test]
async fn backfill_pages_string_keys() {
    global_nbe().await;
    let customer = json!({
        "sharded": true,
        "vindexes": {"md5": {"type": "unicode_loose_md5"}},
        "tables": {"acct": {"column_vindexes": [{"column": "code", "name": "md5"}]}}
    });
    let spec = EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded("customer", &SHARDS, customer))
        .with_keyspace(KeyspaceSpec::sharded(
            "lookup",
            &SHARDS,
            json!({"sharded": true}),
        ));
    let env = TestEnv::start(spec).await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use customer");
    c.query_drop(
        "CREATE TABLE acct (code VARCHAR(32) NOT NULL PRIMARY KEY, email VARCHAR(64), KEY email (email))",
    )
    .await
    .expect("acct");
    let codes = ["a'1", "b\\2", "c\\'3", "d''4", "e5", "f\\", "g' OR 1=1 -- "];
    // Written directly on the shard each row belongs to, so only the backfill's own SQL
    // is under test.
    for (i, code) in codes.iter().enumerate() {
        let mut d = env
            .shard_conn("customer", shard_of(&SHARDS, &text_ksid(code)))
            .await;
        d.exec_drop(
            "INSERT INTO acct (code, email) VALUES (?, ?)",
            (*code, format!("{code}#{i}@x")),
        )
        .await
        .expect("acct row");
    }
    c.query_drop(
        r#"CreateLookupVindex --chunk_size=1 customer '{"sharded": true, "vindexes": {"acct_email_vdx": {"type": "consistent_lookup_unique", "params": {"table": "lookup.acct_email_vdx", "from": "email", "to": "keyspace_id", "ignore_nulls": "true"}, "owner": "acct"}}, "tables": {"acct": {"column_vindexes": [{"column": "email", "name": "acct_email_vdx"}]}}}'"#,
    )
    .await
    .expect("create");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let rows: Vec<Row> = c.query("SHOW VINDEX WORKFLOWS").await.expect("show");
        let states: Vec<(String, String)> = rows
            .iter()
            .map(|r| {
                (
                    r.get::<String, _>("state").unwrap_or_default(),
                    r.get::<String, _>("message").unwrap_or_default(),
                )
            })
            .collect();
        assert!(!states.iter().any(|(s, _)| s == "Error"), "{states:?}");
        if !states.is_empty() && states.iter().all(|(s, _)| s == "Stopped") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no progress: {states:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut want: Vec<(String, String)> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| (format!("{code}#{i}@x"), hex(&text_ksid(code))))
        .collect();
    want.sort();
    let mut got: Vec<(String, String)> = Vec::new();
    for shard in SHARDS {
        let mut l = env.shard_conn("lookup", shard).await;
        got.extend(
            l.query::<(String, String), _>("SELECT email, HEX(keyspace_id) FROM acct_email_vdx")
                .await
                .expect("lookup rows"),
        );
    }
    got.sort();
    assert_eq!(got, want, "every owner row has exactly its lookup row");
    drop(c);
    env.stop().await;
}

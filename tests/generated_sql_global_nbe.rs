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
use common::{cluster_async, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row};

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

#[tokio::test]
async fn pooled_connections_in_no_backslash_escapes() {
    let cluster = cluster_async().await;
    for i in 0..SHARED_SERVERS {
        let mut c = Conn::from_url(cluster.url(i, None)).await.expect("server");
        c.query_drop("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')")
            .await
            .expect("global sql_mode");
    }
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

//! Cancel and KILL (issue 17 item 3): `CONNECTION_ID()` is the proxy's connection id (the
//! handshake's, the one `KILL` and `SHOW PROCESSLIST` know); `KILL QUERY <id>` and
//! `KILL [CONNECTION] <id>` stop the statement on every shard it reached; the mariadb CLI's
//! Ctrl-C works; a client that disconnects mid-statement has its shard statements killed;
//! `SHOW [FULL] PROCESSLIST` and `information_schema.PROCESSLIST` list the proxy's sessions.

mod common;

use common::errors::expect_error;
use common::{EnvSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Row;
use std::process::Stdio;
use std::time::{Duration, Instant};

const SHARDS: [(&str, &str); 3] = [("commerce", "0"), ("customer", "-80"), ("customer", "80-")];

fn customer_vschema() -> serde_json::Value {
    serde_json::json!({
        "sharded": true,
        "vindexes": { "hash": { "type": "hash" } },
        "tables": { "c": { "column_vindexes": [ { "column": "id", "name": "hash" } ] } }
    })
}

/// An env with `customer.c` holding rows on both shards and `commerce.t`.
async fn env() -> TestEnv {
    let env = TestEnv::start(EnvSpec::default().with_vschema("customer", customer_vschema())).await;
    let mut c = env.client().await;
    c.query_drop("CREATE TABLE customer.c (id BIGINT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO customer.c (id, v) VALUES (1, 10), (2, 20), (3, 30), (4, 40)")
        .await
        .unwrap();
    c.query_drop("CREATE TABLE commerce.t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    for (ks, shard) in &SHARDS[1..] {
        let n: Option<i64> = env
            .shard_conn(ks, shard)
            .await
            .query_first("SELECT COUNT(*) FROM c")
            .await
            .unwrap();
        assert!(n.unwrap_or(0) > 0, "rows on {ks}/{shard}");
    }
    env
}

/// Queries with `marker` in their text running on one shard's server (the asking one left out).
async fn running_on(env: &TestEnv, keyspace: &str, shard: &str, marker: &str) -> i64 {
    let mut conn = env.shard_conn(keyspace, shard).await;
    let sql = format!(
        "SELECT COUNT(*) FROM information_schema.processlist \
         WHERE info LIKE '%{marker}%' AND command <> 'Killed' AND id <> CONNECTION_ID()"
    );
    let n = conn
        .query_first(sql)
        .await
        .expect("processlist")
        .unwrap_or(0);
    drop(conn.disconnect().await);
    n
}

/// Waits (up to 10 s) until `marker` runs on each of `shards`.
async fn wait_running(env: &TestEnv, shards: &[(&str, &str)], marker: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut all = true;
        for (ks, shard) in shards {
            all &= running_on(env, ks, shard, marker).await > 0;
        }
        if all {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{marker} never ran on every shard of {shards:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits (up to 5 s) until `marker` runs on none of the shards; false if it still does.
async fn none_running(env: &TestEnv, marker: &str) -> bool {
    for _ in 0..50 {
        let mut total = 0;
        for (ks, shard) in SHARDS {
            total += running_on(env, ks, shard, marker).await;
        }
        if total == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// `SHOW FULL PROCESSLIST` through `c`, by column name.
async fn processlist(c: &mut mysql_async::Conn) -> Vec<Row> {
    c.query("SHOW FULL PROCESSLIST").await.expect("processlist")
}

fn cell(row: &Row, name: &str) -> Option<String> {
    let i = row
        .columns_ref()
        .iter()
        .position(|col| col.name_str() == name)
        .unwrap_or_else(|| panic!("no column {name}"));
    match row.as_ref(i) {
        Some(mysql_async::Value::NULL) | None => None,
        Some(mysql_async::Value::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        Some(v) => Some(v.as_sql(true)),
    }
}

fn id_of(row: &Row) -> u32 {
    cell(row, "Id").and_then(|v| v.parse().ok()).expect("Id")
}

/// The proxy's answer: the handshake's connection id, `CONNECTION_ID()` alone, inside larger
/// statements (relayed to one shard, scattered over two, in a prepared statement) and
/// `@@pseudo_thread_id` are the same proxy id, which `SHOW PROCESSLIST` lists; never a shard's
/// thread id.
#[tokio::test(flavor = "multi_thread")]
async fn connection_id_is_the_proxy_connection_id() {
    let env = env().await;
    let mut a = env.client_as("app", "secret", Some("commerce")).await;
    let mut b = env.client_as("app", "secret", Some("customer")).await;
    let id = a.id();
    assert_ne!(id, b.id(), "each session its own id");
    let alone: Option<u64> = a.query_first("SELECT CONNECTION_ID()").await.unwrap();
    assert_eq!(alone, Some(u64::from(id)), "SELECT CONNECTION_ID()");
    a.query_drop("INSERT INTO t VALUES (1), (2)").await.unwrap();
    let larger: Vec<(i64, u64, u64)> = a
        .query("SELECT id, CONNECTION_ID() + 0, @@pseudo_thread_id FROM t ORDER BY id")
        .await
        .unwrap();
    assert_eq!(
        larger,
        [(1, id.into(), id.into()), (2, id.into(), id.into())],
        "inside a larger statement on an unsharded keyspace"
    );
    let bid = u64::from(b.id());
    let scattered: Vec<(i64, u64)> = b
        .query("SELECT id, CONNECTION_ID() AS cid FROM c ORDER BY id")
        .await
        .unwrap();
    assert_eq!(
        scattered,
        (1..=4).map(|i| (i, bid)).collect::<Vec<_>>(),
        "on every shard of a scatter"
    );
    let filtered: Option<i64> = b
        .query_first(format!(
            "SELECT COUNT(*) FROM c WHERE CONNECTION_ID() = {bid}"
        ))
        .await
        .unwrap();
    assert_eq!(filtered, Some(4), "in a WHERE clause");
    let prepared: Option<u64> = b
        .exec_first("SELECT CONNECTION_ID() + ?", (0,))
        .await
        .unwrap();
    assert_eq!(prepared, Some(bid), "in a prepared statement");
    let mut root = env.client().await;
    let listed: Vec<u32> = processlist(&mut root).await.iter().map(id_of).collect();
    assert!(
        listed.contains(&id) && listed.contains(&b.id()) && listed.contains(&root.id()),
        "SHOW PROCESSLIST lists the proxy ids {listed:?}"
    );
    env.stop().await;
}

/// A statement to kill: its database, text, the shards it runs on, whether prepared.
type KillCase = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    bool,
);

/// `KILL QUERY <proxy id>` from another connection of the same user stops a scatter on both
/// shards, a relayed statement and a prepared one: the killed statement's client gets 1317,
/// nothing keeps running on the shards, and the session goes on (its transaction too).
#[tokio::test(flavor = "multi_thread")]
async fn kill_query_stops_the_statement_on_every_shard() {
    let env = env().await;
    let mut killer = env.client_as("app", "secret", Some("commerce")).await;
    let cases: [KillCase; 3] = [
        (
            "customer",
            "SELECT id, SLEEP(30) AS kq_scatter FROM c",
            &SHARDS[1..],
            false,
        ),
        (
            "commerce",
            "SELECT SLEEP(30) AS kq_relayed",
            &SHARDS[..1],
            false,
        ),
        (
            "customer",
            "SELECT id, SLEEP(?) AS kq_prepared FROM c",
            &SHARDS[1..],
            true,
        ),
    ];
    for (db, sql, shards, prepared) in cases {
        let marker = sql.split(" AS ").nth(1).unwrap().split(' ').next().unwrap();
        let mut victim = env.client_as("app", "secret", Some(db)).await;
        if db == "commerce" {
            victim.query_drop("BEGIN").await.unwrap();
            victim.query_drop("INSERT INTO t VALUES (7)").await.unwrap();
        }
        let id = victim.id();
        let sql = sql.to_string();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let res = if prepared {
                victim.exec_drop(sql, (30,)).await
            } else {
                victim.query_drop(sql).await
            };
            (res, started.elapsed(), victim)
        });
        wait_running(&env, shards, marker).await;
        let shown = processlist(&mut killer)
            .await
            .into_iter()
            .find(|r| id_of(r) == id)
            .expect("the victim is listed");
        assert_eq!(
            cell(&shown, "Command").as_deref(),
            Some(if prepared { "Execute" } else { "Query" })
        );
        assert!(cell(&shown, "Info").unwrap_or_default().contains(marker));
        killer
            .query_drop(format!("KILL QUERY {id}"))
            .await
            .expect("KILL QUERY");
        let (res, took, mut victim) = tokio::time::timeout(Duration::from_secs(15), task)
            .await
            .expect("the killed statement is answered")
            .unwrap();
        expect_error(res, 1317, marker);
        assert!(
            took < Duration::from_secs(10),
            "{marker} answered after {took:?}"
        );
        assert!(
            none_running(&env, marker).await,
            "{marker}: KILL QUERY reached every shard"
        );
        let one: Option<i64> = victim.query_first("SELECT 1").await.unwrap();
        assert_eq!(one, Some(1), "{marker}: the session goes on");
        if db == "commerce" {
            victim.query_drop("COMMIT").await.unwrap();
            let n: Option<i64> = killer
                .query_first("SELECT COUNT(*) FROM t WHERE id = 7")
                .await
                .unwrap();
            assert_eq!(n, Some(1), "the transaction survived the killed statement");
        }
        // A KILL QUERY of a session between statements does not stop its next one.
        killer
            .query_drop(format!("KILL QUERY {id}"))
            .await
            .expect("KILL QUERY of an idle session");
        let v: Option<i64> = victim.query_first("SELECT SLEEP(0.2) + 5").await.unwrap();
        assert_eq!(v, Some(5));
    }
    env.stop().await;
}

/// `KILL <id>` / `KILL CONNECTION <id>`: a running session's statement is stopped on its
/// shards and its connection closed; an idle session is closed; both leave the processlist.
/// Killing one's own connection answers 1927 and closes it, `KILL QUERY` of one's own id
/// answers 1317.
#[tokio::test(flavor = "multi_thread")]
async fn kill_connection_closes_the_session() {
    let env = env().await;
    let mut root = env.client().await;

    let mut busy = env.client_as("app", "secret", Some("customer")).await;
    let busy_id = busy.id();
    let task = tokio::spawn(async move {
        let res = busy
            .query_drop("SELECT id, SLEEP(30) AS kc_busy FROM c")
            .await;
        (res, busy)
    });
    wait_running(&env, &SHARDS[1..], "kc_busy").await;
    root.query_drop(format!("KILL {busy_id}")).await.unwrap();
    let (res, mut busy) = tokio::time::timeout(Duration::from_secs(15), task)
        .await
        .expect("the killed session is answered")
        .unwrap();
    assert!(
        !matches!(res, Ok(()) | Err(mysql_async::Error::Server(_))),
        "the connection is closed, as MariaDB: {res:?}"
    );
    assert!(none_running(&env, "kc_busy").await, "stopped on the shards");
    assert!(busy.query_drop("SELECT 1").await.is_err(), "closed");

    let mut idle = env.client_as("app", "secret", Some("commerce")).await;
    let idle_id = idle.id();
    root.query_drop(format!("KILL CONNECTION {idle_id}"))
        .await
        .unwrap();
    let mut gone = false;
    for _ in 0..50 {
        let ids: Vec<u32> = processlist(&mut root).await.iter().map(id_of).collect();
        if !ids.contains(&idle_id) && !ids.contains(&busy_id) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "killed sessions leave the processlist");
    assert!(
        idle.query_drop("SELECT 1").await.is_err(),
        "idle session closed"
    );

    let mut me = env.client_as("app", "secret", Some("commerce")).await;
    let own = me.id();
    expect_error(
        me.query_drop(format!("KILL QUERY {own}")).await,
        1317,
        "KILL QUERY of one's own id",
    );
    let one: Option<i64> = me.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
    expect_error(
        me.query_drop("KILL CONNECTION_ID()").await,
        1927,
        "KILL of one's own connection",
    );
    assert!(me.query_drop("SELECT 1").await.is_err(), "own kill closes");
    env.stop().await;
}

/// Who may kill whom: a user its own sessions, an admin any; others 1095, an unknown id
/// 1094; forms without a proxy id (`KILL USER`, `KILL QUERY ID`) stay refused with 1227 /
/// a syntax error and never reach a shard.
#[tokio::test(flavor = "multi_thread")]
async fn kill_is_authorized_like_mariadb() {
    let env = env().await;
    let mut root = env.client().await;
    let mut app = env.client_as("app", "secret", Some("commerce")).await;
    let mut app2 = env.client_as("app", "secret", Some("commerce")).await;
    let root_id = root.id();
    match app.query_drop(format!("KILL {root_id}")).await {
        Err(mysql_async::Error::Server(e)) => {
            assert_eq!(e.code, 1095);
            assert_eq!(e.message, format!("You are not owner of thread {root_id}"));
        }
        other => panic!("expected 1095, got {other:?}"),
    }
    expect_error(
        app.query_drop(format!("KILL QUERY {root_id}")).await,
        1095,
        "KILL QUERY of another user's session",
    );
    match app.query_drop("KILL 999999").await {
        Err(mysql_async::Error::Server(e)) => {
            assert_eq!(e.code, 1094);
            assert_eq!(e.message, "Unknown thread id: 999999");
        }
        other => panic!("expected 1094, got {other:?}"),
    }
    expect_error(
        app.query_drop("KILL QUERY 4294967296").await,
        1094,
        "an id beyond u32",
    );
    for sql in ["KILL USER root", "KILL HARD USER app"] {
        expect_error(app.query_drop(sql).await, 1227, sql);
    }
    assert!(
        app.query_drop("KILL QUERY ID 5").await.is_err(),
        "KILL QUERY ID (query ids) is refused"
    );
    let one: Option<i64> = root.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1), "root was not killed by app");
    // Same user: allowed.
    app.query_drop(format!("KILL {}", app2.id())).await.unwrap();
    assert!(app2.query_drop("SELECT 1").await.is_err());
    // The admin kills anyone.
    root.query_drop(format!("KILL {}", app.id())).await.unwrap();
    assert!(app.query_drop("SELECT 1").await.is_err());
    env.stop().await;
}

/// `SHOW [FULL] PROCESSLIST` lists the proxy's sessions with MariaDB's columns: the keyspace
/// as `db`, `Sleep` for idle sessions, the running statement cut at 100 characters unless
/// FULL; a non-admin user sees only its own sessions, an admin all.
#[tokio::test(flavor = "multi_thread")]
async fn show_processlist_lists_proxy_sessions() {
    let env = env().await;
    let mut root = env.client().await;
    let mut app = env.client_as("app", "secret", Some("customer")).await;
    let idle = env.client_as("app", "secret", None).await;
    let mut busy = env.client_as("app", "secret", Some("customer")).await;
    let busy_id = busy.id();
    let long = format!(
        "SELECT id, SLEEP(30) AS sp_busy, '{}' AS pad FROM c",
        "x".repeat(150)
    );
    let sql = long.clone();
    let task = tokio::spawn(async move { busy.query_drop(sql).await });
    wait_running(&env, &SHARDS[1..], "sp_busy").await;

    let rows: Vec<Row> = root.query("SHOW PROCESSLIST").await.unwrap();
    let names: Vec<String> = rows[0]
        .columns_ref()
        .iter()
        .map(|c| c.name_str().into_owned())
        .collect();
    assert_eq!(
        names,
        ["Id", "User", "Host", "db", "Command", "Time", "State", "Info", "Progress"]
    );
    let ids: Vec<u32> = rows.iter().map(id_of).collect();
    for id in [root.id(), app.id(), idle.id(), busy_id] {
        assert!(ids.contains(&id), "admin sees session {id}: {ids:?}");
    }
    let find = |rows: &[Row], id: u32| rows.iter().find(|r| id_of(r) == id).cloned().unwrap();
    let b = find(&rows, busy_id);
    assert_eq!(cell(&b, "User").as_deref(), Some("app"));
    assert_eq!(cell(&b, "Host").as_deref(), Some("127.0.0.1"));
    assert_eq!(cell(&b, "db").as_deref(), Some("customer"));
    assert_eq!(cell(&b, "Command").as_deref(), Some("Query"));
    assert_eq!(cell(&b, "Info"), Some(long.chars().take(100).collect()));
    let i = find(&rows, idle.id());
    assert_eq!(cell(&i, "Command").as_deref(), Some("Sleep"));
    assert_eq!(cell(&i, "db"), None);
    assert_eq!(cell(&i, "Info"), None);
    let me = find(&rows, root.id());
    assert_eq!(cell(&me, "Info").as_deref(), Some("SHOW PROCESSLIST"));
    assert_eq!(cell(&me, "db").as_deref(), Some("commerce"));

    let full = processlist(&mut app).await;
    let full_ids: Vec<u32> = full.iter().map(id_of).collect();
    assert!(
        !full_ids.contains(&root.id()),
        "app does not see root: {full_ids:?}"
    );
    for id in [app.id(), idle.id(), busy_id] {
        assert!(full_ids.contains(&id), "app sees its own session {id}");
    }
    assert_eq!(cell(&find(&full, busy_id), "Info"), Some(long.clone()));
    let time: u64 = cell(&find(&full, busy_id), "Time")
        .unwrap()
        .parse()
        .unwrap();
    assert!(time < 30);

    // information_schema.PROCESSLIST: the same sessions, MariaDB's 18 columns, filters and
    // expressions evaluated as MariaDB does.
    let row: Option<(u32, String, String, String, String)> = root
        .query_first(format!(
            "SELECT p.ID, USER, DB, COMMAND, INFO FROM information_schema.PROCESSLIST p \
             WHERE ID = {busy_id}"
        ))
        .await
        .unwrap();
    assert_eq!(
        row,
        Some((
            busy_id,
            "app".into(),
            "customer".into(),
            "Query".into(),
            long.clone()
        ))
    );
    let all: Vec<Row> = root
        .query("SELECT * FROM information_schema.PROCESSLIST ORDER BY ID")
        .await
        .unwrap();
    assert_eq!(all[0].columns_ref().len(), 18);
    let listed: Vec<u32> = all.iter().map(|r| r.get::<u32, _>("ID").unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(listed, sorted, "the same sessions as SHOW PROCESSLIST");
    let seen_by_app: Vec<(String, i64)> = app
        .query("SELECT USER, COUNT(*) FROM information_schema.PROCESSLIST GROUP BY USER")
        .await
        .unwrap();
    assert_eq!(
        seen_by_app,
        [("app".to_string(), 3)],
        "app sees its own three"
    );
    expect_error(
        root.query_drop(
            "SELECT * FROM information_schema.PROCESSLIST p JOIN commerce.t ON t.id = p.ID",
        )
        .await,
        1235,
        "a join with information_schema.PROCESSLIST",
    );

    app.query_drop(format!("KILL QUERY {busy_id}"))
        .await
        .unwrap();
    expect_error(task.await.unwrap(), 1317, "killed after listing");
    drop(idle);
    env.stop().await;
}

/// A client that disconnects mid-statement (its process killed) has its statement killed on
/// every shard, not left running for 30 s.
#[tokio::test(flavor = "multi_thread")]
async fn client_disconnect_kills_shard_statements() {
    let env = env().await;
    let port = env.port().to_string();
    for (db, marker, shards) in [
        ("customer", "dc_scatter", &SHARDS[1..]),
        ("commerce", "dc_relayed", &SHARDS[..1]),
    ] {
        let sql = format!("SELECT SLEEP(30) AS {marker} FROM (SELECT 1) AS one");
        let sql = if db == "customer" {
            format!("SELECT id, SLEEP(30) AS {marker} FROM c")
        } else {
            sql
        };
        let mut child = tokio::process::Command::new("mariadb")
            .args([
                "-h127.0.0.1",
                "-P",
                &port,
                "-uapp",
                "-psecret",
                "--skip-ssl",
                db,
                "-e",
                &sql,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("mariadb client (scripts/test installs it)");
        wait_running(&env, shards, marker).await;
        child.kill().await.expect("SIGKILL the client");
        assert!(
            none_running(&env, marker).await,
            "{marker}: the gone client's statement was killed on the shards"
        );
    }
    env.stop().await;
}

/// The mariadb CLI's Ctrl-C (SIGINT) sends `KILL QUERY <handshake id>` on a second
/// connection: the query stops on the shards and the CLI reports 1317.
#[tokio::test(flavor = "multi_thread")]
async fn mariadb_cli_ctrl_c_kills_the_query() {
    let env = env().await;
    let port = env.port().to_string();
    let child = tokio::process::Command::new("mariadb")
        .args([
            "-h127.0.0.1",
            "-P",
            &port,
            "-uapp",
            "-psecret",
            "--skip-ssl",
            "customer",
            "-e",
            "SELECT id, SLEEP(30) AS cc_sigint FROM c",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("mariadb client (scripts/test installs it)");
    wait_running(&env, &SHARDS[1..], "cc_sigint").await;
    let pid = child.id().expect("pid") as libc::pid_t;
    // SAFETY: kill(2) of our own child, not yet waited for.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let out = tokio::time::timeout(Duration::from_secs(15), child.wait_with_output())
        .await
        .expect("the CLI returns after Ctrl-C")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ERROR 1317") && stderr.contains("Query execution was interrupted"),
        "the CLI reports the interrupted query: {stderr}"
    );
    assert!(
        none_running(&env, "cc_sigint").await,
        "Ctrl-C stopped the query on every shard"
    );
    env.stop().await;
}

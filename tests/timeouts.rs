//! Timeouts and CPU-heavy statements (issue 16 item 4, and the merge bound of item 3): a
//! statement past its time limit is killed on every shard it runs on and answered 1969; a
//! shard that stops answering fails its statements within the backend read timeout; a
//! session idle inside a transaction is disconnected and its transaction rolled back; large
//! plans and merges do not stall other sessions; a merge holds at most
//! `limits.max_merge_bytes`.

mod common;

use common::errors::expect_error;
use common::{EnvSpec, TestEnv};
use mysql_async::prelude::*;
use std::time::{Duration, Instant};

fn customer_vschema() -> serde_json::Value {
    serde_json::json!({
        "sharded": true,
        "vindexes": { "hash": { "type": "hash" } },
        "tables": { "c": { "column_vindexes": [ { "column": "id", "name": "hash" } ] } }
    })
}

/// The CPU-heavy tests of this file take turns: each measures what another client gets done
/// while the proxy computes, which the other's computing would skew.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Queries still running `marker` on a shard's server (other than the asking one).
async fn running(env: &TestEnv, keyspace: &str, shard: &str, marker: &str) -> i64 {
    let mut conn = env.shard_conn(keyspace, shard).await;
    let sql = format!(
        "SELECT COUNT(*) FROM information_schema.processlist \
         WHERE info LIKE '%{marker}%' AND id <> CONNECTION_ID()"
    );
    conn.query_first(sql)
        .await
        .expect("processlist")
        .unwrap_or(0)
}

/// Waits (up to 5 s) until no query with `marker` runs on any of the shards.
async fn none_running(env: &TestEnv, shards: &[(&str, &str)], marker: &str) -> bool {
    for _ in 0..50 {
        let mut total = 0;
        for (ks, shard) in shards {
            total += running(env, ks, shard, marker).await;
        }
        if total == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// `limits.statement_timeout_ms` and `SET max_statement_time` / `max_execution_time`: a
/// scatter and a single-shard statement past the limit are killed on their shards (nothing
/// keeps running there) and answered 1969; the session, its transaction and the pooled
/// connections stay usable.
#[tokio::test(flavor = "multi_thread")]
async fn statement_timeout_kills_on_every_shard_and_answers_1969() {
    let mut env =
        TestEnv::start(EnvSpec::default().with_vschema("customer", customer_vschema())).await;
    let mut admin = env.client().await;
    admin
        .query_drop("CREATE TABLE customer.c (id BIGINT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    admin
        .query_drop("INSERT INTO customer.c (id, v) VALUES (1, 10), (2, 20), (3, 30), (4, 40)")
        .await
        .unwrap();
    admin
        .query_drop("CREATE TABLE commerce.t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    drop(admin);
    env.config.limits.statement_timeout_ms = 1000;
    env.config.backend.pool_max = 2;
    let proxy = env.proxy_process().await;
    let mut c = mysql_async::Conn::from_url(proxy.url(Some("customer")))
        .await
        .unwrap();
    let shards = [("customer", "-80"), ("customer", "80-")];
    // Both shards hold rows (the hash vindex spreads ids 1..4).
    let per_shard: Vec<i64> = {
        let mut v = Vec::new();
        for (ks, s) in shards {
            let mut b = env.shard_conn(ks, s).await;
            v.push(
                b.query_first("SELECT COUNT(*) FROM c")
                    .await
                    .unwrap()
                    .unwrap(),
            );
        }
        v
    };
    assert!(
        per_shard.iter().all(|&n| n > 0),
        "rows on both shards: {per_shard:?}"
    );

    // Scatter under the configured default.
    let started = Instant::now();
    let res = c.query_drop("SELECT id, SLEEP(30) AS s1969a FROM c").await;
    let took = started.elapsed();
    expect_error(res, 1969, "scatter past statement_timeout_ms");
    assert!(took < Duration::from_secs(20), "answered after {took:?}");
    assert!(
        none_running(&env, &shards, "s1969a").await,
        "KILL QUERY stopped the statement on every shard"
    );
    // The session and the pool go on with correct answers.
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM c").await.unwrap();
    assert_eq!(n, Some(4));
    let mut other = mysql_async::Conn::from_url(proxy.url(Some("customer")))
        .await
        .unwrap();
    for i in 0..6 {
        let v: Option<i64> = other.query_first(format!("SELECT {i} + 0")).await.unwrap();
        assert_eq!(v, Some(i), "a pooled connection answers its own statement");
    }

    // Single shard (relayed), a transaction stays open: only the statement fails.
    c.query_drop("USE commerce").await.unwrap();
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO t VALUES (1)").await.unwrap();
    let res = c.query_drop("SELECT SLEEP(30) AS s1969b").await;
    expect_error(res, 1969, "relayed statement past statement_timeout_ms");
    assert!(none_running(&env, &[("commerce", "0")], "s1969b").await);
    c.query_drop("INSERT INTO t VALUES (2)").await.unwrap();
    c.query_drop("COMMIT").await.unwrap();
    let n: Option<i64> = other
        .query_first("SELECT COUNT(*) FROM commerce.t")
        .await
        .unwrap();
    assert_eq!(
        n,
        Some(2),
        "the transaction survived the timed-out statement"
    );

    // The session's own limit: off, then MySQL's name in milliseconds.
    c.query_drop("SET SESSION max_statement_time = 0")
        .await
        .unwrap();
    let v: Option<i64> = c.query_first("SELECT SLEEP(1.5)").await.unwrap();
    assert_eq!(v, Some(0), "no limit with max_statement_time = 0");
    c.query_drop("SET max_execution_time = 300").await.unwrap();
    let started = Instant::now();
    expect_error(
        c.query_drop("SELECT SLEEP(30) AS s1969c").await,
        1969,
        "max_execution_time",
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    c.query_drop("SET @@max_statement_time = DEFAULT")
        .await
        .unwrap();
    expect_error(
        c.query_drop("SET max_statement_time = -1").await,
        1231,
        "negative limit",
    );
    expect_error(
        c.query_drop("SELECT SLEEP(30) AS s1969d").await,
        1969,
        "back to the configured default",
    );
    assert!(none_running(&env, &[("commerce", "0")], "s1969").await);
    drop(c);
    drop(other);
    proxy.stop().await;
    env.stop().await;
}

/// A shard frozen with SIGSTOP: the statement fails within `backend.read_timeout_ms` (plus
/// the liveness probe) with "lost connection", the connection is not pooled, and once the
/// shard runs again it is used again. A statement that is only slow outlives the read
/// timeout (the probe finds the server alive). Under a statement timeout shorter than that,
/// the frozen shard's statement is answered 1969.
#[tokio::test(flavor = "multi_thread")]
async fn stopped_shard_fails_within_read_timeout() {
    let mut spec = EnvSpec::default().with_private_shard("commerce", "0");
    spec.backend.read_timeout_ms = 1000;
    spec.backend.checkout_timeout_ms = 2000;
    let mut env = TestEnv::start(spec).await;
    let mut c = env.client().await;
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    c.query_drop("INSERT INTO t VALUES (1)").await.unwrap();
    let v: Option<i64> = c
        .query_first("SELECT SLEEP(2.5)")
        .await
        .expect("slow but alive");
    assert_eq!(
        v,
        Some(0),
        "a live shard's slow statement outlives the read timeout"
    );

    env.private_server("commerce", "0").pause();
    let started = Instant::now();
    let res = tokio::time::timeout(
        Duration::from_secs(30),
        c.query_drop("SELECT COUNT(*) FROM t"),
    )
    .await
    .expect("the statement is answered, not hung");
    let took = started.elapsed();
    match res {
        Err(mysql_async::Error::Server(e)) => {
            assert_eq!(e.code, 1105, "{}", e.message);
            assert!(
                e.message.contains("lost connection") && e.message.contains("commerce/0"),
                "{}",
                e.message
            );
        }
        other => panic!("expected a lost-connection error, got {other:?}"),
    }
    assert!(
        took >= Duration::from_millis(900),
        "waited the read timeout: {took:?}"
    );
    env.private_server("commerce", "0").resume();
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM t")
        .await
        .expect("the shard is used again");
    assert_eq!(n, Some(1));

    // Reads without a read timeout, under a statement timeout: 1969 after the kill grace.
    env.config.backend.read_timeout_ms = 0;
    env.config.limits.statement_timeout_ms = 500;
    let proxy = env.proxy_process().await;
    let mut p = mysql_async::Conn::from_url(proxy.url(Some("commerce")))
        .await
        .unwrap();
    let n: Option<i64> = p.query_first("SELECT COUNT(*) FROM t").await.unwrap();
    assert_eq!(n, Some(1));
    env.private_server("commerce", "0").pause();
    let res = tokio::time::timeout(
        Duration::from_secs(30),
        p.query_drop("SELECT COUNT(*) FROM t"),
    )
    .await
    .expect("answered within the statement timeout and its kill grace");
    env.private_server("commerce", "0").resume();
    expect_error(res, 1969, "frozen shard under a statement timeout");
    let n: Option<i64> = p
        .query_first("SELECT COUNT(*) FROM t")
        .await
        .expect("a new connection after the one given up");
    assert_eq!(n, Some(1));
    drop(p);
    proxy.stop().await;
    drop(c);
    env.stop().await;
}

/// `limits.transaction_idle_timeout_ms`: a session idle inside a transaction is disconnected
/// and its shard transaction rolled back (its row lock released); a session idle outside a
/// transaction is not.
#[tokio::test(flavor = "multi_thread")]
async fn idle_transactions_are_closed_and_rolled_back() {
    let mut env = TestEnv::start(EnvSpec::default()).await;
    let mut admin = env.client().await;
    admin
        .query_drop("CREATE TABLE commerce.t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    drop(admin);
    env.config.limits.transaction_idle_timeout_ms = 700;
    let proxy = env.proxy_process().await;
    let url = proxy.url(Some("commerce"));
    let mut idle_outside = mysql_async::Conn::from_url(&url).await.unwrap();
    idle_outside.query_drop("SELECT 1").await.unwrap();
    let mut c = mysql_async::Conn::from_url(&url).await.unwrap();
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO t VALUES (5)").await.unwrap();
    // Busy inside the transaction for longer than the limit in total: only idleness counts.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.query_drop("SELECT 1").await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(2000)).await;
    match c.query_drop("SELECT 1").await {
        Err(mysql_async::Error::Server(e)) => panic!("expected a closed connection, got {e}"),
        Err(_) => {}
        Ok(()) => panic!("the idle transaction's session was not closed"),
    }
    let mut other = mysql_async::Conn::from_url(&url).await.unwrap();
    let n: Option<i64> = other.query_first("SELECT COUNT(*) FROM t").await.unwrap();
    assert_eq!(n, Some(0), "the idle transaction was rolled back");
    // Its row lock is gone: the same key inserts at once (a held lock would wait 50 s).
    other
        .query_drop("SET innodb_lock_wait_timeout = 3")
        .await
        .unwrap();
    other.query_drop("INSERT INTO t VALUES (5)").await.unwrap();
    idle_outside
        .query_drop("SELECT 1")
        .await
        .expect("a session idle outside a transaction stays open");
    drop(other);
    drop(idle_outside);
    proxy.stop().await;
    env.stop().await;
}

/// Runs `SELECT 1` on `light` back to back until `stop` is set; returns the round trips
/// done and the longest time between two answers (from the first round trip on).
fn light_round_trips(
    mut light: mysql_async::Conn,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<(usize, Duration, mysql_async::Conn)> {
    tokio::spawn(async move {
        let mut done = 0;
        let mut longest = Duration::ZERO;
        let mut last = Instant::now();
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            let one: Option<i64> = light.query_first("SELECT 1").await.expect("SELECT 1");
            assert_eq!(one, Some(1));
            longest = longest.max(last.elapsed());
            last = Instant::now();
            done += 1;
        }
        (done, longest, light)
    })
}

/// Asserts that another client was never held up for a large part of a heavy statement:
/// its longest wait between two answers is under `1 / parts` of the heavy statement's time.
/// Both stretch alike on a loaded host, so the comparison means the same on any machine; a
/// proxy computing the heavy statement on its only runtime thread held the other client
/// for most of it.
fn assert_not_stalled(what: &str, heavy: Duration, longest: Duration, done: usize, parts: u32) {
    eprintln!("{what}: heavy statement {heavy:?}; other client {done} round trips, longest wait {longest:?}");
    assert!(done > 0, "the other client made round trips");
    assert!(
        longest * parts < heavy,
        "another client's round trips go on while the proxy {what}: it waited {longest:?} \
         at once during a heavy statement of {heavy:?}"
    );
}

/// While one client's statement takes a second or more of proxy CPU to plan and route (a
/// 150,000-value IN list within `limits.max_in_list`), another client's round trips go on.
/// On the one-thread runtime of a 2-CPU host the proxy used to parse, plan and map the
/// values through the vindex without yielding, and the other client waited until it was over.
#[tokio::test(flavor = "multi_thread")]
async fn heavy_planning_does_not_stall_other_sessions() {
    let _turn = HEAVY.lock().await;
    let mut env =
        TestEnv::start(EnvSpec::default().with_vschema("customer", customer_vschema())).await;
    let mut admin = env.client().await;
    admin
        .query_drop("CREATE TABLE customer.c (id BIGINT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    admin
        .query_drop("INSERT INTO customer.c (id, v) VALUES (1, 10), (2, 20), (99999, 30)")
        .await
        .unwrap();
    drop(admin);
    env.config.limits.max_in_list = 150_000;
    // The proxy's default on hosts with at most two CPUs, set here so that the test means
    // the same on any host.
    env.config.server.worker_threads = Some(1);
    let proxy = env.proxy_process().await;
    let url = proxy.url(Some("customer"));
    let mut heavy = mysql_async::Conn::from_url(&url).await.unwrap();
    let light = mysql_async::Conn::from_url(&url).await.unwrap();
    let values: Vec<String> = (0..150_000).map(|i| i.to_string()).collect();
    let sql = format!("select sum(v) from c where id in ({})", values.join(","));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let light_task = light_round_trips(light, stop.clone());
    // Let the other client get going first.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let sum: Option<i64> = heavy.query_first(&sql).await.expect("heavy statement");
    let took = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (done, longest, light) = light_task.await.unwrap();
    assert_eq!(sum, Some(60));
    assert_not_stalled("plans", took, longest, done, 4);
    drop(heavy);
    drop(light);
    proxy.stop().await;
    env.stop().await;
}

/// While the proxy places a large multi-row INSERT (each row's vindex value hashed, its text
/// cut out for its shard), another client's round trips go on; the per-row loop used to run
/// on the runtime thread from start to end.
#[tokio::test(flavor = "multi_thread")]
async fn large_inserts_do_not_stall_other_sessions() {
    let _turn = HEAVY.lock().await;
    let mut env =
        TestEnv::start(EnvSpec::default().with_vschema("customer", customer_vschema())).await;
    let mut admin = env.client().await;
    admin
        .query_drop("CREATE TABLE customer.c (id BIGINT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    drop(admin);
    env.config.server.worker_threads = Some(1);
    let proxy = env.proxy_process().await;
    let url = proxy.url(Some("customer"));
    let mut heavy = mysql_async::Conn::from_url(&url).await.unwrap();
    let light = mysql_async::Conn::from_url(&url).await.unwrap();
    let rows: Vec<String> = (0..150_000).map(|i| format!("({i},{i})")).collect();
    let sql = format!("INSERT INTO c (id, v) VALUES {}", rows.join(","));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let light_task = light_round_trips(light, stop.clone());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    heavy.query_drop(&sql).await.expect("heavy statement");
    let took = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (done, longest, light) = light_task.await.unwrap();
    let n: Option<i64> = heavy.query_first("SELECT COUNT(*) FROM c").await.unwrap();
    assert_eq!(n, Some(150_000));
    // Placing the rows is a tenth of the statement (the shards' inserts are the rest), so
    // the bar is a twentieth: on the runtime thread it held the other client 0.48 s of 4.8 s.
    assert_not_stalled("places rows", took, longest, done, 20);
    drop(heavy);
    drop(light);
    proxy.stop().await;
    env.stop().await;
}

/// While the proxy merges a large scatter result (400,000 rows ordered across two shards),
/// another client's round trips go on; the merge used to sort on the runtime thread.
#[tokio::test(flavor = "multi_thread")]
async fn large_merges_do_not_stall_other_sessions() {
    let _turn = HEAVY.lock().await;
    let mut env =
        TestEnv::start(EnvSpec::default().with_vschema("customer", customer_vschema())).await;
    let mut admin = env.client().await;
    admin
        .query_drop("CREATE TABLE customer.c (id BIGINT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    drop(admin);
    // Straight into the shards (the merge does not care where each row belongs).
    for (i, shard) in ["-80", "80-"].into_iter().enumerate() {
        let mut b = env.shard_conn("customer", shard).await;
        let from = i * 200_000;
        b.query_drop(format!(
            "INSERT INTO c SELECT seq + {from}, (seq * 7919) % 100003 FROM seq_1_to_200000"
        ))
        .await
        .unwrap();
    }
    env.config.server.worker_threads = Some(1);
    let proxy = env.proxy_process().await;
    let url = proxy.url(Some("customer"));
    let mut heavy = mysql_async::Conn::from_url(&url).await.unwrap();
    let light = mysql_async::Conn::from_url(&url).await.unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let light_task = light_round_trips(light, stop.clone());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let rows: Vec<(i64, i64)> = heavy
        .query("SELECT id, v AS m FROM c ORDER BY m, id")
        .await
        .expect("heavy statement");
    let took = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (done, longest, light) = light_task.await.unwrap();
    assert_eq!(rows.len(), 400_000);
    assert!(
        rows.windows(2)
            .all(|w| (w[0].1, w[0].0) <= (w[1].1, w[1].0)),
        "merged in order"
    );
    assert_not_stalled("merges", took, longest, done, 4);
    drop(heavy);
    drop(light);
    proxy.stop().await;
    env.stop().await;
}

/// `limits.max_merge_bytes`: a merge that holds its rows (DISTINCT, GROUP BY) and whose shard
/// rows exceed it fails with 1104 naming the limit; the session, its transaction and its
/// connections go on. (ORDER BY merges stream and hold no rows: tests/streamed_merges.rs.)
#[tokio::test(flavor = "multi_thread")]
async fn merges_past_max_merge_bytes_fail_cleanly() {
    let mut env =
        TestEnv::start(EnvSpec::default().with_vschema("customer", customer_vschema())).await;
    let mut admin = env.client().await;
    admin
        .query_drop("CREATE TABLE customer.c (id BIGINT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    drop(admin);
    for (i, shard) in ["-80", "80-"].into_iter().enumerate() {
        let mut b = env.shard_conn("customer", shard).await;
        let from = i * 20_000;
        b.query_drop(format!(
            "INSERT INTO c SELECT seq + {from}, seq % 1000 FROM seq_1_to_20000"
        ))
        .await
        .unwrap();
    }
    // 40,000 rows of two columns are about 5 MB held.
    env.config.limits.max_merge_bytes = 1024 * 1024;
    let proxy = env.proxy_process().await;
    let mut c = mysql_async::Conn::from_url(proxy.url(Some("customer")))
        .await
        .unwrap();
    match c
        .query_drop("SELECT DISTINCT id, v FROM c ORDER BY v, id")
        .await
    {
        Err(mysql_async::Error::Server(e)) => {
            assert_eq!(e.code, 1104, "{}", e.message);
            assert!(e.message.contains("max_merge_bytes"), "{}", e.message);
        }
        other => panic!("expected 1104, got {other:?}"),
    }
    c.query_drop("BEGIN").await.unwrap();
    c.query_drop("INSERT INTO c (id, v) VALUES (1000000, 7)")
        .await
        .unwrap();
    expect_error(
        // (GROUP BY v, id would be grouped whole on each shard, id being the vindex
        // column: a plain scatter, which streams.)
        c.query_drop("SELECT DISTINCT v, id FROM c").await,
        1104,
        "a DISTINCT scatter past the limit",
    );
    let top: Vec<(i64, i64)> = c
        .query("SELECT id, v FROM c ORDER BY v, id LIMIT 3")
        .await
        .expect("a merge within the limit");
    assert_eq!(top, vec![(1000, 0), (2000, 0), (3000, 0)]);
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM c").await.unwrap();
    assert_eq!(
        n,
        Some(40_001),
        "the transaction is still open and sees its insert"
    );
    c.query_drop("ROLLBACK").await.unwrap();
    let n: Option<i64> = c.query_first("SELECT COUNT(*) FROM c").await.unwrap();
    assert_eq!(n, Some(40_000));
    drop(c);
    proxy.stop().await;
    env.stop().await;
}

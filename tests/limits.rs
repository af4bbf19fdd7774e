//! `[limits]`: every bound is hit and answered with its error, and the proxy (and the shards
//! behind it) keep serving.

mod common;

use common::errors::expect_error;
use common::{EnvSpec, TestEnv};
use mysql_async::prelude::*;

fn chain(term: &str, n: usize) -> String {
    vec![term; n].join("+")
}

fn customer_vschema() -> serde_json::Value {
    serde_json::json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"c": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    })
}

async fn alive(url: &str) {
    let mut c = mysql_async::Conn::from_url(url).await.expect("connecting");
    let one: Option<i64> = c.query_first("select 1").await.expect("select 1");
    assert_eq!(one, Some(1));
}

/// An 8,500-term `GROUP BY id+id+…` overflowed the proxy's stack and killed the process; a
/// 5,000-term ORDER BY forwarded to MariaDB crashed the shard server. Both are refused before
/// anything recursive runs, and both processes live on.
#[tokio::test]
async fn long_expressions_are_refused_before_parsing() {
    let spec = EnvSpec::default()
        .with_private_shard("commerce", "0")
        .with_vschema("customer", customer_vschema());
    let env = TestEnv::start(spec).await;
    let mut admin = env.client().await;
    admin
        .query_drop("create table customer.c (id bigint primary key, v int)")
        .await
        .unwrap();
    admin
        .query_drop("create table commerce.p (id bigint primary key, v int)")
        .await
        .unwrap();
    drop(admin);
    let mut proxy = env.proxy_process().await;
    let mut c = mysql_async::Conn::from_url(proxy.url(Some("customer")))
        .await
        .unwrap();

    let group = format!("select count(*) from c group by {}", chain("id", 8500));
    expect_error(c.query_drop(&group).await, 1235, "8,500-term GROUP BY");
    let order = format!("select id from commerce.p order by {}", chain("id", 5000));
    expect_error(c.query_drop(&order).await, 1235, "5,000-term ORDER BY");
    let nested = format!("select {}1{}", "(".repeat(5000), ")".repeat(5000));
    expect_error(
        c.query_drop(&nested).await,
        1473,
        "5,000 nested parentheses",
    );
    let ands = format!(
        "select id from c where {}",
        vec!["id=1"; 3000].join(" and ")
    );
    expect_error(c.query_drop(&ands).await, 1235, "3,000-term AND chain");
    // Prepared statements go through the same check.
    expect_error(c.prep(&group).await, 1235, "prepared 8,500-term GROUP BY");

    assert!(proxy.is_running(), "proxy died: {}", proxy.log());
    alive(&proxy.url(Some("customer"))).await;
    // The shard was never sent the statement; it still serves.
    let mut shard = env.shard_conn("commerce", "0").await;
    let one: Option<i64> = shard.query_first("select 1").await.unwrap();
    assert_eq!(one, Some(1));

    // Just within the default bounds, both the proxy (scatter GROUP BY) and a shard
    // (unsharded passthrough ORDER BY) answer.
    let group = format!("select count(*) from c group by {}", chain("id", 257));
    c.query_drop(&group).await.expect("256-operator GROUP BY");
    let order = format!("select id from commerce.p order by {}", chain("id", 257));
    c.query_drop(&order).await.expect("256-operator ORDER BY");
    let nested = format!("select {}1{}", "(".repeat(20), ")".repeat(20));
    c.query_drop(&nested).await.expect("20 nested parentheses");
    assert!(proxy.is_running(), "proxy died: {}", proxy.log());
    drop(c);
    proxy.stop().await;
    env.stop().await;
}

/// The bounds come from `[limits]`: a lower configured depth refuses what the default allows.
#[tokio::test]
async fn configured_expression_depth_is_enforced() {
    let mut env = TestEnv::start(EnvSpec::default()).await;
    env.config.limits.max_expression_depth = 10;
    env.config.limits.max_nesting_depth = 3;
    let proxy = env.proxy_process().await;
    let mut c = mysql_async::Conn::from_url(proxy.url(Some("commerce")))
        .await
        .unwrap();
    c.query_drop(format!("select {}", chain("1", 11)))
        .await
        .expect("10 operators");
    expect_error(
        c.query_drop(format!("select {}", chain("1", 12))).await,
        1235,
        "11 operators",
    );
    c.query_drop("select (((1)))").await.expect("3 levels");
    expect_error(c.query_drop("select ((((1))))").await, 1473, "4 levels");
    drop(c);
    proxy.stop().await;
    env.stop().await;
}

/// A 100k-value IN list took 38 s to plan (a per-value scan of the text before it) and froze
/// every client. Planning is linear now: the statement answers well within a generous bound
/// (≈2.5 s in this debug build; the quadratic code needed minutes), and another client is served
/// meanwhile. Lists beyond `limits.max_in_list` are refused with 1235.
#[tokio::test]
async fn large_in_lists_plan_in_linear_time() {
    let mut env =
        TestEnv::start(EnvSpec::default().with_vschema("customer", customer_vschema())).await;
    let mut admin = env.client().await;
    admin
        .query_drop("create table customer.c (id bigint primary key, v int)")
        .await
        .unwrap();
    admin
        .query_drop("insert into customer.c (id, v) values (1, 10), (2, 20), (99999, 30)")
        .await
        .unwrap();
    drop(admin);
    env.config.limits.max_in_list = 150_000;
    let proxy = env.proxy_process().await;
    let url = proxy.url(Some("customer"));
    let mut c = mysql_async::Conn::from_url(&url).await.unwrap();
    let values: Vec<String> = (0..100_000).map(|i| i.to_string()).collect();
    let sql = format!("select sum(v) from c where id in ({})", values.join(","));
    let started = std::time::Instant::now();
    let sum: Option<i64> = c.query_first(&sql).await.expect("100k-value IN list");
    let took = started.elapsed();
    eprintln!("100k IN list: {took:?}");
    assert_eq!(sum, Some(60));
    assert!(
        took < std::time::Duration::from_secs(20),
        "100k-value IN list took {took:?}"
    );
    // The same shape again goes through the plan cache's template path.
    let sum: Option<i64> = c
        .query_first(&sql)
        .await
        .expect("100k-value IN list, cached");
    assert_eq!(sum, Some(60));
    assert!(started.elapsed() < std::time::Duration::from_secs(60));

    let values: Vec<String> = (0..150_001).map(|i| i.to_string()).collect();
    let sql = format!("select sum(v) from c where id in ({})", values.join(","));
    expect_error(c.query_drop(&sql).await, 1235, "150,001-value IN list");
    alive(&url).await;
    drop(c);
    proxy.stop().await;
    env.stop().await;
}

/// Resident memory of a process, in bytes (from `/proc/<pid>/status`).
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("reading /proc");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc status");
    kb * 1024
}

/// A 5-byte header announcing a 16 MiB handshake response reserved 16 MiB before login: 40
/// sockets took 636 MB. Now a pre-login packet over 64 KiB closes the connection at its header,
/// and nothing beyond what arrived is held.
#[tokio::test]
async fn unauthenticated_sockets_cannot_reserve_memory() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let env = TestEnv::start(EnvSpec::default()).await;
    let proxy = env.proxy_process().await;
    let pid = proxy.pid().expect("proxy pid");
    let before = rss_bytes(pid);
    let mut sockets = Vec::new();
    for _ in 0..40 {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", proxy.port()))
            .await
            .expect("connecting");
        let mut greeting = [0u8; 4];
        s.read_exact(&mut greeting).await.expect("greeting header");
        let len = u32::from_le_bytes([greeting[0], greeting[1], greeting[2], 0]) as usize;
        let mut body = vec![0u8; len];
        s.read_exact(&mut body).await.expect("greeting");
        s.write_all(&[0xff, 0xff, 0xff, 1, 0x0d])
            .await
            .expect("header");
        sockets.push(s);
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let grown = rss_bytes(pid).saturating_sub(before);
    assert!(
        grown < 64 * 1024 * 1024,
        "40 pre-login sockets grew the proxy by {grown} bytes"
    );
    for mut s in sockets {
        let mut buf = [0u8; 256];
        let closed = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(
            closed.is_ok(),
            "an oversized pre-login packet must close the connection"
        );
    }
    alive(&proxy.url(Some("commerce"))).await;
    proxy.stop().await;
    env.stop().await;
}

/// `max_allowed_packet` bounds a COM_QUERY (1153, then the connection closes, as MariaDB) and
/// the COM_STMT_SEND_LONG_DATA a statement collects (1 GiB was accepted): the statement's next
/// execute fails with 1153 and the session goes on. Prepared statements per session are capped
/// (1461).
#[tokio::test]
async fn packet_long_data_and_prepared_statement_limits() {
    let mut env = TestEnv::start(EnvSpec::default()).await;
    env.config.limits.max_allowed_packet = 20 * 1024 * 1024;
    env.config.limits.max_prepared_stmt_count = 3;
    let proxy = env.proxy_process().await;
    let url = proxy.url(Some("commerce"));

    let mut c = mysql_async::Conn::from_url(&url).await.unwrap();
    let big = format!("select '{}'", "x".repeat(21 * 1024 * 1024));
    expect_error(c.query_drop(&big).await, 1153, "21 MiB COM_QUERY");
    drop(c);
    alive(&url).await;

    // Two 12 MiB parameters: mysql_async sends them as long data (24 MiB > 20 MiB).
    let mut c = mysql_async::Conn::from_url(&url).await.unwrap();
    let stmt = c.prep("select length(?) + length(?)").await.unwrap();
    let half = vec![b'y'; 12 * 1024 * 1024];
    let res: Result<Option<i64>, _> = c.exec_first(&stmt, (half.clone(), half)).await;
    expect_error(res, 1153, "24 MiB of long data");
    let n: Option<i64> = c
        .exec_first(&stmt, ("ab", "cde"))
        .await
        .expect("next execute");
    assert_eq!(n, Some(5));

    // The session holds 1 statement; two more fit, the fourth is refused.
    let s2 = c.prep("select 2").await.unwrap();
    let _s3 = c.prep("select 3").await.unwrap();
    expect_error(c.prep("select 4").await, 1461, "fourth prepared statement");
    c.close(s2).await.unwrap();
    c.prep("select 4").await.expect("after a close");
    drop(c);
    proxy.stop().await;
    env.stop().await;
}

/// Connections past `limits.max_connections` are answered 1040 at once (not left hanging), and
/// a freed slot is usable again.
#[tokio::test]
async fn excess_connections_get_1040_at_once() {
    let mut env = TestEnv::start(EnvSpec::default()).await;
    env.config.limits.max_connections = 3;
    let proxy = env.proxy_process().await;
    let url = proxy.url(Some("commerce"));
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(
            mysql_async::Conn::from_url(&url)
                .await
                .expect("within the limit"),
        );
    }
    let fourth = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        mysql_async::Conn::from_url(&url),
    )
    .await
    .expect("the fourth connection must be answered, not left hanging");
    expect_error(fourth, 1040, "fourth connection");
    let first = open.remove(0);
    first.disconnect().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match mysql_async::Conn::from_url(&url).await {
            Ok(c) => {
                open.push(c);
                break;
            }
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => panic!("a freed slot was not reusable: {e}"),
        }
    }
    drop(open);
    proxy.stop().await;
    env.stop().await;
}

/// When descriptors run out, accept fails every 50 ms: logged once per streak, not each time.
#[tokio::test]
async fn accept_errors_are_logged_once() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let proxy = env.proxy_process().await;
    let pid = proxy.pid().expect("proxy pid") as libc::pid_t;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count() as u64;
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on our own child with valid rlimit pointers.
    let rc = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, std::ptr::null(), &mut old) };
    assert_eq!(rc, 0, "reading the proxy's descriptor limit");
    let low = libc::rlimit {
        rlim_cur: fds + 2,
        rlim_max: old.rlim_max,
    };
    let rc = unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &low, std::ptr::null_mut()) };
    assert_eq!(rc, 0, "lowering the proxy's descriptor limit");
    let mut sockets = Vec::new();
    for _ in 0..6 {
        sockets.push(
            tokio::net::TcpStream::connect(("127.0.0.1", proxy.port()))
                .await
                .unwrap(),
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    // SAFETY: as above, restoring the old limit.
    unsafe { libc::prlimit(pid, libc::RLIMIT_NOFILE, &old, std::ptr::null_mut()) };
    drop(sockets);
    alive(&proxy.url(Some("commerce"))).await;
    let log = proxy.log();
    let failures = log.matches("accept failed").count();
    assert_eq!(
        failures, 1,
        "accept failures logged {failures} times:\n{log}"
    );
    proxy.stop().await;
    env.stop().await;
}

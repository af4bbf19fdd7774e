//! The operators' HTTP endpoint end to end (issue 20, point 1), against real MariaDB shards:
//! `/metrics` counts statements by kind and route, shards touched, latency per keyspace,
//! errors by code, pool gauges and waits, plan-cache hits, lookup-vindex writes and
//! reclaims, and a backfill's rows and progress; `/healthz` follows the shards' health and
//! the shutdown drain; the query log writes one line per statement with its fingerprint and
//! never a literal of it.
//!
//! Counters are read as deltas around each action, from the exposition parsed here (a
//! malformed line fails the test).

mod common;

use common::cluster::run_dir;
use common::user_lookups::UserLookups;
use common::{EnvSpec, KeyspaceSpec, ProxyProcess, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod http {
    //! A minimal HTTP/1.1 GET and a Prometheus text-format parser, for the tests.

    use super::*;

    /// One sample line: `name{labels} value`.
    #[derive(Debug, Clone)]
    pub struct Sample {
        pub name: String,
        pub labels: BTreeMap<String, String>,
        pub value: f64,
    }

    /// A parsed scrape.
    #[derive(Debug, Clone)]
    pub struct Scrape(pub Vec<Sample>);

    impl Scrape {
        /// The sum of the samples named `name` whose labels include `labels` (0 if none).
        pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
            self.matching(name, labels).map(|s| s.value).sum()
        }

        /// Whether a sample named `name` with `labels` exists.
        pub fn has(&self, name: &str, labels: &[(&str, &str)]) -> bool {
            self.matching(name, labels).next().is_some()
        }

        fn matching<'a>(
            &'a self,
            name: &'a str,
            labels: &'a [(&'a str, &'a str)],
        ) -> impl Iterator<Item = &'a Sample> + 'a {
            self.0.iter().filter(move |s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
        }
    }

    /// Parses the text exposition format (version 0.0.4); panics on a malformed line.
    pub fn parse(text: &str) -> Scrape {
        let mut out = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let name_end = line
                .find(['{', ' '])
                .unwrap_or_else(|| panic!("no value: {line}"));
            let name = &line[..name_end];
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "bad metric name in {line}"
            );
            let mut rest = &line[name_end..];
            let mut labels = BTreeMap::new();
            if let Some(after) = rest.strip_prefix('{') {
                let mut chars = after.char_indices();
                let mut key = String::new();
                let mut end = None;
                while let Some((i, c)) = chars.next() {
                    match c {
                        '}' => {
                            end = Some(i + 1);
                            break;
                        }
                        ',' => {}
                        '=' => {
                            assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                            let mut value = String::new();
                            loop {
                                match chars.next().map(|(_, c)| c) {
                                    Some('"') => break,
                                    Some('\\') => match chars.next().map(|(_, c)| c) {
                                        Some('n') => value.push('\n'),
                                        Some(c) => value.push(c),
                                        None => panic!("unterminated escape: {line}"),
                                    },
                                    Some(c) => value.push(c),
                                    None => panic!("unterminated label value: {line}"),
                                }
                            }
                            labels.insert(std::mem::take(&mut key), value);
                        }
                        c => key.push(c),
                    }
                }
                let end = end.unwrap_or_else(|| panic!("unterminated labels: {line}"));
                rest = &after[end..];
            }
            let value = rest.split_whitespace().next().unwrap_or("");
            let value = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v
                    .parse()
                    .unwrap_or_else(|_| panic!("bad value {v:?} in {line}")),
            };
            out.push(Sample {
                name: name.to_string(),
                labels,
                value,
            });
        }
        Scrape(out)
    }

    /// `GET path` on `addr`: the status code, the headers (lowercased names) and the body.
    pub async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
        let attempt = async {
            let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
            s.write_all(
                format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await
            .expect("send");
            let mut raw = Vec::new();
            s.read_to_end(&mut raw).await.expect("read");
            raw
        };
        let raw = tokio::time::timeout(Duration::from_secs(10), attempt)
            .await
            .unwrap_or_else(|_| panic!("GET {path}: no answer within 10 s"));
        let text = String::from_utf8(raw).expect("utf-8 response");
        let (head, body) = text.split_once("\r\n\r\n").expect("a header block");
        let status: u16 = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line: {head}"));
        let head = head.to_ascii_lowercase();
        let body = if head.contains("transfer-encoding: chunked") {
            dechunk(body)
        } else {
            body.to_string()
        };
        (status, head, body)
    }

    fn dechunk(mut body: &str) -> String {
        let mut out = String::new();
        loop {
            let (size, rest) = body.split_once("\r\n").expect("chunk size");
            let size = usize::from_str_radix(size.trim(), 16).expect("hex chunk size");
            if size == 0 {
                return out;
            }
            out.push_str(&rest[..size]);
            body = &rest[size + 2..];
        }
    }

    /// `/metrics`, checked for status and content type, parsed.
    pub async fn scrape(addr: SocketAddr) -> Scrape {
        let (status, head, body) = get(addr, "/metrics").await;
        assert_eq!(status, 200, "{body}");
        assert!(
            head.contains("content-type: text/plain; version=0.0.4"),
            "{head}"
        );
        let scrape = parse(&body);
        // Every series is a count, a gauge of things or a ratio: never below zero (a workflow
        // rate without live streams was "-0": regression).
        for s in &scrape.0 {
            assert!(!s.value.is_sign_negative(), "negative sample {s:?}");
        }
        scrape
    }
}

use http::{get, scrape, Scrape};

const STATEMENTS: &str = "shardgate_statements_total";
const SHARDS: &str = "shardgate_statement_shards_bucket";
const ERRORS: &str = "shardgate_errors_total";
const WRITES: &str = "shardgate_lookup_writes_total";
const RECLAIMS: &str = "shardgate_lookup_reclaims_total";

/// `after - before` of one series.
fn delta(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.get(name, labels) - before.get(name, labels)
}

/// Runs `sql` (expected to succeed) between two scrapes.
async fn around(addr: SocketAddr, c: &mut Conn, sql: &str) -> (Scrape, Scrape) {
    let before = scrape(addr).await;
    c.query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    (before, scrape(addr).await)
}

/// Runs `sql`, which must fail with `code`, between two scrapes.
async fn around_error(addr: SocketAddr, c: &mut Conn, sql: &str, code: u16) -> (Scrape, Scrape) {
    let before = scrape(addr).await;
    match c.query_drop(sql).await {
        Err(mysql_async::Error::Server(e)) if e.code == code => {}
        other => panic!("{sql}: expected error {code}, got {other:?}"),
    }
    (before, scrape(addr).await)
}

/// The lookup layout of the lookup tests, plus `customer.t (id, email)` by `hash(id)`, with
/// the HTTP endpoint on a free port.
fn lookups_spec() -> EnvSpec {
    let mut spec = UserLookups {
        write_only_email: false,
    }
    .spec();
    for ks in &mut spec.keyspaces {
        if let (Some(v), "customer") = (ks.vschema.as_mut(), ks.name.as_str()) {
            v["tables"]["t"] = json!({"column_vindexes": [{"column": "id", "name": "hash"}]});
        }
    }
    spec.server.http_listen = Some("127.0.0.1:0".into());
    spec
}

/// Rows of `customer.t` the backfill copies.
const BACKFILL_ROWS: u64 = 1200;

fn http_addr(env: &TestEnv) -> SocketAddr {
    env.proxy.http_addr().expect("server.http_listen is set")
}

/// Polls `/healthz` until its status is `want` (panics after `limit`); returns the body and
/// how long it took.
async fn healthz_becomes(addr: SocketAddr, want: u16, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    loop {
        let (status, _, body) = get(addr, "/healthz").await;
        if status == want {
            return (body, started.elapsed());
        }
        assert!(
            started.elapsed() < limit,
            "/healthz still {status} after {limit:?}, not {want}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_routes_errors_pools_and_lookups() {
    let env = TestEnv::start(lookups_spec()).await;
    let addr = http_addr(&env);
    UserLookups {
        write_only_email: false,
    }
    .create_tables(&env)
    .await;
    let mut c = env.client_as("root", "", Some("customer")).await;
    c.query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY, email VARCHAR(128))")
        .await
        .expect("t");

    // Every shard has its pool gauges and, once the health checks answered, shard_up 1.
    healthz_becomes(addr, 200, Duration::from_secs(10)).await;
    let m = scrape(addr).await;
    for p in &env.shards {
        let at = [
            ("keyspace", p.keyspace.as_str()),
            ("shard", p.shard.as_str()),
        ];
        for state in ["open", "idle", "in_use", "reserved"] {
            let mut labels = at.to_vec();
            labels.push(("state", state));
            assert!(
                m.has("shardgate_pool_connections", &labels),
                "no {state} gauge for {}/{}",
                p.keyspace,
                p.shard
            );
        }
        assert!(m.has("shardgate_pool_waits_total", &at), "{at:?}");
        assert_eq!(m.get("shardgate_shard_up", &at), 1.0, "{at:?}");
    }

    // An owner-table insert writes one row into each lookup vindex.
    let (b, a) = around(
        addr,
        &mut c,
        "INSERT INTO user (id, name, phone) VALUES (1, 'alice', 100)",
    )
    .await;
    for vindex in ["name_user_vdx", "phone_user_vdx"] {
        assert_eq!(
            delta(&b, &a, WRITES, &[("vindex", vindex), ("op", "insert")]),
            1.0,
            "{vindex}"
        );
    }
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "INSERT"), ("route", "single_shard")]
        ),
        1.0
    );
    for (id, name, phone) in [(2, "bob", 200), (3, "carol", 300), (4, "dave", 400)] {
        c.query_drop(format!(
            "INSERT INTO user (id, name, phone) VALUES ({id}, '{name}', {phone})"
        ))
        .await
        .expect("insert");
    }

    // Primary-vindex equality: one shard.
    let (b, a) = around(addr, &mut c, "SELECT name FROM user WHERE id = 1").await;
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "single_shard")]
        ),
        1.0
    );
    assert_eq!(delta(&b, &a, SHARDS, &[("le", "0")]), 0.0);
    assert_eq!(delta(&b, &a, SHARDS, &[("le", "1")]), 1.0);
    assert_eq!(
        delta(
            &b,
            &a,
            "shardgate_statement_duration_seconds_count",
            &[("keyspace", "customer")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            &b,
            &a,
            "shardgate_statement_duration_seconds_bucket",
            &[("keyspace", "customer"), ("le", "+Inf")]
        ),
        1.0
    );

    // The same shape with other literals: plan-cache hits, no miss.
    let before = scrape(addr).await;
    for id in [2, 3, 4] {
        let got: Option<String> = c
            .query_first(format!("SELECT name FROM user WHERE id = {id}"))
            .await
            .expect("by id");
        assert!(got.is_some());
    }
    let after = scrape(addr).await;
    let cache = "shardgate_plan_cache_lookups_total";
    assert!(
        delta(&before, &after, cache, &[("result", "hit")]) >= 3.0,
        "hits: {} -> {}",
        before.get(cache, &[("result", "hit")]),
        after.get(cache, &[("result", "hit")])
    );
    assert_eq!(delta(&before, &after, cache, &[("result", "miss")]), 0.0);

    // The binary protocol: a prepared statement's executions count as the text ones do,
    // and plan once.
    let before = scrape(addr).await;
    let stmt = c
        .prep("SELECT name FROM user WHERE id = ?")
        .await
        .expect("prepare");
    for id in [2u64, 3, 4] {
        let got: Option<String> = c.exec_first(&stmt, (id,)).await.expect("execute");
        assert!(got.is_some());
    }
    let after = scrape(addr).await;
    assert_eq!(
        delta(
            &before,
            &after,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "single_shard")]
        ),
        3.0
    );
    assert_eq!(delta(&before, &after, SHARDS, &[("le", "0")]), 0.0);
    assert_eq!(delta(&before, &after, SHARDS, &[("le", "1")]), 3.0);
    assert!(delta(&before, &after, cache, &[("result", "hit")]) >= 2.0);
    // A failed COM_STMT_PREPARE is an error sent to the client too.
    let before = scrape(addr).await;
    match c.prep("SELECT no_such_column FROM user WHERE id = ?").await {
        Err(mysql_async::Error::Server(e)) if e.code == 1054 => {}
        other => panic!("prepare of an unknown column: {other:?}"),
    }
    let after = scrape(addr).await;
    assert_eq!(delta(&before, &after, ERRORS, &[("code", "1054")]), 1.0);
    // Each statement of a multi-statement query counts.
    let (b, a) = around(
        addr,
        &mut c,
        "SELECT name FROM user WHERE id = 2; SELECT COUNT(*) FROM user",
    )
    .await;
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "single_shard")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "scatter")]
        ),
        1.0
    );

    // An IN list over both shards.
    let (b, a) = around(addr, &mut c, "SELECT name FROM user WHERE id IN (2, 3, 4)").await;
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "multi_shard")]
        ),
        1.0
    );

    // A lookup-vindex column: through the lookup table, to the owner's shard.
    let before = scrape(addr).await;
    let ids: Vec<u64> = c
        .query("SELECT id FROM user WHERE phone = 300")
        .await
        .expect("by phone");
    assert_eq!(ids, [3]);
    let after = scrape(addr).await;
    assert_eq!(
        delta(
            &before,
            &after,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "lookup")]
        ),
        1.0
    );
    // One lookup shard, one owner shard.
    assert_eq!(delta(&before, &after, SHARDS, &[("le", "1")]), 0.0);
    assert_eq!(delta(&before, &after, SHARDS, &[("le", "2")]), 1.0);

    // No vindex predicate: every shard of the keyspace.
    let (b, a) = around(addr, &mut c, "SELECT COUNT(*) FROM user").await;
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "scatter")]
        ),
        1.0
    );
    assert_eq!(delta(&b, &a, SHARDS, &[("le", "1")]), 0.0);
    assert_eq!(delta(&b, &a, SHARDS, &[("le", "2")]), 1.0);
    assert_eq!(
        delta(&b, &a, "shardgate_statement_shards_sum", &[]),
        2.0,
        "both customer shards"
    );

    // Refused by the proxy: route refused, error 1235.
    let (b, a) = around_error(addr, &mut c, "HANDLER user OPEN", 1235).await;
    assert_eq!(delta(&b, &a, STATEMENTS, &[("route", "refused")]), 1.0);
    assert_eq!(delta(&b, &a, ERRORS, &[("code", "1235")]), 1.0);

    // Refused by the planner: the same, under the statement's kind.
    let (b, a) = around_error(
        addr,
        &mut c,
        "SELECT * FROM user WHERE id = 1 LOCK IN SHARE MODE",
        1235,
    )
    .await;
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "refused")]
        ),
        1.0
    );
    assert_eq!(delta(&b, &a, ERRORS, &[("code", "1235")]), 1.0);
    // A syntax error (MariaDB's verdict) is no refusal.
    let (b, a) = around_error(addr, &mut c, "SELECT * FORM user WHERE id = 1", 1064).await;
    assert_eq!(delta(&b, &a, ERRORS, &[("code", "1064")]), 1.0);
    assert_eq!(delta(&b, &a, STATEMENTS, &[("route", "refused")]), 0.0);

    // A backend error: its MySQL code.
    c.query_drop("INSERT INTO t (id, email) VALUES (1, 'one@x')")
        .await
        .expect("t row");
    let (b, a) = around_error(
        addr,
        &mut c,
        "INSERT INTO t (id, email) VALUES (1, 'again@x')",
        1062,
    )
    .await;
    assert_eq!(delta(&b, &a, ERRORS, &[("code", "1062")]), 1.0);
    assert_eq!(delta(&b, &a, ERRORS, &[("code", "1235")]), 0.0);
    assert_eq!(delta(&b, &a, STATEMENTS, &[("kind", "INSERT")]), 1.0);

    // Changing a lookup column moves its lookup row: one delete, one insert.
    let (b, a) = around(addr, &mut c, "UPDATE user SET phone = 201 WHERE id = 2").await;
    for op in ["delete", "insert"] {
        assert_eq!(
            delta(&b, &a, WRITES, &[("vindex", "phone_user_vdx"), ("op", op)]),
            1.0,
            "{op}"
        );
    }
    assert_eq!(delta(&b, &a, WRITES, &[("vindex", "name_user_vdx")]), 0.0);
    // A DML statement routed by a lookup vindex.
    let (b, a) = around(addr, &mut c, "DELETE FROM user WHERE phone = 400").await;
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "DELETE"), ("route", "lookup")]
        ),
        1.0
    );
    for vindex in ["name_user_vdx", "phone_user_vdx"] {
        assert_eq!(
            delta(&b, &a, WRITES, &[("vindex", vindex), ("op", "delete")]),
            1.0,
            "{vindex}"
        );
    }

    // An owner-row delete deletes its lookup rows.
    let (b, a) = around(addr, &mut c, "DELETE FROM user WHERE id = 1").await;
    for vindex in ["name_user_vdx", "phone_user_vdx"] {
        assert_eq!(
            delta(&b, &a, WRITES, &[("vindex", vindex), ("op", "delete")]),
            1.0,
            "{vindex}"
        );
    }
    assert_eq!(delta(&b, &a, WRITES, &[("op", "insert")]), 0.0);

    // Orphans: owner row 10 deleted on its shard directly leaves its lookup rows behind.
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (10, 'rex', 555)")
        .await
        .expect("owner 10");
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("customer", shard).await;
        d.query_drop("DELETE FROM user WHERE id = 10")
            .await
            .expect("direct delete");
    }
    // A new owner of phone 555 takes its orphaned unique lookup row over.
    let (b, a) = around(
        addr,
        &mut c,
        "INSERT INTO user (id, name, phone) VALUES (11, 'sam', 555)",
    )
    .await;
    assert_eq!(
        delta(&b, &a, RECLAIMS, &[("vindex", "phone_user_vdx")]),
        1.0
    );
    assert_eq!(
        delta(
            &b,
            &a,
            WRITES,
            &[("vindex", "phone_user_vdx"), ("op", "update")]
        ),
        1.0
    );
    assert_eq!(delta(&b, &a, RECLAIMS, &[("vindex", "name_user_vdx")]), 0.0);
    // Owner 10 again: its (name, id) lookup row already points at it and is taken as it is.
    let (b, a) = around(
        addr,
        &mut c,
        "INSERT INTO user (id, name, phone) VALUES (10, 'rex', NULL)",
    )
    .await;
    assert_eq!(delta(&b, &a, RECLAIMS, &[("vindex", "name_user_vdx")]), 1.0);
    // (A NULL phone writes no lookup row: ignore_nulls.)
    assert_eq!(delta(&b, &a, WRITES, &[("vindex", "phone_user_vdx")]), 0.0);
    let ids: Vec<u64> = c
        .query("SELECT id FROM user WHERE phone = 555")
        .await
        .expect("by phone");
    assert_eq!(ids, [11], "the reclaimed row points at the new owner");

    // A CreateLookupVindex backfill, throttled so scrapes see it run: rows copied, a rate,
    // progress between 0 and 1, then 1; its gauges leave with the workflow.
    let values: Vec<String> = (2..=BACKFILL_ROWS)
        .map(|i| format!("({i}, 'u{i}@x')"))
        .collect();
    c.query_drop(format!(
        "INSERT INTO t (id, email) VALUES {}",
        values.join(", ")
    ))
    .await
    .expect("t rows");
    let before = scrape(addr).await;
    let workflow = [("workflow", "t_email_vdx")];
    c.query_drop(
        r#"CreateLookupVindex --max_rows_per_sec=600 --chunk_size=50 customer '{"sharded": true, "vindexes": {"t_email_vdx": {"type": "consistent_lookup_unique", "params": {"table": "lookup.t_email_vdx", "from": "email", "to": "keyspace_id", "ignore_nulls": "true"}, "owner": "t"}}, "tables": {"t": {"column_vindexes": [{"column": "email", "name": "t_email_vdx"}]}}}'"#,
    )
    .await
    .expect("CreateLookupVindex");
    let started = Instant::now();
    let mut progress_seen = Vec::new();
    let mut rate_seen = 0.0f64;
    let after = loop {
        let m = scrape(addr).await;
        let progress = m
            .has("shardgate_workflow_progress_ratio", &workflow)
            .then(|| m.get("shardgate_workflow_progress_ratio", &workflow));
        rate_seen = rate_seen.max(m.get("shardgate_workflow_rows_per_second", &workflow));
        progress_seen.push(progress);
        if progress == Some(1.0) {
            break m;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the backfill's progress never reached 1: {progress_seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "backfill in {:?}: progress {progress_seen:?}, rate up to {rate_seen:.0} rows/s",
        started.elapsed()
    );
    assert!(
        progress_seen
            .iter()
            .flatten()
            .all(|p| (0.0..=1.0).contains(p)),
        "{progress_seen:?}"
    );
    assert!(
        progress_seen.iter().flatten().any(|p| *p > 0.0 && *p < 1.0),
        "never seen mid-copy: {progress_seen:?}"
    );
    assert!(rate_seen > 0.0, "no copy rate while copying");
    assert_eq!(
        delta(
            &before,
            &after,
            "shardgate_workflow_rows_copied_total",
            &workflow
        ),
        BACKFILL_ROWS as f64,
        "every owner row of t copied once"
    );
    // (Progress is 1 once the copy is done; externalizing waits for the verification.)
    let started = Instant::now();
    loop {
        let states: Vec<String> = c
            .query_map("SHOW VINDEX WORKFLOWS", |r: mysql_async::Row| {
                r.get::<String, _>("state").unwrap_or_default()
            })
            .await
            .expect("SHOW VINDEX WORKFLOWS");
        if !states.is_empty() && states.iter().all(|s| s == "Stopped") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not in sync: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.query_drop("ExternalizeVindex customer.t_email_vdx")
        .await
        .expect("externalize");
    let m = scrape(addr).await;
    assert!(!m.has("shardgate_workflow_progress_ratio", &workflow));
    assert!(!m.has("shardgate_workflow_rows_per_second", &workflow));
    drop(c);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_waits_grow_when_clients_contend_for_one_connection() {
    let mut spec = EnvSpec::default();
    spec.backend.pool_max = 1;
    spec.server.http_listen = Some("127.0.0.1:0".into());
    let env = TestEnv::start(spec).await;
    let addr = http_addr(&env);
    let at = [("keyspace", "commerce"), ("shard", "0")];
    let mut a = env.client().await;
    let mut b = env.client().await;
    let gauge = |m: &Scrape, state: &str| {
        m.get(
            "shardgate_pool_connections",
            &[at[0], at[1], ("state", state)],
        )
    };
    // An unsharded keyspace's statement: its route, its keyspace's latency; one the proxy
    // answers itself reaches no shard.
    let (before, m) = around(addr, &mut a, "SELECT 1 FROM dual").await;
    assert_eq!(
        delta(
            &before,
            &m,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "unsharded")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            &before,
            &m,
            "shardgate_statement_duration_seconds_count",
            &[("keyspace", "commerce")]
        ),
        1.0
    );
    let (b0, a0) = around(addr, &mut a, "SELECT CONNECTION_ID()").await;
    assert_eq!(delta(&b0, &a0, STATEMENTS, &[("route", "local")]), 1.0);
    assert_eq!(delta(&b0, &a0, SHARDS, &[("le", "0")]), 1.0);
    // Idle after a statement; in use while one runs.
    assert_eq!(
        (gauge(&m, "open"), gauge(&m, "idle"), gauge(&m, "in_use")),
        (1.0, 1.0, 0.0)
    );
    let running = tokio::spawn(async move {
        a.query_drop("SELECT SLEEP(0.5)").await.expect("sleep");
        a
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let m = scrape(addr).await;
    assert_eq!((gauge(&m, "in_use"), gauge(&m, "idle")), (1.0, 0.0));
    let mut a = running.await.expect("task");
    // Kept by a transaction: reserved, outside the pool's max.
    a.query_drop("BEGIN").await.expect("begin");
    a.query_drop("SELECT 1 FROM dual").await.expect("in txn");
    let m = scrape(addr).await;
    assert_eq!(gauge(&m, "reserved"), 1.0);
    a.query_drop("COMMIT").await.expect("commit");
    let m = scrape(addr).await;
    assert_eq!(gauge(&m, "reserved"), 0.0);

    // Two statements at once on a pool of one: the second waits.
    let before = scrape(addr).await;
    let (ra, rb) = tokio::join!(
        a.query_drop("SELECT SLEEP(0.5)"),
        b.query_drop("SELECT SLEEP(0.5)")
    );
    ra.expect("a");
    rb.expect("b");
    let after = scrape(addr).await;
    assert_eq!(
        delta(&before, &after, "shardgate_pool_waits_total", &at),
        1.0,
        "two statements on a pool of one: one wait"
    );
    assert_eq!(gauge(&after, "open"), 1.0, "pool_max = 1");
    // A session statement run on the unsharded keyspace's shard is unsharded too (it was
    // single_shard: regression).
    let (b0, a0) = around(addr, &mut a, "SET @x = 1").await;
    assert_eq!(
        delta(
            &b0,
            &a0,
            STATEMENTS,
            &[("kind", "SET"), ("route", "unsharded")]
        ),
        1.0
    );
    drop((a, b));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_follows_a_paused_shard_and_the_shutdown_drain() {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"t": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    let mut spec = EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
        .with_private_shard("customer", "80-");
    spec.server.http_listen = Some("127.0.0.1:0".into());
    spec.server.shutdown_grace_ms = 3000;
    let env = TestEnv::start(spec).await;
    let addr = http_addr(&env);
    let (body, _) = healthz_becomes(addr, 200, Duration::from_secs(10)).await;
    assert!(body.starts_with("ok: 3 shards"), "{body}");

    // A frozen shard: not ready within ~5 s, naming it; /metrics still answers.
    let server = env.private_server("customer", "80-");
    server.pause();
    let (body, took) = healthz_becomes(addr, 503, Duration::from_secs(6)).await;
    assert!(body.contains("customer/80-"), "{body}");
    assert!(!body.contains("customer/-80"), "{body}");
    eprintln!("503 after {took:?}: {body}");
    let m = scrape(addr).await;
    assert_eq!(
        m.get(
            "shardgate_shard_up",
            &[("keyspace", "customer"), ("shard", "80-")]
        ),
        0.0
    );
    assert_eq!(
        m.get(
            "shardgate_shard_up",
            &[("keyspace", "customer"), ("shard", "-80")]
        ),
        1.0
    );
    server.resume();
    let (_, took) = healthz_becomes(addr, 200, Duration::from_secs(6)).await;
    eprintln!("200 again after {took:?}");

    // Draining with a transaction open: not ready, "shutting down".
    let mut config = env.config.clone();
    let http_port = common::proxy_process::free_port();
    config.server.http_listen = Some(format!("127.0.0.1:{http_port}"));
    let proxy =
        ProxyProcess::start(&config, &run_dir().join(format!("proxy-t{}-drain", env.id))).await;
    let proxy_http: SocketAddr = format!("127.0.0.1:{http_port}").parse().expect("addr");
    healthz_becomes(proxy_http, 200, Duration::from_secs(10)).await;
    let mut open = Conn::from_url(proxy.url(Some("customer")).as_str())
        .await
        .expect("connect");
    open.query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY)")
        .await
        .expect("t");
    open.query_drop("BEGIN").await.expect("begin");
    open.query_drop("INSERT INTO t (id) VALUES (1)")
        .await
        .expect("insert");
    proxy.signal(libc::SIGTERM);
    let (body, _) = healthz_becomes(proxy_http, 503, Duration::from_secs(3)).await;
    assert!(body.contains("shutting down"), "{body}");
    open.query_drop("COMMIT")
        .await
        .expect("commit while draining");
    drop(open);
    proxy.stop().await;
    env.stop().await;
}

/// A `shardgate serve` child on `env`'s config with `[log]` = `log` and these environment
/// variables.
async fn logging_proxy(
    env: &TestEnv,
    log: shardgate::metrics::QueryLogSettings,
    envs: &[(&str, &str)],
    tag: &str,
) -> ProxyProcess {
    let mut config = env.config.clone();
    config.log = log;
    config.server.http_listen = None;
    let dir = run_dir().join(format!("proxy-t{}-{tag}", env.id));
    ProxyProcess::start_with_env(&config, &dir, envs).await
}

fn plain_spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"t": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    EnvSpec::default().with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
}

/// One query-log line's fields (values as text, strings unquoted).
type Fields = BTreeMap<String, String>;

/// The fields of a text-format `shardgate::query` line (`key=value`, strings quoted).
fn text_fields(line: &str) -> Option<Fields> {
    let (_, rest) = line.split_once("shardgate::query:")?;
    let mut fields = Fields::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(fields);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            continue; // the message
        }
        chars.next();
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => value.push('\n'),
                        Some(c) => value.push(c),
                        None => break,
                    },
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        fields.insert(key, value);
    }
}

/// The fields of a JSON-format `shardgate::query` line (under `fields`, or flattened).
fn json_fields(line: &str) -> Option<Fields> {
    let v: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    if v.get("target").and_then(|t| t.as_str()) != Some("shardgate::query") {
        return None;
    }
    let object = v
        .get("fields")
        .and_then(|f| f.as_object())
        .or(v.as_object())?;
    let mut fields = Fields::new();
    for (k, val) in object {
        let text = match val {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        fields.insert(k.clone(), text);
    }
    Some(fields)
}

/// Literals of [`LOGGED`]: none may appear in a query-log line.
const LITERALS: [&str; 4] = ["hunter2-literal", "123457", "dup-literal-xyz", "987654"];

/// Statements and what their log line says: (sql, fingerprint, route, shards, rows, error).
const LOGGED: [(&str, &str, &str, &str, &str, &str); 6] = [
    (
        "INSERT INTO t (id, secret) VALUES (123457, 'hunter2-literal')",
        "INSERT INTO t ( id , secret ) VALUES ( ?+ )",
        "single_shard",
        "1",
        "1",
        "0",
    ),
    (
        "SELECT secret FROM t WHERE id = 123457",
        "SELECT secret FROM t WHERE id = ?",
        "single_shard",
        "1",
        "1",
        "0",
    ),
    (
        "SELECT COUNT(*) FROM t WHERE secret = 'hunter2-literal' OR id = 987654",
        "SELECT COUNT ( * ) FROM t WHERE secret = ? OR id = ?",
        "scatter",
        "2",
        "1",
        "0",
    ),
    (
        "INSERT INTO t (id, secret) VALUES (123457, 'dup-literal-xyz')",
        "INSERT INTO t ( id , secret ) VALUES ( ?+ )",
        "single_shard",
        "1",
        "0",
        "1062",
    ),
    // Literals inside an executable comment too (they were logged: regression).
    (
        "SELECT /*!50000 'hunter2-literal' */ secret FROM t WHERE id = 987654",
        "SELECT /*!50000 ? */ secret FROM t WHERE id = ?",
        "single_shard",
        "1",
        "0",
        "0",
    ),
    (
        "HANDLER t OPEN",
        "HANDLER t OPEN",
        "refused",
        "0",
        "0",
        "1235",
    ),
];

/// Runs [`LOGGED`] through `proxy` (sample rate 1) and checks its log, read with `fields`:
/// one line per statement, the fields above, no literal.
async fn check_query_log(proxy: &ProxyProcess, fields: fn(&str) -> Option<Fields>) {
    let mut c = Conn::from_url(proxy.url(Some("customer")).as_str())
        .await
        .expect("connect");
    c.query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY, secret VARCHAR(64))")
        .await
        .expect("t");
    for (sql, ..) in LOGGED {
        let _ = c.query_drop(sql).await;
    }
    drop(c);
    let started = Instant::now();
    let lines: Vec<Fields> = loop {
        let lines: Vec<Fields> = proxy.log().lines().filter_map(fields).collect();
        if lines
            .iter()
            .any(|f| f.get("error").map(String::as_str) == Some("1235"))
        {
            break lines;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no query-log line of the refused statement; log:\n{}",
            proxy.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for line in &lines {
        for literal in LITERALS {
            assert!(
                !line.values().any(|v| v.contains(literal)),
                "literal {literal} logged: {line:?}"
            );
        }
        for key in ["kind", "keyspace", "user", "slow", "duration_ms"] {
            assert!(line.contains_key(key), "no {key}: {line:?}");
        }
    }
    for (i, (sql, fingerprint, route, shards, rows, error)) in LOGGED.iter().enumerate() {
        // The two inserts share their shape: the statement's place among them tells them apart.
        let of_shape: Vec<&Fields> = lines
            .iter()
            .filter(|f| f.get("fingerprint").map(String::as_str) == Some(*fingerprint))
            .collect();
        let same_shape_before = LOGGED[..i].iter().filter(|s| s.1 == *fingerprint).count();
        let same_shape = LOGGED.iter().filter(|s| s.1 == *fingerprint).count();
        assert_eq!(
            of_shape.len(),
            same_shape,
            "{sql}: one line per statement of shape {fingerprint:?}; lines: {lines:#?}"
        );
        let line = of_shape[same_shape_before];
        let get = |k: &str| line.get(k).map(String::as_str).unwrap_or("");
        assert_eq!(get("route"), *route, "{sql}: {line:?}");
        assert_eq!(get("shards"), *shards, "{sql}: {line:?}");
        assert_eq!(get("rows"), *rows, "{sql}: {line:?}");
        assert_eq!(get("error"), *error, "{sql}: {line:?}");
        assert_eq!(get("slow"), "false", "{sql}: {line:?}");
        let ms: f64 = get("duration_ms")
            .parse()
            .unwrap_or_else(|_| panic!("{sql}: duration_ms {line:?}"));
        assert!((0.0..5000.0).contains(&ms), "{sql}: {line:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_log_has_one_line_per_statement_and_no_literal() {
    let env = TestEnv::start(plain_spec()).await;
    let proxy = logging_proxy(
        &env,
        shardgate::metrics::QueryLogSettings {
            query_sample_rate: 1.0,
            slow_query_ms: 0,
        },
        &[],
        "qlog",
    )
    .await;
    check_query_log(&proxy, text_fields).await;
    proxy.stop().await;
    env.stop().await;
}

/// The same with `SHARDGATE_LOG_FORMAT=json`: one JSON object per line, the fields under
/// `fields`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_log_in_json_format() {
    let env = TestEnv::start(plain_spec()).await;
    let proxy = logging_proxy(
        &env,
        shardgate::metrics::QueryLogSettings {
            query_sample_rate: 1.0,
            slow_query_ms: 0,
        },
        &[("SHARDGATE_LOG_FORMAT", "json")],
        "qlog-json",
    )
    .await;
    check_query_log(&proxy, json_fields).await;
    proxy.stop().await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsampled_query_log_keeps_only_slow_statements() {
    let env = TestEnv::start(plain_spec()).await;
    // 25 ms: SLEEP(0.05) is twice that, a plain SELECT on a local server some 1 ms.
    let proxy = logging_proxy(
        &env,
        shardgate::metrics::QueryLogSettings {
            query_sample_rate: 0.0,
            slow_query_ms: 25,
        },
        &[],
        "slowlog",
    )
    .await;
    let mut c = Conn::from_url(proxy.url(Some("commerce")).as_str())
        .await
        .expect("connect");
    c.query_drop("SELECT 2 + 40").await.expect("fast");
    c.query_drop("SELECT SLEEP(0.05)").await.expect("slow");
    c.query_drop("SELECT 3 + 39").await.expect("fast");
    drop(c);
    let started = Instant::now();
    while !proxy.log().lines().any(|l| text_fields(l).is_some()) {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the slow statement was not logged; log:\n{}",
            proxy.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give a wrongly logged fast statement after it time to show.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines: Vec<Fields> = proxy.log().lines().filter_map(text_fields).collect();
    assert_eq!(lines.len(), 1, "only the slow statement: {lines:#?}");
    let line = &lines[0];
    assert_eq!(line["fingerprint"], "SELECT SLEEP ( ?+ )", "{line:?}");
    assert_eq!(line["slow"], "true", "{line:?}");
    let ms: f64 = line["duration_ms"].parse().expect("duration_ms");
    assert!(ms >= 50.0, "{line:?}");
    proxy.stop().await;
    env.stop().await;
}

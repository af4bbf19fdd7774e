//! The operators' HTTP endpoint end to end (issue 20, point 1), against real MariaDB shards:
//! `/metrics` counts statements by kind and route, shards touched, latency per keyspace,
//! errors by code, pool gauges and waits, plan-cache hits, lookup-vindex writes and
//! reclaims, and a backfill's rows and progress ([`routes`], [`lookups`], [`pools`]);
//! `/healthz` follows the shards' health and the shutdown drain ([`health`]); the query log
//! writes one line per statement with its fingerprint and never a literal of it
//! ([`query_log`]).
//!
//! Counters are read as deltas around each action, from the exposition parsed here
//! ([`exposition`]).

#[path = "../common/mod.rs"]
mod common;

mod exposition;
mod health;
mod lookups;
mod pools;
mod query_log;
mod routes;

use common::user_lookups::UserLookups;
use common::{EnvSpec, TestEnv};
use exposition::{get, scrape, Scrape};
use mysql_async::prelude::*;
use mysql_async::Conn;
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Statements by kind and route.
const STATEMENTS: &str = "shardgate_statements_total";
/// The shards-touched histogram's buckets (`le`).
const SHARDS: &str = "shardgate_statement_shards_bucket";
/// Errors by code.
const ERRORS: &str = "shardgate_errors_total";
/// Lookup rows written, by vindex and op.
const WRITES: &str = "shardgate_lookup_writes_total";
/// Orphans reclaimed, by vindex.
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

/// An env of [`lookups_spec`] with its tables (`user` and its lookup tables, `t`), its HTTP
/// address and a client in `customer`.
async fn lookups_env() -> (TestEnv, SocketAddr, Conn) {
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
    (env, addr, c)
}

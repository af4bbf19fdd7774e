//! The differential query checker (issue 15, "Checkers that must now be part of the suite").
//!
//! A seeded random generator (`gen`, `gen_multi`, `values`) writes SELECTs over a small fixed
//! schema (`schema`: `user` sharded by `hash(id)` with a lookup vindex on `name`, `orders` by
//! `hash(user_id)` with a unique lookup vindex on `id`, a reference table; the rows of the
//! sharded-equivalence data set). Every query runs through shardgate on 2 shards and on 4
//! shards and on one plain MariaDB database holding the same rows; each proxy answer must equal
//! the reference's (rows as multisets, in order where the ORDER BY fixes it, column names,
//! types, flags, character sets and decimals as a driver sees them) or be a 1235 refusal
//! (`check`). Differences that are open bugs of issue 15 with their exact shape are excused by
//! the short list in `known`; everything else fails the test, after a report with the seed,
//! the query's number, the query and both answers. Refusals are counted by construct and
//! printed as a table at the end. A quarter of the queries run as prepared statements (binary
//! protocol), most of those with `?` parameters; the fixed cases of `regressions` run first.
//!
//! Environment: `DIFFCHECK_SEED` (default fixed), `DIFFCHECK_QUERIES` (default 500),
//! `DIFFCHECK_START` (first query number: `DIFFCHECK_START=i DIFFCHECK_QUERIES=1` replays
//! query `i` alone), `DIFFCHECK_KNOWN=fail` (excused differences fail too). The long run is
//! `bench/diffcheck`.

mod check;
#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../sharded_equivalence/data.rs"]
mod data;
mod gen;
mod gen_multi;
mod known;
mod regressions;
mod schema;
mod values;

use check::{compare, describe, run, Verdict};
use common::{backend_url, cluster_async, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

/// Seed of the default run.
const DEFAULT_SEED: u64 = 0xd1ff_0015;
/// Queries of the default run (a few hundred, well under a minute).
const DEFAULT_QUERIES: u64 = 500;
/// Mismatch reports kept in full.
const MAX_REPORTS: usize = 40;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => {
            let v = v.trim();
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number"))
        }
        Err(_) => default,
    }
}

/// One proxy under test.
struct Side {
    shards: usize,
    env: TestEnv,
    conn: Conn,
}

impl Side {
    async fn start(shards: usize) -> Side {
        let env = TestEnv::start(schema::spec(shards)).await;
        let mut conn = Self::connect(&env).await;
        schema::load_env(&env, shards, &mut conn).await;
        Side { shards, env, conn }
    }

    async fn connect(env: &TestEnv) -> Conn {
        let mut conn = env.client().await;
        conn.query_drop(format!("USE {}", schema::KEYSPACE))
            .await
            .expect("USE customer through the proxy");
        conn
    }
}

/// Per shard count: what happened.
#[derive(Default)]
struct Tally {
    same: u64,
    /// Queries whose rows were equal (column definitions aside).
    rows_equal: u64,
    refused: u64,
    mismatches: u64,
    /// Queries excused, by known bug.
    excused: BTreeMap<&'static str, u64>,
    /// Distinct kinds of new differences (field and values, or the row difference).
    kinds: BTreeMap<String, u64>,
}

#[derive(Default)]
struct Run {
    tallies: BTreeMap<usize, Tally>,
    refusals: BTreeMap<String, (u64, String)>,
    reports: Vec<String>,
    reference_errors: BTreeMap<u16, (u64, String)>,
}

impl Run {
    fn record(
        &mut self,
        seed: u64,
        i: u64,
        q: &gen::Query,
        shards: usize,
        exp: &check::Answer,
        got: &check::Answer,
    ) {
        let verdict = compare(q, exp, got);
        let strict = known::strict();
        let t = self.tallies.entry(shards).or_default();
        match verdict {
            Verdict::Same => {
                t.same += 1;
                t.rows_equal += 1;
            }
            Verdict::Refused(message) => {
                t.refused += 1;
                let e = self
                    .refusals
                    .entry(known::construct(&message))
                    .or_insert((0, q.sql.clone()));
                e.0 += 1;
            }
            Verdict::Differs {
                meta,
                rows,
                same_multiset,
            } => {
                let mut new = false;
                let mut excused = std::collections::BTreeSet::new();
                let mut annotated = Vec::new();
                for m in meta {
                    let item = known::meta_item(q, &m);
                    match item {
                        Some(item) if !strict => {
                            excused.insert(item);
                        }
                        _ => {
                            new = true;
                            let kind = format!(
                                "column {}: {} -> {} ({})",
                                m.field, m.expected, m.got, m.expected_col.name
                            );
                            *t.kinds.entry(kind).or_default() += 1;
                        }
                    }
                    annotated.push((m, item));
                }
                if rows.is_none() {
                    t.rows_equal += 1;
                }
                if let Some(r) = &rows {
                    match known::rows_item(q, exp, got) {
                        Some(item) if !strict => {
                            excused.insert(item);
                        }
                        _ => {
                            new = true;
                            let order = if same_multiset { " (order only)" } else { "" };
                            *t.kinds.entry(format!("rows: {r}{order}")).or_default() += 1;
                        }
                    }
                }
                for item in excused {
                    *t.excused.entry(item).or_default() += 1;
                }
                let meta = annotated;
                if new {
                    t.mismatches += 1;
                    if self.reports.len() < MAX_REPORTS {
                        self.reports.push(format!(
                            "--- seed {seed:#x} query {i} ({shards} shards; {}; order {:?}; {}): {}{}\n{}",
                            if q.prepared { "prepared" } else { "text" },
                            q.order,
                            rows.as_deref().unwrap_or("column definitions differ"),
                            q.sql,
                            if q.params.is_empty() {
                                String::new()
                            } else {
                                let p: Vec<String> = q.params.iter().map(|v| v.as_sql(true)).collect();
                                format!("  [params: {}]", p.join(", "))
                            },
                            describe(q, exp, got, &meta)
                        ));
                    }
                }
            }
        }
    }

    fn summary(&self, seed: u64, start: u64, count: u64, elapsed: std::time::Duration) -> String {
        let mut s = format!(
            "differential checker: seed {seed:#x}, queries {start}..{} ({count}) in {elapsed:?}\n",
            start + count
        );
        for (shards, t) in &self.tallies {
            let excused: Vec<String> = t
                .excused
                .iter()
                .map(|(item, n)| format!("{item} ×{n}"))
                .collect();
            let _ = writeln!(
                s,
                "  {shards} shards: {} equal ({} with equal rows), {} refused (1235), {} MISMATCHES, excused known bugs: [{}]",
                t.same,
                t.rows_equal,
                t.refused,
                t.mismatches,
                excused.join(", ")
            );
            let mut kinds: Vec<(&String, &u64)> = t.kinds.iter().collect();
            kinds.sort_by(|a, b| b.1.cmp(a.1));
            for (kind, n) in kinds.iter().take(60) {
                let _ = writeln!(s, "      new difference ×{n}: {kind}");
            }
        }
        if !self.reference_errors.is_empty() {
            let _ = writeln!(
                s,
                "  reference errors (generator): {:?}",
                self.reference_errors
            );
        }
        let mut by_count: Vec<(&String, &(u64, String))> = self.refusals.iter().collect();
        by_count.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        let _ = writeln!(
            s,
            "  refusals by construct (both shard counts; count | message | example):"
        );
        for (construct, (n, example)) in by_count {
            let _ = writeln!(s, "  {n:>6} | {construct} | {example}");
        }
        s
    }
}

#[test]
fn generator_is_reproducible_and_valid() {
    let pool = values::Pool::new(&schema::users());
    for i in 0..2000 {
        let a = gen::query(&pool, 7, i);
        let b = gen::query(&pool, 7, i);
        assert_eq!(a.sql, b.sql);
        assert!(!a.sql.contains('ß'), "item 9 characters in {}", a.sql);
        if let gen::OrderCheck::Keys(k) = &a.order {
            assert!(!k.is_empty());
        }
    }
    assert_ne!(gen::query(&pool, 7, 1).sql, gen::query(&pool, 8, 1).sql);
    assert_eq!(check::fold("ÉRIN  "), "erin");
    assert_eq!(check::fold("Zoë"), check::fold("ZOE"));
    assert_eq!(
        known::construct("LIMIT 12 on 'x1' more"),
        "LIMIT N on '…' more"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_answers_equal_one_mariadb() {
    let seed = env_u64("DIFFCHECK_SEED", DEFAULT_SEED);
    let count = env_u64("DIFFCHECK_QUERIES", DEFAULT_QUERIES);
    let start = env_u64("DIFFCHECK_START", 0);
    let started = Instant::now();

    let port = cluster_async().await.servers[0].port;
    let mut admin = Conn::from_url(backend_url(port, None))
        .await
        .expect("connecting to shared server 0");
    let refdb = format!("diffref_{}", std::process::id());
    admin
        .query_drop(format!("CREATE DATABASE `{refdb}`"))
        .await
        .expect("creating the reference database");
    let mut reference = Conn::from_url(backend_url(port, Some(&refdb)))
        .await
        .expect("connecting to the reference database");
    schema::load_reference(&mut reference).await;
    let mut sides = vec![Side::start(2).await, Side::start(4).await];
    let setup = started.elapsed();

    let pool = values::Pool::new(&schema::users());
    let mut run_state = Run::default();
    // The fixed regression cases first (numbered from u64::MAX down in reports), then the
    // generated queries.
    let fixed = regressions::cases();
    let numbered = fixed
        .into_iter()
        .enumerate()
        .map(|(k, q)| (u64::MAX - k as u64, q))
        .chain((start..start + count).map(|i| (i, gen::query(&pool, seed, i))));
    for (i, q) in numbered {
        // MariaDB does not know Vitess's vindex hints: the reference runs the text without.
        let plain = shardgate::sql::vindex_hints::strip(&q.sql).0.into_owned();
        let expected = run(&mut reference, &plain, q.prepared, &q.params).await;
        if let check::Answer::Broken(m) = &expected {
            panic!("the reference database failed on {}: {m}", q.sql);
        }
        if let check::Answer::Failed { code, message } = &expected {
            let e = run_state
                .reference_errors
                .entry(*code)
                .or_insert((0, format!("{message} in {}", q.sql)));
            e.0 += 1;
        }
        for side in &mut sides {
            let got = run(&mut side.conn, &q.sql, q.prepared, &q.params).await;
            if matches!(got, check::Answer::Broken(_)) {
                side.conn = Side::connect(&side.env).await;
            }
            if sets_last_insert_id(&q.sql) && refused(&got) && !refused(&expected) {
                // MariaDB set the session's LAST_INSERT_ID, the proxy refused the statement
                // (LAST_INSERT_ID(expr) over several shards): carry MariaDB's value over so
                // later `LAST_INSERT_ID()` reads compare the same session state.
                let v = run(&mut reference, "SELECT LAST_INSERT_ID()", false, &[]).await;
                if let check::Answer::Rows { rows, .. } = v {
                    if let Some(Some(id)) = rows.first().and_then(|r| r.first()) {
                        let sql = format!("SELECT LAST_INSERT_ID({id})");
                        let _ = run(&mut side.conn, &sql, false, &[]).await;
                    }
                }
            }
            run_state.record(seed, i, &q, side.shards, &expected, &got);
        }
    }
    let summary = run_state.summary(seed, start, count, started.elapsed());
    eprintln!("{summary}  (setup {setup:?})");

    for side in sides {
        let _ = side.conn.disconnect().await;
        side.env.stop().await;
    }
    let _ = reference.disconnect().await;
    admin
        .query_drop(format!("DROP DATABASE IF EXISTS `{refdb}`"))
        .await
        .expect("dropping the reference database");
    let _ = admin.disconnect().await;

    if !run_state.reports.is_empty() {
        panic!(
            "{summary}\n=== differences (replay one: DIFFCHECK_SEED={seed:#x} DIFFCHECK_START=<query> DIFFCHECK_QUERIES=1) ===\n{}",
            run_state.reports.join("\n")
        );
    }
    assert!(
        run_state
            .reference_errors
            .values()
            .map(|e| e.0)
            .sum::<u64>()
            * 20
            <= count,
        "the generator wrote too many statements the reference rejects: {:?}",
        run_state.reference_errors
    );
}

/// Whether `sql` may set the session's LAST_INSERT_ID (`LAST_INSERT_ID(expr)`).
fn sets_last_insert_id(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    upper.match_indices("LAST_INSERT_ID(").any(|(at, m)| {
        upper[at + m.len()..]
            .trim_start()
            .chars()
            .next()
            .is_some_and(|c| c != ')')
    })
}

/// A 1235 refusal.
fn refused(a: &check::Answer) -> bool {
    matches!(a, check::Answer::Failed { code: 1235, .. })
}

//! Criterion micro-benchmarks of planning statements on a sharded keyspace, with and without
//! the plan cache.
//!
//! A text statement on a sharded keyspace gets its plan from [`PlanCache::get_or_plan_text`]:
//! on a **hit** (a statement of a template already planned, with other literals) that costs a
//! parameterize, a hash map lookup and a bind; on a **miss** the statement is parsed and
//! planned in full. This bench measures both on a two-table sharded VSchema (sysbench's
//! `sbtest1`, `id` by `hash`) built from JSON here, as the planner's tests do:
//!
//! * `plan_cache_hit`: `get_or_plan_text` on a warm cache, cycling through statements that
//!   differ from the warm-up one only in their literals (a setup check asserts that none of
//!   them is planned again);
//! * `plan_miss`: `planner::plan` of the statement text (parse + plan), what a cold cache or an
//!   uncacheable statement costs;
//! * `plan_cache_miss`: `get_or_plan_text` on an empty cache, i.e. the miss path end to end
//!   (parameterize, plan the template, bind, store).
//!
//! Run with `cargo bench --bench planner` (see `bench/README.md`); `cargo test --all-targets`
//! runs each benchmark once as a smoke test.

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use serde_json::json;
use shardgate::planner;
use shardgate::server::PlanCache;
use shardgate::session::Target;
use shardgate::sql;
use shardgate::vschema::{KeyspaceSchema, VSchema};
use std::collections::BTreeMap;
use std::hint::black_box;

/// The sharded keyspace the statements target.
const KEYSPACE: &str = "sbtest";

/// A VSchema with one sharded keyspace: sysbench's `sbtest1` and a `user` table, both by
/// `hash` on `id`.
fn vschema() -> VSchema {
    let sbtest = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {
            "sbtest1": {"column_vindexes": [{"column": "id", "name": "hash"}]},
            "user": {"column_vindexes": [{"column": "id", "name": "hash"}]}
        }
    });
    let keyspaces = vec![KeyspaceSchema::from_value(KEYSPACE, sbtest).expect("sbtest vschema")];
    VSchema::build(keyspaces, BTreeMap::new()).expect("vschema")
}

/// The session's `USE sbtest` target.
fn target() -> Target {
    Target {
        keyspace: KEYSPACE.into(),
        shard: None,
    }
}

/// One benchmarked statement shape: its name and its text for a given id.
struct Case {
    name: &'static str,
    text: fn(u64) -> String,
}

/// A 119-character sysbench `c` value (its content does not matter to the planner).
const C: &str = "68487932199-96439406143-93774651418-41631865787-96406072701-\
                 20604855487-25459966574-28203206787-41238978918-19503783441";

/// A 59-character sysbench `pad` value.
const PAD: &str = "22195207048-70116052123-74140395089-76317954521-98694025897";

/// Point select by id, an IN list, a scatter range select, an UPDATE by id and an INSERT.
fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "point_select",
            text: |id| format!("SELECT c FROM sbtest1 WHERE id={id}"),
        },
        Case {
            name: "in_list_10",
            text: |id| {
                let ids: Vec<String> = (id..id + 10).map(|i| i.to_string()).collect();
                format!("SELECT c FROM sbtest1 WHERE id IN ({})", ids.join(", "))
            },
        },
        Case {
            name: "scatter_range",
            text: |id| {
                format!(
                    "SELECT c FROM sbtest1 WHERE id BETWEEN {id} AND {}",
                    id + 99
                )
            },
        },
        Case {
            name: "update_by_id",
            text: |id| format!("UPDATE sbtest1 SET k=k+1 WHERE id={id}"),
        },
        Case {
            name: "insert",
            text: |id| {
                format!("INSERT INTO sbtest1 (id, k, c, pad) VALUES ({id}, 4, '{C}', '{PAD}')")
            },
        },
    ]
}

/// How many distinct statements of each shape the hit benchmark cycles through.
const VARIANTS: u64 = 16;

/// Cache hits: the template is planned once in setup, then each iteration plans a statement of
/// the same template with other literals.
fn bench_hit(c: &mut Criterion) {
    let vs = vschema();
    let t = target();
    let mut g = c.benchmark_group("plan_cache_hit");
    for case in cases() {
        let cache = PlanCache::default();
        let warm = (case.text)(1);
        cache
            .get_or_plan_text(&warm, sql::classify(&warm), &vs, Some(&t))
            .expect("warm-up plan");
        let texts: Vec<(String, sql::StatementKind)> = (0..VARIANTS)
            .map(|i| {
                let text = (case.text)(5000 + i * 7919);
                let kind = sql::classify(&text);
                (text, kind)
            })
            .collect();
        let misses = cache.misses();
        for (text, kind) in &texts {
            cache
                .get_or_plan_text(text, *kind, &vs, Some(&t))
                .expect("plan");
        }
        assert_eq!(
            cache.misses(),
            misses,
            "{}: statements of one template must hit the cache",
            case.name
        );
        let mut next = 0usize;
        g.bench_function(BenchmarkId::from_parameter(case.name), |b| {
            b.iter(|| {
                let (text, kind) = &texts[next % texts.len()];
                next = next.wrapping_add(1);
                cache
                    .get_or_plan_text(black_box(text), *kind, &vs, Some(&t))
                    .expect("plan")
            });
        });
    }
    g.finish();
}

/// Misses: `planner::plan` of the statement's own text, no cache involved.
fn bench_miss(c: &mut Criterion) {
    let vs = vschema();
    let t = target();
    let mut g = c.benchmark_group("plan_miss");
    for case in cases() {
        let text = (case.text)(5012);
        planner::plan(&text, &vs, Some(&t)).expect("plan");
        g.bench_function(BenchmarkId::from_parameter(case.name), |b| {
            b.iter(|| planner::plan(black_box(&text), &vs, Some(&t)).expect("plan"));
        });
    }
    g.finish();
}

/// Misses through the cache: `get_or_plan_text` on a new, empty cache each iteration.
fn bench_cache_miss(c: &mut Criterion) {
    let vs = vschema();
    let t = target();
    let mut g = c.benchmark_group("plan_cache_miss");
    for case in cases() {
        let text = (case.text)(5012);
        let kind = sql::classify(&text);
        g.bench_function(BenchmarkId::from_parameter(case.name), |b| {
            b.iter_batched_ref(
                PlanCache::default,
                |cache| {
                    cache
                        .get_or_plan_text(black_box(&text), kind, &vs, Some(&t))
                        .expect("plan")
                },
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

criterion_group!(benches, bench_hit, bench_miss, bench_cache_miss);
criterion_main!(benches);

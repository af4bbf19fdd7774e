//! Criterion micro-benchmark of what every client statement pays for observability:
//! [`Metrics::record_statement`] (counters, histograms, the statement-shape table with its
//! fingerprint, the query log's sampling decision), for a sysbench point select and for a
//! 100-row INSERT.
//!
//! Run with `cargo bench --bench metrics` (figures in `bench/README.md`); `cargo test
//! --all-targets` runs it once as a smoke test.

use criterion::{criterion_group, criterion_main, Criterion};
use shardgate::metrics::{Metrics, QueryLogSettings, RouteKind, StatementRecord};
use std::hint::black_box;
use std::time::Duration;

fn record(c: &mut Criterion) {
    let metrics = Metrics::new(QueryLogSettings::default());
    let insert = format!(
        "INSERT INTO sbtest1 (id, k, c, pad) VALUES {}",
        (0..100)
            .map(|i| format!("({i}, {i}, '83868641912-28773972837', '67847967377-48000963322')"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (name, text) in [
        (
            "point_select",
            "SELECT c FROM sbtest1 WHERE id=5012".to_string(),
        ),
        ("insert_100_rows", insert),
    ] {
        c.bench_function(&format!("record_statement/{name}"), |b| {
            b.iter(|| {
                metrics.record_statement(black_box(&StatementRecord {
                    text: &text,
                    kind: "SELECT",
                    route: RouteKind::SingleShard,
                    keyspace: "customer",
                    shards: 1,
                    rows: 1,
                    duration: Duration::from_micros(180),
                    error: None,
                    user: "sbtest",
                }))
            })
        });
    }
}

criterion_group!(benches, record);
criterion_main!(benches);

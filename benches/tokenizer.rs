//! Criterion micro-benchmarks of the SQL text helpers on the proxy's hot path.
//!
//! Every text statement the proxy routes is tokenized, classified, split, parameterized (for the
//! plan cache's template key) and fingerprinted (for statistics) before any plan is looked up,
//! so these functions cost something on every query. The statements are the ones sysbench's
//! `oltp_point_select` and `oltp_read_write` send, with sysbench-sized `c` (119 characters)
//! and `pad` (59 characters) strings, plus a long one: a 100-row INSERT.
//!
//! Run with `cargo bench --bench tokenizer` (see `bench/README.md`); `cargo test --all-targets`
//! runs each benchmark once as a smoke test.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shardgate::sql::{self, StatementKind};
use std::hint::black_box;

/// A sysbench-shaped `c` value: ten groups of eleven digits joined by `-` (119 characters).
fn sysbench_c(seed: u64) -> String {
    digit_groups(seed, 10)
}

/// A sysbench-shaped `pad` value: five groups of eleven digits joined by `-` (59 characters).
fn sysbench_pad(seed: u64) -> String {
    digit_groups(seed, 5)
}

/// `groups` groups of eleven pseudo-random digits joined by `-`, deterministic in `seed`.
fn digit_groups(seed: u64, groups: usize) -> String {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut out = String::with_capacity(groups * 12);
    for g in 0..groups {
        if g > 0 {
            out.push('-');
        }
        for _ in 0..11 {
            // xorshift64: cheap, deterministic digits.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.push(char::from(b'0' + (x % 10) as u8));
        }
    }
    out
}

/// The benchmarked statements, by name: sysbench's point select and read_write statements and
/// a 100-row INSERT.
fn statements() -> Vec<(&'static str, String)> {
    let c = sysbench_c(1);
    let pad = sysbench_pad(2);
    let mut long = String::from("INSERT INTO sbtest1 (id, k, c, pad) VALUES ");
    for i in 1..=100u64 {
        if i > 1 {
            long.push_str(", ");
        }
        long.push_str(&format!(
            "({i}, {}, '{}', '{}')",
            4000 + i,
            sysbench_c(i),
            sysbench_pad(i + 1000)
        ));
    }
    vec![
        ("point_select", "SELECT c FROM sbtest1 WHERE id=5012".into()),
        (
            "range_select",
            "SELECT c FROM sbtest1 WHERE id BETWEEN 1 AND 100".into(),
        ),
        (
            "sum_range",
            "SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN 1 AND 100".into(),
        ),
        (
            "order_range",
            "SELECT c FROM sbtest1 WHERE id BETWEEN 1 AND 100 ORDER BY c".into(),
        ),
        (
            "distinct_range",
            "SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 1 AND 100 ORDER BY c".into(),
        ),
        ("update_index", "UPDATE sbtest1 SET k=k+1 WHERE id=5".into()),
        (
            "update_non_index",
            format!("UPDATE sbtest1 SET c='{c}' WHERE id=5"),
        ),
        ("delete", "DELETE FROM sbtest1 WHERE id=5".into()),
        (
            "insert",
            format!("INSERT INTO sbtest1 (id, k, c, pad) VALUES (5, 4, '{c}', '{pad}')"),
        ),
        ("insert_100_rows", long),
    ]
}

/// Runs `f` on every statement as one benchmark group, with the statement's length as
/// throughput so the report also gives bytes per second.
fn group<R>(c: &mut Criterion, name: &str, f: impl Fn(&str) -> R) {
    let mut g = c.benchmark_group(name);
    for (id, text) in statements() {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(id), text.as_str(), |b, t| {
            b.iter(|| f(black_box(t)));
        });
    }
    g.finish();
}

/// `tokenize`: the full token vector.
fn bench_tokenize(c: &mut Criterion) {
    group(c, "tokenize", sql::tokenize);
}

/// `classify`: the statement kind from the leading keywords.
fn bench_classify(c: &mut Criterion) {
    group(c, "classify", sql::classify);
}

/// `split_statements`: one statement, so this is the cost of scanning for top-level `;`.
fn bench_split(c: &mut Criterion) {
    group(c, "split_statements", |t| sql::split_statements(t).len());
}

/// `parameterize`: the plan cache's template and literals (the kind is computed outside).
fn bench_parameterize(c: &mut Criterion) {
    let mut g = c.benchmark_group("parameterize");
    for (id, text) in statements() {
        let kind: StatementKind = sql::classify(&text);
        assert!(
            sql::parameterize(&text, kind).is_some(),
            "{id} has literals to parameterize"
        );
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(id), text.as_str(), |b, t| {
            b.iter(|| sql::parameterize(black_box(t), kind));
        });
    }
    g.finish();
}

/// `fingerprint`: the normalized shape and its hash.
fn bench_fingerprint(c: &mut Criterion) {
    group(c, "fingerprint", sql::fingerprint);
}

criterion_group!(
    benches,
    bench_tokenize,
    bench_classify,
    bench_split,
    bench_parameterize,
    bench_fingerprint
);
criterion_main!(benches);

//! Criterion micro-benchmarks of the functional vindexes: one value to a keyspace id, and a
//! batch of 100 values.
//!
//! Routing a statement by a vindex column maps each literal through its vindex (an IN list or
//! a multi-row INSERT maps many at once), so this is a per-query cost of every sharded
//! statement. Every vindex is built by type name through the registry
//! ([`shardgate::vindex::create_vindex`]), as the VSchema loader builds them. Integer values
//! (`INT64`) go to the numeric types, strings (`VARCHAR`, an e-mail-like text) to the byte
//! hashing types, and `[region, id]` rows to `region_experimental` (through `map_multi`).
//!
//! Run with `cargo bench --bench vindex` (see `bench/README.md`); `cargo test --all-targets`
//! runs each benchmark once as a smoke test.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use shardgate::vindex::{create_vindex, Destination, SqlValue, Vindex};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

/// How many values the batch benchmarks map in one call.
const BATCH: usize = 100;

/// What kind of input a vindex type takes.
#[derive(Clone, Copy)]
enum Input {
    /// `INT64` ids.
    Int,
    /// `VARCHAR` strings.
    Text,
    /// `[region, id]` rows (`region_experimental`).
    RegionRow,
}

/// The benchmarked types: the vindex type name, its params and its input kind.
fn types() -> Vec<(&'static str, BTreeMap<String, String>, Input)> {
    let none = BTreeMap::new;
    let static_map: String = {
        let pairs: Vec<String> = (0..BATCH as u64)
            .map(|i| format!("\"{}\": {}", 5000 + 2 * i, 1_000_000 + i))
            .collect();
        format!("{{{}}}", pairs.join(", "))
    };
    vec![
        ("hash", none(), Input::Int),
        ("xxhash", none(), Input::Text),
        ("unicode_loose_md5", none(), Input::Text),
        ("unicode_loose_xxhash", none(), Input::Text),
        ("binary_md5", none(), Input::Text),
        ("numeric", none(), Input::Int),
        ("reverse_bits", none(), Input::Int),
        ("binary", none(), Input::Text),
        ("null", none(), Input::Int),
        (
            // Half the ids are in the table, the others go to the hash fallback.
            "numeric_static_map",
            BTreeMap::from([
                ("json".to_owned(), static_map),
                ("fallback_type".to_owned(), "hash".to_owned()),
            ]),
            Input::Int,
        ),
        (
            "region_experimental",
            BTreeMap::from([("region_bytes".to_owned(), "1".to_owned())]),
            Input::RegionRow,
        ),
    ]
}

/// The `i`-th input row of `kind` (one value, or two for a region row).
fn row(kind: Input, i: usize) -> Vec<SqlValue> {
    let id = 5000 + i as i64;
    match kind {
        Input::Int => vec![SqlValue::int64(id)],
        Input::Text => vec![SqlValue::varchar(format!("User.{id}@Example.com"))],
        Input::RegionRow => vec![SqlValue::int64(i as i64 % 4), SqlValue::int64(id)],
    }
}

/// Maps `rows` through `v`, the way the router does for the input kind.
fn map(v: &dyn Vindex, kind: Input, rows: &[Vec<SqlValue>], values: &[SqlValue]) -> usize {
    let out = match kind {
        Input::RegionRow => v.map_multi(rows),
        Input::Int | Input::Text => v.map(values),
    }
    .expect("map");
    out.len()
}

/// One value and a batch of [`BATCH`] values for every type.
fn bench_vindexes(c: &mut Criterion) {
    let mut one = c.benchmark_group("vindex_map_1");
    let built: Vec<(&str, Arc<dyn Vindex>, Input)> = types()
        .into_iter()
        .map(|(ty, params, kind)| {
            let v = create_vindex(ty, ty, &params).expect("vindex");
            (ty, v, kind)
        })
        .collect();
    for (ty, v, kind) in &built {
        let rows = vec![row(*kind, 0)];
        let values: Vec<SqlValue> = rows.iter().map(|r| r[0].clone()).collect();
        let dest = match kind {
            Input::RegionRow => v.map_multi(&rows),
            _ => v.map(&values),
        }
        .expect("map");
        assert!(
            matches!(dest[0], Destination::KeyspaceId(_)),
            "{ty} maps to one keyspace id"
        );
        one.bench_function(BenchmarkId::from_parameter(ty), |b| {
            b.iter(|| map(v.as_ref(), *kind, black_box(&rows), black_box(&values)));
        });
    }
    one.finish();

    let mut batch = c.benchmark_group("vindex_map_100");
    batch.throughput(Throughput::Elements(BATCH as u64));
    for (ty, v, kind) in &built {
        let rows: Vec<Vec<SqlValue>> = (0..BATCH).map(|i| row(*kind, i)).collect();
        let values: Vec<SqlValue> = rows.iter().map(|r| r[0].clone()).collect();
        batch.bench_function(BenchmarkId::from_parameter(ty), |b| {
            b.iter(|| map(v.as_ref(), *kind, black_box(&rows), black_box(&values)));
        });
    }
    batch.finish();
}

criterion_group!(benches, bench_vindexes);
criterion_main!(benches);

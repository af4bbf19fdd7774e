//! Property tests: a data set split arbitrarily across 1–4 shards, each shard's partial result
//! computed the way MariaDB would (by a small reference evaluator written here, independent of
//! the merge code), merged, and compared with the reference result over the whole set.

use std::collections::{BTreeMap, BTreeSet};

use mysql_async::Value;
use mysql_common::packets::Column;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::aggregate::{merge_aggregates, AggregateSpec};
use super::decimal::format_double;
use super::distinct::{distinct_rows, DistinctOrder};
use super::limit::apply_limit;
use super::merge_sort::merge_sorted;
use super::test_support::*;
use super::{OrderBy, Row};

/// One row of table `t(g VARCHAR utf8mb4_general_ci, x INT, d DECIMAL(10,2), f DOUBLE)`.
#[derive(Debug, Clone)]
struct R {
    g: Option<&'static str>,
    x: Option<i64>,
    /// `d` in cents.
    d: Option<i64>,
    f: Option<f64>,
}

const NAMES: &[&str] = &["a", "A", "á", "b", "B ", "c", "ß", "S", "s  "];
const DOUBLES: &[f64] = &[0.5, 1.25, -2.0, 3.75, 100.0, -0.25];

fn random_rows(rng: &mut StdRng) -> Vec<R> {
    let n = rng.gen_range(0..40);
    (0..n)
        .map(|_| R {
            g: rng
                .gen_bool(0.9)
                .then(|| NAMES[rng.gen_range(0..NAMES.len())]),
            x: rng.gen_bool(0.85).then(|| rng.gen_range(-50..50)),
            d: rng.gen_bool(0.85).then(|| rng.gen_range(-100_000..100_000)),
            f: rng
                .gen_bool(0.85)
                .then(|| DOUBLES[rng.gen_range(0..DOUBLES.len())]),
        })
        .collect()
}

/// Splits rows across 1–4 shards at random, keeping each row's relative order.
fn split(rng: &mut StdRng, rows: &[R]) -> Vec<Vec<R>> {
    let shards = rng.gen_range(1..=4);
    let mut out = vec![Vec::new(); shards];
    for r in rows {
        out[rng.gen_range(0..shards)].push(r.clone());
    }
    out
}

/// The reference `utf8mb4_general_ci` equivalence for NAMES: case, accent, `ß = s`, trailing
/// spaces.
fn fold(name: &str) -> String {
    name.trim_end_matches(' ')
        .to_lowercase()
        .replace('á', "a")
        .replace('ß', "s")
}

fn fold_opt(name: Option<&str>) -> Option<String> {
    name.map(fold)
}

/// `value / 10^scale` as MySQL prints a DECIMAL with `scale` digits.
fn fixed(value: i128, scale: u32) -> String {
    let unit = 10i128.pow(scale);
    let sign = if value < 0 { "-" } else { "" };
    let (int, frac) = (value.abs() / unit, value.abs() % unit);
    if scale == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac:0width$}", width = scale as usize)
    }
}

/// `n / d` rounded half away from zero.
fn div_round(n: i128, d: i128) -> i128 {
    let q = (n.abs() * 2 + d) / (2 * d);
    if n < 0 {
        -q
    } else {
        q
    }
}

fn text(value: Option<String>) -> Value {
    value.map_or(Value::NULL, |s| Value::Bytes(s.into_bytes()))
}

/// What a shard returns for
/// `SELECT g, COUNT(*), SUM(x), COUNT(x), MIN(x), MAX(x), SUM(d), COUNT(d), SUM(f), COUNT(f),
/// MAX(g) FROM t [GROUP BY g]` over `rows`, in MariaDB's output format.
fn shard_partials(rows: &[R], grouped: bool) -> Vec<Row> {
    let mut groups: BTreeMap<Option<String>, Vec<&R>> = BTreeMap::new();
    for r in rows {
        let key = if grouped { fold_opt(r.g) } else { None };
        groups.entry(key).or_default().push(r);
    }
    if !grouped && groups.is_empty() {
        groups.insert(None, Vec::new());
    }
    groups
        .into_values()
        .map(|members| partial_row(&members))
        .collect()
}

fn partial_row(members: &[&R]) -> Row {
    let xs: Vec<i64> = members.iter().filter_map(|r| r.x).collect();
    let ds: Vec<i64> = members.iter().filter_map(|r| r.d).collect();
    let fs: Vec<f64> = members.iter().filter_map(|r| r.f).collect();
    let max_g = members
        .iter()
        .filter_map(|r| r.g)
        .fold(None::<&str>, |best, g| match best {
            Some(b) if fold(g) <= fold(b) => Some(b),
            _ => Some(g),
        });
    let some = |present: bool, s: String| present.then_some(s);
    vec![
        text(members.first().and_then(|r| r.g).map(str::to_string)),
        text(Some(members.len().to_string())),
        text(some(!xs.is_empty(), xs.iter().sum::<i64>().to_string())),
        text(Some(xs.len().to_string())),
        text(xs.iter().min().map(i64::to_string)),
        text(xs.iter().max().map(i64::to_string)),
        text(some(
            !ds.is_empty(),
            fixed(i128::from(ds.iter().sum::<i64>()), 2),
        )),
        text(Some(ds.len().to_string())),
        text(some(!fs.is_empty(), format_double(fs.iter().sum()))),
        text(Some(fs.len().to_string())),
        text(max_g.map(str::to_string)),
    ]
}

fn shard_columns() -> Vec<Column> {
    vec![
        general_col(),
        count_col(),
        sum_of_int_col(),
        count_col(),
        int_col(),
        int_col(),
        sum_of_decimal_col(10, 2),
        count_col(),
        sum_of_double_col(),
        count_col(),
        general_col(),
    ]
}

fn specs(grouped: bool) -> Vec<AggregateSpec> {
    use AggregateSpec::*;
    let mut specs = vec![
        Count { column: 1 },
        Sum { column: 2 },
        Avg {
            sum_column: 2,
            count_column: 3,
        },
        Min { column: 4 },
        Max { column: 5 },
        Sum { column: 6 },
        Avg {
            sum_column: 6,
            count_column: 7,
        },
        Sum { column: 8 },
        Avg {
            sum_column: 8,
            count_column: 9,
        },
        Max { column: 10 },
    ];
    if grouped {
        specs.insert(0, GroupKey { column: 0 });
    }
    specs
}

/// The reference answer over the whole data set, with string columns folded.
fn expected(rows: &[R], grouped: bool) -> Vec<Vec<Option<String>>> {
    shard_partials(rows, grouped)
        .into_iter()
        .map(|partial| {
            let get = |i: usize| match &partial[i] {
                Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
                _ => None,
            };
            let int = |i: usize| get(i).map_or(0, |s| s.parse::<i128>().unwrap_or(0));
            let cents = |i: usize| get(i).map(|s| s.replace('.', "").parse::<i128>().unwrap_or(0));
            let avg_x = get(2).map(|_| fixed(div_round(int(2) * 10_000, int(3)), 4));
            let avg_d = cents(6).map(|c| fixed(div_round(c * 10_000, int(7)), 6));
            let avg_f =
                get(8).map(|s| format_double(s.parse::<f64>().unwrap_or(0.0) / int(9) as f64));
            let mut out = vec![
                get(1),
                get(2),
                avg_x,
                get(4),
                get(5),
                get(6),
                avg_d,
                get(8),
                avg_f,
                get(10).map(|s| fold(&s)),
            ];
            if grouped {
                out.insert(0, get(0).map(|s| fold(&s)));
            }
            out
        })
        .collect()
}

fn folded(rows: &[Row], folded_columns: &[usize]) -> Vec<Vec<Option<String>>> {
    rows.iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Bytes(b) => {
                        let s = String::from_utf8_lossy(b).into_owned();
                        Some(if folded_columns.contains(&i) {
                            fold(&s)
                        } else {
                            s
                        })
                    }
                    _ => None,
                })
                .collect()
        })
        .collect()
}

#[test]
fn aggregates_merge_like_one_database() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0001);
    for round in 0..300 {
        let rows = random_rows(&mut rng);
        let shards = split(&mut rng, &rows);
        for grouped in [false, true] {
            let inputs = shards.iter().map(|s| shard_partials(s, grouped)).collect();
            let merged = merge_aggregates(inputs, &shard_columns(), &specs(grouped)).unwrap();
            let fold_cols: &[usize] = if grouped { &[0, 10] } else { &[9] };
            assert_eq!(
                folded(&merged.rows, fold_cols),
                expected(&rows, grouped),
                "round {round}, grouped {grouped}, {} shards, rows {rows:?}",
                shards.len()
            );
        }
    }
}

/// A `(folded g, x)` group of `GROUP BY g, x`.
type GroupOfX = (Option<String>, Option<i64>);

#[test]
fn count_distinct_merges_like_one_database() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0002);
    let columns = vec![general_col(), int_col(), count_col()];
    let specs = [
        AggregateSpec::GroupKey { column: 0 },
        AggregateSpec::CountDistinct { column: 1 },
        AggregateSpec::Count { column: 2 },
    ];
    for _ in 0..200 {
        let rows = random_rows(&mut rng);
        let shards = split(&mut rng, &rows);
        // Shard query: SELECT g, x, COUNT(*) FROM t GROUP BY g, x.
        let inputs = shards
            .iter()
            .map(|shard| {
                let mut groups: BTreeMap<GroupOfX, (Option<&str>, usize)> = BTreeMap::new();
                for r in shard {
                    groups.entry((fold_opt(r.g), r.x)).or_insert((r.g, 0)).1 += 1;
                }
                groups
                    .into_iter()
                    .map(|((_, x), (g, n))| {
                        vec![
                            text(g.map(str::to_string)),
                            text(x.map(|x| x.to_string())),
                            text(Some(n.to_string())),
                        ]
                    })
                    .collect()
            })
            .collect();
        let merged = merge_aggregates(inputs, &columns, &specs).unwrap();
        let mut want: BTreeMap<Option<String>, (BTreeSet<i64>, usize)> = BTreeMap::new();
        for r in &rows {
            let entry = want.entry(fold_opt(r.g)).or_default();
            entry.0.extend(r.x);
            entry.1 += 1;
        }
        let want: Vec<Vec<Option<String>>> = want
            .into_iter()
            .map(|(g, (xs, n))| vec![g, Some(xs.len().to_string()), Some(n.to_string())])
            .collect();
        assert_eq!(folded(&merged.rows, &[0]), want);
    }
}

/// Reference ORDER BY x ASC, g DESC (NULL smallest), stable.
fn reference_sort(rows: &mut [R]) {
    rows.sort_by(|a, b| {
        a.x.cmp(&b.x)
            .then_with(|| fold_opt(b.g).cmp(&fold_opt(a.g)))
    });
}

fn as_rows(rows: &[R]) -> Vec<Row> {
    rows.iter()
        .map(|r| {
            vec![
                text(r.x.map(|x| x.to_string())),
                text(r.g.map(str::to_string)),
                text(r.d.map(|d| fixed(i128::from(d), 2))),
            ]
        })
        .collect()
}

#[test]
fn order_by_limit_merges_like_one_database() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0003);
    let columns = vec![int_col(), general_col(), decimal_col(10, 2)];
    let keys = [OrderBy::asc(0), OrderBy::desc(1)];
    for _ in 0..300 {
        let rows = random_rows(&mut rng);
        let shards = split(&mut rng, &rows);
        let offset = rng.gen_range(0..5u64);
        let count = rng.gen_range(0..10u64);
        let pushed = (offset + count) as usize;
        // Each shard: ORDER BY x, g DESC LIMIT offset+count.
        let inputs = shards
            .iter()
            .map(|shard| {
                let mut sorted = shard.clone();
                reference_sort(&mut sorted);
                sorted.truncate(pushed);
                as_rows(&sorted)
            })
            .collect();
        let merged = merge_sorted(inputs, &keys, &columns).unwrap();
        let got = apply_limit(merged, offset, Some(count));
        // The whole set in shard order, sorted stably: ties keep shard order, like the merge.
        let mut whole: Vec<R> = shards.concat();
        reference_sort(&mut whole);
        let want = apply_limit(as_rows(&whole), offset, Some(count));
        assert_eq!(got, want);
    }
}

#[test]
fn distinct_merges_like_one_database() {
    let mut rng = StdRng::seed_from_u64(0x5eed_0004);
    let columns = vec![general_col(), int_col()];
    for _ in 0..200 {
        let rows = random_rows(&mut rng);
        let shards = split(&mut rng, &rows);
        // Each shard: SELECT DISTINCT g, x FROM t.
        let inputs: Vec<Row> = shards
            .iter()
            .flat_map(|shard| {
                let mut seen = BTreeSet::new();
                shard
                    .iter()
                    .filter(|r| seen.insert((fold_opt(r.g), r.x)))
                    .map(|r| {
                        vec![
                            text(r.g.map(str::to_string)),
                            text(r.x.map(|x| x.to_string())),
                        ]
                    })
                    .collect::<Vec<Row>>()
            })
            .collect();
        let got = distinct_rows(inputs, &columns, DistinctOrder::Sorted).unwrap();
        let want: BTreeSet<(Option<String>, Option<i64>)> =
            rows.iter().map(|r| (fold_opt(r.g), r.x)).collect();
        let mut want: Vec<(Option<String>, Option<i64>)> = want.into_iter().collect();
        want.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let want: Vec<Vec<Option<String>>> = want
            .into_iter()
            .map(|(g, x)| vec![g, x.map(|x| x.to_string())])
            .collect();
        assert_eq!(folded(&got, &[0]), want);
    }
}

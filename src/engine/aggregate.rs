//! Merging partial aggregates from shards, with GROUP BY.
//!
//! The planner rewrites an aggregate query so each shard computes partial results, then
//! describes every output column with an [`AggregateSpec`] naming the shard-result column(s)
//! it reads (by index, so the shard query may order its columns freely and carry hidden ones):
//!
//! | query | shard query selects | spec | merge |
//! |---|---|---|---|
//! | `GROUP BY g` | `g` | `GroupKey { column }` | rows with equal `g` (collation-aware) form one group |
//! | `COUNT(x)`, `COUNT(*)` | `COUNT(x)` | `Count` | sum of counts (`"0"` over no rows) |
//! | `SUM(x)` | `SUM(x)` | `Sum` | exact sum for DECIMAL/integer sums, double sum for DOUBLE; NULL if all NULL |
//! | `MIN(x)`/`MAX(x)` | `MIN(x)`/`MAX(x)` | `Min`/`Max` | type- and collation-aware extreme, NULLs ignored |
//! | `AVG(x)` | `SUM(x), COUNT(x)` | `Avg { sum_column, count_column }` | SUM/COUNT with MariaDB's scale and rounding |
//! | `COUNT(DISTINCT x)` | `x` (shard groups by the keys and `x`) | `CountDistinct` | distinct non-NULL `x` per group |
//! | `SUM/AVG(DISTINCT x)` | `x` (same) | `SumDistinct`/`AvgDistinct` | over distinct non-NULL `x` |
//! | a non-aggregated column | `x` | `AnyValue` | first value seen |
//!
//! COUNT, SUM, MIN and MAX partials stay correct when shards group more finely than the query
//! (by the keys plus the DISTINCT argument), so DISTINCT and plain aggregates can share one
//! shard query: `SELECT g, COUNT(DISTINCT x), SUM(y) … GROUP BY g` → shards run
//! `SELECT g, x, SUM(y) … GROUP BY g, x`.
//!
//! **Output.** One column per spec, in spec order; values are text-protocol bytes formatted
//! for the result type (`"3"` for a SUM of ints typed DECIMAL(…,0), `"1.5000"` for AVG of ints)
//! and the columns carry MariaDB's metadata ([`output_columns`]; the table of types, decimals
//! and lengths is in `aggregate/columns.rs`). Groups come out
//! sorted ascending by the `GroupKey` columns in spec order (NULL first), like MariaDB's
//! implicit GROUP BY sort; if the GROUP BY lists its columns in another order, or has
//! ORDER BY, re-sort with [`sort_rows`](super::sort_rows). A group's key value and
//! `AnyValue` are the first ones seen in shard order (MySQL too returns an arbitrary member
//! of the group, e.g. `'a'` or `'A'`). Without `GroupKey` specs the aggregate is scalar and
//! yields exactly one row, also over no rows or no shards at all: COUNT `"0"`, others NULL.

mod accumulator;
mod columns;

use std::collections::BTreeMap;

use mysql_common::packets::Column;

use self::accumulator::{is_float_type, sums_as_double, Acc};
use super::compare::SortKey;
use super::rows::{cell, check_column, ResultSet, Row};
use super::EngineError;

/// What one output column of a merged aggregate is, and which shard columns it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregateSpec {
    /// A GROUP BY column.
    GroupKey {
        /// Shard column holding the key.
        column: usize,
    },
    /// `COUNT(...)`: shard counts are summed.
    Count {
        /// Shard column holding the partial COUNT.
        column: usize,
    },
    /// `SUM(x)`: shard sums are summed.
    Sum {
        /// Shard column holding the partial SUM.
        column: usize,
    },
    /// `MIN(x)`.
    Min {
        /// Shard column holding the partial MIN.
        column: usize,
    },
    /// `MAX(x)`.
    Max {
        /// Shard column holding the partial MAX.
        column: usize,
    },
    /// `AVG(x)`, sent to the shards as `SUM(x), COUNT(x)`.
    Avg {
        /// Shard column holding `SUM(x)`.
        sum_column: usize,
        /// Shard column holding `COUNT(x)`.
        count_column: usize,
    },
    /// `COUNT(DISTINCT x)`; the shards return the distinct values of `x` per group.
    CountDistinct {
        /// Shard column holding `x`.
        column: usize,
    },
    /// `SUM(DISTINCT x)`; the shards return the distinct values of `x` per group.
    SumDistinct {
        /// Shard column holding `x`.
        column: usize,
    },
    /// `AVG(DISTINCT x)`; the shards return the distinct values of `x` per group.
    AvgDistinct {
        /// Shard column holding `x`.
        column: usize,
    },
    /// A column outside any aggregate and outside GROUP BY (or `ANY_VALUE(x)`).
    AnyValue {
        /// Shard column holding the value.
        column: usize,
    },
}

impl AggregateSpec {
    /// The shard columns this spec reads.
    pub fn input_columns(&self) -> Vec<usize> {
        match *self {
            AggregateSpec::Avg {
                sum_column,
                count_column,
            } => vec![sum_column, count_column],
            AggregateSpec::GroupKey { column }
            | AggregateSpec::Count { column }
            | AggregateSpec::Sum { column }
            | AggregateSpec::Min { column }
            | AggregateSpec::Max { column }
            | AggregateSpec::CountDistinct { column }
            | AggregateSpec::SumDistinct { column }
            | AggregateSpec::AvgDistinct { column }
            | AggregateSpec::AnyValue { column } => vec![column],
        }
    }
}

/// The metadata of the merged columns, one per spec, for shard columns `columns`.
pub fn output_columns(
    specs: &[AggregateSpec],
    columns: &[Column],
) -> Result<Vec<Column>, EngineError> {
    check_specs(specs, columns)?;
    let grouped = specs
        .iter()
        .any(|s| matches!(s, AggregateSpec::GroupKey { .. }));
    // With a DISTINCT aggregate the shards group by its argument too, so a scalar query's
    // shard COUNT columns carry grouped-query metadata.
    let shards_group_finer = specs.iter().any(|s| {
        matches!(
            s,
            AggregateSpec::CountDistinct { .. }
                | AggregateSpec::SumDistinct { .. }
                | AggregateSpec::AvgDistinct { .. }
        )
    });
    specs
        .iter()
        .map(|spec| {
            Ok(match *spec {
                AggregateSpec::GroupKey { column }
                | AggregateSpec::AnyValue { column }
                | AggregateSpec::Min { column }
                | AggregateSpec::Max { column }
                | AggregateSpec::Sum { column } => columns[column].clone(),
                // The shard ran the same COUNT in the same kind of query: its metadata is
                // MariaDB's own.
                AggregateSpec::Count { column } if grouped || !shards_group_finer => {
                    columns[column].clone()
                }
                AggregateSpec::Count { column } => columns::count_column(&columns[column], grouped),
                // MariaDB computes a query with a DISTINCT aggregate from its items (no
                // temporary table), grouped or not: flagged as in a scalar query.
                AggregateSpec::CountDistinct { column } => {
                    columns::count_column(&columns[column], false)
                }
                AggregateSpec::Avg { sum_column, .. } => {
                    // MariaDB evaluates AVG from its item even in a grouped query (its
                    // temporary-table field holds sum and count), so it is always flagged
                    // BINARY, unlike SUM and COUNT.
                    let sum = &columns[sum_column];
                    if is_float_type(sum) {
                        columns::double_column(sum, false)
                    } else {
                        columns::avg_from_sum_column(sum, false)
                    }
                }
                AggregateSpec::SumDistinct { column } | AggregateSpec::AvgDistinct { column } => {
                    let arg = &columns[column];
                    if sums_as_double(arg)? {
                        columns::double_column(arg, false)
                    } else if matches!(spec, AggregateSpec::SumDistinct { .. }) {
                        columns::sum_column(arg, false)
                    } else {
                        columns::avg_column(arg, columns::precision(arg), arg.decimals(), false)
                    }
                }
            })
        })
        .collect()
}

/// Merges per-shard partial aggregate rows (`inputs[shard]`, rows described by `columns`) into
/// the final result described by `specs` (see the module docs for the semantics).
pub fn merge_aggregates(
    inputs: Vec<Vec<Row>>,
    columns: &[Column],
    specs: &[AggregateSpec],
) -> Result<ResultSet, EngineError> {
    merge_aggregates_with(inputs, columns, specs, None)
}

/// [`merge_aggregates`] where a scalar aggregate over no rows takes its non-aggregate
/// (`AnyValue`) items from `empty_row`, a shard row (same layout) that MariaDB computed over no
/// row: `2 + 3` is then 5, as MariaDB says, not NULL. Without it they are NULL, which is exact
/// only for column references.
pub fn merge_aggregates_with(
    inputs: Vec<Vec<Row>>,
    columns: &[Column],
    specs: &[AggregateSpec],
    empty_row: Option<&Row>,
) -> Result<ResultSet, EngineError> {
    let out_columns = output_columns(specs, columns)?;
    let prototype = specs
        .iter()
        .map(|spec| Acc::new(spec, columns))
        .collect::<Result<Vec<Acc>, EngineError>>()?;
    let group_columns: Vec<usize> = specs
        .iter()
        .filter_map(|spec| match spec {
            AggregateSpec::GroupKey { column } => Some(*column),
            _ => None,
        })
        .collect();

    let mut groups: BTreeMap<Vec<SortKey>, Vec<Acc>> = BTreeMap::new();
    for row in inputs.into_iter().flatten() {
        let key: Vec<SortKey> = group_columns
            .iter()
            .map(|&c| SortKey::new(cell(&row, c), &columns[c]))
            .collect();
        let accs = groups.entry(key).or_insert_with(|| prototype.clone());
        for acc in accs.iter_mut() {
            acc.add(&row, columns);
        }
    }
    if group_columns.is_empty() && groups.is_empty() {
        let mut accs = prototype;
        if let Some(row) = empty_row {
            for (acc, spec) in accs.iter_mut().zip(specs) {
                if matches!(spec, AggregateSpec::AnyValue { .. }) {
                    acc.add(row, columns);
                }
            }
        }
        groups.insert(Vec::new(), accs);
    }
    let rows = groups
        .into_values()
        .map(|accs| accs.into_iter().map(Acc::finish).collect())
        .collect();
    Ok(ResultSet::new(out_columns, rows))
}

fn check_specs(specs: &[AggregateSpec], columns: &[Column]) -> Result<(), EngineError> {
    specs
        .iter()
        .flat_map(AggregateSpec::input_columns)
        .try_for_each(|index| check_column(index, columns.len()))
}

#[cfg(test)]
mod tests;

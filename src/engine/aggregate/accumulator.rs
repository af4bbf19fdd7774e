//! Per-group state of one output column while partial aggregates are merged.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use mysql_async::Value;
use mysql_common::constants::ColumnType;
use mysql_common::packets::Column;

use super::columns::{AVG_EXTRA_SCALE, MAX_SCALE};
use super::AggregateSpec;
use crate::engine::compare::{double_of, SortKey};
use crate::engine::decimal::{format_double, Decimal};
use crate::engine::rows::{cell, text_value};
use crate::engine::EngineError;

/// How a sum is carried: exactly (integers, DECIMAL) or as a double (FLOAT, DOUBLE, strings).
#[derive(Debug, Clone)]
pub(super) enum Total {
    /// Exact sum; `None` while only NULLs were seen. `scale` is the output scale.
    Exact { sum: Option<Decimal>, scale: usize },
    /// Floating sum; `None` while only NULLs were seen.
    Float(Option<f64>),
}

impl Total {
    /// The empty total for values of `column`, exact unless `float`.
    fn new(column: &Column, float: bool) -> Total {
        if float {
            Total::Float(None)
        } else {
            // Decimals above 38 mean "not fixed"; then the values decide the scale.
            let decimals = column.decimals();
            let scale = if decimals <= MAX_SCALE {
                usize::from(decimals)
            } else {
                0
            };
            Total::Exact { sum: None, scale }
        }
    }

    fn add(&mut self, value: &Value, fixed_scale: bool) {
        if matches!(value, Value::NULL) {
            return;
        }
        match self {
            Total::Exact { sum, scale } => {
                let d = exact_of(value);
                if !fixed_scale {
                    *scale = (*scale).max(d.scale());
                }
                *sum = Some(match sum.take() {
                    Some(s) => s.add(&d),
                    None => d,
                });
            }
            Total::Float(sum) => *sum = Some(sum.unwrap_or(0.0) + double_of(value)),
        }
    }

    fn text(&self) -> Value {
        match self {
            Total::Exact {
                sum: Some(s),
                scale,
            } => text_value(s.to_text(*scale)),
            Total::Float(Some(f)) => text_value(format_double(*f)),
            _ => Value::NULL,
        }
    }

    /// `self / count` with AVG's type rules; NULL for no rows or only NULLs.
    fn average(&self, count: i128) -> Value {
        let Ok(count) = u128::try_from(count) else {
            return Value::NULL;
        };
        match self {
            Total::Exact {
                sum: Some(s),
                scale,
            } => {
                let avg_scale = (*scale + usize::from(AVG_EXTRA_SCALE)).min(usize::from(MAX_SCALE));
                s.avg(count, *scale, avg_scale)
                    .map_or(Value::NULL, |a| text_value(a.to_text(avg_scale)))
            }
            Total::Float(Some(f)) if count > 0 => text_value(format_double(f / count as f64)),
            _ => Value::NULL,
        }
    }
}

/// Which aggregate a set of distinct values feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DistinctOp {
    Count,
    Sum,
    Avg,
}

/// The merge state of one output column within one group.
#[derive(Debug, Clone)]
pub(super) enum Acc {
    /// Group key or ANY_VALUE: the first value seen.
    First { column: usize, value: Option<Value> },
    /// COUNT: the sum of shard counts.
    Count { column: usize, total: i128 },
    /// SUM: the sum of shard sums.
    Sum {
        column: usize,
        total: Total,
        fixed: bool,
    },
    /// MIN (`want = Less`) or MAX (`want = Greater`).
    Extreme {
        column: usize,
        want: Ordering,
        best: Option<(SortKey, Value)>,
    },
    /// AVG from shard SUM and COUNT.
    Avg {
        sum_column: usize,
        count_column: usize,
        total: Total,
        fixed: bool,
        count: i128,
    },
    /// COUNT/SUM/AVG(DISTINCT x) from the shards' distinct values of x.
    Distinct {
        column: usize,
        op: DistinctOp,
        values: BTreeMap<SortKey, Value>,
        empty: Total,
        fixed: bool,
    },
}

/// Whether a shard SUM column carries doubles.
pub(super) fn is_float_type(column: &Column) -> bool {
    matches!(
        column.column_type(),
        ColumnType::MYSQL_TYPE_FLOAT | ColumnType::MYSQL_TYPE_DOUBLE
    )
}

/// How MySQL sums raw values of `column`: `Ok(true)` as doubles, `Ok(false)` exactly.
pub(super) fn sums_as_double(column: &Column) -> Result<bool, EngineError> {
    use ColumnType::*;
    match column.column_type() {
        MYSQL_TYPE_TINY
        | MYSQL_TYPE_SHORT
        | MYSQL_TYPE_LONG
        | MYSQL_TYPE_INT24
        | MYSQL_TYPE_LONGLONG
        | MYSQL_TYPE_YEAR
        | MYSQL_TYPE_DECIMAL
        | MYSQL_TYPE_NEWDECIMAL => Ok(false),
        MYSQL_TYPE_DATE
        | MYSQL_TYPE_NEWDATE
        | MYSQL_TYPE_DATETIME
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIMESTAMP
        | MYSQL_TYPE_TIMESTAMP2
        | MYSQL_TYPE_TIME
        | MYSQL_TYPE_TIME2
        | MYSQL_TYPE_BIT => Err(EngineError::Unsupported(
            "SUM/AVG(DISTINCT) of a temporal or BIT column across shards".into(),
        )),
        _ => Ok(true),
    }
}

impl Acc {
    /// The empty state for `spec` over shard rows described by `columns` (indexes checked).
    pub(super) fn new(spec: &AggregateSpec, columns: &[Column]) -> Result<Acc, EngineError> {
        let fixed_total = |c: usize| {
            let column = &columns[c];
            (
                Total::new(column, is_float_type(column)),
                column.decimals() <= MAX_SCALE,
            )
        };
        Ok(match *spec {
            AggregateSpec::GroupKey { column } | AggregateSpec::AnyValue { column } => Acc::First {
                column,
                value: None,
            },
            AggregateSpec::Count { column } => Acc::Count { column, total: 0 },
            AggregateSpec::Sum { column } => {
                let (total, fixed) = fixed_total(column);
                Acc::Sum {
                    column,
                    total,
                    fixed,
                }
            }
            AggregateSpec::Min { column } => Acc::Extreme {
                column,
                want: Ordering::Less,
                best: None,
            },
            AggregateSpec::Max { column } => Acc::Extreme {
                column,
                want: Ordering::Greater,
                best: None,
            },
            AggregateSpec::Avg {
                sum_column,
                count_column,
            } => {
                let (total, fixed) = fixed_total(sum_column);
                Acc::Avg {
                    sum_column,
                    count_column,
                    total,
                    fixed,
                    count: 0,
                }
            }
            AggregateSpec::CountDistinct { column } => Acc::Distinct {
                column,
                op: DistinctOp::Count,
                values: BTreeMap::new(),
                empty: Total::Float(None),
                fixed: true,
            },
            AggregateSpec::SumDistinct { column } | AggregateSpec::AvgDistinct { column } => {
                let float = sums_as_double(&columns[column])?;
                let op = if matches!(spec, AggregateSpec::SumDistinct { .. }) {
                    DistinctOp::Sum
                } else {
                    DistinctOp::Avg
                };
                let empty = Total::new(&columns[column], float);
                let fixed = columns[column].decimals() <= MAX_SCALE;
                Acc::Distinct {
                    column,
                    op,
                    values: BTreeMap::new(),
                    empty,
                    fixed,
                }
            }
        })
    }

    /// Folds one shard row into the state.
    pub(super) fn add(&mut self, row: &[Value], columns: &[Column]) {
        match self {
            Acc::First { column, value } => {
                if value.is_none() {
                    *value = Some(cell(row, *column).clone());
                }
            }
            Acc::Count { column, total } => *total += integer_of(cell(row, *column)),
            Acc::Sum {
                column,
                total,
                fixed,
            } => total.add(cell(row, *column), *fixed),
            Acc::Extreme { column, want, best } => {
                let value = cell(row, *column);
                if matches!(value, Value::NULL) {
                    return;
                }
                let key = SortKey::new(value, &columns[*column]);
                if best.as_ref().is_none_or(|(b, _)| key.cmp(b) == *want) {
                    *best = Some((key, value.clone()));
                }
            }
            Acc::Avg {
                sum_column,
                count_column,
                total,
                fixed,
                count,
            } => {
                total.add(cell(row, *sum_column), *fixed);
                *count += integer_of(cell(row, *count_column));
            }
            Acc::Distinct { column, values, .. } => {
                let value = cell(row, *column);
                if !matches!(value, Value::NULL) {
                    let key = SortKey::new(value, &columns[*column]);
                    values.entry(key).or_insert_with(|| value.clone());
                }
            }
        }
    }

    /// The merged value, as text-protocol bytes.
    pub(super) fn finish(self) -> Value {
        match self {
            Acc::First { value, .. } => value.unwrap_or(Value::NULL),
            Acc::Count { total, .. } => text_value(total.to_string()),
            Acc::Sum { total, .. } => total.text(),
            Acc::Extreme { best, .. } => best.map_or(Value::NULL, |(_, v)| v),
            Acc::Avg { total, count, .. } => total.average(count),
            Acc::Distinct {
                op,
                values,
                mut empty,
                fixed,
                ..
            } => {
                let count = values.len() as i128;
                if op == DistinctOp::Count {
                    return text_value(count.to_string());
                }
                for value in values.values() {
                    empty.add(value, fixed);
                }
                if op == DistinctOp::Sum {
                    empty.text()
                } else {
                    empty.average(count)
                }
            }
        }
    }
}

/// An integer partial (a shard COUNT); NULL and garbage count as 0.
fn integer_of(value: &Value) -> i128 {
    match value {
        Value::Int(i) => i128::from(*i),
        Value::UInt(u) => i128::from(*u),
        Value::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0),
        _ => 0,
    }
}

/// The exact value of a numeric partial; unparsable text counts as 0, like MySQL's conversion.
fn exact_of(value: &Value) -> Decimal {
    match value {
        Value::Int(i) => Decimal::from_i128(i128::from(*i)),
        Value::UInt(u) => Decimal::from_i128(i128::from(*u)),
        Value::Float(f) => Decimal::from_f64(f64::from(*f)).unwrap_or_default(),
        Value::Double(d) => Decimal::from_f64(*d).unwrap_or_default(),
        Value::Bytes(b) => Decimal::parse(b).unwrap_or_default(),
        _ => Decimal::default(),
    }
}

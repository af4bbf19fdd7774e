//! SELECT on sharded keyspaces: per-shard query text (IN lists pruned), and merging several
//! shards' results with the engine, in MySQL's order: aggregation, HAVING (evaluated here on
//! the merged rows, see [`super::having`]), ORDER BY (a k-way merge of the sorted shard
//! streams without aggregation; helper columns after a `*` found from the row width),
//! DISTINCT, LIMIT/OFFSET, and last the hidden columns are dropped.

use super::having::{check_having, having_holds};
use super::lookup_route::{is_lookup_route, resolve_route};
use super::resolve::ShardTarget;
use super::{Cursor, ExecError, ShardResult};
use crate::engine::{
    apply_limit, distinct_rows, filter_rows, merge_aggregates_with, merge_sorted, orders_by_member,
    output_columns, rank_keys, sort_rows, AggregateSpec, DistinctOrder, Members, OrderBy,
};
use crate::planner::{LimitValue, Merge, QueryTemplate, SelectPlan};
use crate::vschema::VSchema;
use mysql_async::Value;
use mysql_common::constants::ColumnFlags;
use std::borrow::Cow;

/// The query text for one shard: the template with its IN list cut down to the shard's values
/// (borrowed when there is nothing to cut).
pub fn shard_sql<'q>(query: &'q QueryTemplate, target: &ShardTarget) -> Cow<'q, str> {
    let Some(list) = &query.in_list else {
        return Cow::Borrowed(&query.sql);
    };
    if target.values.is_empty() {
        return Cow::Borrowed(&query.sql);
    }
    let (start, end) = list.span;
    let items: Vec<&str> = target
        .values
        .iter()
        .filter_map(|&i| list.items.get(i))
        .filter_map(|&(s, e)| query.sql.get(s..e))
        .collect();
    match (query.sql.get(..start), query.sql.get(end..)) {
        (Some(head), Some(tail)) if !items.is_empty() => {
            Cow::Owned(format!("{head}{}{tail}", items.join(", ")))
        }
        _ => Cow::Borrowed(&query.sql),
    }
}

/// Runs a multi-shard (or merged) SELECT and returns the merged result.
///
/// With no target shard (the values map nowhere) the query still runs on the first shard so
/// the client gets column metadata, and its rows are discarded: a scalar aggregate then yields
/// its one row (COUNT 0, SUM NULL) as MySQL does. After a lookup that found nothing the
/// shard's answer is kept as it is (it is exact).
pub async fn execute_select<C: Cursor>(
    cursor: &mut C,
    plan: &SelectPlan,
    params: &[Value],
    vschema: &VSchema,
) -> Result<ShardResult, ExecError> {
    let shards = cursor.shards(&plan.route.keyspace)?;
    let targets = resolve_route(cursor, &plan.route, params, vschema, &shards, false).await?;
    execute_select_at(cursor, plan, params, vschema, targets).await
}

/// [`execute_select`] on shards already resolved.
pub async fn execute_select_at<C: Cursor>(
    cursor: &mut C,
    plan: &SelectPlan,
    params: &[Value],
    vschema: &VSchema,
    targets: Vec<ShardTarget>,
) -> Result<ShardResult, ExecError> {
    let keyspace = plan.route.keyspace.as_str();
    let limit = resolve_limit(plan, params)?;
    let query = &shard_template(plan, limit)?;
    let results = if targets.is_empty() {
        // A lookup that found nothing proves no shard holds a matching row (every owner row
        // has its lookup row): a statement that then returns no row is answered from the
        // remembered column definitions; otherwise one shard's own answer is exact (a scalar
        // aggregate's one row). For other routes the rows are discarded.
        let via_lookup = is_lookup_route(&plan.route, vschema);
        if via_lookup && plan.empty_without_rows {
            if let Some(columns) = plan.fields.get() {
                return Ok(ShardResult {
                    columns: columns.clone(),
                    ..ShardResult::default()
                });
            }
        }
        let mut r = cursor.execute(keyspace, 0, query.sql.clone()).await?;
        if !via_lookup && plan.empty_without_rows {
            // (A scalar aggregate keeps the shard's one row: a vindex that maps the value to
            // no shard means no row anywhere matches — `id = NULL`, `id = 2.5` on an integer
            // column — so the shard aggregated nothing, as every shard would have.)
            r.rows.clear();
        } else if plan.empty_without_rows && r.rows.is_empty() {
            plan.fields.remember(&r.columns);
        }
        vec![r]
    } else {
        let queries = targets
            .iter()
            .map(|t| (t.shard, shard_sql(query, t).into_owned()))
            .collect();
        cursor.execute_each(keyspace, queries).await?
    };
    merge_fetched(cursor, plan, &targets, results, limit).await
}

/// The shard query of `plan` with its LIMIT slot (if any) filled for `limit`.
pub(super) fn shard_template(
    plan: &SelectPlan,
    limit: Option<(u64, Option<u64>)>,
) -> Result<std::borrow::Cow<'_, QueryTemplate>, ExecError> {
    Ok(match plan.query.limit_slot {
        None => std::borrow::Cow::Borrowed(&plan.query),
        Some(slot) => {
            let (offset, count) = limit.unwrap_or((0, None));
            let rows = offset.saturating_add(count.unwrap_or(u64::MAX));
            std::borrow::Cow::Owned(fill_limit_slot(&plan.query, slot, rows)?)
        }
    })
}

/// The second half of [`execute_select_at`]: the shards' whole answers to `plan` (on
/// `targets`) merged. `limit` as [`resolve_limit`] gives it.
pub(super) async fn merge_fetched<C: Cursor>(
    cursor: &mut C,
    plan: &SelectPlan,
    targets: &[ShardTarget],
    results: Vec<ShardResult>,
    limit: Option<(u64, Option<u64>)>,
) -> Result<ShardResult, ExecError> {
    let keyspace = plan.route.keyspace.as_str();
    let shard = targets.first().map_or(0, |t| t.shard);
    // A scalar aggregate over no row at all: its constant items come from MariaDB itself; and
    // when the shards grouped by a DISTINCT argument, its columns are the scalar metadata.
    let mut empty_row = None;
    let mut scalar_fields = None;
    if let Some(merge) = &plan.merge {
        if let Some(sql) = &merge.empty_scalar {
            let finer = merge
                .aggregates
                .as_ref()
                .is_some_and(|specs| !distinct_columns(specs).is_empty());
            let scalar = merge.aggregates.as_ref().is_some_and(|specs| {
                !specs
                    .iter()
                    .any(|s| matches!(s, AggregateSpec::GroupKey { .. }))
            });
            let no_rows = scalar && results.iter().all(|r| r.rows.is_empty());
            if no_rows || (finer && merge.scalar_fields.get().is_none()) {
                let mut r = match cursor.execute(keyspace, shard, sql.clone()).await {
                    Ok(r) => r,
                    Err(e) if no_rows => return Err(e),
                    // Only wanted for metadata (e.g. ONLY_FULL_GROUP_BY refuses an expression
                    // of a group key without the GROUP BY): keep the shards' definitions.
                    Err(_) => ShardResult {
                        rows: vec![Vec::new()],
                        ..ShardResult::default()
                    },
                };
                if r.rows.len() != 1 {
                    return Err(ExecError::Internal(format!(
                        "the empty-set query of a scalar aggregate returned {} rows",
                        r.rows.len()
                    )));
                }
                if finer && !r.columns.is_empty() {
                    merge.scalar_fields.remember(&r.columns);
                }
                if no_rows {
                    empty_row = r.rows.pop();
                }
            }
            if finer {
                scalar_fields = merge.scalar_fields.get().cloned();
            }
        }
    }
    let mut results = results;
    if let (Some(fields), Some(specs), Some(first)) = (
        scalar_fields,
        plan.merge.as_ref().and_then(|m| m.aggregates.as_ref()),
        results.first_mut(),
    ) {
        // Every shard column but the DISTINCT arguments' and the group keys' takes the scalar
        // query's definition; group keys lose the GROUP_FLAG (0x8000, NUM_FLAG's bit) that
        // the shards' temporary table added.
        let distinct = distinct_columns(specs);
        let keys: Vec<usize> = specs
            .iter()
            .filter_map(|s| match s {
                AggregateSpec::GroupKey { column } => Some(*column),
                _ => None,
            })
            .collect();
        for (i, column) in first.columns.iter_mut().enumerate() {
            if keys.contains(&i) {
                let flags = column.flags() - ColumnFlags::NUM_FLAG;
                *column = column.clone().with_flags(flags);
            } else if let Some(f) = fields.get(i).filter(|_| !distinct.contains(&i)) {
                *column = f.clone();
            }
        }
    }
    let members = member_orders(cursor, keyspace, shard, plan, &results).await?;
    let rows: usize = results.iter().map(|r| r.rows.len()).sum();
    if rows < crate::offload::MERGE_ROWS {
        return merge_results(plan, results, limit, empty_row.as_ref(), &members);
    }
    // A large merge (sorting, grouping) runs on the blocking pool, so other sessions are
    // served meanwhile; a statement that timed out meanwhile fails instead of answering.
    let plan = plan.clone();
    let merged = crate::offload::run_if(true, move || {
        Ok(merge_results(
            &plan,
            results,
            limit,
            empty_row.as_ref(),
            &members,
        ))
    })
    .await??;
    if crate::backend::deadline::timed_out() {
        return Err(
            crate::error::ProxyError::from(crate::backend::BackendError::from_wire(
                crate::backend::wire::WireError::statement_timeout(),
                keyspace,
            ))
            .into(),
        );
    }
    Ok(merged)
}

/// The shard columns holding DISTINCT aggregates' arguments.
fn distinct_columns(specs: &[AggregateSpec]) -> Vec<usize> {
    specs
        .iter()
        .filter_map(|s| match *s {
            AggregateSpec::CountDistinct { column }
            | AggregateSpec::SumDistinct { column }
            | AggregateSpec::AvgDistinct { column } => Some(column),
            _ => None,
        })
        .collect()
}

/// Hex digits of `bytes`, for a literal that is safe under any sql_mode and character set.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The members of every ENUM or SET column the merge sorts by (MySQL orders them by member
/// index, the proxy by text otherwise), indexed by ORDER BY term, read from the column's
/// definition on one shard. A sort key that is an ENUM/SET but no table column (an
/// expression, whose members the metadata cannot locate) is refused.
async fn member_orders<C: Cursor>(
    cursor: &mut C,
    keyspace: &str,
    shard: usize,
    plan: &SelectPlan,
    results: &[ShardResult],
) -> Result<Vec<(usize, Members)>, ExecError> {
    let (Some(merge), Some(first)) = (&plan.merge, results.first()) else {
        return Ok(Vec::new());
    };
    let (columns, keys) = match &merge.aggregates {
        Some(specs) => (
            output_columns(specs, &first.columns)?,
            merge.order_by.clone(),
        ),
        None => (
            first.columns.clone(),
            resolve_tail(merge, first.columns.len())?.0,
        ),
    };
    let mut out = Vec::new();
    for (k, key) in keys.iter().enumerate() {
        let Some(col) = columns.get(key.column).filter(|c| orders_by_member(c)) else {
            continue;
        };
        let refuse = || {
            ExecError::NotSupported(format!(
                "ORDER BY or GROUP BY the ENUM/SET expression {} on more than one shard",
                col.name_str()
            ))
        };
        if col.schema_ref().is_empty()
            || col.org_table_ref().is_empty()
            || col.org_name_ref().is_empty()
        {
            return Err(refuse());
        }
        let sql = format!(
            "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE HEX(TABLE_SCHEMA) = '{}' \
             AND HEX(TABLE_NAME) = '{}' AND HEX(COLUMN_NAME) = '{}'",
            hex(col.schema_ref()),
            hex(col.org_table_ref()),
            hex(col.org_name_ref())
        );
        let r = cursor.execute(keyspace, shard, sql).await?;
        let members = match r.rows.as_slice() {
            [row] => match row.first() {
                Some(Value::Bytes(b)) => Members::parse(b),
                _ => None,
            },
            _ => None,
        };
        out.push((k, members.ok_or_else(refuse)?));
    }
    Ok(out)
}

/// The template with its LIMIT slot replaced by `rows` (and no slot left).
fn fill_limit_slot(
    query: &QueryTemplate,
    (start, end): (usize, usize),
    rows: u64,
) -> Result<QueryTemplate, ExecError> {
    match (query.sql.get(..start), query.sql.get(end..)) {
        (Some(head), Some(tail)) => Ok(QueryTemplate {
            sql: format!("{head}{rows}{tail}"),
            in_list: None,
            limit_slot: None,
        }),
        _ => Err(ExecError::Internal(format!(
            "LIMIT slot {start}..{end} is outside the shard query"
        ))),
    }
}

/// The merge's LIMIT as `(offset, count)` with its `?` parameters bound (None without one).
pub(super) fn resolve_limit(
    plan: &SelectPlan,
    params: &[Value],
) -> Result<Option<(u64, Option<u64>)>, ExecError> {
    let Some(limit) = plan.merge.as_ref().and_then(|m| m.limit) else {
        return Ok(None);
    };
    let number = |v: LimitValue| match v {
        LimitValue::Literal(n) => Ok(n),
        LimitValue::Param(i) => match params.get(i) {
            Some(Value::Int(n)) => u64::try_from(*n).map_err(|_| {
                ExecError::NotSupported(format!("LIMIT ? bound to {n} on more than one shard"))
            }),
            Some(Value::UInt(n)) => Ok(*n),
            Some(other) => Err(ExecError::NotSupported(format!(
                "LIMIT ? bound to {} on more than one shard",
                other.as_sql(false)
            ))),
            None => Err(ExecError::Internal(format!(
                "LIMIT parameter {} is not bound",
                i + 1
            ))),
        },
    };
    Ok(Some((
        number(limit.offset)?,
        limit.count.map(number).transpose()?,
    )))
}

/// Combines shard results as the plan's merge says (concatenation without one).
///
/// `limit` is the plan's [`Merge::limit`] with its `?` parameters bound ([`resolve_limit`]).
///
/// `empty_row`: for a scalar aggregate over no row, the row of [`Merge::empty_scalar`].
pub fn merge_results(
    plan: &SelectPlan,
    results: Vec<ShardResult>,
    limit: Option<(u64, Option<u64>)>,
    empty_row: Option<&Vec<Value>>,
    members: &[(usize, Members)],
) -> Result<ShardResult, ExecError> {
    let columns = results
        .first()
        .map(|r| r.columns.clone())
        .unwrap_or_default();
    let warnings = results
        .iter()
        .map(|r| r.warnings)
        .fold(0u16, u16::saturating_add);
    let inputs: Vec<Vec<Vec<Value>>> = results.into_iter().map(|r| r.rows).collect();
    let Some(merge) = &plan.merge else {
        return Ok(ShardResult {
            columns,
            rows: inputs.into_iter().flatten().collect(),
            warnings,
            ..ShardResult::default()
        });
    };
    let (columns, mut rows, visible) = match &merge.aggregates {
        Some(specs) => {
            let set = merge_aggregates_with(inputs, &columns, specs, empty_row)?;
            let visible = merge.visible_columns.min(set.columns.len());
            let mut columns = set.columns;
            let mut rows = set.rows;
            if !merge.order_by.is_empty() {
                // (ENUM/SET keys sort by appended rank columns, dropped with the hidden ones.)
                let keys = rank_keys(&mut rows, &mut columns, &merge.order_by, members)?;
                rows = sort_rows(rows, &keys, &columns)?;
            }
            (columns, rows, visible)
        }
        None => {
            let (order_by, visible) = resolve_tail(merge, columns.len())?;
            let mut inputs = inputs;
            let mut columns = columns;
            let rows = if order_by.is_empty() {
                inputs.into_iter().flatten().collect()
            } else {
                let shard_columns = columns.clone();
                let keys = rank_keys(&mut [], &mut columns, &order_by, members)?;
                for input in inputs.iter_mut() {
                    rank_keys(input, &mut shard_columns.clone(), &order_by, members)?;
                }
                merge_sorted(inputs, &keys, &columns)?
            };
            (columns, rows, visible)
        }
    };
    if let Some(having) = &merge.having {
        check_having(having, &columns)?;
        rows = filter_rows(rows, |r| having_holds(having, r, &columns) == Some(true));
    }
    if merge.distinct {
        // First occurrences keep the merged order (MySQL does not sort DISTINCT by itself).
        let order = DistinctOrder::FirstSeen;
        let shown: Vec<_> = columns.iter().take(visible).cloned().collect();
        rows = distinct_rows(
            rows.into_iter().map(|mut r| {
                r.truncate(shown.len());
                r
            }),
            &shown,
            order,
        )?;
    }
    if let Some((offset, count)) = limit {
        rows = apply_limit(rows, offset, count);
    }
    for r in rows.iter_mut() {
        r.truncate(visible);
    }
    let mut columns = columns;
    columns.truncate(visible);
    Ok(ShardResult {
        columns,
        rows,
        warnings,
        ..ShardResult::default()
    })
}

/// The ORDER BY terms over the actual shard rows (`width` columns) and how many leading
/// columns the client sees: a [`hidden_tail`](crate::planner::Merge::hidden_tail) of `k`
/// helpers puts the terms at `width - k + column` and hides the last `k` columns.
pub(super) fn resolve_tail(
    merge: &Merge,
    width: usize,
) -> Result<(Vec<OrderBy>, usize), ExecError> {
    let Some(k) = merge.hidden_tail else {
        return Ok((merge.order_by.clone(), merge.visible_columns.min(width)));
    };
    let base = width.checked_sub(k).ok_or_else(|| {
        ExecError::Internal(format!(
            "merge expects {k} helper columns but the shard rows have {width} columns"
        ))
    })?;
    let keys = merge
        .order_by
        .iter()
        .map(|o| OrderBy {
            column: base + o.column,
            descending: o.descending,
        })
        .collect();
    Ok((keys, base.min(merge.visible_columns)))
}

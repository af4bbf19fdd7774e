//! SELECT on sharded keyspaces: per-shard query text (IN lists pruned), and merging several
//! shards' results (aggregation, DISTINCT, ORDER BY, LIMIT) with the engine.

use super::resolve::{resolve, ShardTarget};
use super::{Cursor, ExecError, ShardResult};
use crate::engine::{
    apply_limit, distinct_rows, merge_aggregates, merge_sorted, sort_rows, DistinctOrder, OrderBy,
};
use crate::planner::{Merge, QueryTemplate, SelectPlan};
use crate::vschema::VSchema;
use mysql_async::Value;

/// The query text for one shard: the template with its IN list cut down to the shard's values.
pub fn shard_sql(query: &QueryTemplate, target: &ShardTarget) -> String {
    let Some(list) = &query.in_list else {
        return query.sql.clone();
    };
    if target.values.is_empty() {
        return query.sql.clone();
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
            format!("{head}{}{tail}", items.join(", "))
        }
        _ => query.sql.clone(),
    }
}

/// Runs a multi-shard (or merged) SELECT and returns the merged result.
///
/// With no target shard (the values map nowhere) the query still runs on the first shard so
/// the client gets column metadata, and its rows are discarded: a scalar aggregate then yields
/// its one row (COUNT 0, SUM NULL) as MySQL does.
pub async fn execute_select<C: Cursor>(
    cursor: &mut C,
    plan: &SelectPlan,
    params: &[Value],
    vschema: &VSchema,
) -> Result<ShardResult, ExecError> {
    let keyspace = plan.route.keyspace.as_str();
    let shards = cursor.shards(keyspace)?;
    let targets = resolve(&plan.route, params, vschema, &shards)?;
    let mut results: Vec<ShardResult> = Vec::with_capacity(targets.len());
    if targets.is_empty() {
        let mut r = cursor.execute(keyspace, 0, plan.query.sql.clone()).await?;
        r.rows.clear();
        results.push(r);
    } else {
        for t in &targets {
            let r = cursor
                .execute(keyspace, t.shard, shard_sql(&plan.query, t))
                .await?;
            results.push(r);
        }
    }
    merge_results(plan, results)
}

/// Combines shard results as the plan's merge says (concatenation without one).
pub fn merge_results(
    plan: &SelectPlan,
    results: Vec<ShardResult>,
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
            let set = merge_aggregates(inputs, &columns, specs)?;
            let visible = merge.visible_columns.min(set.columns.len());
            let rows = if merge.order_by.is_empty() {
                set.rows
            } else {
                sort_rows(set.rows, &merge.order_by, &set.columns)?
            };
            (set.columns, rows, visible)
        }
        None => {
            let (order_by, visible) = resolve_tail(merge, columns.len())?;
            let rows = if order_by.is_empty() {
                inputs.into_iter().flatten().collect()
            } else {
                merge_sorted(inputs, &order_by, &columns)?
            };
            (columns, rows, visible)
        }
    };
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
    if let Some(limit) = merge.limit {
        rows = apply_limit(rows, limit.offset, limit.count);
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
fn resolve_tail(merge: &Merge, width: usize) -> Result<(Vec<OrderBy>, usize), ExecError> {
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

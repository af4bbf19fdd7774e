//! Writes on sharded keyspaces: UPDATE/DELETE routed like SELECT (an owner table's on the
//! primary keys of the rows its lookup maintenance read under lock), DDL on every shard, and
//! INSERT split by the primary vindex into one multi-row INSERT per shard, with ids from the
//! table's sequence when the auto_increment column is omitted or NULL.

use super::lookup_owner::{create_for_insert, maintain_for_dml, LockedKeys};
use super::lookup_pk::keys_condition;
use super::lookup_route::resolve_route;
use super::lookup_sql::interpolate;
use super::lookup_unowned::verify_unowned;
use super::resolve::{column_coercions, destination_shards, stored_value};
use super::select::shard_sql;
use super::{Cursor, ExecError, ShardResult};
use crate::planner::{DmlPlan, InsertPlan};
use crate::vindex::SqlValue;
use crate::vschema::VSchema;
use mysql_async::Value;
use std::borrow::Cow;

/// Runs an UPDATE/DELETE on every shard its route reaches; affected rows are summed.
pub async fn execute_dml<C: Cursor>(
    cursor: &mut C,
    plan: &DmlPlan,
    params: &[Value],
    vschema: &VSchema,
) -> Result<ShardResult, ExecError> {
    if let Some(pick) = &plan.pick {
        return super::dml_pick::execute_picked(cursor, plan, pick, params, vschema).await;
    }
    let keyspace = plan.route.keyspace.as_str();
    let shards = cursor.shards(keyspace)?;
    let targets = resolve_route(cursor, &plan.route, params, vschema, &shards, true).await?;
    if plan.has_limit && targets.len() > 1 {
        return Err(ExecError::NotSupported(
            "UPDATE/DELETE with LIMIT on more than one shard is not supported".into(),
        ));
    }
    if let Some(lookups) = &plan.lookups {
        let locked = maintain_for_dml(cursor, vschema, keyspace, lookups, &targets, params).await?;
        let keyed = Keyed {
            head: &lookups.head,
            head_params: lookups.tail_first_param,
            order_by: &lookups.order_by,
            order_by_first_param: lookups.order_by_first_param,
        };
        return execute_on_keys(cursor, keyspace, &keyed, &locked, params).await;
    }
    let mut total = ShardResult::default();
    for t in &targets {
        let r = cursor
            .execute(keyspace, t.shard, shard_sql(&plan.query, t).into_owned())
            .await?;
        total.affected_rows += r.affected_rows;
        total.warnings = total.warnings.saturating_add(r.warnings);
    }
    Ok(total)
}

/// Most rows one `… WHERE <pk> IN (…)` names.
const KEYS_PER_STATEMENT: usize = 500;

/// The parts of an UPDATE/DELETE that [`execute_on_keys`] runs on given rows.
pub(crate) struct Keyed<'p> {
    /// The statement's text before its WHERE (`UPDATE t SET …` / `DELETE FROM t`).
    pub(crate) head: &'p str,
    /// How many `?` the head has (the statement's first ones).
    pub(crate) head_params: usize,
    /// The statement's ORDER BY without LIMIT, or empty.
    pub(crate) order_by: &'p str,
    /// Index of the first `?` of `order_by`.
    pub(crate) order_by_first_param: usize,
}

/// Runs an UPDATE/DELETE on exactly the rows read and locked before (by
/// [`maintain_for_dml`] or a [`crate::planner::DmlPick`]): the statement's text before its
/// WHERE, with `WHERE <pk> IN (<their keys>)`.
pub(crate) async fn execute_on_keys<C: Cursor>(
    cursor: &mut C,
    keyspace: &str,
    keyed: &Keyed<'_>,
    locked: &LockedKeys,
    params: &[Value],
) -> Result<ShardResult, ExecError> {
    let head_params = params.get(..keyed.head_params).unwrap_or(params);
    let head = interpolate(keyed.head, head_params, cursor.charset())?;
    let order_by = if keyed.order_by.is_empty() {
        String::new()
    } else {
        let order_params = params.get(keyed.order_by_first_param..).unwrap_or(&[]);
        format!(
            "\n{}",
            interpolate(keyed.order_by, order_params, cursor.charset())?
        )
    };
    let mut total = ShardResult::default();
    for rows in &locked.rows {
        for chunk in rows.keys.chunks(KEYS_PER_STATEMENT) {
            // A newline: the head may end in a `--` comment.
            let sql = format!(
                "{head}\nWHERE {}{order_by}",
                keys_condition(&locked.columns, chunk, cursor.charset())
            );
            let r = cursor.execute(keyspace, rows.shard, sql).await?;
            total.affected_rows += r.affected_rows;
            total.warnings = total.warnings.saturating_add(r.warnings);
        }
    }
    Ok(total)
}

/// Runs a DDL statement on every shard of a keyspace, in order. If a shard fails after others
/// succeeded, the error names the shards the statement reached.
pub async fn execute_all_shards<C: Cursor>(
    cursor: &mut C,
    keyspace: &str,
    sql: &str,
) -> Result<ShardResult, ExecError> {
    let shards = cursor.shards(keyspace)?;
    let mut done: Vec<String> = Vec::new();
    let mut total = ShardResult::default();
    for (i, (name, _)) in shards.iter().enumerate() {
        match cursor.execute(keyspace, i, sql.to_string()).await {
            Ok(r) => {
                total.affected_rows += r.affected_rows;
                total.warnings = total.warnings.saturating_add(r.warnings);
                done.push(format!("{keyspace}/{name}"));
            }
            Err(e) if done.is_empty() => return Err(e),
            Err(e) => {
                return Err(ExecError::Internal(format!(
                    "statement failed on {keyspace}/{name}: {e}; it was applied on {}; \
                     not attempted on the remaining shards",
                    done.join(", ")
                )))
            }
        }
    }
    Ok(total)
}

/// Rows placed between two yields to the runtime in [`execute_insert`].
const YIELD_EVERY_ROWS: usize = 1024;

/// Runs an INSERT: assigns sequence ids, computes each row's shard from the primary vindex,
/// and sends each shard one multi-row INSERT with its rows (shards in order).
pub async fn execute_insert<C: Cursor>(
    cursor: &mut C,
    plan: &InsertPlan,
    params: &[Value],
    vschema: &VSchema,
) -> Result<ShardResult, ExecError> {
    let keyspace = plan.keyspace.as_str();
    if !vschema.is_sharded(keyspace) {
        // An unsharded keyspace's table with a sequence.
        return super::insert_sequence::execute_unsharded_insert(cursor, plan, params).await;
    }
    let shards = cursor.shards(keyspace)?;
    let vindex = vschema
        .keyspace(keyspace)
        .and_then(|k| k.vindex(&plan.vindex))
        .and_then(|v| v.functional())
        .ok_or_else(|| {
            ExecError::NotSupported(format!(
                "INSERT through primary vindex '{}' (not a functional vindex) is not supported yet",
                plan.vindex
            ))
        })?;
    let needs_id = |i: usize| -> bool {
        let row = &plan.rows[i];
        plan.auto_increment_omitted || row.auto_increment_value.is_some()
    };
    let generated = (0..plan.rows.len()).filter(|&i| needs_id(i)).count() as u64;
    let mut next_id = 0u64;
    let mut first_id = 0u64;
    if generated > 0 {
        let (seq_ks, seq_table) = plan.sequence.as_ref().ok_or_else(|| {
            ExecError::Internal(format!(
                "table {} needs ids but has no sequence",
                plan.table
            ))
        })?;
        next_id = cursor
            .next_sequence_ids(seq_ks, seq_table, generated)
            .await?;
        first_id = next_id;
    }
    let primary_columns: Vec<String> = vschema
        .table(keyspace, &plan.table)
        .and_then(|t| t.primary_vindex())
        .map(|cv| cv.columns.clone())
        .unwrap_or_default();
    let coercions = column_coercions(
        vschema,
        keyspace,
        &plan.table,
        &primary_columns,
        &plan.vindex,
    );
    // Prepared-statement parameters are written into each row's own text: a shard gets only
    // some rows, so the cursor's in-order filling of the statement's `?` would give a shard's
    // rows the first rows' values.
    let param_at: Vec<usize> = match params.is_empty() {
        true => Vec::new(),
        false => crate::sql::tokenize(&plan.source)
            .iter()
            .filter(|t| t.kind == crate::sql::TokenKind::Param)
            .map(|t| t.start)
            .collect(),
    };
    let params_from =
        |at: usize| &params[param_at.partition_point(|&p| p < at).min(params.len())..];
    let mut placed: Vec<(usize, Cow<'_, str>)> = Vec::with_capacity(plan.rows.len());
    let mut ksids: Vec<Vec<u8>> = Vec::with_capacity(plan.rows.len());
    let mut ids: Vec<Option<u64>> = Vec::with_capacity(plan.rows.len());
    for (i, row) in plan.rows.iter().enumerate() {
        if i % YIELD_EVERY_ROWS == YIELD_EVERY_ROWS - 1 {
            // Hashing and cutting out 150,000 rows takes about half a second: let the other
            // sessions on this runtime thread go on meanwhile.
            tokio::task::yield_now().await;
        }
        let id = if needs_id(i) {
            let id = next_id;
            next_id += 1;
            Some(id)
        } else {
            None
        };
        let mut values = Vec::with_capacity(row.vindex_values.len());
        for (k, v) in row.vindex_values.iter().enumerate() {
            values.push(match (v, id) {
                (Some(v), _) => stored_value(v, params, coercions.get(k).copied().flatten())?,
                (None, Some(id)) => SqlValue::uint64(id),
                (None, None) => {
                    return Err(ExecError::Internal(
                        "row without a primary vindex value".into(),
                    ))
                }
            });
        }
        let dest = match values.len() {
            1 => vindex.map(&values),
            _ => vindex.map_multi(&[values]),
        }
        .map_err(|e| ExecError::Internal(format!("vindex '{}': {e}", plan.vindex)))?;
        let dest = dest
            .first()
            .ok_or_else(|| ExecError::Internal("vindex returned no destination".into()))?;
        let targets = destination_shards(dest, &shards)?;
        let [shard] = targets.as_slice() else {
            return Err(ExecError::NotSupported(format!(
                "INSERT row {} of table {} does not map to exactly one shard (its primary vindex value is NULL or invalid)",
                i + 1,
                plan.table
            )));
        };
        let mut text = row_text(plan, row, id)?;
        if !params.is_empty() {
            text = Cow::Owned(interpolate(
                &text,
                params_from(row.span.0),
                cursor.charset(),
            )?);
        }
        placed.push((*shard, text));
        ksids.push(dest.keyspace_id().map(<[u8]>::to_vec).unwrap_or_default());
        ids.push(id);
    }
    // Lookup rows first (consistent lookups: in the pre list, committed before the owner rows).
    // Unowned lookup values must already map to their rows; then the owned lookups' rows.
    let mut kept = if plan.unowned.is_empty() {
        vec![true; placed.len()]
    } else {
        verify_unowned(cursor, vschema, plan, &ksids, &ids, params).await?
    };
    if !plan.lookups.is_empty() {
        kept = create_for_insert(cursor, vschema, plan, &ksids, &ids, params, kept).await?;
    }
    let (prefix, suffix) = match (params.is_empty(), plan.rows.last()) {
        (false, Some(last)) => (
            Cow::Owned(interpolate(&plan.prefix, params, cursor.charset())?),
            Cow::Owned(interpolate(
                &plan.suffix,
                params_from(last.span.1),
                cursor.charset(),
            )?),
        ),
        _ => (
            Cow::Borrowed(plan.prefix.as_str()),
            Cow::Borrowed(plan.suffix.as_str()),
        ),
    };
    let mut per_shard: Vec<Vec<Cow<'_, str>>> = vec![Vec::new(); shards.len()];
    // Per shard, the statement's row numbers in the order its rows are sent.
    let mut order: Vec<Vec<usize>> = vec![Vec::new(); shards.len()];
    for (i, ((shard, text), keep)) in placed.into_iter().zip(kept).enumerate() {
        if keep {
            if let (Some(rows), Some(at)) = (per_shard.get_mut(shard), order.get_mut(shard)) {
                rows.push(text);
                at.push(i);
            }
        }
    }
    let mut total = ShardResult {
        last_insert_id: first_id,
        ..ShardResult::default()
    };
    let mut returned: Vec<Option<Vec<Value>>> = Vec::new();
    if plan.returning {
        returned.resize(plan.rows.len(), None);
    }
    for (shard, rows) in per_shard.into_iter().enumerate() {
        if rows.is_empty() {
            continue;
        }
        // Built once at its size: a row of hundreds of MiB is copied only into this text.
        let tuples: usize = rows.iter().map(|r| r.len() + 2).sum();
        let mut sql = String::with_capacity(prefix.len() + tuples + suffix.len());
        sql.push_str(&prefix);
        for (k, row) in rows.into_iter().enumerate() {
            if k > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&row);
        }
        sql.push_str(&suffix);
        let r = cursor.execute(keyspace, shard, sql).await?;
        total.affected_rows += r.affected_rows;
        total.warnings = total.warnings.saturating_add(r.warnings);
        if plan.returning {
            place_returned(&mut total, &mut returned, &order[shard], r)?;
        }
    }
    if plan.returning {
        // Every row was sent (RETURNING is planned only without IGNORE), and each shard
        // returned one row per row it inserted, in the order it was sent.
        total.rows = returned.into_iter().flatten().collect();
        total.affected_rows = total.rows.len() as u64;
    }
    Ok(total)
}

/// Puts the rows one shard returned for `INSERT ... RETURNING` at their rows' places in the
/// statement (`at`: the statement's row numbers, in the order sent to that shard).
fn place_returned(
    total: &mut ShardResult,
    returned: &mut [Option<Vec<Value>>],
    at: &[usize],
    r: ShardResult,
) -> Result<(), ExecError> {
    if r.rows.len() != at.len() {
        return Err(ExecError::Internal(format!(
            "INSERT ... RETURNING: a shard returned {} rows for {} inserted",
            r.rows.len(),
            at.len()
        )));
    }
    if total.columns.is_empty() {
        total.columns = r.columns;
    }
    for (row, &i) in r.rows.into_iter().zip(at) {
        if let Some(slot) = returned.get_mut(i) {
            *slot = Some(row);
        }
    }
    Ok(())
}

/// The text of one row tuple, with its generated id filled in (borrowed from the plan when
/// there is none to fill in).
pub(super) fn row_text<'p>(
    plan: &'p InsertPlan,
    row: &crate::planner::InsertRow,
    id: Option<u64>,
) -> Result<Cow<'p, str>, ExecError> {
    let (start, end) = row.span;
    let tuple = plan
        .source
        .get(start..end)
        .ok_or_else(|| ExecError::Internal("row span out of range".into()))?;
    let Some(id) = id else {
        return Ok(Cow::Borrowed(tuple));
    };
    if let Some((vs, ve)) = row.auto_increment_value {
        let head = plan.source.get(start..vs);
        let tail = plan.source.get(ve..end);
        return match (head, tail) {
            (Some(h), Some(t)) => Ok(Cow::Owned(format!("{h}{id}{t}"))),
            _ => Err(ExecError::Internal(
                "auto_increment span out of range".into(),
            )),
        };
    }
    // Column omitted: append the id before the tuple's closing parenthesis.
    let close = tuple
        .rfind(')')
        .ok_or_else(|| ExecError::Internal("row tuple without ')'".into()))?;
    Ok(Cow::Owned(format!(
        "{}, {}{}",
        &tuple[..close],
        id,
        &tuple[close..]
    )))
}

//! Running an UPDATE/DELETE with LIMIT on more than one shard ([`DmlPick`], see
//! `planner::dml_limit`): pick the rows with the merged `SELECT … FOR UPDATE`, then change
//! exactly those rows by primary key on their shards.
//!
//! The caller runs this inside a transaction (the plan [`maintains_lookups`](
//! crate::planner::Plan::maintains_lookups)), so the picked rows stay locked until they
//! are changed.

use super::lookup_owner::{keyspace_id, maintain_for_dml, LockedKeys, LockedRows};
use super::lookup_pk::primary_key;
use super::lookup_sql::{cell_value, ensure_cells_hashable, ident, interpolate, literal};
use super::resolve::{destination_shards, ShardTarget};
use super::select::execute_select;
use super::write::{execute_on_keys, Keyed};
use super::{Cursor, ExecError, ShardResult};
use crate::planner::{DmlPick, DmlPlan, InList, QueryTemplate};
use crate::vindex::{Destination, SqlValue};
use crate::vschema::VSchema;
use mysql_async::Value;

/// Picks the rows of `plan` (whose [`DmlPlan::pick`] is `pick`) and changes them.
pub(crate) async fn execute_picked<C: Cursor>(
    cursor: &mut C,
    plan: &DmlPlan,
    pick: &DmlPick,
    params: &[Value],
    vschema: &VSchema,
) -> Result<ShardResult, ExecError> {
    let keyspace = plan.route.keyspace.as_str();
    let select_params = params.get(pick.select_first_param..).unwrap_or(&[]);
    let picked = if select_params.is_empty() {
        execute_select(cursor, &pick.select, select_params, vschema).await?
    } else {
        // The cursor fills a shard query's `?` from the statement's first parameter on; the
        // select's are the statement's last ones, so they are written in here.
        if pick.select.query.limit_slot.is_some() {
            return Err(ExecError::NotSupported(
                "UPDATE/DELETE with a LIMIT offset on more than one shard".into(),
            ));
        }
        let mut select = pick.select.clone();
        select.query.sql = interpolate(&select.query.sql, select_params, cursor.charset())?;
        select.query.in_list = None;
        execute_select(cursor, &select, select_params, vschema).await?
    };
    if picked.rows.is_empty() {
        return Ok(ShardResult::default());
    }
    ensure_cells_hashable(&picked, cursor.charset())?;
    let shards = cursor.shards(keyspace)?;
    let key = primary_key(cursor, keyspace, 0, &pick.table).await?;
    if key.is_empty() {
        return Err(ExecError::NotSupported(format!(
            "UPDATE/DELETE with LIMIT on more than one shard of table {}, which has no primary key",
            pick.table
        )));
    }
    let position = |name: &str| -> Result<usize, ExecError> {
        picked
            .columns
            .iter()
            .position(|c| {
                c.org_name_str().eq_ignore_ascii_case(name)
                    || c.name_str().eq_ignore_ascii_case(name)
            })
            .ok_or_else(|| {
                ExecError::Internal(format!(
                    "the rows picked from {} have no column {name}",
                    pick.table
                ))
            })
    };
    let key_at: Vec<usize> = key.iter().map(|c| position(c)).collect::<Result<_, _>>()?;
    let primary_at: Vec<usize> = pick
        .primary_columns
        .iter()
        .map(|c| position(c))
        .collect::<Result<_, _>>()?;
    let value_at = |row: &[Value], i: usize| {
        row.get(i)
            .map(|c| cell_value(picked.columns.get(i), c))
            .unwrap_or_else(SqlValue::null)
    };
    // Per shard (in shard order), the keys of the rows picked there.
    let mut per_shard: Vec<Vec<Vec<SqlValue>>> = vec![Vec::new(); shards.len()];
    for row in &picked.rows {
        let primary: Vec<SqlValue> = primary_at.iter().map(|&i| value_at(row, i)).collect();
        let ksid = keyspace_id(vschema, keyspace, &pick.primary_vindex, primary)?;
        let targets = destination_shards(&Destination::KeyspaceId(ksid), &shards)?;
        let [shard] = targets.as_slice() else {
            return Err(ExecError::Internal(
                "a picked row maps to no single shard".into(),
            ));
        };
        if let Some(keys) = per_shard.get_mut(*shard) {
            keys.push(key_at.iter().map(|&i| value_at(row, i)).collect());
        }
    }
    let locked = match &plan.lookups {
        None => LockedKeys {
            columns: key,
            rows: per_shard
                .into_iter()
                .enumerate()
                .filter(|(_, keys)| !keys.is_empty())
                .map(|(shard, keys)| LockedRows { shard, keys })
                .collect(),
        },
        Some(lookups) => {
            // The owner-DML read, restricted to the picked keys (each shard gets its own).
            let (tail, targets) = keys_tail(&key, &per_shard, cursor.charset());
            let mut restricted = lookups.clone();
            restricted.tail = tail;
            restricted.tail_first_param = params.len();
            maintain_for_dml(cursor, vschema, keyspace, &restricted, &targets, params).await?
        }
    };
    let keyed = Keyed {
        head: &pick.head,
        head_params: pick.select_first_param,
        order_by: &pick.order_by,
        order_by_first_param: pick.order_by_first_param,
    };
    execute_on_keys(cursor, keyspace, &keyed, &locked, params).await
}

/// `WHERE <pk> IN (<every key>)` with its IN list items marked, and per shard with keys a
/// target naming its keys' items, so each shard's read names only its own rows.
fn keys_tail(
    key: &[String],
    per_shard: &[Vec<Vec<SqlValue>>],
    cs: crate::sql::Charset,
) -> (QueryTemplate, Vec<ShardTarget>) {
    let tuple = |items: Vec<String>| {
        if items.len() == 1 {
            items.into_iter().next().unwrap_or_default()
        } else {
            format!("({})", items.join(", "))
        }
    };
    let mut sql = format!(
        "WHERE {} IN (",
        tuple(key.iter().map(|c| ident(c)).collect())
    );
    let start = sql.len();
    let mut items = Vec::new();
    let mut targets = Vec::new();
    for (shard, keys) in per_shard.iter().enumerate() {
        if keys.is_empty() {
            continue;
        }
        let mut values = Vec::with_capacity(keys.len());
        for k in keys {
            if !items.is_empty() {
                sql.push_str(", ");
            }
            let s = sql.len();
            sql.push_str(&tuple(k.iter().map(|v| literal(v, cs)).collect()));
            values.push(items.len());
            items.push((s, sql.len()));
        }
        targets.push(ShardTarget { shard, values });
    }
    let end = sql.len();
    sql.push(')');
    let template = QueryTemplate {
        sql,
        in_list: Some(InList {
            span: (start, end),
            items,
        }),
        limit_slot: None,
    };
    (template, targets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::select::shard_sql;

    #[test]
    fn each_shard_reads_only_its_picked_keys() {
        let key = vec!["id".to_string()];
        let per_shard = vec![
            vec![vec![SqlValue::int64(1)], vec![SqlValue::int64(3)]],
            vec![],
            vec![vec![SqlValue::int64(7)]],
        ];
        let (tail, targets) = keys_tail(&key, &per_shard, crate::sql::Charset::UTF8MB4);
        assert_eq!(tail.sql, "WHERE `id` IN (1, 3, 7)");
        assert_eq!(targets.len(), 2);
        assert_eq!(shard_sql(&tail, &targets[0]), "WHERE `id` IN (1, 3)");
        assert_eq!(targets[1].shard, 2);
        assert_eq!(shard_sql(&tail, &targets[1]), "WHERE `id` IN (7)");
        let two = vec!["a".to_string(), "b".to_string()];
        let per_shard = vec![vec![vec![SqlValue::int64(1), SqlValue::int64(2)]]];
        let (tail, targets) = keys_tail(&two, &per_shard, crate::sql::Charset::UTF8MB4);
        assert_eq!(
            shard_sql(&tail, &targets[0]),
            "WHERE (`a`, `b`) IN ((1, 2))"
        );
    }
}

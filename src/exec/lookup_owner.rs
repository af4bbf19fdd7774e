//! Owner-table DML keeping its owned lookup vindexes in step (`lookup-vindexes.md` §1.4):
//!
//! - INSERT: each row's lookup rows are created (consistent lookups: in the pre list) before
//!   the owner rows are written; with IGNORE / ON DUPLICATE KEY UPDATE a row whose unique
//!   value another row holds is dropped from the owner insert.
//! - DELETE: the doomed rows' primary key, primary vindex and lookup columns are read `FOR
//!   UPDATE` on the normal connection, then their lookup rows deleted (post list), then the
//!   DELETE runs on exactly those rows, by primary key (`write`).
//! - UPDATE of an owned lookup column: the same read plus, per lookup, whether the shard
//!   finds the new value equal to the old (`<=>`, with the column's collation); an unchanged
//!   value is skipped, a changed one deletes the old lookup row (post) and creates the new
//!   (pre).

use super::lookup::{Lookup, LookupRow};
use super::lookup_pk::{key_condition, primary_key};
use super::lookup_reclaim::OnTaken;
use super::lookup_sql::{cell_value, ident, interpolate};
use super::lookup_unowned::verify_update;
use super::resolve::{bound_value, column_coercions, stored_as_written, ShardTarget};
use super::select::shard_sql;
use super::{Cursor, ExecError};
use crate::planner::{DmlLookups, InsertPlan, LookupInput, UpsertValues};
use crate::vindex::coerce::Coercion;
use crate::vindex::{Destination, SqlValue};
use crate::vschema::VSchema;
use mysql_async::Value;

/// The keyspace id of a row from its primary vindex values.
pub(crate) fn keyspace_id(
    vschema: &VSchema,
    keyspace: &str,
    vindex_name: &str,
    values: Vec<SqlValue>,
) -> Result<Vec<u8>, ExecError> {
    let vindex = vschema
        .keyspace(keyspace)
        .and_then(|k| k.vindex(vindex_name))
        .and_then(|v| v.functional())
        .ok_or_else(|| {
            ExecError::NotSupported(format!(
                "primary vindex '{vindex_name}' is not a functional vindex"
            ))
        })?;
    let values: Vec<SqlValue> = values
        .into_iter()
        .map(super::resolve::integer_like)
        .collect();
    let dest = match values.len() {
        1 => vindex.map(&values),
        _ => vindex.map_multi(&[values]),
    }
    .map_err(|e| ExecError::Internal(format!("vindex '{vindex_name}': {e}")))?;
    match dest.into_iter().next() {
        Some(Destination::KeyspaceId(k)) => Ok(k),
        _ => Err(ExecError::Internal(format!(
            "vindex '{vindex_name}' gave no single keyspace id for a row"
        ))),
    }
}

/// The values of a lookup's from columns in one INSERT row (`generated`: the row's sequence
/// id, if it got one).
/// `coercions` (one per from column, [`super::resolve::column_coercions`]) convert a written
/// value to what the owner column stores.
pub(crate) fn lookup_inputs(
    inputs: &[LookupInput],
    generated: Option<u64>,
    params: &[Value],
    coercions: &[Option<Coercion>],
) -> Result<Vec<SqlValue>, ExecError> {
    inputs
        .iter()
        .enumerate()
        .map(|(k, input)| {
            Ok(match input {
                LookupInput::Value(v) => {
                    stored_as_written(v, params, coercions.get(k).copied().flatten())?
                }
                LookupInput::Omitted => SqlValue::null(),
                LookupInput::GeneratedId => generated.map_or_else(SqlValue::null, SqlValue::uint64),
            })
        })
        .collect()
}

/// Creates the lookup rows of an INSERT's rows; `ksids[i]` is row i's keyspace id and
/// `generated[i]` its sequence id, if it got one; rows not `kept` (already dropped) are
/// skipped. Returns whether each row may be inserted.
pub(crate) async fn create_for_insert<C: Cursor>(
    cursor: &mut C,
    vschema: &VSchema,
    plan: &InsertPlan,
    ksids: &[Vec<u8>],
    generated: &[Option<u64>],
    params: &[Value],
    mut kept: Vec<bool>,
) -> Result<Vec<bool>, ExecError> {
    let (keyspace, lookups) = (plan.keyspace.as_str(), &plan.lookups);
    let upsert_keys = match &plan.upsert {
        Some(upsert) => upsert_keys(cursor, plan, upsert, generated, params).await?,
        None => Vec::new(),
    };
    let on_taken = match (&plan.upsert, plan.ignore) {
        (Some(_), _) => OnTaken::Upsert(&upsert_keys),
        (None, true) => OnTaken::Drop,
        (None, false) => OnTaken::Fail,
    };
    kept.resize(ksids.len(), true);
    let mut found = Vec::with_capacity(lookups.len());
    for l in lookups {
        let lookup = Lookup::find(vschema, keyspace, &l.vindex)?
            .ok_or_else(|| ExecError::Internal(format!("'{}' is not a lookup vindex", l.vindex)))?;
        found.push((l, lookup));
    }
    // Unique lookups first: a row IGNORE drops for a taken unique value then leaves no
    // orphan in the others.
    found.sort_by_key(|(_, lookup)| !lookup.is_unique());
    for (l, lookup) in found {
        let columns = owner_columns(vschema, keyspace, &plan.table, &l.vindex);
        let coercions = column_coercions(vschema, keyspace, &plan.table, &columns, &l.vindex);
        let mut rows = Vec::new();
        let mut index = Vec::new();
        for (i, inputs) in l.rows.iter().enumerate() {
            if !kept[i] {
                continue;
            }
            let from = lookup_inputs(
                inputs,
                generated.get(i).copied().flatten(),
                params,
                &coercions,
            )?;
            let ksid = ksids
                .get(i)
                .cloned()
                .ok_or_else(|| ExecError::Internal("INSERT row without keyspace id".into()))?;
            rows.push(LookupRow { from, ksid });
            index.push(i);
        }
        // The upsert keys of `rows` (numbered like `rows`, not like the statement's rows).
        let keys: Vec<Option<String>> = index
            .iter()
            .map(|&i| upsert_keys.get(i).cloned().flatten())
            .collect();
        let on_taken = match on_taken {
            OnTaken::Upsert(_) => OnTaken::Upsert(&keys),
            other => other,
        };
        let created = lookup.create_with(cursor, &rows, on_taken).await?;
        for (k, ok) in created.into_iter().enumerate() {
            if !ok {
                if let Some(&i) = index.get(k) {
                    kept[i] = false;
                }
            }
        }
    }
    Ok(kept)
}

/// Per row of an ON DUPLICATE KEY UPDATE, the condition naming it by its primary key in the
/// owner table (None where a key column's value is an expression or left to its default).
async fn upsert_keys<C: Cursor>(
    cursor: &mut C,
    plan: &InsertPlan,
    upsert: &UpsertValues,
    generated: &[Option<u64>],
    params: &[Value],
) -> Result<Vec<Option<String>>, ExecError> {
    let key = primary_key(cursor, &plan.keyspace, 0, &plan.table).await?;
    let mut out = Vec::with_capacity(upsert.rows.len());
    for (i, row) in upsert.rows.iter().enumerate() {
        let mut values = Vec::with_capacity(key.len());
        for col in &key {
            let value = upsert
                .columns
                .iter()
                .position(|c| c == col)
                .and_then(|p| row.get(p).cloned().flatten());
            values.push(match value {
                Some(LookupInput::Value(v)) => Some(bound_value(&v, params)?),
                Some(LookupInput::GeneratedId) => {
                    generated.get(i).copied().flatten().map(SqlValue::uint64)
                }
                Some(LookupInput::Omitted) | None => None,
            });
        }
        let values: Option<Vec<SqlValue>> = values.into_iter().collect();
        out.push(match values {
            Some(v) if !key.is_empty() => Some(key_condition(&key, &v, cursor.charset())),
            _ => None,
        });
    }
    Ok(out)
}

/// The rows an UPDATE/DELETE of an owner table read under lock on one shard: their primary
/// keys, which the statement then changes and nothing else.
pub(crate) struct LockedRows {
    /// The target (shard) they were read on.
    pub(crate) shard: usize,
    /// Each row's primary key values (in the order of [`LockedKeys::columns`]).
    pub(crate) keys: Vec<Vec<SqlValue>>,
}

/// What [`maintain_for_dml`] read: the table's primary key and, per target, its rows.
pub(crate) struct LockedKeys {
    /// The primary key columns.
    pub(crate) columns: Vec<String>,
    /// Per target shard, the rows read.
    pub(crate) rows: Vec<LockedRows>,
}

/// Reads the rows an UPDATE/DELETE will change on each target shard `FOR UPDATE` and moves
/// their lookup rows (before the statement itself runs). Returns their primary keys: the
/// statement must change exactly these rows (its WHERE may pick others when evaluated again).
pub(crate) async fn maintain_for_dml<C: Cursor>(
    cursor: &mut C,
    vschema: &VSchema,
    keyspace: &str,
    plan: &DmlLookups,
    targets: &[ShardTarget],
    params: &[Value],
) -> Result<LockedKeys, ExecError> {
    let Some(first) = targets.first() else {
        return Ok(LockedKeys {
            columns: Vec::new(),
            rows: Vec::new(),
        });
    };
    let key = primary_key(cursor, keyspace, first.shard, &plan.owner_table).await?;
    if key.is_empty() {
        return Err(ExecError::NotSupported(format!(
            "UPDATE/DELETE of table {}, which owns lookup vindexes, without a primary key",
            plan.owner_table
        )));
    }
    let is_update = plan.owned.iter().any(|o| !o.new_values.is_empty());
    let mut columns: Vec<String> = key.iter().map(|c| ident(c)).collect();
    columns.extend(plan.primary_columns.iter().map(|c| ident(c)));
    for o in &plan.owned {
        columns.extend(o.columns.iter().map(|c| ident(c)));
    }
    let tail_params = params.get(plan.tail_first_param..).unwrap_or(&[]);
    if is_update {
        for o in &plan.owned {
            let mut same = Vec::new();
            for (col, nv) in o.columns.iter().zip(&o.new_values) {
                let Some(nv) = nv else { continue };
                let sql = match &nv.value {
                    crate::planner::RouteValue::Param(n) => match params.get(*n) {
                        Some(p) => super::lookup_sql::param(p, cursor.charset())?,
                        None => {
                            return Err(ExecError::Internal(format!("parameter {n} is not bound")))
                        }
                    },
                    crate::planner::RouteValue::Literal(_) => nv.sql.clone(),
                };
                same.push(format!("{} <=> {sql}", ident(col)));
            }
            columns.push(format!("({})", same.join(" AND ")));
        }
    }
    let lookups: Vec<Lookup<'_>> = plan
        .owned
        .iter()
        .map(|o| {
            Lookup::find(vschema, keyspace, &o.vindex)?.ok_or_else(|| {
                ExecError::Internal(format!("'{}' is not a lookup vindex", o.vindex))
            })
        })
        .collect::<Result<_, _>>()?;
    let key_n = key.len();
    let primary_n = plan.primary_columns.len();
    let flags_at = key_n + primary_n + plan.owned.iter().map(|o| o.columns.len()).sum::<usize>();
    // Keyspace ids of the rows read, for the unowned lookups' check.
    let mut changed_ksids: Vec<Vec<u8>> = Vec::new();
    let mut locked = LockedKeys {
        columns: key,
        rows: Vec::with_capacity(targets.len()),
    };
    // Per lookup: the rows to delete and to create, gathered over every shard first, so one
    // Create sees all new values of the statement (two rows given the same unique value are
    // a duplicate, not an orphan to reclaim).
    let mut deletes: Vec<Vec<LookupRow>> = vec![Vec::new(); plan.owned.len()];
    let mut creates: Vec<Vec<LookupRow>> = vec![Vec::new(); plan.owned.len()];
    for t in targets {
        let tail = interpolate(&shard_sql(&plan.tail, t), tail_params, cursor.charset())?;
        let sql = format!(
            // A newline: the tail may end in a `--` comment.
            "SELECT {} FROM {} {tail}\nFOR UPDATE",
            columns.join(", "),
            plan.table
        );
        let result = cursor.execute(keyspace, t.shard, sql).await?;
        super::lookup_sql::ensure_cells_hashable(&result, cursor.charset())?;
        let cols = &result.columns;
        let value_at = |row: &[Value], i: usize| {
            row.get(i)
                .map(|c| cell_value(cols.get(i), c))
                .unwrap_or_else(SqlValue::null)
        };
        let mut keys = Vec::with_capacity(result.rows.len());
        for row in &result.rows {
            keys.push((0..key_n).map(|i| value_at(row, i)).collect());
            let primary: Vec<SqlValue> = (key_n..key_n + primary_n)
                .map(|i| value_at(row, i))
                .collect();
            let ksid = keyspace_id(vschema, keyspace, &plan.primary_vindex, primary)?;
            if !plan.verified.is_empty() && !changed_ksids.contains(&ksid) {
                changed_ksids.push(ksid.clone());
            }
            let mut at = key_n + primary_n;
            for (k, o) in plan.owned.iter().enumerate() {
                let old: Vec<SqlValue> = (at..at + o.columns.len())
                    .map(|i| value_at(row, i))
                    .collect();
                at += o.columns.len();
                if is_update && value_at(row, flags_at + k).raw() == b"1" {
                    continue;
                }
                let mut new = old.clone();
                let coercions =
                    column_coercions(vschema, keyspace, &plan.owner_table, &o.columns, &o.vindex);
                for (j, (slot, nv)) in new.iter_mut().zip(&o.new_values).enumerate() {
                    if let Some(nv) = nv {
                        let coerce = coercions.get(j).copied().flatten();
                        *slot = stored_as_written(&nv.value, params, coerce)?;
                    }
                }
                deletes[k].push(LookupRow {
                    from: old,
                    ksid: ksid.clone(),
                });
                if is_update {
                    creates[k].push(LookupRow {
                        from: new,
                        ksid: ksid.clone(),
                    });
                }
            }
        }
        locked.rows.push(LockedRows {
            shard: t.shard,
            keys,
        });
    }
    verify_update(
        cursor,
        vschema,
        keyspace,
        &plan.owner_table,
        &plan.verified,
        &changed_ksids,
        params,
    )
    .await?;
    for (k, lookup) in lookups.iter().enumerate() {
        lookup.delete(cursor, &deletes[k]).await?;
        if !creates[k].is_empty() {
            lookup.create(cursor, &creates[k], false).await?;
        }
    }
    Ok(locked)
}

/// The owner table's columns of vindex `vindex` (its column vindex entry), lower-cased.
pub(crate) fn owner_columns(
    vschema: &VSchema,
    keyspace: &str,
    table: &str,
    vindex: &str,
) -> Vec<String> {
    vschema
        .table(keyspace, table)
        .and_then(|t| t.column_vindexes.iter().find(|cv| cv.vindex == vindex))
        .map(|cv| cv.columns.clone())
        .unwrap_or_default()
}

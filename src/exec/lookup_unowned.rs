//! INSERT into a table with unowned lookup vindexes (`lookup-vindexes.md` §1.4 step 3): the
//! proxy does not write their lookup rows, so each row's value must already map to the row's
//! keyspace id. A row that does not is refused (as Vitess does: "values [...] for column
//! [...] does not map to keyspace ids"), or dropped by INSERT IGNORE / ON DUPLICATE KEY
//! UPDATE; otherwise a read routed by that vindex would never find it.
//!
//! UPDATE of such a column: the new value must map to the keyspace id of every row changed
//! (read under lock with the owned lookups' maintenance, `lookup_owner`), else an error.
//!
//! Only the first from column is checked, as Vitess's Verify does; NULL (or an omitted
//! column, taken as NULL) is never routed to by `=`, so it needs no lookup row. `write_only`
//! and `no_verify` vindexes verify nothing.

use super::lookup::{Lookup, LookupRow};
use super::lookup_owner::{lookup_inputs, owner_columns};
use super::lookup_sql::{conjunction, ident, literal};
use super::resolve::{column_coercions, stored_as_written};
use super::{Cursor, ExecError};
use crate::backend::BackendError;
use crate::error::ProxyError;
use crate::planner::{InsertPlan, OwnedLookup};
use crate::vindex::SqlValue;
use crate::vschema::VSchema;
use mysql_async::Value;

/// MySQL's generic error number, which Vitess gives this refusal.
const ER_UNKNOWN_ERROR: u16 = 1105;

/// Checks every row's unowned lookup values against its keyspace id `ksids[i]`. Returns
/// whether each row may be inserted: all true, or with `plan.ignore` false for the rows that
/// do not map; without `ignore` the first such row is an error.
pub(crate) async fn verify_unowned<C: Cursor>(
    cursor: &mut C,
    vschema: &VSchema,
    plan: &InsertPlan,
    ksids: &[Vec<u8>],
    generated: &[Option<u64>],
    params: &[Value],
) -> Result<Vec<bool>, ExecError> {
    let mut kept = vec![true; ksids.len()];
    for l in &plan.unowned {
        let lookup = Lookup::find(vschema, &plan.keyspace, &l.vindex)?
            .ok_or_else(|| ExecError::Internal(format!("'{}' is not a lookup vindex", l.vindex)))?;
        if lookup.params.write_only || lookup.params.no_verify {
            continue;
        }
        let column = lookup_column(vschema, plan, &l.vindex);
        let columns = owner_columns(vschema, &plan.keyspace, &plan.table, &l.vindex);
        let coercions = column_coercions(vschema, &plan.keyspace, &plan.table, &columns, &l.vindex);
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
            let Some(first) = from.first().filter(|v| !v.is_null()).cloned() else {
                continue;
            };
            let ksid = ksids
                .get(i)
                .cloned()
                .ok_or_else(|| ExecError::Internal("INSERT row without keyspace id".into()))?;
            let row = LookupRow { from, ksid };
            if lookup.maps(cursor, &row).await? {
                continue;
            }
            if plan.ignore {
                kept[i] = false;
                continue;
            }
            return Err(does_not_map(&first, &column));
        }
    }
    Ok(kept)
}

/// UPDATE of unowned lookup columns: each new value must map to the keyspace id of every
/// changed row (`ksids`, the distinct keyspace ids of the rows read); an error otherwise.
pub(crate) async fn verify_update<C: Cursor>(
    cursor: &mut C,
    vschema: &VSchema,
    keyspace: &str,
    owner_table: &str,
    verified: &[OwnedLookup],
    ksids: &[Vec<u8>],
    params: &[Value],
) -> Result<(), ExecError> {
    for v in verified {
        let Some(Some(new)) = v.new_values.first() else {
            continue;
        };
        let coerce = column_coercions(vschema, keyspace, owner_table, &v.columns, &v.vindex)
            .first()
            .copied()
            .flatten();
        let value = stored_as_written(&new.value, params, coerce)?;
        if value.is_null() {
            continue;
        }
        let lookup = Lookup::find(vschema, keyspace, &v.vindex)?
            .ok_or_else(|| ExecError::Internal(format!("'{}' is not a lookup vindex", v.vindex)))?;
        if lookup.params.write_only || lookup.params.no_verify {
            continue;
        }
        let column = v.columns.first().map(String::as_str).unwrap_or(&v.vindex);
        for ksid in ksids {
            let mut from = vec![SqlValue::null(); v.columns.len().max(1)];
            from[0] = value.clone();
            let row = LookupRow {
                from,
                ksid: ksid.clone(),
            };
            if !lookup.maps(cursor, &row).await? {
                return Err(does_not_map(&value, column));
            }
        }
    }
    Ok(())
}

/// Vitess's refusal of a value that does not map to its row's keyspace id.
fn does_not_map(value: &SqlValue, column: &str) -> ExecError {
    ExecError::Proxy(ProxyError::Backend(BackendError::Server {
        code: ER_UNKNOWN_ERROR,
        state: "HY000".into(),
        message: format!(
            "values [{}] for column [{column}] does not map to keyspace ids",
            String::from_utf8_lossy(value.raw())
        ),
    }))
}

/// The owner table's first column of vindex `vindex` (for the error message).
fn lookup_column(vschema: &VSchema, plan: &InsertPlan, vindex: &str) -> String {
    vschema
        .keyspace(&plan.keyspace)
        .and_then(|k| k.table(&plan.table))
        .and_then(|t| t.column_vindexes.iter().find(|cv| cv.vindex == vindex))
        .and_then(|cv| cv.columns.first().cloned())
        .unwrap_or_else(|| vindex.to_string())
}

impl Lookup<'_> {
    /// Verify: whether the lookup table maps the row's first from value to its keyspace id.
    async fn maps<C: Cursor>(&self, cursor: &mut C, row: &LookupRow) -> Result<bool, ExecError> {
        let shards = cursor.shards(&self.keyspace)?;
        let first = row
            .from
            .first()
            .map(|v| literal(v, cursor.charset()))
            .unwrap_or_else(|| "NULL".into());
        let sql = format!(
            "SELECT 1 FROM {} WHERE {} AND {} = {}",
            ident(&self.table),
            conjunction(&self.params.from[..1.min(self.params.from.len())], &[first]),
            ident(&self.params.to),
            self.to_sql(&row.ksid)?
        );
        for shard in self.row_shards(&shards, row)? {
            let r = cursor
                .execute_in(self.create_order(), &self.keyspace, shard, sql.clone())
                .await?;
            if !r.rows.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

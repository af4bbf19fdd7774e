//! Running a [`MaterializePlan`]: read each table's rows (its fetch plan, routed like any
//! single-table SELECT), copy them into temporary tables of one connection, run the client's
//! statement there, and report its columns as the original tables' (see
//! [`crate::planner`]'s `materialize` for why and what is refused).
//!
//! Every row read is charged to the statement's `limits.max_merge_bytes` budget (1104 past
//! it). The temporary tables live on the session's connection to the first shard of the
//! plan's scratch keyspace, which [`Cursor::execute_scratch`] holds from the first CREATE to
//! the last DROP; a connection whose DROP fails is closed, never reused.

use super::temp_table::{self, Keys};
use super::{execute_select, interpolate, Cursor, ExecError, ScratchWork, ShardResult};
use crate::planner::{MaterializePlan, MaterializedTable, Plan};
use crate::vschema::VSchema;
use mysql_async::Value;
use mysql_common::constants::ColumnFlags;
use mysql_common::packets::Column;

/// Runs `plan` with the client's `params` (bound into the final statement).
pub async fn execute_materialized<C: Cursor>(
    cursor: &mut C,
    plan: &MaterializePlan,
    params: &[Value],
    vschema: &VSchema,
) -> Result<ShardResult, ExecError> {
    let charset = cursor.charset();
    let n = plan.tables.len();
    let mut ddls: Vec<Option<String>> = vec![None; n];
    let mut fetched: Vec<Option<ShardResult>> = vec![None; n];
    for &i in &plan.fetch_order {
        let t = plan
            .tables
            .get(i)
            .ok_or_else(|| ExecError::Internal("a fetch order past the tables".into()))?;
        let shown = cursor
            .execute(
                &t.keyspace,
                0,
                format!(
                    "SHOW CREATE TABLE {}.{}",
                    crate::sql::quote_ident(&t.keyspace),
                    crate::sql::quote_ident(&t.table)
                ),
            )
            .await?;
        let ddl = shown
            .rows
            .first()
            .and_then(|r| r.get(1))
            .and_then(|v| match v {
                Value::Bytes(b) => std::str::from_utf8(b).ok(),
                _ => None,
            })
            .ok_or_else(|| ExecError::Internal(format!("no SHOW CREATE TABLE for {}", t.table)))?
            .to_string();
        let rows = match reduced_fetch(t, &ddl, &fetched, vschema) {
            Some((sql, reduced)) => fetch(cursor, &reduced, &sql, vschema).await?,
            None => fetch(cursor, &t.fetch, &t.fetch_sql, vschema).await?,
        };
        ddls[i] = Some(ddl);
        fetched[i] = Some(rows);
    }
    let ddls: Vec<String> = ddls.into_iter().map(Option::unwrap_or_default).collect();
    let fetched: Vec<ShardResult> = fetched.into_iter().map(Option::unwrap_or_default).collect();
    let query = match params.is_empty() {
        true => plan.query.clone(),
        false => interpolate(&plan.query, params, charset)?,
    };
    let cleanup = match plan.tables.is_empty() {
        true => Vec::new(),
        false => vec![format!(
            "DROP TEMPORARY TABLE IF EXISTS {}",
            plan.tables
                .iter()
                .map(|t| crate::sql::quote_ident(&t.temp))
                .collect::<Vec<_>>()
                .join(", ")
        )],
    };
    let mut keys = Keys::Unique;
    let mut result = loop {
        let mut setup = Vec::new();
        for ((t, ddl), rows) in plan.tables.iter().zip(&ddls).zip(&fetched) {
            setup.push(temp_table::temporary_ddl(ddl, &t.temp, keys)?);
            setup.extend(temp_table::inserts(
                &t.temp,
                &rows.columns,
                &rows.rows,
                charset,
            )?);
        }
        let work = ScratchWork {
            setup,
            query: query.clone(),
            cleanup: cleanup.clone(),
        };
        match cursor
            .execute_scratch(&plan.scratch_keyspace, 0, work)
            .await
        {
            // (Rows of several shards repeat a unique key: copied again with plain keys.)
            Err(e) if keys == Keys::Unique && super::server_code(&e) == Some(ER_DUP_ENTRY) => {
                keys = Keys::Plain;
            }
            other => break other?,
        }
    };
    for c in result.columns.iter_mut() {
        rename_column(c, plan, &fetched);
    }
    Ok(result)
}

/// MariaDB's "Duplicate entry" error.
const ER_DUP_ENTRY: u16 = 1062;

/// Most values one join-column reduction puts in an IN list.
const MAX_REDUCTION_VALUES: usize = 10_000;

/// The fetch of `t` narrowed by the reductions whose source is already fetched and whose two
/// columns are integers (see the planner's `materialize_joins`), with its plan; None when
/// none applies.
fn reduced_fetch(
    t: &MaterializedTable,
    ddl: &str,
    fetched: &[Option<ShardResult>],
    vschema: &VSchema,
) -> Option<(String, Plan)> {
    let qualifier = t.filter.as_ref().map(|f| f.0.as_str());
    let mut conditions: Vec<String> = Vec::new();
    if let Some((_, filter)) = &t.filter {
        conditions.push(filter.clone());
    }
    let mut reduced = false;
    for r in &t.reductions {
        let Some(Some(source)) = fetched.get(r.source) else {
            continue;
        };
        if !temp_table::is_integer_column(ddl, &r.column) {
            continue;
        }
        let Some(values) = integer_values(source, &r.source_column) else {
            continue;
        };
        let column = match qualifier {
            Some(q) => format!(
                "{}.{}",
                crate::sql::quote_ident(q),
                crate::sql::quote_ident(&r.column)
            ),
            None => crate::sql::quote_ident(&r.column),
        };
        let list = if values.is_empty() {
            "NULL".to_string()
        } else {
            values.into_iter().collect::<Vec<_>>().join(", ")
        };
        conditions.push(format!("{column} IN ({list})"));
        reduced = true;
    }
    if !reduced {
        return None;
    }
    let mut sql = format!(
        "SELECT * FROM {}.{}",
        crate::sql::quote_ident(&t.keyspace),
        crate::sql::quote_ident(&t.table)
    );
    if let Some(q) = qualifier {
        sql.push_str(" AS ");
        sql.push_str(&crate::sql::quote_ident(q));
    }
    sql.push_str(" WHERE ");
    sql.push_str(&conditions.join(" AND "));
    let plan = crate::planner::plan(&sql, vschema, None).ok()?;
    matches!(plan, Plan::Select(_) | Plan::Passthrough { .. }).then_some((sql, plan))
}

/// The distinct non-NULL values of an integer column of `rows`; None when the column is not
/// an integer or holds too many values.
fn integer_values(rows: &ShardResult, column: &str) -> Option<std::collections::BTreeSet<String>> {
    let i = rows
        .columns
        .iter()
        .position(|c| String::from_utf8_lossy(c.org_name_ref()).eq_ignore_ascii_case(column))?;
    if !temp_table::is_integer_type(rows.columns[i].column_type()) {
        return None;
    }
    let mut values = std::collections::BTreeSet::new();
    for row in &rows.rows {
        match row.get(i) {
            Some(Value::Bytes(b)) => {
                let text = std::str::from_utf8(b).ok()?;
                if text.is_empty() || !text.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
                    return None;
                }
                values.insert(text.to_string());
                if values.len() > MAX_REDUCTION_VALUES {
                    return None;
                }
            }
            Some(Value::NULL) => {}
            _ => return None,
        }
    }
    Some(values)
}

/// Every row of one table's fetch.
async fn fetch<C: Cursor>(
    cursor: &mut C,
    plan: &Plan,
    sql: &str,
    vschema: &VSchema,
) -> Result<ShardResult, ExecError> {
    match plan {
        Plan::Select(sp) => execute_select(cursor, sp, &[], vschema).await,
        Plan::Passthrough { keyspace } => cursor.execute(keyspace, 0, sql.to_string()).await,
        _ => Err(ExecError::Internal("a fetch that is not a SELECT".into())),
    }
}

/// Key-related column flags: the copy's keys are plain, the original's are reported.
const KEY_FLAGS: ColumnFlags = ColumnFlags::from_bits_truncate(
    ColumnFlags::PRI_KEY_FLAG.bits()
        | ColumnFlags::UNIQUE_KEY_FLAG.bits()
        | ColumnFlags::MULTIPLE_KEY_FLAG.bits()
        | ColumnFlags::AUTO_INCREMENT_FLAG.bits()
        | ColumnFlags::PART_KEY_FLAG.bits(),
);

/// A column of a temporary table is reported as its table's: keyspace, table name, and the
/// key flags the shard reported for it.
fn rename_column(c: &mut Column, plan: &MaterializePlan, sources: &[ShardResult]) {
    let org_table = c.org_table_ref().to_vec();
    let Some(i) = plan
        .tables
        .iter()
        .position(|t| t.temp.as_bytes() == org_table.as_slice())
    else {
        return;
    };
    let t = &plan.tables[i];
    let original = sources.get(i).and_then(|r| {
        r.columns
            .iter()
            .find(|o| o.org_name_ref() == c.org_name_ref())
    });
    let mut flags = c.flags() - KEY_FLAGS;
    if let Some(o) = original {
        flags |= o.flags() & KEY_FLAGS;
    }
    *c = c
        .clone()
        .with_schema(t.keyspace.as_bytes())
        .with_org_table(t.table.as_bytes())
        .with_flags(flags);
}

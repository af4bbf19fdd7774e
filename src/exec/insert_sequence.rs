//! INSERT into a table of an unsharded keyspace whose ids come from its VSchema sequence
//! (planned by `planner::insert_sequence`): the rows that ask for an id get consecutive ids
//! from the sequence cache, the statement runs on the keyspace's one shard with the ids
//! written in, and LAST_INSERT_ID() is the first of them (as vtgate reports it).
//!
//! A row asks for an id when the auto_increment column is omitted or written as `NULL`,
//! `DEFAULT` or `0`, or when its `?` (or a literal the plan cache parameterized) holds NULL or
//! 0. Prepared-statement parameters are written into the text here, so a `?` replaced by an
//! id does not shift the others.

use super::lookup_sql::interpolate;
use super::write::row_text;
use super::{Cursor, ExecError, ShardResult};
use crate::planner::{InsertPlan, RouteValue};
use crate::vindex::SqlValue;
use mysql_async::Value;

/// Whether a literal auto_increment value asks for a generated id: NULL, or a number (or
/// text MySQL reads as one) equal to 0.
fn literal_asks(v: &SqlValue) -> bool {
    v.is_null()
        || std::str::from_utf8(v.raw())
            .ok()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .is_some_and(|n| n == 0.0)
}

/// Whether a bound parameter asks for a generated id (NULL or 0).
fn param_asks(v: &Value) -> bool {
    match v {
        Value::NULL => true,
        Value::Int(n) => *n == 0,
        Value::UInt(n) => *n == 0,
        Value::Float(f) => *f == 0.0,
        Value::Double(f) => *f == 0.0,
        Value::Bytes(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .is_some_and(|n| n == 0.0),
        Value::Date(..) | Value::Time(..) => false,
    }
}

/// Runs `plan` (an unsharded keyspace's INSERT with a sequence) on the keyspace's shard.
pub(super) async fn execute_unsharded_insert<C: Cursor>(
    cursor: &mut C,
    plan: &InsertPlan,
    params: &[Value],
) -> Result<ShardResult, ExecError> {
    // Parameters whose `?` an id replaces.
    let mut replaced = vec![false; params.len()];
    let mut asks = Vec::with_capacity(plan.rows.len());
    for row in &plan.rows {
        let wants = plan.auto_increment_omitted
            || match (row.auto_increment_value, row.vindex_values.first()) {
                (None, _) => false,
                (Some(_), None | Some(None)) => true,
                (Some(_), Some(Some(RouteValue::Literal(v)))) => literal_asks(v),
                (Some(_), Some(Some(RouteValue::Param(n)))) => {
                    let v = params.get(*n).ok_or_else(|| {
                        ExecError::Internal(format!("parameter {n} is not bound"))
                    })?;
                    let wants = param_asks(v);
                    if let (true, Some(slot)) = (wants, replaced.get_mut(*n)) {
                        *slot = true;
                    }
                    wants
                }
            };
        asks.push(wants);
    }
    let count = asks.iter().filter(|&&a| a).count() as u64;
    let mut next_id = 0;
    if count > 0 {
        let (seq_ks, seq_table) = plan.sequence.as_ref().ok_or_else(|| {
            ExecError::Internal(format!(
                "table {} needs ids but has no sequence",
                plan.table
            ))
        })?;
        next_id = cursor.next_sequence_ids(seq_ks, seq_table, count).await?;
    }
    let first_id = next_id;
    let mut sql = plan.prefix.clone();
    for (k, (row, wants)) in plan.rows.iter().zip(asks).enumerate() {
        if k > 0 {
            sql.push_str(", ");
        }
        let id = wants.then(|| {
            next_id += 1;
            next_id - 1
        });
        sql.push_str(&row_text(plan, row, id)?);
    }
    sql.push_str(&plan.suffix);
    if !params.is_empty() {
        let kept: Vec<Value> = params
            .iter()
            .zip(&replaced)
            .filter(|(_, r)| !**r)
            .map(|(v, _)| v.clone())
            .collect();
        // (The cursor finds no `?` left to fill in.)
        sql = interpolate(&sql, &kept, cursor.charset())?;
    }
    let mut result = cursor.execute(&plan.keyspace, 0, sql).await?;
    if count > 0 {
        result.last_insert_id = first_id;
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_asks_for_an_id() {
        assert!(literal_asks(&SqlValue::null()));
        assert!(literal_asks(&SqlValue::varchar("0".as_bytes().to_vec())));
        assert!(!literal_asks(&SqlValue::varchar("7".as_bytes().to_vec())));
        assert!(param_asks(&Value::NULL));
        assert!(param_asks(&Value::Int(0)));
        assert!(param_asks(&Value::Bytes(b"0".to_vec())));
        assert!(!param_asks(&Value::UInt(3)));
        assert!(!param_asks(&Value::Bytes(b"x".to_vec())));
    }
}

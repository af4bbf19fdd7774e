//! LIMIT / OFFSET of a multi-shard SELECT: what the shards are asked for.
//!
//! The proxy applies the client's LIMIT after merging ([`Limit`], numbers or `?` parameters
//! bound at execute time). Without aggregation each shard must return its first
//! offset + count rows of the same order:
//!
//! | client | shard | why |
//! |---|---|---|
//! | `LIMIT n` | as written | |
//! | `LIMIT n OFFSET m`, `LIMIT m, n` | `LIMIT m+n` | |
//! | `LIMIT ?` (`OFFSET 0`) | as written | the server fills `?` with the count |
//! | `LIMIT ?, ?`, `LIMIT ? OFFSET ?`, `LIMIT 5, ?`, `LIMIT ?, 5` | `LIMIT :__upper_limit` | the executor writes offset + count there ([`QueryTemplate::limit_slot`](super::plan::QueryTemplate::limit_slot)) |
//!
//! The LIMIT's `?` are the statement's last ones (nothing after LIMIT takes a parameter), so
//! dropping them from the shard text leaves every other `?` where the server expects it
//! ([`super::params`] checks). With `FOR UPDATE` / `LOCK IN SHARE MODE`, printed after the
//! LIMIT, a slot is refused. Aggregating queries send no LIMIT at all (the proxy needs every
//! group).

use super::plan::{Limit, LimitValue, RouteValue};
use super::{unsupported, Ctx, PlanError};
use sqlparser::ast::{Expr, LimitClause, Query, Value};

/// The placeholder of a shard LIMIT the executor computes (offset + count of `?`s).
pub(crate) const UPPER_LIMIT: &str = ":__upper_limit";

/// The query's LIMIT, with literal numbers or `?` parameters.
pub(crate) fn limit_of(ctx: &Ctx<'_>, q: &Query) -> Result<Option<Limit>, PlanError> {
    let number = |e: &Expr| -> Result<LimitValue, PlanError> {
        match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => n
                    .parse::<u64>()
                    .map(LimitValue::Literal)
                    .or_else(|_| unsupported(format!("LIMIT {n}"))),
                Value::Placeholder(_) => match ctx.text.route_value(e) {
                    Some(RouteValue::Param(n)) => Ok(LimitValue::Param(n)),
                    _ => unsupported(format!("LIMIT {e} on more than one shard")),
                },
                _ => unsupported(format!("LIMIT {e}")),
            },
            _ => unsupported(format!("LIMIT {e} on more than one shard")),
        }
    };
    match &q.limit_clause {
        None => Ok(None),
        Some(LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        }) => {
            if !limit_by.is_empty() {
                return unsupported("LIMIT BY");
            }
            let count = limit.as_ref().map(&number).transpose()?;
            let offset = offset.as_ref().map(|o| number(&o.value)).transpose()?;
            Ok(Some(Limit {
                offset: offset.unwrap_or(LimitValue::Literal(0)),
                count,
            }))
        }
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => Ok(Some(Limit {
            offset: number(offset)?,
            count: Some(number(limit)?),
        })),
    }
}

/// `LIMIT n` for the shards.
fn limit_clause(n: u64) -> LimitClause {
    LimitClause::LimitOffset {
        limit: Some(Expr::value(Value::Number(n.to_string(), false))),
        offset: None,
        limit_by: Vec::new(),
    }
}

/// Sets the shard query's LIMIT for the client's `limit` (see the module table); true when it
/// is the [`UPPER_LIMIT`] slot.
pub(crate) fn shard_limit(
    q: &Query,
    limit: Option<Limit>,
    shard_q: &mut Query,
) -> Result<bool, PlanError> {
    match limit {
        Some(Limit {
            count: Some(LimitValue::Literal(count)),
            offset: LimitValue::Literal(offset),
        }) => {
            shard_q.limit_clause = Some(limit_clause(offset.saturating_add(count)));
            Ok(false)
        }
        Some(l @ Limit { count: Some(_), .. })
            if l.has_params() && l.literal_offset() != Some(0) =>
        {
            if !q.locks.is_empty() {
                return unsupported(
                    "LIMIT ?, ? with FOR UPDATE / LOCK IN SHARE MODE on more than one shard",
                );
            }
            shard_q.limit_clause = Some(LimitClause::LimitOffset {
                limit: Some(Expr::value(Value::Placeholder(UPPER_LIMIT.to_string()))),
                offset: None,
                limit_by: Vec::new(),
            });
            Ok(true)
        }
        _ => Ok(false),
    }
}

//! `INSERT … SELECT` into a sharded table: the SELECT is planned like any other (routed,
//! merged, or answered over copies), and its rows become the VALUES of an ordinary INSERT,
//! which then runs the normal way — each row's keyspace id from its vindex values, owned
//! lookup rows written, omitted sequence columns filled.
//!
//! The plan keeps the client's text in three pieces: the head (`INSERT [IGNORE] INTO t
//! (cols) `), the SELECT, and the tail (` ON DUPLICATE KEY UPDATE …`, or nothing); the
//! executor writes `head VALUES (…), (…) tail`. The SELECT is read whole before anything
//! is inserted, as MariaDB does when a statement inserts into a table it reads.
//!
//! Refused (1235): `?` parameters (a prepared INSERT … SELECT), RETURNING, and a SELECT
//! whose text the proxy cannot find.

use super::plan::{InsertSelectPlan, Plan};
use super::{unsupported, Ctx, PlanError};
use crate::sql::TokenKind;
use sqlparser::ast::{Insert, Spanned};

/// Whether `ins` inserts the rows of a query (not VALUES).
pub(crate) fn is_insert_select(ins: &Insert) -> bool {
    ins.source
        .as_ref()
        .is_some_and(|q| !matches!(q.body.as_ref(), sqlparser::ast::SetExpr::Values(_)))
}

/// Plans `ins`, an INSERT … SELECT into a sharded table of `keyspace`.
pub(crate) fn plan(ctx: &Ctx<'_>, ins: &Insert, keyspace: &str) -> Result<Plan, PlanError> {
    if ins.returning.is_some() {
        return unsupported("INSERT ... SELECT ... RETURNING into a sharded table");
    }
    if ctx.text.tokens.iter().any(|t| t.kind == TokenKind::Param) {
        return unsupported("INSERT ... SELECT with ? parameters into a sharded table");
    }
    let source = ins
        .source
        .as_ref()
        .ok_or_else(|| super::not_supported("INSERT without rows"))?;
    let start = ctx
        .text
        .range(source.span())
        .map(|r| r.0)
        .ok_or_else(|| super::not_supported("an INSERT ... SELECT the proxy cannot read"))?;
    let end = match ins.on {
        Some(_) => on_duplicate_start(ctx).ok_or_else(|| {
            super::not_supported(
                "an INSERT ... SELECT ... ON DUPLICATE KEY UPDATE the proxy cannot read",
            )
        })?,
        None => ctx.sql.len(),
    };
    let select_sql = ctx
        .sql
        .get(start..end)
        .map(|s| s.trim_end().trim_end_matches(';').trim_end())
        .filter(|s| {
            let lower = s.get(..4).unwrap_or("").to_ascii_lowercase();
            lower == "sele" || lower == "with"
        })
        .ok_or_else(|| super::not_supported("an INSERT ... SELECT the proxy cannot read"))?;
    let select = super::plan(select_sql, ctx.vschema, ctx.target)?;
    if matches!(
        select,
        Plan::Insert(_) | Plan::Dml(_) | Plan::AllShards { .. }
    ) {
        return unsupported("an INSERT whose source is not a query");
    }
    Ok(Plan::InsertSelect(InsertSelectPlan {
        keyspace: keyspace.to_string(),
        head: ctx.sql.get(..start).unwrap_or("").to_string(),
        select_sql: select_sql.to_string(),
        select: Box::new(select),
        tail: ctx.sql.get(end..).unwrap_or("").to_string(),
    }))
}

/// Byte offset of the top-level `ON DUPLICATE KEY UPDATE` (its `ON`).
fn on_duplicate_start(ctx: &Ctx<'_>) -> Option<usize> {
    let tokens: Vec<_> = ctx
        .text
        .tokens
        .iter()
        .filter(|t| !matches!(t.kind, TokenKind::Comment))
        .collect();
    let mut depth = 0i32;
    let mut found = None;
    for (i, t) in tokens.iter().enumerate() {
        let text = t.text(ctx.sql);
        match (t.kind, text) {
            (TokenKind::Punct, "(") => depth += 1,
            (TokenKind::Punct, ")") => depth -= 1,
            (TokenKind::Ident, w) if depth == 0 && w.eq_ignore_ascii_case("on") => {
                let next = tokens.get(i + 1).map(|n| n.text(ctx.sql));
                if next.is_some_and(|n| n.eq_ignore_ascii_case("duplicate")) {
                    found = Some(t.start);
                }
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use crate::planner::tests::test_vschema;
    use crate::planner::{plan, Plan};
    use crate::session::Target;

    fn target() -> Target {
        Target {
            keyspace: "customer".into(),
            shard: None,
        }
    }

    #[test]
    fn the_select_is_planned_alone_and_the_text_kept_in_pieces() {
        let sql = "insert ignore into orders (id, user_id) select id, id from user where id in (1, 2) on duplicate key update user_id = values(user_id)";
        let Ok(Plan::InsertSelect(p)) = plan(sql, &test_vschema(), Some(&target())) else {
            panic!("{sql}");
        };
        assert_eq!(p.head, "insert ignore into orders (id, user_id) ");
        assert_eq!(p.select_sql, "select id, id from user where id in (1, 2)");
        assert_eq!(p.tail, "on duplicate key update user_id = values(user_id)");
        assert!(matches!(*p.select, Plan::Select(_)));
        let sql = "INSERT INTO orders SELECT o.* FROM orders o JOIN user u ON u.id = o.user_id + 1";
        let Ok(Plan::InsertSelect(p)) = plan(sql, &test_vschema(), Some(&target())) else {
            panic!("{sql}");
        };
        assert_eq!(p.tail, "");
        assert!(matches!(*p.select, Plan::Materialize(_)));
    }

    #[test]
    fn parameters_and_returning_are_refused() {
        for sql in [
            "insert into orders (id, user_id) select id, ? from user",
            "insert into orders (id, user_id) select id, id from user returning id",
        ] {
            assert!(
                matches!(
                    plan(sql, &test_vschema(), Some(&target())),
                    Err(crate::planner::PlanError::NotSupported(_))
                ),
                "{sql}"
            );
        }
    }
}

//! SELECT (and UNION) statements.
//!
//! The statement's tables decide the keyspace ([`super::tables::decide`]); its route comes
//! from [`super::joins::route_statement`]. One shard (EqualUnique, reference tables only,
//! a statement without tables, or an impossible predicate) → the client's text, relayed
//! without merging. More shards → [`super::merge`] plans the shard query and the merge; the IN
//! list is pruned per shard only when the text is sent unchanged.
//!
//! [`RouteOpcode::None`] SELECTs are planned like multi-shard ones: the executor runs them on
//! one shard for the column definitions, discards the rows and merges nothing, which leaves
//! no rows, or the one row of a scalar aggregate.

use super::joins::route_statement;
use super::merge::{plan_merge, ShardSelect};
use super::plan::{Plan, QueryTemplate, Route, SelectPlan};
use super::routing::Choice;
use super::scope::Analysis;
use super::tables::{decide, Decision, Resolved};
use super::unsupported;
use super::{Ctx, PlanError};
use crate::sql::TokenKind;
use crate::vschema::KeyspaceSchema;
use sqlparser::ast::{visit_expressions, CastKind, DataType, Expr, Query};
use std::ops::ControlFlow;

/// Plans a SELECT statement.
pub(crate) fn plan_select(ctx: &Ctx<'_>, q: &Query) -> Result<Plan, PlanError> {
    let mut a = Analysis::of_query(ctx, q)?;
    let ks = match keyspace_of(ctx, &mut a)? {
        Decision::Sharded(ks) => ks,
        Decision::Passthrough(ks) => {
            return Ok(Plan::Passthrough {
                keyspace: ks.name.clone(),
            })
        }
    };
    let route = route_statement(ctx, &a, ks)?;
    let choice = route.choice.clone();
    if choice.is_single_shard() {
        return Ok(Plan::Select(SelectPlan {
            route: to_route(ks, choice),
            query: QueryTemplate {
                sql: ctx.sql.to_string(),
                in_list: None,
                limit_slot: None,
            },
            merge: None,
            empty_without_rows: empty_without_rows(ctx),
            fields: Default::default(),
        }));
    }
    let ShardSelect {
        sql,
        merge,
        limit_slot,
    } = plan_merge(ctx, q, &a, &route)?;
    let in_list = if sql == ctx.sql {
        choice.in_list.clone()
    } else {
        refuse_binary_operator_reprint(q)?;
        refuse_hex_hybrid_reprint(ctx)?;
        None
    };
    Ok(Plan::Select(SelectPlan {
        route: to_route(ks, choice),
        query: QueryTemplate {
            sql,
            in_list,
            limit_slot,
        },
        merge: Some(merge),
        empty_without_rows: empty_without_rows(ctx),
        fields: Default::default(),
    }))
}

/// Whether the statement returns no row when its tables give none: no aggregate function,
/// UNION or HAVING anywhere in it (checked on the words, conservatively).
fn empty_without_rows(ctx: &Ctx<'_>) -> bool {
    const ROW_MAKERS: &[&str] = &[
        "count",
        "sum",
        "min",
        "max",
        "avg",
        "group_concat",
        "bit_and",
        "bit_or",
        "bit_xor",
        "std",
        "stddev",
        "stddev_pop",
        "stddev_samp",
        "var_pop",
        "var_samp",
        "variance",
        "json_arrayagg",
        "json_objectagg",
        "union",
        "having",
        "except",
        "intersect",
    ];
    !ctx.text.tokens.iter().any(|t| {
        t.kind == crate::sql::TokenKind::Ident
            && ROW_MAKERS
                .iter()
                .any(|w| t.text(ctx.sql).eq_ignore_ascii_case(w))
    })
}

/// Where the statement runs: a sharded keyspace, or passthrough (also a statement without
/// tables under an unsharded target). Reference copies replace unsharded sources in `a`.
pub(crate) fn keyspace_of<'a>(
    ctx: &Ctx<'a>,
    a: &mut Analysis<'a, '_>,
) -> Result<Decision<'a>, PlanError> {
    if a.instances.is_empty() {
        let target = ctx.target.ok_or(PlanError::NoDatabase)?;
        let ks = ctx
            .vschema
            .keyspace(&target.keyspace)
            .ok_or(PlanError::NoDatabase)?;
        return Ok(if ks.sharded {
            Decision::Sharded(ks)
        } else {
            Decision::Passthrough(ks)
        });
    }
    let mut resolved: Vec<Resolved<'a>> = a.instances.iter().map(|i| i.res.clone()).collect();
    let decision = decide(&mut resolved)?;
    for (inst, res) in a.instances.iter_mut().zip(resolved) {
        inst.res = res;
    }
    Ok(decision)
}

/// The plan's route for a choice in keyspace `ks`.
pub(crate) fn to_route(ks: &KeyspaceSchema, c: Choice) -> Route {
    Route {
        keyspace: ks.name.clone(),
        opcode: c.opcode,
        vindex: c.vindex,
        values: c.values,
        coerce: c.coerce,
    }
}

/// Refuses a statement whose shard query had to be re-printed from the syntax tree when it
/// holds MySQL's `BINARY` prefix operator before a compound expression. The parser binds
/// `BINARY name = 'x'` as `BINARY (name = 'x')` (MySQL: `(BINARY name) = 'x'`), so the
/// re-printed `CAST(name = 'x' AS BINARY)` compares case-insensitively and PAD SPACE and
/// matches rows MariaDB does not. (An explicit `CAST(a = b AS BINARY)` has the same tree and is
/// refused too.) The client's text, relayed unchanged, is always exact.
fn refuse_binary_operator_reprint(q: &Query) -> Result<(), PlanError> {
    let found = visit_expressions(q, |e: &Expr| match e {
        Expr::Cast {
            kind: CastKind::Cast,
            data_type: DataType::Binary(None),
            expr,
            format: None,
        } if is_compound(expr) => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    });
    if found.is_break() {
        return unsupported(
            "the BINARY operator before a comparison in a statement rewritten for more than one shard",
        );
    }
    Ok(())
}

/// Refuses a statement whose shard query had to be re-printed when it holds a `0x..`
/// hexadecimal literal: the syntax tree keeps it as a hex string and re-prints it as `X'..'`,
/// which MariaDB reads as a string (`id = X'6f'` compares `id` with 'o', i.e. 0), while `0x6f`
/// is a number in a numeric context (`id = 0x6f` is `id = 111`).
fn refuse_hex_hybrid_reprint(ctx: &Ctx<'_>) -> Result<(), PlanError> {
    let hybrid = ctx
        .text
        .tokens
        .iter()
        .any(|t| t.kind == TokenKind::HexOrBit && t.text(ctx.text.sql).starts_with("0x"));
    if hybrid {
        return unsupported(
            "a 0x hexadecimal literal in a statement rewritten for more than one shard",
        );
    }
    Ok(())
}

/// Whether `e` is an operator expression (the parser's reading of `BINARY` swallowed it).
fn is_compound(e: &Expr) -> bool {
    matches!(
        e,
        Expr::BinaryOp { .. }
            | Expr::IsNull(_)
            | Expr::IsNotNull(_)
            | Expr::IsTrue(_)
            | Expr::IsNotTrue(_)
            | Expr::IsFalse(_)
            | Expr::IsNotFalse(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::Like { .. }
            | Expr::ILike { .. }
            | Expr::RLike { .. }
            | Expr::SimilarTo { .. }
            | Expr::InList { .. }
            | Expr::InSubquery { .. }
            | Expr::InUnnest { .. }
            | Expr::Between { .. }
            | Expr::AnyOp { .. }
            | Expr::AllOp { .. }
            | Expr::UnaryOp { .. }
    )
}

#[cfg(test)]
mod reprint_tests {
    use crate::planner::tests::test_vschema;
    use crate::planner::{plan_routed as plan, PlanError};

    #[test]
    fn a_reprinted_binary_comparison_is_refused() {
        let vschema = test_vschema();
        let q = "SELECT name, COUNT(*) AS n FROM user WHERE BINARY name = 'bob' GROUP BY name ORDER BY n";
        match plan(q, &vschema, None) {
            Err(PlanError::NotSupported(m)) => assert!(m.contains("BINARY"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_reprinted_0x_literal_is_refused() {
        let vschema = test_vschema();
        let q = "SELECT name FROM user WHERE id = 0x6f ORDER BY id, phone";
        match plan(q, &vschema, None) {
            Err(PlanError::NotSupported(m)) => assert!(m.contains("0x"), "{m}"),
            other => panic!("{other:?}"),
        }
        for q in [
            "SELECT name FROM user WHERE id = 0x6f",
            "SELECT name, id, phone FROM user WHERE id = X'6f' ORDER BY id, phone",
        ] {
            assert!(plan(q, &vschema, None).is_ok(), "{q}");
        }
    }

    #[test]
    fn binary_relayed_unchanged_or_on_a_column_is_planned() {
        let vschema = test_vschema();
        for q in [
            "SELECT name FROM user WHERE BINARY name = 'bob'",
            "SELECT name, COUNT(*) AS n FROM user WHERE id = 5 AND BINARY name = 'bob' GROUP BY name ORDER BY n",
            "SELECT BINARY name AS b, COUNT(*) AS n FROM user GROUP BY b ORDER BY n",
        ] {
            assert!(plan(q, &vschema, None).is_ok(), "{q}");
        }
    }
}

//! UPDATE/DELETE with LIMIT on more than one shard: the rows are picked first.
//!
//! One server changes the first n rows its WHERE matches in its ORDER BY order (any n rows
//! without ORDER BY). Sending `... LIMIT n` to each shard would change up to n rows per
//! shard, so the statement is planned as a [`DmlPick`]:
//!
//! 1. `SELECT * FROM <table> <the statement's WHERE / ORDER BY / LIMIT> FOR UPDATE`, planned
//!    by the SELECT planner like any scatter SELECT (the shards are asked for n rows each, the
//!    proxy merges them in ORDER BY order with the columns' collations and keeps n): exactly
//!    the rows one server would change (ties in ORDER BY are unspecified there too), locked.
//! 2. The executor learns the table's real PRIMARY KEY from a shard (`SHOW KEYS`: the
//!    planner does no I/O, and the VSchema's primary vindex columns need not be unique), puts
//!    each picked row on its shard by its primary vindex columns, and runs
//!    `<head> WHERE <pk> IN (<picked keys>) [ORDER BY …]` there. An owner table's lookup rows
//!    are moved first, for exactly those rows (the owner-DML path, with its read restricted to
//!    the picked keys).
//!
//! The pick and the changes run in one transaction (an implicit one under autocommit, a
//! statement savepoint inside the client's): the picked rows stay locked until the keyed
//! statements ran. `SELECT *` (not only the key columns) because the planner does not know
//! the key; it reads at most n rows per shard. A table without a primary key is refused at
//! execute time (1235), as is a multi-table statement with LIMIT (MariaDB refuses it anyway).

use super::dml_lookups::{order_by_range, tail_start};
use super::plan::{DmlPick, Plan};
use super::scope::Analysis;
use super::{not_supported, parse, select, unsupported, values, Ctx, PlanError};
use crate::sql::{quote_ident, TokenKind};
use sqlparser::ast::Statement;

/// The pick of a single-table UPDATE (`is_update`) or DELETE with LIMIT whose route reaches
/// more than one shard.
pub(crate) fn pick(
    ctx: &Ctx<'_>,
    a: &Analysis<'_, '_>,
    is_update: bool,
    verb: &str,
) -> Result<DmlPick, PlanError> {
    let targets: Vec<usize> = (0..a.instances.len())
        .filter(|&i| a.instances[i].scope == 0)
        .collect();
    let [inst] = targets.as_slice() else {
        return unsupported(format!(
            "multi-table {verb} with LIMIT on more than one shard"
        ));
    };
    let res = &a.instances[*inst].res;
    let Some(table) = res.table else {
        return unsupported(format!(
            "{verb} with LIMIT on more than one shard of {}, which the VSchema does not list",
            res.display()
        ));
    };
    let primary = table
        .primary_vindex()
        .ok_or_else(|| not_supported(format!("table {} has no primary vindex", res.display())))?;
    let mut from = if res.qualified {
        format!(
            "{}.{}",
            quote_ident(&res.keyspace.name),
            quote_ident(&res.name)
        )
    } else {
        quote_ident(&res.name)
    };
    if let Some(alias) = &a.instances[*inst].alias {
        from.push_str(" AS ");
        from.push_str(&quote_ident(alias));
    }
    let start = tail_start(ctx, is_update);
    let tail = ctx
        .sql
        .get(start..)
        .unwrap_or("")
        .trim_end()
        .trim_end_matches(';');
    let params_before = |at: usize| {
        ctx.text
            .tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Param && t.start < at)
            .count()
    };
    let first_param = params_before(start);
    let head = ctx.sql.get(..start).unwrap_or("").trim_end();
    let (order_by, order_by_first_param) = match order_by_range(ctx, start) {
        Some((s, e)) => (
            ctx.sql.get(s..e).unwrap_or("").trim_end().to_string(),
            params_before(s),
        ),
        None => (String::new(), 0),
    };
    // A newline before FOR UPDATE: the tail may end in a `--` comment.
    let select_sql = format!("SELECT * FROM {from} {tail}\nFOR UPDATE");
    let bound = ctx.text.bound.get(first_param..).unwrap_or(&[]);
    let select_ctx = Ctx {
        sql: &select_sql,
        vschema: ctx.vschema,
        target: ctx.target,
        text: values::Text::with_bound(&select_sql, bound),
        hints: ctx.hints,
    };
    let Statement::Query(q) = parse(&select_sql)? else {
        return unsupported(format!("{verb} with LIMIT on more than one shard"));
    };
    let Plan::Select(select) = select::plan_select(&select_ctx, &q)? else {
        return unsupported(format!("{verb} with LIMIT on more than one shard"));
    };
    Ok(DmlPick {
        select,
        select_first_param: first_param,
        table: res.name.clone(),
        primary_vindex: primary.vindex.clone(),
        primary_columns: primary.columns.clone(),
        head: head.to_string(),
        order_by,
        order_by_first_param,
    })
}

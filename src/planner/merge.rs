//! Multi-shard SELECT: what each shard runs and how the proxy merges the answers ([`Merge`]).
//!
//! Without aggregation (or when every group lives on one shard, see below):
//! * ORDER BY terms name select-list columns (position, alias, same expression, or a column
//!   name); any other term is added as a hidden column at the end of the shard query
//!   (`visible_columns` then hides it). With a `*` in the select list the column positions
//!   are not known at plan time: every ORDER BY term (an alias's expression for an alias)
//!   is then appended as a helper `<expr> AS __o<i>` and [`Merge::hidden_tail`] tells the
//!   executor to sort by, then drop, the last columns of the actual rows. Positions
//!   (`ORDER BY 2`) are refused there; with DISTINCT only a bare `*` ordered by columns.
//! * `LIMIT n OFFSET m` → shards get `LIMIT m+n` and the proxy skips m, keeps n. `LIMIT n`
//!   and `LIMIT ?` need no rewrite; `?` with an offset → a slot ([`super::limit`]).
//! * DISTINCT stays on the shards and the proxy removes duplicates across them (refused with
//!   hidden ORDER BY columns).
//! * GROUP BY on the primary vindex column of a table that decides the row's shard (the
//!   anchor): groups never span shards, so the query (HAVING included) runs as is and only
//!   ORDER BY / LIMIT / DISTINCT are merged; without ORDER BY the groups are merged in GROUP
//!   BY order, as MariaDB returns them.
//!
//! With aggregation across shards, see [`super::aggregate`].
//!
//! Refused on more than one shard: window functions, `SQL_CALC_FOUND_ROWS`, `SELECT ... INTO`,
//! `@var := ...`, `FETCH`, `NULLS FIRST/LAST`, and rewrites that would move a `?` parameter
//! ([`super::params`]).

use super::aggregate;
use super::joins::StatementRoute;
use super::limit::{self, limit_of, UPPER_LIMIT};
use super::names::keep_names;
use super::params;
use super::plan::{Limit, Merge};
use super::routing::{column_of, knows};
use super::scope::Analysis;
use super::{not_supported, unsupported, Ctx, PlanError};
use crate::engine::OrderBy;
use sqlparser::ast::{
    BinaryOperator, Expr, GroupByExpr, Ident, OrderByExpr, OrderByKind, Query, Select, SelectItem,
    SetExpr, Value, Visit, Visitor,
};
use std::ops::ControlFlow;

/// Aggregate function names (lower case) MySQL and MariaDB know.
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "any_value",
    "group_concat",
    "std",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "variance",
    "var_pop",
    "var_samp",
    "bit_and",
    "bit_or",
    "bit_xor",
    "json_arrayagg",
    "json_objectagg",
];

/// What an expression contains (not looking into subqueries).
#[derive(Debug, Default)]
pub(crate) struct Flags {
    /// An aggregate function call.
    pub aggregate: bool,
    /// A window function (`OVER`).
    pub window: bool,
    /// `@x := ...`.
    pub assignment: bool,
    depth: usize,
}

impl Visitor for Flags {
    type Break = ();

    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        if self.depth > 0 {
            return ControlFlow::Continue(());
        }
        match e {
            Expr::Function(f) if f.over.is_some() => self.window = true,
            Expr::Function(f) if is_aggregate_name(&f.name.to_string()) => self.aggregate = true,
            Expr::BinaryOp {
                op: BinaryOperator::Assignment,
                ..
            } => self.assignment = true,
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Whether `name` is an aggregate function.
pub(crate) fn is_aggregate_name(name: &str) -> bool {
    AGGREGATES.contains(&name.to_ascii_lowercase().as_str())
}

/// The flags of an expression.
pub(crate) fn flags(e: &Expr) -> Flags {
    let mut f = Flags::default();
    let _ = e.visit(&mut f);
    f
}

/// The top SELECT of a query and its ORDER BY terms.
pub(crate) fn top_select(q: &Query) -> Result<(&Select, Vec<&OrderByExpr>), PlanError> {
    let SetExpr::Select(select) = q.body.as_ref() else {
        return unsupported("a parenthesized query on more than one shard");
    };
    let order = match &q.order_by {
        None => Vec::new(),
        Some(o) => match &o.kind {
            OrderByKind::Expressions(items) => items.iter().collect(),
            OrderByKind::All(_) => return unsupported("ORDER BY ALL"),
        },
    };
    Ok((select, order))
}

/// What [`plan_merge`] decides: the shard text, the merge, and where the executor writes a
/// computed LIMIT ([`super::plan::QueryTemplate::limit_slot`]).
pub(crate) struct ShardSelect {
    /// The query each shard runs.
    pub sql: String,
    /// How the proxy combines the answers.
    pub merge: Merge,
    /// Byte range of the `:__upper_limit` slot in `sql`.
    pub limit_slot: Option<(usize, usize)>,
}

/// Plans the shard query and merge of a SELECT that runs on more than one shard.
pub(crate) fn plan_merge(
    ctx: &Ctx<'_>,
    q: &Query,
    a: &Analysis<'_, '_>,
    route: &StatementRoute,
) -> Result<ShardSelect, PlanError> {
    let (select, order) = top_select(q)?;
    refuse_common(q, select, &order)?;
    let limit = limit_of(ctx, q)?;
    let mut aggregated = !group_exprs(select)?.is_empty();
    for item in &select.projection {
        if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item {
            aggregated |= flags(e).aggregate;
        }
    }
    aggregated |= select.having.as_ref().is_some_and(|h| flags(h).aggregate);
    aggregated |= order.iter().any(|o| flags(&o.expr).aggregate);
    if aggregated {
        check_group_aliases(a, select)?;
    }
    if aggregated && !groups_on_one_shard(a, route, select)? {
        let (sql, merge) = aggregate::plan(ctx, q, a, select, &order, limit)?;
        return Ok(ShardSelect {
            sql,
            merge,
            limit_slot: None,
        });
    }
    plain(ctx, q, select, &order, limit, aggregated)
}

fn refuse_common(q: &Query, select: &Select, order: &[&OrderByExpr]) -> Result<(), PlanError> {
    if select.into.is_some() {
        return unsupported("SELECT ... INTO on more than one shard");
    }
    if select
        .select_modifiers
        .as_ref()
        .is_some_and(|m| m.sql_calc_found_rows)
    {
        return unsupported("SQL_CALC_FOUND_ROWS on more than one shard");
    }
    if matches!(select.distinct, Some(sqlparser::ast::Distinct::On(_))) {
        return unsupported("DISTINCT ON");
    }
    if q.fetch.is_some() {
        return unsupported("FETCH on more than one shard");
    }
    if order.iter().any(|o| o.options.nulls_first.is_some()) {
        return unsupported("ORDER BY ... NULLS FIRST/LAST");
    }
    let mut exprs: Vec<&Expr> = order.iter().map(|o| &o.expr).collect();
    for item in &select.projection {
        if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item {
            exprs.push(e);
        }
    }
    exprs.extend(select.having.iter());
    exprs.extend(select.selection.iter());
    for e in exprs {
        let f = flags(e);
        if f.window {
            return unsupported(format!("window function in '{e}' on more than one shard"));
        }
        if f.assignment {
            return unsupported("user variable assignment (:=) on more than one shard");
        }
    }
    Ok(())
}

/// GROUP BY expressions (empty without GROUP BY); ROLLUP and GROUP BY ALL are refused.
pub(crate) fn group_exprs(select: &Select) -> Result<&[Expr], PlanError> {
    match &select.group_by {
        GroupByExpr::Expressions(exprs, modifiers) if modifiers.is_empty() => Ok(exprs),
        GroupByExpr::Expressions(..) => {
            unsupported("GROUP BY ... WITH ROLLUP on more than one shard")
        }
        GroupByExpr::All(_) => unsupported("GROUP BY ALL"),
    }
}

/// GROUP BY resolves a bare name to a table column before a select alias (ORDER BY does the
/// opposite). A name that is both an alias of another expression and a column the VSchema
/// knows would make the proxy group differently from the shards: refused.
fn check_group_aliases(a: &Analysis<'_, '_>, select: &Select) -> Result<(), PlanError> {
    for g in group_exprs(select)? {
        let Expr::Identifier(id) = g else { continue };
        let col = id.value.to_lowercase();
        let aliased_other = select.projection.iter().any(|it| match item_expr(it) {
            (Some(e), Some(alias)) => {
                alias.value.eq_ignore_ascii_case(&id.value) && !is_column_named(e, &col)
            }
            _ => false,
        });
        let is_column = a.scopes[0].tables.iter().any(|&i| knows(a, i, &col));
        if aliased_other && is_column {
            return unsupported(format!(
                "GROUP BY {} (both a select alias and a column) on more than one shard",
                id.value
            ));
        }
    }
    Ok(())
}

/// Whether `e` is a reference to column `col` (lower-cased).
pub(crate) fn is_column_named(e: &Expr, col: &str) -> bool {
    match e {
        Expr::Identifier(i) => i.value.to_lowercase() == col,
        Expr::CompoundIdentifier(parts) => {
            parts.last().is_some_and(|p| p.value.to_lowercase() == col)
        }
        _ => false,
    }
}

/// Whether GROUP BY includes the primary vindex column of an anchor table.
fn groups_on_one_shard(
    a: &Analysis<'_, '_>,
    route: &StatementRoute,
    select: &Select,
) -> Result<bool, PlanError> {
    Ok(group_exprs(select)?.iter().any(|g| {
        column_of(a, 0, g).is_some_and(|(i, col)| {
            route.anchors.contains(&i)
                && a.instances[i]
                    .res
                    .table
                    .and_then(|t| t.primary_vindex())
                    .is_some_and(|cv| cv.columns == [col.clone()])
        })
    }))
}

/// The expression of a select item (None for wildcards) and its alias.
pub(crate) fn item_expr(item: &SelectItem) -> (Option<&Expr>, Option<&Ident>) {
    match item {
        SelectItem::UnnamedExpr(e) => (Some(e), None),
        SelectItem::ExprWithAlias { expr, alias } => (Some(expr), Some(alias)),
        _ => (None, None),
    }
}

/// The select item an ORDER BY / GROUP BY term names: position, alias, same expression, or
/// a bare column name matching one column item.
pub(crate) fn resolve_item(items: &[SelectItem], e: &Expr) -> Option<usize> {
    if let Expr::Value(v) = e {
        if let Value::Number(n, _) = &v.value {
            return n
                .parse::<usize>()
                .ok()?
                .checked_sub(1)
                .filter(|&p| p < items.len());
        }
    }
    if let Expr::Identifier(id) = e {
        let by_alias = items.iter().position(|it| {
            item_expr(it)
                .1
                .is_some_and(|a| a.value.eq_ignore_ascii_case(&id.value))
        });
        if by_alias.is_some() {
            return by_alias;
        }
    }
    if let Some(p) = items.iter().position(|it| item_expr(it).0 == Some(e)) {
        return Some(p);
    }
    let Expr::Identifier(id) = e else { return None };
    let mut named = items.iter().enumerate().filter(|(_, it)| {
        matches!(item_expr(it), (Some(Expr::CompoundIdentifier(parts)), None)
            if parts.last().is_some_and(|l| l.value.eq_ignore_ascii_case(&id.value)))
    });
    match (named.next(), named.next()) {
        (Some((p, _)), None) => Some(p),
        _ => None,
    }
}

/// The non-aggregating merge (also used when groups never span shards).
fn plain(
    ctx: &Ctx<'_>,
    q: &Query,
    select: &Select,
    order: &[&OrderByExpr],
    limit: Option<Limit>,
    grouped: bool,
) -> Result<ShardSelect, PlanError> {
    let items = &select.projection;
    let wildcard = items.iter().any(|it| item_expr(it).0.is_none());
    let mut helpers: Vec<Expr> = Vec::new();
    let mut order_by = Vec::new();
    for o in order {
        if matches!(&o.expr, Expr::Value(v) if v.value == Value::Null) {
            continue;
        }
        let column = if wildcard {
            push_helper(&mut helpers, wildcard_order_term(items, &o.expr)?)
        } else {
            match resolve_item(items, &o.expr) {
                Some(p) => p,
                None if matches!(&o.expr, Expr::Value(_)) => {
                    return unsupported(format!("ORDER BY {}", o.expr))
                }
                None => items.len() + push_helper(&mut helpers, &o.expr),
            }
        };
        order_by.push(OrderBy {
            column,
            descending: o.options.sort == Some(sqlparser::ast::OrderBySort::Desc),
        });
    }
    if order.is_empty() && grouped && !wildcard {
        let groups: Option<Vec<usize>> = group_exprs(select)?
            .iter()
            .map(|g| resolve_item(items, g))
            .collect();
        order_by = groups
            .unwrap_or_default()
            .into_iter()
            .map(OrderBy::asc)
            .collect();
    }
    let distinct = select.distinct.is_some();
    if distinct && !helpers.is_empty() && !(wildcard && distinct_star_helpers(items, &helpers)) {
        return unsupported(
            "SELECT DISTINCT with ORDER BY on columns outside the select list on more than one shard",
        );
    }
    let offset_zero = limit.is_none_or(|l| l.literal_offset() == Some(0));
    let mut limit_slot = None;
    let rewrite = !helpers.is_empty() || !offset_zero;
    let sql = if rewrite {
        let mut shard_q = q.clone();
        if let SetExpr::Select(s) = shard_q.body.as_mut() {
            keep_names(&ctx.text, select, s);
            s.projection.extend(
                helpers
                    .iter()
                    .enumerate()
                    .map(|(i, h)| helper_item(h, i, wildcard)),
            );
        }
        let slotted = limit::shard_limit(q, limit, &mut shard_q)?;
        // Re-printed text: comments of the original statement are lost here.
        let sql = params::print(ctx, &shard_q)?;
        if slotted {
            let at = sql.rfind(UPPER_LIMIT).ok_or_else(|| {
                not_supported("LIMIT with ? parameters and an offset (no slot in the shard query)")
            })?;
            limit_slot = Some((at, at + UPPER_LIMIT.len()));
        }
        sql
    } else {
        ctx.sql.to_string()
    };
    let merge = Merge {
        aggregates: None,
        having: None,
        distinct,
        order_by,
        limit,
        visible_columns: if wildcard { usize::MAX } else { items.len() },
        hidden_tail: (wildcard && !helpers.is_empty()).then_some(helpers.len()),
        empty_scalar: None,
        scalar_fields: Default::default(),
    };
    Ok(ShardSelect {
        sql,
        merge,
        limit_slot,
    })
}

/// The helper column an ORDER BY term of a select list with a `*` sorts by: the aliased
/// item's expression for an alias, else the term itself. Positions are refused (a `*`
/// hides how many columns precede an item).
fn wildcard_order_term<'e>(items: &'e [SelectItem], e: &'e Expr) -> Result<&'e Expr, PlanError> {
    if matches!(e, Expr::Value(_)) {
        return unsupported(format!(
            "ORDER BY {e} (a position or constant) with SELECT * on more than one shard"
        ));
    }
    if let Expr::Identifier(id) = e {
        let aliased = items.iter().find_map(|it| match item_expr(it) {
            (Some(x), Some(a)) if a.value.eq_ignore_ascii_case(&id.value) => Some(x),
            _ => None,
        });
        if let Some(x) = aliased {
            return Ok(x);
        }
    }
    Ok(e)
}

/// Whether `SELECT DISTINCT *` stays exact with these helpers: the select list is one bare
/// `*` and every helper is a column, so it is a copy of a column of the row and changes
/// neither the shards' DISTINCT nor the proxy's (which compares the columns before them).
fn distinct_star_helpers(items: &[SelectItem], helpers: &[Expr]) -> bool {
    matches!(items, [SelectItem::Wildcard(_)])
        && helpers
            .iter()
            .all(|h| matches!(h, Expr::Identifier(_) | Expr::CompoundIdentifier(_)))
}

/// The select item of helper `i`: the expression, aliased `__o<i>` after a `*` (so a name in
/// the shard's ORDER BY never matches two select items).
fn helper_item(e: &Expr, i: usize, wildcard: bool) -> SelectItem {
    if wildcard {
        SelectItem::ExprWithAlias {
            expr: e.clone(),
            alias: Ident::new(format!("__o{i}")),
        }
    } else {
        SelectItem::UnnamedExpr(e.clone())
    }
}

fn push_helper(helpers: &mut Vec<Expr>, e: &Expr) -> usize {
    match helpers.iter().position(|h| h == e) {
        Some(p) => p,
        None => {
            helpers.push(e.clone());
            helpers.len() - 1
        }
    }
}

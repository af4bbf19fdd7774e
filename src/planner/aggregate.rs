//! Aggregation across shards: each shard computes partial aggregates, the proxy combines them
//! ([`AggregateSpec`], see the engine's aggregate module for what each spec reads).
//!
//! | client item | shard item (named as the client's) | spec |
//! |---|---|---|
//! | GROUP BY expression | the expression | `GroupKey` |
//! | `COUNT(*)`, `COUNT(x)` | same | `Count` |
//! | `SUM(x)` / `MIN(x)` / `MAX(x)` | same | `Sum` / `Min` / `Max` |
//! | `AVG(x)` | `SUM(x)`, and a hidden `COUNT(x)` at the end | `Avg` |
//! | `COUNT/SUM/AVG(DISTINCT x)` | `x`; shards also GROUP BY `x` | `CountDistinct` / `SumDistinct` / `AvgDistinct` |
//! | `ANY_VALUE(x)`, other non-aggregated expressions | same | `AnyValue` |
//!
//! GROUP BY expressions that are not selected, and ORDER BY / HAVING terms that are neither
//! selected nor aggregates of the kinds above, become hidden specs after the visible ones
//! (`visible_columns` hides them). The shard query loses DISTINCT, ORDER BY and LIMIT (the
//! proxy needs every group); the merged rows are then sorted by `order_by` (the ORDER BY, or
//! the GROUP BY columns in GROUP BY order, as MariaDB returns groups), made DISTINCT over the
//! visible columns, and limited.
//!
//! HAVING never reaches the shards: it becomes [`Merge::having`] over the merged row
//! ([`super::having`]), its operands resolved to select items (by alias, expression or
//! column name), GROUP BY columns, or aggregates added as hidden specs (shared with ORDER BY
//! terms of the same expression). It is applied right after aggregation.
//!
//! Refused: `*`, other aggregate functions (GROUP_CONCAT, STD, BIT_AND, ...), aggregates
//! inside expressions (`SUM(a) + 1`, also in HAVING), DISTINCT aggregates over different
//! expressions or several arguments.

use super::having;
use super::merge::{flags, group_exprs, is_column_named, item_expr, resolve_item};
use super::names::{client_names, keep_names, named};
use super::params;
use super::plan::{Limit, Merge};
use super::routing::knows;
use super::scope::Analysis;
use super::{not_supported, unsupported, Ctx, PlanError};
use crate::engine::{AggregateSpec, OrderBy};
use sqlparser::ast::{
    BinaryOperator, DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, GroupByExpr, Ident, ObjectName, OrderByExpr, Query, Select, SelectItem,
    SetExpr, Value,
};

/// One aggregate call, decoded.
struct Call<'e> {
    /// Lower-cased function name.
    name: String,
    /// The single argument (None for `COUNT(*)`).
    arg: Option<&'e Expr>,
    /// `DISTINCT` inside the call.
    distinct: bool,
}

/// The shard query being built.
struct Builder<'s> {
    /// Shard select items.
    items: Vec<SelectItem>,
    /// Output specs.
    specs: Vec<AggregateSpec>,
    /// GROUP BY expressions of the query.
    groups: &'s [Expr],
    /// The spec of each GROUP BY expression.
    group_specs: Vec<Option<usize>>,
    /// The DISTINCT aggregates' argument.
    distinct_arg: Option<Expr>,
    /// The expressions of hidden specs added for ORDER BY and HAVING, with their spec.
    hidden: Vec<(Expr, usize)>,
    /// Some non-aggregate item is not a bare column: over no rows it may have a value.
    needs_empty_row: bool,
    /// Shard items holding a DISTINCT aggregate's argument (grouped by on the shards).
    distinct_items: Vec<usize>,
}

/// Plans the partial aggregation of a multi-shard SELECT.
pub(crate) fn plan(
    ctx: &Ctx<'_>,
    q: &Query,
    a: &Analysis<'_, '_>,
    select: &Select,
    order: &[&OrderByExpr],
    limit: Option<Limit>,
) -> Result<(String, Merge), PlanError> {
    let projection = &select.projection;
    if projection.iter().any(|it| item_expr(it).0.is_none()) {
        return unsupported("SELECT * together with aggregates or GROUP BY on more than one shard");
    }
    let groups = group_exprs(select)?;
    let mut b = Builder {
        items: Vec::new(),
        specs: Vec::new(),
        groups,
        group_specs: vec![None; groups.len()],
        distinct_arg: None,
        hidden: Vec::new(),
        needs_empty_row: false,
        distinct_items: Vec::new(),
    };
    let names = client_names(&ctx.text, select);
    let group_items: Vec<Option<usize>> =
        groups.iter().map(|g| resolve_item(projection, g)).collect();
    let mut avg_counts = Vec::new();
    for (i, item) in projection.iter().enumerate() {
        let (Some(e), _) = item_expr(item) else {
            continue;
        };
        let is_group = group_items.contains(&Some(i)) || groups.contains(e);
        let spec = b.add(
            e,
            Some(item),
            names[i].as_deref(),
            is_group,
            &mut avg_counts,
        )?;
        b.specs.push(spec);
    }
    let visible = b.specs.len();
    for (k, (g, item)) in groups.iter().zip(&group_items).enumerate() {
        b.group_specs[k] = match item {
            Some(i) => Some(*i),
            None => match projection.iter().position(|it| item_expr(it).0 == Some(g)) {
                Some(i) => Some(i),
                None => {
                    let column = b.push_item(g.clone(), None);
                    b.specs.push(AggregateSpec::GroupKey { column });
                    Some(b.specs.len() - 1)
                }
            },
        };
    }
    let having = match &select.having {
        Some(h) => Some(having::plan(ctx, h, &mut |e| {
            b.having_column(a, projection, e, &mut avg_counts)
        })?),
        None => None,
    };
    let mut order_by = Vec::new();
    for o in order {
        if matches!(&o.expr, Expr::Value(v) if v.value == Value::Null) {
            continue;
        }
        let item = resolve_item(projection, &o.expr);
        let expr = item
            .and_then(|p| item_expr(&projection[p]).0)
            .unwrap_or(&o.expr);
        if super::enum_order::min_max_of_member_column(ctx, a, expr) {
            return unsupported(format!(
                "ORDER BY {expr} (MIN/MAX of an ENUM or SET column, ordered by member) on more than one shard"
            ));
        }
        let column = match item {
            Some(p) => p,
            None => b.hidden_spec(&o.expr, &mut avg_counts)?,
        };
        order_by.push(OrderBy {
            column,
            descending: o.options.sort == Some(sqlparser::ast::OrderBySort::Desc),
        });
    }
    if order.is_empty() {
        order_by.extend(b.group_specs.iter().flatten().map(|&c| OrderBy::asc(c)));
    }
    for (spec_index, arg) in avg_counts {
        let count_column = b.push_item(count_of(arg), None);
        if let Some(AggregateSpec::Avg { sum_column, .. }) = b.specs.get(spec_index).copied() {
            b.specs[spec_index] = AggregateSpec::Avg {
                sum_column,
                count_column,
            };
        }
    }
    let mut shard_q = q.clone();
    shard_q.order_by = None;
    shard_q.limit_clause = None;
    if let SetExpr::Select(s) = shard_q.body.as_mut() {
        s.projection = b.items;
        s.distinct = None;
        s.having = None;
        let mut shard_groups = groups.to_vec();
        if let Some(arg) = b.distinct_arg {
            shard_groups.push(arg);
        }
        s.group_by = GroupByExpr::Expressions(shard_groups, Vec::new());
    }
    let sql = if shard_q == *q {
        ctx.sql.to_string()
    } else {
        if let SetExpr::Select(s) = shard_q.body.as_mut() {
            keep_names(&ctx.text, select, s);
        }
        // Re-printed text: comments of the original statement are lost here.
        params::print(ctx, &shard_q)?
    };
    // (Also when the shards group by a DISTINCT argument beside other items: the query's
    // columns then give the metadata MariaDB sends, see `Merge::scalar_fields`.)
    let finer = !b.distinct_items.is_empty() && b.specs.len() > b.distinct_items.len();
    let empty_scalar = if finer || (groups.is_empty() && b.needs_empty_row) {
        // Group keys are wrapped like DISTINCT arguments (their definitions come from the
        // shards, their values are not used).
        let mut wrapped = b.distinct_items.clone();
        wrapped.extend(b.specs.iter().filter_map(|s| match s {
            AggregateSpec::GroupKey { column } => Some(*column),
            _ => None,
        }));
        Some(empty_scalar_sql(ctx, select, &shard_q, &wrapped)?)
    } else {
        None
    };
    let merge = Merge {
        empty_scalar,
        scalar_fields: Default::default(),
        aggregates: Some(b.specs),
        having,
        distinct: select.distinct.is_some(),
        order_by,
        limit,
        visible_columns: visible,
        hidden_tail: None,
    };
    Ok((sql, merge))
}

impl Builder<'_> {
    fn push_item(&mut self, e: Expr, name: Option<&str>) -> usize {
        self.items.push(named(e, name));
        self.items.len() - 1
    }

    /// Keeps the client's item as it is (or `e` for a hidden one).
    fn keep(&mut self, e: &Expr, item: Option<&SelectItem>) -> usize {
        self.items.push(
            item.cloned()
                .unwrap_or_else(|| SelectItem::UnnamedExpr(e.clone())),
        );
        self.items.len() - 1
    }

    /// A rewritten item under the client's alias or name.
    fn rewritten(&mut self, e: Expr, item: Option<&SelectItem>, name: Option<&str>) -> usize {
        match item {
            Some(SelectItem::ExprWithAlias { alias, .. }) => {
                self.items.push(SelectItem::ExprWithAlias {
                    expr: e,
                    alias: alias.clone(),
                });
                self.items.len() - 1
            }
            _ => self.push_item(e, name),
        }
    }

    /// The spec of one output column; AVGs are recorded in `avgs` to get their COUNT later.
    fn add<'e>(
        &mut self,
        e: &'e Expr,
        item: Option<&SelectItem>,
        name: Option<&str>,
        is_group: bool,
        avgs: &mut Vec<(usize, &'e Expr)>,
    ) -> Result<AggregateSpec, PlanError> {
        let Some(call) = aggregate_call(e)? else {
            if flags(e).aggregate {
                return unsupported(format!(
                    "aggregate inside an expression ({e}) on more than one shard"
                ));
            }
            let column = self.keep(e, item);
            if !is_group && !matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
                self.needs_empty_row = true;
            }
            return Ok(if is_group {
                AggregateSpec::GroupKey { column }
            } else {
                AggregateSpec::AnyValue { column }
            });
        };
        if call.distinct && matches!(call.name.as_str(), "count" | "sum" | "avg") {
            let arg = call
                .arg
                .ok_or_else(|| not_supported(format!("{e} on more than one shard")))?;
            match &self.distinct_arg {
                Some(d) if d != arg => {
                    return unsupported(
                        "aggregates with DISTINCT on different expressions on more than one shard",
                    )
                }
                _ => self.distinct_arg = Some(arg.clone()),
            }
            let column = self.rewritten(arg.clone(), item, name);
            self.distinct_items.push(column);
            return Ok(match call.name.as_str() {
                "count" => AggregateSpec::CountDistinct { column },
                "sum" => AggregateSpec::SumDistinct { column },
                _ => AggregateSpec::AvgDistinct { column },
            });
        }
        Ok(match call.name.as_str() {
            "count" => AggregateSpec::Count {
                column: self.keep(e, item),
            },
            "sum" => AggregateSpec::Sum {
                column: self.keep(e, item),
            },
            "min" => AggregateSpec::Min {
                column: self.keep(e, item),
            },
            "max" => AggregateSpec::Max {
                column: self.keep(e, item),
            },
            "any_value" => AggregateSpec::AnyValue {
                column: self.keep(e, item),
            },
            "avg" => {
                let arg = call
                    .arg
                    .ok_or_else(|| not_supported(format!("{e} on more than one shard")))?;
                let sum_name = name.map(str::to_string).unwrap_or_else(|| e.to_string());
                let sum_column = self.rewritten(call_of("SUM", arg), item, Some(&sum_name));
                avgs.push((self.specs.len(), arg));
                AggregateSpec::Avg {
                    sum_column,
                    count_column: sum_column,
                }
            }
            other => {
                return unsupported(format!("{}() on more than one shard", other.to_uppercase()))
            }
        })
    }

    /// The merged-row column a HAVING operand names: a select alias, a GROUP BY column, a
    /// select item that is the same expression (or the named column), or an aggregate
    /// (added as a hidden spec when not selected).
    fn having_column<'e>(
        &mut self,
        a: &Analysis<'_, '_>,
        projection: &[SelectItem],
        e: &'e Expr,
        avgs: &mut Vec<(usize, &'e Expr)>,
    ) -> Result<usize, PlanError> {
        if let Expr::Identifier(id) = e {
            return self.having_name(a, projection, id);
        }
        if let Some(i) = projection.iter().position(|it| item_expr(it).0 == Some(e)) {
            return Ok(i);
        }
        if let Some(k) = self.groups.iter().position(|g| g == e) {
            if let Some(spec) = self.group_specs[k] {
                return Ok(spec);
            }
        }
        if aggregate_call(e)?.is_some() {
            return self.hidden_spec(e, avgs);
        }
        unsupported(format!(
            "HAVING on {e} (not a select item, GROUP BY expression or aggregate) on more than one shard"
        ))
    }

    /// A bare name in HAVING. MySQL prefers a GROUP BY column over a select alias of the same
    /// name, and an alias over a table column: a name that is an alias of another expression
    /// and also a grouped or known column is refused rather than guessed.
    fn having_name(
        &self,
        a: &Analysis<'_, '_>,
        projection: &[SelectItem],
        id: &Ident,
    ) -> Result<usize, PlanError> {
        let col = id.value.to_lowercase();
        let alias = projection.iter().position(|it| {
            item_expr(it)
                .1
                .is_some_and(|al| al.value.eq_ignore_ascii_case(&id.value))
        });
        let group = self.groups.iter().position(|g| is_column_named(g, &col));
        if let Some(i) = alias {
            let of_column = item_expr(&projection[i])
                .0
                .is_some_and(|x| is_column_named(x, &col));
            let is_column = a.scopes[0].tables.iter().any(|&t| knows(a, t, &col));
            if !of_column && (group.is_some() || is_column) {
                return unsupported(format!(
                    "HAVING {} (both a select alias and a column) on more than one shard",
                    id.value
                ));
            }
            return Ok(i);
        }
        if let Some(spec) = group.and_then(|k| self.group_specs[k]) {
            return Ok(spec);
        }
        let mut named = projection
            .iter()
            .enumerate()
            .filter(|(_, it)| matches!(item_expr(it), (Some(x), None) if is_column_named(x, &col)));
        match (named.next(), named.next()) {
            (Some((i, _)), None) => Ok(i),
            _ => unsupported(format!(
                "HAVING on {} (neither selected nor grouped) on more than one shard",
                id.value
            )),
        }
    }

    /// A hidden spec for an ORDER BY or HAVING term that is not a select item (one per
    /// distinct expression).
    fn hidden_spec<'e>(
        &mut self,
        e: &'e Expr,
        avgs: &mut Vec<(usize, &'e Expr)>,
    ) -> Result<usize, PlanError> {
        if let Some(k) = self.groups.iter().position(|g| g == e) {
            if let Some(spec) = self.group_specs[k] {
                return Ok(spec);
            }
        }
        if let Some((_, spec)) = self.hidden.iter().find(|(h, _)| h == e) {
            return Ok(*spec);
        }
        let spec = self.add(e, None, None, false, avgs)?;
        self.specs.push(spec);
        self.hidden.push((e.clone(), self.specs.len() - 1));
        Ok(self.specs.len() - 1)
    }
}

/// The [`Merge::empty_scalar`] query of a scalar aggregate whose shard query is `shard_q`:
/// the same items (plus a `COUNT(*)`, so it is an aggregate even when the shard query only
/// selects a DISTINCT argument), no GROUP BY, and `AND FALSE` added to the WHERE, so MariaDB
/// answers its one row over no row: constants keep their value, columns are NULL. Its `?` are
/// the shard query's, in the same order.
///
/// A DISTINCT argument, grouped by on the shards, becomes `MIN(arg)` (its value is not used):
/// a bare column beside aggregates without GROUP BY is an error under ONLY_FULL_GROUP_BY.
fn empty_scalar_sql(
    ctx: &Ctx<'_>,
    select: &Select,
    shard_q: &Query,
    distinct_items: &[usize],
) -> Result<String, PlanError> {
    let mut q = shard_q.clone();
    if let SetExpr::Select(s) = q.body.as_mut() {
        // Its column names are the client's, like the shard query's.
        keep_names(&ctx.text, select, s);
        for &i in distinct_items {
            match s.projection.get_mut(i) {
                Some(SelectItem::UnnamedExpr(e))
                | Some(SelectItem::ExprWithAlias { expr: e, .. }) => {
                    *e = call_of("MIN", e);
                }
                _ => {}
            }
        }
        s.group_by = GroupByExpr::Expressions(Vec::new(), Vec::new());
        let never = Expr::Value(Value::Boolean(false).into());
        s.selection = Some(match s.selection.take() {
            Some(w) => Expr::BinaryOp {
                left: Box::new(Expr::Nested(Box::new(w))),
                op: BinaryOperator::And,
                right: Box::new(never),
            },
            None => never,
        });
        s.projection
            .push(SelectItem::UnnamedExpr(Expr::Function(Function {
                name: ObjectName::from(vec![Ident::new("COUNT")]),
                uses_odbc_syntax: false,
                parameters: FunctionArguments::None,
                args: FunctionArguments::List(sqlparser::ast::FunctionArgumentList {
                    duplicate_treatment: None,
                    args: vec![FunctionArg::Unnamed(FunctionArgExpr::Wildcard)],
                    clauses: Vec::new(),
                }),
                filter: None,
                null_treatment: None,
                over: None,
                within_group: Vec::new(),
            })));
    }
    params::print(ctx, &q)
}

/// Decodes an aggregate call at the top of `e` (None when `e` is not one).
fn aggregate_call(e: &Expr) -> Result<Option<Call<'_>>, PlanError> {
    let Expr::Function(f) = e else {
        return Ok(None);
    };
    let name = f.name.to_string().to_ascii_lowercase();
    if !super::merge::is_aggregate_name(&name) {
        return Ok(None);
    }
    if f.filter.is_some() || !f.within_group.is_empty() {
        return unsupported(format!("{e} on more than one shard"));
    }
    let FunctionArguments::List(list) = &f.args else {
        return unsupported(format!("{e} on more than one shard"));
    };
    if !list.clauses.is_empty() {
        return unsupported(format!("{e} on more than one shard"));
    }
    let distinct = list.duplicate_treatment == Some(DuplicateTreatment::Distinct);
    let arg = match list.args.as_slice() {
        [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] if name == "count" && !distinct => None,
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(x))] => {
            if flags(x).aggregate {
                return unsupported(format!("nested aggregate {e}"));
            }
            Some(x)
        }
        _ => return unsupported(format!("{e} on more than one shard")),
    };
    Ok(Some(Call {
        name,
        arg,
        distinct,
    }))
}

/// `NAME(arg)`.
fn call_of(name: &str, arg: &Expr) -> Expr {
    Expr::Function(Function {
        name: ObjectName::from(vec![sqlparser::ast::Ident::new(name)]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(sqlparser::ast::FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(arg.clone()))],
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

/// `COUNT(arg)`.
fn count_of(arg: &Expr) -> Expr {
    call_of("COUNT", arg)
}

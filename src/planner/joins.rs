//! Routing a whole statement: one table, joins, subqueries and unions.
//!
//! Tables of unsharded keyspaces never get here (see [`super::tables::decide`]); reference
//! tables are on every shard and never constrain the route. For the sharded tables:
//!
//! 1. **Impossible**: a never-true top-level WHERE conjunct → [`RouteOpcode::None`].
//! 2. **One shard**: every sharded table instance, wherever it sits (joins, subqueries, derived
//!    tables, UNION arms), has an EqualUnique route with the same value on vindexes that map
//!    alike (the same vindex, or the same type and params) →
//!    the whole statement goes to that shard. Tables whose own WHERE is never true are ignored
//!    (they contribute no row on any shard).
//! 3. **Co-located**: otherwise, without UNION and derived tables, the statement runs whole on
//!    every shard the best top-level route allows, provided
//!    * the statement's own FROM has a sharded table outside the NULL side of outer joins (the
//!      anchor: it decides which shard a result row comes from), and
//!    * every sharded table is linked to the anchor by equalities between primary vindex
//!      columns whose vindexes map alike (same vindex, or same type and params): `a.id = b.id`
//!      in WHERE or an inner join's ON (in an outer join's ON only across its two sides),
//!      `USING (id)`, a correlated `o.user_id = u.id` inside a subquery's WHERE, or
//!      `u.id IN (SELECT o.user_id ...)` (not NOT IN; the subquery without GROUP BY, HAVING
//!      and LIMIT).
//!
//!    Every row of the result is then made of rows of one shard, so the per-shard results
//!    only need merging.
//! 4. Anything else is refused, naming the two tables that are not co-located.

use super::plan::RouteOpcode;
use super::routing::{best_route, column_of, never_true, Choice};
use super::scope::{Analysis, ScopeKind};
use super::tables::Role;
use super::{unsupported, Ctx, PlanError};
use crate::vschema::KeyspaceSchema;
use sqlparser::ast::{BinaryOperator, Expr, GroupByExpr, SelectItem};

/// The route of a statement and the tables that anchor it.
#[derive(Debug)]
pub(crate) struct StatementRoute {
    /// The route.
    pub choice: Choice,
    /// Top-level sharded instances outside the NULL side of outer joins: grouping by one of
    /// their unique vindex columns keeps every group on one shard.
    pub anchors: Vec<usize>,
}

/// Routes the statement analysed in `a`, which runs in sharded keyspace `ks`.
pub(crate) fn route_statement(
    ctx: &Ctx<'_>,
    a: &Analysis<'_, '_>,
    ks: &KeyspaceSchema,
) -> Result<StatementRoute, PlanError> {
    let top_is_statement = matches!(a.scopes.first().map(|s| s.kind), Some(ScopeKind::Top));
    let anchors: Vec<usize> = a
        .sharded()
        .filter(|&i| a.instances[i].scope == 0 && !a.instances[i].nullable)
        .collect();
    if top_is_statement && a.scopes[0].conjuncts.iter().any(|c| never_true(c)) {
        return Ok(StatementRoute {
            choice: Choice::plain(RouteOpcode::None),
            anchors,
        });
    }
    let live: Vec<(usize, Choice)> = a
        .sharded()
        .map(|i| (i, best_route(ctx, a, i)))
        .filter(|(_, c)| c.opcode != RouteOpcode::None)
        .collect();
    if live.is_empty() {
        return Ok(StatementRoute {
            choice: Choice::plain(RouteOpcode::AnyShard),
            anchors,
        });
    }
    if let Some(choice) = same_shard(ks, &live) {
        return Ok(StatementRoute { choice, anchors });
    }
    let names = |i: usize| a.instances[i].res.display();
    if a.has_union {
        return unsupported(format!(
            "UNION across shards is not supported (every SELECT must route to the same shard; {} does not)",
            names(live[0].0)
        ));
    }
    if a.has_derived {
        return unsupported(format!(
            "a derived table (subquery in FROM) over {} that needs more than one shard is not supported",
            names(live[0].0)
        ));
    }
    let Some(&anchor) = anchors.first() else {
        return unsupported(format!(
            "a query whose only sharded table {} is in a subquery or on the NULL side of an outer join needs more than one shard and is not supported",
            names(live[0].0)
        ));
    };
    let mut groups = Groups::new(a.instances.len());
    link(a, ks, &mut groups)?;
    for &(i, _) in &live {
        if groups.find(i) != groups.find(anchor) {
            let inst = &a.instances[i];
            return if inst.scope == 0 {
                unsupported(format!(
                    "cross-shard join between {} and {} is not supported",
                    names(anchor),
                    names(i)
                ))
            } else {
                unsupported(format!(
                    "cross-shard subquery on {} is not supported (it is not joined to {} on the primary vindex)",
                    names(i),
                    names(anchor)
                ))
            };
        }
    }
    let mut best = Choice::scatter();
    for (i, c) in live {
        if a.instances[i].scope == 0 && c.rank() < best.rank() {
            best = c;
        }
    }
    Ok(StatementRoute {
        choice: best,
        anchors,
    })
}

/// Case 2: every live route is EqualUnique with the same value on vindexes that map alike.
fn same_shard(ks: &KeyspaceSchema, live: &[(usize, Choice)]) -> Option<Choice> {
    let (_, first) = live.first()?;
    let first_vindex = first.vindex.as_deref()?;
    let same = live.iter().all(|(_, c)| {
        c.opcode == RouteOpcode::EqualUnique
            && c.values == first.values
            && c.vindex
                .as_deref()
                .is_some_and(|v| same_mapping(ks, v, first_vindex))
    });
    (first.opcode == RouteOpcode::EqualUnique && same).then(|| first.clone())
}

/// Union-find over instances.
struct Groups(Vec<usize>);

impl Groups {
    fn new(n: usize) -> Self {
        Groups((0..n).collect())
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        self.0[ra] = rb;
    }
}

/// The primary vindex column of a sharded instance with the vindex's (type, params) identity.
fn primary<'v>(a: &'v Analysis<'_, '_>, i: usize) -> Option<(&'v str, &'v str)> {
    let inst = &a.instances[i];
    if inst.res.role() != Role::Sharded {
        return None;
    }
    let table = inst.res.table?;
    let cv = table.primary_vindex()?;
    match cv.columns.as_slice() {
        [col] => Some((col.as_str(), cv.vindex.as_str())),
        _ => None,
    }
}

/// Whether two vindexes of `ks` map values alike.
fn same_mapping(ks: &KeyspaceSchema, v1: &str, v2: &str) -> bool {
    if v1 == v2 {
        return true;
    }
    match (ks.vindex(v1), ks.vindex(v2)) {
        (Some(a), Some(b)) => {
            a.functional().is_some()
                && b.functional().is_some()
                && a.type_name == b.type_name
                && a.params == b.params
        }
        _ => false,
    }
}

/// Whether `i.ci` and `j.cj` are the primary vindex columns of two instances, mapped alike.
fn co_located(
    a: &Analysis<'_, '_>,
    ks: &KeyspaceSchema,
    i: usize,
    ci: &str,
    j: usize,
    cj: &str,
) -> bool {
    match (primary(a, i), primary(a, j)) {
        (Some((pi, vi)), Some((pj, vj))) => {
            i != j && pi == ci && pj == cj && same_mapping(ks, vi, vj)
        }
        _ => false,
    }
}

/// Unions the instances linked by co-locating equalities (see the module docs).
fn link(a: &Analysis<'_, '_>, ks: &KeyspaceSchema, groups: &mut Groups) -> Result<(), PlanError> {
    for (s, scope) in a.scopes.iter().enumerate() {
        let wheres = scope.conjuncts.iter().map(|c| (*c, None));
        let ons = scope.joins.iter().map(|j| (j.expr, j.sides.as_ref()));
        for (expr, sides) in wheres.chain(ons) {
            let Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } = expr
            else {
                continue;
            };
            let (Some((i, ci)), Some((j, cj))) = (
                column_of(a, s, left.as_ref()),
                column_of(a, s, right.as_ref()),
            ) else {
                continue;
            };
            let across = sides.is_none_or(|(l, r)| {
                (l.contains(&i) && r.contains(&j)) || (r.contains(&i) && l.contains(&j))
            });
            if across && co_located(a, ks, i, &ci, j, &cj) {
                groups.union(i, j);
            }
        }
        for using in &scope.usings {
            for col in &using.columns {
                let with_col = |side: &[usize]| -> Vec<usize> {
                    side.iter()
                        .copied()
                        .filter(|&i| primary(a, i).is_some_and(|(c, _)| c == col))
                        .collect()
                };
                if let ([i], [j]) = (
                    with_col(&using.left).as_slice(),
                    with_col(&using.right).as_slice(),
                ) {
                    if co_located(a, ks, *i, col, *j, col) {
                        groups.union(*i, *j);
                    }
                }
            }
        }
        if let ScopeKind::In { lhs, negated } = scope.kind {
            let Some(parent) = scope.parent else { continue };
            let Some((i, ci)) = column_of(a, parent, lhs) else {
                continue;
            };
            let Some((j, cj)) = in_subquery_column(a, s) else {
                continue;
            };
            if co_located(a, ks, i, &ci, j, &cj) {
                if negated {
                    return unsupported(format!(
                        "NOT IN (subquery on {}) across shards is not supported",
                        a.instances[j].res.display()
                    ));
                }
                groups.union(i, j);
            }
        }
    }
    Ok(())
}

/// For `x IN (SELECT col FROM ...)`: the instance and column `col` means, when the subquery
/// is a plain selection (no GROUP BY, HAVING or LIMIT).
fn in_subquery_column(a: &Analysis<'_, '_>, s: usize) -> Option<(usize, String)> {
    let scope = &a.scopes[s];
    let select = scope.select?;
    let query = scope.query?;
    let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty());
    if grouped || select.having.is_some() || query.limit_clause.is_some() {
        return None;
    }
    match select.projection.as_slice() {
        [SelectItem::UnnamedExpr(e)] | [SelectItem::ExprWithAlias { expr: e, .. }] => {
            column_of(a, s, &e.clone()).filter(|(i, _)| a.instances[*i].scope == s)
        }
        _ => None,
    }
}

//! UPDATE and DELETE on sharded tables: routed like SELECT ([`super::joins`]), sent as the
//! client wrote them (the IN list pruned per shard).
//!
//! ORDER BY without LIMIT runs on every shard as written (each shard changes all its matching
//! rows in that order); LIMIT on more than one shard picks the rows first
//! ([`super::dml_limit`]).
//!
//! Refused: changing a vindex column (`SET id = ...` on the primary vindex column moves the row
//! to another shard), assigning a lookup column more than once (MariaDB keeps the last
//! value, the lookup would get the first), writing a reference table
//! (write its source), `UPDATE ... FROM`, RETURNING. Multi-table statements: see
//! [`super::dml_multi`]. A table that owns
//! lookup vindexes gets [`DmlPlan::lookups`] ([`super::dml_lookups`]): changing an owned
//! lookup column is allowed, its lookup rows move; changing an unowned lookup column is
//! allowed, its new value must map to each changed row's keyspace id.

use super::dml_limit::pick;
use super::dml_lookups::dml_lookups;
use super::dml_multi::{assigned_instances, delete_shape, named_instances};
use super::joins::route_statement;
use super::plan::{DmlPlan, Plan, QueryTemplate};
use super::routing::column_of;
use super::scope::Analysis;
use super::select::{keyspace_of, to_route};
use super::tables::{Decision, Role};
use super::{unsupported, Ctx, PlanError};
use sqlparser::ast::{AssignmentTarget, Delete, Expr, FromTable, Ident, ObjectNamePart, Update};

/// Plans an UPDATE.
pub(crate) fn plan_update(ctx: &Ctx<'_>, upd: &Update) -> Result<Plan, PlanError> {
    if upd.from.is_some() || upd.returning.is_some() || upd.output.is_some() {
        return unsupported("UPDATE ... FROM / RETURNING on a sharded keyspace");
    }
    let mut exprs: Vec<&Expr> = upd.assignments.iter().map(|a| &a.value).collect();
    exprs.extend(upd.order_by.iter().map(|o| &o.expr));
    exprs.extend(upd.limit.iter());
    let mut a = Analysis::of_dml(
        ctx,
        std::slice::from_ref(&upd.table),
        upd.selection.as_ref(),
        exprs,
        upd,
    )?;
    let ks = match keyspace_of(ctx, &mut a)? {
        Decision::Sharded(ks) => ks,
        Decision::Passthrough(ks) => {
            return Ok(Plan::Passthrough {
                keyspace: ks.name.clone(),
            })
        }
    };
    let multi_table = top_instances(&a).len() > 1;
    let targets = assignment_targets(upd);
    let written = if multi_table {
        targets
            .iter()
            .flat_map(|(t, _)| assigned_instances(&a, t))
            .collect()
    } else {
        top_instances(&a)
    };
    check_targets(&a, &written, "UPDATE")?;
    let mut assigned: Vec<(String, &Expr)> = Vec::new();
    for (expr, value) in &targets {
        if let Some(col) = check_vindex_assignment(&a, expr)? {
            if multi_table {
                return unsupported(format!(
                    "multi-table UPDATE changing the lookup vindex column '{col}'"
                ));
            }
            // MariaDB stores the last of several values; the lookup would get the first.
            if assigned.iter().any(|(c, _)| *c == col) {
                return unsupported(format!(
                    "UPDATE assigning the vindex column '{col}' more than once is not supported"
                ));
            }
            assigned.push((col, *value));
        }
    }
    let shape = Shape {
        has_limit: upd.limit.is_some(),
        multi_table,
        verb: "UPDATE",
    };
    finish(ctx, &a, ks, shape, Some(&assigned))
}

/// Each column an UPDATE assigns (as a column reference) with the value assigned to it.
fn assignment_targets(upd: &Update) -> Vec<(Expr, &Expr)> {
    let mut out = Vec::new();
    for assignment in &upd.assignments {
        let names = match &assignment.target {
            AssignmentTarget::ColumnName(n) => vec![n],
            AssignmentTarget::Tuple(ns) => ns.iter().collect(),
        };
        for name in names {
            let idents: Vec<Ident> = name
                .0
                .iter()
                .filter_map(|p| match p {
                    ObjectNamePart::Identifier(i) => Some(i.clone()),
                    ObjectNamePart::Function(_) => None,
                })
                .collect();
            let expr = match idents.as_slice() {
                [one] => Expr::Identifier(one.clone()),
                _ => Expr::CompoundIdentifier(idents),
            };
            out.push((expr, &assignment.value));
        }
    }
    out
}

/// Plans a DELETE.
pub(crate) fn plan_delete(ctx: &Ctx<'_>, del: &Delete) -> Result<Plan, PlanError> {
    if del.returning.is_some() || del.output.is_some() {
        return unsupported("DELETE ... RETURNING on a sharded keyspace");
    }
    let (tables, names) = delete_shape(del);
    let mut exprs: Vec<&Expr> = del.order_by.iter().map(|o| &o.expr).collect();
    exprs.extend(del.limit.iter());
    let mut a = match &del.using {
        // The names before USING are targets, not more tables.
        Some(_) => {
            let mut whole = del.clone();
            whole.from = FromTable::WithFromKeyword(Vec::new());
            Analysis::of_dml(ctx, tables, del.selection.as_ref(), exprs, &whole)?
        }
        None => Analysis::of_dml(ctx, tables, del.selection.as_ref(), exprs, del)?,
    };
    let ks = match keyspace_of(ctx, &mut a)? {
        Decision::Sharded(ks) => ks,
        Decision::Passthrough(ks) => {
            return Ok(Plan::Passthrough {
                keyspace: ks.name.clone(),
            })
        }
    };
    let multi_table = !names.is_empty() || top_instances(&a).len() > 1;
    let written = if names.is_empty() {
        top_instances(&a)
    } else {
        named_instances(&a, &names)
    };
    check_targets(&a, &written, "DELETE")?;
    if multi_table {
        for &i in &written {
            let res = &a.instances[i].res;
            if res
                .table
                .is_some_and(|t| t.owned_vindexes().next().is_some())
            {
                return unsupported(format!(
                    "multi-table DELETE from {}, which owns lookup vindexes",
                    res.display()
                ));
            }
        }
    }
    let shape = Shape {
        has_limit: del.limit.is_some(),
        multi_table,
        verb: "DELETE",
    };
    finish(ctx, &a, ks, shape, None)
}

/// The statement's own (scope 0) table instances.
fn top_instances(a: &Analysis<'_, '_>) -> Vec<usize> {
    (0..a.instances.len())
        .filter(|&i| a.instances[i].scope == 0)
        .collect()
}

/// What [`finish`] needs to know about the statement.
struct Shape<'v> {
    has_limit: bool,
    /// Several tables, or DELETE's multi-table syntax: no lookup maintenance, no pick.
    multi_table: bool,
    verb: &'v str,
}

/// The plan once the statement is known to be allowed.
fn finish(
    ctx: &Ctx<'_>,
    a: &Analysis<'_, '_>,
    ks: &crate::vschema::KeyspaceSchema,
    shape: Shape<'_>,
    assigned: Option<&[(String, &Expr)]>,
) -> Result<Plan, PlanError> {
    let Shape {
        has_limit,
        multi_table,
        verb,
    } = shape;
    let route = route_statement(ctx, a, ks)?;
    let choice = route.choice;
    let multi = !choice.is_single_shard() && choice.opcode != super::plan::RouteOpcode::None;
    // ORDER BY without LIMIT changes every matching row: each shard changes its own in that
    // order. LIMIT on several shards picks the rows first (`dml_limit`).
    let pick = match (multi && has_limit, multi_table) {
        (true, true) => {
            return unsupported(format!(
                "multi-table {verb} with LIMIT on more than one shard"
            ))
        }
        (true, false) => Some(Box::new(pick(ctx, a, assigned.is_some(), verb)?)),
        (false, _) => None,
    };
    let in_list = choice.in_list.clone();
    let lookups = if multi_table {
        None
    } else {
        dml_lookups(ctx, a, assigned, in_list.as_ref(), verb)?
    };
    Ok(Plan::Dml(DmlPlan {
        route: to_route(ks, choice),
        query: QueryTemplate {
            sql: ctx.sql.to_string(),
            in_list,
            limit_slot: None,
        },
        has_limit,
        lookups,
        pick,
    }))
}

/// The tables the statement writes (`written`: instances) must not be reference tables.
fn check_targets(a: &Analysis<'_, '_>, written: &[usize], verb: &str) -> Result<(), PlanError> {
    for &i in written {
        let t = &a.instances[i].res;
        if t.role() == Role::Reference {
            return unsupported(format!(
                "{verb} of reference table {} is not supported (write to its source)",
                t.display()
            ));
        }
    }
    Ok(())
}

/// Refuses `SET col = ...` when `col` is a vindex column of a table of the statement, except
/// for a column of lookup vindexes: then returns the column (an owned lookup's rows move, an
/// unowned lookup's new value is verified).
fn check_vindex_assignment(
    a: &Analysis<'_, '_>,
    target: &Expr,
) -> Result<Option<String>, PlanError> {
    let candidates: Vec<(usize, String)> = match column_of(a, 0, target) {
        Some(found) => vec![found],
        None => {
            let col = match target {
                Expr::Identifier(i) => i.value.to_lowercase(),
                Expr::CompoundIdentifier(parts) => parts
                    .last()
                    .map(|p| p.value.to_lowercase())
                    .unwrap_or_default(),
                _ => return Ok(None),
            };
            a.scopes[0]
                .tables
                .iter()
                .map(|&i| (i, col.clone()))
                .collect()
        }
    };
    for (i, col) in candidates {
        let Some(table) = a.instances[i].res.table else {
            continue;
        };
        let Some(cv) = table
            .column_vindexes
            .iter()
            .find(|cv| cv.columns.contains(&col))
        else {
            continue;
        };
        let primary = table.primary_vindex() == Some(cv);
        let lookup = !primary
            && table
                .column_vindexes
                .iter()
                .filter(|c| c.columns.contains(&col))
                .all(|c| {
                    a.instances[i]
                        .res
                        .keyspace
                        .vindex(&c.vindex)
                        .is_some_and(|v| v.is_lookup())
                });
        if lookup {
            return Ok(Some(col));
        }
        let which = if primary { "primary vindex" } else { "vindex" };
        return unsupported(format!(
            "changing the {which} column '{col}' of table '{}' is not supported",
            table.name
        ));
    }
    Ok(None)
}

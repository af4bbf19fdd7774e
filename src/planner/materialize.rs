//! SELECTs no shard can answer alone, answered exactly: every table the statement reads is
//! copied (filtered where that is safe) into a temporary table of one connection, and MariaDB
//! runs the client's statement there.
//!
//! This is the planner's answer to what routing and merging cannot prove correct: joins of
//! tables that are not co-located, UNION over shards, derived tables and CTEs, subqueries
//! that need several shards, HAVING and aggregates the proxy cannot merge, cross-keyspace
//! queries. Vitess evaluates such statements with its own operators (nested-loop joins,
//! proxy-side UNION and aggregation); shardgate departs from that on purpose: one MariaDB
//! evaluating the statement over the same rows gives MariaDB's collations, type conversions
//! and NULL rules by construction, which is what "equal to one MariaDB" asks, and costs one
//! copy of the rows involved. The copy is bounded by `limits.max_merge_bytes` (1104 past it).
//!
//! The statement text keeps the client's bytes: only each table name is replaced (by span) by
//! its temporary table, aliased with the name or alias the client wrote, so every column
//! reference, `?` parameter, comment and literal stays as written.
//!
//! **Pushed-down filters.** A table read once, in the top-level FROM, outside the NULL side
//! of outer joins, is fetched with the conjuncts of the top-level WHERE that only name its
//! columns (qualified), hold no subquery, parameter, variable or function call: the same
//! filter applied again at the end changes nothing, and vindex equalities among them route
//! the fetch to one shard.
//!
//! Refused (1235): locking reads (`FOR UPDATE`, `LOCK IN SHARE MODE`), `SELECT … INTO`,
//! `SQL_CALC_FOUND_ROWS`, `:=` assignments (they would act on one backend connection), table
//! functions and partition selection, and three-part column names (`ks.t.c`).

use super::plan::{MaterializePlan, MaterializedTable, Plan};
use super::scope::conjuncts;
use super::tables::{is_dual, resolve};
use super::{select, unsupported, Ctx, PlanError};
use crate::sql::{quote_ident, TokenKind};
use sqlparser::ast::{
    BinaryOperator, Expr, JoinOperator, ObjectNamePart, Query, SetExpr, Spanned, TableFactor,
    Visit, Visitor,
};
use std::collections::HashSet;
use std::ops::ControlFlow;

/// Plans `q` (the statement `ctx.sql`) as a [`Plan::Materialize`].
pub(crate) fn plan_materialized(ctx: &Ctx<'_>, q: &Query) -> Result<Plan, PlanError> {
    refuse_session_effects(ctx, q)?;
    let mut found = Relations::default();
    let _ = q.visit(&mut found);
    if let Some(reason) = found.refused {
        return unsupported(reason);
    }
    // A CTE named like a table would leave that table's other references unrenamed.
    if let Some(cte) = found.ctes.iter().find(|c| {
        !matches!(
            ctx.vschema.find_table(c),
            Err(crate::vschema::FindTableError::NotFound(_))
        )
    }) {
        return unsupported(format!(
            "a common table expression named like the table '{cte}' over several shards"
        ));
    }
    let mut tables: Vec<MaterializedTable> = Vec::new();
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut uses: Vec<usize> = Vec::new();
    let mut table_of: Vec<Option<usize>> = Vec::new();
    for r in &found.tables {
        if r.parts.len() == 1 && found.ctes.contains(&r.parts[0]) {
            table_of.push(None);
            continue;
        }
        let resolved = resolve(ctx, &r.name)?;
        if resolved.keyspace.view(&resolved.name).is_some() {
            // (Its copy would need the view's columns as a table: not built yet.)
            return unsupported(format!(
                "the view {} in a statement over several shards",
                resolved.display()
            ));
        }
        let keyspace = resolved.keyspace.name.clone();
        let index = match tables
            .iter()
            .position(|t| t.keyspace == keyspace && t.table == resolved.name)
        {
            Some(i) => i,
            None => {
                let temp = format!("_shardgate_m{}", tables.len());
                tables.push(MaterializedTable {
                    keyspace,
                    table: resolved.name.clone(),
                    temp,
                    fetch_sql: String::new(),
                    fetch: Box::new(Plan::Passthrough {
                        keyspace: String::new(),
                    }),
                    filter: None,
                    reductions: Vec::new(),
                });
                uses.push(0);
                tables.len() - 1
            }
        };
        uses[index] += 1;
        table_of.push(Some(index));
        let range = ctx
            .text
            .range(r.name.span())
            .ok_or_else(|| super::not_supported("a table name the proxy cannot place"))?;
        let mut replacement = quote_ident(&tables[index].temp);
        if !r.aliased {
            replacement.push_str(" AS ");
            replacement.push_str(&quote_ident(r.parts.last().map_or("", String::as_str)));
        }
        edits.push((range.0, range.1, replacement));
    }
    let scratch_keyspace = match (tables.first(), ctx.target) {
        (Some(t), _) => t.keyspace.clone(),
        (None, Some(target)) => target.keyspace.clone(),
        (None, None) => return Err(PlanError::NoDatabase),
    };
    let pushed = pushed_filters(ctx, q, &found, &table_of, &uses);
    let mut reductions = super::materialize_joins::reductions(q, &once(&found, &table_of, &uses));
    for (i, t) in tables.iter_mut().enumerate() {
        let filter = pushed.get(i).cloned().flatten();
        let (sql, plan, used) = fetch_plan(ctx, t, filter.as_ref())?;
        t.fetch_sql = sql;
        *t.fetch = plan;
        t.filter = filter.filter(|_| used);
        t.reductions = reductions
            .get_mut(i)
            .map(std::mem::take)
            .unwrap_or_default();
    }
    let mut fetch_order: Vec<usize> = (0..tables.len()).collect();
    fetch_order.sort_by_key(|&i| tables[i].filter.is_none());
    Ok(Plan::Materialize(MaterializePlan {
        tables,
        scratch_keyspace,
        query: splice(ctx.sql, edits)?,
        fetch_order,
    }))
}

/// Per table, its qualifier when the table is read once and its qualifier names nothing else.
fn once(found: &Relations, table_of: &[Option<usize>], uses: &[usize]) -> Vec<Option<String>> {
    let mut out = vec![None; uses.len()];
    for (rel, table) in found.tables.iter().zip(table_of) {
        let Some(i) = *table else { continue };
        let unique = found
            .tables
            .iter()
            .filter(|r| r.qualifier == rel.qualifier)
            .count()
            == 1;
        if uses.get(i) == Some(&1) && unique {
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(rel.qualifier.clone());
            }
        }
    }
    out
}

/// The client's text with each `(start, end)` range replaced.
fn splice(sql: &str, mut edits: Vec<(usize, usize, String)>) -> Result<String, PlanError> {
    edits.sort_by_key(|e| e.0);
    let mut out = String::with_capacity(sql.len() + edits.len() * 24);
    let mut at = 0;
    for (start, end, text) in edits {
        let before = sql
            .get(at..start)
            .filter(|_| start >= at)
            .ok_or_else(|| super::not_supported("overlapping table names"))?;
        out.push_str(before);
        out.push_str(&text);
        at = end;
    }
    out.push_str(sql.get(at..).unwrap_or(""));
    Ok(out)
}

/// Refuses what would act on the one connection that runs the statement instead of the
/// session (see the module docs).
fn refuse_session_effects(ctx: &Ctx<'_>, q: &Query) -> Result<(), PlanError> {
    if ctx
        .text
        .tokens
        .iter()
        .any(|t| t.kind == TokenKind::ExecComment)
    {
        // (MariaDB runs what a /*! ... */ comment holds; its table names are not seen here.)
        return unsupported("a /*! ... */ comment in a statement over several shards");
    }
    let words = ctx
        .text
        .tokens
        .iter()
        .filter(|t| t.kind == TokenKind::Ident)
        .map(|t| t.text(ctx.text.sql).to_ascii_uppercase());
    for w in words {
        match w.as_str() {
            "LOCK" | "SHARE" | "UPDATE" => {
                return unsupported("a locking read over tables on several shards")
            }
            "INTO" => return unsupported("SELECT ... INTO over tables on several shards"),
            "SQL_CALC_FOUND_ROWS" => {
                return unsupported("SQL_CALC_FOUND_ROWS over tables on several shards")
            }
            _ => {}
        }
    }
    let mut checks = Checks::default();
    let _ = q.visit(&mut checks);
    match checks.refused {
        Some(reason) => unsupported(reason),
        None => Ok(()),
    }
}

#[derive(Default)]
struct Checks {
    refused: Option<&'static str>,
}

impl Visitor for Checks {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        match e {
            Expr::BinaryOp {
                op: BinaryOperator::Assignment,
                ..
            } => self.refused = Some("user variable assignment (:=) over several shards"),
            Expr::CompoundIdentifier(parts) if parts.len() > 2 => {
                self.refused = Some("a column named with its keyspace (ks.table.column)")
            }
            _ => return ControlFlow::Continue(()),
        }
        ControlFlow::Break(())
    }
}

/// One table name of the statement.
struct Relation {
    name: sqlparser::ast::ObjectName,
    parts: Vec<String>,
    aliased: bool,
    /// The qualifier its columns take (alias, else name).
    qualifier: String,
}

/// The statement's table names (dual left out), its CTE names, and what is refused.
#[derive(Default)]
struct Relations {
    tables: Vec<Relation>,
    ctes: HashSet<String>,
    refused: Option<String>,
}

impl Visitor for Relations {
    type Break = ();

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                self.ctes.insert(cte.alias.name.value.clone());
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, f: &TableFactor) -> ControlFlow<()> {
        match f {
            TableFactor::Table {
                name,
                alias,
                args,
                partitions,
                ..
            } => {
                if args.is_some() {
                    self.refused = Some(format!("table function '{name}' over several shards"));
                    return ControlFlow::Break(());
                }
                if !partitions.is_empty() {
                    self.refused = Some("PARTITION (...) over several shards".into());
                    return ControlFlow::Break(());
                }
                if is_dual(name) {
                    return ControlFlow::Continue(());
                }
                let parts: Vec<String> = name
                    .0
                    .iter()
                    .map(|p| match p {
                        ObjectNamePart::Identifier(i) => i.value.clone(),
                        ObjectNamePart::Function(f) => f.name.value.clone(),
                    })
                    .collect();
                let qualifier = match alias {
                    Some(a) => a.name.value.clone(),
                    None => parts.last().cloned().unwrap_or_default(),
                };
                self.tables.push(Relation {
                    name: name.clone(),
                    parts,
                    aliased: alias.is_some(),
                    qualifier,
                });
            }
            TableFactor::Function { .. } | TableFactor::TableFunction { .. } => {
                self.refused = Some("a table function over several shards".into());
                return ControlFlow::Break(());
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Per table, the conjuncts of the top-level WHERE that may filter its fetch (module docs).
fn pushed_filters(
    ctx: &Ctx<'_>,
    q: &Query,
    found: &Relations,
    table_of: &[Option<usize>],
    uses: &[usize],
) -> Vec<Option<(String, String)>> {
    let mut out = vec![None; uses.len()];
    // (Filters are re-printed from the syntax tree: hex literals would not read back alike.)
    let hex = ctx
        .text
        .tokens
        .iter()
        .any(|t| matches!(t.kind, TokenKind::HexOrBit));
    let SetExpr::Select(select) = q.body.as_ref() else {
        return out;
    };
    let Some(selection) = &select.selection else {
        return out;
    };
    if hex || q.with.is_some() {
        return out;
    }
    // Tables of the top-level FROM that no outer join can NULL-extend.
    let mut safe: Vec<String> = Vec::new();
    for twj in &select.from {
        let mut names = Vec::new();
        if let TableFactor::Table { .. } = &twj.relation {
            names.push((qualifier_of(&twj.relation), true));
        }
        for j in &twj.joins {
            let (left_nullable, right_nullable) = match &j.join_operator {
                JoinOperator::Join(_)
                | JoinOperator::Inner(_)
                | JoinOperator::CrossJoin(_)
                | JoinOperator::StraightJoin(_) => (false, false),
                JoinOperator::Left(_) | JoinOperator::LeftOuter(_) => (false, true),
                JoinOperator::Right(_) | JoinOperator::RightOuter(_) => (true, false),
                _ => (true, true),
            };
            if left_nullable {
                for n in names.iter_mut() {
                    n.1 = false;
                }
            }
            if let TableFactor::Table { .. } = &j.relation {
                names.push((qualifier_of(&j.relation), !right_nullable));
            }
        }
        safe.extend(names.into_iter().filter(|n| n.1).filter_map(|n| n.0));
    }
    let exprs = conjuncts(selection);
    for (rel, table) in found.tables.iter().zip(table_of) {
        let Some(i) = *table else { continue };
        if uses.get(i) != Some(&1) {
            continue;
        }
        if !safe.contains(&rel.qualifier) {
            continue;
        }
        let mine: Vec<String> = exprs
            .iter()
            .filter(|e| only_columns_of(e, &rel.qualifier))
            .map(|e| format!("({e})"))
            .collect();
        if let (false, Some(slot)) = (mine.is_empty(), out.get_mut(i)) {
            *slot = Some((rel.qualifier.clone(), mine.join(" AND ")));
        }
    }
    out
}

/// The name a table factor's columns are qualified with: its alias, else its table name.
pub(super) fn qualifier_of(f: &TableFactor) -> Option<String> {
    match f {
        TableFactor::Table { name, alias, .. } => Some(match alias {
            Some(a) => a.name.value.clone(),
            None => match name.0.last() {
                Some(ObjectNamePart::Identifier(i)) => i.value.clone(),
                _ => return None,
            },
        }),
        _ => None,
    }
}

/// Whether `e` names only columns qualified with `qualifier` (at least one) and holds nothing
/// whose value could differ between two connections or evaluations.
fn only_columns_of(e: &Expr, qualifier: &str) -> bool {
    struct Check<'a> {
        qualifier: &'a str,
        columns: usize,
        bad: bool,
    }
    impl Visitor for Check<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
            self.bad = true;
            ControlFlow::Break(())
        }
        fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
            match e {
                Expr::CompoundIdentifier(parts)
                    if parts.len() == 2 && parts[0].value == self.qualifier =>
                {
                    self.columns += 1;
                }
                Expr::Identifier(_)
                | Expr::CompoundIdentifier(_)
                | Expr::Function(_)
                | Expr::Subquery(_)
                | Expr::Exists { .. }
                | Expr::InSubquery { .. } => self.bad = true,
                Expr::Value(v)
                    if matches!(v.value, sqlparser::ast::Value::Placeholder(_))
                        || v.to_string().starts_with('@') =>
                {
                    self.bad = true
                }
                _ => {}
            }
            if self.bad {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
    }
    let mut c = Check {
        qualifier,
        columns: 0,
        bad: false,
    };
    let _ = e.visit(&mut c);
    !c.bad && c.columns > 0
}

/// The fetch of one table and its plan: filtered when possible, else every row.
fn fetch_plan(
    ctx: &Ctx<'_>,
    t: &MaterializedTable,
    filter: Option<&(String, String)>,
) -> Result<(String, Plan, bool), PlanError> {
    let base = format!(
        "SELECT * FROM {}.{}",
        quote_ident(&t.keyspace),
        quote_ident(&t.table)
    );
    if let Some((qualifier, filter)) = filter {
        let sql = format!("{base} AS {} WHERE {filter}", quote_ident(qualifier));
        if let Ok(plan) = plan_one(ctx, &sql) {
            return Ok((sql, plan, true));
        }
    }
    let plan = plan_one(ctx, &base)?;
    Ok((base, plan, false))
}

fn plan_one(ctx: &Ctx<'_>, sql: &str) -> Result<Plan, PlanError> {
    let inner = Ctx::new(sql, ctx.vschema, ctx.target);
    match super::parse(sql)? {
        sqlparser::ast::Statement::Query(q) => match select::plan_select(&inner, &q)? {
            plan @ (Plan::Select(_) | Plan::Passthrough { .. }) => Ok(plan),
            _ => unsupported("a table the proxy cannot read whole"),
        },
        _ => unsupported("a table the proxy cannot read whole"),
    }
}

#[cfg(test)]
#[path = "materialize_tests.rs"]
mod tests;

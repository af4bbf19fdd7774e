//! The table structure of a statement: one scope per SELECT block (the statement itself, each
//! subquery, derived table and UNION arm), the table instances of each scope, and the
//! conditions that can route or co-locate them.
//!
//! The walk handles the places subqueries and tables usually sit (FROM with joins, WHERE,
//! select list, GROUP BY, HAVING, ORDER BY, LIMIT, SET values). As a safety net, sqlparser's
//! visitor counts every query and table of the statement; if the walk saw fewer, the statement
//! is refused instead of being routed with a table unaccounted for.

use super::subqueries::{subqueries, Counter};
use super::tables::{is_dual, resolve, Resolved};
use super::{unsupported, Ctx, PlanError};
use sqlparser::ast::{
    Expr, JoinConstraint, JoinOperator, LimitClause, ObjectName, OrderBy, OrderByKind, Query,
    Select, SelectItem, SetExpr, TableFactor, TableWithJoins, Visit,
};

/// One table of the statement at one place (a table used twice is two instances).
#[derive(Debug)]
pub(crate) struct Instance<'a> {
    /// What the name resolves to.
    pub res: Resolved<'a>,
    /// The alias (`FROM user AS u`).
    pub alias: Option<String>,
    /// The scope it belongs to.
    pub scope: usize,
    /// On the NULL-extended side of an outer join.
    pub nullable: bool,
}

impl Instance<'_> {
    /// The name columns are qualified with: the alias, else the table name.
    pub fn qualifier(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.res.name)
    }
}

/// How a scope is attached to its parent.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ScopeKind<'q> {
    /// The statement itself.
    Top,
    /// An arm of a UNION / EXCEPT / INTERSECT.
    UnionArm,
    /// A subquery in FROM.
    Derived,
    /// A scalar subquery, `x = ANY (...)` and the like.
    Scalar,
    /// `[NOT] EXISTS (...)`.
    Exists,
    /// `lhs [NOT] IN (SELECT ...)`.
    In {
        /// The left-hand side.
        lhs: &'q Expr,
        /// NOT IN.
        negated: bool,
    },
}

/// A join condition conjunct that may co-locate two tables.
#[derive(Debug)]
pub(crate) struct JoinCond<'q> {
    /// The conjunct.
    pub expr: &'q Expr,
    /// For an outer join, the instances on each side: an equality co-locates only across the
    /// two sides. None for inner joins.
    pub sides: Option<(Vec<usize>, Vec<usize>)>,
}

/// `JOIN ... USING (cols)`.
#[derive(Debug)]
pub(crate) struct UsingCond {
    /// The columns, lower-cased.
    pub columns: Vec<String>,
    /// Instances on the left.
    pub left: Vec<usize>,
    /// Instances on the right.
    pub right: Vec<usize>,
}

/// One SELECT block (or the UPDATE/DELETE itself).
#[derive(Debug)]
pub(crate) struct Scope<'q> {
    /// The enclosing scope.
    pub parent: Option<usize>,
    /// How it is attached.
    pub kind: ScopeKind<'q>,
    /// Its table instances.
    pub tables: Vec<usize>,
    /// Top-level AND conjuncts of its WHERE.
    pub conjuncts: Vec<&'q Expr>,
    /// Conjuncts of its ON clauses.
    pub joins: Vec<JoinCond<'q>>,
    /// Its USING clauses.
    pub usings: Vec<UsingCond>,
    /// Aliases of its derived tables (they hide outer tables of the same name).
    pub derived_aliases: Vec<String>,
    /// The query of a subquery scope.
    pub query: Option<&'q Query>,
    /// The SELECT block.
    pub select: Option<&'q Select>,
}

/// The scopes and tables of a statement.
#[derive(Debug, Default)]
pub(crate) struct Analysis<'a, 'q> {
    /// Every table instance.
    pub instances: Vec<Instance<'a>>,
    /// Every scope; 0 is the statement.
    pub scopes: Vec<Scope<'q>>,
    /// The statement has a UNION (or EXCEPT/INTERSECT) somewhere.
    pub has_union: bool,
    /// The statement has a derived table somewhere.
    pub has_derived: bool,
    queries_seen: usize,
    relations_seen: usize,
}

/// Splits an expression into its top-level AND conjuncts (parentheses removed).
pub(crate) fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Nested(inner) => stack.push(inner),
            Expr::BinaryOp {
                left,
                op: sqlparser::ast::BinaryOperator::And,
                right,
            } => {
                stack.push(right);
                stack.push(left);
            }
            other => out.push(other),
        }
    }
    out
}

impl<'a, 'q> Analysis<'a, 'q> {
    /// Analyses a SELECT statement.
    pub fn of_query(ctx: &Ctx<'a>, q: &'q Query) -> Result<Self, PlanError> {
        let mut a = Analysis::default();
        a.query(ctx, q, None, ScopeKind::Top)?;
        a.check_complete(q)?;
        Ok(a)
    }

    /// Analyses an UPDATE/DELETE: the tables in `from`, `selection` and `exprs` (SET values,
    /// ORDER BY, LIMIT) searched for subqueries. `whole` is the statement for the safety net.
    pub fn of_dml<V: Visit>(
        ctx: &Ctx<'a>,
        from: &'q [TableWithJoins],
        selection: Option<&'q Expr>,
        exprs: Vec<&'q Expr>,
        whole: &V,
    ) -> Result<Self, PlanError> {
        let mut a = Analysis::default();
        let scope = a.new_scope(None, ScopeKind::Top, selection, None, None);
        for twj in from {
            a.table_with_joins(ctx, twj, scope)?;
        }
        let mut found = Vec::new();
        for e in exprs.into_iter().chain(selection) {
            subqueries(e, &mut found);
        }
        for (sub, kind) in found {
            a.query(ctx, sub, Some(scope), kind)?;
        }
        a.check_complete(whole)?;
        Ok(a)
    }

    /// The instances of the sharded (non-reference) tables.
    pub fn sharded(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.instances.len())
            .filter(|&i| self.instances[i].res.role() == super::tables::Role::Sharded)
    }

    fn check_complete<V: Visit>(&self, whole: &V) -> Result<(), PlanError> {
        let mut counter = Counter::default();
        let _ = whole.visit(&mut counter);
        if counter.queries > self.queries_seen || counter.relations > self.relations_seen {
            return unsupported(
                "a subquery or table in this position of a sharded query is not supported",
            );
        }
        Ok(())
    }

    fn new_scope(
        &mut self,
        parent: Option<usize>,
        kind: ScopeKind<'q>,
        selection: Option<&'q Expr>,
        query: Option<&'q Query>,
        select: Option<&'q Select>,
    ) -> usize {
        self.scopes.push(Scope {
            parent,
            kind,
            tables: Vec::new(),
            conjuncts: selection.map(conjuncts).unwrap_or_default(),
            joins: Vec::new(),
            usings: Vec::new(),
            derived_aliases: Vec::new(),
            query,
            select,
        });
        self.scopes.len() - 1
    }

    fn query(
        &mut self,
        ctx: &Ctx<'a>,
        q: &'q Query,
        parent: Option<usize>,
        kind: ScopeKind<'q>,
    ) -> Result<(), PlanError> {
        self.queries_seen += 1;
        if q.with.is_some() {
            return unsupported("WITH (common table expressions) on a sharded keyspace");
        }
        let mut extra = Vec::new();
        if let Some(OrderBy {
            kind: OrderByKind::Expressions(items),
            ..
        }) = &q.order_by
        {
            extra.extend(items.iter().map(|o| &o.expr));
        }
        match &q.limit_clause {
            Some(LimitClause::LimitOffset { limit, offset, .. }) => {
                extra.extend(limit.iter());
                extra.extend(offset.iter().map(|o| &o.value));
            }
            Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
                extra.push(offset);
                extra.push(limit);
            }
            None => {}
        }
        self.set_expr(ctx, &q.body, parent, kind, Some(q), extra)
    }

    fn set_expr(
        &mut self,
        ctx: &Ctx<'a>,
        body: &'q SetExpr,
        parent: Option<usize>,
        kind: ScopeKind<'q>,
        query: Option<&'q Query>,
        extra: Vec<&'q Expr>,
    ) -> Result<(), PlanError> {
        match body {
            SetExpr::Select(s) => self.select(ctx, s, parent, kind, query, extra),
            SetExpr::Query(q) => self.query(ctx, q, parent, kind),
            SetExpr::SetOperation { left, right, .. } => {
                self.has_union = true;
                let arm = match kind {
                    ScopeKind::Top => ScopeKind::UnionArm,
                    other => other,
                };
                let mut found = Vec::new();
                for e in extra {
                    subqueries(e, &mut found);
                }
                if !found.is_empty() {
                    return unsupported("a subquery in the ORDER BY or LIMIT of a UNION");
                }
                self.set_expr(ctx, left, parent, arm, query, Vec::new())?;
                self.set_expr(ctx, right, parent, arm, query, Vec::new())
            }
            other => unsupported(format!(
                "'{}' on a sharded keyspace",
                other.to_string().chars().take(40).collect::<String>()
            )),
        }
    }

    fn select(
        &mut self,
        ctx: &Ctx<'a>,
        s: &'q Select,
        parent: Option<usize>,
        kind: ScopeKind<'q>,
        query: Option<&'q Query>,
        extra: Vec<&'q Expr>,
    ) -> Result<(), PlanError> {
        let scope = self.new_scope(parent, kind, s.selection.as_ref(), query, Some(s));
        for twj in &s.from {
            self.table_with_joins(ctx, twj, scope)?;
        }
        let mut found = Vec::new();
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    subqueries(e, &mut found)
                }
                _ => {}
            }
        }
        let group_by: &[Expr] = match &s.group_by {
            sqlparser::ast::GroupByExpr::Expressions(exprs, _) => exprs,
            sqlparser::ast::GroupByExpr::All(_) => &[],
        };
        for e in s
            .selection
            .iter()
            .chain(s.having.iter())
            .chain(group_by.iter())
            .chain(extra)
        {
            subqueries(e, &mut found);
        }
        for (sub, kind) in found {
            self.query(ctx, sub, Some(scope), kind)?;
        }
        Ok(())
    }

    fn table_with_joins(
        &mut self,
        ctx: &Ctx<'a>,
        twj: &'q TableWithJoins,
        scope: usize,
    ) -> Result<Vec<usize>, PlanError> {
        let mut left = self.factor(ctx, &twj.relation, scope)?;
        for join in &twj.joins {
            let right = self.factor(ctx, &join.relation, scope)?;
            let (constraint, outer) = match &join.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::StraightJoin(c) => (c, None),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (c, Some(&right)),
                JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (c, Some(&left)),
                other => return unsupported(format!("join type {other:?}")),
            };
            if let Some(nullable) = outer {
                for &i in nullable {
                    self.instances[i].nullable = true;
                }
            }
            let sides = outer.map(|_| (left.clone(), right.clone()));
            match constraint {
                JoinConstraint::On(e) => {
                    let mut found = Vec::new();
                    subqueries(e, &mut found);
                    for (sub, kind) in found {
                        self.query(ctx, sub, Some(scope), kind)?;
                    }
                    for c in conjuncts(e) {
                        self.scopes[scope].joins.push(JoinCond {
                            expr: c,
                            sides: sides.clone(),
                        });
                    }
                }
                JoinConstraint::Using(names) => {
                    let columns = names
                        .iter()
                        .map(|n| n.to_string().trim_matches('`').to_lowercase())
                        .collect();
                    self.scopes[scope].usings.push(UsingCond {
                        columns,
                        left: left.clone(),
                        right: right.clone(),
                    });
                }
                JoinConstraint::Natural | JoinConstraint::None => {}
            }
            left.extend(right);
        }
        Ok(left)
    }

    fn factor(
        &mut self,
        ctx: &Ctx<'a>,
        tf: &'q TableFactor,
        scope: usize,
    ) -> Result<Vec<usize>, PlanError> {
        match tf {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                self.relations_seen += 1;
                if args.is_some() {
                    return unsupported(format!("table function '{name}'"));
                }
                if is_dual(name) {
                    return Ok(Vec::new());
                }
                Ok(vec![self.add_table(
                    ctx,
                    name,
                    alias.as_ref().map(|a| a.name.value.clone()),
                    scope,
                )?])
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                if *lateral {
                    return unsupported("LATERAL derived tables");
                }
                self.has_derived = true;
                if let Some(a) = alias {
                    self.scopes[scope]
                        .derived_aliases
                        .push(a.name.value.clone());
                }
                self.query(ctx, subquery, Some(scope), ScopeKind::Derived)?;
                Ok(Vec::new())
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.table_with_joins(ctx, table_with_joins, scope),
            other => unsupported(format!("table expression '{other}'")),
        }
    }

    /// Adds a table instance of `scope` (also used for the target of UPDATE/DELETE).
    pub fn add_table(
        &mut self,
        ctx: &Ctx<'a>,
        name: &ObjectName,
        alias: Option<String>,
        scope: usize,
    ) -> Result<usize, PlanError> {
        let res = resolve(ctx, name)?;
        self.instances.push(Instance {
            res,
            alias,
            scope,
            nullable: false,
        });
        let id = self.instances.len() - 1;
        self.scopes[scope].tables.push(id);
        Ok(id)
    }
}

//! Finding the subqueries of an expression (with how each is used), and counting every query
//! and table of a statement with sqlparser's visitor (the safety net of [`super::scope`]).

use super::scope::ScopeKind;
use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Query, TableFactor, Visitor,
};
use std::ops::ControlFlow;

/// Collects the subqueries directly inside `e` (not inside other subqueries) with how they are
/// used. Expression kinds not listed here are not searched; the safety net catches those.
pub(crate) fn subqueries<'q>(e: &'q Expr, out: &mut Vec<(&'q Query, ScopeKind<'q>)>) {
    match e {
        Expr::Subquery(q) => out.push((q, ScopeKind::Scalar)),
        Expr::Exists { subquery, .. } => out.push((subquery, ScopeKind::Exists)),
        Expr::InSubquery {
            expr,
            subquery,
            negated,
        } => {
            subqueries(expr, out);
            out.push((
                subquery,
                ScopeKind::In {
                    lhs: expr,
                    negated: *negated,
                },
            ));
        }
        Expr::BinaryOp { left, right, .. } => {
            subqueries(left, out);
            subqueries(right, out);
        }
        Expr::AnyOp { left, right, .. } | Expr::AllOp { left, right, .. } => {
            subqueries(left, out);
            subqueries(right, out);
        }
        Expr::UnaryOp { expr, .. }
        | Expr::Nested(expr)
        | Expr::IsNull(expr)
        | Expr::IsNotNull(expr)
        | Expr::IsTrue(expr)
        | Expr::IsNotTrue(expr)
        | Expr::IsFalse(expr)
        | Expr::IsNotFalse(expr)
        | Expr::Cast { expr, .. }
        | Expr::Collate { expr, .. } => subqueries(expr, out),
        Expr::InList { expr, list, .. } => {
            subqueries(expr, out);
            list.iter().for_each(|x| subqueries(x, out));
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            subqueries(expr, out);
            subqueries(low, out);
            subqueries(high, out);
        }
        Expr::Like { expr, pattern, .. } | Expr::RLike { expr, pattern, .. } => {
            subqueries(expr, out);
            subqueries(pattern, out);
        }
        Expr::Tuple(items) => items.iter().for_each(|x| subqueries(x, out)),
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            operand.iter().for_each(|x| subqueries(x, out));
            for c in conditions {
                subqueries(&c.condition, out);
                subqueries(&c.result, out);
            }
            else_result.iter().for_each(|x| subqueries(x, out));
        }
        Expr::Function(f) => {
            if let FunctionArguments::List(list) = &f.args {
                for arg in &list.args {
                    let inner = match arg {
                        FunctionArg::Unnamed(a)
                        | FunctionArg::Named { arg: a, .. }
                        | FunctionArg::ExprNamed { arg: a, .. } => a,
                    };
                    if let FunctionArgExpr::Expr(x) = inner {
                        subqueries(x, out);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Counts every query and table name sqlparser's visitor reaches.
#[derive(Default)]
pub(crate) struct Counter {
    /// Queries seen.
    pub queries: usize,
    /// Table names seen.
    pub relations: usize,
}

impl Visitor for Counter {
    type Break = ();

    fn pre_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.queries += 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, tf: &TableFactor) -> ControlFlow<()> {
        if matches!(tf, TableFactor::Table { .. }) {
            self.relations += 1;
        }
        ControlFlow::Continue(())
    }
}

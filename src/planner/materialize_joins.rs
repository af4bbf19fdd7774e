//! Join-driven reductions of a [`super::materialize`] plan's fetches (what vtgate's nested
//! loop does by binding the join columns into the right side's query): when the statement
//! says `t.c = u.d` for two tables of its top-level FROM, `t`'s rows can only matter where
//! `c` equals one of the `d` values of `u`'s fetched rows, so `t` may be fetched with
//! `c IN (those values)` — routed by its vindex when `c` is one — once `u` is fetched.
//!
//! Where the equality may come from: a top-level WHERE conjunct; an ON conjunct of a FROM
//! item whose joins are all inner; the ON of a `LEFT JOIN t` (reducing `t` only: its rows
//! without a match are never seen). Both tables must be read once in the statement and
//! named by a qualifier used once. The executor applies a reduction only when both columns
//! are integers (then `IN` compares exactly as `=` does) and the values are few; the order
//! fetches tables with pushed-down filters first.

use super::plan::Reduction;
use sqlparser::ast::{BinaryOperator, Expr, JoinConstraint, JoinOperator, Query, SetExpr};

/// The reductions each table may use (indexed like the plan's tables), given the qualifier
/// of each table read once (`qualifiers[i]`, None otherwise).
pub(crate) fn reductions(q: &Query, qualifiers: &[Option<String>]) -> Vec<Vec<Reduction>> {
    let mut out = vec![Vec::new(); qualifiers.len()];
    let SetExpr::Select(select) = q.body.as_ref() else {
        return out;
    };
    // (conjunct, only this qualifier may be reduced by it)
    let mut sources: Vec<(&Expr, Option<String>)> = Vec::new();
    if let Some(w) = &select.selection {
        sources.extend(super::scope::conjuncts(w).into_iter().map(|e| (e, None)));
    }
    for twj in &select.from {
        let all_inner = twj.joins.iter().all(|j| {
            matches!(
                j.join_operator,
                JoinOperator::Join(_)
                    | JoinOperator::Inner(_)
                    | JoinOperator::CrossJoin(_)
                    | JoinOperator::StraightJoin(_)
            )
        });
        for j in &twj.joins {
            let (constraint, left_join) = match &j.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::StraightJoin(c) => (c, false),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (c, true),
                _ => continue,
            };
            let JoinConstraint::On(on) = constraint else {
                continue;
            };
            let only = match (left_join, all_inner) {
                (false, true) => None,
                (true, _) => match super::materialize::qualifier_of(&j.relation) {
                    Some(q) => Some(q),
                    None => continue,
                },
                (false, false) => continue,
            };
            sources.extend(
                super::scope::conjuncts(on)
                    .into_iter()
                    .map(|e| (e, only.clone())),
            );
        }
    }
    let index_of = |qualifier: &str| {
        qualifiers
            .iter()
            .position(|q| q.as_deref() == Some(qualifier))
    };
    for (e, only) in sources {
        let Some(((q1, c1), (q2, c2))) = column_equality(e) else {
            continue;
        };
        let (Some(i1), Some(i2)) = (index_of(q1), index_of(q2)) else {
            continue;
        };
        if i1 == i2 {
            continue;
        }
        for (t, c, u, d, q) in [(i1, c1, i2, c2, q1), (i2, c2, i1, c1, q2)] {
            if only.as_deref().is_some_and(|o| o != q) {
                continue;
            }
            out[t].push(Reduction {
                column: c.to_string(),
                source: u,
                source_column: d.to_string(),
            });
        }
    }
    out
}

/// A qualified column: (qualifier, column).
type Qualified<'e> = (&'e str, &'e str);

/// `a.x = b.y` as `((a, x), (b, y))`.
fn column_equality(e: &Expr) -> Option<(Qualified<'_>, Qualified<'_>)> {
    let Expr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    } = e
    else {
        return None;
    };
    Some((qualified(left)?, qualified(right)?))
}

fn qualified(e: &Expr) -> Option<Qualified<'_>> {
    match e {
        Expr::Nested(inner) => qualified(inner),
        Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
            Some((parts[0].value.as_str(), parts[1].value.as_str()))
        }
        _ => None,
    }
}

//! HAVING on scatter aggregates: the clause becomes a [`HavingExpr`] the proxy evaluates on
//! the merged rows (the shards never see it: a shard's partial group is not the group).
//!
//! | HAVING | [`HavingExpr`] |
//! |---|---|
//! | `AND`, `OR`, `NOT`, parentheses | `And`, `Or`, `Not` |
//! | `a = b`, `<>`, `!=`, `<`, `<=`, `>`, `>=`, `<=>` | `Compare` (a literal on the left is swapped to the right) |
//! | `x IS [NOT] NULL` | `IsNull` |
//! | `x [NOT] BETWEEN a AND b` | `[Not](x >= a AND x <= b)` |
//! | `x [NOT] IN (a, b)` | `[Not](x = a OR x = b)` |
//! | a bare operand `x` | `x <> 0` |
//!
//! Operands are literals (exact numbers, strings, NULL, TRUE/FALSE) or columns of the merged
//! row, which the caller resolves (select items, aliases, GROUP BY expressions, aggregates
//! added as hidden columns, see [`super::aggregate`]). Refused: anything else (arithmetic,
//! functions of aggregates, subqueries, `LIKE`, `?` parameters, floating-point and hex
//! literals, conditions on constants alone).

use super::plan::{CompareOp, HavingExpr, HavingLiteral, HavingOperand, RouteValue};
use super::{unsupported, Ctx, PlanError};
use crate::vindex::SqlType;
use sqlparser::ast::{BinaryOperator, Expr, UnaryOperator};

/// Resolves a non-literal operand to a column of the merged row.
pub(crate) type ColumnOf<'f, 'e> = dyn FnMut(&'e Expr) -> Result<usize, PlanError> + 'f;

/// Turns a HAVING clause into a [`HavingExpr`]; `column_of` resolves the operands that are
/// not literals.
pub(crate) fn plan<'e>(
    ctx: &Ctx<'_>,
    having: &'e Expr,
    column_of: &mut ColumnOf<'_, 'e>,
) -> Result<HavingExpr, PlanError> {
    Converter { ctx, column_of }.condition(having)
}

struct Converter<'c, 'f, 'e> {
    ctx: &'c Ctx<'c>,
    column_of: &'c mut ColumnOf<'f, 'e>,
}

impl<'e> Converter<'_, '_, 'e> {
    fn condition(&mut self, e: &'e Expr) -> Result<HavingExpr, PlanError> {
        match e {
            Expr::Nested(x) => self.condition(x),
            Expr::BinaryOp { left, op, right } => match (op, compare_op(op)) {
                (BinaryOperator::And, _) => Ok(HavingExpr::And(
                    Box::new(self.condition(left)?),
                    Box::new(self.condition(right)?),
                )),
                (BinaryOperator::Or, _) => Ok(HavingExpr::Or(
                    Box::new(self.condition(left)?),
                    Box::new(self.condition(right)?),
                )),
                (_, Some(op)) => self.compare(left, op, right),
                _ => self.truth(e),
            },
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => Ok(HavingExpr::Not(Box::new(self.condition(expr)?))),
            Expr::IsNull(x) | Expr::IsNotNull(x) => match self.operand(x)? {
                HavingOperand::Column(column) => Ok(HavingExpr::IsNull {
                    column,
                    negated: matches!(e, Expr::IsNotNull(_)),
                }),
                HavingOperand::Literal(_) => constant(e),
            },
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let both = HavingExpr::And(
                    Box::new(self.compare(expr, CompareOp::GtEq, low)?),
                    Box::new(self.compare(expr, CompareOp::LtEq, high)?),
                );
                Ok(negate(both, *negated))
            }
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let mut any: Option<HavingExpr> = None;
                for item in list {
                    let eq = self.compare(expr, CompareOp::Eq, item)?;
                    any = Some(match any {
                        None => eq,
                        Some(prev) => HavingExpr::Or(Box::new(prev), Box::new(eq)),
                    });
                }
                match any {
                    Some(any) => Ok(negate(any, *negated)),
                    None => unsupported(format!("HAVING {e} on more than one shard")),
                }
            }
            Expr::InSubquery { .. } | Expr::Exists { .. } | Expr::Subquery(_) => {
                unsupported(format!("a subquery in HAVING ({e}) on more than one shard"))
            }
            other => self.truth(other),
        }
    }

    /// A bare operand as a condition: `x <> 0`.
    fn truth(&mut self, e: &'e Expr) -> Result<HavingExpr, PlanError> {
        match self.operand(e)? {
            HavingOperand::Column(c) => Ok(HavingExpr::Compare {
                left: HavingOperand::Column(c),
                op: CompareOp::NotEq,
                right: HavingOperand::Literal(HavingLiteral::Number("0".into())),
            }),
            HavingOperand::Literal(_) => constant(e),
        }
    }

    fn compare(
        &mut self,
        left: &'e Expr,
        op: CompareOp,
        right: &'e Expr,
    ) -> Result<HavingExpr, PlanError> {
        let (l, r) = (self.operand(left)?, self.operand(right)?);
        let (left, op, right) = match (l, r) {
            (HavingOperand::Literal(_), HavingOperand::Literal(_)) => {
                return unsupported(format!(
                    "HAVING comparing two constants ({left}, {right}) on more than one shard"
                ))
            }
            (l @ HavingOperand::Literal(_), r) => (r, swap(op), l),
            (l, r) => (l, op, r),
        };
        Ok(HavingExpr::Compare { left, op, right })
    }

    fn operand(&mut self, e: &'e Expr) -> Result<HavingOperand, PlanError> {
        if let Expr::Nested(x) = e {
            return self.operand(x);
        }
        match self.ctx.text.route_value(e) {
            Some(RouteValue::Param(_)) => {
                unsupported("? parameters in HAVING on more than one shard")
            }
            Some(RouteValue::Literal(v)) => {
                let literal = match v.ty() {
                    SqlType::Null => HavingLiteral::Null,
                    SqlType::Int64 | SqlType::Uint64 | SqlType::Decimal => {
                        HavingLiteral::Number(String::from_utf8_lossy(v.raw()).into_owned())
                    }
                    SqlType::VarChar => HavingLiteral::Text(v.raw().to_vec()),
                    _ => {
                        return unsupported(format!(
                            "the literal {e} in HAVING on more than one shard"
                        ))
                    }
                };
                Ok(HavingOperand::Literal(literal))
            }
            None if matches!(e, Expr::Value(_) | Expr::TypedString { .. }) => {
                unsupported(format!("the literal {e} in HAVING on more than one shard"))
            }
            None => Ok(HavingOperand::Column((self.column_of)(e)?)),
        }
    }
}

fn compare_op(op: &BinaryOperator) -> Option<CompareOp> {
    Some(match op {
        BinaryOperator::Eq => CompareOp::Eq,
        BinaryOperator::NotEq => CompareOp::NotEq,
        BinaryOperator::Lt => CompareOp::Lt,
        BinaryOperator::LtEq => CompareOp::LtEq,
        BinaryOperator::Gt => CompareOp::Gt,
        BinaryOperator::GtEq => CompareOp::GtEq,
        BinaryOperator::Spaceship => CompareOp::NullSafeEq,
        _ => return None,
    })
}

/// The operator with its sides exchanged (`5 < x` is `x > 5`).
fn swap(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::LtEq => CompareOp::GtEq,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::GtEq => CompareOp::LtEq,
        other => other,
    }
}

fn negate(e: HavingExpr, negated: bool) -> HavingExpr {
    if negated {
        HavingExpr::Not(Box::new(e))
    } else {
        e
    }
}

fn constant<T>(e: &Expr) -> Result<T, PlanError> {
    unsupported(format!(
        "HAVING with a constant condition ({e}) on more than one shard"
    ))
}

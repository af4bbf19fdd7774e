//! HAVING on merged rows: the proxy evaluates the HAVING of a scatter aggregate itself, after
//! merging, with MySQL's comparison rules for the merged column's type ([`check_having`] refuses
//! what it cannot compare exactly, [`having_holds`] evaluates one row).

use super::ExecError;
use crate::engine::{Collation, SortKey};
use crate::planner::{CompareOp, HavingExpr, HavingLiteral, HavingOperand};
use mysql_async::Value;
use mysql_common::constants::ColumnType;
use mysql_common::packets::Column;
use std::cmp::Ordering;

/// How a merged column compares with a HAVING literal or another column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// MYSQL_TYPE_NULL: every value is NULL.
    Null,
    /// Integers, decimals, doubles.
    Number,
    /// DATE, DATETIME, TIMESTAMP.
    Date,
    /// TIME.
    Time,
    /// Strings, BLOB/TEXT, ENUM, SET, JSON (the column's collation).
    Text,
}

fn class_of(column: &Column) -> Option<Class> {
    use ColumnType::*;
    Some(match column.column_type() {
        MYSQL_TYPE_NULL => Class::Null,
        MYSQL_TYPE_TINY
        | MYSQL_TYPE_SHORT
        | MYSQL_TYPE_LONG
        | MYSQL_TYPE_INT24
        | MYSQL_TYPE_LONGLONG
        | MYSQL_TYPE_YEAR
        | MYSQL_TYPE_DECIMAL
        | MYSQL_TYPE_NEWDECIMAL
        | MYSQL_TYPE_FLOAT
        | MYSQL_TYPE_DOUBLE => Class::Number,
        MYSQL_TYPE_DATE
        | MYSQL_TYPE_NEWDATE
        | MYSQL_TYPE_DATETIME
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIMESTAMP
        | MYSQL_TYPE_TIMESTAMP2 => Class::Date,
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => Class::Time,
        MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_STRING
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
        | MYSQL_TYPE_BLOB
        | MYSQL_TYPE_ENUM
        | MYSQL_TYPE_SET
        | MYSQL_TYPE_JSON => Class::Text,
        _ => return None,
    })
}

/// A literal as a text-protocol value (NULL for `NULL`).
fn literal_value(l: &HavingLiteral) -> Value {
    match l {
        HavingLiteral::Null => Value::NULL,
        HavingLiteral::Number(n) => Value::Bytes(n.as_bytes().to_vec()),
        HavingLiteral::Text(t) => Value::Bytes(t.clone()),
    }
}

/// Refuses (1235) a HAVING whose comparisons the proxy cannot make exactly for these
/// column types: a number column against a string (MySQL compares as doubles), a string
/// column against a number, a date against a string that is not a date, columns of
/// different kinds or collations. Depends only on the metadata, never on the rows.
pub(super) fn check_having(e: &HavingExpr, columns: &[Column]) -> Result<(), ExecError> {
    let column = |i: usize| {
        columns.get(i).ok_or_else(|| {
            ExecError::Internal(format!(
                "HAVING refers to column {i} of {} merged columns",
                columns.len()
            ))
        })
    };
    let class = |c: &Column| {
        class_of(c).ok_or_else(|| {
            ExecError::NotSupported(format!(
                "HAVING on a {:?} column on more than one shard",
                c.column_type()
            ))
        })
    };
    match e {
        HavingExpr::And(a, b) | HavingExpr::Or(a, b) => {
            check_having(a, columns)?;
            check_having(b, columns)
        }
        HavingExpr::Not(a) => check_having(a, columns),
        HavingExpr::IsNull { column: i, .. } => column(*i).map(|_| ()),
        HavingExpr::Compare { left, right, .. } => {
            let refuse = |what: String| {
                Err(ExecError::NotSupported(format!(
                    "HAVING comparing {what} on more than one shard"
                )))
            };
            match (left, right) {
                (HavingOperand::Column(i), HavingOperand::Column(j)) => {
                    let (a, b) = (column(*i)?, column(*j)?);
                    match (class(a)?, class(b)?) {
                        (Class::Null, _) | (_, Class::Null) => Ok(()),
                        (Class::Text, Class::Text) if Collation::of(a) == Collation::of(b) => {
                            Ok(())
                        }
                        (x, y) if x == y && x != Class::Text => Ok(()),
                        (x, y) => refuse(format!("a {x:?} column with a {y:?} column")),
                    }
                }
                (HavingOperand::Column(i), HavingOperand::Literal(l))
                | (HavingOperand::Literal(l), HavingOperand::Column(i)) => {
                    let c = column(*i)?;
                    let ok = match (class(c)?, l) {
                        (_, HavingLiteral::Null) | (Class::Null, _) => true,
                        (Class::Number, HavingLiteral::Number(_)) => true,
                        (Class::Text, HavingLiteral::Text(_)) => true,
                        (Class::Date | Class::Time, HavingLiteral::Text(_)) => {
                            matches!(SortKey::new(&literal_value(l), c), SortKey::Temporal(_))
                        }
                        _ => false,
                    };
                    if ok {
                        Ok(())
                    } else {
                        refuse(format!(
                            "a {:?} column with the literal {}",
                            c.column_type(),
                            String::from_utf8_lossy(&value_bytes(&literal_value(l)))
                        ))
                    }
                }
                _ => Err(ExecError::Internal(
                    "HAVING compares two constants".to_string(),
                )),
            }
        }
    }
}

fn value_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::Bytes(b) => b.clone(),
        _ => b"NULL".to_vec(),
    }
}

/// Evaluates a checked HAVING on one merged row: `Some(true)`, `Some(false)` or `None`
/// (NULL), with MySQL's three-valued AND, OR and NOT.
pub(super) fn having_holds(e: &HavingExpr, row: &[Value], columns: &[Column]) -> Option<bool> {
    match e {
        HavingExpr::And(a, b) => {
            match (having_holds(a, row, columns), having_holds(b, row, columns)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            }
        }
        HavingExpr::Or(a, b) => {
            match (having_holds(a, row, columns), having_holds(b, row, columns)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            }
        }
        HavingExpr::Not(a) => having_holds(a, row, columns).map(|b| !b),
        HavingExpr::IsNull { column, negated } => {
            let null = matches!(row.get(*column), None | Some(Value::NULL));
            Some(null != *negated)
        }
        HavingExpr::Compare { left, op, right } => {
            // A literal takes the type of the column it meets (check_having made sure the
            // pair is comparable that way).
            let (lk, rk) = match (left, right) {
                (HavingOperand::Column(i), HavingOperand::Column(j)) => {
                    (column_key(row, columns, *i)?, column_key(row, columns, *j)?)
                }
                (HavingOperand::Column(i), HavingOperand::Literal(l)) => (
                    column_key(row, columns, *i)?,
                    literal_key(l, columns.get(*i)?),
                ),
                (HavingOperand::Literal(l), HavingOperand::Column(j)) => (
                    literal_key(l, columns.get(*j)?),
                    column_key(row, columns, *j)?,
                ),
                _ => return None,
            };
            if *op == CompareOp::NullSafeEq {
                return Some(lk == rk);
            }
            if lk.is_null() || rk.is_null() {
                return None;
            }
            let ord = lk.cmp(&rk);
            Some(match op {
                CompareOp::Eq | CompareOp::NullSafeEq => ord == Ordering::Equal,
                CompareOp::NotEq => ord != Ordering::Equal,
                CompareOp::Lt => ord == Ordering::Less,
                CompareOp::LtEq => ord != Ordering::Greater,
                CompareOp::Gt => ord == Ordering::Greater,
                CompareOp::GtEq => ord != Ordering::Less,
            })
        }
    }
}

fn column_key(row: &[Value], columns: &[Column], i: usize) -> Option<SortKey> {
    Some(SortKey::new(row.get(i)?, columns.get(i)?))
}

fn literal_key(l: &HavingLiteral, column: &Column) -> SortKey {
    SortKey::new(&literal_value(l), column)
}

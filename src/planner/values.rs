//! The statement text as the planner sees it: byte offsets, tokens and literal values.
//!
//! sqlparser spans are line/column positions (1-based, columns counted in characters) and not
//! always exact for whole expressions, but a single literal's span covers exactly its token.
//! [`Text`] turns spans into byte offsets and reads literals from the original tokens, so a value
//! is typed from what the client wrote, not from a re-printed AST:
//!
//! | text | [`SqlValue`] |
//! |---|---|
//! | `5`, `-5` | INT64 (UINT64 above `i64::MAX`, DECIMAL beyond `u64`) |
//! | `1.50`, `-.5` | DECIMAL, as written |
//! | `1e3` | FLOAT64, as written |
//! | `'it''s'`, `"a\nb"` | VARCHAR, the unescaped bytes |
//! | `x'9e'` / `0x9e` / `b'01'` | HEXVAL / HEXNUM / BITNUM, as written |
//! | `NULL` | NULL |
//! | `TRUE` / `FALSE` | INT64 1 / 0 |
//! | `?` | [`RouteValue::Param`], numbered by `?` position in the text |

use super::plan::RouteValue;
use crate::sql::{tokenize, Token, TokenKind};
use crate::vindex::{SqlType, SqlValue};
use sqlparser::ast::{Expr, UnaryOperator, Value};
use sqlparser::tokenizer::{Location, Span};

/// The statement text with its tokens (comments excluded) and line starts.
pub(crate) struct Text<'a> {
    /// The statement.
    pub sql: &'a str,
    /// Significant tokens (no comments), in order.
    pub tokens: Vec<Token>,
    /// Byte offset of each line's first byte.
    line_starts: Vec<usize>,
    /// Start offsets of the `?` tokens, in order.
    params: Vec<usize>,
    /// For a template of a text statement (see [`super::plan_template`]): the value of the
    /// literal each `?` replaced, in order; empty otherwise.
    pub bound: &'a [SqlValue],
}

impl<'a> Text<'a> {
    /// Tokenizes `sql`.
    pub fn new(sql: &'a str) -> Self {
        Self::with_bound(sql, &[])
    }

    /// Tokenizes a template whose `?` stand for the literals `bound` (in order).
    pub fn with_bound(sql: &'a str, bound: &'a [SqlValue]) -> Self {
        let tokens: Vec<Token> = tokenize(sql)
            .into_iter()
            .filter(|t| !matches!(t.kind, TokenKind::Comment | TokenKind::Directive))
            .collect();
        let params = tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Param)
            .map(|t| t.start)
            .collect();
        let mut line_starts = vec![0];
        line_starts.extend(
            sql.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Text {
            sql,
            tokens,
            line_starts,
            params,
            bound,
        }
    }

    /// Byte offset of a sqlparser location; None for the empty location or out of range.
    pub fn offset(&self, loc: Location) -> Option<usize> {
        let line = usize::try_from(loc.line).ok()?.checked_sub(1)?;
        let column = usize::try_from(loc.column).ok()?.checked_sub(1)?;
        let start = *self.line_starts.get(line)?;
        let rest = self.sql.get(start..)?;
        if column == 0 {
            return Some(start);
        }
        match rest.char_indices().nth(column) {
            Some((i, _)) => Some(start + i),
            None if rest.chars().count() == column => Some(self.sql.len()),
            None => None,
        }
    }

    /// Whether this is a template of a text statement: its `?` are literals of the client's
    /// text, spliced back in before anything runs (so their positions may change).
    pub fn templated(&self) -> bool {
        !self.bound.is_empty()
    }

    /// How many `?` parameters the statement has.
    pub fn param_count(&self) -> usize {
        self.params.len()
    }

    /// Byte range of a span.
    pub fn range(&self, span: Span) -> Option<(usize, usize)> {
        let start = self.offset(span.start)?;
        let end = self.offset(span.end)?;
        (start < end).then_some((start, end))
    }

    /// The text of a byte range ("" when out of range).
    pub fn slice(&self, range: (usize, usize)) -> &'a str {
        self.sql.get(range.0..range.1).unwrap_or("")
    }

    /// Index in [`Text::tokens`] of the token starting at `start`.
    pub fn token_at(&self, start: usize) -> Option<usize> {
        self.tokens.binary_search_by_key(&start, |t| t.start).ok()
    }

    /// The significant token just before the one at index `i`.
    pub fn prev(&self, i: usize) -> Option<&Token> {
        i.checked_sub(1).and_then(|j| self.tokens.get(j))
    }

    /// Whether the string token at `i` is one of several adjacent string literals, which
    /// MySQL concatenates into one value.
    fn adjacent_string(&self, i: usize) -> bool {
        let is_string = |t: Option<&Token>| t.is_some_and(|t| t.kind == TokenKind::String);
        is_string(self.prev(i)) || is_string(self.tokens.get(i + 1))
    }

    /// The token for a literal's span, when the span is exactly one token.
    fn single_token(&self, span: Span) -> Option<(usize, &Token)> {
        let (start, end) = self.range(span)?;
        let i = self.token_at(start)?;
        let tok = self.tokens.get(i)?;
        (tok.end == end).then_some((i, tok))
    }

    /// Byte range of a literal expression (`5`, `-5`, `'a'`, `?`) including a leading sign.
    pub fn literal_range(&self, expr: &Expr) -> Option<(usize, usize)> {
        match expr {
            Expr::Value(v) => self.single_token(v.span).map(|(_, t)| (t.start, t.end)),
            Expr::UnaryOp {
                op: UnaryOperator::Minus | UnaryOperator::Plus,
                expr,
            } => {
                let Expr::Value(v) = expr.as_ref() else {
                    return None;
                };
                let (i, tok) = self.single_token(v.span)?;
                let sign = self.prev(i)?;
                (sign.kind == TokenKind::Punct).then_some((sign.start, tok.end))
            }
            _ => None,
        }
    }

    /// The route value of a literal or `?` expression; None for anything else (columns,
    /// functions, arithmetic, introducers like `_utf8mb4'x'`).
    pub fn route_value(&self, expr: &Expr) -> Option<RouteValue> {
        let (negative, v) = match expr {
            Expr::Value(v) => (false, v),
            Expr::UnaryOp { op, expr } => match (op, expr.as_ref()) {
                (UnaryOperator::Minus, Expr::Value(v)) => (true, v),
                (UnaryOperator::Plus, Expr::Value(v)) => (false, v),
                _ => return None,
            },
            _ => return None,
        };
        let (i, tok) = self.single_token(v.span)?;
        if tok.kind == TokenKind::String && self.adjacent_string(i) {
            // MySQL reads `'AL' 'ICE'` as `'ALICE'`, but the literal's span covers one piece.
            return None;
        }
        let text = tok.text(self.sql);
        if negative || matches!(expr, Expr::UnaryOp { .. }) {
            if !matches!(v.value, Value::Number(..)) || tok.kind != TokenKind::Number {
                return None;
            }
            return Some(RouteValue::Literal(number(text, negative)));
        }
        let value = match (&v.value, tok.kind) {
            (Value::Placeholder(_), TokenKind::Param) => {
                return self
                    .params
                    .iter()
                    .position(|&p| p == tok.start)
                    .map(RouteValue::Param)
            }
            (Value::Number(..), TokenKind::Number) => number(text, false),
            (Value::SingleQuotedString(_) | Value::DoubleQuotedString(_), TokenKind::String) => {
                SqlValue::varchar(tok.string_value(self.sql).as_bytes())
            }
            (Value::HexStringLiteral(_), TokenKind::HexOrBit)
            | (Value::SingleQuotedByteStringLiteral(_), TokenKind::HexOrBit) => hex_or_bit(text)?,
            (Value::Null, TokenKind::Ident) => SqlValue::null(),
            (Value::Boolean(b), TokenKind::Ident) => SqlValue::int64(i64::from(*b)),
            _ => return None,
        };
        Some(RouteValue::Literal(value))
    }
}

/// The value of a literal [`crate::sql::parameterize`] replaced, typed exactly as
/// [`Text::route_value`] types it in the original text (the module table).
pub fn literal_value(sql: &str, lit: &crate::sql::Literal) -> SqlValue {
    match lit.token.kind {
        TokenKind::String => SqlValue::varchar(lit.token.string_value(sql).as_bytes()),
        _ => number(lit.token.text(sql), lit.negative),
    }
}

/// A number literal's value: INT64, UINT64, DECIMAL or FLOAT64 (see the module table).
fn number(text: &str, negative: bool) -> SqlValue {
    let signed = if negative {
        format!("-{text}")
    } else {
        text.to_string()
    };
    if text.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = signed.parse::<i64>() {
            return SqlValue::int64(n);
        }
        if !negative {
            if let Ok(n) = text.parse::<u64>() {
                return SqlValue::uint64(n);
            }
        }
        return SqlValue::new(SqlType::Decimal, signed);
    }
    if text.contains(['e', 'E']) {
        return SqlValue::new(SqlType::Float64, signed);
    }
    SqlValue::new(SqlType::Decimal, signed)
}

/// `x'..'` → HEXVAL, `0x..` → HEXNUM, `b'..'`/`0b..` → BITNUM (text as written).
fn hex_or_bit(text: &str) -> Option<SqlValue> {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("x'") {
        Some(SqlValue::hexval(text))
    } else if lower.starts_with("0x") {
        Some(SqlValue::hexnum(text))
    } else if lower.starts_with("b'") || lower.starts_with("0b") {
        Some(SqlValue::bitnum(text))
    } else {
        None
    }
}

/// Whether a literal route value is SQL NULL.
pub(crate) fn is_null(v: &RouteValue) -> bool {
    matches!(v, RouteValue::Literal(s) if s.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_typed_from_the_text() {
        assert_eq!(number("5", false), SqlValue::int64(5));
        assert_eq!(number("5", true), SqlValue::int64(-5));
        assert_eq!(
            number("9223372036854775808", false),
            SqlValue::uint64(9223372036854775808)
        );
        assert_eq!(
            number("9223372036854775808", true),
            SqlValue::int64(i64::MIN)
        );
        assert_eq!(number("18446744073709551616", false).ty(), SqlType::Decimal);
        assert_eq!(
            number("1.50", false),
            SqlValue::new(SqlType::Decimal, "1.50")
        );
        assert_eq!(number("1e3", true), SqlValue::new(SqlType::Float64, "-1e3"));
    }

    #[test]
    fn offsets_count_characters_per_line() {
        let t = Text::new("select 'é'\n  , x");
        assert_eq!(t.offset(Location::new(1, 8)), Some(7));
        assert_eq!(t.offset(Location::new(1, 11)), Some(11));
        assert_eq!(t.offset(Location::new(2, 5)), Some(16));
        assert_eq!(t.offset(Location::new(2, 6)), Some(17));
        assert_eq!(t.offset(Location::new(0, 0)), None);
    }
}

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

/// Characters between two entries of `Text::char_marks`.
const CHAR_MARK: usize = 64;

/// The statement text with its tokens (comments excluded) and line starts.
pub(crate) struct Text<'a> {
    /// The statement.
    pub sql: &'a str,
    /// Significant tokens (no comments), in order.
    pub tokens: Vec<Token>,
    /// Byte offset of each line's first byte.
    line_starts: Vec<usize>,
    /// Character index of each line's first character (empty for ASCII text, where it is
    /// the byte offset).
    line_chars: Vec<usize>,
    /// Byte offset of every [`CHAR_MARK`]th character (empty for ASCII text), so a character
    /// column becomes a byte offset in at most `CHAR_MARK` steps, not one step per character
    /// before it (planning stays linear in the statement's length).
    char_marks: Vec<usize>,
    /// Characters in the text.
    char_count: usize,
    /// Characters stepped over by [`Text::offset`] (the complexity tests read it).
    #[cfg(test)]
    pub steps: std::cell::Cell<usize>,
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
        let (mut line_chars, mut char_marks, mut char_count) = (Vec::new(), Vec::new(), 0);
        if sql.is_ascii() {
            char_count = sql.len();
        } else {
            line_chars.push(0);
            for (i, (byte, c)) in sql.char_indices().enumerate() {
                if i % CHAR_MARK == 0 {
                    char_marks.push(byte);
                }
                if c == '\n' {
                    line_chars.push(i + 1);
                }
                char_count = i + 1;
            }
        }
        Text {
            sql,
            tokens,
            line_starts,
            line_chars,
            char_marks,
            char_count,
            #[cfg(test)]
            steps: std::cell::Cell::new(0),
            params,
            bound,
        }
    }

    /// Byte offset of a sqlparser location; None for the empty location or out of range.
    pub fn offset(&self, loc: Location) -> Option<usize> {
        let line = usize::try_from(loc.line).ok()?.checked_sub(1)?;
        let column = usize::try_from(loc.column).ok()?.checked_sub(1)?;
        let start = *self.line_starts.get(line)?;
        if column == 0 {
            return Some(start);
        }
        // The column counts characters from the line's start (and may run past its end).
        if self.char_marks.is_empty() {
            let offset = start.checked_add(column)?;
            return (offset <= self.sql.len()).then_some(offset);
        }
        let index = self.line_chars.get(line)?.checked_add(column)?;
        if index >= self.char_count {
            return (index == self.char_count).then_some(self.sql.len());
        }
        let mark = *self.char_marks.get(index / CHAR_MARK)?;
        let skip = index % CHAR_MARK;
        #[cfg(test)]
        self.steps.set(self.steps.get() + skip);
        self.sql
            .get(mark..)?
            .char_indices()
            .nth(skip)
            .map(|(i, _)| mark + i)
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
                    .binary_search(&tok.start)
                    .ok()
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

#[cfg(test)]
mod linear_tests {
    use super::*;

    /// The character-stepping offset the planner used before (one step per character before
    /// the column): the reference the marked lookup must agree with.
    fn naive_offset(sql: &str, loc: Location) -> Option<usize> {
        let line = usize::try_from(loc.line).ok()?.checked_sub(1)?;
        let column = usize::try_from(loc.column).ok()?.checked_sub(1)?;
        let mut starts = vec![0];
        starts.extend(sql.match_indices('\n').map(|(i, _)| i + 1));
        let start = *starts.get(line)?;
        let rest = sql.get(start..)?;
        match rest.char_indices().nth(column) {
            Some((i, _)) => Some(start + i),
            None if rest.chars().count() == column => Some(sql.len()),
            None => None,
        }
    }

    #[test]
    fn marked_offsets_match_character_stepping() {
        let long: String = "é1, ".repeat(100);
        for sql in [
            "select 1\nfrom t\n",
            "select 'é'\n  , x",
            "a\n\nb",
            long.as_str(),
            "日本\n語 é\nxyz",
        ] {
            let text = Text::new(sql);
            for line in 0..6u64 {
                for column in 0..(sql.chars().count() as u64 + 3) {
                    let loc = Location::new(line, column);
                    assert_eq!(text.offset(loc), naive_offset(sql, loc), "{sql:?} {loc:?}");
                }
            }
        }
    }

    /// A 100k-value IN list on one line: turning every literal's span into a byte offset
    /// used to step over every character before it (quadratic: ~5·10^10 steps here); now
    /// each lookup steps at most `CHAR_MARK` characters.
    #[test]
    fn offsets_of_a_long_line_are_constant_work() {
        let values: Vec<String> = (0..100_000).map(|i| format!("'é{i}'")).collect();
        let sql = format!("select * from t where id in ({})", values.join(","));
        let text = Text::new(&sql);
        let mut column = 31;
        for v in &values {
            let loc = Location::new(1, column);
            assert!(text.offset(loc).is_some());
            column += v.chars().count() as u64 + 1;
        }
        assert!(
            text.steps.get() <= values.len() * CHAR_MARK,
            "{} characters stepped for {} lookups",
            text.steps.get(),
            values.len()
        );
    }
}

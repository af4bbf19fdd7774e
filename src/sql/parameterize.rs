//! Literal-free plan templates for text statements: which literals may become `?`.
//!
//! A text SELECT/INSERT/REPLACE/UPDATE/DELETE is planned once per *shape*: [`parameterize`]
//! replaces the literals that are safe to turn into parameters with `?` (everything else of
//! the text stays byte for byte, comments and whitespace included) and returns their spans, so
//! the planner can plan the template like a prepared statement and the executor can splice each
//! statement's own literal text back in. Two statements that differ only in those literals get
//! the same template (and so the same cached plan).
//!
//! **The rule.** Only literals in positions where the planner treats a `?` exactly like the
//! literal it replaces (a value atom whose type alone, never its text, shapes the plan) are
//! replaced:
//!
//! | clause (top level of the statement) | parameterized |
//! |---|---|
//! | `WHERE` (and plain parenthesized groups in it) | `col OP lit` with OP one of `= <> != < <= > >= <=>`, `col [NOT] BETWEEN lit AND lit`, the items of `col [NOT] IN (lit, ...)`; the column starts a conjunct (after `WHERE`, `AND`, `OR` or `(`) and the literal ends one (before `AND`, `OR`, `)`, the end, or the next clause) |
//! | `UPDATE ... SET` | `col = lit` between `SET`/`,` and `,`/`WHERE`/`ORDER`/`LIMIT`/the end |
//! | `INSERT`/`REPLACE ... VALUES` | the items of the row tuples: `(lit, ..., lit)` |
//!
//! A literal is a terminated single-quoted string, or an integer or decimal number (`5`,
//! `1.50`, `.5`) with an optional unary sign (`-5` is one literal). Kept as written (so they
//! stay part of the cache key): numbers whose digits are all `0` (INSERT reads `0` as "generate
//! an id"), exponent numbers, hex/bit literals, double-quoted strings, `NULL`/`TRUE`/`FALSE`,
//! and anything in another position: select lists, `ORDER BY 1` / `GROUP BY`, `LIMIT`/`OFFSET`,
//! `HAVING`, `ON`, `ON DUPLICATE KEY UPDATE`, function or type arguments (`CHAR(10)`),
//! subqueries, literals after a charset introducer (`_utf8mb4'x'`, `N'x'`) or a type keyword
//! (`DATE '2020-01-01'`, `INTERVAL 1 DAY`), literals followed by `COLLATE`, a string next to a
//! string (`'a' 'b'`), arithmetic (`id = 5 + 1`).
//!
//! Statements with `/*! ... */` comments (MySQL runs their content) or `?` tokens are not
//! parameterized at all.

use super::classify::StatementKind;
use super::tokenizer::{Token, TokenKind, Tokenizer};

/// One literal that [`parameterize`] replaced with `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Literal {
    /// Byte range in the original statement, a unary sign included (`-5`, `- 5`).
    pub span: (usize, usize),
    /// The literal token itself (the number or the quoted string, without the sign).
    pub token: Token,
    /// The literal has a leading `-`.
    pub negative: bool,
}

/// A statement with its parameterizable literals replaced by `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameterized {
    /// The statement text with each literal of [`Parameterized::literals`] replaced by `?`.
    pub template: String,
    /// The replaced literals, in text order (the n-th `?` of the template is the n-th literal).
    pub literals: Vec<Literal>,
}

impl Literal {
    /// The literal as the client wrote it, sign included.
    pub fn raw<'a>(&self, sql: &'a str) -> &'a str {
        sql.get(self.span.0..self.span.1).unwrap_or("")
    }
}

/// Where a token sits: the clause of the statement, or a parenthesized part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// Top level, no parameterizing clause (yet): select list, FROM, ORDER BY, LIMIT, ...
    Other,
    /// Top-level WHERE.
    Where,
    /// A plain `( ... )` group inside WHERE.
    Group,
    /// The list of `col IN ( ... )` inside WHERE.
    InList,
    /// Top-level SET of an UPDATE.
    Set,
    /// Top-level VALUES of an INSERT/REPLACE (between the row tuples).
    Values,
    /// One row tuple of VALUES.
    Tuple,
    /// Anything else in parentheses: function and type arguments, subqueries, column lists.
    Opaque,
}

/// Top-level words that end a WHERE / SET / VALUES clause.
const CLAUSE_WORDS: &[&str] = &[
    "select",
    "from",
    "group",
    "order",
    "having",
    "limit",
    "union",
    "except",
    "intersect",
    "for",
    "lock",
    "into",
    "window",
    "on",
    "as",
    "returning",
    "join",
    "straight_join",
    "partition",
    "procedure",
];

/// Words that are values, not columns, in front of a comparison.
const NOT_COLUMNS: &[&str] = &["null", "true", "false", "unknown", "default", "not"];

const COMPARISONS: &[&str] = &["=", "<>", "!=", "<", "<=", ">", ">=", "<=>"];

/// The template of `stmt` (a statement of `kind`) and its literals; None when the statement
/// has no parameterizable literal or must not be parameterized (see the module docs).
pub fn parameterize(stmt: &str, kind: StatementKind) -> Option<Parameterized> {
    if !matches!(
        kind,
        StatementKind::Select
            | StatementKind::Insert
            | StatementKind::Replace
            | StatementKind::Update
            | StatementKind::Delete
    ) {
        return None;
    }
    let mut sig: Vec<Token> =
        Vec::with_capacity((stmt.len() / 4 + 1).min(super::tokenizer::RESERVED_TOKENS));
    for t in Tokenizer::new(stmt) {
        match t.kind {
            TokenKind::Comment | TokenKind::Directive => {}
            TokenKind::ExecComment | TokenKind::Param => return None,
            _ => sig.push(t),
        }
    }
    let mut scan = Scan {
        sql: stmt,
        sig: &sig,
        kind,
        stack: vec![Frame::Other],
        seen_values: false,
    };
    let mut literals = Vec::new();
    for i in 0..sig.len() {
        scan.step(i, &mut literals);
    }
    if literals.is_empty() {
        return None;
    }
    let replaced: usize = literals
        .iter()
        .map(|l| l.span.1.saturating_sub(l.span.0).saturating_sub(1))
        .sum();
    let mut template = String::with_capacity(stmt.len().saturating_sub(replaced));
    let mut at = 0;
    for l in &literals {
        template.push_str(stmt.get(at..l.span.0)?);
        template.push('?');
        at = l.span.1;
    }
    template.push_str(stmt.get(at..)?);
    Some(Parameterized { template, literals })
}

struct Scan<'a> {
    sql: &'a str,
    sig: &'a [Token],
    kind: StatementKind,
    stack: Vec<Frame>,
    /// VALUES was seen: a later `VALUES(col)` (in ON DUPLICATE KEY UPDATE) is no row list.
    seen_values: bool,
}

impl Scan<'_> {
    fn frame(&self) -> Frame {
        self.stack.last().copied().unwrap_or(Frame::Opaque)
    }

    fn tok(&self, i: Option<usize>) -> Option<&Token> {
        i.and_then(|i| self.sig.get(i))
    }

    fn word(&self, i: Option<usize>, w: &str) -> bool {
        self.tok(i).is_some_and(|t| t.is_word(self.sql, w))
    }

    fn punct(&self, i: Option<usize>, p: &str) -> bool {
        self.tok(i).is_some_and(|t| t.is_punct(self.sql, p))
    }

    fn any_word(&self, i: Option<usize>, words: &[&str]) -> bool {
        words.iter().any(|w| self.word(i, w))
    }

    /// Processes token `i`: frame changes, and a literal ending here is collected.
    fn step(&mut self, i: usize, out: &mut Vec<Literal>) {
        let Some(t) = self.sig.get(i).copied() else {
            return;
        };
        let prev = i.checked_sub(1);
        if t.is_punct(self.sql, "(") {
            let subquery = self.any_word(Some(i + 1), &["select", "with", "values", "table"]);
            let next = match self.frame() {
                Frame::Where | Frame::Group if !subquery => {
                    if self.word(prev, "in") {
                        Frame::InList
                    } else if self.any_word(prev, &["where", "and", "or", "not"])
                        || self.punct(prev, "(")
                    {
                        Frame::Group
                    } else {
                        Frame::Opaque
                    }
                }
                Frame::Values
                    if !subquery
                        && (self.any_word(prev, &["values", "value"]) || self.punct(prev, ",")) =>
                {
                    Frame::Tuple
                }
                _ => Frame::Opaque,
            };
            self.stack.push(next);
            return;
        }
        if t.is_punct(self.sql, ")") {
            if self.stack.len() > 1 {
                self.stack.pop();
            }
            return;
        }
        if self.stack.len() == 1 && t.kind == TokenKind::Ident {
            let text = t.text(self.sql);
            let clause = if text.eq_ignore_ascii_case("where") {
                matches!(
                    self.kind,
                    StatementKind::Select | StatementKind::Update | StatementKind::Delete
                )
                .then_some(Frame::Where)
            } else if text.eq_ignore_ascii_case("set") {
                (self.kind == StatementKind::Update).then_some(Frame::Set)
            } else if text.eq_ignore_ascii_case("values") || text.eq_ignore_ascii_case("value") {
                let rows = matches!(self.kind, StatementKind::Insert | StatementKind::Replace)
                    && !self.seen_values;
                self.seen_values = true;
                Some(if rows { Frame::Values } else { Frame::Other })
            } else {
                None
            };
            if let Some(c) = clause {
                self.stack[0] = c;
                return;
            }
            if CLAUSE_WORDS.iter().any(|w| text.eq_ignore_ascii_case(w)) {
                self.stack[0] = Frame::Other;
                return;
            }
        }
        if let Some(lit) = self.literal_at(i) {
            if self.accepted(&lit, i) {
                out.push(lit);
            }
        }
    }

    /// Token `i` as a literal candidate (with its unary sign), before any position check.
    fn literal_at(&self, i: usize) -> Option<Literal> {
        let t = *self.sig.get(i)?;
        let text = t.text(self.sql);
        match t.kind {
            TokenKind::String => {
                if !text.starts_with('\'') || !t.is_terminated(self.sql) {
                    return None;
                }
                Some(Literal {
                    span: (t.start, t.end),
                    token: t,
                    negative: false,
                })
            }
            TokenKind::Number => {
                if !plain_number(text) || zero(text) {
                    return None;
                }
                let prev = i.checked_sub(1);
                let sign = self
                    .tok(prev)
                    .filter(|s| s.is_punct(self.sql, "-") || s.is_punct(self.sql, "+"))
                    .filter(|_| self.value_start(prev.and_then(|p| p.checked_sub(1))));
                Some(match sign {
                    Some(s) => Literal {
                        span: (s.start, t.end),
                        token: t,
                        negative: s.is_punct(self.sql, "-"),
                    },
                    None => Literal {
                        span: (t.start, t.end),
                        token: t,
                        negative: false,
                    },
                })
            }
            _ => None,
        }
    }

    /// Whether token `i` is one after which a value may start in an accepted position (so a
    /// `-`/`+` following it is a unary sign).
    fn value_start(&self, i: Option<usize>) -> bool {
        let Some(t) = self.tok(i) else { return false };
        let text = t.text(self.sql);
        (t.kind == TokenKind::Punct && (COMPARISONS.contains(&text) || text == "(" || text == ","))
            || t.is_word(self.sql, "between")
            || t.is_word(self.sql, "and")
    }

    /// Index of the first token of a literal (its sign, if any) that ends at token `i`.
    fn first_index(lit: &Literal, i: usize) -> usize {
        if lit.span.0 == lit.token.start {
            i
        } else {
            i.saturating_sub(1)
        }
    }

    /// Index of the last token of the literal starting at token `j` (sign included).
    fn literal_from(&self, j: usize) -> Option<(Literal, usize)> {
        [j, j + 1].into_iter().find_map(|end| {
            let lit = self.literal_at(end)?;
            (Self::first_index(&lit, end) == j).then_some((lit, end))
        })
    }

    /// Whether `col [NOT] BETWEEN lit AND lit` with BETWEEN at token `between` is a whole
    /// conjunct of literal bounds.
    fn between_ok(&self, between: usize) -> bool {
        let Some((_, low_end)) = self.literal_from(between + 1) else {
            return false;
        };
        if !self.word(Some(low_end + 1), "and") {
            return false;
        }
        let Some((_, high_end)) = self.literal_from(low_end + 2) else {
            return false;
        };
        if !self.ends_conjunct(Some(high_end + 1)) {
            return false;
        }
        let col_end = match between.checked_sub(1) {
            Some(n) if self.word(Some(n), "not") => n.checked_sub(1),
            other => other,
        };
        self.column_starting_conjunct(col_end)
    }

    /// Whether the literal ending at token `i` sits in a parameterizable position.
    fn accepted(&self, lit: &Literal, i: usize) -> bool {
        let before = Self::first_index(lit, i).checked_sub(1);
        let after = Some(i + 1);
        match self.frame() {
            Frame::Where | Frame::Group => {
                let Some(b) = before else { return false };
                let comparison = self.tok(before).is_some_and(|t| {
                    t.kind == TokenKind::Punct && COMPARISONS.contains(&t.text(self.sql))
                });
                if comparison {
                    return self.ends_conjunct(after)
                        && self.column_starting_conjunct(b.checked_sub(1));
                }
                if self.word(before, "between") {
                    return self.between_ok(b);
                }
                if self.word(before, "and") {
                    // The upper bound: find the lower one and its BETWEEN.
                    let Some(low_end) = b.checked_sub(1) else {
                        return false;
                    };
                    let Some(low) = self.literal_at(low_end) else {
                        return false;
                    };
                    return Self::first_index(&low, low_end).checked_sub(1).is_some_and(
                        |between| self.word(Some(between), "between") && self.between_ok(between),
                    );
                }
                false
            }
            Frame::InList | Frame::Tuple => {
                (self.punct(before, "(") || self.punct(before, ","))
                    && (self.punct(after, ",") || self.punct(after, ")"))
            }
            Frame::Set => {
                let ends = self.punct(after, ",")
                    || self
                        .tok(after)
                        .is_none_or(|t| t.kind == TokenKind::Semicolon)
                    || self.any_word(after, &["where", "order", "limit"]);
                ends && self.punct(before, "=")
                    && before
                        .and_then(|b| b.checked_sub(1))
                        .and_then(|c| self.column_start(c))
                        .is_some_and(|s| {
                            let p = s.checked_sub(1);
                            self.word(p, "set") || self.punct(p, ",")
                        })
            }
            _ => false,
        }
    }

    /// Whether the token at `i` ends a WHERE conjunct: `AND`, `OR`, `)` of a group, the end,
    /// or a new top-level clause.
    fn ends_conjunct(&self, i: Option<usize>) -> bool {
        match self.tok(i) {
            None => true,
            Some(t) if t.kind == TokenKind::Semicolon => true,
            Some(t) if t.is_punct(self.sql, ")") => self.frame() == Frame::Group,
            Some(_) => {
                self.any_word(i, &["and", "or"])
                    || (self.stack.len() == 1 && self.any_word(i, CLAUSE_WORDS))
            }
        }
    }

    /// Whether tokens ending at `end` are a column reference (`c`, `t.c`, `` `k`.`t`.`c` ``)
    /// that starts a WHERE conjunct.
    fn column_starting_conjunct(&self, end: Option<usize>) -> bool {
        let Some(start) = end.and_then(|e| self.column_start(e)) else {
            return false;
        };
        let p = start.checked_sub(1);
        self.any_word(p, &["where", "and", "or"])
            || (self.punct(p, "(") && self.frame() == Frame::Group)
    }

    /// The first token of a column reference ending at token `end`.
    fn column_start(&self, end: usize) -> Option<usize> {
        let mut i = end;
        let mut parts = 0;
        loop {
            let t = self.sig.get(i)?;
            let name = match t.kind {
                TokenKind::QuotedIdent => true,
                TokenKind::Ident => {
                    parts > 0 || !NOT_COLUMNS.iter().any(|w| t.is_word(self.sql, w))
                }
                _ => false,
            };
            if !name {
                return None;
            }
            parts += 1;
            if parts < 3 && i >= 2 && self.punct(Some(i - 1), ".") {
                i -= 2;
            } else {
                return Some(i);
            }
        }
    }
}

/// `123`, `1.50`, `.5`, `5.`: digits with at most one `.`, no exponent.
fn plain_number(text: &str) -> bool {
    let mut dots = 0;
    let mut digits = 0;
    for b in text.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => dots += 1,
            _ => return false,
        }
    }
    digits > 0 && dots <= 1
}

/// A number whose digits are all `0` (`0`, `00`, `0.0`).
fn zero(text: &str) -> bool {
    text.bytes().all(|b| b == b'0' || b == b'.') && text.bytes().any(|b| b == b'0')
}

#[cfg(test)]
#[path = "parameterize_tests.rs"]
mod tests;

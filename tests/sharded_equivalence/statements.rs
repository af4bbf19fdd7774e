//! The statements file (`tests/data/sharded_equivalence.sql`): one statement a line, after a
//! tag saying what is expected of the proxy (`ok`, `ci`, `refuse`, `gap*`, `prep` with its
//! parameters after ` :: `), with `{user.COL:ID}` placeholders filled in from the data set;
//! and the two facts about a statement's text the comparison needs (is its result ordered,
//! how the reference database spells its qualifiers).

use crate::data::{user_literal, User};
use mysql_async::Value;

/// What a statement's tag asks of the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// Must give the reference database's outcome.
    Match,
    /// May be refused with 1235; otherwise must match.
    MayRefuse,
}

/// One statement of the file, ready to run.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    /// Line in the statements file.
    pub(crate) line: usize,
    /// Its tag, as written.
    pub(crate) tag: &'static str,
    /// What the tag asks of the proxy.
    pub(crate) expect: Expect,
    /// Lowercase every value before comparing.
    pub(crate) fold_case: bool,
    /// The SQL, placeholders filled in.
    pub(crate) sql: String,
    /// Prepared-statement parameters (`None`: text protocol).
    pub(crate) params: Option<Vec<Value>>,
}

/// Replaces `{user.COL:ID}` placeholders.
fn expand_placeholders(sql: &str, users: &[User]) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(start) = rest.find("{user.") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .unwrap_or_else(|| panic!("unterminated placeholder in {sql}"));
        let inner = &rest[start + "{user.".len()..end];
        let (col, id) = inner
            .split_once(':')
            .unwrap_or_else(|| panic!("bad placeholder {{user.{inner}}}"));
        let id: i64 = id.parse().expect("placeholder id");
        out.push_str(&user_literal(users, col, id));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// `5, 'x', -1` → values (integers or single-quoted strings without commas).
fn parse_params(text: &str) -> Vec<Value> {
    text.split(',')
        .map(str::trim)
        .map(
            |p| match p.strip_prefix('\'').and_then(|p| p.strip_suffix('\'')) {
                Some(s) => Value::Bytes(s.as_bytes().to_vec()),
                None => Value::Int(p.parse().unwrap_or_else(|_| panic!("bad parameter {p}"))),
            },
        )
        .collect()
}

/// The statements of `text` (the file), in file order.
pub(crate) fn parse_statements(text: &'static str, users: &[User]) -> Vec<Statement> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (tag, rest) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("line {line_no}: no statement after the tag"));
        let (expect, fold_case, prepared) = match tag {
            "ok" => (Expect::Match, false, false),
            "ci" => (Expect::Match, true, false),
            "refuse" => (Expect::MayRefuse, false, false),
            // Known gaps of the planner: must become `ok`; until then refused with 1235.
            "gap" => (Expect::MayRefuse, false, false),
            "gap-ci" => (Expect::MayRefuse, true, false),
            "gap-prep" => (Expect::MayRefuse, false, true),
            "prep" => (Expect::Match, false, true),
            other => panic!("line {line_no}: unknown tag {other:?}"),
        };
        let (sql, params) = if prepared {
            let (sql, params) = rest
                .rsplit_once(" :: ")
                .unwrap_or_else(|| panic!("line {line_no}: prep needs ` :: <params>`"));
            (sql, Some(parse_params(params)))
        } else {
            (rest, None)
        };
        out.push(Statement {
            line: line_no,
            tag,
            expect,
            fold_case,
            sql: expand_placeholders(sql.trim(), users),
            params,
        });
    }
    out
}

/// Whether `sql` has an ORDER BY outside parentheses and string literals.
pub(crate) fn has_top_level_order_by(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ if depth == 0 && upper[i..].starts_with("ORDER BY") => return true,
                _ => {}
            },
        }
        i += 1;
    }
    false
}

/// The statement as the reference database runs it: keyspace qualifiers become its name.
pub(crate) fn reference_sql(sql: &str, refdb: &str) -> String {
    sql.replace("customer.", &format!("`{refdb}`."))
        .replace("commerce.", &format!("`{refdb}`."))
}

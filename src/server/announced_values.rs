//! Session values the proxy announces itself, substituted into the SELECTs relayed to a shard
//! (where the shard would answer with its own): `VERSION()` / `@@version` (the announced
//! version, not the shard's `10.11.19-MariaDB-0+deb12u1-log`), `@@version_comment`, and
//! `@@autocommit` (the proxy runs a session's transactions itself, so a backend connection's
//! `autocommit` is not the client's).
//!
//! Drivers probe these inside larger selects (Django: `SELECT VERSION(), @@sql_mode, ...`;
//! Connector/J and mysql-connector: `SELECT @@session.autocommit`), so the exact one-item forms
//! answered in `local_answers` are not enough. A whole select item without an alias keeps its
//! name as MariaDB gives it (`'...' AS `@@version``); inside an expression the value replaces
//! the item alone.

use super::routing::analysis_text;
use crate::sql::{self, Needles, Token, TokenKind};
use std::borrow::Cow;
use std::sync::LazyLock;

/// What the substitutions answer for one session.
#[derive(Debug, Clone, Copy)]
pub(super) struct Announced<'a> {
    /// The session's autocommit (the client's `SET autocommit`).
    pub autocommit: bool,
    /// `VERSION()` / `@@version`.
    pub version: &'a str,
    /// `@@version_comment`.
    pub comment: &'a str,
}

/// The version comment the proxy announces (`@@version_comment`, shown in the mariadb
/// client's banner).
pub(super) const VERSION_COMMENT: &str = "shardgate: MySQL-protocol sharding proxy";

/// Whether `text` may name one of the values (one case-insensitive scan).
pub(super) fn may_name(text: &[u8]) -> bool {
    static WORDS: LazyLock<Needles> = LazyLock::new(|| Needles::new(&["version", "autocommit"]));
    WORDS.found_in(text) != 0
}

/// What a token range names, if it is one of the announced values.
enum Item {
    Autocommit,
    Version,
    Comment,
}

fn variable(word: &str) -> Option<Item> {
    let lower = word.to_ascii_lowercase();
    let name = lower
        .strip_prefix("@@session.")
        .or_else(|| lower.strip_prefix("@@local."))
        .map(|n| (n, false))
        .or_else(|| lower.strip_prefix("@@global.").map(|n| (n, true)))
        .or_else(|| lower.strip_prefix("@@").map(|n| (n, false)));
    match name {
        Some(("autocommit", false)) => Some(Item::Autocommit),
        Some(("version", _)) => Some(Item::Version),
        Some(("version_comment", _)) => Some(Item::Comment),
        _ => None,
    }
}

/// A SQL string literal for `value`, safe under every `sql_mode`: quoted when it holds only
/// plain characters, else a hex literal with a utf8mb4 introducer.
fn literal(value: &str) -> String {
    let plain = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " .-+_:~()/".contains(c));
    if plain {
        format!("'{value}'")
    } else {
        let hex: String = value.bytes().map(|b| format!("{b:02X}")).collect();
        format!("_utf8mb4 X'{hex}'")
    }
}

/// Keywords that end a select list's item.
fn ends_item(word: &str) -> bool {
    matches!(
        word.to_ascii_lowercase().as_str(),
        "from" | "limit" | "into" | "union" | "except" | "intersect" | "where" | "for" | "lock"
    )
}

/// Replaces the announced values in a SELECT's text; borrowed back when there is none.
pub(super) fn substitute<'s>(sql: Cow<'s, [u8]>, values: &Announced<'_>) -> Cow<'s, [u8]> {
    let text = analysis_text(&sql).into_owned();
    let tokens: Vec<Token> = sql::tokenize(&text)
        .into_iter()
        .filter(|t| t.kind != TokenKind::Comment)
        .collect();
    let word = |i: usize| tokens.get(i).map(|t| t.text(&text));
    // Per parenthesis depth: whether the tokens are a select list.
    let mut in_select: Vec<bool> = vec![false];
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        let w = t.text(&text);
        let (item, last) = match t.kind {
            TokenKind::Punct if w == "(" => {
                in_select.push(false);
                i += 1;
                continue;
            }
            TokenKind::Punct if w == ")" => {
                if in_select.len() > 1 {
                    in_select.pop();
                }
                i += 1;
                continue;
            }
            TokenKind::Ident if w.eq_ignore_ascii_case("select") => {
                if let Some(top) = in_select.last_mut() {
                    *top = true;
                }
                i += 1;
                continue;
            }
            TokenKind::Ident if ends_item(w) => {
                if let Some(top) = in_select.last_mut() {
                    *top = false;
                }
                i += 1;
                continue;
            }
            TokenKind::Variable => match variable(w) {
                Some(item) => (item, i),
                None => {
                    i += 1;
                    continue;
                }
            },
            TokenKind::Ident
                if w.eq_ignore_ascii_case("version")
                    && word(i + 1) == Some("(")
                    && word(i + 2) == Some(")")
                    && !(i > 0 && word(i - 1) == Some(".")) =>
            {
                (Item::Version, i + 2)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let value = match item {
            Item::Autocommit => u8::from(values.autocommit).to_string(),
            Item::Version => literal(values.version),
            Item::Comment => literal(values.comment),
        };
        let start = t.start;
        let end = tokens[last].end;
        let prev = i.checked_sub(1).and_then(word).unwrap_or("");
        let next = word(last + 1);
        let whole_item = in_select.last().copied().unwrap_or(false)
            && (prev == ","
                || prev.eq_ignore_ascii_case("select")
                || prev.eq_ignore_ascii_case("distinct"))
            && next.is_none_or(|n| n == "," || n == ";" || n == ")" || ends_item(n));
        let replacement = if whole_item {
            let name = text.get(start..end).unwrap_or("").replace('`', "``");
            format!("{value} AS `{name}`")
        } else {
            value
        };
        edits.push((start, end, replacement));
        i = last + 1;
    }
    if edits.is_empty() {
        return sql;
    }
    let mut out = Vec::with_capacity(sql.len() + 32);
    let mut at = 0;
    for (s, e, replacement) in edits {
        out.extend_from_slice(&sql[at..s]);
        out.extend_from_slice(replacement.as_bytes());
        at = e;
    }
    out.extend_from_slice(&sql[at..]);
    Cow::Owned(out)
}

impl super::connection::ClientConn {
    /// [`substitute`] for this session, on SELECTs whose `text` may name an announced value.
    pub(super) fn substitute_announced<'s>(
        &self,
        sql: Cow<'s, [u8]>,
        kind: sql::StatementKind,
        text: &str,
    ) -> Cow<'s, [u8]> {
        if kind != sql::StatementKind::Select || !may_name(text.as_bytes()) {
            return sql;
        }
        let version = self.state.identity.current().version;
        substitute(
            sql,
            &Announced {
                autocommit: self.session.autocommit,
                version: &version,
                comment: VERSION_COMMENT,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(sql: &str, autocommit: bool) -> String {
        let values = Announced {
            autocommit,
            version: "10.11.19-MariaDB-shardgate",
            comment: VERSION_COMMENT,
        };
        String::from_utf8(substitute(Cow::Borrowed(sql.as_bytes()), &values).into_owned())
            .expect("utf8")
    }

    #[test]
    fn whole_items_keep_their_names() {
        assert_eq!(
            run("SELECT VERSION(), @@sql_mode, @@session.autocommit", false),
            "SELECT '10.11.19-MariaDB-shardgate' AS `VERSION()`, @@sql_mode, 0 AS `@@session.autocommit`"
        );
        assert_eq!(
            run("select @@version_comment limit 1", true),
            "select 'shardgate: MySQL-protocol sharding proxy' AS `@@version_comment` limit 1"
        );
        assert_eq!(
            run("SELECT (SELECT @@autocommit) FROM t", true),
            "SELECT (SELECT 1 AS `@@autocommit`) FROM t"
        );
    }

    #[test]
    fn aliases_and_expressions_get_the_value_alone() {
        assert_eq!(
            run("SELECT @@autocommit AS ac, CONCAT(@@version, 'x') v", true),
            "SELECT 1 AS ac, CONCAT('10.11.19-MariaDB-shardgate', 'x') v"
        );
        assert_eq!(
            run(
                "SELECT 1 FROM t WHERE @@autocommit = 0 AND version() LIKE '10%'",
                false
            ),
            "SELECT 1 FROM t WHERE 0 = 0 AND '10.11.19-MariaDB-shardgate' LIKE '10%'"
        );
    }

    #[test]
    fn leaves_everything_else() {
        for sql in [
            "SELECT @@global.autocommit, @@version_compile_os, t.version() FROM t",
            "SELECT 'VERSION()', `version`, @@autocommit_x FROM t",
            "SELECT version FROM t",
        ] {
            assert_eq!(run(sql, true), sql);
        }
    }

    #[test]
    fn odd_versions_are_hex_literals() {
        assert_eq!(literal("1.2'3"), "_utf8mb4 X'312E322733'");
        assert_eq!(literal("10.6.1-MariaDB"), "'10.6.1-MariaDB'");
    }
}

//! `information_schema.PROCESSLIST` in a simple query: the proxy's sessions (the same rows as
//! `SHOW FULL PROCESSLIST`, see [`super::sessions`]), never a shard's threads.
//!
//! `SELECT <anything> FROM information_schema.PROCESSLIST [[AS] alias] [WHERE ...] [GROUP BY
//! ...] [HAVING ...] [ORDER BY ...] [LIMIT ...]` (one SELECT, no join, union or subquery) has
//! the table reference replaced by a derived table of literal rows, one per session the user
//! may see, with MariaDB's 18 column names; the statement then runs on a shard of the
//! session's keyspace, so its expressions, filters and order are MariaDB's own:
//!
//! ```text
//! information_schema.PROCESSLIST  →  (SELECT 7 AS `ID`, _utf8mb4 X'617070' AS `USER`, ...
//!                                     UNION ALL SELECT 9, ...) AS `PROCESSLIST`
//! ```
//!
//! Values are written as hex literals with a character-set introducer (safe under every
//! `sql_mode` and connection character set). Column types are those of the literals (close
//! to, not exactly, MariaDB's). Other shapes are refused with 1235.

use super::connection::{ClientConn, CommandError};
use super::sessions::ProcessRow;
use super::statement::Exec;
use crate::error::ProxyError;
use crate::sql::literal::{self, Charset};
use crate::sql::{self, Needles, StatementKind, Token, TokenKind};
use std::borrow::Cow;
use std::sync::LazyLock;

/// Where a statement names `information_schema.PROCESSLIST`, and whether the proxy can answer
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Byte span of `information_schema . PROCESSLIST`.
    start: usize,
    end: usize,
    /// The alias to add when the client gave none (the table as written).
    alias: Option<String>,
    /// Whether the statement has the simple shape (see the module docs).
    simple: bool,
}

/// Words after the table reference that start a clause (so are not an alias).
const CLAUSES: &[&str] = &["where", "group", "having", "order", "limit"];

/// Words that make a statement more than one simple SELECT over the table.
const NOT_SIMPLE: &[&str] = &[
    "join",
    "straight_join",
    "natural",
    "union",
    "intersect",
    "except",
    "window",
];

/// Finds `information_schema.PROCESSLIST` in a SELECT (None when it is not named).
pub fn find(kind: StatementKind, text: &str) -> Option<Reference> {
    static WORDS: LazyLock<Needles> = LazyLock::new(|| Needles::new(&["processlist"]));
    if kind != StatementKind::Select || WORDS.found_in(text.as_bytes()) == 0 {
        return None;
    }
    let all = sql::tokenize(text);
    let toks: Vec<Token> = all
        .iter()
        .copied()
        .filter(|t| !matches!(t.kind, TokenKind::Comment | TokenKind::Directive))
        .collect();
    let named = |t: &Token, name: &str| {
        matches!(t.kind, TokenKind::Ident | TokenKind::QuotedIdent)
            && t.ident_value(text).eq_ignore_ascii_case(name)
    };
    let at = (0..toks.len().saturating_sub(2)).find(|&i| {
        named(&toks[i], "information_schema")
            && toks[i + 1].is_punct(text, ".")
            && named(&toks[i + 2], "processlist")
    })?;
    let word_count = |w: &str| toks.iter().filter(|t| t.is_word(text, w)).count();
    let mut simple = toks.first().is_some_and(|t| t.is_word(text, "select"))
        && word_count("select") == 1
        && word_count("from") == 1
        && at > 0
        && toks[at - 1].is_word(text, "from")
        && toks
            .iter()
            .filter(|t| named(t, "information_schema"))
            .count()
            == 1
        && !all.iter().any(|t| t.kind == TokenKind::ExecComment)
        && !NOT_SIMPLE.iter().any(|w| word_count(w) > 0);
    let mut j = at + 3;
    let mut alias = Some(toks[at + 2].ident_value(text).into_owned());
    if toks.get(j).is_some_and(|t| t.is_word(text, "as")) {
        simple &= toks
            .get(j + 1)
            .is_some_and(|t| matches!(t.kind, TokenKind::Ident | TokenKind::QuotedIdent));
        alias = None;
        j += 2;
    } else if toks.get(j).is_some_and(|t| {
        t.kind == TokenKind::QuotedIdent
            || (t.kind == TokenKind::Ident && !CLAUSES.iter().any(|c| t.is_word(text, c)))
    }) {
        alias = None;
        j += 1;
    }
    simple &= match toks.get(j) {
        None => true,
        Some(t) if t.kind == TokenKind::Semicolon => j + 1 == toks.len(),
        Some(t) => CLAUSES.iter().any(|c| t.is_word(text, c)),
    };
    Some(Reference {
        start: toks[at].start,
        end: toks[at + 2].end,
        alias,
        simple,
    })
}

fn text(s: &str) -> String {
    literal::string(s.as_bytes(), Charset::UTF8MB4)
}

/// The derived table of `rows` (at least one: the asking session is always listed).
fn derived(rows: &[ProcessRow], now_ms: impl Fn(&ProcessRow) -> u64) -> String {
    let mut out = String::from("(");
    for (n, r) in rows.iter().enumerate() {
        let info = r.info.as_deref().map_or("NULL".to_string(), text);
        let info_binary = r.info.as_deref().map_or("NULL".to_string(), |i| {
            format!("CAST({} AS BINARY)", text(i))
        });
        let ms = now_ms(r);
        let cells = [
            ("ID", r.id.to_string()),
            ("USER", text(&r.user)),
            ("HOST", text(&r.host)),
            ("DB", r.db.as_deref().map_or("NULL".to_string(), text)),
            ("COMMAND", text(r.command)),
            ("TIME", r.time.to_string()),
            ("STATE", text(r.state)),
            ("INFO", info),
            (
                "TIME_MS",
                format!("CAST({}.{:03} AS DECIMAL(22,3))", ms / 1000, ms % 1000),
            ),
            ("STAGE", "0".into()),
            ("MAX_STAGE", "0".into()),
            ("PROGRESS", "CAST(0 AS DECIMAL(7,3))".into()),
            ("MEMORY_USED", "0".into()),
            ("MAX_MEMORY_USED", "0".into()),
            ("EXAMINED_ROWS", "0".into()),
            ("QUERY_ID", "0".into()),
            ("INFO_BINARY", info_binary),
            ("TID", "0".into()),
        ];
        if n > 0 {
            out.push_str(" UNION ALL ");
        }
        out.push_str("SELECT ");
        for (i, (name, value)) in cells.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(value);
            if n == 0 {
                out.push_str(" AS `");
                out.push_str(name);
                out.push('`');
            }
        }
    }
    out.push(')');
    out
}

/// `text` with the reference replaced by the derived table of `rows`.
fn rewrite(text: &str, r: &Reference, rows: &[ProcessRow]) -> String {
    let table = derived(rows, |row| row.time.saturating_mul(1000));
    let mut out = String::with_capacity(text.len() + table.len() + 32);
    out.push_str(&text[..r.start]);
    out.push_str(&table);
    if let Some(alias) = &r.alias {
        out.push_str(" AS ");
        out.push_str(&sql::quote_ident(alias));
    }
    out.push_str(&text[r.end..]);
    out
}

impl ClientConn {
    /// Answers a query of `information_schema.PROCESSLIST` (see the module docs).
    pub(super) async fn processlist_table(
        &mut self,
        text: &str,
        reference: Reference,
        exec: &Exec,
        more: bool,
    ) -> Result<(), CommandError> {
        let refuse = |what: &str| -> CommandError {
            ProxyError::NotSupported(format!(
                "information_schema.PROCESSLIST {what} (the proxy answers SELECT ... FROM \
                 information_schema.PROCESSLIST [WHERE/GROUP BY/ORDER BY/LIMIT ...] with one \
                 SELECT, and SHOW [FULL] PROCESSLIST)"
            ))
            .into()
        };
        if !reference.simple {
            return Err(refuse("with joins, unions, subqueries or /*! */ comments"));
        }
        if matches!(exec, Exec::Binary(_)) {
            return Err(refuse("in a prepared statement"));
        }
        let only = (!self.session.is_admin).then_some(self.session.user.as_str());
        let rows = self.state.sessions.rows(only);
        let sql = rewrite(text, &reference, &rows);
        if sql.len() > self.state.config.limits.max_allowed_packet {
            return Err(ProxyError::packet_too_large().into());
        }
        // The client's parts of the statement pass the same checks as any statement's.
        self.authorize_shard(&sql)?;
        let shard = match self.session.target.as_ref() {
            Some(t) => match &t.shard {
                Some(name) => self
                    .state
                    .backends
                    .shard(&t.keyspace, name)
                    .cloned()
                    .ok_or_else(|| ProxyError::UnknownDatabase(format!("{}:{name}", t.keyspace)))?,
                None => self.shard_at(&t.keyspace, 0)?,
            },
            None => {
                let ks = self
                    .state
                    .backends
                    .keyspace_order
                    .iter()
                    .find(|k| self.authorize_keyspace(k).is_ok())
                    .cloned()
                    .ok_or_else(|| refuse("without any granted keyspace"))?;
                self.shard_at(&ks, 0)?
            }
        };
        let bytes = Cow::Owned(sql.clone().into_bytes());
        self.run_on_shard(&shard, bytes, StatementKind::Select, &sql, exec, more)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(text: &str) -> Option<Reference> {
        find(sql::classify(text), text)
    }

    fn row(id: u32) -> ProcessRow {
        ProcessRow {
            id,
            user: "app".into(),
            host: "127.0.0.1".into(),
            db: None,
            command: "Sleep",
            time: 3,
            state: "",
            info: None,
        }
    }

    #[test]
    fn finds_simple_queries() {
        for text in [
            "SELECT * FROM information_schema.PROCESSLIST",
            "select ID, INFO from INFORMATION_SCHEMA.processlist where USER = 'app' order by ID",
            "SELECT p.ID FROM information_schema.PROCESSLIST p WHERE p.COMMAND <> 'Sleep'",
            "SELECT COUNT(*) FROM `information_schema`.`PROCESSLIST` AS pl LIMIT 1;",
            "SELECT USER, COUNT(*) FROM information_schema.PROCESSLIST GROUP BY USER",
        ] {
            assert!(f(text).is_some_and(|r| r.simple), "{text}");
        }
        assert_eq!(f("SELECT * FROM t"), None);
        assert_eq!(f("SHOW PROCESSLIST"), None);
    }

    #[test]
    fn other_shapes_are_not_simple() {
        for text in [
            "SELECT * FROM information_schema.PROCESSLIST p JOIN t ON t.id = p.ID",
            "SELECT * FROM information_schema.PROCESSLIST, t",
            "SELECT * FROM t WHERE id IN (SELECT ID FROM information_schema.PROCESSLIST)",
            "SELECT ID FROM information_schema.PROCESSLIST UNION SELECT 1",
            "SELECT /*!50000 ID */ FROM information_schema.PROCESSLIST",
            "SELECT * FROM information_schema.PROCESSLIST p, information_schema.TABLES t",
        ] {
            assert!(f(text).is_some_and(|r| !r.simple), "{text}");
        }
    }

    #[test]
    fn rewrites_to_literal_rows() {
        let text = "SELECT ID FROM information_schema.PROCESSLIST WHERE ID > 1";
        let r = f(text).unwrap();
        let out = rewrite(text, &r, &[row(1), row(2)]);
        assert!(out.starts_with("SELECT ID FROM (SELECT 1 AS `ID`, _utf8mb4 X'617070' AS `USER`"));
        assert!(out.contains(" UNION ALL SELECT 2, _utf8mb4 X'617070', "));
        assert!(out.ends_with(") AS `PROCESSLIST` WHERE ID > 1"), "{out}");
        let aliased = "SELECT p.ID FROM information_schema.processlist AS p";
        let out = rewrite(aliased, &f(aliased).unwrap(), &[row(1)]);
        assert!(out.ends_with(") AS p"), "{out}");
    }
}

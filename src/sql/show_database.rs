//! The database a `SHOW` statement names without a qualifier: `SHOW TABLES FROM db`,
//! `SHOW COLUMNS FROM t IN db`, `SHOW CREATE DATABASE db` ...
//!
//! Such a name is a keyspace to the client and a backend database to the shard, exactly like
//! the `db` of a `db.t` qualifier, so routing, access checks and the rewrite to the backend
//! database treat it as one (see [`super::qualifier::database_names`]).

use super::qualifier::Qualifier;
use super::significant::Significant;
use super::tokenizer::{Token, TokenKind};

fn is_name(t: &Token) -> bool {
    matches!(t.kind, TokenKind::Ident | TokenKind::QuotedIdent)
}

/// The database named by a `SHOW` statement's `FROM`/`IN` clause (the first one for lists of
/// tables, the second for a table's columns or indexes, unless the table is qualified) or by
/// `SHOW CREATE DATABASE|SCHEMA [IF NOT EXISTS]`; None for anything else.
pub fn show_database(stmt: &str) -> Option<Qualifier> {
    let mut toks = Significant::new(stmt).peekable();
    while toks.peek().is_some_and(|t| t.is_punct(stmt, "(")) {
        toks.next();
    }
    let first = toks.next()?;
    if !first.is_word(stmt, "show") {
        return None;
    }
    // Only the words up to a LIKE/WHERE matter; bounded so hostile text costs little.
    let rest: Vec<Token> = toks
        .take_while(|t| !(t.is_word(stmt, "like") || t.is_word(stmt, "where")))
        .take(64)
        .collect();
    let word = |i: usize| rest.get(i).filter(|t| t.kind == TokenKind::Ident);
    let is = |i: usize, w: &str| word(i).is_some_and(|t| t.is_word(stmt, w));
    let name_at = |i: usize| {
        rest.get(i).filter(|t| is_name(t)).map(|t| Qualifier {
            name: t.ident_value(stmt).into_owned(),
            start: t.start,
            end: t.end,
        })
    };
    if is(0, "create") && (is(1, "database") || is(1, "schema")) {
        let mut k = 2;
        while is(k, "if") || is(k, "not") || is(k, "exists") {
            k += 1;
        }
        return name_at(k);
    }
    // Which FROM/IN names the database: the first for lists of tables (or routines, events,
    // triggers), the second after the table of a column or index list.
    let mut position = 1;
    for t in &rest {
        if ["full", "extended", "global", "session"]
            .iter()
            .any(|w| t.is_word(stmt, w))
        {
            continue;
        }
        if ["columns", "fields", "index", "indexes", "keys"]
            .iter()
            .any(|w| t.is_word(stmt, w))
        {
            position = 2;
        }
        break;
    }
    let mut seen = 0;
    for (j, t) in rest.iter().enumerate() {
        if !(t.is_word(stmt, "from") || t.is_word(stmt, "in")) {
            continue;
        }
        seen += 1;
        let qualified = rest.get(j + 2).is_some_and(|n| n.is_punct(stmt, "."));
        if seen == position && !qualified {
            return name_at(j + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db(sql: &str) -> Option<String> {
        show_database(sql).map(|q| {
            assert!(sql[q.start..q.end].contains(q.name.trim_matches('`')));
            q.name
        })
    }

    #[test]
    fn finds_the_database_of_show_statements() {
        assert_eq!(db("SHOW TABLES FROM ks").as_deref(), Some("ks"));
        assert_eq!(
            db("show full tables in `k s` like 'a%'").as_deref(),
            Some("k s")
        );
        assert_eq!(
            db("SHOW TABLE STATUS FROM ks WHERE Name='x'").as_deref(),
            Some("ks")
        );
        assert_eq!(db("SHOW COLUMNS FROM t FROM ks").as_deref(), Some("ks"));
        assert_eq!(db("SHOW FULL FIELDS IN t IN ks").as_deref(), Some("ks"));
        assert_eq!(db("SHOW INDEX FROM t IN ks").as_deref(), Some("ks"));
        assert_eq!(db("SHOW CREATE DATABASE ks").as_deref(), Some("ks"));
        assert_eq!(
            db("SHOW CREATE SCHEMA IF NOT EXISTS `ks`").as_deref(),
            Some("ks")
        );
        assert_eq!(db("SHOW OPEN TABLES FROM ks").as_deref(), Some("ks"));
        assert_eq!(db("SHOW TRIGGERS IN ks").as_deref(), Some("ks"));
    }

    #[test]
    fn other_statements_name_no_database() {
        for sql in [
            "SHOW TABLES",
            "SHOW COLUMNS FROM t",
            "SHOW COLUMNS FROM ks.t",
            "SHOW INDEX FROM ks.t",
            "SHOW TABLES LIKE 'from x'",
            "SHOW TABLES WHERE Tables_in_ks IN ('a')",
            "SELECT * FROM ks",
            "SHOW CREATE TABLE t",
            "",
        ] {
            assert_eq!(db(sql), None, "{sql}");
        }
    }
}

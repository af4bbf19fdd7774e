//! Finding and rewriting qualifiers (`ks.t`, `` `ks`.`t`.col ``, `ks.*`).
//!
//! In passthrough SQL a client names keyspaces, but the shard's MySQL knows the backend database,
//! so the proxy swaps `ks.` for `` `db`. `` in the original text, leaving every other byte alone.
//! Only executed text counts: strings and comments never yield qualifiers, while the content of
//! `/*! ... */` comments does (MySQL runs it). `/*vt+ */` directives are skipped.

use std::borrow::Cow;

use super::quoting::quote_ident;
use super::significant::Significant;
use super::tokenizer::{Token, TokenKind};

/// An identifier used as a qualifier: it is followed by `.` and an identifier or `*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Qualifier {
    /// The identifier, unquoted (doubled backticks collapsed), case as written.
    pub name: String,
    /// Byte offset where the token starts (at the opening backtick when quoted).
    pub start: usize,
    /// Byte offset one past the token (past the closing backtick when quoted).
    pub end: usize,
}

fn is_ident(t: &Token) -> bool {
    matches!(t.kind, TokenKind::Ident | TokenKind::QuotedIdent)
}

/// Every identifier token followed by `.` and then an identifier (bare, quoted) or `*`, and not
/// itself preceded by `.`: in `a.b.c` only `a`; table qualifiers like `t` in `t.col` are returned
/// too (the caller filters by known keyspace names). Whitespace or comments around the `.` are
/// allowed, as in MySQL.
pub fn qualifiers(stmt: &str) -> Vec<Qualifier> {
    let mut out = Vec::new();
    // Every qualifier is followed by a `.` token, so a text without a `.` byte has none: most
    // statements (`SELECT c FROM t WHERE id = 5`) skip the token pass.
    if memchr::memchr(b'.', stmt.as_bytes()).is_none() {
        return out;
    }
    // Sliding window over significant tokens: w[0] before, w[1] candidate, w[2] `.`, w[3] after.
    let mut w: [Option<Token>; 4] = [None; 4];
    for tok in Significant::new(stmt) {
        w = [w[1], w[2], w[3], Some(tok)];
        if let [before, Some(cand), Some(dot), Some(after)] = w {
            let after_ok = is_ident(&after) || after.is_punct(stmt, "*");
            let before_dot = before.is_some_and(|b| b.is_punct(stmt, "."));
            if is_ident(&cand) && dot.is_punct(stmt, ".") && after_ok && !before_dot {
                out.push(Qualifier {
                    name: cand.ident_value(stmt).into_owned(),
                    start: cand.start,
                    end: cand.end,
                });
            }
        }
    }
    out
}

/// Every place the statement names a database: its [`qualifiers`] plus the database of a
/// `SHOW ... FROM db` (see [`super::show_database`]), in text order. Routing, grants and the
/// rewrite to backend databases read this, so `SHOW TABLES FROM ks` is treated like `ks.t`.
pub fn database_names(stmt: &str) -> Vec<Qualifier> {
    let mut out = qualifiers(stmt);
    if let Some(db) = super::show_database::show_database(stmt) {
        let at = out.partition_point(|q| q.start < db.start);
        out.insert(at, db);
    }
    out
}

/// Replaces each qualifier for which `map` returns `Some(db)` with `` `db` `` (backtick-quoted),
/// keeping all other bytes identical. Returns `Cow::Borrowed` when nothing changed.
pub fn rewrite_qualifiers(stmt: &str, map: impl Fn(&str) -> Option<String>) -> Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    for q in database_names(stmt) {
        let Some(db) = map(&q.name) else { continue };
        let quoted = quote_ident(&db);
        if stmt.get(q.start..q.end) == Some(quoted.as_str()) {
            continue;
        }
        if out.is_empty() {
            out.reserve(stmt.len() + 16);
        }
        out.push_str(&stmt[copied..q.start]);
        out.push_str(&quoted);
        copied = q.end;
    }
    if copied == 0 {
        return Cow::Borrowed(stmt);
    }
    out.push_str(&stmt[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sql: &str) -> Vec<String> {
        qualifiers(sql).into_iter().map(|q| q.name).collect()
    }

    fn ks_map(name: &str) -> Option<String> {
        match name {
            "ks" => Some("vt_ks".into()),
            "odd" => Some("we`ird".into()),
            _ => None,
        }
    }

    #[test]
    fn finds_qualifiers() {
        assert_eq!(names("select ks.t.col, t.col from ks.t"), ["ks", "t", "ks"]);
        assert_eq!(names("select a.b.c"), ["a"]);
        assert_eq!(names("select `k s`.`t`, `a``b`.x from x"), ["k s", "a`b"]);
        assert_eq!(names("select ks.* from ks . t"), ["ks", "ks"]);
        assert_eq!(names("select ks./* c */t"), ["ks"]);
        assert_eq!(
            names("select 1.5, x.5, @@session.x, @a.b, t.1col"),
            ["x", "t"]
        );
        assert_eq!(
            names("select 'ks.t', \"ks.t\", `ks.t` -- ks.t\n /* ks.t */ # ks.t"),
            Vec::<String>::new()
        );
        assert_eq!(names("/*!40000 ALTER TABLE ks.t DISABLE KEYS */"), ["ks"]);
        assert_eq!(names("/*vt+ A=ks.t */ select 1"), Vec::<String>::new());
        assert_eq!(names("select ks."), Vec::<String>::new());
        assert_eq!(names("select ks.'x'"), Vec::<String>::new());
        assert_eq!(names("select kś.t"), ["kś"]);
        // Without a `.` byte there is nothing to find (the pass is skipped).
        assert_eq!(names("select c from t where id = 5"), Vec::<String>::new());
        assert_eq!(names("select ks /* no dot */ t"), Vec::<String>::new());
        let q = &qualifiers("select `ks`.t")[0];
        assert_eq!((q.start, q.end), (7, 11));
    }

    #[test]
    fn rewrites_only_mapped_qualifiers() {
        let sql = "select ks.t.c, t.c, 'ks.t' from ks.t join `ks`.u -- ks.t\n where ks . v = 1";
        assert_eq!(
            rewrite_qualifiers(sql, ks_map),
            "select `vt_ks`.t.c, t.c, 'ks.t' from `vt_ks`.t join `vt_ks`.u -- ks.t\n where `vt_ks` . v = 1"
        );
        assert_eq!(
            rewrite_qualifiers("select odd.x", ks_map),
            "select `we``ird`.x"
        );
        assert_eq!(
            rewrite_qualifiers("ks.t;ks.u", ks_map),
            "`vt_ks`.t;`vt_ks`.u"
        );
    }

    #[test]
    fn borrowed_when_unchanged() {
        for sql in [
            "",
            "select 1",
            "select other.t",
            "select 'ks.t'",
            "select `vt_ks`.t",
        ] {
            let out = rewrite_qualifiers(sql, |n| {
                (n == "ks" || n == "vt_ks").then(|| "vt_ks".to_string())
            });
            assert!(matches!(out, Cow::Borrowed(_)), "{sql}");
            assert_eq!(out, sql);
        }
    }
}

//! Session values a backend would answer wrongly for a proxied session, replaced in the
//! statement text before it is relayed: `LAST_INSERT_ID()` (the backend's own value may belong
//! to another session sharing the pooled connection), `ROW_COUNT()` (the previous statement may
//! have run on other connections, or on several) and `@@socket` (drivers would switch to the
//! backend's socket and bypass the proxy).

use super::routing::analysis_text;
use crate::sql::{self, Needles};
use std::borrow::Cow;
use std::sync::LazyLock;

/// `text` with [`substitute_session_values`] applied, or None when it names neither word (one
/// case-insensitive scan). The sharded path uses it before planning, so a statement that runs
/// on several shards reads the session's `LAST_INSERT_ID()`, not each shard connection's.
pub(super) fn substituted_text(text: &str, last_insert_id: u64, row_count: i64) -> Option<String> {
    static WORDS: LazyLock<Needles> =
        LazyLock::new(|| Needles::new(&["last_insert_id", "socket", "row_count"]));
    if WORDS.found_in(text.as_bytes()) == 0 {
        return None;
    }
    match substitute_session_values(Cow::Borrowed(text.as_bytes()), last_insert_id, row_count) {
        Cow::Borrowed(_) => None,
        Cow::Owned(bytes) => String::from_utf8(bytes).ok(),
    }
}

/// Replaces what a backend would answer wrongly for a proxied session:
/// - `LAST_INSERT_ID()` (no argument) becomes the session's value, `(n | 0)`: with pooled backend
///   connections, the backend's own value may belong to another session;
/// - `ROW_COUNT()` becomes the session's value, `CAST(n AS SIGNED)` (BIGINT, as the function):
///   the previous statement may have run on another backend connection, or on several;
/// - `@@socket` becomes NULL: drivers such as mysql_async read it on connect and would switch
///   to the backend's Unix socket, bypassing the proxy.
///
/// Callers skip it when [`RelayMarkers`] found neither word.
pub(super) fn substitute_session_values(
    sql: Cow<'_, [u8]>,
    last_insert_id: u64,
    row_count: i64,
) -> Cow<'_, [u8]> {
    let text = analysis_text(&sql).into_owned();
    let tokens = sql::tokenize(&text);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let word = t.text(&text);
        if t.kind == sql::TokenKind::Ident
            && word.eq_ignore_ascii_case("last_insert_id")
            && tokens.get(i + 1).is_some_and(|n| n.text(&text) == "(")
            && tokens.get(i + 2).is_some_and(|n| n.text(&text) == ")")
            && !(i > 0 && tokens[i - 1].text(&text) == ".")
        {
            // `(n | 0)` is typed as MariaDB types LAST_INSERT_ID() (BIGINT UNSIGNED NOT NULL;
            // a bare `n` or `CAST(n AS UNSIGNED)` is INT for small n), so column definitions
            // and comparisons stay the function's. Only an unaliased column's name differs.
            edits.push((
                t.start,
                tokens[i + 2].end,
                format!("({last_insert_id} | 0)"),
            ));
        } else if t.kind == sql::TokenKind::Ident
            && word.eq_ignore_ascii_case("row_count")
            && tokens.get(i + 1).is_some_and(|n| n.text(&text) == "(")
            && tokens.get(i + 2).is_some_and(|n| n.text(&text) == ")")
            && !(i > 0 && tokens[i - 1].text(&text) == ".")
        {
            edits.push((
                t.start,
                tokens[i + 2].end,
                format!("CAST({row_count} AS SIGNED)"),
            ));
        } else if t.kind == sql::TokenKind::Variable
            && (word.eq_ignore_ascii_case("@@socket")
                || word.eq_ignore_ascii_case("@@global.socket")
                || word.eq_ignore_ascii_case("@@session.socket"))
        {
            edits.push((t.start, t.end, "NULL".into()));
        }
    }
    if edits.is_empty() {
        return sql;
    }
    let mut out = Vec::with_capacity(sql.len());
    let mut at = 0;
    for (s, e, replacement) in edits {
        out.extend_from_slice(&sql[at..s]);
        out.extend_from_slice(replacement.as_bytes());
        at = e;
    }
    out.extend_from_slice(&sql[at..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_session_values() {
        let out = substitute_session_values(
            Cow::Borrowed(
                b"SELECT LAST_INSERT_ID(), last_insert_id(5), 'last_insert_id()', @@socket, \
                  ROW_COUNT(), t.row_count()",
            ),
            42,
            -1,
        );
        assert_eq!(
            std::str::from_utf8(&out).expect("utf8"),
            "SELECT (42 | 0), last_insert_id(5), 'last_insert_id()', NULL, \
             CAST(-1 AS SIGNED), t.row_count()"
        );
        let same = substitute_session_values(Cow::Borrowed(b"SELECT 1"), 42, 3);
        assert!(matches!(same, Cow::Borrowed(_)));
        assert_eq!(
            substituted_text("SELECT LAST_INSERT_ID() AS lid FROM t", 7, 0).as_deref(),
            Some("SELECT (7 | 0) AS lid FROM t")
        );
        assert_eq!(
            substituted_text("SELECT row_count ( )", 7, 2).as_deref(),
            Some("SELECT CAST(2 AS SIGNED)")
        );
        assert_eq!(substituted_text("SELECT last_insert_id(5)", 7, 0), None);
        assert_eq!(substituted_text("SELECT 1", 7, 0), None);
    }
}

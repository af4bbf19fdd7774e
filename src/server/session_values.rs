//! Session values a backend would answer wrongly for a proxied session, replaced in the
//! statement text before it is relayed: `LAST_INSERT_ID()` (the backend's own value may belong
//! to another session sharing the pooled connection), `@@socket` (drivers would switch to
//! the backend's socket and bypass the proxy), and `CONNECTION_ID()` / `@@pseudo_thread_id`
//! (the proxy's connection id, the one `KILL` and `SHOW PROCESSLIST` know, not a backend
//! thread's).

use super::routing::analysis_text;
use crate::sql::{self, Needles};
use std::borrow::Cow;
use std::sync::LazyLock;

/// `text` with [`substitute_session_values`] applied, or None when it names neither word (one
/// case-insensitive scan). The sharded path uses it before planning, so a statement that runs
/// on several shards reads the session's `LAST_INSERT_ID()`, not each shard connection's.
pub(super) fn substituted_text(
    text: &str,
    last_insert_id: u64,
    connection_id: u32,
) -> Option<String> {
    static WORDS: LazyLock<Needles> = LazyLock::new(|| Needles::new(&SESSION_VALUE_WORDS));
    if WORDS.found_in(text.as_bytes()) == 0 {
        return None;
    }
    let bytes = Cow::Borrowed(text.as_bytes());
    match substitute_session_values(bytes, last_insert_id, connection_id) {
        Cow::Borrowed(_) => None,
        Cow::Owned(bytes) => String::from_utf8(bytes).ok(),
    }
}

/// Words of the names [`substitute_session_values`] replaces (a text without any of them has
/// nothing to replace).
pub(super) const SESSION_VALUE_WORDS: [&str; 4] = [
    "last_insert_id",
    "socket",
    "connection_id",
    "pseudo_thread_id",
];

/// Replaces what a backend would answer wrongly for a proxied session:
/// - `LAST_INSERT_ID()` (no argument) becomes the session's value, `(n | 0)`: with pooled backend
///   connections, the backend's own value may belong to another session;
/// - `@@socket` becomes NULL: drivers such as mysql_async read it on connect and would switch
///   to the backend's Unix socket, bypassing the proxy;
/// - `CONNECTION_ID()` becomes `CAST(id AS UNSIGNED)` (typed as MariaDB types the function:
///   INT UNSIGNED NOT NULL) and `@@[session.]pseudo_thread_id` `(id | 0)` (BIGINT UNSIGNED),
///   `id` being the proxy's connection id.
///
/// Callers skip it when [`RelayMarkers`] found neither word.
pub(super) fn substitute_session_values(
    sql: Cow<'_, [u8]>,
    last_insert_id: u64,
    connection_id: u32,
) -> Cow<'_, [u8]> {
    let text = analysis_text(&sql).into_owned();
    let tokens = sql::tokenize(&text);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let word = t.text(&text);
        let call = |name: &str| {
            t.kind == sql::TokenKind::Ident
                && word.eq_ignore_ascii_case(name)
                && tokens.get(i + 1).is_some_and(|n| n.text(&text) == "(")
                && tokens.get(i + 2).is_some_and(|n| n.text(&text) == ")")
                && !(i > 0 && tokens[i - 1].text(&text) == ".")
        };
        if call("connection_id") {
            edits.push((
                t.start,
                tokens[i + 2].end,
                format!("CAST({connection_id} AS UNSIGNED)"),
            ));
        } else if t.kind == sql::TokenKind::Variable
            && (word.eq_ignore_ascii_case("@@pseudo_thread_id")
                || word.eq_ignore_ascii_case("@@session.pseudo_thread_id"))
        {
            edits.push((t.start, t.end, format!("({connection_id} | 0)")));
        } else if call("last_insert_id") {
            // `(n | 0)` is typed as MariaDB types LAST_INSERT_ID() (BIGINT UNSIGNED NOT NULL;
            // a bare `n` or `CAST(n AS UNSIGNED)` is INT for small n), so column definitions
            // and comparisons stay the function's. Only an unaliased column's name differs.
            edits.push((
                t.start,
                tokens[i + 2].end,
                format!("({last_insert_id} | 0)"),
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
                b"SELECT LAST_INSERT_ID(), last_insert_id(5), 'last_insert_id()', @@socket",
            ),
            42,
            9,
        );
        assert_eq!(
            std::str::from_utf8(&out).expect("utf8"),
            "SELECT (42 | 0), last_insert_id(5), 'last_insert_id()', NULL"
        );
        let same = substitute_session_values(Cow::Borrowed(b"SELECT 1"), 42, 9);
        assert!(matches!(same, Cow::Borrowed(_)));
        assert_eq!(
            substituted_text("SELECT LAST_INSERT_ID() AS lid FROM t", 7, 9).as_deref(),
            Some("SELECT (7 | 0) AS lid FROM t")
        );
        assert_eq!(substituted_text("SELECT last_insert_id(5)", 7, 9), None);
        assert_eq!(substituted_text("SELECT 1", 7, 9), None);
    }

    #[test]
    fn connection_id_is_the_proxys() {
        assert_eq!(
            substituted_text(
                "SELECT CONNECTION_ID() AS me, @@pseudo_thread_id, @@session.PSEUDO_THREAD_ID, \
                 'connection_id()', x.connection_id() FROM t WHERE id = connection_id ( )",
                7,
                123
            )
            .as_deref(),
            Some(
                "SELECT CAST(123 AS UNSIGNED) AS me, (123 | 0), (123 | 0), \
                 'connection_id()', x.connection_id() FROM t WHERE id = CAST(123 AS UNSIGNED)"
            )
        );
    }
}

//! Session values a backend would answer wrongly for a proxied session, replaced in the
//! statement text before it is relayed: `LAST_INSERT_ID()` (the backend's own value may belong
//! to another session sharing the pooled connection), `DATABASE()` / `SCHEMA()` (the backend
//! knows its own database, `vt_customer`, not the keyspace the client chose), `USER()`,
//! `@@socket` (drivers would switch to the backend's socket and bypass the proxy), and
//! `CONNECTION_ID()` / `@@pseudo_thread_id` (the proxy's connection id, the one `KILL` and
//! `SHOW PROCESSLIST` know, not a backend thread's).
//!
//! A top-level select item that changed and has no alias gets one spelling the client's text
//! (`SELECT DATABASE(), id` still has a column `DATABASE()`), as MariaDB names such columns.

use super::routing::analysis_text;
use crate::sql::{self, literal, Needles};
use std::borrow::Cow;
use std::sync::LazyLock;

/// The session's answers to the values [`substitute_session_values`] replaces.
#[derive(Debug, Clone, Default)]
pub(super) struct SessionValues {
    /// The session's `LAST_INSERT_ID()`.
    pub last_insert_id: u64,
    /// What `DATABASE()` answers: the keyspace (or `ks:shard`) the client chose, if any.
    pub database: Option<String>,
    /// What `USER()` answers: the proxy user and the client's host, `app@10.0.0.5`.
    pub user: String,
    /// What `CURRENT_USER()` answers: the proxy account, `app@%`.
    pub account: String,
    /// What `CONNECTION_ID()` answers: the proxy's connection id.
    pub connection_id: u32,
    /// What `ROW_COUNT()` answers: the session's last statement's count (-1 after a result
    /// set or an error).
    pub row_count: i64,
}

impl super::connection::ClientConn {
    /// This session's [`SessionValues`].
    pub(super) fn session_values(&self) -> SessionValues {
        let s = &self.session;
        SessionValues {
            last_insert_id: s.last_insert_id,
            database: s.target.as_ref().map(|t| t.database_name()),
            user: format!("{}@{}", s.user, s.peer),
            account: format!("{}@%", s.user),
            connection_id: s.connection_id,
            row_count: s.row_count,
        }
    }
}

/// The words whose presence means [`substitute_session_values`] may have work (one
/// case-insensitive scan decides).
pub(super) const WORDS: [&str; 9] = [
    "last_insert_id",
    "socket",
    "database",
    "schema",
    "user(",
    "current_user",
    "connection_id",
    "pseudo_thread_id",
    "row_count",
];

/// Whether `text` holds one of [`WORDS`].
pub(super) fn may_substitute(text: &[u8]) -> bool {
    static NEEDLES: LazyLock<Needles> = LazyLock::new(|| Needles::new(&WORDS));
    NEEDLES.found_in(text) != 0
}

/// `text` with [`substitute_session_values`] applied, or None when it names none of the words
/// (one case-insensitive scan; `values` is called only then). The sharded path uses it before
/// planning, so a statement that runs on several shards reads the session's
/// `LAST_INSERT_ID()`, not each shard connection's.
pub(super) fn substituted_text(
    text: &str,
    values: impl FnOnce() -> SessionValues,
) -> Option<String> {
    if !may_substitute(text.as_bytes()) {
        return None;
    }
    match substitute_session_values(Cow::Borrowed(text.as_bytes()), &values()) {
        Cow::Borrowed(_) => None,
        Cow::Owned(bytes) => String::from_utf8(bytes).ok(),
    }
}

/// Replaces what a backend would answer wrongly for a proxied session:
/// - `LAST_INSERT_ID()` (no argument) becomes the session's value, `(n | 0)`: with pooled backend
///   connections, the backend's own value may belong to another session;
/// - `DATABASE()` / `SCHEMA()` become the session's database as a utf8mb3 string (NULL without
///   one), as MariaDB types the function;
/// - `USER()` / `SESSION_USER()` / `SYSTEM_USER()` and `CURRENT_USER[()]` become the proxy
///   user (the backend's account is not the client's business), except in a `DEFINER` clause;
/// - `ROW_COUNT()` becomes the session's value, `CAST(n AS SIGNED)` (BIGINT, as the function):
///   the previous statement may have run on another backend connection, or on several;
/// - `@@socket` becomes NULL: drivers such as mysql_async read it on connect and would switch
///   to the backend's Unix socket, bypassing the proxy;
/// - `CONNECTION_ID()` becomes `CAST(id AS UNSIGNED)` (typed as MariaDB types the function:
///   INT UNSIGNED NOT NULL) and `@@[session.]pseudo_thread_id` `(id | 0)` (BIGINT UNSIGNED),
///   `id` being the proxy's connection id.
///
/// Callers skip it when none of [`WORDS`] is in the text.
pub(super) fn substitute_session_values<'s>(
    sql: Cow<'s, [u8]>,
    values: &SessionValues,
) -> Cow<'s, [u8]> {
    let text = analysis_text(&sql).into_owned();
    let tokens = sql::tokenize(&text);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let is = |i: usize, s: &str| tokens.get(i).is_some_and(|n| n.text(&text) == s);
    for (i, t) in tokens.iter().enumerate() {
        let word = t.text(&text);
        let call = t.kind == sql::TokenKind::Ident
            && is(i + 1, "(")
            && is(i + 2, ")")
            && !(i > 0 && is(i - 1, "."));
        let connection_id = values.connection_id;
        if call && word.eq_ignore_ascii_case("connection_id") {
            let value = format!("CAST({connection_id} AS UNSIGNED)");
            edits.push((t.start, tokens[i + 2].end, value));
        } else if t.kind == sql::TokenKind::Variable
            && (word.eq_ignore_ascii_case("@@pseudo_thread_id")
                || word.eq_ignore_ascii_case("@@session.pseudo_thread_id"))
        {
            edits.push((t.start, t.end, format!("({connection_id} | 0)")));
        } else if call && word.eq_ignore_ascii_case("row_count") {
            let value = format!("CAST({} AS SIGNED)", values.row_count);
            edits.push((t.start, tokens[i + 2].end, value));
        } else if call && word.eq_ignore_ascii_case("last_insert_id") {
            // `(n | 0)` is typed as MariaDB types LAST_INSERT_ID() (BIGINT UNSIGNED NOT NULL;
            // a bare `n` or `CAST(n AS UNSIGNED)` is INT for small n), so column definitions
            // and comparisons stay the function's.
            let id = values.last_insert_id;
            edits.push((t.start, tokens[i + 2].end, format!("({id} | 0)")));
        } else if call
            && (word.eq_ignore_ascii_case("database") || word.eq_ignore_ascii_case("schema"))
        {
            let value = match &values.database {
                Some(db) => literal::string(db.as_bytes(), literal::Charset::UTF8MB3),
                None => "CONVERT(NULL USING utf8mb3)".into(),
            };
            edits.push((t.start, tokens[i + 2].end, value));
        } else if let Some((end, value)) = user_function(&text, &tokens, i, values) {
            edits.push((t.start, end, value));
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
    edits.extend(select_item_aliases(&text, &tokens, &edits));
    edits.sort_by_key(|(s, e, _)| (*s, *e));
    let mut out = Vec::with_capacity(sql.len() + 64);
    let mut at = 0;
    for (s, e, replacement) in edits {
        out.extend_from_slice(&sql[at..s]);
        out.extend_from_slice(replacement.as_bytes());
        at = e;
    }
    out.extend_from_slice(&sql[at..]);
    Cow::Owned(out)
}

/// `USER()`-like function at token `i`: where its call ends and the proxy's answer, as a
/// utf8mb3 string (MariaDB's type for these functions). `CURRENT_USER` may omit the
/// parentheses; a `DEFINER = CURRENT_USER` clause names an account, not a value, and is left.
fn user_function(
    text: &str,
    tokens: &[sql::Token],
    i: usize,
    values: &SessionValues,
) -> Option<(usize, String)> {
    let t = tokens.get(i)?;
    if t.kind != sql::TokenKind::Ident {
        return None;
    }
    let is = |k: usize, s: &str| tokens.get(k).is_some_and(|n| n.text(text) == s);
    let significant_before = tokens[..i]
        .iter()
        .rev()
        .find(|p| !matches!(p.kind, sql::TokenKind::Comment | sql::TokenKind::Directive));
    if significant_before.is_some_and(|p| p.is_punct(text, ".")) {
        return None;
    }
    let call = is(i + 1, "(") && is(i + 2, ")");
    let word = t.text(text);
    let value = if ["user", "session_user", "system_user"]
        .iter()
        .any(|w| word.eq_ignore_ascii_case(w))
        && call
    {
        &values.user
    } else if word.eq_ignore_ascii_case("current_user") {
        let definer = tokens[..i]
            .iter()
            .rev()
            .filter(|p| !matches!(p.kind, sql::TokenKind::Comment | sql::TokenKind::Directive))
            .take(2)
            .any(|p| p.is_word(text, "definer"));
        if definer {
            return None;
        }
        &values.account
    } else {
        return None;
    };
    let end = if call { tokens[i + 2].end } else { t.end };
    Some((
        end,
        literal::string(value.as_bytes(), literal::Charset::UTF8MB3),
    ))
}

/// Whether an item ending in `prev last` ends in an alias without `AS` (`DATABASE() db`):
/// a name or string after an operand, not after an operator or keyword (`x IS NULL`).
fn implicit_alias(text: &str, prev: &sql::Token, last: &sql::Token) -> bool {
    use sql::TokenKind as K;
    const NOT_ALIASES: [&str; 5] = ["null", "true", "false", "unknown", "end"];
    const OPERATORS: [&str; 14] = [
        "is", "not", "and", "or", "xor", "like", "div", "mod", "regexp", "rlike", "escape",
        "binary", "interval", "distinct",
    ];
    let name = matches!(last.kind, K::Ident | K::QuotedIdent | K::String)
        && !(last.kind == K::Ident && NOT_ALIASES.iter().any(|w| last.is_word(text, w)));
    let after_operand = match prev.kind {
        K::Ident => !OPERATORS.iter().any(|w| prev.is_word(text, w)),
        K::QuotedIdent | K::String | K::Number | K::HexOrBit => true,
        _ => prev.is_punct(text, ")"),
    };
    name && after_operand
}

/// Insertions (` AS `...``) after each top-level item of the statement's first select list
/// that contains an edit and has no alias of its own, so its column keeps the client's text
/// as its name.
fn select_item_aliases(
    text: &str,
    tokens: &[sql::Token],
    edits: &[(usize, usize, String)],
) -> Vec<(usize, usize, String)> {
    let significant: Vec<&sql::Token> = tokens
        .iter()
        .filter(|t| !matches!(t.kind, sql::TokenKind::Comment | sql::TokenKind::Directive))
        .collect();
    let Some(select) = significant.iter().position(|t| t.is_word(text, "select")) else {
        return Vec::new();
    };
    if significant[..select].iter().any(|t| !t.is_punct(text, "(")) {
        return Vec::new();
    }
    // The items: spans of tokens between commas at depth 0, up to the end of the list.
    let mut items: Vec<(usize, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut first = select + 1;
    let mut k = first;
    while k < significant.len() {
        let t = significant[k];
        let ends_list = depth == 0
            && (t.kind == sql::TokenKind::Semicolon
                || t.is_punct(text, ")")
                || [
                    "from", "into", "where", "union", "group", "having", "order", "limit",
                ]
                .iter()
                .any(|w| t.is_word(text, w)));
        if ends_list {
            break;
        }
        if t.is_punct(text, "(") {
            depth += 1;
        } else if t.is_punct(text, ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is_punct(text, ",") {
            items.push((first, k));
            first = k + 1;
        }
        k += 1;
    }
    items.push((first, k));
    let mut out = Vec::new();
    for (from, to) in items {
        let (Some(start), Some(last)) = (
            significant.get(from),
            to.checked_sub(1).and_then(|l| significant.get(l)),
        ) else {
            continue;
        };
        if to <= from
            || !edits
                .iter()
                .any(|(s, _, _)| *s >= start.start && *s < last.end)
        {
            continue;
        }
        let aliased = significant[from..to].iter().any(|t| t.is_word(text, "as"))
            || (to - from >= 2 && implicit_alias(text, significant[to - 2], last));
        if aliased {
            continue;
        }
        let written = &text[start.start..last.end];
        out.push((
            last.end,
            last.end,
            format!(" AS {}", sql::quote_ident(written)),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(last_insert_id: u64, database: Option<&str>) -> SessionValues {
        SessionValues {
            last_insert_id,
            database: database.map(str::to_string),
            user: "app@h".into(),
            account: "app@%".into(),
            connection_id: 123,
            row_count: -1,
        }
    }

    fn subst(sql: &str, values: &SessionValues) -> String {
        let out = substitute_session_values(Cow::Borrowed(sql.as_bytes()), values);
        String::from_utf8(out.into_owned()).expect("utf8")
    }

    #[test]
    fn substitutes_session_values() {
        assert_eq!(
            subst(
                "SELECT LAST_INSERT_ID(), last_insert_id(5), 'last_insert_id()', @@socket",
                &with(42, None)
            ),
            "SELECT (42 | 0) AS `LAST_INSERT_ID()`, last_insert_id(5), 'last_insert_id()', \
             NULL AS `@@socket`"
        );
        let same = substitute_session_values(Cow::Borrowed(b"SELECT 1"), &with(42, None));
        assert!(matches!(same, Cow::Borrowed(_)));
        assert_eq!(
            substituted_text("SELECT LAST_INSERT_ID() AS lid FROM t", || with(7, None)).as_deref(),
            Some("SELECT (7 | 0) AS lid FROM t")
        );
        assert_eq!(
            substituted_text("SELECT last_insert_id(5)", || with(7, None)),
            None
        );
        assert_eq!(substituted_text("SELECT 1", || with(7, None)), None);
    }

    #[test]
    fn database_is_the_sessions_keyspace_and_columns_keep_their_names() {
        let ks = with(0, Some("ks"));
        assert_eq!(
            subst("SELECT DATABASE(), id FROM t", &ks),
            "SELECT _utf8mb3 X'6b73' AS `DATABASE()`, id FROM t"
        );
        assert_eq!(
            subst(
                "select concat(schema(), 'x') from t where a = database()",
                &ks
            ),
            "select concat(_utf8mb3 X'6b73', 'x') AS `concat(schema(), 'x')` from t \
             where a = _utf8mb3 X'6b73'"
        );
        assert_eq!(
            subst("SELECT DATABASE() db, DATABASE() IS NULL", &ks),
            "SELECT _utf8mb3 X'6b73' db, _utf8mb3 X'6b73' IS NULL AS `DATABASE() IS NULL`"
        );
        assert_eq!(
            subst("SELECT DATABASE() = 'ks'", &with(0, None)),
            "SELECT CONVERT(NULL USING utf8mb3) = 'ks' AS `DATABASE() = 'ks'`"
        );
        // A column or a qualified function of that name is not the function.
        assert_eq!(
            subst("SELECT t.database(), database FROM t", &ks),
            "SELECT t.database(), database FROM t"
        );
        // Only the first select list is named by the client's text.
        assert_eq!(
            subst("INSERT INTO t SELECT DATABASE()", &ks),
            "INSERT INTO t SELECT _utf8mb3 X'6b73'"
        );
    }

    #[test]
    fn users_are_the_proxy_users() {
        let v = with(0, None);
        assert_eq!(
            subst(
                "SELECT USER(), CURRENT_USER, current_user(), t.user() FROM t",
                &v
            ),
            "SELECT _utf8mb3 X'6170704068' AS `USER()`, _utf8mb3 X'6170704025' AS `CURRENT_USER`, \
             _utf8mb3 X'6170704025' AS `current_user()`, t.user() FROM t"
        );
        let ddl = "CREATE DEFINER = CURRENT_USER VIEW v AS SELECT 1";
        assert_eq!(subst(ddl, &v), ddl);
        assert_eq!(subst("SELECT user FROM t", &v), "SELECT user FROM t");
    }

    #[test]
    fn connection_id_is_the_proxys() {
        assert_eq!(
            substituted_text(
                "SELECT CONNECTION_ID() AS me, @@pseudo_thread_id, @@session.PSEUDO_THREAD_ID, \
                 'connection_id()', x.connection_id() FROM t WHERE id = connection_id ( )",
                || with(7, None)
            )
            .as_deref(),
            Some(
                "SELECT CAST(123 AS UNSIGNED) AS me, (123 | 0) AS `@@pseudo_thread_id`, \
                 (123 | 0) AS `@@session.PSEUDO_THREAD_ID`, 'connection_id()', \
                 x.connection_id() FROM t WHERE id = CAST(123 AS UNSIGNED)"
            )
        );
    }

    #[test]
    fn row_count_is_the_sessions() {
        assert_eq!(
            subst("SELECT ROW_COUNT(), t.row_count() FROM t", &with(0, None)),
            "SELECT CAST(-1 AS SIGNED) AS `ROW_COUNT()`, t.row_count() FROM t"
        );
    }
}

//! The parts of a session's `sql_mode` and character set that change how the client's own SQL
//! text reads, and the check that refuses (1235) a statement whose literals the proxy would
//! read differently from MariaDB.
//!
//! The proxy's tokenizer and planner read text as UTF-8, decode backslash escapes in strings
//! and take `"..."` as a string. MariaDB does not under `NO_BACKSLASH_ESCAPES` (a backslash is
//! an ordinary character) or `ANSI_QUOTES` (`"..."` is an identifier), nor when the client
//! writes in another character set (GBK/SJIS/BIG5 trail bytes can be `\`; latin1 `é` is not
//! UTF-8). Where that could change a vindex value (routing, lookup rows), the statement is
//! refused on sharded keyspaces instead of being misread. Text without such constructs reads
//! the same under every mode, so only these are refused.

use super::literal::Charset;
use super::tokenizer::{tokenize, TokenKind};

/// The `sql_mode` flags that change how the planner must read literals and operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SqlMode {
    /// `NO_BACKSLASH_ESCAPES`: `\` is an ordinary character in strings.
    pub no_backslash_escapes: bool,
    /// `ANSI_QUOTES` (also part of ANSI, ORACLE, POSTGRESQL, MSSQL, DB2, MAXDB): `"` quotes
    /// identifiers.
    pub ansi_quotes: bool,
    /// `PIPES_AS_CONCAT` (also part of ANSI, ORACLE, POSTGRESQL, MSSQL, DB2, MAXDB): `||` is
    /// concatenation, not OR.
    pub pipes_as_concat: bool,
    /// `HIGH_NOT_PRECEDENCE`: `NOT a = b` is `(NOT a) = b`.
    pub high_not_precedence: bool,
    /// `EMPTY_STRING_IS_NULL`: `''` is NULL.
    pub empty_string_is_null: bool,
    /// `ORACLE`: another grammar altogether.
    pub oracle: bool,
}

impl SqlMode {
    /// The flags of an `@@sql_mode` value (comma-separated names, any case).
    pub fn parse(mode: &str) -> SqlMode {
        let mut out = SqlMode::default();
        for name in mode.split(',') {
            match name.trim().to_ascii_uppercase().as_str() {
                "NO_BACKSLASH_ESCAPES" => out.no_backslash_escapes = true,
                "ANSI_QUOTES" => out.ansi_quotes = true,
                "PIPES_AS_CONCAT" => out.pipes_as_concat = true,
                "HIGH_NOT_PRECEDENCE" => out.high_not_precedence = true,
                "EMPTY_STRING_IS_NULL" => out.empty_string_is_null = true,
                combined @ ("ANSI" | "ORACLE" | "POSTGRESQL" | "MSSQL" | "DB2" | "MAXDB") => {
                    out.ansi_quotes = true;
                    out.pipes_as_concat = true;
                    out.oracle |= combined == "ORACLE";
                }
                _ => {}
            }
        }
        out
    }
}

/// Why the proxy cannot read `text` exactly as MariaDB will under `mode` from a client writing
/// in `charset` (`None`: not known), or `None` when it can.
pub fn misread_reason(
    text: &str,
    mode: Option<SqlMode>,
    charset: Option<Charset>,
) -> Option<String> {
    let Some(charset) = charset else {
        return Some(
            "a statement on a sharded keyspace while character_set_client and \
             character_set_results differ or are unknown"
                .into(),
        );
    };
    if !charset.is_utf8() && !text.is_ascii() {
        return Some(format!(
            "non-ASCII text from a {} client on a sharded keyspace (the proxy plans sharded \
             statements as utf8mb4 text and does not convert {}; use utf8mb4)",
            charset.name(),
            charset.name()
        ));
    }
    let unknown = mode.is_none();
    let mode = mode.unwrap_or_default();
    if !unknown && mode == SqlMode::default() {
        return None;
    }
    if mode.oracle {
        return Some("statements on a sharded keyspace under sql_mode ORACLE".into());
    }
    for t in tokenize(text) {
        let body = &text[t.start..t.end];
        if t.kind == TokenKind::Punct && body == "||" && (unknown || mode.pipes_as_concat) {
            return Some(
                "'||' on a sharded keyspace under sql_mode PIPES_AS_CONCAT or an sql_mode the \
                 proxy does not know"
                    .into(),
            );
        }
        if t.is_word(text, "not") && (unknown || mode.high_not_precedence) {
            return Some(
                "NOT on a sharded keyspace under sql_mode HIGH_NOT_PRECEDENCE or an sql_mode the \
                 proxy does not know"
                    .into(),
            );
        }
        if t.kind != TokenKind::String {
            continue;
        }
        if body.len() == 2 && (unknown || mode.empty_string_is_null) {
            return Some(
                "an empty string literal on a sharded keyspace under sql_mode \
                 EMPTY_STRING_IS_NULL or an sql_mode the proxy does not know"
                    .into(),
            );
        }
        if body.starts_with('"') && (unknown || mode.ansi_quotes) {
            return Some(format!(
                "a double-quoted token ({}) on a sharded keyspace under sql_mode ANSI_QUOTES \
                 or an sql_mode the proxy does not know",
                short(body)
            ));
        }
        if body.contains('\\') && (unknown || mode.no_backslash_escapes) {
            return Some(format!(
                "a string literal containing a backslash ({}) on a sharded keyspace under \
                 sql_mode NO_BACKSLASH_ESCAPES or an sql_mode the proxy does not know",
                short(body)
            ));
        }
    }
    None
}

/// Why the proxy cannot use string parameters from a client writing in `charset` on a
/// sharded keyspace, or `None` when it can: vindexes hash a string's bytes as the column
/// stores them (utf8mb4), and the proxy does not convert GBK, SJIS, BIG5, latin1, ... text, so
/// a non-ASCII string parameter from such a client is refused rather than mis-routed.
pub fn param_misread_reason<'a>(
    params: impl IntoIterator<Item = &'a mysql_common::value::Value>,
    charset: Option<Charset>,
) -> Option<String> {
    let charset = charset?;
    if charset.is_utf8() {
        return None;
    }
    params.into_iter().find_map(|p| match p {
        mysql_common::value::Value::Bytes(b) if !b.is_ascii() => Some(format!(
            "a non-ASCII string parameter from a {} client on a sharded keyspace (use utf8mb4)",
            charset.name()
        )),
        _ => None,
    })
}

fn short(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NBE: SqlMode = SqlMode {
        no_backslash_escapes: true,
        ansi_quotes: false,
        pipes_as_concat: false,
        high_not_precedence: false,
        empty_string_is_null: false,
        oracle: false,
    };

    #[test]
    fn parses_mode_lists() {
        assert_eq!(
            SqlMode::parse("STRICT_TRANS_TABLES,no_backslash_escapes"),
            NBE
        );
        assert!(SqlMode::parse("ANSI").ansi_quotes);
        assert!(SqlMode::parse("PIPES_AS_CONCAT,ANSI_QUOTES").ansi_quotes);
        assert_eq!(SqlMode::parse(""), SqlMode::default());
    }

    #[test]
    fn refuses_only_mode_dependent_text() {
        let u = Some(Charset::UTF8MB4);
        let plain = "SELECT * FROM user WHERE email = 'a''b' AND id = 1";
        assert_eq!(misread_reason(plain, Some(NBE), u), None);
        assert_eq!(misread_reason(plain, None, u), None);
        let bs = r"SELECT * FROM user WHERE email = 'a\' OR id = 2 -- '";
        assert_eq!(misread_reason(bs, Some(SqlMode::default()), u), None);
        assert!(misread_reason(bs, Some(NBE), u).is_some());
        assert!(misread_reason(bs, None, u).is_some());
        let dq = r#"SELECT * FROM user WHERE email = "x""#;
        assert_eq!(misread_reason(dq, Some(NBE), u), None);
        assert!(misread_reason(dq, Some(SqlMode::parse("ANSI_QUOTES")), u).is_some());
        // A backslash outside strings (or in a comment) reads the same in every mode.
        assert_eq!(misread_reason("SELECT 1 /* \\ */", Some(NBE), u), None);
        // Operators and empty strings whose meaning the mode changes.
        let or = "SELECT * FROM user WHERE id = 1 || id = 2";
        assert_eq!(misread_reason(or, Some(NBE), u), None);
        assert!(misread_reason(or, Some(SqlMode::parse("ANSI")), u).is_some());
        let not = "SELECT * FROM user WHERE NOT id = 1";
        assert_eq!(misread_reason(not, Some(NBE), u), None);
        assert!(misread_reason(not, Some(SqlMode::parse("HIGH_NOT_PRECEDENCE")), u).is_some());
        let empty = "INSERT INTO user (id, name) VALUES (1, '')";
        assert_eq!(misread_reason(empty, Some(NBE), u), None);
        assert!(misread_reason(empty, Some(SqlMode::parse("EMPTY_STRING_IS_NULL")), u).is_some());
        assert!(misread_reason("SELECT 1", Some(SqlMode::parse("ORACLE")), u).is_some());
    }

    #[test]
    fn non_utf8_clients_may_send_ascii_only() {
        let gbk = Charset::from_name("gbk");
        assert_eq!(
            misread_reason("SELECT 'abc'", None.or(Some(NBE)), gbk),
            None
        );
        assert!(misread_reason("SELECT '中'", Some(NBE), gbk).is_some());
        assert!(misread_reason("SELECT 'é'", Some(NBE), Charset::from_name("latin1")).is_some());
        assert_eq!(
            misread_reason("SELECT '中'", Some(NBE), Some(Charset::UTF8MB4)),
            None
        );
        assert!(misread_reason("SELECT 1", Some(NBE), None).is_some());
    }

    #[test]
    fn non_utf8_clients_may_bind_ascii_strings_only() {
        use mysql_common::value::Value;
        let gbk = Charset::from_name("gbk");
        let ascii = [Value::Int(1), Value::Bytes(b"' OR 1=1 -- ".to_vec())];
        assert_eq!(param_misread_reason(&ascii, gbk), None);
        let lead = [Value::Bytes(vec![0xbf, b'\\', b'\''])];
        assert!(param_misread_reason(&lead, gbk).is_some());
        assert_eq!(param_misread_reason(&lead, Some(Charset::UTF8MB4)), None);
    }
}

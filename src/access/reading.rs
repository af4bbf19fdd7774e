//! Reading a statement as the shard will: the session's `sql_mode` and character set change
//! where strings end, so the access check must not look at a different statement than MariaDB
//! runs.
//!
//! - `ANSI_QUOTES` (or an unknown mode): `"mysql"."user"` names a table. The check also runs on
//!   a copy where each double-quoted token is backquoted (same length, same offsets).
//! - `NO_BACKSLASH_ESCAPES` (or an unknown mode): `'a\'` ends at its second quote, while the
//!   tokenizer reads an escaped quote; a string holding a backslash is refused (1235).
//! - A client character set that is not UTF-8, with non-ASCII text: a multi-byte character may end
//!   in a `0x5C` byte that MariaDB does not read as `\`; text holding a backslash is refused.

use super::Denial;
use crate::sql::{self, Charset, SqlMode, TokenKind};

/// How the shard will read the session's statements.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    /// The session's sql_mode flags; `None` when the proxy does not know them.
    pub mode: Option<SqlMode>,
    /// The client's character set; `None` when not known.
    pub charset: Option<Charset>,
}

impl Reading {
    /// Default sql_mode and utf8mb4: the tokenizer reads exactly what MariaDB reads.
    pub fn standard() -> Self {
        Reading {
            mode: Some(SqlMode::default()),
            charset: Some(Charset::UTF8MB4),
        }
    }
}

/// Refuses text the tokenizer could read differently from the shard; returns the alternative
/// reading to check as well (ANSI quotes), if any.
pub(super) fn alternative(text: &str, reading: Reading) -> Result<Option<String>, Denial> {
    let unknown = reading.mode.is_none();
    let mode = reading.mode.unwrap_or_default();
    let ansi = unknown || mode.ansi_quotes || mode.oracle;
    let no_escapes = unknown || mode.no_backslash_escapes;
    let utf8 = reading.charset.is_some_and(|c| c.is_utf8());
    let has_backslash = memchr::memchr(b'\\', text.as_bytes()).is_some();
    if has_backslash && !utf8 && !text.is_ascii() {
        return Err(Denial::Unclassified(
            "a backslash in non-ASCII text from a client whose character set is not utf8mb4".into(),
        ));
    }
    if !(ansi || no_escapes) {
        return Ok(None);
    }
    let mut rewritten: Option<Vec<u8>> = None;
    for t in sql::tokenize(text) {
        if t.kind != TokenKind::String {
            continue;
        }
        let body = t.text(text);
        if no_escapes && body.contains('\\') {
            return Err(Denial::Unclassified(
                "a string literal holding a backslash under sql_mode NO_BACKSLASH_ESCAPES (or \
                 an sql_mode the proxy does not know)"
                    .into(),
            ));
        }
        if ansi && body.starts_with('"') {
            let out = rewritten.get_or_insert_with(|| text.as_bytes().to_vec());
            out[t.start] = b'`';
            if t.end > t.start + 1 && body.ends_with('"') {
                out[t.end - 1] = b'`';
            }
        }
    }
    Ok(rewritten.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

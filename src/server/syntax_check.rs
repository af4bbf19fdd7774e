//! Who is right when the proxy's SQL parser fails on a sharded keyspace's statement: MariaDB.
//!
//! The rule: a statement is a syntax error (1064) exactly when MariaDB says so. When the
//! planner's parser (sqlparser) fails, the proxy asks a shard of the keyspace to prepare the
//! statement (COM_STMT_PREPARE parses and resolves without running anything) on the session's
//! own connection, so its `sql_mode` and character set apply:
//! - the shard refuses it with 1064 / 1149: that error is the answer, in MariaDB's own words
//!   (`You have an error in your SQL syntax; ... near '...' at line N`), backend database
//!   names replaced by the keyspace's;
//! - the shard accepts it (or refuses it for another reason: unknown table, not preparable,
//!   ...): the statement is valid MariaDB the proxy cannot read, so 1235 naming where its
//!   parser stopped;
//! - no shard connection: the parser's own 1064, as before.
//!
//! This runs only after a parse failure, so planned statements never pay for it; the
//! planner itself stays free of I/O.

use super::connection::ClientConn;
use super::routing;
use crate::backend::BackendError;
use crate::error::ProxyError;

/// ER_PARSE_ERROR and ER_SYNTAX_ERROR: what MariaDB calls a syntax error.
const SYNTAX_CODES: [u16; 2] = [1064, 1149];

impl ClientConn {
    /// COM_STMT_PREPARE of `text` (qualifiers mapped) on the first shard of `keyspace`, on the
    /// session's connection: the shard's error when it refuses it (`Err(Some)`), `Ok` when it
    /// accepts it, `Err(None)` when no shard connection answered.
    async fn prepare_on_shard(
        &mut self,
        keyspace: &str,
        text: &str,
    ) -> Result<(), Option<(u16, String, String)>> {
        let shard = self.shard_at(keyspace, 0).map_err(|_| None)?;
        let sql = routing::map_qualifiers(text, keyspace, &shard.database).into_owned();
        let mut sc = self.acquire(&shard, false).await.map_err(|_| None)?;
        let res = sc.conn.prepare(&sql).await;
        let checked = sc.check(res.map(|_| ()));
        self.put_back(sc).await;
        match checked {
            Ok(()) => Ok(()),
            Err(BackendError::Server {
                code,
                state,
                message,
            }) => Err(Some((
                code,
                state,
                message.replace(&shard.database, keyspace),
            ))),
            Err(_) => Err(None),
        }
    }

    /// Before an INSERT whose column list lacks a column an owned lookup vindex reads: the
    /// shard resolves the statement's names first, so a misspelt column is MariaDB's 1054
    /// (`Unknown column 'nme' in ...`) instead of the lookup row's 1048 (`Column 'name'
    /// cannot be null`), and no lookup row is written for it.
    pub(super) async fn resolve_insert_columns(
        &mut self,
        keyspace: &str,
        text: &str,
        plan: &crate::planner::InsertPlan,
    ) -> Result<(), ProxyError> {
        let omits = plan.lookups.iter().any(|l| {
            l.rows
                .iter()
                .any(|r| r.contains(&crate::planner::LookupInput::Omitted))
        });
        if !omits {
            return Ok(());
        }
        match self.prepare_on_shard(keyspace, text).await {
            Err(Some((code, state, message))) => Err(ProxyError::Backend(BackendError::Server {
                code,
                state,
                message,
            })),
            // Unreachable shard: the INSERT itself will say so.
            Ok(()) | Err(None) => Ok(()),
        }
    }

    /// The error to report for `err`, the planner's failure on `text` in sharded `keyspace`:
    /// unchanged unless it is a parse error, which a shard then judges (see the module).
    pub(super) async fn judge_parse_failure(
        &mut self,
        keyspace: &str,
        text: &str,
        err: ProxyError,
    ) -> ProxyError {
        let ProxyError::Parse(parser_message) = &err else {
            return err;
        };
        let parser_message = parser_message.clone();
        match self.prepare_on_shard(keyspace, text).await {
            Err(Some((code, state, message))) if SYNTAX_CODES.contains(&code) => {
                ProxyError::Backend(BackendError::Server {
                    code,
                    state,
                    message,
                })
            }
            Ok(()) | Err(Some(_)) => {
                ProxyError::NotSupported(unreadable(text, &parser_message, keyspace))
            }
            Err(None) => err,
        }
    }
}

/// The 1235 message for a statement MariaDB accepts and the proxy's parser does not: where
/// the parser stopped (the text from that line and column on) and what it expected.
fn unreadable(text: &str, parser_message: &str, keyspace: &str) -> String {
    let reason = parser_message
        .strip_prefix("sql parser error: ")
        .unwrap_or(parser_message);
    let place = position(parser_message)
        .and_then(|(line, column)| offset(text, line, column))
        .map(|at| {
            let rest: String = text[at..].chars().take(40).collect();
            format!(" at '{}'", rest.trim_end())
        })
        .unwrap_or_default();
    format!(
        "this statement on sharded keyspace '{keyspace}' is not supported: the proxy's SQL parser stops{place} ({reason})"
    )
}

/// `(line, column)` from sqlparser's "... at Line: L, Column: C".
fn position(message: &str) -> Option<(usize, usize)> {
    let at = message.rfind("Line: ")?;
    let rest = &message[at + 6..];
    let (line, rest) = rest.split_once(", Column: ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.trim().parse().ok()?, column.parse().ok()?))
}

/// The byte offset of 1-based `line` and character `column` in `text`.
fn offset(text: &str, line: usize, column: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let line_text = &text[start..];
    let (at, _) = line_text.char_indices().nth(column.checked_sub(1)?)?;
    Some(start + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_where_the_parser_stopped() {
        let text = "SELECT * FROM user WHERE id = 1 LOCK IN SHARE MODE";
        let msg =
            "sql parser error: Expected: end of statement, found: LOCK at Line: 1, Column: 33";
        assert_eq!(
            unreadable(text, msg, "customer"),
            "this statement on sharded keyspace 'customer' is not supported: the proxy's SQL parser stops at 'LOCK IN SHARE MODE' (Expected: end of statement, found: LOCK at Line: 1, Column: 33)"
        );
        assert_eq!(offset("a\nbc d", 2, 4), Some(5));
        assert_eq!(position("x at Line: 3, Column: 7"), Some((3, 7)));
        assert_eq!(position("Expected: ), found: EOF"), None);
        assert_eq!(
            unreadable("SELECT 1", "sql parser error: odd", "ks"),
            "this statement on sharded keyspace 'ks' is not supported: the proxy's SQL parser stops (odd)"
        );
    }
}

//! The statements about the proxy's own sessions, answered by the proxy and never sent to a
//! shard: `KILL [HARD|SOFT] [CONNECTION|QUERY] <id>` with the proxy's connection ids,
//! `SHOW [FULL] PROCESSLIST`, and `SELECT CONNECTION_ID()`.
//!
//! As MariaDB: a user may kill its own sessions (same user name), an admin user (config
//! `admin`) any; others get 1095, an id no session has 1094. `KILL QUERY` stops the statement
//! on every shard it reached (see [`super::sessions`]); its client gets 1317. `KILL` of a
//! session closes it (a running statement is stopped on the shards first); killing one's own
//! connection answers 1927 and closes. `SHOW PROCESSLIST` lists the proxy's sessions, only the
//! user's own for a non-admin user (as MariaDB without the PROCESS privilege).
//!
//! Other forms (`KILL USER`, `KILL QUERY ID`, an expression) are left to the access check,
//! which refuses them: backend thread ids never reach a shard.

use super::connection::{ClientConn, CommandError};
use super::local_answers::LocalResult;
use super::sessions::{ProcessRow, SHORT_INFO_CHARS};
use super::statement::Exec;
use crate::error::ProxyError;
use crate::protocol::writer::{self, OkInfo};
use crate::sql::{self, StatementKind, Token, TokenKind};
use mysql_async::Value;
use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::packets::Column;

/// What `KILL` stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillScope {
    /// `KILL QUERY`: the running statement.
    Query,
    /// `KILL [CONNECTION]`: the session.
    Connection,
}

/// Which session `KILL` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillTarget {
    /// A literal id.
    Id(u64),
    /// `CONNECTION_ID()`: the session itself.
    Own,
}

/// A statement about the proxy's sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStatement {
    /// `KILL ...`.
    Kill(KillScope, KillTarget),
    /// `SHOW [FULL] PROCESSLIST`.
    ShowProcesslist {
        /// Whether `FULL` was given (`Info` not cut at 100 characters).
        full: bool,
    },
    /// `SELECT CONNECTION_ID()` alone; the column is named as the client wrote it.
    ConnectionId(String),
}

/// Recognizes a statement answered here (cheap for every other statement: a length check and
/// one case-insensitive search before anything is tokenized).
pub fn recognize(kind: StatementKind, text: &str) -> Option<SessionStatement> {
    if text.len() > 200 {
        return None;
    }
    let word = match kind {
        StatementKind::Show => "processlist",
        StatementKind::Select => "connection_id",
        StatementKind::Other => "kill",
        _ => return None,
    };
    if !sql::contains_ignore_ascii_case(text.as_bytes(), word.as_bytes()) {
        return None;
    }
    let toks: Vec<Token> = sql::Significant::new(text).collect();
    let toks = match toks.last() {
        Some(t) if t.kind == TokenKind::Semicolon => &toks[..toks.len() - 1],
        _ => &toks[..],
    };
    let is = |i: usize, w: &str| toks.get(i).is_some_and(|t| t.is_word(text, w));
    let punct = |i: usize, p: &str| toks.get(i).is_some_and(|t| t.is_punct(text, p));
    match kind {
        StatementKind::Show => {
            let full = is(1, "full");
            let at = if full { 2 } else { 1 };
            (is(0, "show") && is(at, "processlist") && toks.len() == at + 1)
                .then_some(SessionStatement::ShowProcesslist { full })
        }
        StatementKind::Select => {
            let exact = toks.len() == 4
                && is(0, "select")
                && is(1, "connection_id")
                && punct(2, "(")
                && punct(3, ")");
            exact.then(|| {
                let name = text
                    .get(toks[1].start..toks[3].end)
                    .unwrap_or("CONNECTION_ID()");
                SessionStatement::ConnectionId(name.to_string())
            })
        }
        _ => {
            if !is(0, "kill") {
                return None;
            }
            let mut i = 1;
            if is(i, "hard") || is(i, "soft") {
                i += 1;
            }
            let scope = if is(i, "query") {
                i += 1;
                KillScope::Query
            } else {
                if is(i, "connection") {
                    i += 1;
                }
                KillScope::Connection
            };
            let rest = &toks[i..];
            let target = match rest {
                [n] if n.kind == TokenKind::Number => KillTarget::Id(n.text(text).parse().ok()?),
                [f, open, close]
                    if f.is_word(text, "connection_id")
                        && open.is_punct(text, "(")
                        && close.is_punct(text, ")") =>
                {
                    KillTarget::Own
                }
                _ => return None,
            };
            Some(SessionStatement::Kill(scope, target))
        }
    }
}

/// ER_QUERY_INTERRUPTED, what a statement stopped by `KILL QUERY` answers.
pub fn query_interrupted() -> ProxyError {
    ProxyError::Limit {
        code: 1317,
        state: "70100",
        message: "Query execution was interrupted".into(),
    }
}

fn connection_killed() -> ProxyError {
    ProxyError::Limit {
        code: 1927,
        state: "70100",
        message: "Connection was killed".into(),
    }
}

fn unknown_thread(id: u64) -> ProxyError {
    ProxyError::Limit {
        code: 1094,
        state: "HY000",
        message: format!("Unknown thread id: {id}"),
    }
}

fn not_owner(id: u64) -> ProxyError {
    ProxyError::Limit {
        code: 1095,
        state: "HY000",
        message: format!("You are not owner of thread {id}"),
    }
}

/// A column as MariaDB 10.11 describes the same `SHOW PROCESSLIST` column to a utf8mb4 client.
fn column(name: &str, ty: ColumnType, length: u32, flags: ColumnFlags, decimals: u8) -> Column {
    let charset = if matches!(ty, ColumnType::MYSQL_TYPE_VAR_STRING) {
        writer::UTF8MB4_GENERAL_CI
    } else {
        writer::BINARY_COLLATION
    };
    Column::new(ty)
        .with_name(name.as_bytes())
        .with_character_set(charset)
        .with_column_length(length)
        .with_flags(flags)
        .with_decimals(decimals)
}

fn text_column(name: &str, chars: u32, not_null: bool) -> Column {
    let flags = if not_null {
        ColumnFlags::NOT_NULL_FLAG
    } else {
        ColumnFlags::empty()
    };
    column(
        name,
        ColumnType::MYSQL_TYPE_VAR_STRING,
        chars.saturating_mul(4),
        flags,
        39,
    )
}

/// `SHOW [FULL] PROCESSLIST`'s result for `rows` (MariaDB's columns, `Progress` included).
pub fn processlist(rows: &[ProcessRow], full: bool) -> LocalResult {
    let number = ColumnFlags::NOT_NULL_FLAG | ColumnFlags::BINARY_FLAG | ColumnFlags::NUM_FLAG;
    let info_chars = if full { 16_777_216 } else { 100 };
    let columns = vec![
        column("Id", ColumnType::MYSQL_TYPE_LONGLONG, 11, number, 0),
        text_column("User", 128, true),
        text_column("Host", 64, true),
        text_column("db", 64, false),
        text_column("Command", 16, true),
        column("Time", ColumnType::MYSQL_TYPE_LONG, 7, number, 0),
        text_column("State", 30, false),
        text_column("Info", info_chars, false),
        column("Progress", ColumnType::MYSQL_TYPE_DOUBLE, 7, number, 3),
    ];
    let text = |s: &str| Value::Bytes(s.as_bytes().to_vec());
    let rows = rows
        .iter()
        .map(|r| {
            let info = r.info.as_deref().map(|i| match full {
                true => text(i),
                false => text(&i.chars().take(SHORT_INFO_CHARS).collect::<String>()),
            });
            vec![
                Value::UInt(u64::from(r.id)),
                text(&r.user),
                text(&r.host),
                r.db.as_deref().map_or(Value::NULL, text),
                text(r.command),
                Value::UInt(r.time.min(u64::from(i32::MAX as u32))),
                text(r.state),
                info.unwrap_or(Value::NULL),
                text("0.000"),
            ]
        })
        .collect();
    LocalResult { columns, rows }
}

impl ClientConn {
    /// Runs a [`SessionStatement`] and writes its answer (not flushed).
    pub(super) async fn session_statement(
        &mut self,
        stmt: SessionStatement,
        exec: &Exec,
        more: bool,
    ) -> Result<(), CommandError> {
        match stmt {
            SessionStatement::ShowProcesslist { full } => {
                let only = (!self.session.is_admin).then_some(self.session.user.as_str());
                let rows = self.state.sessions.rows(only);
                self.write_local_result(&processlist(&rows, full), exec, more);
                Ok(())
            }
            SessionStatement::ConnectionId(name) => {
                let result = LocalResult {
                    columns: vec![column(
                        &name,
                        ColumnType::MYSQL_TYPE_LONG,
                        10,
                        ColumnFlags::NOT_NULL_FLAG
                            | ColumnFlags::UNSIGNED_FLAG
                            | ColumnFlags::BINARY_FLAG
                            | ColumnFlags::NUM_FLAG,
                        0,
                    )],
                    rows: vec![vec![Value::UInt(u64::from(self.session.connection_id))]],
                };
                self.write_local_result(&result, exec, more);
                Ok(())
            }
            SessionStatement::Kill(scope, target) => {
                let own = u64::from(self.session.connection_id);
                let id = match target {
                    KillTarget::Id(id) => id,
                    KillTarget::Own => own,
                };
                let victim = u32::try_from(id)
                    .ok()
                    .and_then(|id| self.state.sessions.get(id))
                    .ok_or_else(|| unknown_thread(id))?;
                if !self.session.is_admin && victim.user() != self.session.user {
                    return Err(not_owner(id).into());
                }
                if id == own {
                    // As MariaDB: the KILL statement itself is what gets interrupted.
                    return Err(match scope {
                        KillScope::Query => query_interrupted(),
                        KillScope::Connection => {
                            self.live.kill_connection();
                            connection_killed()
                        }
                    }
                    .into());
                }
                tracing::info!(
                    connection = own,
                    user = %self.session.user,
                    victim = id,
                    ?scope,
                    "KILL"
                );
                match scope {
                    KillScope::Query => victim.kill_query(),
                    KillScope::Connection => victim.kill_connection(),
                }
                self.write_ok_more(&OkInfo::default(), more);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> Option<SessionStatement> {
        recognize(sql::classify(text), text)
    }

    #[test]
    fn recognizes_kill_forms_with_proxy_ids() {
        use KillScope::*;
        use SessionStatement::Kill;
        assert_eq!(r("KILL 5"), Some(Kill(Connection, KillTarget::Id(5))));
        assert_eq!(
            r("kill connection 7;"),
            Some(Kill(Connection, KillTarget::Id(7)))
        );
        assert_eq!(r("KILL QUERY 12"), Some(Kill(Query, KillTarget::Id(12))));
        assert_eq!(
            r("KILL HARD QUERY 12"),
            Some(Kill(Query, KillTarget::Id(12)))
        );
        assert_eq!(r("KILL SOFT 3"), Some(Kill(Connection, KillTarget::Id(3))));
        // The MySQL CLI's Ctrl-C.
        assert_eq!(
            r("KILL /*!50000 QUERY */ 9"),
            Some(Kill(Query, KillTarget::Id(9)))
        );
        assert_eq!(
            r("KILL CONNECTION_ID()"),
            Some(Kill(Connection, KillTarget::Own))
        );
        assert_eq!(
            r("KILL QUERY connection_id ( )"),
            Some(Kill(Query, KillTarget::Own))
        );
        // Left to the access check (refused there).
        for other in [
            "KILL USER root",
            "KILL QUERY ID 5",
            "KILL 5 + 1",
            "KILL @id",
            "KILL '5'",
            "KILL",
            "KILL 1.5",
            "SELECT kill FROM t",
        ] {
            assert_eq!(r(other), None, "{other}");
        }
    }

    #[test]
    fn recognizes_processlist_and_connection_id() {
        assert_eq!(
            r("SHOW PROCESSLIST"),
            Some(SessionStatement::ShowProcesslist { full: false })
        );
        assert_eq!(
            r("show full processlist ;"),
            Some(SessionStatement::ShowProcesslist { full: true })
        );
        assert_eq!(r("SHOW PROCESSLIST LIKE 'x'"), None);
        assert_eq!(
            r("select Connection_Id()"),
            Some(SessionStatement::ConnectionId("Connection_Id()".into()))
        );
        assert_eq!(r("SELECT CONNECTION_ID() + 1"), None);
    }

    #[test]
    fn processlist_cuts_info_unless_full() {
        let row = ProcessRow {
            id: 4,
            user: "app".into(),
            host: "127.0.0.1".into(),
            db: None,
            command: "Query",
            time: 2,
            state: "executing",
            info: Some("x".repeat(150)),
        };
        let short = processlist(std::slice::from_ref(&row), false);
        assert_eq!(short.columns.len(), 9);
        assert_eq!(short.rows[0][7], Value::Bytes(vec![b'x'; 100]));
        assert_eq!(short.rows[0][3], Value::NULL);
        let full = processlist(&[row], true);
        assert_eq!(full.rows[0][7], Value::Bytes(vec![b'x'; 150]));
    }
}

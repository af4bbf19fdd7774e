//! Server-side prepared statements: COM_STMT_PREPARE / EXECUTE / SEND_LONG_DATA / RESET.
//!
//! PREPARE asks the routed shard for the parameter and column metadata; EXECUTE routes the
//! client's text again and runs it with `exec` on the backend connection, where mysql_async's
//! per-connection statement cache keeps the backend prepared statement. Statements the proxy
//! handles itself (BEGIN, COMMIT, USE, SET, ...) are never prepared on a backend. Parameter
//! types are remembered per statement because clients send them only on the first execute.

use super::connection::{ClientConn, CommandError};
use super::local_answers::client_schema;
use super::routing::analysis_text;
use super::statement::{kind_name, Exec};
use crate::error::ProxyError;
use crate::protocol::binary::{execute_stmt_id, parse_execute};
use crate::protocol::writer::{self, OkInfo};
use crate::session::PreparedStatement;
use crate::sql::{self, StatementKind};
use mysql_common::packets::Column;
use std::sync::atomic::Ordering;

/// Statement kinds answered by the proxy without a backend prepare.
fn handled_by_proxy(kind: StatementKind) -> bool {
    matches!(
        kind,
        StatementKind::Begin
            | StatementKind::Commit
            | StatementKind::Rollback
            | StatementKind::Savepoint
            | StatementKind::ReleaseSavepoint
            | StatementKind::RollbackToSavepoint
            | StatementKind::Use
            | StatementKind::Set
    )
}

/// Why a statement's COM_STMT_SEND_LONG_DATA failed; reported by its next execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongDataError {
    /// The statement's long data passed `limits.max_allowed_packet` bytes (1153); what was
    /// sent is dropped.
    TooLarge,
    /// A parameter number the statement does not have (1210).
    WrongParam,
}

impl LongDataError {
    fn to_error(self) -> ProxyError {
        match self {
            LongDataError::TooLarge => ProxyError::packet_too_large(),
            LongDataError::WrongParam => {
                ProxyError::WrongArguments("mysqld_stmt_send_long_data".into())
            }
        }
    }
}

impl ClientConn {
    /// COM_STMT_PREPARE.
    pub async fn com_stmt_prepare(&mut self, sql: Vec<u8>) -> Result<(), CommandError> {
        let max = self.state.config.limits.max_prepared_stmt_count;
        if self.session.prepared.len() >= max {
            return Err(ProxyError::Limit {
                code: 1461,
                state: "42000",
                message: format!(
                    "Can't create more than max_prepared_stmt_count statements (current value: {max})"
                ),
            }
            .into());
        }
        let text = analysis_text(&sql).into_owned();
        let pieces = sql::split_statements(&text);
        if pieces.len() != 1 {
            return Err(if pieces.is_empty() {
                ProxyError::EmptyQuery
            } else {
                ProxyError::Parse(
                    "You have an error in your SQL syntax: a prepared statement must hold one statement".into(),
                )
            }
            .into());
        }
        let kind = sql::classify(&text);
        let param_marks = sql::tokenize(&text)
            .iter()
            .filter(|t| t.kind == sql::TokenKind::Param)
            .count();
        let (params, columns): (Vec<Column>, Vec<Column>) = if super::next_values::asks(kind, &text)
        {
            // Answered by the proxy at execute (see `next_values`): checked and typed here.
            super::next_values::parse(&text)?;
            (Vec::new(), vec![super::next_values::nextval_column()])
        } else if handled_by_proxy(kind) {
            if param_marks > 0 {
                return Err(ProxyError::NotSupported(format!(
                    "{} with ? parameters in a prepared statement is not supported",
                    kind_name(kind)
                ))
                .into());
            }
            (Vec::new(), Vec::new())
        } else {
            let (shard, routed_sql) = match self.schema_query_metadata_shard(kind, &text)? {
                Some(shard) => (shard, std::borrow::Cow::Borrowed(&sql[..])),
                None => self.metadata_shard(&sql, &text, kind_name(kind))?,
            };
            if let Err(e) = self.check_plannable(&text, kind) {
                // A parse failure is a syntax error only if MariaDB says so.
                let keyspace = shard.keyspace.clone();
                return Err(self.judge_parse_failure(&keyspace, &text, e).await.into());
            }
            let mut sc = self.acquire(&shard, false).await?;
            let res = sc.conn.prepare(&routed_sql).await;
            let meta = sc.check(res.map(|stmt| (stmt.params.clone(), stmt.columns.clone())));
            self.put_back(sc).await;
            meta?
        };
        let id = self.session.allocate_statement_id();
        self.session.prepared.insert(
            id,
            PreparedStatement {
                sql: sql.clone().into(),
                param_count: params.len(),
                columns: columns.clone(),
                param_types: None,
                long_data: vec![None; params.len()],
            },
        );
        self.ps.write_with(|b| {
            b.push(0x00);
            b.extend_from_slice(&id.to_le_bytes());
            b.extend_from_slice(&(columns.len() as u16).to_le_bytes());
            b.extend_from_slice(&(params.len() as u16).to_le_bytes());
            b.push(0x00);
            b.extend_from_slice(&0u16.to_le_bytes());
        });
        let status = self.session.status();
        let deprecate_eof = self.session.deprecate_eof();
        let backends = self.state.backends.clone();
        for group in [&params, &columns] {
            if group.is_empty() {
                continue;
            }
            for c in group.iter() {
                let schema = client_schema(&backends, c.schema_ref());
                self.ps
                    .write_with(|b| writer::column_packet_in(b, c, schema));
            }
            if !deprecate_eof {
                self.ps.write_with(|b| writer::eof_packet(b, 0, status));
            }
        }
        self.ps.flush().await?;
        Ok(())
    }

    /// COM_STMT_EXECUTE.
    pub async fn com_stmt_execute(&mut self, body: Vec<u8>) -> Result<(), CommandError> {
        self.state.questions.fetch_add(1, Ordering::Relaxed);
        let id = execute_stmt_id(&body)
            .ok_or_else(|| ProxyError::Malformed("COM_STMT_EXECUTE".into()))?;
        let stmt = self
            .session
            .prepared
            .get_mut(&id)
            .ok_or(ProxyError::UnknownStatement {
                id,
                command: "mysqld_stmt_execute",
            })?;
        self.long_data_held.remove(&id);
        // A new execution closes the statement's cursor, as in MariaDB.
        self.cursors.remove(&id);
        if let Some(e) = self.long_data_errors.remove(&id) {
            for d in stmt.long_data.iter_mut() {
                *d = None;
            }
            return Err(e.to_error().into());
        }
        let req = parse_execute(
            &body,
            stmt.param_count,
            stmt.param_types.as_deref(),
            &stmt.long_data,
        )
        .map_err(|e| ProxyError::Malformed(e.to_string()))?;
        if let Some(types) = req.new_types {
            stmt.param_types = Some(types);
        }
        for d in stmt.long_data.iter_mut() {
            *d = None;
        }
        let has_result = !stmt.columns.is_empty();
        let sql = stmt.sql.clone();
        let text = analysis_text(&sql);
        if req.flags & super::cursor::CURSOR_FLAGS != 0 && has_result {
            return Box::pin(self.execute_with_cursor(id, &sql, &text, Exec::Binary(req.params)))
                .await;
        }
        let res = self
            .run_statement(&sql, &text, &Exec::Binary(req.params), false)
            .await;
        match res {
            Ok(()) => {}
            Err(CommandError::Proxy(e)) => {
                self.write_error(&e).await?;
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        self.ps.flush().await?;
        Ok(())
    }

    /// COM_STMT_SEND_LONG_DATA: appends a chunk (no response, per protocol).
    ///
    /// As MariaDB: an unknown statement id is ignored; a parameter the statement does not
    /// have, or long data past `limits.max_allowed_packet` bytes in total for the statement,
    /// fails the statement's next execute (1210 / 1153), and the data is dropped at once.
    pub fn stmt_send_long_data(&mut self, stmt_id: u32, param: u16, data: Vec<u8>) {
        let max = self.state.config.limits.max_allowed_packet;
        let Some(stmt) = self.session.prepared.get_mut(&stmt_id) else {
            return;
        };
        if self.long_data_errors.contains_key(&stmt_id) {
            return;
        }
        let held = self.long_data_held.entry(stmt_id).or_insert(0);
        let failure = if param as usize >= stmt.long_data.len() {
            Some(LongDataError::WrongParam)
        } else if held.saturating_add(data.len()) > max {
            Some(LongDataError::TooLarge)
        } else {
            None
        };
        if let Some(e) = failure {
            self.long_data_held.remove(&stmt_id);
            for d in stmt.long_data.iter_mut() {
                *d = None;
            }
            self.long_data_errors.insert(stmt_id, e);
            return;
        }
        *held += data.len();
        if let Some(slot) = stmt.long_data.get_mut(param as usize) {
            slot.get_or_insert_with(Vec::new).extend_from_slice(&data);
        }
    }

    /// COM_STMT_RESET: forgets long data.
    pub async fn stmt_reset(&mut self, id: u32) -> Result<(), CommandError> {
        let stmt = self
            .session
            .prepared
            .get_mut(&id)
            .ok_or(ProxyError::UnknownStatement {
                id,
                command: "mysqld_stmt_reset",
            })?;
        for d in stmt.long_data.iter_mut() {
            *d = None;
        }
        self.long_data_errors.remove(&id);
        self.long_data_held.remove(&id);
        self.cursors.remove(&id);
        self.write_ok(&OkInfo::default()).await?;
        Ok(())
    }
}

//! Relaying a backend result to the client: column definitions, rows (text or binary), and the
//! closing EOF/OK, with several result sets when the backend returns more than one.
//!
//! Rows stream through: the output buffer is flushed every 64 KiB, so large results never sit
//! in the proxy's memory.

use crate::backend::ShardConn;
use crate::protocol::binary::binary_row;
use crate::protocol::packet::{PacketError, PacketStream};
use crate::protocol::writer::{self, OkInfo};
use mysql_async::prelude::Protocol;
use mysql_async::{QueryResult, Value};
use mysql_common::constants::StatusFlags;
use tokio::net::TcpStream;

/// What a relayed statement reported.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Rows affected (last result set).
    pub affected_rows: u64,
    /// Generated id, if any.
    pub last_insert_id: u64,
    /// Warnings raised.
    pub warnings: u16,
}

/// Why relaying stopped.
#[derive(Debug)]
pub enum RelayError {
    /// The backend failed; the client has not been sent this error yet.
    Backend(mysql_async::Error),
    /// The client socket failed.
    Client(PacketError),
}

/// How the rows are encoded for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFormat {
    /// COM_QUERY results.
    Text,
    /// COM_STMT_EXECUTE results.
    Binary,
}

/// Options for one relay.
#[derive(Debug, Clone, Copy)]
pub struct RelayOptions {
    /// Row encoding.
    pub format: RowFormat,
    /// Whether the client uses OK instead of EOF packets.
    pub deprecate_eof: bool,
    /// Session status flags to report.
    pub status: StatusFlags,
    /// More statements of the same COM_QUERY follow.
    pub more_after: bool,
}

/// Streams every result set of `result` to the client.
pub async fn relay<P: Protocol>(
    ps: &mut PacketStream<TcpStream>,
    mut result: QueryResult<'_, '_, P>,
    opts: RelayOptions,
) -> Result<Summary, RelayError> {
    let mut summary = Summary::default();
    loop {
        let columns = result.columns();
        let has_columns = columns.as_ref().is_some_and(|c| !c.is_empty());
        if !has_columns {
            summary.affected_rows = result.affected_rows();
            summary.last_insert_id = result.last_insert_id().unwrap_or(0);
            summary.warnings = result.warnings();
            let info = OkInfo {
                affected_rows: summary.affected_rows,
                last_insert_id: summary.last_insert_id,
                warnings: summary.warnings,
                info: result.info().into_owned(),
            };
            // Advance past this (empty) set to learn whether more follow.
            result.next().await.map_err(RelayError::Backend)?;
            let more = !result.is_empty();
            let status = status_for(opts, more);
            ps.write_with(|b| writer::ok_packet(b, 0, &info, status));
            if !more {
                return Ok(summary);
            }
            continue;
        }
        let columns = columns.unwrap_or_else(|| Vec::new().into());
        let mut header = Vec::with_capacity(9);
        writer::put_lenenc_int(&mut header, columns.len() as u64);
        ps.write(&header);
        for c in columns.iter() {
            ps.write_with(|b| writer::column_packet(b, c));
        }
        if !opts.deprecate_eof {
            ps.write_with(|b| writer::eof_packet(b, 0, opts.status));
        }
        while let Some(row) = result.next().await.map_err(RelayError::Backend)? {
            let values = row.unwrap_raw();
            match opts.format {
                RowFormat::Text => ps.write_with(|b| {
                    writer::text_row(
                        b,
                        values.iter().map(|v| match v {
                            Some(Value::Bytes(bytes)) => Some(bytes.as_slice()),
                            _ => None,
                        }),
                    )
                }),
                RowFormat::Binary => {
                    let vals: Vec<Value> = values
                        .into_iter()
                        .map(|v| v.unwrap_or(Value::NULL))
                        .collect();
                    ps.write_with(|b| binary_row(b, &columns, &vals));
                }
            }
            ps.flush_if_large().await.map_err(RelayError::Client)?;
        }
        summary.warnings = result.warnings();
        summary.affected_rows = 0;
        let more = !result.is_empty();
        let status = status_for(opts, more);
        if opts.deprecate_eof {
            let ok = OkInfo {
                warnings: summary.warnings,
                ..OkInfo::default()
            };
            ps.write_with(|b| writer::ok_packet(b, 0xFE, &ok, status));
        } else {
            ps.write_with(|b| writer::eof_packet(b, summary.warnings, status));
        }
        if !more {
            return Ok(summary);
        }
    }
}

fn status_for(opts: RelayOptions, more_in_result: bool) -> StatusFlags {
    let mut s = opts.status;
    if more_in_result || opts.more_after {
        s |= StatusFlags::SERVER_MORE_RESULTS_EXISTS;
    }
    s
}

/// Reads SHOW WARNINGS on the connection that raised them, so the session can answer later.
pub async fn collect_warnings(sc: &mut ShardConn) -> Vec<crate::session::Warning> {
    use mysql_async::prelude::Queryable;
    let rows: Result<Vec<(String, u32, String)>, _> = sc.conn.query("SHOW WARNINGS").await;
    match rows {
        Ok(rows) => rows
            .into_iter()
            .map(|(level, code, message)| crate::session::Warning {
                level,
                code,
                message,
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

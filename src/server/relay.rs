//! Relaying a backend result to the client without decoding it: column definitions and rows
//! (text or binary) are copied packet by packet from the backend's read buffer into the
//! client's output buffer (a column definition's schema, the backend database, is renamed to
//! the keyspace); only the packets that carry session status (OK, EOF) are rebuilt,
//! because the client sees the proxy session's status flags and its own EOF style.
//!
//! Rows stream through: the output buffer is flushed every 64 KiB, so large results never sit
//! in the proxy's memory.

use super::client_stream::ClientStream;
use crate::backend::wire::packets::{self, is_eof, parse_eof, parse_ok, MORE_RESULTS_EXISTS};
use crate::backend::wire::{WireConn, WireError};
use crate::backend::Backends;
use crate::backend::ShardConn;
use crate::protocol::packet::{PacketError, PacketStream};
use crate::protocol::writer::{self, OkInfo};
use mysql_common::constants::StatusFlags;

/// What a relayed statement reported.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Rows affected (last result set).
    pub affected_rows: u64,
    /// Generated id, if any.
    pub last_insert_id: u64,
    /// Warnings raised.
    pub warnings: u16,
    /// The last response was a result set (not an OK packet).
    pub result_set: bool,
    /// Rows relayed, all result sets.
    pub rows: u64,
}

/// Why relaying stopped.
#[derive(Debug)]
pub enum RelayError {
    /// The backend failed; the client has not been sent this error yet.
    Backend(WireError),
    /// The client socket failed.
    Client(PacketError),
}

/// Options for one relay.
#[derive(Debug, Clone, Copy)]
pub struct RelayOptions {
    /// Whether the client uses OK instead of EOF packets.
    pub deprecate_eof: bool,
    /// Session status flags to report.
    pub status: StatusFlags,
    /// More statements of the same COM_QUERY follow.
    pub more_after: bool,
    /// Rows are in the binary protocol (COM_STMT_EXECUTE).
    pub binary_rows: bool,
    /// A table-maintenance statement: each row's first cell, `db.table`, names the keyspace
    /// instead of the backend database.
    pub rename_table_cells: bool,
    /// A `SHOW` statement: headers and cells that name a backend database name the keyspace
    /// (see `show_results.rs`).
    pub rename_show: bool,
}

/// Streams every result set of the response to the command just sent on `conn` to the
/// client. An error packet of a later result set ends the relay with that error (after the
/// earlier sets were written, as MySQL does).
pub async fn relay(
    ps: &mut PacketStream<ClientStream>,
    conn: &mut WireConn,
    opts: RelayOptions,
    backends: &Backends,
) -> Result<Summary, RelayError> {
    let mut summary = Summary::default();
    loop {
        let p = conn.next_packet().await.map_err(RelayError::Backend)?;
        match p.first() {
            Some(0x00) => {
                let ok = parse_ok(p).map_err(RelayError::Backend)?;
                let more = ok.status & MORE_RESULTS_EXISTS != 0;
                summary.affected_rows = ok.affected_rows;
                summary.last_insert_id = ok.last_insert_id;
                summary.warnings = ok.warnings;
                summary.result_set = false;
                let info = OkInfo {
                    affected_rows: ok.affected_rows,
                    last_insert_id: ok.last_insert_id,
                    warnings: ok.warnings,
                    info: String::from_utf8_lossy(&ok.info).into_owned(),
                };
                ps.write_with(|b| writer::ok_packet(b, 0, &info, status_for(opts, more)));
                if !more {
                    return Ok(summary);
                }
            }
            Some(0xFF) => return Err(RelayError::Backend(packets::parse_err(p))),
            Some(0xFB) => {
                conn.mark_broken();
                return Err(RelayError::Backend(WireError::Protocol(
                    "LOAD DATA LOCAL INFILE is not supported through the proxy".into(),
                )));
            }
            _ => {
                let mut at = 0;
                let count = packets::lenenc(p, &mut at)
                    .ok_or_else(|| RelayError::Backend(packets::malformed("result set header")))?;
                ps.write(p);
                let (warnings, more) =
                    relay_rows(ps, conn, count, opts, backends, &mut summary.rows).await?;
                summary.warnings = warnings;
                summary.affected_rows = 0;
                summary.result_set = true;
                if !more {
                    return Ok(summary);
                }
            }
        }
    }
}

/// Copies the column definitions and rows of one result set and writes its terminator in
/// the client's style; returns the warnings and whether more result sets follow.
async fn relay_rows(
    ps: &mut PacketStream<ClientStream>,
    conn: &mut WireConn,
    count: u64,
    opts: RelayOptions,
    backends: &Backends,
    rows: &mut u64,
) -> Result<(u16, bool), RelayError> {
    let mut show = opts
        .rename_show
        .then(super::show_results::ShowColumns::default);
    for _ in 0..count {
        // The backend's bytes, but its database name in the schema field becomes the keyspace.
        let p = conn.next_packet().await.map_err(RelayError::Backend)?;
        if let Some(show) = show.as_mut() {
            ps.write_with(|b| show.relay_column(backends, b, p));
            continue;
        }
        ps.write_with(|b| {
            writer::relayed_column_packet(b, p, |schema| {
                std::str::from_utf8(schema)
                    .ok()
                    .filter(|s| !s.is_empty())
                    .and_then(|s| backends.keyspace_of_database(s))
                    .map(str::as_bytes)
            })
        });
    }
    let p = conn.next_packet().await.map_err(RelayError::Backend)?;
    if !is_eof(p) {
        conn.mark_broken();
        return Err(RelayError::Backend(packets::malformed(
            "EOF after column definitions",
        )));
    }
    if !opts.deprecate_eof {
        let status = opts.status;
        ps.write_with(|b| writer::eof_packet(b, 0, status));
    }
    loop {
        let p = conn.next_packet().await.map_err(RelayError::Backend)?;
        if is_eof(p) {
            let (warnings, status) = parse_eof(p);
            let more = status & MORE_RESULTS_EXISTS != 0;
            let status = status_for(opts, more);
            if opts.deprecate_eof {
                let ok = OkInfo {
                    warnings,
                    ..OkInfo::default()
                };
                ps.write_with(|b| writer::ok_packet(b, 0xFE, &ok, status));
            } else {
                ps.write_with(|b| writer::eof_packet(b, warnings, status));
            }
            return Ok((warnings, more));
        }
        if p.first() == Some(&0xFF) {
            // An error mid-result (e.g. a statement killed while sending rows).
            return Err(RelayError::Backend(packets::parse_err(p)));
        }
        *rows += 1;
        if let Some(show) = show.as_ref() {
            let row = show.rename_row(backends, p, opts.binary_rows);
            ps.write(&row);
        } else if opts.rename_table_cells {
            let row = super::backend_names::rename_first_cell(backends, p, opts.binary_rows, count);
            ps.write(&row);
        } else {
            ps.write(p);
        }
        if ps.pending() >= 64 * 1024 {
            ps.flush().await.map_err(|e| {
                conn.mark_broken();
                RelayError::Client(e)
            })?;
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
    let Ok(result) = sc.conn.query_result("SHOW WARNINGS").await else {
        return Vec::new();
    };
    let text = |v: &mysql_common::Value| match v {
        mysql_common::Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    };
    result
        .rows
        .iter()
        .filter(|r| r.len() >= 3)
        .map(|r| crate::session::Warning {
            level: text(&r[0]),
            code: text(&r[1]).parse().unwrap_or(0),
            message: text(&r[2]),
        })
        .collect()
}

//! Server-side cursors (`CURSOR_TYPE_READ_ONLY` in COM_STMT_EXECUTE, then COM_STMT_FETCH), as
//! MariaDB serves them: the result is materialized when the statement executes (MariaDB's
//! cursors are materialized too), the execute answers with the column definitions and an EOF
//! flagged `SERVER_STATUS_CURSOR_EXISTS` (no rows), and each fetch sends up to the asked
//! number of rows followed by an EOF flagged `CURSOR_EXISTS`, or `LAST_ROW_SENT` once fewer
//! rows than asked were left (the cursor is then closed). A fetch without an open cursor is
//! ER_STMT_HAS_NO_OPEN_CURSOR (1421); re-executing, resetting or closing the statement closes
//! its cursor. With `CLIENT_DEPRECATE_EOF` the EOFs are OK packets with the 0xFE header, as
//! MariaDB sends them.
//!
//! The materialized rows are held by the proxy, bounded by `limits.max_allowed_packet`
//! bytes for all of a session's open cursors together; a larger result is refused (1235)
//! instead of held.

use super::connection::{ClientConn, CommandError};
use super::statement::Exec;
use crate::backend::wire::packets;
use crate::backend::BackendError;
use crate::error::ProxyError;
use crate::protocol::writer::{self, OkInfo};
use mysql_common::constants::StatusFlags;
use std::collections::VecDeque;

/// The cursor flags of COM_STMT_EXECUTE (READ_ONLY, FOR_UPDATE, SCROLLABLE).
pub const CURSOR_FLAGS: u8 = 0x07;

/// An open cursor: the rows not fetched yet (binary-protocol row payloads).
#[derive(Debug, Default)]
pub struct Cursor {
    rows: VecDeque<Vec<u8>>,
    /// Bytes of the rows not fetched yet.
    bytes: usize,
}

/// A captured binary result set, split into its parts.
struct ResultParts<'a> {
    head: &'a [Vec<u8>],
    rows: &'a [Vec<u8>],
    warnings: u16,
}

/// Splits a captured response into column count + definitions, rows and the terminator's
/// warnings; `None` for anything but one complete result set (OK, ERR, several results).
fn split(packets: &[Vec<u8>], deprecate_eof: bool) -> Option<ResultParts<'_>> {
    let first = packets.first()?;
    if matches!(first.first(), Some(0x00 | 0xFF | 0xFB) | None) {
        return None;
    }
    let mut at = 0;
    let columns = usize::try_from(packets::lenenc(first, &mut at)?).ok()?;
    let mut next = 1 + columns;
    if !deprecate_eof {
        let eof = packets.get(next)?;
        if !(eof.first() == Some(&0xFE) && eof.len() < 9) {
            return None;
        }
        next += 1;
    }
    let last = packets.last()?;
    if packets.len() <= next || last.first() != Some(&0xFE) || last.len() >= 0xFF_FFFF {
        return None;
    }
    let (warnings, status) = if deprecate_eof {
        let mut at = 1;
        packets::lenenc(last, &mut at)?;
        packets::lenenc(last, &mut at)?;
        let b = last.get(at..at + 4)?;
        (
            u16::from_le_bytes([b[2], b[3]]),
            u16::from_le_bytes([b[0], b[1]]),
        )
    } else {
        let b = last.get(1..5)?;
        (
            u16::from_le_bytes([b[0], b[1]]),
            u16::from_le_bytes([b[2], b[3]]),
        )
    };
    if status & StatusFlags::SERVER_MORE_RESULTS_EXISTS.bits() != 0 {
        return None;
    }
    Some(ResultParts {
        head: &packets[..1 + columns],
        rows: &packets[next..packets.len() - 1],
        warnings,
    })
}

fn no_open_cursor(id: u32) -> ProxyError {
    ProxyError::Backend(BackendError::Server {
        code: 1421,
        state: "HY000".into(),
        message: format!("The statement ({id}) has no open cursor"),
    })
}

impl ClientConn {
    /// Writes the EOF that ends a cursor response, in the client's EOF style.
    fn write_cursor_eof(&mut self, warnings: u16, status: StatusFlags) {
        if self.session.deprecate_eof() {
            let ok = OkInfo {
                warnings,
                ..OkInfo::default()
            };
            self.ps
                .write_with(|b| writer::ok_packet(b, 0xFE, &ok, status));
        } else {
            self.ps
                .write_with(|b| writer::eof_packet(b, warnings, status));
        }
    }

    /// COM_STMT_EXECUTE with a cursor flag for a statement that has a result set: runs it,
    /// holds its rows, answers the column definitions (see the module header).
    pub(super) async fn execute_with_cursor(
        &mut self,
        id: u32,
        sql: &[u8],
        text: &str,
        exec: Exec,
    ) -> Result<(), CommandError> {
        self.ps.flush().await?;
        let limit = self.state.config.limits.max_allowed_packet;
        let held: usize = self.cursors.values().map(|c| c.bytes).sum();
        self.ps.start_capture(limit.saturating_sub(held));
        let res = self.run_statement(sql, text, &exec, false).await;
        let capture = self.ps.take_capture().unwrap_or_default();
        match res {
            Ok(()) => {}
            Err(CommandError::Proxy(e)) => {
                self.write_error(&e).await?;
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        if capture.overflowed {
            let e = ProxyError::NotSupported(format!(
                "a cursor over more than {limit} bytes of rows, counting the session's other \
                 open cursors (limits.max_allowed_packet)"
            ));
            self.write_error(&e).await?;
            return Ok(());
        }
        match split(&capture.packets, self.session.deprecate_eof()) {
            Some(parts) => {
                for p in parts.head {
                    self.ps.write(p);
                }
                let status = self.session.status() | StatusFlags::SERVER_STATUS_CURSOR_EXISTS;
                self.write_cursor_eof(parts.warnings, status);
                let rows: VecDeque<Vec<u8>> = parts.rows.to_vec().into();
                let bytes = rows.iter().map(Vec::len).sum();
                self.cursors.insert(id, Cursor { rows, bytes });
            }
            // No result set after all (or several): answered as it came.
            None => {
                for p in &capture.packets {
                    self.ps.write(p);
                }
            }
        }
        self.ps.flush().await?;
        Ok(())
    }

    /// COM_STMT_FETCH: up to `n` rows of the statement's open cursor.
    pub(super) async fn com_stmt_fetch(&mut self, id: u32, n: u32) -> Result<(), CommandError> {
        if !self.session.prepared.contains_key(&id) {
            return Err(ProxyError::UnknownStatement {
                id,
                command: "mysqld_stmt_fetch",
            }
            .into());
        }
        let Some(cursor) = self.cursors.get_mut(&id) else {
            return Err(no_open_cursor(id).into());
        };
        let mut sent = 0u32;
        while sent < n {
            let Some(row) = cursor.rows.pop_front() else {
                break;
            };
            cursor.bytes -= row.len();
            self.ps.write(&row);
            sent += 1;
            if self.ps.pending() >= 64 * 1024 {
                self.ps.flush().await?;
            }
        }
        let mut status = self.session.status();
        if sent < n {
            // Fewer rows than asked were left: the last one went out, the cursor closes.
            self.cursors.remove(&id);
            status |= StatusFlags::SERVER_STATUS_LAST_ROW_SENT;
        } else {
            status |= StatusFlags::SERVER_STATUS_CURSOR_EXISTS;
        }
        self.write_cursor_eof(0, status);
        self.ps.flush().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eof(status: u16) -> Vec<u8> {
        let mut p = vec![0xFE, 0, 0];
        p.extend_from_slice(&status.to_le_bytes());
        p
    }

    #[test]
    fn splits_a_binary_result() {
        let packets = vec![
            vec![1],
            b"coldef".to_vec(),
            eof(2),
            vec![0, 0, 1],
            vec![0, 0, 2],
            eof(2),
        ];
        let parts = split(&packets, false).expect("a result set");
        assert_eq!(parts.head.len(), 2);
        assert_eq!(parts.rows, &[vec![0, 0, 1], vec![0, 0, 2]][..]);
        // OK packets and several result sets are not cursor material.
        assert!(split(&[vec![0, 0, 0, 2, 0, 0, 0]], false).is_none());
        let mut more = packets.clone();
        *more.last_mut().expect("last") = eof(2 | 8);
        assert!(split(&more, false).is_none());
        // Deprecate-EOF style: no EOF after the definitions, an OK(0xFE) at the end.
        let packets = vec![
            vec![1],
            b"coldef".to_vec(),
            vec![0, 0, 7],
            vec![0xFE, 0, 0, 2, 0, 3, 0],
        ];
        let parts = split(&packets, true).expect("a result set");
        assert_eq!(parts.rows.len(), 1);
        assert_eq!(parts.warnings, 3);
    }
}

//! Parsing the few server packets the backend client must understand itself: OK, EOF and ERR,
//! and length-encoded integers.
//!
//! These sit on the hot path (every relayed statement ends with one), so they are parsed in
//! place without building `mysql_common` packet structs.

use super::WireError;

/// An OK packet (or an OK-style EOF), as far as the proxy needs it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ServerOk {
    /// Rows changed.
    pub affected_rows: u64,
    /// Generated id (0 when none).
    pub last_insert_id: u64,
    /// Server status flags.
    pub status: u16,
    /// Warnings raised.
    pub warnings: u16,
    /// Human-readable info (`Rows matched: 1  Changed: 1 ...`).
    pub info: Vec<u8>,
}

/// Server status flag: another result set follows.
pub const MORE_RESULTS_EXISTS: u16 = 0x0008;

/// Reads a length-encoded integer at `*at`, advancing it; `None` on a truncated or NULL value.
pub fn lenenc(buf: &[u8], at: &mut usize) -> Option<u64> {
    let first = *buf.get(*at)?;
    let (value, width) = match first {
        0..=0xFA => (u64::from(first), 1),
        0xFC => (
            u64::from(u16::from_le_bytes([*buf.get(*at + 1)?, *buf.get(*at + 2)?])),
            3,
        ),
        0xFD => {
            let b = buf.get(*at + 1..*at + 4)?;
            (u64::from(u32::from_le_bytes([b[0], b[1], b[2], 0])), 4)
        }
        0xFE => {
            let b = buf.get(*at + 1..*at + 9)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            (u64::from_le_bytes(a), 9)
        }
        _ => return None,
    };
    *at += width;
    Some(value)
}

fn u16_at(buf: &[u8], at: usize) -> u16 {
    match buf.get(at..at + 2) {
        Some(b) => u16::from_le_bytes([b[0], b[1]]),
        None => 0,
    }
}

/// Whether `p` is an EOF packet (0xFE and shorter than 9 bytes; longer ones are rows or
/// OK-style EOFs of clients that deprecate EOF, which the backend client never asks for).
pub fn is_eof(p: &[u8]) -> bool {
    p.first() == Some(&0xFE) && p.len() < 9
}

/// Parses an OK packet (header 0x00).
pub fn parse_ok(p: &[u8]) -> Result<ServerOk, WireError> {
    let mut at = 1;
    let affected_rows = lenenc(p, &mut at).ok_or_else(|| malformed("OK"))?;
    let last_insert_id = lenenc(p, &mut at).ok_or_else(|| malformed("OK"))?;
    let status = u16_at(p, at);
    let warnings = u16_at(p, at + 2);
    // The servers send the info text length-prefixed (MariaDB and MySQL both write it with
    // a length-encoded length, session tracking or not).
    let mut at = at + 4;
    let info = match lenenc(p, &mut at) {
        Some(len) => usize::try_from(len)
            .ok()
            .and_then(|len| p.get(at..at.checked_add(len)?))
            .ok_or_else(|| malformed("OK"))?
            .to_vec(),
        None => Vec::new(),
    };
    Ok(ServerOk {
        affected_rows,
        last_insert_id,
        status,
        warnings,
        info,
    })
}

/// Parses an EOF packet into `(warnings, status)`.
pub fn parse_eof(p: &[u8]) -> (u16, u16) {
    (u16_at(p, 1), u16_at(p, 3))
}

/// Turns an ERR packet (header 0xFF) into the server error it carries.
pub fn parse_err(p: &[u8]) -> WireError {
    let code = u16_at(p, 1);
    let (state, message) = if p.get(3) == Some(&b'#') && p.len() >= 9 {
        (
            String::from_utf8_lossy(&p[4..9]).into_owned(),
            String::from_utf8_lossy(&p[9..]).into_owned(),
        )
    } else {
        (
            "HY000".to_string(),
            String::from_utf8_lossy(p.get(3..).unwrap_or_default()).into_owned(),
        )
    };
    WireError::Server {
        code,
        state,
        message,
    }
}

/// A protocol error naming the packet that did not parse.
pub fn malformed(what: &str) -> WireError {
    WireError::Protocol(format!("malformed {what} packet from the server"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ok_with_info() {
        let p = [
            0x00, 0x03, 0xFC, 0x10, 0x27, 0x02, 0x00, 0x01, 0x00, 0x02, b'h', b'i',
        ];
        let ok = parse_ok(&p).expect("ok");
        assert_eq!(ok.affected_rows, 3);
        assert_eq!(ok.last_insert_id, 10000);
        assert_eq!(ok.status, 2);
        assert_eq!(ok.warnings, 1);
        assert_eq!(ok.info, b"hi");
    }

    #[test]
    fn parses_err_with_state() {
        let mut p = vec![0xFF, 0x26, 0x04, b'#'];
        p.extend_from_slice(b"23000Duplicate");
        match parse_err(&p) {
            WireError::Server {
                code,
                state,
                message,
            } => {
                assert_eq!(code, 1062);
                assert_eq!(state, "23000");
                assert_eq!(message, "Duplicate");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn eof_is_short_fe_only() {
        assert!(is_eof(&[0xFE, 0, 0, 2, 0]));
        assert!(!is_eof(&[0xFE, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
        assert!(!is_eof(&[0x00]));
        assert_eq!(parse_eof(&[0xFE, 1, 0, 0x22, 0]), (1, 0x22));
    }

    #[test]
    fn lenenc_widths() {
        let mut at = 0;
        assert_eq!(lenenc(&[0xFD, 1, 0, 1], &mut at), Some(65537));
        assert_eq!(at, 4);
        let mut at = 0;
        assert_eq!(lenenc(&[0xFB], &mut at), None);
    }
}

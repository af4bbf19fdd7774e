//! Decoding of client command packets (COM_*), after the handshake.
//!
//! Decoding never panics: anything short or unknown becomes [`Command::Malformed`] or
//! [`Command::Unknown`], which the session answers with an ERR packet.

/// A client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// COM_QUIT.
    Quit,
    /// COM_INIT_DB with the database name.
    InitDb(String),
    /// COM_QUERY with the SQL text (bytes as sent).
    Query(Vec<u8>),
    /// COM_FIELD_LIST: table and optional wildcard.
    FieldList {
        /// Table whose columns are listed.
        table: String,
        /// LIKE-style pattern, usually empty.
        wildcard: String,
    },
    /// COM_STATISTICS.
    Statistics,
    /// COM_PING.
    Ping,
    /// COM_CHANGE_USER.
    ChangeUser(ChangeUser),
    /// COM_RESET_CONNECTION.
    ResetConnection,
    /// COM_SET_OPTION (0 = multi-statements on, 1 = off).
    SetOption(u16),
    /// COM_STMT_PREPARE with the SQL text.
    StmtPrepare(Vec<u8>),
    /// COM_STMT_EXECUTE: the body after the command byte (decoded later, needs the param count).
    StmtExecute(Vec<u8>),
    /// COM_STMT_SEND_LONG_DATA.
    StmtSendLongData {
        /// Statement id.
        stmt_id: u32,
        /// Parameter index.
        param: u16,
        /// A chunk of the value.
        data: Vec<u8>,
    },
    /// COM_STMT_CLOSE.
    StmtClose(u32),
    /// COM_STMT_RESET.
    StmtReset(u32),
    /// COM_STMT_FETCH: rows from a statement's open cursor.
    StmtFetch {
        /// The statement.
        stmt_id: u32,
        /// How many rows at most.
        rows: u32,
    },
    /// A known command with a bad body.
    Malformed(&'static str),
    /// Any other command byte.
    Unknown(u8),
}

/// COM_CHANGE_USER fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeUser {
    /// New login name.
    pub user: String,
    /// Auth response computed with the connection's original scramble.
    pub auth_response: Vec<u8>,
    /// Database to switch to.
    pub database: Option<String>,
    /// New character set id, if sent.
    pub charset: Option<u16>,
    /// Auth plugin the client used.
    pub plugin: Vec<u8>,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn take_nul_str(b: &[u8]) -> (&[u8], &[u8]) {
    match b.iter().position(|&c| c == 0) {
        Some(i) => (&b[..i], &b[i + 1..]),
        None => (b, &[]),
    }
}

fn parse_change_user(body: &[u8], secure_connection: bool) -> Option<ChangeUser> {
    let (user, rest) = take_nul_str(body);
    let (auth, rest) = if secure_connection {
        let len = *rest.first()? as usize;
        (rest.get(1..1 + len)?, rest.get(1 + len..)?)
    } else {
        take_nul_str(rest)
    };
    let (db, rest) = take_nul_str(rest);
    let charset = rest.get(..2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    let rest = rest.get(2..).unwrap_or(&[]);
    let (plugin, _attrs) = take_nul_str(rest);
    Some(ChangeUser {
        user: String::from_utf8_lossy(user).into_owned(),
        auth_response: auth.to_vec(),
        database: (!db.is_empty()).then(|| String::from_utf8_lossy(db).into_owned()),
        charset,
        plugin: if plugin.is_empty() {
            b"mysql_native_password".to_vec()
        } else {
            plugin.to_vec()
        },
    })
}

/// Decodes a command packet; `secure_connection` is the CLIENT_SECURE_CONNECTION capability.
pub fn decode(payload: Vec<u8>, secure_connection: bool) -> Command {
    let Some((&code, body)) = payload.split_first() else {
        return Command::Malformed("empty packet");
    };
    let text = || String::from_utf8_lossy(body).into_owned();
    match code {
        0x01 => Command::Quit,
        0x02 => Command::InitDb(text()),
        0x03 => {
            let mut p = payload;
            p.remove(0);
            Command::Query(p)
        }
        0x04 => {
            let (table, wildcard) = take_nul_str(body);
            Command::FieldList {
                table: String::from_utf8_lossy(table).into_owned(),
                wildcard: String::from_utf8_lossy(wildcard).into_owned(),
            }
        }
        0x09 => Command::Statistics,
        0x0E => Command::Ping,
        0x11 => match parse_change_user(body, secure_connection) {
            Some(c) => Command::ChangeUser(c),
            None => Command::Malformed("COM_CHANGE_USER"),
        },
        0x16 => {
            let mut p = payload;
            p.remove(0);
            Command::StmtPrepare(p)
        }
        0x17 => {
            if body.len() < 9 {
                Command::Malformed("COM_STMT_EXECUTE")
            } else {
                Command::StmtExecute(body.to_vec())
            }
        }
        0x18 => match (u32_at(body, 0), body.get(4..6)) {
            (Some(stmt_id), Some(p)) => Command::StmtSendLongData {
                stmt_id,
                param: u16::from_le_bytes([p[0], p[1]]),
                data: body[6..].to_vec(),
            },
            _ => Command::Malformed("COM_STMT_SEND_LONG_DATA"),
        },
        0x19 => u32_at(body, 0).map_or(Command::Malformed("COM_STMT_CLOSE"), Command::StmtClose),
        0x1A => u32_at(body, 0).map_or(Command::Malformed("COM_STMT_RESET"), Command::StmtReset),
        0x1B => match body.get(..2) {
            Some(o) => Command::SetOption(u16::from_le_bytes([o[0], o[1]])),
            None => Command::Malformed("COM_SET_OPTION"),
        },
        0x1C => match (u32_at(body, 0), u32_at(body, 4)) {
            (Some(stmt_id), Some(rows)) => Command::StmtFetch { stmt_id, rows },
            _ => Command::Malformed("COM_STMT_FETCH"),
        },
        0x1F => Command::ResetConnection,
        other => Command::Unknown(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_basic_commands() {
        assert_eq!(decode(vec![0x01], true), Command::Quit);
        assert_eq!(
            decode(vec![0x03, b'S'], true),
            Command::Query(b"S".to_vec())
        );
        assert_eq!(decode(vec![0x19, 7, 0, 0, 0], true), Command::StmtClose(7));
        assert_eq!(
            decode(vec![0x19, 7], true),
            Command::Malformed("COM_STMT_CLOSE")
        );
        assert_eq!(decode(vec![], true), Command::Malformed("empty packet"));
        assert_eq!(decode(vec![0xEE, 1, 2], true), Command::Unknown(0xEE));
        assert_eq!(
            decode(vec![0x04, b't', 0, b'%'], true),
            Command::FieldList {
                table: "t".into(),
                wildcard: "%".into()
            }
        );
    }

    #[test]
    fn decodes_change_user() {
        let mut p = vec![0x11];
        p.extend_from_slice(b"app\0");
        p.push(3);
        p.extend_from_slice(b"xyz");
        p.extend_from_slice(b"commerce\0");
        p.extend_from_slice(&45u16.to_le_bytes());
        p.extend_from_slice(b"mysql_native_password\0");
        let Command::ChangeUser(c) = decode(p, true) else {
            panic!("not a change user")
        };
        assert_eq!(c.user, "app");
        assert_eq!(c.auth_response, b"xyz");
        assert_eq!(c.database.as_deref(), Some("commerce"));
        assert_eq!(c.charset, Some(45));
        assert_eq!(
            decode(vec![0x11, b'a', 0, 9], true),
            Command::Malformed("COM_CHANGE_USER")
        );
    }
}

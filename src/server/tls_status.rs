//! `SHOW [SESSION] STATUS LIKE 'Ssl_cipher'` and `'Ssl_version'`, answered for the client's
//! own connection to the proxy (a shard would describe its connection to the proxy instead).
//! Only these exact names are answered here; other status queries go to a shard as before.

use super::connection::ClientConn;
use super::local_answers::LocalResult;
use crate::protocol::writer;
use mysql_async::Value;
use mysql_common::constants::{ColumnFlags, ColumnType};
use mysql_common::packets::Column;

/// The status variables answered: as matched (lower-cased) and as shown.
const NAMES: [(&str, &str); 2] = [("ssl_cipher", "Ssl_cipher"), ("ssl_version", "Ssl_version")];

/// Which variable the normalized statement (see `local_answers::normalize`: trimmed,
/// single-spaced, lower-case) asks for, if it is `show [session|local] status like '<name>'`
/// for one of [`NAMES`].
fn asked(norm: &str) -> Option<&'static str> {
    let rest = norm.strip_prefix("show ")?;
    let rest = rest
        .strip_prefix("session ")
        .or_else(|| rest.strip_prefix("local "))
        .unwrap_or(rest);
    let pattern = rest.strip_prefix("status like ")?;
    let name = pattern
        .strip_prefix('\'')
        .and_then(|p| p.strip_suffix('\''))
        .or_else(|| pattern.strip_prefix('"').and_then(|p| p.strip_suffix('"')))?;
    NAMES
        .iter()
        .find(|(lower, _)| *lower == name)
        .map(|(_, shown)| *shown)
}

fn column(name: &str, org_name: &str, length: u32) -> Column {
    // As MariaDB 10.11 describes information_schema.SESSION_STATUS to a utf8mb4 client.
    Column::new(ColumnType::MYSQL_TYPE_VAR_STRING)
        .with_name(name.as_bytes())
        .with_org_name(org_name.as_bytes())
        .with_schema(b"information_schema")
        .with_table(b"SESSION_STATUS")
        .with_org_table(b"SESSION_STATUS")
        .with_character_set(writer::UTF8MB4_GENERAL_CI)
        .with_column_length(length)
        .with_flags(ColumnFlags::NOT_NULL_FLAG | ColumnFlags::NO_DEFAULT_VALUE_FLAG)
}

/// The answer to the normalized statement `norm` when it asks for `Ssl_cipher` or
/// `Ssl_version`: the TLS session of this client, empty when the client is not on TLS (as
/// MariaDB). Called by [`super::local_answers::answer`].
pub fn answer(conn: &ClientConn, norm: &str) -> Option<LocalResult> {
    let name = asked(norm)?;
    let (version, cipher) = conn.ps.get_ref().tls_info().unwrap_or_default();
    let value = if name == "Ssl_cipher" {
        cipher
    } else {
        version
    };
    Some(LocalResult {
        columns: vec![
            column("Variable_name", "VARIABLE_NAME", 256),
            column("Value", "VARIABLE_VALUE", 16384),
        ],
        rows: vec![vec![
            Value::Bytes(name.as_bytes().to_vec()),
            Value::Bytes(value.into_bytes()),
        ]],
    })
}

#[cfg(test)]
mod tests {
    use super::super::local_answers::normalize;
    use super::*;

    #[test]
    fn only_the_exact_names_are_taken() {
        assert_eq!(
            asked(&normalize("SHOW STATUS LIKE 'Ssl_cipher'")),
            Some("Ssl_cipher")
        );
        assert_eq!(
            asked(&normalize("show  session status like \"ssl_version\" ;")),
            Some("Ssl_version")
        );
        assert_eq!(
            asked(&normalize("SHOW LOCAL STATUS LIKE 'SSL_CIPHER'")),
            Some("Ssl_cipher")
        );
        assert_eq!(asked(&normalize("SHOW STATUS LIKE 'Ssl%'")), None);
        assert_eq!(
            asked(&normalize("SHOW GLOBAL STATUS LIKE 'Ssl_cipher'")),
            None
        );
        assert_eq!(asked(&normalize("SHOW STATUS LIKE 'Ssl_accepts'")), None);
        assert_eq!(asked(&normalize("SHOW VARIABLES LIKE 'Ssl_cipher'")), None);
    }
}

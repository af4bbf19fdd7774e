//! Statements the proxy answers itself, because a backend would answer them wrongly: the
//! current database (a keyspace, not the shard's database), the list of databases (keyspaces),
//! the server version (the one the handshake announced, not a shard's) and comment, and SHOW
//! WARNINGS (saved from the backend connection that raised them,
//! which may since have gone back to the pool).

use super::connection::ClientConn;
use super::statement::Exec;
use crate::backend::Backends;
use crate::error::ProxyError;
use crate::protocol::binary::binary_row;
use crate::protocol::writer::{self, OkInfo};
use crate::sql::{Needles, StatementKind};
use mysql_async::Value;
use mysql_common::constants::{ColumnFlags, ColumnType, StatusFlags};
use mysql_common::packets::Column;
use std::sync::LazyLock;

/// A result set built by the proxy.
#[derive(Debug, Clone)]
pub struct LocalResult {
    /// Column definitions.
    pub columns: Vec<Column>,
    /// Rows; `Value::Bytes` for strings, `Value::UInt` for counts, `Value::NULL` for NULL.
    pub rows: Vec<Vec<Value>>,
}

impl LocalResult {
    fn single(column: Column, value: Value) -> Self {
        LocalResult {
            columns: vec![column],
            rows: vec![vec![value]],
        }
    }
}

/// MariaDB's `decimals` for string results: 39 (NOT_FIXED_DEC).
const NOT_FIXED_DEC: u8 = 39;

/// A result column with the metadata MariaDB 10.11 sends for the same item (measured on the
/// server; see tests/column_definitions.rs).
fn mariadb_column(
    name: &str,
    ty: ColumnType,
    charset: u16,
    length: u32,
    flags: ColumnFlags,
    decimals: u8,
) -> Column {
    Column::new(ty)
        .with_name(name.as_bytes())
        .with_character_set(charset)
        .with_column_length(length)
        .with_flags(flags)
        .with_decimals(decimals)
}

/// A utf8mb4 string result as MariaDB types a function or variable holding `value`: length
/// four bytes per character.
fn text_column(name: &str, value: &str, flags: ColumnFlags) -> Column {
    let length = u32::try_from(value.chars().count().saturating_mul(4)).unwrap_or(u32::MAX);
    mariadb_column(
        name,
        ColumnType::MYSQL_TYPE_VAR_STRING,
        writer::UTF8MB4_GENERAL_CI,
        length,
        flags,
        NOT_FIXED_DEC,
    )
}

/// An unsigned integer result (`LAST_INSERT_ID()`, `@@warning_count`): LONGLONG, length 21.
fn unsigned_column(name: &str, flags: ColumnFlags) -> Column {
    mariadb_column(
        name,
        ColumnType::MYSQL_TYPE_LONGLONG,
        writer::BINARY_COLLATION,
        21,
        flags | ColumnFlags::UNSIGNED_FLAG | ColumnFlags::BINARY_FLAG,
        0,
    )
}

/// Lower-cased, whitespace-collapsed text without a trailing `;`, for matching short statements.
pub(super) fn normalize(text: &str) -> String {
    let t = text.trim().trim_end_matches(';');
    t.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase()
}

/// The proxy's own answer to `text`, if it has one.
pub fn answer(
    conn: &ClientConn,
    kind: StatementKind,
    text: &str,
) -> Option<Result<LocalResult, ProxyError>> {
    if !matches!(kind, StatementKind::Select | StatementKind::Show) || text.len() > 80 {
        return None;
    }
    // Cheap filter first: every statement answered here contains one of these words, and most
    // statements (point selects) contain none, so they skip the normalizing allocation.
    static MARKERS: LazyLock<Needles> = LazyLock::new(|| {
        Needles::new(&[
            "database",
            "schema",
            "version",
            "warning",
            "errors",
            "error_count",
            "last_insert_id",
            "ssl_",
        ])
    });
    if !MARKERS.any_in(text.as_bytes()) {
        return None;
    }
    let norm = normalize(text);
    let res = match norm.as_str() {
        "select database()" | "select schema()" => {
            let v = match &conn.session.target {
                Some(t) => Value::Bytes(t.database_name().into_bytes()),
                None => Value::NULL,
            };
            let name = if norm.ends_with("schema()") {
                "SCHEMA()"
            } else {
                "DATABASE()"
            };
            // MariaDB: 64 characters (NAME_LEN) of utf8mb4.
            let column = mariadb_column(
                name,
                ColumnType::MYSQL_TYPE_VAR_STRING,
                writer::UTF8MB4_GENERAL_CI,
                256,
                ColumnFlags::empty(),
                NOT_FIXED_DEC,
            );
            LocalResult::single(column, v)
        }
        "select @@version"
        | "select @@version limit 1"
        | "select @@global.version"
        | "select version()" => {
            let version = conn.state.identity.current().version;
            // VERSION() is NOT NULL, the variable is not.
            let flags = if norm.ends_with("()") {
                ColumnFlags::NOT_NULL_FLAG
            } else {
                ColumnFlags::empty()
            };
            LocalResult::single(
                text_column(select_item_name(text), &version, flags),
                Value::Bytes(version.as_bytes().to_vec()),
            )
        }
        "select @@version_comment limit 1" | "select @@version_comment" => {
            let comment = super::announced_values::VERSION_COMMENT;
            LocalResult::single(
                text_column("@@version_comment", comment, ColumnFlags::empty()),
                Value::Bytes(comment.as_bytes().to_vec()),
            )
        }
        "select last_insert_id()" => LocalResult::single(
            unsigned_column("LAST_INSERT_ID()", ColumnFlags::NOT_NULL_FLAG),
            Value::UInt(conn.session.last_insert_id),
        ),
        "show databases" | "show schemas" => LocalResult {
            // As MariaDB reads it from information_schema.SCHEMATA.
            columns: vec![mariadb_column(
                "Database",
                ColumnType::MYSQL_TYPE_VAR_STRING,
                writer::UTF8MB4_GENERAL_CI,
                256,
                ColumnFlags::NOT_NULL_FLAG | ColumnFlags::NO_DEFAULT_VALUE_FLAG,
                0,
            )
            .with_schema(b"information_schema")
            .with_table(b"SCHEMATA")
            .with_org_table(b"SCHEMATA")
            .with_org_name(b"SCHEMA_NAME")],
            rows: conn
                .state
                .backends
                .keyspace_order
                .iter()
                .map(|k| vec![Value::Bytes(k.clone().into_bytes())])
                .collect(),
        },
        "show warnings" | "show errors" => {
            let errors_only = norm == "show errors";
            LocalResult {
                columns: vec![
                    mariadb_column(
                        "Level",
                        ColumnType::MYSQL_TYPE_VAR_STRING,
                        writer::UTF8MB4_GENERAL_CI,
                        28,
                        ColumnFlags::NOT_NULL_FLAG,
                        NOT_FIXED_DEC,
                    ),
                    mariadb_column(
                        "Code",
                        ColumnType::MYSQL_TYPE_LONG,
                        writer::BINARY_COLLATION,
                        4,
                        ColumnFlags::NOT_NULL_FLAG
                            | ColumnFlags::UNSIGNED_FLAG
                            | ColumnFlags::BINARY_FLAG,
                        0,
                    ),
                    mariadb_column(
                        "Message",
                        ColumnType::MYSQL_TYPE_VAR_STRING,
                        writer::UTF8MB4_GENERAL_CI,
                        2048,
                        ColumnFlags::NOT_NULL_FLAG,
                        NOT_FIXED_DEC,
                    ),
                ],
                rows: conn
                    .session
                    .warnings
                    .iter()
                    .filter(|w| !errors_only || w.level == "Error")
                    .map(|w| {
                        vec![
                            Value::Bytes(w.level.clone().into_bytes()),
                            Value::UInt(w.code as u64),
                            Value::Bytes(
                                super::backend_names::rename_in_text(
                                    &conn.state.backends,
                                    &w.message,
                                )
                                .into_owned()
                                .into_bytes(),
                            ),
                        ]
                    })
                    .collect(),
            }
        }
        "show count(*) errors" | "select @@error_count" | "select @@session.error_count" => {
            let name = if norm.starts_with("show") {
                "@@session.error_count"
            } else {
                "@@error_count"
            };
            let errors = conn.session.warnings.iter().filter(|w| w.level == "Error");
            LocalResult {
                columns: vec![unsigned_column(name, ColumnFlags::empty())],
                rows: vec![vec![Value::UInt(errors.count() as u64)]],
            }
        }
        "show count(*) warnings" | "select @@warning_count" | "select @@session.warning_count" => {
            let name = if norm.starts_with("show") {
                "@@session.warning_count"
            } else {
                "@@warning_count"
            };
            LocalResult {
                columns: vec![unsigned_column(name, ColumnFlags::empty())],
                rows: vec![vec![Value::UInt(conn.session.warnings.len() as u64)]],
            }
        }
        // `SHOW [SESSION|LOCAL] STATUS LIKE 'Ssl_cipher'` / `'Ssl_version'`: this client's TLS.
        other => return super::tls_status::answer(conn, other).map(Ok),
    };
    Some(Ok(res))
}

/// Whether a statement reads the last statement's diagnostics (`SHOW WARNINGS`, `SHOW COUNT(*)
/// ERRORS`, `SELECT @@warning_count` ...), which therefore must not reset them.
pub fn reads_diagnostics(kind: StatementKind, text: &str) -> bool {
    if !matches!(kind, StatementKind::Select | StatementKind::Show) || text.len() > 80 {
        return false;
    }
    let norm = normalize(text);
    let norm = norm.as_str();
    norm.starts_with("show warnings")
        || norm.starts_with("show errors")
        || matches!(
            norm,
            "show count(*) warnings"
                | "show count(*) errors"
                | "select @@warning_count"
                | "select @@session.warning_count"
                | "select @@error_count"
                | "select @@session.error_count"
        )
}

/// The column name MySQL gives a one-item select: the item as the client wrote it
/// (`SELECT VERSION()` names its column `VERSION()`), without a trailing `LIMIT`.
fn select_item_name(text: &str) -> &str {
    let t = text.trim().trim_end_matches(';').trim_end();
    let item = t.get(6..).unwrap_or("").trim_start();
    match item.to_ascii_lowercase().rfind(" limit ") {
        Some(at) => item[..at].trim_end(),
        None => item,
    }
}

fn text_of(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(b.clone()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        Value::UInt(u) => Some(u.to_string().into_bytes()),
        other => Some(other.as_sql(true).into_bytes()),
    }
}

/// The schema a client sees for a column a shard reported in `schema`: the keyspace name where
/// that is a shard's backend database (backend database names never reach clients), else the
/// schema unchanged (empty for expressions).
pub fn client_schema<'a>(backends: &'a Backends, schema: &'a [u8]) -> &'a [u8] {
    std::str::from_utf8(schema)
        .ok()
        .filter(|s| !s.is_empty())
        .and_then(|s| backends.keyspace_of_database(s))
        .map_or(schema, str::as_bytes)
}

impl ClientConn {
    /// Writes a proxy-built result set (text or binary rows, per how the statement came).
    pub fn write_local_result(&mut self, res: &LocalResult, exec: &Exec, more: bool) {
        self.write_result_head(&res.columns);
        for row in &res.rows {
            self.write_result_row(&res.columns, row, exec);
        }
        self.write_result_tail(more);
    }

    /// [`Self::write_local_result`] for large results: rows go out every 64 KiB (the proxy
    /// never holds the whole encoded result), and the task yields every 1,024 rows so other
    /// sessions are served while a large merged result is written.
    pub async fn write_local_result_streaming(
        &mut self,
        res: &LocalResult,
        exec: &Exec,
        more: bool,
    ) -> Result<(), crate::protocol::packet::PacketError> {
        self.write_result_head(&res.columns);
        for (i, row) in res.rows.iter().enumerate() {
            self.write_result_row(&res.columns, row, exec);
            if self.ps.pending() >= 64 * 1024 {
                self.ps.flush().await?;
            }
            if i % 1024 == 1023 {
                tokio::task::yield_now().await;
            }
        }
        self.write_result_tail(more);
        Ok(())
    }

    pub(crate) fn write_result_head(&mut self, columns: &[Column]) {
        // After a result set, ROW_COUNT() is -1, as in MariaDB.
        self.session.row_count = -1;
        let status = self.session.status();
        let deprecate_eof = self.session.deprecate_eof();
        let mut header = Vec::new();
        writer::put_lenenc_int(&mut header, columns.len() as u64);
        self.ps.write(&header);
        let backends = self.state.backends.clone();
        for c in columns {
            let schema = client_schema(&backends, c.schema_ref());
            self.ps
                .write_with(|b| writer::column_packet_in(b, c, schema));
        }
        if !deprecate_eof {
            self.ps.write_with(|b| writer::eof_packet(b, 0, status));
        }
    }

    pub(crate) fn write_result_row(&mut self, columns: &[Column], row: &[Value], exec: &Exec) {
        self.observed.rows += 1;
        match exec {
            Exec::Text => {
                let cells: Vec<Option<Vec<u8>>> = row.iter().map(text_of).collect();
                self.ps
                    .write_with(|b| writer::text_row(b, cells.iter().map(|c| c.as_deref())));
            }
            Exec::Binary(_) => self.ps.write_with(|b| binary_row(b, columns, row)),
        }
    }

    pub(crate) fn write_result_tail(&mut self, more: bool) {
        let mut status = self.session.status();
        if more {
            status |= StatusFlags::SERVER_MORE_RESULTS_EXISTS;
        }
        if self.session.deprecate_eof() {
            self.ps
                .write_with(|b| writer::ok_packet(b, 0xFE, &OkInfo::default(), status));
        } else {
            self.ps.write_with(|b| writer::eof_packet(b, 0, status));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(normalize("  SELECT   DATABASE() ;"), "select database()");
        assert_eq!(
            normalize("select @@version_comment limit 1"),
            "select @@version_comment limit 1"
        );
    }

    #[test]
    fn select_item_names_keep_the_clients_spelling() {
        assert_eq!(select_item_name("SELECT VERSION()"), "VERSION()");
        assert_eq!(select_item_name("select  @@Version LIMIT 1;"), "@@Version");
        assert_eq!(
            select_item_name("select\n@@global.version"),
            "@@global.version"
        );
    }
}

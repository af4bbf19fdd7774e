//! `SHOW [GLOBAL | SESSION | LOCAL] VARIABLES [LIKE '...' | WHERE ...]`, as drivers and tools
//! send it at connect (`SHOW VARIABLES LIKE 'sql_mode'`, `'lower_case_table_names'`,
//! `'character_set%'`, `'max_allowed_packet'`): run on a shard of the session's keyspace (on
//! the session's connection, so its settings show), then answered by the proxy with
//! - the rows naming backend paths, hosts and files left out (the variables `SELECT @@datadir`
//!   is refused for, names with `dir`, `path`, `socket`, `host`, `ssl`, ... in them or ending in `file`,
//!   and any value holding a `/` or `\`), so nothing of the backend's file system reaches a
//!   client;
//! - `version`, `version_comment` and `autocommit` the proxy's (as `SELECT @@...` answers).
//!
//! The prepared form stays refused by the access check (its rows would not be filtered).

use super::announced_values::VERSION_COMMENT;
use super::connection::ClientConn;
use super::local_answers::LocalResult;
use crate::error::ProxyError;
use crate::sql::{self, TokenKind};
use mysql_async::Value;

/// Whether `text` is a SHOW VARIABLES statement (comments ignored).
pub(super) fn asks(text: &str) -> bool {
    let tokens = sql::tokenize(text);
    let mut words = tokens
        .iter()
        .filter(|t| t.kind != TokenKind::Comment)
        .map(|t| t.text(text).to_ascii_lowercase());
    if words.next().as_deref() != Some("show") {
        return false;
    }
    let mut next = words.next();
    if matches!(next.as_deref(), Some("global" | "session" | "local")) {
        next = words.next();
    }
    next.as_deref() == Some("variables")
}

/// What one row becomes: dropped (None) or its value, maybe replaced.
fn keep(name: &str, value: Value, announced: &Announced<'_>) -> Option<Value> {
    let lower = name.to_ascii_lowercase();
    if crate::access::is_path_variable(&lower)
        || REVEALING.iter().any(|w| lower.contains(w))
        || lower.ends_with("file")
        || lower.ends_with("filename")
        || looks_like_path(&value)
    {
        return None;
    }
    let text = |s: &str| Value::Bytes(s.as_bytes().to_vec());
    Some(match lower.as_str() {
        "version" => text(announced.version),
        "version_comment" => text(VERSION_COMMENT),
        "autocommit" if !announced.global => text(if announced.autocommit { "ON" } else { "OFF" }),
        _ => value,
    })
}

/// Parts of variable names whose values name the backend's files, directories, hosts or
/// certificates (`log_basename`, `report_host`, `wsrep_node_name`, `ssl_cert`, ...).
const REVEALING: &[&str] = &[
    "dir",
    "path",
    "socket",
    "host",
    "address",
    "basename",
    "node_name",
    "ssl",
    "tls",
    "pid",
    "relay_log",
    "log_bin",
];

/// A value holding a path separator: a file-system path, whatever its variable.
fn looks_like_path(value: &Value) -> bool {
    matches!(value, Value::Bytes(b) if b.contains(&b'/') || b.contains(&b'\\'))
}

struct Announced<'a> {
    version: &'a str,
    autocommit: bool,
    global: bool,
}

impl ClientConn {
    /// Answers a SHOW VARIABLES statement (see the module).
    pub(super) async fn show_variables(&mut self, text: &str) -> Result<LocalResult, ProxyError> {
        let keyspace = match &self.session.target {
            Some(t) => t.keyspace.clone(),
            None => self
                .state
                .backends
                .keyspace_order
                .first()
                .cloned()
                .ok_or_else(|| {
                    ProxyError::NotSupported("SHOW VARIABLES without keyspaces".into())
                })?,
        };
        let shard = self.shard_at(&keyspace, 0)?;
        let mut sc = self.acquire(&shard, false).await?;
        let res = sc.conn.query_result(text.as_bytes()).await;
        let res = sc.check(res);
        self.put_back(sc).await;
        let res = res?;
        let version = self.state.identity.current().version;
        let global = {
            let lower = text.to_ascii_lowercase();
            lower.split_whitespace().nth(1) == Some("global")
        };
        let announced = Announced {
            version: &version,
            autocommit: self.session.autocommit,
            global,
        };
        let rows = res
            .rows
            .into_iter()
            .filter_map(|mut row| {
                let name = match row.first() {
                    Some(Value::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
                    _ => return Some(row),
                };
                let value = row.get(1).cloned().unwrap_or(Value::NULL);
                let value = keep(&name, value, &announced)?;
                if let Some(slot) = row.get_mut(1) {
                    *slot = value;
                }
                Some(row)
            })
            .collect();
        Ok(LocalResult {
            columns: res.columns,
            rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_show_variables() {
        assert!(asks("SHOW VARIABLES LIKE 'sql_mode'"));
        assert!(asks(
            "show /* x */ session variables where Variable_name = 'a'"
        ));
        assert!(asks("SHOW GLOBAL VARIABLES"));
        assert!(!asks("SHOW STATUS"));
        assert!(!asks("SELECT 'show variables'"));
    }

    #[test]
    fn filters_and_replaces() {
        let a = Announced {
            version: "10.11.19-MariaDB-shardgate",
            autocommit: false,
            global: false,
        };
        let v = |s: &str| Value::Bytes(s.as_bytes().to_vec());
        assert_eq!(keep("datadir", v("/var/lib/mysql"), &a), None);
        assert_eq!(keep("socket", v("/run/mysqld.sock"), &a), None);
        assert_eq!(
            keep("version", v("10.11.19-MariaDB-log"), &a),
            Some(v("10.11.19-MariaDB-shardgate"))
        );
        assert_eq!(keep("autocommit", v("ON"), &a), Some(v("OFF")));
        assert_eq!(keep("sql_mode", v("ANSI"), &a), Some(v("ANSI")));
        assert_eq!(keep("log_slow_query_file", v("x-slow.log"), &a), None);
        assert_eq!(
            keep("character_set_filesystem", v("binary"), &a),
            Some(v("binary"))
        );
        assert_eq!(keep("report_host", v("box"), &a), None);
        assert_eq!(keep("optimizer_trace", v("a/b"), &a), None);
        assert_eq!(keep("lower_case_table_names", v("0"), &a), Some(v("0")));
    }
}

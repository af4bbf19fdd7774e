//! Per-client session state: user, target, autocommit, transaction, settings, prepared statements.
//!
//! Transaction states (driven by BEGIN/COMMIT/ROLLBACK, `SET autocommit` and statements):
//!
//! ```text
//!            BEGIN / START TRANSACTION             first statement on a shard:
//!   Idle ─────────────────────────────────▶ Open ── reserve conn, send BEGIN text, then stmt
//!    ▲  ▲                                    │
//!    │  └──── COMMIT / ROLLBACK (all shards) ┘
//!    │
//!    └── autocommit=0: any statement implicitly opens (as if BEGIN); SET autocommit=1 commits
//! ```
//!
//! Connections: outside a transaction and without settings, each statement borrows a pooled
//! connection and returns it. Settings (`SET NAMES`, `SET sql_mode`, `@user` variables, ...) are
//! recorded in order; once there are any, the session reserves one connection per shard it
//! touches and replays the settings on it (like Vitess's reserved connections). Reserved
//! connections are rolled back and reset before they return to the pool.

use crate::backend::{CommitOrder, ShardConn};
use crate::protocol::binary::ParamType;
use crate::sql::{Charset, SqlMode};
use mysql_common::constants::{CapabilityFlags, StatusFlags};
use mysql_common::packets::Column;
use std::collections::HashMap;
use std::sync::Arc;

/// Where unqualified statements go: a keyspace, optionally pinned to one shard (`USE ks:-80`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Keyspace name.
    pub keyspace: String,
    /// Shard name when the client targeted one explicitly.
    pub shard: Option<String>,
}

impl Target {
    /// What `DATABASE()` answers for this target: `ks`, or `ks:shard` when pinned to a shard.
    pub fn database_name(&self) -> String {
        match &self.shard {
            Some(s) => format!("{}:{}", self.keyspace, s),
            None => self.keyspace.clone(),
        }
    }
}

/// How a transaction may span shards (`SET transaction_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionMode {
    /// Commit shard by shard; report which shards committed if one fails.
    Multi,
    /// Refuse to touch a second shard inside a transaction.
    Single,
}

/// An open transaction.
#[derive(Debug, Clone)]
pub struct Transaction {
    /// The statement that opened it, replayed on each shard that joins (e.g. `START TRANSACTION READ ONLY`).
    pub begin_sql: String,
    /// SAVEPOINT statements so far, replayed on shards joining later.
    pub savepoints: Vec<String>,
    /// Opened by the proxy around one autocommit statement that must commit in order
    /// (owner DML of a consistent lookup vindex); committed or rolled back with it.
    pub implicit: bool,
    /// The VSchema generation of the transaction's first statement, held until the
    /// transaction ends (a lookup workflow waits for it; see `workflow::generations`).
    pub vschema_pin: Option<Arc<crate::world::generations::GenerationGuard>>,
    /// Whether it wrote to a sharded keyspace: such a transaction may not commit while the
    /// proxy is out of step with the topology (its writes may miss a new lookup vindex).
    pub wrote_sharded: bool,
}

impl Transaction {
    /// A transaction opened by `begin_sql`.
    pub fn new(begin_sql: &str) -> Self {
        Transaction {
            begin_sql: begin_sql.to_string(),
            savepoints: Vec::new(),
            implicit: false,
            vschema_pin: None,
            wrote_sharded: false,
        }
    }
}

/// What the proxy knows of a session's `sql_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionSqlMode {
    /// Never changed by the client: the servers' global mode.
    ServerDefault,
    /// As the backend reported it after the client's last SET.
    Known(SqlMode),
    /// Changed in a way the proxy could not read back.
    Unknown,
}

/// A recorded session-changing statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// `scope:name` when the statement sets exactly one variable (later ones replace it).
    pub key: Option<String>,
    /// The statement text, replayed verbatim.
    pub sql: String,
}

/// A statement prepared by the client.
#[derive(Debug, Clone)]
pub struct PreparedStatement {
    /// SQL as the client sent it (routed again at each execute; shared, so an execute does
    /// not copy it).
    pub sql: std::sync::Arc<[u8]>,
    /// Number of `?` parameters.
    pub param_count: usize,
    /// Result columns reported at prepare time.
    pub columns: Vec<Column>,
    /// Parameter types from the last execute that sent them.
    pub param_types: Option<Vec<ParamType>>,
    /// Data from COM_STMT_SEND_LONG_DATA, per parameter.
    pub long_data: Vec<Option<Vec<u8>>>,
}

/// One row of SHOW WARNINGS, saved from the backend that raised it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Level (Note, Warning, Error).
    pub level: String,
    /// MySQL code.
    pub code: u32,
    /// Message.
    pub message: String,
}

/// All state of one client connection.
#[derive(Debug)]
pub struct Session {
    /// Connection id given in the handshake.
    pub connection_id: u32,
    /// Logged-in user.
    pub user: String,
    /// Whether the user may run state-changing admin statements.
    pub is_admin: bool,
    /// Client address, for messages.
    pub peer: String,
    /// Capabilities in effect.
    pub capabilities: CapabilityFlags,
    /// Current keyspace/shard, if any.
    pub target: Option<Target>,
    /// Autocommit flag as the client set it.
    pub autocommit: bool,
    /// The open transaction, if any.
    pub transaction: Option<Transaction>,
    /// The session's statement time limit (`SET max_statement_time` / `max_execution_time`;
    /// zero = none); None = `limits.statement_timeout_ms`.
    pub max_statement_time: Option<std::time::Duration>,
    /// Transaction mode.
    pub transaction_mode: TransactionMode,
    /// Session-changing statements, replayed in order on every connection the session reserves.
    /// Reserved connections always have all of them applied.
    pub settings: Vec<Setting>,
    /// Set when a statement created backend state that cannot be replayed (temporary tables,
    /// named locks, SQL_CALC_FOUND_ROWS, ...): the session keeps its connections from then on.
    pub pinned: bool,
    /// The last id generated by an INSERT in this session (answers LAST_INSERT_ID()).
    pub last_insert_id: u64,
    /// What `ROW_COUNT()` answers: the previous statement's affected rows, -1 after a result
    /// set or an error (see `server::session_values`).
    pub row_count: i64,
    /// While a statement that calls `LAST_INSERT_ID(expr)` runs on a sharded keyspace: the value
    /// its shard queries primed each connection with and the value they set (see
    /// `server::last_insert_id`). None otherwise.
    pub last_insert_id_tracking: Option<(u64, Option<u64>)>,
    /// Connections pinned to this session (transaction or settings).
    pub reserved: Vec<ShardConn>,
    /// Prepared statements by id.
    pub prepared: HashMap<u32, PreparedStatement>,
    /// Next prepared statement id.
    pub next_statement_id: u32,
    /// Warnings of the last statement.
    pub warnings: Vec<Warning>,
    /// Whether COM_QUERY may carry several statements.
    pub multi_statements: bool,
    /// While VEXPLAIN QUERIES runs: every query sent to a shard, in order.
    pub query_log: Option<Vec<LoggedQuery>>,
    /// The character set the client writes in and reads results in (`character_set_client`,
    /// equal to `character_set_results`); `None` when the two differ or are not known.
    /// Generated SQL writes string values with this introducer.
    pub charset: Option<Charset>,
    /// What the proxy knows of the session's `sql_mode` (see [`Session::sql_mode_flags`]).
    pub sql_mode: SessionSqlMode,
    /// SQL-level prepared statements the proxy holds and the user variables it knows
    /// (`server::sql_prepare`).
    pub sql_level: SqlLevel,
}

/// SQL-level `PREPARE` / `EXECUTE` state the proxy keeps for sharded keyspaces.
#[derive(Debug, Clone, Default)]
pub struct SqlLevel {
    /// Prepared statements by lower-cased name: their text.
    pub statements: HashMap<String, String>,
    /// User variables whose value the proxy knows (set by `SET @v = <literal>` and not
    /// possibly changed since), by lower-cased name.
    pub user_vars: HashMap<String, UserValue>,
}

/// A user variable's value, as `SET @v = <literal>` gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserValue {
    /// `NULL`.
    Null,
    /// An integer (`TRUE` / `FALSE` are 1 / 0).
    Int(i64),
    /// A decimal or approximate number as written (`1.50`, `-2e3`).
    Number(String),
    /// A string's bytes, in the session's character set.
    Text(Vec<u8>),
}

/// One query a shard received (VEXPLAIN QUERIES).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedQuery {
    /// Keyspace.
    pub keyspace: String,
    /// Shard name.
    pub shard: String,
    /// The query text as sent.
    pub sql: String,
}

impl Session {
    /// A fresh session after authentication.
    pub fn new(
        connection_id: u32,
        user: String,
        is_admin: bool,
        peer: String,
        capabilities: CapabilityFlags,
    ) -> Self {
        Session {
            connection_id,
            user,
            is_admin,
            peer,
            multi_statements: capabilities.contains(CapabilityFlags::CLIENT_MULTI_STATEMENTS),
            capabilities,
            target: None,
            autocommit: true,
            transaction: None,
            max_statement_time: None,
            transaction_mode: TransactionMode::Multi,
            settings: Vec::new(),
            pinned: false,
            last_insert_id: 0,
            row_count: 0,
            last_insert_id_tracking: None,
            reserved: Vec::new(),
            prepared: HashMap::new(),
            next_statement_id: 1,
            warnings: Vec::new(),
            query_log: None,
            charset: Some(Charset::UTF8MB4),
            sql_mode: SessionSqlMode::ServerDefault,
            sql_level: SqlLevel::default(),
        }
    }

    /// Sets the character set from a handshake or COM_CHANGE_USER collation number.
    pub fn set_charset_from_collation(&mut self, collation: u16) {
        self.charset = Charset::from_collation_id(collation);
    }

    /// Records the session's character sets and `sql_mode` as a backend reports them
    /// (`@@character_set_client`, `@@character_set_results`, `@@sql_mode`) after a SET.
    pub fn observe_text_settings(&mut self, client: &str, results: Option<&str>, sql_mode: &str) {
        let client = Charset::from_name(client);
        self.charset = match results.map(Charset::from_name) {
            Some(r) if r == client => client,
            _ => None,
        };
        self.sql_mode = SessionSqlMode::Known(SqlMode::parse(sql_mode));
    }

    /// Forgets the character sets and `sql_mode` (a SET changed them in a way the proxy could
    /// not read back); mode-dependent statements on sharded keyspaces are refused until a
    /// later SET makes them known again.
    pub fn forget_text_settings(&mut self) {
        self.charset = None;
        self.sql_mode = SessionSqlMode::Unknown;
    }

    /// The session's `sql_mode` flags, given the servers' global mode (`None` while the proxy
    /// has not read it); `None` when not known.
    pub fn sql_mode_flags(&self, server: Option<SqlMode>) -> Option<SqlMode> {
        match self.sql_mode {
            SessionSqlMode::ServerDefault => server,
            SessionSqlMode::Known(m) => Some(m),
            SessionSqlMode::Unknown => None,
        }
    }

    /// Records a query sent to a shard, when VEXPLAIN QUERIES is listening.
    pub fn log_query(&mut self, keyspace: &str, shard: &str, sql: &[u8]) {
        if let Some(log) = self.query_log.as_mut() {
            log.push(LoggedQuery {
                keyspace: keyspace.to_string(),
                shard: shard.to_string(),
                sql: String::from_utf8_lossy(sql).into_owned(),
            });
        }
    }

    /// Whether the client asked for OK packets instead of EOF.
    pub fn deprecate_eof(&self) -> bool {
        self.capabilities
            .contains(CapabilityFlags::CLIENT_DEPRECATE_EOF)
    }

    /// Status flags for OK/EOF packets.
    pub fn status(&self) -> StatusFlags {
        let mut s = StatusFlags::empty();
        if self.autocommit {
            s |= StatusFlags::SERVER_STATUS_AUTOCOMMIT;
        }
        if self.transaction.is_some() {
            s |= StatusFlags::SERVER_STATUS_IN_TRANS;
        }
        s
    }

    /// Takes the reserved connection for a shard and transaction list out of the session, if
    /// there is one: the one already in that list's transaction, else one in no transaction
    /// (which then joins `order`).
    pub fn take_reserved(
        &mut self,
        keyspace: &str,
        shard: &str,
        order: CommitOrder,
    ) -> Option<ShardConn> {
        let here = |c: &ShardConn| c.shard.keyspace == keyspace && c.shard.name == shard;
        let i = self
            .reserved
            .iter()
            .position(|c| here(c) && c.in_txn && c.order == order)
            .or_else(|| self.reserved.iter().position(|c| here(c) && !c.in_txn))?;
        // `remove`, not `swap_remove`: the order is the commit order (first use first).
        let mut sc = self.reserved.remove(i);
        sc.order = order;
        Some(sc)
    }

    /// Whether statements must run on reserved connections.
    pub fn needs_reservation(&self) -> bool {
        self.transaction.is_some() || !self.settings.is_empty() || self.pinned
    }

    /// Records a setting, replacing an earlier one that set the same single variable.
    pub fn record_setting(&mut self, key: Option<String>, sql: String) {
        if let Some(k) = &key {
            self.settings.retain(|s| s.key.as_ref() != Some(k));
        }
        self.settings.push(Setting { key, sql });
    }

    /// Allocates an id for a new prepared statement.
    pub fn allocate_statement_id(&mut self) -> u32 {
        let id = self.next_statement_id;
        self.next_statement_id = self.next_statement_id.wrapping_add(1).max(1);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session::new(1, "u".into(), false, "p".into(), CapabilityFlags::empty())
    }

    #[test]
    fn charset_and_sql_mode_tracking() {
        let mut s = session();
        assert_eq!(s.charset, Some(Charset::UTF8MB4));
        let nbe = SqlMode::parse("NO_BACKSLASH_ESCAPES");
        // Never changed: the servers' mode, unknown until read.
        assert_eq!(s.sql_mode_flags(None), None);
        assert_eq!(s.sql_mode_flags(Some(nbe)), Some(nbe));
        s.set_charset_from_collation(28);
        assert_eq!(s.charset.map(Charset::name), Some("gbk"));
        s.observe_text_settings("sjis", Some("sjis"), "STRICT_TRANS_TABLES");
        assert_eq!(s.charset.map(Charset::name), Some("sjis"));
        assert_eq!(s.sql_mode_flags(Some(nbe)), Some(SqlMode::default()));
        // Results in another character set (or NULL): values cannot be written back safely.
        s.observe_text_settings("latin1", None, "ANSI_QUOTES");
        assert_eq!(s.charset, None);
        assert!(s.sql_mode_flags(None).is_some_and(|m| m.ansi_quotes));
        s.forget_text_settings();
        assert_eq!((s.charset, s.sql_mode_flags(Some(nbe))), (None, None));
    }
}

//! `[limits]`: bounds on what one client may make the proxy (and the shards behind it) do.
//!
//! Every bound is checked before the work it protects starts: statement size and expression
//! shape before anything recursive (tokenizer-level pre-check, then sqlparser with a recursion
//! limit), packet sizes before a buffer is reserved. Defaults are generous for applications and
//! far below what crashes the proxy or a MariaDB shard.

use serde::{Deserialize, Serialize};

/// `[limits]`: resource bounds per statement and per session.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest statement (COM_QUERY / COM_STMT_PREPARE text) and largest total of
    /// COM_STMT_SEND_LONG_DATA per statement, in bytes (MariaDB's `max_allowed_packet`; error
    /// 1153 beyond it).
    pub max_allowed_packet: usize,
    /// Deepest parenthesis nesting in a statement (error 1473 beyond it); also sqlparser's
    /// recursion limit.
    pub max_nesting_depth: usize,
    /// Longest chain of operators one expression may hold, summed over the enclosing
    /// parentheses (`a+b+…`, `x=1 AND y=2 AND …`): the depth of the expression tree every
    /// recursive walk follows (error 1473 beyond it).
    pub max_expression_depth: usize,
    /// Most tokens in one statement (error 1153-like 1235 beyond it).
    pub max_tokens: usize,
    /// Most values in one `IN (...)` list or one `VALUES` statement (error 1235 beyond it).
    pub max_in_list: usize,
    /// Most prepared statements one session may hold (error 1461 beyond it).
    pub max_prepared_stmt_count: usize,
    /// Most client connections at once; one more is answered 1040 "Too many connections"
    /// at once and closed.
    pub max_connections: usize,
    /// Default time limit of one statement, in milliseconds (0 = none): past it, the proxy
    /// sends `KILL QUERY` to every shard the statement runs on and answers MariaDB's 1969
    /// (ER_STATEMENT_TIMEOUT). A session changes its own with `SET max_statement_time =
    /// <seconds>` (MariaDB) or `SET max_execution_time = <ms>` (MySQL).
    pub statement_timeout_ms: u64,
    /// A session idle this long, in milliseconds, inside an open transaction is disconnected
    /// (its shard transactions rolled back, its connections released), like MariaDB's
    /// `idle_transaction_timeout` (0 = never).
    pub transaction_idle_timeout_ms: u64,
    /// Most bytes of shard rows one statement may make the proxy hold to merge them (scatter
    /// ORDER BY, GROUP BY, aggregates; estimated as payload plus decoded values): beyond it
    /// the statement fails with 1104 (ER_TOO_BIG_SELECT) naming this limit. 0 = unbounded.
    pub max_merge_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_allowed_packet: 64 * 1024 * 1024,
            max_nesting_depth: 40,
            max_expression_depth: 256,
            max_tokens: 2_000_000,
            max_in_list: 200_000,
            max_prepared_stmt_count: 16_382,
            max_connections: 4096,
            statement_timeout_ms: 0,
            transaction_idle_timeout_ms: 0,
            max_merge_bytes: 256 * 1024 * 1024,
        }
    }
}

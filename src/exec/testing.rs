//! A recording cursor for executor tests: answers from canned results and logs every call as
//! `exec <keyspace>/<shard>: <sql>`, so tests assert the exact shard traffic.

use super::{Cursor, ExecError, ShardResult};
use crate::keyrange::KeyRange;
use std::collections::HashMap;

/// Canned shards and answers, plus the log of what was asked.
#[derive(Debug, Default)]
pub struct RecordingCursor {
    /// Shard names per keyspace.
    pub shards: HashMap<String, Vec<String>>,
    /// Answer per `(keyspace, shard index)`; missing ones answer an empty OK.
    pub answers: HashMap<(String, usize), ShardResult>,
    /// Every call, in order.
    pub log: Vec<String>,
    /// Next sequence id.
    pub next_id: u64,
}

impl Cursor for RecordingCursor {
    fn shards(&self, keyspace: &str) -> Result<Vec<(String, KeyRange)>, ExecError> {
        let names = self
            .shards
            .get(keyspace)
            .ok_or_else(|| ExecError::Internal(format!("no keyspace {keyspace}")))?;
        names
            .iter()
            .map(|n| {
                KeyRange::parse_shard_name(n)
                    .map(|r| (n.clone(), r))
                    .map_err(|e| ExecError::Internal(e.to_string()))
            })
            .collect()
    }

    async fn execute(
        &mut self,
        keyspace: &str,
        shard: usize,
        sql: String,
    ) -> Result<ShardResult, ExecError> {
        let name = self
            .shards
            .get(keyspace)
            .and_then(|s| s.get(shard))
            .cloned()
            .unwrap_or_default();
        self.log.push(format!("exec {keyspace}/{name}: {sql}"));
        Ok(self
            .answers
            .get(&(keyspace.to_string(), shard))
            .cloned()
            .unwrap_or_default())
    }

    async fn next_sequence_ids(
        &mut self,
        keyspace: &str,
        table: &str,
        count: u64,
    ) -> Result<u64, ExecError> {
        self.log
            .push(format!("sequence {keyspace}.{table}: {count}"));
        let first = self.next_id;
        self.next_id += count;
        Ok(first)
    }
}

/// Column metadata and text-protocol rows as MariaDB sends them, for canned answers.
pub mod rows {
    use super::ShardResult;
    use mysql_async::Value;
    use mysql_common::constants::{ColumnFlags, ColumnType};
    use mysql_common::packets::Column;

    fn numeric(kind: ColumnType, length: u32, decimals: u8) -> Column {
        Column::new(kind)
            .with_character_set(63)
            .with_flags(ColumnFlags::BINARY_FLAG | ColumnFlags::NUM_FLAG)
            .with_column_length(length)
            .with_decimals(decimals)
    }

    /// `BIGINT`.
    pub fn bigint() -> Column {
        numeric(ColumnType::MYSQL_TYPE_LONGLONG, 20, 0)
    }

    /// What a shard sends for `COUNT(...)`.
    pub fn count() -> Column {
        bigint().with_flags(
            ColumnFlags::BINARY_FLAG | ColumnFlags::NUM_FLAG | ColumnFlags::NOT_NULL_FLAG,
        )
    }

    /// `DECIMAL(precision, scale)` (also what a shard sends for SUM).
    pub fn decimal(precision: u32, scale: u8) -> Column {
        numeric(
            ColumnType::MYSQL_TYPE_NEWDECIMAL,
            precision + u32::from(scale > 0) + 1,
            scale,
        )
    }

    /// `DOUBLE`.
    pub fn double() -> Column {
        numeric(ColumnType::MYSQL_TYPE_DOUBLE, 22, 31)
    }

    /// `DATE`.
    pub fn date() -> Column {
        Column::new(ColumnType::MYSQL_TYPE_DATE)
            .with_character_set(63)
            .with_flags(ColumnFlags::BINARY_FLAG)
    }

    /// A `utf8mb4_general_ci` VARCHAR.
    pub fn varchar() -> Column {
        Column::new(ColumnType::MYSQL_TYPE_VAR_STRING)
            .with_character_set(45)
            .with_column_length(1020)
    }

    /// A text-protocol row; `None` is NULL.
    pub fn row(cells: &[Option<&str>]) -> Vec<Value> {
        cells
            .iter()
            .map(|c| c.map_or(Value::NULL, |t| Value::Bytes(t.as_bytes().to_vec())))
            .collect()
    }

    /// A shard's answer.
    pub fn answer(columns: Vec<Column>, rows: Vec<Vec<Value>>) -> ShardResult {
        ShardResult {
            columns,
            rows,
            ..ShardResult::default()
        }
    }

    /// The rows of a result as text (`None` for NULL).
    pub fn texts(result: &ShardResult) -> Vec<Vec<Option<String>>> {
        result
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|v| match v {
                        Value::NULL => None,
                        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
                        other => Some(other.as_sql(true)),
                    })
                    .collect()
            })
            .collect()
    }
}

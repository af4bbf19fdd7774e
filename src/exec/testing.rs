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

//! What the backend client hands up: one shard's complete answer, and a keyspace's shard
//! list. They live here, below `exec`, so the backend client does not depend on the executor
//! (`exec` re-exports both).

use crate::keyrange::KeyRange;
use mysql_common::packets::Column;
use mysql_common::Value;

/// One shard's complete answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShardResult {
    /// Column definitions (empty for statements without a result set).
    pub columns: Vec<Column>,
    /// Rows (text-protocol values: `Value::Bytes` or `Value::NULL`).
    pub rows: Vec<Vec<Value>>,
    /// Affected rows.
    pub affected_rows: u64,
    /// Generated id.
    pub last_insert_id: u64,
    /// Warnings raised.
    pub warnings: u16,
}

/// A keyspace's shards: name and key range, in config order. Shared (built once per keyspace)
/// so routing a statement does not copy one entry per shard.
pub type ShardRanges = std::sync::Arc<[(String, KeyRange)]>;

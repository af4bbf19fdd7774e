//! The values the topology stores and its errors.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// etcd's store revision (0 in the file store).
pub type Revision = i64;

/// Which store holds the topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopologyKind {
    /// VSchema files and workflow rows on the shards (one proxy).
    Files,
    /// etcd (any number of proxies).
    Etcd,
}

/// One keyspace's stored VSchema.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyspaceDoc {
    /// The VSchema JSON as stored.
    pub json: serde_json::Value,
    /// The revision its key was last written at (0 in the file store).
    pub mod_revision: Revision,
}

/// Every stored keyspace VSchema, read at one revision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VSchemaSnapshot {
    /// The store's revision when read (0 in the file store).
    pub revision: Revision,
    /// By keyspace name; a configured keyspace without an entry is unsharded, no tables.
    pub keyspaces: BTreeMap<String, KeyspaceDoc>,
}

/// One keyspace VSchema to write or delete.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyspaceEdit {
    /// The keyspace.
    pub keyspace: String,
    /// The new JSON; `None` deletes the keyspace's key.
    pub json: Option<serde_json::Value>,
    /// The key's `mod_revision` the edit was derived from (0: the key must not exist).
    /// Ignored by the file store.
    pub expected: Revision,
}

/// Names one workflow stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamKey {
    /// `<keyspace>.<vindex>`.
    pub workflow: String,
    /// The source (owner) shard it copies.
    pub source_shard: String,
}

/// One stream's persisted state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamRow {
    /// `<keyspace>.<vindex>`.
    pub workflow: String,
    /// The source (owner) shard this stream copies.
    pub source_shard: String,
    /// `Copying`, `Running`, `Stopped` or `Error`.
    pub state: String,
    /// `copy`, `verify` or `done`: where a resumed stream starts.
    pub phase: String,
    /// Human-readable status.
    pub message: String,
    /// The last copied primary key (JSON array of its column values as text), if any.
    pub last_pk: Option<String>,
    /// Rows copied so far.
    pub rows_copied: u64,
    /// Estimated rows of the owner table on this shard.
    pub rows_total: u64,
    /// The workflow's definition (JSON: options, owner table, vindex, target keyspace).
    pub definition: String,
    /// Conflicts the last verify pass found: values of a unique vindex that several owner
    /// rows hold.
    pub conflicts: u64,
    /// Some of those values, as messages show them.
    pub conflict_values: String,
}

impl StreamRow {
    /// The stream this row is the state of.
    pub fn key(&self) -> StreamKey {
        StreamKey {
            workflow: self.workflow.clone(),
            source_shard: self.source_shard.clone(),
        }
    }
}

/// What a live proxy publishes about itself (`SHOW VITESS_GATEWAYS`, the workflow barrier).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyRecord {
    /// Unique per proxy process (host, port, start time).
    pub id: String,
    /// The MySQL address clients reach it at.
    pub address: String,
    /// Unix time (seconds) it started.
    pub started_unix: u64,
    /// The topology revision of the VSchema it serves.
    pub vschema_revision: Revision,
    /// The revision of the oldest VSchema any statement or transaction still in flight on
    /// this proxy was planned with (its `vschema_revision` when none is).
    pub oldest_in_flight_revision: Revision,
    /// The workflow streams it runs (`workflow/source_shard`).
    pub streams: Vec<String>,
}

/// This proxy's session with the topology store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Leases are being kept alive (or the store needs none).
    Healthy,
    /// The lease could not be renewed for longer than its TTL: other proxies consider this
    /// one gone, so it must not write owner rows of keyspaces with lookup vindexes.
    Lost,
}

/// Topology errors.
#[derive(Debug, thiserror::Error)]
pub enum TopoError {
    /// A compare-and-swap failed: someone else changed the key first.
    #[error("the VSchema of keyspace '{keyspace}' was changed concurrently (through another proxy); nothing was written, retry the statement")]
    Conflict {
        /// The keyspace whose key moved.
        keyspace: String,
    },
    /// A stream write by a proxy that no longer owns the stream.
    #[error("this proxy no longer runs stream {workflow}/{source_shard}")]
    NotOwner {
        /// The workflow.
        workflow: String,
        /// The source shard.
        source_shard: String,
    },
    /// The store could not be reached or answered an error.
    #[error("topology store: {0}")]
    Store(String),
    /// Stored data that cannot be read back.
    #[error("topology data at {key}: {reason}")]
    Corrupt {
        /// The key or file.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A failure of the shards the file store keeps workflow rows on.
    #[error(transparent)]
    Proxy(#[from] Box<crate::error::ProxyError>),
}

//! Where the cluster's shared state lives: the VSchema of every keyspace, the lookup
//! workflows' definitions and per-shard progress, and (with several proxies) one record per
//! live proxy. One trait, two stores:
//!
//! * [`files::FileTopology`] — the default for one proxy: VSchema files in `vschema.dir`
//!   (atomic replace), workflow rows in `_shardgate.vindex_workflows` on the shards. There is
//!   only ever one proxy, so there are no proxy records, no leases and no watch.
//! * `etcd::EtcdTopology` — `[topology] etcd = [...]`: every key under one prefix, VSchema
//!   JSON per keyspace (readable with `etcdctl get`), compare-and-swap writes on the keys'
//!   `mod_revision`, a watch that tells every proxy about changes, one key per live proxy
//!   under a lease, and stream ownership (election) under the same lease.
//!
//! Revisions: a [`Revision`] is etcd's store revision (monotone over the whole store); the
//! file store has none and always says 0. A proxy reports the revision of the VSchema it
//! serves, and a workflow waits until every live proxy serves at least the revision its
//! VSchema change was written at.

pub mod etcd;

pub mod files;
mod shard_streams;
mod types;

pub use types::*;

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

/// A boxed future, so [`Topology`] can be used as `dyn Topology`.
pub type TopoFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, TopoError>> + Send + 'a>>;

/// A store of the cluster's shared state (module header).
pub trait Topology: Send + Sync + Debug {
    /// Which store this is.
    fn kind(&self) -> TopologyKind;

    /// Every stored keyspace VSchema (JSON as written) with the revision of the read.
    fn load_vschema(&self) -> TopoFuture<'_, VSchemaSnapshot>;

    /// Writes (or deletes) keyspace VSchemas at once, each only if its key is still at the
    /// revision the edit was derived from ([`KeyspaceEdit::expected`]); otherwise nothing is
    /// written and the answer is [`TopoError::Conflict`]. Returns the revision of the write.
    fn save_vschema<'a>(&'a self, edits: &'a [KeyspaceEdit]) -> TopoFuture<'a, Revision>;

    /// A channel that yields a revision whenever a VSchema key changed (after the change).
    /// `None` for stores that cannot tell (files: one proxy, which makes every change itself).
    fn watch_vschema(&self) -> TopoFuture<'_, Option<tokio::sync::mpsc::Receiver<Revision>>>;

    /// Every stored workflow stream (every workflow, every source shard).
    fn load_streams(&self) -> TopoFuture<'_, Vec<StreamRow>>;

    /// Writes stream rows of one workflow whose state lives in `target_keyspace`, all or none.
    /// With `owner` set, the write happens only while this proxy still owns that stream
    /// ([`Topology::claim_stream`]); a lost claim is [`TopoError::NotOwner`].
    fn save_streams<'a>(
        &'a self,
        target_keyspace: &'a str,
        rows: &'a [StreamRow],
        owner: Option<&'a StreamKey>,
    ) -> TopoFuture<'a, ()>;

    /// Removes every stream row of a workflow (and its claims).
    fn delete_workflow<'a>(
        &'a self,
        target_keyspace: &'a str,
        workflow: &'a str,
    ) -> TopoFuture<'a, ()>;

    /// Publishes (creates or replaces) this proxy's record under its lease.
    fn publish_proxy<'a>(&'a self, record: &'a ProxyRecord) -> TopoFuture<'a, ()>;

    /// Every live proxy's record (the file store: none).
    fn proxies(&self) -> TopoFuture<'_, Vec<ProxyRecord>>;

    /// Tries to become the runner of a stream (held under this proxy's lease); true when this
    /// proxy owns it now (also when it already did). The file store always says true.
    fn claim_stream<'a>(&'a self, key: &'a StreamKey, proxy_id: &'a str) -> TopoFuture<'a, bool>;

    /// Gives up a stream claimed by this proxy (the stream ended or was stopped).
    fn release_stream<'a>(&'a self, key: &'a StreamKey) -> TopoFuture<'a, ()>;

    /// Which proxy runs each claimed stream.
    fn stream_owners(&self) -> TopoFuture<'_, Vec<(StreamKey, String)>>;

    /// The state of this proxy's session with the store (the file store: always healthy),
    /// to wait for changes.
    fn session(&self) -> tokio::sync::watch::Receiver<SessionState>;

    /// The session's state now (checked on every write statement: no subscription made).
    fn session_state(&self) -> SessionState;

    /// After a lost session came back: the revision the served VSchema must have been read
    /// at (or after) before the proxy is in step again. 0 when it never was lost.
    fn in_step_revision(&self) -> Revision {
        0
    }

    /// Leaves the topology at shutdown: with etcd, revokes the lease, so this proxy's record
    /// and stream claims go at once (other proxies take its streams over without waiting for
    /// the TTL).
    fn close(&self) -> TopoFuture<'_, ()> {
        Box::pin(async move { Ok(()) })
    }
}

/// The store `config` names: etcd when `[topology] etcd` lists endpoints, else the files.
/// `proxy_id` names this proxy's lease and record.
pub async fn connect(
    config: &crate::config::Config,
    backends: std::sync::Arc<crate::backend::Backends>,
    proxy_id: &str,
) -> Result<std::sync::Arc<dyn Topology>, TopoError> {
    if config.topology.is_etcd() {
        let store = etcd::EtcdTopology::connect(&config.topology, proxy_id).await?;
        return Ok(std::sync::Arc::new(store));
    }
    let keyspaces = config.keyspaces.iter().map(|k| k.name.clone()).collect();
    Ok(std::sync::Arc::new(files::FileTopology::new(
        config.vschema_dir(),
        keyspaces,
        backends,
    )))
}

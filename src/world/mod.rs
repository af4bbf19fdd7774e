//! The shared world: what the client-serving side (`server`) and the background jobs
//! (`workflow`) both need — the configuration, the VSchema (swapped whole), the shard
//! backends, the topology store, and the VSchema generations in flight. It sits below both,
//! so neither reaches up into the other.
//!
//! VSchema changes go through [`World::change_vschema`] (build and validate the new world,
//! write it to the topology with compare-and-swap, then swap it in) and, with etcd, through
//! [`follow`] (another proxy's change arrives by watch and is swapped in the same way).

pub mod failpoint;
mod follow;
pub mod generations;
pub mod proxy_record;
pub mod topology;

pub use follow::{follow, reload_vschema};

use crate::backend::Backends;
use crate::config::Config;
use crate::vschema::{KeyspaceSchema, VSchema, VSchemaError};
use arc_swap::ArcSwap;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use topology::{KeyspaceEdit, Revision, SessionState, TopoError, Topology};

/// What every part of the proxy shares (module header).
#[derive(Debug)]
pub struct World {
    /// The loaded configuration.
    pub config: Config,
    /// Shard pools (client sessions and background jobs).
    pub backends: Arc<Backends>,
    /// The VSchema: swapped whole on every change (readers keep the generation they loaded;
    /// plans are cached by generation).
    pub vschema: ArcSwap<VSchema>,
    /// Where VSchemas, workflow state and proxy records live.
    pub topology: Arc<dyn Topology>,
    /// The VSchema generations statements and transactions in flight were planned with.
    pub generations: generations::Generations,
    /// Serialises this proxy's VSchema edits (etcd's compare-and-swap orders proxies).
    pub vschema_edit: tokio::sync::Mutex<()>,
    /// This proxy's name in the topology (host:port and start time).
    pub proxy_id: String,
    /// The MySQL address this proxy serves clients at (published in its record).
    pub address: String,
    /// The workflow streams this proxy runs (`workflow/source_shard`), kept by the workflow
    /// registry, published in the proxy record.
    pub running_streams: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// When the proxy started.
    pub started: Instant,
    /// Unix time of the start (published in the proxy record).
    pub started_unix: u64,
    /// What the proxy counts (statements, lookup writes, workflow rows; `/metrics`).
    pub metrics: crate::metrics::Metrics,
}

/// Why a VSchema change was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The new VSchema is invalid.
    #[error(transparent)]
    Invalid(#[from] VSchemaError),
    /// The topology refused or failed the write (a conflict included).
    #[error(transparent)]
    Topology(#[from] TopoError),
}

impl World {
    /// A world over `config`, `backends` and a connected `topology`, serving `vschema`.
    pub fn new(
        config: Config,
        backends: Arc<Backends>,
        topology: Arc<dyn Topology>,
        vschema: VSchema,
        proxy_id: String,
        address: String,
    ) -> World {
        World {
            metrics: crate::metrics::Metrics::new(config.log.clone()),
            config,
            backends,
            vschema: ArcSwap::from_pointee(vschema),
            topology,
            generations: generations::Generations::default(),
            vschema_edit: tokio::sync::Mutex::new(()),
            proxy_id,
            address,
            running_streams: Default::default(),
            started: Instant::now(),
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }

    /// Whether this proxy is in step with the topology: its session (lease) is healthy, and
    /// after a lost session came back, it serves a VSchema read since (always, with files).
    pub fn topology_healthy(&self) -> bool {
        self.topology.session_state() == SessionState::Healthy
            && self.vschema.load().topo_read_at() >= self.topology.in_step_revision()
    }

    /// Validates `base` with the edited keyspaces, writes them to the topology (each only if
    /// its key has not moved since `base` was read), and swaps the result in. `base` is the
    /// VSchema the caller derived the edits from. Callers hold [`World::vschema_edit`].
    pub async fn change_vschema(
        &self,
        base: &VSchema,
        edits: &[(&str, &serde_json::Value)],
    ) -> Result<Arc<VSchema>, ChangeError> {
        let next = edited(base, edits)?;
        let writes: Vec<KeyspaceEdit> = edits
            .iter()
            .map(|(ks, json)| KeyspaceEdit {
                keyspace: ks.to_string(),
                json: Some((*json).clone()),
                expected: base.topo_revision_of(ks),
            })
            .collect();
        let revision = self.topology.save_vschema(&writes).await?;
        let next = Arc::new(next.with_topo_stamp(revision, edits.iter().map(|(k, _)| *k)));
        self.store_vschema(next.clone());
        Ok(next)
    }

    /// Swaps in `next` unless the VSchema now served was read at a later topology revision (a
    /// watch event may have delivered a newer one meanwhile).
    pub fn store_vschema(&self, next: Arc<VSchema>) {
        self.vschema.rcu(|current| {
            if current.topo_read_at() > next.topo_read_at() {
                current.clone()
            } else {
                next.clone()
            }
        });
    }

    /// The topology revision of the VSchema this proxy serves (its content: the latest change).
    pub fn served_revision(&self) -> Revision {
        self.vschema.load().topo_revision()
    }
}

/// Runs `edit` (which derives its change from the VSchema served now and writes it with
/// [`World::change_vschema`]) until it does not lose a compare-and-swap, reading the VSchema
/// from the topology again after each loss (at most 8 tries). For edits that are re-derived
/// from the current VSchema (views, tables a tool creates), so a concurrent edit through
/// another proxy never makes them lose theirs or the other's.
pub async fn retry_on_conflict<F, Fut>(
    world: &World,
    mut edit: F,
) -> Result<(), crate::error::ProxyError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), crate::error::ProxyError>>,
{
    let mut tries = 0;
    loop {
        match edit().await {
            Err(crate::error::ProxyError::Topology(TopoError::Conflict { .. })) if tries < 7 => {
                tries += 1;
                follow::reload_vschema(world).await;
                tokio::time::sleep(std::time::Duration::from_millis(10 * tries)).await;
            }
            other => return other,
        }
    }
}

/// Builds and validates a new VSchema with the edited keyspaces.
pub fn edited(
    base: &VSchema,
    edits: &[(&str, &serde_json::Value)],
) -> Result<VSchema, VSchemaError> {
    let mut next: Option<VSchema> = None;
    for (ks, json) in edits {
        let schema = KeyspaceSchema::from_value(ks, (*json).clone())?;
        let b = next.as_ref().unwrap_or(base);
        next = Some(b.with_keyspace(schema)?);
    }
    next.ok_or_else(|| VSchemaError::keyspace_err("", "nothing to change"))
}

/// Builds the VSchema of `config`'s keyspaces from a topology snapshot (validated as a whole;
/// a configured keyspace the store has nothing for is unsharded without tables).
pub fn vschema_from_snapshot(
    config: &Config,
    snapshot: &topology::VSchemaSnapshot,
) -> Result<VSchema, VSchemaError> {
    let mut keyspaces = Vec::with_capacity(config.keyspaces.len());
    let mut counts = std::collections::BTreeMap::new();
    for ks in &config.keyspaces {
        counts.insert(ks.name.clone(), ks.shards.len());
        keyspaces.push(match snapshot.keyspaces.get(&ks.name) {
            Some(doc) => KeyspaceSchema::from_value(&ks.name, doc.json.clone())?,
            None => KeyspaceSchema::unsharded(&ks.name),
        });
    }
    let revisions = snapshot
        .keyspaces
        .iter()
        .map(|(k, d)| (k.clone(), d.mod_revision))
        .collect();
    Ok(VSchema::build(keyspaces, counts)?.with_topo_revisions(snapshot.revision, revisions))
}

/// Opens the world of a proxy listening at `addr`: connects the topology the config names
/// (files by default, etcd with `[topology] etcd`), loads and validates the VSchema from it.
pub async fn open(
    config: Config,
    backends: Arc<Backends>,
    addr: std::net::SocketAddr,
) -> anyhow::Result<World> {
    let started_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let proxy_id = format!("{}-{started_unix}", addr);
    let topology = topology::connect(&config, backends.clone(), &proxy_id).await?;
    let vschema = match topology.kind() {
        // Files: read them with the file names in every message.
        topology::TopologyKind::Files => VSchema::load(&config)?,
        topology::TopologyKind::Etcd => {
            // Be listed BEFORE reading the VSchema: a workflow barrier that reads the proxy
            // list after this sees the proxy as behind (revision 0) until it publishes the
            // revision it loaded; one that read the list before it started has already seen
            // its VSchema change written, so the load below includes that change. Otherwise a
            // proxy starting during a barrier could serve writes on an older VSchema unseen.
            let joining = topology::ProxyRecord {
                id: proxy_id.clone(),
                address: addr.to_string(),
                started_unix: (started_unix / 1000) as u64,
                vschema_revision: 0,
                oldest_in_flight_revision: 0,
                streams: Vec::new(),
            };
            topology.publish_proxy(&joining).await?;
            let mut snapshot = topology.load_vschema().await?;
            if snapshot.keyspaces.is_empty() && seed_from_files(&config, &*topology).await? {
                snapshot = topology.load_vschema().await?;
            }
            vschema_from_snapshot(&config, &snapshot).map_err(|e| {
                anyhow::anyhow!(
                    "the VSchema in etcd (revision {}) is invalid: {e}",
                    snapshot.revision
                )
            })?
        }
    };
    Ok(World::new(
        config,
        backends,
        topology,
        vschema,
        proxy_id,
        addr.to_string(),
    ))
}

/// An etcd prefix without any VSchema is seeded from the VSchema files (`vschema.dir`), each
/// key created only if absent, so proxies starting together seed it once; returns whether
/// anything was written. Later file edits are not read: `shardgate topo import` or admin
/// statements change the VSchema in etcd.
async fn seed_from_files(config: &Config, topology: &dyn Topology) -> anyhow::Result<bool> {
    let files = topology::files::read_dir(&config.vschema_dir(), config)?;
    if files.is_empty() {
        return Ok(false);
    }
    // Validate before writing: a bad file must not become the cluster's VSchema.
    VSchema::load(config)?;
    let edits: Vec<KeyspaceEdit> = files
        .into_iter()
        .map(|(keyspace, json)| KeyspaceEdit {
            keyspace,
            json: Some(json),
            expected: 0,
        })
        .collect();
    match topology.save_vschema(&edits).await {
        Ok(revision) => {
            tracing::info!(
                revision,
                keyspaces = edits.len(),
                "the topology had no VSchema: seeded it from the VSchema files"
            );
            Ok(true)
        }
        // Another proxy seeded it first.
        Err(TopoError::Conflict { .. }) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

//! Long-running jobs: the CreateLookupVindex backfill (`create-lookup-vindex.md` §3, with the
//! improvements of §5).
//!
//! A workflow is one new lookup vindex. It has one **stream** per source (owner) shard; each
//! stream runs as a task, at most [`MAX_CONCURRENT_STREAMS`] at once across all workflows
//! (a semaphore), so several workflows never exhaust connections:
//!
//! ```text
//!   create ──▶ Waiting ──▶ Copying(copy) ──▶ Copying(verify) ──┬─▶ Stopped "Stopped after copy"
//!     │            │ chunk: read owner rows in PK  └─▶ Running  (--continue_after_copy_with_owner:
//!     │            │ order from a consistent            verify again every few seconds)
//!     │            │ snapshot, INSERT IGNORE the
//!     │            │ lookup rows, save progress         externalize ──▶ rows removed, vindex routes
//!     │            ▼                                    cancel      ──▶ rows removed, VSchema restored
//!     └──── restart: resume from the saved phase and last primary key
//! ```
//!
//! From the moment it is created the vindex is in the VSchema with `write_only`, so client
//! DML maintains it (consistent-lookup ordering) while reads do not route by it. A stream
//! first waits (`Waiting`) until every statement and transaction of this proxy that began
//! under an older VSchema has ended ([`generations`]): those write owner rows without lookup
//! rows. Then it copies from a consistent snapshot, and the verify pass adds anything still
//! missing (rows written around the proxy) and counts the conflicts of a unique vindex
//! (`check`). ExternalizeVindex verifies every owner row once more before the vindex routes.
//!
//! State is persisted per stream in `_shardgate.vindex_workflows` ([`store`]).

mod backfill;
mod barrier;
mod check;
mod create;
pub mod cursor;
pub mod error;
pub mod status;
pub mod store;
pub(crate) mod verify;

pub use check::list as conflict_list;
pub use create::{cancel, create, externalize};
pub use error::WorkflowError;
pub use verify::{verify_vindex, VerifyReport};

use crate::world::World;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{watch, Semaphore};

/// Most backfill streams running at once, all workflows together.
pub const MAX_CONCURRENT_STREAMS: usize = 4;

/// What a workflow is, persisted with each of its stream rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    /// Keyspace of the owner table and the vindex.
    pub keyspace: String,
    /// The new vindex.
    pub vindex: String,
    /// The owner table.
    pub owner_table: String,
    /// Keyspace of the lookup table.
    pub target_keyspace: String,
    /// The lookup table.
    pub lookup_table: String,
    /// Keep catching up after the copy (`--continue_after_copy_with_owner`).
    pub continue_after_copy: bool,
    /// Backfill rate limit in rows per second (0 = none).
    pub max_rows_per_sec: u64,
    /// Pause while the source shard has more threads running than this (0 = no limit).
    pub max_backend_load: u64,
    /// Rows per chunk.
    pub chunk_size: u64,
    /// Whether the create made the lookup table (cancel then drops it).
    pub created_table: bool,
    /// The owner keyspace's VSchema JSON before the create (cancel restores it).
    pub source_vschema_before: serde_json::Value,
    /// The target keyspace's VSchema JSON before the create.
    pub target_vschema_before: serde_json::Value,
}

impl Definition {
    /// `<keyspace>.<vindex>`: the workflow's name.
    pub fn name(&self) -> String {
        format!("{}.{}", self.keyspace, self.vindex)
    }
}

/// Live progress of one stream (for rows per second and ETA).
#[derive(Debug, Clone)]
struct Live {
    started: Instant,
    copied_at_start: u64,
    cancel: watch::Sender<bool>,
}

/// The workflows of this proxy: the shared world they work in, and the streams running here.
/// Dereferences to the [`World`], so job code reads `state.backends`, `state.vschema`.
#[derive(Debug)]
pub struct Workflows {
    /// Config, VSchema, backends and topology.
    pub world: Arc<World>,
    streams: Mutex<HashMap<(String, String), Live>>,
    slots: Arc<Semaphore>,
}

impl std::ops::Deref for Workflows {
    type Target = World;
    fn deref(&self) -> &World {
        &self.world
    }
}

impl Workflows {
    /// No stream runs yet.
    pub fn new(world: Arc<World>) -> Workflows {
        Workflows {
            world,
            streams: Mutex::new(HashMap::new()),
            slots: Arc::new(Semaphore::new(MAX_CONCURRENT_STREAMS)),
        }
    }

    /// Starts (or resumes) the task of one stream, unless it already runs here.
    pub fn start_stream(self: &Arc<Self>, def: Definition, row: store::StreamRow) {
        let key = (row.workflow.clone(), row.source_shard.clone());
        let (tx, rx) = watch::channel(false);
        {
            let Ok(mut streams) = self.streams.lock() else {
                return;
            };
            if streams.contains_key(&key) {
                return;
            }
            streams.insert(
                key.clone(),
                Live {
                    started: Instant::now(),
                    copied_at_start: row.rows_copied,
                    cancel: tx,
                },
            );
        }
        let state = self.clone();
        let slots = self.slots.clone();
        tokio::spawn(async move {
            let permit = slots.acquire_owned().await;
            if permit.is_ok() {
                backfill::run_stream(&state, def, row, rx).await;
            }
            if let Ok(mut streams) = state.streams.lock() {
                streams.remove(&key);
            }
        });
    }

    /// Asks every stream of a workflow to stop; returns once none of them runs.
    pub async fn stop_workflow(&self, workflow: &str) {
        if let Ok(streams) = self.streams.lock() {
            for ((w, _), live) in streams.iter() {
                if w == workflow {
                    let _ = live.cancel.send(true);
                }
            }
        }
        for _ in 0..600 {
            let running = self
                .streams
                .lock()
                .map(|s| s.keys().any(|(w, _)| w == workflow))
                .unwrap_or(false);
            if !running {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Rows per second of a running stream since it (re)started here.
    pub(crate) fn rate(&self, workflow: &str, shard: &str, copied: u64) -> Option<f64> {
        let streams = self.streams.lock().ok()?;
        let live = streams.get(&(workflow.to_string(), shard.to_string()))?;
        let secs = live.started.elapsed().as_secs_f64();
        (secs > 0.5).then(|| copied.saturating_sub(live.copied_at_start) as f64 / secs)
    }
}

/// Every stored stream row (every workflow, from the topology) with its definition.
pub async fn all_streams(
    state: &Workflows,
) -> Result<Vec<(Definition, store::StreamRow)>, WorkflowError> {
    let mut out = Vec::new();
    for row in state.topology.load_streams().await? {
        let def: Definition = serde_json::from_str(&row.definition).map_err(|e| {
            WorkflowError::Invalid(format!(
                "workflow {} has an unreadable definition: {e}",
                row.workflow
            ))
        })?;
        out.push((def, row));
    }
    Ok(out)
}

/// Resumes every unfinished stream (at proxy start).
pub async fn resume_all(state: &Arc<Workflows>) {
    match all_streams(state).await {
        Ok(streams) => {
            for (def, row) in streams {
                if row.phase != "done" || row.state == "Running" {
                    tracing::info!(workflow = %row.workflow, shard = %row.source_shard, phase = %row.phase, "resuming lookup backfill");
                    state.start_stream(def, row);
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not read lookup workflows"),
    }
}

/// How often a proxy of an etcd topology looks for streams no live proxy runs.
const ADOPT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(1000);

/// Runs this proxy's share of the workflows for as long as the proxy runs. With the file
/// topology: resume every unfinished stream once, at start. With etcd: the same, then every
/// [`ADOPT_INTERVAL`] start the unfinished streams that no live proxy owns (a dead runner's
/// claim vanished with its lease); the claim in the topology decides which proxy runs each.
/// Streams that failed (`Error`) wait for their CreateLookupVindex to be run again.
pub async fn run_workflows(state: Arc<Workflows>) {
    resume_all(&state).await;
    if state.topology.kind() == crate::world::topology::TopologyKind::Files {
        return;
    }
    loop {
        tokio::time::sleep(ADOPT_INTERVAL).await;
        if !state.topology_healthy() {
            continue;
        }
        let (Ok(streams), Ok(owners)) = (
            all_streams(&state).await,
            state.topology.stream_owners().await,
        ) else {
            continue;
        };
        for (def, row) in streams {
            let unfinished = row.phase != "done" || row.state == "Running";
            let owned = owners.iter().any(|(k, _)| *k == row.key());
            // A stream whose vindex is not in this proxy's VSchema is still being created
            // (its rows are saved before the VSchema changes) or its create failed.
            let ready = backfill::knows_vindex(&state, &def);
            if unfinished && !owned && ready && row.state != "Error" {
                tracing::info!(workflow = %row.workflow, shard = %row.source_shard, phase = %row.phase, "adopting a lookup backfill stream no live proxy runs");
                state.start_stream(def, row);
            }
        }
    }
}

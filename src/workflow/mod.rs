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
mod check;
mod create;
pub mod cursor;
pub mod error;
mod failpoint;
pub mod generations;
pub mod store;
pub(crate) mod verify;

pub use check::list as conflict_list;
pub use create::{cancel, create, externalize};
pub use error::WorkflowError;
pub use verify::{verify_vindex, VerifyReport};

use crate::server::ProxyState;
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

/// The running workflows of this proxy.
#[derive(Debug)]
pub struct Registry {
    streams: Mutex<HashMap<(String, String), Live>>,
    slots: Arc<Semaphore>,
    /// The VSchema generations client statements and transactions run under.
    pub generations: generations::Generations,
}

impl Default for Registry {
    fn default() -> Self {
        Registry {
            streams: Mutex::new(HashMap::new()),
            slots: Arc::new(Semaphore::new(MAX_CONCURRENT_STREAMS)),
            generations: generations::Generations::default(),
        }
    }
}

impl Registry {
    /// Starts (or resumes) the task of one stream, unless it already runs here.
    pub fn start_stream(&self, state: &Arc<ProxyState>, def: Definition, row: store::StreamRow) {
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
        let state = state.clone();
        let slots = self.slots.clone();
        tokio::spawn(async move {
            let permit = slots.acquire_owned().await;
            if permit.is_ok() {
                backfill::run_stream(&state, def, row, rx).await;
            }
            if let Ok(mut streams) = state.workflows.streams.lock() {
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
    fn rate(&self, workflow: &str, shard: &str, copied: u64) -> Option<f64> {
        let streams = self.streams.lock().ok()?;
        let live = streams.get(&(workflow.to_string(), shard.to_string()))?;
        let secs = live.started.elapsed().as_secs_f64();
        (secs > 0.5).then(|| copied.saturating_sub(live.copied_at_start) as f64 / secs)
    }
}

/// The shards holding workflow state: the first shard of every keyspace.
fn state_shards(state: &ProxyState) -> Vec<Arc<crate::backend::Shard>> {
    state
        .backends
        .keyspace_order
        .iter()
        .filter_map(|k| state.backends.keyspace(k).and_then(|s| s.first()).cloned())
        .collect()
}

/// Every stored stream row (from the first shard of each keyspace) with its definition.
pub async fn all_streams(
    state: &ProxyState,
) -> Result<Vec<(Definition, store::StreamRow)>, WorkflowError> {
    let mut out = Vec::new();
    for shard in state_shards(state) {
        for row in store::load(&shard).await? {
            let def: Definition = serde_json::from_str(&row.definition).map_err(|e| {
                WorkflowError::Invalid(format!(
                    "workflow {} has an unreadable definition: {e}",
                    row.workflow
                ))
            })?;
            // Only rows stored on this workflow's own target keyspace count.
            if def.target_keyspace == shard.keyspace {
                out.push((def, row));
            }
        }
    }
    Ok(out)
}

/// Resumes every unfinished stream (at proxy start).
pub async fn resume_all(state: &Arc<ProxyState>) {
    match all_streams(state).await {
        Ok(streams) => {
            for (def, row) in streams {
                if row.phase != "done" || row.state == "Running" {
                    tracing::info!(workflow = %row.workflow, shard = %row.source_shard, phase = %row.phase, "resuming lookup backfill");
                    state.workflows.start_stream(state, def, row);
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not read lookup workflows"),
    }
}

/// `SHOW VINDEX WORKFLOWS`: column names and one row per stream.
pub async fn show_rows(
    state: &ProxyState,
) -> Result<(Vec<&'static str>, Vec<Vec<String>>), WorkflowError> {
    let columns = vec![
        "name",
        "keyspace",
        "table",
        "source_shard",
        "state",
        "rows_copied",
        "rows_total",
        "percent",
        "rows_per_sec",
        "eta_seconds",
        "message",
        "conflicts",
    ];
    let mut rows = Vec::new();
    for (def, row) in all_streams(state).await? {
        let total = row.rows_total.max(row.rows_copied);
        let percent = if row.phase == "copy" {
            if total == 0 {
                0.0
            } else {
                (row.rows_copied as f64 * 100.0 / total as f64).min(99.9)
            }
        } else {
            100.0
        };
        let rate = state
            .workflows
            .rate(&row.workflow, &row.source_shard, row.rows_copied);
        let eta = match (row.phase.as_str(), rate) {
            ("copy", Some(r)) if r > 0.0 => {
                format!("{:.0}", total.saturating_sub(row.rows_copied) as f64 / r)
            }
            ("copy", _) => String::new(),
            _ => "0".into(),
        };
        rows.push(vec![
            def.vindex.clone(),
            def.keyspace.clone(),
            def.owner_table.clone(),
            row.source_shard.clone(),
            row.state.clone(),
            row.rows_copied.to_string(),
            row.rows_total.to_string(),
            format!("{percent:.1}"),
            rate.map(|r| format!("{r:.0}"))
                .unwrap_or_else(|| "0".into()),
            eta,
            row.message.clone(),
            row.conflicts.to_string(),
        ]);
    }
    Ok((columns, rows))
}

//! The barrier a backfill stream waits at before it copies: every owner write from now on
//! must maintain the new `write_only` vindex, so the copy's snapshot may only be taken once
//!
//! 1. this proxy has no statement or transaction left that was planned with an older VSchema
//!    (`world::generations`), and
//! 2. with several proxies (etcd), every live proxy's record says it serves at least the
//!    VSchema revision this stream runs under, and that none of its statements or
//!    transactions in flight was planned with an older one.
//!
//! A proxy that dies drops out of the list when its lease expires (its connections, and so
//! its transactions, are gone with it); a proxy cut off from etcd for longer than its lease
//! refuses owner DML on lookup keyspaces (`server`), so it cannot be the one that skips a
//! lookup write. Meanwhile the stream shows state `Waiting` with what it waits for; after
//! [`OLDER_WORK_WAIT`] (or `topology.barrier_timeout_secs`) it fails, and re-running the same
//! CreateLookupVindex resumes it.

use super::backfill::{save, StreamStore};
use super::store::StreamRow;
use super::{WorkflowError, Workflows};
use crate::vschema::VSchema;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Longest wait for statements and transactions that began before the VSchema swap (file
/// topology; with etcd, `topology.barrier_timeout_secs`).
const OLDER_WORK_WAIT: Duration = Duration::from_secs(600);

/// What the barrier still waits for.
#[derive(Debug, PartialEq)]
enum Pending {
    /// Statements or transactions of this proxy planned with an older VSchema.
    Local(usize),
    /// Proxies not yet serving the revision, or with older work in flight.
    Proxies(Vec<String>),
}

impl Pending {
    fn describe(&self) -> String {
        match self {
            Pending::Local(n) => {
                format!("{n} statements or transactions that started before the VSchema change")
            }
            Pending::Proxies(p) => format!(
                "proxies {} to serve the new VSchema and end the transactions they had open at the change",
                p.join(", ")
            ),
        }
    }
}

async fn pending(state: &Workflows, vschema: &VSchema) -> Result<Option<Pending>, WorkflowError> {
    let open = state.generations.older_than(vschema.generation());
    if open > 0 {
        return Ok(Some(Pending::Local(open)));
    }
    let revision = vschema.topo_revision();
    let behind: Vec<String> = state
        .topology
        .proxies()
        .await?
        .into_iter()
        .filter(|p| p.vschema_revision < revision || p.oldest_in_flight_revision < revision)
        .map(|p| p.id)
        .collect();
    Ok((!behind.is_empty()).then_some(Pending::Proxies(behind)))
}

/// Waits until the barrier (module header) is passed for `vschema`, the VSchema the stream
/// runs under; shows `Waiting` meanwhile.
pub(super) async fn wait_for_older_work(
    state: &Workflows,
    vschema: &VSchema,
    row: &mut StreamRow,
    store_at: &StreamStore,
    cancel: &watch::Receiver<bool>,
) -> Result<(), WorkflowError> {
    let limit = if state.config.topology.is_etcd() {
        Duration::from_secs(state.config.topology.barrier_timeout_secs)
    } else {
        OLDER_WORK_WAIT
    };
    let started = Instant::now();
    let before = (row.state.clone(), row.message.clone());
    let mut shown: Option<Pending> = None;
    loop {
        let Some(waiting) = pending(state, vschema).await? else {
            break;
        };
        if *cancel.borrow() {
            break;
        }
        if started.elapsed() > limit {
            return Err(WorkflowError::Invalid(format!(
                "still waiting for {} after {}s; end them (commit or roll back, or stop the proxies), then run the same CreateLookupVindex again to resume",
                waiting.describe(),
                limit.as_secs()
            )));
        }
        // Shown after a moment: the CreateLookupVindex statement that started this stream
        // is itself older than the swap until it returns.
        if shown.as_ref() != Some(&waiting) && started.elapsed() > Duration::from_millis(250) {
            row.state = "Waiting".into();
            row.message = format!(
                "waiting for {} (up to {}s)",
                waiting.describe(),
                limit.as_secs()
            );
            shown = Some(waiting);
            save(store_at, row, cancel).await?;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if shown.is_some() {
        (row.state, row.message) = before;
        save(store_at, row, cancel).await?;
    }
    Ok(())
}

//! CreateLookupVindex, ExternalizeVindex and CancelLookupVindex: validation, the lookup
//! table's DDL, the VSchema edits, and their order.
//!
//! Everything is checked before anything changes (`create-lookup-vindex.md` §3.2): one lookup
//! vindex of a type we maintain, an owner table that exists with one column per from column,
//! names not taken by something different, a lookup table that is absent or empty. Then:
//! create the lookup table on every target shard → store the stream rows of EVERY source
//! shard (one transaction on the state shard) → save the target VSchema file → save the
//! source VSchema file (vindex `write_only`) → swap the in-memory VSchema → start the
//! streams. So once the vindex exists, every source shard has a stream that backfills it. A
//! failure undoes the steps already done (stream rows deleted, VSchema files restored, the
//! lookup table dropped if the create made it), so a failed create leaves VSchema and shards
//! as they were; an identical create of an existing workflow is a no-op. ExternalizeVindex
//! requires a finished stream for every source shard of the owner keyspace.
//!
//! One statement or step per module: `spec` reads the CreateLookupVindex spec,
//! `lookup_table` derives the lookup table's columns from the owner's `SHOW CREATE TABLE`,
//! `create_lookup_vindex` runs the create, `externalize` and `cancel` end a workflow.
//! This module holds what they share: error helpers, the keyspace's shards, the edited
//! VSchema, and finding a workflow's stored streams.

mod cancel;
mod create_lookup_vindex;
mod externalize;
mod lookup_table;
mod spec;

pub use cancel::cancel;
pub use create_lookup_vindex::create;
pub use externalize::externalize;

use crate::backend::Shard;
use crate::workflow::Workflows;

use crate::workflow::store::StreamRow;
use crate::workflow::{Definition, WorkflowError};

use std::sync::Arc;

fn invalid<T>(msg: impl Into<String>) -> Result<T, WorkflowError> {
    Err(WorkflowError::Invalid(msg.into()))
}

fn shards_of(state: &Workflows, keyspace: &str) -> Result<Vec<Arc<Shard>>, WorkflowError> {
    state
        .backends
        .keyspace(keyspace)
        .map(<[Arc<Shard>]>::to_vec)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| WorkflowError::Invalid(format!("keyspace '{keyspace}' does not exist")))
}

/// The definition and stream rows of a workflow.
async fn find(
    state: &Workflows,
    workflow: &str,
) -> Result<(Definition, Vec<StreamRow>), WorkflowError> {
    let mut def = None;
    let mut rows = Vec::new();
    for (d, r) in crate::workflow::all_streams(state).await? {
        if r.workflow == workflow {
            def.get_or_insert(d);
            rows.push(r);
        }
    }
    match def {
        Some(d) => Ok((d, rows)),
        None => invalid(format!("no lookup vindex workflow {workflow}")),
    }
}

//! `ExternalizeVindex`: the end of a workflow whose streams are in sync. Every source shard
//! needs a finished stream; then every owner row is verified once more (missing lookup rows
//! are added) and a unique vindex with conflicts (a value several owner rows hold) is refused,
//! naming the values. Then the vindex loses `write_only` (so reads route through it), the
//! streams stop and their stored rows go.

use super::{find, invalid, shards_of};
use crate::workflow::{store, WorkflowError, Workflows};
use serde_json::Value;
use std::sync::Arc;

/// `ExternalizeVindex`: once every stream is in sync, the vindex routes reads.
pub async fn externalize(
    state: &Arc<Workflows>,
    keyspace: &str,
    vindex: &str,
) -> Result<String, WorkflowError> {
    let _guard = state.vschema_edit.lock().await;
    let workflow = format!("{keyspace}.{vindex}");
    let (def, rows) = find(state, &workflow).await?;
    in_sync(&workflow, &shards_of(state, keyspace)?, &rows)?;
    let vschema = state.vschema.load_full();
    // Verify again, now: the streams' verify may be old (a stopped stream does not watch),
    // and a unique value two owner rows hold must never become routable.
    let report =
        crate::workflow::verify::check_owner_rows(state, &vschema, keyspace, vindex, true).await?;
    if !report.conflicts.is_empty() {
        return invalid(format!(
            "ExternalizeVindex {workflow} refused: {} conflicts: values of the unique vindex that several owner rows hold: {}; change or delete those rows, then run ExternalizeVindex again",
            report.conflicts.len(),
            crate::workflow::conflict_list(&report.conflicts)
        ));
    }
    let source = vschema
        .keyspace(keyspace)
        .ok_or_else(|| WorkflowError::Invalid(format!("keyspace '{keyspace}' does not exist")))?;
    let mut json = source.raw.clone();
    match json
        .pointer_mut(&format!("/vindexes/{vindex}/params"))
        .and_then(Value::as_object_mut)
    {
        Some(p) => {
            p.remove("write_only");
        }
        None => return invalid(format!("vindex {workflow} is not in the VSchema")),
    }
    // Validate before anything stops.
    crate::world::edited(&vschema, &[(keyspace, &json)])?;
    state.stop_workflow(&workflow).await;
    state
        .world
        .change_vschema(&vschema, &[(keyspace, &json)])
        .await?;
    state
        .topology
        .delete_workflow(&def.target_keyspace, &workflow)
        .await?;
    Ok(format!(
        "vindex {workflow} externalized: reads on {}.{} now route through it (verified {} owner rows, {} missing lookup rows added)",
        def.owner_table, def.vindex, report.owner_rows, report.repaired
    ))
}

/// Every source shard of the owner keyspace must have a stream that finished its copy and
/// verify (`done`, `Stopped` or `Running`): a shard without a stored stream was never
/// backfilled, so its rows could be missing from the lookup table.
fn in_sync(
    workflow: &str,
    source_shards: &[Arc<crate::backend::Shard>],
    rows: &[store::StreamRow],
) -> Result<(), WorkflowError> {
    for s in source_shards {
        let Some(r) = rows.iter().find(|r| r.source_shard == s.name) else {
            return invalid(format!(
                "workflow {workflow} has no stream for source shard {}: that shard was never backfilled; run the same CreateLookupVindex again to backfill it",
                s.name
            ));
        };
        if r.phase != "done" || !(r.state == "Stopped" || r.state == "Running") {
            return invalid(format!(
                "workflow {workflow} is not in sync yet: stream {} is {} ({}); wait for \"Stopped after copy\"",
                r.source_shard, r.state, r.message
            ));
        }
    }
    if let Some(r) = rows
        .iter()
        .find(|r| !source_shards.iter().any(|s| s.name == r.source_shard))
    {
        return invalid(format!(
            "workflow {workflow} has a stream for {}, which is not a shard of its keyspace",
            r.source_shard
        ));
    }
    Ok(())
}

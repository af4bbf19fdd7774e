//! `CancelLookupVindex`: the end of a workflow that is given up. The streams stop, both
//! VSchemas go back to what they were before the create, and the lookup table the create made
//! is dropped (unless `--keep_table`).

use super::{find, shards_of};
use crate::workflow::{WorkflowError, Workflows};
use serde_json::Value;
use std::sync::Arc;

/// `CancelLookupVindex`: stops the workflow, restores the VSchema, drops the lookup table
/// the create made (unless `keep_table`).
pub async fn cancel(
    state: &Arc<Workflows>,
    keyspace: &str,
    vindex: &str,
    keep_table: bool,
) -> Result<String, WorkflowError> {
    let _guard = state.vschema_edit.lock().await;
    let workflow = format!("{keyspace}.{vindex}");
    let (def, _) = find(state, &workflow).await?;
    state.stop_workflow(&workflow).await;
    let vschema = state.vschema.load_full();
    let edits: Vec<(&str, &Value)> = if def.target_keyspace == def.keyspace {
        vec![(def.keyspace.as_str(), &def.source_vschema_before)]
    } else {
        vec![
            (def.keyspace.as_str(), &def.source_vschema_before),
            (def.target_keyspace.as_str(), &def.target_vschema_before),
        ]
    };
    state.world.change_vschema(&vschema, &edits).await?;
    let target_shards = shards_of(state, &def.target_keyspace)?;
    let dropped = def.created_table && !keep_table;
    if dropped {
        for s in &target_shards {
            let mut c = s.job_conn().await?;
            c.query_drop(&format!(
                "DROP TABLE IF EXISTS {}",
                crate::sql::quote_ident(&def.lookup_table)
            ))
            .await?;
        }
    }
    state
        .topology
        .delete_workflow(&def.target_keyspace, &workflow)
        .await?;
    Ok(format!(
        "workflow {workflow} cancelled; VSchema restored; lookup table {}.{} {}",
        def.target_keyspace,
        def.lookup_table,
        if dropped { "dropped" } else { "kept" }
    ))
}

//! `VERIFY VINDEX <keyspace>.<vindex> [REPAIR]`: checks any owned lookup vindex at any time.
//!
//! Missing rows: every owner row (all source shards, chunked) must have its exact lookup row;
//! with REPAIR they are created through the consistent-lookup Create (reclaiming stale
//! orphans). Conflicts (unique vindexes): values several owner rows hold (`check`); counted
//! and named, never repaired. Orphans: every lookup row must have its owner row on the shard its keyspace id
//! names; with REPAIR each is deleted under the consistent-lookup locks (lookup row
//! `FOR UPDATE` in pre, owner probe `LOCK IN SHARE MODE`), so the delete cannot race an
//! insert of the same value.

use super::check;
use super::cursor::JobCursor;
use super::{Definition, WorkflowError};
use crate::exec::{Lookup, LookupRow};
use crate::keyrange::KeyRange;
use crate::vindex::SqlValue;
use crate::vschema::VSchema;
use crate::workflow::Workflows;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What a verify found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Owner rows checked.
    pub owner_rows: u64,
    /// Owner rows without their lookup row.
    pub missing: u64,
    /// Of those, created (REPAIR).
    pub repaired: u64,
    /// Lookup rows without an owner row.
    pub orphans: u64,
    /// Of those, deleted (REPAIR).
    pub deleted: u64,
    /// Values of a unique vindex that several owner rows hold (their rows cannot all have a
    /// lookup row; never repaired: the data must change).
    pub conflicts: BTreeSet<String>,
}

const SCAN_CHUNK: u64 = 1000;

/// Counts (and with `repair` deletes) the orphans among lookup rows whose keyspace id falls
/// in `range`, stopping early once `cancel` says so. Returns `(orphans, deleted)`.
pub async fn count_orphans(
    lookup: &Lookup<'_>,
    cursor: &mut JobCursor,
    range: &KeyRange,
    repair: bool,
    cancel: Option<&tokio::sync::watch::Receiver<bool>>,
) -> Result<(u64, u64), WorkflowError> {
    use crate::exec::Cursor;
    let shards = cursor.shards(lookup.table_keyspace())?;
    let (mut orphans, mut deleted) = (0u64, 0u64);
    for shard in 0..shards.len() {
        let mut after: Option<Vec<SqlValue>> = None;
        loop {
            if cancel.is_some_and(|c| *c.borrow()) {
                return Ok((orphans, deleted));
            }
            let rows = lookup
                .scan(cursor, shard, after.as_deref(), SCAN_CHUNK)
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some(last.from.clone());
            let mine: Vec<LookupRow> = rows
                .iter()
                .filter(|r| range.contains(&r.ksid))
                .cloned()
                .collect();
            for i in lookup.orphans_among(cursor, &mine).await? {
                let row = &mine[i];
                orphans += 1;
                if repair {
                    match lookup.delete_orphan(cursor, row).await {
                        Ok(done) => {
                            cursor.commit().await?;
                            deleted += u64::from(done);
                        }
                        Err(e) => {
                            cursor.rollback().await;
                            return Err(e.into());
                        }
                    }
                }
            }
            if (rows.len() as u64) < SCAN_CHUNK {
                break;
            }
        }
    }
    Ok((orphans, deleted))
}

/// Runs `VERIFY VINDEX`.
pub async fn verify_vindex(
    state: &Arc<Workflows>,
    keyspace: &str,
    vindex: &str,
    repair: bool,
) -> Result<VerifyReport, WorkflowError> {
    let vschema = state.vschema.load_full();
    let lookup = Lookup::find(&vschema, keyspace, vindex)?.ok_or_else(|| {
        WorkflowError::Invalid(format!("{keyspace}.{vindex} is not a lookup vindex"))
    })?;
    let mut report = check_owner_rows(state, &vschema, keyspace, vindex, repair).await?;
    let mut cursor = JobCursor::new(state.backends.clone());
    let (orphans, deleted) =
        count_orphans(&lookup, &mut cursor, &KeyRange::full(), repair, None).await?;
    report.orphans = orphans;
    report.deleted = deleted;
    Ok(report)
}

/// Checks every owner row of every source shard: missing lookup rows (created with
/// `repair`) and conflicts. Fills every field of the report but the orphan counts.
pub(super) async fn check_owner_rows(
    state: &Arc<Workflows>,
    vschema: &VSchema,
    keyspace: &str,
    vindex: &str,
    repair: bool,
) -> Result<VerifyReport, WorkflowError> {
    let entry = vschema
        .keyspace(keyspace)
        .and_then(|k| k.vindex(vindex))
        .ok_or_else(|| WorkflowError::Invalid(format!("no vindex {keyspace}.{vindex}")))?;
    let owner = entry.owner.clone().ok_or_else(|| {
        WorkflowError::Invalid(format!(
            "vindex {keyspace}.{vindex} has no owner table to verify against"
        ))
    })?;
    let lookup = Lookup::find(vschema, keyspace, vindex)?.ok_or_else(|| {
        WorkflowError::Invalid(format!("{keyspace}.{vindex} is not a lookup vindex"))
    })?;
    let def = Definition {
        keyspace: keyspace.to_string(),
        vindex: vindex.to_string(),
        owner_table: owner,
        target_keyspace: lookup.table_keyspace().to_string(),
        lookup_table: String::new(),
        continue_after_copy: false,
        max_rows_per_sec: 0,
        max_backend_load: 0,
        chunk_size: SCAN_CHUNK,
        created_table: false,
        source_vschema_before: serde_json::Value::Null,
        target_vschema_before: serde_json::Value::Null,
    };
    let mut report = VerifyReport::default();
    let mut cursor = JobCursor::new(state.backends.clone());
    let shards = state
        .backends
        .keyspace(keyspace)
        .map(<[_]>::to_vec)
        .unwrap_or_default();
    for source in &shards {
        let mut conn = source.job_conn().await?;
        // Kept across the scan while the checks check out connections too.
        conn.hold();
        let q = super::backfill::owner_query(&mut conn, source, vschema, &def).await?;
        let mut last: Option<Vec<String>> = None;
        loop {
            let rows = conn.query(&q.chunk(last.as_deref(), SCAN_CHUNK)).await?;
            if rows.is_empty() {
                break;
            }
            report.owner_rows += rows.len() as u64;
            let (lrows, pk) = super::backfill::lookup_rows(vschema, &def, &q, &rows)?;
            last = pk;
            let checked =
                check::check_rows(&lookup, &mut cursor, &lrows, repair, &mut report.conflicts)
                    .await?;
            report.missing += checked.missing;
            report.repaired += checked.added;
        }
        report
            .conflicts
            .extend(check::shard_duplicates(&lookup, &mut conn, &q).await?);
    }
    Ok(report)
}

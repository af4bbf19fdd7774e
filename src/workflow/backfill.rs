//! One backfill stream: copy the owner rows of one source shard into the lookup table, then
//! verify, then stop (or keep verifying with `--continue_after_copy_with_owner`).
//!
//! Copy: the owner table is read in primary-key order, in chunks, inside one
//! `START TRANSACTION WITH CONSISTENT SNAPSHOT` (a resumed stream opens a new snapshot and
//! goes on after the saved key); each chunk's lookup rows (keyspace id from the owner's
//! primary vindex) go in with `INSERT IGNORE`, so rows client DML wrote meanwhile are left
//! alone; progress is saved after every chunk. Throttling: a rows-per-second limit and a
//! pause while the source shard's `Threads_running` is above the DBA's limit.
//!
//! Verify: the owner table is read again (current data, chunked); owner rows without their
//! exact lookup row (written around the proxy, or by a transaction that began before the
//! vindex existed) are created through the consistent-lookup Create, whose reclaim step
//! takes over stale orphans; lookup rows pointing into this shard without an owner row are
//! counted as orphans.

use super::cursor::JobCursor;
use super::store::StreamRow;
use super::{Definition, WorkflowError};
use crate::backend::{JobConn, Shard};
use crate::exec::{cell_value, keyspace_id, literal, Lookup, LookupRow};
use crate::vindex::SqlValue;
use crate::vschema::VSchema;
use crate::workflow::Workflows;
use crate::world::topology::{StreamKey, TopoError, Topology, TopologyKind};
use mysql_common::{Row, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

use super::check::{self, transient};

/// How often a copy chunk is retried after a deadlock or lock wait timeout (client DML
/// writing the same lookup rows) before the stream fails.
const MAX_RETRIES: u64 = 20;

/// Seconds between verify passes of a `Running` stream.
const CATCH_UP_INTERVAL: Duration = Duration::from_secs(5);

/// Runs a stream until it is done, cancelled, or fails (the failure is stored as `Error`).
/// With several proxies the stream runs only where its claim in the topology is held: a
/// proxy that cannot claim it leaves it to the owner, and one that loses the claim stops.
pub async fn run_stream(
    state: &Arc<Workflows>,
    def: Definition,
    mut row: StreamRow,
    cancel: watch::Receiver<bool>,
) {
    let key = row.key();
    // With several proxies, a stream whose vindex this proxy's VSchema does not have yet is
    // being created (its rows are saved before the VSchema changes) or was left by a create
    // that failed: it is not this proxy's to run (nor to mark failed).
    if state.topology.kind() == TopologyKind::Etcd && !knows_vindex(state, &def) {
        return;
    }
    match state.topology.claim_stream(&key, &state.proxy_id).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(workflow = %row.workflow, shard = %row.source_shard, error = %e, "cannot claim the lookup backfill stream");
            return;
        }
    }
    let name = format!("{}/{}", key.workflow, key.source_shard);
    if let Ok(mut running) = state.running_streams.lock() {
        running.insert(name.clone());
    }
    run_claimed(state, &def, &mut row, &cancel).await;
    if let Ok(mut running) = state.running_streams.lock() {
        running.remove(&name);
    }
    let _ = state.topology.release_stream(&key).await;
}

/// Whether the VSchema this proxy serves has the stream's vindex.
pub(super) fn knows_vindex(state: &Workflows, def: &Definition) -> bool {
    state
        .vschema
        .load()
        .keyspace(&def.keyspace)
        .and_then(|k| k.vindex(&def.vindex))
        .is_some()
}

/// Runs a stream this proxy has claimed.
async fn run_claimed(
    state: &Arc<Workflows>,
    def: &Definition,
    row: &mut StreamRow,
    cancel: &watch::Receiver<bool>,
) {
    let key = row.key();
    let store_at = StreamStore {
        topology: state.topology.clone(),
        target_keyspace: def.target_keyspace.clone(),
        key: key.clone(),
    };
    let result = stream(state, def, row, &store_at, cancel).await;
    if *cancel.borrow() {
        return;
    }
    match result {
        Ok(()) => {}
        Err(WorkflowError::Topology(TopoError::NotOwner { .. })) => {
            tracing::info!(workflow = %row.workflow, shard = %row.source_shard, "another proxy runs this lookup backfill stream now; stopping here");
        }
        Err(e) => {
            tracing::warn!(workflow = %row.workflow, shard = %row.source_shard, error = %e, "lookup backfill failed");
            row.state = "Error".into();
            row.message = e.to_string();
            let _ = store_at.save_row(row).await;
        }
    }
}

/// Where a stream's progress goes: its row in the topology, written only while this proxy
/// owns the stream.
pub(super) struct StreamStore {
    topology: Arc<dyn Topology>,
    target_keyspace: String,
    key: StreamKey,
}

impl StreamStore {
    /// Saves the row; a store that does not answer (etcd restarting, a leader election) is
    /// tried again for a few seconds before the stream fails. A lost claim is final.
    async fn save_row(&self, row: &StreamRow) -> Result<(), WorkflowError> {
        let mut tries = 0;
        loop {
            let r = self
                .topology
                .save_streams(
                    &self.target_keyspace,
                    std::slice::from_ref(row),
                    Some(&self.key),
                )
                .await;
            match r {
                Err(TopoError::Store(_)) if tries < 10 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                r => return Ok(r?),
            }
        }
    }
}

/// Saves the stream's row unless the workflow was cancelled or externalized meanwhile (its
/// rows are being deleted; a late save would bring them back).
pub(super) async fn save(
    store_at: &StreamStore,
    row: &StreamRow,
    cancel: &watch::Receiver<bool>,
) -> Result<(), WorkflowError> {
    if *cancel.borrow() {
        return Ok(());
    }
    store_at.save_row(row).await
}

/// What the stream reads from the owner table.
pub(super) struct OwnerQuery {
    /// `pk…, primary vindex cols…, lookup cols…`.
    select: String,
    table: String,
    pk: Vec<String>,
    primary_n: usize,
    from_n: usize,
    primary_vindex: String,
    /// The owner's columns of the vindex.
    from_cols: Vec<String>,
}

impl OwnerQuery {
    pub(super) fn chunk(&self, after: Option<&[String]>, limit: u64) -> String {
        let pk: Vec<String> = self.pk.iter().map(|c| crate::sql::quote_ident(c)).collect();
        let filter = match after {
            Some(vals) if pk.len() == 1 => format!(" WHERE {} > {}", pk[0], vals.join(", ")),
            Some(vals) => format!(" WHERE ({}) > ({})", pk.join(", "), vals.join(", ")),
            None => String::new(),
        };
        format!(
            "SELECT {} FROM {}{filter} ORDER BY {} LIMIT {limit}",
            self.select,
            crate::sql::quote_ident(&self.table),
            pk.join(", ")
        )
    }

    /// The values several rows hold in the vindex's (single) owner column, or None for a
    /// multi-column vindex.
    pub(super) fn duplicates_sql(&self) -> Option<String> {
        let [col] = self.from_cols.as_slice() else {
            return None;
        };
        let col = crate::sql::quote_ident(col);
        Some(format!(
            "SELECT {col} FROM {} WHERE {col} IS NOT NULL GROUP BY {col} HAVING COUNT(*) > 1 LIMIT 10000",
            crate::sql::quote_ident(&self.table)
        ))
    }
}

pub(super) async fn owner_query(
    conn: &mut JobConn,
    shard: &Shard,
    vschema: &VSchema,
    def: &Definition,
) -> Result<OwnerQuery, WorkflowError> {
    let keys: Vec<Row> = conn
        .query(&format!(
            "SHOW KEYS FROM {} WHERE Key_name = 'PRIMARY'",
            crate::sql::quote_ident(&def.owner_table)
        ))
        .await?;
    let pk: Vec<String> = keys
        .iter()
        .filter_map(|r| r.get::<String, _>("Column_name"))
        .collect();
    if pk.is_empty() {
        return Err(WorkflowError::Invalid(format!(
            "owner table {} has no primary key on {}",
            def.owner_table, shard.label
        )));
    }
    let ks = vschema
        .keyspace(&def.keyspace)
        .ok_or_else(|| WorkflowError::Invalid(format!("keyspace {} vanished", def.keyspace)))?;
    let table = ks.table(&def.owner_table).ok_or_else(|| {
        WorkflowError::Invalid(format!("owner table {} vanished", def.owner_table))
    })?;
    let primary = table.primary_vindex().ok_or_else(|| {
        WorkflowError::Invalid(format!("{} has no primary vindex", def.owner_table))
    })?;
    let cv = table
        .column_vindexes
        .iter()
        .find(|cv| cv.vindex == def.vindex)
        .ok_or_else(|| {
            WorkflowError::Invalid(format!(
                "{} no longer uses vindex {}",
                def.owner_table, def.vindex
            ))
        })?;
    let mut cols: Vec<String> = pk.clone();
    cols.extend(primary.columns.iter().cloned());
    cols.extend(cv.columns.iter().cloned());
    Ok(OwnerQuery {
        select: cols
            .iter()
            .map(|c| crate::sql::quote_ident(c))
            .collect::<Vec<_>>()
            .join(", "),
        table: def.owner_table.clone(),
        primary_n: primary.columns.len(),
        from_n: cv.columns.len(),
        primary_vindex: primary.vindex.clone(),
        from_cols: cv.columns.clone(),
        pk,
    })
}

/// Turns owner rows into lookup rows; returns them and the last row's primary key literals.
pub(super) fn lookup_rows(
    vschema: &VSchema,
    def: &Definition,
    q: &OwnerQuery,
    rows: &[Row],
) -> Result<(Vec<LookupRow>, Option<Vec<String>>), WorkflowError> {
    let mut out = Vec::with_capacity(rows.len());
    let mut last = None;
    let pk_n = q.pk.len();
    for row in rows {
        let columns = row.columns_ref();
        let cell = |i: usize| -> SqlValue {
            let v = row.as_ref(i).cloned().unwrap_or(Value::NULL);
            cell_value(columns.get(i), &v)
        };
        let primary: Vec<SqlValue> = (pk_n..pk_n + q.primary_n).map(cell).collect();
        let from: Vec<SqlValue> = (pk_n + q.primary_n..pk_n + q.primary_n + q.from_n)
            .map(cell)
            .collect();
        let ksid = keyspace_id(vschema, &def.keyspace, &q.primary_vindex, primary)?;
        out.push(LookupRow { from, ksid });
        last = Some(
            (0..pk_n)
                .map(|i| literal(&cell(i), crate::sql::Charset::UTF8MB4))
                .collect(),
        );
    }
    Ok((out, last))
}

/// Waits as the throttle says: the rate limit, then the backend load limit (read on
/// `source` with a connection taken for each probe).
async fn throttle(
    def: &Definition,
    source: &Arc<Shard>,
    started: Instant,
    copied_here: u64,
    cancel: &watch::Receiver<bool>,
) {
    if def.max_rows_per_sec > 0 {
        let due = Duration::from_secs_f64(copied_here as f64 / def.max_rows_per_sec as f64);
        let elapsed = started.elapsed();
        if due > elapsed {
            tokio::time::sleep(due - elapsed).await;
        }
    }
    if def.max_backend_load > 0 {
        for _ in 0..600 {
            if *cancel.borrow() {
                return;
            }
            let running = match source.job_conn().await {
                Ok(mut probe) => probe
                    .query("SHOW GLOBAL STATUS LIKE 'Threads_running'")
                    .await
                    .ok()
                    .and_then(|rows| rows.first().and_then(|r| r.get::<u64, _>(1))),
                Err(_) => None,
            };
            match running {
                Some(n) if n > def.max_backend_load => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                _ => return,
            }
        }
    }
}

async fn stream(
    state: &Arc<Workflows>,
    def: &Definition,
    row: &mut StreamRow,
    store_at: &StreamStore,
    cancel: &watch::Receiver<bool>,
) -> Result<(), WorkflowError> {
    let source = state
        .backends
        .shard(&def.keyspace, &row.source_shard)
        .cloned()
        .ok_or_else(|| {
            WorkflowError::Invalid(format!("source shard {} vanished", row.source_shard))
        })?;
    let vschema = state.vschema.load_full();
    if vschema
        .keyspace(&def.keyspace)
        .and_then(|k| k.vindex(&def.vindex))
        .is_none()
    {
        return Err(WorkflowError::Invalid(format!(
            "the VSchema has no vindex {}.{}: its CreateLookupVindex did not finish; run CancelLookupVindex {}.{}",
            def.keyspace, def.vindex, def.keyspace, def.vindex
        )));
    }
    super::barrier::wait_for_older_work(state, &vschema, row, store_at, cancel).await?;
    if *cancel.borrow() {
        return Ok(());
    }
    let lookup = Lookup::find(&vschema, &def.keyspace, &def.vindex)?
        .ok_or_else(|| WorkflowError::Invalid(format!("{} is not a lookup vindex", def.vindex)))?;
    let mut conn = source.job_conn().await?;
    // Kept for the whole copy while the job checks out more connections (its lookup writes
    // may go to this same shard): outside pool_max, like a session's transaction.
    conn.hold();
    let q = owner_query(&mut conn, &source, &vschema, def).await?;
    let mut cursor = JobCursor::new(state.backends.clone());
    if row.phase == "copy" {
        if row.rows_total == 0 {
            let est: Option<u64> = conn
                .exec(
                    "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
                    &[Value::from(def.owner_table.as_str())],
                )
                .await?
                .first()
                .and_then(|r| r.get::<Option<u64>, _>(0))
                .flatten();
            row.rows_total = est.unwrap_or(0);
        }
        row.state = "Copying".into();
        row.message = "copying".into();
        save(store_at, row, cancel).await?;
        conn.begin("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            .await?;
        let started = Instant::now();
        let copied_at_start = row.rows_copied;
        let mut last: Option<Vec<String>> = match &row.last_pk {
            Some(j) => serde_json::from_str(j).ok(),
            None => None,
        };
        loop {
            if *cancel.borrow() {
                return Ok(());
            }
            throttle(
                def,
                &source,
                started,
                row.rows_copied - copied_at_start,
                cancel,
            )
            .await;
            let rows: Vec<Row> = conn
                .query(&q.chunk(last.as_deref(), def.chunk_size))
                .await?;
            if rows.is_empty() {
                break;
            }
            let (lrows, pk) = lookup_rows(&vschema, def, &q, &rows)?;
            let mut attempt = 0;
            loop {
                match lookup.insert_ignore(&mut cursor, &lrows).await {
                    Ok(_) => break,
                    Err(e) if transient(&e) && attempt < MAX_RETRIES => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            row.rows_copied += rows.len() as u64;
            state
                .metrics
                .workflow_copied(&def.vindex, rows.len() as u64);
            // The estimate may be low (InnoDB statistics, rows inserted meanwhile).
            row.rows_total = row.rows_total.max(row.rows_copied);
            last = pk;
            row.last_pk = last.as_ref().and_then(|l| serde_json::to_string(l).ok());
            row.message = "copying".into();
            save(store_at, row, cancel).await?;
        }
        let _ = conn.commit().await;
        row.phase = "verify".into();
        row.message = "copy done, verifying".into();
        save(store_at, row, cancel).await?;
    }
    // The copy's connection is done with; each verify pass takes its own.
    drop(conn);
    loop {
        let (added, orphans, conflicts) = verify_shard(
            &vschema,
            def,
            &lookup,
            (&source, &q),
            &mut cursor,
            cancel,
            (store_at, &mut *row),
        )
        .await?;
        if *cancel.borrow() {
            return Ok(());
        }
        row.phase = "done".into();
        row.conflicts = conflicts.len() as u64;
        row.conflict_values = check::list(&conflicts);
        let conflict_note = if conflicts.is_empty() {
            String::new()
        } else {
            format!(
                "; {} conflicts: values other owner rows already hold, which the unique vindex cannot map: {}; change or delete those rows (ExternalizeVindex refuses until then)",
                conflicts.len(),
                row.conflict_values
            )
        };
        if def.continue_after_copy {
            row.state = "Running".into();
            row.message = format!(
                "in sync: catching up every {}s (last verify: {added} missing rows added, {orphans} orphans){conflict_note}",
                CATCH_UP_INTERVAL.as_secs()
            );
        } else {
            row.state = "Stopped".into();
            row.message = format!(
                "Stopped after copy ({added} missing rows added by verify, {orphans} orphans){conflict_note}"
            );
        }
        save(store_at, row, cancel).await?;
        if !def.continue_after_copy {
            return Ok(());
        }
        let mut c = cancel.clone();
        tokio::select! {
            _ = tokio::time::sleep(CATCH_UP_INTERVAL) => {}
            _ = c.changed() => return Ok(()),
        }
    }
}

/// The verify pass of one source shard: adds missing lookup rows, collects the conflicting
/// values of a unique vindex, counts orphans pointing into the shard. Returns
/// `(added, orphans, conflicts)`.
async fn verify_shard(
    vschema: &VSchema,
    def: &Definition,
    lookup: &Lookup<'_>,
    (source, q): (&Arc<Shard>, &OwnerQuery),
    cursor: &mut JobCursor,
    cancel: &watch::Receiver<bool>,
    (store_at, row): (&StreamStore, &mut StreamRow),
) -> Result<(u64, u64, BTreeSet<String>), WorkflowError> {
    let mut conn = source.job_conn().await?;
    // Kept across the pass while its lookup checks check out connections too.
    conn.hold();
    let mut last: Option<Vec<String>> = None;
    let mut added = 0u64;
    let mut checked = 0u64;
    let mut conflicts = BTreeSet::new();
    let started = Instant::now();
    loop {
        if *cancel.borrow() {
            return Ok((added, 0, conflicts));
        }
        // The verify pass reads as much as the copy: the same throttle applies.
        throttle(def, source, started, checked, cancel).await;
        let rows: Vec<Row> = conn
            .query(&q.chunk(last.as_deref(), def.chunk_size))
            .await?;
        if rows.is_empty() {
            break;
        }
        checked += rows.len() as u64;
        if (checked / def.chunk_size.max(1)).is_multiple_of(10) {
            row.message = format!(
                "verifying: {checked} of ~{} owner rows checked, {added} missing rows added, {} conflicts",
                row.rows_total.max(row.rows_copied),
                conflicts.len()
            );
            save(store_at, row, cancel).await?;
        }
        let (lrows, pk) = lookup_rows(vschema, def, q, &rows)?;
        last = pk;
        added += check::check_rows(lookup, cursor, &lrows, true, &mut conflicts)
            .await?
            .added;
    }
    conflicts.extend(check::shard_duplicates(lookup, &mut conn, q).await?);
    let orphans = super::verify::count_orphans(lookup, cursor, &source.range, false, Some(cancel))
        .await?
        .0;
    Ok((added, orphans, conflicts))
}

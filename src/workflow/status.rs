//! What each backfill stream is doing, typed: `SHOW VINDEX WORKFLOWS`, the status page's
//! progress bars and the workflow metrics all read [`stream_statuses`].

use super::{all_streams, WorkflowError, Workflows};

/// One stream's state, progress, rate and runner.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamStatus {
    /// The workflow (the vindex's name).
    pub workflow: String,
    /// The owner table's keyspace.
    pub keyspace: String,
    /// The owner table.
    pub table: String,
    /// The source (owner) shard this stream copies.
    pub source_shard: String,
    /// `Copying`, `Running`, `Stopped` or `Error`.
    pub state: String,
    /// `copy`, `verify` or `done`.
    pub phase: String,
    /// Rows copied so far.
    pub rows_copied: u64,
    /// Rows to copy (the estimate, or the rows copied when more were copied).
    pub rows_total: u64,
    /// Percent done: below 100 while copying, 100 after.
    pub percent: f64,
    /// Rows per second since this proxy started running the stream, once measurable.
    pub rows_per_sec: Option<f64>,
    /// Seconds left at that rate: `Some(0.0)` once copied; `None` while unknown.
    pub eta_seconds: Option<f64>,
    /// Human-readable status.
    pub message: String,
    /// Conflicts the last verify pass found.
    pub conflicts: u64,
    /// The proxy running the stream (empty when none does).
    pub runner: String,
}

/// Which proxy runs each stream (`SHOW VINDEX WORKFLOWS`): this one for its own, the owner
/// key's proxy for others (etcd), empty when none does.
async fn runners(state: &Workflows) -> Vec<(crate::world::topology::StreamKey, String)> {
    let mut out = state.topology.stream_owners().await.unwrap_or_default();
    if let Ok(streams) = state.streams.lock() {
        for (w, s) in streams.keys() {
            let key = crate::world::topology::StreamKey {
                workflow: w.clone(),
                source_shard: s.clone(),
            };
            if !out.iter().any(|(k, _)| *k == key) {
                out.push((key, state.proxy_id.clone()));
            }
        }
    }
    out
}

/// Every stream's status, in the topology's order.
pub async fn stream_statuses(state: &Workflows) -> Result<Vec<StreamStatus>, WorkflowError> {
    let runners = runners(state).await;
    let mut out = Vec::new();
    for (def, row) in all_streams(state).await? {
        let runner = runners
            .iter()
            .find(|(k, _)| *k == row.key())
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        let copying = row.phase == "copy";
        let total = row.rows_total.max(row.rows_copied);
        let percent = match (copying, total) {
            (false, _) => 100.0,
            (true, 0) => 0.0,
            (true, t) => (row.rows_copied as f64 * 100.0 / t as f64).min(99.9),
        };
        let rows_per_sec = state.rate(&row.workflow, &row.source_shard, row.rows_copied);
        let eta_seconds = match (copying, rows_per_sec) {
            (true, Some(r)) if r > 0.0 => Some(total.saturating_sub(row.rows_copied) as f64 / r),
            (true, _) => None,
            (false, _) => Some(0.0),
        };
        out.push(StreamStatus {
            workflow: def.vindex.clone(),
            keyspace: def.keyspace.clone(),
            table: def.owner_table.clone(),
            source_shard: row.source_shard.clone(),
            state: row.state.clone(),
            phase: row.phase.clone(),
            rows_copied: row.rows_copied,
            rows_total: row.rows_total,
            percent,
            rows_per_sec,
            eta_seconds,
            message: row.message.clone(),
            conflicts: row.conflicts,
            runner,
        });
    }
    Ok(out)
}

/// `SHOW VINDEX WORKFLOWS`: column names and one row per stream.
pub async fn show_rows(
    state: &Workflows,
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
        "runner",
    ];
    let rows = stream_statuses(state)
        .await?
        .into_iter()
        .map(|s| {
            vec![
                s.workflow,
                s.keyspace,
                s.table,
                s.source_shard,
                s.state,
                s.rows_copied.to_string(),
                s.rows_total.to_string(),
                format!("{:.1}", s.percent),
                s.rows_per_sec
                    .map(|r| format!("{r:.0}"))
                    .unwrap_or_else(|| "0".into()),
                s.eta_seconds.map(|e| format!("{e:.0}")).unwrap_or_default(),
                s.message,
                s.conflicts.to_string(),
                s.runner,
            ]
        })
        .collect();
    Ok((columns, rows))
}

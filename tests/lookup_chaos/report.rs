//! What a run prints and keeps: the kind of each anomaly line (for the counts by kind), the
//! statement history file, and the `FIGURES` line `bench/lookup-history` reads.

use crate::clients::Stats;
use crate::config::Settings;
use crate::create_vindex::CreateOutcome;
use crate::fleet::Runners;
use crate::invariant::Verdict;
use crate::killer::Kills;
use crate::routed_reads::ReadVerdict;
use crate::shard_reads::Snapshot;
use std::time::Duration;

/// The kind of an anomaly line, for the counts by kind.
pub(crate) fn anomaly_kind(line: &str) -> String {
    if let Some(rest) = line.strip_prefix("right after the create: ") {
        return format!("right after the create: {}", anomaly_kind(rest));
    }
    for whole in [
        "CreateLookupVindex did not reach sync",
        "ExternalizeVindex did not succeed",
    ] {
        if line.starts_with(whole) {
            return whole.to_string();
        }
    }
    let word_after = |pat: &str| {
        line.split_once(pat)
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .unwrap_or("?")
            .to_string()
    };
    if line.contains("(UNOWNED use: never verified) has no") {
        format!(
            "unowned row not mapping to its keyspace id ({})",
            word_after(") has no ")
        )
    } else if line.contains(" has no ") {
        format!(
            "owner row without its lookup row ({})",
            word_after(" has no ")
        )
    } else if line.contains(" is held by ") {
        format!("unique value held by two rows ({})", word_after("unique "))
    } else if line.contains(" is on customer/") {
        "owner row on the wrong shard".into()
    } else if line.starts_with("lookup row ") {
        format!(
            "lookup row on the wrong shard ({})",
            word_after("lookup row ")
        )
    } else if line.contains("routed `") {
        let vindex = line.split_whitespace().next().unwrap_or("?");
        if line.contains("gave Err(") {
            format!("routed read failed ({vindex})")
        } else {
            format!("routed read differs from the scatter/shards ({vindex})")
        }
    } else {
        line.chars().take(60).collect()
    }
}

/// Writes the history (every statement and its result, by time) to
/// `target/tmp/lookup_chaos-<seed>.history` for the anomaly hunt.
pub(crate) fn write_history(settings: &Settings, stats: &Stats) {
    let mut lines: Vec<&(f64, usize, String, String)> = stats.history.iter().collect();
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    let text: String = lines
        .iter()
        .map(|(at, client, sql, result)| format!("{at:9.3} c{client} {sql} -> {result}\n"))
        .collect();
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("lookup_chaos-{}.history", settings.seed));
    match std::fs::write(&path, text) {
        Ok(()) => eprintln!(
            "lookup_chaos: history of {} statements in {}",
            lines.len(),
            path.display()
        ),
        Err(e) => eprintln!("lookup_chaos: could not write {}: {e}", path.display()),
    }
}

/// The proxies of a run: how many, which one the create went through, the kills, who ran the
/// streams and how many times a proxy adopted a stream no live proxy ran (its log).
#[derive(Debug)]
pub(crate) struct FleetReport {
    /// How many proxies.
    pub(crate) proxies: usize,
    /// The proxy the CreateLookupVindex went through.
    pub(crate) create_proxy: usize,
    /// What the killer did.
    pub(crate) kills: Kills,
    /// Who ran the streams (the create task's polls).
    pub(crate) runners: Runners,
    /// "adopting a lookup backfill stream" lines in the proxies' logs.
    pub(crate) adoptions: usize,
}

/// The rows the streams' verify pass added (owner rows that had no lookup row after the
/// copy), summed from the `SHOW VINDEX WORKFLOWS` messages "Stopped after copy (N missing rows
/// added by verify, ...)". Not an anomaly by itself (verify repairs them), but a write some
/// proxy skipped while the vindex was write_only would show here first.
pub(crate) fn verify_added(created: &CreateOutcome) -> u64 {
    created
        .workflows
        .iter()
        .filter_map(|w| {
            let (before, _) = w.split_once(" missing rows added by verify")?;
            before.rsplit('(').next()?.trim().parse::<u64>().ok()
        })
        .sum()
}

fn list(v: impl IntoIterator<Item = usize>) -> String {
    let v: Vec<String> = v.into_iter().map(|i| i.to_string()).collect();
    if v.is_empty() {
        "-".into()
    } else {
        v.join(",")
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn print_figures(
    settings: &Settings,
    stats: &Stats,
    fleet: &FleetReport,
    created: &CreateOutcome,
    snap: &Snapshot,
    verdict: &Verdict,
    at_create: &Verdict,
    reads: &ReadVerdict,
    took: Duration,
) {
    let owner_rows: usize = snap.owners.values().map(Vec::len).sum();
    let lookup_rows: usize = snap.lookups.values().map(Vec::len).sum();
    let orphans: usize = verdict.orphans.values().sum();
    for (kind, n) in &stats.errors {
        eprintln!(
            "lookup_chaos:   error {kind}: {n} (first: {})",
            stats.samples[kind]
        );
    }
    for (msg, n) in &stats.refusals {
        eprintln!("lookup_chaos:   refused (1235) {n}: {msg}");
    }
    eprintln!(
        "lookup_chaos:   statements ok by kind: {:?}",
        stats.ok_by_kind
    );
    eprintln!("lookup_chaos:   orphans by vindex: {:?}", verdict.orphans);
    eprintln!(
        "lookup_chaos: FIGURES seed={} workload_s={} clients={} holes_on={:?} units={} units_ok={} \
         units_failed={} units_with_committed_writes={} statements={} statements_ok={} commits={} \
         rollbacks={} savepoint_rollbacks={} kills={} create_kills={} create_attempts={} \
         created_at_s={:?} in_sync_at_s={:?} externalized={} create_refused={:?} owner_rows={} \
         lookup_rows={} rows_x_vindexes_checked={} orphans={} routed_values_compared={} \
         invariant_violations={} violations_right_after_create={} routed_anomalies={} proxies={} \
         create_proxy={} kills_per_proxy={} runner_kills={} stream_runners={} runner_changes={} \
         adoptions={} verify_added={} took_s={:.0}",
        settings.seed,
        settings.workload.as_secs(),
        settings.clients,
        settings.holes,
        stats.ok + stats.failed,
        stats.ok,
        stats.failed,
        stats.writes,
        stats.statements,
        stats.ok_by_kind.values().sum::<u64>(),
        stats.commits,
        stats.rollbacks,
        stats.savepoint_rollbacks,
        fleet.kills.total,
        created.kills,
        created.attempts,
        created.created_at.map(|s| s.round()),
        created.in_sync_at.map(|s| s.round()),
        created.externalized,
        created.refused,
        owner_rows,
        lookup_rows,
        verdict.checked,
        orphans,
        reads.compared,
        verdict.violations.len(),
        at_create.violations.len(),
        reads.anomalies.len(),
        fleet.proxies,
        fleet.create_proxy,
        list(fleet.kills.per_proxy.iter().copied()),
        fleet.kills.of_runner,
        list(fleet.runners.ran.iter().copied()),
        fleet.runners.changes,
        fleet.adoptions,
        verify_added(created),
        took.as_secs_f64()
    );
}

#[test]
fn verify_added_sums_the_stream_messages() {
    let created = CreateOutcome {
        workflows: vec![
            "-80 Stopped Stopped after copy (2 missing rows added by verify, 1 orphans); 4 conflicts"
                .into(),
            "80- Stopped Stopped after copy (0 missing rows added by verify, 0 orphans)".into(),
            "80- Stopped Stopped after copy (3 missing rows added by verify, 0 orphans)".into(),
        ],
        ..CreateOutcome::default()
    };
    assert_eq!(verify_added(&created), 5);
}

#[test]
fn a_create_that_failed_is_its_own_kind() {
    assert_eq!(
        anomaly_kind("CreateLookupVindex did not reach sync: ... the VSchema has no vindex x"),
        "CreateLookupVindex did not reach sync"
    );
}

//! What the proxy counts, for operators: Prometheus metrics, the statement fingerprints the
//! status page ranks, and the per-statement query log.
//!
//! One [`Metrics`] per proxy (in its [`World`](crate::world::World)): every finished client
//! statement becomes one [`StatementRecord`] ([`Metrics::record_statement`]), which feeds the
//! counters and histograms, the [`TopStatements`] table and the [`QueryLog`]. Background work
//! counts through the same struct (lookup-vindex writes and reclaims, workflow rows copied).
//! Values owned elsewhere (pool counts, plan-cache hits, shard health) are copied in by the
//! HTTP layer just before each scrape ([`Metrics::encode`] callers).
//!
//! The exposition is the `prometheus` crate's; nothing here writes the text format by hand.
//! This module is the lowest layer: it imports nothing of the proxy's.

mod fingerprints;
mod query_log;

pub use fingerprints::{FingerprintStats, TopStatements};
pub use query_log::{QueryLog, QueryLogSettings};

use prometheus::{
    Encoder, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::time::Duration;

/// How a statement reached the shards (the `route` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteKind {
    /// Answered by the proxy itself (session statements, SHOW about the proxy, admin).
    Local,
    /// Sent to an unsharded keyspace.
    Unsharded,
    /// One shard of a sharded keyspace, chosen by a functional vindex or named by the client.
    SingleShard,
    /// Routed through a lookup vindex (the lookup table read first).
    Lookup,
    /// Some shards of a sharded keyspace (an IN list, a multi-row INSERT).
    MultiShard,
    /// Every shard of a sharded keyspace.
    Scatter,
    /// Refused by the proxy (error 1235: not supported).
    Refused,
}

impl RouteKind {
    /// Every kind, in label order.
    pub const ALL: [RouteKind; 7] = [
        RouteKind::Local,
        RouteKind::Unsharded,
        RouteKind::SingleShard,
        RouteKind::Lookup,
        RouteKind::MultiShard,
        RouteKind::Scatter,
        RouteKind::Refused,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Local => "local",
            RouteKind::Unsharded => "unsharded",
            RouteKind::SingleShard => "single_shard",
            RouteKind::Lookup => "lookup",
            RouteKind::MultiShard => "multi_shard",
            RouteKind::Scatter => "scatter",
            RouteKind::Refused => "refused",
        }
    }
}

/// One finished client statement.
#[derive(Debug, Clone)]
pub struct StatementRecord<'a> {
    /// The statement's text as the client sent it (fingerprinted here).
    pub text: &'a str,
    /// Its kind (`SELECT`, `INSERT`, ..., `SET`, `ADMIN`).
    pub kind: &'static str,
    /// How it was routed.
    pub route: RouteKind,
    /// The keyspace it ran in (`""` when none).
    pub keyspace: &'a str,
    /// Distinct shards it sent work to (lookup tables included).
    pub shards: u32,
    /// Rows returned, or rows affected.
    pub rows: u64,
    /// Wall time from receiving it to its last response byte queued.
    pub duration: Duration,
    /// The MySQL error code it failed with, if it did.
    pub error: Option<u16>,
    /// The client's user.
    pub user: &'a str,
}

/// What a lookup-vindex maintenance step did (the `op` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LookupOp {
    /// Lookup rows inserted.
    Insert,
    /// Lookup rows deleted.
    Delete,
    /// Lookup rows whose keyspace id was updated (a reclaim of an orphan included).
    Update,
}

impl LookupOp {
    fn as_str(self) -> &'static str {
        match self {
            LookupOp::Insert => "insert",
            LookupOp::Delete => "delete",
            LookupOp::Update => "update",
        }
    }
}

/// One shard pool's counts at scrape time.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolSample {
    /// Open connections not kept by a session.
    pub open: u64,
    /// Of those, idle.
    pub idle: u64,
    /// Kept by sessions (transactions, pinned state).
    pub reserved: u64,
    /// Checkouts that had to wait for a free connection, since start.
    pub waits: u64,
}

/// The proxy's metrics (module header).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    statements: IntCounterVec,
    shards_touched: Histogram,
    duration: HistogramVec,
    errors: IntCounterVec,
    pool_connections: IntGaugeVec,
    pool_waits: IntCounterVec,
    plan_cache: IntCounterVec,
    lookup_writes: IntCounterVec,
    lookup_reclaims: IntCounterVec,
    workflow_rows: IntCounterVec,
    workflow_rate: GaugeVec,
    workflow_progress: GaugeVec,
    shard_up: IntGaugeVec,
    client_connections: IntGauge,
    /// Statement shapes ranked on the status page.
    pub top: TopStatements,
    /// The per-statement log.
    pub query_log: QueryLog,
}

/// Registers `metric` (a fixed, valid definition: registration cannot fail but for a
/// duplicate name, which the names below rule out) and returns it.
fn register<M: prometheus::core::Collector + Clone + 'static>(registry: &Registry, metric: M) -> M {
    if let Err(e) = registry.register(Box::new(metric.clone())) {
        tracing::error!(error = %e, "registering a metric");
    }
    metric
}

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let vec =
        IntCounterVec::new(Opts::new(name, help), labels).unwrap_or_else(|_| unreachable_metric());
    register(registry, vec)
}

fn int_gauge_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let vec =
        IntGaugeVec::new(Opts::new(name, help), labels).unwrap_or_else(|_| unreachable_metric());
    register(registry, vec)
}

fn gauge_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    let vec = GaugeVec::new(Opts::new(name, help), labels).unwrap_or_else(|_| unreachable_metric());
    register(registry, vec)
}

/// Metric definitions are constants, built once at start: a failure to build one is a bug
/// the unit tests find, never a client's doing.
#[cold]
fn unreachable_metric() -> ! {
    unreachable!("constant metric definition rejected")
}

impl Metrics {
    /// A fresh set, with the query log configured by `log`.
    pub fn new(log: QueryLogSettings) -> Metrics {
        let registry = Registry::new();
        let statements = counter_vec(
            &registry,
            "shardgate_statements_total",
            "Client statements finished, by statement kind and route.",
            &["kind", "route"],
        );
        let shards_touched = register(
            &registry,
            Histogram::with_opts(
                HistogramOpts::new(
                    "shardgate_statement_shards",
                    "Distinct shards a statement sent work to (lookup tables included).",
                )
                .buckets(vec![0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0]),
            )
            .unwrap_or_else(|_| unreachable_metric()),
        );
        let duration = register(
            &registry,
            HistogramVec::new(
                HistogramOpts::new(
                    "shardgate_statement_duration_seconds",
                    "Statement latency at the proxy, by keyspace (\"\" when none).",
                )
                .buckets(vec![
                    0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                    2.5, 5.0, 10.0, 30.0,
                ]),
                &["keyspace"],
            )
            .unwrap_or_else(|_| unreachable_metric()),
        );
        let errors = counter_vec(
            &registry,
            "shardgate_errors_total",
            "Errors sent to clients, by MySQL error code: failed statements, and commands that failed before any statement ran (COM_STMT_PREPARE, COM_INIT_DB, a refused COM_QUERY).",
            &["code"],
        );
        let pool_connections = int_gauge_vec(
            &registry,
            "shardgate_pool_connections",
            "Backend connections per shard: open (not kept by a session), idle, in_use (open minus idle), reserved (kept by sessions).",
            &["keyspace", "shard", "state"],
        );
        let pool_waits = counter_vec(
            &registry,
            "shardgate_pool_waits_total",
            "Checkouts that waited for a free backend connection.",
            &["keyspace", "shard"],
        );
        let plan_cache = counter_vec(
            &registry,
            "shardgate_plan_cache_lookups_total",
            "Plan-cache lookups of sharded statements, by result (hit, miss).",
            &["result"],
        );
        let lookup_writes = counter_vec(
            &registry,
            "shardgate_lookup_writes_total",
            "Lookup-vindex rows written while maintaining owner DML, by vindex and operation.",
            &["vindex", "op"],
        );
        let lookup_reclaims = counter_vec(
            &registry,
            "shardgate_lookup_reclaims_total",
            "Orphaned consistent-lookup rows taken over by a new owner row.",
            &["vindex"],
        );
        let workflow_rows = counter_vec(
            &registry,
            "shardgate_workflow_rows_copied_total",
            "Rows a lookup-vindex backfill copied on this proxy.",
            &["workflow"],
        );
        let workflow_rate = gauge_vec(
            &registry,
            "shardgate_workflow_rows_per_second",
            "A running backfill's recent copy rate (all its streams).",
            &["workflow"],
        );
        let workflow_progress = gauge_vec(
            &registry,
            "shardgate_workflow_progress_ratio",
            "A backfill's rows copied over rows to copy (0..1).",
            &["workflow"],
        );
        let shard_up = int_gauge_vec(
            &registry,
            "shardgate_shard_up",
            "1 when the shard answered its last health check, else 0.",
            &["keyspace", "shard"],
        );
        let client_connections = register(
            &registry,
            IntGauge::new(
                "shardgate_client_connections",
                "Client connections open now.",
            )
            .unwrap_or_else(|_| unreachable_metric()),
        );
        // Every route and the plan-cache results exist from the start (at 0), so a scrape
        // shows the full set and rate() has a first point.
        for route in RouteKind::ALL {
            statements.with_label_values(&["SELECT", route.as_str()]);
        }
        plan_cache.with_label_values(&["hit"]);
        plan_cache.with_label_values(&["miss"]);
        Metrics {
            registry,
            statements,
            shards_touched,
            duration,
            errors,
            pool_connections,
            pool_waits,
            plan_cache,
            lookup_writes,
            lookup_reclaims,
            workflow_rows,
            workflow_rate,
            workflow_progress,
            shard_up,
            client_connections,
            top: TopStatements::default(),
            query_log: QueryLog::new(log),
        }
    }

    /// Counts one finished statement everywhere: metrics, fingerprints, the query log.
    pub fn record_statement(&self, rec: &StatementRecord<'_>) {
        self.statements
            .with_label_values(&[rec.kind, rec.route.as_str()])
            .inc();
        self.shards_touched.observe(f64::from(rec.shards));
        self.duration
            .with_label_values(&[rec.keyspace])
            .observe(rec.duration.as_secs_f64());
        if let Some(code) = rec.error {
            self.error(code);
        }
        let fingerprint = self.top.record(rec);
        self.query_log.log(rec, &fingerprint);
    }

    /// An error sent to a client: a statement's (from its record), or one outside any
    /// statement (a failed COM_STMT_PREPARE or COM_INIT_DB, a COM_QUERY refused before its
    /// statements ran).
    pub fn error(&self, code: u16) {
        self.errors.with_label_values(&[&code.to_string()]).inc();
    }

    /// Lookup rows written by owner DML.
    pub fn lookup_write(&self, vindex: &str, op: LookupOp, rows: u64) {
        if rows > 0 {
            self.lookup_writes
                .with_label_values(&[vindex, op.as_str()])
                .inc_by(rows);
        }
    }

    /// Orphaned lookup rows reclaimed.
    pub fn lookup_reclaim(&self, vindex: &str, rows: u64) {
        if rows > 0 {
            self.lookup_reclaims
                .with_label_values(&[vindex])
                .inc_by(rows);
        }
    }

    /// Rows a backfill stream copied.
    pub fn workflow_copied(&self, workflow: &str, rows: u64) {
        self.workflow_rows
            .with_label_values(&[workflow])
            .inc_by(rows);
    }

    /// A workflow's rate and progress, as last computed (at scrape).
    pub fn workflow_status(&self, workflow: &str, rows_per_sec: f64, progress: f64) {
        self.workflow_rate
            .with_label_values(&[workflow])
            .set(rows_per_sec);
        self.workflow_progress
            .with_label_values(&[workflow])
            .set(progress);
    }

    /// Drops the gauges of workflows that no longer exist.
    pub fn forget_workflows_except(&self, keep: &[String]) {
        for vec in [&self.workflow_rate, &self.workflow_progress] {
            let families = prometheus::core::Collector::collect(vec);
            for family in families {
                for metric in family.get_metric() {
                    for label in metric.get_label() {
                        if label.name() == "workflow" && !keep.iter().any(|k| k == label.value()) {
                            let _ = vec.remove_label_values(&[label.value()]);
                        }
                    }
                }
            }
        }
    }

    /// A shard pool's counts (at scrape).
    pub fn pool(&self, keyspace: &str, shard: &str, sample: PoolSample) {
        let set = |state: &str, v: u64| {
            self.pool_connections
                .with_label_values(&[keyspace, shard, state])
                .set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        set("open", sample.open);
        set("idle", sample.idle);
        set("in_use", sample.open.saturating_sub(sample.idle));
        set("reserved", sample.reserved);
        let waits = self.pool_waits.with_label_values(&[keyspace, shard]);
        waits.inc_by(sample.waits.saturating_sub(waits.get()));
    }

    /// The plan cache's totals (at scrape).
    pub fn plan_cache(&self, hits: u64, misses: u64) {
        for (label, total) in [("hit", hits), ("miss", misses)] {
            let c = self.plan_cache.with_label_values(&[label]);
            c.inc_by(total.saturating_sub(c.get()));
        }
    }

    /// A shard's health (at scrape).
    pub fn shard_up(&self, keyspace: &str, shard: &str, up: bool) {
        self.shard_up
            .with_label_values(&[keyspace, shard])
            .set(i64::from(up));
    }

    /// Client connections open now (at scrape).
    pub fn client_connections(&self, open: u64) {
        self.client_connections
            .set(i64::try_from(open).unwrap_or(i64::MAX));
    }

    /// The Prometheus text exposition of everything registered.
    pub fn encode(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "encoding the metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(text: &str, route: RouteKind, error: Option<u16>) -> StatementRecord<'_> {
        StatementRecord {
            text,
            kind: "SELECT",
            route,
            keyspace: "customer",
            shards: 2,
            rows: 3,
            duration: Duration::from_millis(4),
            error,
            user: "app",
        }
    }

    #[test]
    fn a_statement_shows_in_every_family() {
        let m = Metrics::new(QueryLogSettings::default());
        m.record_statement(&record(
            "select * from t where id = 1",
            RouteKind::Scatter,
            None,
        ));
        m.record_statement(&record(
            "select * from t where id = 2",
            RouteKind::Refused,
            Some(1235),
        ));
        m.pool(
            "customer",
            "-80",
            PoolSample {
                open: 3,
                idle: 1,
                reserved: 2,
                waits: 5,
            },
        );
        m.plan_cache(7, 2);
        m.lookup_write("name_idx", LookupOp::Insert, 4);
        let text = m.encode();
        for line in [
            "shardgate_statements_total{kind=\"SELECT\",route=\"scatter\"} 1",
            "shardgate_statements_total{kind=\"SELECT\",route=\"refused\"} 1",
            "shardgate_statements_total{kind=\"SELECT\",route=\"lookup\"} 0",
            "shardgate_errors_total{code=\"1235\"} 1",
            "shardgate_statement_shards_bucket{le=\"2\"} 2",
            "shardgate_statement_duration_seconds_count{keyspace=\"customer\"} 2",
            "shardgate_pool_connections{keyspace=\"customer\",shard=\"-80\",state=\"in_use\"} 2",
            "shardgate_pool_waits_total{keyspace=\"customer\",shard=\"-80\"} 5",
            "shardgate_plan_cache_lookups_total{result=\"hit\"} 7",
            "shardgate_lookup_writes_total{op=\"insert\",vindex=\"name_idx\"} 4",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        // Totals copied in at scrape never go backwards or double.
        m.plan_cache(9, 2);
        assert!(m
            .encode()
            .contains("shardgate_plan_cache_lookups_total{result=\"hit\"} 9"));
        let top = m.top.ranked_by_count(10);
        assert_eq!(top.len(), 1, "one shape: {top:?}");
        assert_eq!(top[0].count, 2);
    }

    #[test]
    fn forgotten_workflows_leave_the_exposition() {
        let m = Metrics::new(QueryLogSettings::default());
        m.workflow_status("a_idx", 10.0, 0.5);
        m.workflow_status("b_idx", 10.0, 0.5);
        m.forget_workflows_except(&["b_idx".to_string()]);
        let text = m.encode();
        assert!(!text.contains("a_idx"), "{text}");
        assert!(text.contains("b_idx"), "{text}");
    }
}

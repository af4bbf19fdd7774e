//! The operators' HTTP endpoint (`[server] http_listen`): `/metrics` (Prometheus text),
//! `/healthz` (ready or not, for load balancers and container health checks) and
//! `/debug/status` (an HTML page for people).
//!
//! It serves from the same [`ProxyState`] as the MySQL listener. Values other modules own
//! (pool counts, plan-cache totals, shard health, workflow progress) are copied into the
//! [`Metrics`](crate::metrics::Metrics) just before each scrape ([`refresh`]), so the hot
//! path keeps only its own counters. Handlers read shared state; the one exception is the
//! workflow state, which the file topology keeps on a shard: it is read with a time limit
//! ([`WORKFLOW_READ_LIMIT`]), so a slow or down shard delays a scrape by at most that and
//! leaves the workflow figures out of it.

mod status_page;

use crate::server::{Phase, ProxyState};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// What the handlers share.
#[derive(Clone)]
struct Http {
    state: Arc<ProxyState>,
    phase: watch::Receiver<Phase>,
}

/// Serves the endpoint on `listener` until the task is aborted (at proxy shutdown).
pub async fn serve(listener: TcpListener, state: Arc<ProxyState>, phase: watch::Receiver<Phase>) {
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/debug/status", get(status))
        .route("/", get(index))
        .with_state(Http { state, phase });
    if let Err(e) = axum::serve(listener, app).await {
        tracing::warn!(error = %e, "the HTTP endpoint stopped");
    }
}

/// Longest a scrape or the status page waits for the workflow state.
pub const WORKFLOW_READ_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Every workflow stream's status, or why it could not be read within
/// [`WORKFLOW_READ_LIMIT`].
pub(crate) async fn stream_statuses(
    state: &ProxyState,
) -> Result<Vec<crate::workflow::status::StreamStatus>, String> {
    match tokio::time::timeout(
        WORKFLOW_READ_LIMIT,
        crate::workflow::status::stream_statuses(&state.workflows),
    )
    .await
    {
        Ok(Ok(streams)) => Ok(streams),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "the workflow state did not answer within {} s",
            WORKFLOW_READ_LIMIT.as_secs()
        )),
    }
}

/// Copies the values other modules own into the metrics (module header).
async fn refresh(state: &ProxyState) {
    let m = &state.metrics;
    for shard in state.backends.all_shards() {
        let pool = shard.pool_stats();
        m.pool(
            &shard.keyspace,
            &shard.name,
            crate::metrics::PoolSample {
                open: pool.open as u64,
                idle: pool.idle as u64,
                reserved: pool.reserved as u64,
                waits: pool.waits,
            },
        );
        m.shard_up(&shard.keyspace, &shard.name, shard.health.report().up);
    }
    m.plan_cache(state.plans.hits(), state.plans.misses());
    m.client_connections(state.open_connections.load(Ordering::Relaxed));
    let Ok(streams) = stream_statuses(state).await else {
        // (Unknown now: the workflow gauges keep their last values.)
        return;
    };
    let mut names: Vec<String> = streams.iter().map(|s| s.workflow.clone()).collect();
    names.sort();
    names.dedup();
    for name in &names {
        let of: Vec<_> = streams.iter().filter(|s| &s.workflow == name).collect();
        // (A fold from +0: an empty f64 sum is -0, which the exposition writes as "-0".)
        let rate = of
            .iter()
            .filter_map(|s| s.rows_per_sec)
            .fold(0.0, |sum, r| sum + r);
        let copied: u64 = of.iter().map(|s| s.rows_copied).sum();
        let total: u64 = of.iter().map(|s| s.rows_total.max(s.rows_copied)).sum();
        let copying = of.iter().any(|s| s.phase == "copy");
        let progress = match (copying, total) {
            (false, _) => 1.0,
            (true, 0) => 0.0,
            (true, t) => (copied as f64 / t as f64).min(0.999),
        };
        m.workflow_status(name, rate, progress);
    }
    m.forget_workflows_except(&names);
}

async fn metrics(State(http): State<Http>) -> Response {
    refresh(&http.state).await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        http.state.metrics.encode(),
    )
        .into_response()
}

/// Whether the proxy should get traffic: serving (not shutting down), and every shard
/// answered its health check recently.
async fn healthz(State(http): State<Http>) -> Response {
    let mut problems = Vec::new();
    let phase = *http.phase.borrow();
    if phase != Phase::Running {
        problems.push("shutting down".to_string());
    }
    let mut shards = 0;
    for shard in http.state.backends.all_shards() {
        shards += 1;
        let report = shard.health.report();
        if !report.up {
            let why = report.error.unwrap_or_else(|| "no answer yet".to_string());
            problems.push(format!("shard {} down: {why}", shard.label));
        }
    }
    let text_plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    if problems.is_empty() {
        (
            StatusCode::OK,
            text_plain,
            format!(
                "ok: {shards} shards answered within the last {} s\n",
                crate::backend::health::STALE_AFTER.as_secs()
            ),
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            text_plain,
            format!("not ready:\n{}\n", problems.join("\n")),
        )
            .into_response()
    }
}

async fn status(State(http): State<Http>) -> Html<String> {
    let phase = *http.phase.borrow();
    Html(status_page::render(&http.state, phase).await)
}

async fn index() -> Html<&'static str> {
    Html(
        "<!doctype html><title>shardgate</title><ul>\
         <li><a href=\"/debug/status\">/debug/status</a></li>\
         <li><a href=\"/metrics\">/metrics</a></li>\
         <li><a href=\"/healthz\">/healthz</a></li></ul>",
    )
}

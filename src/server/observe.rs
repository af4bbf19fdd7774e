//! What one client statement did, gathered while it runs and handed to the proxy's
//! [`Metrics`](crate::metrics::Metrics) when it ends: its kind, its route, the shards it
//! reached, its rows, its time and its error code.
//!
//! [`ClientConn::run_statement`] opens the observation and closes it
//! ([`ClientConn::finish_observation`]); on the way, acquiring a shard connection records
//! the shard ([`Observation::touch`]), routing and planning record the route
//! ([`Observation::route`]), and result writers record rows. Routing decisions are also
//! logged at DEBUG under `shardgate::route`.

use super::connection::{ClientConn, CommandError};
use crate::backend::Shard;
use crate::metrics::{RouteKind, StatementRecord};
use crate::planner::{Plan, RouteOpcode};
use crate::sql::StatementKind;
use crate::vschema::VSchema;
use std::sync::Arc;
use std::time::Instant;

/// One statement's observation (module header).
#[derive(Debug)]
pub struct Observation {
    started: Instant,
    kind: &'static str,
    route: Option<RouteKind>,
    keyspace: Option<String>,
    touched: Vec<Arc<Shard>>,
    /// Rows returned or affected.
    pub rows: u64,
}

impl Default for Observation {
    fn default() -> Self {
        Observation {
            started: Instant::now(),
            kind: "OTHER",
            route: None,
            keyspace: None,
            touched: Vec::new(),
            rows: 0,
        }
    }
}

/// The `kind` label of a statement.
pub fn kind_label(kind: StatementKind) -> &'static str {
    match kind {
        StatementKind::Select => "SELECT",
        StatementKind::Insert => "INSERT",
        StatementKind::Replace => "REPLACE",
        StatementKind::Update => "UPDATE",
        StatementKind::Delete => "DELETE",
        StatementKind::Begin => "BEGIN",
        StatementKind::Commit => "COMMIT",
        StatementKind::Rollback => "ROLLBACK",
        StatementKind::Savepoint
        | StatementKind::ReleaseSavepoint
        | StatementKind::RollbackToSavepoint => "SAVEPOINT",
        StatementKind::Set => "SET",
        StatementKind::Use => "USE",
        StatementKind::Show => "SHOW",
        StatementKind::Ddl => "DDL",
        StatementKind::Explain => "EXPLAIN",
        StatementKind::Call => "CALL",
        StatementKind::Lock | StatementKind::Unlock => "LOCK",
        _ => "OTHER",
    }
}

impl Observation {
    /// Sets the statement's kind label (`ADMIN` for admin statements).
    pub fn kind(&mut self, kind: &'static str) {
        self.kind = kind;
    }

    /// Records that the statement sent work to `shard`.
    pub fn touch(&mut self, shard: &Arc<Shard>) {
        if !self.touched.iter().any(|s| Arc::ptr_eq(s, shard)) {
            self.touched.push(shard.clone());
        }
    }

    /// Records how the statement is routed, in `keyspace`.
    pub fn route(&mut self, route: RouteKind, keyspace: &str) {
        self.route = Some(route);
        if self.keyspace.as_deref() != Some(keyspace) {
            self.keyspace = Some(keyspace.to_string());
        }
    }

    /// The route when nothing recorded one (session statements, COMMIT, ROLLBACK): by the
    /// shards reached. `keyspace` tells whether a keyspace is sharded and its shard count:
    /// one shard of an unsharded keyspace is the unsharded route, every shard of one
    /// keyspace is a scatter, other sets of shards are multi-shard.
    fn final_route(
        &self,
        error: Option<u16>,
        keyspace: impl Fn(&str) -> (bool, usize),
    ) -> RouteKind {
        if error == Some(crate::error::codes::NOT_SUPPORTED) {
            return RouteKind::Refused;
        }
        if let Some(r) = self.route {
            return r;
        }
        match self.touched.as_slice() {
            [] => RouteKind::Local,
            [one] if !keyspace(&one.keyspace).0 => RouteKind::Unsharded,
            [_] => RouteKind::SingleShard,
            [first, rest @ ..] => {
                let one_keyspace = rest.iter().all(|s| s.keyspace == first.keyspace);
                if one_keyspace && keyspace(&first.keyspace).1 == self.touched.len() {
                    RouteKind::Scatter
                } else {
                    RouteKind::MultiShard
                }
            }
        }
    }
}

/// The route a sharded plan takes: from its route opcode and whether its vindex is a
/// lookup (read through a lookup table first).
pub fn plan_route(plan: &Plan, vschema: &VSchema) -> RouteKind {
    let by_route = |route: &crate::planner::Route| {
        let lookup = route.vindex.as_deref().is_some_and(|name| {
            vschema
                .keyspace(&route.keyspace)
                .and_then(|ks| ks.vindex(name))
                .is_some_and(|v| matches!(v.kind, crate::vschema::VindexDef::Lookup(_)))
        });
        match route.opcode {
            _ if lookup => RouteKind::Lookup,
            RouteOpcode::Scatter => RouteKind::Scatter,
            RouteOpcode::In => RouteKind::MultiShard,
            RouteOpcode::EqualUnique
            | RouteOpcode::Equal
            | RouteOpcode::None
            | RouteOpcode::ByDestination(_)
            | RouteOpcode::AnyShard => RouteKind::SingleShard,
        }
    };
    match plan {
        Plan::Select(sp) => by_route(&sp.route),
        Plan::Dml(dp) => by_route(&dp.route),
        Plan::Insert(ip) if ip.rows.len() <= 1 => RouteKind::SingleShard,
        Plan::Insert(_) => RouteKind::MultiShard,
        Plan::Passthrough { .. } => RouteKind::SingleShard,
        Plan::AllShards { .. } | Plan::Materialize(_) | Plan::InsertSelect(_) => RouteKind::Scatter,
    }
}

impl ClientConn {
    /// Closes the statement's observation and counts it.
    pub(super) fn finish_observation(&mut self, text: &str, result: &Result<(), CommandError>) {
        let obs = std::mem::take(&mut self.observed);
        let error = match result {
            Ok(()) => None,
            Err(CommandError::Proxy(e)) => Some(e.to_wire().0),
            // The client's socket failed: nothing was answered, no error code applies.
            Err(CommandError::Packet(_)) => None,
        };
        let route = obs.final_route(error, |keyspace| {
            let sharded = self
                .state
                .vschema
                .load()
                .keyspace(keyspace)
                .is_some_and(|k| k.sharded);
            let shards = self
                .state
                .backends
                .keyspace(keyspace)
                .map_or(0, |s| s.len());
            (sharded, shards)
        });
        let keyspace = obs
            .keyspace
            .as_deref()
            .or_else(|| obs.touched.first().map(|s| s.keyspace.as_str()))
            .unwrap_or("");
        let rec = StatementRecord {
            text,
            kind: obs.kind,
            route,
            keyspace,
            shards: u32::try_from(obs.touched.len()).unwrap_or(u32::MAX),
            rows: obs.rows,
            duration: obs.started.elapsed(),
            error,
            user: &self.session.user,
        };
        if tracing::enabled!(target: "shardgate::route", tracing::Level::DEBUG) {
            let shards: Vec<&str> = obs.touched.iter().map(|s| s.label.as_str()).collect();
            tracing::debug!(
                target: "shardgate::route",
                route = route.as_str(),
                keyspace,
                shards = ?shards,
                rows = obs.rows,
                duration_us = rec.duration.as_micros() as u64,
                error = error.unwrap_or(0),
                "statement routed"
            );
        }
        self.state.metrics.record_statement(&rec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_shards_are_a_scatter_only_when_they_are_every_shard_of_the_keyspace() {
        let url = |db: &str| format!("url = \"mysql://root@127.0.0.1:1/{db}\"");
        let cfg = crate::config::Config::parse(
            &format!(
                "[[keyspaces]]\nname = \"ks\"\n\
                 [[keyspaces.shards]]\nname = \"-40\"\n{}\n\
                 [[keyspaces.shards]]\nname = \"40-80\"\n{}\n\
                 [[keyspaces.shards]]\nname = \"80-\"\n{}\n",
                url("a"),
                url("b"),
                url("c")
            ),
            "test",
        )
        .expect("config");
        let backends = crate::backend::Backends::new(&cfg).expect("backends");
        let shards = backends.keyspace("ks").expect("ks");
        let sharded = |_: &str| (true, 3);
        let mut obs = Observation::default();
        obs.touch(&shards[0]);
        assert_eq!(obs.final_route(None, sharded), RouteKind::SingleShard);
        assert_eq!(obs.final_route(None, |_| (false, 1)), RouteKind::Unsharded);
        obs.touch(&shards[1]);
        obs.touch(&shards[1]);
        assert_eq!(obs.final_route(None, sharded), RouteKind::MultiShard);
        obs.touch(&shards[2]);
        assert_eq!(obs.final_route(None, sharded), RouteKind::Scatter);
    }

    #[test]
    fn without_a_recorded_route_the_shards_reached_decide() {
        let sharded = |_: &str| (true, 2);
        let obs = Observation::default();
        assert_eq!(obs.final_route(None, sharded), RouteKind::Local);
        assert_eq!(
            obs.final_route(Some(crate::error::codes::NOT_SUPPORTED), sharded),
            RouteKind::Refused
        );
        let mut routed = Observation::default();
        routed.route(RouteKind::Lookup, "customer");
        assert_eq!(routed.final_route(None, sharded), RouteKind::Lookup);
        assert_eq!(routed.final_route(Some(1062), sharded), RouteKind::Lookup);
    }
}

//! The query log: one structured line per statement, for a sample of statements and for
//! every slow one.
//!
//! Lines go through `tracing` under the target `shardgate::query` at INFO, with the fields
//! `fingerprint`, `kind`, `route`, `keyspace`, `shards`, `rows`, `duration_ms`, `error`
//! (the MySQL code, 0 for success), `user` and `slow`; the log format (`text`, or `json`
//! with `--log-format json`) decides how they are written. A statement is logged when it is
//! slow (`[log] slow_query_ms`, always) or drawn by the sample (`[log] query_sample_rate`,
//! 0 = none, 1 = every statement). The statement's own literals are never logged: the
//! fingerprint stands for them, so the log carries no client data.

use super::StatementRecord;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[log]`: the query log's sampling and slow threshold.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QueryLogSettings {
    /// Share of statements logged (0.0 to 1.0).
    #[serde(default)]
    pub query_sample_rate: f64,
    /// Statements at least this slow are always logged; 0 = no slow log.
    #[serde(default = "default_slow_ms")]
    pub slow_query_ms: u64,
}

fn default_slow_ms() -> u64 {
    1000
}

impl Default for QueryLogSettings {
    fn default() -> Self {
        QueryLogSettings {
            query_sample_rate: 0.0,
            slow_query_ms: default_slow_ms(),
        }
    }
}

impl QueryLogSettings {
    /// Why the settings are invalid, if they are.
    pub fn problem(&self) -> Option<String> {
        (!(0.0..=1.0).contains(&self.query_sample_rate)).then(|| {
            format!(
                "log.query_sample_rate must be between 0 and 1, not {}",
                self.query_sample_rate
            )
        })
    }
}

/// The query log (module header).
#[derive(Debug)]
pub struct QueryLog {
    sample_rate: f64,
    slow: Option<Duration>,
}

impl QueryLog {
    /// A log with these settings.
    pub fn new(settings: QueryLogSettings) -> QueryLog {
        QueryLog {
            sample_rate: settings.query_sample_rate.clamp(0.0, 1.0),
            slow: (settings.slow_query_ms > 0)
                .then(|| Duration::from_millis(settings.slow_query_ms)),
        }
    }

    /// Whether `rec` is logged: slow, or drawn by the sample.
    pub fn wants(&self, rec: &StatementRecord<'_>) -> bool {
        self.is_slow(rec)
            || self.sample_rate >= 1.0
            || (self.sample_rate > 0.0 && rand::random::<f64>() < self.sample_rate)
    }

    fn is_slow(&self, rec: &StatementRecord<'_>) -> bool {
        self.slow.is_some_and(|t| rec.duration >= t)
    }

    /// Logs `rec` (under `fingerprint`) if it is wanted.
    pub fn log(&self, rec: &StatementRecord<'_>, fingerprint: &str) {
        if !self.wants(rec) {
            return;
        }
        tracing::info!(
            target: "shardgate::query",
            fingerprint,
            kind = rec.kind,
            route = rec.route.as_str(),
            keyspace = rec.keyspace,
            shards = rec.shards,
            rows = rec.rows,
            duration_ms = rec.duration.as_secs_f64() * 1000.0,
            error = rec.error.unwrap_or(0),
            user = rec.user,
            slow = self.is_slow(rec),
            "statement"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::RouteKind;

    fn rec(ms: u64) -> StatementRecord<'static> {
        StatementRecord {
            text: "select 1",
            kind: "SELECT",
            route: RouteKind::Local,
            keyspace: "",
            shards: 0,
            rows: 1,
            duration: Duration::from_millis(ms),
            error: None,
            user: "u",
        }
    }

    #[test]
    fn slow_statements_are_always_logged_and_sampling_is_a_share() {
        let none = QueryLog::new(QueryLogSettings {
            query_sample_rate: 0.0,
            slow_query_ms: 100,
        });
        assert!(!none.wants(&rec(99)));
        assert!(none.wants(&rec(100)));
        let all = QueryLog::new(QueryLogSettings {
            query_sample_rate: 1.0,
            slow_query_ms: 0,
        });
        assert!(all.wants(&rec(0)));
        let half = QueryLog::new(QueryLogSettings {
            query_sample_rate: 0.5,
            slow_query_ms: 0,
        });
        let drawn = (0..10_000).filter(|_| half.wants(&rec(0))).count();
        assert!((4_000..6_000).contains(&drawn), "{drawn} of 10000 at 0.5");
    }

    #[test]
    fn a_rate_outside_zero_to_one_is_a_problem() {
        let bad = QueryLogSettings {
            query_sample_rate: 1.5,
            slow_query_ms: 0,
        };
        assert!(bad.problem().is_some());
        assert!(QueryLogSettings::default().problem().is_none());
    }
}

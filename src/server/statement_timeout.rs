//! The per-statement time limit (`limits.statement_timeout_ms`, or the session's
//! `max_statement_time` / `max_execution_time`).
//!
//! A routed statement runs inside a [`StatementWatch`] (see [`crate::backend::deadline`]).
//! When its time is up, the session stops polling it, sends `KILL QUERY` for every backend
//! thread it runs on (each on a connection of its own), then lets it finish: the shards answer
//! their killed queries with an error, queries not yet sent are refused, long merges stop,
//! and the client gets MariaDB's 1969 (SQLSTATE 70100). The shard connections stay usable
//! (a killed query leaves its connection between commands) and an open transaction stays open
//! (only the statement failed, as in MariaDB). A shard that does not answer within
//! [`deadline::KILL_GRACE`] has its connection closed instead, which also ends the session's
//! transaction on it.

use super::connection::CommandError;
use crate::backend::deadline::{self, StatementWatch};
use crate::error::ProxyError;
use crate::sql::SetValue;
use std::future::Future;
use std::time::Duration;

/// MariaDB's ER_STATEMENT_TIMEOUT.
pub fn timeout_error() -> ProxyError {
    ProxyError::Limit {
        code: 1969,
        state: "70100",
        message: "Query execution was interrupted (max_statement_time exceeded)".into(),
    }
}

/// Runs `statement` under `limit` (see the module docs); without a limit, as it is.
pub async fn run_limited<T>(
    limit: Option<Duration>,
    statement: impl Future<Output = Result<T, CommandError>>,
) -> Result<T, CommandError> {
    let Some(limit) = limit.filter(|l| !l.is_zero()) else {
        return statement.await;
    };
    let watch = StatementWatch::new();
    let statement = watch.scope(statement);
    tokio::pin!(statement);
    let finished = tokio::select! {
        biased;
        r = &mut statement => Some(r),
        _ = tokio::time::sleep(limit) => None,
    };
    let result = match finished {
        Some(r) => r,
        None => {
            // The statement is not polled while its shards are told to stop, so none of its
            // connections can go back to a pool (and serve another session) meanwhile.
            let targets = watch.fire(deadline::KILL_GRACE);
            futures_util::future::join_all(targets.iter().map(deadline::kill_query)).await;
            statement.await
        }
    };
    match result {
        Err(CommandError::Proxy(_)) if watch.fired() => Err(timeout_error().into()),
        other => other,
    }
}

/// The limit a `SET max_statement_time = <seconds>` (MariaDB; fractions allowed) or
/// `SET max_execution_time = <milliseconds>` (MySQL) sets: zero = none, `DEFAULT` = the
/// configured `limits.statement_timeout_ms` (None).
pub fn parse_setting(name: &str, value: &SetValue) -> Result<Option<Duration>, ProxyError> {
    let text = match value {
        SetValue::Int(i) => i.to_string(),
        SetValue::Str(s) | SetValue::Ident(s) | SetValue::Expr(s) => s.trim().to_string(),
    };
    if text.eq_ignore_ascii_case("default") {
        return Ok(None);
    }
    let wrong = || ProxyError::Limit {
        code: 1231,
        state: "42000",
        message: format!("Variable '{name}' can't be set to the value of '{text}'"),
    };
    let number: f64 = text.parse().map_err(|_| wrong())?;
    if !number.is_finite() || number < 0.0 {
        return Err(wrong());
    }
    let seconds = if name == "max_execution_time" {
        number / 1000.0
    } else {
        number
    };
    // MariaDB caps max_statement_time at 31536000 s (a year).
    Ok(Some(Duration::from_secs_f64(seconds.min(31_536_000.0))))
}

impl super::connection::ClientConn {
    /// The time limit of this session's next statement (None: none).
    pub fn statement_time_limit(&self) -> Option<Duration> {
        let limit = self.session.max_statement_time.unwrap_or_else(|| {
            Duration::from_millis(self.state.config.limits.statement_timeout_ms)
        });
        (!limit.is_zero()).then_some(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_like_mariadb_and_mysql() {
        let p = |name, v: SetValue| parse_setting(name, &v);
        assert_eq!(
            p("max_statement_time", SetValue::Int(2)).unwrap(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            p("max_statement_time", SetValue::Expr("0.5".into())).unwrap(),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            p("max_execution_time", SetValue::Int(1500)).unwrap(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            p("max_statement_time", SetValue::Ident("DEFAULT".into())).unwrap(),
            None
        );
        assert_eq!(
            p("max_statement_time", SetValue::Int(0)).unwrap(),
            Some(Duration::ZERO)
        );
        let e = p("max_statement_time", SetValue::Int(-1)).unwrap_err();
        assert_eq!(e.to_wire().0, 1231);
        assert!(p("max_statement_time", SetValue::Str("soon".into())).is_err());
    }

    #[tokio::test]
    async fn a_statement_past_its_limit_fails_with_1969() {
        let slow = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if deadline::timed_out() {
                return Err::<(), _>(CommandError::Proxy(ProxyError::Internal("stopped".into())));
            }
            Ok(())
        };
        match run_limited(Some(Duration::from_millis(30)), slow).await {
            Err(CommandError::Proxy(e)) => assert_eq!(e.to_wire().0, 1969),
            other => panic!("expected 1969, got {other:?}"),
        }
        let quick = async { Ok::<_, CommandError>(7) };
        assert_eq!(
            run_limited(Some(Duration::from_secs(1)), quick)
                .await
                .unwrap(),
            7
        );
        let unlimited = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<_, CommandError>(())
        };
        assert!(run_limited(None, unlimited).await.is_ok());
    }
}

//! Stopping a routed statement on its shards: at the per-statement time limit
//! (`limits.statement_timeout_ms`, or the session's `max_statement_time` /
//! `max_execution_time`), on another session's `KILL QUERY` / `KILL CONNECTION` (see
//! [`super::kill`]), and when its client closes the connection (see [`super::client_gone`]).
//!
//! A routed statement runs inside a [`StatementWatch`] (see [`crate::backend::deadline`]).
//! When it must stop (here: its time is up), the session stops polling it, sends `KILL QUERY` for every backend
//! thread it runs on (each on a connection of its own), then lets it finish: the shards answer
//! their killed queries with an error, queries not yet sent are refused, long merges stop,
//! and the client gets MariaDB's 1969 (SQLSTATE 70100). The shard connections stay usable
//! (a killed query leaves its connection between commands) and an open transaction stays open
//! (only the statement failed, as in MariaDB). A shard that does not answer within
//! [`deadline::KILL_GRACE`] has its connection closed instead, which also ends the session's
//! transaction on it. A `KILL QUERY` answers 1317 instead of 1969; a `KILL CONNECTION` or a
//! client gone closes the session once the statement ended (its transaction rolled back).

use super::connection::CommandError;
use super::sessions::{LiveSession, StopReason};
use crate::backend::deadline::{self, StatementWatch};
use crate::error::ProxyError;
use crate::protocol::packet::PacketError;
use crate::sql::SetValue;
use std::future::Future;
use std::os::fd::RawFd;
use std::time::Duration;

/// MariaDB's ER_STATEMENT_TIMEOUT.
pub fn timeout_error() -> ProxyError {
    ProxyError::Limit {
        code: 1969,
        state: "70100",
        message: "Query execution was interrupted (max_statement_time exceeded)".into(),
    }
}

/// Why a watched statement was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stopped {
    /// Its time limit passed: 1969.
    Timeout,
    /// Another session's `KILL QUERY`: 1317.
    KillQuery,
    /// `KILL CONNECTION`, or the client closed its socket: the connection closes.
    Close,
}

/// Runs `statement` (see the module docs) until it ends, its time `limit` passes, a `KILL`
/// names its session (`live`), or its client closes the socket `client` (None: not
/// watched). A stopped statement's backend threads get `KILL QUERY`, then it is awaited to its
/// end; it fails with 1969 (timeout) or 1317 (`KILL QUERY`); after `KILL CONNECTION` or a
/// client gone, with a socket error, so the session closes without another word.
pub async fn run_watched<T>(
    limit: Option<Duration>,
    live: &LiveSession,
    client: Option<RawFd>,
    statement: impl Future<Output = Result<T, CommandError>>,
) -> Result<T, CommandError> {
    let interrupt = live.enter_statement();
    let _leave = Leave(live);
    let watch = StatementWatch::new();
    let statement = watch.scope(statement);
    tokio::pin!(statement);
    let limit = limit.filter(|l| !l.is_zero());
    let stopped = tokio::select! {
        biased;
        r = &mut statement => return r,
        _ = async {
            match limit {
                Some(l) => tokio::time::sleep(l).await,
                None => std::future::pending().await,
            }
        } => Stopped::Timeout,
        _ = interrupt.requested() => match interrupt.reason() {
            StopReason::Connection => Stopped::Close,
            _ => Stopped::KillQuery,
        },
        _ = async {
            match client {
                Some(fd) => super::client_gone::closed(fd).await,
                None => std::future::pending().await,
            }
        } => {
            tracing::info!(connection = live.id, "client closed its connection mid-statement; stopping it on the shards");
            Stopped::Close
        }
    };
    // The statement is not polled while its shards are told to stop, so none of its
    // connections can go back to a pool (and serve another session) meanwhile.
    let targets = watch.fire(deadline::KILL_GRACE);
    futures_util::future::join_all(targets.iter().map(deadline::kill_query)).await;
    let result = statement.await;
    let stopped = match (stopped, interrupt.reason()) {
        // A KILL CONNECTION that came while the statement was being stopped still closes.
        (_, StopReason::Connection) => Stopped::Close,
        (s, _) => s,
    };
    match (stopped, result) {
        (Stopped::Close, _) => Err(CommandError::Packet(PacketError::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "connection killed",
        )))),
        (Stopped::Timeout, Err(CommandError::Proxy(_))) => Err(timeout_error().into()),
        (Stopped::KillQuery, Err(CommandError::Proxy(_))) => {
            Err(super::kill::query_interrupted().into())
        }
        (_, other) => other,
    }
}

/// Unregisters the statement's interrupt however the statement ends.
struct Leave<'a>(&'a LiveSession);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.leave_statement();
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

    /// A statement that runs `ms` and then fails if it was told to stop.
    async fn slow(ms: u64) -> Result<(), CommandError> {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        if deadline::timed_out() {
            return Err(CommandError::Proxy(ProxyError::Internal("stopped".into())));
        }
        Ok(())
    }

    fn session() -> super::super::sessions::SessionHandle {
        let registry = std::sync::Arc::new(super::super::sessions::SessionRegistry::default());
        registry.register(1, "app", "h", None)
    }

    fn code<T: std::fmt::Debug>(r: Result<T, CommandError>) -> u16 {
        match r {
            Err(CommandError::Proxy(e)) => e.to_wire().0,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_statement_past_its_limit_fails_with_1969() {
        let s = session();
        let r = run_watched(Some(Duration::from_millis(30)), &s, None, slow(300)).await;
        assert_eq!(code(r), 1969);
        let quick = async { Ok::<_, CommandError>(7) };
        assert_eq!(
            run_watched(Some(Duration::from_secs(1)), &s, None, quick)
                .await
                .unwrap(),
            7
        );
        assert!(run_watched(None, &s, None, slow(50)).await.is_ok());
    }

    #[tokio::test]
    async fn kills_stop_the_running_statement() {
        let s = session();
        let live = s.shared();
        let killer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            live.kill_query();
        });
        let r = run_watched(None, &s, None, slow(2000)).await;
        assert_eq!(code(r), 1317);
        killer.await.unwrap();
        // The next statement is not affected by the earlier KILL QUERY.
        assert!(run_watched(None, &s, None, slow(50)).await.is_ok());
        let live = s.shared();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            live.kill_connection();
        });
        match run_watched(None, &s, None, slow(2000)).await {
            Err(CommandError::Packet(_)) => {}
            other => panic!("KILL CONNECTION closes, got {other:?}"),
        }
    }
}

//! Units of work: one statement in autocommit mode, or an explicit transaction of up to four
//! statements with an optional SAVEPOINT (and ROLLBACK TO it) that ends in COMMIT or
//! ROLLBACK. A statement error that leaves the transaction open in MySQL (a duplicate key, a
//! refusal) is counted and the transaction goes on; any other error rolls it back.

use crate::clients::Stats;
use crate::statements::{random_stmt, Gen, Stmt};
use mysql_async::prelude::*;
use mysql_async::Conn;
use rand::rngs::StdRng;
use rand::Rng;

/// One step of a transaction.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// A statement.
    Stmt(Stmt),
    /// `SAVEPOINT sp`.
    Savepoint,
    /// `ROLLBACK TO SAVEPOINT sp`.
    RollbackTo,
}

/// One unit of work.
#[derive(Debug, Clone)]
pub(crate) enum Work {
    /// One statement, autocommit.
    Auto(Stmt),
    /// `BEGIN`, the steps, then `COMMIT` (`commit`) or `ROLLBACK`.
    Txn {
        /// The steps.
        steps: Vec<Step>,
        /// COMMIT (else ROLLBACK).
        commit: bool,
    },
}

/// A random unit of work: about two in three a single statement, else a transaction.
pub(crate) fn random_work(rng: &mut StdRng, g: &Gen) -> Work {
    if rng.gen_bool(0.65) {
        return Work::Auto(random_stmt(rng, g));
    }
    let n = rng.gen_range(1..=4);
    let mut steps: Vec<Step> = (0..n).map(|_| Step::Stmt(random_stmt(rng, g))).collect();
    if rng.gen_bool(0.35) {
        let at = rng.gen_range(0..=steps.len());
        steps.insert(at, Step::Savepoint);
        if rng.gen_bool(0.6) {
            let back = rng.gen_range(at + 1..=steps.len());
            steps.insert(back, Step::RollbackTo);
        }
    }
    Work::Txn {
        steps,
        commit: rng.gen_bool(0.8),
    }
}

/// Errors after which MySQL keeps the transaction open (only the statement failed).
fn statement_only(e: &mysql_async::Error) -> bool {
    matches!(e, mysql_async::Error::Server(s) if matches!(s.code, 1062 | 1235 | 1048 | 1264 | 1292 | 1366))
}

async fn run_stmt(c: &mut Conn, s: &Stmt, stats: &mut Stats) -> Result<(), mysql_async::Error> {
    stats.statements += 1;
    let r = c.query_drop(&s.sql).await;
    stats.log(&s.sql, &r);
    stats.statement(s, &r);
    r
}

async fn control(c: &mut Conn, sql: &str, stats: &mut Stats) -> Result<(), mysql_async::Error> {
    let r = c.query_drop(sql).await;
    stats.log(sql, &r);
    r
}

/// Runs a unit of work and counts what happened; `Ok(true)` when it committed writes.
pub(crate) async fn run_work(
    c: &mut Conn,
    work: &Work,
    stats: &mut Stats,
) -> Result<bool, mysql_async::Error> {
    match work {
        Work::Auto(s) => run_stmt(c, s, stats).await.map(|()| s.writes),
        Work::Txn { steps, commit } => {
            control(c, "BEGIN", stats).await?;
            let mut wrote = false;
            let mut savepoint = false;
            for step in steps {
                let r = match step {
                    Step::Stmt(s) => match run_stmt(c, s, stats).await {
                        Ok(()) => {
                            wrote |= s.writes;
                            Ok(())
                        }
                        Err(e) if statement_only(&e) => Ok(()),
                        Err(e) => Err(e),
                    },
                    Step::Savepoint => {
                        savepoint = true;
                        control(c, "SAVEPOINT sp", stats).await
                    }
                    Step::RollbackTo if savepoint => {
                        stats.savepoint_rollbacks += 1;
                        control(c, "ROLLBACK TO SAVEPOINT sp", stats).await
                    }
                    Step::RollbackTo => Ok(()),
                };
                if let Err(e) = r {
                    stats.rollbacks += 1;
                    let _ = control(c, "ROLLBACK", stats).await;
                    return Err(e);
                }
            }
            if *commit {
                control(c, "COMMIT", stats).await?;
                stats.commits += 1;
                Ok(wrote)
            } else {
                stats.rollbacks += 1;
                control(c, "ROLLBACK", stats).await?;
                Ok(false)
            }
        }
    }
}

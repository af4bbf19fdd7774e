//! Transactions across the session's shard connections: lazy BEGIN, ordered COMMIT, ROLLBACK,
//! savepoints, and `transaction_mode`.
//!
//! BEGIN only records the opening statement; each shard joins when a statement first touches it
//! (the opening statement and earlier savepoints are replayed there). COMMIT goes shard by shard
//! in the order they joined; if one fails after others committed, the client gets 1105 naming
//! the shards that did commit.

use super::connection::ClientConn;
use crate::backend::ShardConn;
use crate::error::ProxyError;
use crate::session::{Transaction, TransactionMode};
use crate::sql::StatementKind;

impl ClientConn {
    /// BEGIN / START TRANSACTION: commits an open transaction first (MySQL's implicit commit).
    pub async fn begin(&mut self, text: &str) -> Result<(), ProxyError> {
        if self.session.transaction.is_some() {
            self.commit().await?;
        }
        self.session.transaction = Some(Transaction {
            begin_sql: text.to_string(),
            savepoints: Vec::new(),
        });
        Ok(())
    }

    /// Makes `sc` part of the open transaction, if there is one.
    pub async fn join_transaction(&mut self, sc: &mut ShardConn) -> Result<(), ProxyError> {
        let Some(txn) = &self.session.transaction else {
            return Ok(());
        };
        if sc.in_txn {
            return Ok(());
        }
        if self.session.transaction_mode == TransactionMode::Single {
            if let Some(other) = self.session.reserved.iter().find(|c| c.in_txn) {
                return Err(ProxyError::Internal(format!(
                    "multi-shard transaction refused: transaction_mode is single and the transaction already uses {}; it would also need {}",
                    other.shard.label, sc.shard.label
                )));
            }
        }
        let begin = txn.begin_sql.clone();
        let savepoints = txn.savepoints.clone();
        self.session
            .log_query(&sc.shard.keyspace, &sc.shard.name, begin.as_bytes());
        sc.run(&begin).await?;
        sc.in_txn = true;
        for sp in &savepoints {
            sc.run(sp).await?;
        }
        Ok(())
    }

    fn take_transaction_conns(&mut self) -> Vec<ShardConn> {
        let (in_txn, rest): (Vec<_>, Vec<_>) =
            self.session.reserved.drain(..).partition(|c| c.in_txn);
        self.session.reserved = rest;
        in_txn
    }

    /// COMMIT: every joined shard in join order.
    pub async fn commit(&mut self) -> Result<(), ProxyError> {
        if self.session.transaction.take().is_none() {
            return Ok(());
        }
        let conns = self.take_transaction_conns();
        let mut committed: Vec<String> = Vec::new();
        let mut failure: Option<(String, ProxyError)> = None;
        for mut c in conns {
            if failure.is_none() {
                match c.run("COMMIT").await {
                    Ok(()) => committed.push(c.shard.label.clone()),
                    Err(e) => failure = Some((c.shard.label.clone(), e.into())),
                }
            } else if c.run("ROLLBACK").await.is_err() {
                c.broken = true;
            }
            c.in_txn = false;
            self.put_back(c).await;
        }
        match failure {
            None => Ok(()),
            Some((_, e)) if committed.is_empty() => Err(e),
            Some((shard, e)) => Err(ProxyError::Internal(format!(
                "commit failed on {shard}: {e}; already committed on {}; the rest were rolled back",
                committed.join(", ")
            ))),
        }
    }

    /// ROLLBACK: every joined shard; errors only close the affected connection.
    pub async fn rollback(&mut self) {
        if self.session.transaction.take().is_none() {
            return;
        }
        for mut c in self.take_transaction_conns() {
            if c.run("ROLLBACK").await.is_err() {
                c.broken = true;
            }
            c.in_txn = false;
            self.put_back(c).await;
        }
    }

    /// Ends the transaction after a shard connection in it broke.
    pub async fn abort_transaction(&mut self) {
        self.session.transaction = None;
        for c in self.take_transaction_conns() {
            c.release().await;
        }
    }

    /// SAVEPOINT / RELEASE SAVEPOINT / ROLLBACK TO SAVEPOINT on every joined shard; savepoints
    /// are also replayed on shards that join later.
    pub async fn savepoint(&mut self, text: &str, kind: StatementKind) -> Result<(), ProxyError> {
        let Some(txn) = self.session.transaction.as_mut() else {
            // Outside a transaction MySQL accepts SAVEPOINT as a no-op, and the others fail.
            return match kind {
                StatementKind::Savepoint => Ok(()),
                _ => Err(ProxyError::Backend(crate::backend::BackendError::Server {
                    code: 1305,
                    state: "42000".into(),
                    message: "SAVEPOINT does not exist".into(),
                })),
            };
        };
        if kind == StatementKind::Savepoint {
            txn.savepoints.push(text.to_string());
        }
        let mut first_error = None;
        for i in 0..self.session.reserved.len() {
            let c = &mut self.session.reserved[i];
            if !c.in_txn {
                continue;
            }
            if let Err(e) = c.run(text).await {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}

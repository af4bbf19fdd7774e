//! Transactions across the session's shard connections: lazy BEGIN, ordered COMMIT, ROLLBACK,
//! savepoints, and `transaction_mode`.
//!
//! BEGIN only records the opening statement; each shard joins when a statement first touches it
//! (the opening statement and earlier savepoints are replayed there). COMMIT goes shard by shard
//! in the order they joined; if one fails after others committed, the client gets 1105 naming
//! the shards that did commit.

use super::connection::ClientConn;
use crate::backend::{CommitOrder, ShardConn};
use crate::error::ProxyError;
use crate::session::{Transaction, TransactionMode};
use crate::sql::StatementKind;

impl ClientConn {
    /// BEGIN / START TRANSACTION: commits an open transaction first (MySQL's implicit commit).
    pub async fn begin(&mut self, text: &str) -> Result<(), ProxyError> {
        if self.session.transaction.is_some() {
            self.commit().await?;
        }
        self.session.transaction = Some(Transaction::new(text));
        Ok(())
    }

    /// After a statement: an open transaction keeps the VSchema generation guard of its
    /// first statement until it ends (a lookup workflow waits for transactions that began
    /// before its VSchema swap); otherwise the statement's guard is released here.
    pub fn pin_vschema_generation(&mut self, guard: crate::world::generations::GenerationGuard) {
        if let Some(txn) = self.session.transaction.as_mut() {
            if txn.vschema_pin.is_none() {
                txn.vschema_pin = Some(std::sync::Arc::new(guard));
            }
        }
    }

    /// Makes `sc` part of the open transaction, if there is one.
    pub async fn join_transaction(&mut self, sc: &mut ShardConn) -> Result<(), ProxyError> {
        let Some(txn) = &self.session.transaction else {
            return Ok(());
        };
        if sc.in_txn {
            return Ok(());
        }
        // Single mode limits the statement's own (normal) transaction to one shard; lookup
        // writes of consistent lookups run beside it in their pre/post lists.
        if self.session.transaction_mode == TransactionMode::Single
            && sc.order == CommitOrder::Normal
        {
            if let Some(other) = self
                .session
                .reserved
                .iter()
                .find(|c| c.in_txn && c.order == CommitOrder::Normal)
            {
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
        if savepoints.is_empty() && is_plain_begin(&begin) {
            // Sent with the statement that made the shard join (no round trip of its own).
            // Only a plain BEGIN: it cannot fail on a working connection, so the statement
            // behind it never runs outside the transaction (a failed one breaks the
            // connection, which ends the transaction).
            sc.conn.queue_query(begin.as_bytes());
            sc.in_txn = true;
            return Ok(());
        }
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
        // The statement that ends the transaction sends work to each of its shards.
        for c in &in_txn {
            self.observed.touch(&c.shard);
        }
        in_txn
    }

    /// COMMIT in Vitess's order: every pre connection (a failure rolls back everything and
    /// fails), then the normal ones shard by shard in join order (a failure after others
    /// committed names them), then the post ones, whose failure only adds a warning (an
    /// orphan lookup row at worst). Returns the number of warnings it raised.
    pub async fn commit(&mut self) -> Result<u16, ProxyError> {
        // Held until the shards have committed: its VSchema generation guard tells a lookup
        // workflow that this transaction's writes are not visible yet.
        if self
            .session
            .transaction
            .as_ref()
            .is_some_and(|t| t.wrote_sharded)
        {
            if let Err(e) = super::topology_guard::check_commit(&self.state) {
                self.rollback().await;
                return Err(e);
            }
        }
        let Some(_ending) = self.session.transaction.take() else {
            return Ok(0);
        };
        let mut conns = self.take_transaction_conns();
        // Stable: join order stays within each list.
        conns.sort_by_key(|c| c.order);
        let mut committed: Vec<String> = Vec::new();
        let mut failure: Option<(CommitOrder, String, ProxyError)> = None;
        let mut post_errors: Vec<String> = Vec::new();
        for mut c in conns {
            let failed_before = failure.is_some();
            if !failed_before {
                match c.run("COMMIT").await {
                    Ok(()) if c.order == CommitOrder::Normal => {
                        committed.push(c.shard.label.clone())
                    }
                    Ok(()) => {}
                    Err(e) if c.order == CommitOrder::Post => {
                        post_errors.push(format!("{}: {e}", c.shard.label));
                    }
                    Err(e) => failure = Some((c.order, c.shard.label.clone(), e.into())),
                }
            }
            if (failed_before || failure.is_some()) && c.run("ROLLBACK").await.is_err() {
                c.broken = true;
            }
            c.in_txn = false;
            self.put_back(c).await;
        }
        match failure {
            None => {}
            Some((_, _, e)) if committed.is_empty() => return Err(e),
            Some((_, shard, e)) => {
                return Err(ProxyError::Internal(format!(
                "commit failed on {shard}: {e}; already committed on {}; the rest were rolled back",
                committed.join(", ")
            )))
            }
        }
        self.session.warnings.clear();
        for e in &post_errors {
            self.session.warnings.push(crate::session::Warning {
                level: "Warning".into(),
                code: 1105,
                message: format!("post-operation transaction had an error: {e}"),
            });
        }
        Ok(post_errors.len().min(u16::MAX as usize) as u16)
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

    /// Starts a statement that writes lookup rows: under autocommit an implicit transaction
    /// (so its pre, normal and post writes commit in order), inside a transaction a savepoint
    /// on every connection of it, so a failure undoes only this statement.
    pub async fn open_ordered_statement(&mut self) -> Result<OrderedStatement, ProxyError> {
        self.session.warnings.clear();
        match self.session.transaction.as_mut() {
            None if self.session.autocommit => {
                let mut txn = Transaction::new("BEGIN");
                txn.implicit = true;
                self.session.transaction = Some(txn);
                Ok(OrderedStatement::Implicit)
            }
            None => {
                // autocommit = 0: the statement opens the session's transaction.
                let mut txn = Transaction::new("BEGIN");
                txn.savepoints.push(STATEMENT_SAVEPOINT.into());
                self.session.transaction = Some(txn);
                Ok(OrderedStatement::Savepoint)
            }
            Some(txn) => {
                txn.savepoints.push(STATEMENT_SAVEPOINT.into());
                for c in self.session.reserved.iter_mut().filter(|c| c.in_txn) {
                    c.run(STATEMENT_SAVEPOINT).await?;
                }
                Ok(OrderedStatement::Savepoint)
            }
        }
    }

    /// Ends a statement begun with [`Self::open_ordered_statement`]: commits or rolls back
    /// the implicit transaction, or drops or rolls back to the savepoint. Returns the
    /// warnings the commit raised. If the savepoint cannot be rolled back to (the shard
    /// already rolled the transaction back, e.g. after a deadlock), the whole transaction
    /// is rolled back.
    pub async fn close_ordered_statement(
        &mut self,
        scope: OrderedStatement,
        ok: bool,
    ) -> Result<u16, ProxyError> {
        match scope {
            OrderedStatement::Implicit if ok => self.commit().await,
            OrderedStatement::Implicit => {
                self.rollback().await;
                Ok(0)
            }
            OrderedStatement::Savepoint => {
                if let Some(txn) = self.session.transaction.as_mut() {
                    if let Some(i) = txn
                        .savepoints
                        .iter()
                        .rposition(|s| s == STATEMENT_SAVEPOINT)
                    {
                        txn.savepoints.remove(i);
                    }
                }
                if ok {
                    return Ok(0);
                }
                let mut failed = false;
                for c in self.session.reserved.iter_mut().filter(|c| c.in_txn) {
                    if c.run(STATEMENT_ROLLBACK).await.is_err() {
                        failed = true;
                    }
                }
                if failed {
                    self.rollback().await;
                    return Err(ProxyError::Internal(
                        "transaction rolled back to reverse changes of partial DML execution"
                            .into(),
                    ));
                }
                Ok(0)
            }
        }
    }
}

/// Whether `sql` opens a transaction without options (`BEGIN`, `BEGIN WORK`, `START
/// TRANSACTION`), which a working server always accepts.
fn is_plain_begin(sql: &str) -> bool {
    let words: Vec<&str> = sql.split_ascii_whitespace().collect();
    let is = |w: &[&str]| {
        words.len() == w.len() && words.iter().zip(w).all(|(a, b)| a.eq_ignore_ascii_case(b))
    };
    is(&["begin"]) || is(&["begin", "work"]) || is(&["start", "transaction"])
}

/// The savepoint a statement that writes lookup rows takes inside a transaction.
const STATEMENT_SAVEPOINT: &str = "SAVEPOINT _sg_statement";
/// Undoes such a statement.
const STATEMENT_ROLLBACK: &str = "ROLLBACK TO SAVEPOINT _sg_statement";

/// How a statement that writes lookup rows is made atomic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderedStatement {
    /// In a transaction the proxy opened for it (the session is in autocommit mode).
    Implicit,
    /// Behind a savepoint in the session's transaction.
    Savepoint,
}

#[cfg(test)]
mod tests {
    use super::is_plain_begin;

    #[test]
    fn only_option_free_begins_are_sent_ahead() {
        for plain in [
            "BEGIN",
            "begin",
            " Begin  Work ",
            "START TRANSACTION",
            "start\ntransaction",
        ] {
            assert!(is_plain_begin(plain), "{plain:?}");
        }
        for other in [
            "START TRANSACTION READ ONLY",
            "START TRANSACTION WITH CONSISTENT SNAPSHOT",
            "BEGIN; SELECT 1",
            "begin /* x */",
            "",
        ] {
            assert!(!is_plain_begin(other), "{other:?}");
        }
    }
}

//! The statement path's calls into [`crate::access`]: the shard-access check before a statement
//! is routed, and the user's grants (keyspaces, read-only) on every statement kind.

use super::connection::ClientConn;
use crate::access::{self, Denial, Grants};
use crate::error::ProxyError;
use crate::sql::{self, StatementKind};

impl ClientConn {
    fn denied(&self, d: Denial) -> ProxyError {
        d.into_error(&self.session.user)
    }

    /// Refuses a statement no client may send to a shard (see [`access::check_statement`]).
    pub(super) fn authorize_shard(&self, text: &str) -> Result<(), ProxyError> {
        let backends = &self.state.backends;
        let reading = access::Reading {
            mode: self
                .session
                .sql_mode_flags(self.state.server_sql_mode.get().copied()),
            charset: self.session.charset,
        };
        access::check_statement_as(text, reading, &|db| backends.keyspace(db).is_some())
            .map_err(|d| self.denied(d))
    }

    /// Refuses a keyspace the user is not granted.
    pub(super) fn authorize_keyspace(&self, keyspace: &str) -> Result<(), ProxyError> {
        match self.state.user(&self.session.user) {
            Some(u) => Grants::of(u)
                .check_keyspace(keyspace)
                .map_err(|d| self.denied(d)),
            None => Err(self.denied(Denial::Database(keyspace.to_string()))),
        }
    }

    /// The user's grants on one statement: every keyspace it names (or the one it runs in),
    /// and read-only users' writes.
    pub(super) fn authorize_grants(
        &self,
        kind: StatementKind,
        text: &str,
    ) -> Result<(), ProxyError> {
        let Some(user) = self.state.user(&self.session.user) else {
            return Err(self.denied(Denial::Command(super::statement::kind_name(kind).into())));
        };
        let grants = Grants::of(user);
        grants.check_write(kind, text).map_err(|d| self.denied(d))?;
        let backends = &self.state.backends;
        let mut named = false;
        for q in sql::qualifiers(text) {
            if backends.keyspace(&q.name).is_some() {
                named = true;
                grants.check_keyspace(&q.name).map_err(|d| self.denied(d))?;
            }
        }
        // SET (validated on some shard), transaction control and a SELECT without FROM
        // (`SELECT @@max_allowed_packet`, what drivers send on connect) read no keyspace's
        // data: they need no keyspace when none is named or selected.
        let keyspace_free = match kind {
            StatementKind::Set
            | StatementKind::Begin
            | StatementKind::Commit
            | StatementKind::Rollback
            | StatementKind::Savepoint
            | StatementKind::ReleaseSavepoint
            | StatementKind::RollbackToSavepoint => true,
            StatementKind::Select => !sql::Significant::new(text).any(|t| t.is_word(text, "from")),
            _ => false,
        };
        let needs_current = !(named || (keyspace_free && self.session.target.is_none()));
        if needs_current {
            let current = match &self.session.target {
                Some(t) => Some(t.keyspace.as_str()),
                None => {
                    let vschema = self.state.vschema.load();
                    backends
                        .keyspace_order
                        .iter()
                        .find(|k| !vschema.is_sharded(k))
                        .map(String::as_str)
                }
            };
            if let Some(ks) = current {
                grants.check_keyspace(ks).map_err(|d| self.denied(d))?;
            }
        }
        Ok(())
    }
}

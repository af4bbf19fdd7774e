//! The statement path's calls into [`crate::access`]: the shard-access check before a statement
//! is routed, and the user's grants (keyspaces, read-only) on every statement kind.

use super::connection::ClientConn;
use crate::access::{self, Denial, Grants};
use crate::error::ProxyError;
use crate::server::ProxyState;
use crate::session::Target;
use crate::sql::{self, StatementKind};

impl ClientConn {
    fn denied(&self, d: Denial) -> ProxyError {
        d.into_error(&self.session.user)
    }

    /// Refuses a statement no client may send to a shard (see [`access::check_statement`]).
    pub(super) fn authorize_shard(&self, text: &str) -> Result<(), ProxyError> {
        shard_denial(&self.state, self.reading(), text).map_err(|d| self.denied(d))
    }

    fn reading(&self) -> access::Reading {
        access::Reading {
            mode: self
                .session
                .sql_mode_flags(self.state.server_sql_mode.get().copied()),
            charset: self.session.charset,
        }
    }

    /// [`Self::authorize_grants`] (with `grants`) and [`Self::authorize_shard`] (with `shard`); for a
    /// statement of [`crate::offload::OFFLOAD_BYTES`] or more on a blocking thread (each is a
    /// pass over the whole text).
    pub(super) async fn authorize_offloaded(
        &self,
        kind: StatementKind,
        text: &str,
        grants: bool,
        shard: bool,
    ) -> Result<(), ProxyError> {
        if text.len() < crate::offload::OFFLOAD_BYTES {
            if grants {
                self.authorize_grants(kind, text)?;
            }
            return if shard {
                self.authorize_shard(text)
            } else {
                Ok(())
            };
        }
        let state = self.state.clone();
        let user = self.session.user.clone();
        let target = self.session.target.clone();
        let reading = self.reading();
        let text = crate::offload::shared_text(text);
        let checked = crate::offload::run(text.as_str().len(), move || {
            let text = text.as_str();
            let granted = match grants {
                true => grants_denial(&state, &user, target.as_ref(), kind, text),
                false => Ok(()),
            };
            Ok(granted.and_then(|()| match shard {
                true => shard_denial(&state, reading, text),
                false => Ok(()),
            }))
        })
        .await?;
        checked.map_err(|d| self.denied(d))
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
        grants_denial(
            &self.state,
            &self.session.user,
            self.session.target.as_ref(),
            kind,
            text,
        )
        .map_err(|d| self.denied(d))
    }
}

/// The grants check of [`ClientConn::authorize_grants`].
fn grants_denial(
    state: &ProxyState,
    user: &str,
    target: Option<&Target>,
    kind: StatementKind,
    text: &str,
) -> Result<(), Denial> {
    let Some(user) = state.user(user) else {
        return Err(Denial::Command(super::statement::kind_name(kind).into()));
    };
    let grants = Grants::of(user);
    grants.check_write(kind, text)?;
    let backends = &state.backends;
    let mut named = false;
    for q in sql::database_names(text) {
        if backends.keyspace(&q.name).is_some() {
            named = true;
            grants.check_keyspace(&q.name)?;
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
    let needs_current = !(named || (keyspace_free && target.is_none()));
    if needs_current {
        let current = match target {
            Some(t) => Some(t.keyspace.as_str()),
            None => {
                let vschema = state.vschema.load();
                backends
                    .keyspace_order
                    .iter()
                    .find(|k| !vschema.is_sharded(k))
                    .map(String::as_str)
            }
        };
        if let Some(ks) = current {
            grants.check_keyspace(ks)?;
        }
    }
    Ok(())
}

/// The shard-access check of [`ClientConn::authorize_shard`].
fn shard_denial(state: &ProxyState, reading: access::Reading, text: &str) -> Result<(), Denial> {
    let backends = &state.backends;
    access::check_statement_as(text, reading, &|db| backends.keyspace(db).is_some())
}

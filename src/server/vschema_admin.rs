//! `ALTER VSCHEMA` and `RELOAD VSCHEMA` (admin users): the VSchema changed without a restart.
//! ALTER builds the edited keyspace JSON (`admin::alter_vschema`), validates the whole new
//! VSchema and writes it through the topology — an atomic file replace, or a
//! compare-and-swap in etcd that every proxy then follows — before serving it. RELOAD (and
//! SIGHUP, see [`reload`]) reads the topology again: files edited by hand are picked up, a bad
//! file is refused with its reason and the last good VSchema kept.

use super::connection::ClientConn;
use super::ProxyState;
use crate::admin::alter_vschema::{self, AlterVSchema};
use crate::admin::AdminError;
use crate::error::ProxyError;
use crate::protocol::writer::OkInfo;
use crate::vschema::VSchema;
use crate::world::topology::TopologyKind;
use std::sync::Arc;

impl ClientConn {
    fn require_admin(&self, statement: &str) -> Result<(), ProxyError> {
        if self.session.is_admin {
            return Ok(());
        }
        Err(ProxyError::Denied {
            statement: statement.to_string(),
            user: self.session.user.clone(),
        })
    }

    /// `ALTER VSCHEMA ...`: edits, validates, persists and serves the keyspace's VSchema.
    pub(super) async fn alter_vschema(
        &mut self,
        stmt: AlterVSchema,
        more: bool,
    ) -> Result<(), ProxyError> {
        self.require_admin("ALTER VSCHEMA")?;
        let keyspace = match stmt.keyspace.clone() {
            Some(k) => k,
            None => match &self.session.target {
                Some(t) => t.keyspace.clone(),
                None => return Err(super::admin::admin_error(AdminError::NoDatabase)),
            },
        };
        self.authorize_keyspace(&keyspace)?;
        let state = self.state.clone();
        let _guard = state.vschema_edit.lock().await;
        let vschema = state.vschema.load_full();
        let Some(ks) = vschema.keyspace(&keyspace) else {
            return Err(super::admin::admin_error(AdminError::UnknownKeyspace(
                keyspace,
            )));
        };
        let json = alter_vschema::apply(&keyspace, &ks.raw, ks.sharded, &stmt.change)
            .map_err(super::admin::admin_error)?;
        state
            .world
            .change_vschema(&vschema, &[(keyspace.as_str(), &json)])
            .await?;
        tracing::info!(keyspace = %keyspace, user = %self.session.user, change = ?stmt.change, "ALTER VSCHEMA applied");
        self.write_ok_more(&OkInfo::default(), more);
        Ok(())
    }

    /// `RELOAD VSCHEMA`: reads the VSchema again from the topology (module header).
    pub(super) async fn reload_vschema_statement(&mut self, more: bool) -> Result<(), ProxyError> {
        self.require_admin("RELOAD VSCHEMA")?;
        reload(&self.state).await.map_err(ProxyError::Internal)?;
        self.write_ok_more(&OkInfo::default(), more);
        Ok(())
    }
}

/// Reads the VSchema from the topology and serves it if valid; `Err` names why it was not
/// (the last good one stays). With files: the VSchema files as they are now (hand edits
/// included); with etcd: the keys, as a watch event would.
pub async fn reload(state: &Arc<ProxyState>) -> Result<(), String> {
    let _guard = state.vschema_edit.lock().await;
    match state.topology.kind() {
        TopologyKind::Files => {
            let current = state.vschema.load_full();
            match VSchema::load(&state.config) {
                Ok(next) => {
                    let next = next.with_column_facts(current.column_facts_arc());
                    state.vschema.store(Arc::new(next));
                    tracing::info!("VSchema reloaded from the files");
                    Ok(())
                }
                Err(e) => {
                    tracing::error!(error = %e, "VSchema reload refused; keeping the one served");
                    Err(format!(
                        "VSchema reload refused, the last good VSchema stays: {e}"
                    ))
                }
            }
        }
        TopologyKind::Etcd => {
            crate::world::reload_vschema(&state.world).await;
            Ok(())
        }
    }
}

/// Reloads on every SIGHUP until the task is aborted (at shutdown).
pub fn spawn_sighup_reload(state: Arc<ProxyState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP; RELOAD VSCHEMA still works");
            return;
        };
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the VSchema");
            let _ = reload(&state).await;
        }
    })
}

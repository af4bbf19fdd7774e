//! Writes a proxy out of step with the topology must not make (issue 19, item 3). When the
//! etcd lease could not be renewed for (nearly) its TTL, other proxies will soon count this
//! one as gone: a lookup workflow's barrier stops waiting for it and its copy may start. A
//! write planned here on the last VSchema could then miss a `write_only` lookup vindex added
//! meanwhile, and nothing would ever add its lookup row. So until the session is back and the
//! VSchema re-read, this proxy refuses every write to a sharded keyspace (any sharded table
//! may be the owner of a new lookup vindex) and the COMMIT of a transaction that wrote one
//! (it is rolled back). Reads keep working on the last VSchema. The file topology is never
//! out of step.

use super::ProxyState;
use crate::error::ProxyError;

fn refusal(state: &ProxyState, what: &str) -> ProxyError {
    ProxyError::Internal(format!(
        "{what} refused: this proxy lost its topology session (etcd lease not renewed within {} s) and may not know the latest VSchema, so it could skip a lookup vindex write; it accepts writes again once it is back in step with etcd (reads still work)",
        state.config.topology.lease_ttl_secs
    ))
}

/// A write to sharded keyspace `keyspace`: refused while out of step.
pub fn check_write(state: &ProxyState, keyspace: &str) -> Result<(), ProxyError> {
    if state.topology_healthy() {
        return Ok(());
    }
    Err(refusal(
        state,
        &format!("a write to sharded keyspace '{keyspace}'"),
    ))
}

/// COMMIT of a transaction that wrote to a sharded keyspace: refused while out of step.
pub fn check_commit(state: &ProxyState) -> Result<(), ProxyError> {
    if state.topology_healthy() {
        return Ok(());
    }
    Err(refusal(
        state,
        "COMMIT of a transaction that wrote to a sharded keyspace (rolled back)",
    ))
}

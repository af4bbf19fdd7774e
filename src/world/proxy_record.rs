//! This proxy's record in the topology ([`ProxyRecord`]): what other proxies and
//! `SHOW VITESS_GATEWAYS` see, and what a workflow's barrier waits on.

use super::topology::ProxyRecord;
use super::World;

/// The record as of now: the served revision, the oldest revision still in flight (the
/// served one when nothing is), and the streams this proxy runs.
pub fn current(world: &World) -> ProxyRecord {
    let serving = world.served_revision();
    let oldest = world
        .generations
        .oldest_revision()
        .map_or(serving, |r| r.min(serving));
    let mut streams: Vec<String> = world
        .running_streams
        .lock()
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default();
    streams.sort();
    ProxyRecord {
        id: world.proxy_id.clone(),
        address: world.address.clone(),
        started_unix: world.started_unix,
        vschema_revision: serving,
        oldest_in_flight_revision: oldest,
        streams,
    }
}

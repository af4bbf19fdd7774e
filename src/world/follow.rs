//! Following the topology: with etcd, every proxy watches the VSchema keys and swaps in the
//! new VSchema when they change (built and validated first; a bad one is logged and the last
//! good one kept), and keeps its proxy record current: the revision it serves, the oldest
//! revision its statements in flight were planned with, and the streams it runs. The file
//! topology has no watch (one proxy makes every change itself), and [`follow`] returns.

use super::World;
use crate::world::topology::TopologyKind;
use std::sync::Arc;
use std::time::Duration;

/// How often the proxy record is republished when nothing changed (its lease keeps it alive
/// in between; republishing also recreates it after the lease was lost and granted again).
const REPUBLISH: Duration = Duration::from_secs(2);

/// How often a changed record (statements ended, a stream started) is published.
const PUBLISH_CHECK: Duration = Duration::from_millis(100);

/// Reads every VSchema key and swaps in the VSchema they make, unless it is invalid (logged;
/// the last good VSchema stays). Returns whether a new VSchema was swapped in.
pub async fn reload_vschema(world: &World) -> bool {
    let snapshot = match world.topology.load_vschema().await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the VSchema from the topology; keeping the one served");
            return false;
        }
    };
    let current = world.vschema.load_full();
    if snapshot.revision <= current.topo_read_at() {
        return false;
    }
    let unchanged = snapshot.keyspaces.len()
        == current
            .keyspaces()
            .filter(|k| current.topo_revision_of(&k.name) > 0)
            .count()
        && snapshot
            .keyspaces
            .iter()
            .all(|(ks, doc)| current.topo_revision_of(ks) == doc.mod_revision);
    if unchanged {
        // Same content, seen later (after a lost session came back, say).
        world.store_vschema(Arc::new(current.reread_at(snapshot.revision)));
        return false;
    }
    match super::vschema_from_snapshot(&world.config, &snapshot) {
        Ok(next) => {
            let next = next.with_column_facts(current.column_facts_arc());
            tracing::info!(
                revision = snapshot.revision,
                previous = current.topo_revision(),
                "VSchema changed in the topology; now serving it"
            );
            world.store_vschema(Arc::new(next));
            true
        }
        Err(e) => {
            tracing::error!(
                revision = snapshot.revision,
                serving = current.topo_revision(),
                error = %e,
                "rejected the VSchema in the topology; keeping the last good one"
            );
            false
        }
    }
}

/// Watches the VSchema keys, re-reads it when a lost session comes back, and publishes this
/// proxy's record, until the task is aborted at shutdown (etcd only; returns at once with the
/// file topology). The three loops run inside this one task, so aborting it ends them all.
pub async fn follow(world: Arc<World>) {
    if world.topology.kind() == TopologyKind::Files {
        return;
    }
    tokio::join!(
        publish_loop(world.clone()),
        reread_on_rejoin(world.clone()),
        watch_loop(world)
    );
}

async fn watch_loop(world: Arc<World>) {
    loop {
        match world.topology.watch_vschema().await {
            Ok(Some(mut events)) => {
                // Changes made before the watch started are read once here.
                reload_vschema(&world).await;
                while events.recv().await.is_some() {
                    // Several events in a burst make one reload.
                    while events.try_recv().is_ok() {}
                    reload_vschema(&world).await;
                }
                tracing::warn!("the topology watch ended; watching again");
            }
            Ok(None) => return,
            Err(e) => tracing::warn!(error = %e, "cannot watch the topology; retrying"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Reads the VSchema again whenever the topology session comes back (the watch may have
/// missed changes meanwhile), so the proxy is in step before it accepts writes again.
async fn reread_on_rejoin(world: Arc<World>) {
    let mut session = world.topology.session();
    loop {
        if session.changed().await.is_err() {
            return;
        }
        let healthy = *session.borrow_and_update() == crate::world::topology::SessionState::Healthy;
        while healthy && !world.topology_healthy() {
            reload_vschema(&world).await;
            if world.topology_healthy() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Publishes the proxy record whenever it changes, and every [`REPUBLISH`] anyway.
async fn publish_loop(world: Arc<World>) {
    let mut last = None;
    let mut last_at = tokio::time::Instant::now();
    loop {
        let record = super::proxy_record::current(&world);
        if last.as_ref() != Some(&record) || last_at.elapsed() >= REPUBLISH {
            match world.topology.publish_proxy(&record).await {
                Ok(()) => {
                    last = Some(record);
                    last_at = tokio::time::Instant::now();
                }
                Err(e) => {
                    tracing::debug!(error = %e, "cannot publish the proxy record");
                    last = None;
                }
            }
        }
        tokio::time::sleep(PUBLISH_CHECK).await;
    }
}

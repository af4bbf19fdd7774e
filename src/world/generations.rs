//! Which VSchema generations client work still runs under: the barrier a lookup workflow
//! waits at after it swaps the VSchema (issue 15, item 3).
//!
//! A statement planned on the VSchema before the swap does not know the new `write_only`
//! vindex, so an owner row it writes gets no lookup row; so does every later statement of a
//! transaction that began before the swap, if the copy's snapshot or the verify pass reads
//! before it commits. So every statement holds a [`GenerationGuard`] of the generation
//! current when it started (taken before it loads the VSchema to plan), and an open
//! transaction keeps the guard of its first statement until it ends. After the swap a
//! backfill stream waits until no guard older than the new generation is left (bounded, with
//! a state SHOW VINDEX WORKFLOWS shows), and only then copies and verifies.
//!
//! Scope: the guards of THIS proxy. With several proxies (etcd topology) each one publishes
//! the topology revision of its oldest open guard ([`Generations::oldest_revision`]) in its
//! proxy record, and a workflow waits on every live proxy's record as well.

use crate::vschema::VSchema;
use arc_swap::ArcSwap;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Open guards per generation.
#[derive(Debug, Default)]
pub struct Generations {
    open: Arc<Mutex<BTreeMap<u64, Open>>>,
}

/// Guards open for one generation, and the topology revision that generation was read at.
#[derive(Debug, Clone, Copy)]
struct Open {
    count: usize,
    revision: i64,
}

/// Marks work running under a VSchema generation until dropped.
#[derive(Debug)]
pub struct GenerationGuard {
    open: Arc<Mutex<BTreeMap<u64, Open>>>,
    generation: u64,
}

impl Generations {
    /// A guard for the generation `vschema` holds now. Read under the lock, so a workflow
    /// that swapped the VSchema and then counts sees either this guard or a guard of the new
    /// generation; callers must take it BEFORE they load the VSchema they plan with.
    pub fn enter(&self, vschema: &ArcSwap<VSchema>) -> GenerationGuard {
        let generation = match self.open.lock() {
            Ok(mut open) => {
                let current = vschema.load();
                let generation = current.generation();
                open.entry(generation)
                    .or_insert(Open {
                        count: 0,
                        revision: current.topo_revision(),
                    })
                    .count += 1;
                generation
            }
            // A poisoned lock (a panic elsewhere) only loses the barrier's precision.
            Err(_) => u64::MAX,
        };
        GenerationGuard {
            open: self.open.clone(),
            generation,
        }
    }

    /// How many guards of generations before `generation` are open.
    pub fn older_than(&self, generation: u64) -> usize {
        self.open
            .lock()
            .map(|open| open.range(..generation).map(|(_, o)| o.count).sum())
            .unwrap_or(0)
    }

    /// The lowest topology revision any open guard's VSchema was read at (`None`: no guard
    /// is open).
    pub fn oldest_revision(&self) -> Option<i64> {
        self.open.lock().ok()?.values().map(|o| o.revision).min()
    }
}

impl GenerationGuard {
    /// The generation this guard holds.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl Drop for GenerationGuard {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock() {
            if let Some(o) = open.get_mut(&self.generation) {
                o.count -= 1;
                if o.count == 0 {
                    open.remove(&self.generation);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_older_open_guards() {
        let g = Generations::default();
        let vs = ArcSwap::from_pointee(VSchema::default());
        let first = vs.load().generation();
        let a = g.enter(&vs);
        let b = g.enter(&vs);
        assert_eq!(a.generation(), first);
        let dir = tempfile::tempdir().expect("dir");
        let mut cfg = crate::config::Config::parse(
            "[[keyspaces]]\nname = \"ks\"\n[[keyspaces.shards]]\nname = \"0\"\nurl = \"mysql://root@127.0.0.1:3306/x\"\n",
            "test.toml",
        )
        .expect("config");
        cfg.vschema.dir = dir.path().to_path_buf();
        vs.store(Arc::new(VSchema::load(&cfg).expect("vschema")));
        let next = vs.load().generation();
        assert!(next > first);
        let c = g.enter(&vs);
        assert_eq!(c.generation(), next);
        assert_eq!(g.older_than(next), 2);
        drop(a);
        assert_eq!(g.older_than(next), 1);
        drop(b);
        assert_eq!(g.older_than(next), 0);
        assert_eq!(g.older_than(next + 1), 1);
        drop(c);
        assert_eq!(g.older_than(u64::MAX), 0);
    }
}

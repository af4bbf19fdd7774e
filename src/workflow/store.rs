//! Workflow stream state, kept by the topology (`crate::world::topology`): on the shards with
//! the file topology, in etcd with several proxies.

pub use crate::world::topology::StreamRow;

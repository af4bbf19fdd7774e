//! Many proxies on one etcd topology (issue 19): three real `shardgate serve` processes over the
//! same shards and one private etcd.
//!
//! - `propagation`: a VSchema change through one proxy reaches the others (timed), and
//!   concurrent VSchema edits through two proxies never lose one (each succeeds or fails
//!   with a conflict error, and every success is in etcd).
//! - `failover`: CreateLookupVindex through proxy A while 8 writers on B and C insert, update
//!   and delete owner rows; A is SIGKILLed mid-copy; another proxy resumes the streams (timed);
//!   after ExternalizeVindex, read on the shards directly, every owner row has its lookup row
//!   and routed reads equal scatters.
//! - `partition`: a proxy cut off from etcd (SIGSTOP on etcd) refuses owner DML within its
//!   lease, keeps serving reads, and accepts writes again when etcd is back.

#[path = "../common/mod.rs"]
mod common;

mod adoption;
mod cluster;
mod failover;
mod partition;
mod propagation;

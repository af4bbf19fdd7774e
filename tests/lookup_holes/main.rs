//! Holes of issue 15 in owner DML with lookup vindexes, each reproduced against real mariadbd
//! through the in-process proxy and checked by reading the shards directly:
//!
//! - `reclaim` (item 1): a unique value held by another owner row whose lookup row already
//!   points at the new row's keyspace id is still a duplicate (1062, or dropped by IGNORE);
//! - `assignments` (item 7): an UPDATE assigning one vindex column twice is refused;
//! - `nondeterministic` (item 8): UPDATE/DELETE whose WHERE picks different rows on every
//!   evaluation (`RAND()`, `LIMIT` without `ORDER BY`, READ COMMITTED phantoms) keep every
//!   owner row's lookup rows;
//! - `unowned` (item 6): INSERT of a value an unowned lookup vindex does not map to the row's
//!   keyspace id fails (INSERT IGNORE drops the row).
//!
//! - `multi_column`: a WHERE on both columns of a multi-column unique lookup routes over the
//!   several keyspace ids its first column names (was 1105).
//!
//! Two layouts: `orders` (here: `shop.orders` sharded by `hash(customer_id)`, with an owned
//! consistent_lookup_unique on `sku` and an unowned lookup_unique on `coupon`), and the shared
//! `customer.user` layout ([`common::user_lookups`]), whose direct shard reads and invariant
//! check are `shard_reads`, `invariant` and `layout` here (the lookup chaos test has its own,
//! for its larger layout).

mod assignments;
#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code)]
mod invariant;
#[allow(dead_code)]
mod layout;
mod multi_column;
mod nondeterministic;
mod orders;
mod reclaim;
mod session_leak;
#[allow(dead_code)]
mod shard_reads;
mod unowned;

//! Lookup vindexes end to end (issue 4, points 2 and 3), through the in-process proxy, with the
//! lookup tables read DIRECTLY on their shards:
//!
//! - reads: `phone = ` / `name = ` reach one lookup shard and then only the owner's shard
//!   (`VEXPLAIN QUERIES`), IN lists are batched (one lookup query per lookup shard), no match
//!   means no `customer` shard, `id = ` beats `phone = ` beats `name = `, a write_only vindex
//!   is never used to route reads;
//! - owner DML: INSERT creates lookup rows, DELETE removes them, UPDATE moves them (and an
//!   UPDATE to the same value is a no-op), INSERT IGNORE drops a row whose unique value is
//!   taken, a taken unique value is 1062, and a rolled-back transaction leaves nothing behind.
//!
//! Layout: `customer` (`-80`, `80-`) table `user(id, name, phone, email)`, primary vindex
//! `hash(id)`; `name_user_vdx` consistent_lookup on `(name, id)`, `phone_user_vdx`
//! consistent_lookup_unique on `phone` (ignore_nulls), `email_user_vdx`
//! consistent_lookup_unique on `email` (write_only, ignore_nulls). Lookup tables in `lookup`
//! (`-80`, `80-`), sharded by `unicode_loose_md5` (text) and `hash` (phone).
//!
//! One module per group of tests: `reads`, `owner_dml`, `unique_values`, `write_only`. What
//! they share: the environment (here), where rows belong (`placement`), what `VEXPLAIN
//! QUERIES` shows (`vexplain`), and the rows read directly from the shards (`shard_rows`).

#[path = "../common/mod.rs"]
mod common;
mod owner_dml;
mod placement;
mod reads;
mod shard_rows;
mod unique_values;
mod vexplain;
mod write_only;

use common::user_lookups::UserLookups;
use common::TestEnv;
use mysql_async::prelude::*;
use mysql_async::Conn;

pub(crate) use common::user_lookups::SHARDS;

/// The layout described at the top.
const LAYOUT: UserLookups = UserLookups {
    write_only_email: true,
};

/// Starts the env, creates the tables directly on every shard, returns a client on `customer`.
async fn setup() -> (TestEnv, Conn) {
    let env = TestEnv::start(LAYOUT.spec()).await;
    LAYOUT.create_tables(&env).await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use customer");
    (env, c)
}

/// Sorted, without repeats (the form the readers return, for expected values).
fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort();
    v.dedup();
    v
}

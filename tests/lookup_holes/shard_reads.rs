//! Reading the shards directly, past the proxy: every owner and lookup row at once (a
//! [`Snapshot`]), or the one lookup row or owner row a later check is about.

use crate::common::placement::text_ksid;
use crate::common::TestEnv;
use crate::layout::{shard_of, SHARDS};
use mysql_async::prelude::*;
use shardgate::vindex::hash::vhash;

/// Every row of the owner and lookup tables, with the shard it was read from.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    /// `(shard, id, name, phone)` of `customer.user`.
    pub(crate) users: Vec<(String, i64, Option<String>, Option<i64>)>,
    /// `(shard, name, id, keyspace_id)` of `lookup.name_user_vdx`.
    pub(crate) names: Vec<(String, String, i64, Option<Vec<u8>>)>,
    /// `(shard, phone, keyspace_id)` of `lookup.phone_user_vdx`.
    pub(crate) phones: Vec<(String, i64, Option<Vec<u8>>)>,
}

/// Reads every row of `customer.user`, `lookup.name_user_vdx` and `lookup.phone_user_vdx`.
pub(crate) async fn snapshot(env: &TestEnv) -> Snapshot {
    let mut snap = Snapshot::default();
    for shard in SHARDS {
        let mut c = env.shard_conn("customer", shard).await;
        let users: Vec<(i64, Option<String>, Option<i64>)> = c
            .query("SELECT id, name, phone FROM user")
            .await
            .expect("reading user");
        snap.users.extend(
            users
                .into_iter()
                .map(|(id, n, p)| (shard.to_string(), id, n, p)),
        );
        c.disconnect().await.expect("disconnect");
        let mut l = env.shard_conn("lookup", shard).await;
        let names: Vec<(String, i64, Option<Vec<u8>>)> = l
            .query("SELECT name, id, keyspace_id FROM name_user_vdx")
            .await
            .expect("reading name_user_vdx");
        snap.names.extend(
            names
                .into_iter()
                .map(|(n, id, k)| (shard.to_string(), n, id, k)),
        );
        let phones: Vec<(i64, Option<Vec<u8>>)> = l
            .query("SELECT phone, keyspace_id FROM phone_user_vdx")
            .await
            .expect("reading phone_user_vdx");
        snap.phones
            .extend(phones.into_iter().map(|(p, k)| (shard.to_string(), p, k)));
        l.disconnect().await.expect("disconnect");
    }
    snap
}

/// The keyspace id of `phone`'s lookup row, if it has one (read on its lookup shard).
pub(crate) async fn phone_row(env: &TestEnv, phone: i64) -> Option<Option<Vec<u8>>> {
    let shard = shard_of(&vhash(phone as u64));
    let mut l = env.shard_conn("lookup", shard).await;
    let row: Option<Option<Vec<u8>>> = l
        .exec_first(
            "SELECT keyspace_id FROM phone_user_vdx WHERE phone = ?",
            (phone,),
        )
        .await
        .expect("reading phone_user_vdx");
    l.disconnect().await.expect("disconnect");
    row
}

/// The keyspace id of the `(name, id)` lookup row, if there is one.
pub(crate) async fn name_row(env: &TestEnv, name: &str, id: i64) -> Option<Option<Vec<u8>>> {
    let shard = shard_of(&text_ksid(name));
    let mut l = env.shard_conn("lookup", shard).await;
    let row: Option<Option<Vec<u8>>> = l
        .exec_first(
            "SELECT keyspace_id FROM name_user_vdx WHERE name = ? AND id = ?",
            (name, id),
        )
        .await
        .expect("reading name_user_vdx");
    l.disconnect().await.expect("disconnect");
    row
}

/// Whether any `customer` shard has user `id`.
pub(crate) async fn user_exists(env: &TestEnv, id: i64) -> bool {
    let mut found = false;
    for shard in SHARDS {
        let mut c = env.shard_conn("customer", shard).await;
        let n: Option<i64> = c
            .exec_first("SELECT COUNT(*) FROM user WHERE id = ?", (id,))
            .await
            .expect("reading user");
        c.disconnect().await.expect("disconnect");
        found |= n.unwrap_or(0) > 0;
    }
    found
}

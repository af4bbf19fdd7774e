//! The rows on the shards, read directly (past the proxy), and the rows the tests expect
//! there: every lookup row of each lookup table and every user id, each with its shard.

use crate::common::placement::{hash_ksid, text_ksid};
use crate::common::TestEnv;
use crate::placement::{phone_shard, shard_of, user_shard};
use crate::SHARDS;
use mysql_async::prelude::*;

/// Every `phone_user_vdx` row: `(shard, phone, keyspace_id)`, sorted.
pub(crate) async fn phone_rows(env: &TestEnv) -> Vec<(String, i64, Vec<u8>)> {
    let mut all = Vec::new();
    for shard in SHARDS {
        let mut l = env.shard_conn("lookup", shard).await;
        let rows: Vec<(i64, Vec<u8>)> = l
            .query("SELECT phone, keyspace_id FROM phone_user_vdx")
            .await
            .expect("phone_user_vdx");
        all.extend(rows.into_iter().map(|(p, k)| (shard.to_string(), p, k)));
    }
    all.sort();
    all
}

/// Every `name_user_vdx` row: `(shard, name, id, keyspace_id)`, sorted.
pub(crate) async fn name_rows(env: &TestEnv) -> Vec<(String, String, i64, Vec<u8>)> {
    let mut all = Vec::new();
    for shard in SHARDS {
        let mut l = env.shard_conn("lookup", shard).await;
        let rows: Vec<(String, i64, Vec<u8>)> = l
            .query("SELECT name, id, keyspace_id FROM name_user_vdx")
            .await
            .expect("name_user_vdx");
        all.extend(
            rows.into_iter()
                .map(|(n, id, k)| (shard.to_string(), n, id, k)),
        );
    }
    all.sort();
    all
}

/// Every `email_user_vdx` row: `(shard, email, keyspace_id)`, sorted.
pub(crate) async fn email_rows(env: &TestEnv) -> Vec<(String, String, Vec<u8>)> {
    let mut all = Vec::new();
    for shard in SHARDS {
        let mut l = env.shard_conn("lookup", shard).await;
        let rows: Vec<(String, Vec<u8>)> = l
            .query("SELECT email, keyspace_id FROM email_user_vdx")
            .await
            .expect("email_user_vdx");
        all.extend(rows.into_iter().map(|(e, k)| (shard.to_string(), e, k)));
    }
    all.sort();
    all
}

/// Every user id on the `customer` shards, checking each is on its own shard; sorted.
pub(crate) async fn user_ids(env: &TestEnv) -> Vec<i64> {
    let mut all = Vec::new();
    for shard in SHARDS {
        let mut c = env.shard_conn("customer", shard).await;
        let ids: Vec<i64> = c.query("SELECT id FROM user").await.expect("user");
        for id in ids {
            assert_eq!(user_shard(id), shard, "user {id} is on its hash shard");
            all.push(id);
        }
    }
    all.sort();
    all
}

/// The expected `phone_user_vdx` row of user `id` holding `phone`.
pub(crate) fn phone_row(phone: i64, id: i64) -> (String, i64, Vec<u8>) {
    (phone_shard(phone), phone, hash_ksid(id))
}

/// The expected `name_user_vdx` row of user `id` named `name`.
pub(crate) fn name_row(name: &str, id: i64) -> (String, String, i64, Vec<u8>) {
    (
        shard_of(&text_ksid(name)),
        name.to_string(),
        id,
        hash_ksid(id),
    )
}

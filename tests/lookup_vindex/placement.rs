//! Where rows belong on this binary's layout: the shard of [`SHARDS`] that holds a keyspace id
//! (from [`crate::common::placement`]), and the shards of a user id and of a phone.

use crate::common::placement::{self, hash_ksid};
use crate::SHARDS;

/// The shard of [`SHARDS`] whose key range holds `ksid`.
pub(crate) fn shard_of(ksid: &[u8]) -> String {
    placement::shard_of(&SHARDS, ksid).to_string()
}

/// The `customer` shard of user `id`.
pub(crate) fn user_shard(id: i64) -> String {
    shard_of(&hash_ksid(id))
}

/// The `lookup` shard of a phone's lookup row.
pub(crate) fn phone_shard(phone: i64) -> String {
    shard_of(&hash_ksid(phone))
}

//! Where rows belong: the keyspace ids of user ids (`hash`), phones (`hash`) and text
//! (`unicode_loose_md5`), and the shard of [`SHARDS`] whose key range holds each.

use crate::SHARDS;
use shardgate::keyrange::KeyRange;
use shardgate::vindex::hash::vhash;
use shardgate::vindex::{unicode_loose_md5, SqlValue};

/// The shard whose key range holds `ksid`.
pub(crate) fn shard_of(ksid: &[u8]) -> String {
    SHARDS
        .iter()
        .find(|s| {
            KeyRange::parse_shard_name(s)
                .expect("shard name")
                .contains(ksid)
        })
        .expect("the shards cover every keyspace id")
        .to_string()
}

/// `hash(id)`: the keyspace id of user `id`.
pub(crate) fn id_ksid(id: i64) -> Vec<u8> {
    vhash(id as u64).to_vec()
}

/// `unicode_loose_md5(text)`: where a name's or an email's lookup rows live.
pub(crate) fn text_ksid(text: &str) -> Vec<u8> {
    unicode_loose_md5::ksid(&SqlValue::varchar(text.as_bytes()))
        .expect("unicode_loose_md5")
        .to_vec()
}

/// The `customer` shard of user `id`.
pub(crate) fn user_shard(id: i64) -> String {
    shard_of(&id_ksid(id))
}

/// The `lookup` shard of a phone's lookup row.
pub(crate) fn phone_shard(phone: i64) -> String {
    shard_of(&vhash(phone as u64))
}

//! Where a row belongs, computed with the proxy's own vindex code: the keyspace id of a value
//! under `hash` or `unicode_loose_md5`, and the shard whose key range holds a keyspace id. Tests
//! use it to check, on the shards directly, that rows and lookup rows sit where routing says.

use shardgate::keyrange::KeyRange;
use shardgate::vindex::hash::vhash;
use shardgate::vindex::{unicode_loose_md5, SqlValue};

/// The shard of `shards` (Vitess shard names) whose key range holds `ksid`.
pub fn shard_of(shards: &[&'static str], ksid: &[u8]) -> &'static str {
    shards
        .iter()
        .copied()
        .find(|s| {
            KeyRange::parse_shard_name(s)
                .expect("shard name")
                .contains(ksid)
        })
        .expect("the shards cover every keyspace id")
}

/// `hash(value)`: the keyspace id of an integer under the `hash` vindex (a user id, a phone).
pub fn hash_ksid(value: i64) -> Vec<u8> {
    vhash(value as u64).to_vec()
}

/// `unicode_loose_md5(text)`: the keyspace id of a string (a name, an email).
pub fn text_ksid(text: &str) -> Vec<u8> {
    unicode_loose_md5::ksid(&SqlValue::varchar(text.as_bytes()))
        .expect("unicode_loose_md5")
        .to_vec()
}

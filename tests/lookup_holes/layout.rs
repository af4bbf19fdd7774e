//! The layout under test, [`UserLookups`] without the write-only email vindex
//! (`customer.user` with its two consistent lookup vindexes and their lookup tables in
//! `lookup`), and the shard that holds a keyspace id on it (keyspace ids:
//! [`crate::common::placement`]).

use crate::common::user_lookups::UserLookups;
pub(crate) use crate::common::user_lookups::SHARDS;

/// What this test runs on.
pub(crate) const LAYOUT: UserLookups = UserLookups {
    write_only_email: false,
};

/// The shard (of [`SHARDS`]) whose key range holds `ksid`.
pub(crate) fn shard_of(ksid: &[u8]) -> &'static str {
    crate::common::placement::shard_of(&SHARDS, ksid)
}

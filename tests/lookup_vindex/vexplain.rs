//! What `VEXPLAIN QUERIES` shows: the shard queries a statement sends, by keyspace, so a test
//! can assert which lookup and owner shards a statement reaches and how many queries it takes.

use mysql_async::prelude::*;
use mysql_async::Conn;
use std::collections::BTreeSet;

/// `VEXPLAIN QUERIES` rows: `(#, keyspace, shard, query)`.
pub(crate) type Explained = Vec<(u64, String, String, String)>;

/// The shard queries `VEXPLAIN QUERIES` lists for `sql`.
pub(crate) async fn vexplain(c: &mut Conn, sql: &str) -> Explained {
    c.query(format!("VEXPLAIN QUERIES {sql}"))
        .await
        .unwrap_or_else(|e| panic!("VEXPLAIN QUERIES {sql}: {e}"))
}

/// The shards of `keyspace` that `rows` name, sorted, without repeats.
pub(crate) fn shards(rows: &Explained, keyspace: &str) -> Vec<String> {
    rows.iter()
        .filter(|r| r.1 == keyspace)
        .map(|r| r.2.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// How many queries `rows` lists for `keyspace`.
pub(crate) fn queries(rows: &Explained, keyspace: &str) -> usize {
    rows.iter().filter(|r| r.1 == keyspace).count()
}

//! Placement: after the statements (DML included) every row of a sharded table must sit on
//! exactly the shard its keyspace id (`hash` of its vindex column) names, read directly from
//! each shard.

use crate::common::TestEnv;
use crate::comparison::Report;
use crate::{KEYSPACE, SHARDS};
use mysql_async::prelude::*;
use shardgate::keyrange::KeyRange;
use shardgate::vindex::{create_vindex, Destination, SqlValue, Vindex};
use std::collections::BTreeMap;
use std::sync::Arc;

fn hash_vindex() -> Arc<dyn Vindex> {
    create_vindex("hash", "hash", &BTreeMap::new()).expect("hash vindex")
}

fn keyspace_id(vindex: &dyn Vindex, id: i64) -> Vec<u8> {
    match vindex.map(&[SqlValue::int64(id)]).expect("hash map") {
        mut d if d.len() == 1 => match d.remove(0) {
            Destination::KeyspaceId(k) => k,
            other => panic!("hash({id}) gave {other}"),
        },
        d => panic!("hash({id}) gave {} destinations", d.len()),
    }
}

/// Reads `SELECT <key column> FROM <table>` on every shard directly and records each row that
/// is not on the shard its keyspace id names, or is on more than one shard.
pub(crate) async fn check_placement(env: &TestEnv, report: &mut Report, table: &str, key: &str) {
    let vindex = hash_vindex();
    let mut seen: BTreeMap<(i64, i64), Vec<&str>> = BTreeMap::new();
    for shard in SHARDS {
        let range = KeyRange::parse_shard_name(shard).expect("shard name");
        let mut conn = env.shard_conn(KEYSPACE, shard).await;
        let rows: Vec<(i64, i64)> = match conn.query(format!("SELECT id, {key} FROM {table}")).await
        {
            Ok(rows) => rows,
            Err(e) => {
                report
                    .placement
                    .push(format!("{table} on {shard}: cannot read: {e}"));
                continue;
            }
        };
        for (id, k) in rows {
            let ksid = keyspace_id(&*vindex, k);
            if !range.contains(&ksid) {
                report.placement.push(format!(
                    "{table} id={id}: {key}={k} has keyspace id {} but sits on shard {shard}",
                    shardgate::keyrange::to_hex(&ksid)
                ));
            }
            seen.entry((id, k)).or_default().push(shard);
        }
        let _ = conn.disconnect().await;
    }
    for ((id, _), shards) in seen {
        if shards.len() > 1 {
            report
                .placement
                .push(format!("{table} id={id} is on several shards: {shards:?}"));
        }
    }
}

//! After the workload, with the proxy up again and nothing else running: a taken phone gets
//! 1062 and the refused row is not written; orphaned values (planted on purpose, and any the
//! kills left) can be inserted again and their lookup rows then point at the new owner.

use crate::common::errors::expect_error;
use crate::common::placement::{hash_ksid, text_ksid};
use crate::common::TestEnv;
use crate::layout::shard_of;
use crate::shard_reads::{phone_row, user_exists, Snapshot};
use mysql_async::prelude::*;
use mysql_async::Conn;
use shardgate::vindex::hash::vhash;

/// Ids used by the probes (outside every id space of the workload).
const PROBE_ID: i64 = 100_000;
const PROBE_PHONE: i64 = 9_000_000;

/// Runs the probes through `c`; `phone_orphans` are orphaned phones the run left.
pub(crate) async fn run_probes(
    env: &TestEnv,
    c: &mut Conn,
    snap: &Snapshot,
    phone_orphans: &[i64],
) {
    let insert = |id: i64, name: &str, phone: String| {
        format!("INSERT INTO user (id, name, phone) VALUES ({id}, '{name}', {phone})")
    };
    // A taken phone is refused with 1062, and the refused row is not written.
    let (first, second) = (PROBE_ID + 1, PROBE_ID + 2);
    let phone = PROBE_PHONE + 1;
    c.query_drop(insert(first, "zed", phone.to_string()))
        .await
        .expect("insert of a free phone");
    expect_error(
        c.query_drop(insert(second, "zed", phone.to_string())).await,
        1062,
        "insert of a taken phone",
    );
    assert!(user_exists(env, first).await);
    assert!(!user_exists(env, second).await, "the refused row is absent");
    assert_eq!(phone_row(env, phone).await, Some(Some(hash_ksid(first))));

    // The same for a phone the workload left taken, if any.
    let taken = snap.owners["user"]
        .iter()
        .find_map(|r| Some((r.cells[0].int()?, r.cells[2].int()?)));
    if let Some((id, taken)) = taken {
        expect_error(
            c.query_drop(insert(PROBE_ID + 3, "zed", taken.to_string()))
                .await,
            1062,
            "insert of a phone the workload left taken",
        );
        assert_eq!(phone_row(env, taken).await, Some(Some(hash_ksid(id))));
        assert!(!user_exists(env, PROBE_ID + 3).await);
    }

    // A planted orphaned phone can be taken again; its lookup row then points at the new owner.
    let orphan = PROBE_PHONE + 2;
    let nobody = PROBE_ID + 99;
    let mut l = env
        .shard_conn("lookup", shard_of(&vhash(orphan as u64)))
        .await;
    l.exec_drop(
        "INSERT INTO phone_user_vdx (phone, keyspace_id) VALUES (?, ?)",
        (orphan, hash_ksid(nobody)),
    )
    .await
    .expect("planting an orphan");
    l.disconnect().await.expect("disconnect");
    let owner = PROBE_ID + 4;
    c.query_drop(insert(owner, "zed", orphan.to_string()))
        .await
        .expect("an orphaned phone can be inserted again");
    assert_eq!(phone_row(env, orphan).await, Some(Some(hash_ksid(owner))));

    // The same for a non-unique orphan (name, id) with a stale keyspace id.
    let again = PROBE_ID + 5;
    let shard = shard_of(&text_ksid("olga"));
    let mut l = env.shard_conn("lookup", shard).await;
    l.exec_drop(
        "INSERT INTO name_user_vdx (name, id, keyspace_id) VALUES ('olga', ?, ?)",
        (again, hash_ksid(nobody)),
    )
    .await
    .expect("planting a name orphan");
    c.query_drop(insert(again, "olga", "NULL".into()))
        .await
        .expect("an orphaned (name, id) can be inserted again");
    let row: Option<Option<Vec<u8>>> = l
        .exec_first(
            "SELECT keyspace_id FROM name_user_vdx WHERE name = 'olga' AND id = ?",
            (again,),
        )
        .await
        .expect("reading name_user_vdx");
    assert_eq!(row, Some(Some(hash_ksid(again))));
    l.disconnect().await.expect("disconnect");

    // Phone orphans the kills left behind are reclaimable too (a few of them).
    for (k, phone) in phone_orphans.iter().take(5).enumerate() {
        let id = PROBE_ID + 10 + k as i64;
        c.query_drop(insert(id, "zed", phone.to_string()))
            .await
            .unwrap_or_else(|e| panic!("reclaiming orphaned phone {phone}: {e}"));
        assert_eq!(phone_row(env, *phone).await, Some(Some(hash_ksid(id))));
    }
}

//! Reads through lookup vindexes: `phone = ` reaches one lookup shard (`name = ` every lookup
//! shard: its lookup table's vindex is not exact for its collation) and then
//! only the owners' shards, IN lists are batched per lookup shard, no match means no
//! `customer` shard, and the cheapest vindex wins (`id = ` over `phone = ` over `name = `).

use crate::placement::{phone_shard, user_shard};
use crate::vexplain::{queries, shards, vexplain};
use crate::{setup, sorted};
use mysql_async::prelude::*;

#[tokio::test(flavor = "multi_thread")]
async fn reads_route_through_the_lookup_tables() {
    let (env, mut c) = setup().await;
    // Two users named bob on different shards (hash(2) is on -80, hash(4) on 80-).
    assert_ne!(user_shard(2), user_shard(4), "test data premise");
    c.query_drop(
        "INSERT INTO user (id, name, phone) VALUES (1, 'alice', 5551001), (2, 'bob', 5551002), \
         (3, 'carol', 5551003), (4, 'bob', 5551004), (5, 'dave', 5551005), (6, 'erin', NULL)",
    )
    .await
    .expect("insert");

    // phone = : one lookup shard, then the owner's shard only.
    let rows: Vec<(i64, String)> = c
        .query("SELECT id, name FROM user WHERE phone = 5551003")
        .await
        .expect("by phone");
    assert_eq!(rows, vec![(3, "carol".to_string())]);
    let q = vexplain(&mut c, "SELECT id, name FROM user WHERE phone = 5551003").await;
    assert_eq!(shards(&q, "lookup"), vec![phone_shard(5551003)], "{q:?}");
    assert_eq!(queries(&q, "lookup"), 1, "{q:?}");
    assert_eq!(shards(&q, "customer"), vec![user_shard(3)], "{q:?}");
    assert_eq!(q.len(), 2, "one lookup read, one owner query: {q:?}");
    assert!(
        q[0].3.contains("phone_user_vdx"),
        "lookup read first: {q:?}"
    );

    // name = : the non-unique lookup, then every shard holding a match. Its lookup table is
    // sharded by unicode_loose_md5 on a utf8mb4_general_ci column, which that vindex is not
    // exact for ('s' = 'ß' there, but they get different keyspace ids; issue 15 item 9), so
    // the lookup read goes to every lookup shard, one query each.
    let q = vexplain(&mut c, "SELECT id FROM user WHERE name = 'alice'").await;
    assert_eq!(shards(&q, "lookup"), sorted(&["-80", "80-"]), "{q:?}");
    assert_eq!(shards(&q, "customer"), vec![user_shard(1)], "{q:?}");
    let bobs: Vec<i64> = c
        .query("SELECT id FROM user WHERE name = 'bob' ORDER BY id")
        .await
        .expect("bobs");
    assert_eq!(bobs, vec![2, 4]);
    let q = vexplain(&mut c, "SELECT id FROM user WHERE name = 'bob'").await;
    assert_eq!(queries(&q, "lookup"), 2, "one per lookup shard: {q:?}");
    assert_eq!(
        shards(&q, "customer"),
        sorted(&[user_shard(2), user_shard(4)]),
        "{q:?}"
    );
    // The _ci collation: another case finds the same row.
    let alice: Vec<i64> = c
        .query("SELECT id FROM user WHERE name = 'ALICE'")
        .await
        .expect("ci");
    assert_eq!(alice, vec![1]);

    // IN lists: one batched lookup query per lookup shard, then only the owners' shards.
    let phones = [5551001i64, 5551002, 5551003, 5551004];
    let ids: Vec<i64> = c
        .query(
            "SELECT id FROM user WHERE phone IN (5551001, 5551002, 5551003, 5551004) ORDER BY id",
        )
        .await
        .expect("in");
    assert_eq!(ids, vec![1, 2, 3, 4]);
    let q = vexplain(
        &mut c,
        "SELECT id FROM user WHERE phone IN (5551001, 5551002, 5551003, 5551004)",
    )
    .await;
    let lookup_shards = sorted(&phones.map(phone_shard));
    assert_eq!(shards(&q, "lookup"), lookup_shards, "{q:?}");
    assert_eq!(queries(&q, "lookup"), lookup_shards.len(), "batched: {q:?}");
    assert_eq!(
        shards(&q, "customer"),
        sorted(&[1, 2, 3, 4].map(user_shard)),
        "{q:?}"
    );

    // No match: the lookup is read, no customer shard is queried, no row comes back.
    let none: Vec<i64> = c
        .query("SELECT id FROM user WHERE phone = 5559999")
        .await
        .expect("no match");
    assert!(none.is_empty());
    let q = vexplain(&mut c, "SELECT id FROM user WHERE phone = 5559999").await;
    assert_eq!(queries(&q, "lookup"), 1, "{q:?}");
    assert_eq!(queries(&q, "customer"), 0, "no owner shard: {q:?}");
    // The first no-match run of a statement shape asks one owner shard for the column
    // definitions (like Vitess's field query); the plan remembers them, so later runs of the
    // shape (any value) query no owner shard.
    let q = vexplain(&mut c, "SELECT id FROM user WHERE name = 'nobody'").await;
    assert_eq!(queries(&q, "customer"), 1, "field query: {q:?}");
    let q = vexplain(&mut c, "SELECT id FROM user WHERE name = 'nobody else'").await;
    assert_eq!(queries(&q, "customer"), 0, "no owner shard: {q:?}");
    // ... except a scalar aggregate, which still returns its one row.
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM user WHERE phone = 5559999")
        .await
        .expect("count");
    assert_eq!(n, Some(0));

    // id = beats phone = (no lookup read at all), phone = beats name =.
    let q = vexplain(
        &mut c,
        "SELECT id FROM user WHERE phone = 5551003 AND id = 5",
    )
    .await;
    assert_eq!(queries(&q, "lookup"), 0, "the primary vindex wins: {q:?}");
    assert_eq!(shards(&q, "customer"), vec![user_shard(5)], "{q:?}");
    let r: Vec<i64> = c
        .query("SELECT id FROM user WHERE id = 5 AND phone = 5551005")
        .await
        .expect("both");
    assert_eq!(r, vec![5]);
    let q = vexplain(
        &mut c,
        "SELECT id FROM user WHERE name = 'carol' AND phone = 5551003",
    )
    .await;
    assert_eq!(queries(&q, "lookup"), 1, "{q:?}");
    let lookup_query = &q.iter().find(|r| r.1 == "lookup").expect("lookup read").3;
    assert!(
        lookup_query.contains("phone_user_vdx"),
        "the unique lookup wins over the non-unique one: {lookup_query}"
    );
    assert_eq!(shards(&q, "customer"), vec![user_shard(3)], "{q:?}");

    // Prepared statements route the same way.
    let name: Option<String> = c
        .exec_first("SELECT name FROM user WHERE phone = ?", (5551004,))
        .await
        .expect("prepared");
    assert_eq!(name.as_deref(), Some("bob"));
    env.stop().await;
}

//! Shard placement of rows written through the proxy (issue 3, "How it is checked").
//!
//! Keyspace `customer` has 4 shards (`-40`, `40-80`, `80-c0`, `c0-`) and a `hash` primary
//! vindex on `user.id` and on `orders.user_id`. 500 users are inserted through the proxy: 300
//! with multi-row INSERTs (which the proxy must split by shard) and 200 with single-row prepared
//! INSERTs (the vindex value arrives as a bound parameter), ids spread over the whole bigint range
//! (0, ±1, i64::MIN, i64::MAX, small dense ids, large random ones; one given as a quoted string
//! literal, one bound as a string parameter). 200 orders follow with multi-row INSERTs. Then each
//! shard's database is read directly and every row must sit on the shard whose key range holds
//! the keyspace id `hash` gives its vindex column (computed here with `shardgate::vindex`),
//! exactly once, with nothing lost or added. Finally point SELECTs through the proxy (text and
//! prepared) must find the rows. Every problem is collected and reported in one panic at the end.

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Value};
use shardgate::keyrange::{to_hex, KeyRange};
use shardgate::vindex::{create_vindex, Destination, SqlValue, Vindex};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const KEYSPACE: &str = "customer";
const SHARDS: [&str; 4] = ["-40", "40-80", "80-c0", "c0-"];
/// Users inserted with multi-row INSERTs; the rest of [`USERS`] use prepared single-row INSERTs.
const MULTI_ROW_USERS: usize = 300;
const USERS: usize = 500;
const ORDERS: i64 = 200;
/// Not a user id (checked), for the "no such row" lookup.
const MISSING_ID: i64 = 123_456_789;

fn vschema() -> serde_json::Value {
    serde_json::json!({
        "sharded": true,
        "vindexes": { "hash": { "type": "hash" } },
        "tables": {
            "user": { "column_vindexes": [ { "column": "id", "name": "hash" } ] },
            "orders": { "column_vindexes": [ { "column": "user_id", "name": "hash" } ] }
        }
    })
}

/// A 64-bit linear congruential generator (Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        (self.next() >> 16) % n
    }
}

/// 500 distinct ids: edge values, 1..=60, and random ones of every magnitude and sign, in a
/// shuffled order so each batch mixes shards.
fn user_ids() -> Vec<i64> {
    let mut rng = Lcg(0x91ac_e5ee_d000_0001);
    let mut ids: Vec<i64> = vec![0, 1, -1, i64::MIN, i64::MAX, i64::MIN + 1, i64::MAX - 1];
    ids.extend(2..=60);
    let mut seen: BTreeSet<i64> = ids.iter().copied().collect();
    while ids.len() < USERS {
        // Mix full-range values with values of a random bit width.
        let raw = rng.next() as i64;
        let bits = rng.below(64);
        let id = if bits == 63 { raw } else { raw >> bits };
        if id != MISSING_ID && seen.insert(id) {
            ids.push(id);
        }
    }
    // Fisher–Yates with the same generator.
    for i in (1..ids.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        ids.swap(i, j);
    }
    ids
}

fn name_of(id: i64) -> String {
    format!("user {id}")
}

fn hash_vindex() -> Arc<dyn Vindex> {
    create_vindex("hash", "hash", &BTreeMap::new()).expect("the hash vindex")
}

/// The keyspace id `hash` gives `id`.
fn keyspace_id(vindex: &dyn Vindex, id: i64) -> Vec<u8> {
    let mut d = vindex.map(&[SqlValue::int64(id)]).expect("hash map");
    assert_eq!(d.len(), 1, "one destination per value");
    match d.remove(0) {
        Destination::KeyspaceId(k) => k,
        other => panic!("hash({id}) gave {other}, not a keyspace id"),
    }
}

/// The one shard of [`SHARDS`] whose key range holds `ksid`.
fn owning_shard(ksid: &[u8]) -> &'static str {
    let owners: Vec<&str> = SHARDS
        .iter()
        .copied()
        .filter(|s| KeyRange::parse_shard_name(s).expect("shard").contains(ksid))
        .collect();
    assert_eq!(owners.len(), 1, "shards must tile the keyspace: {owners:?}");
    owners[0]
}

/// Where each row of `table` was found: `key column value → shards`, plus the rows' other
/// column. Records rows on a shard that does not own their keyspace id.
async fn read_shards(
    env: &TestEnv,
    problems: &mut Vec<String>,
    table: &str,
    columns: &str,
) -> BTreeMap<i64, Vec<(&'static str, i64, String)>> {
    let vindex = hash_vindex();
    let mut found: BTreeMap<i64, Vec<(&'static str, i64, String)>> = BTreeMap::new();
    for shard in SHARDS {
        let range = KeyRange::parse_shard_name(shard).expect("shard name");
        let mut conn = env.shard_conn(KEYSPACE, shard).await;
        let rows: Vec<(i64, i64, String)> =
            match conn.query(format!("SELECT {columns} FROM {table}")).await {
                Ok(rows) => rows,
                Err(e) => {
                    problems.push(format!("reading {table} on shard {shard} directly: {e}"));
                    continue;
                }
            };
        if rows.is_empty() {
            problems.push(format!("shard {shard} holds no {table} rows"));
        }
        for (key, vindex_value, other) in rows {
            let ksid = keyspace_id(&*vindex, vindex_value);
            if !range.contains(&ksid) {
                problems.push(format!(
                    "{table} {key}: vindex value {vindex_value} has keyspace id {} (shard {}) \
                     but sits on shard {shard}",
                    to_hex(&ksid),
                    owning_shard(&ksid)
                ));
            }
            found
                .entry(key)
                .or_default()
                .push((shard, vindex_value, other));
        }
        let _ = conn.disconnect().await;
    }
    found
}

/// Every expected row is present exactly once with the right values, and nothing else is.
fn check_complete(
    problems: &mut Vec<String>,
    table: &str,
    found: &BTreeMap<i64, Vec<(&'static str, i64, String)>>,
    expected: &BTreeMap<i64, (i64, String)>,
) {
    let total: usize = found.values().map(Vec::len).sum();
    if total != expected.len() {
        problems.push(format!(
            "{table}: {total} rows on the shards, expected {}",
            expected.len()
        ));
    }
    for (key, copies) in found {
        if copies.len() > 1 {
            let shards: Vec<&str> = copies.iter().map(|c| c.0).collect();
            problems.push(format!("{table} {key} is on several shards: {shards:?}"));
        }
        match expected.get(key) {
            None => problems.push(format!("{table} {key} was never inserted")),
            Some((v, other)) => {
                for (shard, got_v, got_other) in copies {
                    if got_v != v || got_other != other {
                        problems.push(format!(
                            "{table} {key} on {shard}: ({got_v}, {got_other:?}), expected ({v}, {other:?})"
                        ));
                    }
                }
            }
        }
    }
    let missing: Vec<&i64> = expected.keys().filter(|k| !found.contains_key(k)).collect();
    if !missing.is_empty() {
        problems.push(format!(
            "{table}: {} rows missing from every shard, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(10)]
        ));
    }
}

/// Runs `sql` through the proxy, recording a failure.
async fn exec(c: &mut Conn, problems: &mut Vec<String>, what: &str, sql: &str) -> bool {
    match c.query_drop(sql).await {
        Ok(()) => true,
        Err(e) => {
            let shown: String = sql.chars().take(120).collect();
            problems.push(format!(
                "{what} through the proxy failed: {e}\n    {shown}…"
            ));
            false
        }
    }
}

#[test]
fn vschema_is_valid() {
    let text = serde_json::to_string(&vschema()).expect("json");
    shardgate::vschema::KeyspaceSchema::parse(KEYSPACE, &text)
        .unwrap_or_else(|e| panic!("the test VSchema is invalid: {e}"));
    let ids = user_ids();
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), USERS);
    // The ids reach every shard.
    let vindex = hash_vindex();
    let shards: BTreeSet<&str> = ids
        .iter()
        .map(|&id| owning_shard(&keyspace_id(&*vindex, id)))
        .collect();
    assert_eq!(shards.len(), SHARDS.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_land_on_the_shard_their_keyspace_id_names() {
    let env = TestEnv::start(EnvSpec::default().with_keyspace(KeyspaceSpec::sharded(
        KEYSPACE,
        &SHARDS,
        vschema(),
    )))
    .await;
    let mut c = env.client().await;
    c.query_drop(format!("USE {KEYSPACE}"))
        .await
        .expect("USE customer");
    let mut problems = Vec::new();

    // DDL through the proxy reaches every shard.
    for ddl in [
        "CREATE TABLE user (id bigint PRIMARY KEY, name varchar(64))",
        "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, note varchar(32))",
    ] {
        exec(&mut c, &mut problems, "DDL", ddl).await;
    }

    // Users: multi-row INSERTs of varying sizes (one id as a quoted string literal)...
    let ids = user_ids();
    let (multi, single) = ids.split_at(MULTI_ROW_USERS);
    let mut at = 0;
    for (n, size) in [1usize, 7, 50, 100, 142].into_iter().enumerate() {
        let batch = &multi[at..at + size];
        at += size;
        let tuples: Vec<String> = batch
            .iter()
            .enumerate()
            .map(|(i, id)| {
                if n == 2 && i == 0 {
                    format!("('{id}', '{}')", name_of(*id))
                } else {
                    format!("({id}, '{}')", name_of(*id))
                }
            })
            .collect();
        let sql = format!("INSERT INTO user (id, name) VALUES {}", tuples.join(", "));
        if exec(&mut c, &mut problems, "multi-row INSERT", &sql).await
            && c.affected_rows() != size as u64
        {
            problems.push(format!(
                "multi-row INSERT of {size} rows reported {} affected",
                c.affected_rows()
            ));
        }
    }
    assert_eq!(at, MULTI_ROW_USERS);
    // ...and single-row prepared INSERTs (one id bound as a string).
    let mut prepared_failures = Vec::new();
    for (i, id) in single.iter().enumerate() {
        let id_param = if i == 0 {
            Value::Bytes(id.to_string().into_bytes())
        } else {
            Value::Int(*id)
        };
        if let Err(e) = c
            .exec_drop(
                "INSERT INTO user (id, name) VALUES (?, ?)",
                (id_param, name_of(*id)),
            )
            .await
        {
            prepared_failures.push(format!("{id}: {e}"));
        }
    }
    if !prepared_failures.is_empty() {
        problems.push(format!(
            "{} of {} prepared INSERTs failed, first: {}",
            prepared_failures.len(),
            single.len(),
            prepared_failures[0]
        ));
    }

    // Orders, placed by user_id.
    let mut rng = Lcg(7);
    let orders: BTreeMap<i64, (i64, String)> = (1..=ORDERS)
        .map(|id| {
            let user_id = ids[rng.below(ids.len() as u64) as usize];
            (id, (user_id, format!("order {id}")))
        })
        .collect();
    let order_rows: Vec<(&i64, &(i64, String))> = orders.iter().collect();
    for batch in order_rows.chunks(80) {
        let tuples: Vec<String> = batch
            .iter()
            .map(|(id, (user_id, note))| format!("({id}, {user_id}, '{note}')"))
            .collect();
        let sql = format!(
            "INSERT INTO orders (id, user_id, note) VALUES {}",
            tuples.join(", ")
        );
        exec(&mut c, &mut problems, "multi-row INSERT into orders", &sql).await;
    }

    // Read every shard directly.
    let users: BTreeMap<i64, (i64, String)> =
        ids.iter().map(|&id| (id, (id, name_of(id)))).collect();
    let found = read_shards(&env, &mut problems, "user", "id, id, name").await;
    check_complete(&mut problems, "user", &found, &users);
    let found = read_shards(&env, &mut problems, "orders", "id, user_id, note").await;
    check_complete(&mut problems, "orders", &found, &orders);

    // Point lookups through the proxy find the rows (text and prepared).
    let mut probes: Vec<i64> = vec![0, 1, -1, i64::MIN, i64::MAX, 17, 60];
    probes.extend(ids.iter().step_by(50).copied());
    probes.extend(single.iter().take(3).copied());
    for id in probes {
        let want = vec![(id, name_of(id))];
        match c
            .query::<(i64, String), _>(format!("SELECT id, name FROM user WHERE id = {id}"))
            .await
        {
            Ok(rows) if rows == want => {}
            Ok(rows) => problems.push(format!("SELECT ... WHERE id = {id} returned {rows:?}")),
            Err(e) => problems.push(format!("SELECT ... WHERE id = {id}: {e}")),
        }
        match c
            .exec::<(i64, String), _, _>("SELECT id, name FROM user WHERE id = ?", (id,))
            .await
        {
            Ok(rows) if rows == want => {}
            Ok(rows) => problems.push(format!("prepared SELECT with id {id} returned {rows:?}")),
            Err(e) => problems.push(format!("prepared SELECT with id {id}: {e}")),
        }
    }
    match c
        .query::<(i64, String), _>(format!("SELECT id, name FROM user WHERE id = {MISSING_ID}"))
        .await
    {
        Ok(rows) if rows.is_empty() => {}
        Ok(rows) => problems.push(format!("SELECT of a missing id returned {rows:?}")),
        Err(e) => problems.push(format!("SELECT of a missing id: {e}")),
    }
    match c.query_first::<i64, _>("SELECT COUNT(*) FROM user").await {
        Ok(Some(n)) if n == USERS as i64 => {}
        other => problems.push(format!("SELECT COUNT(*) FROM user: {other:?}")),
    }

    let _ = c.disconnect().await;
    env.stop().await;
    if !problems.is_empty() {
        panic!(
            "shard placement: {} problems\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
}

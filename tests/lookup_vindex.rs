//! Lookup vindexes end to end (issue 4, points 2 and 3), through the in-process proxy, with the
//! lookup tables read DIRECTLY on their shards:
//!
//! - reads: `phone = ` / `name = ` reach one lookup shard and then only the owner's shard
//!   (`VEXPLAIN QUERIES`), IN lists are batched (one lookup query per lookup shard), no match
//!   means no `customer` shard, `id = ` beats `phone = ` beats `name = `, a write_only vindex
//!   is never used to route reads;
//! - owner DML: INSERT creates lookup rows, DELETE removes them, UPDATE moves them (and an
//!   UPDATE to the same value is a no-op), INSERT IGNORE drops a row whose unique value is
//!   taken, a taken unique value is 1062, and a rolled-back transaction leaves nothing behind.
//!
//! Layout: `customer` (`-80`, `80-`) table `user(id, name, phone, email)`, primary vindex
//! `hash(id)`; `name_user_vdx` consistent_lookup on `(name, id)`, `phone_user_vdx`
//! consistent_lookup_unique on `phone` (ignore_nulls), `email_user_vdx`
//! consistent_lookup_unique on `email` (write_only, ignore_nulls). Lookup tables in `lookup`
//! (`-80`, `80-`), sharded by `unicode_loose_md5` (text) and `hash` (phone).

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use serde_json::json;
use shardgate::keyrange::KeyRange;
use shardgate::vindex::hash::vhash;
use shardgate::vindex::{unicode_loose_md5, SqlValue};
use std::collections::BTreeSet;
use std::time::Duration;

const SHARDS: [&str; 2] = ["-80", "80-"];

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "name_user_vdx": {
                "type": "consistent_lookup",
                "params": {"table": "lookup.name_user_vdx", "from": "name,id", "to": "keyspace_id"},
                "owner": "user"
            },
            "phone_user_vdx": {
                "type": "consistent_lookup_unique",
                "params": {
                    "table": "lookup.phone_user_vdx", "from": "phone", "to": "keyspace_id",
                    "ignore_nulls": "true"
                },
                "owner": "user"
            },
            "email_user_vdx": {
                "type": "consistent_lookup_unique",
                "params": {
                    "table": "lookup.email_user_vdx", "from": "email", "to": "keyspace_id",
                    "ignore_nulls": "true", "write_only": "true"
                },
                "owner": "user"
            }
        },
        "tables": {
            "user": {
                "column_vindexes": [
                    {"column": "id", "name": "hash"},
                    {"columns": ["name", "id"], "name": "name_user_vdx"},
                    {"column": "phone", "name": "phone_user_vdx"},
                    {"column": "email", "name": "email_user_vdx"}
                ]
            }
        }
    });
    let lookup = json!({
        "sharded": true,
        "vindexes": {
            "unicode_loose_md5": {"type": "unicode_loose_md5"},
            "hash": {"type": "hash"}
        },
        "tables": {
            "name_user_vdx": {"column_vindexes": [{"column": "name", "name": "unicode_loose_md5"}]},
            "phone_user_vdx": {"column_vindexes": [{"column": "phone", "name": "hash"}]},
            "email_user_vdx": {"column_vindexes": [{"column": "email", "name": "unicode_loose_md5"}]}
        }
    });
    EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded("customer", &SHARDS, customer))
        .with_keyspace(KeyspaceSpec::sharded("lookup", &SHARDS, lookup))
}

const USER_DDL: &str = "CREATE TABLE user (
    id BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
    phone BIGINT,
    email VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
    KEY name (name), KEY phone (phone), KEY email (email))";
const LOOKUP_DDL: [&str; 3] = [
    "CREATE TABLE name_user_vdx (
        name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
        id BIGINT NOT NULL, keyspace_id VARBINARY(128), PRIMARY KEY (name, id))",
    "CREATE TABLE phone_user_vdx (
        phone BIGINT NOT NULL, keyspace_id VARBINARY(128), PRIMARY KEY (phone))",
    "CREATE TABLE email_user_vdx (
        email VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
        keyspace_id VARBINARY(128), PRIMARY KEY (email))",
];

/// Starts the env, creates the tables directly on every shard, returns a client on `customer`.
async fn setup() -> (TestEnv, Conn) {
    let env = TestEnv::start(spec()).await;
    for shard in SHARDS {
        let mut c = env.shard_conn("customer", shard).await;
        c.query_drop(USER_DDL).await.expect("user DDL");
        let mut l = env.shard_conn("lookup", shard).await;
        for ddl in LOOKUP_DDL {
            l.query_drop(ddl).await.expect("lookup DDL");
        }
    }
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use customer");
    (env, c)
}

fn shard_of(ksid: &[u8]) -> String {
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

fn id_ksid(id: i64) -> Vec<u8> {
    vhash(id as u64).to_vec()
}

fn text_ksid(text: &str) -> Vec<u8> {
    unicode_loose_md5::ksid(&SqlValue::varchar(text.as_bytes()))
        .expect("unicode_loose_md5")
        .to_vec()
}

/// The `customer` shard of user `id`.
fn user_shard(id: i64) -> String {
    shard_of(&id_ksid(id))
}

/// The `lookup` shard of a phone's lookup row.
fn phone_shard(phone: i64) -> String {
    shard_of(&vhash(phone as u64))
}

type Explained = Vec<(u64, String, String, String)>;

async fn vexplain(c: &mut Conn, sql: &str) -> Explained {
    c.query(format!("VEXPLAIN QUERIES {sql}"))
        .await
        .unwrap_or_else(|e| panic!("VEXPLAIN QUERIES {sql}: {e}"))
}

/// The shards of `keyspace` that `rows` name, sorted, without repeats.
fn shards(rows: &Explained, keyspace: &str) -> Vec<String> {
    rows.iter()
        .filter(|r| r.1 == keyspace)
        .map(|r| r.2.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// How many queries `rows` lists for `keyspace`.
fn queries(rows: &Explained, keyspace: &str) -> usize {
    rows.iter().filter(|r| r.1 == keyspace).count()
}

fn sorted<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut v = items.to_vec();
    v.sort();
    v.dedup();
    v
}

/// Every `phone_user_vdx` row: `(shard, phone, keyspace_id)`, sorted.
async fn phone_rows(env: &TestEnv) -> Vec<(String, i64, Vec<u8>)> {
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
async fn name_rows(env: &TestEnv) -> Vec<(String, String, i64, Vec<u8>)> {
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
async fn email_rows(env: &TestEnv) -> Vec<(String, String, Vec<u8>)> {
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
async fn user_ids(env: &TestEnv) -> Vec<i64> {
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
fn phone_row(phone: i64, id: i64) -> (String, i64, Vec<u8>) {
    (phone_shard(phone), phone, id_ksid(id))
}

/// The expected `name_user_vdx` row of user `id` named `name`.
fn name_row(name: &str, id: i64) -> (String, String, i64, Vec<u8>) {
    (
        shard_of(&text_ksid(name)),
        name.to_string(),
        id,
        id_ksid(id),
    )
}

fn expect_1062<T: std::fmt::Debug>(result: Result<T, mysql_async::Error>, what: &str) {
    match result {
        Err(mysql_async::Error::Server(e)) => {
            assert_eq!(e.code, 1062, "{what}: expected 1062, got {e}")
        }
        other => panic!("{what}: expected error 1062, got {other:?}"),
    }
}

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

    // name = : the non-unique lookup, one lookup shard, then every shard holding a match.
    let q = vexplain(&mut c, "SELECT id FROM user WHERE name = 'alice'").await;
    assert_eq!(shards(&q, "lookup"), vec![shard_of(&text_ksid("alice"))]);
    assert_eq!(shards(&q, "customer"), vec![user_shard(1)], "{q:?}");
    let bobs: Vec<i64> = c
        .query("SELECT id FROM user WHERE name = 'bob' ORDER BY id")
        .await
        .expect("bobs");
    assert_eq!(bobs, vec![2, 4]);
    let q = vexplain(&mut c, "SELECT id FROM user WHERE name = 'bob'").await;
    assert_eq!(queries(&q, "lookup"), 1, "{q:?}");
    assert_eq!(
        shards(&q, "customer"),
        sorted(&[user_shard(2), user_shard(4)]),
        "{q:?}"
    );
    // unicode_loose_md5 and the _ci collation agree: another case finds the same row.
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

#[tokio::test(flavor = "multi_thread")]
async fn owner_dml_maintains_the_lookup_rows() {
    let (env, mut c) = setup().await;
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (10, 'alice', 5552010)")
        .await
        .expect("insert");
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (11, 'bob', NULL)")
        .await
        .expect("insert with a NULL phone (ignore_nulls)");
    c.query_drop(
        "INSERT INTO user (id, name, phone) VALUES (12, 'carol', 5552012), (13, 'dave', 5552013)",
    )
    .await
    .expect("multi-row insert");
    assert_eq!(
        phone_rows(&env).await,
        sorted(&[
            phone_row(5552010, 10),
            phone_row(5552012, 12),
            phone_row(5552013, 13)
        ]),
        "INSERT creates one phone row per non-NULL phone, on the phone's shard"
    );
    assert_eq!(
        name_rows(&env).await,
        sorted(&[
            name_row("alice", 10),
            name_row("bob", 11),
            name_row("carol", 12),
            name_row("dave", 13)
        ])
    );

    // UPDATE of a lookup column moves the lookup row.
    c.query_drop("UPDATE user SET phone = 5552099 WHERE id = 10")
        .await
        .expect("update phone");
    c.query_drop("UPDATE user SET name = 'zoe' WHERE id = 12")
        .await
        .expect("update name");
    c.query_drop("UPDATE user SET phone = NULL WHERE id = 13")
        .await
        .expect("phone to NULL");
    c.query_drop("UPDATE user SET phone = 5552011 WHERE id = 11")
        .await
        .expect("phone from NULL");
    let phones = sorted(&[
        phone_row(5552099, 10),
        phone_row(5552011, 11),
        phone_row(5552012, 12),
    ]);
    let names = sorted(&[
        name_row("alice", 10),
        name_row("bob", 11),
        name_row("zoe", 12),
        name_row("dave", 13),
    ]);
    assert_eq!(phone_rows(&env).await, phones);
    assert_eq!(name_rows(&env).await, names);

    // An UPDATE to the value it already has is a no-op for the lookup: no lookup write (a
    // delete in post and an insert in pre of one key would wait on each other).
    let q: Explained = tokio::time::timeout(
        Duration::from_secs(4),
        c.query(
            "VEXPLAIN /*vt+ EXECUTE_DML_QUERIES */ QUERIES \
             UPDATE user SET phone = 5552099, name = 'alice' WHERE id = 10",
        ),
    )
    .await
    .expect("a same-value update does not wait on its own locks")
    .expect("same-value update");
    let lookup_writes: Vec<_> = q
        .iter()
        .filter(|r| r.1 == "lookup")
        .filter(|r| {
            let sql = r.3.to_ascii_lowercase();
            sql.contains("insert") || sql.contains("delete") || sql.contains("update")
        })
        .collect();
    assert!(lookup_writes.is_empty(), "no lookup writes: {q:?}");
    tokio::time::timeout(
        Duration::from_secs(4),
        c.query_drop("UPDATE user SET phone = 5552011 WHERE id = 11"),
    )
    .await
    .expect("a same-value update does not wait on its own locks")
    .expect("same-value update");
    assert_eq!(phone_rows(&env).await, phones);
    assert_eq!(name_rows(&env).await, names);

    // DELETE removes the lookup rows of the doomed rows (by id, and routed by a lookup).
    c.query_drop("DELETE FROM user WHERE id = 10")
        .await
        .expect("delete by id");
    c.query_drop("DELETE FROM user WHERE phone = 5552011")
        .await
        .expect("delete by phone");
    c.query_drop("DELETE FROM user WHERE name = 'dave'")
        .await
        .expect("delete by name");
    assert_eq!(user_ids(&env).await, vec![12]);
    assert_eq!(phone_rows(&env).await, vec![phone_row(5552012, 12)]);
    assert_eq!(name_rows(&env).await, vec![name_row("zoe", 12)]);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_taken_unique_value_is_refused_or_ignored() {
    let (env, mut c) = setup().await;
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (20, 'ann', 5553000)")
        .await
        .expect("insert");
    expect_1062(
        c.query_drop("INSERT INTO user (id, name, phone) VALUES (21, 'ben', 5553000)")
            .await,
        "a taken phone",
    );
    expect_1062(
        c.query_drop(
            "INSERT INTO user (id, name, phone) VALUES (27, 'cid', 5553027), (28, 'dee', 5553027)",
        )
        .await,
        "the same phone twice in one statement",
    );
    // INSERT IGNORE drops the row whose phone is taken, keeps the others.
    c.query_drop("INSERT IGNORE INTO user (id, name, phone) VALUES (22, 'cal', 5553000)")
        .await
        .expect("insert ignore");
    assert_eq!(c.affected_rows(), 0, "the row was dropped");
    c.query_drop(
        "INSERT IGNORE INTO user (id, name, phone) VALUES (23, 'dan', 5553000), (24, 'eve', 5553024)",
    )
    .await
    .expect("insert ignore");
    assert_eq!(c.affected_rows(), 1, "one of two rows was dropped");
    // An UPDATE to a taken phone is refused and changes nothing.
    expect_1062(
        c.query_drop("UPDATE user SET phone = 5553000 WHERE id = 24")
            .await,
        "update to a taken phone",
    );
    assert_eq!(user_ids(&env).await, vec![20, 24]);
    assert_eq!(
        phone_rows(&env).await,
        sorted(&[phone_row(5553000, 20), phone_row(5553024, 24)])
    );
    // The refused statements committed nothing, so they left no lookup rows. The INSERT IGNOREs
    // succeeded: the name rows of their dropped rows may stay behind as orphans (the name lookup
    // was created before the phone lookup dropped the row), nothing else.
    let names = name_rows(&env).await;
    for row in [name_row("ann", 20), name_row("eve", 24)] {
        assert!(names.contains(&row), "{row:?} in {names:?}");
    }
    let allowed_orphans = [name_row("cal", 22), name_row("dan", 23)];
    for row in &names {
        assert!(
            [20, 24].contains(&row.2) || allowed_orphans.contains(row),
            "no lookup row of a refused statement: {row:?}"
        );
    }

    // Inside an explicit transaction a refused statement does not take its row with it; the
    // transaction either continues (statement rolled back) or is failed as a whole.
    c.query_drop("BEGIN").await.expect("begin");
    expect_1062(
        c.query_drop("INSERT INTO user (id, name, phone) VALUES (25, 'fay', 5553000)")
            .await,
        "a taken phone in a transaction",
    );
    let continued = c
        .query_drop("INSERT INTO user (id, name, phone) VALUES (26, 'gus', 5553026)")
        .await;
    match continued {
        Ok(()) => {
            c.query_drop("COMMIT").await.expect("commit");
            assert_eq!(user_ids(&env).await, vec![20, 24, 26]);
            assert!(phone_rows(&env).await.contains(&phone_row(5553026, 26)));
        }
        Err(e) => {
            assert!(
                e.to_string().contains("rolled back"),
                "a failed transaction says so: {e}"
            );
            let _ = c.query_drop("ROLLBACK").await;
            assert_eq!(user_ids(&env).await, vec![20, 24]);
        }
    }
    assert!(phone_rows(&env).await.contains(&phone_row(5553000, 20)));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rolled_back_transaction_leaves_nothing() {
    let (env, mut c) = setup().await;
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (30, 'ada', 5554030)")
        .await
        .expect("insert");
    let seen: Vec<i64> = c
        .query("SELECT id FROM user WHERE id = 30")
        .await
        .expect("own write");
    assert_eq!(seen, vec![30], "the transaction sees its own row");
    c.query_drop("ROLLBACK").await.expect("rollback");
    assert!(user_ids(&env).await.is_empty(), "no owner row");
    assert!(
        phone_rows(&env).await.is_empty(),
        "nothing committed: no lookup row"
    );
    assert!(name_rows(&env).await.is_empty());

    // The phone is free: it can be inserted again, by another row.
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (31, 'ada', 5554030)")
        .await
        .expect("the phone is free");
    // A committed transaction writes owner and lookup rows together.
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (32, 'bea', 5554032)")
        .await
        .expect("insert");
    c.query_drop("UPDATE user SET name = 'ava' WHERE id = 31")
        .await
        .expect("update");
    c.query_drop("COMMIT").await.expect("commit");
    // A rolled-back delete keeps the row and its lookup rows.
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("DELETE FROM user WHERE id = 31")
        .await
        .expect("delete");
    c.query_drop("ROLLBACK").await.expect("rollback");
    assert_eq!(user_ids(&env).await, vec![31, 32]);
    assert_eq!(
        phone_rows(&env).await,
        sorted(&[phone_row(5554030, 31), phone_row(5554032, 32)])
    );
    assert_eq!(
        name_rows(&env).await,
        sorted(&[name_row("ava", 31), name_row("bea", 32)])
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_only_vindex_is_maintained_but_never_routes_reads() {
    let (env, mut c) = setup().await;
    c.query_drop(
        "INSERT INTO user (id, name, email) VALUES (40, 'ida', 'ida@example.com'), \
         (41, 'jon', 'jon@example.com'), (42, 'kim', NULL)",
    )
    .await
    .expect("insert");
    let row = |email: &str, id: i64| (shard_of(&text_ksid(email)), email.to_string(), id_ksid(id));
    assert_eq!(
        email_rows(&env).await,
        sorted(&[row("ida@example.com", 40), row("jon@example.com", 41)]),
        "a write_only vindex is maintained on insert"
    );
    let q = vexplain(
        &mut c,
        "SELECT id FROM user WHERE email = 'ida@example.com'",
    )
    .await;
    assert_eq!(queries(&q, "lookup"), 0, "not read: {q:?}");
    assert_eq!(
        shards(&q, "customer"),
        SHARDS.map(String::from).to_vec(),
        "scatter: {q:?}"
    );
    let ids: Vec<i64> = c
        .query("SELECT id FROM user WHERE email = 'ida@example.com'")
        .await
        .expect("select");
    assert_eq!(ids, vec![40]);
    c.query_drop("UPDATE user SET email = 'joe@example.com' WHERE id = 41")
        .await
        .expect("update");
    c.query_drop("DELETE FROM user WHERE id = 40")
        .await
        .expect("delete");
    assert_eq!(
        email_rows(&env).await,
        vec![row("joe@example.com", 41)],
        "and on update and delete"
    );
    env.stop().await;
}

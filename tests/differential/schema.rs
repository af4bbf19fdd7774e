//! The fixed schema and rows the checker queries: `customer.user` sharded by `hash(id)` with
//! the owned lookup `name_user_vdx` on `(name, id)`, `customer.orders` sharded by
//! `hash(user_id)` with the owned unique lookup `orders_id_vdx` on `id`, the reference table
//! `country`; the lookup tables in keyspace `lookup`. The rows are the sharded-equivalence data
//! set (`tests/sharded_equivalence/data.rs`), loaded through the proxy (which writes the lookup
//! rows) and, with the same statements, into one plain reference database. `user` also has two
//! stored generated columns, a DOUBLE (`score`) and an ENUM (`tier`), so that sums of doubles
//! and ENUM ordering are covered without changing the shared data set.

use crate::common::{EnvSpec, KeyspaceSpec, TestEnv};
use crate::data::{generate_orders, generate_users, insert_statements, Lcg, User};
use mysql_async::prelude::*;
use mysql_async::Conn;
use serde_json::json;

/// The sharded keyspace the queries run on.
pub const KEYSPACE: &str = "customer";

/// `customer` tables, created on every shard and in the reference database.
pub const CUSTOMER_DDL: [&str; 3] = [
    "CREATE TABLE user (id BIGINT NOT NULL PRIMARY KEY, \
     name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, age INT, \
     city VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, balance DECIMAL(10,2), \
     created DATE, score DOUBLE AS (balance / 7) PERSISTENT, \
     tier ENUM('gold','silver','bronze') AS (ELT(1 + age MOD 3, 'gold', 'silver', 'bronze')) PERSISTENT, \
     KEY name (name))",
    "CREATE TABLE orders (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT, amount DECIMAL(10,2), \
     status VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, KEY user_id (user_id))",
    "CREATE TABLE country (code VARCHAR(2) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci \
     NOT NULL PRIMARY KEY, name VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci)",
];

/// Lookup tables, created on every shard of `lookup`.
const LOOKUP_DDL: [&str; 2] = [
    "CREATE TABLE name_user_vdx (\
     name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL, \
     id BIGINT NOT NULL, keyspace_id VARBINARY(128), PRIMARY KEY (name, id))",
    "CREATE TABLE orders_id_vdx (id BIGINT NOT NULL PRIMARY KEY, keyspace_id VARBINARY(128))",
];

/// The reference table's rows: loaded into every shard directly, as a copy job would.
pub const COUNTRY_DATA: &str = "INSERT INTO country (code, name) VALUES ('SG', 'Singapore'), \
     ('MO', 'Monaco'), ('LU', 'Luxembourg'), ('HK', 'Hong Kong'), ('FR', 'France'), ('PE', 'lima')";

/// Rows added to the shared data set: names and cities equal under `utf8mb4_general_ci` but
/// spelled differently (trailing spaces — PAD SPACE —, accents, case, the empty string), so
/// lookups, group merges and sorts must agree with the collation; and orders for them.
pub const EXTRA_ROWS: [&str; 2] = [
    "INSERT INTO user (id, name, age, city, balance, created) VALUES \
     (9001, 'jose', 30, 'PARIS ', 1.00, '2021-01-01'), (9002, 'JOSE', 31, 'paris', 2.00, NULL), \
     (9003, 'alice ', 40, 'Lima', -5.00, '2022-02-02'), (9004, 'Bob ', NULL, NULL, NULL, NULL), \
     (9005, 'Zoë', 25, 'Zürich', 100.00, '2020-05-05'), (9006, 'ÉRIN', 50, 'Singapore', 0.00, '2023-03-03'), \
     (9007, '', 20, '', 0.50, '2020-01-01'), (9008, 'Josè', 61, 'lima ', 7.25, '2024-01-01')",
    "INSERT INTO orders (id, user_id, amount, status) VALUES (901, 9001, 10.00, 'paid'), \
     (902, 9003, NULL, 'new'), (903, 9005, 5.50, 'PAID'), (904, 9007, 1.00, 'paid '), (905, 9002, 3.00, 'Shipped')",
];

/// Shard names of an `n`-shard keyspace (2 or 4).
pub fn shard_names(n: usize) -> &'static [&'static str] {
    match n {
        2 => &["-80", "80-"],
        4 => &["-40", "40-80", "80-c0", "c0-"],
        other => panic!("no layout for {other} shards"),
    }
}

fn customer_vschema() -> serde_json::Value {
    json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "name_user_vdx": {
                "type": "consistent_lookup",
                "params": {"table": "lookup.name_user_vdx", "from": "name,id", "to": "keyspace_id",
                           "ignore_nulls": "true"},
                "owner": "user"
            },
            "orders_id_vdx": {
                "type": "consistent_lookup_unique",
                "params": {"table": "lookup.orders_id_vdx", "from": "id", "to": "keyspace_id"},
                "owner": "orders"
            }
        },
        "tables": {
            "user": {"column_vindexes": [
                {"column": "id", "name": "hash"},
                {"columns": ["name", "id"], "name": "name_user_vdx"}
            ]},
            "orders": {"column_vindexes": [
                {"column": "user_id", "name": "hash"},
                {"column": "id", "name": "orders_id_vdx"}
            ]},
            "country": {"type": "reference"}
        }
    })
}

fn lookup_vschema() -> serde_json::Value {
    json!({
        "sharded": true,
        "vindexes": {"unicode_loose_md5": {"type": "unicode_loose_md5"}, "hash": {"type": "hash"}},
        "tables": {
            "name_user_vdx": {"column_vindexes": [{"column": "name", "name": "unicode_loose_md5"}]},
            "orders_id_vdx": {"column_vindexes": [{"column": "id", "name": "hash"}]}
        }
    })
}

/// The environment for `n` shards: `customer` and `lookup` both on `n` shards.
pub fn spec(n: usize) -> EnvSpec {
    let shards = shard_names(n);
    EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded(KEYSPACE, shards, customer_vschema()))
        .with_keyspace(KeyspaceSpec::sharded("lookup", shards, lookup_vschema()))
}

/// The shared data set's users (the same on every call; without [`EXTRA_ROWS`]).
pub fn users() -> Vec<User> {
    generate_users(&mut Lcg(0xd1ff_c0de))
}

/// The INSERTs of the data set (users, then orders).
pub fn inserts() -> Vec<String> {
    let mut rng = Lcg(0xd1ff_c0de);
    let users = generate_users(&mut rng);
    let orders = generate_orders(&mut rng, &users);
    let mut out = insert_statements(&users, &orders);
    out.extend(EXTRA_ROWS.iter().map(|s| s.to_string()));
    out
}

/// Creates the tables directly on every shard of `env` and loads the rows through its proxy
/// (`proxy` on `customer`) and the country rows directly on every customer shard.
pub async fn load_env(env: &TestEnv, n: usize, proxy: &mut Conn) {
    for shard in shard_names(n) {
        let mut c = env.shard_conn(KEYSPACE, shard).await;
        for ddl in CUSTOMER_DDL {
            c.query_drop(ddl).await.expect("customer DDL on a shard");
        }
        c.query_drop(COUNTRY_DATA).await.expect("country rows");
        let _ = c.disconnect().await;
        let mut l = env.shard_conn("lookup", shard).await;
        for ddl in LOOKUP_DDL {
            l.query_drop(ddl).await.expect("lookup DDL on a shard");
        }
        let _ = l.disconnect().await;
    }
    // The tables were made behind the proxy's back: a DDL through it (a no-op here) makes it
    // read their column types and collations, as it has them for tables that exist when it
    // starts or are created through it.
    proxy
        .query_drop("CREATE TABLE IF NOT EXISTS country (code VARCHAR(2) PRIMARY KEY)")
        .await
        .expect("a no-op DDL through the proxy");
    for sql in inserts() {
        proxy
            .query_drop(&sql)
            .await
            .unwrap_or_else(|e| panic!("loading through the {n}-shard proxy: {e}\n{sql}"));
    }
}

/// Creates the tables in the reference database and loads the same rows.
pub async fn load_reference(conn: &mut Conn) {
    for ddl in CUSTOMER_DDL {
        conn.query_drop(ddl).await.expect("reference DDL");
    }
    conn.query_drop(COUNTRY_DATA)
        .await
        .expect("reference country");
    for sql in inserts() {
        conn.query_drop(&sql).await.expect("reference rows");
    }
}

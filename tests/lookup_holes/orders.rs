//! The `orders` layout: `shop.orders(order_id PK, customer_id, sku, coupon, qty)` sharded by
//! `hash(customer_id)`; `sku_vdx`, a consistent_lookup_unique on `sku` owned by `orders`;
//! `coupon_vdx`, an unowned lookup_unique on `coupon` (its rows are written by hand, as a
//! shared vindex's would be by whoever owns it). Both lookup tables live in `lookup`, sharded
//! by `unicode_loose_md5` of their value. Tables are created directly on every shard.

use crate::common::placement::{hash_ksid, shard_of, text_ksid};
use crate::common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use serde_json::json;

/// The shards of both keyspaces.
pub(crate) const SHARDS: [&str; 2] = ["-80", "80-"];

fn spec() -> EnvSpec {
    let shop = json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "sku_vdx": {"type": "consistent_lookup_unique", "owner": "orders",
                "params": {"table": "lookup.sku_vdx", "from": "sku", "to": "keyspace_id"}},
            "coupon_vdx": {"type": "lookup_unique",
                "params": {"table": "lookup.coupon_vdx", "from": "coupon", "to": "keyspace_id",
                           "ignore_nulls": "true"}}
        },
        "tables": {
            "orders": {
                "column_vindexes": [
                    {"column": "customer_id", "name": "hash"},
                    {"column": "sku", "name": "sku_vdx"},
                    {"column": "coupon", "name": "coupon_vdx"}
                ]
            }
        }
    });
    let lookup = json!({
        "sharded": true,
        "vindexes": {"md5": {"type": "unicode_loose_md5"}},
        "tables": {
            "sku_vdx": {"column_vindexes": [{"column": "sku", "name": "md5"}]},
            "coupon_vdx": {"column_vindexes": [{"column": "coupon", "name": "md5"}]}
        }
    });
    EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded("shop", &SHARDS, shop))
        .with_keyspace(KeyspaceSpec::sharded("lookup", &SHARDS, lookup))
}

/// Starts the env, creates the tables on every shard, returns a client on `shop`.
pub(crate) async fn setup() -> (TestEnv, Conn) {
    let env = TestEnv::start(spec()).await;
    for shard in SHARDS {
        let mut s = env.shard_conn("shop", shard).await;
        s.query_drop(
            "CREATE TABLE orders (order_id BIGINT NOT NULL PRIMARY KEY, customer_id BIGINT NOT NULL,
             sku VARCHAR(32) NOT NULL, coupon VARCHAR(32), qty INT NOT NULL DEFAULT 1,
             KEY sku (sku), KEY coupon (coupon))",
        )
        .await
        .expect("orders DDL");
        let mut l = env.shard_conn("lookup", shard).await;
        l.query_drop(
            "CREATE TABLE sku_vdx (sku VARCHAR(32) NOT NULL, keyspace_id VARBINARY(128),
             PRIMARY KEY (sku))",
        )
        .await
        .expect("sku_vdx DDL");
        l.query_drop(
            "CREATE TABLE coupon_vdx (coupon VARCHAR(32) NOT NULL, keyspace_id VARBINARY(128),
             PRIMARY KEY (coupon))",
        )
        .await
        .expect("coupon_vdx DDL");
    }
    let mut c = env.client().await;
    c.query_drop("USE shop").await.expect("use shop");
    (env, c)
}

/// `(order_id, customer_id, sku, qty)` of every order, read on every shard, sorted.
pub(crate) async fn orders(env: &TestEnv) -> Vec<(i64, i64, String, i64)> {
    let mut out = Vec::new();
    for shard in SHARDS {
        let mut s = env.shard_conn("shop", shard).await;
        let rows: Vec<(i64, i64, String, i64)> = s
            .query("SELECT order_id, customer_id, sku, qty FROM orders")
            .await
            .expect("reading orders");
        for r in &rows {
            assert_eq!(
                shard,
                shard_of(&SHARDS, &hash_ksid(r.1)),
                "order {r:?} misplaced"
            );
        }
        out.extend(rows);
    }
    out.sort();
    out
}

/// The customer (of the candidates `customers`) whose keyspace id `sku`'s lookup row holds,
/// read on its lookup shard; None without a lookup row or when it points at none of them.
pub(crate) async fn sku_owner(env: &TestEnv, sku: &str, customers: &[i64]) -> Option<i64> {
    let mut l = env
        .shard_conn("lookup", shard_of(&SHARDS, &text_ksid(sku)))
        .await;
    let ksid: Option<Vec<u8>> = l
        .exec_first("SELECT keyspace_id FROM sku_vdx WHERE sku = ?", (sku,))
        .await
        .expect("reading sku_vdx");
    let ksid = ksid?;
    customers.iter().copied().find(|c| hash_ksid(*c) == ksid)
}

/// Writes the coupon lookup row `(coupon, hash(customer))` directly on its lookup shard.
pub(crate) async fn map_coupon(env: &TestEnv, coupon: &str, customer: i64) {
    let mut l = env
        .shard_conn("lookup", shard_of(&SHARDS, &text_ksid(coupon)))
        .await;
    l.exec_drop(
        "INSERT INTO coupon_vdx (coupon, keyspace_id) VALUES (?, ?)",
        (coupon, hash_ksid(customer)),
    )
    .await
    .expect("writing coupon_vdx");
}

/// Panics unless every order's sku has its lookup row pointing at the order's customer;
/// returns how many orders there are.
pub(crate) async fn assert_skus_mapped(env: &TestEnv) -> usize {
    let all = orders(env).await;
    for (id, customer, sku, _) in &all {
        assert_eq!(
            sku_owner(env, sku, &[*customer]).await,
            Some(*customer),
            "order {id} ({sku}) has no lookup row"
        );
    }
    all.len()
}

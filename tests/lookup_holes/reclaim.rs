//! Item 1: the reclaim algorithm must probe the owner row even when the lookup row already
//! points at the new row's keyspace id. Two orders of customer 7 hold the same keyspace id,
//! so `(3, 7, 'SKU-A')` finds `SKU-A -> hash(7)` and used to be accepted next to order 1.

use crate::common::errors::expect_error;
use crate::common::placement::{hash_ksid, shard_of};
use crate::orders::{orders, setup, sku_owner, SHARDS};
use mysql_async::prelude::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_value_held_by_a_row_of_the_same_keyspace_id_is_a_duplicate() {
    let (env, mut c) = setup().await;
    c.query_drop("INSERT INTO orders (order_id, customer_id, sku) VALUES (1, 7, 'SKU-A')")
        .await
        .expect("first order");
    expect_error(
        c.query_drop("INSERT INTO orders (order_id, customer_id, sku) VALUES (2, 8, 'SKU-A')")
            .await,
        1062,
        "SKU-A for another customer",
    );
    expect_error(
        c.query_drop("INSERT INTO orders (order_id, customer_id, sku) VALUES (3, 7, 'SKU-A')")
            .await,
        1062,
        "SKU-A again for the same customer",
    );
    // INSERT IGNORE drops the row instead.
    c.query_drop(
        "INSERT IGNORE INTO orders (order_id, customer_id, sku) VALUES (4, 7, 'SKU-A'), (5, 7, 'SKU-E')",
    )
    .await
    .expect("insert ignore");
    assert_eq!(c.affected_rows(), 1, "only order 5 is inserted");
    // An UPDATE to a value another row of the same keyspace id holds.
    c.query_drop("INSERT INTO orders (order_id, customer_id, sku) VALUES (6, 7, 'SKU-B')")
        .await
        .expect("order 6");
    expect_error(
        c.query_drop("UPDATE orders SET sku = 'SKU-A' WHERE order_id = 6")
            .await,
        1062,
        "update to SKU-A for the same customer",
    );
    // ON DUPLICATE KEY UPDATE of the row that holds the value updates it.
    c.query_drop(
        "INSERT INTO orders (order_id, customer_id, sku, qty) VALUES (1, 7, 'SKU-A', 1) ON DUPLICATE KEY UPDATE qty = qty + 10",
    )
    .await
    .expect("upsert of order 1");
    // ... but a new row that would hold it next to order 1 is dropped.
    c.query_drop(
        "INSERT INTO orders (order_id, customer_id, sku, qty) VALUES (9, 7, 'SKU-A', 1) ON DUPLICATE KEY UPDATE qty = qty + 100",
    )
    .await
    .expect("upsert of a new row");
    assert_eq!(
        orders(&env).await,
        vec![
            (1, 7, "SKU-A".to_string(), 11),
            (5, 7, "SKU-E".to_string(), 1),
            (6, 7, "SKU-B".to_string(), 1),
        ]
    );
    assert_eq!(sku_owner(&env, "SKU-A", &[7, 8]).await, Some(7));
    assert_eq!(sku_owner(&env, "SKU-B", &[7]).await, Some(7));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_orphan_pointing_at_the_new_keyspace_id_is_reclaimed() {
    let (env, mut c) = setup().await;
    c.query_drop("INSERT INTO orders (order_id, customer_id, sku) VALUES (1, 7, 'SKU-A')")
        .await
        .expect("first order");
    // Order 1 disappears behind the proxy's back: SKU-A's lookup row is an orphan that still
    // points at hash(7).
    let mut s = env
        .shard_conn("shop", shard_of(&SHARDS, &hash_ksid(7)))
        .await;
    s.query_drop("DELETE FROM orders WHERE order_id = 1")
        .await
        .expect("direct delete");
    c.query_drop("INSERT INTO orders (order_id, customer_id, sku) VALUES (3, 7, 'SKU-A')")
        .await
        .expect("reclaiming the orphan of the same keyspace id");
    // And an orphan pointing elsewhere is taken over.
    s.query_drop("DELETE FROM orders WHERE order_id = 3")
        .await
        .expect("direct delete");
    c.query_drop("INSERT INTO orders (order_id, customer_id, sku) VALUES (4, 8, 'SKU-A')")
        .await
        .expect("reclaiming an orphan of another keyspace id");
    assert_eq!(orders(&env).await, vec![(4, 8, "SKU-A".to_string(), 1)]);
    assert_eq!(sku_owner(&env, "SKU-A", &[7, 8]).await, Some(8));
}

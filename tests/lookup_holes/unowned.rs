//! Item 6: INSERT into a table with an unowned lookup vindex (`orders.coupon`, whose lookup
//! rows the proxy does not write) used to accept a value that does not map to the row's
//! keyspace id; the row was then invisible to `coupon = …` reads. Now such a row fails
//! (1105, Vitess's "does not map to keyspace ids"), INSERT IGNORE / ON DUPLICATE KEY UPDATE
//! drop it, and an UPDATE to such a value fails (it used to be refused with 1235).

use crate::common::errors::expect_error;
use crate::orders::{map_coupon, orders, setup};
use mysql_async::prelude::*;
use mysql_async::Conn;

/// `coupon = 'C1'` routed by the vindex, and the same predicate hidden from the planner (a
/// scatter): the two must agree.
async fn coupon_reads(c: &mut Conn, coupon: &str) -> (Vec<i64>, Vec<i64>) {
    let routed: Vec<i64> = c
        .exec(
            "SELECT order_id FROM orders WHERE coupon = ? ORDER BY order_id",
            (coupon,),
        )
        .await
        .expect("routed read");
    let scatter: Vec<i64> = c
        .exec(
            "SELECT order_id FROM orders WHERE CONCAT(coupon, '') = ? ORDER BY order_id",
            (coupon,),
        )
        .await
        .expect("scatter read");
    (routed, scatter)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unowned_lookup_value_must_map_to_the_row() {
    let (env, mut c) = setup().await;
    map_coupon(&env, "C1", 7).await;
    c.query_drop(
        "INSERT INTO orders (order_id, customer_id, sku, coupon) VALUES (1, 7, 'S1', 'C1'), (4, 8, 'S4', NULL)",
    )
    .await
    .expect("mapped coupon and NULL coupon");
    for (sql, what) in [
        (
            "INSERT INTO orders (order_id, customer_id, sku, coupon) VALUES (2, 8, 'S2', 'C1')",
            "a coupon mapped to another customer",
        ),
        (
            "INSERT INTO orders (order_id, customer_id, sku, coupon) VALUES (3, 7, 'S3', 'NOPE')",
            "a coupon without a lookup row",
        ),
        (
            "INSERT INTO orders (order_id, customer_id, sku, coupon) VALUES (5, 7, 'S5', 'C1'), (2, 8, 'S2', 'C1')",
            "one bad row of two",
        ),
    ] {
        let err = c.query_drop(sql).await;
        if let Err(mysql_async::Error::Server(e)) = &err {
            assert!(
                e.message.contains("does not map to keyspace ids") && e.message.contains("coupon"),
                "{what}: {}",
                e.message
            );
        }
        expect_error(err, 1105, what);
    }
    let stmt = c
        .prep("INSERT INTO orders (order_id, customer_id, sku, coupon) VALUES (?, ?, ?, ?)")
        .await
        .expect("prepare");
    expect_error(
        c.exec_drop(&stmt, (2, 8, "S2", "C1")).await,
        1105,
        "prepared, a coupon mapped to another customer",
    );
    // IGNORE and ON DUPLICATE KEY UPDATE drop the rows that do not map.
    c.query_drop(
        "INSERT IGNORE INTO orders (order_id, customer_id, sku, coupon) VALUES (2, 8, 'S2', 'C1'), (6, 7, 'S6', 'C1')",
    )
    .await
    .expect("insert ignore");
    assert_eq!(c.affected_rows(), 1, "only order 6 maps");
    c.query_drop(
        "INSERT INTO orders (order_id, customer_id, sku, coupon) VALUES (3, 8, 'S3', 'C1') ON DUPLICATE KEY UPDATE qty = qty + 1",
    )
    .await
    .expect("upsert");
    assert_eq!(c.affected_rows(), 0, "order 3 does not map");
    // UPDATE: the new value must map to every changed row.
    expect_error(
        c.query_drop("UPDATE orders SET coupon = 'C1' WHERE order_id = 4")
            .await,
        1105,
        "update to a coupon mapped to another customer",
    );
    map_coupon(&env, "C8", 8).await;
    c.query_drop("UPDATE orders SET coupon = 'C8' WHERE order_id = 4")
        .await
        .expect("update to a mapped coupon");
    expect_error(
        c.query_drop("UPDATE orders SET coupon = 'C1' WHERE order_id IN (1, 4)")
            .await,
        1105,
        "update of two rows, one of which does not map",
    );
    let stmt = c
        .prep("UPDATE orders SET coupon = ? WHERE order_id = ?")
        .await
        .expect("prepare");
    expect_error(
        c.exec_drop(&stmt, ("C8", 6)).await,
        1105,
        "prepared update to a coupon of another customer",
    );
    c.exec_drop(&stmt, (None::<String>, 6))
        .await
        .expect("prepared update to NULL");
    c.exec_drop(&stmt, ("C1", 6))
        .await
        .expect("prepared update back to C1");
    assert_eq!(
        orders(&env).await,
        vec![
            (1, 7, "S1".to_string(), 1),
            (4, 8, "S4".to_string(), 1),
            (6, 7, "S6".to_string(), 1),
        ]
    );
    let (routed, scatter) = coupon_reads(&mut c, "C1").await;
    assert_eq!(routed, vec![1, 6]);
    assert_eq!(routed, scatter);
    let (routed, scatter) = coupon_reads(&mut c, "C8").await;
    assert_eq!(routed, vec![4]);
    assert_eq!(routed, scatter);
}

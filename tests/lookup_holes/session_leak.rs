//! Session settings must not leak between clients through pooled backend connections: after
//! NO_BACKSLASH_ESCAPES clients used (and left, in every way a client leaves: quit, a
//! transaction left open, a dropped socket) connections to every shard, a default-mode
//! client's backslashes must still read as escapes on the shards, and the lookup rows the
//! proxy writes for its values must match the owner rows (lead from the history checker:
//! name lookup rows vanished with default-mode clients writing `q\' OR id > 0 -- `).

use crate::orders::{assert_skus_mapped, orders, setup};
use mysql_async::prelude::*;
use std::time::Duration;

const NBE: &str = "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')";

#[tokio::test(flavor = "multi_thread")]
async fn no_backslash_escapes_never_reaches_a_default_mode_session() {
    let (env, c) = setup().await;
    drop(c.disconnect().await);
    let mut next = 1;
    for round in 0..4 {
        // A NO_BACKSLASH_ESCAPES client writes on both shards (owner, pre and post lists),
        // reads by scatter, and leaves: cleanly, inside a transaction, or by dropping its
        // socket.
        let mut a = env.client().await;
        a.query_drop("USE shop").await.expect("use shop");
        a.query_drop(NBE).await.expect("nbe");
        for _ in 0..6 {
            a.query_drop(format!(
                "INSERT INTO orders (order_id, customer_id, sku) VALUES ({next}, {next}, 'n{next}')"
            ))
            .await
            .expect("nbe insert");
            a.query_drop(format!(
                "UPDATE orders SET sku = 'm{next}' WHERE order_id = {next} AND customer_id = {next}"
            ))
            .await
            .expect("nbe update");
            next += 1;
        }
        let _: Vec<i64> = a
            .query("SELECT order_id FROM orders")
            .await
            .expect("scatter");
        a.query_drop("BEGIN").await.expect("begin");
        a.query_drop(format!(
            "INSERT INTO orders (order_id, customer_id, sku) VALUES ({next}, {next}, 't{next}')"
        ))
        .await
        .expect("insert in txn");
        next += 1;
        match round % 3 {
            0 => drop(a.disconnect().await),
            1 => {
                a.query_drop("COMMIT").await.expect("commit");
                drop(a.disconnect().await);
            }
            _ => drop(a),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        // A default-mode client: `\\` is one backslash, `\'` a quote.
        let mut b = env.client().await;
        b.query_drop("USE shop").await.expect("use shop");
        let base = 1000 + round * 100;
        for i in 0..12 {
            let id = base + i;
            b.query_drop(format!(
                r"INSERT INTO orders (order_id, customer_id, sku) VALUES ({id}, {id}, 'b\\s\'{id}')"
            ))
            .await
            .expect("default-mode insert");
        }
        drop(b.disconnect().await);
        let all = orders(&env).await;
        for i in 0..12 {
            let id = base + i;
            let sku = all
                .iter()
                .find(|o| o.0 == id)
                .map(|o| o.2.clone())
                .unwrap_or_else(|| panic!("order {id} missing"));
            assert_eq!(
                sku,
                format!(r"b\s'{id}"),
                "round {round}: order {id} read under another sql_mode"
            );
        }
        assert_skus_mapped(&env).await;
    }
    env.stop().await;
}

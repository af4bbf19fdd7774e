//! Item 8: UPDATE/DELETE of an owner table whose WHERE picks other rows on each evaluation.
//! The proxy reads the rows `FOR UPDATE` to move their lookup rows, then changes rows; when
//! the statement re-evaluated its WHERE, the rows changed were not the rows read, and owner
//! rows lost their lookup rows (`DELETE … WHERE id > 100 AND RAND() < 0.5`). After each
//! statement the shards are read directly and the §2.4 invariant checked: every owner row
//! has its lookup rows.

use crate::common::placement::hash_ksid;
use crate::common::TestEnv;
use crate::invariant::check_invariant;
use crate::layout::{shard_of, LAYOUT};
use crate::shard_reads::snapshot;
use mysql_async::prelude::*;
use mysql_async::Conn;
use std::time::Duration;

/// Users 1..=80 (`name` `n<id>`, `phone` 5000 + id) through the proxy.
async fn setup() -> (TestEnv, Conn) {
    let env = TestEnv::start(LAYOUT.spec()).await;
    LAYOUT.create_tables(&env).await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use customer");
    let rows: Vec<String> = (1..=80)
        .map(|id| format!("({id}, 'n{id}', {})", 5000 + id))
        .collect();
    c.query_drop(format!(
        "INSERT INTO user (id, name, phone) VALUES {}",
        rows.join(", ")
    ))
    .await
    .expect("insert users");
    (env, c)
}

/// Panics with the broken invariants, if any; returns how many users are left.
async fn assert_invariant(env: &TestEnv, after: &str) -> usize {
    let snap = snapshot(env).await;
    let verdict = check_invariant(&snap);
    assert!(
        verdict.violations.is_empty(),
        "after {after}: {}",
        verdict.violations.join("\n")
    );
    snap.users.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn random_where_keeps_every_lookup_row() {
    let (env, mut c) = setup().await;
    for sql in [
        "DELETE FROM user WHERE id > 60 AND RAND() < 0.5",
        "UPDATE user SET name = 'zed' WHERE id > 30 AND RAND() < 0.5",
        "UPDATE user SET phone = NULL WHERE id <= 30 AND RAND() < 0.5",
        "UPDATE user SET name = 'yan', phone = NULL WHERE id > 10 AND RAND() < 0.5",
    ] {
        c.query_drop(sql).await.expect(sql);
        let changed = c.affected_rows();
        assert!(changed > 0, "{sql} changed nothing");
        assert_invariant(&env, sql).await;
    }
    // Comments where the proxy appends its own clauses.
    c.query_drop("UPDATE user SET name = 'cmt' -- a note\nWHERE id <= 5 -- and another")
        .await
        .expect("update with comments");
    assert_eq!(c.affected_rows(), 5);
    let snap = snapshot(&env).await;
    let named: Vec<i64> = snap
        .users
        .iter()
        .filter(|u| u.2.as_deref() == Some("cmt"))
        .map(|u| u.1)
        .collect();
    assert_eq!(named.len(), 5, "{named:?}");
    assert_invariant(&env, "the update with comments").await;
    // Qualified, from another default database, with an alias.
    c.query_drop("USE lookup").await.expect("use lookup");
    c.query_drop("UPDATE customer.user AS u SET u.name = 'qual' WHERE u.id <= 3 AND RAND() < 2")
        .await
        .expect("qualified update");
    assert_eq!(c.affected_rows(), 3);
    c.query_drop("DELETE FROM customer.user WHERE id = 4")
        .await
        .expect("qualified delete");
    assert_eq!(c.affected_rows(), 1);
    c.query_drop("USE customer").await.expect("use customer");
    assert_invariant(&env, "the qualified statements").await;
    // The same through a prepared statement.
    let stmt = c
        .prep("DELETE FROM user WHERE id > ? AND RAND() < ?")
        .await
        .expect("prepare");
    c.exec_drop(&stmt, (0, 0.5)).await.expect("prepared delete");
    assert_invariant(&env, "the prepared delete").await;
}

/// LIMIT needs one shard: many orders of one customer (`shop.orders`, sharded by customer).
#[tokio::test(flavor = "multi_thread")]
async fn order_by_rand_limit_changes_the_rows_it_read() {
    let (env, mut c) = crate::orders::setup().await;
    let rows: Vec<String> = (1..=30).map(|id| format!("({id}, 7, 'S{id}')")).collect();
    c.query_drop(format!(
        "INSERT INTO orders (order_id, customer_id, sku) VALUES {}",
        rows.join(", ")
    ))
    .await
    .expect("insert orders");
    for (sql, changed) in [
        (
            "DELETE FROM orders WHERE customer_id = 7 ORDER BY RAND() LIMIT 3",
            3,
        ),
        (
            "UPDATE orders SET sku = 'NEW1' WHERE customer_id = 7 ORDER BY RAND() LIMIT 1",
            1,
        ),
        (
            "UPDATE orders SET sku = 'NEW2' WHERE customer_id = 7 AND RAND() < 0.5 LIMIT 1",
            1,
        ),
        ("DELETE FROM orders WHERE customer_id = 7 LIMIT 2", 2),
        (
            "DELETE FROM orders WHERE customer_id = 7 AND RAND() < 0.3",
            0,
        ),
    ] {
        let before = crate::orders::orders(&env).await.len();
        c.query_drop(sql).await.expect(sql);
        let after = crate::orders::assert_skus_mapped(&env).await;
        if changed > 0 {
            assert_eq!(c.affected_rows(), changed, "{sql}");
        }
        if sql.starts_with("DELETE") {
            assert_eq!(after, before - c.affected_rows() as usize, "{sql}");
        }
    }
}

/// Under READ COMMITTED, `FOR UPDATE` takes no gap locks: a row another session inserts
/// while the statement reads, before the scan position, is not read, but a second scan by
/// the UPDATE itself would change it without moving its lookup row.
#[tokio::test(flavor = "multi_thread")]
async fn read_committed_phantoms_are_not_changed() {
    let (env, mut c) = setup().await;
    let shard = shard_of(&hash_ksid(1));
    let on_shard = |from: i64| (from..).filter(move |&id| shard_of(&hash_ksid(id)) == shard);
    // Five slow rows with high ids; the phantom gets a lower id on the same shard, so it
    // lands behind the scan of `name = 'slow'` (index order: name, then id).
    let slow: Vec<String> = on_shard(200)
        .take(5)
        .map(|id| format!("({id}, 'slow', NULL)"))
        .collect();
    let phantom = on_shard(81).next().expect("an id");
    c.query_drop(format!(
        "INSERT INTO user (id, name, phone) VALUES {}",
        slow.join(", ")
    ))
    .await
    .expect("the slow rows");
    c.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .await
        .expect("read committed");
    let url = env.url("root", "", Some("customer"));
    let writer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let mut w = Conn::from_url(url).await.expect("second client");
        w.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
            .await
            .expect("read committed");
        w.query_drop(format!(
            "INSERT INTO user (id, name, phone) VALUES ({phantom}, 'slow', 7777)"
        ))
        .await
        .expect("phantom insert");
    });
    // Each row matching `name = 'slow'` sleeps 0.4 s in each scan.
    c.query_drop("UPDATE user SET name = 'fast' WHERE name = 'slow' AND SLEEP(0.4) = 0")
        .await
        .expect("slow update");
    let changed = c.affected_rows();
    writer.await.expect("writer");
    assert_invariant(&env, "the READ COMMITTED update").await;
    assert_eq!(changed, slow.len() as u64, "only the rows read are changed");
    c.query_drop("DELETE FROM user WHERE name IN ('fast', 'slow') AND SLEEP(0.1) = 0")
        .await
        .expect("delete");
    assert_invariant(&env, "the delete").await;
}

/// The keyed statement keeps the statement's ORDER BY: shifting primary keys up works only
/// from the top (`ORDER BY order_id DESC`), as it does on one MariaDB.
#[tokio::test(flavor = "multi_thread")]
async fn the_order_of_changes_is_kept() {
    let (env, mut c) = crate::orders::setup().await;
    crate::orders::map_coupon(&env, "C7", 7).await;
    c.query_drop(
        "INSERT INTO orders (order_id, customer_id, sku) VALUES (1, 7, 'S1'), (2, 7, 'S2'), (3, 7, 'S3')",
    )
    .await
    .expect("insert orders");
    c.query_drop(
        "UPDATE orders SET order_id = order_id + 1, coupon = 'C7' WHERE customer_id = 7 ORDER BY order_id DESC",
    )
    .await
    .expect("shift the keys up");
    assert_eq!(c.affected_rows(), 3);
    let stmt = c
        .prep("UPDATE orders SET order_id = order_id - ?, coupon = ? WHERE customer_id = ? ORDER BY order_id + ? LIMIT 3")
        .await
        .expect("prepare");
    c.exec_drop(&stmt, (1, "C7", 7, 0))
        .await
        .expect("shift the keys down");
    let ids: Vec<i64> = crate::orders::orders(&env)
        .await
        .into_iter()
        .map(|o| o.0)
        .collect();
    assert_eq!(ids, vec![1, 2, 3]);
    crate::orders::assert_skus_mapped(&env).await;
}

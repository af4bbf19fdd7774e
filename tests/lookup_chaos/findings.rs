//! Scenarios the history checker found, each replayed alone on the same layout (no kills, one
//! client) and checked with the same invariant.

use crate::common::TestEnv;
use crate::invariant::check_invariant;
use crate::layout::{self, LOOKUPS};
use crate::shard_reads::snapshot;
use mysql_async::prelude::*;
use mysql_async::Conn;

/// Runs `statements` (one client, in order; errors ignored but printed) on a fresh layout and
/// returns the invariant violations and the statement results.
pub(crate) async fn replay(statements: &[&str]) -> (Vec<String>, Vec<String>) {
    let env = TestEnv::start(layout::spec()).await;
    layout::create_tables(&env).await;
    let mut c: Conn = env.client_as("root", "", Some("customer")).await;
    let mut results = Vec::new();
    for s in statements {
        let r = c.query_drop(*s).await;
        results.push(format!("{s} -> {r:?}"));
    }
    drop(c);
    let snap = snapshot(&env).await;
    let v = check_invariant(&snap, &LOOKUPS);
    env.stop().await;
    (v.violations, results)
}

#[tokio::test]
async fn finding_rollback_to_savepoint_before_a_lookup_move() {
    let (violations, results) = replay(&[
        "INSERT INTO user (id, name, phone) VALUES (5, 'alice', 5550001)",
        "BEGIN",
        "SAVEPOINT sp",
        "UPDATE user SET name = 'frank', phone = 5550002 WHERE id = 5",
        "ROLLBACK TO SAVEPOINT sp",
        "COMMIT",
    ])
    .await;
    assert!(violations.is_empty(), "{violations:#?}\n{results:#?}");
}

#[tokio::test]
async fn finding_failed_update_in_a_transaction() {
    let (violations, results) = replay(&[
        "INSERT INTO user (id, name, phone) VALUES (5, 'alice', 5550001), (6, 'bob', 5550002)",
        "BEGIN",
        "UPDATE user SET name = 'frank', phone = 5550002 WHERE id = 5",
        "COMMIT",
    ])
    .await;
    assert!(violations.is_empty(), "{violations:#?}\n{results:#?}");
}

#[tokio::test]
#[ignore = "hole found by lookup_chaos (switch multi_column_unique_route): a route by the multi-column unique rs_order_vdx fails with 1105; un-ignore when fixed"]
async fn finding_multi_column_unique_lookup_route() {
    let (violations, results) = replay(&[
        "INSERT INTO orders (order_id, customer_id, sku, region, slot, qty) VALUES (1, 1, 'a', 1, 10, 0), (2, 2, 'b', 1, 20, 0)",
        "SELECT order_id FROM orders WHERE region = 1 AND slot = 10",
        "DELETE FROM orders WHERE region = 1 AND slot = 10",
    ])
    .await;
    assert!(violations.is_empty(), "{violations:#?}\n{results:#?}");
    assert!(
        results.iter().all(|r| r.ends_with("Ok(())")),
        "{results:#?}"
    );
}

const SIX_USERS: &str = "INSERT INTO user (id, name, phone) VALUES (5, 'alice', 5550001), (6, 'bob', 5550002), (7, 'carol', 5550003), (8, 'dave', 5550004), (9, 'eve', 5550005), (10, 'frank', 5550006)";

#[tokio::test]
async fn finding_failed_update_after_post_sessions_opened() {
    let (violations, results) = replay(&[
        SIX_USERS,
        "BEGIN",
        "DELETE FROM user WHERE id IN (7, 8, 9, 10)",
        "UPDATE user SET name = 'zed', phone = 5550002 WHERE id = 5",
        "COMMIT",
    ])
    .await;
    assert!(violations.is_empty(), "{violations:#?}\n{results:#?}");
}

#[tokio::test]
async fn finding_rollback_to_savepoint_after_post_sessions_opened() {
    let (violations, results) = replay(&[
        SIX_USERS,
        "BEGIN",
        "DELETE FROM user WHERE id IN (7, 8, 9, 10)",
        "INSERT INTO user (id, name, phone) VALUES (11, 'gina', 5550011), (12, 'hal', 5550012), (13, 'ivy', 5550013)",
        "SAVEPOINT sp",
        "UPDATE user SET name = 'zed', phone = 5550009 WHERE id = 5",
        "ROLLBACK TO SAVEPOINT sp",
        "COMMIT",
    ])
    .await;
    assert!(violations.is_empty(), "{violations:#?}\n{results:#?}");
}

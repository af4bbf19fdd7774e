//! Scenarios of the history checker replayed alone on the same layout, each checked with the
//! same invariant (`invariant`): the constructs the checker runs concurrently (savepoints,
//! statements failing inside transactions, lock waits, kills mid-transaction, quoted values
//! under both sql_modes), pinned down one at a time while hunting its anomalies; and the one
//! hole it found that issue 15 does not list (`multi_column_unique_route`, fixed: a
//! multi-shard route).

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

/// [`replay`], asserting the shards hold no violation afterwards; each statement's outcome.
async fn replay_clean(statements: &[&str]) -> Vec<String> {
    let (violations, results) = replay(statements).await;
    assert!(violations.is_empty(), "{violations:#?}\n{results:#?}");
    results
}

#[tokio::test]
async fn replay_rollback_to_savepoint_before_a_lookup_move() {
    replay_clean(&[
        "INSERT INTO user (id, name, phone) VALUES (5, 'alice', 5550001)",
        "BEGIN",
        "SAVEPOINT sp",
        "UPDATE user SET name = 'frank', phone = 5550002 WHERE id = 5",
        "ROLLBACK TO SAVEPOINT sp",
        "COMMIT",
    ])
    .await;
}

#[tokio::test]
async fn replay_failed_update_in_a_transaction() {
    replay_clean(&[
        "INSERT INTO user (id, name, phone) VALUES (5, 'alice', 5550001), (6, 'bob', 5550002)",
        "BEGIN",
        "UPDATE user SET name = 'frank', phone = 5550002 WHERE id = 5",
        "COMMIT",
    ])
    .await;
}

#[tokio::test]
async fn finding_multi_column_unique_lookup_route() {
    let results = replay_clean(&[
        "INSERT INTO orders (order_id, customer_id, sku, region, slot, qty) VALUES (1, 1, 'a', 1, 10, 0), (2, 2, 'b', 1, 20, 0)",
        "SELECT order_id FROM orders WHERE region = 1 AND slot = 10",
        "DELETE FROM orders WHERE region = 1 AND slot = 10",
    ])
        .await;
    assert!(
        results.iter().all(|r| r.ends_with("Ok(())")),
        "{results:#?}"
    );
}

const SIX_USERS: &str = "INSERT INTO user (id, name, phone) VALUES (5, 'alice', 5550001), (6, 'bob', 5550002), (7, 'carol', 5550003), (8, 'dave', 5550004), (9, 'eve', 5550005), (10, 'frank', 5550006)";

#[tokio::test]
async fn replay_failed_update_after_post_sessions_opened() {
    replay_clean(&[
        SIX_USERS,
        "BEGIN",
        "DELETE FROM user WHERE id IN (7, 8, 9, 10)",
        "UPDATE user SET name = 'zed', phone = 5550002 WHERE id = 5",
        "COMMIT",
    ])
    .await;
}

#[tokio::test]
async fn replay_rollback_to_savepoint_after_post_sessions_opened() {
    replay_clean(&[
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
}

#[tokio::test]
async fn replay_failed_insert_after_a_good_insert_in_a_transaction() {
    replay_clean(&[
        SIX_USERS,
        "BEGIN",
        "INSERT INTO user (id, name, phone) VALUES (20, 'gina', 5550020)",
        "INSERT INTO user (id, name, phone) VALUES (21, 'hal', 5550002)",
        "COMMIT",
    ])
    .await;
}

#[tokio::test]
async fn replay_failed_update_after_a_good_update_in_a_transaction() {
    replay_clean(&[
        SIX_USERS,
        "BEGIN",
        "UPDATE user SET name = 'gina' WHERE id = 7",
        "UPDATE user SET name = 'zed', phone = 5550002 WHERE id = 5",
        "COMMIT",
    ])
    .await;
}

#[tokio::test]
async fn replay_failed_autocommit_update_then_more_writes() {
    replay_clean(&[
        SIX_USERS,
        "UPDATE user SET name = 'zed', phone = 5550002 WHERE id = 5",
        "UPDATE user SET name = 'zed', phone = 5550003 WHERE id = 7",
        "DELETE FROM user WHERE id = 10",
        "INSERT INTO user (id, name, phone) VALUES (30, 'gina', 5550030)",
        "UPDATE user SET name = 'yan' WHERE id = 9",
        "INSERT IGNORE INTO user (id, name, phone) VALUES (5, 'eve', 5550040)",
        "INSERT INTO user (id, name, phone) VALUES (6, 'eve', 5550041) ON DUPLICATE KEY UPDATE phone = phone",
    ])
        .await;
}

#[tokio::test]
async fn replay_rolled_back_delete_then_more_writes() {
    replay_clean(&[
        SIX_USERS,
        "BEGIN",
        "DELETE FROM user WHERE id IN (5, 6)",
        "ROLLBACK",
        "INSERT INTO user (id, name, phone) VALUES (30, 'gina', 5550030)",
        "BEGIN",
        "UPDATE user SET name = 'yan' WHERE id = 9",
        "COMMIT",
        "UPDATE user SET name = 'zed' WHERE id = 8",
    ])
    .await;
}

/// Client B's lookup move waits on a lookup row client A holds (lock wait timeout, 1205)
/// after B's old lookup rows were already deleted; then B commits (or autocommits).
async fn lock_timeout_in_a_lookup_move(explicit: bool) -> (Vec<String>, Vec<String>) {
    let env = TestEnv::start(layout::spec()).await;
    layout::create_tables(&env).await;
    let mut a: Conn = env.client_as("root", "", Some("customer")).await;
    let mut b: Conn = env.client_as("root", "", Some("customer")).await;
    let mut results = Vec::new();
    a.query_drop(SIX_USERS).await.expect("users");
    a.query_drop("BEGIN").await.expect("begin");
    a.query_drop("INSERT INTO user (id, name, phone) VALUES (40, 'x', 5550099)")
        .await
        .expect("A holds phone 5550099");
    if explicit {
        b.query_drop("BEGIN").await.expect("begin");
    }
    let r = b
        .query_drop("UPDATE user SET name = 'zed', phone = 5550099 WHERE id = 5")
        .await;
    results.push(format!("B's update: {r:?}"));
    if explicit {
        let r = b.query_drop("COMMIT").await;
        results.push(format!("B's commit: {r:?}"));
    }
    a.query_drop("ROLLBACK").await.expect("rollback");
    drop((a, b));
    let snap = snapshot(&env).await;
    let v = check_invariant(&snap, &LOOKUPS);
    env.stop().await;
    (v.violations, results)
}

#[tokio::test]
async fn replay_lock_timeout_in_an_autocommit_lookup_move() {
    let (violations, results) = lock_timeout_in_a_lookup_move(false).await;
    assert!(violations.is_empty(), "{violations:#?}\n{results:#?}");
}

#[tokio::test]
async fn replay_lock_timeout_in_a_transaction_lookup_move() {
    let (violations, results) = lock_timeout_in_a_lookup_move(true).await;
    assert!(violations.is_empty(), "{violations:#?}\n{results:#?}");
}

/// The proxy is SIGKILLed while a transaction has moved a lookup row (its POST delete ran)
/// but not committed: after the restart every owner row must still have its lookup rows.
#[tokio::test]
async fn replay_kill_after_a_lookup_move_before_commit() {
    let env = TestEnv::start(layout::spec()).await;
    layout::create_tables(&env).await;
    let mut proxy = env.proxy_process().await;
    let url = proxy.url(Some("customer"));
    let mut c = Conn::from_url(url.as_str()).await.expect("connect");
    c.query_drop(SIX_USERS).await.expect("users");
    let mut results = Vec::new();
    for sql in [
        "BEGIN",
        "UPDATE user SET name = 'zed', phone = 5550050 WHERE id = 5",
        "DELETE FROM user WHERE id = 6",
        "UPDATE user SET name = 'yan' WHERE name = 'carol'",
    ] {
        let r = c.query_drop(sql).await;
        results.push(format!("{sql} -> {r:?}"));
    }
    proxy.kill();
    drop(c);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let snap = snapshot(&env).await;
    let v = check_invariant(&snap, &LOOKUPS);
    env.stop().await;
    assert!(v.violations.is_empty(), "{:#?}\n{results:#?}", v.violations);
}

/// The same, in autocommit mode, with the kill landing while statements run.
#[tokio::test]
async fn replay_kill_during_autocommit_lookup_moves() {
    let env = TestEnv::start(layout::spec()).await;
    layout::create_tables(&env).await;
    let mut proxy = env.proxy_process().await;
    let url = proxy.url(Some("customer"));
    let mut c = Conn::from_url(url.as_str()).await.expect("connect");
    c.query_drop(SIX_USERS).await.expect("users");
    let mut tasks = Vec::new();
    for k in 0..8 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let Ok(mut c) = Conn::from_url(url.as_str()).await else {
                return;
            };
            for n in 0.. {
                let names = ["ann", "ben", "cy", "dot"];
                let (from, to) = (names[(n + k) % 4], names[(n + k + 1) % 4]);
                let sql = if n % 2 == 0 {
                    format!(
                        "UPDATE user SET name = '{to}' WHERE id = {}",
                        5 + (n + k) % 6
                    )
                } else {
                    format!("UPDATE user SET name = '{to}' WHERE name = '{from}'")
                };
                if c.query_drop(sql).await.is_err() {
                    return;
                }
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    proxy.kill();
    for t in tasks {
        let _ = t.await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let snap = snapshot(&env).await;
    let v = check_invariant(&snap, &LOOKUPS);
    env.stop().await;
    assert!(v.violations.is_empty(), "{:#?}", v.violations);
}

#[tokio::test]
async fn replay_tricky_name_in_the_default_sql_mode() {
    replay_clean(&[
        SIX_USERS,
        r"INSERT INTO user (id, name, phone) VALUES (50, 'q\\'' OR id > 0 -- ', NULL)",
        r"UPDATE user SET name = 'x\\'' OR id > 0 -- ' WHERE id = 50",
        "DELETE FROM user WHERE id = 50",
    ])
    .await;
}

/// A NO_BACKSLASH_ESCAPES client writes lookup rows first (its backend connections get the
/// mode); then a default-mode client writes and deletes a name with `\'` in it.
#[tokio::test]
async fn replay_tricky_name_after_a_no_backslash_escapes_client() {
    let env = TestEnv::start(layout::spec()).await;
    layout::create_tables(&env).await;
    let mut b: Conn = env.client_as("root", "", Some("customer")).await;
    b.query_drop(SIX_USERS).await.expect("users");
    b.query_drop("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
        .await
        .expect("nbe");
    for sql in [
        "INSERT INTO user (id, name, phone) VALUES (60, 'nb', 5550060)",
        "UPDATE user SET name = 'nc', phone = 5550061 WHERE id = 60",
        "DELETE FROM user WHERE id = 60",
        "BEGIN",
        "INSERT INTO user (id, name, phone) VALUES (61, 'nd', 5550062)",
        "COMMIT",
    ] {
        b.query_drop(sql).await.expect(sql);
    }
    drop(b);
    let mut a: Conn = env.client_as("root", "", Some("customer")).await;
    let mut results = Vec::new();
    for sql in [
        r"INSERT INTO user (id, name, phone) VALUES (50, 'q\\'' OR id > 0 -- ', NULL)",
        "DELETE FROM user WHERE id = 50",
    ] {
        let r = a.query_drop(sql).await;
        results.push(format!("{sql} -> {r:?}"));
    }
    drop(a);
    let snap = snapshot(&env).await;
    let v = check_invariant(&snap, &LOOKUPS);
    env.stop().await;
    assert!(v.violations.is_empty(), "{:#?}\n{results:#?}", v.violations);
}

/// Item 2 through a stored value: a default-mode client stores a name with `\'`; a
/// NO_BACKSLASH_ESCAPES client then renames that row, so the proxy deletes the old lookup row
/// by a value it quotes itself. No other owner may lose its lookup rows.
#[tokio::test]
async fn replay_stored_backslash_quote_renamed_under_no_backslash_escapes() {
    let env = TestEnv::start(layout::spec()).await;
    layout::create_tables(&env).await;
    let mut a: Conn = env.client_as("root", "", Some("customer")).await;
    a.query_drop(SIX_USERS).await.expect("users");
    a.query_drop(r"INSERT INTO user (id, name, phone) VALUES (50, 'q\\'' OR id > 0 -- ', NULL)")
        .await
        .expect("tricky name");
    drop(a);
    let mut b: Conn = env.client_as("root", "", Some("customer")).await;
    b.query_drop("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
        .await
        .expect("nbe");
    let r = b
        .query_drop("UPDATE user SET name = 'plain' WHERE id = 50")
        .await;
    drop(b);
    let snap = snapshot(&env).await;
    let v = check_invariant(&snap, &LOOKUPS);
    env.stop().await;
    assert!(
        v.violations.is_empty(),
        "{:#?}\nrename: {r:?}",
        v.violations
    );
}

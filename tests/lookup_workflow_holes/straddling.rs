//! Item 3: work that started before the VSchema swap holds the workflow back until it ends.
//!
//! - A transaction INSERTs an owner row before the create (no lookup row: the vindex does not
//!   exist yet) and commits after the swap: the streams wait (`Waiting`, naming the count),
//!   then copy, and the row has its lookup row as soon as the workflow is in sync.
//! - An UPDATE planned before the swap (it sleeps on the shard) changes an email after the
//!   swap without lookup maintenance: the streams wait for it too, so the verify sees it.

use crate::{lookup_rows, setup, wait_in_sync, workflows, CREATE};
use mysql_async::prelude::*;
use shardgate::vindex::hash::vhash;
use std::time::{Duration, Instant};

/// Waits until some stream shows `Waiting` for exactly one piece of older work (the create
/// statement itself may count for a moment); returns its message.
async fn waiting(c: &mut mysql_async::Conn) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let w = workflows(c).await;
        if let Some(s) = w
            .iter()
            .find(|s| s.state == "Waiting" && s.message.contains("waiting for 1 "))
        {
            return s.message.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the workflow did not wait for work older than the swap: {w:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn rows(c: &mut mysql_async::Conn) {
    let values: Vec<String> = (1..=30).map(|i| format!("({i}, 'u', 'u{i}@x')")).collect();
    c.query_drop(format!(
        "INSERT INTO user (id, name, email) VALUES {}",
        values.join(", ")
    ))
    .await
    .expect("rows");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_open_across_the_swap_is_waited_for() {
    let (env, mut c) = setup().await;
    rows(&mut c).await;
    let mut t = env.client().await;
    t.query_drop("USE customer").await.expect("use");
    t.query_drop("BEGIN").await.expect("begin");
    t.query_drop("INSERT INTO user (id, name, email) VALUES (1000, 'late', 'late@x')")
        .await
        .expect("insert in the open transaction");
    c.query_drop(CREATE).await.expect("create");
    let message = waiting(&mut c).await;
    assert!(message.contains("waiting for 1 "), "{message}");
    // Still waiting a while later: nothing is copied while the transaction is open.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let w = workflows(&mut c).await;
    assert!(w.iter().any(|s| s.state == "Waiting"), "{w:?}");
    t.query_drop("COMMIT").await.expect("commit after the swap");
    wait_in_sync(&mut c).await;
    // In sync means complete: the late row's lookup row is there (shards read directly).
    let lookup = lookup_rows(&env).await;
    assert!(
        lookup
            .iter()
            .any(|(e, k)| e == "late@x" && *k == vhash(1000).to_vec()),
        "late@x has no lookup row: {lookup:?}"
    );
    assert_eq!(lookup.len(), 31, "{lookup:?}");
    c.query_drop("ExternalizeVindex customer.email_vdx")
        .await
        .expect("externalize");
    let got: Vec<u64> = c
        .query("SELECT id FROM user WHERE email = 'late@x'")
        .await
        .expect("by email");
    assert_eq!(got, vec![1000]);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_statement_planned_before_the_swap_is_waited_for() {
    let (env, mut c) = setup().await;
    rows(&mut c).await;
    let mut u = env.client().await;
    u.query_drop("USE customer").await.expect("use");
    // Planned now, on the VSchema without the vindex; it sleeps 4 s on the shard, then
    // changes the email (without lookup maintenance: the plan knows no vindex).
    let update = tokio::spawn(async move {
        u.query_drop("UPDATE user SET email = IF(SLEEP(4) = 0, 'moved@x', 'never@x') WHERE id = 5")
            .await
            .expect("update");
        u
    });
    tokio::time::sleep(Duration::from_millis(1000)).await;
    c.query_drop(CREATE).await.expect("create");
    let message = waiting(&mut c).await;
    assert!(message.contains("waiting for 1 "), "{message}");
    let _u = update.await.expect("update task");
    wait_in_sync(&mut c).await;
    let lookup = lookup_rows(&env).await;
    assert!(
        lookup
            .iter()
            .any(|(e, k)| e == "moved@x" && *k == vhash(5).to_vec()),
        "moved@x has no lookup row: {lookup:?}"
    );
    env.stop().await;
}

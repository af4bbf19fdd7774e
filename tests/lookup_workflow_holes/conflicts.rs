//! Item 4: owner rows that already break the new unique vindex (two users with `dup@x`, and
//! two whose emails differ only in case under the column's case-insensitive collation) are
//! counted and named by the workflow and by VERIFY VINDEX, and ExternalizeVindex refuses,
//! naming them, until the data is fixed; then it adds the lookup row the fix left missing.

use crate::{lookup_rows, setup, wait_in_sync, workflows, CREATE};
use mysql_async::prelude::*;
use mysql_async::Row;
use shardgate::vindex::hash::vhash;

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_unique_values_are_conflicts_and_block_externalize() {
    let (env, mut c) = setup().await;
    let mut values: Vec<String> = (10..=40).map(|i| format!("({i}, 'u', 'u{i}@x')")).collect();
    values.extend(
        [
            "(1, 'a', 'dup@x')",
            "(2, 'b', 'dup@x')",
            "(3, 'c', 'Case@x')",
            "(4, 'd', 'case@X')",
        ]
        .map(String::from),
    );
    c.query_drop(format!(
        "INSERT INTO user (id, name, email) VALUES {}",
        values.join(", ")
    ))
    .await
    .expect("rows");
    c.query_drop(CREATE).await.expect("create");
    let w = wait_in_sync(&mut c).await;
    let total: u64 = w.iter().map(|s| s.conflicts).sum();
    assert_eq!(total, 2, "two conflicting values: {w:?}");
    let messages: String = w.iter().map(|s| s.message.clone()).collect();
    assert!(messages.contains("dup@x"), "{w:?}");
    assert!(
        messages.to_lowercase().contains("case@x"),
        "the case-insensitive duplicate: {w:?}"
    );

    // VERIFY VINDEX (read-only) reports them too.
    let report: Row = c
        .query_first("VERIFY VINDEX customer.email_vdx")
        .await
        .expect("verify")
        .expect("a row");
    assert_eq!(
        report.get::<String, _>("conflicts").as_deref(),
        Some("2"),
        "{report:?}"
    );
    let named = report
        .get::<String, _>("conflict_values")
        .unwrap_or_default();
    assert!(named.contains("dup@x"), "{report:?}");

    // Externalize refuses, naming the values.
    match c.query_drop("ExternalizeVindex customer.email_vdx").await {
        Err(mysql_async::Error::Server(e)) => {
            assert!(e.message.contains("dup@x"), "{}", e.message);
            assert!(e.message.contains("conflicts"), "{}", e.message);
        }
        other => panic!("externalize with conflicts: {other:?}"),
    }
    assert_eq!(
        workflows(&mut c).await.len(),
        2,
        "the workflow is still there"
    );

    // Fix the data: delete the user whose lookup row holds dup@x (so the other user's row is
    // missing and Externalize's verify must add it), and the second case-variant.
    let holder = lookup_rows(&env)
        .await
        .into_iter()
        .find(|(e, _)| e == "dup@x")
        .map(|(_, k)| k)
        .expect("dup@x has a lookup row");
    let (gone, kept) = if holder == vhash(1).to_vec() {
        (1, 2)
    } else {
        assert_eq!(holder, vhash(2).to_vec());
        (2, 1)
    };
    c.query_drop(format!("DELETE FROM user WHERE id = {gone}"))
        .await
        .expect("delete holder");
    c.query_drop("UPDATE user SET email = 'other@x' WHERE id = 4")
        .await
        .expect("update");
    c.query_drop("ExternalizeVindex customer.email_vdx")
        .await
        .expect("externalize after the fix");
    let got: Vec<u64> = c
        .query("SELECT id FROM user WHERE email = 'dup@x'")
        .await
        .expect("by email");
    assert_eq!(got, vec![kept]);
    let lookup = lookup_rows(&env).await;
    assert!(
        lookup
            .iter()
            .any(|(e, k)| e == "dup@x" && *k == vhash(kept).to_vec()),
        "{lookup:?}"
    );
    let report: Row = c
        .query_first("VERIFY VINDEX customer.email_vdx")
        .await
        .expect("verify")
        .expect("a row");
    assert_eq!(report.get::<String, _>("missing").as_deref(), Some("0"));
    assert_eq!(report.get::<String, _>("conflicts").as_deref(), Some("0"));
    env.stop().await;
}

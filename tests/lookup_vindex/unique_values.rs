//! Unique lookup values: a taken one is refused with 1062 (INSERT, UPDATE, the same value
//! twice in one statement, inside a transaction), INSERT IGNORE drops just the rows that
//! would take one, and a refused statement leaves no lookup rows behind.

use crate::common::errors::expect_error;
use crate::shard_rows::{name_row, name_rows, phone_row, phone_rows, user_ids};
use crate::{setup, sorted};
use mysql_async::prelude::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_taken_unique_value_is_refused_or_ignored() {
    let (env, mut c) = setup().await;
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (20, 'ann', 5553000)")
        .await
        .expect("insert");
    expect_error(
        c.query_drop("INSERT INTO user (id, name, phone) VALUES (21, 'ben', 5553000)")
            .await,
        1062,
        "a taken phone",
    );
    expect_error(
        c.query_drop(
            "INSERT INTO user (id, name, phone) VALUES (27, 'cid', 5553027), (28, 'dee', 5553027)",
        )
        .await,
        1062,
        "the same phone twice in one statement",
    );
    // INSERT IGNORE drops the row whose phone is taken, keeps the others.
    c.query_drop("INSERT IGNORE INTO user (id, name, phone) VALUES (22, 'cal', 5553000)")
        .await
        .expect("insert ignore");
    assert_eq!(c.affected_rows(), 0, "the row was dropped");
    c.query_drop(
        "INSERT IGNORE INTO user (id, name, phone) VALUES (23, 'dan', 5553000), (24, 'eve', 5553024)",
    )
    .await
    .expect("insert ignore");
    assert_eq!(c.affected_rows(), 1, "one of two rows was dropped");
    // An UPDATE to a taken phone is refused and changes nothing.
    expect_error(
        c.query_drop("UPDATE user SET phone = 5553000 WHERE id = 24")
            .await,
        1062,
        "update to a taken phone",
    );
    assert_eq!(user_ids(&env).await, vec![20, 24]);
    assert_eq!(
        phone_rows(&env).await,
        sorted(&[phone_row(5553000, 20), phone_row(5553024, 24)])
    );
    // The refused statements committed nothing, so they left no lookup rows. The INSERT IGNOREs
    // succeeded: the name rows of their dropped rows may stay behind as orphans (the name lookup
    // was created before the phone lookup dropped the row), nothing else.
    let names = name_rows(&env).await;
    for row in [name_row("ann", 20), name_row("eve", 24)] {
        assert!(names.contains(&row), "{row:?} in {names:?}");
    }
    let allowed_orphans = [name_row("cal", 22), name_row("dan", 23)];
    for row in &names {
        assert!(
            [20, 24].contains(&row.2) || allowed_orphans.contains(row),
            "no lookup row of a refused statement: {row:?}"
        );
    }

    // Inside an explicit transaction a refused statement does not take its row with it; the
    // transaction either continues (statement rolled back) or is failed as a whole.
    c.query_drop("BEGIN").await.expect("begin");
    expect_error(
        c.query_drop("INSERT INTO user (id, name, phone) VALUES (25, 'fay', 5553000)")
            .await,
        1062,
        "a taken phone in a transaction",
    );
    let continued = c
        .query_drop("INSERT INTO user (id, name, phone) VALUES (26, 'gus', 5553026)")
        .await;
    match continued {
        Ok(()) => {
            c.query_drop("COMMIT").await.expect("commit");
            assert_eq!(user_ids(&env).await, vec![20, 24, 26]);
            assert!(phone_rows(&env).await.contains(&phone_row(5553026, 26)));
        }
        Err(e) => {
            assert!(
                e.to_string().contains("rolled back"),
                "a failed transaction says so: {e}"
            );
            let _ = c.query_drop("ROLLBACK").await;
            assert_eq!(user_ids(&env).await, vec![20, 24]);
        }
    }
    assert!(phone_rows(&env).await.contains(&phone_row(5553000, 20)));
    env.stop().await;
}

//! Owner DML keeps the lookup rows in step: INSERT creates them, UPDATE moves them (and an
//! UPDATE to the same value writes none), DELETE removes them; a rolled-back transaction
//! leaves none behind and a committed one writes owner and lookup rows together.

use crate::shard_rows::{name_row, name_rows, phone_row, phone_rows, user_ids};
use crate::vexplain::Explained;
use crate::{setup, sorted};
use mysql_async::prelude::*;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn owner_dml_maintains_the_lookup_rows() {
    let (env, mut c) = setup().await;
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (10, 'alice', 5552010)")
        .await
        .expect("insert");
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (11, 'bob', NULL)")
        .await
        .expect("insert with a NULL phone (ignore_nulls)");
    c.query_drop(
        "INSERT INTO user (id, name, phone) VALUES (12, 'carol', 5552012), (13, 'dave', 5552013)",
    )
    .await
    .expect("multi-row insert");
    assert_eq!(
        phone_rows(&env).await,
        sorted(&[
            phone_row(5552010, 10),
            phone_row(5552012, 12),
            phone_row(5552013, 13)
        ]),
        "INSERT creates one phone row per non-NULL phone, on the phone's shard"
    );
    assert_eq!(
        name_rows(&env).await,
        sorted(&[
            name_row("alice", 10),
            name_row("bob", 11),
            name_row("carol", 12),
            name_row("dave", 13)
        ])
    );

    // UPDATE of a lookup column moves the lookup row.
    c.query_drop("UPDATE user SET phone = 5552099 WHERE id = 10")
        .await
        .expect("update phone");
    c.query_drop("UPDATE user SET name = 'zoe' WHERE id = 12")
        .await
        .expect("update name");
    c.query_drop("UPDATE user SET phone = NULL WHERE id = 13")
        .await
        .expect("phone to NULL");
    c.query_drop("UPDATE user SET phone = 5552011 WHERE id = 11")
        .await
        .expect("phone from NULL");
    let phones = sorted(&[
        phone_row(5552099, 10),
        phone_row(5552011, 11),
        phone_row(5552012, 12),
    ]);
    let names = sorted(&[
        name_row("alice", 10),
        name_row("bob", 11),
        name_row("zoe", 12),
        name_row("dave", 13),
    ]);
    assert_eq!(phone_rows(&env).await, phones);
    assert_eq!(name_rows(&env).await, names);

    // An UPDATE to the value it already has is a no-op for the lookup: no lookup write (a
    // delete in post and an insert in pre of one key would wait on each other).
    let q: Explained = tokio::time::timeout(
        Duration::from_secs(4),
        c.query(
            "VEXPLAIN /*vt+ EXECUTE_DML_QUERIES */ QUERIES \
             UPDATE user SET phone = 5552099, name = 'alice' WHERE id = 10",
        ),
    )
    .await
    .expect("a same-value update does not wait on its own locks")
    .expect("same-value update");
    let lookup_writes: Vec<_> = q
        .iter()
        .filter(|r| r.1 == "lookup")
        .filter(|r| {
            let sql = r.3.to_ascii_lowercase();
            sql.contains("insert") || sql.contains("delete") || sql.contains("update")
        })
        .collect();
    assert!(lookup_writes.is_empty(), "no lookup writes: {q:?}");
    tokio::time::timeout(
        Duration::from_secs(4),
        c.query_drop("UPDATE user SET phone = 5552011 WHERE id = 11"),
    )
    .await
    .expect("a same-value update does not wait on its own locks")
    .expect("same-value update");
    assert_eq!(phone_rows(&env).await, phones);
    assert_eq!(name_rows(&env).await, names);

    // DELETE removes the lookup rows of the doomed rows (by id, and routed by a lookup).
    c.query_drop("DELETE FROM user WHERE id = 10")
        .await
        .expect("delete by id");
    c.query_drop("DELETE FROM user WHERE phone = 5552011")
        .await
        .expect("delete by phone");
    c.query_drop("DELETE FROM user WHERE name = 'dave'")
        .await
        .expect("delete by name");
    assert_eq!(user_ids(&env).await, vec![12]);
    assert_eq!(phone_rows(&env).await, vec![phone_row(5552012, 12)]);
    assert_eq!(name_rows(&env).await, vec![name_row("zoe", 12)]);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rolled_back_transaction_leaves_nothing() {
    let (env, mut c) = setup().await;
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (30, 'ada', 5554030)")
        .await
        .expect("insert");
    let seen: Vec<i64> = c
        .query("SELECT id FROM user WHERE id = 30")
        .await
        .expect("own write");
    assert_eq!(seen, vec![30], "the transaction sees its own row");
    c.query_drop("ROLLBACK").await.expect("rollback");
    assert!(user_ids(&env).await.is_empty(), "no owner row");
    assert!(
        phone_rows(&env).await.is_empty(),
        "nothing committed: no lookup row"
    );
    assert!(name_rows(&env).await.is_empty());

    // The phone is free: it can be inserted again, by another row.
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (31, 'ada', 5554030)")
        .await
        .expect("the phone is free");
    // A committed transaction writes owner and lookup rows together.
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (32, 'bea', 5554032)")
        .await
        .expect("insert");
    c.query_drop("UPDATE user SET name = 'ava' WHERE id = 31")
        .await
        .expect("update");
    c.query_drop("COMMIT").await.expect("commit");
    // A rolled-back delete keeps the row and its lookup rows.
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("DELETE FROM user WHERE id = 31")
        .await
        .expect("delete");
    c.query_drop("ROLLBACK").await.expect("rollback");
    assert_eq!(user_ids(&env).await, vec![31, 32]);
    assert_eq!(
        phone_rows(&env).await,
        sorted(&[phone_row(5554030, 31), phone_row(5554032, 32)])
    );
    assert_eq!(
        name_rows(&env).await,
        sorted(&[name_row("ava", 31), name_row("bea", 32)])
    );
    env.stop().await;
}

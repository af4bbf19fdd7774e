//! A `write_only` lookup vindex (as CreateLookupVindex adds one during its backfill): owner
//! DML maintains its lookup rows, but reads never route through it.

use crate::common::placement::{hash_ksid, text_ksid};
use crate::placement::shard_of;
use crate::shard_rows::email_rows;
use crate::vexplain::{queries, shards, vexplain};
use crate::{setup, sorted, SHARDS};
use mysql_async::prelude::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_write_only_vindex_is_maintained_but_never_routes_reads() {
    let (env, mut c) = setup().await;
    c.query_drop(
        "INSERT INTO user (id, name, email) VALUES (40, 'ida', 'ida@example.com'), \
         (41, 'jon', 'jon@example.com'), (42, 'kim', NULL)",
    )
    .await
    .expect("insert");
    let row = |email: &str, id: i64| {
        (
            shard_of(&text_ksid(email)),
            email.to_string(),
            hash_ksid(id),
        )
    };
    assert_eq!(
        email_rows(&env).await,
        sorted(&[row("ida@example.com", 40), row("jon@example.com", 41)]),
        "a write_only vindex is maintained on insert"
    );
    let q = vexplain(
        &mut c,
        "SELECT id FROM user WHERE email = 'ida@example.com'",
    )
    .await;
    assert_eq!(queries(&q, "lookup"), 0, "not read: {q:?}");
    assert_eq!(
        shards(&q, "customer"),
        SHARDS.map(String::from).to_vec(),
        "scatter: {q:?}"
    );
    let ids: Vec<i64> = c
        .query("SELECT id FROM user WHERE email = 'ida@example.com'")
        .await
        .expect("select");
    assert_eq!(ids, vec![40]);
    c.query_drop("UPDATE user SET email = 'joe@example.com' WHERE id = 41")
        .await
        .expect("update");
    c.query_drop("DELETE FROM user WHERE id = 40")
        .await
        .expect("delete");
    assert_eq!(
        email_rows(&env).await,
        vec![row("joe@example.com", 41)],
        "and on update and delete"
    );
    env.stop().await;
}

//! Item 7: an UPDATE assigning one lookup vindex column twice (`SET phone = 16, phone = 17`)
//! used to give the lookup the first value while MariaDB stored the last. It is refused
//! (1235, naming the column) and changes nothing; assigning two different columns still works.

use crate::common::errors::expect_error;
use crate::common::placement::hash_ksid;
use crate::common::TestEnv;
use crate::invariant::check_invariant;
use crate::layout::LAYOUT;
use crate::shard_reads::{phone_row, snapshot};
use mysql_async::prelude::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_vindex_column_assigned_twice_is_refused() {
    let env = TestEnv::start(LAYOUT.spec()).await;
    LAYOUT.create_tables(&env).await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use customer");
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (1, 'ann', 15)")
        .await
        .expect("insert");
    for sql in [
        "UPDATE user SET phone = 16, phone = 17 WHERE id = 1",
        "UPDATE user SET phone = 16, name = 'bo', user.phone = 17 WHERE id = 1",
        "UPDATE user SET name = 'bo', `NAME` = 'cy' WHERE id = 1",
    ] {
        let err = c.query_drop(sql).await;
        if let Err(mysql_async::Error::Server(e)) = &err {
            assert!(
                e.message.contains("more than once"),
                "{sql}: the error names the problem: {}",
                e.message
            );
        }
        expect_error(err, 1235, sql);
    }
    // Prepared: refused at PREPARE or at EXECUTE.
    match c
        .prep("UPDATE user SET phone = ?, phone = ? WHERE id = ?")
        .await
    {
        Ok(stmt) => expect_error(
            c.exec_drop(&stmt, (16, 17, 1)).await,
            1235,
            "prepared double assignment",
        ),
        Err(e) => expect_error::<()>(Err(e), 1235, "preparing a double assignment"),
    }
    // Two different columns, each once, are fine.
    c.query_drop("UPDATE user SET phone = 17, name = 'bo' WHERE id = 1")
        .await
        .expect("update");
    assert_eq!(phone_row(&env, 15).await, None);
    assert_eq!(phone_row(&env, 16).await, None);
    assert_eq!(phone_row(&env, 17).await, Some(Some(hash_ksid(1))));
    let verdict = check_invariant(&snapshot(&env).await);
    assert!(verdict.violations.is_empty(), "{:?}", verdict.violations);
}

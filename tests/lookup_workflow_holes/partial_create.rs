//! Item 5: a create that fails between its per-shard steps (failpoints armed for this test's
//! state shard database) leaves the VSchema, the stream rows and the lookup table as they
//! were; and ExternalizeVindex refuses while a source shard has no finished stream.

use crate::common::errors::expect_error;
use crate::{lookup_rows, setup, wait_in_sync, workflows, CREATE};
use mysql_async::prelude::*;

/// Nothing of a failed create is left: VSchema files and memory, stream rows, lookup table.
async fn nothing_left(env: &crate::common::TestEnv, c: &mut mysql_async::Conn, what: &str) {
    for ks in ["customer", "lookup"] {
        let file = std::fs::read_to_string(env.vschema_dir().join(format!("{ks}.json")))
            .unwrap_or_default();
        assert!(!file.contains("email_vdx"), "{what}: {ks}.json: {file}");
    }
    let vindexes: Vec<mysql_async::Row> = c
        .query("SHOW VSCHEMA VINDEXES")
        .await
        .expect("show vindexes");
    assert!(
        !format!("{vindexes:?}").contains("email_vdx"),
        "{what}: still in memory: {vindexes:?}"
    );
    assert!(workflows(c).await.is_empty(), "{what}: stream rows left");
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("lookup", shard).await;
        let t: Vec<String> = d.query("SHOW TABLES").await.expect("tables");
        assert!(!t.contains(&"email_vdx".to_string()), "{what}: {t:?}");
        let db = env.shard_database("lookup", shard);
        let n: Option<u64> = d
            .exec_first(
                "SELECT COUNT(*) FROM `_shardgate`.`vindex_workflows` WHERE target_db = ?",
                (db,),
            )
            .await
            .unwrap_or(Some(0));
        assert_eq!(n, Some(0), "{what}: stream rows stored on {shard}");
    }
    // Owner DML does not write lookup rows for a vindex that does not exist.
    c.query_drop("INSERT INTO user (id, name, email) VALUES (100, 'x', 'x100@x')")
        .await
        .expect("insert");
    c.query_drop("DELETE FROM user WHERE id = 100")
        .await
        .expect("delete");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_create_leaves_nothing_and_externalize_needs_every_shard() {
    let (env, mut c) = setup().await;
    let values: Vec<String> = (1..=40).map(|i| format!("({i}, 'u', 'u{i}@x')")).collect();
    c.query_drop(format!(
        "INSERT INTO user (id, name, email) VALUES {}",
        values.join(", ")
    ))
    .await
    .expect("rows");
    // The state rows live on the lookup keyspace's first shard: the failpoints' scope.
    let scope = env.shard_database("lookup", "-80");
    for point in ["save_streams", "after_streams_saved", "save_vschema"] {
        let var = format!("SHARDGATE_FAILPOINT_{point}");
        std::env::set_var(&var, &scope);
        let r = c.query_drop(CREATE).await;
        std::env::remove_var(&var);
        expect_error(r, 1105, point);
        nothing_left(&env, &mut c, point).await;
    }

    // A clean create; then one source shard's stream row goes missing (as a create that
    // stopped between per-shard saves used to leave it): Externalize must refuse.
    c.query_drop(CREATE).await.expect("create");
    wait_in_sync(&mut c).await;
    assert_eq!(lookup_rows(&env).await.len(), 40);
    let mut store = env.shard_conn("lookup", "-80").await;
    store
        .exec_drop(
            "DELETE FROM `_shardgate`.`vindex_workflows` WHERE target_db = ? AND source_shard = '80-'",
            (scope.as_str(),),
        )
        .await
        .expect("drop one stream row");
    let r = c.query_drop("ExternalizeVindex customer.email_vdx").await;
    match &r {
        Err(mysql_async::Error::Server(e)) => {
            assert!(e.message.contains("80-"), "names the shard: {}", e.message)
        }
        other => panic!("externalize with a shard never backfilled: {other:?}"),
    }
    // Still write_only: reads by email scatter.
    let q: Vec<(u64, String, String, String)> = c
        .query("VEXPLAIN QUERIES SELECT id FROM user WHERE email = 'u7@x'")
        .await
        .expect("vexplain");
    assert_eq!(q.len(), 2, "{q:?}");
    // The same create again backfills the shard that has no stream; then Externalize works.
    c.query_drop(CREATE).await.expect("create again");
    wait_in_sync(&mut c).await;
    c.query_drop("ExternalizeVindex customer.email_vdx")
        .await
        .expect("externalize once every shard is backfilled");
    for i in [1u64, 7, 40] {
        let got: Vec<u64> = c
            .query(format!("SELECT id FROM user WHERE email = 'u{i}@x'"))
            .await
            .expect("by email");
        assert_eq!(got, vec![i]);
    }
    env.stop().await;
}

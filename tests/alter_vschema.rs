//! ALTER VSCHEMA and RELOAD VSCHEMA / SIGHUP (issue 20, point 2): admin users only, validated
//! before anything changes, persisted atomically (the VSchema file), served without a
//! restart; a bad hand-edited file keeps the last good VSchema.

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use serde_json::json;
use std::time::{Duration, Instant};

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"user": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    EnvSpec::default().with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
}

fn file(env: &TestEnv) -> serde_json::Value {
    let text = std::fs::read_to_string(env.vschema_dir().join("customer.json")).expect("file");
    serde_json::from_str(&text).expect("JSON")
}

async fn shards_of(c: &mut Conn, sql: &str) -> usize {
    let q: Vec<(u64, String, String, String)> = c
        .query(format!("VEXPLAIN QUERIES {sql}"))
        .await
        .expect("vexplain");
    q.len()
}

async fn code(c: &mut Conn, sql: &str) -> u16 {
    match c.query_drop(sql).await {
        Err(mysql_async::Error::Server(e)) => e.code,
        other => panic!("{sql}: expected an error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alter_vschema_edits_validates_persists_and_serves_at_once() {
    let env = TestEnv::start(spec()).await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use");
    c.query_drop("CREATE TABLE orders (id BIGINT PRIMARY KEY, uid BIGINT, sku VARCHAR(32))")
        .await
        .expect("orders");
    // Not in the VSchema yet: refused.
    assert_eq!(
        code(
            &mut c,
            "INSERT INTO orders (id, uid, sku) VALUES (1, 7, 'a')"
        )
        .await,
        1146
    );

    // Only admins.
    let mut app = env.client_as("app", "secret", Some("customer")).await;
    assert_eq!(
        code(&mut app, "ALTER VSCHEMA ON orders ADD VINDEX hash (uid)").await,
        1142
    );
    assert_eq!(code(&mut app, "RELOAD VSCHEMA").await, 1142);

    // A table's first vindex must be unique: refused by validation, nothing changes.
    let before = file(&env);
    let e = code(
        &mut c,
        "ALTER VSCHEMA ON orders ADD VINDEX sku_lk (sku) USING consistent_lookup WITH table = 'commerce.sku_lk', from = 'sku', to = 'keyspace_id'",
    )
    .await;
    assert_eq!(e, 1105);
    assert_eq!(file(&env), before);
    // Syntax errors are 1064; unknown names 1105 with the reason.
    assert_eq!(
        code(&mut c, "ALTER VSCHEMA ON orders ADD VINDEX (uid)").await,
        1064
    );
    assert_eq!(
        code(&mut c, "ALTER VSCHEMA ON orders ADD VINDEX nosuch (uid)").await,
        1105
    );

    c.query_drop("ALTER VSCHEMA ON orders ADD VINDEX hash (uid)")
        .await
        .expect("add");
    c.query_drop("INSERT INTO orders (id, uid, sku) VALUES (1, 7, 'a'), (2, 8, 'b')")
        .await
        .expect("now routed");
    assert_eq!(
        shards_of(&mut c, "SELECT * FROM orders WHERE uid = 7").await,
        1
    );
    let f = file(&env);
    assert_eq!(
        f["tables"]["orders"]["column_vindexes"][0],
        json!({"column": "uid", "name": "hash"})
    );

    // Create a vindex, use it, then drop in the right order.
    c.query_drop("ALTER VSCHEMA CREATE VINDEX customer.xx USING xxhash")
        .await
        .expect("create");
    c.query_drop("ALTER VSCHEMA ON orders ADD VINDEX xx (id)")
        .await
        .expect("second vindex");
    assert_eq!(code(&mut c, "ALTER VSCHEMA DROP VINDEX xx").await, 1105);
    c.query_drop("ALTER VSCHEMA ON orders DROP VINDEX xx")
        .await
        .expect("drop col vindex");
    c.query_drop("ALTER VSCHEMA DROP VINDEX xx")
        .await
        .expect("drop vindex");
    assert!(file(&env)["vindexes"].get("xx").is_none());

    // Sequences in the unsharded keyspace, auto_increment on the sharded table.
    c.query_drop("CREATE TABLE commerce.orders_seq (id INT, next_id BIGINT, cache BIGINT, PRIMARY KEY (id)) COMMENT 'vitess_sequence'")
        .await
        .expect("seq table");
    c.query_drop("INSERT INTO commerce.orders_seq (id, next_id, cache) VALUES (0, 1000, 10)")
        .await
        .expect("seq row");
    c.query_drop("ALTER VSCHEMA ADD SEQUENCE commerce.orders_seq")
        .await
        .expect("sequence");
    c.query_drop("ALTER VSCHEMA ON orders ADD AUTO_INCREMENT id USING commerce.orders_seq")
        .await
        .expect("auto_increment");
    c.query_drop("INSERT INTO orders (uid, sku) VALUES (9, 'c')")
        .await
        .expect("id from the sequence");
    let ids: Vec<u64> = c
        .query("SELECT id FROM orders WHERE uid = 9")
        .await
        .expect("id");
    assert_eq!(ids, [1000]);

    // DROP TABLE takes it out of the VSchema.
    c.query_drop("ALTER VSCHEMA DROP TABLE orders")
        .await
        .expect("drop table");
    assert_eq!(
        code(&mut c, "SELECT * FROM orders WHERE uid = 7").await,
        1146
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_and_sighup_pick_up_edited_files_and_keep_the_last_good_one() {
    let env = TestEnv::start(spec()).await;
    let mut proxy = env.proxy_process().await;
    let mut c = Conn::from_url(proxy.url(Some("customer")).as_str())
        .await
        .expect("connect");
    c.query_drop("CREATE TABLE extra (id BIGINT PRIMARY KEY)")
        .await
        .expect("table");
    assert_eq!(
        code(&mut c, "INSERT INTO extra (id) VALUES (1)").await,
        1146
    );
    let path = env.vschema_dir().join("customer.json");
    let good = std::fs::read_to_string(&path).expect("file");
    let mut edited = file(&env);
    edited["tables"]["extra"] = json!({"column_vindexes": [{"column": "id", "name": "hash"}]});
    std::fs::write(&path, serde_json::to_string_pretty(&edited).expect("json")).expect("write");
    c.query_drop("RELOAD VSCHEMA").await.expect("reload");
    c.query_drop("INSERT INTO extra (id) VALUES (1)")
        .await
        .expect("routed after reload");

    // A bad file: RELOAD says why, the last good VSchema stays.
    std::fs::write(&path, "{\"sharded\": false}").expect("bad file");
    match c.query_drop("RELOAD VSCHEMA").await {
        Err(mysql_async::Error::Server(e)) => {
            assert_eq!(e.code, 1105);
            assert!(e.message.contains("customer.json"), "{e:?}");
            assert!(e.message.contains("last good VSchema stays"), "{e:?}");
        }
        other => panic!("{other:?}"),
    }
    c.query_drop("INSERT INTO extra (id) VALUES (2)")
        .await
        .expect("still routed");

    // SIGHUP: the good file without `extra` again.
    std::fs::write(&path, &good).expect("restore");
    let pid = proxy.pid().expect("running") as i32;
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(pid, libc::SIGHUP) };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match c.query_drop("INSERT INTO extra (id) VALUES (3)").await {
            Err(mysql_async::Error::Server(e)) if e.code == 1146 => break,
            _ => {}
        }
        assert!(Instant::now() < deadline, "SIGHUP did not reload");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(proxy.log().contains("SIGHUP: reloading the VSchema"));
    drop(c);
    proxy.kill();
    env.stop().await;
}

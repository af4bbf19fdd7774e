//! Statements by kind and route, shards touched, latency per keyspace, errors by code,
//! plan-cache hits: deltas around each statement on the lookup layout.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_count_by_route_shards_latency_and_error() {
    let (env, addr, mut c) = lookups_env().await;

    // Every shard has its pool gauges and, once the health checks answered, shard_up 1.
    healthz_becomes(addr, 200, Duration::from_secs(10)).await;
    let m = scrape(addr).await;
    for p in &env.shards {
        let at = [
            ("keyspace", p.keyspace.as_str()),
            ("shard", p.shard.as_str()),
        ];
        for state in ["open", "idle", "in_use", "reserved"] {
            let mut labels = at.to_vec();
            labels.push(("state", state));
            assert!(
                m.has("shardgate_pool_connections", &labels),
                "no {state} gauge for {}/{}",
                p.keyspace,
                p.shard
            );
        }
        assert!(m.has("shardgate_pool_waits_total", &at), "{at:?}");
        assert_eq!(m.get("shardgate_shard_up", &at), 1.0, "{at:?}");
    }

    // An owner-table insert writes one row into each lookup vindex.
    let (b, a) = around(
        addr,
        &mut c,
        "INSERT INTO user (id, name, phone) VALUES (1, 'alice', 100)",
    )
    .await;
    for vindex in ["name_user_vdx", "phone_user_vdx"] {
        assert_eq!(
            delta(&b, &a, WRITES, &[("vindex", vindex), ("op", "insert")]),
            1.0,
            "{vindex}"
        );
    }
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "INSERT"), ("route", "single_shard")]
        ),
        1.0
    );
    for (id, name, phone) in [(2, "bob", 200), (3, "carol", 300), (4, "dave", 400)] {
        c.query_drop(format!(
            "INSERT INTO user (id, name, phone) VALUES ({id}, '{name}', {phone})"
        ))
        .await
        .expect("insert");
    }

    // Primary-vindex equality: one shard.
    let (b, a) = around(addr, &mut c, "SELECT name FROM user WHERE id = 1").await;
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "single_shard")]
        ),
        1.0
    );
    assert_eq!(delta(&b, &a, SHARDS, &[("le", "0")]), 0.0);
    assert_eq!(delta(&b, &a, SHARDS, &[("le", "1")]), 1.0);
    assert_eq!(
        delta(
            &b,
            &a,
            "shardgate_statement_duration_seconds_count",
            &[("keyspace", "customer")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            &b,
            &a,
            "shardgate_statement_duration_seconds_bucket",
            &[("keyspace", "customer"), ("le", "+Inf")]
        ),
        1.0
    );

    // The same shape with other literals: plan-cache hits, no miss.
    let before = scrape(addr).await;
    for id in [2, 3, 4] {
        let got: Option<String> = c
            .query_first(format!("SELECT name FROM user WHERE id = {id}"))
            .await
            .expect("by id");
        assert!(got.is_some());
    }
    let after = scrape(addr).await;
    let cache = "shardgate_plan_cache_lookups_total";
    assert!(
        delta(&before, &after, cache, &[("result", "hit")]) >= 3.0,
        "hits: {} -> {}",
        before.get(cache, &[("result", "hit")]),
        after.get(cache, &[("result", "hit")])
    );
    assert_eq!(delta(&before, &after, cache, &[("result", "miss")]), 0.0);

    // The binary protocol: a prepared statement's executions count as the text ones do,
    // and plan once.
    let before = scrape(addr).await;
    let stmt = c
        .prep("SELECT name FROM user WHERE id = ?")
        .await
        .expect("prepare");
    for id in [2u64, 3, 4] {
        let got: Option<String> = c.exec_first(&stmt, (id,)).await.expect("execute");
        assert!(got.is_some());
    }
    let after = scrape(addr).await;
    assert_eq!(
        delta(
            &before,
            &after,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "single_shard")]
        ),
        3.0
    );
    assert_eq!(delta(&before, &after, SHARDS, &[("le", "0")]), 0.0);
    assert_eq!(delta(&before, &after, SHARDS, &[("le", "1")]), 3.0);
    assert!(delta(&before, &after, cache, &[("result", "hit")]) >= 2.0);
    // A failed COM_STMT_PREPARE is an error sent to the client too.
    let before = scrape(addr).await;
    match c.prep("SELECT no_such_column FROM user WHERE id = ?").await {
        Err(mysql_async::Error::Server(e)) if e.code == 1054 => {}
        other => panic!("prepare of an unknown column: {other:?}"),
    }
    let after = scrape(addr).await;
    assert_eq!(delta(&before, &after, ERRORS, &[("code", "1054")]), 1.0);
    // Each statement of a multi-statement query counts.
    let (b, a) = around(
        addr,
        &mut c,
        "SELECT name FROM user WHERE id = 2; SELECT COUNT(*) FROM user",
    )
    .await;
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "single_shard")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "scatter")]
        ),
        1.0
    );

    // An IN list over both shards.
    let (b, a) = around(addr, &mut c, "SELECT name FROM user WHERE id IN (2, 3, 4)").await;
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "multi_shard")]
        ),
        1.0
    );

    // A lookup-vindex column: through the lookup table, to the owner's shard.
    let before = scrape(addr).await;
    let ids: Vec<u64> = c
        .query("SELECT id FROM user WHERE phone = 300")
        .await
        .expect("by phone");
    assert_eq!(ids, [3]);
    let after = scrape(addr).await;
    assert_eq!(
        delta(
            &before,
            &after,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "lookup")]
        ),
        1.0
    );
    // One lookup shard, one owner shard.
    assert_eq!(delta(&before, &after, SHARDS, &[("le", "1")]), 0.0);
    assert_eq!(delta(&before, &after, SHARDS, &[("le", "2")]), 1.0);

    // No vindex predicate: every shard of the keyspace.
    let (b, a) = around(addr, &mut c, "SELECT COUNT(*) FROM user").await;
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "scatter")]
        ),
        1.0
    );
    assert_eq!(delta(&b, &a, SHARDS, &[("le", "1")]), 0.0);
    assert_eq!(delta(&b, &a, SHARDS, &[("le", "2")]), 1.0);
    assert_eq!(
        delta(&b, &a, "shardgate_statement_shards_sum", &[]),
        2.0,
        "both customer shards"
    );

    // Refused by the proxy: route refused, error 1235.
    let (b, a) = around_error(addr, &mut c, "HANDLER user OPEN", 1235).await;
    assert_eq!(delta(&b, &a, STATEMENTS, &[("route", "refused")]), 1.0);
    assert_eq!(delta(&b, &a, ERRORS, &[("code", "1235")]), 1.0);

    // Refused by the planner: the same, under the statement's kind.
    let (b, a) = around_error(
        addr,
        &mut c,
        "SELECT * FROM user WHERE id = 1 LOCK IN SHARE MODE",
        1235,
    )
    .await;
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "refused")]
        ),
        1.0
    );
    assert_eq!(delta(&b, &a, ERRORS, &[("code", "1235")]), 1.0);
    // A syntax error (MariaDB's verdict) is no refusal.
    let (b, a) = around_error(addr, &mut c, "SELECT * FORM user WHERE id = 1", 1064).await;
    assert_eq!(delta(&b, &a, ERRORS, &[("code", "1064")]), 1.0);
    assert_eq!(delta(&b, &a, STATEMENTS, &[("route", "refused")]), 0.0);

    // A backend error: its MySQL code.
    c.query_drop("INSERT INTO t (id, email) VALUES (1, 'one@x')")
        .await
        .expect("t row");
    let (b, a) = around_error(
        addr,
        &mut c,
        "INSERT INTO t (id, email) VALUES (1, 'again@x')",
        1062,
    )
    .await;
    assert_eq!(delta(&b, &a, ERRORS, &[("code", "1062")]), 1.0);
    assert_eq!(delta(&b, &a, ERRORS, &[("code", "1235")]), 0.0);
    assert_eq!(delta(&b, &a, STATEMENTS, &[("kind", "INSERT")]), 1.0);

    // COMMIT sends work to every shard of its transaction (it reached none: regression).
    let on = |shard: &str| {
        (100..)
            .find(|id| {
                common::placement::shard_of(&["-80", "80-"], &common::placement::hash_ksid(*id))
                    == shard
            })
            .expect("an id")
    };
    let (lo, hi) = (on("-80"), on("80-"));
    c.query_drop("BEGIN").await.expect("begin");
    for id in [lo, hi] {
        c.query_drop(format!(
            "INSERT INTO t (id, email) VALUES ({id}, 'tx{id}@x')"
        ))
        .await
        .expect("insert in a transaction");
    }
    let (b, a) = around(addr, &mut c, "COMMIT").await;
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "COMMIT"), ("route", "scatter")]
        ),
        1.0
    );
    assert_eq!(delta(&b, &a, SHARDS, &[("le", "1")]), 0.0);
    assert_eq!(delta(&b, &a, SHARDS, &[("le", "2")]), 1.0);
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop(format!("DELETE FROM t WHERE id = {lo}"))
        .await
        .expect("delete in a transaction");
    let (b, a) = around(addr, &mut c, "ROLLBACK").await;
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "ROLLBACK"), ("route", "single_shard")]
        ),
        1.0
    );
    assert_eq!(delta(&b, &a, SHARDS, &[("le", "1")]), 1.0);
    drop(c);
    env.stop().await;
}

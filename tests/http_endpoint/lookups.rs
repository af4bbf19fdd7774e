//! Lookup-vindex writes and orphan reclaims counted per vindex and operation, and a
//! CreateLookupVindex backfill's rows copied, rate and progress.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_writes_reclaims_and_a_backfill() {
    let (env, addr, mut c) = lookups_env().await;
    for (id, name, phone) in [
        (1, "alice", 100),
        (2, "bob", 200),
        (3, "carol", 300),
        (4, "dave", 400),
    ] {
        c.query_drop(format!(
            "INSERT INTO user (id, name, phone) VALUES ({id}, '{name}', {phone})"
        ))
        .await
        .expect("insert");
    }
    c.query_drop("INSERT INTO t (id, email) VALUES (1, 'one@x')")
        .await
        .expect("t row");

    // Changing a lookup column moves its lookup row: one delete, one insert.
    let (b, a) = around(addr, &mut c, "UPDATE user SET phone = 201 WHERE id = 2").await;
    for op in ["delete", "insert"] {
        assert_eq!(
            delta(&b, &a, WRITES, &[("vindex", "phone_user_vdx"), ("op", op)]),
            1.0,
            "{op}"
        );
    }
    assert_eq!(delta(&b, &a, WRITES, &[("vindex", "name_user_vdx")]), 0.0);
    // A DML statement routed by a lookup vindex.
    let (b, a) = around(addr, &mut c, "DELETE FROM user WHERE phone = 400").await;
    assert_eq!(
        delta(
            &b,
            &a,
            STATEMENTS,
            &[("kind", "DELETE"), ("route", "lookup")]
        ),
        1.0
    );
    for vindex in ["name_user_vdx", "phone_user_vdx"] {
        assert_eq!(
            delta(&b, &a, WRITES, &[("vindex", vindex), ("op", "delete")]),
            1.0,
            "{vindex}"
        );
    }

    // An owner-row delete deletes its lookup rows.
    let (b, a) = around(addr, &mut c, "DELETE FROM user WHERE id = 1").await;
    for vindex in ["name_user_vdx", "phone_user_vdx"] {
        assert_eq!(
            delta(&b, &a, WRITES, &[("vindex", vindex), ("op", "delete")]),
            1.0,
            "{vindex}"
        );
    }
    assert_eq!(delta(&b, &a, WRITES, &[("op", "insert")]), 0.0);

    // Orphans: owner row 10 deleted on its shard directly leaves its lookup rows behind.
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (10, 'rex', 555)")
        .await
        .expect("owner 10");
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("customer", shard).await;
        d.query_drop("DELETE FROM user WHERE id = 10")
            .await
            .expect("direct delete");
    }
    // A new owner of phone 555 takes its orphaned unique lookup row over.
    let (b, a) = around(
        addr,
        &mut c,
        "INSERT INTO user (id, name, phone) VALUES (11, 'sam', 555)",
    )
    .await;
    assert_eq!(
        delta(&b, &a, RECLAIMS, &[("vindex", "phone_user_vdx")]),
        1.0
    );
    assert_eq!(
        delta(
            &b,
            &a,
            WRITES,
            &[("vindex", "phone_user_vdx"), ("op", "update")]
        ),
        1.0
    );
    assert_eq!(delta(&b, &a, RECLAIMS, &[("vindex", "name_user_vdx")]), 0.0);
    // Owner 10 again: its (name, id) lookup row already points at it and is taken as it is.
    let (b, a) = around(
        addr,
        &mut c,
        "INSERT INTO user (id, name, phone) VALUES (10, 'rex', NULL)",
    )
    .await;
    assert_eq!(delta(&b, &a, RECLAIMS, &[("vindex", "name_user_vdx")]), 1.0);
    // (A NULL phone writes no lookup row: ignore_nulls.)
    assert_eq!(delta(&b, &a, WRITES, &[("vindex", "phone_user_vdx")]), 0.0);
    let ids: Vec<u64> = c
        .query("SELECT id FROM user WHERE phone = 555")
        .await
        .expect("by phone");
    assert_eq!(ids, [11], "the reclaimed row points at the new owner");

    // A CreateLookupVindex backfill, throttled so scrapes see it run: rows copied, a rate,
    // progress between 0 and 1, then 1; its gauges leave with the workflow.
    let values: Vec<String> = (2..=BACKFILL_ROWS)
        .map(|i| format!("({i}, 'u{i}@x')"))
        .collect();
    c.query_drop(format!(
        "INSERT INTO t (id, email) VALUES {}",
        values.join(", ")
    ))
    .await
    .expect("t rows");
    let before = scrape(addr).await;
    let workflow = [("workflow", "t_email_vdx")];
    c.query_drop(
        r#"CreateLookupVindex --max_rows_per_sec=600 --chunk_size=50 customer '{"sharded": true, "vindexes": {"t_email_vdx": {"type": "consistent_lookup_unique", "params": {"table": "lookup.t_email_vdx", "from": "email", "to": "keyspace_id", "ignore_nulls": "true"}, "owner": "t"}}, "tables": {"t": {"column_vindexes": [{"column": "email", "name": "t_email_vdx"}]}}}'"#,
    )
    .await
    .expect("CreateLookupVindex");
    let started = Instant::now();
    let mut progress_seen = Vec::new();
    let mut rate_seen = 0.0f64;
    let after = loop {
        let m = scrape(addr).await;
        let progress = m
            .has("shardgate_workflow_progress_ratio", &workflow)
            .then(|| m.get("shardgate_workflow_progress_ratio", &workflow));
        rate_seen = rate_seen.max(m.get("shardgate_workflow_rows_per_second", &workflow));
        progress_seen.push(progress);
        if progress == Some(1.0) {
            break m;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the backfill's progress never reached 1: {progress_seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    eprintln!(
        "backfill in {:?}: progress {progress_seen:?}, rate up to {rate_seen:.0} rows/s",
        started.elapsed()
    );
    assert!(
        progress_seen
            .iter()
            .flatten()
            .all(|p| (0.0..=1.0).contains(p)),
        "{progress_seen:?}"
    );
    assert!(
        progress_seen.iter().flatten().any(|p| *p > 0.0 && *p < 1.0),
        "never seen mid-copy: {progress_seen:?}"
    );
    assert!(rate_seen > 0.0, "no copy rate while copying");
    assert_eq!(
        delta(
            &before,
            &after,
            "shardgate_workflow_rows_copied_total",
            &workflow
        ),
        BACKFILL_ROWS as f64,
        "every owner row of t copied once"
    );
    // (Progress is 1 once the copy is done; externalizing waits for the verification.)
    let started = Instant::now();
    loop {
        let states: Vec<String> = c
            .query_map("SHOW VINDEX WORKFLOWS", |r: mysql_async::Row| {
                r.get::<String, _>("state").unwrap_or_default()
            })
            .await
            .expect("SHOW VINDEX WORKFLOWS");
        if !states.is_empty() && states.iter().all(|s| s == "Stopped") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not in sync: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.query_drop("ExternalizeVindex customer.t_email_vdx")
        .await
        .expect("externalize");
    let m = scrape(addr).await;
    assert!(!m.has("shardgate_workflow_progress_ratio", &workflow));
    assert!(!m.has("shardgate_workflow_rows_per_second", &workflow));
    drop(c);
    env.stop().await;
}

//! Views on a sharded keyspace (issue 18, "Also broken"), against four real MariaDB shards:
//! `CREATE VIEW` runs on every shard and is recorded in the keyspace's VSchema (`views`), so a
//! view reading one table row by row answers exactly what one MariaDB holding every row would
//! (filters, ORDER BY, LIMIT, aggregates over it merged by the proxy), after a proxy restart
//! too; a view whose rows would need merging across shards, and writes through a view, are
//! refused with 1235; `DROP VIEW` forgets it.

mod common;

use common::errors::expect_error;
use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use serde_json::json;

const SHARDS: [&str; 4] = ["-40", "40-80", "80-c0", "c0-"];

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {
            "user": {"column_vindexes": [{"column": "id", "name": "hash"}]},
            "zip": {"type": "reference"}
        }
    });
    EnvSpec::default().with_keyspace(KeyspaceSpec::sharded("customer", &SHARDS, customer))
}

/// `(id, name, score)` of every row: ids 1..=40, four names, scores 0..=19.
fn rows() -> Vec<(i64, String, i64)> {
    (1..=40)
        .map(|i| (i, format!("n{}", i % 4), (i * 7) % 20))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn views_over_one_table_read_every_shard_exactly() {
    let mut env = TestEnv::start(spec()).await;
    let mut c = env.client_as("root", "", Some("customer")).await;
    c.query_drop("CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(10), score INT)")
        .await
        .expect("user");
    c.query_drop("CREATE TABLE zip (code INT PRIMARY KEY)")
        .await
        .expect("zip");
    for (id, name, score) in rows() {
        c.exec_drop(
            "INSERT INTO user (id, name, score) VALUES (?, ?, ?)",
            (id, name, score),
        )
        .await
        .expect("insert");
    }
    for shard in SHARDS {
        let mut s = env.shard_conn("customer", shard).await;
        s.query_drop("INSERT INTO zip VALUES (1), (2)")
            .await
            .expect("reference rows");
    }

    c.query_drop("CREATE VIEW high AS SELECT id, name, score FROM user WHERE score >= 10")
        .await
        .expect("create view");
    c.query_drop("CREATE OR REPLACE VIEW customer.zips AS SELECT code FROM zip")
        .await
        .expect("reference view");
    for shard in SHARDS {
        let mut s = env.shard_conn("customer", shard).await;
        let views: Vec<String> = s
            .query("SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1")
            .await
            .expect("views");
        assert_eq!(
            views,
            vec!["high".to_string(), "zips".to_string()],
            "{shard}"
        );
    }

    let high: Vec<(i64, String, i64)> = rows().into_iter().filter(|r| r.2 >= 10).collect();
    assert!(high.len() > 10 && high.len() < 40);
    check(&mut c, &high).await;
    let zips: Vec<i64> = c
        .query("SELECT code FROM zips ORDER BY code")
        .await
        .expect("zips");
    assert_eq!(zips, vec![1, 2], "a reference view is read once");

    // Refused rather than answered wrong.
    c.query_drop("CREATE VIEW per_name AS SELECT name, COUNT(*) AS n FROM user GROUP BY name")
        .await
        .expect("aggregate view created on the shards");
    expect_error(
        c.query_drop("SELECT * FROM per_name").await,
        1235,
        "aggregate view",
    );
    expect_error(
        c.query_drop("UPDATE high SET score = 0 WHERE id = 1").await,
        1235,
        "write through view",
    );

    // Recorded in the VSchema file: a new proxy knows the view.
    let file = std::fs::read_to_string(env.vschema_dir().join("customer.json")).expect("file");
    assert!(file.contains("\"views\""), "{file}");
    env.restart_proxy().await;
    let mut c = env.client_as("root", "", Some("customer")).await;
    check(&mut c, &high).await;

    c.query_drop("DROP VIEW high, per_name")
        .await
        .expect("drop");
    expect_error(
        c.query_drop("SELECT * FROM high").await,
        1146,
        "dropped view",
    );
    env.stop().await;
}

/// Reads `high` through the proxy in several shapes and compares with `expected`.
async fn check(c: &mut mysql_async::Conn, expected: &[(i64, String, i64)]) {
    let got: Vec<(i64, String, i64)> = c
        .query("SELECT id, name, score FROM high ORDER BY id")
        .await
        .expect("ordered");
    assert_eq!(got, expected);
    let ids: Vec<i64> = c
        .query("SELECT id FROM high ORDER BY score DESC, id LIMIT 3")
        .await
        .expect("limit");
    let mut by_score = expected.to_vec();
    by_score.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    let top: Vec<i64> = by_score.iter().take(3).map(|r| r.0).collect();
    assert_eq!(ids, top);
    let (count, sum): (i64, i64) = c
        .query_first("SELECT COUNT(*), SUM(score) FROM high")
        .await
        .expect("aggregate")
        .expect("one row");
    assert_eq!(count, expected.len() as i64);
    assert_eq!(sum, expected.iter().map(|r| r.2).sum::<i64>());
    let per_name: Vec<(String, i64)> = c
        .query("SELECT name, COUNT(*) FROM high GROUP BY name ORDER BY name")
        .await
        .expect("group by");
    let mut names: std::collections::BTreeMap<String, i64> = Default::default();
    for r in expected {
        *names.entry(r.1.clone()).or_default() += 1;
    }
    assert_eq!(per_name, names.into_iter().collect::<Vec<_>>());
    let one: Vec<i64> = c
        .query(format!(
            "SELECT score FROM high WHERE id = {}",
            expected[0].0
        ))
        .await
        .expect("point");
    assert_eq!(one, vec![expected[0].2]);
}

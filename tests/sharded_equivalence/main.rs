//! Result equivalence of a sharded keyspace with one plain database (issue 3, "How it is
//! checked").
//!
//! The same deterministic data set (~300 users, ~900 orders, a 5-row reference table) is loaded
//! through the proxy into keyspace `customer` (4 shards, `hash` primary vindex on `user.id` and
//! on `orders.user_id`, so `user JOIN orders ON user.id = orders.user_id` is shard-local) and,
//! with the same statements, into one reference database on a shared test server. Then every
//! statement of `tests/data/sharded_equivalence.sql` (points, IN, tuple IN, range scans,
//! ORDER BY/LIMIT/OFFSET, aggregates, COUNT(DISTINCT), GROUP BY, HAVING, DISTINCT, joins with
//! the vindex and the reference table, subqueries, prepared statements, DML followed by reads)
//! runs on both, in file order, and the outcomes must be identical: same column count and rows
//! (as text; in order when the statement has a top-level ORDER BY, as multisets otherwise),
//! same affected-row count for DML, same error code when the reference database fails too. A
//! statement tagged `refuse` may instead be refused with 1235, as the issue allows for what the
//! proxy cannot compute exactly; it must never give a different answer. The reference table is
//! loaded directly into every shard, as a copy job would. At the end each shard's rows are read
//! directly and checked to sit on the shard their keyspace id names (the DML may not misplace
//! rows).
//!
//! All differences are collected and reported together in one panic at the end (statement, file
//! line, expected rows, rows or error received), after the environment is torn down.
//!
//! The parts: `data` generates the data set and its INSERTs, `statements` reads the
//! statements file, `outcome` runs a statement and compares and renders what it did,
//! `comparison` runs it on both sides and collects the [`comparison::Report`], `placement`
//! checks where the rows ended up.

#[path = "../common/mod.rs"]
mod common;
mod comparison;
mod data;
mod outcome;
mod placement;
mod statements;

use common::{backend_url, cluster_async, EnvSpec, KeyspaceSpec, TestEnv};
use comparison::{compare, setup_both, Report, Sides};
use data::{
    date_after_2020, generate_orders, generate_users, insert_statements, Lcg, RESERVED_IDS,
};
use mysql_async::prelude::*;
use mysql_async::Conn;
use outcome::Outcome;
use placement::check_placement;
use statements::{has_top_level_order_by, parse_statements};
use std::time::Instant;

/// The sharded keyspace under test.
const KEYSPACE: &str = "customer";
/// Its shards.
const SHARDS: [&str; 4] = ["-40", "40-80", "80-c0", "c0-"];
/// The statements to compare; the format is described at the top of the file.
const STATEMENTS: &str = include_str!("../data/sharded_equivalence.sql");

/// Tables of `customer`, created through the proxy (every shard) and in the reference database.
const CUSTOMER_DDL: [&str; 3] = [
    "CREATE TABLE user (id bigint PRIMARY KEY, name varchar(64), age int, city varchar(32), \
     balance decimal(10,2), created date)",
    "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, amount decimal(10,2), \
     status varchar(16))",
    "CREATE TABLE country (code varchar(2) PRIMARY KEY, name varchar(32))",
];

/// A table of the unsharded `commerce` keyspace (qualified; see
/// [`statements::reference_sql`]).
const COMMERCE_DDL: &str =
    "CREATE TABLE commerce.promo (code varchar(8) PRIMARY KEY, city varchar(32), discount decimal(5,2))";
const COMMERCE_DATA: &str = "INSERT INTO commerce.promo (code, city, discount) VALUES \
     ('SPRING', 'Paris', 5.00), ('LIMA10', 'Lima', 10.00), ('SG', 'Singapore', 2.50), ('NONE', NULL, 0.00)";

/// The reference table's rows, loaded into every shard directly.
const COUNTRY_DATA: &str = "INSERT INTO country (code, name) VALUES ('SG', 'Singapore'), \
     ('MO', 'Monaco'), ('LU', 'Luxembourg'), ('HK', 'Hong Kong'), ('FR', 'France')";

fn vschema() -> serde_json::Value {
    serde_json::json!({
        "sharded": true,
        "vindexes": { "hash": { "type": "hash" } },
        "tables": {
            "user": { "column_vindexes": [ { "column": "id", "name": "hash" } ] },
            "orders": { "column_vindexes": [ { "column": "user_id", "name": "hash" } ] },
            "country": { "type": "reference" }
        }
    })
}

#[test]
fn vschema_is_valid() {
    let text = serde_json::to_string(&vschema()).expect("json");
    shardgate::vschema::KeyspaceSchema::parse(KEYSPACE, &text)
        .unwrap_or_else(|e| panic!("the test VSchema is invalid: {e}"));
    let mut rng = Lcg(1);
    let users = generate_users(&mut rng);
    let statements = parse_statements(STATEMENTS, &users);
    assert!(
        statements.len() >= 220,
        "only {} statements",
        statements.len()
    );
    for id in RESERVED_IDS {
        assert!(users.iter().all(|u| u.id != id), "generator made {id}");
    }
}

#[test]
fn order_by_detection() {
    assert!(has_top_level_order_by("select a from t order by a"));
    assert!(!has_top_level_order_by(
        "select (select x from t order by x limit 1) from u"
    ));
    assert!(!has_top_level_order_by("select 'order by' from t"));
    assert_eq!(date_after_2020(0), "2020-01-01");
    assert_eq!(date_after_2020(59), "2020-02-29");
    assert_eq!(date_after_2020(366), "2021-01-01");
}

#[tokio::test(flavor = "multi_thread")]
async fn sharded_results_match_a_single_database() {
    let started = Instant::now();
    let env = TestEnv::start(EnvSpec::default().with_keyspace(KeyspaceSpec::sharded(
        KEYSPACE,
        &SHARDS,
        vschema(),
    )))
    .await;

    // The reference database: one plain database on shared server 0, unique to this run.
    let port = cluster_async().await.servers[0].port;
    let refdb = format!("eqref_{}_{}", std::process::id(), env.id);
    let mut admin = Conn::from_url(backend_url(port, None))
        .await
        .expect("connecting to shared server 0");
    admin
        .query_drop(format!("CREATE DATABASE `{refdb}`"))
        .await
        .expect("creating the reference database");
    let reference = Conn::from_url(backend_url(port, Some(&refdb)))
        .await
        .expect("connecting to the reference database");
    let mut sides = Sides {
        env: &env,
        proxy: Sides::proxy_conn(&env).await,
        reference,
        refdb: refdb.clone(),
    };
    let mut report = Report::default();

    // Schema: through the proxy (DDL goes to every shard) and in the reference database.
    for ddl in CUSTOMER_DDL {
        setup_both(&mut sides, &mut report, "DDL", ddl).await;
    }
    setup_both(&mut sides, &mut report, "unsharded DDL", COMMERCE_DDL).await;

    // Data.
    let mut rng = Lcg(0x5eed_cafe);
    let users = generate_users(&mut rng);
    let orders = generate_orders(&mut rng, &users);
    for sql in insert_statements(&users, &orders) {
        setup_both(&mut sides, &mut report, "multi-row INSERT", &sql).await;
    }
    setup_both(&mut sides, &mut report, "unsharded INSERT", COMMERCE_DATA).await;
    // The reference table is a copy on every shard, loaded like a copy job would.
    for shard in SHARDS {
        let mut conn = env.shard_conn(KEYSPACE, shard).await;
        if let Err(e) = conn.query_drop(COUNTRY_DATA).await {
            report.setup.push(format!(
                "--- setup: loading country on {shard} directly: {e}"
            ));
        }
        let _ = conn.disconnect().await;
    }
    let expected = sides.on_reference(COUNTRY_DATA, None).await;
    assert!(
        matches!(expected, Outcome::Done { affected: 5 }),
        "reference country: {expected:?}"
    );
    let setup_time = started.elapsed();

    // The statements, in file order.
    let statements = parse_statements(STATEMENTS, &users);
    for st in &statements {
        compare(&mut sides, &mut report, st).await;
    }

    // Every row still sits on the shard its keyspace id names.
    check_placement(&env, &mut report, "user", "id").await;
    check_placement(&env, &mut report, "orders", "user_id").await;

    eprintln!(
        "sharded equivalence: {} statements in {:?} (setup {:?}); {} refused with 1235 as allowed; \
         `refuse` statements answered identically at lines {:?}",
        statements.len(),
        started.elapsed(),
        setup_time,
        report.refused,
        report.answered_refusable
    );

    // Tear down before reporting.
    let Sides {
        proxy, reference, ..
    } = sides;
    let _ = proxy.disconnect().await;
    let _ = reference.disconnect().await;
    admin
        .query_drop(format!("DROP DATABASE IF EXISTS `{refdb}`"))
        .await
        .expect("dropping the reference database");
    let _ = admin.disconnect().await;
    env.stop().await;

    if !report.is_clean() {
        panic!("{}", report.text(statements.len()));
    }
}

//! What GUI, ORM and migration tools ask about schemas, answered for keyspaces (issue 17,
//! item 4): `SHOW ... FROM ks` reaches that keyspace, `SHOW` headers and cells, `DATABASE()`
//! inside larger statements and every other answer name keyspaces (a backend database name
//! never reaches the client), `EXPLAIN` is routed like the statement it explains, and
//! `SHOW WARNINGS` after an error lists the error.

mod common;

use common::errors::expect_error;
use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row, Value};
use shardgate::config::UserConfig;

const SHARDS: [&str; 2] = ["-80", "80-"];

fn spec() -> EnvSpec {
    let mut spec = EnvSpec::default().with_keyspace(KeyspaceSpec::sharded(
        "customer",
        &SHARDS,
        serde_json::json!({
            "sharded": true,
            "vindexes": { "hash": { "type": "hash" } },
            "tables": {
                "user": { "column_vindexes": [ { "column": "id", "name": "hash" } ] }
            }
        }),
    ));
    spec.users.push(UserConfig {
        name: "narrow".into(),
        password: "pw".into(),
        password_hash: None,
        admin: false,
        keyspaces: Some(vec!["commerce".into()]),
        read_only: false,
    });
    spec
}

/// A started env with `customer.user` (ids 1..=20, on both shards) and `commerce.product`.
async fn env_with_rows() -> TestEnv {
    let env = TestEnv::start(spec()).await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use");
    c.query_drop("CREATE TABLE user (id BIGINT PRIMARY KEY, name VARCHAR(64), KEY name (name))")
        .await
        .expect("create user");
    let values: Vec<String> = (1..=20).map(|i| format!("({i}, 'u{i}')")).collect();
    c.query_drop(format!(
        "INSERT INTO user (id, name) VALUES {}",
        values.join(",")
    ))
    .await
    .expect("insert");
    c.query_drop("CREATE TABLE commerce.product (sku INT PRIMARY KEY, title TEXT)")
        .await
        .expect("create product");
    env
}

/// The result of `sql`: column names and rows as text (NULL as "NULL").
async fn result(c: &mut Conn, sql: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let rows: Vec<Row> = c.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let names = rows
        .first()
        .map(|r| {
            r.columns_ref()
                .iter()
                .map(|c| c.name_str().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let cells = rows
        .into_iter()
        .map(|r| {
            r.unwrap()
                .into_iter()
                .map(|v| match v {
                    Value::NULL => "NULL".to_string(),
                    Value::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
                    other => other.as_sql(true),
                })
                .collect()
        })
        .collect();
    (names, cells)
}

/// The backend database names of this env (what must never reach a client).
fn backend_names(env: &TestEnv) -> Vec<String> {
    let mut names = vec![env.shard_database("commerce", "0")];
    names.extend(SHARDS.iter().map(|s| env.shard_database("customer", s)));
    names.sort();
    names.dedup();
    for n in &names {
        assert!(
            n != "customer" && n != "commerce",
            "the harness must name backend databases apart from keyspaces: {n}"
        );
    }
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn show_statements_name_and_reach_keyspaces() {
    let env = env_with_rows().await;
    let hidden = backend_names(&env);
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use");
    let mut seen = Vec::new();
    let mut check = |what: &str, (names, rows): (Vec<String>, Vec<Vec<String>>)| {
        for text in names.iter().chain(rows.iter().flatten()) {
            for db in &hidden {
                assert!(!text.contains(db.as_str()), "{what} shows {db}: {text}");
            }
        }
        seen.push(what.to_string());
        (names, rows)
    };

    let (names, rows) = check("SHOW TABLES", result(&mut c, "SHOW TABLES").await);
    assert_eq!(names, ["Tables_in_customer"]);
    assert_eq!(rows, [["user"]]);
    let (names, _) = check(
        "SHOW TABLES LIKE",
        result(&mut c, "SHOW TABLES LIKE 'us%'").await,
    );
    assert_eq!(names, ["Tables_in_customer (us%)"]);
    let (names, rows) = check(
        "SHOW FULL TABLES FROM commerce",
        result(&mut c, "SHOW FULL TABLES FROM commerce").await,
    );
    assert_eq!(names, ["Tables_in_commerce", "Table_type"]);
    assert_eq!(rows, [["product", "BASE TABLE"]]);
    let (_, rows) = check(
        "SHOW TABLE STATUS FROM customer",
        result(&mut c, "SHOW TABLE STATUS FROM customer").await,
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], "user");

    // From another keyspace, the database clause decides.
    c.query_drop("USE commerce").await.expect("use commerce");
    let (names, rows) = check(
        "SHOW COLUMNS FROM user FROM customer",
        result(&mut c, "SHOW COLUMNS FROM user FROM customer").await,
    );
    assert_eq!(names[0], "Field");
    let fields: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(fields, ["id", "name"]);
    let (_, rows) = check(
        "SHOW FULL COLUMNS FROM customer.user",
        result(&mut c, "SHOW FULL COLUMNS FROM customer.user").await,
    );
    assert_eq!(rows.len(), 2);
    let (_, rows) = check(
        "SHOW INDEX FROM user IN customer",
        result(&mut c, "SHOW INDEX FROM user IN customer").await,
    );
    let keys: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert_eq!(keys, ["PRIMARY", "name"]);
    let (_, rows) = check(
        "SHOW TABLES IN customer",
        result(&mut c, "SHOW TABLES IN customer").await,
    );
    assert_eq!(rows, [["user"]]);
    for ks in ["customer", "commerce"] {
        let sql = format!("SHOW CREATE DATABASE {ks}");
        let (names, rows) = check(&sql, result(&mut c, &sql).await);
        assert_eq!(names, ["Database", "Create Database"]);
        assert_eq!(rows[0][0], ks);
        assert!(
            rows[0][1].starts_with(&format!("CREATE DATABASE `{ks}`")),
            "{sql}: {}",
            rows[0][1]
        );
    }
    // information_schema from another keyspace, by literal and as a prepared statement.
    let sql = "SELECT table_schema, table_name FROM information_schema.tables \
               WHERE table_schema = 'customer'";
    let (_, rows) = check(sql, result(&mut c, sql).await);
    assert_eq!(rows, [["customer", "user"]]);
    let prepared: Vec<(String, String)> = c
        .exec(
            "SELECT table_schema, column_name FROM information_schema.columns \
             WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            ("customer", "user"),
        )
        .await
        .expect("prepared information_schema");
    let expected =
        [("customer", "id"), ("customer", "name")].map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(prepared, expected);
    // Prepared SHOW statements (binary rows) name keyspaces too.
    let prepared: Vec<(String, String)> = c
        .exec("SHOW CREATE DATABASE customer", ())
        .await
        .expect("prepared SHOW CREATE DATABASE");
    assert_eq!(prepared[0].0, "customer");
    assert!(
        prepared[0].1.starts_with("CREATE DATABASE `customer`"),
        "{prepared:?}"
    );
    let status: Vec<Row> = c
        .exec("SHOW TABLE STATUS FROM customer", ())
        .await
        .expect("prepared SHOW TABLE STATUS");
    assert_eq!(status.len(), 1);
    let open: Vec<Row> = c
        .exec("SHOW TABLES FROM customer", ())
        .await
        .expect("prepared SHOW TABLES");
    assert_eq!(open[0].columns_ref()[0].name_str(), "Tables_in_customer");
    // Not a keyspace: never sent (a backend database name is no way around it).
    for sql in [
        "SHOW TABLES FROM nosuch".to_string(),
        "SHOW TABLES FROM mysql".to_string(),
        format!("SHOW TABLES FROM `{}`", hidden[0]),
        format!("SHOW CREATE DATABASE `{}`", hidden[0]),
    ] {
        expect_error(c.query_drop(&sql).await, 1044, &sql);
    }
    drop(c.disconnect().await);

    // A user granted only commerce cannot list customer's tables by naming it.
    let mut narrow = env.client_as("narrow", "pw", Some("commerce")).await;
    let (_, rows) = result(&mut narrow, "SHOW TABLES").await;
    assert_eq!(rows, [["product"]]);
    for sql in [
        "SHOW TABLES FROM customer",
        "SHOW COLUMNS FROM user FROM customer",
        "SHOW CREATE DATABASE customer",
    ] {
        expect_error(narrow.query_drop(sql).await, 1044, sql);
    }
    drop(narrow.disconnect().await);
    assert!(seen.len() >= 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn database_inside_statements_is_the_keyspace() {
    let env = env_with_rows().await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use");
    let (names, rows) = result(&mut c, "SELECT DATABASE(), id FROM user WHERE id = 7").await;
    assert_eq!(names, ["DATABASE()", "id"]);
    assert_eq!(rows, [["customer", "7"]]);
    // A scatter, a function around it, an alias, and a comparison.
    let (names, rows) = result(
        &mut c,
        "SELECT CONCAT(SCHEMA(), '/', id), DATABASE() AS db FROM user WHERE id IN (1, 2, 3, 4) ORDER BY id",
    )
    .await;
    assert_eq!(names, ["CONCAT(SCHEMA(), '/', id)", "db"]);
    let expected: Vec<Vec<String>> = (1..=4)
        .map(|i| vec![format!("customer/{i}"), "customer".to_string()])
        .collect();
    assert_eq!(rows, expected);
    let (_, rows) = result(
        &mut c,
        "SELECT COUNT(*) FROM user WHERE DATABASE() = 'customer'",
    )
    .await;
    assert_eq!(rows, [["20"]]);
    // Unsharded keyspace, relayed as written but for the function.
    c.query_drop("INSERT INTO commerce.product VALUES (1, 'a')")
        .await
        .expect("insert product");
    c.query_drop("USE commerce").await.expect("use commerce");
    let (names, rows) = result(&mut c, "SELECT DATABASE(), sku FROM product").await;
    assert_eq!(names, ["DATABASE()", "sku"]);
    assert_eq!(rows, [["commerce", "1"]]);
    // A user variable keeps the keyspace too (SET is validated on a shard).
    c.query_drop("SET @db = DATABASE()").await.expect("set");
    let (_, rows) = result(&mut c, "SELECT @db").await;
    assert_eq!(rows, [["commerce"]]);
    drop(c.disconnect().await);
    // USER() and CURRENT_USER() are the proxy user's, not the backend account's.
    let mut app = env.client_as("app", "secret", Some("customer")).await;
    let (names, rows) = result(
        &mut app,
        "SELECT USER(), CURRENT_USER(), CURRENT_USER, id FROM user WHERE id = 3",
    )
    .await;
    assert_eq!(names, ["USER()", "CURRENT_USER()", "CURRENT_USER", "id"]);
    assert_eq!(rows, [["app@127.0.0.1", "app@%", "app@%", "3"]]);
    drop(app.disconnect().await);
    // Without a current database, NULL as in MariaDB.
    let mut none = env.client_as("root", "", None).await;
    let (_, rows) = result(
        &mut none,
        "SELECT DATABASE() IS NULL, sku FROM commerce.product",
    )
    .await;
    assert_eq!(rows, [["1", "1"]]);
    drop(none.disconnect().await);
}

/// The `type` and `Extra` columns of each row of an EXPLAIN.
async fn explain(c: &mut Conn, sql: &str) -> Vec<(String, String)> {
    let (names, rows) = result(c, sql).await;
    let col = |n: &str| {
        names
            .iter()
            .position(|c| c == n)
            .unwrap_or_else(|| panic!("{sql}: no column {n} in {names:?}"))
    };
    let (t, e) = (col("type"), col("Extra"));
    rows.into_iter()
        .map(|r| (r[t].clone(), r[e].clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn explain_is_routed_like_the_statement() {
    let env = env_with_rows().await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use");
    // Every id is explained by the shard that holds it: a const lookup, never "Impossible
    // WHERE" (what the first shard says of a row it does not hold). Ids 1..=20 live on both.
    for id in 1..=20 {
        let sql = format!("EXPLAIN SELECT * FROM user WHERE id = {id}");
        assert_eq!(
            explain(&mut c, &sql).await,
            [("const".to_string(), String::new())],
            "{sql}"
        );
        let rows: Vec<Row> = c
            .exec("EXPLAIN SELECT name FROM user WHERE id = ?", (id,))
            .await
            .expect("prepared explain");
        assert_eq!(rows.len(), 1, "prepared EXPLAIN of id {id}");
        let sql = format!("EXPLAIN UPDATE user SET name = 'x' WHERE id = {id}");
        let plan = explain(&mut c, &sql).await;
        assert_eq!(plan.len(), 1, "{sql}");
        assert!(!plan[0].1.contains("Impossible"), "{sql}: {plan:?}");
    }
    // A scatter is explained by every shard.
    assert_eq!(explain(&mut c, "EXPLAIN SELECT * FROM user").await.len(), 2);
    assert_eq!(
        explain(&mut c, "EXPLAIN DELETE FROM user WHERE name = 'u3'")
            .await
            .len(),
        2
    );
    // A table's columns, as before.
    let (names, rows) = result(&mut c, "EXPLAIN user").await;
    assert_eq!(names[0], "Field");
    assert_eq!(rows.len(), 2);
    expect_error(
        c.query_drop("EXPLAIN INSERT INTO user (id) VALUES (99)")
            .await,
        1235,
        "EXPLAIN INSERT",
    );
    // EXPLAIN changed nothing.
    let (_, rows) = result(&mut c, "SELECT COUNT(*) FROM user WHERE name = 'x'").await;
    assert_eq!(rows, [["0"]]);
}

#[tokio::test(flavor = "multi_thread")]
async fn show_warnings_after_an_error_lists_it() {
    let env = env_with_rows().await;
    let mut c = env.client().await;
    c.query_drop("USE customer").await.expect("use");
    // Refused by the proxy (a sharded keyspace's unknown table), then by a shard.
    for (sql, code) in [
        ("SELECT * FROM nosuch WHERE id = 1", 1146u16),
        ("SELECT * FROM commerce.nosuch", 1146),
        ("SELEC 1", 1064),
    ] {
        expect_error(c.query_drop(sql).await, code, sql);
        let (_, rows) = result(&mut c, "SHOW WARNINGS").await;
        assert_eq!(rows.len(), 1, "{sql}: {rows:?}");
        assert_eq!(rows[0][0], "Error", "{sql}");
        assert_eq!(rows[0][1], code.to_string(), "{sql}");
        let (_, errors) = result(&mut c, "SHOW ERRORS").await;
        assert_eq!(errors, rows, "{sql}");
        let (_, count) = result(&mut c, "SELECT @@error_count").await;
        assert_eq!(count, [["1"]], "{sql}");
        let (_, count) = result(&mut c, "SHOW COUNT(*) WARNINGS").await;
        assert_eq!(count, [["1"]], "{sql}");
    }
    // The next statement's diagnostics replace them.
    let (_, rows) = result(&mut c, "SELECT id FROM user WHERE id = 1").await;
    assert_eq!(rows, [["1"]]);
    let (_, rows) = result(&mut c, "SHOW WARNINGS").await;
    assert!(rows.is_empty(), "{rows:?}");
    expect_error(c.query_drop("SELEC 2").await, 1064, "SELEC 2");
    let (_, rows) = result(&mut c, "SELECT COUNT(*) FROM user").await;
    assert_eq!(rows, [["20"]]);
    let (_, rows) = result(&mut c, "SHOW WARNINGS").await;
    assert!(rows.is_empty(), "after a scatter: {rows:?}");
}

//! `information_schema` through the proxy, answered per keyspace: the introspection queries of
//! ORMs (Django's and SQLAlchemy's, `TABLE_SCHEMA = DATABASE()`) answer what MariaDB answers
//! for the keyspace's backend database, with the keyspace's name where MariaDB would name the
//! database; other databases (other keyspaces' backends, `mysql`) are never seen; a keyspace
//! the user is not granted is invisible; what cannot be rewritten exactly is refused (1235);
//! the other schema tables (server state, definitions) stay denied (1044).

mod common;

use common::errors::expect_error;
use common::{EnvSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row, Value};
use shardgate::config::UserConfig;

/// Every row of `sql` as text cells (NULL as "NULL").
async fn rows(c: &mut Conn, sql: &str) -> Vec<Vec<String>> {
    let rows: Vec<Row> = c.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter()
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
        .collect()
}

/// What MariaDB itself answers for `sql` on the keyspace's backend database: `DATABASE()` is
/// the backend database there, and the backend name is then read as the keyspace's.
async fn reference(env: &TestEnv, ks: &str, shard: &str, sql: &str) -> Vec<Vec<String>> {
    let db = env.shard_database(ks, shard);
    let mut direct = env.shard_conn(ks, shard).await;
    let sql = sql
        .replace("DATABASE()", &format!("'{db}'"))
        .replace(&format!("'{ks}'"), &format!("'{db}'"));
    rows(&mut direct, &sql)
        .await
        .into_iter()
        .map(|r| {
            r.into_iter()
                .map(|v| if v == db { ks.to_string() } else { v })
                .collect()
        })
        .collect()
}

const DJANGO_TABLES: &str = "SELECT table_name, table_type, table_comment FROM \
    information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name";
const DJANGO_COLUMNS: &str = "SELECT column_name, data_type, character_maximum_length, \
    numeric_precision, numeric_scale, extra, column_default, CASE WHEN collation_name = \
    'utf8mb4_general_ci' THEN NULL ELSE collation_name END AS collation_name, CASE WHEN \
    column_type LIKE '% unsigned' THEN 1 ELSE 0 END AS is_unsigned FROM information_schema.columns \
    WHERE table_name = 'orders' AND table_schema = DATABASE() ORDER BY ordinal_position";
const DJANGO_RELATIONS: &str = "SELECT column_name, referenced_column_name, \
    referenced_table_name FROM information_schema.key_column_usage WHERE table_name = 'orders' \
    AND table_schema = DATABASE() AND referenced_table_name IS NOT NULL AND \
    referenced_column_name IS NOT NULL";
const DJANGO_CONSTRAINTS: &str = "SELECT kc.constraint_name, kc.column_name, \
    kc.referenced_table_name, kc.referenced_column_name, c.constraint_type FROM \
    information_schema.key_column_usage AS kc, information_schema.table_constraints AS c WHERE \
    kc.table_schema = DATABASE() AND c.table_schema = kc.table_schema AND c.constraint_name = \
    kc.constraint_name AND c.table_name = kc.table_name AND c.constraint_type != 'CHECK' AND \
    kc.table_name = 'orders' ORDER BY kc.ordinal_position, kc.constraint_name";
const DJANGO_INDEXES: &str = "SELECT index_name, column_name, non_unique, seq_in_index FROM \
    information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'users' \
    ORDER BY index_name, seq_in_index";
const SQLALCHEMY_HAS_TABLE: &str = "SELECT COUNT(*) FROM information_schema.tables WHERE \
    table_schema = 'commerce' AND table_name = 'users'";
const SCHEMATA: &str = "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM \
    information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()";

#[tokio::test(flavor = "multi_thread")]
async fn information_schema_answers_for_keyspaces_only() {
    let mut spec = EnvSpec::default();
    spec.users.push(UserConfig {
        name: "limited".into(),
        password: "pw".into(),
        password_hash: None,
        admin: false,
        keyspaces: Some(vec!["commerce".into()]),
        read_only: false,
    });
    let env = TestEnv::start(spec).await;
    let mut c = env.client().await;
    c.query_drop(
        "CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), KEY idx_name (name)) \
         COMMENT 'people'",
    )
    .await
    .expect("users");
    c.query_drop(
        "CREATE TABLE orders (id INT PRIMARY KEY, user_id INT NOT NULL, total INT UNSIGNED, \
         CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id))",
    )
    .await
    .expect("orders");
    c.query_drop("CREATE TABLE customer.c (id BIGINT PRIMARY KEY)")
        .await
        .expect("sharded table");

    // ORM introspection answers as MariaDB does for the keyspace's database.
    for sql in [
        DJANGO_TABLES,
        DJANGO_COLUMNS,
        DJANGO_RELATIONS,
        DJANGO_CONSTRAINTS,
        DJANGO_INDEXES,
        SQLALCHEMY_HAS_TABLE,
        SCHEMATA,
    ] {
        let want = reference(&env, "commerce", "0", sql).await;
        assert!(!want.is_empty(), "reference answered nothing: {sql}");
        assert_eq!(rows(&mut c, sql).await, want, "{sql}");
    }
    assert_eq!(
        rows(&mut c, DJANGO_TABLES).await,
        [
            ["orders", "BASE TABLE", ""],
            ["users", "BASE TABLE", "people"]
        ]
    );
    assert_eq!(rows(&mut c, SCHEMATA).await, [["commerce", "utf8mb4"]]);

    // Only the keyspace's rows, named as the keyspace: no backend or system database.
    let all = rows(
        &mut c,
        "SELECT DISTINCT TABLE_SCHEMA FROM information_schema.TABLES",
    )
    .await;
    assert_eq!(all, [["commerce"]]);
    let system = rows(
        &mut c,
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'mysql'",
    )
    .await;
    assert_eq!(system, [["0"]]);
    let columns = rows(
        &mut c,
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_NAME = 'user'",
    )
    .await;
    assert_eq!(columns, [["0"]], "mysql.user's columns are not visible");

    // Another granted keyspace, named as a string: answered from its own shard; on a
    // sharded keyspace the per-shard statistics are NULL.
    let other = rows(
        &mut c,
        "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = 'customer'",
    )
    .await;
    assert_eq!(other, [["customer", "c", "NULL"]]);

    // SCHEMATA lists the granted keyspaces, each as its shard's server has its database.
    let schemata = rows(
        &mut c,
        "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA \
         ORDER BY SCHEMA_NAME",
    )
    .await;
    assert_eq!(schemata, [["commerce", "utf8mb4"], ["customer", "utf8mb4"]]);
    let listed = rows(
        &mut c,
        "SELECT COUNT(*) FROM information_schema.SCHEMATA \
         WHERE SCHEMA_NAME IN ('commerce', 'customer', 'mysql', 'information_schema')",
    )
    .await;
    assert_eq!(listed, [["2"]]);

    // A user not granted `customer` does not see it.
    let mut limited = env.client_as("limited", "pw", Some("commerce")).await;
    let hidden = rows(
        &mut limited,
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'customer'",
    )
    .await;
    assert!(hidden.is_empty(), "{hidden:?}");
    assert_eq!(
        rows(&mut limited, DJANGO_TABLES).await,
        rows(&mut c, DJANGO_TABLES).await
    );
    assert_eq!(
        rows(
            &mut limited,
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
        )
        .await,
        [["commerce"]]
    );

    // What the rewrite cannot make exact is refused.
    for sql in [
        "SELECT * FROM information_schema.VIEWS",
        "SELECT * FROM information_schema.USER_PRIVILEGES",
    ] {
        expect_error(c.query_drop(sql).await, 1044, sql);
    }
    for sql in [
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('commerce', 'customer')",
        "SELECT t.TABLE_NAME FROM information_schema.TABLES t JOIN users u ON u.name = t.TABLE_NAME",
    ] {
        expect_error(c.query_drop(sql).await, 1235, sql);
    }
    // The system databases stay unreachable.
    expect_error(
        c.query_drop("SELECT * FROM mysql.user").await,
        1044,
        "mysql.user",
    );
    env.stop().await;
}

//! SQL-level `PREPARE` / `EXECUTE` / `DEALLOCATE PREPARE` on a sharded keyspace (issue 18):
//! the proxy keeps the statement and runs it with the user variables' values (known from
//! `SET @v = <literal>`) as parameters. Answers and effects are compared with one MariaDB
//! holding the same rows, where the same statements run natively.

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row, Value};
use serde_json::json;

const SHARDS: [&str; 4] = ["-40", "40-80", "80-c0", "c0-"];

const DDL: &str = "CREATE TABLE user (id BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci, score INT)";

const ROWS: &str = "INSERT INTO user (id, name, score) VALUES
    (1, 'ann', 10), (2, 'bob', 20), (3, 'Ann', 30), (4, 'dée', NULL), (5, 'eve', 50), (6, 'bob', 60)";

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"user": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    EnvSpec::default().with_keyspace(KeyspaceSpec::sharded("customer", &SHARDS, customer))
}

async fn setup() -> (TestEnv, Conn, Conn) {
    let env = TestEnv::start(spec()).await;
    let mut direct = env.shard_conn("commerce", "0").await;
    let mut proxied = env.client_as("root", "", Some("customer")).await;
    for c in [&mut direct, &mut proxied] {
        c.query_drop(DDL).await.expect("DDL");
        c.query_drop(ROWS).await.expect("rows");
    }
    (env, direct, proxied)
}

fn values(rows: Vec<Row>) -> Vec<Vec<Value>> {
    rows.into_iter().map(Row::unwrap).collect()
}

/// Runs each statement on both sides (text protocol); results must be equal.
async fn same(direct: &mut Conn, proxied: &mut Conn, sqls: &[&str]) {
    for sql in sqls {
        let want = values(direct.query(*sql).await.expect(sql));
        let got = values(
            proxied
                .query(*sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        );
        assert_eq!(got, want, "{sql}");
        assert_eq!(proxied.affected_rows(), direct.affected_rows(), "{sql}");
    }
}

async fn error_code(c: &mut Conn, sql: &str) -> u16 {
    match c.query_drop(sql).await {
        Err(mysql_async::Error::Server(e)) => e.code,
        other => panic!("{sql}: expected a server error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn prepared_statements_run_with_user_variables() {
    let (env, mut direct, mut proxied) = setup().await;
    same(
        &mut direct,
        &mut proxied,
        &[
            "PREPARE one FROM 'SELECT id, name, score FROM user WHERE id = ?'",
            "SET @id = 3",
            "EXECUTE one USING @id",
            "SET @id = 5",
            "EXECUTE one USING @id",
            // Scatter with string and number parameters, ORDER BY and LIMIT.
            "PREPARE many FROM 'SELECT id, name FROM user WHERE name = ? OR score > ? ORDER BY id LIMIT ?'",
            "SET @n = 'ANN', @s = 45.5, @l = 3",
            "EXECUTE many USING @n, @s, @l",
            "SET @n = 'dée', @l = 10",
            "EXECUTE many USING @n, @s, @l",
            "SET @n = NULL",
            "EXECUTE many USING @n, @s, @l",
            // Writes.
            "PREPARE up FROM 'UPDATE user SET score = ? WHERE id IN (?, ?)'",
            "SET @v = -7, @a = 1, @b = 6",
            "EXECUTE up USING @v, @a, @b",
            "SELECT id, score FROM user ORDER BY id",
            "PREPARE del FROM 'DELETE FROM user WHERE name = ? ORDER BY id LIMIT 1'",
            "SET @n = 'bob'",
            "EXECUTE del USING @n",
            "SELECT id FROM user ORDER BY id",
            // No parameters; a statement text from a variable; re-PREPARE replaces.
            "SET @q = 'SELECT COUNT(*) FROM user'",
            "PREPARE cnt FROM @q",
            "EXECUTE cnt",
            "PREPARE one FROM 'SELECT name FROM user WHERE id = ? + 1'",
            "SET @id = 2",
            "EXECUTE one USING @id",
            "DEALLOCATE PREPARE one",
            "DROP PREPARE cnt",
            // A parameter in the select list keeps MariaDB's column name through its alias.
            "PREPARE tag FROM 'SELECT ? AS tag, name FROM user WHERE id = ?'",
            "EXECUTE tag USING @n, @id",
        ],
    )
    .await;
    // Errors as MariaDB gives them.
    for (sql, code) in [
        ("EXECUTE one USING @id", 1243),
        ("DEALLOCATE PREPARE one", 1243),
        ("EXECUTE many USING @n", 1210),
        ("PREPARE bad FROM 'SELEKT 1'", 1064),
    ] {
        assert_eq!(error_code(&mut proxied, sql).await, code, "{sql}");
        assert_eq!(error_code(&mut direct, sql).await, code, "direct {sql}");
    }
    // The column names are MariaDB's too.
    let names = |rows: &[Row]| -> Vec<String> {
        rows.first()
            .map(|r| {
                r.columns_ref()
                    .iter()
                    .map(|c| c.name_str().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    for c in [&mut direct, &mut proxied] {
        c.query_drop("SET @id = 3").await.expect("set");
    }
    let want: Vec<Row> = direct
        .query("EXECUTE tag USING @n, @id")
        .await
        .expect("direct");
    let got: Vec<Row> = proxied
        .query("EXECUTE tag USING @n, @id")
        .await
        .expect("proxied");
    assert_eq!(names(&got), names(&want));
    assert_eq!(names(&got), ["tag", "name"]);
    // Without the alias MariaDB names the column '?': refused rather than renamed.
    assert_eq!(
        error_code(&mut proxied, "PREPARE bare FROM 'SELECT ?, name FROM user'").await,
        1235
    );
    // A variable whose value the proxy cannot know is refused, not guessed.
    proxied
        .query_drop("SET @x = (SELECT 2)")
        .await
        .expect("set expression");
    assert_eq!(
        error_code(&mut proxied, "EXECUTE many USING @x, @s, @l").await,
        1235
    );
    proxied.query_drop("SET @x = 2").await.expect("set literal");
    let rows: Vec<Row> = proxied
        .query("EXECUTE many USING @n, @x, @l")
        .await
        .expect("known again");
    assert_eq!(rows.len(), 3);
    proxied
        .query_drop("SELECT @x := 9")
        .await
        .expect("assignment in a select");
    assert_eq!(
        error_code(&mut proxied, "EXECUTE many USING @n, @x, @l").await,
        1235
    );
    env.stop().await;
}

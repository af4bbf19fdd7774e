//! Nothing a client can ask reveals the backend's file-system paths, host name or database
//! names: each probe (server variables, SHOW VARIABLES/STATUS/PROCESSLIST, system tables,
//! nested PREPARE/EXECUTE IMMEDIATE, error messages, table maintenance results, DATABASE())
//! is either refused or answered without any of the secrets read directly from the shard.

mod common;

use common::{EnvSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row, Value};

/// Every cell and column name of every result set of `sql`, or the error message.
async fn answer(c: &mut Conn, sql: &str) -> Result<Vec<String>, (u16, String)> {
    let mut out = Vec::new();
    let mut result = match c.query_iter(sql).await {
        Ok(r) => r,
        Err(mysql_async::Error::Server(e)) => return Err((e.code, e.message)),
        Err(e) => panic!("{sql}: {e}"),
    };
    loop {
        if let Some(cols) = result.columns() {
            for col in cols.iter() {
                out.push(col.name_str().into_owned());
                out.push(String::from_utf8_lossy(col.schema_ref()).into_owned());
                out.push(String::from_utf8_lossy(col.table_ref()).into_owned());
                out.push(String::from_utf8_lossy(col.org_table_ref()).into_owned());
            }
        }
        let rows: Vec<Row> = match result.collect().await {
            Ok(r) => r,
            Err(mysql_async::Error::Server(e)) => return Err((e.code, e.message)),
            Err(e) => panic!("{sql}: {e}"),
        };
        for row in rows {
            for v in row.unwrap() {
                out.push(match v {
                    Value::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
                    other => format!("{other:?}"),
                });
            }
        }
        if result.is_empty() {
            break;
        }
    }
    Ok(out)
}

async fn secrets(env: &TestEnv) -> Vec<String> {
    let mut direct = env.shard_conn("commerce", "0").await;
    let mut s = Vec::new();
    for var in [
        "datadir",
        "basedir",
        "tmpdir",
        "plugin_dir",
        "socket",
        "log_error",
        "general_log_file",
        "slow_query_log_file",
        "pid_file",
        "hostname",
    ] {
        let v: Option<Option<String>> = direct
            .query_first(format!("SELECT CAST(@@{var} AS CHAR)"))
            .await
            .unwrap_or_else(|e| panic!("@@{var}: {e}"));
        let v = v.flatten().unwrap_or_default();
        // A bare file name relative to the datadir reveals nothing by itself.
        let v = v.trim_end_matches('/').to_string();
        if v.len() > 3 && (v.contains('/') || var == "hostname") {
            s.push(v);
        }
    }
    for (ks, shard) in [("commerce", "0"), ("customer", "-80"), ("customer", "80-")] {
        s.push(env.shard_database(ks, shard));
    }
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn backend_paths_and_names_never_reach_clients() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let secrets = secrets(&env).await;
    let mut root = env.client().await;
    root.query_drop("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .expect("create");
    root.query_drop("CREATE TABLE customer.c (id BIGINT PRIMARY KEY)")
        .await
        .expect("create sharded");
    let probes = [
        "SELECT @@datadir",
        "SELECT @@basedir",
        "SELECT @@tmpdir",
        "SELECT @@plugin_dir",
        "SELECT @@socket",
        "SELECT @@log_error",
        "SELECT @@general_log_file",
        "SELECT @@slow_query_log_file",
        "SELECT @@log_slow_query_file",
        "SELECT @@pid_file",
        "SELECT @@secure_file_priv",
        "SELECT @@hostname",
        "SELECT @@report_host",
        "SELECT @@global.datadir",
        "SELECT @@GLOBAL.`datadir`",
        "SELECT @@session.tmpdir",
        "SELECT @@innodb_data_home_dir, @@innodb_log_group_home_dir",
        "SELECT @@log_basename",
        "SELECT @@character_sets_dir, @@lc_messages_dir",
        "SHOW VARIABLES LIKE '%dir%'",
        "SHOW GLOBAL VARIABLES",
        "SHOW SESSION VARIABLES WHERE Variable_name = 'datadir'",
        "SHOW STATUS",
        "SHOW PROCESSLIST",
        "SHOW FULL PROCESSLIST",
        "SELECT * FROM information_schema.GLOBAL_VARIABLES",
        "SELECT * FROM information_schema.SESSION_VARIABLES",
        "SELECT * FROM information_schema.PROCESSLIST",
        "SELECT * FROM performance_schema.global_variables",
        "SELECT DATABASE()",
        "SELECT SCHEMA()",
        "EXECUTE IMMEDIATE 'SELECT @@datadir'",
        "PREPARE s FROM 'SELECT @@datadir'",
        "SELECT * FROM no_such_table",
        "SELECT * FROM customer.no_such_table",
        "SELECT no_such_column FROM t",
        "INSERT INTO t VALUES (1), (1)",
        "CHECK TABLE t",
        "ANALYZE TABLE t",
        "OPTIMIZE TABLE t",
        "CHECKSUM TABLE t",
        "REPAIR TABLE t",
        "SHOW TABLE STATUS",
        "SHOW CREATE TABLE t",
        "SHOW WARNINGS",
        "SELECT CURRENT_USER(), USER()",
        "SELECT @@version_comment",
    ];
    let mut leaks = Vec::new();
    for user in ["app", "root"] {
        let password = if user == "app" { "secret" } else { "" };
        let mut c = env.client_as(user, password, Some("commerce")).await;
        for sql in probes {
            let texts = match answer(&mut c, sql).await {
                Ok(cells) => cells,
                Err((_, message)) => vec![message],
            };
            for text in texts {
                if let Some(secret) = secrets.iter().find(|s| text.contains(s.as_str())) {
                    leaks.push(format!("{user}: {sql}: reveals {secret:?} in {text:?}"));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));

    // The renamed answers name the keyspace where the shard named its database.
    let mut c = env.client_as("app", "secret", Some("commerce")).await;
    let err = answer(&mut c, "SELECT * FROM no_such_table")
        .await
        .expect_err("no such table");
    assert_eq!(
        err,
        (1146, "Table 'commerce.no_such_table' doesn't exist".into())
    );
    let cells = answer(&mut c, "CHECK TABLE t").await.expect("check");
    assert!(cells.iter().any(|v| v == "commerce.t"), "{cells:?}");
    let stmt = c.prep("CHECKSUM TABLE t").await.expect("prepare");
    let rows: Vec<Row> = c.exec(&stmt, ()).await.expect("execute");
    let first: Option<String> = rows[0].get(0);
    assert_eq!(first.as_deref(), Some("commerce.t"));
    env.stop().await;
}

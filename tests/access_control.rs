//! Access control against real mariadbd: a non-admin proxy user tries every statement that
//! would make it root on the shards (server administration, accounts, global variables,
//! plugins, file access, replication, other databases, backend paths), through every statement
//! path (text, multi-statement, prepared, `/*! */` comments, unsharded and sharded keyspaces),
//! and gets the error while the shards stay unchanged; ordinary statements keep working; a
//! read-only user cannot write or run DDL; a user limited to one keyspace cannot reach another.

mod common;

use common::errors::expect_error;
use common::{EnvSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use shardgate::config::UserConfig;

fn user(name: &str, keyspaces: Option<&[&str]>, read_only: bool, admin: bool) -> UserConfig {
    UserConfig {
        name: name.into(),
        password: "pw".into(),
        password_hash: None,
        admin,
        keyspaces: keyspaces.map(|l| l.iter().map(|s| s.to_string()).collect()),
        read_only,
    }
}

async fn scalar(c: &mut Conn, sql: &str) -> String {
    let v: Option<Option<String>> = c
        .query_first(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    v.flatten().unwrap_or_default()
}

/// Every shard-root statement is refused for a non-admin user on an unsharded keyspace, and
/// none of them changed the shard: it still runs, no account, global, plugin, server or file
/// appeared.
#[tokio::test(flavor = "multi_thread")]
async fn non_admin_cannot_use_shard_root() {
    // commerce/0 on a server of its own: a SHUTDOWN that got through stops only it.
    let env = TestEnv::start(EnvSpec::default().with_private_shard("commerce", "0")).await;
    let mut root = env.client().await;
    root.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))")
        .await
        .expect("create");
    root.query_drop("INSERT INTO t VALUES (1, 'a')")
        .await
        .expect("insert");
    let mut direct = env.shard_conn("commerce", "0").await;
    let other_db = format!("acc_other_{}", env.port());
    direct
        .query_drop(format!(
            "CREATE DATABASE {other_db}; CREATE TABLE {other_db}.secret (s TEXT); \
             INSERT INTO {other_db}.secret VALUES ('hidden')"
        ))
        .await
        .expect("other database");
    let evil = format!("evil_{}", env.port());
    let max_conn = scalar(&mut direct, "SELECT @@global.max_connections").await;
    let plugins = scalar(
        &mut direct,
        "SELECT COUNT(*) FROM information_schema.PLUGINS",
    )
    .await;
    let servers = scalar(&mut direct, "SELECT COUNT(*) FROM mysql.servers").await;
    let funcs = scalar(&mut direct, "SELECT COUNT(*) FROM mysql.func").await;
    let outfile = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("access_outfile_{}", env.port()));
    let _ = std::fs::remove_file(&outfile);
    let out = outfile.display().to_string();

    let mut app = env.client_as("app", "secret", Some("commerce")).await;
    let refused: Vec<(String, u16)> = vec![
        ("SHUTDOWN".into(), 1227),
        ("/*!50000 SHUTDOWN */".into(), 1227),
        (format!("CREATE USER {evil} IDENTIFIED BY 'x'"), 1227),
        (
            format!("GRANT ALL ON *.* TO {evil} IDENTIFIED BY 'x'"),
            1227,
        ),
        (format!("CREATE OR REPLACE USER {evil}"), 1227),
        ("DROP USER root".into(), 1227),
        ("ALTER USER root@localhost IDENTIFIED BY 'x'".into(), 1227),
        ("RENAME USER root TO r2".into(), 1227),
        ("REVOKE ALL PRIVILEGES, GRANT OPTION FROM root".into(), 1227),
        ("SET PASSWORD = PASSWORD('x')".into(), 1227),
        ("SET GLOBAL max_connections = 7".into(), 1227),
        ("SET @@global.max_connections = 7".into(), 1227),
        ("SET PERSIST max_connections = 7".into(), 1227),
        ("SET sql_log_bin = 0".into(), 1227),
        ("INSTALL SONAME 'ha_archive'".into(), 1227),
        ("INSTALL PLUGIN archive SONAME 'ha_archive'".into(), 1227),
        ("UNINSTALL PLUGIN innodb".into(), 1227),
        (
            "CREATE FUNCTION f_evil RETURNS STRING SONAME 'udf_evil.so'".into(),
            1227,
        ),
        ("SELECT LOAD_FILE('/etc/passwd')".into(), 1227),
        (format!("SELECT * FROM t INTO OUTFILE '{out}'"), 1227),
        (format!("SELECT v FROM t INTO DUMPFILE '{out}'"), 1227),
        ("LOAD DATA INFILE '/etc/passwd' INTO TABLE t".into(), 1227),
        ("LOAD XML INFILE '/etc/passwd' INTO TABLE t".into(), 1227),
        // `KILL [QUERY] <id>` names the proxy's sessions (tests/kill.rs); the other forms
        // would reach backend threads.
        ("KILL USER root".into(), 1227),
        ("KILL QUERY ID 1".into(), 1227),
        ("FLUSH PRIVILEGES".into(), 1227),
        ("FLUSH TABLES WITH READ LOCK".into(), 1227),
        ("RESET MASTER".into(), 1227),
        ("PURGE BINARY LOGS BEFORE NOW()".into(), 1227),
        ("CHANGE MASTER TO MASTER_HOST='127.0.0.1'".into(), 1227),
        ("START SLAVE".into(), 1227),
        ("STOP SLAVE".into(), 1227),
        ("STOP REPLICA".into(), 1227),
        (
            "CREATE SERVER s_evil FOREIGN DATA WRAPPER mysql OPTIONS (HOST '127.0.0.1')".into(),
            1227,
        ),
        ("DROP SERVER s_evil".into(), 1227),
        ("BINLOG 'AAAA'".into(), 1227),
        ("SELECT @@datadir".into(), 1227),
        ("SELECT @@basedir".into(), 1227),
        ("SELECT @@global.plugin_dir".into(), 1227),
        ("SELECT @@secure_file_priv".into(), 1227),
        ("SHOW GRANTS".into(), 1227),
        // (SHOW VARIABLES is answered with the path rows left out: tests/server_identity.rs.)
        ("PREPARE s FROM 'SHUTDOWN'".into(), 1227),
        ("SET STATEMENT max_statement_time = 5 FOR SHUTDOWN".into(), 1227),
        ("SHOW DATABASES LIKE '%'".into(), 1227),
        (
            "CREATE TABLE fed (a INT) ENGINE=FEDERATED CONNECTION='mysql://root@127.0.0.1/mysql/user'"
                .into(),
            1227,
        ),
        ("CREATE PROCEDURE p_evil() BEGIN SHUTDOWN; END".into(), 1227),
        (
            "CREATE DEFINER=root@localhost PROCEDURE p_evil() SELECT 1".into(),
            1227,
        ),
        ("SELECT * FROM mysql.user".into(), 1044),
        ("SELECT User, Password FROM `mysql`.`user`".into(), 1044),
        ("SELECT * FROM information_schema.USER_PRIVILEGES".into(), 1044),
        ("SELECT * FROM performance_schema.threads".into(), 1044),
        ("SELECT * FROM sys.version".into(), 1044),
        (format!("SELECT * FROM {other_db}.secret"), 1044),
        (
            format!("SELECT * FROM t AS {other_db}, {other_db}.secret"),
            1044,
        ),
        (
            format!("INSERT INTO t SELECT 2, s FROM {other_db}.secret"),
            1044,
        ),
        ("CREATE DATABASE evil_db".into(), 1044),
        (format!("DROP DATABASE {other_db}"), 1044),
        ("SHOW TABLES FROM mysql".into(), 1044),
        ("HANDLER t OPEN".into(), 1235),
        ("FOO BAR".into(), 1064),
    ];
    for (sql, code) in &refused {
        expect_error(app.query_drop(sql.as_str()).await, *code, sql);
    }
    // KILL with an id reaches only the proxy's sessions, and only the user's own: root's
    // session (and every shard thread) is out of app's reach.
    expect_error(
        app.query_drop(format!("KILL {}", root.id())).await,
        1095,
        "KILL of another user's session",
    );
    expect_error(
        app.query_drop(format!("KILL QUERY {}", root.id())).await,
        1095,
        "KILL QUERY of another user's session",
    );
    // SHOW PROCESSLIST is the proxy's list, app's own sessions only (no PROCESS privilege).
    let listed: Vec<(u32, String)> = app
        .query_map("SHOW PROCESSLIST", |row: mysql_async::Row| {
            (
                row.get::<u32, _>("Id").unwrap_or_default(),
                row.get::<String, _>("User").unwrap_or_default(),
            )
        })
        .await
        .expect("SHOW PROCESSLIST");
    assert_eq!(
        listed,
        [(app.id(), "app".to_string())],
        "app sees only itself"
    );
    // A second statement of a multi-statement text is checked too.
    expect_error(
        app.query_drop("SELECT 1; SELECT * FROM mysql.user").await,
        1044,
        "multi-statement",
    );
    // COM_STMT_PREPARE never reaches the shard with them either.
    expect_error(
        app.prep("SELECT * FROM mysql.user").await,
        1044,
        "prepare mysql.user",
    );
    expect_error(
        app.prep("SELECT LOAD_FILE(?)").await,
        1227,
        "prepare LOAD_FILE",
    );
    expect_error(app.prep("SHUTDOWN").await, 1227, "prepare SHUTDOWN");
    // USE / COM_INIT_DB reach keyspaces only.
    expect_error(app.query_drop("USE mysql").await, 1049, "USE mysql");
    expect_error(
        app.query_drop(format!("USE {other_db}")).await,
        1049,
        "USE other",
    );

    // The shard is unchanged.
    assert_eq!(
        scalar(&mut direct, "SELECT 1").await,
        "1",
        "the shard still runs"
    );
    let users = scalar(
        &mut direct,
        &format!("SELECT COUNT(*) FROM mysql.user WHERE User = '{evil}'"),
    )
    .await;
    assert_eq!(users, "0", "no account was created");
    assert_eq!(
        scalar(&mut direct, "SELECT @@global.max_connections").await,
        max_conn
    );
    assert_eq!(
        scalar(
            &mut direct,
            "SELECT COUNT(*) FROM information_schema.PLUGINS"
        )
        .await,
        plugins
    );
    assert_eq!(
        scalar(&mut direct, "SELECT COUNT(*) FROM mysql.servers").await,
        servers
    );
    assert_eq!(
        scalar(&mut direct, "SELECT COUNT(*) FROM mysql.func").await,
        funcs
    );
    assert_eq!(scalar(&mut direct, "SELECT @@sql_log_bin").await, "1");
    assert!(!outfile.exists(), "no file was written");
    assert_eq!(
        scalar(
            &mut direct,
            &format!("SELECT COUNT(*) FROM {other_db}.secret")
        )
        .await,
        "1"
    );
    assert_eq!(scalar(&mut direct, "SELECT COUNT(*) FROM t").await, "1");
    assert_eq!(
        scalar(
            &mut direct,
            "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_NAME = 'p_evil'"
        )
        .await,
        "0"
    );

    // Ordinary work still runs, including statements close to refused ones.
    app.query_drop("INSERT INTO t VALUES (2, 'mysql.user')")
        .await
        .expect("insert");
    app.query_drop("UPDATE t SET v = 'LOAD_FILE(x)' WHERE t.id = 2")
        .await
        .expect("update");
    assert_eq!(
        scalar(&mut app, "SELECT COUNT(*) FROM commerce.t").await,
        "2"
    );
    assert_eq!(
        scalar(
            &mut app,
            "SELECT x.v FROM t x WHERE x.id = 2 /* SHUTDOWN */"
        )
        .await,
        "LOAD_FILE(x)"
    );
    app.query_drop("SET NAMES utf8mb4")
        .await
        .expect("set names");
    app.query_drop("SET SESSION sql_mode = 'ANSI_QUOTES'")
        .await
        .expect("set session");
    app.query_drop("CREATE TABLE u (id INT PRIMARY KEY)")
        .await
        .expect("ddl");
    app.query_drop("DROP TABLE u").await.expect("drop");
    let stmt = app
        .prep("SELECT v FROM t WHERE id = ?")
        .await
        .expect("prepare");
    let v: Option<String> = app.exec_first(&stmt, (1,)).await.expect("execute");
    assert_eq!(v.as_deref(), Some("a"));
    assert!(!scalar(&mut app, "SELECT @@version").await.is_empty());
    // The session's sql_mode decides how the shard reads quotes and backslashes: the check
    // reads the statement the same way.
    let mut moded = env.client_as("app", "secret", Some("commerce")).await;
    moded
        .query_drop("SET SESSION sql_mode = 'ANSI_QUOTES'")
        .await
        .expect("ansi quotes");
    expect_error(
        moded.query_drop(r#"SELECT * FROM "mysql"."user""#).await,
        1044,
        "ANSI_QUOTES mysql.user",
    );
    moded
        .query_drop("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'")
        .await
        .expect("no backslash escapes");
    expect_error(
        moded
            .query_drop(r"SELECT 'a\', LOAD_FILE('/etc/passwd') -- '")
            .await,
        1235,
        "NO_BACKSLASH_ESCAPES hidden LOAD_FILE",
    );
    let _ = direct.query_drop(format!("DROP DATABASE {other_db}")).await;
    env.stop().await;
}

/// The same checks on a sharded keyspace (the planner path).
#[tokio::test(flavor = "multi_thread")]
async fn sharded_keyspace_is_checked_too() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut app = env.client_as("app", "secret", Some("customer")).await;
    for (sql, code) in [
        ("SELECT * FROM mysql.user", 1044),
        ("SELECT LOAD_FILE('/etc/passwd')", 1227),
        ("SELECT @@datadir", 1227),
        ("SELECT * FROM information_schema.GLOBAL_VARIABLES", 1044),
        ("SET GLOBAL max_connections = 7", 1227),
    ] {
        expect_error(app.query_drop(sql).await, code, sql);
    }
    env.stop().await;
}

/// A read-only user reads but cannot write or run DDL; a user granted one keyspace cannot
/// reach the other; VERIFY VINDEX needs admin.
#[tokio::test(flavor = "multi_thread")]
async fn grants_limit_keyspaces_and_writes() {
    let mut spec = EnvSpec::default();
    spec.users.push(user("reader", None, true, false));
    spec.users
        .push(user("commerce_only", Some(&["commerce"]), false, false));
    spec.users
        .push(user("customer_only", Some(&["customer"]), false, false));
    let env = TestEnv::start(spec).await;
    let mut root = env.client().await;
    root.query_drop("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .expect("create");
    root.query_drop("INSERT INTO t VALUES (1)")
        .await
        .expect("insert");

    let mut reader = env.client_as("reader", "pw", Some("commerce")).await;
    assert_eq!(scalar(&mut reader, "SELECT COUNT(*) FROM t").await, "1");
    for sql in [
        "INSERT INTO t VALUES (2)",
        "UPDATE t SET id = 3",
        "DELETE FROM t",
        "REPLACE INTO t VALUES (4)",
        "CREATE TABLE r (a INT)",
        "DROP TABLE t",
        "TRUNCATE t",
        "LOCK TABLES t WRITE",
        "PREPARE s FROM 'DELETE FROM t'",
    ] {
        expect_error(reader.query_drop(sql).await, 1142, sql);
    }
    let ins = reader.prep("INSERT INTO t VALUES (?)").await;
    if let Ok(stmt) = ins {
        expect_error(reader.exec_drop(&stmt, (5,)).await, 1142, "prepared insert");
    }
    let mut direct = env.shard_conn("commerce", "0").await;
    assert_eq!(scalar(&mut direct, "SELECT COUNT(*) FROM t").await, "1");
    assert_eq!(
        scalar(&mut direct, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_NAME = 'r' AND TABLE_SCHEMA = DATABASE()").await,
        "0"
    );

    let mut limited = env.client_as("commerce_only", "pw", Some("commerce")).await;
    assert_eq!(scalar(&mut limited, "SELECT COUNT(*) FROM t").await, "1");
    expect_error(
        limited.query_drop("USE customer").await,
        1044,
        "USE customer",
    );
    expect_error(
        limited.query_drop("SELECT * FROM customer.c").await,
        1044,
        "customer.c",
    );
    // The login's default database is checked at the handshake itself (mysql_async sends no
    // statement first when told not to).
    let url = env.url("commerce_only", "pw", Some("customer"));
    let opts = mysql_async::OptsBuilder::from_opts(
        mysql_async::Opts::from_url(url.as_str()).expect("url"),
    )
    .init(Vec::<String>::new());
    match Conn::new(opts).await {
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1044, "{e}"),
        other => panic!("connecting with customer as default database: {other:?}"),
    }

    // Without a database, session setup still works; data in an ungranted keyspace does not.
    spec_check_customer_only(&env).await;

    let mut app = env.client_as("app", "secret", Some("customer")).await;
    expect_error(
        app.query_drop("VERIFY VINDEX customer.nope").await,
        1142,
        "VERIFY VINDEX",
    );
    env.stop().await;
}

fn check_connect(config: &shardgate::config::Config) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shardgate.toml");
    std::fs::write(&path, config.to_toml()).expect("write config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shardgate"))
        .args(["check", "--connect", "--config"])
        .arg(&path)
        .output()
        .expect("run shardgate check");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

/// `shardgate check --connect` warns for each shard whose URL user is root-like, and not for a
/// least-privilege account (data privileges on the shard database only).
#[tokio::test(flavor = "multi_thread")]
async fn check_connect_warns_about_backend_privileges() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let text = check_connect(&env.config);
    let grant_warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("warning:") && l.contains("the shard URL's user has"))
        .collect();
    assert_eq!(grant_warnings.len(), 3, "one per shard: {text}");
    assert!(
        grant_warnings
            .iter()
            .all(|l| l.contains("ALL PRIVILEGES ON *.*")),
        "{text}"
    );

    // The same shards through a least-privilege account.
    let account = format!("sg_lp_{}", env.port());
    let mut config = env.config.clone();
    let mut servers: Vec<u16> = Vec::new();
    for ks in ["commerce", "customer"] {
        let shards: &[&str] = if ks == "commerce" {
            &["0"]
        } else {
            &["-80", "80-"]
        };
        for shard in shards {
            let port = env.shard_port(ks, shard);
            let mut direct = env.shard_conn(ks, shard).await;
            if !servers.contains(&port) {
                servers.push(port);
                direct
                    .query_drop(format!(
                        "CREATE USER IF NOT EXISTS '{account}'@'%' IDENTIFIED BY 'pw'"
                    ))
                    .await
                    .expect("create least-privilege user");
            }
            let db = env.shard_database(ks, shard);
            direct
                .query_drop(format!(
                    "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, \
                     CREATE TEMPORARY TABLES, LOCK TABLES ON `{db}`.* TO '{account}'@'%'"
                ))
                .await
                .expect("grant");
        }
    }
    for ks in &mut config.keyspaces {
        for shard in &mut ks.shards {
            shard.url = shard.url.replacen("root@", &format!("{account}:pw@"), 1);
        }
    }
    let text = check_connect(&config);
    assert!(
        !text.contains("the shard URL's user has"),
        "a least-privilege account gets no warning: {text}"
    );
    for (ks, shard) in [("commerce", "0"), ("customer", "-80"), ("customer", "80-")] {
        let mut direct = env.shard_conn(ks, shard).await;
        let _ = direct
            .query_drop(format!("DROP USER IF EXISTS '{account}'@'%'"))
            .await;
    }
    env.stop().await;
}

async fn spec_check_customer_only(env: &TestEnv) {
    let mut c = env.client_as("customer_only", "pw", None).await;
    c.query_drop("SET NAMES utf8mb4").await.expect("set names");
    c.query_drop("BEGIN").await.expect("begin");
    c.query_drop("COMMIT").await.expect("commit");
    expect_error(
        c.query_drop("SELECT * FROM t").await,
        1044,
        "default keyspace commerce",
    );
    expect_error(c.query_drop("USE commerce").await, 1044, "USE commerce");
    c.query_drop("USE customer").await.expect("use customer");
}

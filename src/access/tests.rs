//! Unit tests for the statement classifier: every refused construct, and ordinary statements
//! (including ones that look close to refused ones) that must still pass.

use super::{check_statement, Denial};
use crate::access::grants::{write_need, WriteNeed};
use crate::sql::classify;

fn check(sql: &str) -> Result<(), Denial> {
    check_statement(sql, &|db| db == "commerce" || db == "customer")
}

fn code(sql: &str) -> Option<u16> {
    check(sql).err().map(|d| d.into_error("app").to_wire().0)
}

#[test]
fn refuses_server_administration() {
    let cases = [
        ("SHUTDOWN", 1227),
        ("shutdown wait for all slaves", 1227),
        ("CREATE USER evil IDENTIFIED BY 'x'", 1227),
        ("create or replace user evil", 1227),
        ("CREATE ROLE r", 1227),
        ("DROP USER app", 1227),
        ("ALTER USER root@localhost IDENTIFIED BY 'x'", 1227),
        ("RENAME USER a TO b", 1227),
        ("GRANT ALL ON *.* TO evil", 1227),
        ("REVOKE ALL ON *.* FROM app", 1227),
        ("SET PASSWORD = PASSWORD('x')", 1227),
        ("SET PASSWORD FOR root@localhost = PASSWORD('x')", 1227),
        ("SET ROLE admin", 1227),
        ("SET DEFAULT ROLE admin", 1227),
        ("SET GLOBAL max_connections = 1", 1227),
        ("set @@global.read_only = 1", 1227),
        ("SET @@GLOBAL.general_log = 1", 1227),
        ("SET sql_mode = '', GLOBAL max_connections = 1", 1227),
        ("SET PERSIST max_connections = 1", 1227),
        ("SET @@ global.max_connections = 1", 1227),
        ("SET @ @global.max_connections = 1", 1227),
        ("SET sql_log_bin = 0", 1227),
        ("SET SESSION debug_dbug = '+d'", 1227),
        ("INSTALL SONAME 'ha_connect'", 1227),
        ("INSTALL PLUGIN x SONAME 'x.so'", 1227),
        ("UNINSTALL PLUGIN x", 1227),
        ("UNINSTALL SONAME 'x'", 1227),
        // `KILL [QUERY|CONNECTION] <id>` and `SHOW [FULL] PROCESSLIST` are answered by the
        // proxy about its own sessions (server/kill.rs) before this check; what would reach a
        // shard (backend thread ids, the shard's processlist) stays refused here.
        ("KILL 5", 1227),
        ("KILL QUERY 5", 1227),
        ("KILL CONNECTION 5", 1227),
        ("KILL USER root", 1227),
        ("KILL QUERY ID 5", 1227),
        ("FLUSH PRIVILEGES", 1227),
        ("FLUSH TABLES WITH READ LOCK", 1227),
        ("RESET MASTER", 1227),
        ("PURGE BINARY LOGS BEFORE NOW()", 1227),
        ("CHANGE MASTER TO MASTER_HOST='evil'", 1227),
        ("CHANGE REPLICATION FILTER REPLICATE_DO_DB=(x)", 1227),
        ("START SLAVE", 1227),
        ("START REPLICA", 1227),
        ("START ALL SLAVES", 1227),
        ("STOP SLAVE", 1227),
        ("STOP REPLICA", 1227),
        (
            "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST 'x')",
            1227,
        ),
        ("DROP SERVER s", 1227),
        ("CREATE FUNCTION f RETURNS STRING SONAME 'udf.so'", 1227),
        (
            "CREATE AGGREGATE FUNCTION f RETURNS STRING SONAME 'udf.so'",
            1227,
        ),
        ("BINLOG 'AAAA'", 1227),
        ("BACKUP STAGE START", 1227),
        ("LOAD DATA INFILE '/etc/passwd' INTO TABLE t", 1227),
        ("LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE t", 1227),
        ("LOAD XML INFILE '/x.xml' INTO TABLE t", 1227),
        ("SELECT LOAD_FILE('/etc/passwd')", 1227),
        ("select load_file ('/etc/passwd')", 1227),
        ("SELECT * FROM t INTO OUTFILE '/tmp/x'", 1227),
        ("SELECT 'x' INTO DUMPFILE '/tmp/x'", 1227),
        ("select * into outfile '/tmp/x' from t", 1227),
        ("SELECT @@datadir", 1227),
        ("SELECT @@global.basedir, 1", 1227),
        ("SELECT @@plugin_dir", 1227),
        ("SELECT @@secure_file_priv", 1227),
        ("SELECT @@GLOBAL.`tmpdir`", 1227),
        ("SELECT @@`datadir`", 1227),
        ("SELECT @@ datadir", 1227),
        ("SELECT @@global . datadir", 1227),
        ("SELECT @ @datadir", 1227),
        ("SHOW PROCESSLIST", 1227),
        ("SHOW FULL PROCESSLIST", 1227),
        ("SHOW GRANTS", 1227),
        ("SHOW GRANTS FOR root@localhost", 1227),
        ("SHOW VARIABLES LIKE 'datadir'", 1227),
        ("SHOW GLOBAL VARIABLES", 1227),
        ("SHOW MASTER STATUS", 1227),
        ("SHOW SLAVE STATUS", 1227),
        ("SHOW BINARY LOGS", 1227),
        ("SHOW CREATE USER root", 1227),
        ("/*!50000 SHUTDOWN */", 1227),
        ("/* x */ SHUTDOWN", 1227),
        ("(shutdown)", 1227),
        ("CREATE DEFINER=root@localhost PROCEDURE p() SELECT 1", 1227),
        ("CREATE PROCEDURE p() BEGIN SHUTDOWN; END", 1227),
        ("CREATE PROCEDURE p() BEGIN SET GLOBAL x = 1; END", 1227),
        ("CREATE PROCEDURE p() BEGIN CREATE USER e; END", 1227),
        (
            "CREATE PROCEDURE p() BEGIN PREPARE s FROM @q; EXECUTE s; END",
            1235,
        ),
        ("CREATE EVENT e ON SCHEDULE EVERY 1 SECOND DO KILL 1", 1227),
        ("BEGIN NOT ATOMIC SHUTDOWN; END", 1227),
        ("PREPARE s FROM 'SHUTDOWN'", 1227),
        ("PREPARE s FROM @sql", 1235),
        (
            "EXECUTE IMMEDIATE 'SELECT LOAD_FILE(\\'/etc/passwd\\')'",
            1227,
        ),
        ("EXECUTE IMMEDIATE CONCAT('SHUT', 'DOWN')", 1235),
        ("HANDLER t OPEN", 1235),
        ("SET STATEMENT max_statement_time = 1 FOR SHUTDOWN", 1227),
        (
            "SET STATEMENT max_statement_time = 1 FOR SELECT LOAD_FILE('/x')",
            1227,
        ),
        ("SHOW DATABASES LIKE '%'", 1227),
        ("SHOW SCHEMAS", 1227),
        ("SHOW OPEN TABLES", 1227),
        ("SHOW PROCEDURE STATUS", 1227),
        (
            "CREATE TABLE f (a int) ENGINE=FEDERATED CONNECTION='mysql://u@h/db/t'",
            1227,
        ),
        (
            "CREATE TABLE f (a int) ENGINE = CONNECT TABLE_TYPE=CSV FILE_NAME='/etc/passwd'",
            1227,
        ),
        ("CREATE TABLE f (a int) ENGINE=Spider COMMENT='x'", 1227),
        ("CREATE TABLE f (a int) DATA DIRECTORY = '/tmp'", 1227),
        ("ALTER TABLE t ENGINE=CONNECT", 1227),
        ("FOO BAR", 1064),
        ("SELEC 1", 1064),
        ("'x'", 1064),
    ];
    for (sql, want) in cases {
        assert_eq!(code(sql), Some(want), "{sql}");
    }
}

#[test]
fn refuses_other_databases() {
    let cases = [
        "SELECT * FROM mysql.user",
        "select user, password from `mysql`.`user`",
        "SELECT * FROM mysql . user",
        "SELECT * FROM performance_schema.threads",
        "SELECT * FROM sys.session",
        "SELECT * FROM information_schema.tables",
        "SELECT * FROM INFORMATION_SCHEMA.PROCESSLIST",
        "SELECT * FROM t JOIN otherdb.secret s ON t.a = s.a",
        "SELECT * FROM t, otherdb.secret",
        "SELECT * FROM t AS otherdb, otherdb.secret",
        "SELECT otherdb.secret.c FROM t AS otherdb",
        "SELECT otherdb.f(1)",
        "SELECT * FROM (SELECT * FROM otherdb.secret) x",
        "INSERT INTO otherdb.t VALUES (1)",
        "UPDATE otherdb.t SET a = 1",
        "DELETE FROM otherdb.t",
        "INSERT INTO t SELECT * FROM mysql.user",
        "CREATE TABLE t LIKE otherdb.x",
        "CREATE TABLE otherdb.x (a int)",
        "DROP TABLE otherdb.x",
        "RENAME TABLE t TO otherdb.t",
        "ALTER TABLE t RENAME TO otherdb.t",
        "TRUNCATE otherdb.t",
        "DESC mysql.user",
        "CREATE DATABASE evil",
        "DROP DATABASE mysql",
        "CREATE SCHEMA IF NOT EXISTS evil",
        "SHOW TABLES FROM mysql",
        "SHOW TABLES IN otherdb",
        "SHOW COLUMNS FROM user FROM mysql",
        "SHOW CREATE TABLE mysql.user",
        "SHOW CREATE DATABASE mysql",
        "LOCK TABLES t READ, mysql.user READ",
        "SELECT * FROM t WHERE a IN (SELECT user FROM mysql.user)",
        "CREATE VIEW v AS SELECT * FROM mysql.user",
        "SELECT /*!50000 * FROM mysql.user */",
        "ALTER TABLE otherdb RENAME otherdb.t2",
        "CALL otherdb.otherdb",
        "CALL otherdb.p",
        "CREATE INDEX otherdb ON otherdb.x (c)",
        "CREATE TRIGGER otherdb BEFORE INSERT ON otherdb.x FOR EACH ROW SET @a = 1",
        "CREATE TABLE otherdb LIKE otherdb.x",
        "DROP TABLE IF EXISTS otherdb.x",
        "PREPARE s FROM 'SELECT * FROM otherdb.x'",
    ];
    for sql in cases {
        assert_eq!(code(sql), Some(1044), "{sql}");
    }
}

#[test]
fn allows_ordinary_statements() {
    let cases = [
        "SELECT 1",
        "select * from t where id = 5",
        "SELECT t.a, u.b FROM t JOIN u ON t.id = u.id WHERE t.x LIKE u.y ORDER BY t.a DESC, u.b",
        "SELECT x.a FROM t x",
        "SELECT * FROM commerce.t JOIN customer.u ON commerce.t.a = u.a",
        "SELECT EXTRACT(YEAR FROM t.d), TRIM(LEADING 'x' FROM t.s) FROM t",
        "SELECT SUBSTRING(t.a FROM 2) FROM t",
        "INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE t.a = VALUES(t.a), t.b = 2",
        "UPDATE t SET t.a = 1 WHERE t.id = 2",
        "UPDATE t, u SET t.a = u.a WHERE t.id = u.id",
        "DELETE t FROM t JOIN u ON t.id = u.id",
        "WITH c AS (SELECT 1 AS n) SELECT c.n FROM c",
        "SELECT 'mysql.user', \"LOAD_FILE('/x')\" -- SHUTDOWN",
        "SELECT 1 /* INTO OUTFILE '/x' */",
        "SELECT @@version, @@session.sql_mode, @@socket, @x",
        "SELECT a INTO @x FROM t LIMIT 1",
        "SET NAMES utf8mb4",
        "SET autocommit = 0",
        "SET SESSION sql_mode = 'ANSI', @x = 1",
        "SET @@session.time_zone = '+00:00'",
        "SET STATEMENT max_statement_time = 1 FOR SELECT 1",
        "/*!40101 SET NAMES utf8 */",
        "SHOW TABLES",
        "SHOW FULL TABLES FROM commerce",
        "SHOW COLUMNS FROM t FROM commerce",
        "SHOW COLUMNS FROM t",
        "SHOW INDEX FROM commerce.t",
        "SHOW CREATE TABLE t",
        "SHOW WARNINGS",
        "SHOW TABLE STATUS",
        "CREATE TABLE t (a INT PRIMARY KEY, b INT REFERENCES u(a))",
        "CREATE TEMPORARY TABLE tmp (a int)",
        "CREATE TABLE e (a int, connection_id int) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        "ALTER TABLE t ENGINE = InnoDB",
        "CREATE INDEX i ON t (a)",
        "ALTER TABLE t ADD COLUMN c INT",
        "DROP TABLE IF EXISTS t",
        "RENAME TABLE a TO b",
        "TRUNCATE TABLE t",
        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = OLD.a",
        "CREATE PROCEDURE p() BEGIN SELECT 1; END",
        "CREATE DEFINER = CURRENT_USER PROCEDURE p() SELECT 1",
        "CREATE VIEW v AS SELECT a FROM t",
        "CREATE VIEW v AS SELECT t.a FROM t JOIN u ON t.id = u.id WHERE t.s LIKE u.s",
        "CREATE TABLE c (a INT, FOREIGN KEY (a) REFERENCES p (a) ON DELETE CASCADE)",
        "CALL p",
        "START TRANSACTION",
        "BEGIN",
        "COMMIT",
        "LOCK TABLES t READ, u WRITE",
        "UNLOCK TABLES",
        "PREPARE s FROM 'SELECT ?'",
        "EXECUTE s USING @a",
        "DEALLOCATE PREPARE s",
        "EXPLAIN SELECT * FROM t",
        "DO 1",
        "CALL p(1)",
        "XA START 'x'",
        "ANALYZE TABLE t",
        "",
        ";",
    ];
    for sql in cases {
        assert_eq!(check(sql), Ok(()), "{sql}");
    }
}

#[test]
fn write_needs() {
    let cases = [
        ("SELECT 1", WriteNeed::Read),
        ("SHOW TABLES", WriteNeed::Read),
        ("SET @x = 1", WriteNeed::Read),
        ("LOCK TABLES t READ", WriteNeed::Read),
        ("DO 1", WriteNeed::Read),
        ("PREPARE s FROM 'SELECT 1'", WriteNeed::Read),
        ("EXECUTE s", WriteNeed::Read),
        ("INSERT INTO t VALUES (1)", WriteNeed::Write),
        ("replace into t values (1)", WriteNeed::Write),
        ("UPDATE t SET a = 1", WriteNeed::Write),
        ("DELETE FROM t", WriteNeed::Write),
        ("WITH c AS (SELECT 1) DELETE FROM t", WriteNeed::Write),
        ("CREATE TABLE t (a int)", WriteNeed::Write),
        ("DROP TABLE t", WriteNeed::Write),
        ("TRUNCATE t", WriteNeed::Write),
        ("CALL p()", WriteNeed::Write),
        ("LOCK TABLES t WRITE", WriteNeed::Write),
        ("PREPARE s FROM 'DELETE FROM t'", WriteNeed::Write),
        (
            "EXECUTE IMMEDIATE 'INSERT INTO t VALUES (1)'",
            WriteNeed::Write,
        ),
        ("ANALYZE DELETE FROM t", WriteNeed::Write),
        ("ANALYZE SELECT 1", WriteNeed::Read),
        ("OPTIMIZE TABLE t", WriteNeed::Write),
        ("something unknown", WriteNeed::Write),
    ];
    for (sql, want) in cases {
        assert_eq!(write_need(classify(sql), sql, 0), want, "{sql}");
    }
}

#[test]
fn reads_statements_as_the_session_sql_mode_does() {
    use super::{check_statement_as, Reading};
    use crate::sql::{Charset, SqlMode};
    let ks = |db: &str| db == "commerce";
    let ansi = Reading {
        mode: Some(SqlMode::parse("ANSI_QUOTES")),
        charset: Some(Charset::UTF8MB4),
    };
    let sql = r#"SELECT * FROM "mysql"."user""#;
    assert_eq!(check_statement_as(sql, Reading::standard(), &ks), Ok(()));
    assert_eq!(
        check_statement_as(sql, ansi, &ks),
        Err(Denial::Database("mysql".into()))
    );
    assert_eq!(
        check_statement_as(r#"SELECT "x" FROM t"#, ansi, &ks),
        Ok(())
    );
    let nbe = Reading {
        mode: Some(SqlMode::parse("NO_BACKSLASH_ESCAPES")),
        charset: Some(Charset::UTF8MB4),
    };
    let hidden = r"SELECT 'a\', LOAD_FILE('/etc/passwd') -- '";
    assert_eq!(check_statement_as(hidden, Reading::standard(), &ks), Ok(()));
    assert!(matches!(
        check_statement_as(hidden, nbe, &ks),
        Err(Denial::Unclassified(_))
    ));
    let unknown = Reading {
        mode: None,
        charset: Some(Charset::UTF8MB4),
    };
    assert!(check_statement_as(hidden, unknown, &ks).is_err());
    assert!(check_statement_as(sql, unknown, &ks).is_err());
    assert_eq!(check_statement_as("SELECT 'plain'", unknown, &ks), Ok(()));
    let nested = r#"PREPARE s FROM 'SELECT * FROM "mysql"."user"'"#;
    assert_eq!(check_statement_as(nested, Reading::standard(), &ks), Ok(()));
    assert!(check_statement_as(nested, ansi, &ks).is_err());
}

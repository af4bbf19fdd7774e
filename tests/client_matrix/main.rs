//! The client matrix (issue 17, item 7): one small workload run through the proxy by every
//! client that installs from the package registries — the mariadb CLI, PyMySQL,
//! mysql-connector-python (pure and C extension), mysqlclient, node's mysql and mysql2,
//! MariaDB Connector/J, PHP mysqli and PDO, Rust mysql_async and sqlx — in text and prepared
//! mode where the driver has both. (sysbench runs in tests/clients.rs.)
//!
//! The workload (one script per language beside this file, the same steps in each): an
//! unsharded read; three sharded inserts whose ids come from a sequence, read back by id, by
//! the name lookup and by the phone lookup; a rolled-back transaction; NULL, unicode,
//! DATETIME(6), DECIMAL and a 0x00–0xFF BLOB written and read back as parameters; a
//! 10,000-row scatter read as bytes and hashed; a duplicate primary key and a duplicate unique
//! lookup value, each 1062; the connection still in use after the errors. Each client prints a
//! normalized transcript; [`expected::check`] compares it line by line with the one computed
//! from the workload's inputs and from the rows read directly on the shards.
//!
//! One proxy cluster serves every test of this binary ([`setup::matrix`]); each client has a
//! tag of its own (its rows' names, phones and ids), so the tests run in parallel. A client
//! that is not installed fails its test: `scripts/test` installs them all
//! (`ensure_client_matrix` in scripts/lib.sh).

mod cli;
#[path = "../common/mod.rs"]
mod common;
mod expected;
mod rust_clients;
mod setup;

use common::tools::run_tool;
use setup::matrix;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::process::Command;

/// The directory of the workload scripts.
fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/client_matrix")
}

/// Runs `cmd` (a workload) and checks its transcript as client `label` with `tag`.
fn run_workload(label: &str, tag: u32, cmd: &mut Command) {
    let (ok, out, err) = matrix()
        .rt
        .block_on(run_tool(cmd, None, Duration::from_secs(180)));
    assert!(
        ok,
        "{label}: the workload failed\nstdout:\n{out}\nstderr:\n{err}"
    );
    expected::check(label, tag, &out, &err);
}

/// `python3 workload.py DRIVER MODE PORT TAG`.
fn python(driver: &str, mode: &str, tag: u32) {
    let port = matrix().env.port().to_string();
    let mut cmd = Command::new("python3");
    if driver == "connector-c" {
        // mysql-connector-python 9.x, whose C extension loads with Debian 12's OpenSSL (26.x's
        // needs OpenSSL 3.2): installed there by ensure_client_matrix.
        let pylib = scripts_dir().join("pylib");
        assert!(
            pylib.join("mysql").is_dir(),
            "mysql-connector-python with its C extension is not installed in {}: run \
             scripts/test (ensure_client_matrix)",
            pylib.display()
        );
        cmd.env("PYTHONPATH", pylib);
    }
    cmd.arg(scripts_dir().join("workload.py"))
        .args([driver, mode, &port, &tag.to_string()]);
    run_workload(&format!("python {driver} {mode}"), tag, &mut cmd);
}

#[test]
fn pymysql_text() {
    python("pymysql", "text", 1);
}

#[test]
fn mysql_connector_pure_text() {
    python("connector", "text", 2);
}

#[test]
fn mysql_connector_pure_prepared() {
    python("connector", "prepared", 3);
}

#[test]
fn mysql_connector_c_text() {
    python("connector-c", "text", 4);
}

#[test]
fn mysql_connector_c_prepared() {
    python("connector-c", "prepared", 5);
}

#[test]
fn mysqlclient_text() {
    python("mysqldb", "text", 6);
}

/// `node workload.js DRIVER MODE PORT TAG`, with the drivers from tests/client_matrix/node_modules.
fn node(driver: &str, mode: &str, tag: u32) {
    let modules = scripts_dir().join("node_modules").join(driver);
    assert!(
        modules.is_dir(),
        "node's {driver} is not installed in {}: run scripts/test (ensure_client_matrix) or \
         `npm ci` in tests/client_matrix",
        modules.display()
    );
    let port = matrix().env.port().to_string();
    let mut cmd = Command::new("node");
    cmd.arg(scripts_dir().join("workload.js"))
        .args([driver, mode, &port, &tag.to_string()]);
    run_workload(&format!("node {driver} {mode}"), tag, &mut cmd);
}

#[test]
fn node_mysql_text() {
    node("mysql", "text", 7);
}

#[test]
fn node_mysql2_text() {
    node("mysql2", "text", 8);
}

#[test]
fn node_mysql2_prepared() {
    node("mysql2", "prepared", 9);
}

/// MariaDB Connector/J from Debian's libmariadb-java.
const CONNECTOR_J: &str = "/usr/share/java/mariadb-java-client.jar";

/// Workload.java compiled once per test binary (javac into the target's tmp dir).
fn java_classes() -> &'static PathBuf {
    static CLASSES: OnceLock<PathBuf> = OnceLock::new();
    CLASSES.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("client_matrix_java");
        std::fs::create_dir_all(&dir).expect("creating the class dir");
        let status = std::process::Command::new("javac")
            .arg("-encoding")
            .arg("UTF-8")
            .arg("-d")
            .arg(&dir)
            .arg(scripts_dir().join("Workload.java"))
            .status()
            .unwrap_or_else(|e| panic!("cannot run javac: {e} (scripts/test installs a JDK)"));
        assert!(status.success(), "javac Workload.java failed");
        dir
    })
}

/// `java Workload MODE PORT TAG` with Connector/J.
fn connector_j(mode: &str, tag: u32) {
    assert!(
        std::path::Path::new(CONNECTOR_J).is_file(),
        "MariaDB Connector/J is not installed ({CONNECTOR_J}): run scripts/test \
         (ensure_client_matrix installs Debian's libmariadb-java)"
    );
    let classpath = format!("{}:{CONNECTOR_J}", java_classes().display());
    let port = matrix().env.port().to_string();
    let mut cmd = Command::new("java");
    cmd.env("TZ", "UTC")
        .args(["-cp", &classpath, "Workload", mode, &port, &tag.to_string()]);
    run_workload(&format!("Connector/J {mode}"), tag, &mut cmd);
}

#[test]
fn connector_j_text() {
    connector_j("text", 10);
}

#[test]
fn connector_j_prepared() {
    connector_j("prepared", 11);
}

/// `php workload.php DRIVER MODE PORT TAG`.
fn php(driver: &str, mode: &str, tag: u32) {
    let port = matrix().env.port().to_string();
    let mut cmd = Command::new("php");
    cmd.arg(scripts_dir().join("workload.php"))
        .args([driver, mode, &port, &tag.to_string()]);
    run_workload(&format!("php {driver} {mode}"), tag, &mut cmd);
}

#[test]
fn php_mysqli_text() {
    php("mysqli", "text", 12);
}

#[test]
fn php_mysqli_prepared() {
    php("mysqli", "prepared", 13);
}

#[test]
fn php_pdo_text() {
    php("pdo", "text", 14);
}

#[test]
fn php_pdo_prepared() {
    php("pdo", "prepared", 15);
}

/// The Rust workload (rust_clients.rs) with `driver`, in text or prepared mode.
fn rust(driver: &str, prepared: bool, tag: u32) {
    let m = matrix();
    let port = m.env.port();
    let (out, err) =
        m.rt.block_on(rust_clients::workload(driver, prepared, port, tag));
    let mode = if prepared { "prepared" } else { "text" };
    expected::check(&format!("{driver} {mode}"), tag, &out, &err);
}

#[test]
fn mysql_async_text() {
    rust("mysql_async", false, 16);
}

#[test]
fn mysql_async_prepared() {
    rust("mysql_async", true, 17);
}

#[test]
fn sqlx_text() {
    rust("sqlx", false, 18);
}

#[test]
fn sqlx_prepared() {
    rust("sqlx", true, 19);
}

#[test]
fn mariadb_cli() {
    let m = matrix();
    let (out, err) = m.rt.block_on(cli::workload(20));
    expected::check("mariadb CLI", 20, &out, &err);
}

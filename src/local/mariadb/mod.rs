//! MariaDB server processes for local shards: finding the programs, a pristine template data
//! directory, per-server `my.cnf` files, starting, readiness and stopping.
//!
//! Used by `shardgate local` and by the integration-test harness (`tests/common/`), so it has no
//! opinion about layout: callers decide where each server's directory lives.
//!
//! A server directory looks like this (all paths absolute in `my.cnf`):
//!
//! ```text
//! DIR/my.cnf        settings, passed as --defaults-file (first argument: /etc/mysql is ignored)
//! DIR/data/         datadir, copied with `cp -a` from the template made by mariadb-install-db
//! DIR/tmp/          tmpdir
//! DIR/error.log     the server's error log (its tail is quoted when start-up fails)
//! DIR/console.log   stdout/stderr of mariadbd (early option errors land here)
//! DIR/mariadbd.pid  pid file, used to find a server left running by a crashed earlier run
//! DIR/mysqld.sock   Unix socket (moved to the temp dir when the path would be too long)
//! ```
//!
//! Typical use: [`find_binaries`], [`ensure_template`], [`prepare_data_dir`] per server, then
//! [`start_servers`] (parallel start, free ports, readiness) and [`stop_servers`] at the end.

mod binaries;
mod cnf;
mod process;
mod template;

#[cfg(test)]
mod live_tests;

pub use binaries::{find_binaries, Binaries, INSTALL_HINT};
pub use cnf::{socket_path_in, ServerSettings, INNODB_LOG_FILE_SIZE_MB};
pub use process::{
    free_port, start_server, start_servers, stop_servers, stop_stale, MariadbServer, ServerOptions,
};
pub use template::{ensure_template, prepare_data_dir};

use std::path::PathBuf;

/// Why a MariaDB server could not be prepared, started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum MariadbError {
    /// A program is not installed.
    #[error("cannot find `{program}` (looked in PATH, /usr/sbin and /usr/bin). {hint}", hint = INSTALL_HINT)]
    NotFound {
        /// The program looked for.
        program: &'static str,
    },
    /// A file-system or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, with the path.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `mariadb-install-db` failed.
    #[error("mariadb-install-db failed for {dir} ({status}):\n{output}")]
    InstallDb {
        /// The data directory being initialised.
        dir: PathBuf,
        /// Exit status.
        status: String,
        /// Its combined output (tail).
        output: String,
    },
    /// A server did not become ready.
    #[error("mariadbd in {dir} (port {port}) {reason}\n--- last lines of {log} ---\n{tail}")]
    Start {
        /// Server directory.
        dir: PathBuf,
        /// TCP port it was given.
        port: u16,
        /// What went wrong.
        reason: String,
        /// The error log consulted.
        log: PathBuf,
        /// Last lines of the error log (and console output).
        tail: String,
    },
    /// A server from an earlier run still uses the directory and would not stop.
    #[error("a mariadbd (pid {pid}) from an earlier run still uses {dir} and did not stop; stop it (kill {pid}) and retry")]
    AlreadyRunning {
        /// Its pid.
        pid: i32,
        /// The server directory.
        dir: PathBuf,
    },
    /// A SQL statement against a server failed.
    #[error("MariaDB on port {port}: {source}")]
    Sql {
        /// The server's port.
        port: u16,
        /// The driver error.
        source: mysql_async::Error,
    },
}

impl MariadbError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        MariadbError::Io {
            what: what.into(),
            source,
        }
    }
}

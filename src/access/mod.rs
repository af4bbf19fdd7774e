//! Access control: what a client may send to a shard, and what each user is granted.
//!
//! Every statement bound for a shard passes [`check_statement`] before it is routed or planned:
//! server administration (`SHUTDOWN`, account and privilege statements, `SET GLOBAL`, plugins,
//! replication, `KILL`, `FLUSH` ...), file access (`LOAD_FILE()`, `INTO OUTFILE`, `LOAD DATA`),
//! backend paths (`@@datadir` ...) and any database that is not a configured keyspace are
//! refused. The decision is made on the statement's significant tokens (comments skipped,
//! `/*! */` opened, strings never looked into): its leading keywords say what kind of statement it
//! is, and qualifiers, function calls and variables say what it names. A statement whose leading
//! keyword is not one the proxy knows is refused rather than forwarded.
//!
//! [`grants`] holds the per-user side: allowed keyspaces and read-only users.

pub mod backend_grants;
pub mod grants;
mod reading;
mod references;
pub(crate) use references::is_path_variable;
mod statements;
#[cfg(test)]
mod tests;

use crate::backend::BackendError;
use crate::error::ProxyError;

pub use grants::{Grants, WriteNeed};
pub use reading::Reading;

/// Why a statement is refused, before it is given the user's name for the client's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// A statement that needs a server privilege no proxy user has (ER_SPECIFIC_ACCESS_DENIED_ERROR).
    #[error("Access denied; you need (at least one of) the {privilege} privilege(s) for this operation ({what})")]
    Privilege {
        /// The MariaDB privilege the statement would need.
        privilege: &'static str,
        /// The construct, for the message.
        what: String,
    },
    /// A database that is not a keyspace (or not one granted to the user): ER_DBACCESS_DENIED_ERROR.
    #[error("database '{0}'")]
    Database(String),
    /// A statement kind the user's grants do not allow (ER_TABLEACCESS_DENIED_ERROR style).
    #[error("{0} command denied")]
    Command(String),
    /// A statement that starts with no keyword the proxy knows: answered as MariaDB answers
    /// unknown syntax (ER_PARSE_ERROR), never forwarded. Holds the text near the error (as
    /// MariaDB cuts it) and its line.
    #[error("You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '{near}' at line {line}")]
    Syntax {
        /// The statement from the error on, at most 80 bytes (77 and `...` when longer).
        near: String,
        /// 1-based line of the error, counted from the statement's first non-blank character.
        line: usize,
    },
    /// Text that cannot be classified safely; it is not forwarded (ER_NOT_SUPPORTED_YET).
    #[error("{0}")]
    Unclassified(String),
}

impl Denial {
    /// The client error for this denial, naming `user` as MariaDB does.
    pub fn into_error(self, user: &str) -> ProxyError {
        let server = |code: u16, message: String| {
            ProxyError::Backend(BackendError::Server {
                code,
                state: "42000".into(),
                message,
            })
        };
        match self {
            Denial::Privilege { .. } => server(1227, self.to_string()),
            Denial::Database(db) => server(
                1044,
                format!("Access denied for user '{user}'@'%' to database '{db}'"),
            ),
            Denial::Command(statement) => ProxyError::Denied {
                statement,
                user: user.to_string(),
            },
            Denial::Syntax { .. } => ProxyError::Parse(self.to_string()),
            Denial::Unclassified(what) => ProxyError::NotSupported(format!(
                "{what}: the proxy cannot classify this statement, so it does not send it to a shard"
            )),
        }
    }
}

/// Checks one statement bound for a shard, read as with the default sql_mode and utf8mb4.
/// `is_keyspace` says whether a database name is a configured keyspace (the only databases a
/// client may name).
pub fn check_statement(text: &str, is_keyspace: &dyn Fn(&str) -> bool) -> Result<(), Denial> {
    check_statement_as(text, Reading::standard(), is_keyspace)
}

/// [`check_statement`] for a session whose sql_mode and character set are `reading`: text the
/// proxy could read differently from the shard is refused or checked in both readings.
pub fn check_statement_as(
    text: &str,
    reading: Reading,
    is_keyspace: &dyn Fn(&str) -> bool,
) -> Result<(), Denial> {
    check_nested(text, reading, is_keyspace, 0)
}

/// [`check_statement`] for text inside text (`PREPARE s FROM '...'`), to a bounded depth.
fn check_nested(
    text: &str,
    reading: Reading,
    is_keyspace: &dyn Fn(&str) -> bool,
    depth: usize,
) -> Result<(), Denial> {
    if depth > 2 {
        return Err(Denial::Unclassified(
            "nested prepared statement text".into(),
        ));
    }
    if let Some(other) = reading::alternative(text, reading)? {
        check_one(&other, reading, is_keyspace, depth)?;
    }
    check_one(text, reading, is_keyspace, depth)
}

/// One reading of one text: its kind, then what it names.
fn check_one(
    text: &str,
    reading: Reading,
    is_keyspace: &dyn Fn(&str) -> bool,
    depth: usize,
) -> Result<(), Denial> {
    let tokens: Vec<crate::sql::Token> = crate::sql::Significant::new(text).collect();
    statements::check_kind(text, &tokens, &|inner| {
        check_nested(inner, reading, is_keyspace, depth + 1)
    })?;
    references::check_references(text, &tokens, is_keyspace)
}

//! Errors from loading, validating and saving VSchemas.
//!
//! Every message names where the problem is: the file (when loaded from one), the keyspace, and
//! the vindex or table, then the reason:
//! `vschema/customer.json: keyspace 'customer': table 'user': primary vindex 'name_idx' (type
//! lookup) is not unique`.

/// Why a VSchema could not be loaded, validated or saved.
#[derive(Debug, thiserror::Error)]
pub enum VSchemaError {
    /// A file exists but cannot be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file could not be written (atomic save).
    #[error("{file}: cannot write: {source}")]
    Write {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The JSON is malformed or does not match the VSchema format (unknown key, wrong type).
    #[error("keyspace '{keyspace}': invalid VSchema JSON: {message}")]
    Parse {
        /// The keyspace.
        keyspace: String,
        /// The parser's message, with the vindex or table and the position.
        message: String,
    },
    /// A keyspace-level problem (also: the VSchema contradicts the config).
    #[error("keyspace '{keyspace}': {reason}")]
    Keyspace {
        /// The keyspace.
        keyspace: String,
        /// What is wrong.
        reason: String,
    },
    /// A vindex definition is invalid (unknown type, bad params, bad owner).
    #[error("keyspace '{keyspace}': vindex '{vindex}': {reason}")]
    Vindex {
        /// The keyspace.
        keyspace: String,
        /// The vindex name.
        vindex: String,
        /// What is wrong.
        reason: String,
    },
    /// A table definition is invalid.
    #[error("keyspace '{keyspace}': table '{table}': {reason}")]
    Table {
        /// The keyspace.
        keyspace: String,
        /// The table name.
        table: String,
        /// What is wrong.
        reason: String,
    },
    /// Any of the above, found while loading `file`.
    #[error("{file}: {inner}")]
    InFile {
        /// The VSchema file (with ` (not found)` when the keyspace has no file).
        file: String,
        /// The underlying error. Part of the message, deliberately not an error `source`: an
        /// error chain printed with `{:#}` (`shardgate check`) would repeat it otherwise.
        inner: Box<VSchemaError>,
    },
}

impl VSchemaError {
    /// The keyspace the error is about, if any.
    pub fn keyspace(&self) -> Option<&str> {
        match self {
            VSchemaError::Parse { keyspace, .. }
            | VSchemaError::Keyspace { keyspace, .. }
            | VSchemaError::Vindex { keyspace, .. }
            | VSchemaError::Table { keyspace, .. } => Some(keyspace),
            VSchemaError::InFile { inner, .. } => inner.keyspace(),
            VSchemaError::Read { .. } | VSchemaError::Write { .. } => None,
        }
    }

    pub(crate) fn table(keyspace: &str, table: &str, reason: impl Into<String>) -> Self {
        VSchemaError::Table {
            keyspace: keyspace.into(),
            table: table.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn vindex(keyspace: &str, vindex: &str, reason: impl Into<String>) -> Self {
        VSchemaError::Vindex {
            keyspace: keyspace.into(),
            vindex: vindex.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn keyspace_err(keyspace: &str, reason: impl Into<String>) -> Self {
        VSchemaError::Keyspace {
            keyspace: keyspace.into(),
            reason: reason.into(),
        }
    }
}

/// Why an unqualified table name did not resolve ([`super::VSchema::find_table`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FindTableError {
    /// No keyspace open to global routing lists the table.
    #[error("table {0} not found")]
    NotFound(String),
    /// Several keyspaces list it; qualify it with one of them.
    #[error("ambiguous table reference: {table} (in keyspaces {})", keyspaces.join(", "))]
    Ambiguous {
        /// The table name.
        table: String,
        /// The keyspaces listing it.
        keyspaces: Vec<String>,
    },
}

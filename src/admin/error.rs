//! Errors of admin statements, with Vitess's texts and the MySQL error numbers clients expect.

use crate::error::codes;

/// Text of the "no keyspace selected" error, as Vitess words it.
pub const NO_DATABASE_MESSAGE: &str = "No database selected: use keyspace<:shard><@type> or \
     keyspace<[range]><@type> (<> are optional)";

/// ER_NO_SUCH_TABLE (what Vitess sends for an unknown VSchema table).
pub const NO_SUCH_TABLE: u16 = 1146;

/// Why an admin statement failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// A recognised statement with bad syntax (1064).
    #[error("syntax error at position {position}{}", near.as_ref().map(|n| format!(" near '{n}'")).unwrap_or_default())]
    Syntax {
        /// Byte offset just past the offending token (the text length at end of input).
        position: usize,
        /// The offending token's text; `None` at end of input.
        near: Option<String>,
    },
    /// The statement needs a keyspace and the session has none (1046).
    #[error("{NO_DATABASE_MESSAGE}")]
    NoDatabase,
    /// The keyspace does not exist (1049).
    #[error("Unknown database '{0}' in vschema")]
    UnknownKeyspace(String),
    /// The table is not in the keyspace's VSchema (1146, as in Vitess).
    #[error("table '{table}' does not exist in keyspace '{keyspace}'")]
    UnknownTable {
        /// Table name as written.
        table: String,
        /// The keyspace searched.
        keyspace: String,
    },
    /// A Vitess statement or form shardgate does not implement (1235).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// `VEXPLAIN QUERIES|ALL` of DML without the `EXECUTE_DML_QUERIES` directive (Vitess
    /// VT09008, 1105).
    #[error("VT09008: vexplain queries/all will actually run queries")]
    VExplainDml,
    /// A well-formed statement that cannot apply (ALTER VSCHEMA on a vindex or table in the
    /// wrong state), 1105 with the reason.
    #[error("{0}")]
    Invalid(String),
}

impl AdminError {
    /// The MySQL error number and SQLSTATE for the ERR packet (the message is `to_string()`).
    pub fn to_wire(&self) -> (u16, &'static str) {
        match self {
            AdminError::Syntax { .. } => (codes::PARSE, "42000"),
            AdminError::NoDatabase => (codes::NO_DB, "3D000"),
            AdminError::UnknownKeyspace(_) => (codes::BAD_DB, "42000"),
            AdminError::UnknownTable { .. } => (NO_SUCH_TABLE, "42S02"),
            AdminError::Unsupported(_) => (codes::NOT_SUPPORTED, "42000"),
            AdminError::VExplainDml | AdminError::Invalid(_) => (codes::UNKNOWN, "HY000"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_codes() {
        let e = AdminError::Syntax {
            position: 20,
            near: Some("foo".into()),
        };
        assert_eq!(e.to_string(), "syntax error at position 20 near 'foo'");
        assert_eq!(e.to_wire(), (1064, "42000"));
        let e = AdminError::Syntax {
            position: 8,
            near: None,
        };
        assert_eq!(e.to_string(), "syntax error at position 8");
        assert_eq!(AdminError::NoDatabase.to_wire(), (1046, "3D000"));
        assert!(AdminError::NoDatabase
            .to_string()
            .starts_with("No database selected: use keyspace<:shard><@type>"));
        let e = AdminError::UnknownKeyspace("nope".into());
        assert_eq!(e.to_string(), "Unknown database 'nope' in vschema");
        assert_eq!(e.to_wire(), (1049, "42000"));
        let e = AdminError::UnknownTable {
            table: "x".into(),
            keyspace: "ks".into(),
        };
        assert_eq!(e.to_string(), "table 'x' does not exist in keyspace 'ks'");
        assert_eq!(e.to_wire(), (1146, "42S02"));
        let e = AdminError::Unsupported("VEXPLAIN TRACE".into());
        assert_eq!(e.to_string(), "unsupported: VEXPLAIN TRACE");
        assert_eq!(e.to_wire(), (1235, "42000"));
        let e = AdminError::VExplainDml;
        assert_eq!(
            e.to_string(),
            "VT09008: vexplain queries/all will actually run queries"
        );
        assert_eq!(e.to_wire(), (1105, "HY000"));
    }
}

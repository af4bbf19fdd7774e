//! The proxy's client-facing error type and the one place it is mapped to MySQL error codes.
//!
//! Lower layers have their own thiserror enums; they convert into [`ProxyError`], and
//! [`ProxyError::to_wire`] turns any of them into `(errno, SQLSTATE, message)`. Errors returned
//! by a backend MySQL server pass through with their own code and state.

use crate::backend::BackendError;

/// MySQL error numbers the proxy produces itself.
pub mod codes {
    /// ER_ACCESS_DENIED_ERROR.
    pub const ACCESS_DENIED: u16 = 1045;
    /// ER_NO_DB_ERROR.
    pub const NO_DB: u16 = 1046;
    /// ER_UNKNOWN_COM_ERROR.
    pub const UNKNOWN_COMMAND: u16 = 1047;
    /// ER_BAD_DB_ERROR.
    pub const BAD_DB: u16 = 1049;
    /// ER_DUP_ENTRY.
    pub const DUP_ENTRY: u16 = 1062;
    /// ER_PARSE_ERROR.
    pub const PARSE: u16 = 1064;
    /// ER_EMPTY_QUERY.
    pub const EMPTY_QUERY: u16 = 1065;
    /// ER_UNKNOWN_ERROR.
    pub const UNKNOWN: u16 = 1105;
    /// ER_TABLEACCESS_DENIED_ERROR (used for admin statements).
    pub const ACCESS_DENIED_STATEMENT: u16 = 1142;
    /// ER_NET_PACKET_TOO_LARGE.
    pub const PACKET_TOO_LARGE: u16 = 1153;
    /// ER_NET_PACKETS_OUT_OF_ORDER.
    pub const PACKETS_OUT_OF_ORDER: u16 = 1156;
    /// ER_WRONG_ARGUMENTS.
    pub const WRONG_ARGUMENTS: u16 = 1210;
    /// ER_NOT_SUPPORTED_YET.
    pub const NOT_SUPPORTED: u16 = 1235;
    /// ER_UNKNOWN_STMT_HANDLER.
    pub const UNKNOWN_STMT_HANDLER: u16 = 1243;
    /// ER_MALFORMED_PACKET.
    pub const MALFORMED_PACKET: u16 = 1835;
}

/// Any error a client can see.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The statement could not be parsed.
    #[error("{0}")]
    Parse(String),
    /// The query text holds no statement.
    #[error("Query was empty")]
    EmptyQuery,
    /// The statement is valid but the proxy cannot run it exactly.
    #[error("{0}")]
    NotSupported(String),
    /// Login failed.
    #[error("Access denied for user '{user}'@'{host}' (using password: {})", if *.using_password { "YES" } else { "NO" })]
    AccessDenied {
        /// Login name.
        user: String,
        /// Client address.
        host: String,
        /// Whether a password was sent.
        using_password: bool,
    },
    /// A statement needs a keyspace and none is selected.
    #[error("No database selected")]
    NoDatabase,
    /// The named keyspace does not exist.
    #[error("Unknown database '{0}'")]
    UnknownDatabase(String),
    /// A command byte the proxy does not implement.
    #[error("Unknown command")]
    UnknownCommand,
    /// A malformed packet.
    #[error("Malformed communication packet: {0}")]
    Malformed(String),
    /// COM_STMT_* naming a statement id that does not exist.
    #[error("Unknown prepared statement handler ({id}) given to {command}")]
    UnknownStatement {
        /// The id.
        id: u32,
        /// The command that used it.
        command: &'static str,
    },
    /// Incorrect arguments to a command.
    #[error("Incorrect arguments to {0}")]
    WrongArguments(String),
    /// A statement the user may not run.
    #[error("{statement} command denied to user '{user}'")]
    Denied {
        /// Statement name.
        statement: String,
        /// Login name.
        user: String,
    },
    /// A backend problem or a server error to pass through.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// A configured resource limit was exceeded (`[limits]`): its own MySQL code and message.
    #[error("{message}")]
    Limit {
        /// MySQL error number (1153, 1235, 1461, 1473 …).
        code: u16,
        /// SQLSTATE.
        state: &'static str,
        /// The message, naming the limit.
        message: String,
    },
    /// The topology refused a VSchema write (a compare-and-swap lost to another proxy's edit,
    /// or etcd unreachable): 1105 with the reason. Callers that can re-derive their edit
    /// retry on [`crate::world::topology::TopoError::Conflict`].
    #[error(transparent)]
    Topology(#[from] crate::world::topology::TopoError),
    /// Anything else.
    #[error("{0}")]
    Internal(String),
}

impl From<crate::world::ChangeError> for ProxyError {
    fn from(e: crate::world::ChangeError) -> Self {
        match e {
            crate::world::ChangeError::Invalid(v) => ProxyError::Internal(v.to_string()),
            crate::world::ChangeError::Topology(t) => ProxyError::Topology(t),
        }
    }
}

impl ProxyError {
    /// ER_NET_PACKETS_OUT_OF_ORDER (1156), as MariaDB sends it before closing the connection.
    pub fn packets_out_of_order() -> Self {
        ProxyError::Limit {
            code: codes::PACKETS_OUT_OF_ORDER,
            state: "08S01",
            message: "Got packets out of order".into(),
        }
    }

    /// ER_NET_PACKET_TOO_LARGE (1153), as MariaDB words it.
    pub fn packet_too_large() -> Self {
        ProxyError::Limit {
            code: codes::PACKET_TOO_LARGE,
            state: "08S01",
            message: "Got a packet bigger than 'max_allowed_packet' bytes".into(),
        }
    }

    /// A statement beyond a `[limits]` shape bound.
    pub fn from_bounds(e: &crate::sql::BoundsError) -> Self {
        let (code, state) = e.mysql_code();
        ProxyError::Limit {
            code,
            state,
            message: e.to_string(),
        }
    }

    /// Maps the error to `(errno, SQLSTATE, message)` for an ERR packet.
    pub fn to_wire(&self) -> (u16, String, String) {
        use codes::*;
        let (code, state) = match self {
            ProxyError::Parse(_) => (PARSE, "42000"),
            ProxyError::EmptyQuery => (EMPTY_QUERY, "42000"),
            ProxyError::NotSupported(_) => (NOT_SUPPORTED, "42000"),
            ProxyError::AccessDenied { .. } => (ACCESS_DENIED, "28000"),
            ProxyError::NoDatabase => (NO_DB, "3D000"),
            ProxyError::UnknownDatabase(_) => (BAD_DB, "42000"),
            ProxyError::UnknownCommand => (UNKNOWN_COMMAND, "08S01"),
            ProxyError::Malformed(_) => (MALFORMED_PACKET, "HY000"),
            ProxyError::UnknownStatement { .. } => (UNKNOWN_STMT_HANDLER, "HY000"),
            ProxyError::WrongArguments(_) => (WRONG_ARGUMENTS, "HY000"),
            ProxyError::Denied { .. } => (ACCESS_DENIED_STATEMENT, "42000"),
            ProxyError::Backend(BackendError::Server {
                code,
                state,
                message,
            }) => return (*code, state.clone(), message.clone()),
            ProxyError::Backend(_) => (UNKNOWN, "HY000"),
            ProxyError::Internal(_) | ProxyError::Topology(_) => (UNKNOWN, "HY000"),
            ProxyError::Limit { code, state, .. } => (*code, *state),
        };
        (code, state.to_string(), self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_codes() {
        assert_eq!(ProxyError::Parse("x".into()).to_wire().0, 1064);
        assert_eq!(ProxyError::NotSupported("x".into()).to_wire().0, 1235);
        assert_eq!(ProxyError::NoDatabase.to_wire().0, 1046);
        let denied = ProxyError::AccessDenied {
            user: "u".into(),
            host: "127.0.0.1".into(),
            using_password: true,
        };
        let (code, state, msg) = denied.to_wire();
        assert_eq!((code, state.as_str()), (1045, "28000"));
        assert_eq!(
            msg,
            "Access denied for user 'u'@'127.0.0.1' (using password: YES)"
        );
        let passthrough = ProxyError::Backend(BackendError::Server {
            code: 1146,
            state: "42S02".into(),
            message: "Table 'x.t' doesn't exist".into(),
        });
        assert_eq!(passthrough.to_wire().0, 1146);
        assert_eq!(ProxyError::Internal("boom".into()).to_wire().0, 1105);
    }
}

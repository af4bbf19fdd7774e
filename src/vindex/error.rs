//! Errors raised while creating or using a vindex.
//!
//! Texts follow Vitess where users may recognise them (`vindexType "x" not found`,
//! `invalid keyspace id: <hex>`, `cannot normalize string containing invalid UTF-8`).

/// Everything that can go wrong in the vindex layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VindexError {
    /// The vschema names a vindex type that does not exist.
    #[error("vindexType {0:?} not found")]
    UnknownType(String),
    /// A real Vitess vindex type that shardgate does not provide (yet).
    #[error("vindex type {0:?} is not supported by shardgate")]
    UnsupportedType(String),
    /// A parameter is missing or has a bad value.
    #[error("vindex {vindex:?}: param {param:?}: {reason}")]
    BadParam {
        /// The vindex name.
        vindex: String,
        /// The parameter name.
        param: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A value could not be converted the way the vindex needs (bad number, bad hex literal).
    #[error("{0}")]
    Value(String),
    /// `unicode_loose_*` got bytes that are not UTF-8.
    #[error("cannot normalize string containing invalid UTF-8")]
    InvalidUtf8,
    /// A keyspace id of the wrong shape for a reverse map (hex shown).
    #[error("invalid keyspace id: {0}")]
    InvalidKeyspaceId(String),
    /// `reverse_map` on a vindex that cannot do it.
    #[error("vindex type {0:?} is not reversible")]
    NotReversible(String),
    /// An operation this vindex does not provide (range map, multi-column map, ...).
    #[error("vindex type {vindex_type:?} does not support {operation}")]
    Unsupported {
        /// The vindex type.
        vindex_type: String,
        /// What was asked.
        operation: String,
    },
    /// `verify` got different numbers of values and keyspace ids.
    #[error("verify got {values} values but {ksids} keyspace ids")]
    LengthMismatch {
        /// How many values.
        values: usize,
        /// How many keyspace ids.
        ksids: usize,
    },
}

impl VindexError {
    /// Shorthand for [`VindexError::BadParam`].
    pub fn bad_param(vindex: &str, param: &str, reason: impl Into<String>) -> Self {
        VindexError::BadParam {
            vindex: vindex.into(),
            param: param.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`VindexError::Unsupported`].
    pub fn unsupported(vindex_type: &str, operation: &str) -> Self {
        VindexError::Unsupported {
            vindex_type: vindex_type.into(),
            operation: operation.into(),
        }
    }
}

//! Errors of workflow statements and jobs.

use crate::error::ProxyError;
use crate::exec::ExecError;

/// Why a workflow statement or step failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// The request is invalid (bad spec, name conflict, non-empty table, wrong state); nothing
    /// was changed (→ 1105 with the reason).
    #[error("{0}")]
    Invalid(String),
    /// A shard or proxy error.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// An executor error (lookup writes).
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// The topology store failed, or a compare-and-swap lost to another proxy's change.
    #[error(transparent)]
    Topology(#[from] crate::world::topology::TopoError),
}

impl From<crate::world::ChangeError> for WorkflowError {
    fn from(e: crate::world::ChangeError) -> Self {
        match e {
            crate::world::ChangeError::Invalid(v) => v.into(),
            crate::world::ChangeError::Topology(t) => t.into(),
        }
    }
}

impl From<crate::backend::BackendError> for WorkflowError {
    fn from(e: crate::backend::BackendError) -> Self {
        WorkflowError::Proxy(e.into())
    }
}

impl From<crate::vschema::VSchemaError> for WorkflowError {
    fn from(e: crate::vschema::VSchemaError) -> Self {
        WorkflowError::Invalid(e.to_string())
    }
}

impl From<WorkflowError> for ProxyError {
    fn from(e: WorkflowError) -> Self {
        match e {
            WorkflowError::Invalid(m) => ProxyError::Internal(m),
            WorkflowError::Proxy(p) => p,
            WorkflowError::Exec(x) => x.into(),
            WorkflowError::Topology(crate::world::topology::TopoError::Proxy(p)) => *p,
            WorkflowError::Topology(t) => ProxyError::Internal(t.to_string()),
        }
    }
}

//! Vitess's introspection statements (SHOW VITESS_SHARDS, SHOW KEYSPACES, SHOW VSCHEMA ...,
//! SHOW VITESS_TARGET), answered by the proxy from its VSchema and shard map.

use super::connection::{ClientConn, CommandError};
use super::local_answers::LocalResult;
use super::statement::Exec;
use crate::admin::{self, AdminError, AdminStatement};
use crate::error::ProxyError;

fn admin_error(e: AdminError) -> ProxyError {
    let (code, _) = e.to_wire();
    match code {
        1046 => ProxyError::NoDatabase,
        1064 => ProxyError::Parse(e.to_string()),
        1235 => ProxyError::NotSupported(e.to_string()),
        _ => ProxyError::Backend(crate::backend::BackendError::Server {
            code,
            state: e.to_wire().1.to_string(),
            message: e.to_string(),
        }),
    }
}

impl ClientConn {
    /// Runs an admin statement recognised by [`admin::parse_admin`].
    pub async fn admin_statement(
        &mut self,
        text: &str,
        exec: &Exec,
        more: bool,
    ) -> Result<(), CommandError> {
        let stmt = match admin::parse_admin(text) {
            Some(Ok(s)) => s,
            Some(Err(e)) => return Err(admin_error(e).into()),
            None => return Err(ProxyError::Internal("not an admin statement".into()).into()),
        };
        if let AdminStatement::VExplain { .. } = stmt {
            return Err(ProxyError::NotSupported("VEXPLAIN is not supported yet".into()).into());
        }
        let result = admin::execute_show(
            &stmt,
            &self.state.vschema,
            &self.state.backends,
            self.session.target.as_ref(),
        )
        .ok_or_else(|| ProxyError::Internal("not a SHOW statement".into()))?
        .map_err(admin_error)?;
        let local = LocalResult {
            columns: result.columns,
            rows: result.rows,
        };
        self.write_local_result(&local, exec, more);
        Ok(())
    }
}

//! Vitess's introspection statements (SHOW VITESS_SHARDS, SHOW KEYSPACES, SHOW VSCHEMA ...,
//! SHOW VITESS_TARGET), answered by the proxy from its VSchema and shard map.

use super::connection::{ClientConn, CommandError};
use super::local_answers::LocalResult;
use super::statement::Exec;
use crate::admin::{self, AdminError, AdminStatement, VExplainMode};
use crate::error::ProxyError;
use crate::protocol::writer::synthetic_column;
use mysql_async::Value;
use mysql_common::constants::ColumnType;

pub(super) fn admin_error(e: AdminError) -> ProxyError {
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
        if let AdminStatement::Workflow(w) = stmt {
            return self.workflow_statement(w, exec, more).await;
        }
        if let AdminStatement::AlterVSchema(a) = stmt {
            return Ok(self.alter_vschema(a, more).await?);
        }
        if let AdminStatement::ReloadVSchema = stmt {
            return Ok(self.reload_vschema_statement(more).await?);
        }
        if let AdminStatement::ShowGateways { like } = &stmt {
            let result = self.show_gateways(like.as_deref()).await?;
            let local = LocalResult {
                columns: result.columns,
                rows: result.rows,
            };
            self.write_local_result(&local, exec, more);
            return Ok(());
        }
        if let AdminStatement::VExplain {
            mode, statement, ..
        } = &stmt
        {
            stmt.check_vexplain_dml().map_err(admin_error)?;
            return match mode {
                VExplainMode::Queries => self.vexplain_queries(statement, exec, more).await,
                VExplainMode::Plan => self.vexplain_plan(statement, exec, more),
                other => Err(ProxyError::NotSupported(format!(
                    "VEXPLAIN {} is not supported yet",
                    other.name().to_uppercase()
                ))
                .into()),
            };
        }
        let result = admin::execute_show(
            &stmt,
            &self.state.vschema.load(),
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

    /// `SHOW VITESS_GATEWAYS`: the live proxies' records from the topology (with files, this
    /// proxy's own record only). This proxy's row is always its current record.
    async fn show_gateways(
        &mut self,
        like: Option<&str>,
    ) -> Result<admin::AdminResult, ProxyError> {
        let own = crate::world::proxy_record::current(&self.state.world);
        let mut records = self
            .state
            .topology
            .proxies()
            .await
            .map_err(|e| ProxyError::Internal(format!("SHOW VITESS_GATEWAYS: {e}")))?;
        records.retain(|r| r.id != own.id);
        records.push(own);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        admin::gateways::show_gateways(&records, &self.state.proxy_id, now, like)
            .map_err(admin_error)
    }

    /// VEXPLAIN PLAN: the plan as JSON (one row, column `JSON`), nothing executed.
    fn vexplain_plan(
        &mut self,
        statement: &str,
        exec: &Exec,
        more: bool,
    ) -> Result<(), CommandError> {
        let decision = super::routing::route(
            &self.state,
            self.session.target.as_ref(),
            statement.as_bytes(),
            statement,
            "VEXPLAIN",
        )?;
        let plan = match decision {
            super::routing::Decision::Shard(r) => crate::planner::Plan::Passthrough {
                keyspace: r.shard.keyspace.clone(),
            },
            super::routing::Decision::Sharded { .. } => {
                let plan = self.state.plans.get_or_plan(
                    statement,
                    &self.state.vschema.load(),
                    self.session.target.as_ref(),
                )?;
                (*plan).clone()
            }
        };
        let json = serde_json::to_string_pretty(&crate::planner::describe(&plan))
            .map_err(|e| ProxyError::Internal(e.to_string()))?;
        let local = LocalResult {
            columns: vec![synthetic_column("JSON", ColumnType::MYSQL_TYPE_VAR_STRING)],
            rows: vec![vec![Value::Bytes(json.into_bytes())]],
        };
        self.write_local_result(&local, exec, more);
        Ok(())
    }

    /// VEXPLAIN QUERIES: runs the statement with its result discarded and answers with every
    /// query the shards received (`#`, `keyspace`, `shard`, `query`).
    async fn vexplain_queries(
        &mut self,
        statement: &str,
        exec: &Exec,
        more: bool,
    ) -> Result<(), CommandError> {
        self.ps.flush().await?;
        self.session.query_log = Some(Vec::new());
        self.ps.set_discard(true);
        // Boxed: run_statement leads back here for a nested VEXPLAIN.
        let res =
            Box::pin(self.run_statement(statement.as_bytes(), statement, &Exec::Text, false)).await;
        self.ps.set_discard(false);
        let log = self.session.query_log.take().unwrap_or_default();
        res?;
        let local = LocalResult {
            columns: vec![
                synthetic_column("#", ColumnType::MYSQL_TYPE_LONGLONG),
                synthetic_column("keyspace", ColumnType::MYSQL_TYPE_VAR_STRING),
                synthetic_column("shard", ColumnType::MYSQL_TYPE_VAR_STRING),
                synthetic_column("query", ColumnType::MYSQL_TYPE_VAR_STRING),
            ],
            rows: log
                .into_iter()
                .enumerate()
                .map(|(i, q)| {
                    vec![
                        Value::UInt(i as u64),
                        Value::Bytes(q.keyspace.into_bytes()),
                        Value::Bytes(q.shard.into_bytes()),
                        Value::Bytes(q.sql.into_bytes()),
                    ]
                })
                .collect(),
        };
        self.write_local_result(&local, exec, more);
        Ok(())
    }
}

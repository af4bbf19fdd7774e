//! The lookup-vindex workflow statements at the server: who may run them (users with
//! `admin = true`; others get 1142 naming the statement) and their result sets.

use super::connection::{ClientConn, CommandError};
use super::local_answers::LocalResult;
use super::statement::Exec;
use crate::admin::WorkflowStatement;
use crate::error::ProxyError;
use crate::protocol::writer::OkInfo;
use crate::workflow;

/// The statement's name as its error messages show it.
fn statement_name(w: &WorkflowStatement) -> &'static str {
    match w {
        WorkflowStatement::Create(_) => "CreateLookupVindex",
        WorkflowStatement::Externalize { .. } => "ExternalizeVindex",
        WorkflowStatement::Cancel { .. } => "CancelLookupVindex",
        WorkflowStatement::Show => "SHOW VINDEX WORKFLOWS",
        WorkflowStatement::Verify { repair: true, .. } => "VERIFY VINDEX ... REPAIR",
        WorkflowStatement::Verify { .. } => "VERIFY VINDEX",
    }
}

/// A result set of text columns.
fn text_result(columns: &[&str], rows: Vec<Vec<String>>) -> LocalResult {
    let r = crate::admin::AdminResult::varchar(columns, rows);
    LocalResult {
        columns: r.columns,
        rows: r.rows,
    }
}

impl ClientConn {
    /// Runs a workflow statement and writes its answer.
    pub async fn workflow_statement(
        &mut self,
        w: WorkflowStatement,
        exec: &Exec,
        more: bool,
    ) -> Result<(), CommandError> {
        // VERIFY VINDEX scans the whole owner table and lookup table: admin only.
        let changes_state = !matches!(w, WorkflowStatement::Show);
        if changes_state && !self.session.is_admin {
            return Err(ProxyError::Denied {
                statement: statement_name(&w).to_string(),
                user: self.session.user.clone(),
            }
            .into());
        }
        let keyspace = match &w {
            WorkflowStatement::Create(opts) => Some(&opts.keyspace),
            WorkflowStatement::Externalize { keyspace, .. }
            | WorkflowStatement::Cancel { keyspace, .. }
            | WorkflowStatement::Verify { keyspace, .. } => Some(keyspace),
            WorkflowStatement::Show => None,
        };
        if let Some(keyspace) = keyspace {
            self.authorize_keyspace(keyspace)?;
        }
        let state = self.state.clone();
        let message = match w {
            WorkflowStatement::Create(opts) => workflow::create(&state.workflows, opts).await,
            WorkflowStatement::Externalize { keyspace, vindex } => {
                workflow::externalize(&state.workflows, &keyspace, &vindex).await
            }
            WorkflowStatement::Cancel {
                keyspace,
                vindex,
                keep_table,
            } => workflow::cancel(&state.workflows, &keyspace, &vindex, keep_table).await,
            WorkflowStatement::Show => {
                let (columns, rows) = workflow::status::show_rows(&state.workflows)
                    .await
                    .map_err(ProxyError::from)?;
                self.write_local_result(&text_result(&columns, rows), exec, more);
                return Ok(());
            }
            WorkflowStatement::Verify {
                keyspace,
                vindex,
                repair,
            } => {
                let r = workflow::verify_vindex(&state.workflows, &keyspace, &vindex, repair)
                    .await
                    .map_err(ProxyError::from)?;
                let row = vec![
                    format!("{keyspace}.{vindex}"),
                    r.owner_rows.to_string(),
                    r.missing.to_string(),
                    r.repaired.to_string(),
                    r.orphans.to_string(),
                    r.deleted.to_string(),
                    r.conflicts.len().to_string(),
                    workflow::conflict_list(&r.conflicts),
                ];
                let columns = [
                    "vindex",
                    "owner_rows",
                    "missing",
                    "missing_repaired",
                    "orphans",
                    "orphans_deleted",
                    "conflicts",
                    "conflict_values",
                ];
                self.write_local_result(&text_result(&columns, vec![row]), exec, more);
                return Ok(());
            }
        }
        .map_err(ProxyError::from)?;
        // A created lookup table (or a changed VSchema) has columns the facts do not know yet.
        self.refresh_column_facts().await;
        self.write_ok_more(
            &OkInfo {
                info: message,
                ..OkInfo::default()
            },
            more,
        );
        Ok(())
    }
}

//! Running an `INSERT … SELECT` into a sharded table (see the planner's `insert_select`):
//! the SELECT's rows are read through the session's connections, then inserted by the
//! ordinary INSERT path as `head VALUES (…) tail`, which routes each row, writes owned lookup
//! rows and fills sequences exactly as for a client's INSERT.

use super::session_cursor::SessionCursor;
use crate::error::ProxyError;
use crate::exec::{self, Cursor, ExecError};
use crate::planner::{InsertSelectPlan, Plan};
use crate::protocol::writer::OkInfo;
use crate::server::connection::{ClientConn, CommandError};
use crate::server::statement::Exec;
use crate::sql::StatementKind;

impl ClientConn {
    /// Reads `plan`'s SELECT, then inserts its rows (an OK of 0 rows when it has none).
    pub(super) async fn run_insert_select(
        &mut self,
        plan: &InsertSelectPlan,
        more: bool,
    ) -> Result<(), CommandError> {
        let state = self.state.clone();
        let vschema = state.vschema.load_full();
        let (rows, charset) = {
            let mut cursor = SessionCursor {
                conn: self,
                params: Vec::new(),
            };
            let charset = cursor.charset();
            let rows = match &*plan.select {
                Plan::Select(sp) => exec::execute_select(&mut cursor, sp, &[], &vschema).await,
                Plan::Materialize(mp) => {
                    exec::execute_materialized(&mut cursor, mp, &[], &vschema).await
                }
                Plan::Passthrough { keyspace } => {
                    cursor.execute(keyspace, 0, plan.select_sql.clone()).await
                }
                _ => Err(ExecError::NotSupported(
                    "an INSERT whose source is not a query".into(),
                )),
            };
            (rows.map_err(ProxyError::from)?, charset)
        };
        if rows.rows.is_empty() {
            self.write_ok_more(
                &OkInfo {
                    affected_rows: 0,
                    last_insert_id: 0,
                    warnings: 0,
                    info: "Records: 0  Duplicates: 0  Warnings: 0".into(),
                },
                more,
            );
            return Ok(());
        }
        let text = exec::values_statement(&plan.head, &rows, &plan.tail, charset)
            .map_err(ProxyError::from)?;
        drop(rows);
        Box::pin(self.run_sharded(
            &text,
            StatementKind::Insert,
            &Exec::Text,
            more,
            &plan.keyspace,
        ))
        .await
    }
}

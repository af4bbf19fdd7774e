//! Statements on sharded keyspaces: plan (cached), execute through a [`Cursor`] backed by the
//! session's shard connections, and write the merged result.
//!
//! A SELECT that one shard answers whole is relayed as it streams (text or binary rows, with
//! the client's parameters bound on the backend); everything else runs as text on each shard
//! (prepared-statement parameters interpolated as SQL literals) and is merged at the proxy.
//!
//! Plans come from the [`PlanCache`]: a text statement's plan is its template's plan with the
//! statement's literals bound in ([`planner::bind`](crate::planner::bind)), so it carries the
//! client's literal text and runs exactly like a plan of the statement itself (the
//! single-shard relay sends that text).
//!
//! The parts: [`PlanCache`] (plans by text or template), [`SequenceCache`] (ids reserved from
//! sequence tables), `session_cursor` (the [`Cursor`] over the session's connections),
//! `session_streams` (a scatter's answers read row by row on those connections) and
//! `stream_write` (a streamed merge written as it comes); this module plans and runs the
//! statement and writes its response.

mod default_vindex;
mod explain;
mod insert_select;
mod plan_cache;
mod sequence_cache;
mod session_cursor;
mod session_streams;
mod stream_write;

pub use plan_cache::PlanCache;
pub use sequence_cache::SequenceCache;

use crate::backend::Shard;
use crate::error::ProxyError;
use crate::exec::{self, Cursor, ExecError};
use crate::planner::Plan;
use crate::protocol::writer::OkInfo;
use crate::server::connection::{ClientConn, CommandError};
use crate::server::local_answers::LocalResult;
use crate::server::routing;
use crate::server::statement::Exec;
use crate::sql::StatementKind;
use session_cursor::SessionCursor;
use std::borrow::Cow;
use std::sync::Arc;

impl ClientConn {
    /// Refuses at PREPARE time what the planner cannot run on a sharded keyspace.
    pub fn check_plannable(&self, text: &str, kind: StatementKind) -> Result<(), ProxyError> {
        if !matches!(
            kind,
            StatementKind::Select
                | StatementKind::Insert
                | StatementKind::Replace
                | StatementKind::Update
                | StatementKind::Delete
        ) {
            return Ok(());
        }
        let needs_plan = matches!(
            routing::route(
                &self.state,
                self.session.target.as_ref(),
                text.as_bytes(),
                text,
                "statement"
            )?,
            routing::Decision::Sharded { .. }
        );
        if needs_plan {
            self.state.plans.get_or_plan(
                text,
                &self.state.vschema.load(),
                self.session.target.as_ref(),
            )?;
        }
        Ok(())
    }

    /// Plans and runs a statement on a sharded keyspace, writing its response.
    pub async fn run_sharded(
        &mut self,
        text: &str,
        kind: StatementKind,
        exec: &Exec,
        more: bool,
        keyspace: &str,
    ) -> Result<(), CommandError> {
        let state = self.state.clone();
        // LAST_INSERT_ID() reads the session's value on every shard it reaches (a shard
        // connection's own value may be another session's, or 0).
        let substituted = super::session_values::substituted_text(text, || self.session_values());
        let text = substituted.as_deref().unwrap_or(text);
        // VERSION(), @@version(_comment) and @@autocommit: the proxy's, not a shard's.
        let announced = match self.substitute_announced(Cow::Borrowed(text.as_bytes()), kind, text)
        {
            Cow::Owned(bytes) => String::from_utf8(bytes).ok(),
            Cow::Borrowed(_) => None,
        };
        let text = announced.as_deref().unwrap_or(text);
        if matches!(
            kind,
            StatementKind::Select
                | StatementKind::Insert
                | StatementKind::Replace
                | StatementKind::Update
                | StatementKind::Delete
        ) {
            // The planner reads literals as UTF-8 with backslash escapes and "..." strings;
            // refuse what MariaDB would read differently in this session (sql_mode, charset).
            let session = &self.session;
            let params = match exec {
                Exec::Binary(p) => p.as_slice(),
                Exec::Text => &[],
            };
            let mode = session.sql_mode_flags(state.server_sql_mode.get().copied());
            if let Some(reason) = crate::sql::misread_reason(text, mode, session.charset)
                .or_else(|| crate::sql::param_misread_reason(params, session.charset))
            {
                return Err(ProxyError::NotSupported(reason).into());
            }
        }
        if matches!(
            kind,
            StatementKind::Insert
                | StatementKind::Replace
                | StatementKind::Update
                | StatementKind::Delete
        ) {
            super::topology_guard::check_write(&state, keyspace)?;
            if let Some(txn) = self.session.transaction.as_mut() {
                txn.wrote_sharded = true;
            }
        }
        let plan = match kind {
            StatementKind::Ddl => Arc::new(Plan::AllShards {
                keyspace: keyspace.to_string(),
                sql: text.to_string(),
            }),
            StatementKind::Select
            | StatementKind::Insert
            | StatementKind::Replace
            | StatementKind::Update
            | StatementKind::Delete => {
                let planned = match exec {
                    Exec::Text if text.len() >= crate::offload::OFFLOAD_BYTES => {
                        let (shared, target, state) = (
                            crate::offload::shared_text(text),
                            self.session.target.clone(),
                            state.clone(),
                        );
                        crate::offload::run(text.len(), move || {
                            state.plans.get_or_plan_text(
                                shared.as_str(),
                                kind,
                                &state.vschema.load(),
                                target.as_ref(),
                            )
                        })
                        .await
                    }
                    Exec::Text => state.plans.get_or_plan_text(
                        text,
                        kind,
                        &state.vschema.load(),
                        self.session.target.as_ref(),
                    ),
                    Exec::Binary(_) => state.plans.get_or_plan(
                        text,
                        &state.vschema.load(),
                        self.session.target.as_ref(),
                    ),
                };
                match planned {
                    Ok(plan) => plan,
                    // A vindex queried as a table is no table to the planner: it is answered
                    // only once planning refused the statement, so planned statements never
                    // pay for the check.
                    Err(e) if kind == StatementKind::Select => {
                        match crate::server::vindex_table::answer(text, &state, keyspace) {
                            Some(answer) => {
                                let local = answer?;
                                self.write_local_result(&local, exec, more);
                                return Ok(());
                            }
                            None => {
                                return Err(self.judge_parse_failure(keyspace, text, e).await.into())
                            }
                        }
                    }
                    // A parse failure is a syntax error only if MariaDB says so.
                    Err(e) => return Err(self.judge_parse_failure(keyspace, text, e).await.into()),
                }
            }
            StatementKind::Explain if Box::pin(self.explain_sharded(text, exec, more)).await? => {
                return Ok(());
            }
            StatementKind::Show | StatementKind::Explain => {
                // Schema questions: every shard has the same schema, the first answers.
                let shard = self.first_shard(keyspace)?;
                let sql = routing::map_qualifiers(text, keyspace, &shard.database).into_owned();
                return self
                    .run_on_shard(&shard, Cow::Owned(sql), kind, text, exec, more)
                    .await;
            }
            other => {
                return Err(ProxyError::NotSupported(format!(
                    "{} on sharded keyspace '{keyspace}' is not supported; target one shard with USE `{keyspace}:<shard>`",
                    crate::server::statement::kind_name(other)
                ))
                .into())
            }
        };
        let params = match exec {
            Exec::Binary(p) => p.clone(),
            Exec::Text => Vec::new(),
        };
        let vschema_now = state.vschema.load_full();
        let vschema = &*vschema_now;
        self.observed
            .route(crate::server::observe::plan_route(&plan, vschema), keyspace);
        // (Left over only by a statement that failed before its end.)
        self.session.last_insert_id_tracking = None;
        if crate::server::last_insert_id::sets_last_insert_id(text) {
            let one_shard = match &*plan {
                Plan::Dml(dp) => dp.route.opcode == crate::planner::RouteOpcode::EqualUnique,
                Plan::Insert(ip) => ip.rows.len() == 1,
                Plan::AllShards { .. } | Plan::Materialize(_) | Plan::InsertSelect(_) => false,
                // A SELECT on several shards is refused by the cursor before it is sent.
                Plan::Select(_) | Plan::Passthrough { .. } => true,
            };
            if !one_shard {
                return Err(ProxyError::NotSupported(
                    "LAST_INSERT_ID(expr) in a statement that may change rows on more than one shard"
                        .into(),
                )
                .into());
            }
            self.session.last_insert_id_tracking = Some((self.session.last_insert_id, None));
        }
        let result = match &*plan {
            Plan::Passthrough { keyspace } => {
                let shard = self.first_shard(keyspace)?;
                let sql = routing::map_qualifiers(text, keyspace, &shard.database);
                let sql = routing::without_vindex_hints(sql);
                return self.run_on_shard(&shard, sql, kind, text, exec, more).await;
            }
            Plan::Select(sp) => {
                let mut resolved = None;
                if sp.merge.is_none() {
                    let mut cursor = SessionCursor {
                        conn: self,
                        params: Vec::new(),
                    };
                    let shards = cursor.shards(&sp.route.keyspace)?;
                    let targets = exec::resolve_route(
                        &mut cursor,
                        &sp.route,
                        &params,
                        vschema,
                        &shards,
                        false,
                    )
                    .await?;
                    if let [one] = targets.as_slice() {
                        let shard = self.shard_at(&sp.route.keyspace, one.shard)?;
                        // (Borrowed from the plan when nothing changes: a statement of
                        // hundreds of MiB is not copied to be sent.)
                        let sql = exec::shard_sql(&sp.query, one);
                        let mapped =
                            routing::map_qualifiers(&sql, &sp.route.keyspace, &shard.database);
                        return self
                            .run_on_shard(&shard, mapped, kind, text, exec, more)
                            .await;
                    }
                    resolved = Some(targets);
                }
                let tracking = self.session.last_insert_id_tracking.is_some();
                let mut cursor = SessionCursor {
                    conn: self,
                    params: params.clone(),
                };
                if tracking {
                    // (LAST_INSERT_ID(expr) primes and reads back one connection: whole.)
                    match resolved {
                        Some(targets) => {
                            exec::execute_select_at(&mut cursor, sp, &params, vschema, targets)
                                .await
                        }
                        None => exec::execute_select(&mut cursor, sp, &params, vschema).await,
                    }
                } else {
                    // ORDER BY, LIMIT and plain scatters stream; other merges hold the rows.
                    let started = match resolved {
                        Some(targets) => {
                            exec::start_select_at(&mut cursor, sp, &params, vschema, targets).await
                        }
                        None => exec::start_select(&mut cursor, sp, &params, vschema).await,
                    };
                    match started {
                        Ok(exec::SelectOutput::Whole(r)) => Ok(r),
                        Ok(exec::SelectOutput::Stream(stream)) => {
                            return Box::pin(self.write_select_stream(stream, exec, more)).await;
                        }
                        // What the merge refuses only at run time (a HAVING comparison it
                        // cannot make exactly), one MariaDB answers over copies.
                        Err(ExecError::NotSupported(reason)) => {
                            let target = self.session.target.clone();
                            match crate::planner::plan_materialized(text, vschema, target.as_ref())
                            {
                                Ok(Plan::Materialize(mp)) => {
                                    let mut cursor = SessionCursor {
                                        conn: self,
                                        params: Vec::new(),
                                    };
                                    exec::execute_materialized(&mut cursor, &mp, &params, vschema)
                                        .await
                                }
                                _ => Err(ExecError::NotSupported(reason)),
                            }
                        }
                        Err(e) => Err(e),
                    }
                }
            }
            Plan::Dml(_) | Plan::Insert(_) if plan.maintains_lookups() => {
                if let Plan::Insert(ip) = &*plan {
                    self.resolve_insert_columns(&ip.keyspace, text, ip).await?;
                }
                let scope = self.open_ordered_statement().await?;
                let result = {
                    let mut cursor = SessionCursor {
                        conn: self,
                        params: params.clone(),
                    };
                    match &*plan {
                        Plan::Dml(dp) => exec::execute_dml(&mut cursor, dp, &params, vschema).await,
                        Plan::Insert(ip) => {
                            exec::execute_insert(&mut cursor, ip, &params, vschema).await
                        }
                        _ => Err(ExecError::Internal("not a write".into())),
                    }
                };
                match result {
                    Ok(mut r) => {
                        let warnings = self.close_ordered_statement(scope, true).await?;
                        r.warnings = r.warnings.saturating_add(warnings);
                        Ok(r)
                    }
                    Err(e) => {
                        let _ = self.close_ordered_statement(scope, false).await;
                        Err(e)
                    }
                }
            }
            Plan::Dml(dp) => {
                let mut cursor = SessionCursor {
                    conn: self,
                    params: params.clone(),
                };
                exec::execute_dml(&mut cursor, dp, &params, vschema).await
            }
            Plan::Insert(ip) => {
                let mut cursor = SessionCursor {
                    conn: self,
                    params: params.clone(),
                };
                exec::execute_insert(&mut cursor, ip, &params, vschema).await
            }
            Plan::InsertSelect(isp) => {
                return Box::pin(self.run_insert_select(isp, more)).await;
            }
            Plan::Materialize(mp) => {
                // (The fetches take no parameters; the final statement gets them.)
                let mut cursor = SessionCursor {
                    conn: self,
                    params: Vec::new(),
                };
                exec::execute_materialized(&mut cursor, mp, &params, vschema).await
            }
            Plan::AllShards { keyspace, sql } => {
                // A table a tool creates in a keyspace with a default_vindex joins the
                // VSchema once every shard has it (and leaves it when dropped).
                let change = default_vindex::inspect(vschema, keyspace, sql)?;
                if let Some(change) = &change {
                    default_vindex::prepare(&state, change).await?;
                }
                let mut cursor = SessionCursor {
                    conn: self,
                    params: params.clone(),
                };
                let r = exec::execute_all_shards(&mut cursor, keyspace, sql).await;
                if let (Ok(_), Some(change)) = (&r, &change) {
                    default_vindex::apply(&state, keyspace, change).await?;
                }
                r
            }
        };
        let tracked = self.session.last_insert_id_tracking.take();
        let result = result.map_err(ProxyError::from)?;
        if !plan.maintains_lookups() {
            // (An ordered statement's commit left its post-list warnings there.)
            self.session.warnings.clear();
        }
        if result.last_insert_id > 0 {
            self.session.last_insert_id = result.last_insert_id;
        }
        // A statement that set LAST_INSERT_ID(expr) reports the value in its OK packet, as
        // MariaDB does.
        let mut result = result;
        if let Some((_, Some(set))) = tracked {
            self.session.last_insert_id = set;
            result.last_insert_id = set;
        }
        if result.columns.is_empty() {
            self.write_ok_more(
                &OkInfo {
                    affected_rows: result.affected_rows,
                    last_insert_id: result.last_insert_id,
                    warnings: result.warnings,
                    info: String::new(),
                },
                more,
            );
        } else {
            let local = LocalResult {
                columns: result.columns,
                rows: result.rows,
            };
            if local.rows.len() >= crate::offload::MERGE_ROWS {
                Box::pin(self.write_local_result_streaming(&local, exec, more)).await?;
            } else {
                self.write_local_result(&local, exec, more);
            }
        }
        Ok(())
    }

    fn first_shard(&self, keyspace: &str) -> Result<Arc<Shard>, ProxyError> {
        self.shard_at(keyspace, 0)
    }

    pub(crate) fn shard_at(&self, keyspace: &str, index: usize) -> Result<Arc<Shard>, ProxyError> {
        self.state
            .backends
            .keyspace(keyspace)
            .and_then(|s| s.get(index))
            .cloned()
            .ok_or_else(|| ProxyError::UnknownDatabase(keyspace.to_string()))
    }
}

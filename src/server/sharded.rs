//! Statements on sharded keyspaces: plan (cached), execute through a [`Cursor`] backed by the
//! session's shard connections, and write the merged result.
//!
//! A SELECT that one shard answers whole is relayed as it streams (text or binary rows, with
//! the client's parameters bound on the backend); everything else runs as text on each shard
//! (prepared-statement parameters interpolated as SQL literals) and is merged at the proxy.

use super::connection::{ClientConn, CommandError};
use super::local_answers::LocalResult;
use super::routing;
use super::statement::Exec;
use crate::backend::Shard;
use crate::error::ProxyError;
use crate::exec::{self, CommitOrder, Cursor, ExecError, ShardResult};
use crate::keyrange::KeyRange;
use crate::planner::{self, Plan};
use crate::protocol::writer::OkInfo;
use crate::sql::{self, StatementKind};
use mysql_async::prelude::Queryable;
use mysql_async::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Plans by (VSchema generation, statement text); bounded by clearing when full.
#[derive(Debug, Default)]
pub struct PlanCache {
    plans: Mutex<HashMap<(u64, String), Arc<Plan>>>,
}

const PLAN_CACHE_LIMIT: usize = 10_000;

impl PlanCache {
    /// The plan of a statement on a sharded keyspace (from the cache when possible).
    pub fn get_or_plan(
        &self,
        text: &str,
        vschema: &crate::vschema::VSchema,
        target: Option<&crate::session::Target>,
    ) -> Result<Arc<Plan>, ProxyError> {
        let target_key = target.map(|t| t.keyspace.as_str()).unwrap_or("");
        let key = (vschema.generation(), format!("{target_key}\u{0}{text}"));
        if let Ok(plans) = self.plans.lock() {
            if let Some(p) = plans.get(&key) {
                return Ok(p.clone());
            }
        }
        let plan = Arc::new(planner::plan(text, vschema, target).map_err(plan_error)?);
        if let Ok(mut plans) = self.plans.lock() {
            if plans.len() >= PLAN_CACHE_LIMIT {
                plans.clear();
            }
            plans.insert(key, plan.clone());
        }
        Ok(plan)
    }
}

fn plan_error(e: planner::PlanError) -> ProxyError {
    match e {
        planner::PlanError::Parse(m) => ProxyError::Parse(m),
        planner::PlanError::NotSupported(m) => ProxyError::NotSupported(m),
        planner::PlanError::NoDatabase => ProxyError::NoDatabase,
        other => {
            let (code, state) = other.mysql_code();
            ProxyError::Backend(crate::backend::BackendError::Server {
                code,
                state: state.to_string(),
                message: other.to_string(),
            })
        }
    }
}

/// Ids reserved from sequence tables, per `(keyspace, table)`: `[next, end)`.
#[derive(Debug, Default)]
pub struct SequenceCache {
    blocks: tokio::sync::Mutex<HashMap<(String, String), (u64, u64)>>,
}

impl SequenceCache {
    /// Takes `count` consecutive ids, fetching a new block from the sequence table when the
    /// cached one is too small (the rest of a too-small block is skipped: ids may have gaps).
    async fn reserve(
        &self,
        shard: &Arc<Shard>,
        table: &str,
        count: u64,
    ) -> Result<u64, ProxyError> {
        let key = (shard.keyspace.clone(), table.to_string());
        let mut blocks = self.blocks.lock().await;
        if let Some((next, end)) = blocks.get_mut(&key) {
            if *end - *next >= count {
                let first = *next;
                *next += count;
                return Ok(first);
            }
        }
        let mut conn = shard.get_conn().await?;
        let quoted = sql::quote_ident(table);
        let res: Result<(u64, u64), mysql_async::Error> = async {
            conn.query_drop("BEGIN").await?;
            let row: Option<(u64, u64)> = conn
                .query_first(format!(
                    "SELECT next_id, cache FROM {quoted} WHERE id = 0 FOR UPDATE"
                ))
                .await?;
            let (next_id, cache) = match row {
                Some(r) => r,
                None => {
                    conn.query_drop("ROLLBACK").await?;
                    return Err(mysql_async::Error::Other(
                        format!("sequence table {table} has no row with id 0").into(),
                    ));
                }
            };
            let take = cache.max(count).max(1);
            conn.query_drop(format!(
                "UPDATE {quoted} SET next_id = next_id + {take} WHERE id = 0"
            ))
            .await?;
            conn.query_drop("COMMIT").await?;
            Ok((next_id, next_id + take))
        }
        .await;
        let (start, end) = res.map_err(|e| {
            ProxyError::from(crate::backend::BackendError::from_driver(e, &shard.label))
        })?;
        blocks.insert(key, (start + count, end));
        Ok(start)
    }
}

/// The executor's view of the session: each shard query runs on the connection the session
/// uses for that shard (so transactions and settings apply).
struct SessionCursor<'c> {
    conn: &'c mut ClientConn,
    params: Vec<Value>,
}

impl SessionCursor<'_> {
    fn shard(&self, keyspace: &str, index: usize) -> Result<Arc<Shard>, ExecError> {
        self.conn
            .state
            .backends
            .keyspace(keyspace)
            .and_then(|s| s.get(index))
            .cloned()
            .ok_or_else(|| ExecError::Internal(format!("no shard {index} in keyspace {keyspace}")))
    }
}

impl Cursor for SessionCursor<'_> {
    fn shards(&self, keyspace: &str) -> Result<Vec<(String, KeyRange)>, ExecError> {
        Ok(self
            .conn
            .state
            .backends
            .keyspace(keyspace)
            .ok_or_else(|| ExecError::Internal(format!("unknown keyspace {keyspace}")))?
            .iter()
            .map(|s| (s.name.clone(), s.range.clone()))
            .collect())
    }

    async fn execute_in(
        &mut self,
        order: CommitOrder,
        keyspace: &str,
        shard: usize,
        sql: String,
    ) -> Result<ShardResult, ExecError> {
        let shard = self.shard(keyspace, shard)?;
        let sql = exec::interpolate(&sql, &self.params)?;
        let sql = routing::map_qualifiers(&sql, keyspace, &shard.database).into_owned();
        self.conn.session.log_query(keyspace, &shard.name, &sql);
        let transactional = order != CommitOrder::Autocommit;
        let mut sc = self.conn.acquire_in(&shard, transactional, order).await?;
        let res: Result<ShardResult, mysql_async::Error> = async {
            let mut result = sc.conn.query_iter(sql).await?;
            let columns = result.columns().map(|c| c.to_vec()).unwrap_or_default();
            let mut out = ShardResult {
                columns,
                ..ShardResult::default()
            };
            if out.columns.is_empty() {
                out.affected_rows = result.affected_rows();
                out.last_insert_id = result.last_insert_id().unwrap_or(0);
            }
            while let Some(row) = result.next().await? {
                out.rows.push(
                    row.unwrap_raw()
                        .into_iter()
                        .map(|v| v.unwrap_or(Value::NULL))
                        .collect(),
                );
            }
            out.warnings = result.warnings();
            // Drain any further result sets.
            while !result.is_empty() {
                let _ = result.next().await?;
            }
            Ok(out)
        }
        .await;
        let res = sc.check(res);
        self.conn.put_back(sc).await;
        Ok(res.map_err(ProxyError::from)?)
    }

    async fn next_sequence_ids(
        &mut self,
        keyspace: &str,
        table: &str,
        count: u64,
    ) -> Result<u64, ExecError> {
        let shard = self.shard(keyspace, 0)?;
        Ok(self
            .conn
            .state
            .sequences
            .reserve(&shard, table, count)
            .await?)
    }
}

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
        if kind == StatementKind::Select {
            if let Some(answer) = super::vindex_table::answer(text, &state, keyspace) {
                let local = answer?;
                self.write_local_result(&local, exec, more);
                return Ok(());
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
            | StatementKind::Delete => state
                .plans
                .get_or_plan(text, &state.vschema.load(), self.session.target.as_ref())?,
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
                    super::statement::kind_name(other)
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
        let result = match &*plan {
            Plan::Passthrough { keyspace } => {
                let shard = self.first_shard(keyspace)?;
                let sql = routing::map_qualifiers(text, keyspace, &shard.database).into_owned();
                return self
                    .run_on_shard(&shard, Cow::Owned(sql), kind, text, exec, more)
                    .await;
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
                        let sql = exec::shard_sql(&sp.query, one);
                        let sql =
                            routing::map_qualifiers(&sql, &sp.route.keyspace, &shard.database)
                                .into_owned();
                        return self
                            .run_on_shard(&shard, Cow::Owned(sql), kind, text, exec, more)
                            .await;
                    }
                    resolved = Some(targets);
                }
                let mut cursor = SessionCursor {
                    conn: self,
                    params: params.clone(),
                };
                match resolved {
                    Some(targets) => {
                        exec::execute_select_at(&mut cursor, sp, &params, vschema, targets).await
                    }
                    None => exec::execute_select(&mut cursor, sp, &params, vschema).await,
                }
            }
            Plan::Dml(_) | Plan::Insert(_) if plan.maintains_lookups() => {
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
            Plan::AllShards { keyspace, sql } => {
                let mut cursor = SessionCursor {
                    conn: self,
                    params: params.clone(),
                };
                exec::execute_all_shards(&mut cursor, keyspace, sql).await
            }
        };
        let result = result.map_err(ProxyError::from)?;
        self.session.warnings.clear();
        if result.last_insert_id > 0 {
            self.session.last_insert_id = result.last_insert_id;
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
            self.write_local_result(&local, exec, more);
        }
        Ok(())
    }

    fn first_shard(&self, keyspace: &str) -> Result<Arc<Shard>, ProxyError> {
        self.shard_at(keyspace, 0)
    }

    fn shard_at(&self, keyspace: &str, index: usize) -> Result<Arc<Shard>, ProxyError> {
        self.state
            .backends
            .keyspace(keyspace)
            .and_then(|s| s.get(index))
            .cloned()
            .ok_or_else(|| ProxyError::UnknownDatabase(keyspace.to_string()))
    }
}

//! Statements on sharded keyspaces: plan (cached), execute through a [`Cursor`] backed by the
//! session's shard connections, and write the merged result.
//!
//! A SELECT that one shard answers whole is relayed as it streams (text or binary rows, with
//! the client's parameters bound on the backend); everything else runs as text on each shard
//! (prepared-statement parameters interpolated as SQL literals) and is merged at the proxy.
//!
//! Plans come from the [`PlanCache`]: a text statement's plan is its template's plan with the
//! statement's literals bound in ([`planner::bind`]), so it carries the client's literal text
//! and runs exactly like a plan of the statement itself (the single-shard relay sends that
//! text).

use super::connection::{ClientConn, CommandError};
use super::local_answers::LocalResult;
use super::routing;
use super::statement::Exec;
use crate::backend::{Shard, ShardConn};
use crate::error::ProxyError;
use crate::exec::{self, CommitOrder, Cursor, ExecError, ShardResult};
use crate::planner::{self, Plan};
use crate::protocol::writer::OkInfo;
use crate::sql::{self, StatementKind};
use mysql_async::prelude::Queryable;
use mysql_async::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What the cache holds for one key.
#[derive(Debug)]
enum Cached {
    /// The plan of a statement text (prepared statements, VEXPLAIN, text statements without
    /// a template).
    Plan(Arc<Plan>),
    /// The plan of a text statement's template; [`planner::bind`] makes each statement's plan.
    Template(Arc<Plan>),
    /// The template could not be planned or bound: statements of this shape are planned by
    /// their own text (and cached as [`Cached::Plan`]).
    Fallback,
}

/// Which text a key holds (a template and a prepared statement's text may be equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum KeyKind {
    Text,
    Template,
}

/// `(VSchema generation, kind, target keyspace + "\0" + text)`; a template's text is followed
/// by "\0" and its literals' classes ([`planner::literal_class`]).
type Key = (u64, KeyKind, String);

/// Plans of statements on sharded keyspaces, bounded by clearing when full.
///
/// Text SELECT/INSERT/REPLACE/UPDATE/DELETE are cached by **template**
/// ([`sql::parameterize`]): the statement with its route-relevant literals replaced by `?`,
/// plus each literal's class (what decides whether it can route through a vindex). The
/// template is planned once like a prepared statement ([`planner::plan_template`]); every
/// statement of that shape then costs a tokenize, a hash and a map lookup, and
/// [`planner::bind`] puts its own literals back: typed values into the route, the literal
/// text exactly as written into the shard SQL. The template text keeps the client's
/// whitespace and comments (only the replaced literals differ), so the shards get the
/// client's exact text. When the template cannot be planned or bound (e.g. two tables joined
/// by equal literals), that is remembered and statements of the shape are planned and cached
/// by their full text, as prepared statements' texts are; errors therefore always come from
/// planning the statement's own text.
#[derive(Debug, Default)]
pub struct PlanCache {
    plans: Mutex<HashMap<Key, Cached>>,
    misses: AtomicU64,
}

const PLAN_CACHE_LIMIT: usize = 10_000;

impl PlanCache {
    /// The plan of a statement text on a sharded keyspace, cached by its full text (prepared
    /// statements, whose `?` are bound at execute time; VEXPLAIN; PREPARE-time checks).
    pub fn get_or_plan(
        &self,
        text: &str,
        vschema: &crate::vschema::VSchema,
        target: Option<&crate::session::Target>,
    ) -> Result<Arc<Plan>, ProxyError> {
        let key = (
            vschema.generation(),
            KeyKind::Text,
            target_text(target, text),
        );
        if let Some(Cached::Plan(p)) = self.lookup(&key).as_ref() {
            return Ok(p.clone());
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let plan = Arc::new(planner::plan(text, vschema, target).map_err(plan_error)?);
        self.store(key, Cached::Plan(plan.clone()));
        Ok(plan)
    }

    /// The plan of a text-protocol statement of `kind` (no `?` parameters), through its
    /// template when it has one (see [`PlanCache`]).
    pub fn get_or_plan_text(
        &self,
        text: &str,
        kind: StatementKind,
        vschema: &crate::vschema::VSchema,
        target: Option<&crate::session::Target>,
    ) -> Result<Arc<Plan>, ProxyError> {
        let Some(p) = sql::parameterize(text, kind) else {
            return self.get_or_plan(text, vschema, target);
        };
        let literals: Vec<planner::BoundLiteral<'_>> = p
            .literals
            .iter()
            .map(|l| planner::BoundLiteral {
                raw: l.raw(text),
                value: planner::literal_value(text, l),
            })
            .collect();
        let mut key_text = target_text(target, &p.template);
        key_text.push('\0');
        key_text.extend(
            literals
                .iter()
                .map(|l| char::from(planner::literal_class(&l.value))),
        );
        let key = (vschema.generation(), KeyKind::Template, key_text);
        let template = match self.lookup(&key) {
            Some(Cached::Template(t)) => t,
            Some(_) => return self.get_or_plan(text, vschema, target),
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                let values: Vec<_> = literals.iter().map(|l| l.value.clone()).collect();
                match planner::plan_template(&p.template, &values, vschema, target) {
                    Ok(t) if planner::bind(&t, &literals).is_some() => {
                        let t = Arc::new(t);
                        self.store(key, Cached::Template(t.clone()));
                        t
                    }
                    _ => {
                        self.store(key, Cached::Fallback);
                        return self.get_or_plan(text, vschema, target);
                    }
                }
            }
        };
        match planner::bind(&template, &literals) {
            Some(plan) => Ok(Arc::new(plan)),
            None => self.get_or_plan(text, vschema, target),
        }
    }

    /// How many times a statement or template was planned (cache misses), for tests and
    /// metrics.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    fn lookup(&self, key: &Key) -> Option<Cached> {
        let plans = self.plans.lock().ok()?;
        Some(match plans.get(key)? {
            Cached::Plan(p) => Cached::Plan(p.clone()),
            Cached::Template(t) => Cached::Template(t.clone()),
            Cached::Fallback => Cached::Fallback,
        })
    }

    fn store(&self, key: Key, value: Cached) {
        if let Ok(mut plans) = self.plans.lock() {
            if plans.len() >= PLAN_CACHE_LIMIT {
                plans.clear();
            }
            plans.insert(key, value);
        }
    }
}

fn target_text(target: Option<&crate::session::Target>, text: &str) -> String {
    let target_key = target.map(|t| t.keyspace.as_str()).unwrap_or("");
    let mut key = String::with_capacity(target_key.len() + 1 + text.len() + 8);
    key.push_str(target_key);
    key.push('\0');
    key.push_str(text);
    key
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
    /// The shard and the text it is sent: parameters interpolated, keyspace qualifiers
    /// mapped to its database; logged for VEXPLAIN QUERIES.
    fn shard_query(
        &mut self,
        keyspace: &str,
        index: usize,
        sql: &str,
    ) -> Result<(Arc<Shard>, Vec<u8>), ExecError> {
        let shard = self.shard(keyspace, index)?;
        let sql = exec::interpolate(sql, &self.params)?;
        let sql = routing::map_qualifiers(&sql, keyspace, &shard.database).into_owned();
        self.conn.session.log_query(keyspace, &shard.name, &sql);
        Ok((shard, sql))
    }

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
    fn shards(&self, keyspace: &str) -> Result<crate::exec::ShardRanges, ExecError> {
        self.conn
            .state
            .backends
            .ranges(keyspace)
            .ok_or_else(|| ExecError::Internal(format!("unknown keyspace {keyspace}")))
    }

    async fn execute_in(
        &mut self,
        order: CommitOrder,
        keyspace: &str,
        shard: usize,
        sql: String,
    ) -> Result<ShardResult, ExecError> {
        let (shard, sql) = self.shard_query(keyspace, shard, &sql)?;
        let transactional = order != CommitOrder::Autocommit;
        let mut sc = self.conn.acquire_in(&shard, transactional, order).await?;
        let res = sc.conn.query_result(&sql).await;
        let res = sc.check(res);
        self.conn.put_back(sc).await;
        Ok(res.map_err(ProxyError::from)?)
    }

    /// Takes the session's connection to each shard (in shard order, the same order every
    /// session takes them in, so sessions waiting on full pools cannot deadlock), sends every
    /// query, then reads the answers: the shards work at the same time.
    async fn execute_each(
        &mut self,
        keyspace: &str,
        queries: Vec<(usize, String)>,
    ) -> Result<Vec<ShardResult>, ExecError> {
        if let [(shard, sql)] = queries.as_slice() {
            return Ok(vec![self.execute(keyspace, *shard, sql.clone()).await?]);
        }
        let mut order: Vec<usize> = (0..queries.len()).collect();
        order.sort_by_key(|&i| queries[i].0);
        // Indexed like `queries`, filled in shard order.
        let mut taken: Vec<Option<(ShardConn, Vec<u8>)>> = queries.iter().map(|_| None).collect();
        let mut failure = None;
        for i in order {
            let (index, sql) = &queries[i];
            let acquired = match self.shard_query(keyspace, *index, sql) {
                Ok((shard, sql)) => self
                    .conn
                    .acquire_in(&shard, true, CommitOrder::Normal)
                    .await
                    .map(|sc| (sc, sql))
                    .map_err(ExecError::from),
                Err(e) => Err(e),
            };
            match acquired {
                Ok(slot) => taken[i] = Some(slot),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let answers = match failure {
            Some(_) => Vec::new(),
            None => {
                let each = taken.iter_mut().flatten().map(|(sc, sql)| async move {
                    let res = sc.conn.query_result(sql).await;
                    sc.check(res)
                });
                futures_util::future::join_all(each).await
            }
        };
        for (sc, _) in taken.into_iter().flatten() {
            self.conn.put_back(sc).await;
        }
        if let Some(e) = failure {
            return Err(e);
        }
        answers
            .into_iter()
            .map(|r| r.map_err(|e| ProxyError::from(e).into()))
            .collect()
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
                        match super::vindex_table::answer(text, &state, keyspace) {
                            Some(answer) => {
                                let local = answer?;
                                self.write_local_result(&local, exec, more);
                                return Ok(());
                            }
                            None => return Err(e.into()),
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
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
        if !plan.maintains_lookups() {
            // (An ordered statement's commit left its post-list warnings there.)
            self.session.warnings.clear();
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn customer() -> crate::session::Target {
        crate::session::Target {
            keyspace: "customer".into(),
            shard: None,
        }
    }

    fn two_shards() -> Vec<(String, crate::keyrange::KeyRange)> {
        ["-80", "80-"]
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    crate::keyrange::KeyRange::parse_shard_name(n).expect("name"),
                )
            })
            .collect()
    }

    /// The shard indexes a text statement's cached plan reaches, and its shard SQL.
    fn routed(
        cache: &PlanCache,
        vs: &crate::vschema::VSchema,
        sql: &str,
    ) -> (Vec<usize>, Vec<String>) {
        let plan = cache
            .get_or_plan_text(sql, sql::classify(sql), vs, Some(&customer()))
            .expect("plan");
        let Plan::Select(sp) = &*plan else {
            panic!("not a select: {plan:?}");
        };
        let targets =
            crate::exec::resolve::resolve(&sp.route, &[], vs, &two_shards()).expect("resolve");
        (
            targets.iter().map(|t| t.shard).collect(),
            targets
                .iter()
                .map(|t| exec::shard_sql(&sp.query, t))
                .collect(),
        )
    }

    #[test]
    fn statements_differing_in_literals_share_one_plan() {
        let cache = PlanCache::default();
        let vs = crate::planner::tests::test_vschema();
        // hash(1) -> -80, hash(4) -> 80-
        let (shards, sql) = routed(&cache, &vs, "SELECT c FROM sbtest1 WHERE id=1");
        assert_eq!(
            (shards, sql),
            (vec![0], vec!["SELECT c FROM sbtest1 WHERE id=1".into()])
        );
        assert_eq!(cache.misses(), 1);
        let (shards, sql) = routed(&cache, &vs, "SELECT c FROM sbtest1 WHERE id=4");
        assert_eq!(
            (shards, sql),
            (vec![1], vec!["SELECT c FROM sbtest1 WHERE id=4".into()])
        );
        let (shards, _) = routed(&cache, &vs, "SELECT c FROM sbtest1 WHERE id='1'");
        assert_eq!(shards, vec![0]);
        // 1 and '1' are different literal classes: two templates, no more planning after.
        assert_eq!(cache.misses(), 2);
        for i in 1..50 {
            let (shards, _) = routed(&cache, &vs, &format!("SELECT c FROM sbtest1 WHERE id={i}"));
            assert_eq!(shards.len(), 1);
        }
        assert_eq!(cache.misses(), 2);
        // IN lists are pruned per shard with the literals as written.
        let (shards, sql) = routed(&cache, &vs, "SELECT c FROM sbtest1 WHERE id IN (1, 4, 01)");
        assert_eq!(shards, vec![0, 1]);
        assert_eq!(
            sql,
            [
                "SELECT c FROM sbtest1 WHERE id IN (1, 01)",
                "SELECT c FROM sbtest1 WHERE id IN (4)"
            ]
        );
        assert_eq!(cache.misses(), 3);
        // A decimal never routes on hash: its own class, a scatter plan.
        let (shards, sql) = routed(&cache, &vs, "SELECT c FROM sbtest1 WHERE id=1.50");
        assert_eq!(shards, vec![0, 1]);
        assert_eq!(sql[0], "SELECT c FROM sbtest1 WHERE id=1.50");
        assert_eq!(cache.misses(), 4);
    }

    #[test]
    fn refused_templates_fall_back_to_the_text() {
        let cache = PlanCache::default();
        let vs = crate::planner::tests::test_vschema();
        let t = customer();
        let join = |a: u32, b: u32| {
            format!("select * from user u, orders o where u.id = {a} and o.user_id = {b}")
        };
        let plan = |sql: &str| cache.get_or_plan_text(sql, sql::classify(sql), &vs, Some(&t));
        // Equal literals route both tables to one shard; the template cannot know they are.
        assert!(plan(&join(5, 5)).is_ok());
        assert_eq!(cache.misses(), 2); // template refused, then the text
        assert!(plan(&join(5, 5)).is_ok());
        assert_eq!(cache.misses(), 2); // the text is cached, the refusal too
        assert!(matches!(
            plan(&join(5, 6)),
            Err(ProxyError::NotSupported(_))
        ));
        assert_eq!(cache.misses(), 3);
        // Errors are the text's own.
        let bad = "select c from sbtest1 where id = 1 and";
        assert!(matches!(plan(bad), Err(ProxyError::Parse(_))));
        assert!(matches!(plan(bad), Err(ProxyError::Parse(_))));
        // Prepared statements never see templates, and the other way round.
        let prepared = "select c from sbtest1 where id = ?";
        assert!(cache.get_or_plan(prepared, &vs, Some(&t)).is_ok());
        let (shards, _) = routed(&cache, &vs, "select c from sbtest1 where id = 4");
        assert_eq!(shards, vec![1]);
    }
}

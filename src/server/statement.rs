//! Running one statement: COM_QUERY splitting, dispatch by kind, and passthrough to a shard.
//!
//! Both COM_QUERY and COM_STMT_EXECUTE end up in [`ClientConn::run_statement`]; only the row
//! format differs. Statements that change session or transaction state are handled by the proxy
//! (see `transaction.rs` and `set.rs`); the rest are routed and sent as the client wrote them
//! (with keyspace qualifiers mapped to backend databases).

use super::connection::{ClientConn, CommandError};
use super::local_answers;
use super::relay::{self, RelayError, RelayOptions};
use super::routing::{self, analysis_text, Decision};
use super::session_values::substitute_session_values;
use crate::backend::{CommitOrder, Shard, ShardConn};
use crate::error::ProxyError;
use crate::protocol::writer::{self, OkInfo};
use crate::sql::{self, Needles, StatementKind};
use mysql_common::constants::StatusFlags;
use mysql_common::Value;
use std::borrow::Cow;
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};

/// How a statement was sent, and so how its rows are encoded.
#[derive(Debug, Clone)]
pub enum Exec {
    /// COM_QUERY: text rows.
    Text,
    /// COM_STMT_EXECUTE with these parameters: binary rows.
    Binary(Vec<Value>),
}

/// A short name for a statement kind, used in messages.
pub fn kind_name(kind: StatementKind) -> &'static str {
    match kind {
        StatementKind::Select => "SELECT",
        StatementKind::Insert => "INSERT",
        StatementKind::Replace => "REPLACE",
        StatementKind::Update => "UPDATE",
        StatementKind::Delete => "DELETE",
        StatementKind::Ddl => "DDL",
        StatementKind::Show => "SHOW",
        StatementKind::Explain => "EXPLAIN",
        StatementKind::Call => "CALL",
        StatementKind::Set => "SET",
        StatementKind::Lock | StatementKind::Unlock => "LOCK TABLES",
        _ => "statement",
    }
}

/// Whether a statement leaves backend session state that later statements depend on.
fn creates_session_state(kind: StatementKind, text: &str, markers: RelayMarkers) -> bool {
    if matches!(kind, StatementKind::Lock) {
        return true;
    }
    if text.len() > 4096 {
        return false;
    }
    markers.session_state
        || (kind == StatementKind::Other
            && text
                .trim_start()
                .get(..7)
                .is_some_and(|w| w.eq_ignore_ascii_case("prepare")))
}

/// What the relay's two word filters found in a statement's text, read in one
/// case-insensitive pass (this runs on every relayed statement).
#[derive(Debug, Clone, Copy)]
struct RelayMarkers {
    /// A word of a statement that may leave state on the backend connection.
    session_state: bool,
    /// One of `super::session_values::WORDS`: [`substitute_session_values`] may have work.
    session_values: bool,
}

impl RelayMarkers {
    /// The first [`Self::STATE_WORDS`] words mean session state, the rest session values.
    const WORDS: [&'static str; 14] = [
        "temporary",
        "get_lock",
        "sql_calc_found_rows",
        ":=",
        "into @",
        // super::session_values::WORDS:
        "last_insert_id",
        "socket",
        "database",
        "schema",
        "user(",
        "current_user",
        "connection_id",
        "pseudo_thread_id",
        "row_count",
    ];
    const STATE_WORDS: usize = 5;

    fn of(text: &str) -> RelayMarkers {
        const STATE: u64 = (1 << RelayMarkers::STATE_WORDS) - 1;
        static WORDS: LazyLock<Needles> = LazyLock::new(|| Needles::new(&RelayMarkers::WORDS));
        let found = WORDS.found_in(text.as_bytes());
        RelayMarkers {
            session_state: found & STATE != 0,
            session_values: found & !STATE != 0,
        }
    }
}

/// Why a statement that is not valid UTF-8 cannot run on sharded keyspace `keyspace`, worded
/// for the client's character set: a latin1 (GBK, ...) client's bytes are valid text in its
/// own charset, which the proxy does not convert, so the message names that charset.
fn unplannable_bytes(charset: Option<sql::Charset>, kind: StatementKind, keyspace: &str) -> String {
    match charset {
        Some(cs) if !cs.is_utf8() => format!(
            "non-ASCII text from a {} client in a {} on sharded keyspace '{keyspace}' (the proxy \
             plans sharded statements as utf8mb4 text and does not convert {}; use utf8mb4, or \
             target one shard with USE `{keyspace}:<shard>`)",
            cs.name(),
            kind_name(kind),
            cs.name()
        ),
        Some(cs) => format!(
            "a {} that is not valid {} text on sharded keyspace '{keyspace}'",
            kind_name(kind),
            cs.name()
        ),
        None => format!(
            "a {} whose text is not valid UTF-8 on sharded keyspace '{keyspace}' while \
             character_set_client and character_set_results differ or are unknown",
            kind_name(kind)
        ),
    }
}

impl ClientConn {
    /// COM_QUERY: splits multi-statement text and runs each statement in order, stopping at the
    /// first error (as MySQL does).
    ///
    /// The packet's buffer is shared (not copied) with the offloaded work of its statements
    /// ([`crate::offload::shared_text`]).
    pub async fn com_query(&mut self, sql: Vec<u8>) -> Result<(), CommandError> {
        let sql = bytes::Bytes::from(sql);
        crate::offload::with_statement(sql.clone(), self.com_query_bytes(&sql)).await
    }

    async fn com_query_bytes(&mut self, sql: &[u8]) -> Result<(), CommandError> {
        self.state.questions.fetch_add(1, Ordering::Relaxed);
        let text = analysis_text(sql);
        let pieces: Vec<(usize, usize)> = sql::split_statements(&text)
            .into_iter()
            .map(|p| {
                let start = p.as_ptr() as usize - text.as_ptr() as usize;
                (start, start + p.len())
            })
            .collect();
        if pieces.is_empty() {
            return Err(ProxyError::EmptyQuery.into());
        }
        if pieces.len() > 1 && !self.session.multi_statements {
            return Err(ProxyError::Parse(
                "You have an error in your SQL syntax: multi-statements are not enabled for this connection".into(),
            )
            .into());
        }
        let last = pieces.len() - 1;
        for (i, (start, end)) in pieces.into_iter().enumerate() {
            let res = self
                .run_statement(&sql[start..end], &text[start..end], &Exec::Text, i < last)
                .await;
            match res {
                Ok(()) => {}
                Err(CommandError::Proxy(e)) => {
                    self.write_error(&e).await?;
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
        self.ps.flush().await?;
        Ok(())
    }

    /// Runs one statement and writes its response (without flushing), holding a guard of the
    /// VSchema generation it starts under (and handing it to the transaction it leaves open).
    pub async fn run_statement(
        &mut self,
        bytes: &[u8],
        text: &str,
        exec: &Exec,
        more: bool,
    ) -> Result<(), CommandError> {
        let command = match exec {
            Exec::Text => "Query",
            Exec::Binary(_) => "Execute",
        };
        self.live.begin_statement(command, text);
        self.observed = super::observe::Observation::default();
        let guard = self.state.workflows.generations.enter(&self.state.vschema);
        let result = self.run_statement_unguarded(bytes, text, exec, more).await;
        self.pin_vschema_generation(guard);
        self.finish_observation(text, &result);
        result
    }

    pub(super) async fn run_statement_unguarded(
        &mut self,
        bytes: &[u8],
        text: &str,
        exec: &Exec,
        more: bool,
    ) -> Result<(), CommandError> {
        let kind = sql::classify(text);
        self.observed.kind(super::observe::kind_label(kind));
        // A statement's diagnostics replace the last one's; only reading them keeps them.
        if !self.session.warnings.is_empty() && !local_answers::reads_diagnostics(kind, text) {
            self.session.warnings.clear();
        }
        if let Some(stmt) = super::kill::recognize(kind, text) {
            // KILL / SHOW PROCESSLIST / CONNECTION_ID() about the proxy's own sessions.
            return Box::pin(self.session_statement(stmt, exec, more)).await;
        }
        if kind != StatementKind::Use {
            self.authorize_offloaded(kind, text, true, false).await?;
        }
        match kind {
            StatementKind::Use => {
                let target = sql::parse_use(text)
                    .ok_or_else(|| ProxyError::Parse("USE needs a database name".into()))?;
                let name = match &target.shard {
                    Some(s) => format!("{}:{}", target.keyspace, s),
                    None => target.keyspace.clone(),
                };
                self.use_database(&name)?;
                self.write_ok_more(&OkInfo::default(), more);
                Ok(())
            }
            StatementKind::Begin => {
                Box::pin(self.begin(text)).await?;
                self.write_ok_more(&OkInfo::default(), more);
                Ok(())
            }
            StatementKind::Commit => {
                let warnings = Box::pin(self.commit()).await?;
                self.write_ok_more(
                    &OkInfo {
                        warnings,
                        ..OkInfo::default()
                    },
                    more,
                );
                Ok(())
            }
            StatementKind::Rollback => {
                Box::pin(self.rollback()).await;
                self.write_ok_more(&OkInfo::default(), more);
                Ok(())
            }
            StatementKind::Savepoint
            | StatementKind::ReleaseSavepoint
            | StatementKind::RollbackToSavepoint => {
                Box::pin(self.savepoint(text, kind)).await?;
                self.write_ok_more(&OkInfo::default(), more);
                Ok(())
            }
            StatementKind::Set => Box::pin(self.set_statement(bytes, text, more)).await,
            StatementKind::Show | StatementKind::Other | StatementKind::Ddl
                if crate::admin::parse_admin(text).is_some() =>
            {
                self.observed.kind("ADMIN");
                Box::pin(self.admin_statement(text, exec, more)).await
            }
            _ => {
                super::sql_prepare::forget_assigned(&mut self.session, kind, text);
                // (`DROP PREPARE` classifies as DDL.)
                if matches!(kind, StatementKind::Other | StatementKind::Ddl)
                    && matches!(exec, Exec::Text)
                    && Box::pin(self.sql_prepare(text, more)).await?
                {
                    // PREPARE / EXECUTE / DEALLOCATE on a sharded keyspace.
                    return Ok(());
                }
                if super::next_values::asks(kind, text) {
                    // Vitess's `SELECT NEXT n VALUES FROM seq`: ids from the sequence cache.
                    return Ok(Box::pin(self.next_values(text, exec, more)).await?);
                }
                if let Some(answer) = local_answers::answer(self, kind, text) {
                    let answer = answer?;
                    self.write_local_result(&answer, exec, more);
                    return Ok(());
                }
                if kind == StatementKind::Show && super::show_variables::asks(text) {
                    let answer = Box::pin(self.show_variables(text)).await?;
                    self.write_local_result(&answer, exec, more);
                    return Ok(());
                }
                // Statements that run on shards run watched: their time limit, KILL and the
                // client closing its socket stop them there (see `statement_timeout`).
                let limit = self.statement_time_limit();
                let live = self.live.shared();
                let client = Some(std::os::fd::AsRawFd::as_raw_fd(self.ps.get_ref()));
                if kind == StatementKind::Select && super::information_schema::mentions(text) {
                    if let Some(r) = super::processlist_table::find(kind, text) {
                        let statement = Box::pin(self.processlist_table(text, r, exec, more));
                        return super::statement_timeout::run_watched(
                            limit, &live, client, statement,
                        )
                        .await;
                    }
                    let statement = Box::pin(self.information_schema(bytes, text, exec, more));
                    return super::statement_timeout::run_watched(limit, &live, client, statement)
                        .await;
                }
                super::statement_timeout::run_watched(
                    limit,
                    &live,
                    client,
                    self.passthrough(bytes, text, kind, exec, more),
                )
                .await
            }
        }
    }

    /// Writes an OK packet (not flushed), flagging more results when statements follow.
    pub fn write_ok_more(&mut self, ok: &OkInfo, more: bool) {
        self.observed.rows = ok.affected_rows;
        self.session.row_count = i64::try_from(ok.affected_rows).unwrap_or(i64::MAX);
        let mut status = self.session.status();
        if more {
            status |= StatusFlags::SERVER_MORE_RESULTS_EXISTS;
        }
        self.ps.write_with(|b| writer::ok_packet(b, 0, ok, status));
    }

    /// Sends a statement to the shard routing picks and relays the result.
    pub(super) async fn passthrough(
        &mut self,
        bytes: &[u8],
        text: &str,
        kind: StatementKind,
        exec: &Exec,
        more: bool,
    ) -> Result<(), CommandError> {
        self.authorize_offloaded(kind, text, false, true).await?;
        let decision = routing::route(
            &self.state,
            self.session.target.as_ref(),
            bytes,
            text,
            kind_name(kind),
        )?;
        let mut sharded = None;
        let result = match decision {
            Decision::Shard(routed) => {
                let sharded_keyspace = self
                    .state
                    .vschema
                    .load()
                    .keyspace(&routed.shard.keyspace)
                    .is_some_and(|k| k.sharded);
                let route = if sharded_keyspace {
                    crate::metrics::RouteKind::SingleShard
                } else {
                    crate::metrics::RouteKind::Unsharded
                };
                self.observed.route(route, &routed.shard.keyspace);
                self.run_on_shard(&routed.shard, routed.sql, kind, text, exec, more)
                    .await
            }
            Decision::Sharded { keyspace } => {
                sharded = Some(keyspace.clone());
                let mut hexed = None;
                if std::str::from_utf8(bytes).is_err() {
                    hexed = self.hex_binary_strings(bytes, kind);
                }
                if std::str::from_utf8(bytes).is_err() && hexed.is_none() {
                    if matches!(kind, StatementKind::Show | StatementKind::Explain) {
                        // Schema questions go to the first shard as written: only keyspace
                        // qualifiers are rewritten, by byte span, so any bytes pass exactly.
                        let shard = self.shard_at(&keyspace, 0)?;
                        let sql =
                            routing::map_qualifiers_in(bytes, text, &keyspace, &shard.database);
                        return self.run_on_shard(&shard, sql, kind, text, exec, more).await;
                    }
                    // The planner reads text as utf8mb4 and rebuilds shard queries from it.
                    return Err(ProxyError::NotSupported(unplannable_bytes(
                        self.session.charset,
                        kind,
                        &keyspace,
                    ))
                    .into());
                }
                let budget = self.state.config.limits.max_merge_bytes;
                let text = hexed.as_deref().unwrap_or(text);
                Box::pin(crate::backend::result_budget::scope(
                    budget,
                    self.run_sharded(text, kind, exec, more, &keyspace),
                ))
                .await
            }
        };
        if kind == StatementKind::Ddl && result.is_ok() {
            if let Some(keyspace) = &sharded {
                // A view that ran on every shard is recorded in the keyspace's VSchema.
                if let Err(e) = super::views::record(&self.state, keyspace, text).await {
                    tracing::warn!("recording the view of {keyspace}: {e}");
                }
            }
            self.refresh_column_facts().await;
        }
        result
    }

    /// A DML statement from a utf8 client whose only non-UTF-8 bytes are raw bytes in string
    /// literals (a text-protocol driver's binary parameter), with those literals as hex
    /// literals of the same bytes: see [`crate::sql::binary_strings`]. `None` otherwise (the
    /// statement is then refused as before).
    fn hex_binary_strings(&self, bytes: &[u8], kind: StatementKind) -> Option<String> {
        let dml = matches!(
            kind,
            StatementKind::Select
                | StatementKind::Insert
                | StatementKind::Replace
                | StatementKind::Update
                | StatementKind::Delete
        );
        if !dml || !self.session.charset.is_some_and(|cs| cs.is_utf8()) {
            return None;
        }
        let mode = self
            .session
            .sql_mode_flags(self.state.server_sql_mode.get().copied())?;
        crate::sql::binary_strings::hex_invalid_strings(bytes, mode)
    }

    /// After a DDL statement (or a workflow statement that created or changed tables and the
    /// VSchema): reads the column facts again (collations decide which string
    /// vindexes route, see [`crate::schema_facts`]). Waits up to 2 s so the next statement
    /// plans with them; a slower read finishes in the background.
    pub(super) async fn refresh_column_facts(&self) {
        let state = self.state.clone();
        let task = tokio::spawn(async move { crate::schema_facts::refresh(&state, false).await });
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), task).await;
    }

    /// Sends one statement to one shard and relays the result as it streams.
    pub async fn run_on_shard(
        &mut self,
        shard: &Arc<Shard>,
        sql: Cow<'_, [u8]>,
        kind: StatementKind,
        text: &str,
        exec: &Exec,
        more: bool,
    ) -> Result<(), CommandError> {
        // The client's text holds every word the substitutions act on (the shard SQL only
        // differs from it in keyspace qualifiers), so one scan of it serves both filters.
        // (A sharded plan that relays here tracks LAST_INSERT_ID(expr) itself, below.)
        self.session.last_insert_id_tracking = None;
        let markers = RelayMarkers::of(text);
        let sql = if markers.session_values {
            substitute_session_values(sql, &self.session_values())
        } else {
            sql
        };
        let sql = self.substitute_announced(sql, kind, text);
        self.session.log_query(&shard.keyspace, &shard.name, &sql);
        let mut sc = self.acquire(shard, true).await?;
        let opts = RelayOptions {
            deprecate_eof: self.session.deprecate_eof(),
            status: self.session.status(),
            more_after: more,
            binary_rows: matches!(exec, Exec::Binary(_)),
            rename_table_cells: super::backend_names::is_table_maintenance(text),
            rename_show: kind == StatementKind::Show,
        };
        // LAST_INSERT_ID(expr) sets the session's value: prime the connection, read it back.
        let tracks_id = markers.session_values && super::last_insert_id::sets_last_insert_id(text);
        if tracks_id {
            if let Err(e) = super::last_insert_id::prime(&mut sc, self.session.last_insert_id).await
            {
                self.put_back(sc).await;
                return Err(ProxyError::from(e).into());
            }
        }
        let sent = match exec {
            Exec::Text => sc.conn.send_query(&sql).await,
            Exec::Binary(params) => sc.conn.send_execute(&sql, params).await,
        };
        let res = match sent {
            Ok(()) => relay::relay(&mut self.ps, &mut sc.conn, opts, &self.state.backends).await,
            Err(e) => Err(RelayError::Backend(e)),
        };
        let outcome = match res {
            Ok(summary) => {
                self.observed.rows = if summary.result_set {
                    summary.rows
                } else {
                    summary.affected_rows
                };
                self.session.row_count = if summary.result_set {
                    -1
                } else {
                    i64::try_from(summary.affected_rows).unwrap_or(i64::MAX)
                };
                if summary.last_insert_id > 0 {
                    self.session.last_insert_id = summary.last_insert_id;
                }
                if tracks_id {
                    match super::last_insert_id::read_back(&mut sc).await {
                        Ok(v) => self.session.last_insert_id = v,
                        Err(e) => tracing::warn!("reading LAST_INSERT_ID() back: {e}"),
                    }
                }
                if summary.warnings > 0 {
                    let mut warnings = Box::pin(relay::collect_warnings(&mut sc)).await;
                    for w in &mut warnings {
                        let renamed =
                            super::backend_names::rename_in_text(&self.state.backends, &w.message);
                        if let Cow::Owned(m) = renamed {
                            w.message = m;
                        }
                    }
                    self.session.warnings = warnings;
                } else {
                    self.session.warnings.clear();
                }
                if creates_session_state(kind, text, markers) {
                    sc.dirty = true;
                    self.session.pinned = true;
                }
                Ok(())
            }
            Err(RelayError::Backend(e)) => {
                self.session.warnings.clear();
                Err(CommandError::from(
                    sc.check::<()>(Err(e)).err().map_or_else(
                        || ProxyError::Internal("backend error".into()),
                        ProxyError::from,
                    ),
                ))
            }
            Err(RelayError::Client(e)) => {
                sc.broken = true;
                Err(CommandError::Packet(e))
            }
        };
        self.put_back(sc).await;
        outcome
    }

    /// Gets the connection a statement on `shard` must use: the session's reserved one, or a
    /// pooled one prepared with the session's settings; with `transactional`, it also joins the
    /// open (or, under autocommit=0, implicit) transaction.
    pub async fn acquire(
        &mut self,
        shard: &Arc<Shard>,
        transactional: bool,
    ) -> Result<ShardConn, ProxyError> {
        self.acquire_in(shard, transactional, CommitOrder::Normal)
            .await
    }

    /// [`Self::acquire`] for one of the session's transaction lists: a consistent lookup's
    /// pre or post connection to a shard is another connection than the normal one, with its
    /// own transaction.
    pub async fn acquire_in(
        &mut self,
        shard: &Arc<Shard>,
        transactional: bool,
        order: CommitOrder,
    ) -> Result<ShardConn, ProxyError> {
        self.observed.touch(shard);
        let mut sc = match self
            .session
            .take_reserved(&shard.keyspace, &shard.name, order)
        {
            Some(c) => c,
            None => {
                let conn = shard.session_conn().await?;
                let mut sc = ShardConn::new(shard.clone(), conn);
                sc.order = order;
                if !self.session.settings.is_empty() {
                    if let Err(e) = Box::pin(self.replay_settings(&mut sc)).await {
                        Box::pin(sc.release()).await;
                        return Err(e);
                    }
                }
                sc
            }
        };
        if !transactional {
            return Ok(sc);
        }
        if !self.session.autocommit && self.session.transaction.is_none() {
            self.session.transaction = Some(crate::session::Transaction::new("BEGIN"));
        }
        if self.session.transaction.is_none() || sc.in_txn {
            return Ok(sc);
        }
        if let Err(e) = Box::pin(self.join_transaction(&mut sc)).await {
            Box::pin(self.put_back(sc)).await;
            return Err(e);
        }
        Ok(sc)
    }

    async fn replay_settings(&self, sc: &mut ShardConn) -> Result<(), ProxyError> {
        for s in &self.session.settings {
            sc.run(&s.sql).await?;
            sc.dirty = true;
        }
        Ok(())
    }

    /// Returns a connection after a statement: kept by the session while it is needed, else
    /// back to its pool (closed if broken, which also aborts the transaction it was in).
    pub async fn put_back(&mut self, sc: ShardConn) {
        if sc.broken {
            if sc.in_txn {
                Box::pin(self.abort_transaction()).await;
            }
            Box::pin(sc.release()).await;
            return;
        }
        if sc.in_txn || sc.dirty || self.session.needs_reservation() {
            let mut sc = sc;
            sc.conn.reserve();
            self.session.reserved.push(sc);
        } else {
            drop(sc);
        }
    }

    /// COM_FIELD_LIST: the columns of a table, as the shard a zero-row SELECT of it routes to
    /// answers it.
    pub async fn com_field_list(&mut self, table: &str) -> Result<(), CommandError> {
        let sql = format!("SELECT * FROM `{}` LIMIT 0", table.replace('`', "``"));
        // (The zero-row SELECT only chooses the shard; the shard answers COM_FIELD_LIST.)
        let (shard, _) = self.metadata_shard(sql.as_bytes(), &sql, "COM_FIELD_LIST")?;
        // The shard's own COM_FIELD_LIST answer (definitions with their default values), its
        // bytes relayed but for the schema, which names the keyspace.
        let mut sc = self.acquire(&shard, false).await?;
        let backends = self.state.backends.clone();
        let mut defs = Vec::new();
        let res = async {
            sc.conn.send_field_list(table.as_bytes()).await?;
            loop {
                let p = sc.conn.next_packet().await?;
                if p.first() == Some(&0xFF) {
                    return Err(crate::backend::wire::packets::parse_err(p));
                }
                if crate::backend::wire::packets::is_eof(p) {
                    return Ok(());
                }
                let mut def = Vec::with_capacity(p.len());
                writer::relayed_column_packet(&mut def, p, |schema| {
                    std::str::from_utf8(schema)
                        .ok()
                        .filter(|s| !s.is_empty())
                        .and_then(|s| backends.keyspace_of_database(s))
                        .map(str::as_bytes)
                });
                defs.push(def);
            }
        }
        .await;
        let res = sc.check(res);
        self.put_back(sc).await;
        res?;
        for def in &defs {
            self.ps.write(def);
        }
        let status = self.session.status();
        if self.session.deprecate_eof() {
            self.ps
                .write_with(|b| writer::ok_packet(b, 0xFE, &OkInfo::default(), status));
        } else {
            self.ps.write_with(|b| writer::eof_packet(b, 0, status));
        }
        self.ps.flush().await?;
        Ok(())
    }
}

impl ClientConn {
    /// The shard that answers metadata questions for a statement (prepare, field list): its
    /// own shard, or the first shard of a sharded keyspace (every shard has the same schema).
    pub fn metadata_shard<'a>(
        &self,
        bytes: &'a [u8],
        text: &str,
        what: &str,
    ) -> Result<(Arc<Shard>, Cow<'a, [u8]>), ProxyError> {
        self.authorize_shard(text)?;
        self.authorize_grants(StatementKind::Select, text)?;
        match routing::route(&self.state, self.session.target.as_ref(), bytes, text, what)? {
            Decision::Shard(r) => Ok((r.shard, r.sql)),
            Decision::Sharded { keyspace } => {
                let shard = self
                    .state
                    .backends
                    .keyspace(&keyspace)
                    .and_then(|s| s.first())
                    .cloned()
                    .ok_or_else(|| ProxyError::UnknownDatabase(keyspace.clone()))?;
                let sql = routing::map_qualifiers(text, &keyspace, &shard.database).into_owned();
                let sql = routing::without_vindex_hints(Cow::Owned(sql)).into_owned();
                Ok((shard, Cow::Owned(sql)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_session_state() {
        let state = |kind, text| creates_session_state(kind, text, RelayMarkers::of(text));
        assert!(state(
            StatementKind::Ddl,
            "CREATE TEMPORARY TABLE t (a int)"
        ));
        assert!(state(StatementKind::Select, "SELECT GET_LOCK('x', 1)"));
        assert!(!state(
            StatementKind::Select,
            "SELECT c FROM t WHERE id = 1"
        ));
    }

    #[test]
    fn relay_markers_split_state_words_from_session_value_words() {
        let m = RelayMarkers::of("SELECT @@socket, LAST_INSERT_ID()");
        assert!(m.session_values && !m.session_state);
        for text in [
            "SET @a := 1",
            "SELECT 1 INTO @x",
            "SELECT SQL_CALC_FOUND_ROWS 1",
        ] {
            let m = RelayMarkers::of(text);
            assert!(m.session_state && !m.session_values, "{text}");
        }
        let m = RelayMarkers::of("SELECT c FROM sbtest1 WHERE id = 5");
        assert!(!m.session_state && !m.session_values);
    }
}

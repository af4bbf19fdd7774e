//! One client connection: handshake, authentication, and the command loop.
//!
//! Errors from statements become ERR packets and the loop goes on; only socket errors, COM_QUIT,
//! a failed COM_CHANGE_USER or proxy shutdown end the connection. On the way out, every backend
//! connection the session pinned is rolled back, reset and returned.

use super::client_stream::ClientStream;
use super::ProxyState;
use crate::error::ProxyError;
use crate::protocol::auth::{self, HandshakeError};
use crate::protocol::command::{self, ChangeUser, Command};
use crate::protocol::packet::{PacketError, PacketStream, MAX_PRE_AUTH_PACKET};
use crate::protocol::writer::{self, OkInfo};
use crate::session::Session;
use mysql_common::constants::CapabilityFlags;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

/// A client connection after authentication: its socket, session and the shared state.
pub struct ClientConn {
    /// Framed socket.
    pub ps: PacketStream<ClientStream>,
    /// Session state.
    pub session: Session,
    /// Shared proxy state.
    pub state: Arc<ProxyState>,
    /// The handshake scramble (COM_CHANGE_USER responses are computed against it).
    pub scramble: [u8; 20],
    /// Prepared statements whose COM_STMT_SEND_LONG_DATA failed (no reply is allowed there):
    /// their next COM_STMT_EXECUTE answers with the error, as MariaDB does.
    pub long_data_errors: std::collections::HashMap<u32, super::prepared::LongDataError>,
    /// Bytes of COM_STMT_SEND_LONG_DATA held per prepared statement (bounded by
    /// `limits.max_allowed_packet`).
    pub long_data_held: std::collections::HashMap<u32, usize>,
    /// Open server-side cursors by statement id (see `cursor.rs`).
    pub cursors: std::collections::HashMap<u32, super::cursor::Cursor>,
    /// This session's entry in the live-session registry (`SHOW PROCESSLIST`, `KILL`);
    /// leaves the registry when the connection is dropped.
    pub live: super::sessions::SessionHandle,
    /// What the statement running now did, for metrics and the query log.
    pub observed: super::observe::Observation,
}

/// Whether the command loop continues.
pub enum Flow {
    /// Read the next command.
    Continue,
    /// Close the connection.
    Close,
}

/// Serves one accepted client, or answers 1040 "Too many connections" at once (before the
/// greeting, as MariaDB) when `limits.max_connections` clients are already open.
pub async fn admit(
    mut stream: ClientStream,
    peer: String,
    state: Arc<ProxyState>,
    shutdown: watch::Receiver<super::Phase>,
) {
    let open = state.open_connections.fetch_add(1, Ordering::Relaxed);
    if open >= state.config.limits.max_connections as u64 {
        let mut packet = Vec::new();
        let mut payload = Vec::new();
        writer::err_packet(&mut payload, 1040, "08004", "Too many connections");
        crate::protocol::packet::frame(&mut packet, &mut 0, &payload);
        let send = async {
            stream.write_all(&packet).await?;
            stream.shutdown().await
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), send).await;
        tracing::debug!(%peer, "refused: too many connections");
    } else {
        serve(stream, peer, state.clone(), shutdown).await;
    }
    state.open_connections.fetch_sub(1, Ordering::Relaxed);
}

/// Serves one client until it quits, fails, or the proxy shuts down.
pub async fn serve(
    stream: ClientStream,
    peer: String,
    state: Arc<ProxyState>,
    mut shutdown: watch::Receiver<super::Phase>,
) {
    let mut ps = PacketStream::new(stream);
    // Before login, no packet may make the proxy hold more than a small buffer.
    ps.set_max_packet(MAX_PRE_AUTH_PACKET, false);
    let connection_id = state.next_connection_id();
    let scramble = auth::new_scramble();
    // `connect_timeout` bounds the whole login, TLS included; a client that has not finished
    // by then is dropped without a word, as MariaDB does.
    let login = async {
        let Some((mut ps, hello)) =
            super::greeting::open(ps, &state, connection_id, &scramble).await?
        else {
            return Ok(None);
        };
        match handshake(&mut ps, &state, connection_id, &scramble, &peer, hello).await {
            Err(e @ HandshakeError::Packet(PacketError::OutOfOrder { .. })) => {
                // As MariaDB: ER_NET_PACKETS_OUT_OF_ORDER, numbered as expected, then close.
                write_err_packet(&mut ps, &ProxyError::packets_out_of_order());
                let _ = ps.flush().await;
                Err(e)
            }
            other => Ok(other?.map(|s| (ps, s))),
        }
    };
    let limit = std::time::Duration::from_secs(state.config.server.connect_timeout);
    let (mut ps, session) = match tokio::time::timeout(limit, login).await {
        Ok(Ok(Some(opened))) => opened,
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "handshake not finished within connect_timeout");
            return;
        }
    };
    ps.set_max_packet(state.config.limits.max_allowed_packet, true);
    let live = state.sessions.register(
        connection_id,
        &session.user,
        &session.peer,
        session.target.as_ref(),
    );
    let mut conn = ClientConn {
        ps,
        session,
        state,
        scramble,
        long_data_errors: Default::default(),
        long_data_held: Default::default(),
        cursors: Default::default(),
        live,
        observed: Default::default(),
    };
    tracing::debug!(%peer, user = %conn.session.user, secure = conn.secure(), "logged in");
    // Draining (SIGTERM): a session inside a transaction may finish it; then it closes.
    let mut draining = *shutdown.borrow_and_update() != super::Phase::Running;
    loop {
        if draining && conn.session.transaction.is_none() {
            break;
        }
        if conn.live.connection_killed() {
            // KILL (of this session by another, or its own KILL CONNECTION_ID()).
            break;
        }
        conn.live
            .idle(&conn.session.user, conn.session.target.as_ref());
        let idle_limit = conn.transaction_idle_limit();
        conn.ps.begin_command();
        let packet = tokio::select! {
            p = conn.ps.read() => p,
            changed = shutdown.changed() => {
                let phase = *shutdown.borrow_and_update();
                if changed.is_ok() && phase == super::Phase::Drain && conn.session.transaction.is_some() {
                    draining = true;
                    continue;
                }
                break;
            }
            // As MariaDB: a killed idle session's socket is closed.
            () = conn.live.closing() => break,
            _ = idle_timer(idle_limit) => {
                // As MariaDB's idle_transaction_timeout: the connection closes (the
                // transaction is rolled back below); the client learns it on its next read.
                tracing::info!(
                    peer = %conn.session.peer,
                    connection = conn.session.connection_id,
                    "closing a session idle in a transaction for longer than limits.transaction_idle_timeout_ms"
                );
                break;
            }
        };
        let payload = match packet {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(PacketError::TooLarge(_)) => {
                // As MariaDB: ER_NET_PACKET_TOO_LARGE, then the connection closes.
                let _ = conn.write_error(&ProxyError::packet_too_large()).await;
                break;
            }
            Err(PacketError::OutOfOrder { .. }) => {
                // As MariaDB: ER_NET_PACKETS_OUT_OF_ORDER, then the connection closes.
                let _ = conn.write_error(&ProxyError::packets_out_of_order()).await;
                break;
            }
            Err(_) => break,
        };
        let secure = conn
            .session
            .capabilities
            .contains(CapabilityFlags::CLIENT_SECURE_CONNECTION);
        let cmd = command::decode(payload, secure);
        match conn.dispatch(cmd).await {
            Ok(Flow::Continue) => {}
            Ok(Flow::Close) | Err(_) => break,
        }
    }
    conn.release_all().await;
}

/// Waits `limit` (forever when None).
async fn idle_timer(limit: Option<std::time::Duration>) {
    match limit {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

async fn handshake(
    ps: &mut PacketStream<ClientStream>,
    state: &ProxyState,
    connection_id: u32,
    scramble: &[u8; 20],
    peer: &str,
    hello: auth::ClientHello,
) -> Result<Option<Session>, HandshakeError> {
    let user = state.user(&hello.user);
    let verified = check_password(
        ps,
        state,
        peer,
        scramble,
        &hello.user,
        &hello.plugin,
        &hello.auth_response,
    )
    .await?;
    let Some(user) = user.filter(|_| verified) else {
        let err = ProxyError::AccessDenied {
            user: hello.user.clone(),
            host: peer.to_string(),
            using_password: !hello.auth_response.is_empty(),
        };
        write_err_packet(ps, &err);
        ps.flush().await?;
        return Ok(None);
    };
    let mut session = Session::new(
        connection_id,
        user.name.clone(),
        user.admin,
        peer.to_string(),
        hello.capabilities,
    );
    if let Some(setting) = charset_setting(hello.collation as u16) {
        session.record_setting(Some("charset".into()), setting);
        session.set_charset_from_collation(hello.collation as u16);
    }
    if let Some(db) = &hello.database {
        let target = super::routing::resolve_use(state, db).and_then(|t| {
            crate::access::Grants::of(user)
                .check_keyspace(&t.keyspace)
                .map_err(|d| d.into_error(&user.name))?;
            Ok(t)
        });
        if let Err(e) = target.map(|t| session.target = Some(t)) {
            write_err_packet(ps, &e);
            ps.flush().await?;
            return Ok(None);
        }
    }
    let status = session.status();
    ps.write_with(|b| writer::ok_packet(b, 0, &OkInfo::default(), status));
    ps.flush().await?;
    Ok(Some(session))
}

/// Whether the client's transport is secure, so caching_sha2 full authentication may take the
/// password in clear text: the Unix socket or a negotiated TLS stream.
fn transport_is_secure(ps: &mut PacketStream<ClientStream>) -> bool {
    ps.get_ref().is_secure()
}

/// Authenticates `user` (handshake or COM_CHANGE_USER) after the host's failed-login delay,
/// and counts a failure against `peer`. Unknown users fail exactly as wrong passwords do.
async fn check_password(
    ps: &mut PacketStream<ClientStream>,
    state: &ProxyState,
    peer: &str,
    scramble: &[u8; 20],
    user: &str,
    plugin: &[u8],
    first_response: &[u8],
) -> Result<bool, HandshakeError> {
    // Before anything about the password is answered (even caching_sha2's request for full
    // authentication tells a wrong fast-path guess apart).
    state.login_throttle.wait(peer).await;
    let credential = state.user(user).and_then(|u| u.credential());
    let account = credential.as_ref().map(|credential| auth::Account {
        name: user,
        credential,
    });
    let ctx = auth::AuthContext {
        secure: transport_is_secure(ps),
        state: &state.auth,
    };
    let verified = auth::authenticate(ps, scramble, plugin, first_response, account, ctx).await;
    if !matches!(verified, Ok(true)) {
        state.login_throttle.record_failure(peer);
    }
    verified
}

/// The SET NAMES a session needs when its handshake charset differs from the pools' utf8mb4.
fn charset_setting(collation: u16) -> Option<String> {
    let coll = mysql_common::collations::Collation::resolve(collation.into());
    let charset = coll.charset();
    if charset == "utf8mb4" || charset.is_empty() {
        return None;
    }
    Some(format!("SET NAMES {charset} COLLATE {}", coll.collation()))
}

fn write_err_packet(ps: &mut PacketStream<ClientStream>, err: &ProxyError) {
    let (code, state, msg) = err.to_wire();
    ps.write_with(|b| writer::err_packet(b, code, &state, &msg));
}

impl ClientConn {
    /// How long the session may wait for its next command: `limits.transaction_idle_timeout_ms`
    /// inside an open transaction, else forever (None).
    fn transaction_idle_limit(&self) -> Option<std::time::Duration> {
        let ms = self.state.config.limits.transaction_idle_timeout_ms;
        (ms > 0 && self.session.transaction.is_some()).then(|| std::time::Duration::from_millis(ms))
    }

    /// Whether the client's transport is secure: TLS, or the Unix socket (see
    /// [`ClientStream::is_secure`]); a clear-text password may only travel over such a one.
    pub fn secure(&self) -> bool {
        self.ps.get_ref().is_secure()
    }

    /// Writes an ERR packet for `err` and flushes.
    /// Backend database names in the message (a shard's `Table 'vt_x.t' doesn't exist`) are
    /// replaced by their keyspaces.
    pub async fn write_error(&mut self, err: &ProxyError) -> Result<(), PacketError> {
        // After an error, ROW_COUNT() is -1, as in MariaDB.
        self.session.row_count = -1;
        let (code, state, msg) = err.to_wire();
        let msg = super::backend_names::rename_in_text(&self.state.backends, &msg);
        self.ps
            .write_with(|b| writer::err_packet(b, code, &state, &msg));
        // The statement's diagnostics are its error, as `SHOW WARNINGS` / `SHOW ERRORS` then
        // list it in MariaDB.
        self.session.warnings = vec![crate::session::Warning {
            level: "Error".into(),
            code: code.into(),
            message: msg.into_owned(),
        }];
        self.ps.flush().await
    }

    /// Writes an OK packet with the session's status and flushes.
    pub async fn write_ok(&mut self, ok: &OkInfo) -> Result<(), PacketError> {
        let status = self.session.status();
        self.ps.write_with(|b| writer::ok_packet(b, 0, ok, status));
        self.ps.flush().await
    }

    /// Refuses statement text beyond `[limits]` (size, then shape: see [`crate::sql::bounds`])
    /// before anything parses it, plans it or forwards it to a shard.
    fn check_statement(&self, sql: &[u8]) -> Result<(), ProxyError> {
        let limits = &self.state.config.limits;
        if sql.len() > limits.max_allowed_packet {
            return Err(ProxyError::packet_too_large());
        }
        let text = String::from_utf8_lossy(sql);
        crate::sql::bounds::check(&text, &limits.into()).map_err(|e| ProxyError::from_bounds(&e))
    }

    /// COM_QUERY of a statement of [`crate::offload::OFFLOAD_BYTES`] or more: its bounds are
    /// checked on a blocking thread (a pass over the whole text).
    async fn com_query_offloaded(&mut self, sql: Vec<u8>) -> Result<(), CommandError> {
        let limits: crate::sql::bounds::StatementBounds = (&self.state.config.limits).into();
        let max_packet = self.state.config.limits.max_allowed_packet;
        let sql = crate::offload::run(sql.len(), move || {
            if sql.len() > max_packet {
                return Ok(Err(ProxyError::packet_too_large()));
            }
            let checked = crate::sql::bounds::check(&String::from_utf8_lossy(&sql), &limits);
            Ok(checked
                .map_err(|e| ProxyError::from_bounds(&e))
                .map(|()| sql))
        })
        .await??;
        self.com_query(sql).await
    }

    /// Runs one command.
    ///
    /// Rare commands run boxed: an async call's future is built in place in its caller's
    /// future, so one large rare branch would make every command's future large and costly
    /// to move (a profile showed kilobytes of `memcpy` per point select).
    async fn dispatch(&mut self, cmd: Command) -> Result<Flow, PacketError> {
        let outcome = match cmd {
            Command::Quit => return Ok(Flow::Close),
            Command::Ping => self.write_ok(&OkInfo::default()).await.map_err(Into::into),
            Command::Query(sql) if sql.len() >= crate::offload::OFFLOAD_BYTES => {
                Box::pin(self.com_query_offloaded(sql)).await
            }
            Command::Query(sql) => match self.check_statement(&sql) {
                Ok(()) => self.com_query(sql).await,
                Err(e) => Err(e.into()),
            },
            Command::InitDb(db) => match self.use_database(&db) {
                Ok(()) => self.write_ok(&OkInfo::default()).await.map_err(Into::into),
                Err(e) => Err(e.into()),
            },
            Command::FieldList { table, .. } => Box::pin(self.com_field_list(&table)).await,
            Command::Statistics => {
                let uptime = self.state.started.elapsed().as_secs();
                let questions = self
                    .state
                    .questions
                    .load(std::sync::atomic::Ordering::Relaxed);
                let threads = self
                    .state
                    .open_connections
                    .load(std::sync::atomic::Ordering::Relaxed);
                let text = format!("Uptime: {uptime}  Threads: {threads}  Questions: {questions}");
                self.ps.write(text.as_bytes());
                self.ps.flush().await.map_err(Into::into)
            }
            Command::SetOption(opt) => {
                match opt {
                    0 => self.session.multi_statements = true,
                    1 => self.session.multi_statements = false,
                    _ => {
                        return self
                            .finish(Err(
                                ProxyError::WrongArguments("COM_SET_OPTION".into()).into()
                            ))
                            .await
                    }
                }
                self.write_eof_or_ok().await.map_err(Into::into)
            }
            Command::ResetConnection => {
                Box::pin(self.reset_session()).await;
                self.write_ok(&OkInfo::default()).await.map_err(Into::into)
            }
            Command::ChangeUser(cu) => return Box::pin(self.change_user(cu)).await,
            Command::StmtPrepare(sql) => match self.check_statement(&sql) {
                Ok(()) => Box::pin(self.com_stmt_prepare(sql)).await,
                Err(e) => Err(e.into()),
            },
            Command::StmtExecute(body) => self.com_stmt_execute(body).await,
            Command::StmtSendLongData {
                stmt_id,
                param,
                data,
            } => {
                self.stmt_send_long_data(stmt_id, param, data);
                return Ok(Flow::Continue);
            }
            Command::StmtClose(id) => {
                self.session.prepared.remove(&id);
                self.cursors.remove(&id);
                self.long_data_errors.remove(&id);
                self.long_data_held.remove(&id);
                return Ok(Flow::Continue);
            }
            Command::StmtReset(id) => Box::pin(self.stmt_reset(id)).await,
            Command::StmtFetch { stmt_id, rows } => {
                Box::pin(self.com_stmt_fetch(stmt_id, rows)).await
            }
            Command::Malformed(what) => Err(ProxyError::Malformed(what.into()).into()),
            Command::Unknown(_) => Err(ProxyError::UnknownCommand.into()),
        };
        self.finish(outcome).await
    }

    /// Turns a command's outcome into the loop's next step, writing ERR packets for errors.
    async fn finish(&mut self, outcome: Result<(), CommandError>) -> Result<Flow, PacketError> {
        match outcome {
            Ok(()) => Ok(Flow::Continue),
            Err(CommandError::Packet(e)) => Err(e),
            Err(CommandError::Proxy(e)) => {
                // (A statement's own error was counted with its record, and never gets here.)
                self.state.metrics.error(e.to_wire().0);
                self.write_error(&e).await?;
                Ok(Flow::Continue)
            }
        }
    }

    async fn write_eof_or_ok(&mut self) -> Result<(), PacketError> {
        let status = self.session.status();
        if self.session.deprecate_eof() {
            self.ps
                .write_with(|b| writer::ok_packet(b, 0xFE, &OkInfo::default(), status));
        } else {
            self.ps.write_with(|b| writer::eof_packet(b, 0, status));
        }
        self.ps.flush().await
    }

    /// Switches the session's target keyspace (USE / COM_INIT_DB).
    pub fn use_database(&mut self, db: &str) -> Result<(), ProxyError> {
        let target = super::routing::resolve_use(&self.state, db)?;
        self.authorize_keyspace(&target.keyspace)?;
        self.session.target = Some(target);
        Ok(())
    }

    /// Ends any transaction, releases pinned connections, and clears session state
    /// (COM_RESET_CONNECTION; also the first half of COM_CHANGE_USER).
    pub async fn reset_session(&mut self) {
        self.release_all().await;
        self.session.transaction = None;
        self.session.max_statement_time = None;
        self.session.autocommit = true;
        self.session.settings.clear();
        self.session.prepared.clear();
        self.cursors.clear();
        self.long_data_errors.clear();
        self.long_data_held.clear();
        self.session.warnings.clear();
        self.session.transaction_mode = crate::session::TransactionMode::Multi;
        self.session.charset = Some(crate::sql::Charset::UTF8MB4);
        self.session.sql_mode = crate::session::SessionSqlMode::ServerDefault;
        self.session.sql_level = crate::session::SqlLevel::default();
    }

    /// Rolls back and returns every pinned backend connection.
    pub async fn release_all(&mut self) {
        for c in self.session.reserved.drain(..) {
            c.release().await;
        }
    }

    async fn change_user(&mut self, cu: ChangeUser) -> Result<Flow, PacketError> {
        let verified = match check_password(
            &mut self.ps,
            &self.state,
            &self.session.peer,
            &self.scramble,
            &cu.user,
            &cu.plugin,
            &cu.auth_response,
        )
        .await
        {
            Ok(v) => v,
            Err(e) => {
                if let HandshakeError::Packet(PacketError::OutOfOrder { .. }) = e {
                    self.write_error(&ProxyError::packets_out_of_order())
                        .await?;
                }
                return Ok(Flow::Close);
            }
        };
        if !verified || self.state.user(&cu.user).is_none() {
            let err = ProxyError::AccessDenied {
                user: cu.user.clone(),
                host: self.session.peer.clone(),
                using_password: !cu.auth_response.is_empty(),
            };
            self.write_error(&err).await?;
            return Ok(Flow::Close);
        }
        self.reset_session().await;
        let is_admin = self.state.user(&cu.user).is_some_and(|u| u.admin);
        self.session.user = cu.user;
        self.session.is_admin = is_admin;
        self.session.target = None;
        if let Some(collation) = cu.charset {
            if let Some(setting) = charset_setting(collation) {
                self.session.record_setting(Some("charset".into()), setting);
                self.session.set_charset_from_collation(collation);
            }
        }
        if let Some(db) = cu.database {
            if let Err(e) = self.use_database(&db) {
                self.write_error(&e).await?;
                return Ok(Flow::Continue);
            }
        }
        self.write_ok(&OkInfo::default()).await?;
        Ok(Flow::Continue)
    }
}

/// A command's failure: either the client should see an error, or the socket is gone.
#[derive(Debug)]
pub enum CommandError {
    /// Send an ERR packet and go on.
    Proxy(ProxyError),
    /// The socket failed; close.
    Packet(PacketError),
}

impl From<ProxyError> for CommandError {
    fn from(e: ProxyError) -> Self {
        CommandError::Proxy(e)
    }
}

impl From<PacketError> for CommandError {
    fn from(e: PacketError) -> Self {
        CommandError::Packet(e)
    }
}

impl From<crate::exec::ExecError> for CommandError {
    fn from(e: crate::exec::ExecError) -> Self {
        CommandError::Proxy(e.into())
    }
}

impl From<crate::backend::BackendError> for CommandError {
    fn from(e: crate::backend::BackendError) -> Self {
        CommandError::Proxy(e.into())
    }
}

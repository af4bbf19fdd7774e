//! The proxy's own client for backend servers: one connection speaking the MySQL protocol,
//! whose result packets the relay can forward to a client without decoding rows.
//!
//! A driver such as `mysql_async` hides the wire: every row becomes `Value`s that the proxy
//! then encodes again, and every checkout goes through its pool's recycler task. Session
//! traffic, the hot path, uses this client instead: the relay reads packets straight out of
//! [`stream::BackendStream`]'s buffer, and executes of prepared statements reuse a backend
//! statement prepared once per pooled connection ([`WireConn::send_execute`]). Background jobs
//! use it too (see [`super::job`]), reading whole answers ([`WireConn::query_result`],
//! [`WireConn::exec_rows`]).

mod handshake;
pub mod packets;
mod results;
mod stream;

use mysql_common::packets::Column;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::config::validate::ShardUrl;
pub use packets::ServerOk;
pub use results::{ResultHead, TextRow};

/// Why a backend exchange failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WireError {
    /// The server answered with an error packet (the connection stays usable).
    #[error("{message}")]
    Server {
        /// MySQL error number.
        code: u16,
        /// SQLSTATE.
        state: String,
        /// Server message.
        message: String,
    },
    /// The socket failed or closed.
    #[error("{0}")]
    Io(String),
    /// The server sent something the client did not expect.
    #[error("{0}")]
    Protocol(String),
}

impl WireError {
    /// MariaDB's ER_STATEMENT_TIMEOUT (1969): the statement ran past its time limit.
    pub fn statement_timeout() -> WireError {
        WireError::Server {
            code: 1969,
            state: "70100".into(),
            message: "Query execution was interrupted (max_statement_time exceeded)".into(),
        }
    }

    /// Wraps a socket error.
    pub fn io(e: std::io::Error) -> WireError {
        WireError::Io(e.to_string())
    }
}

/// A backend prepared statement on one connection.
#[derive(Debug)]
pub struct Statement {
    /// Server-side statement id.
    pub id: u32,
    /// Parameter definitions.
    pub params: Vec<Column>,
    /// Result column definitions.
    pub columns: Vec<Column>,
}

/// Most statements kept prepared per connection; the oldest is closed beyond this.
const STATEMENT_CACHE: usize = 256;

/// Source of [`WireConn::uid`].
static NEXT_UID: AtomicU64 = AtomicU64::new(1);

/// One authenticated backend connection.
#[derive(Debug)]
pub struct WireConn {
    stream: stream::BackendStream,
    statements: HashMap<Box<[u8]>, (Arc<Statement>, u64)>,
    uses: u64,
    broken: bool,
    /// Unique in this process (keys the statement watch, see [`crate::backend::deadline`]).
    uid: u64,
    /// The server's thread id for this connection (from its greeting), for `KILL QUERY`.
    thread_id: u32,
    /// Where it is connected (for `KILL QUERY` and the liveness probe).
    url: Arc<ShardUrl>,
    /// The TLS it was connected with, for the `KILL QUERY` and probe connections.
    tls: Option<Arc<rustls::ClientConfig>>,
    /// `backend.read_timeout_ms`: how long a read may wait before the server is probed.
    read_timeout: Option<Duration>,
}

impl WireConn {
    /// Connects (over `url.socket` when set, else TCP, upgraded to TLS with `tls`) and logs in.
    pub async fn connect(
        url: &ShardUrl,
        tls: Option<&Arc<rustls::ClientConfig>>,
    ) -> Result<WireConn, WireError> {
        let (stream, thread_id) = handshake::connect(url, tls).await?;
        Ok(WireConn {
            stream,
            statements: HashMap::new(),
            uses: 0,
            broken: false,
            uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
            thread_id,
            url: Arc::new(url.clone()),
            tls: tls.cloned(),
            read_timeout: None,
        })
    }

    /// Sets how long a read may wait for the server before it is probed (None: forever).
    /// A server that still answers a login is only slow, and the read waits on; one that
    /// does not fails the read and the connection is closed.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout.filter(|t| !t.is_zero());
    }

    /// The server's thread id of this connection.
    pub fn thread_id(&self) -> u32 {
        self.thread_id
    }

    /// Unique id of this connection in the process.
    pub fn uid(&self) -> u64 {
        self.uid
    }

    /// Registers the connection with the current statement's watch before a statement's
    /// query is sent; refuses (1969, nothing sent) once the statement timed out.
    fn enter_statement(&mut self) -> Result<(), WireError> {
        let (url, tls) = (&self.url, &self.tls);
        let thread_id = self.thread_id;
        let entered = super::deadline::on_send(self.uid, || super::deadline::KillTarget {
            url: url.clone(),
            tls: tls.clone(),
            thread_id,
        });
        if !entered {
            if self.stream.has_pending_input() {
                // A transaction's BEGIN waits to go out with this query: without it the
                // connection's state is not what its session believes.
                self.broken = true;
            }
            return Err(WireError::statement_timeout());
        }
        Ok(())
    }

    /// Whether the connection failed mid-exchange and must be closed.
    pub fn is_broken(&self) -> bool {
        self.broken || self.stream.has_pending_input()
    }

    /// Marks the connection unusable (a relay stopped halfway through a result).
    pub fn mark_broken(&mut self) {
        self.broken = true;
    }

    fn fail(&mut self, e: WireError) -> WireError {
        if !matches!(e, WireError::Server { .. }) {
            self.broken = true;
        }
        e
    }

    /// Sends COM_QUERY; the result is read with [`Self::next_packet`] or the readers.
    pub async fn send_query(&mut self, sql: &[u8]) -> Result<(), WireError> {
        self.enter_statement()?;
        let res = self.stream.send_command_parts(&[0x03], sql).await;
        res.map_err(|e| self.fail(WireError::io(e)))
    }

    /// Sends COM_FIELD_LIST for `table` (column definitions with default values, then EOF or
    /// ERR), read with [`Self::next_packet`].
    pub async fn send_field_list(&mut self, table: &[u8]) -> Result<(), WireError> {
        let mut body = Vec::with_capacity(table.len() + 1);
        body.extend_from_slice(table);
        body.push(0);
        let res = self.stream.send_command_parts(&[0x04], &body).await;
        res.map_err(|e| self.fail(WireError::io(e)))
    }

    /// Queues a COM_QUERY answered by a plain OK (a transaction's `BEGIN`) to go out with the
    /// next command, saving its round trip; see [`stream::BackendStream::queue_command`].
    pub fn queue_query(&mut self, sql: &[u8]) {
        let mut payload = Vec::with_capacity(1 + sql.len());
        payload.push(0x03);
        payload.extend_from_slice(sql);
        self.stream.queue_command(&payload);
    }

    /// Reads the next packet of the current response, waiting at most the read timeout (then
    /// probing the server, see [`Self::set_read_timeout`]) and never past the current
    /// statement's kill deadline (see [`super::deadline`]).
    pub async fn next_packet(&mut self) -> Result<&[u8], WireError> {
        if !self.stream.has_packet() {
            if let Err(e) = self.wait_for_packet().await {
                self.broken = true;
                return Err(e);
            }
        }
        match self.stream.next_packet().await {
            Ok(p) => Ok(p),
            Err(e) => {
                self.broken = true;
                Err(WireError::io(e))
            }
        }
    }

    /// Waits until a whole packet is buffered, within the read limits.
    async fn wait_for_packet(&mut self) -> Result<(), WireError> {
        let watch = super::deadline::current();
        loop {
            let hard = super::deadline::hard_deadline();
            let soft = self.read_timeout.map(|t| Instant::now() + t);
            let until = match (soft, hard) {
                (Some(s), Some(h)) => Some(s.min(h)),
                (s, h) => s.or(h),
            };
            if until.is_none() && watch.is_none() {
                return self.stream.ready().await.map_err(WireError::io);
            }
            let fired = async {
                match (&watch, hard) {
                    (Some(w), None) => w.wait_fired().await,
                    _ => std::future::pending().await,
                }
            };
            let expired = async {
                match until {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                res = self.stream.ready() => return res.map_err(WireError::io),
                // The statement timed out meanwhile: wait on with its kill deadline.
                () = fired => continue,
                () = expired => {}
            }
            if hard.is_some_and(|h| h <= Instant::now()) {
                return Err(WireError::Io(format!(
                    "no answer within {} ms of KILL QUERY after the statement timeout",
                    super::deadline::KILL_GRACE.as_millis()
                )));
            }
            let timeout = self.read_timeout.unwrap_or(Duration::from_secs(1));
            let probe = timeout.clamp(Duration::from_millis(100), Duration::from_secs(10));
            if !super::deadline::server_alive(&self.url, self.tls.as_ref(), probe).await {
                return Err(WireError::Io(format!(
                    "no answer within read_timeout_ms ({} ms), and the server does not answer a login",
                    timeout.as_millis()
                )));
            }
            // Alive, only slow (a long statement): wait on.
        }
    }

    /// Prepares `sql` once per connection (cached by text) and returns the statement.
    pub async fn prepare(&mut self, sql: &[u8]) -> Result<Arc<Statement>, WireError> {
        self.uses += 1;
        let uses = self.uses;
        if let Some((stmt, used)) = self.statements.get_mut(sql) {
            *used = uses;
            return Ok(stmt.clone());
        }
        let stmt = match self.prepare_uncached(sql).await {
            Ok(s) => Arc::new(s),
            Err(e) => return Err(self.fail(e)),
        };
        if self.statements.len() >= STATEMENT_CACHE {
            let oldest = self
                .statements
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, (s, _))| (k.clone(), s.id));
            if let Some((key, id)) = oldest {
                self.statements.remove(&key);
                let mut close = vec![0x19];
                close.extend_from_slice(&id.to_le_bytes());
                // COM_STMT_CLOSE has no response.
                if let Err(e) = self.stream.send_command(&close).await {
                    return Err(self.fail(WireError::io(e)));
                }
            }
        }
        self.statements
            .insert(sql.to_vec().into_boxed_slice(), (stmt.clone(), uses));
        Ok(stmt)
    }

    /// Sends COM_PING and waits for its OK.
    pub async fn ping(&mut self) -> Result<(), WireError> {
        self.simple_command(&[0x0E]).await
    }

    /// COM_RESET_CONNECTION: drops session state (variables, temporary tables, prepared
    /// statements) without logging in again.
    pub async fn reset(&mut self) -> Result<(), WireError> {
        self.statements.clear();
        self.simple_command(&[0x1F]).await
    }

    async fn simple_command(&mut self, cmd: &[u8]) -> Result<(), WireError> {
        if let Err(e) = self.stream.send_command(cmd).await {
            return Err(self.fail(WireError::io(e)));
        }
        let p = self.next_packet().await?;
        match p.first() {
            Some(0x00) => Ok(()),
            Some(0xFF) => {
                let e = packets::parse_err(p);
                Err(self.fail(e))
            }
            _ => Err(self.fail(packets::malformed("command response"))),
        }
    }
}

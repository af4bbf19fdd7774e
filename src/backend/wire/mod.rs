//! The proxy's own client for backend servers: one connection speaking the MySQL protocol,
//! whose result packets the relay can forward to a client without decoding rows.
//!
//! `mysql_async` (still used for background jobs) hides the wire: every row becomes `Value`s
//! that the proxy then encodes again, and every checkout goes through its pool's recycler task.
//! Session traffic, the hot path, uses this client instead: the relay reads packets straight
//! out of [`stream::BackendStream`]'s buffer, and executes of prepared statements reuse a
//! backend statement prepared once per pooled connection ([`WireConn::send_execute`]).

mod handshake;
pub mod packets;
mod results;
mod stream;

use mysql_common::packets::Column;
use std::collections::HashMap;
use std::sync::Arc;

pub use crate::config::validate::ShardUrl;
pub use packets::ServerOk;

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

/// One authenticated backend connection.
#[derive(Debug)]
pub struct WireConn {
    stream: stream::BackendStream,
    statements: HashMap<Box<[u8]>, (Arc<Statement>, u64)>,
    uses: u64,
    broken: bool,
}

impl WireConn {
    /// Connects (over `url.socket` when set, else TCP, upgraded to TLS with `tls`) and logs in.
    pub async fn connect(
        url: &ShardUrl,
        tls: Option<&Arc<rustls::ClientConfig>>,
    ) -> Result<WireConn, WireError> {
        let stream = handshake::connect(url, tls).await?;
        Ok(WireConn {
            stream,
            statements: HashMap::new(),
            uses: 0,
            broken: false,
        })
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

    /// Reads the next packet of the current response.
    pub async fn next_packet(&mut self) -> Result<&[u8], WireError> {
        match self.stream.next_packet().await {
            Ok(p) => Ok(p),
            Err(e) => {
                self.broken = true;
                Err(WireError::io(e))
            }
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

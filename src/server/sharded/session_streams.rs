//! A scatter's answers read row by row on the session's shard connections
//! ([`SessionStreams`], the [`ShardStreams`] of the session's cursor): the queries go out
//! together, each connection's column definitions are read, and rows are then taken one at a
//! time as the merge asks for them, so the proxy holds one row per shard and what the sockets
//! buffer. The connections are owned by the streams while they are read, and given back to
//! the session (its transaction lists, or the pools) when they are closed, after the rows the
//! merge did not need were read and dropped.

use crate::backend::wire::{ResultHead, TextRow};
use crate::backend::ShardConn;
use crate::engine::Row;
use crate::error::ProxyError;
use crate::exec::{ExecError, ShardStreams};
use mysql_common::packets::Column;

/// Where one shard's answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The query went out; nothing read yet.
    Sent,
    /// Column definitions read; rows follow.
    Reading,
    /// Read to its end (or it failed): the connection is between commands, or broken.
    Done,
}

/// One shard's answer and the connection it arrives on.
#[derive(Debug)]
struct Stream {
    sc: ShardConn,
    columns: Vec<Column>,
    state: State,
    warnings: u16,
}

impl Stream {
    /// Reads the answer's start (see [`crate::backend::wire::WireConn::read_head`]).
    async fn read_head(&mut self) -> Result<(), ExecError> {
        let res = self.sc.conn.read_head().await;
        match self.sc.check(res) {
            Ok(ResultHead::Rows(columns)) => {
                self.columns = columns;
                self.state = State::Reading;
                Ok(())
            }
            Ok(ResultHead::Done(ok)) => {
                self.warnings = ok.warnings;
                self.state = State::Done;
                Ok(())
            }
            Err(e) => {
                self.state = State::Done;
                Err(ProxyError::from(e).into())
            }
        }
    }

    async fn next_row(&mut self) -> Result<Option<Row>, ExecError> {
        if self.state != State::Reading {
            return Ok(None);
        }
        let res = self.sc.conn.next_text_row(self.columns.len()).await;
        match self.sc.check(res) {
            Ok(TextRow::Row(row)) => Ok(Some(row)),
            Ok(TextRow::End { warnings }) => {
                self.warnings = warnings;
                self.state = State::Done;
                Ok(None)
            }
            Err(e) => {
                self.state = State::Done;
                Err(ProxyError::from(e).into())
            }
        }
    }

    /// Reads what is left of the answer and drops it, yielding to other sessions now and
    /// then (an early LIMIT leaves at most `offset+count` rows per shard; an error may leave
    /// more). Errors only end the reading (a broken connection is closed when put back).
    async fn drain(&mut self) {
        let mut rows = 0u32;
        loop {
            match self.state {
                State::Sent => {
                    let _ = self.read_head().await;
                }
                State::Reading => {
                    if let Ok(Some(_)) = self.next_row().await {
                        rows = rows.wrapping_add(1);
                        if rows.is_multiple_of(1024) {
                            tokio::task::yield_now().await;
                        }
                    }
                }
                State::Done => return,
            }
        }
    }
}

/// The session's streams of one scatter, indexed like its queries.
#[derive(Debug)]
pub(super) struct SessionStreams {
    streams: Vec<Stream>,
}

impl SessionStreams {
    /// Sends each query on its connection (already taken from the session, in the order of
    /// the queries) and reads every answer's column definitions. On an error every answer is
    /// read to its end and the first error in query order is returned with the connections.
    pub(super) async fn open(
        taken: Vec<(ShardConn, Vec<u8>)>,
    ) -> Result<SessionStreams, (ExecError, Vec<ShardConn>)> {
        let mut streams = Vec::with_capacity(taken.len());
        let mut errors = Vec::with_capacity(taken.len());
        for (mut sc, sql) in taken {
            let sent = sc.conn.send_query(&sql).await;
            let (state, error) = match sc.check(sent) {
                Ok(()) => (State::Sent, None),
                Err(e) => (State::Done, Some(ExecError::from(ProxyError::from(e)))),
            };
            errors.push(error);
            streams.push(Stream {
                sc,
                columns: Vec::new(),
                state,
                warnings: 0,
            });
        }
        for (s, error) in streams.iter_mut().zip(errors.iter_mut()) {
            if s.state == State::Sent {
                if let Err(e) = s.read_head().await {
                    *error = Some(e);
                }
            }
        }
        let Some(failure) = errors.into_iter().flatten().next() else {
            return Ok(SessionStreams { streams });
        };
        let mut conns = Vec::with_capacity(streams.len());
        for mut s in streams {
            s.drain().await;
            conns.push(s.sc);
        }
        Err((failure, conns))
    }

    /// Ends every stream (draining it, or, with `abandon`, marking its connection for
    /// closing) and returns the connections and the warnings summed.
    pub(super) async fn close(self, abandon: bool) -> (Vec<ShardConn>, u16) {
        let mut warnings = 0u16;
        let mut conns = Vec::with_capacity(self.streams.len());
        for mut s in self.streams {
            if abandon && s.state != State::Done {
                s.sc.broken = true;
                s.sc.conn.mark_broken();
            } else {
                s.drain().await;
            }
            warnings = warnings.saturating_add(s.warnings);
            conns.push(s.sc);
        }
        (conns, warnings)
    }
}

impl ShardStreams for SessionStreams {
    fn len(&self) -> usize {
        self.streams.len()
    }

    fn columns(&self, stream: usize) -> &[Column] {
        self.streams
            .get(stream)
            .map_or(&[], |s| s.columns.as_slice())
    }

    async fn next_row(&mut self, stream: usize) -> Result<Option<Row>, ExecError> {
        match self.streams.get_mut(stream) {
            Some(s) => s.next_row().await,
            None => Ok(None),
        }
    }
}

//! Writing a streamed scatter result ([`exec::SelectStream`]) to the client as its rows are
//! merged: the result set header goes out once the first row is known (so an error of any
//! shard's first answer is an ordinary error packet), rows are flushed every 64 KiB, and the
//! task yields every 1,024 rows so other sessions are served meanwhile. An error after rows
//! were written ends the result with an error packet, as MariaDB does for a statement killed
//! while it sends rows. The shard connections go back to the session at the end (the rows a
//! LIMIT did not need read and dropped), or are closed when the client went away.

use super::session_cursor::SessionCursor;
use super::session_streams::SessionStreams;
use crate::exec::{self, Cursor};
use crate::server::connection::{ClientConn, CommandError};
use crate::server::statement::Exec;

impl ClientConn {
    /// Writes `stream`'s rows as a result set (see the module header).
    pub(super) async fn write_select_stream(
        &mut self,
        mut stream: exec::SelectStream<SessionStreams>,
        exec: &Exec,
        more: bool,
    ) -> Result<(), CommandError> {
        let first = match stream.next_row().await {
            Ok(row) => row,
            Err(e) => {
                self.close_select_stream(stream, false).await;
                return Err(e.into());
            }
        };
        self.session.warnings.clear();
        let columns = stream.columns().to_vec();
        self.write_result_head(&columns);
        let mut next = first;
        let mut written = 0u64;
        let outcome = loop {
            let Some(row) = next else {
                break Ok(());
            };
            self.write_result_row(&columns, &row, exec);
            drop(row);
            written += 1;
            if self.ps.pending() >= 64 * 1024 {
                if let Err(e) = self.ps.flush().await {
                    break Err(CommandError::Packet(e));
                }
            }
            if written.is_multiple_of(1024) {
                tokio::task::yield_now().await;
                if crate::backend::deadline::timed_out() {
                    break Err(statement_timeout());
                }
            }
            next = match stream.next_row().await {
                Ok(row) => row,
                Err(e) => break Err(e.into()),
            };
        };
        let abandon = matches!(outcome, Err(CommandError::Packet(_)));
        self.close_select_stream(stream, abandon).await;
        outcome?;
        self.write_result_tail(more);
        Ok(())
    }

    /// Gives a stream's connections back to the session (see [`Cursor::close_streams`]).
    async fn close_select_stream(
        &mut self,
        stream: exec::SelectStream<SessionStreams>,
        abandon: bool,
    ) {
        let mut cursor = SessionCursor {
            conn: self,
            params: Vec::new(),
        };
        // (The warning count is not reported for merged results: their EOF carries 0, as
        // the buffered merge's does.)
        let _ = cursor.close_streams(stream.into_streams(), abandon).await;
    }
}

/// MariaDB's error for a statement past its time limit (1969), in the words the buffered
/// merge uses.
fn statement_timeout() -> CommandError {
    crate::error::ProxyError::from(crate::backend::BackendError::from_wire(
        crate::backend::wire::WireError::statement_timeout(),
        "",
    ))
    .into()
}

//! Several shards' answers to one scatter, read row by row ([`ShardStreams`]), which a
//! [`Cursor`](super::Cursor) hands out from [`stream_each`](super::Cursor::stream_each) so a
//! merge can pass rows on to the client as the shards send them instead of holding them all.
//! [`Buffered`] serves cursors that read whole answers (background jobs, the recording test
//! cursor) through the same interface.

use super::{ExecError, ShardResult};
use crate::engine::Row;
use mysql_common::packets::Column;
use std::future::Future;

/// One scatter's answers, indexed like the queries that asked for them; each is a result set
/// read one row at a time.
pub trait ShardStreams: Send {
    /// How many streams there are.
    fn len(&self) -> usize;

    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Column definitions of stream `stream` (empty for an answer without a result set).
    fn columns(&self, stream: usize) -> &[Column];

    /// The next row of stream `stream` (text-protocol values); None once it has ended (and
    /// for a stream that failed before).
    fn next_row(
        &mut self,
        stream: usize,
    ) -> impl Future<Output = Result<Option<Row>, ExecError>> + Send;
}

/// Streams over answers already read whole.
#[derive(Debug, Default)]
pub struct Buffered {
    streams: Vec<(Vec<Column>, std::vec::IntoIter<Row>)>,
    warnings: u16,
}

impl Buffered {
    /// Streams over `results`, in their order.
    pub fn new(results: Vec<ShardResult>) -> Self {
        let warnings = results
            .iter()
            .map(|r| r.warnings)
            .fold(0u16, u16::saturating_add);
        Buffered {
            streams: results
                .into_iter()
                .map(|r| (r.columns, r.rows.into_iter()))
                .collect(),
            warnings,
        }
    }

    /// The answers' warnings, summed.
    pub fn warnings(&self) -> u16 {
        self.warnings
    }
}

impl ShardStreams for Buffered {
    fn len(&self) -> usize {
        self.streams.len()
    }

    fn columns(&self, stream: usize) -> &[Column] {
        self.streams.get(stream).map_or(&[], |(c, _)| c.as_slice())
    }

    async fn next_row(&mut self, stream: usize) -> Result<Option<Row>, ExecError> {
        Ok(self
            .streams
            .get_mut(stream)
            .and_then(|(_, rows)| rows.next()))
    }
}

/// Reads every stream to its end into whole answers (columns and rows; no warnings, which
/// the cursor reports when the streams are closed), charging each row to the statement's merge
/// budget as a whole answer is ([`crate::backend::result_budget`]): for a merge that must hold
/// every row after all.
pub async fn collect<S: ShardStreams>(streams: &mut S) -> Result<Vec<ShardResult>, ExecError> {
    let mut out = Vec::with_capacity(streams.len());
    for i in 0..streams.len() {
        let mut result = ShardResult {
            columns: streams.columns(i).to_vec(),
            ..ShardResult::default()
        };
        while let Some(row) = streams.next_row(i).await? {
            let payload: usize = row.iter().map(value_size).sum();
            let cost = crate::backend::result_budget::row_cost(row.len(), payload);
            if let Err(limit) = crate::backend::result_budget::charge(cost) {
                return Err(crate::error::ProxyError::from(
                    crate::backend::BackendError::from_wire(
                        crate::backend::result_budget::exceeded(limit),
                        "",
                    ),
                )
                .into());
            }
            result.rows.push(row);
        }
        out.push(result);
    }
    Ok(out)
}

/// Roughly the wire size of a text value (its bytes and a length prefix).
fn value_size(v: &mysql_async::Value) -> usize {
    match v {
        mysql_async::Value::Bytes(b) => b.len() + 1,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_async::Value;

    fn result(rows: &[&str], warnings: u16) -> ShardResult {
        ShardResult {
            rows: rows
                .iter()
                .map(|r| vec![Value::Bytes(r.as_bytes().to_vec())])
                .collect(),
            warnings,
            ..ShardResult::default()
        }
    }

    #[tokio::test]
    async fn buffered_streams_play_each_answer_in_order() {
        let mut s = Buffered::new(vec![result(&["a", "b"], 1), result(&["c"], 2)]);
        assert_eq!(s.len(), 2);
        assert_eq!(s.warnings(), 3);
        assert_eq!(
            s.next_row(1).await.unwrap(),
            Some(vec![Value::Bytes(b"c".to_vec())])
        );
        assert_eq!(s.next_row(1).await.unwrap(), None);
        assert_eq!(
            s.next_row(0).await.unwrap(),
            Some(vec![Value::Bytes(b"a".to_vec())])
        );
        assert_eq!(s.next_row(5).await.unwrap(), None);
        let rest = collect(&mut s).await.unwrap();
        assert_eq!(rest[0].rows, vec![vec![Value::Bytes(b"b".to_vec())]]);
        assert!(rest[1].rows.is_empty());
    }
}

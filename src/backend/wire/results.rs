//! Reading responses on a [`WireConn`]: whole ones for statements whose result the proxy
//! consumes itself (the executor's shard queries, SET replay, SHOW WARNINGS), row by row for
//! a scatter the proxy merges as the client reads it ([`WireConn::read_head`],
//! [`WireConn::next_text_row`]); prepared-statement metadata, the execute request of a
//! prepared statement, and a background job's whole answer to one ([`WireConn::exec_rows`],
//! binary rows decoded into values).

use super::packets::{self, is_eof, parse_eof, parse_err, parse_ok, MORE_RESULTS_EXISTS};
use super::{Statement, WireConn, WireError};
use crate::backend::ShardResult;
use mysql_common::io::ParseBuf;
use mysql_common::packets::{Column, ComStmtExecuteRequestBuilder};
use mysql_common::proto::{Binary, MyDeserialize, MySerialize};
use mysql_common::row::RowDeserializer;
use mysql_common::value::ServerSide;
use mysql_common::Value;

impl WireConn {
    /// Runs `sql`, discarding any rows; fails with the first error of any result set.
    pub async fn query_drop(&mut self, sql: impl AsRef<[u8]>) -> Result<(), WireError> {
        self.send_query(sql.as_ref()).await?;
        self.drain_results(None).await
    }

    /// Runs `sql` and collects its first result set (rows as text values), affected rows,
    /// the generated id and the warning count; later result sets are drained.
    pub async fn query_result(&mut self, sql: impl AsRef<[u8]>) -> Result<ShardResult, WireError> {
        self.send_query(sql.as_ref()).await?;
        let mut out = ShardResult::default();
        self.drain_results(Some(&mut out)).await?;
        Ok(out)
    }

    /// Reads every result set of the current response. With `into`, the first one's columns
    /// and text rows are kept there.
    async fn drain_results(&mut self, mut into: Option<&mut ShardResult>) -> Result<(), WireError> {
        let mut first = true;
        loop {
            let p = self.next_packet().await?;
            let more = match p.first() {
                Some(0x00) => {
                    let ok = parse_ok(p).map_err(|e| self.fail(e))?;
                    let more = ok.status & MORE_RESULTS_EXISTS != 0;
                    if first {
                        if let Some(out) = into.as_deref_mut() {
                            out.affected_rows = ok.affected_rows;
                            out.last_insert_id = ok.last_insert_id;
                            out.warnings = ok.warnings;
                        }
                    }
                    more
                }
                Some(0xFF) => {
                    let e = parse_err(p);
                    return Err(self.fail(e));
                }
                Some(0xFB) => {
                    return Err(self.fail(WireError::Protocol(
                        "server asked for a LOCAL INFILE file".into(),
                    )))
                }
                _ => {
                    let mut at = 0;
                    let count = packets::lenenc(p, &mut at)
                        .ok_or_else(|| packets::malformed("result set header"))?
                        as usize;
                    let keep = if first { into.as_deref_mut() } else { None };
                    self.read_rows(count, keep).await?
                }
            };
            first = false;
            if !more {
                return Ok(());
            }
        }
    }

    /// Reads the column definitions and text rows of one result set; returns whether more
    /// result sets follow.
    async fn read_rows(
        &mut self,
        count: usize,
        into: Option<&mut ShardResult>,
    ) -> Result<bool, WireError> {
        let columns = self.read_columns(count).await?;
        let mut rows = Vec::new();
        let mut keep = into.is_some();
        let mut over = None;
        loop {
            let p = self.next_packet().await?;
            if is_eof(p) {
                let (warnings, status) = parse_eof(p);
                if let Some(limit) = over {
                    // The whole answer was read: the connection is between commands.
                    return Err(crate::backend::result_budget::exceeded(limit));
                }
                if let Some(out) = into {
                    out.columns = columns;
                    out.rows = rows;
                    out.warnings = warnings;
                }
                return Ok(status & MORE_RESULTS_EXISTS != 0);
            }
            if p.first() == Some(&0xFF) {
                let e = parse_err(p);
                return Err(self.fail(e));
            }
            if keep {
                let cost = crate::backend::result_budget::row_cost(columns.len(), p.len());
                if let Err(limit) = crate::backend::result_budget::charge(cost) {
                    // Read on without holding anything (see `result_budget`).
                    over = Some(limit);
                    keep = false;
                    rows = Vec::new();
                    continue;
                }
                let row = text_row(p, columns.len()).ok_or_else(|| packets::malformed("row"))?;
                rows.push(row);
            }
        }
    }

    /// Reads the start of the answer to a query sent with [`Self::send_query`]: the column
    /// definitions of its first result set, whose rows [`Self::next_text_row`] then reads one
    /// at a time; or, for a statement without a result set, its OK (later results drained).
    pub async fn read_head(&mut self) -> Result<ResultHead, WireError> {
        let p = self.next_packet().await?;
        match p.first() {
            Some(0x00) => {
                let ok = parse_ok(p).map_err(|e| self.fail(e))?;
                let out = ShardResult {
                    affected_rows: ok.affected_rows,
                    last_insert_id: ok.last_insert_id,
                    warnings: ok.warnings,
                    ..ShardResult::default()
                };
                if ok.status & MORE_RESULTS_EXISTS != 0 {
                    self.drain_results(None).await?;
                }
                Ok(ResultHead::Done(out))
            }
            Some(0xFF) => {
                let e = parse_err(p);
                Err(self.fail(e))
            }
            Some(0xFB) => Err(self.fail(WireError::Protocol(
                "server asked for a LOCAL INFILE file".into(),
            ))),
            _ => {
                let mut at = 0;
                let count = packets::lenenc(p, &mut at)
                    .ok_or_else(|| packets::malformed("result set header"))?
                    as usize;
                Ok(ResultHead::Rows(self.read_columns(count).await?))
            }
        }
    }

    /// The next text row (of `width` values) of the result set [`Self::read_head`] started;
    /// at its end, its warning count (and any later result sets are read and dropped, so the
    /// connection is between commands). Nothing is charged to the statement's merge budget:
    /// the caller holds the row only until it passes it on.
    pub async fn next_text_row(&mut self, width: usize) -> Result<TextRow, WireError> {
        let p = self.next_packet().await?;
        if is_eof(p) {
            let (warnings, status) = parse_eof(p);
            if status & MORE_RESULTS_EXISTS != 0 {
                self.drain_results(None).await?;
            }
            return Ok(TextRow::End { warnings });
        }
        if p.first() == Some(&0xFF) {
            let e = parse_err(p);
            return Err(self.fail(e));
        }
        match text_row(p, width) {
            Some(row) => Ok(TextRow::Row(row)),
            None => Err(self.fail(packets::malformed("row"))),
        }
    }

    /// Reads `count` column definitions and the EOF after them.
    pub async fn read_columns(&mut self, count: usize) -> Result<Vec<Column>, WireError> {
        let mut columns = Vec::with_capacity(count);
        for _ in 0..count {
            let p = self.next_packet().await?;
            let col = Column::deserialize((), &mut ParseBuf(p))
                .map_err(|_| packets::malformed("column definition"))?;
            columns.push(col);
        }
        if count > 0 {
            let p = self.next_packet().await?;
            if !is_eof(p) {
                return Err(self.fail(packets::malformed("EOF after column definitions")));
            }
        }
        Ok(columns)
    }

    /// COM_STMT_PREPARE without the cache.
    pub(super) async fn prepare_uncached(&mut self, sql: &[u8]) -> Result<Statement, WireError> {
        self.stream
            .send_command_parts(&[0x16], sql)
            .await
            .map_err(WireError::io)?;
        let p = self.next_packet().await?;
        match p.first() {
            Some(0x00) if p.len() >= 12 => {}
            Some(0xFF) => return Err(parse_err(p)),
            _ => return Err(packets::malformed("prepare OK")),
        }
        let id = u32::from_le_bytes([p[1], p[2], p[3], p[4]]);
        let columns = u16::from_le_bytes([p[5], p[6]]) as usize;
        let params = u16::from_le_bytes([p[7], p[8]]) as usize;
        let params = self.read_columns(params).await?;
        let columns = self.read_columns(columns).await?;
        Ok(Statement {
            id,
            params,
            columns,
        })
    }

    async fn send_long_data(&mut self, id: u32, param: u16, data: &[u8]) -> Result<(), WireError> {
        let mut head = [0u8; 7];
        head[0] = 0x18;
        head[1..5].copy_from_slice(&id.to_le_bytes());
        head[5..7].copy_from_slice(&param.to_le_bytes());
        let res = self.stream.send_command_parts(&head, data).await;
        res.map_err(|e| self.fail(WireError::io(e)))
    }

    /// Sends COM_STMT_EXECUTE of `sql` (prepared on this connection first if needed) with
    /// `params`; the binary result is read with [`Self::next_packet`].
    pub async fn send_execute(&mut self, sql: &[u8], params: &[Value]) -> Result<(), WireError> {
        self.enter_statement()?;
        let stmt = self.prepare(sql).await?;
        if stmt.params.len() != params.len() {
            return Err(WireError::Server {
                code: 1210,
                state: "HY000".into(),
                message: "Incorrect arguments to mysqld_stmt_execute".into(),
            });
        }
        let (request, as_long_data) = ComStmtExecuteRequestBuilder::new(stmt.id).build(params);
        if as_long_data {
            // Too big for one execute packet: string parameters go ahead as long data
            // (COM_STMT_SEND_LONG_DATA has no response) and the execute leaves them out.
            for (index, value) in params.iter().enumerate() {
                if let Value::Bytes(bytes) = value {
                    let mut chunks = bytes.chunks(8 * 1024 * 1024).peekable();
                    if chunks.peek().is_none() {
                        self.send_long_data(stmt.id, index as u16, &[]).await?;
                    }
                    for chunk in chunks {
                        self.send_long_data(stmt.id, index as u16, chunk).await?;
                    }
                }
            }
        }
        let mut body = Vec::with_capacity(64);
        request.serialize(&mut body);
        let res = self.stream.send_command(&body).await;
        res.map_err(|e| self.fail(WireError::io(e)))
    }
}

impl WireConn {
    /// Executes prepared statement `sql` with `params` (prepared on this connection once),
    /// discarding any rows; fails with the first error of any result set.
    pub async fn exec_drop(&mut self, sql: &[u8], params: &[Value]) -> Result<(), WireError> {
        self.send_execute(sql, params).await?;
        self.drain_results(None).await
    }

    /// Executes prepared statement `sql` with `params` and returns its first result set:
    /// the column definitions and the binary rows decoded into typed values (no rows for a
    /// statement without a result set); later result sets are drained.
    pub async fn exec_rows(
        &mut self,
        sql: &[u8],
        params: &[Value],
    ) -> Result<(Vec<Column>, Vec<Vec<Value>>), WireError> {
        self.send_execute(sql, params).await?;
        let p = self.next_packet().await?;
        let count = match p.first() {
            Some(0x00) => {
                let ok = parse_ok(p).map_err(|e| self.fail(e))?;
                if ok.status & MORE_RESULTS_EXISTS != 0 {
                    self.drain_results(None).await?;
                }
                return Ok((Vec::new(), Vec::new()));
            }
            Some(0xFF) => {
                let e = parse_err(p);
                return Err(self.fail(e));
            }
            _ => {
                let mut at = 0;
                packets::lenenc(p, &mut at)
                    .ok_or_else(|| packets::malformed("result set header"))?
                    as usize
            }
        };
        let columns: std::sync::Arc<[Column]> = self.read_columns(count).await?.into();
        let mut rows = Vec::new();
        loop {
            let p = self.next_packet().await?;
            if is_eof(p) {
                let (_, status) = parse_eof(p);
                if status & MORE_RESULTS_EXISTS != 0 {
                    self.drain_results(None).await?;
                }
                return Ok((columns.to_vec(), rows));
            }
            if p.first() == Some(&0xFF) {
                let e = parse_err(p);
                return Err(self.fail(e));
            }
            let row = RowDeserializer::<ServerSide, Binary>::deserialize(
                columns.clone(),
                &mut ParseBuf(p),
            );
            match row {
                Ok(row) => rows.push(row.into_inner().unwrap()),
                Err(_) => return Err(self.fail(packets::malformed("binary row"))),
            }
        }
    }
}

/// How a query's answer starts ([`WireConn::read_head`]).
#[derive(Debug)]
pub enum ResultHead {
    /// A result set with these columns; its rows follow.
    Rows(Vec<Column>),
    /// No result set: the statement's OK (affected rows, id, warnings).
    Done(ShardResult),
}

/// One step of a result set read row by row ([`WireConn::next_text_row`]).
#[derive(Debug)]
pub enum TextRow {
    /// A row's values (`Value::Bytes` or `Value::NULL`).
    Row(Vec<Value>),
    /// The result set ended, with this many warnings.
    End {
        /// The EOF packet's warning count.
        warnings: u16,
    },
}

/// The values of a text-protocol row of `width` columns: each a length-encoded string, or
/// 0xFB for NULL. None when the packet does not hold exactly that.
fn text_row(p: &[u8], width: usize) -> Option<Vec<Value>> {
    let mut at = 0;
    let mut row = Vec::with_capacity(width);
    for _ in 0..width {
        if *p.get(at)? == 0xFB {
            at += 1;
            row.push(Value::NULL);
            continue;
        }
        let len = usize::try_from(packets::lenenc(p, &mut at)?).ok()?;
        let end = at.checked_add(len)?;
        row.push(Value::Bytes(p.get(at..end)?.to_vec()));
        at = end;
    }
    (at == p.len()).then_some(row)
}

#[cfg(test)]
mod tests {
    use super::text_row;
    use mysql_common::Value;

    #[test]
    fn text_rows_hold_strings_and_nulls() {
        let p = [1, b'7', 0xFB, 0, 3, b'a', b'b', b'c'];
        assert_eq!(
            text_row(&p, 4),
            Some(vec![
                Value::Bytes(b"7".to_vec()),
                Value::NULL,
                Value::Bytes(Vec::new()),
                Value::Bytes(b"abc".to_vec()),
            ])
        );
        let long: Vec<u8> = [0xFC, 0x2C, 0x01].into_iter().chain([b'x'; 300]).collect();
        assert_eq!(
            text_row(&long, 1),
            Some(vec![Value::Bytes(vec![b'x'; 300])])
        );
        // Too short, too long, or a truncated length.
        assert_eq!(text_row(&p, 5), None);
        assert_eq!(text_row(&p, 3), None);
        assert_eq!(text_row(&[5, b'a'], 1), None);
        assert_eq!(text_row(&[0xFC, 1], 1), None);
    }
}

//! A scatter SELECT whose merge needs no row but the ones at hand, answered as a stream:
//! ORDER BY (a k-way merge of the shards' sorted streams, one head row per shard held), LIMIT
//! and OFFSET (counted as rows pass; the shards were asked for `offset+count` rows), and a
//! plain scatter (the shards' rows one shard after the other, as the buffered merge
//! concatenates them). The proxy then holds one row per shard and what its sockets buffer,
//! whatever the result's size, and the client gets the first row as soon as every shard has
//! sent its first.
//!
//! Everything else stays buffered through [`execute_select_at`]: aggregates and GROUP BY,
//! HAVING, DISTINCT, a statement whose targets are empty, and ORDER BY an ENUM/SET column
//! (whose members are read from the shard before the merge; the streams are then read whole,
//! within `limits.max_merge_bytes`). The rows come out in exactly the order the buffered merge
//! gives: both use [`MergeHeap`] with the same keys, collations and tie rule.

use super::lookup_route::resolve_route;
use super::resolve::ShardTarget;
use super::select::shard_template;
use super::select::{execute_select_at, merge_fetched, resolve_limit, resolve_tail, shard_sql};
use super::stream::{collect, ShardStreams};
use super::{Cursor, ExecError, ShardResult};
use crate::engine::{orders_by_member, MergeHeap, OrderBy, Row};
use crate::planner::SelectPlan;
use crate::vschema::VSchema;
use mysql_async::Value;
use mysql_common::packets::Column;

/// What [`start_select`] gives: a whole merged answer, or a stream of merged rows.
#[derive(Debug)]
pub enum SelectOutput<S> {
    /// The merged result (a merge that holds every row, or a target list that was empty).
    Whole(ShardResult),
    /// The merged rows, read as they are asked for.
    Stream(SelectStream<S>),
}

/// How the streams are combined.
#[derive(Debug)]
enum Mode {
    /// One stream after the other.
    Concat {
        /// The stream being read.
        current: usize,
    },
    /// K-way merge: `heap` holds the head row of every stream but `refill`'s, whose row was
    /// the last one taken (its next row is read only when another row is asked for).
    Sorted {
        heap: MergeHeap,
        started: bool,
        refill: Option<usize>,
    },
}

/// The merged rows of a scatter, read from the shards as they are asked for; see the module
/// header. Give the streams back to the cursor with [`SelectStream::into_streams`] and
/// [`Cursor::close_streams`] at the end, or on an error.
#[derive(Debug)]
pub struct SelectStream<S> {
    streams: S,
    columns: Vec<Column>,
    mode: Mode,
    skip: u64,
    remaining: Option<u64>,
    visible: usize,
}

impl<S: ShardStreams> SelectStream<S> {
    /// The result's column definitions (what the client sees).
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The next row of the result; None at its end (or once the LIMIT is reached: the shards'
    /// rows not read yet are left to [`Cursor::close_streams`]).
    pub async fn next_row(&mut self) -> Result<Option<Row>, ExecError> {
        loop {
            if self.remaining == Some(0) {
                return Ok(None);
            }
            let Some(mut row) = self.next_merged().await? else {
                return Ok(None);
            };
            if self.skip > 0 {
                self.skip -= 1;
                continue;
            }
            if let Some(n) = &mut self.remaining {
                *n -= 1;
            }
            row.truncate(self.visible);
            return Ok(Some(row));
        }
    }

    /// The shards' streams, for [`Cursor::close_streams`].
    pub fn into_streams(self) -> S {
        self.streams
    }

    async fn next_merged(&mut self) -> Result<Option<Row>, ExecError> {
        let SelectStream { streams, mode, .. } = self;
        match mode {
            Mode::Concat { current } => loop {
                if *current >= streams.len() {
                    return Ok(None);
                }
                match streams.next_row(*current).await? {
                    Some(row) => return Ok(Some(row)),
                    None => *current += 1,
                }
            },
            Mode::Sorted {
                heap,
                started,
                refill,
            } => {
                if !*started {
                    *started = true;
                    for i in 0..streams.len() {
                        if let Some(row) = streams.next_row(i).await? {
                            heap.push(i, row);
                        }
                    }
                }
                if let Some(i) = refill.take() {
                    if let Some(row) = streams.next_row(i).await? {
                        heap.push(i, row);
                    }
                }
                Ok(heap.pop().map(|(i, row)| {
                    *refill = Some(i);
                    row
                }))
            }
        }
    }
}

/// Whether `plan`'s merge can pass rows on as they come (see the module header).
fn streamable(plan: &SelectPlan) -> bool {
    match &plan.merge {
        None => true,
        Some(m) => m.aggregates.is_none() && m.having.is_none() && !m.distinct,
    }
}

/// [`super::execute_select`] that streams the merge when it can (see the module header).
pub async fn start_select<C: Cursor>(
    cursor: &mut C,
    plan: &SelectPlan,
    params: &[Value],
    vschema: &VSchema,
) -> Result<SelectOutput<C::Streams>, ExecError> {
    let shards = cursor.shards(&plan.route.keyspace)?;
    let targets = resolve_route(cursor, &plan.route, params, vschema, &shards, false).await?;
    start_select_at(cursor, plan, params, vschema, targets).await
}

/// [`start_select`] on shards already resolved.
pub async fn start_select_at<C: Cursor>(
    cursor: &mut C,
    plan: &SelectPlan,
    params: &[Value],
    vschema: &VSchema,
    targets: Vec<ShardTarget>,
) -> Result<SelectOutput<C::Streams>, ExecError> {
    if targets.is_empty() || !streamable(plan) {
        return Ok(SelectOutput::Whole(
            execute_select_at(cursor, plan, params, vschema, targets).await?,
        ));
    }
    let keyspace = plan.route.keyspace.as_str();
    let limit = resolve_limit(plan, params)?;
    let query = shard_template(plan, limit)?;
    let queries = targets
        .iter()
        .map(|t| (t.shard, shard_sql(&query, t).into_owned()))
        .collect();
    let mut streams = cursor.stream_each(keyspace, queries).await?;
    let columns = streams.columns(0).to_vec();
    let shape = match &plan.merge {
        None => Ok(None),
        Some(merge) => resolve_tail(merge, columns.len()).map(Some),
    };
    let (order_by, visible) = match shape {
        Ok(Some((order_by, visible))) => (order_by, visible),
        Ok(None) => (Vec::new(), columns.len()),
        Err(e) => {
            cursor.close_streams(streams, false).await;
            return Err(e);
        }
    };
    if sorts_by_member(&order_by, &columns) {
        // The members are read from a shard before the merge: hold the rows meanwhile.
        let results = collect(&mut streams).await;
        let warnings = cursor.close_streams(streams, false).await;
        let mut results = results?;
        if let Some(first) = results.first_mut() {
            first.warnings = warnings;
        }
        return Ok(SelectOutput::Whole(
            merge_fetched(cursor, plan, &targets, results, limit).await?,
        ));
    }
    let mode = if order_by.is_empty() {
        Ok(Mode::Concat { current: 0 })
    } else {
        MergeHeap::new(&order_by, &columns).map(|heap| Mode::Sorted {
            heap,
            started: false,
            refill: None,
        })
    };
    let mode = match mode {
        Ok(m) => m,
        Err(e) => {
            cursor.close_streams(streams, false).await;
            return Err(e.into());
        }
    };
    let (skip, remaining) = limit.unwrap_or((0, None));
    let mut columns = columns;
    columns.truncate(visible);
    Ok(SelectOutput::Stream(SelectStream {
        streams,
        columns,
        mode,
        skip,
        remaining,
        visible,
    }))
}

/// Whether an ORDER BY term is an ENUM or SET column (sorted by member, see
/// [`crate::engine::member_order`]).
fn sorts_by_member(order_by: &[OrderBy], columns: &[Column]) -> bool {
    order_by
        .iter()
        .any(|o| columns.get(o.column).is_some_and(orders_by_member))
}

#[cfg(test)]
#[path = "select_stream_tests.rs"]
mod tests;

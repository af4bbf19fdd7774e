//! K-way merge of per-shard streams that are each sorted by the same ORDER BY.
//!
//! The planner pushes ORDER BY down to every shard; each shard returns its rows sorted under
//! MySQL's rules, and [`MergeSorted`] interleaves them with a binary heap holding one head row
//! per shard: O(n log k) comparisons for n rows from k shards, each row's sort keys computed
//! once ([`MergeHeap`], which the executor's streamed merge also drives row by row). Ties go
//! to the lower shard index, and rows of one shard keep their order, so the merge is stable
//! with respect to shard order.
//!
//! The merge trusts the shards' order: it must be the order [`compare_rows`] defines (same
//! keys, same collations). If a shard sorted differently (an ENUM column, a collation the
//! metadata does not reveal), rows come out in merge order, not re-sorted; use
//! [`sort_rows`](super::sort_rows) when in doubt.
//!
//! [`compare_rows`]: super::compare_rows

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use mysql_common::packets::Column;

use super::compare::{check_keys, row_keys, OrderBy, SortKey};
use super::rows::Row;
use super::EngineError;

/// Merges per-shard row lists, each sorted by `keys`, into one sorted list.
pub fn merge_sorted(
    inputs: Vec<Vec<Row>>,
    keys: &[OrderBy],
    columns: &[Column],
) -> Result<Vec<Row>, EngineError> {
    let capacity = inputs.iter().map(Vec::len).sum();
    let merge = MergeSorted::new(
        inputs.into_iter().map(Vec::into_iter).collect(),
        keys,
        columns,
    )?;
    let mut out = Vec::with_capacity(capacity);
    out.extend(merge);
    Ok(out)
}

/// A sort key with its direction folded in.
#[derive(Debug, PartialEq, Eq)]
struct DirectedKey {
    key: SortKey,
    descending: bool,
}

impl Ord for DirectedKey {
    fn cmp(&self, other: &Self) -> Ordering {
        let ord = self.key.cmp(&other.key);
        if self.descending {
            ord.reverse()
        } else {
            ord
        }
    }
}

impl PartialOrd for DirectedKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The current first row of one source.
#[derive(Debug)]
struct Head {
    keys: Vec<DirectedKey>,
    source: usize,
    row: Row,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        self.keys
            .cmp(&other.keys)
            .then_with(|| self.source.cmp(&other.source))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

/// The heads of several sorted sources, one row per source at most: [`MergeHeap::pop`] gives
/// the least (ties to the lower source), and the caller then pushes that source's next row,
/// if any, before popping again. [`MergeSorted`] drives it from iterators; the executor drives
/// it from shard streams read as the client consumes the merge.
#[derive(Debug)]
pub struct MergeHeap {
    heap: BinaryHeap<Reverse<Head>>,
    keys: Vec<OrderBy>,
    columns: Vec<Column>,
}

impl MergeHeap {
    /// An empty heap for rows described by `columns`, ordered by `keys`. Fails when a key
    /// names a missing column.
    pub fn new(keys: &[OrderBy], columns: &[Column]) -> Result<Self, EngineError> {
        check_keys(keys, columns)?;
        Ok(MergeHeap {
            heap: BinaryHeap::new(),
            keys: keys.to_vec(),
            columns: columns.to_vec(),
        })
    }

    /// Adds the current row of `source` (its sort keys are computed once, here).
    pub fn push(&mut self, source: usize, row: Row) {
        let keys = row_keys(&row, &self.keys, &self.columns)
            .into_iter()
            .zip(&self.keys)
            .map(|(key, order)| DirectedKey {
                key,
                descending: order.descending,
            })
            .collect();
        self.heap.push(Reverse(Head { keys, source, row }));
    }

    /// Takes the least head and its source; None when every source is exhausted.
    pub fn pop(&mut self) -> Option<(usize, Row)> {
        let Reverse(head) = self.heap.pop()?;
        Some((head.source, head.row))
    }

    /// How many heads are held.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no head is held.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// Iterator over the merged rows of several sorted sources (shard streams).
#[derive(Debug)]
pub struct MergeSorted<I: Iterator<Item = Row>> {
    sources: Vec<I>,
    heap: MergeHeap,
}

impl<I: Iterator<Item = Row>> MergeSorted<I> {
    /// Starts a merge of `sources` (source index = shard order for ties), each sorted by
    /// `keys` over rows described by `columns`. Fails when a key names a missing column.
    pub fn new(sources: Vec<I>, keys: &[OrderBy], columns: &[Column]) -> Result<Self, EngineError> {
        let mut merge = MergeSorted {
            heap: MergeHeap::new(keys, columns)?,
            sources,
        };
        for source in 0..merge.sources.len() {
            merge.advance(source);
        }
        Ok(merge)
    }

    /// Pulls the next row of `source` into the heap.
    fn advance(&mut self, source: usize) {
        if let Some(row) = self.sources.get_mut(source).and_then(Iterator::next) {
            self.heap.push(source, row);
        }
    }
}

impl<I: Iterator<Item = Row>> Iterator for MergeSorted<I> {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        let (source, row) = self.heap.pop()?;
        self.advance(source);
        Some(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::*;
    use mysql_async::Value;

    fn ids(rows: &[Row]) -> Vec<Value> {
        rows.iter().map(|r| r[0].clone()).collect()
    }

    #[test]
    fn merges_numeric_streams_with_nulls() {
        let columns = vec![int_col()];
        let shards = vec![
            vec![vec![Value::NULL], row(&["-3"]), row(&["9"]), row(&["100"])],
            vec![row(&["-20"]), row(&["10"])],
            vec![],
            vec![vec![Value::NULL], row(&["9"])],
        ];
        let merged = merge_sorted(shards, &[OrderBy::asc(0)], &columns).unwrap();
        assert_eq!(
            ids(&merged),
            vec![
                Value::NULL,
                Value::NULL,
                t("-20"),
                t("-3"),
                t("9"),
                t("9"),
                t("10"),
                t("100")
            ]
        );
    }

    #[test]
    fn descending_puts_nulls_last() {
        let columns = vec![decimal_col(10, 2)];
        let shards = vec![
            vec![row(&["10.50"]), row(&["-1.00"]), vec![Value::NULL]],
            vec![row(&["9.75"]), vec![Value::NULL]],
        ];
        let merged = merge_sorted(shards, &[OrderBy::desc(0)], &columns).unwrap();
        assert_eq!(
            ids(&merged),
            vec![t("10.50"), t("9.75"), t("-1.00"), Value::NULL, Value::NULL]
        );
    }

    #[test]
    fn ties_prefer_lower_shard_then_stream_order() {
        let columns = vec![general_col(), int_col()];
        let shards = vec![
            vec![row(&["a", "1"]), row(&["b", "2"])],
            vec![row(&["A", "3"]), row(&["á", "4"]), row(&["B", "5"])],
        ];
        let merged = merge_sorted(shards, &[OrderBy::asc(0)], &columns).unwrap();
        let tags: Vec<Value> = merged.iter().map(|r| r[1].clone()).collect();
        assert_eq!(tags, vec![t("1"), t("3"), t("4"), t("2"), t("5")]);
    }

    #[test]
    fn multi_key_merge() {
        let columns = vec![general_col(), int_col()];
        let order = [OrderBy::asc(0), OrderBy::desc(1)];
        let shards = vec![
            vec![row(&["x", "5"]), row(&["x", "1"]), row(&["y", "7"])],
            vec![row(&["X", "3"]), row(&["y", "8"])],
        ];
        let merged = merge_sorted(shards, &order, &columns).unwrap();
        let tags: Vec<Value> = merged.iter().map(|r| r[1].clone()).collect();
        assert_eq!(tags, vec![t("5"), t("3"), t("1"), t("8"), t("7")]);
    }

    #[test]
    fn iterator_is_lazy_and_no_keys_concatenates() {
        let columns = vec![int_col()];
        let sources = vec![
            vec![row(&["3"]), row(&["1"])].into_iter(),
            vec![row(&["2"])].into_iter(),
        ];
        let mut merge = MergeSorted::new(sources, &[], &columns).unwrap();
        assert_eq!(merge.next(), Some(row(&["3"])));
        assert_eq!(merge.next(), Some(row(&["1"])));
        assert_eq!(merge.next(), Some(row(&["2"])));
        assert_eq!(merge.next(), None);
    }

    #[test]
    fn empty_and_invalid() {
        assert_eq!(
            merge_sorted(vec![], &[OrderBy::asc(0)], &[int_col()]),
            Ok(vec![])
        );
        assert!(merge_sorted(vec![vec![]], &[OrderBy::asc(1)], &[int_col()]).is_err());
    }
}

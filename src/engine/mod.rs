//! The execution engine. So far: the pure result-merging layer of scatter queries.
//!
//! A scatter query is rewritten by the planner, sent to every shard, and the per-shard results
//! are handed to the functions here, which combine them exactly as MySQL would have computed
//! the query over the union of the data. Nothing in this layer does I/O or parses SQL.
//!
//! ```text
//! shard rows ──▶ merge_sort (ORDER BY pushed down: k-way merge of sorted streams)
//!            ──▶ aggregate  (partial COUNT/SUM/MIN/MAX/AVG/COUNT(DISTINCT) + GROUP BY)
//!            ──▶ distinct   (DISTINCT across shards)
//!            ──▶ filter     (HAVING: the planner's predicate)
//!            ──▶ limit      (LIMIT/OFFSET; shards were asked for offset+count rows)
//! ```
//!
//! Values are `mysql_async::Value`. Text-protocol results carry every value as `Value::Bytes`,
//! so every comparison is driven by the column's metadata ([`compare`]): numbers compare
//! numerically (DECIMAL exactly, [`decimal`]), dates and times chronologically, strings by the
//! collation ([`collation`]). Computed values come back as text-protocol values with the
//! `Column` metadata MariaDB would send for them ([`aggregate`]).
//!
//! **Pushdown rules** the planner must keep: LIMIT goes to the shards (as `offset+count`) only
//! when the proxy's last step before it is a plain ORDER BY merge — never below an aggregate,
//! DISTINCT or HAVING, since a shard's first rows are not the first groups; HAVING on
//! aggregates is evaluated here ([`filter_rows`]) on merged rows, never on the shards.
//!
//! **Column metadata caveat.** In a result set MariaDB reports the *connection's* collation
//! (e.g. 45 `utf8mb4_general_ci`) for every string column, not the column's own collation; only
//! `_bin` collations are visible, through the `BINARY` flag. When the planner knows a column's
//! real collation (information_schema) it should patch it in with
//! `column.clone().with_character_set(id)` before merging; see [`collation::Collation::of`].

pub mod aggregate;
pub mod collation;
pub mod compare;
pub mod decimal;
pub mod distinct;
pub mod filter;
pub mod limit;
pub mod member_order;
pub mod merge_sort;
pub mod rows;

#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod test_support;

pub use aggregate::{merge_aggregates, merge_aggregates_with, output_columns, AggregateSpec};
pub use collation::Collation;
pub use compare::{compare_rows, compare_values, order_is_exact, sort_rows, OrderBy, SortKey};
pub use decimal::{format_double, Decimal};
pub use distinct::{distinct_rows, distinct_rows_by, DistinctOrder};
pub use filter::filter_rows;
pub use limit::{apply_limit, shard_limit};
pub use member_order::{orders_by_member, rank_keys, Members};
pub use merge_sort::{merge_sorted, MergeHeap, MergeSorted};
pub use rows::{text_value, ResultSet, Row};

/// Errors of the merging layer. All of them are planner bugs or unsupported shapes; none
/// depends on the data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// A spec or sort key names a column the shard rows do not have.
    #[error("merge plan refers to column {index} but the shard result has {width} columns")]
    ColumnOutOfRange {
        /// The column index asked for.
        index: usize,
        /// How many columns there are.
        width: usize,
    },
    /// The proxy cannot compute this merge exactly (maps to error 1235).
    #[error("This version of shardgate doesn't yet support '{0}'")]
    Unsupported(String),
}

//! SELECT DISTINCT across shards.
//!
//! Each shard already removed its own duplicates; the same row can still come from several
//! shards. Rows are duplicates when every compared column is equal under MySQL semantics
//! ([`SortKey`]): `'a'`, `'A'` and `'á '` are one value under a `_ci` collation, `1.50` and
//! `1.5` one DECIMAL, and NULLs equal each other (as DISTINCT treats them). The first
//! occurrence is kept (shard order, then row order), so its spelling is the one returned —
//! MySQL also returns whichever variant it met first.

use std::collections::{BTreeMap, BTreeSet};

use mysql_common::packets::Column;

use super::compare::SortKey;
use super::rows::{cell, check_column, Row};
use super::EngineError;

/// Order of the rows [`distinct_rows`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistinctOrder {
    /// First occurrences in input order (MySQL does not sort DISTINCT results).
    FirstSeen,
    /// Ascending by the compared columns, left to right (NULL first).
    Sorted,
}

/// Removes duplicate rows, comparing every column of `columns`.
pub fn distinct_rows(
    rows: impl IntoIterator<Item = Row>,
    columns: &[Column],
    order: DistinctOrder,
) -> Result<Vec<Row>, EngineError> {
    let all: Vec<usize> = (0..columns.len()).collect();
    distinct_rows_by(rows, &all, columns, order)
}

/// Removes rows that duplicate an earlier one on the columns `compared` (other columns, e.g.
/// hidden ones, are carried along from the first occurrence).
pub fn distinct_rows_by(
    rows: impl IntoIterator<Item = Row>,
    compared: &[usize],
    columns: &[Column],
    order: DistinctOrder,
) -> Result<Vec<Row>, EngineError> {
    for &index in compared {
        check_column(index, columns.len())?;
    }
    let key_of = |row: &Row| -> Vec<SortKey> {
        compared
            .iter()
            .map(|&i| SortKey::new(cell(row, i), &columns[i]))
            .collect()
    };
    match order {
        DistinctOrder::FirstSeen => {
            let mut seen = BTreeSet::new();
            Ok(rows
                .into_iter()
                .filter(|row| seen.insert(key_of(row)))
                .collect())
        }
        DistinctOrder::Sorted => {
            let mut firsts = BTreeMap::new();
            for row in rows {
                firsts.entry(key_of(&row)).or_insert(row);
            }
            Ok(firsts.into_values().collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::*;
    use mysql_async::Value;

    #[test]
    fn collation_aware_first_seen() {
        let columns = vec![general_col()];
        let shards = [
            vec![row(&["b"]), row(&["a"])],
            vec![row(&["A"]), row(&["á "]), row(&["c"]), vec![Value::NULL]],
            vec![row(&["B"]), vec![Value::NULL]],
        ];
        let rows = shards.into_iter().flatten();
        let out = distinct_rows(rows, &columns, DistinctOrder::FirstSeen).unwrap();
        assert_eq!(
            out,
            vec![row(&["b"]), row(&["a"]), row(&["c"]), vec![Value::NULL]]
        );
    }

    #[test]
    fn binary_strings_keep_case_variants() {
        let columns = vec![varchar_bin_col()];
        let rows = vec![row(&["a"]), row(&["A"]), row(&["a "])];
        let out = distinct_rows(rows, &columns, DistinctOrder::Sorted).unwrap();
        assert_eq!(out, vec![row(&["A"]), row(&["a"])]);
    }

    #[test]
    fn multi_column_numeric_sorted() {
        let columns = vec![decimal_col(10, 2), int_col()];
        let rows = vec![
            row(&["1.50", "2"]),
            row(&["1.5", "2"]),
            row(&["1.5", "3"]),
            row(&["-1.00", "2"]),
            vec![Value::NULL, t("2")],
        ];
        let out = distinct_rows(rows, &columns, DistinctOrder::Sorted).unwrap();
        assert_eq!(
            out,
            vec![
                vec![Value::NULL, t("2")],
                row(&["-1.00", "2"]),
                row(&["1.50", "2"]),
                row(&["1.5", "3"]),
            ]
        );
    }

    #[test]
    fn compare_subset_of_columns() {
        let columns = vec![int_col(), int_col()];
        let rows = vec![row(&["1", "10"]), row(&["1", "20"]), row(&["2", "30"])];
        let out = distinct_rows_by(rows, &[0], &columns, DistinctOrder::FirstSeen).unwrap();
        assert_eq!(out, vec![row(&["1", "10"]), row(&["2", "30"])]);
        assert!(distinct_rows_by(vec![], &[2], &columns, DistinctOrder::FirstSeen).is_err());
    }
}

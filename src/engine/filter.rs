//! Row filtering at the proxy (HAVING after a cross-shard aggregate).
//!
//! The merging layer does not evaluate SQL expressions: the planner turns a HAVING clause into
//! a predicate over merged rows (usually comparing an aggregate column with a constant through
//! [`compare_values`](super::compare_values)) and hands it to [`filter_rows`].

use mysql_async::Value;

use super::rows::Row;

/// Keeps the rows for which `pred` is true, in order.
pub fn filter_rows(rows: Vec<Row>, pred: impl Fn(&[Value]) -> bool) -> Vec<Row> {
    rows.into_iter().filter(|row| pred(row)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compare::compare_values;
    use crate::engine::test_support::*;
    use std::cmp::Ordering;

    #[test]
    fn having_count_greater_than_one() {
        let count = count_col();
        let rows = vec![row(&["a", "1"]), row(&["b", "3"]), row(&["c", "10"])];
        let kept = filter_rows(rows, |r| {
            compare_values(&r[1], &t("2"), &count) == Ordering::Greater
        });
        assert_eq!(kept, vec![row(&["b", "3"]), row(&["c", "10"])]);
    }

    #[test]
    fn null_never_passes_a_comparison() {
        let rows = vec![vec![Value::NULL], row(&["1"])];
        let kept = filter_rows(rows, |r| !matches!(r[0], Value::NULL));
        assert_eq!(kept, vec![row(&["1"])]);
    }
}

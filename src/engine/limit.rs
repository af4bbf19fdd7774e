//! LIMIT/OFFSET at the proxy.
//!
//! A scatter query with `LIMIT count OFFSET offset` is sent to every shard as
//! `LIMIT offset+count` ([`shard_limit`]): the first `offset+count` rows of the merged order can
//! only come from the first `offset+count` rows of some shards. After the merge (sorted by
//! [`merge_sorted`](super::merge_sorted)), [`apply_limit`] skips `offset` rows and keeps `count`.

use super::rows::Row;

/// Keeps rows `offset .. offset+count` of `rows` (`count: None` = no LIMIT, only OFFSET).
pub fn apply_limit(rows: Vec<Row>, offset: u64, count: Option<u64>) -> Vec<Row> {
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let take = count.map_or(usize::MAX, |c| usize::try_from(c).unwrap_or(usize::MAX));
    rows.into_iter().skip(skip).take(take).collect()
}

/// The row limit to send to each shard for `LIMIT count OFFSET offset`: `offset + count`
/// (saturating at `u64::MAX`, MySQL's "no limit" value).
pub fn shard_limit(offset: u64, count: u64) -> u64 {
    offset.saturating_add(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::test_support::row;

    fn rows(n: usize) -> Vec<Row> {
        (0..n).map(|i| row(&[&i.to_string()])).collect()
    }

    #[test]
    fn offset_and_count() {
        assert_eq!(
            apply_limit(rows(10), 3, Some(2)),
            vec![row(&["3"]), row(&["4"])]
        );
        assert_eq!(apply_limit(rows(10), 0, Some(0)), Vec::<Row>::new());
        assert_eq!(apply_limit(rows(3), 2, Some(5)), vec![row(&["2"])]);
        assert_eq!(apply_limit(rows(3), 5, Some(5)), Vec::<Row>::new());
        assert_eq!(apply_limit(rows(3), 1, None).len(), 2);
        assert_eq!(apply_limit(rows(3), u64::MAX, Some(u64::MAX)).len(), 0);
    }

    #[test]
    fn shard_limit_is_offset_plus_count() {
        assert_eq!(shard_limit(10, 5), 15);
        assert_eq!(shard_limit(u64::MAX, 5), u64::MAX);
    }
}

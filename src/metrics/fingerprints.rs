//! Statement shapes and what they cost: the table behind the status page's "top statements".
//!
//! A shape is the statement's [fingerprint](crate::sql::fingerprint) (literals replaced by
//! `?`, comments dropped), with value lists folded so `IN (1,2,3)` and `IN (4,5)` are one
//! shape, as pt-query-digest and Vitess's query stats fold them. Only the first
//! [`FINGERPRINT_BYTES`] of a statement are read, so a statement of hundreds of MiB costs
//! no more than a short one. The table holds at most [`MAX_SHAPES`] shapes; statements of
//! shapes beyond it count under one "other statements" row, so memory stays bounded
//! whatever clients send.

use super::{RouteKind, StatementRecord};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Bytes of a statement that are fingerprinted.
pub const FINGERPRINT_BYTES: usize = 2048;

/// Shapes the table keeps.
pub const MAX_SHAPES: usize = 2000;

/// The shape that statements beyond [`MAX_SHAPES`] shapes count under.
const OTHER: &str = "(other statements: the table of shapes is full)";

/// One shape's totals.
#[derive(Debug, Clone)]
pub struct FingerprintStats {
    /// The normalized text.
    pub fingerprint: String,
    /// Statement kind of the last statement of this shape.
    pub kind: &'static str,
    /// Route of the last statement of this shape.
    pub route: RouteKind,
    /// Keyspace of the last statement of this shape.
    pub keyspace: String,
    /// Statements of this shape.
    pub count: u64,
    /// Of those, failed.
    pub errors: u64,
    /// Their time, summed.
    pub total_time: Duration,
    /// Rows returned or affected, summed.
    pub rows: u64,
    /// Shards touched, summed (mean = `shards / count`).
    pub shards: u64,
    /// Most shards one statement of this shape touched.
    pub max_shards: u32,
}

impl FingerprintStats {
    /// Mean shards touched per statement.
    pub fn mean_shards(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.shards as f64 / self.count as f64
        }
    }
}

/// The bounded table of shapes (module header).
#[derive(Debug, Default)]
pub struct TopStatements {
    shapes: Mutex<HashMap<u64, FingerprintStats>>,
}

/// The shape of `text` and its hash: the fingerprint of its first [`FINGERPRINT_BYTES`],
/// with runs of `?` list items folded to one `?+` and repeated `( … )` row tuples folded to
/// one.
pub fn shape(text: &str) -> (String, u64) {
    let mut end = text.len().min(FINGERPRINT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let fp = crate::sql::fingerprint(&text[..end]);
    let mut folded = fold_lists(&fp.normalized);
    if end < text.len() {
        folded.push_str(" …");
    }
    let hash = crate::sql::fingerprint::hash64(folded.as_bytes());
    (folded, hash)
}

/// `? , ? , ?` and `( ? )` → `?+`; `( ?+ ) , ( ?+ )` → `( ?+ )` (tokens are
/// space-separated).
fn fold_lists(normalized: &str) -> String {
    let tokens: Vec<&str> = normalized.split(' ').collect();
    // Value lists first.
    let mut lists: Vec<&str> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "?" {
            let start = i;
            while tokens.get(i + 1) == Some(&",") && tokens.get(i + 2) == Some(&"?") {
                i += 2;
            }
            let whole_list = lists.last() == Some(&"(") && tokens.get(i + 1) == Some(&")");
            lists.push(if i > start || whole_list { "?+" } else { "?" });
        } else {
            lists.push(tokens[i]);
        }
        i += 1;
    }
    // Then a row tuple equal to the one before it, after a comma, is dropped with the comma.
    let mut out: Vec<&str> = Vec::with_capacity(lists.len());
    let mut i = 0;
    while i < lists.len() {
        out.push(lists[i]);
        i += 1;
        if out.last() != Some(&")") {
            continue;
        }
        let Some(open) = out.iter().rposition(|t| *t == "(") else {
            continue;
        };
        let tuple_len = out.len() - open;
        while lists.get(i) == Some(&",")
            && lists.get(i + 1..i + 1 + tuple_len) == Some(&out[open..])
        {
            i += 1 + tuple_len;
        }
    }
    out.join(" ")
}

impl TopStatements {
    /// Counts `rec` under its shape; returns the shape.
    pub fn record(&self, rec: &StatementRecord<'_>) -> String {
        let (fingerprint, hash) = shape(rec.text);
        let mut shapes = self.shapes.lock().unwrap_or_else(|p| p.into_inner());
        let key = if shapes.len() >= MAX_SHAPES && !shapes.contains_key(&hash) {
            0
        } else {
            hash
        };
        let entry = shapes.entry(key).or_insert_with(|| FingerprintStats {
            fingerprint: if key == 0 {
                OTHER.to_string()
            } else {
                fingerprint.clone()
            },
            kind: rec.kind,
            route: rec.route,
            keyspace: String::new(),
            count: 0,
            errors: 0,
            total_time: Duration::ZERO,
            rows: 0,
            shards: 0,
            max_shards: 0,
        });
        entry.kind = rec.kind;
        entry.route = rec.route;
        if entry.keyspace != rec.keyspace {
            entry.keyspace = rec.keyspace.to_string();
        }
        entry.count += 1;
        entry.errors += u64::from(rec.error.is_some());
        entry.total_time += rec.duration;
        entry.rows += rec.rows;
        entry.shards += u64::from(rec.shards);
        entry.max_shards = entry.max_shards.max(rec.shards);
        fingerprint
    }

    fn ranked(&self, n: usize, key: impl Fn(&FingerprintStats) -> u128) -> Vec<FingerprintStats> {
        let shapes = self.shapes.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<FingerprintStats> = shapes.values().cloned().collect();
        drop(shapes);
        all.sort_by(|a, b| key(b).cmp(&key(a)).then(a.fingerprint.cmp(&b.fingerprint)));
        all.truncate(n);
        all
    }

    /// The `n` shapes run most often.
    pub fn ranked_by_count(&self, n: usize) -> Vec<FingerprintStats> {
        self.ranked(n, |s| u128::from(s.count))
    }

    /// The `n` shapes with the most time summed.
    pub fn ranked_by_time(&self, n: usize) -> Vec<FingerprintStats> {
        self.ranked(n, |s| s.total_time.as_nanos())
    }

    /// Shapes held.
    pub fn len(&self) -> usize {
        self.shapes.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Whether no statement was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(text: &str) -> StatementRecord<'_> {
        StatementRecord {
            text,
            kind: "SELECT",
            route: RouteKind::SingleShard,
            keyspace: "ks",
            shards: 1,
            rows: 1,
            duration: Duration::from_millis(1),
            error: None,
            user: "u",
        }
    }

    #[test]
    fn value_lists_and_rows_fold_to_one_shape() {
        assert_eq!(
            shape("select * from t where id in (1, 2, 3)").0,
            "select * from t where id in ( ?+ )"
        );
        assert_eq!(
            shape("select * from t where id in (9)").0,
            shape("select * from t where id in (1, 2)").0
        );
        assert_eq!(
            shape("select * from t where id = 9 and b = 'x'").0,
            "select * from t where id = ? and b = ?"
        );
        assert_eq!(
            shape("insert into t (a, b) values (1, 'x'), (2, 'y'), (3, 'z')").0,
            "insert into t ( a , b ) values ( ?+ )"
        );
        assert_eq!(
            shape("insert into t (a, b) values (1, 'x')").0,
            shape("insert into t (a, b) values (7, 'q'), (8, 'r')").0
        );
        // Different column lists stay different shapes.
        assert_ne!(
            shape("select a from t where id = 1").0,
            shape("select b from t where id = 1").0
        );
    }

    #[test]
    fn long_statements_are_read_only_in_part() {
        let long = format!("select '{}'", "é".repeat(FINGERPRINT_BYTES));
        let (s, _) = shape(&long);
        assert!(s.len() < FINGERPRINT_BYTES + 16, "{}", s.len());
        assert!(s.ends_with('…'));
    }

    #[test]
    fn the_table_stays_bounded() {
        let t = TopStatements::default();
        for i in 0..MAX_SHAPES + 50 {
            let text = format!("select c{i} from t");
            t.record(&rec(&text));
        }
        assert_eq!(t.len(), MAX_SHAPES + 1);
        let top = t.ranked_by_count(1);
        assert_eq!(top[0].fingerprint, OTHER);
        assert_eq!(top[0].count, 50);
    }

    #[test]
    fn ranks_by_count_and_by_time() {
        let t = TopStatements::default();
        for _ in 0..3 {
            t.record(&rec("select 1 from a"));
        }
        let mut slow = rec("select 1 from b");
        slow.duration = Duration::from_secs(1);
        t.record(&slow);
        assert_eq!(t.ranked_by_count(1)[0].fingerprint, "select ? from a");
        assert_eq!(t.ranked_by_time(1)[0].fingerprint, "select ? from b");
    }
}

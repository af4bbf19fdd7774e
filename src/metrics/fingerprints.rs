//! Statement shapes and what they cost: the table behind the status page's "top statements".
//!
//! A shape is the statement's [fingerprint](crate::sql::fingerprint) (literals replaced by
//! `?`, comments dropped; here also the literals inside executable `/*! … */` comments, which
//! the fingerprint keeps verbatim, so no client value reaches the query log), with value
//! lists folded so `IN (1,2,3)` and `IN (4,5)` are one shape, as pt-query-digest and Vitess's
//! query stats fold them. Only the first [`FINGERPRINT_BYTES`] of a statement are read, so a
//! statement of hundreds of MiB costs no more than a short one. The table holds at most
//! [`MAX_SHAPES`] shapes; statements of shapes beyond it count under one "other statements"
//! row, so memory stays bounded whatever clients send.

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
    let truncated = end < text.len();
    let mut folded = fold_lists(&normalize(&text[..end], true), truncated);
    if truncated {
        folded.push_str(" …");
    }
    let hash = crate::sql::fingerprint::hash64(folded.as_bytes());
    (folded, hash)
}

/// The statement's tokens joined by single spaces, literals replaced by `?` and plain comments
/// dropped, as [`crate::sql::fingerprint`] makes them, but with the literals inside executable
/// comments (`/*! … */`, `/*M!50100 … */`) replaced too: the fingerprint keeps those comments
/// verbatim, and the query log must carry no literal of the client's. A comment's content is
/// normalized one level deep (`inner`); a comment inside it (never valid SQL) becomes `?`.
fn normalize(stmt: &str, inner: bool) -> String {
    use crate::sql::tokenizer::{TokenKind, Tokenizer};
    let mut out = String::with_capacity(stmt.len().min(FINGERPRINT_BYTES));
    for tok in Tokenizer::new(stmt) {
        if tok.kind == TokenKind::Comment {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        // (Written straight into `out`: this runs on every statement.)
        let text = tok.text(stmt);
        match tok.kind {
            TokenKind::String | TokenKind::Number | TokenKind::HexOrBit => out.push('?'),
            TokenKind::ExecComment if inner => {
                // `/*!` or `/*M!`, then an optional version, the content, `*/`.
                let body = text.strip_suffix("*/").unwrap_or(text);
                let head = body
                    .find('!')
                    .map(|bang| {
                        bang + 1
                            + body[bang + 1..]
                                .find(|c: char| !c.is_ascii_digit())
                                .unwrap_or(body.len() - bang - 1)
                    })
                    .unwrap_or(body.len().min(3));
                out.push_str(&body[..head]);
                out.push(' ');
                out.push_str(&normalize(&body[head..], false));
                out.push_str(" */");
            }
            TokenKind::ExecComment => out.push('?'),
            _ => out.push_str(text),
        }
    }
    out
}

/// `? , ? , ?` and `( ? )` → `?+`; `( ?+ ) , ( ?+ )` → `( ?+ )` (tokens are
/// space-separated). Of a `truncated` text, a last tuple the cut left open is dropped with
/// its comma, so a long multi-row INSERT has one shape wherever the cut falls.
fn fold_lists(normalized: &str, truncated: bool) -> String {
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
    if truncated {
        let open = out.iter().rposition(|t| *t == "(");
        let close = out.iter().rposition(|t| *t == ")");
        if let Some(open) = open.filter(|&o| close.is_none_or(|c| c < o)) {
            if open > 0 && out[open - 1] == "," {
                out.truncate(open - 1);
            }
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
    fn a_long_multi_row_insert_has_one_shape_wherever_the_cut_falls() {
        let rows = |n: usize, pad: usize| {
            let tuples: Vec<String> = (0..n)
                .map(|i| format!("({i}, '{}')", "x".repeat(pad)))
                .collect();
            format!("insert into t (a, b) values {}", tuples.join(", "))
        };
        let shapes: std::collections::BTreeSet<String> = [(500, 3), (400, 7), (300, 11), (900, 1)]
            .into_iter()
            .map(|(n, pad)| shape(&rows(n, pad)).0)
            .collect();
        assert_eq!(
            shapes.into_iter().collect::<Vec<_>>(),
            ["insert into t ( a , b ) values ( ?+ ) …"]
        );
    }

    #[test]
    fn no_literal_survives_even_in_executable_comments() {
        for (text, want) in [
            (
                "SELECT /*! 'secret' */ 1 FROM t",
                "SELECT /*! ? */ ? FROM t",
            ),
            (
                "SELECT /*!50000 SQL_NO_CACHE 12345 */ a FROM t WHERE b = x'CAFE'",
                "SELECT /*!50000 SQL_NO_CACHE ? */ a FROM t WHERE b = ?",
            ),
            ("SELECT /*M!100100 'x', 2 */ 1", "SELECT /*M!100100 ?+ */ ?"),
            ("SELECT 'unterminated secret", "SELECT ?"),
            ("SELECT \"dq secret\" -- c secret", "SELECT ?"),
        ] {
            let got = shape(text).0;
            assert_eq!(got, want, "{text}");
            assert!(!got.contains("secret") && !got.contains("12345"), "{got}");
        }
        // Plain comments and optimizer hints go, directives stay.
        assert_eq!(shape("SELECT /* 'c' */ 1").0, "SELECT ?");
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

//! Running one query on a side and comparing two answers: the columns as a driver sees them
//! (name, type, the relevant flags, character set, decimals) and the rows as text, as
//! multisets or in order as the [`Query`] allows, case-folded where it says so, doubles summed
//! or averaged compared to 9 significant digits.

use crate::gen::{OrderCheck, Query};
use mysql_async::consts::ColumnFlags;
use mysql_async::prelude::*;
use mysql_async::{Conn, QueryResult, Row, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// Longest a query may take on one side.
const TIMEOUT: Duration = Duration::from_secs(20);
/// Rows shown per side in a report.
const SHOWN: usize = 6;

/// A column definition as a driver sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColMeta {
    /// Name (alias) of the column.
    pub name: String,
    /// `ColumnType` as its wire byte.
    pub ty: u8,
    /// NOT_NULL, UNSIGNED, BINARY and ZEROFILL flags.
    pub flags: u16,
    /// Character set (collation id).
    pub charset: u16,
    /// Decimals.
    pub decimals: u8,
    /// Length (only used to recognise item 10).
    pub length: u32,
}

/// Rows as text cells (`None`: NULL).
pub type Rows = Vec<Vec<Option<String>>>;

/// What a query did on one side.
#[derive(Debug, Clone)]
pub enum Answer {
    /// A result set.
    Rows {
        /// Column definitions.
        cols: Vec<ColMeta>,
        /// Rows in the order received.
        rows: Rows,
    },
    /// A server error.
    Failed {
        /// MySQL error code.
        code: u16,
        /// Message.
        message: String,
    },
    /// Connection failure or timeout.
    Broken(String),
}

fn relevant_flags(f: ColumnFlags) -> u16 {
    (f & (ColumnFlags::NOT_NULL_FLAG
        | ColumnFlags::UNSIGNED_FLAG
        | ColumnFlags::BINARY_FLAG
        | ColumnFlags::ZEROFILL_FLAG))
        .bits()
}

fn cell(v: Value) -> Option<String> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

/// Runs `sql` (as a prepared statement with `params` when `prepared`, which gives rows in the
/// binary protocol; else as a text query) and returns its answer.
pub async fn run(conn: &mut Conn, sql: &str, prepared: bool, params: &[Value]) -> Answer {
    let work = async {
        if prepared {
            let result = conn.exec_iter(sql, params.to_vec()).await?;
            return collect(result).await;
        }
        let result = conn.query_iter(sql).await?;
        collect(result).await
    };
    match tokio::time::timeout(TIMEOUT, work).await {
        Err(_) => Answer::Broken(format!("no answer within {TIMEOUT:?}")),
        Ok(Ok(a)) => a,
        Ok(Err(mysql_async::Error::Server(e))) => Answer::Failed {
            code: e.code,
            message: e.message,
        },
        Ok(Err(e)) => Answer::Broken(e.to_string()),
    }
}

/// Reads a result: its column definitions and its rows as text cells.
async fn collect<P: Protocol>(
    mut result: QueryResult<'_, '_, P>,
) -> Result<Answer, mysql_async::Error> {
    let cols: Vec<ColMeta> = result
        .columns()
        .map(|cs| {
            cs.iter()
                .map(|c| ColMeta {
                    name: c.name_str().into_owned(),
                    ty: c.column_type() as u8,
                    flags: relevant_flags(c.flags()),
                    charset: c.character_set(),
                    decimals: c.decimals(),
                    length: c.column_length(),
                })
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<Row> = result.collect().await?;
    result.drop_result().await?;
    let rows = rows
        .into_iter()
        .map(|r| r.unwrap().into_iter().map(cell).collect())
        .collect();
    Ok(Answer::Rows { cols, rows })
}

/// One field of one column that differs.
#[derive(Debug, Clone)]
pub struct MetaDiff {
    /// Column position.
    pub col: usize,
    /// Field name.
    pub field: &'static str,
    /// Reference value.
    pub expected: String,
    /// Proxy value.
    pub got: String,
    /// The reference's column.
    pub expected_col: ColMeta,
    /// The proxy's column.
    pub got_col: ColMeta,
}

/// How two answers compare.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Equal (or both failed with the same code).
    Same,
    /// The proxy refused with 1235 (message).
    Refused(String),
    /// They differ: column definitions (possibly none) and/or rows / outcome.
    Differs {
        /// Differing column fields.
        meta: Vec<MetaDiff>,
        /// Description of a row / outcome difference, if any.
        rows: Option<String>,
        /// The rows are the same multiset (only the order differs).
        same_multiset: bool,
    },
}

fn meta_diffs(e: &[ColMeta], g: &[ColMeta]) -> Vec<MetaDiff> {
    let mut out = Vec::new();
    for (i, (a, b)) in e.iter().zip(g).enumerate() {
        let mut push = |field, x: String, y: String| {
            if x != y {
                out.push(MetaDiff {
                    col: i,
                    field,
                    expected: x,
                    got: y,
                    expected_col: a.clone(),
                    got_col: b.clone(),
                });
            }
        };
        push("name", a.name.clone(), b.name.clone());
        push("type", a.ty.to_string(), b.ty.to_string());
        push(
            "flags",
            format!("{:#x}", a.flags),
            format!("{:#x}", b.flags),
        );
        push("charset", a.charset.to_string(), b.charset.to_string());
        push("decimals", a.decimals.to_string(), b.decimals.to_string());
    }
    out
}

fn normalize(q: &Query, rows: &Rows) -> Rows {
    rows.iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, c)| {
                    c.as_ref().map(|s| {
                        if q.approx.contains(&i) {
                            match s.parse::<f64>() {
                                Ok(v) => format!("{v:.9e}"),
                                Err(_) => s.clone(),
                            }
                        } else if q.fold {
                            fold(s)
                        } else {
                            s.clone()
                        }
                    })
                })
                .collect()
        })
        .collect()
}

/// A value up to `utf8mb4_general_ci` equality, approximately: accents dropped (NFD without
/// combining marks), lowercase, trailing spaces trimmed (PAD SPACE). Two values the collation
/// calls equal may be shown either way by a group, a DISTINCT or MIN/MAX, so such outputs are
/// compared folded.
pub fn fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .collect::<String>()
        .to_lowercase()
        .trim_end_matches(' ')
        .to_string()
}

fn sorted(rows: &Rows) -> Rows {
    let mut r = rows.clone();
    r.sort();
    r
}

fn keys(rows: &Rows, cols: &[usize]) -> Vec<Vec<Option<String>>> {
    rows.iter()
        .map(|r| {
            cols.iter()
                .map(|&i| r.get(i).cloned().flatten().map(|s| fold(&s)))
                .collect()
        })
        .collect()
}

/// Compares the proxy's answer `got` with the reference's `expected` for `q`.
pub fn compare(q: &Query, expected: &Answer, got: &Answer) -> Verdict {
    if let Answer::Failed {
        code: 1235,
        message,
    } = got
    {
        return Verdict::Refused(message.clone());
    }
    let differs = |rows: String| Verdict::Differs {
        meta: Vec::new(),
        rows: Some(rows),
        same_multiset: false,
    };
    match (expected, got) {
        (Answer::Failed { code: a, .. }, Answer::Failed { code: b, .. }) if a == b => Verdict::Same,
        (Answer::Rows { cols: ec, rows: er }, Answer::Rows { cols: gc, rows: gr }) => {
            if ec.len() != gc.len() {
                return differs(format!("{} columns vs {}", ec.len(), gc.len()));
            }
            let meta = meta_diffs(ec, gc);
            let (en, gn) = (normalize(q, er), normalize(q, gr));
            let same_multiset = sorted(&en) == sorted(&gn);
            let in_order = match &q.order {
                OrderCheck::Unordered => true,
                OrderCheck::Total => en == gn,
                OrderCheck::Keys(cols) => keys(&en, cols) == keys(&gn, cols),
            };
            let rows = if !same_multiset {
                Some("different rows".to_string())
            } else if !in_order {
                Some("same rows, different order".to_string())
            } else {
                None
            };
            if meta.is_empty() && rows.is_none() {
                Verdict::Same
            } else {
                Verdict::Differs {
                    meta,
                    rows,
                    same_multiset,
                }
            }
        }
        _ => differs("different outcome".to_string()),
    }
}

fn render_rows(rows: &Rows) -> String {
    let mut s: Vec<String> = rows
        .iter()
        .take(SHOWN)
        .map(|r| {
            let cells: Vec<String> = r
                .iter()
                .map(|c| c.as_ref().map_or("NULL".into(), |s| format!("{s:?}")))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    if rows.len() > SHOWN {
        s.push(format!("… {} more", rows.len() - SHOWN));
    }
    s.join(" ")
}

/// An answer on one line (at most a few rows).
pub fn render(a: &Answer) -> String {
    match a {
        Answer::Rows { cols, rows } => {
            let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
            format!(
                "{} rows [{}]: {}",
                rows.len(),
                names.join(", "),
                render_rows(rows)
            )
        }
        Answer::Failed { code, message } => format!("error {code}: {message}"),
        Answer::Broken(m) => format!("connection failure: {m}"),
    }
}

/// Rows of `a` not in `b` (multisets).
fn minus(a: &Rows, b: &Rows) -> Rows {
    let mut counts: BTreeMap<&Vec<Option<String>>, usize> = BTreeMap::new();
    for r in b {
        *counts.entry(r).or_default() += 1;
    }
    a.iter()
        .filter(|r| match counts.get_mut(r) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

/// A description of a difference for the report.
pub fn describe(
    q: &Query,
    expected: &Answer,
    got: &Answer,
    meta: &[(MetaDiff, Option<&str>)],
) -> String {
    let mut s = format!(
        "    expected: {}\n    got:      {}",
        render(expected),
        render(got)
    );
    for (m, excuse) in meta {
        let _ = write!(
            s,
            "\n    column {} {}: expected {} got {}{}",
            m.col,
            m.field,
            m.expected,
            m.got,
            excuse
                .map(|e| format!(" (excused: {e})"))
                .unwrap_or_default()
        );
    }
    if let (Answer::Rows { rows: er, .. }, Answer::Rows { rows: gr, .. }) = (expected, got) {
        let (en, gn) = (normalize(q, er), normalize(q, gr));
        let (missing, extra) = (minus(&en, &gn), minus(&gn, &en));
        if !missing.is_empty() {
            let _ = write!(
                s,
                "\n    missing ({}): {}",
                missing.len(),
                render_rows(&missing)
            );
        }
        if !extra.is_empty() {
            let _ = write!(s, "\n    extra ({}): {}", extra.len(), render_rows(&extra));
        }
    }
    s
}

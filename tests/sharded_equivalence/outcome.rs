//! What one statement did, on either side ([`Outcome`]): run with a timeout and read as text
//! cells, normalized (row order, case) for comparison, compared (errors by code alone), and
//! rendered for the report with a description of the difference.

use mysql_async::prelude::*;
use mysql_async::{Conn, QueryResult, Row, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// Longest a single statement may take before it counts as a failure.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);
/// Rows shown per side in the report.
const SHOWN_ROWS: usize = 4;

/// Rows as text cells (`None`: NULL).
pub(crate) type Rows = Vec<Vec<Option<String>>>;

/// What a statement did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// A result set.
    Rows { columns: usize, rows: Rows },
    /// An OK packet.
    Done { affected: u64 },
    /// A server error.
    Failed { code: u16, message: String },
    /// The connection failed or the statement timed out (the proxy connection is replaced).
    Broken { message: String },
}

impl Outcome {
    /// Whether it is a server error with code `want`.
    pub(crate) fn is_code(&self, want: u16) -> bool {
        matches!(self, Outcome::Failed { code, .. } if *code == want)
    }
}

fn cell(v: Value) -> Option<String> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

async fn collect<P: Protocol>(
    mut result: QueryResult<'_, '_, P>,
) -> Result<Outcome, mysql_async::Error> {
    let columns = result.columns().map_or(0, |c| c.len());
    let affected = result.affected_rows();
    let rows: Vec<Row> = result.collect().await?;
    result.drop_result().await?;
    if columns == 0 {
        return Ok(Outcome::Done { affected });
    }
    let rows = rows
        .into_iter()
        .map(|r| r.unwrap().into_iter().map(cell).collect())
        .collect();
    Ok(Outcome::Rows { columns, rows })
}

/// Runs one statement (prepared when `params` is given) and returns what happened.
pub(crate) async fn run(conn: &mut Conn, sql: &str, params: Option<&[Value]>) -> Outcome {
    let work = async {
        match params {
            None => collect(conn.query_iter(sql).await?).await,
            Some(p) => collect(conn.exec_iter(sql, p.to_vec()).await?).await,
        }
    };
    match tokio::time::timeout(STATEMENT_TIMEOUT, work).await {
        Err(_) => Outcome::Broken {
            message: format!("no answer within {STATEMENT_TIMEOUT:?}"),
        },
        Ok(Ok(outcome)) => outcome,
        Ok(Err(mysql_async::Error::Server(e))) => Outcome::Failed {
            code: e.code,
            message: e.message,
        },
        Ok(Err(e)) => Outcome::Broken {
            message: e.to_string(),
        },
    }
}

/// Normalizes an outcome for comparison: sorted rows unless ordered, lowercased if folding.
pub(crate) fn normalize(outcome: &Outcome, ordered: bool, fold_case: bool) -> Outcome {
    match outcome {
        Outcome::Rows { columns, rows } => {
            let mut rows: Rows = rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|c| {
                            c.as_ref().map(|s| {
                                if fold_case {
                                    s.to_lowercase()
                                } else {
                                    s.clone()
                                }
                            })
                        })
                        .collect()
                })
                .collect();
            if !ordered {
                rows.sort();
            }
            Outcome::Rows {
                columns: *columns,
                rows,
            }
        }
        other => other.clone(),
    }
}

/// Whether two normalized outcomes agree; errors agree on their code alone (the proxy may word
/// the message differently).
pub(crate) fn same(expected: &Outcome, got: &Outcome) -> bool {
    match (expected, got) {
        (Outcome::Failed { code: a, .. }, Outcome::Failed { code: b, .. }) => a == b,
        _ => expected == got,
    }
}

fn render_row(row: &[Option<String>]) -> String {
    let cells: Vec<String> = row
        .iter()
        .map(|c| c.as_ref().map_or("NULL".into(), |s| format!("{s:?}")))
        .collect();
    format!("({})", cells.join(", "))
}

fn render_rows(rows: &[Vec<Option<String>>]) -> String {
    let mut s: Vec<String> = rows
        .iter()
        .take(SHOWN_ROWS)
        .map(|r| render_row(r))
        .collect();
    if rows.len() > SHOWN_ROWS {
        s.push(format!("… {} more", rows.len() - SHOWN_ROWS));
    }
    s.join(" ")
}

/// One line describing an outcome (at most a few rows of it).
pub(crate) fn render(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Rows { columns, rows } => {
            format!(
                "{} rows × {columns} cols: {}",
                rows.len(),
                render_rows(rows)
            )
        }
        Outcome::Done { affected } => format!("OK, {affected} rows affected"),
        Outcome::Failed { code, message } => format!("error {code}: {message}"),
        Outcome::Broken { message } => format!("connection failure: {message}"),
    }
}

/// Rows of `a` not in `b`, as multisets.
fn multiset_minus(a: &Rows, b: &Rows) -> Rows {
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

/// A readable description of how `got` differs from `expected` (both normalized).
pub(crate) fn describe_difference(expected: &Outcome, got: &Outcome, ordered: bool) -> String {
    let mut s = format!(
        "    expected: {}\n    got:      {}",
        render(expected),
        render(got)
    );
    if let (
        Outcome::Rows {
            columns: ce,
            rows: re,
        },
        Outcome::Rows {
            columns: cg,
            rows: rg,
        },
    ) = (expected, got)
    {
        if ce != cg {
            let _ = write!(s, "\n    column count differs: {ce} vs {cg}");
        }
        let missing = multiset_minus(re, rg);
        let extra = multiset_minus(rg, re);
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
        if ordered && missing.is_empty() && extra.is_empty() {
            if let Some(i) = re.iter().zip(rg).position(|(a, b)| a != b) {
                let _ = write!(
                    s,
                    "\n    same rows, different order; first difference at row {i}: expected {} got {}",
                    render_row(&re[i]),
                    render_row(&rg[i])
                );
            }
        }
    }
    s
}

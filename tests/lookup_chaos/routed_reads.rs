//! Routed reads against the truth: for a sample of values of every routing lookup use (values
//! rows hold, values only orphans hold, values nobody holds), a read through the proxy routed
//! by the vindex (`WHERE phone = 5`) must return exactly the rows of a scatter with the vindex
//! predicate hidden (`WHERE phone + 0 = 5`, `WHERE CONCAT(email) = 'x'`) and exactly the rows
//! the shards hold (the snapshot, read directly).

use crate::layout::{table, Kind, LookupUse};
use crate::shard_reads::{Cell, Snapshot};
use crate::values::Mode;
use mysql_async::prelude::*;
use mysql_async::Conn;
use std::collections::BTreeSet;

/// What the routed reads found.
#[derive(Debug, Default)]
pub(crate) struct ReadVerdict {
    /// Values compared.
    pub(crate) compared: usize,
    /// Mismatches and errors, one line each (must be empty).
    pub(crate) anomalies: Vec<String>,
}

const PLAIN: Mode = Mode {
    no_backslash_escapes: false,
    tricky: true,
};

fn literal(c: &Cell) -> String {
    match c {
        Cell::Null => "NULL".into(),
        Cell::Int(n) => n.to_string(),
        Cell::Text(s) => PLAIN.lit(s),
    }
}

fn hidden(column: &str, kind: Kind) -> String {
    match kind {
        Kind::Int => format!("{column} + 0"),
        Kind::Text => format!("CONCAT({column})"),
    }
}

/// Up to `per_use` sample values of `lu`: held by rows, held only by lookup rows, held by none.
fn samples(snap: &Snapshot, lu: &LookupUse, per_use: usize) -> Vec<Vec<Cell>> {
    let t = table(lu.table);
    let positions: Vec<usize> = lu.columns.iter().map(|c| t.pos(c)).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let held = snap.owners.get(lu.table).into_iter().flatten().map(|r| {
        positions
            .iter()
            .map(|&p| r.cells[p].clone())
            .collect::<Vec<_>>()
    });
    let orphaned = snap
        .lookups
        .get(lu.vindex)
        .into_iter()
        .flatten()
        .map(|r| r.from.clone());
    for values in held.take(per_use * 4).chain(orphaned.take(per_use)) {
        if values.contains(&Cell::Null) {
            continue;
        }
        let key: Vec<Cell> = values.iter().map(Cell::key).collect();
        if seen.insert(key) {
            out.push(values);
        }
    }
    // Spread the sample over the table instead of its first rows.
    let step = (out.len() / per_use).max(1);
    let mut picked: Vec<Vec<Cell>> = out.into_iter().step_by(step).take(per_use).collect();
    picked.push(
        lu.columns
            .iter()
            .map(|c| match t.columns[t.pos(c)].1 {
                Kind::Int => Cell::Int(424_242_424),
                Kind::Text => Cell::Text("nobody-has-this".into()),
            })
            .collect(),
    );
    picked
}

async fn ids(c: &mut Conn, sql: &str) -> Result<Vec<i64>, String> {
    match c.query::<i64, _>(sql).await {
        Ok(mut v) => {
            v.sort_unstable();
            Ok(v)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Compares routed reads, hidden-predicate scatters and the snapshot for `uses`.
pub(crate) async fn check_routed_reads(
    c: &mut Conn,
    snap: &Snapshot,
    uses: &[LookupUse],
    per_use: usize,
) -> ReadVerdict {
    let mut v = ReadVerdict::default();
    for lu in uses {
        let t = table(lu.table);
        let pk = t.columns[0].0;
        let positions: Vec<usize> = lu.columns.iter().map(|c| t.pos(c)).collect();
        for values in samples(snap, lu, per_use) {
            let routed: Vec<String> = lu
                .columns
                .iter()
                .zip(&values)
                .map(|(col, val)| format!("{col} = {}", literal(val)))
                .collect();
            let scatter: Vec<String> = lu
                .columns
                .iter()
                .zip(&values)
                .map(|(col, val)| {
                    format!(
                        "{} = {}",
                        hidden(col, t.columns[t.pos(col)].1),
                        literal(val)
                    )
                })
                .collect();
            let routed = format!("SELECT {pk} FROM {} WHERE {}", t.name, routed.join(" AND "));
            let scatter = format!(
                "SELECT {pk} FROM {} WHERE {}",
                t.name,
                scatter.join(" AND ")
            );
            let key: Vec<Cell> = values.iter().map(Cell::key).collect();
            let mut truth: Vec<i64> = snap
                .owners
                .get(lu.table)
                .into_iter()
                .flatten()
                .filter(|r| {
                    positions
                        .iter()
                        .map(|&p| r.cells[p].key())
                        .eq(key.iter().cloned())
                })
                .filter_map(|r| r.cells[0].int())
                .collect();
            truth.sort_unstable();
            v.compared += 1;
            let got = ids(c, &routed).await;
            let hid = ids(c, &scatter).await;
            if got.as_ref() != Ok(&truth) || hid.as_ref() != Ok(&truth) {
                v.anomalies.push(format!(
                    "{} ({}): routed `{routed}` gave {got:?}, scatter `{scatter}` gave {hid:?}, the shards hold {truth:?}",
                    lu.vindex,
                    if lu.owned { "owned" } else { "unowned" }
                ));
            }
        }
    }
    v
}

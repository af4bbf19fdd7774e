//! Checking owner rows against their lookup rows, shared by the backfill's verify pass,
//! `VERIFY VINDEX` and `ExternalizeVindex`: lookup rows that are missing (with `repair`,
//! created through the consistent-lookup Create, whose reclaim takes stale orphans over), and
//! for a unique vindex the **conflicts**: owner rows whose value another owner row already
//! holds. A unique vindex cannot map one value to two rows, so such a value would route to one
//! of them only; the workflow names them and ExternalizeVindex refuses until they are gone.
//!
//! Conflicts are found two ways: a value held in the lookup table by another keyspace id whose
//! owner row exists (rows on different keyspace ids, e.g. on different shards), and a value
//! that several owner rows of one shard hold (`GROUP BY … HAVING COUNT(*) > 1`, which also
//! finds rows sharing a keyspace id, whom one lookup row would cover until one is deleted).

use super::backfill::OwnerQuery;
use super::cursor::JobCursor;
use super::WorkflowError;
use crate::backend::JobConn;
use crate::exec::{cell_value, Lookup, LookupRow};
use crate::vindex::SqlValue;
use mysql_common::Row;
use std::collections::BTreeSet;
use std::time::Duration;

/// How many conflicting values messages name.
pub const SHOWN_VALUES: usize = 10;

/// How often a Create is retried after a deadlock or lock wait timeout (client DML writing
/// the same lookup rows) before the check fails.
const MAX_RETRIES: u64 = 20;

/// Deadlock (1213) and lock wait timeout (1205): the batch can simply be retried.
pub(super) fn transient(e: &crate::exec::ExecError) -> bool {
    matches!(crate::exec::server_code(e), Some(1213 | 1205))
}

/// A value as messages show it: quoted text (lossy), or NULL.
pub(super) fn shown(v: &SqlValue) -> String {
    if v.is_null() {
        "NULL".into()
    } else {
        format!("'{}'", String::from_utf8_lossy(v.raw()))
    }
}

/// Up to [`SHOWN_VALUES`] values, comma-separated, with "…" when there are more.
pub fn list(values: &BTreeSet<String>) -> String {
    let mut out: Vec<&str> = values
        .iter()
        .take(SHOWN_VALUES)
        .map(String::as_str)
        .collect();
    if values.len() > SHOWN_VALUES {
        out.push("…");
    }
    out.join(", ")
}

/// What checking a batch of owner rows found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Checked {
    /// Owner rows without their exact lookup row.
    pub missing: u64,
    /// Of those, created (`repair`).
    pub added: u64,
}

/// Checks owner rows' lookup rows (`lrows`, one per owner row); conflicting values go into
/// `conflicts`. With `repair` the missing rows are created (committed).
pub(super) async fn check_rows(
    lookup: &Lookup<'_>,
    cursor: &mut JobCursor,
    lrows: &[LookupRow],
    repair: bool,
    conflicts: &mut BTreeSet<String>,
) -> Result<Checked, WorkflowError> {
    let missing = lookup.missing(cursor, lrows).await?;
    let mut checked = Checked {
        missing: missing.len() as u64,
        added: 0,
    };
    if missing.is_empty() {
        return Ok(checked);
    }
    let todo: Vec<LookupRow> = missing.iter().map(|&i| lrows[i].clone()).collect();
    if !repair {
        if lookup.is_unique() {
            for row in &todo {
                if lookup.held_by_another(cursor, row).await? {
                    conflicts.insert(row.from.iter().map(shown).collect::<Vec<_>>().join(", "));
                }
            }
        }
        return Ok(checked);
    }
    let mut attempt = 0;
    loop {
        let result = match lookup.create(cursor, &todo, true).await {
            Ok(kept) => cursor.commit().await.map(|()| kept),
            Err(e) => Err(e),
        };
        match result {
            Ok(kept) => {
                for (row, k) in todo.iter().zip(&kept) {
                    if *k {
                        checked.added += 1;
                    } else {
                        conflicts.insert(row.from.iter().map(shown).collect::<Vec<_>>().join(", "));
                    }
                }
                return Ok(checked);
            }
            Err(e) => {
                cursor.rollback().await;
                if !transient(&e) || attempt >= MAX_RETRIES {
                    return Err(e.into());
                }
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
        }
    }
}

/// Values of a unique vindex that several owner rows of one shard hold (compared by the
/// owner column's collation). Nothing for a non-unique vindex.
pub(super) async fn shard_duplicates(
    lookup: &Lookup<'_>,
    conn: &mut JobConn,
    q: &OwnerQuery,
) -> Result<BTreeSet<String>, WorkflowError> {
    if !lookup.is_unique() {
        return Ok(BTreeSet::new());
    }
    let Some(sql) = q.duplicates_sql() else {
        return Ok(BTreeSet::new());
    };
    let rows: Vec<Row> = conn.query(&sql).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let v = r.as_ref(0).cloned().unwrap_or(mysql_common::Value::NULL);
            shown(&cell_value(r.columns_ref().first(), &v))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_name_a_bounded_number_of_values() {
        let few: BTreeSet<String> = ["'a'", "'b'"].iter().map(|s| s.to_string()).collect();
        assert_eq!(list(&few), "'a', 'b'");
        let many: BTreeSet<String> = (0..15).map(|i| format!("'v{i:02}'")).collect();
        let l = list(&many);
        assert!(
            l.ends_with(", …") && l.matches(", ").count() == SHOWN_VALUES,
            "{l}"
        );
        assert_eq!(shown(&SqlValue::null()), "NULL");
    }
}

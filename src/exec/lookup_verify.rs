//! Lookup-table maintenance outside client DML: the backfill's bulk `INSERT IGNORE`, finding
//! owner rows whose lookup row is missing, scanning lookup rows, and removing orphans under
//! the consistent-lookup locks (used by CreateLookupVindex and `VERIFY VINDEX ... REPAIR`).

use super::lookup::{same_value, Lookup, LookupRow};
use super::lookup_sql::{cell_value, ident, literal};
use super::{CommitOrder, Cursor, ExecError};
use crate::vindex::{Destination, SqlValue};

impl Lookup<'_> {
    /// Keyspace of the lookup table.
    pub fn table_keyspace(&self) -> &str {
        &self.keyspace
    }

    /// Inserts lookup rows with `INSERT IGNORE` (sorted, one statement per lookup shard,
    /// autocommit): rows already present, e.g. written by client DML meanwhile, are kept as
    /// they are. Rows with a NULL from value are skipped. Returns the rows inserted.
    pub async fn insert_ignore<C: Cursor>(
        &self,
        cursor: &mut C,
        rows: &[LookupRow],
    ) -> Result<u64, ExecError> {
        let shards = cursor.shards(&self.keyspace)?;
        let mut per_shard: Vec<Vec<&LookupRow>> = vec![Vec::new(); shards.len()];
        for row in rows {
            if row.from.iter().any(SqlValue::is_null) {
                continue;
            }
            if let Some(&s) = self.row_shards(&shards, row)?.first() {
                if let Some(list) = per_shard.get_mut(s) {
                    list.push(row);
                }
            }
        }
        let mut columns: Vec<String> = self.params.from.iter().map(|c| ident(c)).collect();
        columns.push(ident(&self.params.to));
        let mut inserted = 0;
        for (shard, mut list) in per_shard.into_iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            list.sort_by(|a, b| {
                let key = |r: &LookupRow| {
                    let mut k: Vec<Vec<u8>> = r.from.iter().map(|v| v.raw().to_vec()).collect();
                    k.push(r.ksid.clone());
                    k
                };
                key(a).cmp(&key(b))
            });
            let tuples: Vec<String> = list
                .iter()
                .map(|r| self.tuple(r, cursor.charset()))
                .collect::<Result<_, _>>()?;
            let sql = format!(
                "INSERT IGNORE INTO {} ({}) VALUES {}",
                ident(&self.table),
                columns.join(", "),
                tuples.join(", ")
            );
            let r = cursor
                .execute_in(CommitOrder::Autocommit, &self.keyspace, shard, sql)
                .await?;
            inserted += r.affected_rows;
        }
        Ok(inserted)
    }

    /// Indexes of the rows (owner rows' values and keyspace ids) that have no lookup row
    /// `(from…, ksid)`. Rows [`Lookup::has_lookup_row`] rejects never need one.
    pub async fn missing<C: Cursor>(
        &self,
        cursor: &mut C,
        rows: &[LookupRow],
    ) -> Result<Vec<usize>, ExecError> {
        let shards = cursor.shards(&self.keyspace)?;
        let mut per_shard: Vec<Vec<usize>> = vec![Vec::new(); shards.len()];
        for (i, row) in rows.iter().enumerate() {
            if !self.has_lookup_row(row) {
                continue;
            }
            for s in self.row_shards(&shards, row)? {
                if let Some(list) = per_shard.get_mut(s) {
                    list.push(i);
                }
            }
        }
        let mut columns: Vec<String> = self.params.from.iter().map(|c| ident(c)).collect();
        columns.push(ident(&self.params.to));
        let from0 = self.params.from.first().map(String::as_str).unwrap_or("");
        let mut missing = Vec::new();
        for (shard, idx) in per_shard.iter().enumerate() {
            if idx.is_empty() {
                continue;
            }
            let keys: Vec<String> = idx
                .iter()
                .map(|&i| literal(&rows[i].from[0], cursor.charset()))
                .collect();
            let sql = format!(
                "SELECT {} FROM {} WHERE {} IN ({})",
                columns.join(", "),
                ident(&self.table),
                ident(from0),
                keys.join(", ")
            );
            let found = cursor
                .execute_in(CommitOrder::Autocommit, &self.keyspace, shard, sql)
                .await?;
            let present = self.rows_of(&found, self.params.from.len())?;
            for &i in idx {
                let row = &rows[i];
                let exact = present.iter().any(|p| {
                    p.ksid == row.ksid
                        && p.from.iter().zip(&row.from).all(|(a, b)| same_value(b, a))
                });
                if exact {
                    continue;
                }
                // The shard's collation may call a differently written value equal.
                let sql = format!(
                    "SELECT 1 FROM {} WHERE {}",
                    ident(&self.table),
                    self.row_condition(row, cursor.charset())?
                );
                let r = cursor
                    .execute_in(CommitOrder::Autocommit, &self.keyspace, shard, sql)
                    .await?;
                if r.rows.is_empty() {
                    missing.push(i);
                }
            }
        }
        missing.sort_unstable();
        missing.dedup();
        Ok(missing)
    }

    /// Up to `limit` lookup rows of one lookup shard after `after` (from values), in primary
    /// key order.
    pub async fn scan<C: Cursor>(
        &self,
        cursor: &mut C,
        shard: usize,
        after: Option<&[SqlValue]>,
        limit: u64,
    ) -> Result<Vec<LookupRow>, ExecError> {
        let from: Vec<String> = self.params.from.iter().map(|c| ident(c)).collect();
        let filter = match after {
            Some(vals) => format!(
                " WHERE ({}) > ({})",
                from.join(", "),
                vals.iter()
                    .map(|v| literal(v, cursor.charset()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => String::new(),
        };
        let sql = format!(
            "SELECT {}, {} FROM {}{filter} ORDER BY {} LIMIT {limit}",
            from.join(", "),
            ident(&self.params.to),
            ident(&self.table),
            from.join(", ")
        );
        let r = cursor
            .execute_in(CommitOrder::Autocommit, &self.keyspace, shard, sql)
            .await?;
        self.rows_of(&r, self.params.from.len())
    }

    /// Indexes of the lookup rows that have no owner row (read without locks): one query
    /// per owner shard for the batch, then a per-row check for rows the owner's collation
    /// may match differently.
    pub async fn orphans_among<C: Cursor>(
        &self,
        cursor: &mut C,
        rows: &[LookupRow],
    ) -> Result<Vec<usize>, ExecError> {
        let owner = self.owner.as_ref().ok_or_else(|| {
            ExecError::Internal(format!("lookup vindex '{}' has no owner", self.name))
        })?;
        let shards = cursor.shards(owner.keyspace)?;
        let mut per_shard: Vec<Vec<usize>> = vec![Vec::new(); shards.len()];
        let mut orphans = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            match super::resolve::destination_shards(
                &Destination::KeyspaceId(row.ksid.clone()),
                &shards,
            ) {
                Ok(list) if !list.is_empty() => {
                    for s in list {
                        if let Some(l) = per_shard.get_mut(s) {
                            l.push(i);
                        }
                    }
                }
                _ => orphans.push(i),
            }
        }
        let cols: Vec<String> = owner.columns.iter().map(|c| ident(c)).collect();
        let first = cols.first().cloned().unwrap_or_default();
        for (shard, idx) in per_shard.iter().enumerate() {
            if idx.is_empty() {
                continue;
            }
            let keys: Vec<String> = idx
                .iter()
                .map(|&i| literal(&rows[i].from[0], cursor.charset()))
                .collect();
            let sql = format!(
                "SELECT {} FROM {} WHERE {first} IN ({})",
                cols.join(", "),
                ident(owner.table),
                keys.join(", ")
            );
            let found = cursor
                .execute_in(CommitOrder::Autocommit, owner.keyspace, shard, sql)
                .await?;
            let present: Vec<Vec<SqlValue>> = found
                .rows
                .iter()
                .map(|r| {
                    (0..cols.len())
                        .map(|k| {
                            r.get(k)
                                .map(|c| cell_value(found.columns.get(k), c))
                                .unwrap_or_else(SqlValue::null)
                        })
                        .collect()
                })
                .collect();
            for &i in idx {
                let row = &rows[i];
                let exact = present
                    .iter()
                    .any(|p| p.iter().zip(&row.from).all(|(a, b)| same_value(b, a)));
                if !exact && self.is_orphan(cursor, row).await? {
                    orphans.push(i);
                }
            }
        }
        orphans.sort_unstable();
        orphans.dedup();
        Ok(orphans)
    }

    /// Whether the row's from values are held in the lookup table by another keyspace id
    /// whose owner row exists (read without locks): for a unique vindex, an owner row that
    /// cannot get its lookup row. Compared by the lookup table's collation.
    pub async fn held_by_another<C: Cursor>(
        &self,
        cursor: &mut C,
        row: &LookupRow,
    ) -> Result<bool, ExecError> {
        let shards = cursor.shards(&self.keyspace)?;
        let targets = match &self.placement {
            // Placed by keyspace id: another keyspace id's row may be on any shard.
            super::lookup::Placement::ByColumn(_, super::lookup::KeyColumn::To) => {
                (0..shards.len()).collect()
            }
            _ => self.row_shards(&shards, row)?,
        };
        let sql = format!(
            "SELECT {} FROM {} WHERE {}",
            ident(&self.params.to),
            ident(&self.table),
            self.key_condition(row, cursor.charset())
        );
        for shard in targets {
            let found = cursor
                .execute_in(CommitOrder::Autocommit, &self.keyspace, shard, sql.clone())
                .await?;
            for r in &found.rows {
                let ksid = match r.first() {
                    Some(c) => self.ksid_of(&cell_value(found.columns.first(), c))?,
                    None => Vec::new(),
                };
                if ksid != row.ksid
                    && !self
                        .is_orphan(
                            cursor,
                            &LookupRow {
                                from: row.from.clone(),
                                ksid,
                            },
                        )
                        .await?
                {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Whether a lookup row has no owner row (read without locks).
    pub async fn is_orphan<C: Cursor>(
        &self,
        cursor: &mut C,
        row: &LookupRow,
    ) -> Result<bool, ExecError> {
        let owner = self.owner.as_ref().ok_or_else(|| {
            ExecError::Internal(format!("lookup vindex '{}' has no owner", self.name))
        })?;
        let shards = cursor.shards(owner.keyspace)?;
        Ok(!self
            .owner_exists(cursor, owner, &shards, row, &row.ksid, false)
            .await?)
    }

    /// Deletes an orphan lookup row safely: locks it (pre list), probes its owner row under a
    /// shared lock (normal list), and deletes it only if it still points where it did and
    /// the owner row is still absent. The caller commits the cursor. Returns whether it was
    /// deleted.
    pub async fn delete_orphan<C: Cursor>(
        &self,
        cursor: &mut C,
        row: &LookupRow,
    ) -> Result<bool, ExecError> {
        let owner = self.owner.as_ref().ok_or_else(|| {
            ExecError::Internal(format!("lookup vindex '{}' has no owner", self.name))
        })?;
        let shards = cursor.shards(&self.keyspace)?;
        let Some(&shard) = self.row_shards(&shards, row)?.first() else {
            return Ok(false);
        };
        let found = self.lock_row(cursor, shard, row).await?;
        let mut still = false;
        for r in &found.rows {
            if let Some(c) = r.first() {
                still |= self.ksid_of(&cell_value(found.columns.first(), c))? == row.ksid;
            }
        }
        if !still {
            return Ok(false);
        }
        let owner_shards = cursor.shards(owner.keyspace)?;
        if self
            .owner_exists(cursor, owner, &owner_shards, row, &row.ksid, true)
            .await?
        {
            return Ok(false);
        }
        let sql = format!(
            "DELETE FROM {} WHERE {}",
            ident(&self.table),
            self.row_condition(row, cursor.charset())?
        );
        cursor
            .execute_in(CommitOrder::Pre, &self.keyspace, shard, sql)
            .await?;
        Ok(true)
    }
}

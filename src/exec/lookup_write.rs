//! Owner DML's lookup writes: Create inserts the lookup rows of new owner rows (sorted, one
//! multi-row INSERT per lookup shard, in the list the vindex writes in), Delete removes those
//! of doomed owner rows. A consistent lookup's duplicate key goes to the reclaim algorithm
//! (`lookup_reclaim`); a plain lookup's INSERT IGNORE is checked row by row unless `no_verify`.

use super::lookup::{server_code, Lookup, LookupRow};
use super::lookup_reclaim::OnTaken;
use super::lookup_sql::ident;
use super::{CommitOrder, Cursor, ExecError};
use crate::backend::BackendError;
use crate::error::ProxyError;
use crate::metrics::LookupOp;
use crate::vindex::SqlValue;

/// MySQL's duplicate-key error.
const ER_DUP_ENTRY: u16 = 1062;

/// MySQL's "Column 'x' cannot be null".
const ER_BAD_NULL_ERROR: u16 = 1048;

impl Lookup<'_> {
    /// Create for owner rows that exist already (`ignore`: backfill, repair) or are about to
    /// be written (not `ignore`: a taken unique value fails). See [`Lookup::create_with`].
    pub async fn create<C: Cursor>(
        &self,
        cursor: &mut C,
        rows: &[LookupRow],
        ignore: bool,
    ) -> Result<Vec<bool>, ExecError> {
        let on_taken = if ignore {
            OnTaken::Existing
        } else {
            OnTaken::Fail
        };
        self.create_with(cursor, rows, on_taken).await
    }

    /// Create: inserts the lookup rows (sorted, one multi-row INSERT per lookup shard). Returns
    /// for each row whether the owner row may be inserted: false only when `on_taken` drops
    /// rows (INSERT IGNORE / ON DUPLICATE KEY UPDATE / backfill) and another owner row holds
    /// the row's unique value.
    pub(crate) async fn create_with<C: Cursor>(
        &self,
        cursor: &mut C,
        rows: &[LookupRow],
        on_taken: OnTaken<'_>,
    ) -> Result<Vec<bool>, ExecError> {
        let ignore = on_taken.drops();
        let mut kept = vec![true; rows.len()];
        let shards = cursor.shards(&self.keyspace)?;
        let mut per_shard: Vec<Vec<usize>> = vec![Vec::new(); shards.len()];
        for (i, row) in rows.iter().enumerate() {
            if !self.has_lookup_row(row) {
                continue;
            }
            let targets = self.row_shards(&shards, row)?;
            let [shard] = targets.as_slice() else {
                if let Some(col) = self.null_placement_column(row) {
                    // (The lookup table's own vindex cannot place a NULL; MariaDB's words
                    // for a NULL in a key column.)
                    return Err(ExecError::Proxy(ProxyError::Limit {
                        code: ER_BAD_NULL_ERROR,
                        state: "23000",
                        message: format!(
                            "Column '{col}' cannot be null (lookup vindex '{}' writes it to {}; set ignore_nulls to skip such rows)",
                            self.name, self.table
                        ),
                    }));
                }
                return Err(ExecError::Internal(format!(
                    "lookup vindex '{}': a lookup row maps to {} shards of {}",
                    self.name,
                    targets.len(),
                    self.keyspace
                )));
            };
            if let Some(list) = per_shard.get_mut(*shard) {
                list.push(i);
            }
        }
        let order = self.create_order();
        let mut columns: Vec<String> = self.params.from.clone();
        columns.push(self.params.to.clone());
        let column_list = columns
            .iter()
            .map(|c| ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        for (shard, mut idx) in per_shard.into_iter().enumerate() {
            if idx.is_empty() {
                continue;
            }
            // A fixed order (from values, then keyspace id) takes locks in the same order in
            // every session, which avoids deadlocks between concurrent inserts.
            idx.sort_by(|&a, &b| {
                let key = |r: &LookupRow| {
                    let mut k: Vec<Vec<u8>> = r.from.iter().map(|v| v.raw().to_vec()).collect();
                    k.push(r.ksid.clone());
                    k
                };
                key(&rows[a]).cmp(&key(&rows[b]))
            });
            let tuples: Vec<String> = idx
                .iter()
                .map(|&i| self.tuple(&rows[i], cursor.charset()))
                .collect::<Result<_, _>>()?;
            let upsert = self.params.autocommit && !self.params.kind.is_unique();
            let verb = if ignore && !self.is_consistent() {
                "INSERT IGNORE"
            } else {
                "INSERT"
            };
            let mut sql = format!(
                "{verb} INTO {} ({column_list}) VALUES {}",
                ident(&self.table),
                tuples.join(", ")
            );
            if upsert {
                let set: Vec<String> = columns
                    .iter()
                    .map(|c| format!("{0} = VALUES({0})", ident(c)))
                    .collect();
                sql.push_str(&format!(" ON DUPLICATE KEY UPDATE {}", set.join(", ")));
            }
            match cursor.execute_in(order, &self.keyspace, shard, sql).await {
                Ok(_) => cursor.note_lookup(self.name, LookupOp::Insert, idx.len() as u64),
                Err(e) if self.is_consistent() && server_code(&e) == Some(ER_DUP_ENTRY) => {
                    self.reclaim(cursor, rows, &idx, shard, on_taken, e, &mut kept)
                        .await
                        .map_err(|e| self.owner_duplicate(e))?;
                }
                Err(e) => return Err(self.owner_duplicate(e)),
            }
            if ignore && !self.is_consistent() && !self.params.no_verify {
                for &i in &idx {
                    kept[i] = self.verify(cursor, &rows[i], shard, order).await?;
                }
            }
        }
        Ok(kept)
    }

    /// A unique lookup's duplicate key as the owner table would report it if it had a unique
    /// key on the vindex's columns: `Duplicate entry 'v' for key 'phone'` (the owner's column;
    /// the vindex name for several columns), not the lookup table's `'PRIMARY'`, which names
    /// a table the client never wrote to. The entry is the lookup table's (the from values,
    /// `-`-joined as MariaDB joins a composite key's). Other errors pass unchanged.
    pub(super) fn owner_duplicate(&self, e: ExecError) -> ExecError {
        let (Some(owner), true) = (&self.owner, self.params.kind.is_unique()) else {
            return e;
        };
        let ExecError::Proxy(ProxyError::Backend(BackendError::Server {
            code: ER_DUP_ENTRY,
            state,
            message,
        })) = &e
        else {
            return e;
        };
        let Some(entry) = message
            .strip_prefix("Duplicate entry '")
            .and_then(|m| m.rfind("' for key '").map(|at| &m[..at]))
        else {
            return e;
        };
        let key = match owner.columns {
            [one] => one.as_str(),
            _ => self.name,
        };
        ExecError::Proxy(ProxyError::Backend(BackendError::Server {
            code: ER_DUP_ENTRY,
            state: state.clone(),
            message: format!("Duplicate entry '{entry}' for key '{key}'"),
        }))
    }

    /// Whether the lookup table maps the row's values to its keyspace id.
    async fn verify<C: Cursor>(
        &self,
        cursor: &mut C,
        row: &LookupRow,
        shard: usize,
        order: CommitOrder,
    ) -> Result<bool, ExecError> {
        let sql = format!(
            "SELECT 1 FROM {} WHERE {}",
            ident(&self.table),
            self.row_condition(row, cursor.charset())?
        );
        let r = cursor.execute_in(order, &self.keyspace, shard, sql).await?;
        Ok(!r.rows.is_empty())
    }

    /// Delete: removes each row's lookup row (`from… AND to = ksid`).
    pub async fn delete<C: Cursor>(
        &self,
        cursor: &mut C,
        rows: &[LookupRow],
    ) -> Result<(), ExecError> {
        if self.params.autocommit && !self.is_consistent() {
            return Ok(());
        }
        let shards = cursor.shards(&self.keyspace)?;
        let order = self.delete_order();
        for row in rows {
            if !self.has_lookup_row(row) || row.from.iter().any(SqlValue::is_null) {
                // Never created (a NULL first value, ignore_nulls), or no key to find it by.
                continue;
            }
            let sql = format!(
                "DELETE FROM {} WHERE {}",
                ident(&self.table),
                self.row_condition(row, cursor.charset())?
            );
            for shard in self.row_shards(&shards, row)? {
                let done = cursor
                    .execute_in(order, &self.keyspace, shard, sql.clone())
                    .await?;
                cursor.note_lookup(self.name, LookupOp::Delete, done.affected_rows);
            }
        }
        Ok(())
    }
}

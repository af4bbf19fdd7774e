//! The reclaim algorithm (`lookup-vindexes.md` §2.3): what a consistent lookup's Create does
//! when its batched insert hits a duplicate key. It locks the lookup row in pre, probes the
//! owner row it points to under a shared lock in normal, and either reports the duplicate
//! (an owner row holds the value, even when its keyspace id is the new row's: another row of
//! the same keyspace id), keeps the lookup row (no owner row holds the value and it already
//! points here), or takes the orphan over. What a taken value does to the new row is the
//! caller's [`OnTaken`]. The lock and the probe are also what `lookup_verify` removes orphans
//! under.

use super::lookup::{Lookup, LookupRow, Owner};
use super::lookup_sql::{cell_value, conjunction, ident, literal};
use super::resolve::destination_shards;
use super::{CommitOrder, Cursor, ExecError};
use crate::keyrange::KeyRange;
use crate::vindex::Destination;

/// What Create does with a row whose unique value an owner row already holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OnTaken<'a> {
    /// INSERT and UPDATE: fail with the duplicate-key error.
    Fail,
    /// INSERT IGNORE: drop the row from the owner insert.
    Drop,
    /// INSERT … ON DUPLICATE KEY UPDATE: keep the row when the only owner row holding the
    /// value is the one the insert collides with (MySQL then updates it); drop it otherwise.
    /// Per row, the SQL condition naming that row in the owner table by its primary key
    /// (None: not known, the row is new).
    Upsert(&'a [Option<String>]),
    /// Lookup rows of owner rows that already exist (backfill, repair): a lookup row already
    /// pointing at the row's keyspace id is its own; a value held elsewhere drops the row.
    Existing,
}

impl OnTaken<'_> {
    /// Whether a taken value drops the row instead of failing the statement.
    pub(crate) fn drops(&self) -> bool {
        !matches!(self, OnTaken::Fail)
    }
}

impl Lookup<'_> {
    /// The reclaim algorithm for the rows `idx` of one lookup shard whose batched insert hit
    /// a duplicate key (`lookup-vindexes.md` §2.3).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn reclaim<C: Cursor>(
        &self,
        cursor: &mut C,
        rows: &[LookupRow],
        idx: &[usize],
        shard: usize,
        on_taken: OnTaken<'_>,
        duplicate: ExecError,
        kept: &mut [bool],
    ) -> Result<(), ExecError> {
        // Two identical input rows are a real duplicate.
        for (n, &a) in idx.iter().enumerate() {
            if idx[n + 1..].iter().any(|&b| rows[a] == rows[b]) {
                return Err(duplicate);
            }
        }
        let owner = self.owner.as_ref().ok_or_else(|| {
            ExecError::Internal(format!(
                "consistent lookup vindex '{}' has no owner table to probe",
                self.name
            ))
        })?;
        let owner_shards = cursor.shards(owner.keyspace)?;
        // Keyspace ids this statement has already given lookup rows to: a row of this same
        // statement is not inserted yet, so the owner probe could not see it.
        let mut claimed: Vec<Vec<u8>> = Vec::new();
        let mut duplicate = Some(duplicate);
        for &i in idx {
            let row = &rows[i];
            let found = self.lock_row(cursor, shard, row).await?;
            match found.rows.as_slice() {
                [] => {
                    let sql = format!(
                        "INSERT INTO {} ({}, {}) VALUES {}",
                        ident(&self.table),
                        self.params
                            .from
                            .iter()
                            .map(|c| ident(c))
                            .collect::<Vec<_>>()
                            .join(", "),
                        ident(&self.params.to),
                        self.tuple(row, cursor.charset())?
                    );
                    cursor
                        .execute_in(CommitOrder::Pre, &self.keyspace, shard, sql)
                        .await?;
                    cursor.note_lookup(self.name, crate::metrics::LookupOp::Insert, 1);
                    claimed.push(row.ksid.clone());
                }
                [one] => {
                    let existing = one
                        .first()
                        .map(|c| cell_value(found.columns.first(), c).raw().to_vec())
                        .unwrap_or_default();
                    let own = existing == row.ksid;
                    if own && matches!(on_taken, OnTaken::Existing) {
                        // The owner row already exists: the lookup row is its own.
                        claimed.push(row.ksid.clone());
                        continue;
                    }
                    // Even when it points at this row's keyspace id, the value may be held by
                    // another owner row of that keyspace id: probe before accepting it.
                    let taken = claimed.contains(&existing)
                        || self
                            .owner_exists(cursor, owner, &owner_shards, row, &existing, true)
                            .await?;
                    if taken {
                        if let (true, OnTaken::Upsert(keys)) = (own, on_taken) {
                            let key = keys.get(i).and_then(Option::as_deref);
                            if !claimed.contains(&existing)
                                && self
                                    .held_only_by(cursor, owner, &owner_shards, row, key)
                                    .await?
                            {
                                // ON DUPLICATE KEY UPDATE will update the row holding it.
                                continue;
                            }
                        }
                        if on_taken.drops() {
                            kept[i] = false;
                            continue;
                        }
                        return Err(duplicate
                            .take()
                            .unwrap_or_else(|| ExecError::Internal("duplicate entry".into())));
                    }
                    if own {
                        // No owner row holds it and it already points here: an orphan
                        // of this keyspace id, taken over as it is.
                        cursor.note_reclaim(self.name);
                        claimed.push(row.ksid.clone());
                        continue;
                    }
                    let sql = format!(
                        "UPDATE {} SET {} = {} WHERE {}",
                        ident(&self.table),
                        ident(&self.params.to),
                        self.to_sql(&row.ksid)?,
                        self.key_condition(row, cursor.charset())
                    );
                    cursor
                        .execute_in(CommitOrder::Pre, &self.keyspace, shard, sql)
                        .await?;
                    // An orphan (no owner row holds it) taken over by this row.
                    cursor.note_lookup(self.name, crate::metrics::LookupOp::Update, 1);
                    cursor.note_reclaim(self.name);
                    claimed.push(row.ksid.clone());
                }
                more => {
                    return Err(ExecError::Internal(format!(
                        "lookup vindex '{}': {} lookup rows for one key",
                        self.name,
                        more.len()
                    )))
                }
            }
        }
        Ok(())
    }

    /// Reads (the `to` of) a row's lookup row `FOR UPDATE` in the pre list: the lock that
    /// keeps two sessions from reclaiming or deleting the same lookup row at once.
    pub(super) async fn lock_row<C: Cursor>(
        &self,
        cursor: &mut C,
        shard: usize,
        row: &LookupRow,
    ) -> Result<super::ShardResult, ExecError> {
        let sql = format!(
            "SELECT {} FROM {} WHERE {} FOR UPDATE",
            ident(&self.params.to),
            ident(&self.table),
            self.key_condition(row, cursor.charset())
        );
        cursor
            .execute_in(CommitOrder::Pre, &self.keyspace, shard, sql)
            .await
    }

    /// Whether every owner row (on the shard of the row's keyspace id) holding the row's value
    /// is the one `key` names; false when `key` is None. Read under a shared lock.
    async fn held_only_by<C: Cursor>(
        &self,
        cursor: &mut C,
        owner: &Owner<'_>,
        owner_shards: &[(String, KeyRange)],
        row: &LookupRow,
        key: Option<&str>,
    ) -> Result<bool, ExecError> {
        let Some(key) = key else {
            return Ok(false);
        };
        let Ok(targets) =
            destination_shards(&Destination::KeyspaceId(row.ksid.clone()), owner_shards)
        else {
            return Ok(false);
        };
        let cs = cursor.charset();
        let values: Vec<String> = row.from.iter().map(|v| literal(v, cs)).collect();
        let sql = format!(
            "SELECT ({key}) FROM {} WHERE {} LOCK IN SHARE MODE",
            ident(owner.table),
            conjunction(owner.columns, &values)
        );
        let mut same = false;
        for shard in targets {
            let r = cursor
                .execute_in(CommitOrder::Normal, owner.keyspace, shard, sql.clone())
                .await?;
            for cells in &r.rows {
                let cell = cells
                    .first()
                    .map(|c| cell_value(r.columns.first(), c).raw().to_vec());
                if cell.as_deref() == Some(b"1".as_slice()) {
                    same = true;
                } else {
                    return Ok(false);
                }
            }
        }
        Ok(same)
    }

    /// Whether the owner row a lookup row points to (keyspace id `ksid`) exists. `locked`:
    /// read under a shared lock on the normal connection, so it waits for a transaction still
    /// writing the row; otherwise a plain autocommit read.
    pub(super) async fn owner_exists<C: Cursor>(
        &self,
        cursor: &mut C,
        owner: &Owner<'_>,
        owner_shards: &[(String, KeyRange)],
        row: &LookupRow,
        ksid: &[u8],
        locked: bool,
    ) -> Result<bool, ExecError> {
        let targets = destination_shards(&Destination::KeyspaceId(ksid.to_vec()), owner_shards);
        let Ok(targets) = targets else {
            // A keyspace id no shard holds cannot have an owner row.
            return Ok(false);
        };
        let values: Vec<String> = row
            .from
            .iter()
            .map(|v| literal(v, cursor.charset()))
            .collect();
        let first = owner.columns.first().map(String::as_str).unwrap_or("");
        let (order, suffix) = if locked {
            (CommitOrder::Normal, " LOCK IN SHARE MODE")
        } else {
            (CommitOrder::Autocommit, "")
        };
        let sql = format!(
            "SELECT {} FROM {} WHERE {}{suffix}",
            ident(first),
            ident(owner.table),
            conjunction(owner.columns, &values)
        );
        for shard in targets {
            let r = cursor
                .execute_in(order, owner.keyspace, shard, sql.clone())
                .await?;
            if !r.rows.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

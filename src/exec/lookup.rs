//! Lookup vindexes at execution time: reading a lookup table to route (Map), and keeping it
//! in step with its owner table (Create, Delete), all through the [`Cursor`].
//!
//! The lookup table is an ordinary VSchema table: unsharded, or sharded by its own vindex on
//! one of its from columns (usually the first) or its `to` column. A lookup row
//! `(from…, to)` is placed by that vindex; a Map read goes to the shard of each value when
//! the table is sharded by the first from column, to every lookup shard otherwise.
//!
//! Transaction lists (`lookup-vindexes.md` §2.2): a `consistent_lookup*` writes lookup rows on
//! the session's **pre** connections and deletes them on its **post** connections, so commit
//! order (pre → normal → post) keeps every committed owner row's lookup row committed. A
//! plain `lookup*` writes on the normal connections (best effort across shards), or with
//! `autocommit` on connections outside the transaction (Create an upsert, Delete a no-op).
//!
//! A duplicate key on a consistent Create runs the reclaim algorithm (§2.3): lock the lookup
//! row in pre, probe the owner row it points to under a shared lock in normal, and either
//! report the duplicate (the value is really taken), keep the row (it already points here),
//! or take the orphan over.

use super::lookup_sql::{cell_value, conjunction, hex, ident, literal};
use super::resolve::destination_shards;
use super::{CommitOrder, Cursor, ExecError};
use crate::error::ProxyError;
use crate::keyrange::KeyRange;
use crate::vindex::{Destination, SqlValue, Vindex};
use crate::vschema::{LookupParams, VSchema};
use std::sync::Arc;

/// MySQL's duplicate-key error.
const ER_DUP_ENTRY: u16 = 1062;

/// One lookup row: the owner row's from-column values and its keyspace id.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LookupRow {
    /// Values of the vindex's from columns, in `from` order.
    pub from: Vec<SqlValue>,
    /// The owner row's keyspace id (from its primary vindex).
    pub ksid: Vec<u8>,
}

/// Which lookup-table column its own vindex reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyColumn {
    From(usize),
    To,
}

/// Where lookup rows live.
pub(super) enum Placement<'v> {
    /// One shard.
    Unsharded,
    /// Sharded by `vindex` on a from column or the to column.
    ByColumn(&'v Arc<dyn Vindex>, KeyColumn),
}

/// The owner table: where the reclaim probe looks for the row a lookup row points to.
pub(super) struct Owner<'v> {
    pub(super) keyspace: &'v str,
    pub(super) table: &'v str,
    /// The owner's columns for the vindex's from columns, in `from` order.
    pub(super) columns: &'v [String],
}

/// A lookup vindex ready to run.
pub(crate) struct Lookup<'v> {
    pub(super) name: &'v str,
    pub(super) params: &'v LookupParams,
    pub(super) keyspace: String,
    pub(super) table: String,
    pub(super) placement: Placement<'v>,
    pub(super) owner: Option<Owner<'v>>,
}

/// The MySQL error number of a shard error, if it is one.
pub(crate) fn server_code(e: &ExecError) -> Option<u16> {
    match e {
        ExecError::Proxy(ProxyError::Backend(crate::backend::BackendError::Server {
            code,
            ..
        })) => Some(*code),
        _ => None,
    }
}

impl<'v> Lookup<'v> {
    /// The lookup vindex `name` of keyspace `keyspace`; None when it is not a lookup vindex.
    pub fn find(
        vschema: &'v VSchema,
        keyspace: &str,
        name: &'v str,
    ) -> Result<Option<Lookup<'v>>, ExecError> {
        let ks = vschema
            .keyspace(keyspace)
            .ok_or_else(|| ExecError::Internal(format!("unknown keyspace {keyspace}")))?;
        let entry = ks
            .vindex(name)
            .ok_or_else(|| ExecError::Internal(format!("unknown vindex '{name}'")))?;
        let Some(params) = entry.lookup() else {
            return Ok(None);
        };
        if params.kind.stores_hashed_id() {
            return Err(ExecError::NotSupported(format!(
                "lookup vindex '{name}' of type {} (a hashed-id lookup) is not supported; use lookup, lookup_unique, consistent_lookup or consistent_lookup_unique",
                params.kind.type_name()
            )));
        }
        let table_keyspace = match &params.table.keyspace {
            Some(k) => k.clone(),
            None => match vschema.find_table(&params.table.table) {
                Ok((k, _)) => k.name.clone(),
                Err(_) => keyspace.to_string(),
            },
        };
        let lks = vschema.keyspace(&table_keyspace).ok_or_else(|| {
            ExecError::Internal(format!(
                "lookup vindex '{name}': keyspace {table_keyspace} of table {} does not exist",
                params.table
            ))
        })?;
        let placement = if !lks.sharded {
            Placement::Unsharded
        } else {
            let table = lks.table(&params.table.table).ok_or_else(|| {
                ExecError::Internal(format!(
                    "lookup vindex '{name}': table {} is not in the VSchema of sharded keyspace {table_keyspace}",
                    params.table.table
                ))
            })?;
            let (cv, v) = lks.primary_vindex(table).ok_or_else(|| {
                ExecError::Internal(format!(
                    "lookup table {table_keyspace}.{} has no primary vindex",
                    table.name
                ))
            })?;
            let vindex = v.functional().ok_or_else(|| {
                ExecError::NotSupported(format!(
                    "lookup table {table_keyspace}.{} sharded by a lookup vindex",
                    table.name
                ))
            })?;
            let col = cv
                .columns
                .first()
                .map(|c| c.to_lowercase())
                .unwrap_or_default();
            let key = if let Some(i) = params.from.iter().position(|f| f.to_lowercase() == col) {
                KeyColumn::From(i)
            } else if params.to.to_lowercase() == col {
                KeyColumn::To
            } else {
                return Err(ExecError::NotSupported(format!(
                    "lookup table {table_keyspace}.{} is sharded by column '{col}', which is neither a from column nor the to column of vindex '{name}'",
                    table.name
                )));
            };
            Placement::ByColumn(vindex, key)
        };
        let owner = entry.owner.as_deref().and_then(|t| {
            let table = ks.table(t)?;
            let cv = table.column_vindexes.iter().find(|cv| cv.vindex == name)?;
            Some(Owner {
                keyspace: ks.name.as_str(),
                table: table.name.as_str(),
                columns: cv.columns.as_slice(),
            })
        });
        Ok(Some(Lookup {
            name,
            params,
            keyspace: table_keyspace,
            table: params.table.table.clone(),
            placement,
            owner,
        }))
    }

    /// Whether each value maps to at most one keyspace id.
    pub fn is_unique(&self) -> bool {
        self.params.kind.is_unique()
    }

    /// Whether this is a consistent lookup (pre/post transaction lists).
    pub fn is_consistent(&self) -> bool {
        self.params.kind.is_consistent()
    }

    /// The list lookup rows are created in.
    fn create_order(&self) -> CommitOrder {
        if self.is_consistent() {
            CommitOrder::Pre
        } else if self.params.autocommit {
            CommitOrder::Autocommit
        } else {
            CommitOrder::Normal
        }
    }

    /// The list lookup rows are deleted in.
    fn delete_order(&self) -> CommitOrder {
        if self.is_consistent() {
            CommitOrder::Post
        } else {
            CommitOrder::Normal
        }
    }

    /// The list a Map read for a statement of this kind runs in: pre for SELECT and INSERT,
    /// post for UPDATE and DELETE (the list that later deletes the same lookup rows, so it
    /// does not wait on its own locks); normal for plain lookups.
    pub fn map_order(&self, dml: bool) -> CommitOrder {
        match (self.is_consistent(), dml) {
            (false, _) => CommitOrder::Normal,
            (true, false) => CommitOrder::Pre,
            (true, true) => CommitOrder::Post,
        }
    }

    /// The shards holding lookup rows whose key column has `value` (all of them when the
    /// table's vindex cannot map it).
    fn shards_for_value(
        &self,
        shards: &[(String, KeyRange)],
        vindex: &Arc<dyn Vindex>,
        value: &SqlValue,
    ) -> Result<Vec<usize>, ExecError> {
        let value = super::resolve::integer_like(value.clone());
        match vindex.map(std::slice::from_ref(&value)) {
            Ok(d) => match d.first() {
                Some(Destination::None) | None => Ok((0..shards.len()).collect()),
                Some(dest) => destination_shards(dest, shards),
            },
            Err(_) => Ok((0..shards.len()).collect()),
        }
    }

    /// The shards of one lookup row.
    pub(super) fn row_shards(
        &self,
        shards: &[(String, KeyRange)],
        row: &LookupRow,
    ) -> Result<Vec<usize>, ExecError> {
        match &self.placement {
            Placement::Unsharded => Ok(vec![0]),
            Placement::ByColumn(vindex, KeyColumn::From(i)) => {
                let v = row.from.get(*i).cloned().unwrap_or_else(SqlValue::null);
                self.shards_for_value(shards, vindex, &v)
            }
            Placement::ByColumn(vindex, KeyColumn::To) => {
                self.shards_for_value(shards, vindex, &SqlValue::varbinary(row.ksid.clone()))
            }
        }
    }

    /// Map: the destination of each value (in input order), read from the lookup table.
    /// `lock` adds the vindex's read lock (for reads inside DML).
    pub async fn map<C: Cursor>(
        &self,
        cursor: &mut C,
        values: &[SqlValue],
        order: CommitOrder,
        lock: bool,
    ) -> Result<Vec<Destination>, ExecError> {
        if self.params.write_only {
            return Ok(values
                .iter()
                .map(|_| Destination::KeyRange(KeyRange::full()))
                .collect());
        }
        let shards = cursor.shards(&self.keyspace)?;
        // Values per lookup shard (indexes into `values`); NULL matches nothing.
        let mut per_shard: Vec<Vec<usize>> = vec![Vec::new(); shards.len()];
        for (i, v) in values.iter().enumerate() {
            if v.is_null() {
                continue;
            }
            let targets = match &self.placement {
                Placement::ByColumn(vindex, KeyColumn::From(0)) => {
                    self.shards_for_value(&shards, vindex, v)?
                }
                Placement::Unsharded => vec![0],
                Placement::ByColumn(..) => (0..shards.len()).collect(),
            };
            for s in targets {
                if let Some(list) = per_shard.get_mut(s) {
                    list.push(i);
                }
            }
        }
        let from0 = self.params.from.first().map(String::as_str).unwrap_or("");
        let suffix = if lock {
            self.params.read_lock.sql_suffix()
        } else {
            ""
        };
        let mut found: Vec<Vec<Vec<u8>>> = vec![Vec::new(); values.len()];
        let mut unattributed: Vec<Vec<u8>> = Vec::new();
        for (shard, idx) in per_shard.iter().enumerate() {
            if idx.is_empty() {
                continue;
            }
            let list: Vec<String> = idx.iter().map(|&i| literal(&values[i])).collect();
            let from = ident(from0);
            let sql = format!(
                "SELECT {from}, {} FROM {} WHERE {from} IN ({}){suffix}",
                ident(&self.params.to),
                ident(&self.table),
                list.join(", ")
            );
            let result = cursor.execute_in(order, &self.keyspace, shard, sql).await?;
            for row in &result.rows {
                let (Some(key), Some(to)) = (row.first(), row.get(1)) else {
                    continue;
                };
                let key = cell_value(result.columns.first(), key);
                let ksid = cell_value(result.columns.get(1), to).raw().to_vec();
                // Rows are matched back to their value by exact bytes; one the shard's
                // collation matched differently (`'A'` for `'a'`) goes to every value.
                let exact = idx
                    .iter()
                    .copied()
                    .filter(|&i| same_value(&values[i], &key))
                    .collect::<Vec<_>>();
                if exact.is_empty() {
                    unattributed.push(ksid);
                } else {
                    for i in exact {
                        if !found[i].contains(&ksid) {
                            found[i].push(ksid.clone());
                        }
                    }
                }
            }
        }
        let unique = self.params.kind.is_unique();
        let mut out = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            if v.is_null() {
                out.push(Destination::None);
                continue;
            }
            let mut ksids = std::mem::take(&mut found[i]);
            for k in &unattributed {
                if !ksids.contains(k) {
                    ksids.push(k.clone());
                }
            }
            out.push(match ksids.len() {
                0 => Destination::None,
                1 if unique || unattributed.is_empty() => Destination::KeyspaceId(ksids.remove(0)),
                _ if unique && unattributed.is_empty() => {
                    return Err(ExecError::Internal(format!(
                        "lookup vindex '{}': unexpected multiple results for {}",
                        self.name,
                        literal(v)
                    )))
                }
                _ => Destination::KeyspaceIds(ksids),
            });
        }
        Ok(out)
    }

    /// Create: inserts the lookup rows (sorted, one multi-row INSERT per lookup shard). Returns
    /// for each row whether the owner row may be inserted: false only with `ignore` (INSERT
    /// IGNORE / ON DUPLICATE KEY UPDATE) for a unique value another owner row holds.
    pub async fn create<C: Cursor>(
        &self,
        cursor: &mut C,
        rows: &[LookupRow],
        ignore: bool,
    ) -> Result<Vec<bool>, ExecError> {
        let mut kept = vec![true; rows.len()];
        let shards = cursor.shards(&self.keyspace)?;
        let mut per_shard: Vec<Vec<usize>> = vec![Vec::new(); shards.len()];
        for (i, row) in rows.iter().enumerate() {
            if self.params.ignore_nulls && row.from.iter().any(SqlValue::is_null) {
                continue;
            }
            let targets = self.row_shards(&shards, row)?;
            let [shard] = targets.as_slice() else {
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
            let tuples: Vec<String> = idx.iter().map(|&i| self.tuple(&rows[i])).collect();
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
                Ok(_) => {}
                Err(e) if self.is_consistent() && server_code(&e) == Some(ER_DUP_ENTRY) => {
                    self.reclaim(cursor, rows, &idx, shard, ignore, e, &mut kept)
                        .await?;
                }
                Err(e) => return Err(e),
            }
            if ignore && !self.is_consistent() && !self.params.no_verify {
                for &i in &idx {
                    kept[i] = self.verify(cursor, &rows[i], shard, order).await?;
                }
            }
        }
        Ok(kept)
    }

    /// `(from…, to)` as SQL.
    pub(super) fn tuple(&self, row: &LookupRow) -> String {
        let mut items: Vec<String> = row.from.iter().map(literal).collect();
        items.push(hex(&row.ksid));
        format!("({})", items.join(", "))
    }

    /// `from0 = … AND … AND to = X'…'`: exactly this lookup row.
    pub(super) fn row_condition(&self, row: &LookupRow) -> String {
        format!(
            "{} AND {} = {}",
            self.key_condition(row),
            ident(&self.params.to),
            hex(&row.ksid)
        )
    }

    /// `from0 = … AND … AND fromN = …` for one row.
    pub(super) fn key_condition(&self, row: &LookupRow) -> String {
        let values: Vec<String> = row.from.iter().map(literal).collect();
        conjunction(&self.params.from, &values)
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
            self.row_condition(row)
        );
        let r = cursor.execute_in(order, &self.keyspace, shard, sql).await?;
        Ok(!r.rows.is_empty())
    }

    /// The reclaim algorithm for the rows `idx` of one lookup shard whose batched insert hit
    /// a duplicate key (`lookup-vindexes.md` §2.3).
    #[allow(clippy::too_many_arguments)]
    async fn reclaim<C: Cursor>(
        &self,
        cursor: &mut C,
        rows: &[LookupRow],
        idx: &[usize],
        shard: usize,
        ignore: bool,
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
                        self.tuple(row)
                    );
                    cursor
                        .execute_in(CommitOrder::Pre, &self.keyspace, shard, sql)
                        .await?;
                    claimed.push(row.ksid.clone());
                }
                [one] => {
                    let existing = one
                        .first()
                        .map(|c| cell_value(found.columns.first(), c).raw().to_vec())
                        .unwrap_or_default();
                    if existing == row.ksid {
                        // Already points at this row's keyspace id.
                        claimed.push(row.ksid.clone());
                        continue;
                    }
                    let taken = claimed.contains(&existing)
                        || self
                            .owner_exists(cursor, owner, &owner_shards, row, &existing, true)
                            .await?;
                    if taken {
                        if ignore {
                            kept[i] = false;
                            continue;
                        }
                        return Err(duplicate
                            .take()
                            .unwrap_or_else(|| ExecError::Internal("duplicate entry".into())));
                    }
                    let sql = format!(
                        "UPDATE {} SET {} = {} WHERE {}",
                        ident(&self.table),
                        ident(&self.params.to),
                        hex(&row.ksid),
                        self.key_condition(row)
                    );
                    cursor
                        .execute_in(CommitOrder::Pre, &self.keyspace, shard, sql)
                        .await?;
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
            self.key_condition(row)
        );
        cursor
            .execute_in(CommitOrder::Pre, &self.keyspace, shard, sql)
            .await
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
        let values: Vec<String> = row.from.iter().map(literal).collect();
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
            if row.from.iter().any(SqlValue::is_null) {
                // Never created (ignore_nulls), or no key to find it by.
                continue;
            }
            let sql = format!(
                "DELETE FROM {} WHERE {}",
                ident(&self.table),
                self.row_condition(row)
            );
            for shard in self.row_shards(&shards, row)? {
                cursor
                    .execute_in(order, &self.keyspace, shard, sql.clone())
                    .await?;
            }
        }
        Ok(())
    }
}

/// Whether a lookup-table cell holds exactly the queried value (integers compared as
/// numbers, everything else as bytes).
pub(super) fn same_value(query: &SqlValue, cell: &SqlValue) -> bool {
    let q = super::resolve::integer_like(query.clone());
    if q.ty().is_integral() {
        return std::str::from_utf8(cell.raw())
            .ok()
            .and_then(|t| t.trim().parse::<i128>().ok())
            .zip(
                std::str::from_utf8(q.raw())
                    .ok()
                    .and_then(|t| t.parse::<i128>().ok()),
            )
            .is_some_and(|(a, b)| a == b);
    }
    q.raw() == cell.raw()
}

/// Resolves a route to its shards, reading the lookup table first when the route's vindex
/// is a lookup (`VindexLookup`); `dml` says the statement is an UPDATE or DELETE (its
/// lookup read runs in the post list, with the vindex's read lock).
pub async fn resolve_route<C: Cursor>(
    cursor: &mut C,
    route: &crate::planner::Route,
    params: &[mysql_async::Value],
    vschema: &VSchema,
    shards: &[(String, KeyRange)],
    dml: bool,
) -> Result<Vec<super::resolve::ShardTarget>, ExecError> {
    use crate::planner::RouteOpcode;
    let lookup = match (&route.opcode, route.vindex.as_deref()) {
        (RouteOpcode::EqualUnique | RouteOpcode::Equal | RouteOpcode::In, Some(name)) => {
            Lookup::find(vschema, &route.keyspace, name)?
        }
        _ => None,
    };
    let Some(lookup) = lookup else {
        return super::resolve::resolve(route, params, vschema, shards);
    };
    let values = super::resolve::route_values(route, params)?;
    let order = lookup.map_order(dml);
    let dests = lookup.map(cursor, &values, order, dml).await?;
    super::resolve::targets_for(&dests, shards)
}

/// Whether the route's vindex is a lookup vindex of its keyspace.
pub(crate) fn is_lookup_route(route: &crate::planner::Route, vschema: &VSchema) -> bool {
    route
        .vindex
        .as_deref()
        .and_then(|v| vschema.keyspace(&route.keyspace)?.vindex(v))
        .is_some_and(|v| v.is_lookup())
}

/// Lookup rows `(from…, to)` of a result whose first `from_count` columns are the from
/// columns and the next one the keyspace id.
pub(super) fn rows_of(result: &super::ShardResult, from_count: usize) -> Vec<LookupRow> {
    let cell = |row: &[mysql_async::Value], k: usize| {
        row.get(k)
            .map(|c| cell_value(result.columns.get(k), c))
            .unwrap_or_else(SqlValue::null)
    };
    result
        .rows
        .iter()
        .map(|r| LookupRow {
            from: (0..from_count).map(|k| cell(r, k)).collect(),
            ksid: cell(r, from_count).raw().to_vec(),
        })
        .collect()
}

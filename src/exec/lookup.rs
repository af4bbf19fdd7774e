//! Lookup vindexes at execution time: a [`Lookup`] is a lookup vindex resolved against the
//! VSchema (its table, where its rows live, its owner table, the transaction lists it uses),
//! the one type the operations on it share. They all run through the
//! [`Cursor`](super::Cursor): reading a lookup table to route (Map, `lookup_route`), keeping
//! it in step with its owner table (Create and Delete, `lookup_write`, with the reclaim
//! algorithm on a duplicate key, `lookup_reclaim`), and maintenance outside client DML
//! (`lookup_verify`).
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

use super::lookup_sql::{cell_value, conjunction, hex, ident, literal};
use super::resolve::destination_shards;
use super::{CommitOrder, ExecError};
use crate::error::ProxyError;
use crate::keyrange::KeyRange;
use crate::sql::Charset;
use crate::vindex::{Destination, SqlValue, Vindex};
use crate::vschema::{LookupKind, LookupParams, VSchema};
use std::sync::Arc;

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
    /// The from column at this index (of `from`).
    From(usize),
    /// The `to` column (the keyspace id).
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
    /// The owner table's keyspace.
    pub(super) keyspace: &'v str,
    /// The owner table.
    pub(super) table: &'v str,
    /// The owner's columns for the vindex's from columns, in `from` order.
    pub(super) columns: &'v [String],
}

/// A lookup vindex ready to run.
pub(crate) struct Lookup<'v> {
    /// The vindex's name.
    pub(super) name: &'v str,
    /// Its VSchema params (`table`, `from`, `to`, flags).
    pub(super) params: &'v LookupParams,
    /// Keyspace of the lookup table.
    pub(super) keyspace: String,
    /// The lookup table.
    pub(super) table: String,
    /// Where the lookup table's rows live.
    pub(super) placement: Placement<'v>,
    /// The owner table, when the vindex has one (the reclaim probe needs it).
    pub(super) owner: Option<Owner<'v>>,
}

/// Whether the executor runs lookups of this kind: all but the
/// `lookup_unicodeloosemd5_hash*` kinds, whose from values are hashed too.
pub(crate) fn runs(kind: LookupKind) -> bool {
    !kind.hashes_from()
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
        if !runs(params.kind) {
            return Err(ExecError::NotSupported(format!(
                "lookup vindex '{name}' of type {} (its from values are hashed) is not supported; use lookup, lookup_unique, lookup_hash, lookup_hash_unique, consistent_lookup or consistent_lookup_unique",
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
    pub(super) fn create_order(&self) -> CommitOrder {
        if self.is_consistent() {
            CommitOrder::Pre
        } else if self.params.autocommit {
            CommitOrder::Autocommit
        } else {
            CommitOrder::Normal
        }
    }

    /// The list lookup rows are deleted in.
    pub(super) fn delete_order(&self) -> CommitOrder {
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
    pub(super) fn shards_for_value(
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
                let to = match self.params.kind.stores_hashed_id() {
                    true => SqlValue::uint64(self.hashed_id(&row.ksid)?),
                    false => SqlValue::varbinary(row.ksid.clone()),
                };
                self.shards_for_value(shards, vindex, &to)
            }
        }
    }

    /// The number a `lookup_hash*` stores in `to` for keyspace id `ksid`: the one `hash`
    /// maps to it (Vitess's `vunhash`; a keyspace id of another length than 8 has none).
    fn hashed_id(&self, ksid: &[u8]) -> Result<u64, ExecError> {
        crate::vindex::hash::vunhash(ksid).map_err(|e| {
            ExecError::NotSupported(format!(
                "lookup vindex '{}' of type {} stores a keyspace id as the number hash maps to it; {e}",
                self.name,
                self.params.kind.type_name()
            ))
        })
    }

    /// The `to` value of keyspace id `ksid` as SQL: a hex literal, or for `lookup_hash*` the
    /// number `hash` maps to it.
    pub(super) fn to_sql(&self, ksid: &[u8]) -> Result<String, ExecError> {
        Ok(match self.params.kind.stores_hashed_id() {
            true => self.hashed_id(ksid)?.to_string(),
            false => hex(ksid),
        })
    }

    /// The keyspace id a `to` cell read from the lookup table stands for: its bytes, or for
    /// `lookup_hash*` the keyspace id `hash` gives its number.
    pub(super) fn ksid_of(&self, to: &SqlValue) -> Result<Vec<u8>, ExecError> {
        if !self.params.kind.stores_hashed_id() {
            return Ok(to.raw().to_vec());
        }
        let n = std::str::from_utf8(to.raw())
            .ok()
            .and_then(|t| t.trim().parse::<u64>().ok())
            .ok_or_else(|| {
                ExecError::Internal(format!(
                    "lookup vindex '{}': {} holds '{}', not a number",
                    self.name,
                    self.params.to,
                    String::from_utf8_lossy(to.raw())
                ))
            })?;
        Ok(crate::vindex::hash::vhash(n).to_vec())
    }

    /// Whether owner row `row` has a lookup row at all: not when its first (routing) from
    /// value is NULL (Map never finds NULL: `from0 IN (NULL)` matches nothing, so such a row
    /// could only mislead; the owner row stays reachable by its primary vindex or a scatter,
    /// and several owner rows may hold NULL as a UNIQUE column's NULLs may), nor with
    /// `ignore_nulls` when any from value is NULL.
    pub(super) fn has_lookup_row(&self, row: &LookupRow) -> bool {
        let first_null = row.from.first().is_some_and(SqlValue::is_null);
        !(first_null || self.params.ignore_nulls && row.from.iter().any(SqlValue::is_null))
    }

    /// The from column the lookup table is sharded by, when `row` holds NULL there (its
    /// vindex cannot place the lookup row).
    pub(super) fn null_placement_column(&self, row: &LookupRow) -> Option<&str> {
        match &self.placement {
            Placement::ByColumn(_, KeyColumn::From(i)) => row
                .from
                .get(*i)
                .filter(|v| v.is_null())
                .and_then(|_| self.params.from.get(*i))
                .map(String::as_str),
            _ => None,
        }
    }

    /// `(from…, to)` as SQL.
    pub(super) fn tuple(&self, row: &LookupRow, cs: Charset) -> Result<String, ExecError> {
        let mut items: Vec<String> = row.from.iter().map(|v| literal(v, cs)).collect();
        items.push(self.to_sql(&row.ksid)?);
        Ok(format!("({})", items.join(", ")))
    }

    /// `from0 = … AND … AND to = X'…'`: exactly this lookup row.
    pub(super) fn row_condition(&self, row: &LookupRow, cs: Charset) -> Result<String, ExecError> {
        Ok(format!(
            "{} AND {} = {}",
            self.key_condition(row, cs),
            ident(&self.params.to),
            self.to_sql(&row.ksid)?
        ))
    }

    /// `from0 = … AND … AND fromN = …` for one row.
    pub(super) fn key_condition(&self, row: &LookupRow, cs: Charset) -> String {
        let values: Vec<String> = row.from.iter().map(|v| literal(v, cs)).collect();
        conjunction(&self.params.from, &values)
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

impl Lookup<'_> {
    /// Lookup rows `(from…, to)` of a result whose first `from_count` columns are the from
    /// columns and the next one the `to` column.
    pub(super) fn rows_of(
        &self,
        result: &super::ShardResult,
        from_count: usize,
    ) -> Result<Vec<LookupRow>, ExecError> {
        let cell = |row: &[mysql_async::Value], k: usize| {
            row.get(k)
                .map(|c| cell_value(result.columns.get(k), c))
                .unwrap_or_else(SqlValue::null)
        };
        result
            .rows
            .iter()
            .map(|r| {
                Ok(LookupRow {
                    from: (0..from_count).map(|k| cell(r, k)).collect(),
                    ksid: self.ksid_of(&cell(r, from_count))?,
                })
            })
            .collect()
    }
}

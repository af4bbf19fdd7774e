//! Column facts: the type and collation of every column of the sharded keyspaces' tables, as
//! the shards report them, so the planner can tell (without I/O) whether a string vindex agrees
//! with its column's collation (see [`crate::vindex::collation_compat`]).
//!
//! Choices:
//! * **Source.** `information_schema.COLUMNS` (table, column, `DATA_TYPE`, `COLLATION_NAME`) of
//!   the shard database of one shard (the first reachable, in configured order) of each sharded
//!   keyspace ([`load`]); every table of that database is recorded, so lookup tables created
//!   later by a workflow are known after the next read. Shards of a keyspace are assumed to hold
//!   the same schema (the proxy forwards DDL to all of them).
//! * **When.** At `serve` start (up to 5 s before accepting clients), and again after every
//!   DDL statement the proxy forwards and every workflow statement that creates tables or
//!   changes the VSchema (the statement's answer waits up to 2 s for it). The snapshot lives inside the [`VSchema`]
//!   ([`VSchema::with_column_facts`]): it is immutable, swapped atomically with the VSchema
//!   under the VSchema-editing lock, and a new snapshot is a new VSchema generation, so cached
//!   plans made with old facts are not reused. VSchema edits keep the current facts.
//! * **Unknown.** A keyspace not read yet, whose read failed, or a column the shard does not
//!   have: string vindexes are then inexact unless the VSchema types the column as an integer;
//!   integer-only vindexes (`hash`, ...) are always exact, so integer-keyed tables route as
//!   before.
//! * **Effect.** The planner does not route reads or UPDATE/DELETE by an inexact vindex
//!   (the statement scatters, like a `write_only` lookup); a lookup vindex whose lookup table is
//!   sharded by an inexact vindex on its from column reads the lookup table on every lookup
//!   shard; INSERT placement is unchanged. [`mismatches`] lists each case for `shardgate check
//!   --connect` and the start-up warning, including that a unique lookup cannot enforce
//!   uniqueness across lookup shards then.

mod load;
mod mismatch;

pub use load::{load, refresh};
pub use mismatch::{mismatches, Mismatch};

use crate::vindex::collation_compat::{exactness, ColumnType, Exactness};
use crate::vschema::{TableSchema, VSchema};
use std::collections::{BTreeSet, HashMap};

/// An immutable snapshot of column types and collations, by keyspace, table and column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnFacts {
    /// `(keyspace, table)` → lower-cased column name → its type.
    tables: HashMap<(String, String), HashMap<String, ColumnType>>,
    /// Keyspaces whose read succeeded.
    read: BTreeSet<String>,
}

impl ColumnFacts {
    /// Records that `keyspace` was read (even if it has no tables).
    pub fn mark_read(&mut self, keyspace: &str) {
        self.read.insert(keyspace.to_string());
    }

    /// Records one column.
    pub fn insert(&mut self, keyspace: &str, table: &str, column: &str, ty: ColumnType) {
        self.tables
            .entry((keyspace.to_string(), table.to_string()))
            .or_default()
            .insert(column.to_lowercase(), ty);
    }

    /// Whether `keyspace` was read successfully.
    pub fn was_read(&self, keyspace: &str) -> bool {
        self.read.contains(keyspace)
    }

    /// What the shard said about `keyspace.table.column`, if known.
    pub fn column(&self, keyspace: &str, table: &str, column: &str) -> Option<&ColumnType> {
        self.tables
            .get(&(keyspace.to_string(), table.to_string()))
            .and_then(|cols| cols.get(&column.to_lowercase()))
    }

    /// Whether a vindex of type `vindex_type` on `column` of `table` is exact for that
    /// column's collation.
    pub fn exactness(&self, table: &TableSchema, column: &str, vindex_type: &str) -> Exactness {
        let known = self.column(&table.keyspace, &table.name, column);
        let vschema_type = table.column(column).and_then(|c| c.sql_type);
        exactness(vindex_type, known, vschema_type)
    }

    /// Whether the lookup table of a lookup vindex can be read on one shard per value: it is
    /// sharded by a functional vindex on its first from column that is exact for that column.
    /// True for unsharded lookup tables and for tables this VSchema does not describe (the
    /// executor reads those as it always did); false when the placement vindex is inexact.
    pub fn lookup_placement_exact(
        &self,
        vschema: &VSchema,
        lookup: &crate::vschema::LookupParams,
        owner_keyspace: &str,
    ) -> bool {
        match lookup_placement(vschema, lookup, owner_keyspace) {
            Some((table, column, vindex_type)) => {
                self.exactness(table, &column, vindex_type).is_exact()
            }
            None => true,
        }
    }
}

impl ColumnFacts {
    /// Whether a lookup vindex finds every owner row `owner_column = v` matches: its lookup
    /// table's first from column must compare at least as loosely as the owner column. Inexact
    /// when both are known and the owner column is a string whose collation the lookup column
    /// does not share (`utf8mb4_general_ci` owner, `utf8mb4_bin` lookup column: `'A'` finds no
    /// lookup row of `'a'`). Unknown columns keep routing (the lookup tables are the proxy's own,
    /// created with the owner's collation).
    pub fn lookup_owner_exactness(
        &self,
        vschema: &VSchema,
        owner: &TableSchema,
        owner_column: &str,
        lookup: &crate::vschema::LookupParams,
    ) -> Exactness {
        let Some(owner_ty) = self.column(&owner.keyspace, &owner.name, owner_column) else {
            return Exactness::Exact;
        };
        let Some(owner_collation) = &owner_ty.collation else {
            return Exactness::Exact;
        };
        let Some((keyspace, table)) = lookup_table_name(vschema, lookup, &owner.keyspace) else {
            return Exactness::Exact;
        };
        let Some(from) = lookup.from.first() else {
            return Exactness::Exact;
        };
        let Some(lookup_ty) = self.column(&keyspace, &table, from) else {
            return Exactness::Exact;
        };
        if lookup_ty.collation.as_ref() == Some(owner_collation) {
            return Exactness::Exact;
        }
        Exactness::Inexact(format!(
            "its lookup table column {keyspace}.{table}.{} is {} {}, not the owner column's collation {owner_collation}, so values the owner calls equal can miss their lookup rows",
            from.to_lowercase(),
            lookup_ty.data_type,
            lookup_ty.collation.as_deref().unwrap_or("binary")
        ))
    }
}

/// The keyspace and name of the lookup table of `lookup` (owner keyspace `owner_keyspace`).
fn lookup_table_name(
    vschema: &VSchema,
    lookup: &crate::vschema::LookupParams,
    owner_keyspace: &str,
) -> Option<(String, String)> {
    let keyspace = match &lookup.table.keyspace {
        Some(ks) => ks.clone(),
        None => match vschema.find_table(&lookup.table.table) {
            Ok((k, _)) => k.name.clone(),
            Err(_) => owner_keyspace.to_string(),
        },
    };
    Some((keyspace, lookup.table.table.clone()))
}

/// The lookup table of `lookup` when it is sharded by a functional vindex on its first from
/// column: the table, that column and the vindex type.
pub(crate) fn lookup_placement<'v>(
    vschema: &'v VSchema,
    lookup: &crate::vschema::LookupParams,
    owner_keyspace: &str,
) -> Option<(&'v TableSchema, String, &'v str)> {
    let table = match &lookup.table.keyspace {
        Some(ks) => vschema.table(ks, &lookup.table.table)?,
        None => match vschema.find_table(&lookup.table.table) {
            Ok((_, t)) => t,
            Err(_) => vschema.table(owner_keyspace, &lookup.table.table)?,
        },
    };
    let ks = vschema.keyspace(&table.keyspace)?;
    if !ks.sharded {
        return None;
    }
    let (cv, v) = ks.primary_vindex(table)?;
    v.functional()?;
    let first = lookup.from.first()?.to_lowercase();
    let col = cv.columns.first()?.to_lowercase();
    (col == first).then_some((table, col, v.type_name.as_str()))
}

impl ColumnFacts {
    /// The class of `table.column` as the shards report it, else as the VSchema types it.
    pub fn column_class(
        &self,
        table: &TableSchema,
        column: &str,
    ) -> Option<crate::vindex::coerce::ColumnClass> {
        use crate::vindex::coerce::ColumnClass;
        match self.column(&table.keyspace, &table.name, column) {
            Some(ty) => Some(ColumnClass::from_data_type(&ty.data_type)),
            None => table
                .column(column)
                .and_then(|c| c.sql_type)
                .map(ColumnClass::from_sql_type),
        }
    }

    /// How values meet `column` of `table` when vindex `vindex` (of the table's keyspace)
    /// maps them (see [`crate::vindex::coerce`]). For a lookup vindex the vindex that places
    /// its lookup table decides whether values are read as integers.
    pub fn coercion(
        &self,
        vschema: &VSchema,
        table: &TableSchema,
        column: &str,
        vindex: &crate::vschema::VindexEntry,
    ) -> crate::vindex::coerce::Coercion {
        use crate::vindex::coerce::{is_integer_vindex, Coercion};
        let integer_vindex = match vindex.lookup() {
            Some(lookup) => lookup_placement(vschema, lookup, &table.keyspace)
                .is_some_and(|(_, _, ty)| is_integer_vindex(ty)),
            None => is_integer_vindex(&vindex.type_name),
        };
        Coercion {
            column: self.column_class(table, column),
            integer_vindex,
        }
    }
}

//! One keyspace's validated VSchema: vindexes built, tables checked, ready for the planner.
//!
//! Built from [`KeyspaceJson`] by [`KeyspaceSchema::parse`] / [`KeyspaceSchema::from_value`].
//! Rules checked while building (in `validate`; vindexes.md §3), each failing with the keyspace, vindex or table named:
//!
//! * every vindex type is known: functional types are built with [`crate::vindex::create_vindex`] (bad params
//!   fail there), lookup types become [`VindexDef::Lookup`] with params checked by
//!   [`LookupParams::parse`]; only lookup vindexes may have an `owner`, and the owner must be a
//!   table of this keyspace that lists the vindex in its `column_vindexes`;
//! * table `type` is `""`, `sequence` or `reference`; `pinned` is hex; a sequence table lives in
//!   an unsharded keyspace or is pinned; `source` only on reference tables, as `ks.table` of
//!   another keyspace;
//! * in a sharded keyspace every table that is neither reference nor pinned has a column vindex;
//! * each column vindex names a defined vindex and sets exactly one of `column` / `columns`; the
//!   first (primary) is unique and not owned by the table; a multi-column functional vindex may
//!   only be primary; a single-column functional vindex given several `columns` routes by the
//!   first alone (Vitess's `firstColsOnly`; the model keeps only that one); an owned lookup
//!   lists as many columns as its `from`; an informational `type` must name the vindex's type;
//! * an informational table `name` (Vitess's `/debug/vschema` output) equals its key;
//! * `columns` has no duplicate names (case-insensitive) and only Vitess type names.
//!
//! Table and vindex names are **case-sensitive**, as in Vitess (table names are case-sensitive
//! on Linux MySQL too); column names are lower-cased, since MySQL compares them without case.
//! Unknown vindex params are ignored with a warning, as Vitess does outside `--strict`.
//! Cross-keyspace rules (sequences, reference sources) are checked by [`super::VSchema`].

use super::error::VSchemaError;
use super::lookup::LookupParams;
use super::model::{ForeignKeyMode, KeyspaceJson};
use super::names::QualifiedName;
use super::validate;
use crate::vindex::{SqlType, Vindex};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One keyspace's VSchema, validated.
#[derive(Debug, Clone)]
pub struct KeyspaceSchema {
    /// Keyspace name.
    pub name: String,
    /// Rows are spread over shards by vindex.
    pub sharded: bool,
    /// Tables stay out of global (unqualified) name resolution.
    pub require_explicit_routing: bool,
    /// Stored, not acted upon yet.
    pub foreign_key_mode: ForeignKeyMode,
    /// Vindexes by name.
    pub vindexes: BTreeMap<String, VindexEntry>,
    /// Tables by name (case-sensitive).
    pub tables: BTreeMap<String, TableSchema>,
    /// The JSON as loaded (`{}` for a keyspace without a file), for `SHOW VSCHEMA` and saving.
    pub raw: serde_json::Value,
    /// The vindex new tables created through the proxy are sharded by (`default_vindex`).
    pub default_vindex: Option<String>,
    /// Views recorded for a sharded keyspace (`views`), by name.
    pub views: BTreeMap<String, super::views::ViewSchema>,
}

/// A vindex of the keyspace.
#[derive(Debug, Clone)]
pub struct VindexEntry {
    /// Name in the VSchema.
    pub name: String,
    /// The `type` (`hash`, `consistent_lookup_unique`, ...).
    pub type_name: String,
    /// The params as written.
    pub params: BTreeMap<String, String>,
    /// The owner table (lookup vindexes only).
    pub owner: Option<String>,
    /// The built vindex or the lookup definition.
    pub kind: VindexDef,
    /// Routing cost (lower is preferred).
    pub cost: u32,
    /// Each value maps to at most one keyspace id.
    pub unique: bool,
    /// Params the type does not use (ignored, reported at load).
    pub unknown_params: Vec<String>,
}

/// What a vindex entry is.
#[derive(Debug, Clone)]
pub enum VindexDef {
    /// A pure function from values to keyspace ids.
    Functional(Arc<dyn Vindex>),
    /// A lookup vindex, not executable yet: its validated definition.
    Lookup(LookupParams),
}

/// What kind of table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// An ordinary table (`"type": ""`).
    Normal,
    /// A sequence table (`id, next_id, cache`).
    Sequence,
    /// A reference table, copied to every shard.
    Reference,
}

/// A table of the keyspace.
#[derive(Debug, Clone)]
pub struct TableSchema {
    /// Table name.
    pub name: String,
    /// The keyspace it belongs to.
    pub keyspace: String,
    /// Normal, sequence or reference.
    pub kind: TableKind,
    /// Column vindexes in file order; the first is the primary vindex.
    pub column_vindexes: Vec<ColumnVindex>,
    /// The auto-increment column and its sequence, resolved across keyspaces.
    pub auto_increment: Option<AutoIncrement>,
    /// Known columns.
    pub columns: Vec<ColumnDef>,
    /// `columns` lists every column.
    pub column_list_authoritative: bool,
    /// The keyspace id the table is pinned to.
    pub pinned: Option<Vec<u8>>,
    /// For a reference table: its qualified source table.
    pub source: Option<QualifiedName>,
}

/// A vindex on some columns of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnVindex {
    /// The columns, lower-cased, in vindex order.
    pub columns: Vec<String>,
    /// The vindex name (a key of [`KeyspaceSchema::vindexes`]).
    pub vindex: String,
    /// A lookup vindex whose owner is this table (its DML maintains the lookup).
    pub owned: bool,
}

/// `auto_increment` of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoIncrement {
    /// The column, lower-cased.
    pub column: String,
    /// The sequence as written (`ks.seq` or `seq`).
    pub sequence: String,
    /// The sequence's keyspace (filled in by global resolution when unqualified).
    pub sequence_keyspace: String,
    /// The sequence table.
    pub sequence_table: String,
}

/// A column from `columns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDef {
    /// Name as written.
    pub name: String,
    /// Its type, when given.
    pub sql_type: Option<SqlType>,
    /// Left out of `SELECT *`.
    pub invisible: bool,
    /// Whether NULL is allowed, when known.
    pub nullable: Option<bool>,
    /// Collation, when given.
    pub collation_name: Option<String>,
}

impl KeyspaceSchema {
    /// An unsharded keyspace with no VSchema file: no vindexes, no tables, raw `{}`.
    pub fn unsharded(name: &str) -> KeyspaceSchema {
        KeyspaceSchema {
            name: name.into(),
            sharded: false,
            require_explicit_routing: false,
            foreign_key_mode: ForeignKeyMode::Unspecified,
            vindexes: BTreeMap::new(),
            tables: BTreeMap::new(),
            raw: serde_json::Value::Object(serde_json::Map::new()),
            default_vindex: None,
            views: BTreeMap::new(),
        }
    }

    /// Parses and validates VSchema JSON text for keyspace `name`.
    pub fn parse(name: &str, text: &str) -> Result<KeyspaceSchema, VSchemaError> {
        let parse_err = |message: String| VSchemaError::Parse {
            keyspace: name.into(),
            message,
        };
        let spec = KeyspaceJson::parse(text).map_err(parse_err)?;
        let raw = serde_json::from_str(text).map_err(|e| parse_err(e.to_string()))?;
        Self::build(name, &spec, raw)
    }

    /// Validates already-parsed JSON (e.g. an altered copy of [`KeyspaceSchema::raw`]).
    pub fn from_value(name: &str, raw: serde_json::Value) -> Result<KeyspaceSchema, VSchemaError> {
        let spec =
            KeyspaceJson::from_value(raw.clone()).map_err(|message| VSchemaError::Parse {
                keyspace: name.into(),
                message,
            })?;
        Self::build(name, &spec, raw)
    }

    /// Validates a typed spec; `raw` becomes its JSON rendering.
    pub fn from_spec(name: &str, spec: &KeyspaceJson) -> Result<KeyspaceSchema, VSchemaError> {
        Self::build(name, spec, spec.to_value())
    }

    fn build(
        name: &str,
        spec: &KeyspaceJson,
        raw: serde_json::Value,
    ) -> Result<KeyspaceSchema, VSchemaError> {
        validate::build_keyspace(name, spec, raw)
    }

    /// The table called exactly `name`.
    pub fn table(&self, name: &str) -> Option<&TableSchema> {
        self.tables.get(name)
    }

    /// The view called exactly `name` (recorded for a sharded keyspace).
    pub fn view(&self, name: &str) -> Option<&super::views::ViewSchema> {
        self.views.get(name)
    }

    /// The vindex called `name`.
    pub fn vindex(&self, name: &str) -> Option<&VindexEntry> {
        self.vindexes.get(name)
    }

    /// The column vindexes of `table` with their vindexes, primary first.
    pub fn column_vindexes<'a>(
        &'a self,
        table: &'a TableSchema,
    ) -> impl Iterator<Item = (&'a ColumnVindex, &'a VindexEntry)> + 'a {
        table
            .column_vindexes
            .iter()
            .filter_map(|cv| self.vindexes.get(&cv.vindex).map(|v| (cv, v)))
    }

    /// The primary column vindex of `table` with its vindex.
    pub fn primary_vindex<'a>(
        &'a self,
        table: &'a TableSchema,
    ) -> Option<(&'a ColumnVindex, &'a VindexEntry)> {
        self.column_vindexes(table).next()
    }
}

impl VindexEntry {
    /// The functional vindex, if this is one.
    pub fn functional(&self) -> Option<&Arc<dyn Vindex>> {
        match &self.kind {
            VindexDef::Functional(v) => Some(v),
            VindexDef::Lookup(_) => None,
        }
    }

    /// The lookup definition, if this is a lookup vindex.
    pub fn lookup(&self) -> Option<&LookupParams> {
        match &self.kind {
            VindexDef::Lookup(l) => Some(l),
            VindexDef::Functional(_) => None,
        }
    }

    /// Whether this is a lookup vindex (needs a cursor).
    pub fn is_lookup(&self) -> bool {
        self.lookup().is_some()
    }

    /// Whether this is a multi-column functional vindex (`region_experimental`).
    pub fn is_multi_column(&self) -> bool {
        self.functional().is_some_and(|v| v.is_multi_column())
    }
}

impl TableSchema {
    /// The primary (first) column vindex; `None` for unsharded, reference and pinned tables.
    pub fn primary_vindex(&self) -> Option<&ColumnVindex> {
        self.column_vindexes.first()
    }

    /// Column vindexes this table owns (lookups its DML maintains).
    pub fn owned_vindexes(&self) -> impl Iterator<Item = &ColumnVindex> {
        self.column_vindexes.iter().filter(|cv| cv.owned)
    }

    /// The column called `name`, compared case-insensitively.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns
            .iter()
            .find(|c| c.name.to_lowercase() == name.to_lowercase())
    }
}

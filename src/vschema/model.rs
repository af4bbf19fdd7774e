//! The VSchema file format: serde types mirroring Vitess's `vschema.Keyspace` protojson.
//!
//! Field names are the proto names (snake_case); protojson's lowerCamelCase spellings
//! (`columnVindexes`, ...) are accepted as aliases, and `null` means "unset" for every field, as
//! in protojson. Unknown keys are **rejected** at every level (keyspace, vindex, table, column
//! vindex, auto_increment, column), like Vitess's strict mode and like our `shardgate.toml`: a
//! misspelt `colum_vindexes` would otherwise silently route a table nowhere. Errors inside a
//! vindex or table name it: `table 'user': unknown field ... at line 7 column 9`. Duplicate
//! names in `vindexes`, `tables` and `params` are errors too.
//!
//! These types only describe the file; [`super::KeyspaceSchema`] is the validated model.

use super::protojson::{
    nullable, object_list, optional_object, param_map, table_map, vindex_map, Obj,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One keyspace's VSchema file (`vschema.Keyspace`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyspaceJson {
    /// Rows are spread over shards by vindex.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub sharded: bool,
    /// Keep this keyspace's tables out of global (unqualified) name resolution.
    #[serde(
        default,
        alias = "requireExplicitRouting",
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub require_explicit_routing: bool,
    /// How foreign keys are handled (accepted and stored; shardgate does not act on it yet).
    #[serde(
        default,
        alias = "foreignKeyMode",
        skip_serializing_if = "ForeignKeyMode::is_unspecified"
    )]
    pub foreign_key_mode: ForeignKeyMode,
    /// Multi-tenant migration settings (accepted and stored only).
    #[serde(
        default,
        alias = "multiTenantSpec",
        deserialize_with = "optional_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub multi_tenant_spec: Option<MultiTenantSpecJson>,
    /// Vindex name to its definition.
    #[serde(
        default,
        deserialize_with = "vindex_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub vindexes: BTreeMap<String, VindexJson>,
    /// Table name to its definition.
    #[serde(
        default,
        deserialize_with = "table_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub tables: BTreeMap<String, TableJson>,
    /// shardgate's own key (not in Vitess): the unique functional vindex a `CREATE TABLE`
    /// through the proxy shards a new table by, on its first primary-key column (the table is
    /// then added to this file; see `server::sharded::default_vindex`). Empty: CREATE TABLE
    /// only creates the table on the shards.
    #[serde(
        default,
        alias = "defaultVindex",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub default_vindex: String,
    /// shardgate's own key (not in Vitess): view name to its SELECT, recorded by the proxy for
    /// each `CREATE VIEW` it ran on a sharded keyspace (see [`super::views`]).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub views: BTreeMap<String, String>,
}

/// `multi_tenant_spec` (`vschema.MultiTenantSpec`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiTenantSpecJson {
    /// The column holding the tenant id.
    #[serde(
        default,
        alias = "tenantIdColumnName",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub tenant_id_column_name: String,
    /// That column's type.
    #[serde(
        default,
        alias = "tenantIdColumnType",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub tenant_id_column_type: String,
}

/// One vindex definition (`vschema.Vindex`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VindexJson {
    /// The vindex type (`hash`, `consistent_lookup_unique`, ...).
    #[serde(default, rename = "type", deserialize_with = "nullable")]
    pub type_name: String,
    /// Type-specific parameters; values are always strings.
    #[serde(
        default,
        deserialize_with = "param_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub params: BTreeMap<String, String>,
    /// The table whose DML maintains this (lookup) vindex; empty when unowned.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub owner: String,
}

/// One table definition (`vschema.Table`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableJson {
    /// The table's name, as Vitess's `/debug/vschema` output repeats it (`vindexes.Table.name`):
    /// informational; when set it must equal the key of `tables` it sits under.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    /// `""` (normal), `"sequence"` or `"reference"`.
    #[serde(
        default,
        rename = "type",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub type_name: String,
    /// Column vindexes; the first is the primary vindex.
    #[serde(
        default,
        alias = "columnVindexes",
        deserialize_with = "object_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub column_vindexes: Vec<ColumnVindexJson>,
    /// A column filled from a sequence when an INSERT leaves it out or NULL.
    #[serde(
        default,
        alias = "autoIncrement",
        deserialize_with = "optional_object",
        skip_serializing_if = "Option::is_none"
    )]
    pub auto_increment: Option<AutoIncrementJson>,
    /// Known columns (all of them when `column_list_authoritative`).
    #[serde(
        default,
        deserialize_with = "object_list",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub columns: Vec<ColumnJson>,
    /// Hex keyspace id this table is pinned to (a one-shard table in a sharded keyspace).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub pinned: String,
    /// `columns` lists every column, so `SELECT *` can be expanded.
    #[serde(
        default,
        alias = "columnListAuthoritative",
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub column_list_authoritative: bool,
    /// For a reference table: the `keyspace.table` it is copied from.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub source: String,
}

/// One entry of `column_vindexes` (`vschema.ColumnVindex`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnVindexJson {
    /// The single column (legacy form).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub column: String,
    /// The vindex name, defined in the keyspace's `vindexes`.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The columns (multi-column vindexes, lookups with several `from` columns). A
    /// single-column functional vindex given several routes by the first, as in Vitess.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub columns: Vec<String>,
    /// The vindex's type, as Vitess's `/debug/vschema` output repeats it
    /// (`vindexes.ColumnVindex.type`): informational; when set it must equal the `type` of
    /// the named vindex.
    #[serde(
        default,
        rename = "type",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub type_name: String,
}

/// `auto_increment` (`vschema.AutoIncrement`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoIncrementJson {
    /// The column to fill.
    #[serde(default, deserialize_with = "nullable")]
    pub column: String,
    /// The sequence table: `ks.seq` or an unqualified, globally unique `seq`.
    #[serde(default, deserialize_with = "nullable")]
    pub sequence: String,
}

/// One entry of `columns` (`vschema.Column`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnJson {
    /// Column name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Vitess type name (`INT64`, `VARCHAR`, ...); empty when unknown.
    #[serde(
        default,
        rename = "type",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub type_name: String,
    /// Invisible column (not part of `SELECT *`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub invisible: bool,
    /// Default value expression.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub default: String,
    /// Collation name.
    #[serde(
        default,
        alias = "collationName",
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub collation_name: String,
    /// Length or precision.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub size: i32,
    /// Decimal scale.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero"
    )]
    pub scale: i32,
    /// Whether NULL is allowed, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nullable: Option<bool>,
    /// ENUM / SET members.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub values: Vec<String>,
}

/// `foreign_key_mode` (`vschema.Keyspace.ForeignKeyMode`), as a name or its enum number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForeignKeyMode {
    /// Not set (0).
    #[default]
    Unspecified,
    /// Foreign keys are refused (1).
    Disallow,
    /// The shards handle foreign keys themselves (2).
    Unmanaged,
    /// The proxy manages cascades (3).
    Managed,
}

pub(super) const FK_MODES: [(ForeignKeyMode, &str); 4] = [
    (ForeignKeyMode::Unspecified, "unspecified"),
    (ForeignKeyMode::Disallow, "disallow"),
    (ForeignKeyMode::Unmanaged, "unmanaged"),
    (ForeignKeyMode::Managed, "managed"),
];

impl ForeignKeyMode {
    /// The protojson name (`unmanaged`, ...).
    pub fn name(self) -> &'static str {
        FK_MODES
            .iter()
            .find(|(m, _)| *m == self)
            .map_or("unspecified", |(_, n)| n)
    }

    /// Whether this is the default.
    pub fn is_unspecified(&self) -> bool {
        *self == ForeignKeyMode::Unspecified
    }
}

impl KeyspaceJson {
    /// Parses VSchema JSON text; the message names the vindex or table and gives the position.
    pub fn parse(text: &str) -> Result<KeyspaceJson, String> {
        serde_json::from_str::<Obj<KeyspaceJson>>(text)
            .map(|o| o.0)
            .map_err(|e| e.to_string())
    }

    /// Converts already-parsed JSON (e.g. the raw JSON of a keyspace being altered).
    pub fn from_value(value: serde_json::Value) -> Result<KeyspaceJson, String> {
        serde_json::from_value::<Obj<KeyspaceJson>>(value)
            .map(|o| o.0)
            .map_err(|e| e.to_string())
    }

    /// Renders back to JSON, leaving out fields at their defaults.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_vitess_file_parses() {
        let text = r#"{
          "sharded": true, "require_explicit_routing": false, "foreign_key_mode": "unmanaged",
          "vindexes": {
            "hash": {"type": "hash"},
            "lk": {"type": "lookup_unique", "params": {"table": "l.t", "from": "a", "to": "k"},
                   "owner": "user"}
          },
          "tables": {
            "user": {
              "column_vindexes": [{"column": "id", "name": "hash"}, {"columns": ["a"], "name": "lk"}],
              "auto_increment": {"column": "id", "sequence": "c.user_seq"},
              "columns": [{"name": "a", "type": "VARCHAR", "nullable": true}],
              "column_list_authoritative": true
            },
            "r": {"type": "reference", "source": "c.r"},
            "p": {"pinned": "80", "type": ""}
          }
        }"#;
        let ks = KeyspaceJson::parse(text).unwrap();
        assert!(ks.sharded);
        assert_eq!(ks.foreign_key_mode, ForeignKeyMode::Unmanaged);
        assert_eq!(ks.vindexes["lk"].owner, "user");
        assert_eq!(ks.tables["user"].column_vindexes[1].columns, vec!["a"]);
        assert_eq!(ks.tables["p"].pinned, "80");
        // Round trip through the typed model.
        assert_eq!(KeyspaceJson::from_value(ks.to_value()).unwrap(), ks);
    }

    #[test]
    fn camel_case_and_nulls_are_accepted() {
        let text = r#"{"sharded": null, "requireExplicitRouting": true, "foreignKeyMode": 3,
            "vindexes": null,
            "tables": {"t": {"columnVindexes": null, "autoIncrement": null, "pinned": null}}}"#;
        let ks = KeyspaceJson::parse(text).unwrap();
        assert!(!ks.sharded && ks.require_explicit_routing);
        assert_eq!(ks.foreign_key_mode, ForeignKeyMode::Managed);
        assert!(ks.tables["t"].auto_increment.is_none());
    }

    #[test]
    fn unknown_keys_are_rejected_with_context() {
        let err = KeyspaceJson::parse(r#"{"shardd": true}"#).unwrap_err();
        assert!(err.contains("unknown field `shardd`"), "{err}");
        let err = KeyspaceJson::parse("{\"tables\": {\"user\":\n {\"colum_vindexes\": []}}}")
            .unwrap_err();
        assert!(
            err.starts_with("table 'user': unknown field `colum_vindexes`"),
            "{err}"
        );
        assert!(err.contains("line 2"), "{err}");
        let err = KeyspaceJson::parse(r#"{"vindexes": {"v": {"type": "hash", "ownr": "t"}}}"#)
            .unwrap_err();
        assert!(err.starts_with("vindex 'v': unknown field `ownr`"), "{err}");
        let err = KeyspaceJson::parse(r#"{"tables": {"t": {"column_vindexes": [{"col": "a"}]}}}"#)
            .unwrap_err();
        assert!(err.contains("unknown field `col`"), "{err}");
    }

    #[test]
    fn params_must_be_strings_and_names_unique() {
        let err = KeyspaceJson::parse(
            r#"{"vindexes": {"v": {"type": "x", "params": {"autocommit": true}}}}"#,
        )
        .unwrap_err();
        assert!(
            err.starts_with("vindex 'v': param 'autocommit': invalid type"),
            "{err}"
        );
        let err = KeyspaceJson::parse(r#"{"tables": {"t": {}, "t": {}}}"#).unwrap_err();
        assert!(err.contains("duplicate table 't'"), "{err}");
    }

    #[test]
    fn bad_foreign_key_mode() {
        let err = KeyspaceJson::parse(r#"{"foreign_key_mode": "sometimes"}"#).unwrap_err();
        assert!(
            err.contains("sometimes") && err.contains("unmanaged"),
            "{err}"
        );
        assert!(KeyspaceJson::parse(r#"{"foreign_key_mode": 9}"#).is_err());
    }
}

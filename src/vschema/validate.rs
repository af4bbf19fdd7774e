//! Building and validating one keyspace's VSchema (vindexes.md §3); see [`super::keyspace`]
//! for the rules. Every error names the keyspace and the vindex or table.

use super::error::VSchemaError;
use super::keyspace::{
    AutoIncrement, ColumnDef, ColumnVindex, KeyspaceSchema, TableKind, TableSchema, VindexDef,
    VindexEntry,
};
use super::lookup::{LookupKind, LookupParams};
use super::model::{ColumnVindexJson, KeyspaceJson, TableJson, VindexJson};
use super::names::QualifiedName;
use crate::vindex::{create_vindex, unknown_params, SqlType};
use std::collections::{BTreeMap, HashSet};

/// Builds the validated keyspace `name` from its spec; `raw` is kept as given.
pub(super) fn build_keyspace(
    name: &str,
    spec: &KeyspaceJson,
    raw: serde_json::Value,
) -> Result<KeyspaceSchema, VSchemaError> {
    let mut vindexes = BTreeMap::new();
    for (vname, v) in &spec.vindexes {
        vindexes.insert(vname.clone(), build_vindex(name, vname, v)?);
    }
    let mut tables = BTreeMap::new();
    for (tname, t) in &spec.tables {
        let table = build_table(name, spec.sharded, &vindexes, tname, t)
            .map_err(|reason| VSchemaError::table(name, tname, reason))?;
        tables.insert(tname.clone(), table);
    }
    check_owners(name, &vindexes, &tables)?;
    let default_vindex = (!spec.default_vindex.is_empty()).then(|| spec.default_vindex.clone());
    if let Some(dv) = &default_vindex {
        let err = |reason: String| VSchemaError::keyspace_err(name, reason);
        if !spec.sharded {
            return Err(err(format!(
                "default_vindex '{dv}' is set, but the keyspace is not sharded"
            )));
        }
        match vindexes.get(dv) {
            None => {
                return Err(err(format!(
                    "default_vindex '{dv}' is not one of the keyspace's vindexes"
                )))
            }
            Some(v) if v.functional().is_none() || !v.unique => {
                return Err(err(format!(
                    "default_vindex '{dv}' ({}) must be a unique functional vindex (it becomes a primary vindex)",
                    v.type_name
                )))
            }
            Some(_) => {}
        }
    }
    let views = if spec.sharded {
        super::views::build_views(name, &spec.views, &tables)
    } else {
        BTreeMap::new()
    };
    Ok(KeyspaceSchema {
        views,
        default_vindex,
        name: name.into(),
        sharded: spec.sharded,
        require_explicit_routing: spec.require_explicit_routing,
        foreign_key_mode: spec.foreign_key_mode,
        vindexes,
        tables,
        raw,
    })
}

fn build_vindex(ks: &str, name: &str, v: &VindexJson) -> Result<VindexEntry, VSchemaError> {
    let err = |reason: String| VSchemaError::vindex(ks, name, reason);
    if name.is_empty() {
        return Err(err("a vindex needs a non-empty name".into()));
    }
    if v.type_name.is_empty() {
        return Err(err("missing 'type'".into()));
    }
    let owner = (!v.owner.is_empty()).then(|| v.owner.clone());
    let (kind, unknown) = match LookupKind::from_type_name(&v.type_name) {
        Some(kind) => {
            let (lookup, unknown) = LookupParams::parse(kind, &v.params).map_err(err)?;
            (VindexDef::Lookup(lookup), unknown)
        }
        None => {
            let vindex =
                create_vindex(name, &v.type_name, &v.params).map_err(|e| err(e.to_string()))?;
            if let Some(owner) = &owner {
                return Err(err(format!(
                    "has owner '{owner}', but only lookup vindexes can be owned ({} is functional)",
                    v.type_name
                )));
            }
            (
                VindexDef::Functional(vindex),
                unknown_params(&v.type_name, &v.params),
            )
        }
    };
    if !unknown.is_empty() {
        tracing::warn!(keyspace = ks, vindex = name, params = ?unknown,
            "ignoring vindex params its type does not use");
    }
    let (cost, unique) = match &kind {
        VindexDef::Functional(f) => (f.cost(), f.is_unique()),
        // A lookup over several columns is read by its first column alone (Vitess's Map does
        // the same): unique for the whole tuple, one first-column value may still name several
        // keyspace ids, so it routes as a non-unique vindex (a multi-shard route, merged).
        VindexDef::Lookup(l) => (l.kind.cost(), l.kind.is_unique() && l.from.len() <= 1),
    };
    Ok(VindexEntry {
        name: name.into(),
        type_name: v.type_name.clone(),
        params: v.params.clone(),
        owner,
        kind,
        cost,
        unique,
        unknown_params: unknown,
    })
}

/// Builds one table; the error is the reason only (the caller adds keyspace and table).
fn build_table(
    ks: &str,
    sharded: bool,
    vindexes: &BTreeMap<String, VindexEntry>,
    name: &str,
    t: &TableJson,
) -> Result<TableSchema, String> {
    if name.is_empty() {
        return Err("a table needs a non-empty name".into());
    }
    if !t.name.is_empty() && t.name != name {
        return Err(format!(
            "'name' is {:?} but the table is listed as {name:?}; 'name' is informational \
             and must match its key in 'tables' (or be left out)",
            t.name
        ));
    }
    let kind = match t.type_name.as_str() {
        "" => TableKind::Normal,
        "sequence" => TableKind::Sequence,
        "reference" => TableKind::Reference,
        other => {
            return Err(format!(
                "unknown table type {other:?} (expected \"\", \"sequence\" or \"reference\")"
            ))
        }
    };
    let pinned = match t.pinned.as_str() {
        "" => None,
        hex => Some(
            decode_hex(hex)
                .ok_or_else(|| format!("pinned {hex:?} is not a valid hex keyspace id"))?,
        ),
    };
    if kind == TableKind::Sequence && sharded && pinned.is_none() {
        return Err("a sequence table must be in an unsharded keyspace or be pinned".into());
    }
    let source = build_source(ks, kind, &t.source)?;
    if sharded && kind != TableKind::Reference && pinned.is_none() && t.column_vindexes.is_empty() {
        return Err(
            "a table in a sharded keyspace needs at least one column vindex (its \
                    primary vindex), unless it is a reference table or pinned"
                .into(),
        );
    }
    let column_vindexes = t
        .column_vindexes
        .iter()
        .enumerate()
        .map(|(i, cv)| build_column_vindex(i, cv, vindexes, name))
        .collect::<Result<Vec<_>, _>>()?;
    let auto_increment = match &t.auto_increment {
        None => None,
        Some(a) => {
            if a.column.is_empty() {
                return Err("auto_increment: missing 'column'".into());
            }
            if a.sequence.is_empty() {
                return Err("auto_increment: missing 'sequence'".into());
            }
            let q = QualifiedName::parse(&a.sequence)
                .map_err(|e| format!("auto_increment: sequence: {e}"))?;
            Some(AutoIncrement {
                column: a.column.to_lowercase(),
                sequence: a.sequence.clone(),
                sequence_keyspace: q.keyspace.unwrap_or_default(),
                sequence_table: q.table,
            })
        }
    };
    let mut seen = HashSet::new();
    let mut columns = Vec::with_capacity(t.columns.len());
    for c in &t.columns {
        if c.name.is_empty() {
            return Err("columns: an entry has no 'name'".into());
        }
        if !seen.insert(c.name.to_lowercase()) {
            return Err(format!("duplicate column name '{}' in columns", c.name));
        }
        let sql_type = match c.type_name.as_str() {
            "" => None,
            ty => Some(
                ty.parse::<SqlType>()
                    .map_err(|_| format!("column '{}': unknown type {ty:?}", c.name))?,
            ),
        };
        columns.push(ColumnDef {
            name: c.name.clone(),
            sql_type,
            invisible: c.invisible,
            nullable: c.nullable,
            collation_name: (!c.collation_name.is_empty()).then(|| c.collation_name.clone()),
        });
    }
    Ok(TableSchema {
        name: name.into(),
        keyspace: ks.into(),
        kind,
        column_vindexes,
        auto_increment,
        columns,
        column_list_authoritative: t.column_list_authoritative,
        pinned,
        source,
    })
}

fn build_source(ks: &str, kind: TableKind, source: &str) -> Result<Option<QualifiedName>, String> {
    if source.is_empty() {
        return Ok(None);
    }
    if kind != TableKind::Reference {
        return Err(
            "'source' is only allowed on reference tables (\"type\": \"reference\")".into(),
        );
    }
    let q = QualifiedName::parse(source).map_err(|e| format!("source: {e}"))?;
    match q.keyspace.as_deref() {
        None => Err(format!(
            "source {source:?} must be qualified as keyspace.table"
        )),
        Some(k) if k == ks => Err(format!(
            "source {source:?} may not reference a table in the same keyspace"
        )),
        Some(_) => Ok(Some(q)),
    }
}

fn build_column_vindex(
    i: usize,
    cv: &ColumnVindexJson,
    vindexes: &BTreeMap<String, VindexEntry>,
    table: &str,
) -> Result<ColumnVindex, String> {
    let at = format!("column_vindexes[{i}]");
    if cv.name.is_empty() {
        return Err(format!("{at}: missing 'name'"));
    }
    let entry = vindexes.get(&cv.name).ok_or_else(|| {
        format!(
            "{at}: vindex '{}' is not defined in the keyspace's vindexes",
            cv.name
        )
    })?;
    if !cv.type_name.is_empty() && !cv.type_name.eq_ignore_ascii_case(&entry.type_name) {
        return Err(format!(
            "{at}: 'type' is {:?} but vindex '{}' is of type {:?}; 'type' is informational \
             and must match the vindex (or be left out)",
            cv.type_name, cv.name, entry.type_name
        ));
    }
    let mut columns: Vec<String> = match (cv.column.is_empty(), cv.columns.is_empty()) {
        (false, false) => {
            return Err(format!(
                "{at}: vindex '{}' sets both 'column' and 'columns'; use one",
                cv.name
            ))
        }
        (true, true) => {
            return Err(format!(
                "{at}: vindex '{}' needs 'column' or 'columns'",
                cv.name
            ))
        }
        (false, true) => vec![cv.column.to_lowercase()],
        (true, false) => cv.columns.iter().map(|c| c.to_lowercase()).collect(),
    };
    if columns.iter().any(|c| c.is_empty()) {
        return Err(format!(
            "{at}: vindex '{}' has an empty column name",
            cv.name
        ));
    }
    let owned = entry.is_lookup() && entry.owner.as_deref() == Some(table);
    let what = format!("vindex '{}' ({})", cv.name, entry.type_name);
    if i == 0 {
        if !entry.unique {
            return Err(format!(
                "primary {what} is not unique; the first column vindex must be unique"
            ));
        }
        if owned {
            return Err(format!(
                "primary {what} cannot be owned by the table; the primary vindex decides \
                 where rows live, an owned lookup must come after it"
            ));
        }
    }
    match &entry.kind {
        VindexDef::Functional(f) if f.is_multi_column() => {
            if i > 0 {
                return Err(format!(
                    "multi-column {what} can only be the primary (first) column vindex"
                ));
            }
        }
        VindexDef::Functional(_) => {
            // Vitess maps a single-column vindex listed with several columns by the first
            // one alone (`firstColsOnly`): the others are kept out of the model, so routing,
            // INSERT placement and every other reader see the routing column only.
            columns.truncate(1);
        }
        VindexDef::Lookup(l) => {
            if owned && columns.len() != l.from.len() {
                return Err(format!(
                    "{at}: owned lookup {what} has {} 'from' column(s) but the table lists {}",
                    l.from.len(),
                    columns.len()
                ));
            }
        }
    }
    Ok(ColumnVindex {
        columns,
        vindex: cv.name.clone(),
        owned,
    })
}

/// An owner must be a table of this keyspace that lists the vindex.
fn check_owners(
    ks: &str,
    vindexes: &BTreeMap<String, VindexEntry>,
    tables: &BTreeMap<String, TableSchema>,
) -> Result<(), VSchemaError> {
    for (vname, v) in vindexes {
        let Some(owner) = &v.owner else { continue };
        let Some(table) = tables.get(owner) else {
            return Err(VSchemaError::vindex(
                ks,
                vname,
                format!("owner table '{owner}' is not a table of this keyspace"),
            ));
        };
        if !table.column_vindexes.iter().any(|cv| &cv.vindex == vname) {
            return Err(VSchemaError::vindex(
                ks,
                vname,
                format!("owner table '{owner}' does not list it in its column_vindexes"),
            ));
        }
    }
    Ok(())
}

/// Decodes an even-length hex string (either case).
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok()))
        .collect()
}

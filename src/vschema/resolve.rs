//! Rules that span keyspaces, checked once every keyspace is built: global (unqualified) table
//! names, `auto_increment` sequences and reference-table sources.
//!
//! * **Global names**: every table of a keyspace without `require_explicit_routing` is a
//!   candidate for its name. One candidate → the name resolves to it. Several → a reference
//!   table whose `source` is another candidate steps aside for its source; if more than one is
//!   still left the name is ambiguous (it must be qualified).
//! * **Sequences**: `auto_increment.sequence` is `ks.seq` (that keyspace must be configured and
//!   list `seq`) or `seq` (resolved globally); either way the table must be of type `sequence`.
//! * **References**: `source` names a configured keyspace; a sharded source keyspace must list
//!   the table (an unsharded one may leave it unlisted); the source must not be a sequence or
//!   itself a reference (no chains); one source is referenced at most once per keyspace.

use super::error::{FindTableError, VSchemaError};
use super::keyspace::{KeyspaceSchema, TableKind};
use super::names::QualifiedName;
use std::collections::BTreeMap;

/// Table name → the keyspaces it resolves to without a qualifier (one entry = unambiguous).
pub(super) type GlobalTables = BTreeMap<String, Vec<String>>;

/// Builds the global table index.
pub(super) fn global_tables(keyspaces: &BTreeMap<String, KeyspaceSchema>) -> GlobalTables {
    let mut global: GlobalTables = BTreeMap::new();
    for ks in keyspaces.values().filter(|k| !k.require_explicit_routing) {
        for name in ks.tables.keys() {
            global
                .entry(name.clone())
                .or_default()
                .push(ks.name.clone());
        }
    }
    for (name, candidates) in global.iter_mut() {
        if candidates.len() < 2 {
            continue;
        }
        let all = candidates.clone();
        candidates.retain(|ks| {
            let source = keyspaces
                .get(ks)
                .and_then(|k| k.table(name))
                .and_then(|t| t.source.as_ref());
            !source.is_some_and(|s| {
                s.table == *name
                    && s.keyspace
                        .as_ref()
                        .is_some_and(|sk| sk != ks && all.contains(sk))
            })
        });
    }
    global
}

/// Resolves an unqualified table name through the global index.
pub(super) fn lookup_global<'a>(
    global: &'a GlobalTables,
    table: &str,
) -> Result<&'a str, FindTableError> {
    match global.get(table).map(Vec::as_slice) {
        Some([ks]) => Ok(ks),
        Some(many) if !many.is_empty() => Err(FindTableError::Ambiguous {
            table: table.into(),
            keyspaces: many.to_vec(),
        }),
        _ => Err(FindTableError::NotFound(table.into())),
    }
}

/// Resolves every `auto_increment` sequence, filling in `sequence_keyspace`.
pub(super) fn resolve_sequences(
    keyspaces: &mut BTreeMap<String, KeyspaceSchema>,
    global: &GlobalTables,
) -> Result<(), VSchemaError> {
    let mut resolved = Vec::new();
    for ks in keyspaces.values() {
        for table in ks.tables.values() {
            let Some(ai) = &table.auto_increment else {
                continue;
            };
            let seq_ks = resolve_sequence(keyspaces, global, &ai.sequence).map_err(|reason| {
                VSchemaError::table(
                    &ks.name,
                    &table.name,
                    format!("auto_increment sequence '{}': {reason}", ai.sequence),
                )
            })?;
            resolved.push((ks.name.clone(), table.name.clone(), seq_ks));
        }
    }
    for (ks, table, seq_ks) in resolved {
        if let Some(ai) = keyspaces
            .get_mut(&ks)
            .and_then(|k| k.tables.get_mut(&table))
            .and_then(|t| t.auto_increment.as_mut())
        {
            ai.sequence_keyspace = seq_ks;
        }
    }
    Ok(())
}

fn resolve_sequence(
    keyspaces: &BTreeMap<String, KeyspaceSchema>,
    global: &GlobalTables,
    sequence: &str,
) -> Result<String, String> {
    let q = QualifiedName::parse(sequence)?;
    let seq_ks = match &q.keyspace {
        Some(k) if keyspaces.contains_key(k) => k.clone(),
        Some(k) => return Err(format!("keyspace '{k}' is not configured")),
        None => lookup_global(global, &q.table)
            .map_err(|e| e.to_string())?
            .to_string(),
    };
    let table = keyspaces
        .get(&seq_ks)
        .and_then(|k| k.table(&q.table))
        .ok_or_else(|| format!("keyspace '{seq_ks}' has no table '{}'", q.table))?;
    if table.kind != TableKind::Sequence {
        return Err(format!(
            "table '{seq_ks}.{}' is not a sequence table (\"type\": \"sequence\")",
            q.table
        ));
    }
    Ok(seq_ks)
}

/// Checks every reference table's `source` against the other keyspaces.
pub(super) fn check_references(
    keyspaces: &BTreeMap<String, KeyspaceSchema>,
) -> Result<(), VSchemaError> {
    for ks in keyspaces.values() {
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for table in ks.tables.values() {
            let Some(source) = &table.source else {
                continue;
            };
            let err = |reason: String| {
                VSchemaError::table(
                    &ks.name,
                    &table.name,
                    format!("source '{source}': {reason}"),
                )
            };
            let src_ks_name = source.keyspace.as_deref().unwrap_or_default();
            let Some(src_ks) = keyspaces.get(src_ks_name) else {
                return Err(err(format!("keyspace '{src_ks_name}' is not configured")));
            };
            match src_ks.table(&source.table) {
                None if src_ks.sharded => {
                    return Err(err(format!(
                        "sharded keyspace '{src_ks_name}' has no table '{}'",
                        source.table
                    )))
                }
                None => {}
                Some(src) if src.kind == TableKind::Sequence => {
                    return Err(err("a reference cannot copy a sequence table".into()))
                }
                Some(src) => {
                    if let Some(chain) = &src.source {
                        return Err(err(format!(
                            "is itself a reference to '{chain}'; reference chains are not allowed"
                        )));
                    }
                }
            }
            if let Some(other) = seen.insert(source.to_string(), &table.name) {
                return Err(err(format!(
                    "already referenced by table '{other}' of this keyspace"
                )));
            }
        }
    }
    Ok(())
}

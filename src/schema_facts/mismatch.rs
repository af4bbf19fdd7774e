//! Vindex/collation mismatches: what `shardgate check --connect` and the start-up warning say.

use super::lookup_placement;
use crate::vindex::collation_compat::{is_string_vindex, Exactness};
use crate::vschema::VSchema;
use std::fmt;

/// A string vindex that is not exact for its column's collation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The table's keyspace.
    pub keyspace: String,
    /// The table.
    pub table: String,
    /// The column the vindex reads.
    pub column: String,
    /// The column's type and collation as the shard reports them, or `unknown`.
    pub collation: String,
    /// The vindex's name.
    pub vindex: String,
    /// The vindex's type.
    pub vindex_type: String,
    /// Why it is not exact.
    pub reason: String,
    /// Lookup vindexes whose lookup table is this table, placed by this vindex:
    /// `(keyspace, name, type, unique)`.
    pub lookups: Vec<(String, String, String, bool)>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "vindex/collation mismatch: keyspace {}, table {}, column {} ({}): vindex {} ({}) is not exact for it ({}); the proxy does not route reads, UPDATE or DELETE by it (they scatter over the keyspace)",
            self.keyspace,
            self.table,
            self.column,
            self.collation,
            self.vindex,
            self.vindex_type,
            self.reason
        )?;
        for (ks, name, ty, unique) in &self.lookups {
            write!(
                f,
                "; lookup vindex {ks}.{name} ({ty}) reads this lookup table on every shard of {}",
                self.keyspace
            )?;
            if *unique {
                write!(
                    f,
                    ", and its uniqueness is NOT enforced across lookup shards: values the collation calls equal can be written to different shards, so two owner rows may hold equal values"
                )?;
            }
        }
        Ok(())
    }
}

/// Every string vindex of a sharded keyspace's table that is not exact for its column (by the
/// VSchema's column facts), with the lookup vindexes that read such a table.
pub fn mismatches(vschema: &VSchema) -> Vec<Mismatch> {
    let facts = vschema.column_facts();
    let mut out: Vec<Mismatch> = Vec::new();
    for ks in vschema.keyspaces().filter(|k| k.sharded) {
        for table in ks.tables.values() {
            for (cv, v) in ks.column_vindexes(table) {
                if v.functional().is_none()
                    || cv.columns.len() != 1
                    || !is_string_vindex(&v.type_name)
                {
                    continue;
                }
                let column = cv.columns[0].to_lowercase();
                let Exactness::Inexact(reason) = facts.exactness(table, &column, &v.type_name)
                else {
                    continue;
                };
                let collation = match facts.column(&ks.name, &table.name, &column) {
                    Some(c) => match &c.collation {
                        Some(coll) => format!("{} {coll}", c.data_type),
                        None => c.data_type.clone(),
                    },
                    None => "unknown".into(),
                };
                out.push(Mismatch {
                    keyspace: ks.name.clone(),
                    table: table.name.clone(),
                    column,
                    collation,
                    vindex: cv.vindex.clone(),
                    vindex_type: v.type_name.clone(),
                    reason,
                    lookups: Vec::new(),
                });
            }
        }
    }
    for ks in vschema.keyspaces().filter(|k| k.sharded) {
        for table in ks.tables.values() {
            for (cv, v) in ks.column_vindexes(table) {
                let (Some(params), Some(first)) = (v.lookup(), cv.columns.first()) else {
                    continue;
                };
                let column = first.to_lowercase();
                let Exactness::Inexact(reason) =
                    facts.lookup_owner_exactness(vschema, table, &column, params)
                else {
                    continue;
                };
                let collation = facts
                    .column(&ks.name, &table.name, &column)
                    .map(|c| format!("{} {}", c.data_type, c.collation.as_deref().unwrap_or("")))
                    .unwrap_or_else(|| "unknown".into());
                out.push(Mismatch {
                    keyspace: ks.name.clone(),
                    table: table.name.clone(),
                    column,
                    collation: collation.trim_end().to_string(),
                    vindex: cv.vindex.clone(),
                    vindex_type: v.type_name.clone(),
                    reason,
                    lookups: Vec::new(),
                });
            }
        }
    }
    for ks in vschema.keyspaces() {
        for (name, entry) in &ks.vindexes {
            let Some(params) = entry.lookup() else {
                continue;
            };
            let Some((table, column, _)) = lookup_placement(vschema, params, &ks.name) else {
                continue;
            };
            if let Some(m) = out.iter_mut().find(|m| {
                m.keyspace == table.keyspace
                    && m.table == table.name
                    && m.column == column
                    && is_string_vindex(&m.vindex_type)
            }) {
                m.lookups.push((
                    ks.name.clone(),
                    name.clone(),
                    entry.type_name.clone(),
                    params.kind.is_unique(),
                ));
            }
        }
    }
    out
}

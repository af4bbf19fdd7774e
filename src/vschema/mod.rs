//! VSchema: Vitess's description of how tables are spread over keyspaces and shards.
//!
//! One JSON file per keyspace, `<vschema dir>/<keyspace>.json`, in Vitess's format (protojson of
//! `vschema.Keyspace`, see `reference/vindexes.md` §3): `sharded`, `require_explicit_routing`,
//! `foreign_key_mode`, `vindexes` and `tables`. A Vitess file using only these features loads
//! unchanged. A configured keyspace without a file is unsharded with no tables.
//!
//! Layout:
//! * [`model`]: the file format as serde types. **Unknown keys are rejected** at every level
//!   (Vitess's strict mode; our config is strict too), with the vindex or table named.
//! * [`keyspace`]: [`KeyspaceSchema`], the validated per-keyspace model the planner uses, and
//!   the per-keyspace rules (see its header).
//! * [`lookup`]: lookup vindex params ([`LookupParams`]), validated but not executable yet.
//! * `validate`: building one keyspace from its spec, with the rules listed in [`keyspace`].
//! * `protojson`: how the file types decode (`null` = unset, objects only, named errors).
//! * `resolve`: cross-keyspace rules (sequences, reference sources, global table names).
//! * `persist`: atomic save of one keyspace file ([`VSchema::save_keyspace`]).
//!
//! A [`VSchema`] is immutable once built. Changing one keyspace (ALTER VSCHEMA) builds a new one
//! with [`VSchema::with_keyspace`]; every build gets a fresh, process-wide unique
//! [`VSchema::generation`], so plan caches keyed by generation never mix worlds.
//!
//! Names: keyspace, table and vindex names are case-sensitive (as in Vitess); column names are
//! lower-cased. Unqualified table names resolve globally over the keyspaces without
//! `require_explicit_routing` ([`VSchema::find_table`]); tables an unsharded keyspace does not
//! list are still routable there, which is the planner's business, not this module's.

#![warn(missing_docs)]

pub mod error;
pub mod keyspace;
pub mod lookup;
pub mod model;
pub mod names;
mod persist;
mod protojson;
mod resolve;
mod validate;
pub mod views;

#[cfg(test)]
mod keyspace_tests;
#[cfg(test)]
mod vitess_fields_tests;
#[cfg(test)]
mod vschema_tests;

pub use error::{FindTableError, VSchemaError};
pub use keyspace::{
    AutoIncrement, ColumnDef, ColumnVindex, KeyspaceSchema, TableKind, TableSchema, VindexDef,
    VindexEntry,
};
pub use lookup::{LookupKind, LookupParams, ReadLock};
pub use model::{ForeignKeyMode, KeyspaceJson};
pub use names::QualifiedName;

use crate::config::Config;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Generations handed out so far; 0 is reserved for [`VSchema::default`].
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

/// The VSchema of every configured keyspace, validated as a whole.
#[derive(Debug, Clone, Default)]
pub struct VSchema {
    keyspaces: BTreeMap<String, Arc<KeyspaceSchema>>,
    /// Shard count of each configured keyspace (a sharding check input).
    shard_counts: BTreeMap<String, usize>,
    global_tables: resolve::GlobalTables,
    generation: u64,
    /// Column types and collations read from the shards (see [`crate::schema_facts`]):
    /// the planner routes by a string vindex only where it agrees with the column's collation.
    column_facts: Arc<crate::schema_facts::ColumnFacts>,
    /// The topology revision this VSchema was read or written at, and each keyspace key's
    /// own revision (compare-and-swap bases); all 0 with the file topology.
    topo: TopoStamp,
}

/// Where in the topology's history a VSchema comes from (see [`VSchema::topo_revision`]).
#[derive(Debug, Clone, Default)]
struct TopoStamp {
    /// The latest change of any keyspace key (the highest `mod_revision`): proxies serving
    /// the same VSchema report the same number.
    revision: i64,
    /// The store revision when it was read (or written): at least `revision`.
    read_at: i64,
    keys: BTreeMap<String, i64>,
}

impl VSchema {
    /// Loads `<dir>/<keyspace>.json` for every keyspace in the config and validates the whole.
    ///
    /// A missing file means an unsharded keyspace without tables; a keyspace with more than one
    /// shard must have a VSchema with `"sharded": true`. Errors name the file.
    pub fn load(cfg: &Config) -> Result<VSchema, VSchemaError> {
        let dir = cfg.vschema_dir();
        let mut keyspaces = Vec::with_capacity(cfg.keyspaces.len());
        let mut files = BTreeMap::new();
        let mut shard_counts = BTreeMap::new();
        for ks in &cfg.keyspaces {
            let path = dir.join(format!("{}.json", ks.name));
            let file = path.display().to_string();
            shard_counts.insert(ks.name.clone(), ks.shards.len());
            let schema = match std::fs::read_to_string(&path) {
                Ok(text) => {
                    files.insert(ks.name.clone(), file.clone());
                    KeyspaceSchema::parse(&ks.name, &text).map_err(|e| in_file(&file, e))?
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    files.insert(ks.name.clone(), format!("{file} (not found)"));
                    KeyspaceSchema::unsharded(&ks.name)
                }
                Err(source) => return Err(VSchemaError::Read { file, source }),
            };
            keyspaces.push(schema);
        }
        VSchema::build(keyspaces, shard_counts).map_err(|e| {
            match e.keyspace().and_then(|k| files.get(k)) {
                Some(file) => in_file(file, e),
                None => e,
            }
        })
    }

    /// Validates keyspaces together and assigns a new generation.
    ///
    /// `shard_counts` gives the configured shard count per keyspace; a keyspace listed there
    /// with more than one shard must be sharded (keyspaces not listed are not checked).
    pub fn build(
        keyspaces: Vec<KeyspaceSchema>,
        shard_counts: BTreeMap<String, usize>,
    ) -> Result<VSchema, VSchemaError> {
        let mut map = BTreeMap::new();
        for ks in keyspaces {
            if let Some(&n) = shard_counts.get(&ks.name) {
                if n > 1 && !ks.sharded {
                    return Err(VSchemaError::keyspace_err(
                        &ks.name,
                        format!(
                            "has {n} shards but its VSchema is not sharded \
                             (it needs \"sharded\": true and vindexes)"
                        ),
                    ));
                }
            }
            if map.contains_key(&ks.name) {
                return Err(VSchemaError::keyspace_err(&ks.name, "defined twice"));
            }
            map.insert(ks.name.clone(), ks);
        }
        let global_tables = resolve::global_tables(&map);
        resolve::check_references(&map)?;
        resolve::resolve_sequences(&mut map, &global_tables)?;
        Ok(VSchema {
            keyspaces: map.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
            shard_counts,
            global_tables,
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            column_facts: Arc::default(),
            topo: TopoStamp::default(),
        })
    }

    /// This VSchema with other column facts, as a new generation (plans made with the old
    /// facts are not reused). `self` is unchanged.
    pub fn with_column_facts(&self, facts: Arc<crate::schema_facts::ColumnFacts>) -> VSchema {
        VSchema {
            column_facts: facts,
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
            ..self.clone()
        }
    }

    /// The shared column facts (to carry them into a VSchema built from new JSON).
    pub fn column_facts_arc(&self) -> Arc<crate::schema_facts::ColumnFacts> {
        self.column_facts.clone()
    }

    /// The column facts this VSchema was given (empty until the proxy has read them).
    pub fn column_facts(&self) -> &crate::schema_facts::ColumnFacts {
        &self.column_facts
    }

    /// A new VSchema with `keyspace` replacing the existing keyspace of the same name,
    /// revalidated as a whole (new generation). `self` is unchanged.
    pub fn with_keyspace(&self, keyspace: KeyspaceSchema) -> Result<VSchema, VSchemaError> {
        if !self.keyspaces.contains_key(&keyspace.name) {
            return Err(VSchemaError::keyspace_err(
                &keyspace.name,
                "is not a configured keyspace",
            ));
        }
        let mut all: Vec<KeyspaceSchema> = self
            .keyspaces
            .values()
            .filter(|k| k.name != keyspace.name)
            .map(|k| (**k).clone())
            .collect();
        all.push(keyspace);
        let mut next = VSchema::build(all, self.shard_counts.clone())?;
        next.column_facts = self.column_facts.clone();
        next.topo = self.topo.clone();
        Ok(next)
    }

    /// The topology revision of this VSchema's content: the latest change of any of its
    /// keyspace keys (0: file topology). Every proxy serving the same VSchema says the same.
    pub fn topo_revision(&self) -> i64 {
        self.topo.revision
    }

    /// The store revision this VSchema was read (or written) at: what the proxy has seen of
    /// the topology's history (0: file topology).
    pub fn topo_read_at(&self) -> i64 {
        self.topo.read_at
    }

    /// This VSchema, unchanged (same generation), as re-read at store revision `read_at`.
    pub fn reread_at(&self, read_at: i64) -> VSchema {
        let mut same = self.clone();
        same.topo.read_at = same.topo.read_at.max(read_at);
        same
    }

    /// The revision keyspace `ks`'s key had when this VSchema was read (0: no key).
    pub fn topo_revision_of(&self, ks: &str) -> i64 {
        self.topo.keys.get(ks).copied().unwrap_or(0)
    }

    /// This VSchema stamped as read at store revision `read_at`, with each keyspace key's
    /// revision (the content revision is the highest of them).
    pub fn with_topo_revisions(mut self, read_at: i64, keys: BTreeMap<String, i64>) -> VSchema {
        let revision = keys.values().copied().max().unwrap_or(0);
        self.topo = TopoStamp {
            revision,
            read_at: read_at.max(revision),
            keys,
        };
        self
    }

    /// This VSchema after this proxy wrote `keyspaces` at `revision`.
    pub fn with_topo_stamp<'a>(
        mut self,
        revision: i64,
        keyspaces: impl Iterator<Item = &'a str>,
    ) -> VSchema {
        self.topo.revision = self.topo.revision.max(revision);
        self.topo.read_at = self.topo.read_at.max(revision);
        for ks in keyspaces {
            self.topo.keys.insert(ks.to_string(), revision);
        }
        self
    }

    /// Identifies this build; plan caches key on it. Unique per process (0 only for
    /// [`VSchema::default`]).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether `keyspace` is sharded (unknown keyspaces count as unsharded).
    pub fn is_sharded(&self, keyspace: &str) -> bool {
        self.keyspaces.get(keyspace).is_some_and(|k| k.sharded)
    }

    /// The keyspace called `name`.
    pub fn keyspace(&self, name: &str) -> Option<&KeyspaceSchema> {
        self.keyspaces.get(name).map(|k| k.as_ref())
    }

    /// The keyspace called `name`, shared.
    pub fn keyspace_arc(&self, name: &str) -> Option<Arc<KeyspaceSchema>> {
        self.keyspaces.get(name).cloned()
    }

    /// Every keyspace, in name order.
    pub fn keyspaces(&self) -> impl Iterator<Item = &KeyspaceSchema> {
        self.keyspaces.values().map(|k| k.as_ref())
    }

    /// The table `table` listed in keyspace `keyspace`.
    pub fn table(&self, keyspace: &str, table: &str) -> Option<&TableSchema> {
        self.keyspace(keyspace).and_then(|k| k.table(table))
    }

    /// Resolves an unqualified table name across the keyspaces without
    /// `require_explicit_routing`: the only keyspace listing it, or the source of reference
    /// copies. Tables that no VSchema lists are not found here (see
    /// [`VSchema::sole_unsharded_keyspace`]).
    pub fn find_table(
        &self,
        table: &str,
    ) -> Result<(&KeyspaceSchema, &TableSchema), FindTableError> {
        let ks = resolve::lookup_global(&self.global_tables, table)?;
        self.keyspace(ks)
            .and_then(|k| k.table(table).map(|t| (k, t)))
            .ok_or_else(|| FindTableError::NotFound(table.into()))
    }

    /// The keyspace when there is exactly one and it is unsharded: Vitess then routes every
    /// unqualified table name there, listed or not.
    pub fn sole_unsharded_keyspace(&self) -> Option<&KeyspaceSchema> {
        match self.keyspaces.values().next() {
            Some(k) if self.keyspaces.len() == 1 && !k.sharded => Some(k),
            _ => None,
        }
    }
}

fn in_file(file: &str, e: VSchemaError) -> VSchemaError {
    VSchemaError::InFile {
        file: file.into(),
        inner: Box::new(e),
    }
}

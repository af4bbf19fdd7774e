//! `shardgate check --connect`: the VSchema checked against what the shards hold. For every
//! table of a keyspace's VSchema, each shard must have it with its vindex columns; for every
//! lookup vindex, each shard of the lookup table's keyspace must have that table with its
//! `from` and `to` columns. A VSchema file naming no configured keyspace is reported too (it is
//! ignored). Each problem is one `warning:` line naming the shards it applies to.

use crate::backend::Backends;
use crate::config::Config;
use crate::vschema::VSchema;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Table name → its columns (lower-cased), as one shard holds them.
type ShardTables = HashMap<String, BTreeSet<String>>;

/// Reads every table and column of each shard of `keyspace`: `(shard label, tables)`, or a
/// warning for a shard that could not be read.
async fn read_keyspace(
    backends: &Backends,
    keyspace: &str,
    warnings: &mut Vec<String>,
) -> Vec<(String, ShardTables)> {
    let mut out = Vec::new();
    for shard in backends.keyspace(keyspace).unwrap_or_default() {
        let rows = match shard.job_conn().await {
            Ok(mut c) => {
                c.query("SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()")
                    .await
            }
            Err(e) => Err(e),
        };
        match rows {
            Ok(rows) => {
                let mut tables: ShardTables = HashMap::new();
                for r in rows {
                    let (Some(t), Some(c)) = (r.get::<String, _>(0), r.get::<String, _>(1)) else {
                        continue;
                    };
                    tables
                        .entry(t.to_lowercase())
                        .or_default()
                        .insert(c.to_lowercase());
                }
                out.push((shard.name.clone(), tables));
            }
            Err(e) => warnings.push(format!("{}: cannot read its tables: {e}", shard.label)),
        }
    }
    out
}

/// The columns of a column vindex entry (`column` or `columns`).
fn vindex_columns(cv: &Value) -> Vec<String> {
    if let Some(c) = cv.get("column").and_then(Value::as_str) {
        return vec![c.to_string()];
    }
    cv.get("columns")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Collects problems as `(subject, problem) → shards`, so each is printed once.
#[derive(Default)]
struct Problems(BTreeMap<(String, String), Vec<String>>);

impl Problems {
    fn add(&mut self, subject: String, problem: String, shard: &str) {
        self.0
            .entry((subject, problem))
            .or_default()
            .push(shard.to_string());
    }

    /// Checks that `table` with `columns` exists on every shard of `shards`.
    fn table(
        &mut self,
        subject: &str,
        shards: &[(String, ShardTables)],
        table: &str,
        columns: &[String],
    ) {
        for (shard, tables) in shards {
            match tables.get(&table.to_lowercase()) {
                None => self.add(subject.to_string(), "table missing".into(), shard),
                Some(have) => {
                    for c in columns {
                        if !have.contains(&c.to_lowercase()) {
                            self.add(subject.to_string(), format!("column '{c}' missing"), shard);
                        }
                    }
                }
            }
        }
    }

    fn lines(self) -> Vec<String> {
        self.0
            .into_iter()
            .map(|((subject, problem), shards)| {
                format!("{subject}: {problem} on shard(s) {}", shards.join(", "))
            })
            .collect()
    }
}

/// Every problem found (module header), as `warning:` line texts.
pub async fn table_problems(
    config: &Config,
    backends: &Backends,
    vschema: &VSchema,
) -> Vec<String> {
    let mut warnings = stray_files(config);
    let mut read: HashMap<String, Vec<(String, ShardTables)>> = HashMap::new();
    for ks in vschema.keyspaces() {
        let shards = read_keyspace(backends, &ks.name, &mut warnings).await;
        read.insert(ks.name.clone(), shards);
    }
    let mut problems = Problems::default();
    for ks in vschema.keyspaces() {
        let shards = read.get(&ks.name).map(Vec::as_slice).unwrap_or_default();
        if let Some(tables) = ks.raw.get("tables").and_then(Value::as_object) {
            for (name, t) in tables {
                let columns: Vec<String> = t
                    .get("column_vindexes")
                    .and_then(Value::as_array)
                    .map(|cvs| cvs.iter().flat_map(vindex_columns).collect())
                    .unwrap_or_default();
                problems.table(&format!("{}.{name}", ks.name), shards, name, &columns);
            }
        }
        let Some(vindexes) = ks.raw.get("vindexes").and_then(Value::as_object) else {
            continue;
        };
        for (vname, v) in vindexes {
            let Some(params) = v.get("params") else {
                continue;
            };
            let Some(table) = params.get("table").and_then(Value::as_str) else {
                continue;
            };
            let (lks, ltable) = match table.split_once('.') {
                Some((k, t)) => (k.to_string(), t.to_string()),
                None => (ks.name.clone(), table.to_string()),
            };
            let mut columns: Vec<String> = params
                .get("from")
                .and_then(Value::as_str)
                .map(|f| f.split(',').map(|c| c.trim().to_string()).collect())
                .unwrap_or_default();
            columns.push(
                params
                    .get("to")
                    .and_then(Value::as_str)
                    .unwrap_or("keyspace_id")
                    .to_string(),
            );
            let subject = format!("lookup table {lks}.{ltable} of vindex {}.{vname}", ks.name);
            match read.get(&lks) {
                Some(lshards) => problems.table(&subject, lshards, &ltable, &columns),
                None => warnings.push(format!("{subject}: keyspace '{lks}' is not configured")),
            }
        }
    }
    warnings.extend(problems.lines());
    warnings
}

/// VSchema files in the VSchema directory that name no configured keyspace.
fn stray_files(config: &Config) -> Vec<String> {
    let dir = config.vschema_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| {
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
            !config.keyspaces.iter().any(|k| k.name == stem)
        })
        .map(|p| format!("{}: names no configured keyspace (ignored)", p.display()))
        .collect();
    out.sort();
    out
}

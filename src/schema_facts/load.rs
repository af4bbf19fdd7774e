//! Reading column facts from the shards (`information_schema.COLUMNS`), and swapping them
//! into the proxy's VSchema.

use super::{mismatches, ColumnFacts};
use crate::backend::Backends;
use crate::server::ProxyState;
use crate::vindex::collation_compat::ColumnType;
use crate::vschema::VSchema;
use std::sync::Arc;

/// The columns of one shard database; the database name is a parameter of a backend prepared
/// statement (no SQL is built from it).
const COLUMNS_SQL: &str = "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLLATION_NAME \
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?";

/// Reads the columns of every sharded keyspace of `vschema` from its first reachable shard.
/// Returns the facts and one message per keyspace that could not be read (its columns are
/// then unknown).
pub async fn load(backends: &Backends, vschema: &VSchema) -> (ColumnFacts, Vec<String>) {
    let mut facts = ColumnFacts::default();
    let mut errors = Vec::new();
    for ks in vschema.keyspaces().filter(|k| k.sharded) {
        let Some(shards) = backends.keyspace(&ks.name) else {
            continue;
        };
        let mut last_error = None;
        for shard in shards {
            match read_shard(shard).await {
                Ok(rows) => {
                    for (table, column, data_type, collation) in rows {
                        let ty = ColumnType {
                            data_type: data_type.to_ascii_lowercase(),
                            collation: collation.map(|c| c.to_ascii_lowercase()),
                        };
                        facts.insert(&ks.name, &table, &column, ty);
                    }
                    facts.mark_read(&ks.name);
                    last_error = None;
                    break;
                }
                Err(e) => last_error = Some(format!("{}: {e}", shard.label)),
            }
        }
        if let Some(e) = last_error {
            errors.push(format!(
                "cannot read the column collations of keyspace {}: {e}",
                ks.name
            ));
        }
    }
    (facts, errors)
}

type ColumnRow = (String, String, String, Option<String>);

async fn read_shard(shard: &Arc<crate::backend::Shard>) -> Result<Vec<ColumnRow>, String> {
    let mut conn = shard.job_conn().await.map_err(|e| e.to_string())?;
    let rows = conn
        .exec(COLUMNS_SQL, &[shard.database.as_str().into()])
        .await
        .map_err(|e| e.to_string())?;
    rows.into_iter()
        .map(|r| {
            mysql_common::prelude::FromRow::from_row_opt(r)
                .map_err(|_| format!("unexpected column row from {}", shard.label))
        })
        .collect()
}

/// Reads the column facts again and swaps them into the proxy's VSchema (under the lock that
/// serialises VSchema edits, so a concurrent edit is not lost). Keyspaces whose read fails keep
/// their previous facts. Logs each new vindex/collation mismatch (`tracing::warn`); with
/// `log_all`, every mismatch (at start).
pub async fn refresh(state: &ProxyState, log_all: bool) {
    let _guard = state.vschema_edit.lock().await;
    let current = state.vschema.load_full();
    let (mut facts, errors) = load(&state.backends, &current).await;
    for e in &errors {
        tracing::warn!("{e}; string vindexes of its tables scatter until the next read");
    }
    facts.keep_unread_from(current.column_facts());
    if &facts == current.column_facts() {
        if log_all {
            for m in mismatches(&current) {
                tracing::warn!("{m}");
            }
        }
        return;
    }
    let before: Vec<String> = mismatches(&current)
        .iter()
        .map(ToString::to_string)
        .collect();
    let next = current.with_column_facts(Arc::new(facts));
    for m in mismatches(&next) {
        let text = m.to_string();
        if log_all || !before.contains(&text) {
            tracing::warn!("{text}");
        }
    }
    state.world.store_vschema(Arc::new(next));
}

impl ColumnFacts {
    /// Keeps `old`'s columns of the keyspaces this snapshot could not read.
    fn keep_unread_from(&mut self, old: &ColumnFacts) {
        for ((ks, table), cols) in &old.tables {
            if old.read.contains(ks) && !self.read.contains(ks) {
                self.tables
                    .insert((ks.clone(), table.clone()), cols.clone());
            }
        }
        for ks in &old.read {
            if !self.read.contains(ks) {
                self.read.insert(ks.clone());
            }
        }
    }
}

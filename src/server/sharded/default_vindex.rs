//! Tables that tools create themselves (sysbench's `prepare`, migrations) on a sharded keyspace
//! whose VSchema names a `default_vindex` (issue 17, point 6).
//!
//! * `CREATE TABLE t (...)` through the proxy, for a table the VSchema does not have: the
//!   statement runs on every shard as any DDL; then `t` is added to the keyspace's VSchema
//!   with the default vindex as its primary vindex on the first column of its PRIMARY KEY.
//!   An `AUTO_INCREMENT` column gets a sequence: table `t_seq` (Vitess-shaped: `id`, `next_id`,
//!   `cache` = 1000, `COMMENT 'vitess_sequence'`) created in the one unsharded keyspace before
//!   the shards run the statement (so a failure after them leaves only the VSchema edit
//!   undone: `CREATE TABLE IF NOT EXISTS t` again completes it), and added to that keyspace's
//!   VSchema as a `sequence`; `t`'s `auto_increment` names it.
//!   Both VSchema files are saved atomically, as workflow statements save theirs, and the new
//!   VSchema replaces the served one (a new generation: cached plans are not reused).
//! * `DROP TABLE t` of a table so sharded: after the shards dropped it, `t` leaves the VSchema,
//!   and so does its sequence `t_seq` (dropped in the unsharded keyspace).
//!
//! Refused (1235) before anything runs: a new table without a PRIMARY KEY, `CREATE TABLE …
//! LIKE` / `… SELECT`, and an AUTO_INCREMENT table when the VSchema has no unsharded keyspace
//! or several (the message names them). Statements that do not parse, temporary tables and
//! tables the VSchema already has are left alone.

use crate::error::ProxyError;
use crate::server::ProxyState;
use crate::vschema::VSchema;
use serde_json::{json, Value};
use sqlparser::ast::{ColumnOption, Expr, ObjectName, ObjectType, Statement, TableConstraint};
use std::sync::Arc;

/// What a DDL statement changes in the VSchema of a keyspace with a `default_vindex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Change {
    /// A new table, sharded by `vindex` on `column`.
    Create {
        /// The table.
        table: String,
        /// Its first primary-key column (lower case).
        column: String,
        /// The vindex.
        vindex: String,
        /// The AUTO_INCREMENT column (lower case) and the unsharded keyspace of its sequence.
        sequence: Option<(String, String)>,
    },
    /// Tables of the VSchema that the statement drops.
    Drop {
        /// The tables.
        tables: Vec<String>,
    },
}

/// The VSchema change `sql` (a DDL statement on sharded `keyspace`) asks for, if any.
pub(super) fn inspect(
    vschema: &VSchema,
    keyspace: &str,
    sql: &str,
) -> Result<Option<Change>, ProxyError> {
    let Some(ks) = vschema.keyspace(keyspace) else {
        return Ok(None);
    };
    let Some(vindex) = ks.default_vindex.clone() else {
        return Ok(None);
    };
    let Ok(stmt) = crate::planner::parse(sql) else {
        return Ok(None);
    };
    match stmt {
        Statement::CreateTable(ct) => {
            let Some(table) = own_name(&ct.name, keyspace) else {
                return Ok(None);
            };
            if ct.temporary || ks.table(&table).is_some() {
                return Ok(None);
            }
            let refuse = |why: &str| {
                Err(ProxyError::NotSupported(format!(
                    "CREATE TABLE {table} in keyspace {keyspace} (default_vindex '{vindex}') {why}"
                )))
            };
            if ct.like.is_some() || ct.clone.is_some() || ct.query.is_some() {
                return refuse(
                    "with LIKE, CLONE or AS SELECT: write the columns and the PRIMARY KEY",
                );
            }
            let mut primary = None;
            let mut auto_increment = None;
            for c in &ct.columns {
                for o in &c.options {
                    match &o.option {
                        ColumnOption::PrimaryKey(_) if primary.is_none() => {
                            primary = Some(c.name.value.to_lowercase());
                        }
                        ColumnOption::DialectSpecific(tokens)
                            if tokens
                                .iter()
                                .any(|t| t.to_string().eq_ignore_ascii_case("AUTO_INCREMENT")) =>
                        {
                            auto_increment = Some(c.name.value.to_lowercase());
                        }
                        _ => {}
                    }
                }
            }
            for tc in &ct.constraints {
                if let TableConstraint::PrimaryKey(pk) = tc {
                    if let Some(first) = pk.columns.first() {
                        if let Expr::Identifier(id) = &first.column.expr {
                            primary = Some(id.value.to_lowercase());
                        }
                    }
                }
            }
            let Some(column) = primary else {
                return refuse("has no PRIMARY KEY to shard it by");
            };
            let sequence = match auto_increment {
                Some(ai) => Some((ai, sequence_keyspace(vschema, &table, keyspace)?)),
                None => None,
            };
            Ok(Some(Change::Create {
                table,
                column,
                vindex,
                sequence,
            }))
        }
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            temporary: false,
            ..
        } => {
            let tables: Vec<String> = names
                .iter()
                .filter_map(|n| own_name(n, keyspace))
                .filter(|t| ks.table(t).is_some())
                .collect();
            Ok((!tables.is_empty()).then_some(Change::Drop { tables }))
        }
        _ => Ok(None),
    }
}

/// The table name of `name` when it is unqualified or qualified by `keyspace`.
fn own_name(name: &ObjectName, keyspace: &str) -> Option<String> {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|p| p.as_ident().map(|i| i.value.clone()))
        .collect();
    match parts.as_slice() {
        [t] => Some(t.clone()),
        [ks, t] if ks == keyspace => Some(t.clone()),
        _ => None,
    }
}

/// The unsharded keyspace that holds the sequence of a new table: the only one there is.
fn sequence_keyspace(vschema: &VSchema, table: &str, keyspace: &str) -> Result<String, ProxyError> {
    let unsharded: Vec<&str> = vschema
        .keyspaces()
        .filter(|k| !k.sharded)
        .map(|k| k.name.as_str())
        .collect();
    match unsharded.as_slice() {
        [one] => Ok((*one).to_string()),
        [] => Err(ProxyError::NotSupported(format!(
            "CREATE TABLE {table} in keyspace {keyspace} with an AUTO_INCREMENT column needs a sequence, and sequences live in an unsharded keyspace: configure one"
        ))),
        several => Err(ProxyError::NotSupported(format!(
            "CREATE TABLE {table} in keyspace {keyspace} with an AUTO_INCREMENT column needs a sequence, and there are several unsharded keyspaces to hold it ({}): create {table}_seq in one and add the table to the VSchema with ALTER VSCHEMA",
            several.join(", ")
        ))),
    }
}

/// The name of the sequence table of `table`.
fn sequence_name(table: &str) -> String {
    format!("{table}_seq")
}

/// Runs `statements` on the (only) shard of unsharded keyspace `keyspace`.
async fn run_unsharded(
    state: &ProxyState,
    keyspace: &str,
    statements: &[String],
) -> Result<(), ProxyError> {
    let shard = state
        .backends
        .keyspace(keyspace)
        .and_then(|s| s.first().cloned())
        .ok_or_else(|| ProxyError::Internal(format!("keyspace {keyspace} has no shard")))?;
    let mut conn = shard.job_conn().await?;
    for sql in statements {
        conn.query_drop(sql).await?;
    }
    Ok(())
}

/// Before the shards run the statement: creates the sequence table of a new table (so that
/// once the shards have the table, only the VSchema edit is left to do).
pub(super) async fn prepare(state: &Arc<ProxyState>, change: &Change) -> Result<(), ProxyError> {
    let Change::Create {
        table,
        sequence: Some((_, seq_ks)),
        ..
    } = change
    else {
        return Ok(());
    };
    let seq = sequence_name(table);
    let quoted = crate::sql::quote_ident(&seq);
    run_unsharded(
        state,
        seq_ks,
        &[
            format!(
                "CREATE TABLE IF NOT EXISTS {quoted} (id INT NOT NULL, next_id BIGINT, cache BIGINT, PRIMARY KEY (id)) COMMENT 'vitess_sequence'"
            ),
            format!("INSERT IGNORE INTO {quoted} (id, next_id, cache) VALUES (0, 1, 1000)"),
        ],
    )
    .await?;
    state.sequences.forget(seq_ks, &seq).await;
    Ok(())
}

/// Applies `change` after the shards ran its statement: edits, saves and serves the VSchema
/// (derived again after losing a concurrent edit through another proxy).
pub(super) async fn apply(
    state: &Arc<ProxyState>,
    keyspace: &str,
    change: &Change,
) -> Result<(), ProxyError> {
    let _guard = state.vschema_edit.lock().await;
    crate::world::retry_on_conflict(&state.world, || apply_once(state, keyspace, change)).await
}

async fn apply_once(
    state: &Arc<ProxyState>,
    keyspace: &str,
    change: &Change,
) -> Result<(), ProxyError> {
    let vschema = state.vschema.load_full();
    let Some(ks) = vschema.keyspace(keyspace) else {
        return Ok(());
    };
    let mut edits: Vec<(String, Value)> = Vec::new();
    match change {
        Change::Create {
            table,
            column,
            vindex,
            sequence,
        } => {
            if ks.table(table).is_some() {
                return Ok(());
            }
            let mut spec = json!({"column_vindexes": [{"column": column, "name": vindex}]});
            if let Some((ai, seq_ks)) = sequence {
                let seq = sequence_name(table);
                let mut seq_json = keyspace_json(&vschema, seq_ks);
                set(&mut seq_json, &seq, Some(json!({"type": "sequence"})));
                edits.push((seq_ks.clone(), seq_json));
                spec["auto_increment"] =
                    json!({"column": ai, "sequence": format!("{seq_ks}.{seq}")});
            }
            let mut json = ks.raw.clone();
            set(&mut json, table, Some(spec));
            edits.push((keyspace.to_string(), json));
        }
        Change::Drop { tables } => {
            // The sharded keyspace first: its tables stop naming the sequences, which can
            // then leave the unsharded keyspace's VSchema.
            let mut json = ks.raw.clone();
            for table in tables {
                set(&mut json, table, None);
            }
            edits.push((keyspace.to_string(), json));
            for table in tables {
                let sequence = ks.table(table).and_then(|t| t.auto_increment.clone());
                let Some(ai) = sequence else { continue };
                let Some((seq_ks, seq)) = ai.sequence.split_once('.') else {
                    continue;
                };
                if seq != sequence_name(table) || vschema.keyspace(seq_ks).is_none_or(|k| k.sharded)
                {
                    continue;
                }
                run_unsharded(
                    state,
                    seq_ks,
                    &[format!(
                        "DROP TABLE IF EXISTS {}",
                        crate::sql::quote_ident(seq)
                    )],
                )
                .await?;
                state.sequences.forget(seq_ks, seq).await;
                let base = edits
                    .iter()
                    .position(|(k, _)| k == seq_ks)
                    .map(|i| edits.remove(i).1)
                    .unwrap_or_else(|| keyspace_json(&vschema, seq_ks));
                let mut seq_json = base;
                set(&mut seq_json, seq, None);
                edits.push((seq_ks.to_string(), seq_json));
            }
        }
    }
    if edits.is_empty() {
        return Ok(());
    }
    let refs: Vec<(&str, &Value)> = edits.iter().map(|(k, v)| (k.as_str(), v)).collect();
    state.world.change_vschema(&vschema, &refs).await?;
    Ok(())
}

/// The JSON of keyspace `name` as loaded (`{}` when it has no file).
fn keyspace_json(vschema: &VSchema, name: &str) -> Value {
    vschema
        .keyspace(name)
        .map(|k| k.raw.clone())
        .unwrap_or_else(|| json!({}))
}

/// Sets (or with None removes) `tables.<table>` of a keyspace's JSON.
fn set(json: &mut Value, table: &str, spec: Option<Value>) {
    if !json.is_object() {
        *json = json!({});
    }
    let Some(obj) = json.as_object_mut() else {
        return;
    };
    let tables = obj.entry("tables").or_insert_with(|| json!({}));
    if !tables.is_object() {
        *tables = json!({});
    }
    if let Some(t) = tables.as_object_mut() {
        match spec {
            Some(s) => {
                t.insert(table.to_string(), s);
            }
            None => {
                t.remove(table);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vschema::KeyspaceSchema;

    fn vschema(unsharded: &[&str]) -> VSchema {
        let mut keyspaces = vec![KeyspaceSchema::parse(
            "customer",
            r#"{"sharded": true, "default_vindex": "hash", "vindexes": {"hash": {"type": "hash"}},
                "tables": {"old": {"column_vindexes": [{"column": "id", "name": "hash"}]}}}"#,
        )
        .expect("customer")];
        let mut shards = vec![("customer".to_string(), 2usize)];
        for u in unsharded {
            keyspaces.push(KeyspaceSchema::parse(u, "{}").expect("unsharded"));
            shards.push((u.to_string(), 1));
        }
        VSchema::build(keyspaces, shards.into_iter().collect()).expect("build")
    }

    #[test]
    fn sysbench_tables_get_the_default_vindex_and_a_sequence() {
        let vs = vschema(&["commerce"]);
        let sql = "CREATE TABLE sbtest1(\n  id INTEGER NOT NULL AUTO_INCREMENT,\n  k INTEGER DEFAULT '0' NOT NULL,\n  c CHAR(120) DEFAULT '' NOT NULL,\n  pad CHAR(60) DEFAULT '' NOT NULL,\n  PRIMARY KEY (id)\n) /*! ENGINE = innodb */";
        assert_eq!(
            inspect(&vs, "customer", sql).expect("inspect"),
            Some(Change::Create {
                table: "sbtest1".into(),
                column: "id".into(),
                vindex: "hash".into(),
                sequence: Some(("id".into(), "commerce".into())),
            })
        );
        let inline = "CREATE TABLE t (Uid BIGINT PRIMARY KEY, v INT)";
        assert!(matches!(
            inspect(&vs, "customer", inline).expect("inspect"),
            Some(Change::Create { column, sequence: None, .. }) if column == "uid"
        ));
    }

    #[test]
    fn refusals_and_tables_left_alone() {
        let vs = vschema(&["commerce"]);
        let refused = |sql: &str| {
            matches!(
                inspect(&vs, "customer", sql),
                Err(ProxyError::NotSupported(_))
            )
        };
        assert!(refused("CREATE TABLE t (a INT)"));
        assert!(refused("CREATE TABLE t LIKE old"));
        assert!(
            inspect(&vs, "customer", "CREATE TABLE old (id INT PRIMARY KEY)")
                .expect("known")
                .is_none()
        );
        assert!(inspect(&vs, "customer", "CREATE TEMPORARY TABLE x (a INT)")
            .expect("temporary")
            .is_none());
        assert!(inspect(&vs, "customer", "CREATE INDEX k ON old (k)")
            .expect("index")
            .is_none());
        assert_eq!(
            inspect(&vs, "customer", "DROP TABLE IF EXISTS old, other").expect("drop"),
            Some(Change::Drop {
                tables: vec!["old".into()]
            })
        );
        for (unsharded, what) in [(&[][..], "configure one"), (&["a", "b"][..], "a, b")] {
            let vs = vschema(unsharded);
            match inspect(
                &vs,
                "customer",
                "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY)",
            ) {
                Err(ProxyError::NotSupported(m)) => assert!(m.contains(what), "{m}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn default_vindex_must_be_a_unique_functional_vindex() {
        for (json, why) in [
            (
                r#"{"sharded": true, "default_vindex": "nope"}"#,
                "not one of",
            ),
            (
                r#"{"default_vindex": "hash", "vindexes": {"hash": {"type": "hash"}}}"#,
                "not sharded",
            ),
            (
                r#"{"sharded": true, "default_vindex": "lk", "vindexes": {"lk": {"type": "lookup", "params": {"table": "l", "from": "a", "to": "b"}}}}"#,
                "unique functional",
            ),
        ] {
            let err = KeyspaceSchema::parse("customer", json).expect_err(json);
            assert!(err.to_string().contains(why), "{err}");
        }
    }
}

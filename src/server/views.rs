//! Recording the views created through the proxy on a sharded keyspace.
//!
//! `CREATE [OR REPLACE] VIEW`, `ALTER VIEW` and `DROP VIEW` run on every shard (the planner's
//! `Plan::AllShards`). Once they succeeded everywhere, the view's SELECT is written to (or
//! removed from) the `views` key of the keyspace's VSchema file, saved and loaded as a new
//! VSchema generation, so `SELECT ... FROM v` is planned from then on, and after a restart.
//! What makes a view readable across shards is decided from that definition by
//! [`crate::vschema::views`]. Views of another keyspace (`CREATE VIEW other.v`) and statements
//! that do not parse are left alone; `RENAME TABLE` of a view is not followed.

use super::ProxyState;
use crate::error::ProxyError;
use serde_json::{Map, Value};
use sqlparser::ast::{ObjectName, ObjectNamePart, ObjectType, Statement};

/// Records the view DDL `text` that just ran on every shard of sharded keyspace `keyspace`
/// (again after losing a concurrent edit through another proxy).
pub(super) async fn record(
    state: &ProxyState,
    keyspace: &str,
    text: &str,
) -> Result<(), ProxyError> {
    crate::world::retry_on_conflict(&state.world, || record_once(state, keyspace, text)).await
}

async fn record_once(state: &ProxyState, keyspace: &str, text: &str) -> Result<(), ProxyError> {
    if !crate::sql::contains_ignore_ascii_case(text.as_bytes(), b"view") {
        return Ok(());
    }
    let vschema = state.vschema.load_full();
    let Some(ks) = vschema.keyspace(keyspace).filter(|k| k.sharded) else {
        return Ok(());
    };
    let Ok(stmt) = crate::planner::parse(text) else {
        return Ok(());
    };
    let mut edits: Vec<(String, Option<String>)> = Vec::new();
    match &stmt {
        Statement::CreateView(cv) => {
            if let Some(name) = own_name(&cv.name, keyspace) {
                edits.push((name, Some(cv.query.to_string())));
            }
        }
        Statement::AlterView { name, query, .. } => {
            if let Some(name) = own_name(name, keyspace) {
                edits.push((name, Some(query.to_string())));
            }
        }
        Statement::Drop {
            object_type: ObjectType::View,
            names,
            ..
        } => {
            edits.extend(
                names
                    .iter()
                    .filter_map(|n| own_name(n, keyspace))
                    .map(|n| (n, None)),
            );
        }
        _ => return Ok(()),
    }
    if edits.is_empty() {
        return Ok(());
    }
    let raw = with_views(&ks.raw, &edits);
    state
        .world
        .change_vschema(&vschema, &[(keyspace, &raw)])
        .await?;
    Ok(())
}

/// The view name when it is of `keyspace` (unqualified or qualified by it).
fn own_name(name: &ObjectName, keyspace: &str) -> Option<String> {
    let parts: Vec<&str> = name
        .0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i.value.as_str()),
            ObjectNamePart::Function(_) => None,
        })
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [v] => Some(v.to_string()),
        [ks, v] if *ks == keyspace => Some(v.to_string()),
        _ => None,
    }
}

/// `raw` with `views.<name>` set to the definition (or removed, for None).
fn with_views(raw: &Value, edits: &[(String, Option<String>)]) -> Value {
    let mut raw = match raw {
        Value::Object(m) => Value::Object(m.clone()),
        _ => Value::Object(Map::new()),
    };
    if let Value::Object(top) = &mut raw {
        let views = top
            .entry("views")
            .or_insert_with(|| Value::Object(Map::new()));
        if !views.is_object() {
            *views = Value::Object(Map::new());
        }
        if let Value::Object(views) = views {
            for (name, definition) in edits {
                match definition {
                    Some(d) => {
                        views.insert(name.clone(), Value::String(d.clone()));
                    }
                    None => {
                        views.remove(name);
                    }
                }
            }
            if views.is_empty() {
                top.remove("views");
            }
        }
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn views_are_set_and_removed_in_the_keyspace_json() {
        let raw = json!({"sharded": true});
        let set = with_views(&raw, &[("v".into(), Some("SELECT id FROM user".into()))]);
        assert_eq!(
            set,
            json!({"sharded": true, "views": {"v": "SELECT id FROM user"}})
        );
        let gone = with_views(&set, &[("v".into(), None)]);
        assert_eq!(gone, raw);
    }

    #[test]
    fn only_names_of_the_keyspace_are_recorded() {
        let name = |s: &str| match crate::planner::parse(&format!("DROP VIEW {s}")) {
            Ok(Statement::Drop { names, .. }) => names[0].clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(own_name(&name("v"), "customer"), Some("v".into()));
        assert_eq!(own_name(&name("customer.v"), "customer"), Some("v".into()));
        assert_eq!(own_name(&name("other.v"), "customer"), None);
    }
}

//! The CreateLookupVindex spec (a VSchema fragment): which parts matter and whether they make
//! one lookup vindex shardgate can create.
//!
//! The spec must define exactly one vindex of a type we maintain (`lookup`, `lookup_unique`,
//! `consistent_lookup`, `consistent_lookup_unique`), with `params.table` as
//! `<keyspace>.<table>`, its from columns and an owner table; the owner table's entry must use
//! it on as many columns as it has from columns, and an optional lookup-table entry must be
//! sharded by the first from column. Checked on the JSON alone, before anything is read from
//! the VSchema or the shards.

use super::invalid;
use crate::vschema::LookupKind;
use crate::workflow::WorkflowError;
use serde_json::{json, Value};

/// The parts of a spec that matter.
pub(super) struct Spec {
    /// The new vindex's name.
    pub(super) vindex: String,
    /// The vindex's JSON as the spec gives it (`params.to` defaulted to `keyspace_id`).
    pub(super) vindex_json: Value,
    /// The owner table.
    pub(super) owner: String,
    /// The owner's columns for the from columns (lowercased), in `from` order.
    pub(super) columns: Vec<String>,
    /// The vindex's from columns: the lookup table's key columns.
    pub(super) from: Vec<String>,
    /// Keyspace of the lookup table.
    pub(super) target_keyspace: String,
    /// The lookup table.
    pub(super) lookup_table: String,
    /// The vindex the spec's lookup-table entry shards it by, if it names one.
    pub(super) table_vindex: Option<String>,
}

/// Reads and checks a spec; the error says what is wrong with it.
pub(super) fn parse_spec(spec: &Value) -> Result<Spec, WorkflowError> {
    let Some(vindexes) = spec.get("vindexes").and_then(Value::as_object) else {
        return invalid("the spec has no \"vindexes\" object");
    };
    if vindexes.len() != 1 {
        return invalid(format!(
            "the spec must define exactly one vindex, it defines {}",
            vindexes.len()
        ));
    }
    let Some((name, v)) = vindexes.iter().next() else {
        return invalid("the spec has no vindex");
    };
    let type_name = v.get("type").and_then(Value::as_str).unwrap_or("");
    let kind = match LookupKind::from_type_name(type_name) {
        Some(k) if !k.stores_hashed_id() => k,
        _ => {
            return invalid(format!(
                "vindex '{name}' has type '{type_name}'; CreateLookupVindex takes lookup, lookup_unique, consistent_lookup or consistent_lookup_unique"
            ))
        }
    };
    let params = v
        .get("params")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let Some(table) = params.get("table").and_then(Value::as_str) else {
        return invalid(format!(
            "vindex '{name}' needs params.table as <keyspace>.<table>"
        ));
    };
    let Some((target_keyspace, lookup_table)) = table.split_once('.') else {
        return invalid(format!(
            "vindex '{name}': params.table '{table}' must be <keyspace>.<table>"
        ));
    };
    let from: Vec<String> = params
        .get("from")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if from.is_empty() {
        return invalid(format!("vindex '{name}' needs params.from"));
    }
    if kind.is_unique() && from.len() != 1 {
        return invalid(format!(
            "unique vindex '{name}' takes exactly one from column, not {}",
            from.len()
        ));
    }
    if let Some(b) = params.get("ignore_nulls").and_then(Value::as_str) {
        if b != "true" && b != "false" {
            return invalid(format!(
                "vindex '{name}': ignore_nulls must be \"true\" or \"false\""
            ));
        }
    }
    let Some(owner) = v.get("owner").and_then(Value::as_str) else {
        return invalid(format!(
            "vindex '{name}' needs an owner table (shardgate maintains owned lookups; an unowned lookup would need replication)"
        ));
    };
    let Some(tables) = spec.get("tables").and_then(Value::as_object) else {
        return invalid("the spec has no \"tables\" object");
    };
    if tables.is_empty() || tables.len() > 2 {
        return invalid(
            "the spec's \"tables\" must name the owner table and optionally the lookup table",
        );
    }
    let Some(owner_entry) = tables.get(owner) else {
        return invalid(format!(
            "the spec's \"tables\" has no entry for owner table '{owner}'"
        ));
    };
    let cvs = owner_entry
        .get("column_vindexes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let [cv] = cvs.as_slice() else {
        return invalid(format!(
            "owner table '{owner}' must list exactly one column vindex in the spec"
        ));
    };
    if cv.get("name").and_then(Value::as_str) != Some(name.as_str()) {
        return invalid(format!(
            "owner table '{owner}' must use vindex '{name}' in the spec"
        ));
    }
    let columns: Vec<String> = match (cv.get("column"), cv.get("columns")) {
        (Some(Value::String(c)), _) => vec![c.to_lowercase()],
        (_, Some(Value::Array(cs))) => cs
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_lowercase)
            .collect(),
        _ => {
            return invalid(format!(
                "owner table '{owner}': the column vindex names no column"
            ))
        }
    };
    if columns.len() != from.len() {
        return invalid(format!(
            "owner table '{owner}' has {} columns for vindex '{name}', which has {} from columns",
            columns.len(),
            from.len()
        ));
    }
    let mut table_vindex = None;
    for (t, entry) in tables {
        if t == owner {
            continue;
        }
        if t != lookup_table {
            return invalid(format!(
                "the spec's table '{t}' is neither the owner nor the lookup table '{lookup_table}'"
            ));
        }
        let cvs = entry
            .get("column_vindexes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let [cv] = cvs.as_slice() else {
            return invalid(format!(
                "lookup table '{t}' must list exactly one column vindex"
            ));
        };
        if cv
            .get("column")
            .and_then(Value::as_str)
            .map(str::to_lowercase)
            != from.first().map(|f| f.to_lowercase())
        {
            return invalid(format!(
                "lookup table '{t}' must be sharded by its first from column '{}'",
                from[0]
            ));
        }
        table_vindex = cv.get("name").and_then(Value::as_str).map(str::to_string);
    }
    let mut vindex_json = v.clone();
    if let Some(p) = vindex_json.get_mut("params").and_then(Value::as_object_mut) {
        p.entry("to").or_insert_with(|| json!("keyspace_id"));
    }
    Ok(Spec {
        vindex: name.clone(),
        vindex_json,
        owner: owner.to_string(),
        columns,
        from,
        target_keyspace: target_keyspace.trim_matches('`').to_string(),
        lookup_table: lookup_table.trim_matches('`').to_string(),
        table_vindex,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_validation() {
        let good = json!({
            "sharded": true,
            "vindexes": {"email_vdx": {"type": "consistent_lookup_unique",
                "params": {"table": "lookup.email_vdx", "from": "email", "to": "keyspace_id"},
                "owner": "user"}},
            "tables": {"user": {"column_vindexes": [{"column": "email", "name": "email_vdx"}]}}
        });
        let s = parse_spec(&good).expect("valid");
        assert_eq!(s.target_keyspace, "lookup");
        assert_eq!(s.columns, vec!["email"]);
        let mut two = good.clone();
        two["vindexes"]["other"] = json!({"type": "hash"});
        assert!(parse_spec(&two).is_err());
        let mut hashed = good.clone();
        hashed["vindexes"]["email_vdx"]["type"] = json!("lookup_hash");
        assert!(parse_spec(&hashed).is_err());
        let mut unqualified = good.clone();
        unqualified["vindexes"]["email_vdx"]["params"]["table"] = json!("email_vdx");
        assert!(parse_spec(&unqualified).is_err());
        let mut cols = good;
        cols["tables"]["user"]["column_vindexes"][0] =
            json!({"columns": ["email", "id"], "name": "email_vdx"});
        assert!(parse_spec(&cols).is_err());
    }
}

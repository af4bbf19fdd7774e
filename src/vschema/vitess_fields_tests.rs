//! Tests for the Vitess VSchema fields shardgate used to reject (issue 18): a table's `name`,
//! a column vindex's `type` (both as Vitess's `/debug/vschema` output writes them) and several
//! `columns` on a single-column functional vindex, which routes by the first.

use super::model::KeyspaceJson;
use super::{KeyspaceSchema, VSchemaError};
use serde_json::json;

/// A keyspace shaped like Vitess's `/debug/vschema` output for one sharded keyspace.
fn vitess_shaped() -> serde_json::Value {
    json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "xx": {"type": "xxhash"},
            "name_idx": {"type": "consistent_lookup",
                "params": {"table": "lookup.name_idx", "from": "name,id", "to": "keyspace_id"},
                "owner": "user"}
        },
        "tables": {
            "user": {
                "name": "user",
                "column_vindexes": [
                    {"columns": ["id", "tenant"], "name": "hash", "type": "hash"},
                    {"columns": ["name", "id"], "name": "name_idx", "type": "consistent_lookup"},
                    {"column": "phone", "name": "xx", "type": "xxhash"}
                ]
            },
            "orders": {
                "name": "orders",
                "column_vindexes": [{"column": "user_id", "name": "hash", "type": "hash"}]
            }
        }
    })
}

fn build(value: serde_json::Value) -> Result<KeyspaceSchema, VSchemaError> {
    KeyspaceSchema::from_value("ks", value)
}

#[test]
fn vitess_debug_vschema_shape_loads() {
    let ks = build(vitess_shaped()).expect("a Vitess-shaped VSchema loads");
    let user = ks.table("user").unwrap();
    // The functional primary vindex routes by its first column alone.
    assert_eq!(user.column_vindexes[0].columns, vec!["id"]);
    assert_eq!(user.primary_vindex().unwrap().columns, vec!["id"]);
    // A multi-column lookup keeps all its columns (its `from` list).
    assert_eq!(user.column_vindexes[1].columns, vec!["name", "id"]);
    assert!(user.column_vindexes[1].owned);
    assert_eq!(user.column_vindexes[2].columns, vec!["phone"]);
    assert_eq!(
        ks.table("orders").unwrap().column_vindexes[0].columns,
        vec!["user_id"]
    );
}

#[test]
fn informational_fields_survive_a_json_round_trip() {
    let spec = KeyspaceJson::from_value(vitess_shaped()).unwrap();
    let user = &spec.tables["user"];
    assert_eq!(user.name, "user");
    assert_eq!(user.column_vindexes[0].type_name, "hash");
    assert_eq!(user.column_vindexes[0].columns, vec!["id", "tenant"]);
    assert_eq!(KeyspaceJson::from_value(spec.to_value()).unwrap(), spec);
    // Left out, they are not written back.
    let plain = KeyspaceJson::parse(
        r#"{"tables": {"t": {"column_vindexes": [{"column": "id", "name": "hash"}]}}}"#,
    )
    .unwrap();
    let out = plain.to_value();
    assert!(out["tables"]["t"].get("name").is_none(), "{out}");
    assert!(
        out["tables"]["t"]["column_vindexes"][0]
            .get("type")
            .is_none(),
        "{out}"
    );
}

#[test]
fn first_column_routes_for_every_single_column_functional_type() {
    for ty in [
        "hash",
        "xxhash",
        "numeric",
        "binary_md5",
        "unicode_loose_md5",
    ] {
        let ks = build(json!({
            "sharded": true,
            "vindexes": {"v": {"type": ty}},
            "tables": {"t": {"column_vindexes": [{"columns": ["A", "b", "c"], "name": "v"}]}}
        }))
        .unwrap_or_else(|e| panic!("{ty}: {e}"));
        assert_eq!(
            ks.table("t").unwrap().column_vindexes[0].columns,
            vec!["a"],
            "{ty}"
        );
    }
}

#[test]
fn secondary_functional_vindex_with_columns_uses_the_first() {
    let ks = build(json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}, "xx": {"type": "xxhash"}},
        "tables": {"t": {"column_vindexes": [
            {"column": "id", "name": "hash"},
            {"columns": ["phone", "id"], "name": "xx"}
        ]}}
    }))
    .unwrap();
    assert_eq!(
        ks.table("t").unwrap().column_vindexes[1].columns,
        vec!["phone"]
    );
}

#[test]
fn owned_multi_column_lookup_keeps_its_column_count_rule() {
    let mut v = vitess_shaped();
    v["tables"]["user"]["column_vindexes"][1]["columns"] = json!(["name"]);
    let err = build(v).unwrap_err().to_string();
    assert!(
        err.contains("has 2 'from' column(s) but the table lists 1"),
        "{err}"
    );
}

#[test]
fn mismatched_table_name_is_a_clear_error() {
    let mut v = vitess_shaped();
    v["tables"]["orders"]["name"] = json!("order");
    let err = build(v).unwrap_err().to_string();
    for f in [
        "table 'orders'",
        "'name' is \"order\"",
        "listed as \"orders\"",
    ] {
        assert!(err.contains(f), "{err} lacks {f}");
    }
}

#[test]
fn mismatched_column_vindex_type_is_a_clear_error() {
    let mut v = vitess_shaped();
    v["tables"]["user"]["column_vindexes"][2]["type"] = json!("hash");
    let err = build(v).unwrap_err().to_string();
    for f in [
        "table 'user'",
        "column_vindexes[2]",
        "'type' is \"hash\"",
        "vindex 'xx' is of type \"xxhash\"",
    ] {
        assert!(err.contains(f), "{err} lacks {f}");
    }
    // Case does not matter, and null means unset.
    let mut v = vitess_shaped();
    v["tables"]["user"]["column_vindexes"][2]["type"] = json!("XXHASH");
    v["tables"]["orders"]["column_vindexes"][0]["type"] = json!(null);
    v["tables"]["orders"]["name"] = json!(null);
    build(v).expect("case-insensitive type and nulls load");
}

#[test]
fn other_unknown_keys_are_still_rejected() {
    let mut v = vitess_shaped();
    v["tables"]["user"]["column_vindexes"][0]["typ"] = json!("hash");
    let err = build(v).unwrap_err().to_string();
    assert!(err.contains("unknown field `typ`"), "{err}");
    let mut v = vitess_shaped();
    v["tables"]["user"]["nam"] = json!("user");
    let err = build(v).unwrap_err().to_string();
    assert!(err.contains("unknown field `nam`"), "{err}");
}

//! Tests for per-keyspace building and validation ([`super::keyspace`]): valid Vitess files
//! load, and every rule has a failing case with the expected message fragment.

use super::*;
use serde_json::json;

fn build(value: serde_json::Value) -> Result<KeyspaceSchema, VSchemaError> {
    KeyspaceSchema::from_value("ks", value)
}

/// Builds a sharded keyspace with the standard vindexes and the given tables.
fn sharded(tables: serde_json::Value) -> Result<KeyspaceSchema, VSchemaError> {
    build(json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "xx": {"type": "xxhash"},
            "region": {"type": "region_experimental", "params": {"region_bytes": "1"}},
            "name_idx": {"type": "consistent_lookup",
                "params": {"table": "lookup.name_idx", "from": "name,id", "to": "keyspace_id"},
                "owner": "user"},
            "phone_idx": {"type": "consistent_lookup_unique",
                "params": {"table": "lookup.phone_idx", "from": "phone", "to": "keyspace_id"},
                "owner": "user"}
        },
        "tables": tables,
    }))
}

fn user_table() -> serde_json::Value {
    json!({"column_vindexes": [
        {"column": "id", "name": "hash"},
        {"columns": ["name", "id"], "name": "name_idx"},
        {"column": "phone", "name": "phone_idx"}
    ]})
}

/// Asserts the error message contains every fragment.
fn fails(result: Result<KeyspaceSchema, VSchemaError>, fragments: &[&str]) {
    let err = result.expect_err("expected a validation error").to_string();
    for f in fragments {
        assert!(err.contains(f), "error {err:?} lacks {f:?}");
    }
}

#[test]
fn vitess_style_sharded_keyspace_loads() {
    let ks = sharded(json!({
        "user": user_table(),
        "geo": {"column_vindexes": [{"columns": ["country", "id"], "name": "region"}]},
        "countries": {"type": "reference", "source": "commerce.countries"},
        "pinned_seq": {"type": "sequence", "pinned": "80"},
        "settings": {"pinned": "00"},
        "orders": {"column_vindexes": [{"column": "user_id", "name": "hash"},
                                       {"column": "phone", "name": "phone_idx"}]}
    }))
    .unwrap();
    assert!(ks.sharded);
    let user = ks.table("user").unwrap();
    assert_eq!(user.kind, TableKind::Normal);
    assert_eq!(user.primary_vindex().unwrap().columns, vec!["id"]);
    let owned: Vec<_> = user.owned_vindexes().map(|c| c.vindex.as_str()).collect();
    assert_eq!(owned, vec!["name_idx", "phone_idx"]);
    // phone_idx is owned by user, not by orders.
    assert!(!ks.table("orders").unwrap().column_vindexes[1].owned);
    let (cv, v) = ks.primary_vindex(user).unwrap();
    assert_eq!((cv.vindex.as_str(), v.cost, v.unique), ("hash", 1, true));
    assert!(v.functional().is_some() && !v.is_lookup());
    let phone = ks.vindex("phone_idx").unwrap();
    assert_eq!((phone.cost, phone.unique), (10, true));
    assert_eq!(phone.lookup().unwrap().from, vec!["phone"]);
    assert_eq!(phone.owner.as_deref(), Some("user"));
    assert!(ks.vindex("region").unwrap().is_multi_column());
    assert_eq!(ks.table("settings").unwrap().pinned, Some(vec![0]));
    assert_eq!(ks.table("pinned_seq").unwrap().kind, TableKind::Sequence);
    let reference = ks.table("countries").unwrap();
    assert_eq!(reference.kind, TableKind::Reference);
    assert_eq!(
        reference.source.as_ref().unwrap().to_string(),
        "commerce.countries"
    );
    // Table names are case-sensitive.
    assert!(ks.table("USER").is_none());
}

#[test]
fn text_with_extras_parses_and_keeps_raw() {
    let text = r#"{
      "sharded": true, "require_explicit_routing": true, "foreign_key_mode": "unmanaged",
      "vindexes": {"hash": {"type": "hash", "params": {"colour": "red"}}},
      "tables": {"t": {
        "column_vindexes": [{"column": "ID", "name": "hash"}],
        "auto_increment": {"column": "ID", "sequence": "seq"},
        "columns": [{"name": "Name", "type": "VARCHAR", "collation_name": "utf8mb4_bin"},
                    {"name": "id", "type": "INT64", "nullable": false}],
        "column_list_authoritative": true
      }}
    }"#;
    let ks = KeyspaceSchema::parse("ks", text).unwrap();
    assert!(ks.require_explicit_routing);
    assert_eq!(ks.foreign_key_mode, ForeignKeyMode::Unmanaged);
    assert_eq!(ks.raw["tables"]["t"]["columns"][0]["name"], "Name");
    assert_eq!(ks.vindex("hash").unwrap().unknown_params, vec!["colour"]);
    let t = ks.table("t").unwrap();
    assert_eq!(t.column_vindexes[0].columns, vec!["id"]);
    let ai = t.auto_increment.as_ref().unwrap();
    assert_eq!(
        (ai.column.as_str(), ai.sequence_table.as_str()),
        ("id", "seq")
    );
    assert_eq!(ai.sequence_keyspace, "");
    let name = t.column("NAME").unwrap();
    assert_eq!(name.sql_type, Some(crate::vindex::SqlType::VarChar));
    assert_eq!(name.collation_name.as_deref(), Some("utf8mb4_bin"));
    assert_eq!(t.column("id").unwrap().nullable, Some(false));
    assert!(t.column_list_authoritative);
}

#[test]
fn unsharded_keyspace_allows_plain_tables_and_sequences() {
    let ks = build(
        json!({"tables": {"user_seq": {"type": "sequence"}, "product": {}},
                          "vindexes": {"hash": {"type": "hash"}}}),
    )
    .unwrap();
    assert!(!ks.sharded);
    assert!(ks.table("product").unwrap().primary_vindex().is_none());
    assert_eq!(ks.table("user_seq").unwrap().kind, TableKind::Sequence);
    let empty = KeyspaceSchema::unsharded("x");
    assert_eq!(empty.raw, json!({}));
}

#[test]
fn message_names_keyspace_table_and_reason() {
    let err = sharded(json!({"t": {"column_vindexes": [{"column": "a", "name": "nope"}]}}))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "keyspace 'ks': table 't': column_vindexes[0]: vindex 'nope' is not defined in the \
         keyspace's vindexes"
    );
}

#[test]
fn column_and_columns() {
    let both =
        json!({"t": {"column_vindexes": [{"column": "a", "columns": ["a"], "name": "hash"}]}});
    fails(
        sharded(both),
        &["table 't'", "sets both 'column' and 'columns'"],
    );
    let neither = json!({"t": {"column_vindexes": [{"name": "hash"}]}});
    fails(sharded(neither), &["needs 'column' or 'columns'"]);
    let empty = json!({"t": {"column_vindexes": [{"columns": ["a", ""], "name": "region"}]}});
    fails(sharded(empty), &["empty column name"]);
    let noname = json!({"t": {"column_vindexes": [{"column": "a"}]}});
    fails(sharded(noname), &["column_vindexes[0]: missing 'name'"]);
}

#[test]
fn primary_vindex_rules() {
    let non_unique =
        json!({"t": {"column_vindexes": [{"columns": ["name", "id"], "name": "name_idx"}]}});
    fails(
        sharded(non_unique),
        &["primary vindex 'name_idx' (consistent_lookup) is not unique"],
    );
    let mut owned = user_table();
    owned["column_vindexes"] = json!([{"column": "phone", "name": "phone_idx"}]);
    fails(
        sharded(json!({"user": owned})),
        &[
            "table 'user'",
            "primary vindex 'phone_idx'",
            "cannot be owned",
        ],
    );
    let multi_second = json!({"t": {"column_vindexes": [
        {"column": "id", "name": "hash"}, {"columns": ["c", "id"], "name": "region"}]}});
    fails(
        sharded(multi_second),
        &["multi-column vindex 'region'", "only be the primary"],
    );
    let missing = json!({"t": {}});
    fails(
        sharded(missing),
        &["table 't'", "needs at least one column vindex"],
    );
}

#[test]
fn unowned_lookup_may_be_primary_when_unique() {
    let ks = sharded(json!({
        "user": user_table(),
        "by_phone": {"column_vindexes": [{"column": "phone", "name": "phone_idx"}]}
    }))
    .unwrap();
    let t = ks.table("by_phone").unwrap();
    assert_eq!(t.primary_vindex().unwrap().vindex, "phone_idx");
    assert!(!t.column_vindexes[0].owned);
}

#[test]
fn table_types_pins_and_sources() {
    fails(
        sharded(json!({"s": {"type": "sequence"}})),
        &[
            "table 's'",
            "sequence table must be in an unsharded keyspace or be pinned",
        ],
    );
    fails(
        sharded(json!({"t": {"type": "view"}})),
        &["unknown table type \"view\""],
    );
    fails(
        sharded(json!({"t": {"pinned": "8"}})),
        &["pinned \"8\" is not a valid hex"],
    );
    fails(
        sharded(json!({"t": {"pinned": "zz"}})),
        &["not a valid hex"],
    );
    fails(
        sharded(json!({"t": {"pinned": "+f"}})),
        &["not a valid hex"],
    );
    fails(
        sharded(
            json!({"t": {"source": "a.t", "column_vindexes": [{"column": "id", "name": "hash"}]}}),
        ),
        &["'source' is only allowed on reference tables"],
    );
    fails(
        sharded(json!({"r": {"type": "reference", "source": "t"}})),
        &["must be qualified"],
    );
    fails(
        sharded(json!({"r": {"type": "reference", "source": "ks.t"}})),
        &["same keyspace"],
    );
    // Reference and pinned tables need no vindex.
    sharded(json!({"user": user_table(), "r": {"type": "reference"}, "p": {"pinned": "c0"}}))
        .unwrap();
}

#[test]
fn vindex_types_and_params() {
    let one = |v: serde_json::Value| build(json!({"vindexes": {"v": v}}));
    fails(
        one(json!({"type": "hashy"})),
        &[
            "keyspace 'ks': vindex 'v'",
            "vindexType \"hashy\" not found",
        ],
    );
    fails(
        one(json!({"type": "region_json"})),
        &["region_json", "not supported"],
    );
    fails(one(json!({"params": {}})), &["vindex 'v': missing 'type'"]);
    fails(
        one(json!({"type": "region_experimental"})),
        &["region_bytes"],
    );
    fails(
        one(json!({"type": "lookup_unique", "params": {"table": "t", "from": "a"}})),
        &["vindex 'v'", "param 'to' is required"],
    );
    fails(
        one(
            json!({"type": "lookup", "params": {"table": "t", "from": "a", "to": "k", "ignore_nulls": "yes"}}),
        ),
        &["param 'ignore_nulls' must be \"true\" or \"false\""],
    );
    fails(
        one(
            json!({"type": "consistent_lookup", "params": {"table": "t", "from": "a", "to": "k", "read_lock": "nolock"}}),
        ),
        &["param 'read_lock'"],
    );
    let ks = one(json!({"type": "lookup_hash_unique",
        "params": {"table": "t", "from": "a", "to": "k", "no_verify": "true"}}))
    .unwrap();
    let v = ks.vindex("v").unwrap();
    assert_eq!(v.unknown_params, vec!["no_verify"]);
    assert_eq!(v.lookup().unwrap().kind, LookupKind::LookupHashUnique);
}

#[test]
fn owners() {
    fails(
        build(json!({"vindexes": {"h": {"type": "hash", "owner": "t"}}, "tables": {"t": {}}})),
        &["vindex 'h'", "only lookup vindexes can be owned"],
    );
    let lookup =
        json!({"type": "lookup", "params": {"table": "l", "from": "a", "to": "k"}, "owner": "t"});
    fails(
        build(json!({"vindexes": {"lk": lookup}})),
        &[
            "vindex 'lk'",
            "owner table 't' is not a table of this keyspace",
        ],
    );
    fails(
        build(json!({"vindexes": {"lk": lookup}, "tables": {"t": {}}})),
        &["owner table 't' does not list it in its column_vindexes"],
    );
    let mut user = user_table();
    user["column_vindexes"][1] = json!({"column": "name", "name": "name_idx"});
    fails(
        sharded(json!({"user": user})),
        &["owned lookup vindex 'name_idx' (consistent_lookup) has 2 'from' column(s) but the table lists 1"],
    );
}

#[test]
fn columns_and_auto_increment() {
    let t = |extra: serde_json::Value| {
        let mut table = json!({"column_vindexes": [{"column": "id", "name": "hash"}]});
        if let (Some(dst), Some(src)) = (table.as_object_mut(), extra.as_object()) {
            dst.extend(src.clone());
        }
        sharded(json!({"t": table}))
    };
    fails(
        t(json!({"columns": [{"name": "a"}, {"name": "A"}]})),
        &["duplicate column name 'A'"],
    );
    fails(
        t(json!({"columns": [{"name": "a", "type": "STRING"}]})),
        &["column 'a': unknown type \"STRING\""],
    );
    fails(
        t(json!({"columns": [{"type": "INT64"}]})),
        &["an entry has no 'name'"],
    );
    fails(
        t(json!({"auto_increment": {"column": "id"}})),
        &["auto_increment: missing 'sequence'"],
    );
    fails(
        t(json!({"auto_increment": {"sequence": "s"}})),
        &["auto_increment: missing 'column'"],
    );
    fails(
        t(json!({"auto_increment": {"column": "id", "sequence": "a.b.c"}})),
        &["auto_increment: sequence"],
    );
}

#[test]
fn strict_json_errors_name_the_keyspace() {
    fails(
        KeyspaceSchema::parse("ks", r#"{"tables": {"user": {"colum_vindexes": []}}}"#),
        &["keyspace 'ks': invalid VSchema JSON: table 'user': unknown field `colum_vindexes`"],
    );
    fails(
        KeyspaceSchema::parse("ks", "{"),
        &["keyspace 'ks': invalid VSchema JSON"],
    );
    fails(KeyspaceSchema::parse("ks", "[]"), &["invalid VSchema JSON"]);
    fails(
        build(json!({"sharded": "yes"})),
        &["invalid VSchema JSON", "invalid type"],
    );
    // Objects only: serde would otherwise read arrays positionally.
    fails(
        build(json!({"tables": {"t": ["reference"]}})),
        &["table 't'", "expected a JSON object"],
    );
    fails(
        build(json!({"tables": {"t": {"column_vindexes": [["a", "hash"]]}}})),
        &["expected a JSON object"],
    );
    fails(
        build(json!({"tables": {"t": {"auto_increment": ["id", "seq"]}}})),
        &["expected a JSON object"],
    );
}

#[test]
fn a_multi_column_unique_lookup_routes_as_non_unique() {
    let ks = build(json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "rs_idx": {"type": "consistent_lookup_unique",
                "params": {"table": "lookup.rs_idx", "from": "region,slot", "to": "keyspace_id"},
                "owner": "orders"},
            "sku_idx": {"type": "consistent_lookup_unique",
                "params": {"table": "lookup.sku_idx", "from": "sku", "to": "keyspace_id"},
                "owner": "orders"}
        },
        "tables": {"orders": {"column_vindexes": [
            {"column": "customer_id", "name": "hash"},
            {"columns": ["region", "slot"], "name": "rs_idx"},
            {"column": "sku", "name": "sku_idx"}
        ]}}
    }))
    .unwrap();
    // Its Map reads the first column alone, which may name several keyspace ids.
    assert!(!ks.vindex("rs_idx").unwrap().unique);
    assert!(ks
        .vindex("rs_idx")
        .unwrap()
        .lookup()
        .unwrap()
        .kind
        .is_unique());
    assert!(ks.vindex("sku_idx").unwrap().unique);
}

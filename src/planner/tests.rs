//! Golden planner tests (Vitess's `planbuilder/testdata` habit).
//!
//! Each `testdata/*.json` file is a list of cases `{comment, query, target?, plan | error}`:
//! `plan` is [`describe`]'s JSON of the plan, `error` the error message. `target` is the
//! session's `USE` target (`ks` or `ks:shard`). On any mismatch the whole file is written with
//! the actual results to `target/planner-actual/<file>.json` for review, and the test fails.

use super::*;
use crate::session::Target;
use crate::vschema::{KeyspaceSchema, VSchema};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The VSchema the golden cases run against.
///
/// * `customer` (sharded): `user` (id hash, auto_increment from commerce.user_seq; phone by
///   xxhash; email by an unowned lookup), `orders` (user_id hash, auto_increment id),
///   `user_extra` (user_id by `hash2`, a second hash vindex), `item` (sku by xxhash),
///   `music` (owns a lookup), `account` (authoritative columns), `country` (reference,
///   source commerce.country), `zip` (reference without source), `pinned_t` (pinned),
///   `sbtest1` (sysbench's table: id hash, auto_increment).
/// * `commerce` (unsharded): sequences, `product`, `country`.
/// * `other` (sharded): `t1` and `product` (id hash); unqualified `product` is ambiguous.
pub(crate) fn test_vschema() -> VSchema {
    let customer = json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "hash2": {"type": "hash"},
            "xxhash": {"type": "xxhash"},
            "numeric": {"type": "numeric"},
            "email_lookup": {"type": "lookup_unique",
                "params": {"table": "customer.email_idx", "from": "email", "to": "keyspace_id"}},
            "music_lookup": {"type": "lookup_hash_unique",
                "params": {"table": "customer.music_idx", "from": "music_id", "to": "user_id"},
                "owner": "music"}
        },
        "tables": {
            "user": {
                "column_vindexes": [
                    {"column": "id", "name": "hash"},
                    {"column": "phone", "name": "xxhash"},
                    {"column": "email", "name": "email_lookup"}
                ],
                "auto_increment": {"column": "id", "sequence": "commerce.user_seq"},
                "columns": [{"name": "name", "type": "VARCHAR"}, {"name": "phone", "type": "INT64"}]
            },
            "orders": {
                "column_vindexes": [{"column": "user_id", "name": "hash"}],
                "auto_increment": {"column": "id", "sequence": "commerce.order_seq"}
            },
            "user_extra": {"column_vindexes": [{"column": "user_id", "name": "hash2"}]},
            "item": {"column_vindexes": [{"column": "sku", "name": "xxhash"}]},
            "music": {
                "column_vindexes": [
                    {"column": "user_id", "name": "hash"},
                    {"column": "music_id", "name": "music_lookup"}
                ]
            },
            "account": {
                "column_vindexes": [{"column": "id", "name": "numeric"}],
                "columns": [
                    {"name": "id", "type": "INT64"},
                    {"name": "name", "type": "VARCHAR"},
                    {"name": "secret", "type": "VARCHAR", "invisible": true}
                ],
                "column_list_authoritative": true
            },
            "country": {"type": "reference", "source": "commerce.country"},
            "zip": {"type": "reference"},
            "pinned_t": {"pinned": "80"},
            "sbtest1": {
                "column_vindexes": [{"column": "id", "name": "hash"}],
                "auto_increment": {"column": "id", "sequence": "commerce.user_seq"}
            }
        }
    });
    let commerce = json!({
        "tables": {
            "user_seq": {"type": "sequence"},
            "order_seq": {"type": "sequence"},
            "product": {},
            "country": {}
        }
    });
    let other = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {
            "t1": {"column_vindexes": [{"column": "id", "name": "hash"}]},
            "product": {"column_vindexes": [{"column": "id", "name": "hash"}]}
        }
    });
    let keyspaces = vec![
        KeyspaceSchema::from_value("customer", customer).expect("customer vschema"),
        KeyspaceSchema::from_value("commerce", commerce).expect("commerce vschema"),
        KeyspaceSchema::from_value("other", other).expect("other vschema"),
    ];
    let vschema = VSchema::build(keyspaces, BTreeMap::new()).expect("test vschema");
    // item.sku is routed by xxhash: a no-pad binary collation makes it exact.
    with_column(
        &vschema,
        "item",
        "sku",
        "varchar",
        Some("utf8mb4_nopad_bin"),
    )
}

/// `vschema` with column facts saying `customer.<table>.<column>` has this type and collation.
pub(crate) fn with_column(
    vschema: &VSchema,
    table: &str,
    column: &str,
    data_type: &str,
    collation: Option<&str>,
) -> VSchema {
    let mut facts = vschema.column_facts().clone();
    facts.insert(
        "customer",
        table,
        column,
        crate::vindex::collation_compat::ColumnType {
            data_type: data_type.into(),
            collation: collation.map(String::from),
        },
    );
    facts.mark_read("customer");
    vschema.with_column_facts(std::sync::Arc::new(facts))
}

/// The route opcode and vindex of a SELECT's plan.
fn select_route(sql: &str, vschema: &VSchema) -> (String, Option<String>) {
    let Ok(Plan::Select(s)) = plan(sql, vschema, None) else {
        panic!("expected a select plan for {sql}");
    };
    (format!("{:?}", s.route.opcode), s.route.vindex.clone())
}

#[test]
fn inexact_collation_scatters_reads_and_dml() {
    let exact = test_vschema();
    let sql = "select * from item where sku = 's'";
    assert_eq!(
        select_route(sql, &exact),
        ("EqualUnique".into(), Some("xxhash".into()))
    );
    for coll in [
        "utf8mb4_general_ci",
        "utf8mb4_unicode_ci",
        "utf8mb4_bin",
        "uca1400_ai_ci",
    ] {
        let inexact = with_column(&exact, "item", "sku", "varchar", Some(coll));
        assert_eq!(
            select_route(sql, &inexact),
            ("Scatter".into(), None),
            "{coll}"
        );
        let in_list = "select * from item where sku in ('a', 'b')";
        assert_eq!(select_route(in_list, &inexact).0, "Scatter", "{coll}");
        let Ok(Plan::Dml(d)) = plan("delete from item where sku = 's'", &inexact, None) else {
            panic!("expected a dml plan");
        };
        assert_eq!(format!("{:?}", d.route.opcode), "Scatter", "{coll}");
    }
    // Unknown facts: a string column scatters, an integer-typed one (VSchema) still routes.
    let unknown =
        VSchema::build(exact.keyspaces().cloned().collect(), BTreeMap::new()).expect("rebuild");
    assert_eq!(select_route(sql, &unknown), ("Scatter".into(), None));
    assert_eq!(
        select_route("select * from user where phone = 5", &unknown).1,
        Some("xxhash".into())
    );
    assert_eq!(
        select_route("select * from user where id = 5", &unknown).1,
        Some("hash".into())
    );
}

fn target_of(s: &str) -> Target {
    match s.split_once(':') {
        Some((ks, shard)) => Target {
            keyspace: ks.to_string(),
            shard: Some(shard.to_string()),
        },
        None => Target {
            keyspace: s.to_string(),
            shard: None,
        },
    }
}

/// Plans one case and renders the result as the case's `plan` or `error`.
fn actual(vschema: &VSchema, case: &Value) -> Value {
    let query = case["query"].as_str().expect("query");
    let target = case.get("target").and_then(Value::as_str).map(target_of);
    let mut out = serde_json::Map::new();
    out.insert("comment".into(), case["comment"].clone());
    out.insert("query".into(), query.into());
    if let Some(t) = case.get("target") {
        out.insert("target".into(), t.clone());
    }
    match plan(query, vschema, target.as_ref()) {
        Ok(p) => out.insert("plan".into(), describe(&p)),
        Err(e) => out.insert("error".into(), e.to_string().into()),
    };
    Value::Object(out)
}

#[test]
fn golden_cases() {
    let vschema = test_vschema();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/planner/testdata");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("testdata dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let mut total = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read case file");
        let cases: Vec<Value> = serde_json::from_str(&text).expect("case file is a JSON list");
        let results: Vec<Value> = cases.iter().map(|c| actual(&vschema, c)).collect();
        total += cases.len();
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut bad = Vec::new();
        for (c, r) in cases.iter().zip(&results) {
            let expected = (c.get("plan"), c.get("error"));
            let got = (r.get("plan"), r.get("error"));
            if expected != got {
                bad.push(c["comment"].as_str().unwrap_or("?").to_string());
            }
        }
        if !bad.is_empty() {
            let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/planner-actual");
            std::fs::create_dir_all(&out).expect("create target/planner-actual");
            let pretty = serde_json::to_string_pretty(&results).expect("render");
            std::fs::write(out.join(&name), pretty + "\n").expect("write actual");
            failures.push(format!("{name}: {}", bad.join(" | ")));
        }
    }
    assert!(total >= 80, "only {total} golden cases");
    assert!(
        failures.is_empty(),
        "golden mismatches (actual output in target/planner-actual/):\n{}",
        failures.join("\n")
    );
}

#[test]
fn spans_are_byte_exact_with_multibyte_text() {
    let vschema = test_vschema();
    let sql = "insert into user (name, id) values ('é€', 1), ('x', NULL)";
    let Ok(Plan::Insert(p)) = plan(sql, &vschema, None) else {
        panic!("expected an insert plan");
    };
    assert_eq!(&sql[p.rows[0].span.0..p.rows[0].span.1], "('é€', 1)");
    assert_eq!(&sql[p.rows[1].span.0..p.rows[1].span.1], "('x', NULL)");
    let ai = p.rows[1]
        .auto_increment_value
        .expect("NULL id is generated");
    assert_eq!(&sql[ai.0..ai.1], "NULL");
    let sql = "select * from item where name = 'ü' and sku in ('1', 'ä', x'03')";
    let Ok(Plan::Select(s)) = plan(sql, &vschema, None) else {
        panic!("expected a select plan");
    };
    let list = s.query.in_list.expect("in list");
    assert_eq!(&sql[list.span.0..list.span.1], "'1', 'ä', x'03'");
    let items: Vec<&str> = list.items.iter().map(|&(a, b)| &sql[a..b]).collect();
    assert_eq!(items, ["'1'", "'ä'", "x'03'"]);
    let sql = "select id from user where name = 'ü' and id in (1, '2', -3)";
    let Ok(Plan::Select(s)) = plan(sql, &vschema, None) else {
        panic!("expected a select plan");
    };
    let list = s.query.in_list.expect("in list");
    let items: Vec<&str> = list.items.iter().map(|&(a, b)| &sql[a..b]).collect();
    assert_eq!(items, ["1", "'2'", "-3"]);
}

#[test]
fn errors_map_to_mysql_codes() {
    let vschema = test_vschema();
    let code = |sql: &str| {
        plan(sql, &vschema, None)
            .map(|_| ())
            .map_err(|e| e.mysql_code().0)
    };
    assert_eq!(code("select * from"), Err(1064));
    assert_eq!(
        code("select u.id from user u join orders o on o.id = u.phone for update"),
        Err(1235)
    );
    assert_eq!(code("select * from customer.nope"), Err(1146));
    assert_eq!(code("select * from nope"), Err(1046));
    assert_eq!(code("select * from product"), Err(1105));
}

#[test]
fn lookup_with_another_collation_than_its_owner_column_scatters() {
    let base = test_vschema();
    let sql = "select * from user where email = 'a@x'";
    assert_eq!(select_route(sql, &base).1, Some("email_lookup".into()));
    let owner = with_column(
        &base,
        "user",
        "email",
        "varchar",
        Some("utf8mb4_general_ci"),
    );
    let same = with_column(
        &owner,
        "email_idx",
        "email",
        "varchar",
        Some("utf8mb4_general_ci"),
    );
    assert_eq!(select_route(sql, &same).1, Some("email_lookup".into()));
    let bin = with_column(&owner, "email_idx", "email", "varchar", Some("utf8mb4_bin"));
    assert_eq!(select_route(sql, &bin), ("Scatter".into(), None));
    let m = crate::schema_facts::mismatches(&bin);
    assert_eq!(m.len(), 1, "{m:?}");
    let text = m[0].to_string();
    for part in [
        "table user,",
        "column email",
        "email_lookup",
        "utf8mb4_bin",
        "scatter",
    ] {
        assert!(text.contains(part), "{part:?} missing: {text}");
    }
}

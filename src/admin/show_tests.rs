//! Tests for [`super::show`]: every SHOW result against a VSchema and a shard config built here.

use super::show::like_match;
use super::*;
use crate::backend::Backends;
use crate::config::Config;
use crate::session::Target;
use crate::vschema::{KeyspaceSchema, VSchema};
use mysql_common::constants::{ColumnFlags, ColumnType};
use std::collections::BTreeMap;

/// Config order (customer, commerce, lookup) differs from name order on purpose.
const CONFIG: &str = r#"
[[keyspaces]]
name = "customer"
[[keyspaces.shards]]
name = "-80"
url = "mysql://root@127.0.0.1:1/vt_customer"
[[keyspaces.shards]]
name = "80-"
url = "mysql://root@127.0.0.1:2/vt_customer"
[[keyspaces]]
name = "commerce"
[[keyspaces.shards]]
name = "0"
url = "mysql://root@127.0.0.1:3/vt_commerce"
[[keyspaces]]
name = "lookup"
[[keyspaces.shards]]
name = "0"
url = "mysql://root@127.0.0.1:4/vt_lookup"
"#;

const CUSTOMER: &str = r#"{
  "sharded": true,
  "vindexes": {
    "hash": {"type": "hash"},
    "odd": {"type": "xxhash", "params": {"x": "1", "x-y": "2"}},
    "region": {"type": "region_experimental", "params": {"region_bytes": "1"}},
    "name_lookup": {
      "type": "consistent_lookup_unique",
      "params": {"table": "lookup.name_user_idx", "from": "name", "to": "keyspace_id",
                 "write_only": "true"},
      "owner": "user"
    }
  },
  "tables": {
    "user": {"column_vindexes": [{"column": "ID", "name": "hash"},
                                 {"column": "name", "name": "name_lookup"}],
             "auto_increment": {"column": "id", "sequence": "commerce.user_seq"}},
    "corder": {"column_vindexes": [{"column": "customer_id", "name": "odd"}]},
    "geo": {"column_vindexes": [{"columns": ["country", "id"], "name": "region"}]},
    "Zed": {"column_vindexes": [{"column": "id", "name": "hash"}]}
  }
}"#;

const COMMERCE: &str = r#"{
  "foreign_key_mode": "managed",
  "tables": {"user_seq": {"type": "sequence"}, "product": {}}
}"#;

fn fixture() -> (VSchema, Backends) {
    let cfg = Config::parse(CONFIG, "test").expect("config parses");
    let backends = Backends::new(&cfg).expect("backends build");
    let keyspaces = vec![
        KeyspaceSchema::parse("customer", CUSTOMER).expect("customer"),
        KeyspaceSchema::parse("commerce", COMMERCE).expect("commerce"),
        KeyspaceSchema::unsharded("lookup"),
    ];
    let counts = BTreeMap::from([
        ("customer".to_string(), 2),
        ("commerce".to_string(), 1),
        ("lookup".to_string(), 1),
    ]);
    let vschema = VSchema::build(keyspaces, counts).expect("vschema builds");
    (vschema, backends)
}

fn target(ks: &str, shard: Option<&str>) -> Target {
    Target {
        keyspace: ks.into(),
        shard: shard.map(Into::into),
    }
}

/// Parses `sql` and runs it with the fixture and `target`.
fn run(sql: &str, target: Option<&Target>) -> Result<AdminResult, AdminError> {
    let (vschema, backends) = fixture();
    let stmt = match parse_admin(sql) {
        Some(Ok(s)) => s,
        other => panic!("{sql:?} gave {other:?}"),
    };
    execute_show(&stmt, &vschema, &backends, target).expect("a SHOW statement")
}

/// Runs `sql` and returns (column names, text rows).
fn table(sql: &str, target: Option<&Target>) -> (Vec<String>, Vec<Vec<String>>) {
    let res = run(sql, target).unwrap_or_else(|e| panic!("{sql}: {e}"));
    (res.column_names(), res.text_rows())
}

fn rows(items: &[&[&str]]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

fn names(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn vitess_shards_in_config_order_with_like() {
    let (cols, got) = table("SHOW VITESS_SHARDS", None);
    assert_eq!(cols, names(&["Shards"]));
    assert_eq!(
        got,
        rows(&[
            &["customer/-80"],
            &["customer/80-"],
            &["commerce/0"],
            &["lookup/0"]
        ])
    );
    let (_, got) = table("show vitess_shards like 'customer/%'", None);
    assert_eq!(got, rows(&[&["customer/-80"], &["customer/80-"]]));
    let (_, got) = table("SHOW VITESS_SHARDS LIKE '%/0'", None);
    assert_eq!(got, rows(&[&["commerce/0"], &["lookup/0"]]));
    let (_, got) = table("SHOW VITESS_SHARDS LIKE 'c%/8_-'", None);
    assert_eq!(got, rows(&[&["customer/80-"]]));
    let (cols, got) = table("SHOW VITESS_SHARDS LIKE 'nothing%'", None);
    assert_eq!((cols.len(), got.len()), (1, 0));
}

#[test]
fn keyspaces_in_config_order() {
    let (cols, got) = table("SHOW KEYSPACES", Some(&target("customer", None)));
    assert_eq!(cols, names(&["Database"]));
    assert_eq!(got, rows(&[&["customer"], &["commerce"], &["lookup"]]));
    let (_, got) = table("SHOW KEYSPACES LIKE 'c%'", None);
    assert_eq!(got, rows(&[&["customer"], &["commerce"]]));
    // Case-sensitive, like Vitess.
    assert!(table("SHOW KEYSPACES LIKE 'C%'", None).1.is_empty());
}

#[test]
fn vschema_keyspaces() {
    let (cols, got) = table("SHOW VSCHEMA KEYSPACES", None);
    assert_eq!(
        cols,
        names(&["Keyspace", "Sharded", "Foreign Key", "Comment"])
    );
    assert_eq!(
        got,
        rows(&[
            &["commerce", "false", "managed", ""],
            &["customer", "true", "unmanaged", ""],
            &["lookup", "false", "unmanaged", ""],
        ])
    );
}

#[test]
fn vschema_tables_sorted_with_dual() {
    let customer = target("customer", Some("-80"));
    let (cols, got) = table("SHOW VSCHEMA TABLES", Some(&customer));
    assert_eq!(cols, names(&["Tables"]));
    // Byte order, as Go's sort.Strings: upper case first.
    assert_eq!(
        got,
        rows(&[&["Zed"], &["corder"], &["dual"], &["geo"], &["user"]])
    );
    let (_, got) = table("SHOW VSCHEMA TABLES FROM commerce", Some(&customer));
    assert_eq!(got, rows(&[&["dual"], &["product"], &["user_seq"]]));
    let (_, got) = table("SHOW VSCHEMA TABLES", Some(&target("lookup", None)));
    assert_eq!(got, rows(&[&["dual"]]));
    let e = run("SHOW VSCHEMA TABLES", None).unwrap_err();
    assert_eq!(e, AdminError::NoDatabase);
    assert_eq!(e.to_wire(), (1046, "3D000"));
    let e = run("SHOW VSCHEMA TABLES", Some(&target("nope", None))).unwrap_err();
    assert_eq!(e, AdminError::UnknownKeyspace("nope".into()));
    assert_eq!(e.to_wire().0, 1049);
    let e = run("SHOW VSCHEMA TABLES IN Customer", None).unwrap_err();
    assert_eq!(e, AdminError::UnknownKeyspace("Customer".into()));
}

#[test]
fn vschema_vindexes_all_and_per_keyspace() {
    let (cols, got) = table("SHOW VSCHEMA VINDEXES", None);
    assert_eq!(
        cols,
        names(&["Keyspace", "Name", "Type", "Params", "Owner"])
    );
    let customer = [
        ["customer", "hash", "hash", "", ""],
        [
            "customer",
            "name_lookup",
            "consistent_lookup_unique",
            "from=name; table=lookup.name_user_idx; to=keyspace_id; write_only=true",
            "user",
        ],
        // Sorted as `k=v` strings, so `x-y=2` comes before `x=1`.
        ["customer", "odd", "xxhash", "x-y=2; x=1", ""],
        [
            "customer",
            "region",
            "region_experimental",
            "region_bytes=1",
            "",
        ],
    ];
    let expected: Vec<Vec<String>> = customer
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect();
    // commerce and lookup have no vindexes.
    assert_eq!(got, expected);
    let (_, got) = table("SHOW VSCHEMA VINDEXES IN customer", None);
    assert_eq!(got, expected);
    let (_, got) = table("SHOW VSCHEMA VINDEXES IN commerce", None);
    assert!(got.is_empty());
    let e = run("SHOW VSCHEMA VINDEXES IN nope", None).unwrap_err();
    assert_eq!(e, AdminError::UnknownKeyspace("nope".into()));
}

#[test]
fn vschema_vindexes_on_table() {
    let customer = target("customer", None);
    let (cols, got) = table("SHOW VSCHEMA VINDEXES ON user", Some(&customer));
    assert_eq!(cols, names(&["Columns", "Name", "Type", "Params", "Owner"]));
    let user = rows(&[
        &["id", "hash", "hash", "", ""],
        &[
            "name",
            "name_lookup",
            "consistent_lookup_unique",
            "from=name; table=lookup.name_user_idx; to=keyspace_id; write_only=true",
            "user",
        ],
    ]);
    assert_eq!(got, user);
    // Qualified: works without a current keyspace, and overrides it.
    assert_eq!(
        table("SHOW VSCHEMA VINDEXES ON customer.user", None).1,
        user
    );
    let commerce = target("commerce", None);
    assert_eq!(
        table(
            "SHOW VSCHEMA VINDEXES FROM `customer`.`user`",
            Some(&commerce)
        )
        .1,
        user
    );
    let (_, got) = table("SHOW VSCHEMA VINDEXES ON geo", Some(&customer));
    assert_eq!(
        got,
        rows(&[&[
            "country, id",
            "region",
            "region_experimental",
            "region_bytes=1",
            ""
        ]])
    );
    // Unknown table: an error in a sharded keyspace, no rows in an unsharded one.
    let e = run("SHOW VSCHEMA VINDEXES ON missing", Some(&customer)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "table 'missing' does not exist in keyspace 'customer'"
    );
    assert_eq!(e.to_wire(), (1146, "42S02"));
    let (cols, got) = table("SHOW VSCHEMA VINDEXES ON commerce.missing", None);
    assert_eq!((cols.len(), got.len()), (5, 0));
    assert!(table("SHOW VSCHEMA VINDEXES ON commerce.product", None)
        .1
        .is_empty());
    // Table names are case-sensitive.
    assert!(run("SHOW VSCHEMA VINDEXES ON customer.USER", None).is_err());
    assert_eq!(
        run("SHOW VSCHEMA VINDEXES ON user", None).unwrap_err(),
        AdminError::NoDatabase
    );
    assert_eq!(
        run("SHOW VSCHEMA VINDEXES ON nope.user", Some(&customer)).unwrap_err(),
        AdminError::UnknownKeyspace("nope".into())
    );
}

#[test]
fn vitess_target() {
    let show = |t: Option<&Target>| table("SHOW VITESS_TARGET", t);
    let (cols, got) = show(None);
    assert_eq!(cols, names(&["Target"]));
    assert_eq!(got, rows(&[&[""]]));
    assert_eq!(
        show(Some(&target("customer", None))).1,
        rows(&[&["customer"]])
    );
    assert_eq!(
        show(Some(&target("customer", Some("-80")))).1,
        rows(&[&["customer:-80"]])
    );
}

#[test]
fn columns_are_not_null_varchar_and_values_bytes() {
    let res = run("SHOW VSCHEMA KEYSPACES", None).expect("runs");
    for c in &res.columns {
        assert_eq!(c.column_type(), ColumnType::MYSQL_TYPE_VAR_STRING);
        assert!(c.flags().contains(ColumnFlags::NOT_NULL_FLAG));
    }
    assert!(res
        .rows
        .iter()
        .flatten()
        .all(|v| matches!(v, mysql_async::Value::Bytes(_))));
}

#[test]
fn vexplain_is_not_a_show() {
    let (vschema, backends) = fixture();
    let stmt = AdminStatement::VExplain {
        mode: VExplainMode::Plan,
        execute_dml: false,
        statement: "select 1".into(),
    };
    assert!(!stmt.is_show());
    assert!(execute_show(&stmt, &vschema, &backends, None).is_none());
    assert!(AdminStatement::ShowVitessTarget.is_show());
}

#[test]
fn like_patterns() {
    let cases = [
        ("ks/%", "ks/-80", true),
        ("ks/%", "ks", false),
        ("%", "", true),
        ("", "", true),
        ("", "a", false),
        ("_", "é", true),
        ("a_c", "abc", true),
        ("a_c", "ac", false),
        ("%80%", "customer/-80", true),
        ("%a%b%", "xaxxbx", true),
        ("%a%b", "xaxxbx", false),
        ("a\\%", "a%", true),
        ("a\\%", "ab", false),
        ("a\\_b", "a_b", true),
        ("a\\_b", "axb", false),
        ("a\\", "a\\", true),
        ("%%_", "x", true),
        ("Abc", "abc", false),
        ("c%/8_-", "customer/80-", true),
    ];
    for (pattern, text, want) in cases {
        assert_eq!(like_match(pattern, text), want, "{pattern:?} vs {text:?}");
    }
}

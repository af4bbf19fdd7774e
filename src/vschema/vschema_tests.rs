//! Tests for [`super::VSchema`]: loading from a config, cross-keyspace rules, global table
//! resolution, generations, and the repository's example files.

use super::*;
use crate::config::Config;
use serde_json::json;
use std::path::Path;

/// A config with `keyspaces` (name, shard count) whose VSchema dir is `dir`.
fn config(dir: &Path, keyspaces: &[(&str, usize)]) -> Config {
    let mut toml = String::new();
    for (name, shards) in keyspaces {
        toml.push_str(&format!("[[keyspaces]]\nname = \"{name}\"\n"));
        for i in 0..*shards {
            let shard = if *shards == 1 {
                "0".to_string()
            } else {
                format!("{:02x}-", i * 256 / shards)
            };
            toml.push_str(&format!(
                "[[keyspaces.shards]]\nname = \"{shard}\"\nurl = \"mysql://root@127.0.0.1:3306/x\"\n"
            ));
        }
    }
    let mut cfg = Config::parse(&toml, "test.toml").unwrap();
    cfg.vschema.dir = dir.to_path_buf();
    cfg
}

fn write(dir: &Path, keyspace: &str, value: serde_json::Value) {
    std::fs::write(dir.join(format!("{keyspace}.json")), value.to_string()).unwrap();
}

fn ks(name: &str, value: serde_json::Value) -> KeyspaceSchema {
    KeyspaceSchema::from_value(name, value).unwrap()
}

fn hash_table() -> serde_json::Value {
    json!({"column_vindexes": [{"column": "id", "name": "hash"}]})
}

fn sharded_with(tables: serde_json::Value) -> serde_json::Value {
    json!({"sharded": true, "vindexes": {"hash": {"type": "hash"}}, "tables": tables})
}

fn build(keyspaces: Vec<KeyspaceSchema>) -> Result<VSchema, VSchemaError> {
    VSchema::build(keyspaces, BTreeMap::new())
}

#[test]
fn repo_examples_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vschema");
    let cfg = config(&dir, &[("commerce", 1), ("customer", 2)]);
    let vs = VSchema::load(&cfg).unwrap();
    assert!(vs.is_sharded("customer") && !vs.is_sharded("commerce"));
    let customer = vs.keyspace("customer").unwrap();
    let user = customer.table("user").unwrap();
    assert_eq!(user.primary_vindex().unwrap().columns, vec!["id"]);
    let ai = user.auto_increment.as_ref().unwrap();
    assert_eq!(
        (
            ai.column.as_str(),
            ai.sequence_keyspace.as_str(),
            ai.sequence_table.as_str()
        ),
        ("id", "commerce", "user_seq")
    );
    let (k, t) = vs.find_table("user_seq").unwrap();
    assert_eq!((k.name.as_str(), t.kind), ("commerce", TableKind::Sequence));
    assert!(vs.table("commerce", "product").is_some());
}

#[test]
fn missing_file_is_unsharded_and_generation_advances() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[("main", 1)]);
    let a = VSchema::load(&cfg).unwrap();
    let b = VSchema::load(&cfg).unwrap();
    assert!(!a.is_sharded("main") && !a.is_sharded("unknown"));
    assert_eq!(a.keyspace("main").unwrap().raw, json!({}));
    assert!(a.generation() > 0 && b.generation() > a.generation());
    assert_eq!(a.sole_unsharded_keyspace().unwrap().name, "main");
    assert_eq!(VSchema::default().generation(), 0);
}

#[test]
fn multi_shard_keyspace_must_be_sharded() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[("customer", 2)]);
    let err = VSchema::load(&cfg).unwrap_err().to_string();
    assert!(err.contains("customer.json (not found)"), "{err}");
    assert!(
        err.contains("keyspace 'customer': has 2 shards but its VSchema is not sharded"),
        "{err}"
    );
    write(dir.path(), "customer", json!({"sharded": false}));
    let err = VSchema::load(&cfg).unwrap_err().to_string();
    assert!(
        !err.contains("not found") && err.contains("has 2 shards"),
        "{err}"
    );
    write(dir.path(), "customer", json!({"sharded": true}));
    assert!(VSchema::load(&cfg).unwrap().is_sharded("customer"));
}

#[test]
fn load_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[("customer", 2)]);
    write(dir.path(), "customer", sharded_with(json!({"user": {}})));
    let err = VSchema::load(&cfg).unwrap_err().to_string();
    let file = dir.path().join("customer.json").display().to_string();
    assert!(
        err.starts_with(&format!("{file}: keyspace 'customer': table 'user': ")),
        "{err}"
    );
    std::fs::write(dir.path().join("customer.json"), "{\"sharded\": tru}").unwrap();
    let err = VSchema::load(&cfg).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "{file}: keyspace 'customer': invalid VSchema JSON"
        )),
        "{err}"
    );
}

#[test]
fn sequences_resolve_across_keyspaces() {
    let commerce = || {
        ks(
            "commerce",
            json!({"tables": {"user_seq": {"type": "sequence"}, "plain": {}}}),
        )
    };
    let customer = |seq: &str| {
        let mut t = hash_table();
        t["auto_increment"] = json!({"column": "id", "sequence": seq});
        ks("customer", sharded_with(json!({"user": t})))
    };
    let vs = build(vec![commerce(), customer("user_seq")]).unwrap();
    let ai = vs
        .table("customer", "user")
        .unwrap()
        .auto_increment
        .clone()
        .unwrap();
    assert_eq!(ai.sequence_keyspace, "commerce");
    assert!(build(vec![commerce(), customer("`commerce`.user_seq")]).is_ok());
    let cases = [
        ("nowhere.user_seq", "keyspace 'nowhere' is not configured"),
        (
            "commerce.missing",
            "keyspace 'commerce' has no table 'missing'",
        ),
        ("missing", "table missing not found"),
        (
            "commerce.plain",
            "table 'commerce.plain' is not a sequence table",
        ),
    ];
    for (seq, want) in cases {
        let err = build(vec![commerce(), customer(seq)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("keyspace 'customer': table 'user': auto_increment sequence"),
            "{err}"
        );
        assert!(err.contains(want), "{err} lacks {want}");
    }
    let other = ks(
        "other",
        json!({"tables": {"user_seq": {"type": "sequence"}}}),
    );
    let err = build(vec![commerce(), other, customer("user_seq")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ambiguous table reference: user_seq (in keyspaces commerce, other)"),
        "{err}"
    );
}

#[test]
fn reference_sources_are_checked() {
    let commerce = || {
        ks(
            "commerce",
            json!({"tables": {"countries": {}, "seq": {"type": "sequence"}}}),
        )
    };
    let refs = |tables: serde_json::Value| ks("customer", sharded_with(tables));
    let ok = refs(
        json!({"countries": {"type": "reference", "source": "commerce.countries"},
                         "unlisted": {"type": "reference", "source": "commerce.unlisted"}}),
    );
    let vs = build(vec![commerce(), ok]).unwrap();
    // The reference copy steps aside for its source in global resolution.
    let (k, _) = vs.find_table("countries").unwrap();
    assert_eq!(k.name, "commerce");
    let cases = [
        (
            json!({"r": {"type": "reference", "source": "nowhere.t"}}),
            "keyspace 'nowhere' is not configured",
        ),
        (
            json!({"r": {"type": "reference", "source": "commerce.seq"}}),
            "cannot copy a sequence",
        ),
        (
            json!({"a": {"type": "reference", "source": "commerce.countries"},
                   "b": {"type": "reference", "source": "commerce.countries"}}),
            "already referenced by table 'a'",
        ),
    ];
    for (tables, want) in cases {
        let err = build(vec![commerce(), refs(tables)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("keyspace 'customer': table"), "{err}");
        assert!(err.contains(want), "{err} lacks {want}");
    }
    let sharded_src = ks("customer", sharded_with(json!({})));
    let err = build(vec![
        sharded_src,
        ks(
            "other",
            json!({"tables": {"r": {"type": "reference", "source": "customer.r"}}}),
        ),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("sharded keyspace 'customer' has no table 'r'"),
        "{err}"
    );
    let chain = ks(
        "third",
        json!({"tables": {"countries": {"type": "reference", "source": "customer.countries"}}}),
    );
    let mid = refs(json!({"countries": {"type": "reference", "source": "commerce.countries"}}));
    let err = build(vec![commerce(), mid, chain]).unwrap_err().to_string();
    assert!(err.contains("reference chains are not allowed"), "{err}");
}

#[test]
fn find_table_global_routing() {
    let a = ks(
        "a",
        sharded_with(json!({"t": hash_table(), "shared": hash_table()})),
    );
    let b = ks("b", json!({"tables": {"shared": {}, "only_b": {}}}));
    let hidden = ks(
        "hidden",
        json!({"require_explicit_routing": true, "tables": {"t": {}, "secret": {}}}),
    );
    let vs = build(vec![a, b, hidden]).unwrap();
    let (k, t) = vs.find_table("t").unwrap();
    assert_eq!((k.name.as_str(), t.name.as_str()), ("a", "t"));
    assert_eq!(vs.find_table("only_b").unwrap().0.name, "b");
    assert_eq!(
        vs.find_table("shared").unwrap_err(),
        FindTableError::Ambiguous {
            table: "shared".into(),
            keyspaces: vec!["a".into(), "b".into()]
        }
    );
    assert_eq!(
        vs.find_table("secret").unwrap_err(),
        FindTableError::NotFound("secret".into())
    );
    assert_eq!(
        vs.find_table("T").unwrap_err().to_string(),
        "table T not found"
    );
    // Still reachable when qualified.
    assert!(vs.table("hidden", "secret").is_some());
    assert!(vs.sole_unsharded_keyspace().is_none());
}

#[test]
fn with_keyspace_rebuilds_and_revalidates() {
    let commerce = ks(
        "commerce",
        json!({"tables": {"user_seq": {"type": "sequence"}}}),
    );
    let mut t = hash_table();
    t["auto_increment"] = json!({"column": "id", "sequence": "commerce.user_seq"});
    let customer = ks("customer", sharded_with(json!({"user": t})));
    let counts = BTreeMap::from([("commerce".to_string(), 1), ("customer".to_string(), 2)]);
    let vs = VSchema::build(vec![commerce, customer], counts).unwrap();
    // Dropping the sequence breaks customer.user: the change is refused, the old world stays.
    let err = vs
        .with_keyspace(ks("commerce", json!({})))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("keyspace 'commerce' has no table 'user_seq'"),
        "{err}"
    );
    // Un-sharding a two-shard keyspace is refused too.
    let err = vs
        .with_keyspace(ks("customer", json!({})))
        .unwrap_err()
        .to_string();
    assert!(err.contains("has 2 shards"), "{err}");
    let err = vs
        .with_keyspace(ks("nowhere", json!({})))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a configured keyspace"), "{err}");
    let added = ks(
        "commerce",
        json!({"tables": {"user_seq": {"type": "sequence"}, "product": {}}}),
    );
    let next = vs.with_keyspace(added).unwrap();
    assert!(next.generation() > vs.generation());
    assert!(
        next.table("commerce", "product").is_some() && vs.table("commerce", "product").is_none()
    );
    assert_eq!(next.keyspaces().count(), 2);
}

#[test]
fn duplicate_keyspaces_are_refused() {
    let err = build(vec![ks("a", json!({})), ks("a", json!({}))])
        .unwrap_err()
        .to_string();
    assert!(err.contains("keyspace 'a': defined twice"), "{err}");
}

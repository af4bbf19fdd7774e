//! `shardgate topo import` / `shardgate topo export` (issue 19, point 6) as a user runs them:
//! the real binary against a private etcd. The example VSchemas go in and come back out
//! unchanged; import overwrites the keyspaces it has files for and leaves the others; a bad
//! file is refused with its name and nothing is written; a config without `[topology] etcd`
//! and an unreachable etcd are refused with a clear message.

mod common;

use common::etcd::EtcdServer;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const KEYSPACES: [&str; 3] = ["commerce", "customer", "lookup"];

/// A config with the example keyspaces (commerce unsharded, customer and lookup two shards;
/// the shards are never contacted), VSchemas in `<dir>/vschema`, and `topology` appended.
fn write_config(dir: &Path, topology: &str) -> PathBuf {
    let mut text = String::from("[[users]]\nname = \"root\"\npassword = \"\"\n");
    for (ks, shards) in [
        ("commerce", &["0"][..]),
        ("customer", &["-80", "80-"][..]),
        ("lookup", &["-80", "80-"][..]),
    ] {
        text.push_str(&format!("[[keyspaces]]\nname = \"{ks}\"\n"));
        for shard in shards {
            text.push_str(&format!(
                "[[keyspaces.shards]]\nname = \"{shard}\"\nurl = \"mysql://root@127.0.0.1:1/vt_{ks}\"\n"
            ));
        }
    }
    text.push_str(topology);
    let path = dir.join("shardgate.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

fn etcd_section(etcd: &EtcdServer, prefix: &str) -> String {
    format!(
        "[topology]\netcd = [\"{}\"]\nprefix = \"{prefix}\"\n",
        etcd.endpoint()
    )
}

/// Copies the repository's example VSchemas into `<dir>/vschema`.
fn example_vschemas(dir: &Path) -> BTreeMap<String, serde_json::Value> {
    let target = dir.join("vschema");
    std::fs::create_dir_all(&target).expect("mkdir");
    let mut out = BTreeMap::new();
    for ks in KEYSPACES {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("vschema/{ks}.json"));
        let text = std::fs::read_to_string(&src).expect("example VSchema");
        std::fs::write(target.join(format!("{ks}.json")), &text).expect("copy");
        out.insert(ks.to_string(), serde_json::from_str(&text).expect("json"));
    }
    out
}

/// Runs `shardgate topo <args>`; returns (success, stdout, stderr).
fn topo(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shardgate"))
        .arg("topo")
        .args(args)
        .output()
        .expect("run shardgate");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every VSchema key under `prefix` with its JSON value, read with etcdctl.
fn stored(etcd: &EtcdServer, prefix: &str) -> BTreeMap<String, serde_json::Value> {
    let dir = format!("{prefix}/vschema/");
    let text = etcd.etcdctl(&["get", "--prefix", "--keys-only", &dir]);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = BTreeMap::new();
    for key in lines.iter().filter(|l| l.starts_with(&dir)) {
        let value = etcd.etcdctl(&["get", "--print-value-only", key]);
        let ks = key.trim_start_matches(&dir).to_string();
        out.insert(ks, serde_json::from_str(&value).expect("stored JSON"));
    }
    out
}

fn revision_in(report: &str) -> i64 {
    let rest = report
        .split("at revision ")
        .nth(1)
        .unwrap_or_else(|| panic!("no revision in: {report}"));
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no revision number in: {report}"))
}

#[tokio::test]
async fn import_export_round_trip_and_import_overwrites() {
    let etcd = EtcdServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &etcd_section(&etcd, "/topo-rt"));
    let config = config.to_str().expect("utf8 path");
    let files = example_vschemas(dir.path());

    // import from the config's vschema.dir.
    let (ok, out, err) = topo(&["import", "--config", config]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("imported 3 keyspace VSchema(s)")
            && out.contains("commerce, customer, lookup"),
        "{out}"
    );
    let first = revision_in(&out);
    assert!(first > 0, "{out}");
    assert_eq!(
        stored(&etcd, "/topo-rt"),
        files,
        "etcd holds the files' JSON"
    );

    // export to a directory: pretty files, equal to what went in.
    let exported = dir.path().join("exported");
    let exported_s = exported.to_str().expect("utf8");
    let (ok, out, err) = topo(&["export", "--config", config, "--to", exported_s]);
    assert!(ok, "{out}{err}");
    for ks in KEYSPACES {
        let path = exported.join(format!("{ks}.json"));
        assert!(out.contains(&path.display().to_string()), "{out}");
        let text = std::fs::read_to_string(&path).expect("exported file");
        assert!(
            text.ends_with("}\n") && text.contains("\n  "),
            "pretty: {text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(back, files[ks], "{ks}");
    }

    // export to stdout: one JSON object keyed by keyspace.
    let (ok, out, err) = topo(&["export", "--config", config]);
    assert!(ok, "{out}{err}");
    let all: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&out).expect("stdout is one JSON object");
    assert_eq!(all, files);

    // import --from a dir with only commerce: commerce is overwritten, the others are kept.
    let partial = dir.path().join("partial");
    std::fs::create_dir(&partial).expect("mkdir");
    let mut commerce = files["commerce"].clone();
    commerce["tables"]["imported_later"] = serde_json::json!({});
    std::fs::write(
        partial.join("commerce.json"),
        serde_json::to_string_pretty(&commerce).expect("json"),
    )
    .expect("write");
    let (ok, out, err) = topo(&[
        "import",
        "--config",
        config,
        "--from",
        partial.to_str().expect("utf8"),
    ]);
    assert!(ok, "{out}{err}");
    assert!(revision_in(&out) > first, "{out}");
    assert!(
        out.contains("no file for customer, lookup (left as stored in etcd)"),
        "{out}"
    );
    let now = stored(&etcd, "/topo-rt");
    assert_eq!(now["commerce"], commerce, "overwritten");
    assert_eq!(now["customer"], files["customer"], "kept");
    assert_eq!(now["lookup"], files["lookup"], "kept");
}

#[tokio::test]
async fn bad_vschema_is_refused_with_its_file_and_nothing_is_written() {
    let etcd = EtcdServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &etcd_section(&etcd, "/topo-bad"));
    let config = config.to_str().expect("utf8 path");
    let files = example_vschemas(dir.path());
    let customer = dir.path().join("vschema/customer.json");
    let good_customer = std::fs::read_to_string(&customer).expect("read");

    let bad_cases = [
        // Not JSON.
        ("{\"sharded\": tru".to_string(), "customer.json"),
        // A vindex type that does not exist.
        (
            r#"{"sharded": true, "vindexes": {"h": {"type": "no_such_vindex"}}}"#.to_string(),
            "no_such_vindex",
        ),
        // Valid alone, not with the config: two shards need a sharded VSchema.
        (r#"{"sharded": false}"#.to_string(), "not sharded"),
    ];
    for (text, needle) in &bad_cases {
        std::fs::write(&customer, text).expect("write bad file");
        let (ok, out, err) = topo(&["import", "--config", config]);
        assert!(!ok, "accepted {text}: {out}");
        assert!(
            err.contains("nothing imported")
                && err.contains("customer.json")
                && err.contains(needle),
            "{text}: {err}"
        );
        assert!(
            stored(&etcd, "/topo-bad").is_empty(),
            "{text}: something was written"
        );
    }

    // Once good files are in, a bad import changes nothing either.
    std::fs::write(&customer, &good_customer).expect("restore");
    let (ok, out, err) = topo(&["import", "--config", config]);
    assert!(ok, "{out}{err}");
    let before = etcd.etcdctl(&["get", "--prefix", "/topo-bad/vschema/", "-w", "json"]);
    std::fs::write(&customer, &bad_cases[1].0).expect("bad again");
    let (ok, _, err) = topo(&["import", "--config", config]);
    assert!(!ok && err.contains("customer.json"), "{err}");
    assert_eq!(stored(&etcd, "/topo-bad"), files);
    let after = etcd.etcdctl(&["get", "--prefix", "/topo-bad/vschema/", "-w", "json"]);
    let mod_revisions = |text: &str| -> Vec<i64> {
        let v: serde_json::Value = serde_json::from_str(text).expect("json");
        v["kvs"]
            .as_array()
            .expect("kvs")
            .iter()
            .map(|kv| kv["mod_revision"].as_i64().expect("mod_revision"))
            .collect()
    };
    assert_eq!(
        mod_revisions(&before),
        mod_revisions(&after),
        "no key moved"
    );
}

#[tokio::test]
async fn refused_without_etcd_in_the_config_or_when_etcd_is_unreachable() {
    let dir = tempfile::tempdir().expect("tempdir");
    example_vschemas(dir.path());
    let config = write_config(dir.path(), "");
    let config = config.to_str().expect("utf8 path");
    for command in ["import", "export"] {
        let (ok, out, err) = topo(&[command, "--config", config]);
        assert!(!ok, "{command}: {out}");
        assert!(err.contains("has no [topology] etcd"), "{command}: {err}");
    }

    let port = common::ports::free_port();
    let config = write_config(
        dir.path(),
        &format!("[topology]\netcd = [\"http://127.0.0.1:{port}\"]\n"),
    );
    let config = config.to_str().expect("utf8 path");
    for command in ["import", "export"] {
        let (ok, out, err) = topo(&[command, "--config", config]);
        assert!(!ok, "{command}: {out}");
        assert!(
            err.contains(&format!("/vschema/ at etcd http://127.0.0.1:{port}: "))
                || err.contains(&format!("cannot reach etcd at http://127.0.0.1:{port}")),
            "{command}: {err}"
        );
    }
}

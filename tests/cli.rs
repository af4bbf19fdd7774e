//! The `shardgate` binary's `check` command: a valid config passes; broken ones are rejected
//! with the file, the key and the reason, and a non-zero exit status.

use std::path::Path;
use std::process::Command;

const GOOD: &str = r#"
[server]
mysql_listen = "127.0.0.1:15306"
[[users]]
name = "app"
password = "secret"
[vschema]
dir = "vschema"
[[keyspaces]]
name = "commerce"
[[keyspaces.shards]]
name = "0"
url = "mysql://root@127.0.0.1:17100/vt_commerce"
[[keyspaces]]
name = "customer"
[[keyspaces.shards]]
name = "-80"
url = "mysql://root@127.0.0.1:17101/vt_customer"
[[keyspaces.shards]]
name = "80-"
url = "mysql://root@127.0.0.1:17102/vt_customer"
"#;

fn check(dir: &Path, toml: &str) -> (bool, String) {
    let path = dir.join("shardgate.toml");
    std::fs::write(&path, toml).expect("write config");
    let out = Command::new(env!("CARGO_BIN_EXE_shardgate"))
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .expect("run shardgate");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn check_accepts_good_and_names_file_key_reason_for_bad() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vschema = dir.path().join("vschema");
    std::fs::create_dir(&vschema).expect("mkdir");
    std::fs::write(vschema.join("customer.json"), r#"{"sharded": true}"#).expect("vschema");

    let (ok, out) = check(dir.path(), GOOD);
    assert!(ok, "{out}");
    assert!(out.contains("OK"), "{out}");

    let cases = [
        (
            GOOD.replace("[server]", "[server]\nlisten_port = 1"),
            "listen_port",
        ),
        (
            GOOD.replace("name = \"80-\"", "name = \"90-\""),
            "keyspaces[1].shards",
        ),
        (GOOD.replace("name = \"80-\"", "name = \"70-\""), "overlap"),
        (
            GOOD.replace("name = \"customer\"", "name = \"commerce\""),
            "duplicate keyspace",
        ),
        (
            GOOD.replace("/vt_commerce", ""),
            "keyspaces[0].shards[0].url",
        ),
    ];
    for (toml, needle) in cases {
        let (ok, out) = check(dir.path(), &toml);
        assert!(!ok, "accepted a bad config ({needle})");
        assert!(out.contains("shardgate.toml"), "names the file: {out}");
        assert!(out.contains(needle), "mentions {needle}: {out}");
    }

    // A multi-shard keyspace whose VSchema is not sharded is rejected too.
    std::fs::write(vschema.join("customer.json"), r#"{"sharded": false}"#).expect("vschema");
    let (ok, out) = check(dir.path(), GOOD);
    assert!(!ok);
    assert!(out.contains("customer"), "{out}");
}

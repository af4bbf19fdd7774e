//! `shardgate topo import` and `shardgate topo export`: copy the VSchema between the VSchema
//! files (`<dir>/<keyspace>.json`) and the etcd topology (`[topology] etcd`, keys
//! `<prefix>/vschema/<keyspace>`).
//!
//! * import reads the file of every configured keyspace that has one, validates each (a bad
//!   file is refused with its name), then the whole VSchema etcd will hold (the files over
//!   what etcd keeps for the keyspaces without a file), and only then writes every file's
//!   keyspace in one etcd transaction. It overwrites: an explicit
//!   admin action wins over whatever was stored (running proxies follow it by watch).
//! * export writes every stored keyspace VSchema to `<dir>/<keyspace>.json` (pretty, atomic
//!   replace), or prints them to stdout as one JSON object keyed by keyspace.

use crate::config::Config;
use crate::vschema::{KeyspaceSchema, VSchema};
use crate::world::topology::etcd::EtcdTopology;
use crate::world::topology::{files, KeyspaceDoc, VSchemaSnapshot};
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `shardgate topo ...`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum TopoCommand {
    /// Write the VSchema files into etcd (`[topology] etcd` of the config, under its prefix).
    ///
    /// Reads `<DIR>/<keyspace>.json` of every keyspace in the config (DIR: --from, else the
    /// config's `vschema.dir`). The whole VSchema is validated first, also together with what
    /// etcd keeps for keyspaces without a file; a bad file is refused with its name and nothing
    /// is written. Then every file's keyspace is written in one etcd transaction, OVERWRITING
    /// what etcd stored for it (keyspaces without a file keep their stored VSchema). Running
    /// proxies pick the change up by watch. Prints the keyspaces written and the etcd revision.
    Import {
        /// Path of shardgate.toml (must have `[topology] etcd`).
        #[arg(long)]
        config: PathBuf,
        /// Directory of the `<keyspace>.json` files (default: the config's `vschema.dir`).
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
    },
    /// Write every keyspace VSchema stored in etcd to files, or print them.
    ///
    /// With --to, each keyspace goes to `<DIR>/<keyspace>.json` (pretty JSON, atomic replace;
    /// DIR is created when missing; other files are left alone). Without --to, prints one JSON
    /// object `{ "<keyspace>": <VSchema>, ... }` to stdout.
    Export {
        /// Path of shardgate.toml (must have `[topology] etcd`).
        #[arg(long)]
        config: PathBuf,
        /// Directory to write `<keyspace>.json` files to (default: print to stdout).
        #[arg(long, value_name = "DIR")]
        to: Option<PathBuf>,
    },
}

/// Runs a `topo` command; messages go to stdout (to stderr when stdout carries the export).
pub async fn run(command: TopoCommand) -> anyhow::Result<()> {
    match command {
        TopoCommand::Import { config, from } => {
            let cfg = load_etcd_config(&config)?;
            let report = import(&cfg, from.as_deref()).await?;
            println!("{report}");
        }
        TopoCommand::Export { config, to } => {
            let cfg = load_etcd_config(&config)?;
            let stored = export(&cfg).await?;
            match to {
                Some(dir) => println!("{}", write_files(&cfg, &stored, &dir)?),
                None => {
                    if stored.is_empty() {
                        eprintln!("{}", nothing_stored(&cfg));
                    }
                    let text = serde_json::to_string_pretty(&stored)
                        .context("rendering the VSchema as JSON")?;
                    println!("{text}");
                }
            }
        }
    }
    Ok(())
}

/// Loads the config and refuses one without `[topology] etcd`.
fn load_etcd_config(path: &Path) -> anyhow::Result<Config> {
    let cfg = Config::load(path)?;
    if !cfg.topology.is_etcd() {
        anyhow::bail!(
            "{} has no [topology] etcd = [...]: `shardgate topo` copies the VSchema to and from \
             etcd (with the file topology the VSchema files in vschema.dir are the VSchema)",
            path.display()
        );
    }
    Ok(cfg)
}

/// `<prefix>/vschema/` of the config, for messages.
fn vschema_keys(cfg: &Config) -> String {
    format!("{}/vschema/", cfg.topology.prefix.trim_end_matches('/'))
}

fn nothing_stored(cfg: &Config) -> String {
    format!(
        "etcd ({}) holds no VSchema under {}",
        cfg.topology.etcd.join(", "),
        vschema_keys(cfg)
    )
}

/// VSchema files read for an import: the directory and each keyspace's JSON.
#[derive(Debug)]
pub struct Imported {
    /// The directory the files were read from.
    pub dir: PathBuf,
    /// `<dir>/<keyspace>.json` of every configured keyspace that has one, each valid alone.
    pub keyspaces: BTreeMap<String, serde_json::Value>,
}

impl Imported {
    fn file(&self, keyspace: &str) -> String {
        self.dir
            .join(format!("{keyspace}.json"))
            .display()
            .to_string()
    }
}

/// Reads the VSchema files to import from `dir` (default: the config's `vschema.dir`); each
/// must be valid on its own (errors name the file), and at least one must exist.
pub fn read_import(cfg: &Config, dir: Option<&Path>) -> anyhow::Result<Imported> {
    let dir = match dir {
        // --from is relative to the working directory, not to the config file.
        Some(d) => std::path::absolute(d).with_context(|| format!("resolving {}", d.display()))?,
        None => cfg.vschema_dir(),
    };
    let keyspaces =
        files::read_dir(&dir, cfg).map_err(|e| anyhow::anyhow!("nothing imported: {e}"))?;
    if keyspaces.is_empty() {
        let names: Vec<&str> = cfg.keyspaces.iter().map(|k| k.name.as_str()).collect();
        anyhow::bail!(
            "nothing imported: {} has no VSchema file of the configured keyspaces ({}.json)",
            dir.display(),
            names.join(".json, ")
        );
    }
    let imported = Imported { dir, keyspaces };
    for (keyspace, json) in &imported.keyspaces {
        KeyspaceSchema::from_value(keyspace, json.clone())
            .map_err(|e| anyhow::anyhow!("nothing imported: {}: {e}", imported.file(keyspace)))?;
    }
    Ok(imported)
}

/// Validates, as a whole, the VSchema etcd will hold after the import: the imported keyspaces
/// over what is stored for the others (a configured keyspace with neither is unsharded, as
/// for the proxies). An error about an imported keyspace names its file.
pub fn check_merged(
    cfg: &Config,
    imported: &Imported,
    stored: &BTreeMap<String, serde_json::Value>,
) -> anyhow::Result<()> {
    let mut keyspaces: BTreeMap<String, KeyspaceDoc> =
        stored.iter().map(|(k, v)| (k.clone(), doc(v))).collect();
    for (k, v) in &imported.keyspaces {
        keyspaces.insert(k.clone(), doc(v));
    }
    let snapshot = VSchemaSnapshot {
        revision: 0,
        keyspaces,
    };
    let Err(e) = crate::world::vschema_from_snapshot(cfg, &snapshot) else {
        return Ok(());
    };
    match e.keyspace() {
        Some(ks) if imported.keyspaces.contains_key(ks) => {
            anyhow::bail!("nothing imported: {}: {e}", imported.file(ks))
        }
        Some(ks) if stored.contains_key(ks) => anyhow::bail!(
            "nothing imported: the files do not fit the VSchema etcd keeps for keyspace {ks}: {e}"
        ),
        _ => anyhow::bail!("nothing imported: {e}"),
    }
}

fn doc(json: &serde_json::Value) -> KeyspaceDoc {
    KeyspaceDoc {
        json: json.clone(),
        mod_revision: 0,
    }
}

/// `topo import` (module header); returns the report to print.
pub async fn import(cfg: &Config, from: Option<&Path>) -> anyhow::Result<String> {
    let imported = read_import(cfg, from)?;
    let client = EtcdTopology::client(&cfg.topology).await?;
    let stored = EtcdTopology::export(&client, &cfg.topology.prefix)
        .await
        .map_err(|e| unreachable(cfg, "nothing imported: cannot read", e))?;
    check_merged(cfg, &imported, &stored)?;
    let revision = EtcdTopology::import(&client, &cfg.topology.prefix, &imported.keyspaces)
        .await
        .map_err(|e| unreachable(cfg, "cannot write", e))?;
    let names: Vec<&str> = imported.keyspaces.keys().map(String::as_str).collect();
    let mut report = format!(
        "imported {} keyspace VSchema(s) from {} into etcd ({}) under {} at revision \
         {revision} (overwriting what was stored): {}",
        imported.keyspaces.len(),
        imported.dir.display(),
        cfg.topology.etcd.join(", "),
        vschema_keys(cfg),
        names.join(", ")
    );
    let kept: Vec<&str> = cfg
        .keyspaces
        .iter()
        .map(|k| k.name.as_str())
        .filter(|k| !imported.keyspaces.contains_key(*k))
        .collect();
    if !kept.is_empty() {
        report.push_str(&format!(
            "\nno file for {} (left as stored in etcd)",
            kept.join(", ")
        ));
    }
    Ok(report)
}

/// Every keyspace VSchema stored under the config's prefix.
pub async fn export(cfg: &Config) -> anyhow::Result<BTreeMap<String, serde_json::Value>> {
    let client = EtcdTopology::client(&cfg.topology).await?;
    EtcdTopology::export(&client, &cfg.topology.prefix)
        .await
        .map_err(|e| unreachable(cfg, "cannot read", e))
}

/// `<what> <prefix>/vschema/ at etcd <endpoints>: <error>`.
fn unreachable(cfg: &Config, what: &str, e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!(
        "{what} {} at etcd {}: {e}",
        vschema_keys(cfg),
        cfg.topology.etcd.join(", ")
    )
}

/// Writes each keyspace to `<dir>/<keyspace>.json`; returns the report to print.
pub fn write_files(
    cfg: &Config,
    stored: &BTreeMap<String, serde_json::Value>,
    dir: &Path,
) -> anyhow::Result<String> {
    if stored.is_empty() {
        return Ok(format!("{}; nothing written", nothing_stored(cfg)));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut written = Vec::new();
    for (keyspace, json) in stored {
        let path = VSchema::save_keyspace(dir, keyspace, json)?;
        written.push(path.display().to_string());
    }
    Ok(format!(
        "exported {} keyspace VSchema(s) from etcd ({}) under {}:\n  {}",
        written.len(),
        cfg.topology.etcd.join(", "),
        vschema_keys(cfg),
        written.join("\n  ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
[[users]]
name = "root"
password = ""
[[keyspaces]]
name = "commerce"
[[keyspaces.shards]]
name = "0"
url = "mysql://root@127.0.0.1:1/vt_commerce"
[[keyspaces]]
name = "customer"
[[keyspaces.shards]]
name = "-80"
url = "mysql://root@127.0.0.1:2/vt_customer"
[[keyspaces.shards]]
name = "80-"
url = "mysql://root@127.0.0.1:3/vt_customer"
"#;

    fn config(dir: &Path) -> Config {
        let path = dir.join("shardgate.toml");
        std::fs::write(&path, CONFIG).expect("write config");
        Config::load(&path).expect("config")
    }

    #[test]
    fn import_reads_and_validates_each_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path());
        let err = read_import(&cfg, None).expect_err("no files");
        assert!(err.to_string().contains("no VSchema file"), "{err}");

        let vs = dir.path().join("vschema");
        std::fs::create_dir(&vs).expect("mkdir");
        std::fs::write(vs.join("customer.json"), r#"{"sharded": tru"#).expect("write");
        let err = read_import(&cfg, None).expect_err("not JSON");
        assert!(err.to_string().contains("customer.json"), "{err}");
        std::fs::write(
            vs.join("customer.json"),
            r#"{"sharded": true, "vindexes": {"h": {"type": "no_such_vindex"}}}"#,
        )
        .expect("write");
        let err = read_import(&cfg, Some(&vs)).expect_err("unknown vindex type");
        let text = err.to_string();
        assert!(
            text.contains("customer.json") && text.contains("no_such_vindex"),
            "{text}"
        );

        std::fs::write(vs.join("customer.json"), r#"{"sharded": true}"#).expect("write");
        let got = read_import(&cfg, Some(&vs)).expect("valid");
        assert_eq!(got.keyspaces.keys().collect::<Vec<_>>(), ["customer"]);
        assert_eq!(got.dir, vs);
    }

    #[test]
    fn merged_vschema_is_checked_with_the_stored_keyspaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path());
        let imported = |ks: &str, json: serde_json::Value| Imported {
            dir: dir.path().join("vs"),
            keyspaces: BTreeMap::from([(ks.to_string(), json)]),
        };
        let customer = imported("customer", serde_json::json!({"sharded": true}));
        check_merged(&cfg, &customer, &BTreeMap::new()).expect("alone");
        // customer has two shards: an unsharded customer file is refused, naming the file.
        let unsharded = imported("customer", serde_json::json!({"sharded": false}));
        let err = check_merged(&cfg, &unsharded, &BTreeMap::new()).expect_err("unsharded");
        assert!(err.to_string().contains("customer.json"), "{err}");
        // Importing only commerce over a stored customer that is not valid names the stored one.
        let bad_stored = BTreeMap::from([(
            "customer".to_string(),
            serde_json::json!({"sharded": false}),
        )]);
        let commerce = imported("commerce", serde_json::json!({}));
        let err = check_merged(&cfg, &commerce, &bad_stored).expect_err("stored is bad");
        assert!(
            err.to_string().contains("etcd keeps for keyspace customer"),
            "{err}"
        );
        // Importing customer replaces the stored one.
        check_merged(&cfg, &customer, &bad_stored).expect("replaced");
        // Nothing stored for customer and no file: unsharded over two shards.
        let err = check_merged(&cfg, &commerce, &BTreeMap::new()).expect_err("no customer");
        assert!(err.to_string().contains("customer"), "{err}");
    }

    #[test]
    fn export_writes_pretty_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = config(dir.path());
        let out = dir.path().join("out");
        let stored = BTreeMap::from([(
            "customer".to_string(),
            serde_json::json!({"sharded": true, "vindexes": {}}),
        )]);
        let report = write_files(&cfg, &stored, &out).expect("write");
        assert!(report.contains("customer.json"), "{report}");
        let text = std::fs::read_to_string(out.join("customer.json")).expect("read");
        assert!(text.contains("\n  \"sharded\": true"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(back, stored["customer"]);
        let none = write_files(&cfg, &BTreeMap::new(), &out).expect("empty");
        assert!(none.contains("nothing written"), "{none}");
    }
}

//! VSchema: which keyspaces are sharded, loaded from one `<keyspace>.json` per keyspace.
//!
//! Issue 2 needs only the `sharded` flag; the full Vitess model (vindexes, tables) arrives with
//! sharded routing. A keyspace without a file is unsharded.

use crate::config::Config;
use std::collections::HashMap;
use std::sync::Arc;

/// Why the VSchema could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum VSchemaError {
    /// A file exists but cannot be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not valid VSchema JSON.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// The VSchema contradicts the config.
    #[error("keyspace '{keyspace}': {reason}")]
    Invalid {
        /// The keyspace.
        keyspace: String,
        /// What is wrong.
        reason: String,
    },
}

/// One keyspace's VSchema.
#[derive(Debug, Clone, Default)]
pub struct KeyspaceSchema {
    /// Whether rows are spread over shards by vindex.
    pub sharded: bool,
    /// The file's JSON, kept for later stages and introspection.
    pub raw: serde_json::Value,
}

/// The VSchema of every configured keyspace.
#[derive(Debug, Clone, Default)]
pub struct VSchema {
    /// Keyspace name to its schema.
    pub keyspaces: HashMap<String, Arc<KeyspaceSchema>>,
}

impl VSchema {
    /// Loads `<dir>/<keyspace>.json` for every keyspace in the config.
    pub fn load(cfg: &Config) -> Result<VSchema, VSchemaError> {
        let dir = cfg.vschema_dir();
        let mut keyspaces = HashMap::new();
        for ks in &cfg.keyspaces {
            let path = dir.join(format!("{}.json", ks.name));
            let file = path.display().to_string();
            let schema = match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let raw: serde_json::Value =
                        serde_json::from_str(&text).map_err(|e| VSchemaError::Parse {
                            file: file.clone(),
                            message: e.to_string(),
                        })?;
                    let sharded = match raw.get("sharded") {
                        None => false,
                        Some(serde_json::Value::Bool(b)) => *b,
                        Some(_) => {
                            return Err(VSchemaError::Parse {
                                file,
                                message: "'sharded' must be true or false".into(),
                            })
                        }
                    };
                    KeyspaceSchema { sharded, raw }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => KeyspaceSchema::default(),
                Err(source) => return Err(VSchemaError::Read { file, source }),
            };
            if !schema.sharded && ks.shards.len() > 1 {
                return Err(VSchemaError::Invalid {
                    keyspace: ks.name.clone(),
                    reason: format!(
                        "has {} shards but its VSchema ({}) is not sharded",
                        ks.shards.len(),
                        path.display()
                    ),
                });
            }
            keyspaces.insert(ks.name.clone(), Arc::new(schema));
        }
        Ok(VSchema { keyspaces })
    }

    /// Whether `keyspace` is sharded (unknown keyspaces count as unsharded).
    pub fn is_sharded(&self, keyspace: &str) -> bool {
        self.keyspaces.get(keyspace).is_some_and(|k| k.sharded)
    }
}

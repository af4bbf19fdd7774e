//! Atomic persistence of one keyspace's VSchema file.
//!
//! [`super::VSchema::save_keyspace`] writes `<dir>/<ks>.json.tmp`, flushes it to disk, renames it
//! over `<dir>/<ks>.json` and syncs the directory, so a crash leaves either the old file or the
//! new one, never a torn file. Callers validate first (build the new [`super::VSchema`], then
//! save) and serialise saves of the same keyspace: two concurrent saves share the temp name.

use super::error::VSchemaError;
use super::VSchema;
use std::io::Write;
use std::path::{Path, PathBuf};

impl VSchema {
    /// Atomically replaces `<dir>/<keyspace>.json` with `json` (pretty-printed, trailing
    /// newline) and returns the path. The keyspace name must be usable as a file name.
    pub fn save_keyspace(
        dir: &Path,
        keyspace: &str,
        json: &serde_json::Value,
    ) -> Result<PathBuf, VSchemaError> {
        if keyspace.is_empty()
            || keyspace == "."
            || keyspace == ".."
            || keyspace.contains(['/', '\\', '\0'])
        {
            return Err(VSchemaError::keyspace_err(
                keyspace,
                "name cannot be used as a VSchema file name",
            ));
        }
        let path = dir.join(format!("{keyspace}.json"));
        let tmp = dir.join(format!("{keyspace}.json.tmp"));
        let mut text = serde_json::to_string_pretty(json).map_err(|e| VSchemaError::Write {
            file: path.display().to_string(),
            source: std::io::Error::other(e),
        })?;
        text.push('\n');
        let write_tmp = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()
        };
        if let Err(source) = write_tmp() {
            let _ = std::fs::remove_file(&tmp);
            return Err(VSchemaError::Write {
                file: tmp.display().to_string(),
                source,
            });
        }
        if let Err(source) = std::fs::rename(&tmp, &path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(VSchemaError::Write {
                file: path.display().to_string(),
                source,
            });
        }
        // Make the rename itself durable; not every platform can open a directory.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vschema::KeyspaceSchema;

    #[test]
    fn save_replaces_atomically_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ks.json"), "{\"sharded\": false}").unwrap();
        let json = serde_json::json!({
            "sharded": true,
            "vindexes": {"hash": {"type": "hash"}},
            "tables": {"t": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
        });
        let path = VSchema::save_keyspace(dir.path(), "ks", &json).unwrap();
        assert_eq!(path, dir.path().join("ks.json"));
        assert!(!dir.path().join("ks.json.tmp").exists());
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("}\n"));
        let back = KeyspaceSchema::parse("ks", &text).unwrap();
        assert!(back.sharded);
        assert_eq!(back.raw, json);
        // No other files left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn save_rejects_bad_names_and_reports_write_errors() {
        let dir = tempfile::tempdir().unwrap();
        let json = serde_json::json!({});
        for bad in ["", "..", "a/b", "a\\b"] {
            let err = VSchema::save_keyspace(dir.path(), bad, &json).unwrap_err();
            assert!(err.to_string().contains("file name"), "{err}");
        }
        let missing = dir.path().join("nope");
        let err = VSchema::save_keyspace(&missing, "ks", &json).unwrap_err();
        assert!(
            err.to_string().contains("ks.json.tmp: cannot write"),
            "{err}"
        );
    }
}

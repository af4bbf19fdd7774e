//! The file topology (the default, one proxy): each keyspace's VSchema in
//! `<vschema.dir>/<keyspace>.json`, replaced atomically; workflow streams in
//! `_shardgate.vindex_workflows` on the first shard of the workflow's target keyspace
//! ([`super::shard_streams`]). One proxy makes every change itself, so there is no watch, no
//! lease, no proxy record and no election: the revision is always 0 and every claim succeeds.

use super::shard_streams;
use super::{
    KeyspaceDoc, KeyspaceEdit, ProxyRecord, Revision, SessionState, StreamKey, StreamRow,
    TopoError, TopoFuture, Topology, TopologyKind, VSchemaSnapshot,
};
use crate::backend::{Backends, Shard};
use crate::vschema::VSchema;
use crate::world::failpoint;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

/// VSchema files and workflow rows on the shards (module header).
#[derive(Debug)]
pub struct FileTopology {
    dir: PathBuf,
    keyspaces: Vec<String>,
    backends: Arc<Backends>,
    session: watch::Sender<SessionState>,
}

impl FileTopology {
    /// The store over `dir` for the configured `keyspaces`, keeping workflow rows on `backends`.
    pub fn new(dir: PathBuf, keyspaces: Vec<String>, backends: Arc<Backends>) -> FileTopology {
        FileTopology {
            dir,
            keyspaces,
            backends,
            session: watch::Sender::new(SessionState::Healthy),
        }
    }

    fn state_shard(&self, keyspace: &str) -> Result<Arc<Shard>, TopoError> {
        self.backends
            .keyspace(keyspace)
            .and_then(|s| s.first())
            .cloned()
            .ok_or_else(|| TopoError::Store(format!("keyspace '{keyspace}' has no shards")))
    }

    fn read_all(&self) -> Result<VSchemaSnapshot, TopoError> {
        read_keyspaces(&self.dir, &self.keyspaces)
    }

    /// Writes the edits file by file; a failure puts back the files already replaced. The
    /// failpoint `save_vschema` (scoped by the first edited keyspace's state database) fails
    /// the second file.
    fn write_all(&self, edits: &[KeyspaceEdit]) -> Result<(), TopoError> {
        let scope = edits
            .first()
            .and_then(|e| self.state_shard(&e.keyspace).ok())
            .map(|s| s.database.clone())
            .unwrap_or_default();
        let before = self.read_all()?;
        let mut done: Vec<&str> = Vec::new();
        for edit in edits {
            let result = if !done.is_empty() && failpoint::hit("save_vschema", &scope) {
                Err(TopoError::Store(failpoint::message("save_vschema")))
            } else {
                self.write_one(&edit.keyspace, edit.json.as_ref())
            };
            if let Err(e) = result {
                for ks in done {
                    let old = before.keyspaces.get(ks).map(|d| &d.json);
                    let _ = self.write_one(ks, old);
                }
                return Err(e);
            }
            done.push(&edit.keyspace);
        }
        Ok(())
    }

    fn write_one(&self, keyspace: &str, json: Option<&serde_json::Value>) -> Result<(), TopoError> {
        match json {
            Some(json) => VSchema::save_keyspace(&self.dir, keyspace, json)
                .map(|_| ())
                .map_err(|e| TopoError::Store(e.to_string())),
            None => match std::fs::remove_file(self.dir.join(format!("{keyspace}.json"))) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(TopoError::Store(e.to_string())),
            },
        }
    }
}

impl Topology for FileTopology {
    fn kind(&self) -> TopologyKind {
        TopologyKind::Files
    }

    fn load_vschema(&self) -> TopoFuture<'_, VSchemaSnapshot> {
        Box::pin(async move { self.read_all() })
    }

    fn save_vschema<'a>(&'a self, edits: &'a [KeyspaceEdit]) -> TopoFuture<'a, Revision> {
        Box::pin(async move { self.write_all(edits).map(|()| 0) })
    }

    fn watch_vschema(&self) -> TopoFuture<'_, Option<tokio::sync::mpsc::Receiver<Revision>>> {
        Box::pin(async move { Ok(None) })
    }

    fn load_streams(&self) -> TopoFuture<'_, Vec<StreamRow>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for ks in &self.keyspaces {
                let Ok(shard) = self.state_shard(ks) else {
                    continue;
                };
                for row in shard_streams::load(&shard).await? {
                    // Only rows stored on the workflow's own target keyspace count (several
                    // keyspaces may share a server).
                    if target_keyspace(&row).as_deref() == Some(ks.as_str()) {
                        out.push(row);
                    }
                }
            }
            Ok(out)
        })
    }

    fn save_streams<'a>(
        &'a self,
        target_keyspace: &'a str,
        rows: &'a [StreamRow],
        _owner: Option<&'a StreamKey>,
    ) -> TopoFuture<'a, ()> {
        Box::pin(async move {
            let shard = self.state_shard(target_keyspace)?;
            if let [row] = rows {
                return shard_streams::save(&shard, row).await;
            }
            shard_streams::ensure(&shard).await?;
            let fail = failpoint::hit("save_streams", &shard.database);
            shard_streams::save_all(&shard, rows, fail).await
        })
    }

    fn delete_workflow<'a>(
        &'a self,
        target_keyspace: &'a str,
        workflow: &'a str,
    ) -> TopoFuture<'a, ()> {
        Box::pin(async move {
            let shard = self.state_shard(target_keyspace)?;
            shard_streams::delete(&shard, workflow).await
        })
    }

    fn publish_proxy<'a>(&'a self, _record: &'a ProxyRecord) -> TopoFuture<'a, ()> {
        Box::pin(async move { Ok(()) })
    }

    fn proxies(&self) -> TopoFuture<'_, Vec<ProxyRecord>> {
        Box::pin(async move { Ok(Vec::new()) })
    }

    fn claim_stream<'a>(&'a self, _key: &'a StreamKey, _proxy: &'a str) -> TopoFuture<'a, bool> {
        Box::pin(async move { Ok(true) })
    }

    fn release_stream<'a>(&'a self, _key: &'a StreamKey) -> TopoFuture<'a, ()> {
        Box::pin(async move { Ok(()) })
    }

    fn stream_owners(&self) -> TopoFuture<'_, Vec<(StreamKey, String)>> {
        Box::pin(async move { Ok(Vec::new()) })
    }

    fn session(&self) -> watch::Receiver<SessionState> {
        self.session.subscribe()
    }

    fn session_state(&self) -> SessionState {
        SessionState::Healthy
    }
}

/// The target keyspace named in a stream row's definition.
pub fn target_keyspace(row: &StreamRow) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(&row.definition)
        .ok()?
        .get("target_keyspace")?
        .as_str()
        .map(str::to_string)
}

/// The VSchema JSON of every configured keyspace that has a file in `dir` (for seeding and
/// importing into etcd).
pub fn read_dir(
    dir: &std::path::Path,
    config: &crate::config::Config,
) -> Result<BTreeMap<String, serde_json::Value>, TopoError> {
    let keyspaces: Vec<String> = config.keyspaces.iter().map(|k| k.name.clone()).collect();
    Ok(read_keyspaces(dir, &keyspaces)?
        .keyspaces
        .into_iter()
        .map(|(k, d)| (k, d.json))
        .collect())
}

/// Reads `<dir>/<ks>.json` of each keyspace that has one.
fn read_keyspaces(dir: &std::path::Path, names: &[String]) -> Result<VSchemaSnapshot, TopoError> {
    let mut keyspaces = BTreeMap::new();
    for ks in names {
        let path = dir.join(format!("{ks}.json"));
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(TopoError::Store(format!("{}: {e}", path.display()))),
        };
        let json = serde_json::from_str(&text).map_err(|e| TopoError::Corrupt {
            key: path.display().to_string(),
            reason: e.to_string(),
        })?;
        keyspaces.insert(
            ks.clone(),
            KeyspaceDoc {
                json,
                mod_revision: 0,
            },
        );
    }
    Ok(VSchemaSnapshot {
        revision: 0,
        keyspaces,
    })
}

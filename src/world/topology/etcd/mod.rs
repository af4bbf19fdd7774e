//! The etcd topology (`[topology] etcd = [...]`): any number of proxies share one cluster's
//! VSchema, workflow state and proxy records ([`keys`] gives the layout). VSchema writes are
//! compare-and-swap on each key's `mod_revision`; stream state writes by a runner are
//! conditional on its owner key; proxy records and owner keys live under this proxy's lease
//! ([`lease`]), so they vanish when the proxy dies or is cut off longer than the TTL.

mod keys;
mod lease;

pub use keys::Keys;

use super::{
    KeyspaceDoc, KeyspaceEdit, ProxyRecord, Revision, SessionState, StreamKey, StreamRow,
    TopoError, TopoFuture, Topology, TopologyKind, VSchemaSnapshot,
};
use crate::config::TopologyConfig;
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, EventType, GetOptions, PutOptions, Txn, TxnOp,
    TxnOpResponse, WatchOptions,
};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Longest wait for one etcd request: a stopped etcd must not stall a statement forever.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

/// The etcd store (module header).
#[derive(Clone)]
pub struct EtcdTopology {
    client: Client,
    keys: Keys,
    proxy_id: String,
    lease: Arc<lease::Lease>,
}

impl std::fmt::Debug for EtcdTopology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdTopology")
            .field("keys", &self.keys)
            .field("proxy_id", &self.proxy_id)
            .field("lease", &self.lease.current())
            .finish()
    }
}

fn store_err(e: impl std::fmt::Display) -> TopoError {
    TopoError::Store(e.to_string())
}

/// Runs one etcd request with [`REQUEST_TIMEOUT`].
async fn timed<T>(
    f: impl std::future::Future<Output = Result<T, etcd_client::Error>>,
) -> Result<T, TopoError> {
    match tokio::time::timeout(REQUEST_TIMEOUT, f).await {
        Ok(r) => r.map_err(store_err),
        Err(_) => Err(TopoError::Store(format!(
            "etcd did not answer within {}s",
            REQUEST_TIMEOUT.as_secs()
        ))),
    }
}

fn text(kv: &etcd_client::KeyValue) -> Result<(&str, &str), TopoError> {
    let key = kv.key_str().map_err(store_err)?;
    let value = kv.value_str().map_err(|e| TopoError::Corrupt {
        key: key.to_string(),
        reason: e.to_string(),
    })?;
    Ok((key, value))
}

fn json<T: serde::de::DeserializeOwned>(key: &str, value: &str) -> Result<T, TopoError> {
    serde_json::from_str(value).map_err(|e| TopoError::Corrupt {
        key: key.to_string(),
        reason: e.to_string(),
    })
}

fn to_json(value: &impl serde::Serialize) -> Result<String, TopoError> {
    serde_json::to_string_pretty(value).map_err(store_err)
}

impl EtcdTopology {
    /// Connects to `cfg.etcd` and takes this proxy's lease (`proxy_id` names its record).
    pub async fn connect(cfg: &TopologyConfig, proxy_id: &str) -> Result<EtcdTopology, TopoError> {
        let client = Self::client(cfg).await?;
        let lease = Arc::new(lease::Lease::new());
        let ttl = cfg.lease_ttl_secs.max(2) as i64;
        lease::start(client.clone(), lease.clone(), ttl)
            .await
            .map_err(|e| TopoError::Store(format!("cannot take a lease from etcd: {e}")))?;
        Ok(EtcdTopology {
            client,
            keys: Keys::new(&cfg.prefix),
            proxy_id: proxy_id.to_string(),
            lease,
        })
    }

    /// A client without a lease (for `shardgate topo import/export`).
    pub async fn client(cfg: &TopologyConfig) -> Result<Client, TopoError> {
        let options = ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(3))
            .with_timeout(REQUEST_TIMEOUT)
            .with_keep_alive(Duration::from_secs(1), Duration::from_secs(2));
        tokio::time::timeout(
            Duration::from_secs(5),
            Client::connect(cfg.etcd.clone(), Some(options)),
        )
        .await
        .map_err(|_| TopoError::Store(format!("cannot reach etcd at {}", cfg.etcd.join(", "))))?
        .map_err(|e| TopoError::Store(format!("cannot reach etcd at {}: {e}", cfg.etcd.join(", "))))
    }

    fn leased(&self) -> Result<PutOptions, TopoError> {
        match self.lease.current() {
            Some(id) => Ok(PutOptions::new().with_lease(id)),
            None => Err(TopoError::Store("this proxy holds no etcd lease".into())),
        }
    }

    async fn get_prefix(&self, dir: &str) -> Result<etcd_client::GetResponse, TopoError> {
        let mut c = self.client.clone();
        timed(c.get(dir, Some(GetOptions::new().with_prefix()))).await
    }

    async fn txn(&self, txn: Txn) -> Result<etcd_client::TxnResponse, TopoError> {
        let mut c = self.client.clone();
        timed(c.txn(txn)).await
    }

    /// Which edited keyspace's key moved (for the conflict message).
    async fn moved(&self, edits: &[KeyspaceEdit]) -> String {
        for e in edits {
            let mut c = self.client.clone();
            if let Ok(r) = timed(c.get(self.keys.vschema(&e.keyspace), None)).await {
                let now = r.kvs().first().map_or(0, |kv| kv.mod_revision());
                if now != e.expected {
                    return e.keyspace.clone();
                }
            }
        }
        edits
            .first()
            .map(|e| e.keyspace.clone())
            .unwrap_or_default()
    }

    /// Writes `values` as they are (no compare): `shardgate topo import`.
    pub async fn import(
        client: &Client,
        prefix: &str,
        values: &BTreeMap<String, serde_json::Value>,
    ) -> Result<Revision, TopoError> {
        let keys = Keys::new(prefix);
        let mut ops = Vec::new();
        for (ks, v) in values {
            ops.push(TxnOp::put(keys.vschema(ks), to_json(v)?, None));
        }
        let mut c = client.clone();
        let r = timed(c.txn(Txn::new().and_then(ops))).await?;
        Ok(r.header().map_or(0, |h| h.revision()))
    }

    /// Every stored keyspace VSchema: `shardgate topo export`.
    pub async fn export(
        client: &Client,
        prefix: &str,
    ) -> Result<BTreeMap<String, serde_json::Value>, TopoError> {
        let keys = Keys::new(prefix);
        let mut c = client.clone();
        let dir = keys.vschema_dir();
        let r = timed(c.get(dir.as_str(), Some(GetOptions::new().with_prefix()))).await?;
        let mut out = BTreeMap::new();
        for kv in r.kvs() {
            let (key, value) = text(kv)?;
            if let Some(parts) = Keys::parts(key, &dir) {
                out.insert(parts.join("/"), json(key, value)?);
            }
        }
        Ok(out)
    }
}

impl Topology for EtcdTopology {
    fn kind(&self) -> TopologyKind {
        TopologyKind::Etcd
    }

    fn load_vschema(&self) -> TopoFuture<'_, VSchemaSnapshot> {
        Box::pin(async move {
            let dir = self.keys.vschema_dir();
            let r = self.get_prefix(&dir).await?;
            let mut keyspaces = BTreeMap::new();
            for kv in r.kvs() {
                let (key, value) = text(kv)?;
                let Some(parts) = Keys::parts(key, &dir) else {
                    continue;
                };
                keyspaces.insert(
                    parts.join("/"),
                    KeyspaceDoc {
                        json: json(key, value)?,
                        mod_revision: kv.mod_revision(),
                    },
                );
            }
            Ok(VSchemaSnapshot {
                revision: r.header().map_or(0, |h| h.revision()),
                keyspaces,
            })
        })
    }

    fn save_vschema<'a>(&'a self, edits: &'a [KeyspaceEdit]) -> TopoFuture<'a, Revision> {
        Box::pin(async move {
            let mut compares = Vec::new();
            let mut ops = Vec::new();
            for e in edits {
                let key = self.keys.vschema(&e.keyspace);
                compares.push(if e.expected == 0 {
                    Compare::create_revision(key.clone(), CompareOp::Equal, 0)
                } else {
                    Compare::mod_revision(key.clone(), CompareOp::Equal, e.expected)
                });
                ops.push(match &e.json {
                    Some(v) => TxnOp::put(key, to_json(v)?, None),
                    None => TxnOp::delete(key, None),
                });
            }
            let r = self.txn(Txn::new().when(compares).and_then(ops)).await?;
            if !r.succeeded() {
                return Err(TopoError::Conflict {
                    keyspace: self.moved(edits).await,
                });
            }
            Ok(r.header().map_or(0, |h| h.revision()))
        })
    }

    fn watch_vschema(&self) -> TopoFuture<'_, Option<mpsc::Receiver<Revision>>> {
        Box::pin(async move {
            let mut c = self.client.clone();
            let dir = self.keys.vschema_dir();
            let mut stream = timed(c.watch(dir, Some(WatchOptions::new().with_prefix()))).await?;
            let (tx, rx) = mpsc::channel(64);
            tokio::spawn(async move {
                while let Ok(Some(resp)) = stream.message().await {
                    if resp.canceled() {
                        break;
                    }
                    let revision = resp
                        .events()
                        .iter()
                        .filter(|e| matches!(e.event_type(), EventType::Put | EventType::Delete))
                        .filter_map(|e| e.kv().map(|kv| kv.mod_revision()))
                        .max();
                    if let Some(rev) = revision {
                        if tx.send(rev).await.is_err() {
                            break;
                        }
                    }
                }
            });
            Ok(Some(rx))
        })
    }

    fn load_streams(&self) -> TopoFuture<'_, Vec<StreamRow>> {
        Box::pin(async move {
            let r = self.get_prefix(&self.keys.workflows_dir()).await?;
            r.kvs()
                .iter()
                .map(|kv| {
                    let (key, value) = text(kv)?;
                    json(key, value)
                })
                .collect()
        })
    }

    fn save_streams<'a>(
        &'a self,
        _target_keyspace: &'a str,
        rows: &'a [StreamRow],
        owner: Option<&'a StreamKey>,
    ) -> TopoFuture<'a, ()> {
        Box::pin(async move {
            let mut ops = Vec::new();
            for row in rows {
                ops.push(TxnOp::put(
                    self.keys.stream(&row.workflow, &row.source_shard),
                    to_json(row)?,
                    None,
                ));
            }
            let mut txn = Txn::new();
            if let Some(k) = owner {
                let key = self.keys.owner(&k.workflow, &k.source_shard);
                txn = txn.when(vec![Compare::value(
                    key,
                    CompareOp::Equal,
                    self.proxy_id.as_str(),
                )]);
            }
            let r = self.txn(txn.and_then(ops)).await?;
            match owner {
                Some(k) if !r.succeeded() => Err(TopoError::NotOwner {
                    workflow: k.workflow.clone(),
                    source_shard: k.source_shard.clone(),
                }),
                _ => Ok(()),
            }
        })
    }

    fn delete_workflow<'a>(
        &'a self,
        _target_keyspace: &'a str,
        workflow: &'a str,
    ) -> TopoFuture<'a, ()> {
        Box::pin(async move {
            let prefix = etcd_client::DeleteOptions::new().with_prefix();
            let ops = vec![
                TxnOp::delete(self.keys.workflow_dir(workflow), Some(prefix.clone())),
                TxnOp::delete(self.keys.owner_workflow_dir(workflow), Some(prefix)),
            ];
            self.txn(Txn::new().and_then(ops)).await.map(|_| ())
        })
    }

    fn publish_proxy<'a>(&'a self, record: &'a ProxyRecord) -> TopoFuture<'a, ()> {
        Box::pin(async move {
            let options = self.leased()?;
            let mut c = self.client.clone();
            timed(c.put(self.keys.proxy(&record.id), to_json(record)?, Some(options)))
                .await
                .map(|_| ())
        })
    }

    fn proxies(&self) -> TopoFuture<'_, Vec<ProxyRecord>> {
        Box::pin(async move {
            let r = self.get_prefix(&self.keys.proxies_dir()).await?;
            r.kvs()
                .iter()
                .map(|kv| {
                    let (key, value) = text(kv)?;
                    json(key, value)
                })
                .collect()
        })
    }

    fn claim_stream<'a>(&'a self, key: &'a StreamKey, proxy_id: &'a str) -> TopoFuture<'a, bool> {
        Box::pin(async move {
            let owner = self.keys.owner(&key.workflow, &key.source_shard);
            let options = self.leased()?;
            let txn = Txn::new()
                .when(vec![Compare::create_revision(
                    owner.clone(),
                    CompareOp::Equal,
                    0,
                )])
                .and_then(vec![TxnOp::put(owner.clone(), proxy_id, Some(options))])
                .or_else(vec![TxnOp::get(owner, None)]);
            let r = self.txn(txn).await?;
            if r.succeeded() {
                return Ok(true);
            }
            let held_by_me = r.op_responses().iter().any(|op| match op {
                TxnOpResponse::Get(g) => g.kvs().iter().any(|kv| kv.value() == proxy_id.as_bytes()),
                _ => false,
            });
            Ok(held_by_me)
        })
    }

    fn release_stream<'a>(&'a self, key: &'a StreamKey) -> TopoFuture<'a, ()> {
        Box::pin(async move {
            let owner = self.keys.owner(&key.workflow, &key.source_shard);
            let txn = Txn::new()
                .when(vec![Compare::value(
                    owner.clone(),
                    CompareOp::Equal,
                    self.proxy_id.as_str(),
                )])
                .and_then(vec![TxnOp::delete(owner, None)]);
            self.txn(txn).await.map(|_| ())
        })
    }

    fn stream_owners(&self) -> TopoFuture<'_, Vec<(StreamKey, String)>> {
        Box::pin(async move {
            let dir = self.keys.owners_dir();
            let r = self.get_prefix(&dir).await?;
            let mut out = Vec::new();
            for kv in r.kvs() {
                let (key, value) = text(kv)?;
                if let Some([workflow, source_shard]) = Keys::parts(key, &dir).as_deref() {
                    out.push((
                        StreamKey {
                            workflow: workflow.clone(),
                            source_shard: source_shard.clone(),
                        },
                        value.to_string(),
                    ));
                }
            }
            Ok(out)
        })
    }

    fn session(&self) -> watch::Receiver<SessionState> {
        self.lease.session.subscribe()
    }

    fn session_state(&self) -> SessionState {
        *self.lease.session.borrow()
    }

    fn in_step_revision(&self) -> Revision {
        self.lease.rejoined_at.load(Ordering::Acquire)
    }

    fn close(&self) -> TopoFuture<'_, ()> {
        Box::pin(async move {
            self.lease.closed.store(true, Ordering::Release);
            if let Some(id) = self.lease.current() {
                self.lease.id.store(0, Ordering::Release);
                let mut c = self.client.clone();
                timed(c.lease_revoke(id)).await?;
            }
            Ok(())
        })
    }
}

//! One test's world: its own databases on the shared servers, its own VSchema directory and its
//! own in-process proxy on a free port.

use super::cluster::{backend_url, cluster_async, run_dir, PrivateServer, SHARED_SERVERS};
use super::proxy_process::ProxyProcess;
use mysql_async::prelude::Queryable;
use shardgate::config::{
    BackendConfig, Config, KeyspaceConfig, ServerConfig, ShardConfig, UserConfig, VSchemaConfig,
};
use shardgate::server::Proxy;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT_ENV: AtomicUsize = AtomicUsize::new(1);

/// One backend connection in a shard server's PROCESSLIST ([`TestEnv::backend_sessions`]).
#[derive(Debug, Clone)]
pub struct BackendSession {
    /// Server thread id (`CONNECTION_ID()` on that connection).
    pub id: u64,
    /// What it is doing (`Sleep` when idle).
    pub command: String,
    /// Seconds in that state.
    pub time: u64,
    /// The statement it runs, if any.
    pub info: Option<String>,
}

/// A keyspace to create: its shards and, optionally, its VSchema JSON (`None`: no file, which
/// means unsharded).
#[derive(Debug, Clone)]
pub struct KeyspaceSpec {
    /// Keyspace name.
    pub name: String,
    /// Shard names (`0`, or `-80`, `80-`, ...).
    pub shards: Vec<String>,
    /// Contents of `<name>.json` in the VSchema dir.
    pub vschema: Option<serde_json::Value>,
}

impl KeyspaceSpec {
    /// An unsharded keyspace: one shard `0`, no VSchema file.
    pub fn unsharded(name: &str) -> Self {
        KeyspaceSpec {
            name: name.into(),
            shards: vec!["0".into()],
            vschema: None,
        }
    }

    /// A sharded keyspace with these shards and VSchema.
    pub fn sharded(name: &str, shards: &[&str], vschema: serde_json::Value) -> Self {
        KeyspaceSpec {
            name: name.into(),
            shards: shards.iter().map(|s| s.to_string()).collect(),
            vschema: Some(vschema),
        }
    }
}

/// What [`TestEnv::start`] builds.
#[derive(Debug, Clone)]
pub struct EnvSpec {
    /// Keyspaces, in config order (the first is the default database of [`TestEnv::client`]).
    pub keyspaces: Vec<KeyspaceSpec>,
    /// Proxy users (the first is used by [`TestEnv::client`]).
    pub users: Vec<UserConfig>,
    /// `(keyspace, shard)` pairs placed on a [`PrivateServer`] of their own instead of a shared
    /// server, so the test may kill and restart it ([`TestEnv::private_server`]).
    pub private_shards: Vec<(String, String)>,
    /// Further `[mysqld]` option lines for the private servers (`ssl_cert=...`).
    pub private_server_options: Vec<String>,
    /// Backend pool settings of the proxy.
    pub backend: BackendConfig,
    /// `[auth]` of the proxy.
    pub auth: shardgate::config::AuthConfig,
    /// `[server]` settings beyond the listeners (TLS, `connect_timeout`, ...): the env sets
    /// `mysql_listen` and `mysql_socket` itself.
    pub server: ServerConfig,
    /// `[limits]` of the proxy.
    pub limits: shardgate::config::LimitsConfig,
    /// `[log]`: the query log's sampling and slow threshold.
    pub log: shardgate::metrics::QueryLogSettings,
}

impl Default for EnvSpec {
    /// `commerce` unsharded (`0`), `customer` sharded (`-80`, `80-`, VSchema `{"sharded":true}`);
    /// users `root` (empty password, admin) and `app` / `secret`.
    fn default() -> Self {
        EnvSpec {
            keyspaces: vec![
                KeyspaceSpec::unsharded("commerce"),
                KeyspaceSpec::sharded(
                    "customer",
                    &["-80", "80-"],
                    serde_json::json!({ "sharded": true }),
                ),
            ],
            users: vec![
                UserConfig {
                    name: "root".into(),
                    password: String::new(),
                    password_hash: None,
                    admin: true,
                    keyspaces: None,
                    read_only: false,
                },
                UserConfig {
                    name: "app".into(),
                    password: "secret".into(),
                    password_hash: None,
                    admin: false,
                    keyspaces: None,
                    read_only: false,
                },
            ],
            private_shards: Vec::new(),
            private_server_options: Vec::new(),
            backend: BackendConfig::default(),
            auth: Default::default(),
            server: ServerConfig::default(),
            limits: Default::default(),
            log: Default::default(),
        }
    }
}

impl EnvSpec {
    /// Adds `ks`, replacing a keyspace of the same name.
    pub fn with_keyspace(mut self, ks: KeyspaceSpec) -> Self {
        match self.keyspaces.iter_mut().find(|k| k.name == ks.name) {
            Some(slot) => *slot = ks,
            None => self.keyspaces.push(ks),
        }
        self
    }

    /// Sets the VSchema JSON of keyspace `name` (which must be in the spec).
    pub fn with_vschema(mut self, name: &str, vschema: serde_json::Value) -> Self {
        let ks = self
            .keyspaces
            .iter_mut()
            .find(|k| k.name == name)
            .unwrap_or_else(|| panic!("EnvSpec has no keyspace '{name}'"));
        ks.vschema = Some(vschema);
        self
    }

    /// Puts `keyspace/shard` on a private server.
    pub fn with_private_shard(mut self, keyspace: &str, shard: &str) -> Self {
        self.private_shards.push((keyspace.into(), shard.into()));
        self
    }
}

/// Where one shard of the env lives.
#[derive(Debug, Clone)]
pub struct ShardPlacement {
    /// Keyspace.
    pub keyspace: String,
    /// Shard name.
    pub shard: String,
    /// Backend database, unique to this env (e.g. `t7_commerce`, `t7_customer_lo_80`).
    pub database: String,
    /// Backend server port.
    pub port: u16,
}

/// A running test environment; see the `common` module header. Call [`TestEnv::stop`] at the
/// end (a test that panics before leaks only databases, which die with the servers).
pub struct TestEnv {
    /// The in-process proxy.
    pub proxy: Proxy,
    /// The config it was started with (VSchema dir absolute, listen port 0).
    pub config: Config,
    /// This env's number (the `t<id>_` database prefix).
    pub id: usize,
    /// Every shard and where it lives.
    pub shards: Vec<ShardPlacement>,
    private: Vec<((String, String), PrivateServer)>,
    vschema_dir: tempfile::TempDir,
}

/// Database-name tag of a shard: `0` → none, `-80` → `lo_80`, `40-80` → `40_80`, `80-` → `80_hi`.
fn shard_tag(shard: &str) -> Option<String> {
    let (start, end) = shard.split_once('-')?;
    let start = if start.is_empty() { "lo" } else { start };
    let end = if end.is_empty() { "hi" } else { end };
    Some(format!(
        "{}_{}",
        start.to_ascii_lowercase(),
        end.to_ascii_lowercase()
    ))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn exec_on(port: u16, sql: &str) -> Result<(), mysql_async::Error> {
    let mut conn = mysql_async::Conn::from_url(backend_url(port, None)).await?;
    conn.query_drop(sql).await?;
    conn.disconnect().await
}

impl TestEnv {
    /// Creates the env's databases (shards spread round-robin over the shared servers), writes
    /// its VSchema files and starts its proxy on 127.0.0.1:0. Panics on any failure.
    pub async fn start(spec: EnvSpec) -> TestEnv {
        let cluster = cluster_async().await;
        let id = NEXT_ENV.fetch_add(1, Ordering::Relaxed);
        let mut private = Vec::new();
        for (ks, shard) in &spec.private_shards {
            let label = format!(
                "t{id}-{ks}-{}",
                shard_tag(shard).unwrap_or_else(|| shard.clone())
            );
            private.push((
                (ks.clone(), shard.clone()),
                PrivateServer::start_with(&label, &spec.private_server_options).await,
            ));
        }
        let mut shards = Vec::new();
        let mut keyspaces = Vec::new();
        let mut j = 0;
        for ks in &spec.keyspaces {
            let mut shard_configs = Vec::new();
            for shard in &ks.shards {
                let database = match shard_tag(shard) {
                    Some(tag) => format!("t{id}_{}_{tag}", ks.name),
                    None => format!("t{id}_{}", ks.name),
                };
                let port = match private
                    .iter()
                    .find(|((k, s), _)| k == &ks.name && s == shard)
                {
                    Some((_, server)) => server.port(),
                    None => cluster.servers[(id + j) % SHARED_SERVERS].port,
                };
                j += 1;
                exec_on(port, &format!("CREATE DATABASE `{database}`"))
                    .await
                    .unwrap_or_else(|e| panic!("creating {database} on port {port}: {e}"));
                shard_configs.push(ShardConfig {
                    name: shard.clone(),
                    url: format!("mysql://root@127.0.0.1:{port}/{database}"),
                });
                shards.push(ShardPlacement {
                    keyspace: ks.name.clone(),
                    shard: shard.clone(),
                    database,
                    port,
                });
            }
            keyspaces.push(KeyspaceConfig {
                name: ks.name.clone(),
                shards: shard_configs,
            });
        }
        std::fs::create_dir_all(run_dir()).expect("creating the run dir");
        let vschema_dir = tempfile::Builder::new()
            .prefix(&format!("vschema-t{id}-"))
            .tempdir_in(run_dir())
            .expect("creating the VSchema dir");
        for ks in &spec.keyspaces {
            if let Some(json) = &ks.vschema {
                let text = serde_json::to_string_pretty(json).expect("VSchema JSON");
                std::fs::write(vschema_dir.path().join(format!("{}.json", ks.name)), text)
                    .expect("writing a VSchema file");
            }
        }
        let config = Config {
            server: ServerConfig {
                mysql_listen: "127.0.0.1:0".into(),
                worker_threads: None,
                mysql_socket: Some(vschema_dir.path().join("shardgate.sock")),
                ..spec.server.clone()
            },
            users: spec.users.clone(),
            vschema: VSchemaConfig {
                dir: vschema_dir.path().to_path_buf(),
            },
            backend: spec.backend.clone(),
            keyspaces,
            source: None,
            limits: spec.limits.clone(),
            auth: spec.auth.clone(),
            topology: Default::default(),
            log: spec.log.clone(),
        };
        shardgate::config::validate(&config, "TestEnv")
            .unwrap_or_else(|e| panic!("invalid test config: {e}"));
        let proxy = Proxy::start(config.clone())
            .await
            .unwrap_or_else(|e| panic!("starting the proxy: {e:#}"));
        TestEnv {
            proxy,
            config,
            id,
            shards,
            private,
            vschema_dir,
        }
    }

    /// The proxy's Unix socket (`server.mysql_socket`, in the env's temporary dir).
    pub fn socket_path(&self) -> std::path::PathBuf {
        self.config
            .mysql_socket_path()
            .expect("TestEnv configures a socket")
    }

    /// The proxy's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.proxy.local_addr().port()
    }

    /// `mysql://user[:password]@127.0.0.1:PORT/[db]?prefer_socket=false` through the proxy
    /// (`prefer_socket=false` keeps mysql_async from reading `@@socket` and reconnecting to a
    /// backend's Unix socket, bypassing the proxy).
    pub fn url(&self, user: &str, password: &str, db: Option<&str>) -> String {
        let auth = if password.is_empty() {
            percent_encode(user)
        } else {
            format!("{}:{}", percent_encode(user), percent_encode(password))
        };
        format!(
            "mysql://{auth}@127.0.0.1:{}/{}?prefer_socket=false",
            self.port(),
            db.unwrap_or("")
        )
    }

    /// A connection through the proxy as `user` / `password` to `db`.
    pub async fn client_as(
        &self,
        user: &str,
        password: &str,
        db: Option<&str>,
    ) -> mysql_async::Conn {
        let url = self.url(user, password, db);
        mysql_async::Conn::from_url(url.as_str())
            .await
            .unwrap_or_else(|e| panic!("connecting to the proxy ({url}): {e}"))
    }

    /// A connection through the proxy as the spec's first user, database = first keyspace.
    pub async fn client(&self) -> mysql_async::Conn {
        let user = self.config.users.first().expect("the spec has no users");
        let db = self.config.keyspaces.first().map(|k| k.name.clone());
        self.client_as(&user.name.clone(), &user.password.clone(), db.as_deref())
            .await
    }

    fn placement(&self, keyspace: &str, shard: &str) -> &ShardPlacement {
        self.shards
            .iter()
            .find(|p| p.keyspace == keyspace && p.shard == shard)
            .unwrap_or_else(|| panic!("this env has no shard {keyspace}/{shard}"))
    }

    /// The backend database of `keyspace/shard`.
    pub fn shard_database(&self, keyspace: &str, shard: &str) -> String {
        self.placement(keyspace, shard).database.clone()
    }

    /// The backend server port of `keyspace/shard`.
    pub fn shard_port(&self, keyspace: &str, shard: &str) -> u16 {
        self.placement(keyspace, shard).port
    }

    /// A connection DIRECT to the backend database of `keyspace/shard` (bypassing the proxy), to
    /// check where rows landed.
    pub async fn shard_conn(&self, keyspace: &str, shard: &str) -> mysql_async::Conn {
        let p = self.placement(keyspace, shard);
        let url = backend_url(p.port, Some(&p.database));
        mysql_async::Conn::from_url(url.as_str())
            .await
            .unwrap_or_else(|e| panic!("connecting to {keyspace}/{shard} ({url}): {e}"))
    }

    /// The connections that use the backend database of `keyspace/shard`, from the server's
    /// PROCESSLIST (the asking connection left out). The test's databases are its own, so
    /// these are the proxy's connections to that shard.
    pub async fn backend_sessions(&self, keyspace: &str, shard: &str) -> Vec<BackendSession> {
        let mut direct = self.shard_conn(keyspace, shard).await;
        let rows: Vec<(u64, String, u64, Option<String>)> = direct
            .exec(
                "SELECT ID, COMMAND, TIME, INFO FROM information_schema.PROCESSLIST \
                 WHERE DB = ? AND ID <> CONNECTION_ID() ORDER BY ID",
                (self.shard_database(keyspace, shard),),
            )
            .await
            .expect("processlist");
        drop(direct.disconnect().await);
        rows.into_iter()
            .map(|(id, command, time, info)| BackendSession {
                id,
                command,
                time,
                info,
            })
            .collect()
    }

    /// The private server of `keyspace/shard` (see [`EnvSpec::private_shards`]).
    pub fn private_server(&self, keyspace: &str, shard: &str) -> &PrivateServer {
        self.private
            .iter()
            .find(|((k, s), _)| k == keyspace && s == shard)
            .map(|(_, server)| server)
            .unwrap_or_else(|| panic!("{keyspace}/{shard} is not on a private server"))
    }

    /// The env's VSchema directory (`<keyspace>.json` files).
    pub fn vschema_dir(&self) -> &Path {
        self.vschema_dir.path()
    }

    /// Starts a new proxy with [`TestEnv::config`] (on a new port) and shuts the old one down,
    /// e.g. to check what survives a restart.
    pub async fn restart_proxy(&mut self) {
        // The old proxy still serves its Unix socket: the new one gets a socket of its own.
        static RESTARTS: AtomicUsize = AtomicUsize::new(1);
        let n = RESTARTS.fetch_add(1, Ordering::Relaxed);
        self.config.server.mysql_socket =
            Some(self.vschema_dir.path().join(format!("shardgate-{n}.sock")));
        let new = Proxy::start(self.config.clone())
            .await
            .unwrap_or_else(|e| panic!("restarting the proxy: {e:#}"));
        std::mem::replace(&mut self.proxy, new).shutdown().await;
    }

    /// The env's config served by a `shardgate serve` child process on a port of its own (the
    /// in-process proxy keeps running, unused), with its files in the run dir; see
    /// [`ProxyProcess`]. Call it again for a second, independent process.
    pub async fn proxy_process(&self) -> ProxyProcess {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = run_dir().join(format!("proxy-t{}-{n}", self.id));
        ProxyProcess::start(&self.config, &dir).await
    }

    /// Shuts the proxy down, drops the env's databases and removes its private servers.
    pub async fn stop(self) {
        self.proxy.shutdown().await;
        for p in &self.shards {
            let on_private = self
                .private
                .iter()
                .any(|((k, s), _)| k == &p.keyspace && s == &p.shard);
            if on_private {
                continue;
            }
            exec_on(p.port, &format!("DROP DATABASE IF EXISTS `{}`", p.database))
                .await
                .unwrap_or_else(|e| panic!("dropping {} on port {}: {e}", p.database, p.port));
        }
        for (_, server) in self.private {
            server.remove().await;
        }
    }
}

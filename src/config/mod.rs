//! `shardgate.toml`: the proxy's configuration, parsed strictly and validated before start.
//!
//! Every error names the file, the key and the reason, so `shardgate check` can tell an operator
//! exactly what to fix. Unknown keys are rejected (`deny_unknown_fields`).

pub mod auth;
pub mod limits;
pub mod tls_checks;
pub mod topology;
pub mod validate;

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use auth::{AuthConfig, GreetingPlugin};
pub use limits::LimitsConfig;
pub use topology::TopologyConfig;
pub use validate::validate;

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// Path of the config file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// TOML syntax or an unknown / mistyped key.
    #[error("{file}: {message}")]
    Parse {
        /// Path of the config file.
        file: String,
        /// The parser's message, with line and key.
        message: String,
    },
    /// The file parsed but its content is inconsistent.
    #[error("{file}: {key}: {reason}")]
    Invalid {
        /// Path of the config file.
        file: String,
        /// Dotted key path of the offending entry.
        key: String,
        /// Why it is rejected.
        reason: String,
    },
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the proxy listens.
    #[serde(default)]
    pub server: ServerConfig,
    /// Users allowed to connect.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// Where the VSchema files live.
    #[serde(default)]
    pub vschema: VSchemaConfig,
    /// Backend pool tuning.
    #[serde(default)]
    pub backend: BackendConfig,
    /// The keyspaces and their shards.
    #[serde(default)]
    pub keyspaces: Vec<KeyspaceConfig>,
    /// Resource bounds (`[limits]`).
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Authentication (`[auth]`): greeting plugin, RSA key, failed-login delays.
    #[serde(default)]
    pub auth: AuthConfig,
    /// Where the shared topology lives (`[topology]`): files, or etcd for many proxies.
    #[serde(default)]
    pub topology: topology::TopologyConfig,
    /// The query log (`[log]`): sampling and the slow-statement threshold.
    #[serde(default)]
    pub log: crate::metrics::QueryLogSettings,
    /// Path the config was loaded from (for messages); not part of the file.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// `[server]`: the client-facing listener.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// `host:port` for the MySQL protocol; port 0 picks a free port.
    #[serde(default = "default_listen")]
    pub mysql_listen: String,
    /// Runtime threads; absent = 1 on hosts with at most two CPUs, else one per CPU (see
    /// `crate::runtime`, which says why). 1 is tokio's current-thread runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_threads: Option<usize>,
    /// Also serve MySQL clients on this Unix socket (relative to the config file's directory),
    /// like vtgate's `--mysql_server_socket_path`: what `mariadb -S` and same-host
    /// applications use, a cheaper hop than loopback TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mysql_socket: Option<PathBuf>,
    /// The version the proxy reports, in the handshake and for `SELECT @@version` /
    /// `VERSION()` (like vtgate's `--mysql_server_version`), exactly as written: drivers gate
    /// features on it, so both answers must agree. Absent = derived from the shards'
    /// `VERSION()` at start (`crate::server::identity`: `10.11.19-MariaDB-shardgate`, with
    /// MariaDB 10's `5.5.5-` handshake prefix), [`crate::protocol::auth::SERVER_VERSION`]
    /// until a shard answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// PEM certificate chain offered to clients that ask for TLS (relative to the config
    /// file's directory); with `tls_key`, TCP clients may upgrade (`CLIENT_SSL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `tls_cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Refuse TCP clients that did not upgrade to TLS (error 3159, as MariaDB's
    /// `require_secure_transport`); the Unix socket counts as secure.
    #[serde(default)]
    pub require_secure_transport: bool,
    /// Seconds a client has to finish the handshake (TLS included) and log in before it
    /// is dropped, as MariaDB's `connect_timeout`.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout: u64,
    /// Milliseconds a stopping proxy (SIGTERM, SIGINT) lets sessions inside a transaction
    /// finish it before closing them (their transactions roll back).
    #[serde(default = "default_shutdown_grace_ms")]
    pub shutdown_grace_ms: u64,
    /// `host:port` of the HTTP endpoint (`/metrics`, `/healthz`, `/debug/status`); absent =
    /// none. Port 0 picks a free port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_listen: Option<String>,
}

impl ServerConfig {
    /// The configured version, else the fallback the proxy announces until a shard has told
    /// its own (see [`ServerConfig::server_version`]).
    pub fn version(&self) -> &str {
        self.server_version
            .as_deref()
            .unwrap_or(crate::protocol::auth::SERVER_VERSION)
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            mysql_listen: default_listen(),
            worker_threads: None,
            mysql_socket: None,
            server_version: None,
            tls_cert: None,
            tls_key: None,
            require_secure_transport: false,
            connect_timeout: default_connect_timeout(),
            shutdown_grace_ms: default_shutdown_grace_ms(),
            http_listen: None,
        }
    }
}

fn default_connect_timeout() -> u64 {
    10
}

/// Below Docker's 10 s between SIGTERM and SIGKILL.
fn default_shutdown_grace_ms() -> u64 {
    8000
}

fn default_listen() -> String {
    "127.0.0.1:15306".into()
}

/// `[[users]]`: one account clients may log in as.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Login name.
    pub name: String,
    /// Plain password (empty allowed).
    #[serde(default)]
    pub password: String,
    /// The password as a MySQL hash instead, exclusive with `password`: `mysql_native_password`'s
    /// (`*` + 40 hex digits, `SHA1(SHA1(password))`, as `SELECT PASSWORD('...')` prints it) or
    /// `caching_sha2_password`'s (`$A$005$…` as stored in `mysql.user.authentication_string`,
    /// or that in hex, with or without `0x`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// May run admin statements that change state, and full `VERIFY VINDEX` scans.
    #[serde(default)]
    pub admin: bool,
    /// The keyspaces this user may reach; absent = every keyspace (see [`crate::access`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyspaces: Option<Vec<String>>,
    /// Only statements that read (no DML, DDL, `CALL`, write locks); default read-write.
    #[serde(default)]
    pub read_only: bool,
}

impl UserConfig {
    /// What logins are checked against: the hash when one is configured, else the password.
    /// `None` for a hash that does not parse (rejected when the config is validated), so such a
    /// user can never log in.
    pub fn credential(&self) -> Option<crate::protocol::auth::credential::Credential> {
        use crate::protocol::auth::credential::{parse_hash, Credential};
        match &self.password_hash {
            Some(h) => parse_hash(h).ok(),
            None => Some(Credential::Plain(self.password.clone())),
        }
    }
}

/// `[vschema]`: the directory with one `<keyspace>.json` per keyspace.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VSchemaConfig {
    /// Directory, relative to the config file when not absolute.
    #[serde(default = "default_vschema_dir")]
    pub dir: PathBuf,
}

impl Default for VSchemaConfig {
    fn default() -> Self {
        VSchemaConfig {
            dir: default_vschema_dir(),
        }
    }
}

fn default_vschema_dir() -> PathBuf {
    PathBuf::from("vschema")
}

/// `[backend]`: how the proxy talks to shard servers.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    /// Most connections kept open per shard pool.
    #[serde(default = "default_pool_max")]
    pub pool_max: usize,
    /// Connections kept open per shard pool even when idle.
    #[serde(default)]
    pub pool_min: usize,
    /// How long a statement waits for a backend connection, in milliseconds: a pooled one, or a
    /// new one including its TCP connect and login (mysql_async has no separate connect timeout).
    #[serde(default = "default_checkout_timeout")]
    pub checkout_timeout_ms: u64,
    /// Idle pooled connections unused this long, in milliseconds, are closed (down to
    /// `pool_min`), so a quiet proxy gives its backend connections back.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_ms: u64,
    /// How long a read from a shard may wait, in milliseconds, before the proxy checks that
    /// the server is alive (logs in on a new connection within the same time, at most 10 s).
    /// A live server is only slow and the statement waits on; one that answers no login (a
    /// stopped or hung `mariadbd`) fails the statement with "lost connection to shard" and
    /// its connection is closed. 0 = wait forever.
    #[serde(default = "default_read_timeout")]
    pub read_timeout_ms: u64,
    /// TLS to shard servers over TCP: `off` (default), `required`, `verify_ca`,
    /// `verify_identity` (see [`crate::tls::BackendTlsMode`]).
    #[serde(default)]
    pub tls: crate::tls::BackendTlsMode,
    /// PEM CA certificate(s) the shard servers' certificates must chain to (the verifying
    /// modes); relative to the config file's directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca: Option<PathBuf>,
}

impl Default for BackendConfig {
    fn default() -> Self {
        BackendConfig {
            pool_max: default_pool_max(),
            pool_min: 0,
            checkout_timeout_ms: default_checkout_timeout(),
            idle_timeout_ms: default_idle_timeout(),
            read_timeout_ms: default_read_timeout(),
            tls: Default::default(),
            tls_ca: None,
        }
    }
}

fn default_pool_max() -> usize {
    32
}
fn default_checkout_timeout() -> u64 {
    5000
}
fn default_idle_timeout() -> u64 {
    60_000
}
fn default_read_timeout() -> u64 {
    30_000
}

/// `[[keyspaces]]`: a logical database served by one or more shards.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyspaceConfig {
    /// Keyspace name as clients see it (`USE name`).
    pub name: String,
    /// The shards, each a key range on one backend database.
    pub shards: Vec<ShardConfig>,
}

/// `[[keyspaces.shards]]`: one shard and the backend database behind it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShardConfig {
    /// Vitess shard name: `0` or `-` for unsharded, `-80`, `80-`, ... for ranges.
    pub name: String,
    /// `mysql://user[:password]@host:port/database` of the backend.
    pub url: String,
}

impl Config {
    /// Reads, parses and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        let mut cfg = Self::parse(&text, &file)?;
        cfg.source = Some(path.to_path_buf());
        validate(&cfg, &file)?;
        Ok(cfg)
    }

    /// Parses TOML text without validating; `file` only labels messages.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            file: file.into(),
            message: e.to_string().trim_end().replace('\n', " "),
        })
    }

    /// The VSchema directory, resolved against the config file's directory.
    pub fn vschema_dir(&self) -> PathBuf {
        self.resolve(&self.vschema.dir)
    }

    /// `path` as written in the config: absolute as it is, relative to the config file's
    /// directory (or to the working directory for a config not read from a file).
    fn resolve(&self, path: &Path) -> PathBuf {
        match self.source.as_ref().and_then(|p| p.parent()) {
            Some(parent) if path.is_relative() => parent.join(path),
            _ => path.to_path_buf(),
        }
    }

    /// The RSA private key file of `[auth]`, resolved against the config file's directory.
    pub fn rsa_private_key_path(&self) -> Option<PathBuf> {
        self.auth
            .rsa_private_key
            .as_deref()
            .map(|p| self.resolve(p))
    }

    /// The Unix socket to listen on (`server.mysql_socket`), resolved against the config
    /// file's directory.
    pub fn mysql_socket_path(&self) -> Option<PathBuf> {
        self.server.mysql_socket.as_deref().map(|p| self.resolve(p))
    }

    /// The client-side TLS certificate and key files (`server.tls_cert`, `server.tls_key`),
    /// resolved against the config file's directory, when both are set.
    pub fn tls_cert_key_paths(&self) -> Option<(PathBuf, PathBuf)> {
        match (&self.server.tls_cert, &self.server.tls_key) {
            (Some(cert), Some(key)) => Some((self.resolve(cert), self.resolve(key))),
            _ => None,
        }
    }

    /// `backend.tls_ca`, resolved against the config file's directory.
    pub fn backend_tls_ca_path(&self) -> Option<PathBuf> {
        self.backend.tls_ca.as_deref().map(|p| self.resolve(p))
    }

    /// Renders the config back to TOML (used by `shardgate local` to write its config).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

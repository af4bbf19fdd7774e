//! The proxy server: the listener, shared state, and one task per client connection.
//!
//! `Proxy::start` builds the whole world first (config, VSchema, backend pools), binds, and only
//! then accepts; `shutdown` stops accepting, lets sessions inside a transaction finish it (up
//! to `server.shutdown_grace_ms`), closes the rest (their transactions roll back), leaves the
//! topology and closes pools:
//!
//! ```text
//!   Running ──SIGTERM/SIGINT──▶ Drain ──every session closed, or the grace period over──▶ Now
//!            idle sessions close; sessions in a transaction     the rest close; open
//!            serve until it ends, then close                    transactions roll back
//! ```

mod admin;
mod announced_values;
mod authorize;
mod backend_names;
mod client_gone;
pub mod client_stream;
mod client_tls;
mod connection;
mod cursor;
mod greeting;
pub mod identity;
mod information_schema;
mod kill;
mod last_insert_id;
mod local_answers;
pub mod login_throttle;
mod next_values;
mod observe;
mod prepared;
mod processlist_table;
mod relay;
mod routing;
mod session_values;
pub mod sessions;
mod set;
mod sharded;
mod show_results;
mod show_variables;
mod sql_prepare;
mod statement;
mod statement_timeout;
mod syntax_check;
mod tls_status;
mod topology_guard;
mod transaction;
mod views;
mod vindex_table;
mod vschema_admin;
mod workflow;

pub use sharded::PlanCache;

use crate::backend::Backends;
use crate::config::{Config, UserConfig};
use crate::world::World;
use client_stream::ClientListener;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What every connection shares. Dereferences to the [`World`] it serves (config,
/// VSchema, backends, topology), which the background workflows share too.
#[derive(Debug)]
pub struct ProxyState {
    /// Config, VSchema, backends, topology: shared with the workflows.
    pub world: Arc<World>,
    next_connection_id: AtomicU32,
    /// Statements received, all connections.
    pub questions: AtomicU64,
    /// Connections currently open.
    pub open_connections: AtomicU64,
    /// Logged-in sessions by proxy connection id (`SHOW PROCESSLIST`, `KILL`).
    pub sessions: Arc<sessions::SessionRegistry>,
    /// Plans for sharded statements.
    pub plans: sharded::PlanCache,
    /// Ids reserved from sequence tables.
    pub sequences: sharded::SequenceCache,
    /// Running lookup-vindex workflows (CreateLookupVindex backfills).
    pub workflows: Arc<crate::workflow::Workflows>,
    /// The `sql_mode` flags new backend sessions start with (`@@GLOBAL.sql_mode` of every
    /// shard, flags combined), once read; until then the mode of a session that never set
    /// it is unknown.
    pub server_sql_mode: std::sync::OnceLock<crate::sql::SqlMode>,
    /// The RSA key and caching_sha2 cache of client authentication.
    pub auth: Arc<crate::protocol::auth::AuthState>,
    /// Failed-login counts per client host, and the totals (`failed_logins()`,
    /// `delayed_logins()`).
    pub login_throttle: login_throttle::LoginThrottle,
    /// Accepts TLS from TCP clients that ask for it (`server.tls_cert` / `tls_key`); `None`
    /// when not configured, and then `CLIENT_SSL` is not offered.
    pub client_tls: Option<Arc<rustls::ServerConfig>>,
    /// The version announced to clients (configured, or derived from the shards).
    pub identity: identity::ServerIdentity,
}

impl std::ops::Deref for ProxyState {
    type Target = World;
    fn deref(&self) -> &World {
        &self.world
    }
}

impl ProxyState {
    /// Looks up a configured user.
    pub fn user(&self, name: &str) -> Option<&UserConfig> {
        self.config.users.iter().find(|u| u.name == name)
    }

    fn next_connection_id(&self) -> u32 {
        self.next_connection_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// Where a shutting-down proxy is (module header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Serving.
    Running,
    /// Not accepting; sessions in a transaction may finish it.
    Drain,
    /// Every session closes now.
    Now,
}

/// A running proxy.
pub struct Proxy {
    addr: SocketAddr,
    /// The HTTP endpoint's address, when `server.http_listen` is set.
    http_addr: Option<SocketAddr>,
    shutdown: watch::Sender<Phase>,
    /// One per listener (TCP, and the Unix socket when configured).
    accept_tasks: Vec<JoinHandle<()>>,
    /// The backend pools' upkeep (idle reaping, `pool_min`), aborted at shutdown.
    maintenance: JoinHandle<()>,
    /// Workflow adoption, following the topology, SIGHUP reloads: aborted at shutdown.
    background: Vec<JoinHandle<()>>,
    state: Arc<ProxyState>,
}

impl Proxy {
    /// Loads the VSchema, builds the pools, binds the listener and starts accepting clients.
    pub async fn start(config: Config) -> anyhow::Result<Proxy> {
        let auth = Arc::new(
            crate::protocol::auth::AuthState::new(config.rsa_private_key_path())
                .map_err(|e| anyhow::anyhow!("auth.rsa_private_key: {e}"))?,
        );
        let backends = Arc::new(Backends::new(&config)?);
        let client_tls = match config.tls_cert_key_paths() {
            Some((cert, key)) => Some(
                crate::tls::server_config(&cert, &key)
                    .map_err(|e| anyhow::anyhow!("server.tls_cert / server.tls_key: {e}"))?,
            ),
            None => None,
        };
        let listener = TcpListener::bind(&config.server.mysql_listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.mysql_listen))?;
        let addr = listener.local_addr()?;
        let http_listener =
            match &config.server.http_listen {
                Some(at) => Some(TcpListener::bind(at).await.map_err(|e| {
                    anyhow::anyhow!("server.http_listen: cannot listen on {at}: {e}")
                })?),
                None => None,
            };
        let http_addr = match &http_listener {
            Some(l) => Some(l.local_addr()?),
            None => None,
        };
        let mut listeners = vec![ClientListener::Tcp(listener)];
        if let Some(path) = config.mysql_socket_path() {
            let unix = ClientListener::bind_unix(&path)
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", path.display()))?;
            tracing::info!(path = %path.display(), "listening for MySQL clients");
            listeners.push(unix);
        }
        // Make the key before the first client needs it where full authentication is expected
        // (hashed passwords cannot take caching_sha2's fast path until cached); otherwise only
        // a wrong caching_sha2 password needs it, and it is made then.
        if config.auth.default_plugin == crate::config::GreetingPlugin::CachingSha2
            || config.users.iter().any(|u| u.password_hash.is_some())
        {
            auth.prepare_key();
        }
        let login_throttle = login_throttle::LoginThrottle::new(&config.auth);
        let config_version = config.server.server_version.clone();
        let world = Arc::new(crate::world::open(config, backends, addr).await?);
        let state = Arc::new(ProxyState {
            auth,
            login_throttle,
            workflows: Arc::new(crate::workflow::Workflows::new(world.clone())),
            world,
            next_connection_id: AtomicU32::new(1),
            questions: AtomicU64::new(0),
            open_connections: AtomicU64::new(0),
            sessions: Arc::default(),
            plans: sharded::PlanCache::default(),
            sequences: sharded::SequenceCache::default(),
            server_sql_mode: std::sync::OnceLock::new(),
            identity: identity::ServerIdentity::new(config_version.as_deref()),
            client_tls,
        });
        // Column collations decide which string vindexes route (`schema_facts`): read them
        // before accepting clients (at most 5 s; a slower read finishes in the background,
        // and until then string vindexes scatter).
        {
            let facts = state.clone();
            let task =
                tokio::spawn(async move { crate::schema_facts::refresh(&facts, true).await });
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
        }
        {
            // Read the servers' sql_mode before serving (briefly: a shard that is down must
            // not stop the proxy from starting), then keep trying in the background.
            // The shards' version likewise (clients are greeted with it), at the same time.
            let learn = state.clone();
            let mode = tokio::spawn(async move { set::learn_server_sql_mode(&learn).await });
            let learn = state.clone();
            let version = tokio::spawn(async move { identity::learn_server_version(&learn).await });
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
                let _ = mode.await;
                let _ = version.await;
            })
            .await;
        }
        let (shutdown, shutdown_rx) = watch::channel(Phase::Running);
        let mut background = {
            let resume = state.workflows.clone();
            vec![
                tokio::spawn(async move { crate::workflow::run_workflows(resume).await }),
                tokio::spawn(crate::world::follow(state.world.clone())),
                vschema_admin::spawn_sighup_reload(state.clone()),
                Backends::spawn_health_checks(&state.backends),
            ]
        };
        if let Some(listener) = http_listener {
            let (http_state, phase) = (state.clone(), shutdown_rx.clone());
            background.push(tokio::spawn(crate::http::serve(
                listener, http_state, phase,
            )));
            tracing::info!(addr = %http_addr.map(|a| a.to_string()).unwrap_or_default(), "serving /metrics, /healthz and /debug/status");
        }
        let maintenance = Backends::spawn_maintenance(
            &state.backends,
            std::time::Duration::from_millis(state.config.backend.idle_timeout_ms),
        );
        let accept_tasks = listeners
            .into_iter()
            .map(|listener| {
                let state = state.clone();
                let shutdown_rx = shutdown_rx.clone();
                tokio::spawn(async move { accept_loop(listener, state, shutdown_rx).await })
            })
            .collect();
        tracing::info!(%addr, "listening for MySQL clients");
        Ok(Proxy {
            addr,
            http_addr,
            shutdown,
            accept_tasks,
            maintenance,
            background,
            state,
        })
    }

    /// The address the listener is bound to (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The HTTP endpoint's address (`server.http_listen`), if it serves one.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// Shared state, for introspection in tests.
    pub fn state(&self) -> &Arc<ProxyState> {
        &self.state
    }

    /// Stops accepting and drains (module header): waits up to `server.shutdown_grace_ms` for
    /// sessions in a transaction to end it, then closes every session (rolling back what is
    /// left), leaves the topology and closes the backend pools.
    pub async fn shutdown(self) {
        let grace = std::time::Duration::from_millis(self.state.config.server.shutdown_grace_ms);
        let _ = self.shutdown.send(Phase::Drain);
        for task in self.accept_tasks {
            let _ = task.await;
        }
        let open = || self.state.open_connections.load(Ordering::Relaxed);
        let started = std::time::Instant::now();
        if open() > 0 {
            tracing::info!(
                sessions = open(),
                grace_ms = grace.as_millis() as u64,
                "shutting down: waiting for open transactions to end"
            );
        }
        while open() > 0 && started.elapsed() < grace {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        if open() > 0 {
            tracing::warn!(sessions = open(), "shutdown grace period over: closing the remaining sessions, rolling back their transactions");
        }
        let _ = self.shutdown.send(Phase::Now);
        // Give connections a moment to roll back and release their backend connections.
        for _ in 0..100 {
            if open() == 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.maintenance.abort();
        for task in &self.background {
            task.abort();
        }
        if let Err(e) = self.state.topology.close().await {
            tracing::warn!(error = %e, "could not leave the topology cleanly");
        }
        self.state.backends.shutdown().await;
    }
}

async fn accept_loop(
    listener: ClientListener,
    state: Arc<ProxyState>,
    mut shutdown: watch::Receiver<Phase>,
) {
    // Accept errors (EMFILE when descriptors run out) repeat every retry: logged once per streak.
    let mut failing = false;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if std::mem::take(&mut failing) {
                        tracing::info!("accepting connections again");
                    }
                    let state = state.clone();
                    let shutdown = shutdown.clone();
                    tokio::spawn(connection::admit(stream, peer, state, shutdown));
                }
                Err(e) => {
                    if !std::mem::replace(&mut failing, true) {
                        tracing::warn!(error = %e, "accept failed; retrying every 50 ms, not logged again until an accept succeeds");
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.changed() => break,
        }
    }
}

/// Waits for SIGTERM or SIGINT (Ctrl-C). With the handlers installed, both reach the process
/// also when it runs as PID 1 (in a container), where signals without a handler are ignored.
pub async fn stop_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = int.recv() => tracing::info!("SIGINT: shutting down"),
    }
    Ok(())
}

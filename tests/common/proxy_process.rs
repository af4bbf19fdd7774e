//! The proxy as a separate process: the real `shardgate serve` binary on a config file, for
//! tests that must kill it (SIGKILL) and start it again on the same port.
//!
//! ```ignore
//! let env = TestEnv::start(spec).await;               // databases + VSchema dir
//! let mut proxy = env.proxy_process().await;          // shardgate serve, own port, ready
//! let mut c = mysql_async::Conn::from_url(proxy.url(Some("customer"))).await?;
//! proxy.kill();                                       // SIGKILL, like a crash
//! proxy.restart().await;                              // same config, same port, ready again
//! proxy.stop().await;
//! ```
//!
//! The child is spawned on the harness's spawner thread with `PR_SET_PDEATHSIG = SIGKILL`, so it
//! dies with the test process even if the test is killed; dropping a [`ProxyProcess`] kills it
//! too. Its stdout and stderr go (appended across restarts) to `proxy.log` beside the config.

use super::cluster::on_spawner;
use mysql_async::prelude::Queryable;
use shardgate::config::Config;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a started proxy may take to accept a MySQL connection.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A `shardgate serve` child process; see the module header.
pub struct ProxyProcess {
    config_path: PathBuf,
    log_path: PathBuf,
    port: u16,
    child: Option<Child>,
    starts: usize,
    /// Environment variables set for the child (`SHARDGATE_LOG_FORMAT=json`, ...).
    envs: Vec<(String, String)>,
}

/// A free TCP port on 127.0.0.1, below the ephemeral range (see `super::ports`).
pub fn free_port() -> u16 {
    super::ports::free_port()
}

impl ProxyProcess {
    /// Writes `config`, listening on a free port of 127.0.0.1 instead of its own address (and on
    /// no Unix socket), to
    /// `<dir>/shardgate.toml`, starts `shardgate serve` on it and waits until it accepts MySQL
    /// connections. `config.vschema.dir` must be absolute (or relative to `dir`).
    pub async fn start(config: &Config, dir: &Path) -> ProxyProcess {
        Self::start_with_env(config, dir, &[]).await
    }

    /// [`start`](Self::start) with these environment variables set for the child (kept
    /// across restarts).
    pub async fn start_with_env(
        config: &Config,
        dir: &Path,
        envs: &[(&str, &str)],
    ) -> ProxyProcess {
        std::fs::create_dir_all(dir).expect("creating the proxy dir");
        let port = free_port();
        let mut config = config.clone();
        config.server.mysql_listen = format!("127.0.0.1:{port}");
        // TCP only: the in-process proxy of the env serves the env's Unix socket.
        config.server.mysql_socket = None;
        config.source = None;
        let config_path = dir.join("shardgate.toml");
        std::fs::write(&config_path, config.to_toml()).expect("writing the proxy config");
        let mut proxy = ProxyProcess {
            config_path,
            log_path: dir.join("proxy.log"),
            port,
            child: None,
            starts: 0,
            envs: envs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        proxy.spawn().await;
        proxy
    }

    /// The port it listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The config file it runs on.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// `mysql://root@127.0.0.1:PORT/[db]?prefer_socket=false` through this proxy.
    pub fn url(&self, db: Option<&str>) -> String {
        format!(
            "mysql://root@127.0.0.1:{}/{}?prefer_socket=false",
            self.port,
            db.unwrap_or("")
        )
    }

    /// How many times the process was started (1 after [`start`](Self::start)).
    pub fn starts(&self) -> usize {
        self.starts
    }

    /// Whether the process is alive (not killed, not exited).
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The process id while it runs (to read its memory from `/proc`).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// The log so far (stdout and stderr of every start).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Kills the process at once (SIGKILL, like a crash) and reaps it. No-op when not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills it if running, then starts it again on the same config and port; waits until it
    /// accepts connections.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    /// Sends `sig` to the process (no-op when not running).
    pub fn signal(&self, sig: i32) {
        if let Some(child) = &self.child {
            // SAFETY: signalling our own child, not yet reaped.
            unsafe { libc::kill(child.id() as i32, sig) };
        }
    }

    /// Waits up to `limit` for the process to exit; its exit status, or `None` if it still
    /// runs (or was never started).
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            let child = self.child.as_mut()?;
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Asks it to stop (SIGINT, as Ctrl-C) and waits up to 10 s, then kills it.
    pub async fn stop(mut self) {
        if let Some(child) = &mut self.child {
            // SAFETY: sending a signal to our own child, which has not been reaped yet.
            unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if !matches!(child.try_wait(), Ok(None)) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        self.kill();
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("opening the proxy log");
        let err_log = log.try_clone().expect("cloning the log handle");
        let config_path = self.config_path.clone();
        let envs = self.envs.clone();
        let child = tokio::task::spawn_blocking(move || {
            on_spawner(move |_| {
                let mut cmd = Command::new(env!("CARGO_BIN_EXE_shardgate"));
                cmd.arg("serve")
                    .arg("--config")
                    .arg(&config_path)
                    .stdin(Stdio::null())
                    .stdout(log)
                    .stderr(err_log)
                    .envs(envs);
                shardgate::local::child::die_with_parent(&mut cmd, libc::SIGKILL);
                cmd.spawn().map_err(|e| e.to_string())
            })
        })
        .await
        .expect("spawner task")
        .unwrap_or_else(|e| panic!("starting shardgate serve: {e}"));
        self.child = Some(child);
        self.starts += 1;
        self.wait_ready().await;
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        let url = self.url(None);
        loop {
            if !self.is_running() {
                panic!(
                    "shardgate serve exited before accepting connections; log:\n{}",
                    self.log()
                );
            }
            let attempt = tokio::time::timeout(Duration::from_secs(2), async {
                let mut conn = mysql_async::Conn::from_url(url.as_str()).await?;
                conn.ping().await?;
                conn.disconnect().await
            })
            .await;
            if let Ok(Ok(())) = attempt {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "shardgate serve did not accept connections on port {} within {READY_TIMEOUT:?}; log:\n{}",
                    self.port,
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

//! Starting, watching and stopping `mariadbd` processes.
//!
//! Servers are started in parallel: every process is spawned first, then one loop polls all of
//! them every 50 ms with a real MySQL connection until each answers. A server that exits during
//! start-up because its port was taken (the free port was grabbed between picking and binding)
//! is respawned on another port. Dropping a running [`MariadbServer`] kills it (SIGKILL); call
//! [`MariadbServer::stop`] or [`stop_servers`] for a clean shutdown.

use super::template::user_args;
use super::{Binaries, MariadbError, ServerSettings};
use mysql_async::prelude::Queryable;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How often readiness and exit are polled.
const POLL: Duration = Duration::from_millis(50);
/// Attempts per server when its port turns out to be taken.
const PORT_ATTEMPTS: u32 = 5;

/// How servers are started and stopped.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Signal the kernel sends a server when the *thread* that spawned it exits
    /// (`PR_SET_PDEATHSIG`); spawn from a thread that lives as long as the servers should.
    pub parent_death_signal: Option<i32>,
    /// How long a server may take to accept connections.
    pub ready_timeout: Duration,
    /// How long a clean stop may take before the server is killed.
    pub stop_timeout: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            parent_death_signal: None,
            ready_timeout: Duration::from_secs(60),
            stop_timeout: Duration::from_secs(120),
        }
    }
}

/// A running `mariadbd` started by this process.
#[derive(Debug)]
pub struct MariadbServer {
    settings: ServerSettings,
    /// The process until it has been reaped.
    child: Option<Child>,
    /// How it ended, once reaped (by [`MariadbServer::exit_status`] or [`MariadbServer::kill`]).
    /// Kept so that a server seen dead once stays dead: a reaped child must never read as
    /// running again (that made `shardgate local` wait out the 120 s stop timeout on exit).
    exited: Option<std::process::ExitStatus>,
}

/// Picks a free TCP port on 127.0.0.1 (bind to port 0, read it, release it).
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The last `lines` lines of `path` from byte `offset` on (empty when unreadable).
fn read_tail(path: &Path, offset: u64, lines: usize) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let len = file_len(path);
        // Never read more than the last 64 KiB: the tail is all we quote.
        let start = offset.max(len.saturating_sub(64 * 1024));
        let mut bytes = Vec::new();
        if f.seek(SeekFrom::Start(start)).is_ok() && f.read_to_end(&mut bytes).is_ok() {
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn spawn(
    bins: &Binaries,
    settings: &ServerSettings,
    opts: &ServerOptions,
) -> Result<Child, MariadbError> {
    let cnf = settings.cnf_path();
    std::fs::write(&cnf, settings.render())
        .map_err(|e| MariadbError::io(format!("writing {}", cnf.display()), e))?;
    let console_path = settings.console_log_path();
    let console = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&console_path)
        .map_err(|e| MariadbError::io(format!("opening {}", console_path.display()), e))?;
    let console_err = console
        .try_clone()
        .map_err(|e| MariadbError::io(format!("opening {}", console_path.display()), e))?;
    let mut cmd = Command::new(&bins.mariadbd);
    // --defaults-file must come first: it makes the server ignore /etc/mysql entirely.
    cmd.arg(format!("--defaults-file={}", cnf.display()))
        .args(user_args())
        .stdin(Stdio::null())
        .stdout(console)
        .stderr(console_err)
        // Own process group: a Ctrl-C in the terminal reaches us, and we stop the servers cleanly.
        .process_group(0);
    if let Some(signal) = opts.parent_death_signal {
        crate::local::child::die_with_parent(&mut cmd, signal);
    }
    cmd.spawn()
        .map_err(|e| MariadbError::io(format!("starting {}", bins.mariadbd.display()), e))
}

/// Opens a connection as root to `127.0.0.1:port` (TCP only; the socket is never preferred).
pub(crate) async fn connect(
    port: u16,
    db: Option<&str>,
) -> Result<mysql_async::Conn, MariadbError> {
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some("root"))
        .db_name(db)
        .prefer_socket(false);
    mysql_async::Conn::new(opts)
        .await
        .map_err(|source| MariadbError::Sql { port, source })
}

async fn ping(port: u16) -> Result<(), String> {
    match tokio::time::timeout(Duration::from_secs(2), connect(port, None)).await {
        Ok(Ok(conn)) => {
            let _ = conn.disconnect().await;
            Ok(())
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("connection attempt timed out".into()),
    }
}

fn port_conflict(log: &str) -> bool {
    log.contains("Address already in use") || log.contains("Bind on TCP/IP port")
}

/// One server during start-up.
struct Starting {
    server: MariadbServer,
    any_port: bool,
    log_offset: u64,
    attempts: u32,
    ready: bool,
    last_error: String,
}

impl Starting {
    fn launch(
        bins: &Binaries,
        mut settings: ServerSettings,
        any_port: bool,
        opts: &ServerOptions,
        attempts: u32,
    ) -> Result<Starting, MariadbError> {
        if any_port {
            settings.port = free_port().map_err(|e| MariadbError::io("picking a free port", e))?;
        }
        let log_offset = file_len(&settings.error_log_path());
        let child = spawn(bins, &settings, opts)?;
        Ok(Starting {
            server: MariadbServer {
                settings,
                child: Some(child),
                exited: None,
            },
            any_port,
            log_offset,
            attempts,
            ready: false,
            last_error: "no attempt yet".into(),
        })
    }

    fn failure(&self, reason: String) -> MariadbError {
        let s = &self.server.settings;
        let mut tail = read_tail(&s.error_log_path(), self.log_offset, 25);
        let console = read_tail(&s.console_log_path(), 0, 10);
        if !console.trim().is_empty() {
            tail.push_str("\n--- console ---\n");
            tail.push_str(&console);
        }
        MariadbError::Start {
            dir: s.dir.clone(),
            port: s.port,
            reason,
            log: s.error_log_path(),
            tail,
        }
    }
}

/// Starts one server; see [`start_servers`].
pub async fn start_server(
    bins: &Binaries,
    settings: ServerSettings,
    opts: &ServerOptions,
) -> Result<MariadbServer, MariadbError> {
    let mut servers = start_servers(bins, vec![settings], opts).await?;
    servers
        .pop()
        .ok_or_else(|| MariadbError::io("starting a server", std::io::Error::other("none started")))
}

/// Starts every server in parallel and waits until each accepts a root connection over TCP.
/// The data directories must exist ([`super::prepare_data_dir`]). A port of 0 picks a free port
/// (retried if taken meanwhile). On any failure every server started here is killed again.
pub async fn start_servers(
    bins: &Binaries,
    specs: Vec<ServerSettings>,
    opts: &ServerOptions,
) -> Result<Vec<MariadbServer>, MariadbError> {
    let mut all = Vec::with_capacity(specs.len());
    for settings in specs {
        let any_port = settings.port == 0;
        all.push(Starting::launch(bins, settings, any_port, opts, 1)?);
    }
    let deadline = Instant::now() + opts.ready_timeout;
    loop {
        let mut waiting = false;
        for st in all.iter_mut().filter(|s| !s.ready) {
            if let Some(status) = st.server.exit_status() {
                let log = read_tail(&st.server.settings.error_log_path(), st.log_offset, 200);
                if st.any_port && st.attempts < PORT_ATTEMPTS && port_conflict(&log) {
                    let settings = st.server.settings.clone();
                    *st = Starting::launch(bins, settings, true, opts, st.attempts + 1)?;
                    waiting = true;
                    continue;
                }
                return Err(st.failure(format!("exited during start-up ({status})")));
            }
            match ping(st.server.port()).await {
                Ok(()) => st.ready = true,
                Err(e) => {
                    st.last_error = e;
                    waiting = true;
                }
            }
        }
        if !waiting {
            break;
        }
        if Instant::now() >= deadline {
            if let Some(st) = all.iter().find(|s| !s.ready) {
                return Err(st.failure(format!(
                    "did not accept connections within {:?} (last attempt: {})",
                    opts.ready_timeout, st.last_error
                )));
            }
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(all.into_iter().map(|s| s.server).collect())
}

/// Stops servers cleanly and in parallel: SIGTERM to all, wait, SIGKILL any still running after
/// `timeout`.
pub async fn stop_servers(mut servers: Vec<MariadbServer>, timeout: Duration) {
    for s in &servers {
        s.signal(libc::SIGTERM);
    }
    let deadline = Instant::now() + timeout;
    loop {
        servers.retain_mut(|s| s.exit_status().is_none());
        if servers.is_empty() {
            return;
        }
        if Instant::now() >= deadline {
            for s in &mut servers {
                tracing::warn!(dir = %s.dir().display(), "mariadbd did not stop in time; killing it");
                s.kill();
            }
            return;
        }
        tokio::time::sleep(POLL).await;
    }
}

fn pid_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

fn runs_with_cnf(pid: i32, cnf: &Path) -> bool {
    let wanted = format!("--defaults-file={}", cnf.display());
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|raw| raw.split(|b| *b == 0).any(|arg| arg == wanted.as_bytes()))
}

/// Stops a server left running in `settings.dir` by an earlier, crashed run: the pid in the pid
/// file is signalled only if that process is a mariadbd started with this directory's my.cnf.
/// Returns whether one was stopped.
pub async fn stop_stale(
    settings: &ServerSettings,
    timeout: Duration,
) -> Result<bool, MariadbError> {
    let pid_path = settings.pid_path();
    let Ok(text) = std::fs::read_to_string(&pid_path) else {
        return Ok(false);
    };
    let Ok(pid) = text.trim().parse::<i32>() else {
        let _ = std::fs::remove_file(&pid_path);
        return Ok(false);
    };
    if pid <= 0 || !pid_alive(pid) || !runs_with_cnf(pid, &settings.cnf_path()) {
        let _ = std::fs::remove_file(&pid_path);
        return Ok(false);
    }
    tracing::warn!(pid, dir = %settings.dir.display(), "stopping a mariadbd left running by an earlier run");
    // SAFETY: plain kill(2) on a pid verified above to be our mariadbd.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + timeout;
    while pid_alive(pid) && runs_with_cnf(pid, &settings.cnf_path()) {
        if Instant::now() >= deadline {
            return Err(MariadbError::AlreadyRunning {
                pid,
                dir: settings.dir.clone(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
    let _ = std::fs::remove_file(&pid_path);
    Ok(true)
}

impl MariadbServer {
    /// TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.settings.port
    }

    /// The server directory.
    pub fn dir(&self) -> &Path {
        &self.settings.dir
    }

    /// The settings it runs with (port filled in).
    pub fn settings(&self) -> &ServerSettings {
        &self.settings
    }

    /// Process id, while the process exists.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// `mysql://root@127.0.0.1:PORT[/db]`.
    pub fn url(&self, db: Option<&str>) -> String {
        match db {
            Some(db) => format!("mysql://root@127.0.0.1:{}/{db}", self.port()),
            None => format!("mysql://root@127.0.0.1:{}", self.port()),
        }
    }

    /// A root connection over TCP, optionally with a default database.
    pub async fn connect(&self, db: Option<&str>) -> Result<mysql_async::Conn, MariadbError> {
        connect(self.port(), db).await
    }

    /// Runs one statement as root (no default database).
    pub async fn exec(&self, sql: &str) -> Result<(), MariadbError> {
        let port = self.port();
        let mut conn = self.connect(None).await?;
        conn.query_drop(sql)
            .await
            .map_err(|source| MariadbError::Sql { port, source })?;
        let _ = conn.disconnect().await;
        Ok(())
    }

    /// The exit status once the process has ended (reaping it), `None` while it runs. Once
    /// ended it stays ended: later calls return the same status.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        if let Some(status) = self.exited {
            return Some(status);
        }
        let child = self.child.as_mut()?;
        let status = match child.try_wait() {
            Ok(Some(status)) => status,
            Ok(None) => return None,
            // Cannot wait on it (reaped elsewhere): treat as gone.
            Err(_) => std::process::ExitStatus::default(),
        };
        self.child = None;
        self.exited = Some(status);
        Some(status)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.exit_status().is_none()
    }

    fn signal(&self, signal: i32) {
        if let Some(child) = &self.child {
            if let Ok(pid) = i32::try_from(child.id()) {
                // SAFETY: kill(2) on our own, not yet reaped, child.
                unsafe { libc::kill(pid, signal) };
            }
        }
    }

    /// Stops the server cleanly (SIGTERM, then SIGKILL after `timeout`).
    pub async fn stop(self, timeout: Duration) {
        stop_servers(vec![self], timeout).await;
    }

    /// Kills the server at once (SIGKILL) and reaps it. Data stays crash-consistent.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let status = child.wait().unwrap_or_default();
            self.exited.get_or_insert(status);
        }
    }
}

impl Drop for MariadbServer {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_bindable() {
        let port = free_port().expect("free port");
        assert_ne!(port, 0);
        std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind again");
    }

    #[test]
    fn detects_port_conflicts() {
        assert!(port_conflict(
            "[ERROR] Can't start server: Bind on TCP/IP port. Got error: 98: Address already in use"
        ));
        assert!(!port_conflict(
            "[ERROR] Unknown/unsupported storage engine: InnoDB"
        ));
    }

    #[test]
    fn tails_from_offset() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log");
        std::fs::write(&path, "old\nline1\nline2\nline3\n").expect("write");
        assert_eq!(read_tail(&path, 4, 2), "line2\nline3");
        assert_eq!(read_tail(&path, 4, 10), "line1\nline2\nline3");
        assert_eq!(read_tail(&dir.path().join("missing"), 0, 3), "");
    }
}

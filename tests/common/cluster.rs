//! The MariaDB servers shared by every test of one test binary, plus private servers that a
//! test may kill and restart.
//!
//! Servers are spawned by one dedicated, never-ending thread (`mariadb-spawner`, with its own
//! current-thread Tokio runtime) with `PR_SET_PDEATHSIG = SIGKILL`: the kernel kills them when
//! that thread — i.e. the test process — dies, even on SIGKILL. A normal exit runs an `atexit`
//! hook that kills them and removes their directories under
//! `target/tmp/shardgate-test/<pid>/`; the next harness start sweeps directories left by dead
//! processes. The template data dir (`target/tmp/shardgate-test/template`) is kept between runs.

use shardgate::local::mariadb::{
    ensure_template, find_binaries, prepare_data_dir, start_server, start_servers, stop_stale,
    MariadbServer, ServerOptions, ServerSettings,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Number of servers shared by the tests of one binary.
pub const SHARED_SERVERS: usize = 3;

/// One shared server.
#[derive(Debug, Clone)]
pub struct SharedServer {
    /// TCP port on 127.0.0.1 (user root, empty password).
    pub port: u16,
    /// Its directory.
    pub dir: PathBuf,
}

/// The shared servers of this test binary; see [`cluster`].
#[derive(Debug)]
pub struct TestCluster {
    /// The servers, [`SHARED_SERVERS`] of them.
    pub servers: Vec<SharedServer>,
}

impl TestCluster {
    /// `mysql://root@127.0.0.1:PORT[/db]` of shared server `i`.
    pub fn url(&self, i: usize, db: Option<&str>) -> String {
        backend_url(self.servers[i].port, db)
    }
}

/// `mysql://root@127.0.0.1:PORT[/db]?prefer_socket=false` for a backend server.
pub fn backend_url(port: u16, db: Option<&str>) -> String {
    format!(
        "mysql://root@127.0.0.1:{port}/{}?prefer_socket=false",
        db.unwrap_or("")
    )
}

static CLUSTER: OnceLock<Result<TestCluster, String>> = OnceLock::new();
/// Every server this process started, by slot; killed at exit.
static PROCESSES: Mutex<Vec<Option<MariadbServer>>> = Mutex::new(Vec::new());
static SPAWNER: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
static NEXT_PRIVATE: AtomicUsize = AtomicUsize::new(0);

type Job = Box<dyn FnOnce(&tokio::runtime::Runtime) + Send>;

/// `target/tmp/shardgate-test`.
pub fn base_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("shardgate-test")
}

/// `target/tmp/shardgate-test/<pid>`: everything this process creates; removed at exit.
pub fn run_dir() -> PathBuf {
    base_dir().join(std::process::id().to_string())
}

fn server_options() -> ServerOptions {
    ServerOptions {
        parent_death_signal: Some(libc::SIGKILL),
        ready_timeout: Duration::from_secs(60),
        stop_timeout: Duration::from_secs(60),
    }
}

/// Runs `f` on the spawner thread and waits for its result (blocking). Processes spawned there
/// with `PR_SET_PDEATHSIG` die with the test process (the thread never ends).
pub fn on_spawner<T: Send + 'static>(
    f: impl FnOnce(&tokio::runtime::Runtime) -> T + Send + 'static,
) -> T {
    let sender = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("mariadb-spawner".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("spawner runtime");
                // Never returns: the sender lives in a static. A panicking job must not end
                // this thread, or the kernel would kill every server it started.
                for job in rx {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&rt)));
                }
            })
            .expect("starting the mariadb-spawner thread");
        tx
    });
    let (tx, rx) = mpsc::channel();
    sender
        .send(Box::new(move |rt| {
            let _ = tx.send(f(rt));
        }))
        .expect("mariadb-spawner thread is gone");
    rx.recv()
        .expect("a job on the mariadb-spawner thread panicked")
}

fn register(server: MariadbServer) -> usize {
    let mut procs = PROCESSES.lock().unwrap_or_else(|p| p.into_inner());
    procs.push(Some(server));
    procs.len() - 1
}

extern "C" fn cleanup_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        let mut procs = PROCESSES.lock().unwrap_or_else(|p| p.into_inner());
        for server in procs.iter_mut().flatten() {
            server.kill();
        }
        procs.clear();
        let _ = std::fs::remove_dir_all(run_dir());
    });
}

fn pid_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks existence.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Removes what dead test processes left under `base`: `<pid>/` dirs (stopping any server
/// still running from them) and half-built templates.
async fn sweep_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let owner = name.rsplit(['-', '.']).next().unwrap_or("");
        let Ok(pid) = owner.parse::<i32>() else {
            continue;
        };
        if pid_alive(pid) {
            continue;
        }
        if let Ok(servers) = std::fs::read_dir(entry.path()) {
            for server in servers.flatten() {
                let settings = ServerSettings::new(server.path(), 0);
                let _ = stop_stale(&settings, Duration::from_secs(10)).await;
            }
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

fn start_cluster() -> Result<TestCluster, String> {
    let bins = find_binaries().map_err(|e| format!("integration tests need MariaDB: {e}"))?;
    on_spawner(move |rt| {
        rt.block_on(async move {
            let base = base_dir();
            sweep_stale(&base).await;
            std::fs::create_dir_all(run_dir()).map_err(|e| format!("creating the run dir: {e}"))?;
            // SAFETY: registering a plain extern "C" function with atexit.
            unsafe { libc::atexit(cleanup_at_exit) };
            let template =
                ensure_template(&bins, &base.join("template")).map_err(|e| e.to_string())?;
            let mut specs = Vec::new();
            for i in 0..SHARED_SERVERS {
                let mut s = ServerSettings::new(run_dir().join(format!("s{i}")), 0);
                s.buffer_pool_mb = 64;
                prepare_data_dir(&template, &s).map_err(|e| e.to_string())?;
                specs.push(s);
            }
            let started = std::time::Instant::now();
            let servers = start_servers(&bins, specs, &server_options())
                .await
                .map_err(|e| e.to_string())?;
            let shared = servers
                .into_iter()
                .map(|s| {
                    let info = SharedServer {
                        port: s.port(),
                        dir: s.dir().to_path_buf(),
                    };
                    register(s);
                    info
                })
                .collect();
            eprintln!(
                "test harness: {SHARED_SERVERS} MariaDB servers ready in {:?}",
                started.elapsed()
            );
            Ok(TestCluster { servers: shared })
        })
    })
}

/// The shared servers, started on first use. Panics with a clear message (never skips) when
/// MariaDB is missing or a server cannot start.
pub fn cluster() -> &'static TestCluster {
    match CLUSTER.get_or_init(start_cluster) {
        Ok(cluster) => cluster,
        Err(msg) => panic!("{msg}"),
    }
}

/// [`cluster`] from async code, without blocking the test's runtime.
pub async fn cluster_async() -> &'static TestCluster {
    match tokio::task::spawn_blocking(cluster).await {
        Ok(c) => c,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// A server of its own for one test, which it may kill, stop and restart (for shard-down
/// tests). Removed by [`PrivateServer::remove`] or at process exit.
#[derive(Debug)]
pub struct PrivateServer {
    slot: usize,
    settings: ServerSettings,
}

impl PrivateServer {
    /// Starts a fresh server in `target/tmp/shardgate-test/<pid>/p<n>-<label>/`.
    pub async fn start(label: &str) -> PrivateServer {
        Self::start_with(label, &[]).await
    }

    /// [`start`](Self::start) with further `[mysqld]` option lines (`ssl_cert=/path`, ...).
    pub async fn start_with(label: &str, extra: &[String]) -> PrivateServer {
        cluster_async().await;
        let n = NEXT_PRIVATE.fetch_add(1, Ordering::Relaxed);
        let mut settings = ServerSettings::new(run_dir().join(format!("p{n}-{label}")), 0);
        settings.extra = extra.to_vec();
        let task = tokio::task::spawn_blocking(move || {
            on_spawner(move |rt| {
                let bins = find_binaries().map_err(|e| e.to_string())?;
                let template = base_dir().join("template");
                prepare_data_dir(&template, &settings).map_err(|e| e.to_string())?;
                rt.block_on(start_server(&bins, settings, &server_options()))
                    .map_err(|e| e.to_string())
            })
        });
        let server = task
            .await
            .expect("spawner task")
            .unwrap_or_else(|e| panic!("{e}"));
        let settings = server.settings().clone();
        PrivateServer {
            slot: register(server),
            settings,
        }
    }

    /// TCP port on 127.0.0.1 (kept across restarts).
    pub fn port(&self) -> u16 {
        self.settings.port
    }

    /// `mysql://root@127.0.0.1:PORT[/db]?prefer_socket=false`.
    pub fn url(&self, db: Option<&str>) -> String {
        backend_url(self.port(), db)
    }

    fn take(&self) -> Option<MariadbServer> {
        PROCESSES.lock().unwrap_or_else(|p| p.into_inner())[self.slot].take()
    }

    /// Kills the server at once (SIGKILL), like a crash.
    pub async fn kill(&self) {
        if let Some(mut server) = self.take() {
            server.kill();
        }
    }

    /// Freezes the server (SIGSTOP): it keeps its sockets, and the kernel still accepts TCP
    /// connections for it, but it answers nothing until [`resume`](Self::resume).
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// Lets a [`pause`](Self::pause)d server run again (SIGCONT).
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = PROCESSES.lock().unwrap_or_else(|p| p.into_inner())[self.slot]
            .as_ref()
            .and_then(|s| s.pid())
            .and_then(|p| i32::try_from(p).ok())
            .expect("the private server is running");
        // SAFETY: kill(2) on our own child, which is not reaped while it sits in PROCESSES.
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "kill({pid}, {sig})");
    }

    /// Stops the server cleanly (SIGTERM and wait).
    pub async fn stop(&self) {
        if let Some(server) = self.take() {
            tokio::task::spawn_blocking(move || {
                on_spawner(move |rt| rt.block_on(server.stop(Duration::from_secs(60))))
            })
            .await
            .expect("stopping a private server");
        }
    }

    /// Starts it again on the same port and data after [`kill`](Self::kill) or
    /// [`stop`](Self::stop); waits until it accepts connections.
    pub async fn restart(&self) {
        self.kill().await;
        let settings = self.settings.clone();
        let server = tokio::task::spawn_blocking(move || {
            on_spawner(move |rt| {
                let bins = find_binaries().map_err(|e| e.to_string())?;
                rt.block_on(start_server(&bins, settings, &server_options()))
                    .map_err(|e| e.to_string())
            })
        })
        .await
        .expect("spawner task")
        .unwrap_or_else(|e| panic!("restarting the private server: {e}"));
        PROCESSES.lock().unwrap_or_else(|p| p.into_inner())[self.slot] = Some(server);
    }

    /// Kills the server and deletes its directory.
    pub async fn remove(self) {
        self.kill().await;
        let _ = std::fs::remove_dir_all(&self.settings.dir);
    }
}

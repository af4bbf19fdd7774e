//! A private etcd server for one test (Debian's `etcd`): its own data dir under the run dir,
//! client and peer ports on 127.0.0.1, dying with the test process (PR_SET_PDEATHSIG). A test
//! may stop it (SIGKILL), pause it (SIGSTOP, a hung etcd) and resume it, or start it again on
//! the same ports and data.
//!
//! ```ignore
//! let etcd = EtcdServer::start().await;
//! let mut config = env.config.clone();
//! config.topology = etcd.topology("/t1");   // [topology] etcd = [...], prefix "/t1"
//! etcd.pause(); ... etcd.resume();
//! ```
//!
//! etcd missing ⇒ panics with the install command (`scripts/test` installs it). Never skips.

use super::cluster::{on_spawner, run_dir};
use super::proxy_process::free_port;
use shardgate::config::TopologyConfig;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicUsize = AtomicUsize::new(1);

/// A running etcd (module header).
pub struct EtcdServer {
    dir: PathBuf,
    client_port: u16,
    peer_port: u16,
    child: Option<Child>,
}

impl EtcdServer {
    /// Starts a fresh single-member etcd and waits until it answers.
    pub async fn start() -> EtcdServer {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = run_dir().join(format!("etcd-{n}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating the etcd dir");
        let mut etcd = EtcdServer {
            dir,
            client_port: free_port(),
            peer_port: free_port(),
            child: None,
        };
        etcd.spawn().await;
        etcd
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// `[topology]` for proxies on this etcd under `prefix`, with a short lease (3 s) so
    /// tests of lease loss and runner death finish quickly.
    pub fn topology(&self, prefix: &str) -> TopologyConfig {
        TopologyConfig {
            etcd: vec![self.endpoint()],
            prefix: prefix.to_string(),
            lease_ttl_secs: 3,
            barrier_timeout_secs: 120,
        }
    }

    /// The etcd log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("etcd.log")).unwrap_or_default()
    }

    /// Runs `etcdctl` against this server; returns its stdout (panics when it fails).
    pub fn etcdctl(&self, args: &[&str]) -> String {
        let out = Command::new("etcdctl")
            .env("ETCDCTL_API", "3")
            .arg(format!("--endpoints={}", self.endpoint()))
            .args(args)
            .output()
            .expect("running etcdctl (install etcd-client)");
        assert!(
            out.status.success(),
            "etcdctl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// SIGSTOP: etcd hangs (connections stay open, nothing is answered).
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// SIGCONT after [`pause`](Self::pause).
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    fn signal(&self, sig: i32) {
        if let Some(child) = &self.child {
            // SAFETY: signalling our own child, not yet reaped.
            unsafe { libc::kill(child.id() as i32, sig) };
        }
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same ports and data.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    async fn spawn(&mut self) {
        let data = self.dir.join("data");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("etcd.log"))
            .expect("opening the etcd log");
        let err_log = log.try_clone().expect("cloning the log handle");
        let client = format!("http://127.0.0.1:{}", self.client_port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let child = tokio::task::spawn_blocking(move || {
            on_spawner(move |_| {
                let mut cmd = Command::new("etcd");
                cmd.arg("--name=t")
                    .arg(format!("--data-dir={}", data.display()))
                    .arg(format!("--listen-client-urls={client}"))
                    .arg(format!("--advertise-client-urls={client}"))
                    .arg(format!("--listen-peer-urls={peer}"))
                    .arg(format!("--initial-advertise-peer-urls={peer}"))
                    .arg(format!("--initial-cluster=t={peer}"))
                    .stdin(Stdio::null())
                    .stdout(log)
                    .stderr(err_log);
                shardgate::local::child::die_with_parent(&mut cmd, libc::SIGKILL);
                cmd.spawn().map_err(|e| e.to_string())
            })
        })
        .await
        .expect("spawner task")
        .unwrap_or_else(|e| {
            panic!("starting etcd: {e} (install it: apt-get install etcd-server etcd-client)")
        });
        self.child = Some(child);
        self.wait_ready().await;
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let cfg = self.topology("/ready");
        loop {
            if let Some(child) = &mut self.child {
                if !matches!(child.try_wait(), Ok(None)) {
                    panic!("etcd exited at start; log:\n{}", self.log());
                }
            }
            let ready = async {
                let mut c = shardgate::world::topology::etcd::EtcdTopology::client(&cfg)
                    .await
                    .ok()?;
                c.get("/ready", None).await.ok()
            };
            if tokio::time::timeout(Duration::from_secs(2), ready)
                .await
                .ok()
                .flatten()
                .is_some()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "etcd did not answer within 30 s; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for EtcdServer {
    fn drop(&mut self) {
        self.resume();
        self.kill();
    }
}

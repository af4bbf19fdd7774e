//! The etcd of `shardgate local --topology etcd`: one single-member etcd started from this
//! process, data under `<dir>/etcd/`, client and peer ports on 127.0.0.1, dying with the
//! thread that started it (`PR_SET_PDEATHSIG`, like the MariaDB servers).
//!
//! ```text
//! <dir>/etcd/data/      etcd's data (kept between runs: the VSchema in etcd survives)
//! <dir>/etcd/etcd.log   its output
//! <dir>/etcd/etcd.pid   pid, used to stop an etcd left running by a crashed earlier run
//! ```

use crate::config::TopologyConfig;
use anyhow::Context;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The command that installs etcd and etcdctl on Debian/Ubuntu.
pub const INSTALL_HINT: &str = "install it: apt-get install etcd-server etcd-client \
                                (scripts/demo --topology etcd does this)";

/// How long etcd may take to answer after it was started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a clean stop (SIGTERM) may take before etcd is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Finds the `etcd` program: PATH, then /usr/bin and /usr/local/bin.
pub fn find_etcd() -> anyhow::Result<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(PathBuf::from("/usr/bin"));
    dirs.push(PathBuf::from("/usr/local/bin"));
    dirs.into_iter()
        .map(|d| d.join("etcd"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "cannot find `etcd` (looked in PATH, /usr/bin and /usr/local/bin); {INSTALL_HINT}"
            )
        })
}

/// A running etcd started by this process; dropping it kills it (call [`EtcdProcess::stop`]).
#[derive(Debug)]
pub struct EtcdProcess {
    dir: PathBuf,
    client_port: u16,
    child: Option<Child>,
    exited: Option<std::process::ExitStatus>,
}

impl EtcdProcess {
    /// Starts etcd with its data in `<dir>/data` on free loopback ports and waits until it
    /// answers. Spawn from the thread that lives as long as etcd should (death signal).
    pub async fn start(program: &Path, dir: &Path) -> anyhow::Result<EtcdProcess> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        stop_stale(dir).await?;
        let client_port = super::mariadb::free_port().context("picking a port for etcd")?;
        let peer_port = super::mariadb::free_port().context("picking a port for etcd")?;
        let child = spawn(program, dir, client_port, peer_port)?;
        let _ = std::fs::write(pid_path(dir), format!("{}\n", child.id()));
        let mut etcd = EtcdProcess {
            dir: dir.to_path_buf(),
            client_port,
            child: Some(child),
            exited: None,
        };
        etcd.wait_ready().await?;
        Ok(etcd)
    }

    /// `http://127.0.0.1:<client port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// Its directory (`<dir>/etcd`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its log file.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("etcd.log")
    }

    /// `[topology]` for a proxy of this etcd under `prefix`.
    pub fn topology(&self, prefix: &str) -> TopologyConfig {
        TopologyConfig {
            etcd: vec![self.endpoint()],
            prefix: prefix.to_string(),
            ..TopologyConfig::default()
        }
    }

    /// The exit status once etcd has ended (reaping it), `None` while it runs.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        if let Some(status) = self.exited {
            return Some(status);
        }
        let status = match self.child.as_mut()?.try_wait() {
            Ok(Some(status)) => status,
            Ok(None) => return None,
            Err(_) => std::process::ExitStatus::default(),
        };
        self.child = None;
        self.exited = Some(status);
        Some(status)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let cfg = self.topology("/");
        loop {
            if let Some(status) = self.exit_status() {
                anyhow::bail!(
                    "etcd exited at start ({status}); see {}:\n{}",
                    self.log_path().display(),
                    log_tail(&self.log_path())
                );
            }
            let answered = async {
                let mut c = crate::world::topology::etcd::EtcdTopology::client(&cfg)
                    .await
                    .ok()?;
                c.get("/", None).await.ok()
            };
            if tokio::time::timeout(Duration::from_secs(2), answered)
                .await
                .ok()
                .flatten()
                .is_some()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "etcd did not answer on {} within {READY_TIMEOUT:?}; see {}:\n{}",
                    self.endpoint(),
                    self.log_path().display(),
                    log_tail(&self.log_path())
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops etcd cleanly (SIGTERM; SIGKILL after a few seconds) and reaps it.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.as_ref().and_then(|c| i32::try_from(c.id()).ok()) {
            // SAFETY: kill(2) on our own, not yet reaped, child.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        while self.exit_status().is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.kill();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let status = child.wait().unwrap_or_default();
            self.exited.get_or_insert(status);
        }
        let _ = std::fs::remove_file(pid_path(&self.dir));
    }
}

impl Drop for EtcdProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn pid_path(dir: &Path) -> PathBuf {
    dir.join("etcd.pid")
}

fn spawn(program: &Path, dir: &Path, client_port: u16, peer_port: u16) -> anyhow::Result<Child> {
    let log_path = dir.join("etcd.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("opening {}", log_path.display()))?;
    let err_log = log
        .try_clone()
        .with_context(|| format!("opening {}", log_path.display()))?;
    let client = format!("http://127.0.0.1:{client_port}");
    let peer = format!("http://127.0.0.1:{peer_port}");
    let mut cmd = Command::new(program);
    cmd.arg("--name=local")
        .arg(format!("--data-dir={}", dir.join("data").display()))
        .arg(format!("--listen-client-urls={client}"))
        .arg(format!("--advertise-client-urls={client}"))
        .arg(format!("--listen-peer-urls={peer}"))
        .arg(format!("--initial-advertise-peer-urls={peer}"))
        .arg(format!("--initial-cluster=local={peer}"))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err_log)
        // Own process group: a Ctrl-C in the terminal reaches us, and we stop etcd last.
        .process_group(0);
    super::child::die_with_parent(&mut cmd, libc::SIGTERM);
    cmd.spawn()
        .with_context(|| format!("starting {}", program.display()))
}

/// Stops an etcd left running on `dir`'s data by an earlier, crashed run: the pid in the pid
/// file is signalled only if that process is an etcd started with this data dir.
async fn stop_stale(dir: &Path) -> anyhow::Result<()> {
    let Ok(text) = std::fs::read_to_string(pid_path(dir)) else {
        return Ok(());
    };
    let _ = std::fs::remove_file(pid_path(dir));
    let Ok(pid) = text.trim().parse::<i32>() else {
        return Ok(());
    };
    let wanted = format!("--data-dir={}", dir.join("data").display());
    let ours = |pid: i32| {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|raw| raw.split(|b| *b == 0).any(|a| a == wanted.as_bytes()))
    };
    if pid <= 0 || !ours(pid) {
        return Ok(());
    }
    println!(
        "stopping an etcd (pid {pid}) left running in {}",
        dir.display()
    );
    // SAFETY: kill(2) on a pid verified above to be an etcd on our data dir.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + STOP_TIMEOUT;
    while ours(pid) {
        if Instant::now() >= deadline {
            anyhow::bail!(
                "an etcd (pid {pid}) from an earlier run still uses {} and did not stop; stop it \
                 (kill {pid}) and retry",
                dir.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real etcd (Debian's, installed by the scripts): starts, answers, is stopped, and a
    /// second start on the same data (other ports) keeps what was written.
    #[tokio::test]
    async fn starts_answers_restarts_on_its_data_and_stops() {
        let dir = tempfile::tempdir().expect("tempdir");
        let program = find_etcd().expect("etcd is installed (scripts/test installs it)");
        let etcd_dir = dir.path().join("etcd");
        let etcd = EtcdProcess::start(&program, &etcd_dir)
            .await
            .expect("start");
        let cfg = etcd.topology("/t");
        let mut c = crate::world::topology::etcd::EtcdTopology::client(&cfg)
            .await
            .expect("client");
        c.put("/t/k", "v", None).await.expect("put");
        let pid = etcd.child.as_ref().map(|c| c.id()).expect("pid");
        assert!(etcd_dir.join("etcd.pid").exists());
        etcd.stop().await;
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "etcd gone");
        assert!(!etcd_dir.join("etcd.pid").exists());

        let again = EtcdProcess::start(&program, &etcd_dir)
            .await
            .expect("restart");
        let mut c = crate::world::topology::etcd::EtcdTopology::client(&again.topology("/t"))
            .await
            .expect("client");
        let got = c.get("/t/k", None).await.expect("get");
        assert_eq!(got.kvs().first().map(|kv| kv.value()), Some(&b"v"[..]));
        again.stop().await;
    }
}

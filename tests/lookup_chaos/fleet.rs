//! The proxies the history runs through. One (`LOOKUP_CHAOS_PROXIES` unset or 1): the env's
//! config served by one `shardgate serve` process on the file topology, as the checker always
//! did. N > 1: a private etcd and N processes on one etcd topology (the first seeds it from the
//! env's VSchema files); client `i` writes through proxy `i % N`, the killer picks a proxy per
//! kill, the create goes through [`Fleet::create_proxy`], and the routed reads at the end go
//! through every proxy.
//!
//! Each process sits behind its own mutex ([`SharedProxy`]): whoever holds it (the killer, or
//! the create task around its admin statements) decides when that process dies.
//!
//! The fleet also records who runs the CreateLookupVindex streams ([`Fleet::note_runners`],
//! fed from the `runner` column of `SHOW VINDEX WORKFLOWS`): which proxies ran them and how
//! often a stream moved to another runner (a resume after its runner died).

use crate::common::cluster::run_dir;
use crate::common::etcd::EtcdServer;
use crate::common::{ProxyProcess, TestEnv};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tokio::sync::Mutex;

/// One proxy process, shared by the killer and the create task.
pub(crate) type SharedProxy = Arc<Mutex<ProxyProcess>>;

/// Who ran the streams, as seen by the create task's polls.
#[derive(Debug, Default, Clone)]
pub(crate) struct Runners {
    /// The last runner id seen per source shard (empty ids are not recorded).
    pub(crate) current: BTreeMap<String, String>,
    /// Whether some stream was still unfinished (not `Stopped`) at the last poll.
    pub(crate) unfinished: bool,
    /// The proxies (indices) seen running a stream.
    pub(crate) ran: BTreeSet<usize>,
    /// How many times a stream's runner changed from one proxy start to another.
    pub(crate) changes: usize,
    /// Each change: `(seconds into the workload, source shard, old runner, new runner)`.
    pub(crate) moves: Vec<(f64, String, String, String)>,
}

/// The running proxies (module header).
pub(crate) struct Fleet {
    procs: Vec<SharedProxy>,
    urls: Vec<String>,
    ports: Vec<u16>,
    runners: std::sync::Mutex<Runners>,
    /// Kept alive as long as the fleet (dropping it kills etcd).
    _etcd: Option<EtcdServer>,
}

impl Fleet {
    /// Starts `n` proxies on the env's shards (see the module header).
    pub(crate) async fn start(env: &TestEnv, n: usize) -> Fleet {
        let (procs, etcd) = if n <= 1 {
            (vec![env.proxy_process().await], None)
        } else {
            let etcd = EtcdServer::start().await;
            let tag = format!("lookup-chaos-{}", std::process::id());
            let mut config = env.config.clone();
            config.topology = etcd.topology(&format!("/{tag}"));
            let mut procs = Vec::new();
            for i in 0..n {
                let dir = run_dir().join(format!("{tag}-{}-proxy-{i}", env.id));
                procs.push(ProxyProcess::start(&config, &dir).await);
            }
            (procs, Some(etcd))
        };
        Fleet {
            urls: procs.iter().map(|p| p.url(Some("customer"))).collect(),
            ports: procs.iter().map(ProxyProcess::port).collect(),
            procs: procs.into_iter().map(|p| Arc::new(Mutex::new(p))).collect(),
            runners: Default::default(),
            _etcd: etcd,
        }
    }

    /// How many proxies.
    pub(crate) fn len(&self) -> usize {
        self.procs.len()
    }

    /// Proxy `i`.
    pub(crate) fn proxy(&self, i: usize) -> &SharedProxy {
        &self.procs[i]
    }

    /// The URL (database `customer`) of proxy `i`.
    pub(crate) fn url(&self, i: usize) -> &str {
        &self.urls[i]
    }

    /// The proxy the CreateLookupVindex goes through: chosen by the seed, so a run replays
    /// with the same one (no draw from the run's random stream: one proxy replays as before).
    pub(crate) fn create_proxy(&self, seed: u64) -> usize {
        (seed % self.len() as u64) as usize
    }

    /// The proxy whose runner id is `id` (`127.0.0.1:<port>-<start ms>`).
    pub(crate) fn index_of_runner(&self, id: &str) -> Option<usize> {
        let port: u16 = id.split_once(':')?.1.split('-').next()?.parse().ok()?;
        self.ports.iter().position(|&p| p == port)
    }

    /// Records one `SHOW VINDEX WORKFLOWS` poll: `(source_shard, state, runner)` per stream.
    pub(crate) fn note_runners(&self, at: f64, rows: &[(String, String, String)]) {
        let mut r = self.runners.lock().unwrap_or_else(|e| e.into_inner());
        r.unfinished = rows.iter().any(|(_, state, _)| state != "Stopped");
        for (shard, _, runner) in rows {
            if runner.is_empty() {
                continue;
            }
            if let Some(i) = self.index_of_runner(runner) {
                r.ran.insert(i);
            }
            let old = r.current.insert(shard.clone(), runner.clone());
            if let Some(old) = old.filter(|o| o != runner) {
                r.changes += 1;
                eprintln!(
                    "lookup_chaos: stream {shard} moved from runner {old} to {runner} at {at:.1} s"
                );
                r.moves.push((at, shard.clone(), old, runner.clone()));
            }
        }
    }

    /// A proxy that runs an unfinished stream now (as last seen), if any.
    pub(crate) fn live_runner(&self) -> Option<usize> {
        let r = self.runners.lock().unwrap_or_else(|e| e.into_inner());
        if !r.unfinished {
            return None;
        }
        r.current.values().find_map(|id| self.index_of_runner(id))
    }

    /// What [`Fleet::note_runners`] saw.
    pub(crate) fn runners(&self) -> Runners {
        self.runners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// SIGKILLs every proxy (waiting for each one's mutex).
    pub(crate) async fn kill_all(&self) {
        for p in &self.procs {
            p.lock().await.kill();
        }
    }

    /// Starts every proxy again (same config and port), one after the other.
    pub(crate) async fn restart_all(&self) {
        for p in &self.procs {
            p.lock().await.restart().await;
        }
    }

    /// The log lines of every proxy containing `pat` (e.g. the stream adoptions), with the
    /// proxy's index.
    pub(crate) async fn log_lines(&self, pat: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for (i, p) in self.procs.iter().enumerate() {
            let log = p.lock().await.log();
            out.extend(
                log.lines()
                    .filter(|l| l.contains(pat))
                    .map(|l| (i, strip_ansi(l))),
            );
        }
        out
    }

    /// Stops every proxy (SIGINT) and etcd.
    pub(crate) async fn stop(self) {
        for p in self.procs {
            Arc::try_unwrap(p)
                .ok()
                .expect("every task is done")
                .into_inner()
                .stop()
                .await;
        }
    }
}

/// `line` without its terminal colour codes (`ESC [ ... m`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(ch) = chars.next() {
        if ch == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(ch);
        }
    }
    out
}

#[test]
fn colour_codes_are_stripped() {
    assert_eq!(
        strip_ansi("\u{1b}[2mT\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m adopting"),
        "T  INFO adopting"
    );
}

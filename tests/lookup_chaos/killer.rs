//! The killer: SIGKILLs a `shardgate serve` child process at spread-out random moments of
//! the workload and restarts it on the same port after a random pause. With one proxy it is
//! always that one; with several (`fleet`) each kill picks one: half the time, while a
//! CreateLookupVindex stream is unfinished, the proxy running it (so another proxy must resume
//! it), else a random one. Each process sits behind its own mutex: whoever holds it (the
//! killer, or the create task around its admin statement) decides when it dies.

use crate::common::ProxyProcess;
use crate::fleet::Fleet;
use rand::rngs::StdRng;
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Kills happen in `[KILL_MARGIN, workload - KILL_MARGIN]`.
const KILL_MARGIN: Duration = Duration::from_secs(2);

/// Kill moments: one per equal slot of the kill window, at a random point of the slot's first
/// three quarters, so kills are spread out.
pub(crate) fn kill_schedule(rng: &mut StdRng, workload: Duration, kills: usize) -> Vec<Duration> {
    if kills == 0 {
        return Vec::new();
    }
    let window = workload.saturating_sub(KILL_MARGIN * 2);
    let slot = window / kills as u32;
    let spread = (slot.as_millis() as u64 * 3 / 4).max(1);
    (0..kills)
        .map(|i| KILL_MARGIN + slot * i as u32 + Duration::from_millis(rng.gen_range(0..spread)))
        .collect()
}

/// SIGKILLs the proxy now, waits `down`, starts it again (same port) and waits until it
/// accepts connections.
pub(crate) async fn kill_and_restart(proxy: &mut ProxyProcess, down: Duration) {
    assert!(
        proxy.is_running(),
        "the proxy died on its own:\n{}",
        proxy.log()
    );
    proxy.kill();
    tokio::time::sleep(down).await;
    proxy.restart().await;
}

/// What the killer did.
#[derive(Debug, Default)]
pub(crate) struct Kills {
    /// Kills in all.
    pub(crate) total: usize,
    /// Kills per proxy (index).
    pub(crate) per_proxy: Vec<usize>,
    /// Kills of the proxy that ran an unfinished CreateLookupVindex stream at that moment.
    pub(crate) of_runner: usize,
}

/// Kills a proxy at each moment of `schedule` (from `start`) and restarts it after a random
/// pause (module header for which one).
pub(crate) async fn killer(
    fleet: Arc<Fleet>,
    mut rng: StdRng,
    start: Instant,
    schedule: Vec<Duration>,
) -> Kills {
    let n = fleet.len();
    let mut kills = Kills {
        per_proxy: vec![0; n],
        ..Kills::default()
    };
    for at in schedule {
        tokio::time::sleep_until((start + at).into()).await;
        let down = Duration::from_millis(rng.gen_range(0..700));
        // One proxy: no draw, so its runs replay the choices they always made.
        let runner = fleet.live_runner();
        let victim = if n == 1 {
            0
        } else {
            match runner {
                Some(r) if rng.gen_bool(0.5) => r,
                _ => rng.gen_range(0..n),
            }
        };
        let mut p = fleet.proxy(victim).lock().await;
        let late = start.elapsed().saturating_sub(at);
        kill_and_restart(&mut p, down).await;
        drop(p);
        kills.total += 1;
        kills.per_proxy[victim] += 1;
        let was_runner = runner == Some(victim);
        kills.of_runner += usize::from(was_runner);
        eprintln!(
            "lookup_chaos: kill {} at {:.1} s (proxy {victim}{}, +{} ms waiting for the create), down {} ms, back at {:.1} s",
            kills.total,
            at.as_secs_f64(),
            if was_runner { ", the stream runner" } else { "" },
            late.as_millis(),
            down.as_millis(),
            start.elapsed().as_secs_f64()
        );
    }
    kills
}

//! The killer: SIGKILLs the `shardgate serve` child process at spread-out random moments of
//! the workload and restarts it on the same port after a random pause. The process sits
//! behind a mutex: whoever holds it (the killer, or the create task around its admin
//! statement) decides when it dies.

use crate::common::ProxyProcess;
use rand::rngs::StdRng;
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Kills happen in `[KILL_MARGIN, workload - KILL_MARGIN]`.
const KILL_MARGIN: Duration = Duration::from_secs(2);

/// The proxy, shared by the killer and the create task.
pub(crate) type SharedProxy = Arc<Mutex<ProxyProcess>>;

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

/// Kills the proxy at each moment of `schedule` (from `start`) and restarts it after a random
/// pause. Returns how many kills happened.
pub(crate) async fn killer(
    proxy: SharedProxy,
    mut rng: StdRng,
    start: Instant,
    schedule: Vec<Duration>,
) -> usize {
    let mut kills = 0;
    for at in schedule {
        tokio::time::sleep_until((start + at).into()).await;
        let down = Duration::from_millis(rng.gen_range(0..700));
        let mut p = proxy.lock().await;
        let late = start.elapsed().saturating_sub(at);
        kill_and_restart(&mut p, down).await;
        drop(p);
        kills += 1;
        eprintln!(
            "lookup_chaos: kill {kills} at {:.1} s (+{} ms waiting for the create), down {} ms, back at {:.1} s",
            at.as_secs_f64(),
            late.as_millis(),
            down.as_millis(),
            start.elapsed().as_secs_f64()
        );
    }
    kills
}

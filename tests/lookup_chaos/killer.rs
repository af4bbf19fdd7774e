//! The killer: SIGKILLs the `shardgate serve` child process at spread-out random moments of
//! the workload and restarts it on the same port after a random pause.

use crate::common::ProxyProcess;
use crate::{KILLS, KILL_MARGIN, WORKLOAD};
use rand::rngs::StdRng;
use rand::Rng;
use std::time::{Duration, Instant};

/// Kill moments: one per equal slot of the kill window, at a random point of the slot's first
/// part, so kills are spread out and at least ~1 s apart.
pub(crate) fn kill_schedule(rng: &mut StdRng) -> Vec<Duration> {
    let window = WORKLOAD - KILL_MARGIN * 2;
    let slot = window / KILLS as u32;
    let spread = slot.as_millis() as u64 * 3 / 4;
    (0..KILLS)
        .map(|i| KILL_MARGIN + slot * i as u32 + Duration::from_millis(rng.gen_range(0..spread)))
        .collect()
}

/// SIGKILLs the proxy at each moment of `schedule` (from `start`) and restarts it on the same
/// port after a random pause. Returns how many kills happened.
pub(crate) async fn killer(
    proxy: &mut ProxyProcess,
    rng: &mut StdRng,
    start: Instant,
    schedule: &[Duration],
) -> usize {
    let mut kills = 0;
    for at in schedule {
        tokio::time::sleep_until((start + *at).into()).await;
        assert!(
            proxy.is_running(),
            "the proxy died on its own:\n{}",
            proxy.log()
        );
        proxy.kill();
        kills += 1;
        let down = Duration::from_millis(rng.gen_range(0..700));
        tokio::time::sleep(down).await;
        proxy.restart().await;
        eprintln!(
            "lookup_chaos: kill {kills} at {:.1} s, down {} ms, back at {:.1} s",
            at.as_secs_f64(),
            down.as_millis(),
            start.elapsed().as_secs_f64()
        );
    }
    kills
}

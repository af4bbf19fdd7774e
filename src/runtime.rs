//! Which tokio runtime the proxy runs on.
//!
//! A proxy that shares a small host with its MySQL servers (the demo, the benchmarks, a sidecar)
//! loses to work stealing: with two workers on two cores, every wakeup may also wake the other
//! worker, and a statement's two hops (client → proxy → shard) cost extra context switches.
//! Measured on a 2-core host with sysbench `oltp_point_select` through the proxy (bench/README.md):
//! one current-thread runtime took 12–27 % less proxy CPU per query and 22–31 % fewer context
//! switches than two workers, and at 64 client threads served 16 % more queries. So the default
//! is one thread on hosts with at most two CPUs and one worker per CPU above that;
//! `server.worker_threads` (or `shardgate local --worker-threads`) overrides it.

use std::io;
use tokio::runtime::{Builder, Runtime};

/// The thread count used when none is configured: 1 on hosts with at most two CPUs (see the
/// module header), else one per CPU.
pub fn default_worker_threads(cpus: usize) -> usize {
    if cpus <= 2 {
        1
    } else {
        cpus
    }
}

/// Builds the runtime for `configured` threads (None: [`default_worker_threads`] of this
/// host's CPUs). One thread is tokio's current-thread runtime, which has no work-stealing
/// machinery at all; more is the multi-thread runtime with that many workers.
pub fn build(configured: Option<usize>) -> io::Result<Runtime> {
    let threads = configured.unwrap_or_else(|| {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        default_worker_threads(cpus)
    });
    let mut builder = if threads <= 1 {
        Builder::new_current_thread()
    } else {
        let mut b = Builder::new_multi_thread();
        b.worker_threads(threads);
        b
    };
    builder.enable_all().build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_hosts_get_one_thread() {
        assert_eq!(default_worker_threads(1), 1);
        assert_eq!(default_worker_threads(2), 1);
        assert_eq!(default_worker_threads(3), 3);
        assert_eq!(default_worker_threads(16), 16);
    }

    #[test]
    fn one_thread_is_a_current_thread_runtime() {
        use tokio::runtime::RuntimeFlavor;
        let rt = build(Some(1)).expect("runtime");
        assert_eq!(rt.handle().runtime_flavor(), RuntimeFlavor::CurrentThread);
        let rt = build(Some(2)).expect("runtime");
        assert_eq!(rt.handle().runtime_flavor(), RuntimeFlavor::MultiThread);
        // Spawned tasks run while block_on waits on something else, as `serve` does.
        let rt = build(Some(1)).expect("runtime");
        let answer = rt.block_on(async {
            let task = tokio::spawn(async { 6 * 7 });
            task.await.expect("task")
        });
        assert_eq!(answer, 42);
    }
}

//! Child processes that die with their parent: MariaDB servers and etcd of `shardgate local`,
//! and the servers and proxies the integration tests start. One place holds the `unsafe`
//! pre-exec hook.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Makes `cmd`'s child receive `signal` when the thread that spawns it ends
/// (`PR_SET_PDEATHSIG`), and fail to start if its parent is already gone. Spawn from a thread
/// that lives as long as the child should.
pub fn die_with_parent(cmd: &mut Command, signal: i32) {
    let parent = std::process::id();
    // SAFETY: the closure runs between fork and exec and only calls prctl and getppid, both
    // async-signal-safe; it builds errors from raw OS codes without allocating.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, signal as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() as u32 != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

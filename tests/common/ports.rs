//! Free TCP ports for the servers tests start (proxies, etcd, HTTP endpoints), taken below the
//! kernel's ephemeral range (32768–60999 by default).
//!
//! A port found by binding port 0 lies inside that range, and between the check and the
//! server's own bind the kernel may hand it to any outgoing connection (a proxy's etcd or
//! MariaDB clients, another test's): the server then fails with "Address already in use"
//! (seen in CI on the second of three consecutive proxy ports). Below the range only a
//! process that asks for the port by number can take it.

use std::sync::atomic::{AtomicU16, Ordering};

/// The first of `n` consecutive ports on 127.0.0.1 that are free now.
pub fn free_ports(n: u16) -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    // 750 slots of 16 ports in 20000..32000, starting at a different slot per test process.
    let seed = (std::process::id() % 750) as u16;
    for _ in 0..2000 {
        let step = NEXT.fetch_add(1, Ordering::Relaxed);
        let first = 20000 + (seed.wrapping_add(step) % 750) * 16;
        if (0..n).all(|i| std::net::TcpListener::bind(("127.0.0.1", first + i)).is_ok()) {
            return first;
        }
    }
    panic!("no {n} consecutive free ports below the ephemeral range");
}

/// One free port on 127.0.0.1.
#[allow(dead_code)]
pub fn free_port() -> u16 {
    free_ports(1)
}

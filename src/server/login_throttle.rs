//! Failed logins delayed per client host (MySQL's `connection_control` in spirit).
//!
//! Each host (the peer's IP address; `localhost` for the Unix socket) has a count of failed
//! logins, forgotten after `auth.failed_login_window_ms` without a new failure. Once the count
//! reaches `auth.failed_login_threshold`, every further login attempt from that host —
//! handshake or COM_CHANGE_USER, right or wrong — waits `failed_login_delay_ms × 2^k` (k = the
//! failures past the threshold), capped at `failed_login_max_delay_ms`, before the server
//! answers anything about its password. A success does not reset the count (a valid account
//! must not wash away the delay of guesses at another one); the window does.
//!
//! The map is locked only to read and update a count: the sleep holds no lock, so one host's
//! delay never blocks another host's login. One warning per host per window is logged when the
//! threshold is reached; totals are counters on the proxy state.

use crate::config::AuthConfig;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most hosts tracked at once; past it (after expired entries are dropped) new hosts are not
/// tracked, so a spray of addresses cannot grow memory without bound.
const MAX_HOSTS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct HostFailures {
    failures: u32,
    last: Instant,
}

/// The per-host failure counts and the totals; one per proxy.
#[derive(Debug)]
pub struct LoginThrottle {
    threshold: u32,
    window: Duration,
    base: Duration,
    max: Duration,
    hosts: Mutex<HashMap<String, HostFailures>>,
    failed: AtomicU64,
    delayed: AtomicU64,
}

impl LoginThrottle {
    /// From `[auth]`.
    pub fn new(cfg: &AuthConfig) -> LoginThrottle {
        LoginThrottle {
            threshold: cfg.failed_login_threshold,
            window: Duration::from_millis(cfg.failed_login_window_ms),
            base: Duration::from_millis(cfg.failed_login_delay_ms),
            max: Duration::from_millis(cfg.failed_login_max_delay_ms),
            hosts: Mutex::new(HashMap::new()),
            failed: AtomicU64::new(0),
            delayed: AtomicU64::new(0),
        }
    }

    /// Failed logins since start, all hosts (handshakes and COM_CHANGE_USER).
    pub fn failed_logins(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Login attempts that were delayed since start.
    pub fn delayed_logins(&self) -> u64 {
        self.delayed.load(Ordering::Relaxed)
    }

    /// How long an attempt from `host` starting now must wait before it is answered.
    pub fn delay_for(&self, host: &str) -> Duration {
        self.delay_at(host, Instant::now())
    }

    fn delay_at(&self, host: &str, now: Instant) -> Duration {
        if self.threshold == 0 {
            return Duration::ZERO;
        }
        let failures = match self.hosts.lock() {
            Ok(hosts) => hosts
                .get(host)
                .filter(|h| now.duration_since(h.last) <= self.window)
                .map_or(0, |h| h.failures),
            Err(_) => 0,
        };
        if failures < self.threshold {
            return Duration::ZERO;
        }
        let doublings = (failures - self.threshold).min(30);
        let delay = self.base.saturating_mul(1u32 << doublings).min(self.max);
        if !delay.is_zero() {
            self.delayed.fetch_add(1, Ordering::Relaxed);
        }
        delay
    }

    /// Waits as long as [`LoginThrottle::delay_for`] says (holding no lock).
    pub async fn wait(&self, host: &str) {
        let delay = self.delay_for(host);
        if !delay.is_zero() {
            tracing::debug!(%host, delay_ms = delay.as_millis() as u64, "delaying a login attempt after failed logins");
            tokio::time::sleep(delay).await;
        }
    }

    /// Counts a failed login from `host`.
    pub fn record_failure(&self, host: &str) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        self.record_at(host, Instant::now());
    }

    fn record_at(&self, host: &str, now: Instant) {
        if self.threshold == 0 {
            return;
        }
        let Ok(mut hosts) = self.hosts.lock() else {
            return;
        };
        if !hosts.contains_key(host) && hosts.len() >= MAX_HOSTS {
            let window = self.window;
            hosts.retain(|_, h| now.duration_since(h.last) <= window);
            if hosts.len() >= MAX_HOSTS {
                return;
            }
        }
        let entry = hosts.entry(host.to_string()).or_insert(HostFailures {
            failures: 0,
            last: now,
        });
        if now.duration_since(entry.last) > self.window {
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.last = now;
        if entry.failures == self.threshold {
            tracing::warn!(
                %host,
                failures = entry.failures,
                window_ms = self.window.as_millis() as u64,
                "failed logins from this host: its further attempts are delayed (logged once until it stays quiet for the window)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(threshold: u32) -> LoginThrottle {
        LoginThrottle::new(&AuthConfig {
            failed_login_threshold: threshold,
            failed_login_window_ms: 60_000,
            failed_login_delay_ms: 100,
            failed_login_max_delay_ms: 1_000,
            ..AuthConfig::default()
        })
    }

    #[test]
    fn delays_double_past_the_threshold_up_to_the_cap() {
        let t = throttle(3);
        let now = Instant::now();
        let mut seen = Vec::new();
        for _ in 0..8 {
            seen.push(t.delay_at("10.0.0.1", now).as_millis());
            t.record_at("10.0.0.1", now);
        }
        assert_eq!(seen, vec![0, 0, 0, 100, 200, 400, 800, 1000]);
        assert_eq!(
            t.delay_at("10.0.0.2", now),
            Duration::ZERO,
            "other hosts unaffected"
        );
        assert_eq!(t.delayed_logins(), 5);
    }

    #[test]
    fn the_window_forgets_a_quiet_host() {
        let t = throttle(2);
        let start = Instant::now();
        t.record_at("h", start);
        t.record_at("h", start);
        assert_eq!(t.delay_at("h", start).as_millis(), 100);
        let later = start + Duration::from_secs(61);
        assert_eq!(t.delay_at("h", later), Duration::ZERO);
        t.record_at("h", later);
        assert_eq!(
            t.delay_at("h", later),
            Duration::ZERO,
            "counting starts again"
        );
    }

    #[test]
    fn threshold_zero_never_delays() {
        let t = throttle(0);
        let now = Instant::now();
        for _ in 0..10 {
            t.record_at("h", now);
        }
        assert_eq!(t.delay_at("h", now), Duration::ZERO);
    }
}

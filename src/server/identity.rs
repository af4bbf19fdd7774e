//! The server the proxy says it is: the version in the handshake and in `VERSION()` /
//! `@@version`, derived from the shards so that drivers, which gate features on it, expect
//! exactly what the shards do.
//!
//! Rules (measured on MariaDB 10.11 and its source):
//! - a shard answering `SELECT VERSION()` with `10.11.19-MariaDB-0+deb12u1-log` makes the proxy
//!   `10.11.19-MariaDB-shardgate`; a MySQL shard's `8.0.36` makes it `8.0.36-shardgate`;
//! - MariaDB 10.x puts `5.5.5-` before its version in the handshake only (the replication
//!   hack every MariaDB-aware driver strips), never in `VERSION()`; MariaDB 11 dropped the
//!   prefix (MDEV-28910), and so does the proxy for 11.x shards;
//! - `server.server_version` overrides the derived version and is announced exactly as written
//!   in both places (as MariaDB does for a version set with `--version`, MDEV-10541);
//! - until a shard answers (all down at start), the proxy announces [`FALLBACK_VERSION`] and
//!   keeps asking every second in the background; new connections then get the learned one.

use super::ProxyState;
use arc_swap::ArcSwapOption;
use std::sync::Arc;
use std::time::Duration;

/// Announced until a shard has told its version: the MariaDB release the proxy is tested with.
pub const FALLBACK_VERSION: &str = crate::protocol::auth::SERVER_VERSION;

/// The prefix MariaDB 10.x puts before its version in the handshake.
const REPLICATION_HACK: &str = "5.5.5-";

/// One announced identity: the `VERSION()` answer and the handshake string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    /// What `SELECT VERSION()` and `@@version` answer.
    pub version: String,
    /// The server version in the handshake (with `5.5.5-` for a derived MariaDB 10.x).
    pub handshake: String,
}

impl Announced {
    /// The identity for a version the proxy derived (from a shard or the fallback).
    pub fn derived(version: String) -> Announced {
        let handshake = if needs_replication_hack(&version) {
            format!("{REPLICATION_HACK}{version}")
        } else {
            version.clone()
        };
        Announced { version, handshake }
    }

    /// The identity for a configured version: announced as written, everywhere.
    pub fn configured(version: &str) -> Announced {
        Announced {
            version: version.to_string(),
            handshake: version.to_string(),
        }
    }
}

/// Whether MariaDB would prefix `version` with `5.5.5-` in its handshake: a MariaDB below 11.
fn needs_replication_hack(version: &str) -> bool {
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    is_mariadb(version) && major == 10
}

fn is_mariadb(version: &str) -> bool {
    version.to_ascii_lowercase().contains("mariadb")
}

/// The version the proxy announces for a shard whose `VERSION()` is `backend`: its
/// `major.minor.patch`, `-MariaDB` when it is one, and `-shardgate`. None when `backend` does
/// not start with a version number.
pub fn derive_version(backend: &str) -> Option<String> {
    let backend = backend.strip_prefix(REPLICATION_HACK).unwrap_or(backend);
    let number: String = backend
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let number = number.trim_end_matches('.');
    if number.is_empty() || !number.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(if is_mariadb(backend) {
        format!("{number}-MariaDB-shardgate")
    } else {
        format!("{number}-shardgate")
    })
}

/// The proxy's identity: configured, learned from a shard, or the fallback.
#[derive(Debug)]
pub struct ServerIdentity {
    configured: Option<Announced>,
    learned: ArcSwapOption<Announced>,
    fallback: Announced,
}

impl ServerIdentity {
    /// An identity for `server.server_version` (None: derive it from the shards).
    pub fn new(configured: Option<&str>) -> ServerIdentity {
        ServerIdentity {
            configured: configured.map(Announced::configured),
            learned: ArcSwapOption::empty(),
            fallback: Announced::derived(FALLBACK_VERSION.to_string()),
        }
    }

    /// Whether the version still has to be learned from a shard.
    pub fn needs_learning(&self) -> bool {
        self.configured.is_none() && self.learned.load().is_none()
    }

    /// Records a shard's `VERSION()` answer; false when it is not a version.
    pub fn learn(&self, backend_version: &str) -> bool {
        match derive_version(backend_version) {
            Some(v) => {
                self.learned.store(Some(Arc::new(Announced::derived(v))));
                true
            }
            None => false,
        }
    }

    /// What the proxy announces now.
    pub fn current(&self) -> Announced {
        if let Some(c) = &self.configured {
            return c.clone();
        }
        match &*self.learned.load() {
            Some(a) => (**a).clone(),
            None => self.fallback.clone(),
        }
    }
}

/// Asks the shards for their version (in keyspace order, the first that answers wins) until
/// one answers, retrying every second; returns at once when the version is configured.
pub(crate) async fn learn_server_version(state: &ProxyState) {
    while state.identity.needs_learning() {
        for keyspace in &state.backends.keyspace_order {
            for shard in state.backends.keyspace(keyspace).unwrap_or_default() {
                let answer = match shard.job_conn().await {
                    Ok(mut c) => c
                        .query("SELECT VERSION()")
                        .await
                        .ok()
                        .and_then(|rows| rows.first().and_then(|r| r.get::<String, _>(0))),
                    Err(_) => None,
                };
                if let Some(v) = answer {
                    if state.identity.learn(&v) {
                        tracing::info!(
                            backend = %v,
                            announced = %state.identity.current().handshake,
                            "server version derived from the shards"
                        );
                        return;
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_from_backend_versions() {
        assert_eq!(
            derive_version("10.11.19-MariaDB-0+deb12u1-log").as_deref(),
            Some("10.11.19-MariaDB-shardgate")
        );
        assert_eq!(
            derive_version("5.5.5-10.6.12-MariaDB").as_deref(),
            Some("10.6.12-MariaDB-shardgate")
        );
        assert_eq!(
            derive_version("8.0.36").as_deref(),
            Some("8.0.36-shardgate")
        );
        assert_eq!(
            derive_version("11.4.2-MariaDB-ubu2404").as_deref(),
            Some("11.4.2-MariaDB-shardgate")
        );
        assert_eq!(derive_version("MariaDB"), None);
        assert_eq!(derive_version(""), None);
    }

    #[test]
    fn handshake_prefix_only_for_mariadb_10() {
        let a = Announced::derived("10.11.19-MariaDB-shardgate".into());
        assert_eq!(a.handshake, "5.5.5-10.11.19-MariaDB-shardgate");
        assert_eq!(a.version, "10.11.19-MariaDB-shardgate");
        let a = Announced::derived("11.4.2-MariaDB-shardgate".into());
        assert_eq!(a.handshake, "11.4.2-MariaDB-shardgate");
        let a = Announced::derived("8.0.36-shardgate".into());
        assert_eq!(a.handshake, "8.0.36-shardgate");
    }

    #[test]
    fn configured_wins_and_is_announced_as_written() {
        let id = ServerIdentity::new(Some("10.6.1-MariaDB-custom"));
        assert!(!id.needs_learning());
        id.learn("10.11.19-MariaDB");
        assert_eq!(id.current(), Announced::configured("10.6.1-MariaDB-custom"));
        assert_eq!(id.current().handshake, "10.6.1-MariaDB-custom");
    }

    #[test]
    fn fallback_until_learned() {
        let id = ServerIdentity::new(None);
        assert!(id.needs_learning());
        assert_eq!(id.current().version, FALLBACK_VERSION);
        assert_eq!(id.current().handshake, format!("5.5.5-{FALLBACK_VERSION}"));
        assert!(!id.learn("garbage"));
        assert!(id.learn("10.11.19-MariaDB-log"));
        assert!(!id.needs_learning());
        assert_eq!(id.current().version, "10.11.19-MariaDB-shardgate");
    }
}

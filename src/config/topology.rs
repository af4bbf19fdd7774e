//! `[topology]`: where the cluster's shared state lives. Empty (the default): VSchema files and
//! workflow rows on the shards, for one proxy. `etcd = ["http://127.0.0.1:2379"]`: etcd, for
//! any number of proxies sharing one cluster (`crate::world::topology`).

use serde::{Deserialize, Serialize};

/// `[topology]` (module header).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TopologyConfig {
    /// etcd endpoints (`http://host:port`); empty: the file topology.
    #[serde(default)]
    pub etcd: Vec<String>,
    /// Every key lives under this prefix, so several clusters can share one etcd.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Seconds a proxy's lease lives without renewal: after it, other proxies consider the
    /// proxy gone (its streams move, the workflow barrier stops waiting for it), and the
    /// proxy itself refuses owner DML on keyspaces with lookup vindexes until it is back.
    #[serde(default = "default_lease_ttl")]
    pub lease_ttl_secs: u64,
    /// How long a workflow waits for every live proxy to serve its VSchema change (and to end
    /// the transactions open at the swap) before the stream fails with a message saying so.
    #[serde(default = "default_barrier_timeout")]
    pub barrier_timeout_secs: u64,
}

impl Default for TopologyConfig {
    fn default() -> Self {
        TopologyConfig {
            etcd: Vec::new(),
            prefix: default_prefix(),
            lease_ttl_secs: default_lease_ttl(),
            barrier_timeout_secs: default_barrier_timeout(),
        }
    }
}

impl TopologyConfig {
    /// Whether etcd holds the topology.
    pub fn is_etcd(&self) -> bool {
        !self.etcd.is_empty()
    }

    /// The first invalid setting: `(key, reason)`.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if let Some(bad) = self
            .etcd
            .iter()
            .find(|e| !(e.starts_with("http://") || e.starts_with("https://")) || e.len() < 8)
        {
            return Some((
                "etcd",
                format!("'{bad}' is not an http://host:port endpoint"),
            ));
        }
        if !self.prefix.starts_with('/') || self.prefix.len() < 2 {
            return Some((
                "prefix",
                format!("'{}' must start with '/' and name something", self.prefix),
            ));
        }
        if !(2..=300).contains(&self.lease_ttl_secs) {
            return Some(("lease_ttl_secs", "must be between 2 and 300".into()));
        }
        if self.barrier_timeout_secs == 0 {
            return Some(("barrier_timeout_secs", "must be at least 1".into()));
        }
        None
    }
}

fn default_prefix() -> String {
    "/shardgate".into()
}

fn default_lease_ttl() -> u64 {
    5
}

fn default_barrier_timeout() -> u64 {
    600
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_files_and_bad_settings_are_named() {
        let d = TopologyConfig::default();
        assert!(!d.is_etcd());
        assert_eq!(d.problem(), None);
        let mut t = TopologyConfig {
            etcd: vec!["127.0.0.1:2379".into()],
            ..TopologyConfig::default()
        };
        assert_eq!(t.problem().map(|p| p.0), Some("etcd"));
        t.etcd = vec!["http://127.0.0.1:2379".into()];
        assert_eq!(t.problem(), None);
        t.prefix = "shardgate".into();
        assert_eq!(t.problem().map(|p| p.0), Some("prefix"));
        t.prefix = "/sg".into();
        t.lease_ttl_secs = 1;
        assert_eq!(t.problem().map(|p| p.0), Some("lease_ttl_secs"));
    }
}

//! One etcd and N `shardgate serve` processes on the env's shards, all on the etcd topology.

use crate::common::cluster::run_dir;
use crate::common::etcd::EtcdServer;
use crate::common::{ProxyProcess, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row};
use std::time::Duration;

/// The running proxies and their etcd.
pub struct Proxies {
    pub etcd: EtcdServer,
    pub proxies: Vec<ProxyProcess>,
    pub prefix: String,
}

impl Proxies {
    /// Starts etcd and `n` proxies (the first seeds etcd from the env's VSchema files).
    pub async fn start(env: &TestEnv, n: usize, tag: &str) -> Proxies {
        let etcd = EtcdServer::start().await;
        let prefix = format!("/{tag}");
        let mut config = env.config.clone();
        config.topology = etcd.topology(&prefix);
        let mut proxies = Vec::new();
        for i in 0..n {
            let dir = run_dir().join(format!("{tag}-proxy-{i}"));
            proxies.push(ProxyProcess::start(&config, &dir).await);
        }
        Proxies {
            etcd,
            proxies,
            prefix,
        }
    }

    /// A connection through proxy `i` with `customer` as the default database.
    pub async fn conn(&self, i: usize) -> Conn {
        Conn::from_url(self.proxies[i].url(Some("customer")).as_str())
            .await
            .expect("connect through the proxy")
    }

    /// Stops every proxy that still runs.
    pub async fn stop(self) {
        for p in self.proxies {
            p.stop().await;
        }
    }
}

/// `SHOW VITESS_GATEWAYS` through `c`: (id, VSchemaRevision, Streams, Self).
pub async fn gateways(c: &mut Conn) -> Vec<(String, i64, String, bool)> {
    let rows: Vec<Row> = c.query("SHOW VITESS_GATEWAYS").await.expect("gateways");
    rows.into_iter()
        .map(|r| {
            (
                r.get::<String, _>("Id").unwrap_or_default(),
                r.get::<String, _>("VSchemaRevision")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(-1),
                r.get::<String, _>("Streams").unwrap_or_default(),
                r.get::<String, _>("Self").as_deref() == Some("yes"),
            )
        })
        .collect()
}

/// The VSchema revision proxy `c` serves (its own row).
pub async fn own_revision(c: &mut Conn) -> i64 {
    gateways(c)
        .await
        .into_iter()
        .find(|g| g.3)
        .map(|g| g.1)
        .expect("own row")
}

/// Waits until every proxy's own row reports at least `revision`; returns the time it took.
pub async fn wait_all_serving(conns: &mut [Conn], revision: i64, limit: Duration) -> Duration {
    let started = std::time::Instant::now();
    loop {
        let mut behind = Vec::new();
        for c in conns.iter_mut() {
            let r = own_revision(c).await;
            if r < revision {
                behind.push(r);
            }
        }
        if behind.is_empty() {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "proxies still serve revisions {behind:?} < {revision} after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

//! The embedded demo cluster (`shardgate local`): real MariaDB servers started from this
//! process, one per shard, with the proxy in front of them.
//!
//! - [`mariadb`]: finding, initialising, starting and stopping `mariadbd` (also used by the
//!   integration-test harness in `tests/common/`).
//! - [`layout`]: shard names, server roles and the generated config (pure functions).
//! - [`etcd`]: the etcd of `--topology etcd` (a child process, data under the local dir).
//! - `cluster`: the `run` loop behind the command.
//!
//! `--topology etcd --proxies N` runs N proxies in this process, on consecutive ports from
//! `--port`, all over the same shards and sharing one VSchema in that etcd.

pub mod child;
mod cluster;
pub mod etcd;
pub mod layout;
pub mod mariadb;

use std::path::PathBuf;

/// Options of `shardgate local`.
#[derive(Debug, Clone, clap::Args)]
pub struct LocalOptions {
    /// Number of `customer` shards, a power of two (each gets its own MariaDB server).
    #[arg(long, default_value_t = 2, value_parser = layout::parse_shard_count)]
    pub shards: u32,
    /// Port the proxy listens on, on 127.0.0.1.
    #[arg(long, default_value_t = 15306)]
    pub port: u16,
    /// Port of the proxy's HTTP endpoint (`/metrics`, `/healthz`, `/debug/status`) on
    /// 127.0.0.1, consecutive for several proxies; 0 picks a free port; `--http-port none`
    /// serves none.
    #[arg(long, default_value = "15000", value_parser = parse_http_port)]
    pub http_port: HttpPort,
    /// Directory for the servers' data, the generated config and the VSchemas.
    #[arg(long, default_value = ".shardgate/local")]
    pub dir: PathBuf,
    /// Proxy runtime threads (`server.worker_threads`); default 1 on hosts with at most two
    /// CPUs, else one per CPU (see `shardgate::runtime`).
    #[arg(long, value_parser = parse_worker_threads)]
    pub worker_threads: Option<usize>,
    /// Where the proxies keep the shared topology (VSchema, workflow state): `files` (the
    /// VSchema files in <dir>/vschema, one proxy) or `etcd` (an etcd started under <dir>/etcd;
    /// the first start seeds it from <dir>/vschema, later starts keep what etcd holds).
    #[arg(long, value_enum, default_value_t = LocalTopology::Files)]
    pub topology: LocalTopology,
    /// Number of proxies, on consecutive ports from --port; more than one needs
    /// `--topology etcd`.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=MAX_PROXIES as i64))]
    pub proxies: u16,
}

/// Most proxies `shardgate local` will start.
pub const MAX_PROXIES: u16 = 16;

/// The store of `shardgate local --topology`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LocalTopology {
    /// VSchema files in `<dir>/vschema` (one proxy).
    Files,
    /// An etcd started by `shardgate local` (any number of proxies).
    Etcd,
}

impl LocalOptions {
    /// Refuses option combinations that cannot work, before anything is started.
    pub fn check(&self) -> Result<(), String> {
        if self.proxies > 1 && self.topology != LocalTopology::Etcd {
            return Err(format!(
                "--proxies {} needs --topology etcd: proxies share their VSchema and workflow \
                 state through etcd (the file topology serves one proxy)",
                self.proxies
            ));
        }
        if u32::from(self.port) + u32::from(self.proxies) - 1 > u32::from(u16::MAX) {
            return Err(format!(
                "--port {} leaves no room for {} proxies on consecutive ports",
                self.port, self.proxies
            ));
        }
        Ok(())
    }
}

/// `--http-port`: a port, or none (a newtype: clap would read `Option<u16>` as an optional
/// argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpPort(pub Option<u16>);

fn parse_http_port(text: &str) -> Result<HttpPort, String> {
    if text == "none" {
        return Ok(HttpPort(None));
    }
    text.parse::<u16>()
        .map(|p| HttpPort(Some(p)))
        .map_err(|_| format!("'{text}' is not a port (or `none`)"))
}

fn parse_worker_threads(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{text}' is not a thread count of at least 1")),
    }
}

/// Runs the local cluster and the proxy until Ctrl-C, then stops every server it started.
/// A second run reuses the data directories.
pub async fn run(opts: LocalOptions) -> anyhow::Result<()> {
    opts.check().map_err(anyhow::Error::msg)?;
    cluster::run(opts).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        local: LocalOptions,
    }

    #[test]
    fn defaults() {
        let cli = Cli::try_parse_from(["x"]).expect("parse");
        assert_eq!(cli.local.shards, 2);
        assert_eq!(cli.local.port, 15306);
        assert_eq!(cli.local.dir, PathBuf::from(".shardgate/local"));
        assert_eq!(cli.local.worker_threads, None);
        assert_eq!(cli.local.topology, LocalTopology::Files);
        assert_eq!(cli.local.proxies, 1);
        cli.local.check().expect("defaults are valid");
        let cli = Cli::try_parse_from(["x", "--worker-threads", "2"]).expect("parse");
        assert_eq!(cli.local.worker_threads, Some(2));
        assert!(Cli::try_parse_from(["x", "--worker-threads", "0"]).is_err());
    }

    #[test]
    fn options() {
        let cli = Cli::try_parse_from(["x", "--shards", "4", "--port", "1", "--dir", "/d"])
            .expect("parse");
        assert_eq!((cli.local.shards, cli.local.port), (4, 1));
        assert_eq!(cli.local.dir, PathBuf::from("/d"));
        let err = Cli::try_parse_from(["x", "--shards", "3"])
            .err()
            .expect("rejects 3");
        assert!(err.to_string().contains("power of two"), "{err}");
    }

    #[test]
    fn several_proxies_need_etcd() {
        let parse = |args: &[&str]| {
            let mut all = vec!["x"];
            all.extend_from_slice(args);
            Cli::try_parse_from(all).map(|c| c.local)
        };
        let files = parse(&["--proxies", "3"]).expect("parses");
        let err = files.check().expect_err("3 proxies over files");
        assert!(err.contains("--topology etcd"), "{err}");
        let etcd = parse(&["--proxies", "3", "--topology", "etcd"]).expect("parses");
        assert_eq!((etcd.proxies, etcd.topology), (3, LocalTopology::Etcd));
        etcd.check().expect("valid");
        parse(&["--topology", "etcd"])
            .expect("one proxy on etcd")
            .check()
            .expect("valid");
        assert!(parse(&["--proxies", "0"]).is_err());
        assert!(parse(&["--proxies", "17"]).is_err());
        assert!(parse(&["--topology", "zk"]).is_err());
        let high =
            parse(&["--proxies", "3", "--topology", "etcd", "--port", "65535"]).expect("parses");
        assert!(high.check().expect_err("no room").contains("consecutive"));
    }
}

//! The embedded demo cluster (`shardgate local`): real MariaDB servers started from this
//! process, one per shard, with the proxy in front of them.
//!
//! - [`mariadb`]: finding, initialising, starting and stopping `mariadbd` (also used by the
//!   integration-test harness in `tests/common/`).
//! - [`layout`]: shard names, server roles and the generated config (pure functions).
//! - `cluster`: the `run` loop behind the command.

mod cluster;
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
    /// Directory for the servers' data, the generated config and the VSchemas.
    #[arg(long, default_value = ".shardgate/local")]
    pub dir: PathBuf,
    /// Proxy runtime threads (`server.worker_threads`); default 1 on hosts with at most two
    /// CPUs, else one per CPU (see `shardgate::runtime`).
    #[arg(long, value_parser = parse_worker_threads)]
    pub worker_threads: Option<usize>,
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
}

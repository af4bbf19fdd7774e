//! The embedded demo cluster (`shardgate local`). Placeholder until the local-cluster work lands.

/// Options of `shardgate local`.
#[derive(Debug, Clone, clap::Args)]
pub struct LocalOptions {}

/// Runs the local cluster and the proxy until Ctrl-C.
pub async fn run(_opts: LocalOptions) -> anyhow::Result<()> {
    anyhow::bail!("shardgate local is not built yet")
}

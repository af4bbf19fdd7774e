//! Command line: `serve`, `local` and `check`, plus logging set-up.

use clap::{Parser, Subcommand};
use shardgate::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

/// shardgate: a MySQL-protocol sharding proxy.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve MySQL clients using a config file.
    Serve {
        /// Path of shardgate.toml.
        #[arg(long)]
        config: PathBuf,
    },
    /// Validate a config file (and its VSchemas) without starting.
    Check {
        /// Path of shardgate.toml.
        #[arg(long)]
        config: PathBuf,
    },
    /// Start a local MariaDB cluster and serve it (the demo).
    Local(shardgate::local::LocalOptions),
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHARDGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    // `serve` reads its config first: the runtime's thread count is a config setting.
    let (command, preloaded) = match cli.command {
        Command::Serve { config } => match Config::load(&config) {
            Ok(cfg) => (Command::Serve { config }, Some(cfg)),
            Err(e) => {
                eprintln!("shardgate: {e}");
                return ExitCode::FAILURE;
            }
        },
        other => (other, None),
    };
    let threads = match &command {
        Command::Local(opts) => opts.worker_threads,
        _ => preloaded.as_ref().and_then(|c| c.server.worker_threads),
    };
    let runtime = match shardgate::runtime::build(threads) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("shardgate: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match command {
            Command::Serve { config } => {
                let cfg = match preloaded {
                    Some(cfg) => cfg,
                    None => Config::load(&config)?,
                };
                let proxy = shardgate::server::Proxy::start(cfg).await?;
                eprintln!("shardgate: serving MySQL on {}", proxy.local_addr());
                tokio::signal::ctrl_c().await?;
                proxy.shutdown().await;
                Ok(())
            }
            Command::Check { config } => {
                let cfg = Config::load(&config)?;
                shardgate::vschema::VSchema::load(&cfg)?;
                println!("{}: OK", config.display());
                Ok(())
            }
            Command::Local(opts) => shardgate::local::run(opts).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shardgate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

//! Command line: `serve`, `local`, `check` and `topo`, plus logging set-up.

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
    /// Log line format: text, or json (one object per line); default from
    /// SHARDGATE_LOG_FORMAT, else text.
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
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
        /// Also connect to the shards and check each string vindex against its column's
        /// collation (warnings name the keyspace, table, column, collation and vindex).
        #[arg(long)]
        connect: bool,
    },
    /// Start a local MariaDB cluster and serve it (the demo).
    Local(shardgate::local::LocalOptions),
    /// Copy the VSchema between files and the etcd topology (`[topology] etcd`).
    Topo {
        #[command(subcommand)]
        command: shardgate::topo_cli::TopoCommand,
    },
    /// Probe the HTTP endpoint's /healthz (a container HEALTHCHECK): exit 0 on 200, else 1.
    Healthcheck {
        /// The URL to GET (HTTP/1.0, 2 s timeout).
        #[arg(long, default_value = crate::healthcheck::DEFAULT_URL)]
        url: String,
    },
}

/// The log filter: `SHARDGATE_LOG` as `tracing` directives (`info`, `shardgate::query=info`,
/// ...), `info` when unset. A bare level applies to shardgate's own modules only, other
/// crates staying at `info` at most: `SHARDGATE_LOG=debug` shows routing decisions and
/// timings (`shardgate::route`), not the parser's or the HTTP stack's internals.
fn log_filter(setting: Option<&str>) -> tracing_subscriber::EnvFilter {
    let directives = match setting.map(str::trim) {
        None | Some("") => "info".to_string(),
        Some(level @ ("trace" | "debug")) => format!("info,shardgate={level}"),
        Some(other) => other.to_string(),
    };
    tracing_subscriber::EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
}

/// How log lines are written (`--log-format` / `SHARDGATE_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines (colours only on a terminal).
    Text,
    /// One JSON object per line (fields as keys), for log pipelines.
    Json,
}

fn init_logging(format: Option<LogFormat>) {
    let filter = log_filter(std::env::var("SHARDGATE_LOG").ok().as_deref());
    let format =
        format.unwrap_or_else(
            || match std::env::var("SHARDGATE_LOG_FORMAT").ok().as_deref() {
                Some("json") => LogFormat::Json,
                _ => LogFormat::Text,
            },
        );
    // Colour codes only for a terminal: logs written to files, journald or a container
    // runtime stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(ansi).init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// `check --connect`: reads the column collations from the shards and prints a warning for
/// every string vindex that is not exact for its column (the proxy scatters instead).
async fn check_collations(
    cfg: &Config,
    vschema: &shardgate::vschema::VSchema,
) -> anyhow::Result<()> {
    let backends = shardgate::backend::Backends::new(cfg)?;
    let (facts, errors) = shardgate::schema_facts::load(&backends, vschema).await;
    check_backend_grants(&backends).await;
    let tables = shardgate::check_connect::table_problems(cfg, &backends, vschema).await;
    backends.shutdown().await;
    for t in &tables {
        println!("warning: {t}");
    }
    for e in &errors {
        println!("warning: {e}");
    }
    let checked = vschema.with_column_facts(std::sync::Arc::new(facts));
    let found = shardgate::schema_facts::mismatches(&checked);
    for m in &found {
        println!("warning: {m}");
    }
    println!(
        "{} schema problem(s), {} vindex/collation mismatch(es), {} keyspace(s) not read",
        tables.len(),
        found.len(),
        errors.len()
    );
    Ok(())
}

/// `check --connect`: a `warning:` line per shard whose URL user holds privileges beyond a data
/// account's (see [`shardgate::access::backend_grants`]).
async fn check_backend_grants(backends: &shardgate::backend::Backends) {
    for keyspace in &backends.keyspace_order {
        for shard in backends.keyspace(keyspace).unwrap_or_default() {
            let lines = match shard.job_conn().await {
                Ok(mut c) => c.query("SHOW GRANTS").await.map(|rows| {
                    rows.iter()
                        .filter_map(|r| r.get::<String, _>(0))
                        .collect::<Vec<_>>()
                }),
                Err(e) => {
                    println!("warning: {}: cannot read SHOW GRANTS: {e}", shard.label);
                    continue;
                }
            };
            let risky: Vec<String> = match lines {
                Ok(lines) => lines
                    .iter()
                    .flat_map(|l| shardgate::access::backend_grants::risky_privileges(l))
                    .collect(),
                Err(e) => {
                    println!("warning: {}: cannot read SHOW GRANTS: {e}", shard.label);
                    continue;
                }
            };
            if !risky.is_empty() {
                println!(
                    "warning: {}: the shard URL's user has {} (a proxy needs data privileges on its shard databases only; see README \"Least-privilege backend account\")",
                    shard.label,
                    risky.join(", ")
                );
            }
        }
    }
}

/// Runs the command line; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    // `serve` reads its config first: the runtime's thread count is a config setting.
    let (command, preloaded) = match cli.command {
        Command::Serve { config } => match Config::load(&config) {
            Ok(cfg) => (Command::Serve { config }, Some(cfg)),
            Err(e) => {
                eprintln!("shardgate: {e}");
                return ExitCode::FAILURE;
            }
        },
        // The container probe: blocking I/O, no runtime.
        Command::Healthcheck { url } => return crate::healthcheck::run(&url),
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
                shardgate::server::stop_signal().await?;
                eprintln!("shardgate: stopping (draining sessions)");
                proxy.shutdown().await;
                Ok(())
            }
            Command::Check { config, connect } => {
                let cfg = Config::load(&config)?;
                let vschema = shardgate::vschema::VSchema::load(&cfg)?;
                if connect {
                    check_collations(&cfg, &vschema).await?;
                }
                println!("{}: OK", config.display());
                Ok(())
            }
            Command::Local(opts) => shardgate::local::run(opts).await,
            Command::Topo { command } => shardgate::topo_cli::run(command).await,
            Command::Healthcheck { .. } => anyhow::bail!("healthcheck runs before the runtime"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_debug_level_is_scoped_to_shardgate() {
        assert_eq!(
            log_filter(Some("debug")).to_string(),
            "shardgate=debug,info"
        );
        assert_eq!(log_filter(None).to_string(), "info");
        assert_eq!(
            log_filter(Some("warn,shardgate::query=info")).to_string(),
            "shardgate::query=info,warn"
        );
    }
}

//! Running `shardgate local`: prepare the data directories, start one MariaDB server per shard,
//! write `shardgate.toml`, start the proxy, serve until Ctrl-C (or SIGTERM), then stop it all.
//!
//! ```text
//! <dir>/template/        pristine data dir from mariadb-install-db (first run only)
//! <dir>/commerce_0/      server for commerce/0   (database vt_commerce)
//! <dir>/customer_-80/    server for customer/-80 (database vt_customer)   ... one per shard
//!                        and lookup/-80 (database vt_lookup, same key range)
//! <dir>/shardgate.toml   regenerated at every start (ports change)
//! <dir>/vschema/         copied from ./vschema on the first run; the proxy may edit it later
//! ```

use super::layout::{
    generate_config, guest_shards, layout, minimal_sharded_vschema, ServerRole, CUSTOMER, LOOKUP,
};
use super::mariadb::{
    ensure_template, find_binaries, prepare_data_dir, socket_path_in, start_servers, stop_servers,
    stop_stale, MariadbServer, ServerOptions, ServerSettings,
};
use super::LocalOptions;
use crate::config::Config;
use crate::server::Proxy;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a server may take to stop cleanly before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(120);
/// How often the servers are checked while serving.
const WATCH_EVERY: Duration = Duration::from_secs(2);

/// Runs the local cluster and the proxy until Ctrl-C; see the module header.
pub async fn run(opts: LocalOptions) -> anyhow::Result<()> {
    let bins = find_binaries()?;
    let roles = layout(opts.shards).map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(&opts.dir)
        .with_context(|| format!("creating {}", opts.dir.display()))?;
    let dir = std::path::absolute(&opts.dir)
        .with_context(|| format!("resolving {}", opts.dir.display()))?;
    std::net::TcpListener::bind(("127.0.0.1", opts.port)).with_context(|| {
        format!(
            "port {} is in use (another shardgate?); pick another with --port",
            opts.port
        )
    })?;

    let settings: Vec<ServerSettings> = roles
        .iter()
        .map(|r| ServerSettings::new(dir.join(&r.dir_name), 0))
        .collect();
    for s in &settings {
        if stop_stale(s, STOP_TIMEOUT).await? {
            println!(
                "stopped a MariaDB server left running in {}",
                s.dir.display()
            );
        }
    }
    if settings.iter().any(|s| !s.data_dir().exists()) {
        println!(
            "initialising MariaDB data directories under {} ...",
            dir.display()
        );
        let template = ensure_template(&bins, &dir.join("template"))?;
        for s in &settings {
            prepare_data_dir(&template, s)?;
        }
    }
    note_unused_dirs(&dir, &roles);
    install_vschemas(&dir)?;

    let started = Instant::now();
    let options = ServerOptions {
        // Servers stop cleanly if this process dies without stopping them.
        parent_death_signal: Some(libc::SIGTERM),
        ..ServerOptions::default()
    };
    let mut servers = start_servers(&bins, settings, &options).await?;
    println!(
        "{} MariaDB servers ready in {:.1} s",
        servers.len(),
        started.elapsed().as_secs_f64()
    );
    let outcome = serve(&opts, &dir, &roles, &mut servers).await;
    let mut gone = Vec::new();
    for server in servers.iter_mut() {
        if let Some(status) = server.exit_status() {
            gone.push(format!("{} ({status})", server.dir().display()));
        }
    }
    let running = servers.len() - gone.len();
    if gone.is_empty() {
        println!("stopping {running} MariaDB servers ...");
    } else {
        println!(
            "stopping {running} MariaDB servers ({} had already stopped: {}) ...",
            gone.len(),
            gone.join(", ")
        );
    }
    stop_servers(servers, STOP_TIMEOUT).await;
    println!("all MariaDB servers stopped");
    outcome
}

/// Everything between "servers are up" and "stop the servers": errors here still stop them.
async fn serve(
    opts: &LocalOptions,
    dir: &Path,
    roles: &[ServerRole],
    servers: &mut [MariadbServer],
) -> anyhow::Result<()> {
    for (role, server) in roles.iter().zip(servers.iter()) {
        server
            .exec(&format!(
                "CREATE DATABASE IF NOT EXISTS `{}`",
                role.database
            ))
            .await?;
        apply_example_schema(server, &role.keyspace, &role.database).await?;
    }
    let mut placed: Vec<(ServerRole, u16)> = roles
        .iter()
        .cloned()
        .zip(servers.iter().map(|s| s.port()))
        .collect();
    let socket_of = |s: &MariadbServer| Some(s.settings().socket_path().display().to_string());
    let mut sockets: Vec<Option<String>> = servers.iter().map(socket_of).collect();
    for (guest, host) in guest_shards(roles) {
        let server = &servers[host];
        server
            .exec(&format!(
                "CREATE DATABASE IF NOT EXISTS `{}`",
                guest.database
            ))
            .await?;
        apply_example_schema(server, &guest.keyspace, &guest.database).await?;
        placed.push((guest, server.port()));
        sockets.push(socket_of(server));
    }
    let config_path = dir.join("shardgate.toml");
    let text = format!(
        "# Generated by `shardgate local` at every start (server ports change); edits are lost.\n{}",
        {
            let mut cfg = generate_config(&placed, opts.port, &sockets);
            cfg.server.worker_threads = opts.worker_threads;
            cfg.server.mysql_socket = Some(socket_path_in(dir, "shardgate.sock"));
            cfg
        }
        .to_toml()
    );
    write_atomic(&config_path, &text)?;
    let cfg = Config::load(&config_path)?;
    let socket = cfg.mysql_socket_path();
    let proxy = Proxy::start(cfg)
        .await
        .with_context(|| format!("starting the proxy on 127.0.0.1:{}", opts.port))?;
    print_banner(
        &placed,
        &config_path,
        proxy.local_addr().port(),
        socket.as_deref(),
    );
    let outcome = wait_for_stop(servers).await;
    println!("shutting down ...");
    proxy.shutdown().await;
    outcome
}

fn print_banner(
    placed: &[(ServerRole, u16)],
    config_path: &Path,
    port: u16,
    socket: Option<&Path>,
) {
    println!();
    println!("shard servers:");
    for (role, server_port) in placed {
        println!(
            "  {:<16} 127.0.0.1:{:<6} database {}",
            format!("{}/{}", role.keyspace, role.shard),
            server_port,
            role.database
        );
    }
    println!("config:  {}", config_path.display());
    if let Some(parent) = config_path.parent() {
        println!("vschema: {}", parent.join("vschema").display());
    }
    println!();
    println!(
        "shardgate is serving MySQL on 127.0.0.1:{port}; user root, empty password. Connect with:"
    );
    println!();
    println!("  mariadb -h127.0.0.1 -P{port} -uroot commerce");
    if let Some(socket) = socket {
        println!("  mariadb -S {} -uroot commerce", socket.display());
    }
    println!();
    println!("Press Ctrl-C to stop the proxy and the MariaDB servers.");
}

/// Waits for Ctrl-C or SIGTERM, warning (once per server) if a MariaDB server dies meanwhile.
async fn wait_for_stop(servers: &mut [MariadbServer]) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    // Both listeners live for the whole wait: a signal that arrives while the loop is busy
    // with a watch tick is still seen (a `ctrl_c()` future made per iteration missed those).
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut watch = tokio::time::interval(WATCH_EVERY);
    let mut reported = vec![false; servers.len()];
    loop {
        tokio::select! {
            _ = int.recv() => return Ok(()),
            _ = term.recv() => return Ok(()),
            _ = watch.tick() => {
                for (server, reported) in servers.iter_mut().zip(reported.iter_mut()) {
                    if *reported {
                        continue;
                    }
                    if let Some(status) = server.exit_status() {
                        *reported = true;
                        eprintln!(
                            "warning: the MariaDB server in {} has stopped ({status}); its shards \
                             answer errors until shardgate local is restarted; see {}",
                            server.dir().display(),
                            server.settings().error_log_path().display()
                        );
                    }
                }
            }
        }
    }
}

/// Applies `./schema/<keyspace>.sql` (idempotent `CREATE TABLE IF NOT EXISTS` statements) to a
/// shard's database, so the example keyspaces have their tables; absent file = nothing to do.
async fn apply_example_schema(
    server: &MariadbServer,
    keyspace: &str,
    database: &str,
) -> anyhow::Result<()> {
    let path = PathBuf::from("schema").join(format!("{keyspace}.sql"));
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    server
        .exec(&format!("USE `{database}`; {text}"))
        .await
        .with_context(|| format!("applying {} to {database}", path.display()))?;
    Ok(())
}

/// Copies `./vschema/*.json` into `<dir>/vschema/` on the first run (later runs keep the dir's
/// copy, which the proxy may have edited) and makes sure the sharded keyspaces `customer` and
/// `lookup` have a VSchema: a dir made before `lookup` existed gets `./vschema/lookup.json`
/// (or a minimal sharded one).
fn install_vschemas(dir: &Path) -> anyhow::Result<()> {
    let target = dir.join("vschema");
    if !target.exists() {
        std::fs::create_dir_all(&target)
            .with_context(|| format!("creating {}", target.display()))?;
        let examples = PathBuf::from("vschema");
        let mut copied = 0;
        if examples.is_dir() {
            for entry in std::fs::read_dir(&examples)
                .with_context(|| format!("reading {}", examples.display()))?
            {
                let path = entry?.path();
                if path.is_file() && path.extension().is_some_and(|e| e == "json") {
                    if let Some(name) = path.file_name() {
                        std::fs::copy(&path, target.join(name)).with_context(|| {
                            format!("copying {} to {}", path.display(), target.display())
                        })?;
                        copied += 1;
                    }
                }
            }
        }
        if copied > 0 {
            println!(
                "copied {copied} example VSchemas from ./vschema to {}",
                target.display()
            );
        } else {
            println!("no example VSchemas in ./vschema: customer gets a minimal sharded VSchema");
        }
    }
    for keyspace in [CUSTOMER, LOOKUP] {
        let file = format!("{keyspace}.json");
        let path = target.join(&file);
        if path.exists() {
            continue;
        }
        let example = PathBuf::from("vschema").join(&file);
        match std::fs::read_to_string(&example) {
            Ok(text) => write_atomic(&path, &text)?,
            Err(_) => write_atomic(&path, &minimal_sharded_vschema())?,
        }
    }
    Ok(())
}

/// Mentions server directories of shards that are not part of this run's layout.
fn note_unused_dirs(dir: &Path, roles: &[ServerRole]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut unused: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("my.cnf").exists())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| !roles.iter().any(|r| &r.dir_name == name))
        .collect();
    if !unused.is_empty() {
        unused.sort();
        println!(
            "note: not starting servers of another --shards layout (their data is kept): {}",
            unused.join(", ")
        );
    }
}

/// Writes `path` through a temporary file and a rename, so readers never see half a file.
fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.toml");
        write_atomic(&path, "one").expect("write");
        write_atomic(&path, "two").expect("rewrite");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "two");
        assert!(!dir.path().join("a.tmp").exists());
    }

    #[test]
    fn vschemas_get_a_sharded_customer() {
        let dir = tempfile::tempdir().expect("tempdir");
        install_vschemas(dir.path()).expect("install");
        for ks in ["customer", "lookup"] {
            let text = std::fs::read_to_string(dir.path().join(format!("vschema/{ks}.json")))
                .expect("read");
            assert!(text.contains("\"sharded\": true"), "{ks}: {text}");
        }
    }
}

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
//! <dir>/etcd/            --topology etcd: etcd's data and log (see `super::etcd`)
//! <dir>/shardgate-N.toml --topology etcd: proxy N's config, regenerated at every start
//! ```
//!
//! With `--topology etcd`, etcd starts after the MariaDB servers and stops after the proxies
//! (they revoke their leases at shutdown) and before the servers.

use super::etcd::{find_etcd, EtcdProcess};
use super::layout::{
    generate_config, guest_shards, layout, minimal_sharded_vschema, proxy_plans, ProxyPlan,
    ServerRole, CUSTOMER, ETCD_PREFIX, LOOKUP,
};
use super::mariadb::{
    ensure_template, find_binaries, prepare_data_dir, socket_path_in, start_servers, stop_servers,
    stop_stale, MariadbServer, ServerOptions, ServerSettings,
};
use super::{LocalOptions, LocalTopology};
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
    let etcd_program = match opts.topology {
        LocalTopology::Etcd => Some(find_etcd()?),
        LocalTopology::Files => None,
    };
    let plans = proxy_plans(opts.port, opts.proxies, etcd_program.is_some());
    for plan in &plans {
        std::net::TcpListener::bind(("127.0.0.1", plan.port)).with_context(|| {
            if plans.len() > 1 {
                format!(
                    "port {} is in use (another shardgate?); the proxies need {} consecutive \
                     free ports from --port {}: pick another --port",
                    plan.port,
                    plans.len(),
                    opts.port
                )
            } else {
                format!(
                    "port {} is in use (another shardgate?); pick another with --port",
                    plan.port
                )
            }
        })?;
    }

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
    let mut etcd = None;
    let outcome = match &etcd_program {
        Some(program) => {
            let started = Instant::now();
            match EtcdProcess::start(program, &dir.join("etcd")).await {
                Ok(e) => {
                    println!(
                        "etcd ready on {} in {:.1} s",
                        e.endpoint(),
                        started.elapsed().as_secs_f64()
                    );
                    etcd = Some(e);
                    Ok(())
                }
                Err(e) => Err(e),
            }
        }
        None => Ok(()),
    };
    let outcome = match outcome {
        Ok(()) => serve(&opts, &dir, &roles, &plans, &mut servers, etcd.as_mut()).await,
        Err(e) => Err(e),
    };
    if let Some(etcd) = etcd {
        println!("stopping etcd ...");
        etcd.stop().await;
        println!("etcd stopped");
    }
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
    plans: &[ProxyPlan],
    servers: &mut [MariadbServer],
    etcd: Option<&mut EtcdProcess>,
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
    let mut proxies = Vec::new();
    let mut started = Vec::new();
    let mut failed = None;
    for plan in plans {
        match start_proxy(opts, dir, plan, &placed, &sockets, etcd.as_deref()).await {
            Ok((proxy, config_path, socket)) => {
                started.push(StartedProxy {
                    port: proxy.local_addr().port(),
                    http: proxy.http_addr(),
                    config_path,
                    socket,
                });
                proxies.push(proxy);
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    let outcome = match failed {
        Some(e) => Err(e),
        None => {
            match etcd.as_deref() {
                None => print_banner(&placed, &started[0]),
                Some(etcd) => print_etcd_banner(&placed, dir, etcd, &started),
            }
            wait_for_stop(servers, etcd).await
        }
    };
    println!("shutting down ...");
    for proxy in proxies {
        proxy.shutdown().await;
    }
    outcome
}

/// A proxy that is serving, for the banner.
struct StartedProxy {
    port: u16,
    /// Its HTTP endpoint (`--http-port`), if any.
    http: Option<std::net::SocketAddr>,
    config_path: PathBuf,
    socket: Option<PathBuf>,
}

/// Writes the config of one proxy (regenerated at every start) and starts it in this process.
async fn start_proxy(
    opts: &LocalOptions,
    dir: &Path,
    plan: &ProxyPlan,
    placed: &[(ServerRole, u16)],
    sockets: &[Option<String>],
    etcd: Option<&EtcdProcess>,
) -> anyhow::Result<(Proxy, PathBuf, Option<PathBuf>)> {
    let config_path = dir.join(&plan.config_file);
    let mut cfg = generate_config(placed, plan.port, sockets);
    cfg.server.worker_threads = opts.worker_threads;
    cfg.server.mysql_socket = Some(socket_path_in(dir, &plan.socket_file));
    // Proxy i of --proxies serves HTTP on --http-port + i (0: each picks a free port).
    cfg.server.http_listen = opts.http_port.0.map(|first| {
        let port = match first {
            0 => 0,
            p => p.saturating_add(plan.port.saturating_sub(opts.port)),
        };
        format!("127.0.0.1:{port}")
    });
    if let Some(etcd) = etcd {
        cfg.topology = etcd.topology(ETCD_PREFIX);
    }
    let text = format!(
        "# Generated by `shardgate local` at every start (server ports change); edits are lost.\n{}",
        cfg.to_toml()
    );
    write_atomic(&config_path, &text)?;
    let cfg = Config::load(&config_path)?;
    let socket = cfg.mysql_socket_path();
    let proxy = Proxy::start(cfg)
        .await
        .with_context(|| format!("starting the proxy on 127.0.0.1:{}", plan.port))?;
    Ok((proxy, config_path, socket))
}

fn print_servers(placed: &[(ServerRole, u16)]) {
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
}

/// `--topology etcd`: etcd, the proxies and how to connect to each.
fn print_etcd_banner(
    placed: &[(ServerRole, u16)],
    dir: &Path,
    etcd: &EtcdProcess,
    proxies: &[StartedProxy],
) {
    print_servers(placed);
    println!(
        "etcd:    {} (data in {}; VSchema under {ETCD_PREFIX}/vschema/)",
        etcd.endpoint(),
        etcd.dir().display()
    );
    println!(
        "vschema: {} seeds etcd when it holds none; after that etcd's VSchema is the one served \
         (shardgate topo export/import --config <a config below>)",
        dir.join("vschema").display()
    );
    println!();
    let ports: Vec<String> = proxies
        .iter()
        .map(|p| format!("127.0.0.1:{}", p.port))
        .collect();
    let (what, any) = match proxies.len() {
        1 => ("one proxy, its topology in etcd".to_string(), "it"),
        n => (format!("{n} proxies sharing etcd"), "any of them"),
    };
    println!(
        "shardgate is serving MySQL on {} ({what}); user root, empty password. Connect to {any} \
         with:",
        ports.join(", ")
    );
    for (i, p) in proxies.iter().enumerate() {
        println!();
        println!("  proxy {} (config {}):", i + 1, p.config_path.display());
        println!("    mariadb -h127.0.0.1 -P{} -uroot commerce", p.port);
        if let Some(socket) = &p.socket {
            println!("    mariadb -S {} -uroot commerce", socket.display());
        }
        if let Some(http) = p.http {
            println!("    status page: http://{http}/debug/status  (also /metrics, /healthz)");
        }
    }
    println!();
    println!("Press Ctrl-C to stop the proxies, etcd and the MariaDB servers.");
}

fn print_banner(placed: &[(ServerRole, u16)], proxy: &StartedProxy) {
    let (config_path, port, socket) = (&proxy.config_path, proxy.port, proxy.socket.as_deref());
    print_servers(placed);
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
    if let Some(http) = proxy.http {
        println!();
        println!("  status page: http://{http}/debug/status  (also /metrics, /healthz)");
    }
    println!();
    println!("Press Ctrl-C to stop the proxy and the MariaDB servers.");
}

/// Waits for Ctrl-C or SIGTERM, warning (once per server) if a MariaDB server dies meanwhile.
/// With etcd, also warns (once) if etcd dies.
async fn wait_for_stop(
    servers: &mut [MariadbServer],
    mut etcd: Option<&mut EtcdProcess>,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    // Both listeners live for the whole wait: a signal that arrives while the loop is busy
    // with a watch tick is still seen (a `ctrl_c()` future made per iteration missed those).
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut watch = tokio::time::interval(WATCH_EVERY);
    let mut reported = vec![false; servers.len()];
    let mut etcd_reported = false;
    loop {
        tokio::select! {
            _ = int.recv() => return Ok(()),
            _ = term.recv() => return Ok(()),
            _ = watch.tick() => {
                if let Some(etcd) = etcd.as_deref_mut() {
                    if let (false, Some(status)) = (etcd_reported, etcd.exit_status()) {
                        etcd_reported = true;
                        eprintln!(
                            "warning: etcd has stopped ({status}); the proxies cannot change \
                             the VSchema or see each other until shardgate local is restarted; \
                             see {}",
                            etcd.log_path().display()
                        );
                    }
                }
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

//! The container files agree with each other (no Docker engine here runs them): the compose
//! cluster's proxy config `deploy/compose/shardgate.toml` loads and validates with its
//! `vschema/` as `shardgate check` does; it listens where the Dockerfile publishes and probes;
//! its shard URLs name compose services whose init SQL (`deploy/mariadb/<service>.sql`)
//! creates the URL's database and grants the URL's user on it.

use shardgate::config::validate::parse_shard_url;
use shardgate::config::Config;
use std::path::{Path, PathBuf};

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_file(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_compose_config_loads_with_its_vschemas() {
    let cfg = Config::load(&repo_file("deploy/compose/shardgate.toml")).expect("config loads");
    shardgate::vschema::VSchema::load(&cfg).expect("vschema/ loads");
    for ks in &cfg.keyspaces {
        assert!(
            repo_file(&format!("deploy/compose/vschema/{}.json", ks.name)).is_file(),
            "keyspace {} has no VSchema file",
            ks.name
        );
    }
    assert!(
        cfg.users.iter().any(|u| u.admin),
        "an admin user, for ALTER VSCHEMA"
    );
}

#[test]
fn the_compose_config_listens_where_the_image_publishes_and_probes() {
    let cfg = Config::load(&repo_file("deploy/compose/shardgate.toml")).expect("config loads");
    let dockerfile = read("Dockerfile");
    assert_eq!(cfg.server.mysql_listen, "0.0.0.0:15306");
    assert_eq!(cfg.server.http_listen.as_deref(), Some("0.0.0.0:15000"));
    assert!(dockerfile.contains("\nEXPOSE 15306 15000\n"), "EXPOSE");
    assert!(
        dockerfile.contains(r#""healthcheck", "--url", "http://127.0.0.1:15000/healthz"]"#),
        "the HEALTHCHECK probes http_listen's port"
    );
    let compose = read("docker-compose.yml");
    assert!(
        compose.contains("- ./deploy/compose:/etc/shardgate\n"),
        "config mount"
    );
    assert!(
        dockerfile.contains(r#"CMD ["serve", "--config", "/etc/shardgate/shardgate.toml"]"#),
        "the image serves the mounted config"
    );
}

#[test]
fn every_shard_url_names_a_compose_service_that_creates_its_database() {
    let cfg = Config::load(&repo_file("deploy/compose/shardgate.toml")).expect("config loads");
    let compose = read("docker-compose.yml");
    for ks in &cfg.keyspaces {
        for shard in &ks.shards {
            let url = parse_shard_url(&shard.url).expect("shard URL");
            let service = &url.host;
            assert!(
                compose.contains(&format!("\n  {service}:\n")),
                "{}/{}: no compose service {service}",
                ks.name,
                shard.name
            );
            let init = format!("deploy/mariadb/{service}.sql");
            assert!(
                compose.contains(&format!(
                    "./{init}:/docker-entrypoint-initdb.d/{service}.sql:ro"
                )),
                "{service} does not run {init}"
            );
            let sql = read(&init);
            let db = &url.database;
            assert!(
                sql.contains(&format!("CREATE DATABASE {db};")),
                "{init} does not create {db}"
            );
            let user = &url.user;
            assert!(
                sql.contains(&format!(
                    "CREATE USER '{user}'@'%' IDENTIFIED BY '{}';",
                    url.password
                )),
                "{init} does not create {user} with the URL's password"
            );
            assert!(
                sql.contains(&format!("ON `{db}`.* TO '{user}'@'%';")),
                "{init} does not grant {user} on {db}"
            );
        }
    }
}

//! Consistency checks for a parsed [`Config`]: names, shard ranges, backend URLs.

use super::{Config, ConfigError};
use crate::keyrange::{check_coverage, KeyRange};
use std::collections::HashSet;

/// The parts of a shard URL the proxy needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardUrl {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Login user.
    pub user: String,
    /// Password (may be empty).
    pub password: String,
    /// Backend database that holds this shard's tables.
    pub database: String,
    /// Unix socket of the server (`?socket=/path`): session connections use it instead of
    /// TCP when the server runs on the proxy's host (a cheaper hop: no TCP stack).
    pub socket: Option<String>,
}

/// Parses `mysql://user[:password]@host[:port]/database[?socket=/path/to/mysqld.sock]`.
/// An unknown or malformed query option is an error, so a typo such as `?sockt=` cannot
/// silently send traffic over TCP.
pub fn parse_shard_url(url: &str) -> Result<ShardUrl, String> {
    let rest = url
        .strip_prefix("mysql://")
        .ok_or_else(|| "must start with mysql://".to_string())?;
    let (auth, rest) = match rest.rsplit_once('@') {
        Some((a, r)) => (a, r),
        None => ("root", rest),
    };
    let (user, password) = match auth.split_once(':') {
        Some((u, p)) => (u, p),
        None => (auth, ""),
    };
    let (hostport, database) = rest
        .split_once('/')
        .ok_or_else(|| "must name a database: mysql://user@host:port/database".to_string())?;
    let (database, query) = database.split_once('?').unwrap_or((database, ""));
    let socket = parse_url_options(query)?;
    if database.is_empty() {
        return Err("must name a database: mysql://user@host:port/database".into());
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("port '{p}' is not a number"))?,
        ),
        None => (hostport, 3306),
    };
    if host.is_empty() {
        return Err("host is empty".into());
    }
    if user.is_empty() {
        return Err("user is empty".into());
    }
    Ok(ShardUrl {
        host: host.into(),
        port,
        user: user.into(),
        password: password.into(),
        database: database.into(),
        socket,
    })
}

/// Options a shard URL may carry after `?`: `socket=/abs/path` (returned) and
/// `prefer_socket=true|false`, accepted for URLs written for mysql_async and without effect
/// here: the proxy uses a Unix socket only when `socket=` names one.
fn parse_url_options(query: &str) -> Result<Option<String>, String> {
    let mut socket = None;
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        let (key, value) = kv
            .split_once('=')
            .ok_or_else(|| format!("URL option '{kv}' has no value (expected key=value)"))?;
        match key {
            "socket" => {
                if !value.starts_with('/') {
                    return Err("socket= must be an absolute path".into());
                }
                socket = Some(value.to_string());
            }
            "prefer_socket" if matches!(value, "true" | "false") => {}
            "prefer_socket" => {
                return Err(format!(
                    "prefer_socket must be true or false, not '{value}'"
                ))
            }
            _ => {
                return Err(format!(
                    "unknown URL option '{key}' (known: socket, prefer_socket)"
                ))
            }
        }
    }
    Ok(socket)
}

fn invalid(file: &str, key: String, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        file: file.into(),
        key,
        reason: reason.into(),
    }
}

/// Validates a parsed config; `file` labels every message.
pub fn validate(cfg: &Config, file: &str) -> Result<(), ConfigError> {
    if let Some((key, reason)) = cfg.topology.problem() {
        return Err(invalid(file, format!("topology.{key}"), reason));
    }
    if cfg
        .server
        .mysql_listen
        .parse::<std::net::SocketAddr>()
        .is_err()
    {
        return Err(invalid(
            file,
            "server.mysql_listen".into(),
            format!("'{}' is not host:port", cfg.server.mysql_listen),
        ));
    }
    if let Some(at) = &cfg.server.http_listen {
        if at.parse::<std::net::SocketAddr>().is_err() {
            return Err(invalid(
                file,
                "server.http_listen".into(),
                format!("'{at}' is not host:port"),
            ));
        }
    }
    if let Some(reason) = cfg.log.problem() {
        return Err(invalid(file, "log.query_sample_rate".into(), reason));
    }
    if cfg.server.worker_threads == Some(0) {
        return Err(invalid(
            file,
            "server.worker_threads".into(),
            "must be at least 1",
        ));
    }
    if let Some(version) = &cfg.server.server_version {
        if !version.starts_with(|c: char| c.is_ascii_digit()) || version.contains('\0') {
            return Err(invalid(
                file,
                "server.server_version".into(),
                format!("'{version}' must start with a digit (drivers parse major.minor.patch) and hold no NUL byte"),
            ));
        }
    }
    super::tls_checks::check(cfg, file)?;
    if cfg.users.is_empty() {
        return Err(invalid(
            file,
            "users".into(),
            "at least one [[users]] entry is required",
        ));
    }
    let mut names = HashSet::new();
    for (i, u) in cfg.users.iter().enumerate() {
        if u.name.is_empty() {
            return Err(invalid(
                file,
                format!("users[{i}].name"),
                "must not be empty",
            ));
        }
        if !names.insert(u.name.as_str()) {
            return Err(invalid(
                file,
                format!("users[{i}].name"),
                format!("duplicate user '{}'", u.name),
            ));
        }
        for (j, ks) in u.keyspaces.iter().flatten().enumerate() {
            if !cfg.keyspaces.iter().any(|k| &k.name == ks) {
                return Err(invalid(
                    file,
                    format!("users[{i}].keyspaces[{j}]"),
                    format!("unknown keyspace '{ks}' (not in [[keyspaces]])"),
                ));
            }
        }
    }
    super::auth::validate(cfg, file)?;
    if cfg.backend.pool_max == 0 {
        return Err(invalid(
            file,
            "backend.pool_max".into(),
            "must be at least 1",
        ));
    }
    if cfg.backend.pool_min > cfg.backend.pool_max {
        return Err(invalid(
            file,
            "backend.pool_min".into(),
            "must not exceed pool_max",
        ));
    }
    if cfg.backend.idle_timeout_ms == 0 {
        return Err(invalid(
            file,
            "backend.idle_timeout_ms".into(),
            "must be at least 1",
        ));
    }
    if cfg.keyspaces.is_empty() {
        return Err(invalid(
            file,
            "keyspaces".into(),
            "at least one [[keyspaces]] entry is required",
        ));
    }
    let mut ks_names = HashSet::new();
    for (k, ks) in cfg.keyspaces.iter().enumerate() {
        let key = format!("keyspaces[{k}]");
        if ks.name.is_empty() || ks.name.contains(['.', '/', ':', '`']) {
            return Err(invalid(
                file,
                format!("{key}.name"),
                format!("'{}' is not a valid keyspace name", ks.name),
            ));
        }
        if !ks_names.insert(ks.name.as_str()) {
            return Err(invalid(
                file,
                format!("{key}.name"),
                format!("duplicate keyspace '{}'", ks.name),
            ));
        }
        if ks.shards.is_empty() {
            return Err(invalid(
                file,
                format!("{key}.shards"),
                format!("keyspace '{}' has no shards", ks.name),
            ));
        }
        let mut shard_names = HashSet::new();
        let mut ranges = Vec::new();
        for (s, shard) in ks.shards.iter().enumerate() {
            let skey = format!("{key}.shards[{s}]");
            if !shard_names.insert(shard.name.to_ascii_lowercase()) {
                return Err(invalid(
                    file,
                    format!("{skey}.name"),
                    format!("duplicate shard '{}' in keyspace '{}'", shard.name, ks.name),
                ));
            }
            let range = KeyRange::parse_shard_name(&shard.name)
                .map_err(|e| invalid(file, format!("{skey}.name"), e.to_string()))?;
            parse_shard_url(&shard.url).map_err(|e| {
                invalid(file, format!("{skey}.url"), format!("'{}': {e}", shard.url))
            })?;
            ranges.push((shard.name.clone(), range));
        }
        check_coverage(&ranges).map_err(|e| {
            invalid(
                file,
                format!("{key}.shards"),
                format!("keyspace '{}': {e}", ks.name),
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[server]
mysql_listen = "127.0.0.1:15306"
[[users]]
name = "app"
password = "secret"
[vschema]
dir = "vschema"
[[keyspaces]]
name = "commerce"
[[keyspaces.shards]]
name = "0"
url = "mysql://root@127.0.0.1:17100/vt_commerce"
[[keyspaces]]
name = "customer"
[[keyspaces.shards]]
name = "-80"
url = "mysql://root@127.0.0.1:17101/vt_customer"
[[keyspaces.shards]]
name = "80-"
url = "mysql://root@127.0.0.1:17102/vt_customer"
"#;

    fn check(text: &str) -> Result<(), ConfigError> {
        let cfg = Config::parse(text, "t.toml")?;
        validate(&cfg, "t.toml")
    }

    #[test]
    fn accepts_issue_example() {
        check(GOOD).expect("valid");
    }

    #[test]
    fn relative_paths_are_read_against_the_config_file() {
        let text = GOOD.replace("[server]", "[server]\nmysql_socket = \"run/sg.sock\"");
        let mut cfg = Config::parse(&text, "t.toml").expect("parse");
        cfg.source = Some(std::path::PathBuf::from("/etc/sg/shardgate.toml"));
        assert_eq!(
            cfg.mysql_socket_path().as_deref(),
            Some(std::path::Path::new("/etc/sg/run/sg.sock"))
        );
        assert_eq!(cfg.vschema_dir(), std::path::Path::new("/etc/sg/vschema"));
        cfg.server.mysql_socket = Some("/run/sg.sock".into());
        assert_eq!(
            cfg.mysql_socket_path().as_deref(),
            Some(std::path::Path::new("/run/sg.sock"))
        );
        cfg.server.mysql_socket = None;
        assert_eq!(cfg.mysql_socket_path(), None);
    }

    #[test]
    fn user_grants_name_configured_keyspaces() {
        let with = |grants: &str| {
            GOOD.replace(
                "password = \"secret\"",
                &format!("password = \"secret\"\n{grants}"),
            )
        };
        check(&with("keyspaces = [\"commerce\"]\nread_only = true")).expect("valid");
        let cfg = Config::parse(&with("read_only = true"), "t.toml").expect("parse");
        assert!(cfg.users[0].read_only && cfg.users[0].keyspaces.is_none());
        let err = check(&with("keyspaces = [\"commerce\", \"nope\"]"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("t.toml") && err.contains("users[0].keyspaces[1]") && err.contains("nope"),
            "{err}"
        );
        let err = check(&with("read_onyl = true")).unwrap_err().to_string();
        assert!(err.contains("read_onyl"), "{err}");
    }

    #[test]
    fn server_version_must_look_like_a_version() {
        let with =
            |v: &str| GOOD.replace("[server]", &format!("[server]\nserver_version = \"{v}\""));
        check(&with("5.7.9-vitess")).expect("valid");
        let cfg = Config::parse(&with("5.7.9-vitess"), "t.toml").expect("parse");
        assert_eq!(cfg.server.version(), "5.7.9-vitess");
        let cfg = Config::parse(GOOD, "t.toml").expect("parse");
        assert_eq!(cfg.server.version(), crate::protocol::auth::SERVER_VERSION);
        let err = check(&with("shardgate")).unwrap_err().to_string();
        assert!(err.contains("server.server_version"), "{err}");
    }

    #[test]
    fn checks_pool_settings() {
        let with =
            |backend: &str| GOOD.replace("[vschema]", &format!("[backend]\n{backend}\n[vschema]"));
        check(&with("pool_min = 2\nidle_timeout_ms = 250")).expect("valid");
        let err = check(&with("idle_timeout_ms = 0")).unwrap_err().to_string();
        assert!(err.contains("backend.idle_timeout_ms"), "{err}");
        let err = check(&with("pool_max = 2\npool_min = 3"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("backend.pool_min"), "{err}");
    }

    #[test]
    fn rejects_unknown_key() {
        let err = check(&GOOD.replace("[server]", "[server]\nbogus = 1"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("t.toml") && err.contains("bogus"), "{err}");
    }

    #[test]
    fn rejects_gap_and_overlap() {
        let err = check(&GOOD.replace("name = \"80-\"", "name = \"90-\""))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("keyspaces[1].shards") && err.contains("gap"),
            "{err}"
        );
        let err = check(&GOOD.replace("name = \"80-\"", "name = \"70-\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("overlap"), "{err}");
    }

    #[test]
    fn rejects_duplicates() {
        let err = check(&GOOD.replace("name = \"customer\"", "name = \"commerce\""))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("keyspaces[1].name") && err.contains("duplicate"),
            "{err}"
        );
        let err = check(&GOOD.replace("name = \"80-\"", "name = \"-80\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("duplicate shard"), "{err}");
    }

    #[test]
    fn rejects_bad_url() {
        let err = check(&GOOD.replace("/vt_commerce", ""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("keyspaces[0].shards[0].url"), "{err}");
    }

    #[test]
    fn parses_urls() {
        let u = parse_shard_url("mysql://app:pw@10.0.0.1:3307/db?socket=/run/my.sock").expect("ok");
        assert_eq!(u.socket.as_deref(), Some("/run/my.sock"));
        assert!(parse_shard_url("mysql://a@h/db?socket=rel.sock").is_err());
        assert!(parse_shard_url("mysql://a@h/db?socket=").is_err());
        let typo = parse_shard_url("mysql://a@h/db?sockt=/run/my.sock").unwrap_err();
        assert!(typo.contains("unknown URL option 'sockt'"), "{typo}");
        assert!(parse_shard_url("mysql://a@h/db?socket").is_err());
        assert!(parse_shard_url("mysql://a@h/db?prefer_socket=maybe").is_err());
        let u = parse_shard_url("mysql://a@h/db?prefer_socket=false&socket=/s.sock").expect("ok");
        assert_eq!(u.socket.as_deref(), Some("/s.sock"));
        assert_eq!(parse_shard_url("mysql://a@h/db?").expect("ok").socket, None);
        let u = parse_shard_url("mysql://app:pw@10.0.0.1:3307/db").expect("ok");
        assert_eq!(u.socket, None);
        assert_eq!(
            (
                u.host.as_str(),
                u.port,
                u.user.as_str(),
                u.password.as_str(),
                u.database.as_str()
            ),
            ("10.0.0.1", 3307, "app", "pw", "db")
        );
    }
}

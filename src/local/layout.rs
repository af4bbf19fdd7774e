//! The shape of the local cluster, as pure functions: shard names, which server holds which
//! shard, and the `shardgate.toml` that points the proxy at them.
//!
//! Servers: one for `commerce/0`, one per `customer` shard. The `lookup` keyspace (the lookup
//! tables of `customer.user`'s secondary vindexes) has as many shards as `customer`, each a
//! *guest* database `vt_lookup` on the server of the `customer` shard with the same key range,
//! so a demo with N shards runs N + 1 servers, not 2N + 1.

use crate::config::{
    BackendConfig, Config, KeyspaceConfig, ServerConfig, ShardConfig, UserConfig, VSchemaConfig,
};
use std::path::PathBuf;

/// Most `customer` shards `shardgate local` will start (one MariaDB server each).
pub const MAX_SHARDS: u32 = 64;

/// The unsharded keyspace.
pub const COMMERCE: &str = "commerce";
/// The sharded keyspace.
pub const CUSTOMER: &str = "customer";
/// The sharded keyspace holding the lookup tables of `customer`'s secondary vindexes.
pub const LOOKUP: &str = "lookup";

/// Vitess-style names for `n` equal key ranges with two hex digits (`n` a power of two,
/// 1 to 256): 1 → `0`, 2 → `-80`, `80-`, 4 → `-40`, `40-80`, `80-c0`, `c0-`.
pub fn shard_names(n: u32) -> Result<Vec<String>, String> {
    if n == 0 || !n.is_power_of_two() || n > 256 {
        return Err(format!("{n} is not a power of two between 1 and 256"));
    }
    if n == 1 {
        return Ok(vec!["0".to_string()]);
    }
    let step = 256 / n;
    let bound = |i: u32| {
        if i == 0 || i == n {
            String::new()
        } else {
            format!("{:02x}", i * step)
        }
    };
    Ok((0..n)
        .map(|i| format!("{}-{}", bound(i), bound(i + 1)))
        .collect())
}

/// Parses the `--shards` option: a power of two from 1 to [`MAX_SHARDS`].
pub fn parse_shard_count(text: &str) -> Result<u32, String> {
    let n: u32 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    if n == 0 || !n.is_power_of_two() || n > MAX_SHARDS {
        return Err(format!(
            "{n} is not a power of two between 1 and {MAX_SHARDS} (each shard gets its own MariaDB server)"
        ));
    }
    Ok(n)
}

/// One MariaDB server of the local cluster and the single shard it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRole {
    /// Keyspace of the shard.
    pub keyspace: String,
    /// Shard name (`0`, `-80`, ...).
    pub shard: String,
    /// Backend database holding the shard (`vt_<keyspace>`, as in Vitess).
    pub database: String,
    /// Server directory name under the cluster dir, e.g. `customer_-80`. Tied to the key range, so
    /// changing `--shards` never hands one range's rows to another.
    pub dir_name: String,
}

impl ServerRole {
    fn new(keyspace: &str, shard: &str) -> Self {
        ServerRole {
            keyspace: keyspace.into(),
            shard: shard.into(),
            database: format!("vt_{keyspace}"),
            dir_name: format!("{keyspace}_{shard}"),
        }
    }
}

/// Server 0 holds `commerce/0`; then one server per `customer` shard.
pub fn layout(customer_shards: u32) -> Result<Vec<ServerRole>, String> {
    let mut roles = vec![ServerRole::new(COMMERCE, "0")];
    for shard in shard_names(customer_shards)? {
        roles.push(ServerRole::new(CUSTOMER, &shard));
    }
    Ok(roles)
}

/// The shards that live on another shard's server: `lookup/<range>` for every `customer/<range>`
/// in `roles`, each with the index in `roles` of its host server. A guest's `dir_name` is its
/// host's (it has no server directory of its own).
pub fn guest_shards(roles: &[ServerRole]) -> Vec<(ServerRole, usize)> {
    roles
        .iter()
        .enumerate()
        .filter(|(_, r)| r.keyspace == CUSTOMER)
        .map(|(i, host)| {
            let mut guest = ServerRole::new(LOOKUP, &host.shard);
            guest.dir_name = host.dir_name.clone();
            (guest, i)
        })
        .collect()
}

/// The proxy's config for servers `(role, port)`, listening on 127.0.0.1:`proxy_port`, with user
/// `root` (empty password, admin) and VSchemas in `vschema/` beside the config file.
/// `sockets[i]`, when given, is server `i`'s Unix socket: the proxy's session connections use
/// it (the servers run on the proxy's host, and a Unix socket hop is cheaper than TCP).
pub fn generate_config(
    servers: &[(ServerRole, u16)],
    proxy_port: u16,
    sockets: &[Option<String>],
) -> Config {
    let mut keyspaces: Vec<KeyspaceConfig> = Vec::new();
    for (i, (role, port)) in servers.iter().enumerate() {
        let socket = match sockets.get(i) {
            Some(Some(path)) => format!("?socket={path}"),
            _ => String::new(),
        };
        let shard = ShardConfig {
            name: role.shard.clone(),
            url: format!("mysql://root@127.0.0.1:{port}/{}{socket}", role.database),
        };
        match keyspaces.iter_mut().find(|k| k.name == role.keyspace) {
            Some(ks) => ks.shards.push(shard),
            None => keyspaces.push(KeyspaceConfig {
                name: role.keyspace.clone(),
                shards: vec![shard],
            }),
        }
    }
    Config {
        server: ServerConfig {
            mysql_listen: format!("127.0.0.1:{proxy_port}"),
            worker_threads: None,
            mysql_socket: None,
            ..ServerConfig::default()
        },
        users: vec![UserConfig {
            name: "root".into(),
            password: String::new(),
            password_hash: None,
            admin: true,
            keyspaces: None,
            read_only: false,
        }],
        vschema: VSchemaConfig {
            dir: PathBuf::from("vschema"),
        },
        backend: BackendConfig::default(),
        keyspaces,
        limits: Default::default(),
        auth: Default::default(),
        topology: Default::default(),
        log: Default::default(),
        source: None,
    }
}

/// The etcd prefix of the local cluster's proxies (`--topology etcd`).
pub const ETCD_PREFIX: &str = "/shardgate/local";

/// One proxy of the local cluster: where it listens and the names of its files in the
/// cluster dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyPlan {
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// Its generated config, e.g. `shardgate.toml`.
    pub config_file: String,
    /// Its Unix socket, e.g. `shardgate.sock`.
    pub socket_file: String,
}

/// The proxies to start: with the file topology the one proxy of `shardgate.toml` (as before
/// etcd existed); with etcd `count` proxies `shardgate-1.toml` ... on consecutive ports from
/// `first_port` (callers check that they fit below 65536).
pub fn proxy_plans(first_port: u16, count: u16, etcd: bool) -> Vec<ProxyPlan> {
    if !etcd {
        return vec![ProxyPlan {
            port: first_port,
            config_file: "shardgate.toml".into(),
            socket_file: "shardgate.sock".into(),
        }];
    }
    (0..count)
        .map(|i| ProxyPlan {
            port: first_port.saturating_add(i),
            config_file: format!("shardgate-{}.toml", i + 1),
            socket_file: format!("shardgate-{}.sock", i + 1),
        })
        .collect()
}

/// The VSchema written for a sharded keyspace (`customer`, `lookup`) when no example provides
/// one: sharded, nothing else.
pub fn minimal_sharded_vschema() -> String {
    "{\n  \"sharded\": true\n}\n".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_like_vitess() {
        assert_eq!(shard_names(1).expect("1"), ["0"]);
        assert_eq!(shard_names(2).expect("2"), ["-80", "80-"]);
        assert_eq!(shard_names(4).expect("4"), ["-40", "40-80", "80-c0", "c0-"]);
        let eight = shard_names(8).expect("8");
        assert_eq!(eight.first().map(String::as_str), Some("-20"));
        assert_eq!(eight.get(3).map(String::as_str), Some("60-80"));
        assert_eq!(eight.last().map(String::as_str), Some("e0-"));
        let all = shard_names(256).expect("256");
        assert_eq!(
            (all[0].as_str(), all[1].as_str(), all[255].as_str()),
            ("-01", "01-02", "ff-")
        );
        assert!(shard_names(3).is_err() && shard_names(0).is_err() && shard_names(512).is_err());
    }

    #[test]
    fn shard_names_cover_the_range() {
        for n in [1, 2, 4, 8, 16, 64, 256] {
            let ranges: Vec<_> = shard_names(n)
                .expect("names")
                .into_iter()
                .map(|s| {
                    let r = crate::keyrange::KeyRange::parse_shard_name(&s).expect("parses");
                    (s, r)
                })
                .collect();
            crate::keyrange::check_coverage(&ranges).expect("full, no gaps or overlaps");
        }
    }

    #[test]
    fn shard_count_option() {
        assert_eq!(parse_shard_count("4"), Ok(4));
        assert!(parse_shard_count("3")
            .expect_err("3")
            .contains("power of two"));
        assert!(parse_shard_count("x").is_err());
        assert!(parse_shard_count("0").is_err());
        assert!(parse_shard_count("128").is_err());
    }

    #[test]
    fn layout_puts_commerce_first() {
        let roles = layout(2).expect("layout");
        let got: Vec<_> = roles
            .iter()
            .map(|r| {
                (
                    r.keyspace.as_str(),
                    r.shard.as_str(),
                    r.database.as_str(),
                    r.dir_name.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("commerce", "0", "vt_commerce", "commerce_0"),
                ("customer", "-80", "vt_customer", "customer_-80"),
                ("customer", "80-", "vt_customer", "customer_80-"),
            ]
        );
    }

    #[test]
    fn generated_config_validates_and_round_trips() {
        for n in [1, 2, 4] {
            let servers: Vec<_> = layout(n)
                .expect("layout")
                .into_iter()
                .zip(17100u16..)
                .collect();
            let cfg = generate_config(&servers, 15306, &[]);
            crate::config::validate(&cfg, "generated").expect("valid");
            let text = cfg.to_toml();
            let back = Config::parse(&text, "generated").expect("parses back");
            crate::config::validate(&back, "generated").expect("still valid");
            assert_eq!(back.server.mysql_listen, "127.0.0.1:15306");
            assert_eq!(back.keyspaces.len(), 2);
            assert_eq!(back.keyspaces[1].shards.len(), n as usize);
            assert_eq!(
                back.keyspaces[0].shards[0].url,
                "mysql://root@127.0.0.1:17100/vt_commerce"
            );
            assert_eq!(
                back.keyspaces[1].shards[0].url,
                "mysql://root@127.0.0.1:17101/vt_customer"
            );
            assert!(back.users[0].admin && back.users[0].password.is_empty());
        }
    }

    #[test]
    fn lookup_shards_are_guests_of_customer_servers() {
        let roles = layout(4).expect("layout");
        let guests = guest_shards(&roles);
        let got: Vec<_> = guests
            .iter()
            .map(|(g, host)| {
                (
                    g.keyspace.as_str(),
                    g.shard.as_str(),
                    g.database.as_str(),
                    roles[*host].keyspace.as_str(),
                    roles[*host].shard.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("lookup", "-40", "vt_lookup", "customer", "-40"),
                ("lookup", "40-80", "vt_lookup", "customer", "40-80"),
                ("lookup", "80-c0", "vt_lookup", "customer", "80-c0"),
                ("lookup", "c0-", "vt_lookup", "customer", "c0-"),
            ]
        );
        assert!(guests.iter().all(|(g, h)| g.dir_name == roles[*h].dir_name));

        let mut servers: Vec<_> = roles.iter().cloned().zip(17100u16..).collect();
        let hosted: Vec<_> = guests
            .iter()
            .map(|(g, h)| (g.clone(), 17100 + *h as u16))
            .collect();
        servers.extend(hosted);
        let cfg = generate_config(&servers, 15306, &[]);
        crate::config::validate(&cfg, "generated").expect("valid");
        let names: Vec<_> = cfg.keyspaces.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["commerce", "customer", "lookup"]);
        assert_eq!(cfg.keyspaces[2].shards.len(), 4);
        assert_eq!(
            cfg.keyspaces[2].shards[1].url, "mysql://root@127.0.0.1:17102/vt_lookup",
            "lookup/40-80 shares the server of customer/40-80"
        );
    }

    #[test]
    fn proxies_get_consecutive_ports_and_own_files() {
        assert_eq!(
            proxy_plans(15306, 1, false),
            [ProxyPlan {
                port: 15306,
                config_file: "shardgate.toml".into(),
                socket_file: "shardgate.sock".into(),
            }]
        );
        let three = proxy_plans(15306, 3, true);
        let got: Vec<_> = three
            .iter()
            .map(|p| (p.port, p.config_file.as_str(), p.socket_file.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (15306, "shardgate-1.toml", "shardgate-1.sock"),
                (15307, "shardgate-2.toml", "shardgate-2.sock"),
                (15308, "shardgate-3.toml", "shardgate-3.sock"),
            ]
        );
    }

    #[test]
    fn minimal_vschema_is_sharded_json() {
        let v: serde_json::Value = serde_json::from_str(&minimal_sharded_vschema()).expect("json");
        assert_eq!(v["sharded"], serde_json::Value::Bool(true));
    }
}

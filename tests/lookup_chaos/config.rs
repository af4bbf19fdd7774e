//! What one run does: the seed, how long, how many clients and kills, and which
//! [`HOLE_SWITCHES`] are on. `cargo test` uses the defaults (a short run, the switches as the
//! constant says); `bench/lookup-history` sets the `LOOKUP_CHAOS_*` variables for a long run
//! with every switch on.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `LOOKUP_CHAOS_SEED` | time | replays the same random choices (not the same timing) |
//! | `LOOKUP_CHAOS_SECS` | 32 | workload duration |
//! | `LOOKUP_CHAOS_KILLS` | 6 | proxy SIGKILLs during the workload |
//! | `LOOKUP_CHAOS_CLIENTS` | 8 | concurrent clients (at least 8) |
//! | `LOOKUP_CHAOS_HOLES` | the constant | `all`, `none`, or a comma list of item numbers / names |
//! | `LOOKUP_CHAOS_PROXIES` | 1 | proxies: 1 = one process on the file topology; N > 1 = N processes on one private etcd topology (`fleet`) |

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One construct that hits a hole of issue 15 not yet fixed when this checker was written.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HoleSwitch {
    /// The issue-15 item it reproduces (0: a hole this checker found that issue 15 does not
    /// list).
    pub(crate) item: u8,
    /// Its name (also accepted by `LOOKUP_CHAOS_HOLES`).
    pub(crate) name: &'static str,
    /// On in `cargo test`: turn it on when the fix for `item` has merged.
    pub(crate) on_in_suite: bool,
    /// What the workload does when it is on.
    pub(crate) what: &'static str,
}

/// THE switch list: every construct that reached a hole of issue 15 (or one this checker
/// found). A switch is on in `cargo test` once its fix has merged and short runs with it on
/// found no anomaly; all are on in the long run (`bench/lookup-history`).
pub(crate) const HOLE_SWITCHES: &[HoleSwitch] = &[
    HoleSwitch {
        item: 1,
        name: "reclaim_same_ksid",
        on_in_suite: true,
        what: "orders of one customer share unique sku / (region, slot) values, so a \
               duplicate's old lookup row already points at the new row's keyspace id",
    },
    HoleSwitch {
        item: 2,
        name: "quotes_under_no_backslash_escapes",
        on_in_suite: true,
        what: "clients in NO_BACKSLASH_ESCAPES write strings with quotes, backslashes and \
               injection attempts into lookup columns",
    },
    HoleSwitch {
        item: 3,
        name: "create_vindex_straddling_txns",
        on_in_suite: true,
        what: "CreateLookupVindex swaps the VSchema while client transactions are open \
               (off: clients are paused around the create statement)",
    },
    HoleSwitch {
        item: 4,
        name: "create_vindex_preexisting_duplicates",
        on_in_suite: true,
        what: "nick (the column CreateLookupVindex indexes as unique) comes from a small \
               shared pool, so owner rows already violate the new unique vindex",
    },
    HoleSwitch {
        item: 5,
        name: "create_vindex_kill_between_shards",
        on_in_suite: true,
        what: "the proxy is SIGKILLed 0-40 ms after CreateLookupVindex is sent \
               (off: no kill while the create statement runs)",
    },
    HoleSwitch {
        item: 6,
        name: "unowned_insert_unverified",
        on_in_suite: true,
        what: "user_extra rows are inserted with a phone that maps to another keyspace id",
    },
    HoleSwitch {
        item: 7,
        name: "update_same_vindex_column_twice",
        on_in_suite: true,
        what: "UPDATE ... SET phone = a, phone = b (and email, sku twice)",
    },
    HoleSwitch {
        item: 8,
        name: "nondeterministic_dml_where",
        on_in_suite: true,
        what: "UPDATE/DELETE with RAND() in WHERE, LIMIT without ORDER BY, and clients in \
               READ COMMITTED running range DML",
    },
    HoleSwitch {
        item: 2,
        name: "tricky_strings_default_mode",
        on_in_suite: true,
        what: "clients in the default sql_mode also write strings with quotes, backslashes \
               and injection attempts, which NO_BACKSLASH_ESCAPES clients then update and \
               delete (found here: name_user_vdx rows of untouched owners vanish)",
    },
    HoleSwitch {
        item: 0,
        name: "multi_column_unique_route",
        on_in_suite: true,
        what: "orders WHERE region = r AND slot = s, routed by the multi-column unique \
               rs_order_vdx (found here: the proxy answers 1105 'unexpected multiple results')",
    },
];

/// The settings of one run.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The workload's seed.
    pub(crate) seed: u64,
    /// How long the clients run.
    pub(crate) workload: Duration,
    /// How many times the proxy is SIGKILLed during the workload.
    pub(crate) kills: usize,
    /// Concurrent clients.
    pub(crate) clients: usize,
    /// The names of the [`HOLE_SWITCHES`] that are on.
    pub(crate) holes: Vec<&'static str>,
    /// How many `shardgate serve` processes: 1 on the file topology, more on one etcd topology.
    pub(crate) proxies: usize,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|s| s.trim().parse().ok())
}

/// Parses `LOOKUP_CHAOS_HOLES`: `all`, `none`, or items / names separated by commas.
pub(crate) fn parse_holes(spec: &str) -> Vec<&'static str> {
    let spec = spec.trim();
    if spec.eq_ignore_ascii_case("all") {
        return HOLE_SWITCHES.iter().map(|h| h.name).collect();
    }
    let mut on = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part.eq_ignore_ascii_case("none") {
            continue;
        }
        let found = HOLE_SWITCHES
            .iter()
            .find(|h| h.name == part || h.item.to_string() == part)
            .unwrap_or_else(|| panic!("LOOKUP_CHAOS_HOLES: unknown switch '{part}'"));
        if !on.contains(&found.name) {
            on.push(found.name);
        }
    }
    on
}

impl Settings {
    /// From the environment (see the module header).
    pub(crate) fn from_env() -> Settings {
        let seed = env_u64("LOOKUP_CHAOS_SEED").unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
        let holes = match std::env::var("LOOKUP_CHAOS_HOLES") {
            Ok(spec) => parse_holes(&spec),
            Err(_) => HOLE_SWITCHES
                .iter()
                .filter(|h| h.on_in_suite)
                .map(|h| h.name)
                .collect(),
        };
        Settings {
            seed,
            workload: Duration::from_secs(env_u64("LOOKUP_CHAOS_SECS").unwrap_or(32).max(12)),
            kills: env_u64("LOOKUP_CHAOS_KILLS").unwrap_or(6) as usize,
            clients: (env_u64("LOOKUP_CHAOS_CLIENTS").unwrap_or(8) as usize).max(8),
            holes,
            proxies: (env_u64("LOOKUP_CHAOS_PROXIES").unwrap_or(1) as usize).max(1),
        }
    }

    /// Whether the switch of issue-15 item `item` is on.
    pub(crate) fn hole(&self, item: u8) -> bool {
        HOLE_SWITCHES
            .iter()
            .any(|h| h.item == item && self.holes.contains(&h.name))
    }

    /// Whether the switch named `name` is on.
    pub(crate) fn on(&self, name: &str) -> bool {
        self.holes.contains(&name)
    }

    /// One line per switch, on or off.
    pub(crate) fn describe_holes(&self) -> String {
        HOLE_SWITCHES
            .iter()
            .map(|h| {
                format!(
                    "  item {} {} = {}: {}",
                    h.item,
                    h.name,
                    if self.on(h.name) { "ON" } else { "off" },
                    h.what
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[test]
fn hole_switches_parse() {
    assert_eq!(parse_holes("all").len(), HOLE_SWITCHES.len());
    assert!(parse_holes("none").is_empty());
    assert_eq!(
        parse_holes("6, reclaim_same_ksid,6"),
        vec!["unowned_insert_unverified", "reclaim_same_ksid"]
    );
    // Every item this checker generates has a switch; names are unique.
    for item in 1..=8 {
        assert!(HOLE_SWITCHES.iter().any(|h| h.item == item), "item {item}");
    }
    for (i, h) in HOLE_SWITCHES.iter().enumerate() {
        assert!(
            !HOLE_SWITCHES[i + 1..].iter().any(|o| o.name == h.name),
            "{}",
            h.name
        );
    }
}

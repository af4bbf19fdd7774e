//! Consistent lookup vindexes under fire (issue 4, point 5): ≥ 8 concurrent clients write
//! `customer.user` through a `shardgate serve` child process for 32 s while that process is
//! SIGKILLed and restarted at random moments (6 times); then every shard is read DIRECTLY and
//! the invariant of `lookup-vindexes.md` §2.4 is checked: every committed owner row has its
//! lookup rows (pointing at the owner's keyspace id), no unique value is taken twice, every
//! lookup row lives on the shard its own vindex names. Orphans (lookup rows without an owner)
//! are allowed and counted. Last, with the proxy up again: a taken phone gets 1062, and
//! orphaned values (made on purpose, and any the kills left) can be inserted again.
//!
//! Layout: `customer` (`-80`, `80-`): `user(id, name, phone)`, primary vindex `hash(id)`,
//! `name_user_vdx` consistent_lookup on `(name, id)`, `phone_user_vdx`
//! consistent_lookup_unique on `phone` (ignore_nulls); the lookup tables are in `lookup`
//! (`-80`, `80-`), sharded by `unicode_loose_md5(name)` and `hash(phone)`. Tables are created
//! directly on the shards.
//!
//! Randomness is only in the workload (seeded; the seed is printed and `LOOKUP_CHAOS_SEED=<n>`
//! replays the same choices, not the same timing). Errors the clients get (1062, 1213, 1205,
//! connection lost while the proxy is dead, ...) are expected and counted; clients reconnect
//! with backoff. What is asserted holds for any interleaving.

mod common;

use common::{EnvSpec, KeyspaceSpec, ProxyProcess, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use shardgate::keyrange::KeyRange;
use shardgate::vindex::hash::vhash;
use shardgate::vindex::{unicode_loose_md5, SqlValue};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SHARDS: [&str; 2] = ["-80", "80-"];
const CLIENTS: usize = 8;
const WORKLOAD: Duration = Duration::from_secs(32);
const KILLS: usize = 6;
/// Kills happen in `[KILL_MARGIN, WORKLOAD - KILL_MARGIN]`.
const KILL_MARGIN: Duration = Duration::from_secs(2);
/// Ids `1..=ID_SPACE`: small, so inserts collide on the primary key.
const ID_SPACE: i64 = 300;
/// Phones `PHONE_BASE + 1..=PHONE_SPACE`: small, so the unique lookup collides.
const PHONE_BASE: i64 = 5_550_000;
const PHONE_SPACE: i64 = 200;
const NAMES: [&str; 6] = ["alice", "bob", "carol", "dave", "eve", "frank"];
/// One unit of work (a statement, or a whole transaction) may take this long; several lock
/// waits of `innodb_lock_wait_timeout = 5` fit.
const WORK_TIMEOUT: Duration = Duration::from_secs(12);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Ids used by the checks after the workload (outside `1..=ID_SPACE`).
const PROBE_ID: i64 = 100_000;
const PROBE_PHONE: i64 = 9_000_000;

fn customer_vschema() -> serde_json::Value {
    json!({
        "sharded": true,
        "vindexes": {
            "hash": {"type": "hash"},
            "name_user_vdx": {
                "type": "consistent_lookup",
                "params": {"table": "lookup.name_user_vdx", "from": "name,id", "to": "keyspace_id"},
                "owner": "user"
            },
            "phone_user_vdx": {
                "type": "consistent_lookup_unique",
                "params": {
                    "table": "lookup.phone_user_vdx", "from": "phone", "to": "keyspace_id",
                    "ignore_nulls": "true"
                },
                "owner": "user"
            }
        },
        "tables": {
            "user": {
                "column_vindexes": [
                    {"column": "id", "name": "hash"},
                    {"columns": ["name", "id"], "name": "name_user_vdx"},
                    {"column": "phone", "name": "phone_user_vdx"}
                ]
            }
        }
    })
}

fn lookup_vschema() -> serde_json::Value {
    json!({
        "sharded": true,
        "vindexes": {
            "unicode_loose_md5": {"type": "unicode_loose_md5"},
            "hash": {"type": "hash"}
        },
        "tables": {
            "name_user_vdx": {"column_vindexes": [{"column": "name", "name": "unicode_loose_md5"}]},
            "phone_user_vdx": {"column_vindexes": [{"column": "phone", "name": "hash"}]}
        }
    })
}

fn spec() -> EnvSpec {
    EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded(
            "customer",
            &SHARDS,
            customer_vschema(),
        ))
        .with_keyspace(KeyspaceSpec::sharded("lookup", &SHARDS, lookup_vschema()))
}

/// The owner table; the indexes serve the owner-row probes of the reclaim algorithm.
const USER_DDL: &str = "CREATE TABLE user (
    id BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
    phone BIGINT,
    KEY name (name),
    KEY phone (phone))";
const NAME_LOOKUP_DDL: &str = "CREATE TABLE name_user_vdx (
    name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
    id BIGINT NOT NULL,
    keyspace_id VARBINARY(128),
    PRIMARY KEY (name, id))";
const PHONE_LOOKUP_DDL: &str = "CREATE TABLE phone_user_vdx (
    phone BIGINT NOT NULL,
    keyspace_id VARBINARY(128),
    PRIMARY KEY (phone))";

async fn create_tables(env: &TestEnv) {
    for shard in SHARDS {
        let mut c = env.shard_conn("customer", shard).await;
        c.query_drop(USER_DDL).await.expect("user DDL");
        let mut l = env.shard_conn("lookup", shard).await;
        l.query_drop(NAME_LOOKUP_DDL)
            .await
            .expect("name lookup DDL");
        l.query_drop(PHONE_LOOKUP_DDL)
            .await
            .expect("phone lookup DDL");
    }
}

/// The shard (of [`SHARDS`]) whose key range holds `ksid`.
fn shard_of(ksid: &[u8]) -> &'static str {
    SHARDS
        .iter()
        .copied()
        .find(|s| {
            KeyRange::parse_shard_name(s)
                .expect("shard name")
                .contains(ksid)
        })
        .expect("the shards cover every keyspace id")
}

/// `hash(id)`: the keyspace id of a user row, and what its lookup rows must hold.
fn id_ksid(id: i64) -> Vec<u8> {
    vhash(id as u64).to_vec()
}

/// `unicode_loose_md5(name)`: which `lookup` shard holds a name's lookup rows.
fn name_ksid(name: &str) -> Vec<u8> {
    unicode_loose_md5::ksid(&SqlValue::varchar(name.as_bytes()))
        .expect("unicode_loose_md5")
        .to_vec()
}

// ---------------------------------------------------------------------------------------------
// The workload.

#[derive(Debug, Clone)]
enum Stmt {
    Insert {
        rows: Vec<(i64, &'static str, Option<i64>)>,
        ignore: bool,
    },
    SetPhone(i64, Option<i64>),
    SetName(i64, &'static str),
    SetBoth(i64, &'static str, Option<i64>),
    DeleteById(i64),
    DeleteByPhone(i64),
    SelectByPhone(i64),
    SelectByName(&'static str),
}

fn sql_phone(p: Option<i64>) -> String {
    p.map_or_else(|| "NULL".to_string(), |p| p.to_string())
}

impl Stmt {
    fn sql(&self) -> String {
        match self {
            Stmt::Insert { rows, ignore } => {
                let values: Vec<String> = rows
                    .iter()
                    .map(|(id, name, phone)| format!("({id}, '{name}', {})", sql_phone(*phone)))
                    .collect();
                format!(
                    "INSERT {}INTO user (id, name, phone) VALUES {}",
                    if *ignore { "IGNORE " } else { "" },
                    values.join(", ")
                )
            }
            Stmt::SetPhone(id, p) => {
                format!("UPDATE user SET phone = {} WHERE id = {id}", sql_phone(*p))
            }
            Stmt::SetName(id, n) => format!("UPDATE user SET name = '{n}' WHERE id = {id}"),
            Stmt::SetBoth(id, n, p) => format!(
                "UPDATE user SET name = '{n}', phone = {} WHERE id = {id}",
                sql_phone(*p)
            ),
            Stmt::DeleteById(id) => format!("DELETE FROM user WHERE id = {id}"),
            Stmt::DeleteByPhone(p) => format!("DELETE FROM user WHERE phone = {p}"),
            Stmt::SelectByPhone(p) => format!("SELECT id, name FROM user WHERE phone = {p}"),
            Stmt::SelectByName(n) => format!("SELECT id, phone FROM user WHERE name = '{n}'"),
        }
    }
}

/// One unit of work: a statement in autocommit mode, or an explicit transaction.
#[derive(Debug, Clone)]
enum Work {
    Auto(Stmt),
    Txn { stmts: Vec<Stmt>, commit: bool },
}

impl Work {
    /// Whether it changes rows when it succeeds.
    fn writes(&self) -> bool {
        let dml = |s: &Stmt| !matches!(s, Stmt::SelectByPhone(_) | Stmt::SelectByName(_));
        match self {
            Work::Auto(s) => dml(s),
            Work::Txn { stmts, commit } => *commit && stmts.iter().any(dml),
        }
    }
}

fn random_phone(rng: &mut StdRng) -> Option<i64> {
    if rng.gen_bool(0.15) {
        None
    } else {
        Some(PHONE_BASE + rng.gen_range(1..=PHONE_SPACE))
    }
}

fn random_name(rng: &mut StdRng) -> &'static str {
    NAMES[rng.gen_range(0..NAMES.len())]
}

/// An id of `1..=ID_SPACE` not in `taken`, which it joins.
fn fresh_id(rng: &mut StdRng, taken: &mut Vec<i64>) -> i64 {
    loop {
        let id = rng.gen_range(1..=ID_SPACE);
        if !taken.contains(&id) {
            taken.push(id);
            return id;
        }
    }
}

/// A random statement on ids not in `taken` (a transaction touches each id once, so it never
/// waits on its own pre/post locks for one row; see `lookup-vindexes.md` §2.5 (ii)). Deletes by
/// phone, which may hit any id, run only in autocommit mode.
fn random_stmt(rng: &mut StdRng, taken: &mut Vec<i64>, in_txn: bool) -> Stmt {
    let id = fresh_id(rng, taken);
    match rng.gen_range(0..100) {
        0..=34 => {
            let mut rows = vec![(id, random_name(rng), random_phone(rng))];
            if rng.gen_bool(0.15) {
                rows.push((fresh_id(rng, taken), random_name(rng), random_phone(rng)));
            }
            Stmt::Insert {
                rows,
                ignore: rng.gen_bool(0.15),
            }
        }
        35..=49 => Stmt::SetPhone(id, random_phone(rng)),
        50..=59 => Stmt::SetName(id, random_name(rng)),
        60..=64 => Stmt::SetBoth(id, random_name(rng), random_phone(rng)),
        65..=79 => Stmt::DeleteById(id),
        80..=84 if !in_txn => Stmt::DeleteByPhone(PHONE_BASE + rng.gen_range(1..=PHONE_SPACE)),
        80..=92 => Stmt::SelectByPhone(PHONE_BASE + rng.gen_range(1..=PHONE_SPACE)),
        _ => Stmt::SelectByName(random_name(rng)),
    }
}

fn random_work(rng: &mut StdRng) -> Work {
    let mut taken = Vec::new();
    if rng.gen_bool(0.75) {
        return Work::Auto(random_stmt(rng, &mut taken, false));
    }
    let n = rng.gen_range(1..=3);
    let stmts = (0..n).map(|_| random_stmt(rng, &mut taken, true)).collect();
    Work::Txn {
        stmts,
        commit: rng.gen_bool(0.85),
    }
}

async fn run_work(c: &mut Conn, work: &Work) -> Result<(), mysql_async::Error> {
    match work {
        Work::Auto(stmt) => c.query_drop(stmt.sql()).await,
        Work::Txn { stmts, commit } => {
            c.query_drop("BEGIN").await?;
            for stmt in stmts {
                if let Err(e) = c.query_drop(stmt.sql()).await {
                    let _ = c.query_drop("ROLLBACK").await;
                    return Err(e);
                }
            }
            c.query_drop(if *commit { "COMMIT" } else { "ROLLBACK" })
                .await
        }
    }
}

/// What one client saw.
#[derive(Debug, Default)]
struct Stats {
    /// Units of work that succeeded.
    ok: u64,
    /// Explicit transactions committed.
    commits: u64,
    /// Units of work with at least one INSERT/UPDATE/DELETE that succeeded (and committed).
    writes: u64,
    /// Errors by kind (`1062`, `1213`, `io`, `timeout`, ...).
    errors: BTreeMap<String, u64>,
    /// The first message of each error kind.
    samples: BTreeMap<String, String>,
    /// Successful (re)connections.
    connects: u64,
    /// Failed connection attempts (the proxy was down).
    failed_connects: u64,
}

impl Stats {
    fn error(&mut self, kind: String, message: String) {
        *self.errors.entry(kind.clone()).or_default() += 1;
        self.samples.entry(kind).or_insert(message);
    }

    fn merge(&mut self, other: Stats) {
        self.ok += other.ok;
        self.commits += other.commits;
        self.writes += other.writes;
        self.connects += other.connects;
        self.failed_connects += other.failed_connects;
        for (k, n) in other.errors {
            *self.errors.entry(k).or_default() += n;
        }
        for (k, m) in other.samples {
            self.samples.entry(k).or_insert(m);
        }
    }
}

/// The kind of an error, and whether the connection is unusable after it.
fn classify(e: &mysql_async::Error) -> (String, bool) {
    match e {
        mysql_async::Error::Server(s) => (s.code.to_string(), false),
        mysql_async::Error::Io(_) => ("io".into(), true),
        mysql_async::Error::Driver(_) => ("driver".into(), true),
        _ => ("other".into(), true),
    }
}

async fn client(index: usize, seed: u64, url: String, deadline: Instant) -> Stats {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(index as u64 + 1));
    let mut stats = Stats::default();
    let mut conn: Option<Conn> = None;
    let mut backoff = Duration::from_millis(20);
    while Instant::now() < deadline {
        let Some(c) = conn.as_mut() else {
            match tokio::time::timeout(CONNECT_TIMEOUT, Conn::from_url(url.as_str())).await {
                Ok(Ok(c)) => {
                    conn = Some(c);
                    stats.connects += 1;
                    backoff = Duration::from_millis(20);
                }
                _ => {
                    stats.failed_connects += 1;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                }
            }
            continue;
        };
        let work = random_work(&mut rng);
        let broken = match tokio::time::timeout(WORK_TIMEOUT, run_work(c, &work)).await {
            Ok(Ok(())) => {
                stats.ok += 1;
                if matches!(work, Work::Txn { commit: true, .. }) {
                    stats.commits += 1;
                }
                if work.writes() {
                    stats.writes += 1;
                }
                false
            }
            Ok(Err(e)) => {
                let (kind, broken) = classify(&e);
                stats.error(kind, format!("{e} (in {work:?})"));
                broken
            }
            Err(_) => {
                stats.error("timeout".into(), format!("{work:?}"));
                true
            }
        };
        if broken {
            conn = None;
        }
    }
    if let Some(c) = conn {
        let _ = tokio::time::timeout(CONNECT_TIMEOUT, c.disconnect()).await;
    }
    stats
}

/// Kill moments: one per equal slot of the kill window, at a random point of the slot's first
/// part, so kills are spread out and at least ~1 s apart.
fn kill_schedule(rng: &mut StdRng) -> Vec<Duration> {
    let window = WORKLOAD - KILL_MARGIN * 2;
    let slot = window / KILLS as u32;
    let spread = slot.as_millis() as u64 * 3 / 4;
    (0..KILLS)
        .map(|i| KILL_MARGIN + slot * i as u32 + Duration::from_millis(rng.gen_range(0..spread)))
        .collect()
}

/// SIGKILLs the proxy at each moment of `schedule` (from `start`) and restarts it on the same
/// port after a random pause. Returns how many kills happened.
async fn killer(
    proxy: &mut ProxyProcess,
    rng: &mut StdRng,
    start: Instant,
    schedule: &[Duration],
) -> usize {
    let mut kills = 0;
    for at in schedule {
        tokio::time::sleep_until((start + *at).into()).await;
        assert!(
            proxy.is_running(),
            "the proxy died on its own:\n{}",
            proxy.log()
        );
        proxy.kill();
        kills += 1;
        let down = Duration::from_millis(rng.gen_range(0..700));
        tokio::time::sleep(down).await;
        proxy.restart().await;
        eprintln!(
            "lookup_chaos: kill {kills} at {:.1} s, down {} ms, back at {:.1} s",
            at.as_secs_f64(),
            down.as_millis(),
            start.elapsed().as_secs_f64()
        );
    }
    kills
}

// ---------------------------------------------------------------------------------------------
// Reading the shards directly.

/// Every row of the owner and lookup tables, with the shard it was read from.
#[derive(Debug, Default)]
struct Snapshot {
    /// `(shard, id, name, phone)` of `customer.user`.
    users: Vec<(String, i64, Option<String>, Option<i64>)>,
    /// `(shard, name, id, keyspace_id)` of `lookup.name_user_vdx`.
    names: Vec<(String, String, i64, Option<Vec<u8>>)>,
    /// `(shard, phone, keyspace_id)` of `lookup.phone_user_vdx`.
    phones: Vec<(String, i64, Option<Vec<u8>>)>,
}

async fn snapshot(env: &TestEnv) -> Snapshot {
    let mut snap = Snapshot::default();
    for shard in SHARDS {
        let mut c = env.shard_conn("customer", shard).await;
        let users: Vec<(i64, Option<String>, Option<i64>)> = c
            .query("SELECT id, name, phone FROM user")
            .await
            .expect("reading user");
        snap.users.extend(
            users
                .into_iter()
                .map(|(id, n, p)| (shard.to_string(), id, n, p)),
        );
        c.disconnect().await.expect("disconnect");
        let mut l = env.shard_conn("lookup", shard).await;
        let names: Vec<(String, i64, Option<Vec<u8>>)> = l
            .query("SELECT name, id, keyspace_id FROM name_user_vdx")
            .await
            .expect("reading name_user_vdx");
        snap.names.extend(
            names
                .into_iter()
                .map(|(n, id, k)| (shard.to_string(), n, id, k)),
        );
        let phones: Vec<(i64, Option<Vec<u8>>)> = l
            .query("SELECT phone, keyspace_id FROM phone_user_vdx")
            .await
            .expect("reading phone_user_vdx");
        snap.phones
            .extend(phones.into_iter().map(|(p, k)| (shard.to_string(), p, k)));
        l.disconnect().await.expect("disconnect");
    }
    snap
}

/// What the invariant check found.
#[derive(Debug, Default)]
struct Verdict {
    /// Broken invariants, one line each (must be empty).
    violations: Vec<String>,
    /// Name lookup rows without their owner row.
    name_orphans: Vec<(String, i64)>,
    /// Phone lookup rows without their owner row.
    phone_orphans: Vec<i64>,
}

fn check_invariant(snap: &Snapshot) -> Verdict {
    let mut v = Verdict::default();
    let mut name_rows: HashMap<(String, i64), Vec<Option<Vec<u8>>>> = HashMap::new();
    for (shard, name, id, ksid) in &snap.names {
        let home = shard_of(&name_ksid(name));
        if home != shard {
            v.violations.push(format!(
                "name_user_vdx ({name:?}, {id}) is on lookup/{shard}, its vindex names lookup/{home}"
            ));
        }
        name_rows
            .entry((name.to_lowercase(), *id))
            .or_default()
            .push(ksid.clone());
    }
    let mut phone_rows: HashMap<i64, Vec<Option<Vec<u8>>>> = HashMap::new();
    for (shard, phone, ksid) in &snap.phones {
        let home = shard_of(&vhash(*phone as u64));
        if home != shard {
            v.violations.push(format!(
                "phone_user_vdx {phone} is on lookup/{shard}, its vindex names lookup/{home}"
            ));
        }
        phone_rows.entry(*phone).or_default().push(ksid.clone());
    }
    let mut owners_of_phone: HashMap<i64, Vec<i64>> = HashMap::new();
    for (shard, id, name, phone) in &snap.users {
        let ksid = id_ksid(*id);
        let home = shard_of(&ksid);
        if home != shard {
            v.violations.push(format!(
                "user {id} is on customer/{shard}, hash(id) names customer/{home}"
            ));
        }
        match name {
            Some(name) => {
                let rows = name_rows
                    .get(&(name.to_lowercase(), *id))
                    .cloned()
                    .unwrap_or_default();
                if !rows.iter().any(|k| k.as_deref() == Some(ksid.as_slice())) {
                    v.violations.push(format!(
                        "user {id} (name {name:?}) has no name_user_vdx row pointing at it (rows: {rows:?})"
                    ));
                }
            }
            None => v
                .violations
                .push(format!("user {id} has a NULL name (never written)")),
        }
        if let Some(phone) = phone {
            owners_of_phone.entry(*phone).or_default().push(*id);
            let rows = phone_rows.get(phone).cloned().unwrap_or_default();
            if !rows.iter().any(|k| k.as_deref() == Some(ksid.as_slice())) {
                v.violations.push(format!(
                    "user {id} (phone {phone}) has no phone_user_vdx row pointing at it (rows: {rows:?})"
                ));
            }
        }
    }
    for (phone, ids) in &owners_of_phone {
        if ids.len() > 1 {
            v.violations.push(format!(
                "phone {phone} (unique vindex) is held by users {ids:?}"
            ));
        }
    }
    for (_, name, id, ksid) in &snap.names {
        let owned = snap.users.iter().any(|(_, uid, uname, _)| {
            uid == id
                && uname.as_deref().map(str::to_lowercase) == Some(name.to_lowercase())
                && ksid.as_deref() == Some(id_ksid(*uid).as_slice())
        });
        if !owned {
            v.name_orphans.push((name.clone(), *id));
        }
    }
    for (_, phone, ksid) in &snap.phones {
        let owned = snap.users.iter().any(|(_, uid, _, uphone)| {
            *uphone == Some(*phone) && ksid.as_deref() == Some(id_ksid(*uid).as_slice())
        });
        if !owned {
            v.phone_orphans.push(*phone);
        }
    }
    v.phone_orphans.sort_unstable();
    v.name_orphans.sort();
    v
}

async fn phone_row(env: &TestEnv, phone: i64) -> Option<Option<Vec<u8>>> {
    let shard = shard_of(&vhash(phone as u64));
    let mut l = env.shard_conn("lookup", shard).await;
    let row: Option<Option<Vec<u8>>> = l
        .exec_first(
            "SELECT keyspace_id FROM phone_user_vdx WHERE phone = ?",
            (phone,),
        )
        .await
        .expect("reading phone_user_vdx");
    l.disconnect().await.expect("disconnect");
    row
}

async fn name_row(env: &TestEnv, name: &str, id: i64) -> Option<Option<Vec<u8>>> {
    let shard = shard_of(&name_ksid(name));
    let mut l = env.shard_conn("lookup", shard).await;
    let row: Option<Option<Vec<u8>>> = l
        .exec_first(
            "SELECT keyspace_id FROM name_user_vdx WHERE name = ? AND id = ?",
            (name, id),
        )
        .await
        .expect("reading name_user_vdx");
    l.disconnect().await.expect("disconnect");
    row
}

async fn user_exists(env: &TestEnv, id: i64) -> bool {
    let mut found = false;
    for shard in SHARDS {
        let mut c = env.shard_conn("customer", shard).await;
        let n: Option<i64> = c
            .exec_first("SELECT COUNT(*) FROM user WHERE id = ?", (id,))
            .await
            .expect("reading user");
        c.disconnect().await.expect("disconnect");
        found |= n.unwrap_or(0) > 0;
    }
    found
}

fn expect_1062(result: Result<(), mysql_async::Error>, what: &str) {
    match result {
        Err(mysql_async::Error::Server(e)) => {
            assert_eq!(e.code, 1062, "{what}: expected 1062, got {e}")
        }
        other => panic!("{what}: expected error 1062, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lookups_stay_consistent_while_the_proxy_is_killed() {
    let seed = std::env::var("LOOKUP_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!("lookup_chaos: seed {seed} (replay the choices with LOOKUP_CHAOS_SEED={seed})");
    let test_started = Instant::now();
    let env = TestEnv::start(spec()).await;
    create_tables(&env).await;
    let mut proxy = env.proxy_process().await;
    let url = proxy.url(Some("customer"));

    // Phase 1: the workload, with the killer.
    let mut rng = StdRng::seed_from_u64(seed);
    let schedule = kill_schedule(&mut rng);
    let start = Instant::now();
    let deadline = start + WORKLOAD;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| tokio::spawn(client(i, seed, url.clone(), deadline)))
        .collect();
    let kills = killer(&mut proxy, &mut rng, start, &schedule).await;
    let mut stats = Stats::default();
    for c in clients {
        stats.merge(c.await.expect("client task"));
    }
    let workload_took = start.elapsed();
    proxy.kill();
    eprintln!(
        "lookup_chaos: {kills} kills; {CLIENTS} clients for {:.1} s: {} units of work ok ({} \
         with writes, {} transactions committed), {} connects, {} failed connects while down",
        workload_took.as_secs_f64(),
        stats.ok,
        stats.writes,
        stats.commits,
        stats.connects,
        stats.failed_connects
    );
    for (kind, n) in &stats.errors {
        eprintln!(
            "lookup_chaos:   error {kind}: {n} (first: {})",
            stats.samples[kind]
        );
    }
    assert_eq!(kills, KILLS, "every planned kill happened");
    assert!(
        stats.writes > 0,
        "no write ever succeeded, so the check below would prove nothing"
    );

    // The invariant, read directly from the shards with the proxy dead.
    let snap = snapshot(&env).await;
    let verdict = check_invariant(&snap);
    eprintln!(
        "lookup_chaos: {} users, {} name lookup rows, {} phone lookup rows; orphans: {} name, {} phone",
        snap.users.len(),
        snap.names.len(),
        snap.phones.len(),
        verdict.name_orphans.len(),
        verdict.phone_orphans.len()
    );
    assert!(
        verdict.violations.is_empty(),
        "{} invariant violations, e.g.:\n{}",
        verdict.violations.len(),
        verdict
            .violations
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );

    // Phase 2: the proxy up again, nothing else running.
    proxy.restart().await;
    let mut c = Conn::from_url(url.as_str())
        .await
        .expect("connecting after restart");

    // A taken phone is refused with 1062, and the refused row is not written.
    let (first, second) = (PROBE_ID + 1, PROBE_ID + 2);
    let phone = PROBE_PHONE + 1;
    c.query_drop(format!(
        "INSERT INTO user (id, name, phone) VALUES ({first}, 'zed', {phone})"
    ))
    .await
    .expect("insert of a free phone");
    expect_1062(
        c.query_drop(format!(
            "INSERT INTO user (id, name, phone) VALUES ({second}, 'zed', {phone})"
        ))
        .await,
        "insert of a taken phone",
    );
    assert!(user_exists(&env, first).await);
    assert!(
        !user_exists(&env, second).await,
        "the refused row is absent"
    );
    assert_eq!(phone_row(&env, phone).await, Some(Some(id_ksid(first))));
    // The same for a phone the workload left taken, if any.
    if let Some((_, id, _, Some(taken))) = snap.users.iter().find(|u| u.3.is_some()) {
        let (id, taken) = (*id, *taken);
        expect_1062(
            c.query_drop(format!(
                "INSERT INTO user (id, name, phone) VALUES ({}, 'zed', {taken})",
                PROBE_ID + 3
            ))
            .await,
            "insert of a phone the workload left taken",
        );
        assert_eq!(phone_row(&env, taken).await, Some(Some(id_ksid(id))));
        assert!(!user_exists(&env, PROBE_ID + 3).await);
    }

    // An orphaned phone (a lookup row with no owner, written directly) can be taken again, and
    // its lookup row then points at the new owner.
    let orphan = PROBE_PHONE + 2;
    let nobody = PROBE_ID + 99;
    let mut l = env
        .shard_conn("lookup", shard_of(&vhash(orphan as u64)))
        .await;
    l.exec_drop(
        "INSERT INTO phone_user_vdx (phone, keyspace_id) VALUES (?, ?)",
        (orphan, id_ksid(nobody)),
    )
    .await
    .expect("planting an orphan");
    l.disconnect().await.expect("disconnect");
    let owner = PROBE_ID + 4;
    c.query_drop(format!(
        "INSERT INTO user (id, name, phone) VALUES ({owner}, 'zed', {orphan})"
    ))
    .await
    .expect("an orphaned phone can be inserted again");
    assert!(user_exists(&env, owner).await);
    assert_eq!(phone_row(&env, orphan).await, Some(Some(id_ksid(owner))));

    // The same for a non-unique orphan (name, id) with a stale keyspace id.
    let again = PROBE_ID + 5;
    let mut l = env.shard_conn("lookup", shard_of(&name_ksid("olga"))).await;
    l.exec_drop(
        "INSERT INTO name_user_vdx (name, id, keyspace_id) VALUES ('olga', ?, ?)",
        (again, id_ksid(nobody)),
    )
    .await
    .expect("planting a name orphan");
    l.disconnect().await.expect("disconnect");
    c.query_drop(format!(
        "INSERT INTO user (id, name, phone) VALUES ({again}, 'olga', NULL)"
    ))
    .await
    .expect("an orphaned (name, id) can be inserted again");
    assert_eq!(
        name_row(&env, "olga", again).await,
        Some(Some(id_ksid(again)))
    );

    // Phone orphans the kills left behind are reclaimable too (a few of them).
    for (k, phone) in verdict.phone_orphans.iter().take(5).enumerate() {
        let id = PROBE_ID + 10 + k as i64;
        c.query_drop(format!(
            "INSERT INTO user (id, name, phone) VALUES ({id}, 'zed', {phone})"
        ))
        .await
        .unwrap_or_else(|e| panic!("reclaiming orphaned phone {phone}: {e}"));
        assert_eq!(phone_row(&env, *phone).await, Some(Some(id_ksid(id))));
    }

    c.disconnect().await.expect("disconnect");
    proxy.stop().await;
    eprintln!(
        "lookup_chaos: done in {:.1} s",
        test_started.elapsed().as_secs_f64()
    );
    env.stop().await;
}

/// The checker itself, on made-up snapshots (no database): it must flag what is broken and only
/// that, so a green chaos run means something.
#[test]
fn the_invariant_check_flags_what_is_broken() {
    let user = |id: i64, name: &str, phone: Option<i64>| {
        (
            shard_of(&id_ksid(id)).to_string(),
            id,
            Some(name.to_string()),
            phone,
        )
    };
    let name = |name: &str, id: i64, ksid_of: i64| {
        (
            shard_of(&name_ksid(name)).to_string(),
            name.to_string(),
            id,
            Some(id_ksid(ksid_of)),
        )
    };
    let phone = |phone: i64, ksid_of: i64| {
        (
            shard_of(&vhash(phone as u64)).to_string(),
            phone,
            Some(id_ksid(ksid_of)),
        )
    };
    let good = Snapshot {
        users: vec![user(1, "alice", Some(7)), user(2, "bob", None)],
        names: vec![name("alice", 1, 1), name("bob", 2, 2), name("eve", 3, 3)],
        phones: vec![phone(7, 1), phone(8, 9)],
    };
    let v = check_invariant(&good);
    assert!(v.violations.is_empty(), "{:?}", v.violations);
    assert_eq!(v.name_orphans, vec![("eve".to_string(), 3)]);
    assert_eq!(v.phone_orphans, vec![8]);

    let bad = Snapshot {
        users: vec![
            user(1, "alice", Some(7)),
            user(2, "bob", Some(7)),
            user(4, "carol", Some(5)),
        ],
        // carol's name row points at another keyspace id; bob's is missing.
        names: vec![name("alice", 1, 1), name("carol", 4, 1)],
        // phone 5 (carol's) is missing; 7 is held twice and points at alice only.
        phones: vec![phone(7, 1)],
    };
    let v = check_invariant(&bad);
    let text = v.violations.join("\n");
    assert_eq!(v.violations.len(), 5, "{text}");
    assert!(
        text.contains("user 2 (name \"bob\") has no name_user_vdx row"),
        "{text}"
    );
    assert!(
        text.contains("user 4 (name \"carol\") has no name_user_vdx row"),
        "{text}"
    );
    assert!(
        text.contains("user 2 (phone 7) has no phone_user_vdx row"),
        "{text}"
    );
    assert!(
        text.contains("user 4 (phone 5) has no phone_user_vdx row"),
        "{text}"
    );
    assert!(
        text.contains("phone 7 (unique vindex) is held by users"),
        "{text}"
    );

    let misplaced = Snapshot {
        users: vec![(
            if shard_of(&id_ksid(1)) == "-80" {
                "80-"
            } else {
                "-80"
            }
            .to_string(),
            1,
            Some("alice".into()),
            None,
        )],
        names: vec![(
            if shard_of(&name_ksid("alice")) == "-80" {
                "80-"
            } else {
                "-80"
            }
            .to_string(),
            "alice".into(),
            1,
            Some(id_ksid(1)),
        )],
        phones: Vec::new(),
    };
    let v = check_invariant(&misplaced);
    let text = v.violations.join("\n");
    assert_eq!(v.violations.len(), 2, "{text}");
    assert!(text.contains("user 1 is on customer/"), "{text}");
    assert!(
        text.contains("name_user_vdx (\"alice\", 1) is on lookup/"),
        "{text}"
    );
}

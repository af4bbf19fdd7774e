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
//!
//! The parts: `layout` (keyspaces, tables, keyspace ids), `workload` (the random units of
//! work), `clients` (the writers and what they saw), `killer` (when and how the proxy dies),
//! `shard_reads` (direct reads of the shards), `invariant` (the check of a snapshot).

mod clients;
#[path = "../common/mod.rs"]
mod common;
mod invariant;
mod killer;
mod layout;
mod shard_reads;
mod workload;

use clients::{client, Stats};
use common::errors::expect_error;
use common::placement::{hash_ksid, text_ksid};
use common::TestEnv;
use invariant::check_invariant;
use killer::{kill_schedule, killer};
use layout::{shard_of, LAYOUT};
use mysql_async::prelude::*;
use mysql_async::Conn;
use rand::rngs::StdRng;
use rand::SeedableRng;
use shard_reads::{name_row, phone_row, snapshot, user_exists};
use shardgate::vindex::hash::vhash;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CLIENTS: usize = 8;
const WORKLOAD: Duration = Duration::from_secs(32);
const KILLS: usize = 6;
/// Kills happen in `[KILL_MARGIN, WORKLOAD - KILL_MARGIN]`.
const KILL_MARGIN: Duration = Duration::from_secs(2);
/// One unit of work (a statement, or a whole transaction) may take this long; several lock
/// waits of `innodb_lock_wait_timeout = 5` fit.
const WORK_TIMEOUT: Duration = Duration::from_secs(12);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Ids used by the checks after the workload (outside `1..=ID_SPACE`).
const PROBE_ID: i64 = 100_000;
const PROBE_PHONE: i64 = 9_000_000;

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
    let env = TestEnv::start(LAYOUT.spec()).await;
    LAYOUT.create_tables(&env).await;
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
    expect_error(
        c.query_drop(format!(
            "INSERT INTO user (id, name, phone) VALUES ({second}, 'zed', {phone})"
        ))
        .await,
        1062,
        "insert of a taken phone",
    );
    assert!(user_exists(&env, first).await);
    assert!(
        !user_exists(&env, second).await,
        "the refused row is absent"
    );
    assert_eq!(phone_row(&env, phone).await, Some(Some(hash_ksid(first))));
    // The same for a phone the workload left taken, if any.
    if let Some((_, id, _, Some(taken))) = snap.users.iter().find(|u| u.3.is_some()) {
        let (id, taken) = (*id, *taken);
        expect_error(
            c.query_drop(format!(
                "INSERT INTO user (id, name, phone) VALUES ({}, 'zed', {taken})",
                PROBE_ID + 3
            ))
            .await,
            1062,
            "insert of a phone the workload left taken",
        );
        assert_eq!(phone_row(&env, taken).await, Some(Some(hash_ksid(id))));
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
        (orphan, hash_ksid(nobody)),
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
    assert_eq!(phone_row(&env, orphan).await, Some(Some(hash_ksid(owner))));

    // The same for a non-unique orphan (name, id) with a stale keyspace id.
    let again = PROBE_ID + 5;
    let mut l = env.shard_conn("lookup", shard_of(&text_ksid("olga"))).await;
    l.exec_drop(
        "INSERT INTO name_user_vdx (name, id, keyspace_id) VALUES ('olga', ?, ?)",
        (again, hash_ksid(nobody)),
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
        Some(Some(hash_ksid(again)))
    );

    // Phone orphans the kills left behind are reclaimable too (a few of them).
    for (k, phone) in verdict.phone_orphans.iter().take(5).enumerate() {
        let id = PROBE_ID + 10 + k as i64;
        c.query_drop(format!(
            "INSERT INTO user (id, name, phone) VALUES ({id}, 'zed', {phone})"
        ))
        .await
        .unwrap_or_else(|e| panic!("reclaiming orphaned phone {phone}: {e}"));
        assert_eq!(phone_row(&env, *phone).await, Some(Some(hash_ksid(id))));
    }

    c.disconnect().await.expect("disconnect");
    proxy.stop().await;
    eprintln!(
        "lookup_chaos: done in {:.1} s",
        test_started.elapsed().as_secs_f64()
    );
    env.stop().await;
}

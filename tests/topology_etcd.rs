//! The etcd topology store against a real etcd (issue 19, points 1, 2 and 4): VSchema keys
//! readable with etcdctl, compare-and-swap writes, the watch, stream state guarded by the
//! runner's claim, claims and proxy records that vanish with the lease.

mod common;

use common::etcd::EtcdServer;
use shardgate::world::topology::etcd::EtcdTopology;
use shardgate::world::topology::{
    KeyspaceEdit, ProxyRecord, StreamKey, StreamRow, TopoError, Topology,
};
use std::time::{Duration, Instant};

fn row(workflow: &str, shard: &str, copied: u64) -> StreamRow {
    StreamRow {
        workflow: workflow.into(),
        source_shard: shard.into(),
        state: "Copying".into(),
        phase: "copy".into(),
        message: "copying".into(),
        last_pk: Some("[\"7\"]".into()),
        rows_copied: copied,
        rows_total: 100,
        definition: "{\"target_keyspace\":\"customer\"}".into(),
        conflicts: 0,
        conflict_values: String::new(),
    }
}

fn record(id: &str, revision: i64) -> ProxyRecord {
    ProxyRecord {
        id: id.into(),
        address: "127.0.0.1:1".into(),
        started_unix: 1,
        vschema_revision: revision,
        oldest_in_flight_revision: revision,
        streams: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vschema_keys_are_json_written_by_compare_and_swap_and_watched() {
    let etcd = EtcdServer::start().await;
    let cfg = etcd.topology("/cas");
    let a = EtcdTopology::connect(&cfg, "a").await.expect("connect a");
    let b = EtcdTopology::connect(&cfg, "b").await.expect("connect b");
    let mut events = b
        .watch_vschema()
        .await
        .expect("watch")
        .expect("etcd watches");

    let v1 = serde_json::json!({"sharded": true, "vindexes": {"hash": {"type": "hash"}}});
    let edit = |json: &serde_json::Value, expected| KeyspaceEdit {
        keyspace: "customer".into(),
        json: Some(json.clone()),
        expected,
    };
    let r1 = a.save_vschema(&[edit(&v1, 0)]).await.expect("create");
    assert!(r1 > 0);
    // Readable with etcdctl, as JSON.
    let shown = etcd.etcdctl(&["get", "/cas/vschema/customer", "--print-value-only"]);
    let parsed: serde_json::Value = serde_json::from_str(shown.trim()).expect("JSON in etcd");
    assert_eq!(parsed, v1);
    // The watch saw it.
    let seen = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("watch event in time")
        .expect("watch open");
    assert_eq!(seen, r1);

    let snap = b.load_vschema().await.expect("load");
    assert_eq!(snap.keyspaces["customer"].json, v1);
    assert_eq!(snap.keyspaces["customer"].mod_revision, r1);
    assert!(snap.revision >= r1);

    // Two edits from the same base: the second loses, nothing of it is written.
    let v2 = serde_json::json!({"sharded": true, "vindexes": {"h2": {"type": "hash"}}});
    let v3 = serde_json::json!({"sharded": true, "vindexes": {"h3": {"type": "hash"}}});
    let r2 = a.save_vschema(&[edit(&v2, r1)]).await.expect("first edit");
    match b.save_vschema(&[edit(&v3, r1)]).await {
        Err(TopoError::Conflict { keyspace }) => assert_eq!(keyspace, "customer"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Creating an existing key is a conflict too.
    assert!(matches!(
        b.save_vschema(&[edit(&v3, 0)]).await,
        Err(TopoError::Conflict { .. })
    ));
    let snap = a.load_vschema().await.expect("load");
    assert_eq!(snap.keyspaces["customer"].json, v2);
    assert_eq!(snap.keyspaces["customer"].mod_revision, r2);
    // A multi-key edit is all or nothing.
    let both = [
        KeyspaceEdit {
            keyspace: "lookup".into(),
            json: Some(serde_json::json!({"sharded": false})),
            expected: 0,
        },
        edit(&v3, r1),
    ];
    assert!(b.save_vschema(&both).await.is_err());
    assert!(!a
        .load_vschema()
        .await
        .expect("load")
        .keyspaces
        .contains_key("lookup"));
    a.close().await.expect("close a");
    b.close().await.expect("close b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_state_is_written_only_by_its_runner_and_claims_die_with_the_lease() {
    let etcd = EtcdServer::start().await;
    let cfg = etcd.topology("/streams");
    let a = EtcdTopology::connect(&cfg, "proxy-a").await.expect("a");
    let b = EtcdTopology::connect(&cfg, "proxy-b").await.expect("b");
    let key = StreamKey {
        workflow: "customer.v".into(),
        source_shard: "-80".into(),
    };
    a.save_streams(
        "customer",
        &[row("customer.v", "-80", 0), row("customer.v", "80-", 0)],
        None,
    )
    .await
    .expect("rows of a new workflow");
    assert_eq!(b.load_streams().await.expect("load").len(), 2);

    assert!(a.claim_stream(&key, "proxy-a").await.expect("claim"));
    assert!(
        a.claim_stream(&key, "proxy-a").await.expect("claim again"),
        "an owner keeps its claim"
    );
    assert!(!b
        .claim_stream(&key, "proxy-b")
        .await
        .expect("contested claim"));
    assert_eq!(
        b.stream_owners().await.expect("owners"),
        vec![(key.clone(), "proxy-a".to_string())]
    );
    a.save_streams("customer", &[row("customer.v", "-80", 10)], Some(&key))
        .await
        .expect("the owner saves");
    match b
        .save_streams("customer", &[row("customer.v", "-80", 99)], Some(&key))
        .await
    {
        Err(TopoError::NotOwner { .. }) => {}
        other => panic!("a non-owner's save must fail, got {other:?}"),
    }
    let rows = b.load_streams().await.expect("load");
    let r = rows.iter().find(|r| r.source_shard == "-80").expect("row");
    assert_eq!(r.rows_copied, 10);

    // Proxy records: both listed; a closed proxy (lease revoked) leaves with its claims.
    a.publish_proxy(&record("proxy-a", 5))
        .await
        .expect("publish a");
    b.publish_proxy(&record("proxy-b", 6))
        .await
        .expect("publish b");
    let mut ids: Vec<String> = b
        .proxies()
        .await
        .expect("list")
        .into_iter()
        .map(|p| p.id)
        .collect();
    ids.sort();
    assert_eq!(ids, ["proxy-a", "proxy-b"]);
    a.close().await.expect("close a");
    let ids: Vec<String> = b
        .proxies()
        .await
        .expect("list")
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, ["proxy-b"]);
    assert!(b.stream_owners().await.expect("owners").is_empty());
    assert!(b.claim_stream(&key, "proxy-b").await.expect("take over"));

    // Deleting the workflow removes its rows and claims: the runner's next save fails.
    b.delete_workflow("customer", "customer.v")
        .await
        .expect("delete");
    assert!(b.load_streams().await.expect("load").is_empty());
    assert!(matches!(
        b.save_streams("customer", &[row("customer.v", "-80", 1)], Some(&key))
            .await,
        Err(TopoError::NotOwner { .. })
    ));
    b.close().await.expect("close b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_etcd_loses_the_session_within_the_lease_and_it_comes_back() {
    let etcd = EtcdServer::start().await;
    let cfg = etcd.topology("/lease");
    let a = EtcdTopology::connect(&cfg, "a").await.expect("a");
    let mut session = a.session();
    assert_eq!(
        *session.borrow(),
        shardgate::world::topology::SessionState::Healthy
    );
    etcd.pause();
    let paused = Instant::now();
    tokio::time::timeout(Duration::from_secs(10), async {
        while *session.borrow_and_update() != shardgate::world::topology::SessionState::Lost {
            let _ = session.changed().await;
        }
    })
    .await
    .expect("the session is lost while etcd hangs");
    let lost_after = paused.elapsed();
    assert!(
        lost_after <= Duration::from_secs(cfg.lease_ttl_secs),
        "lost after {lost_after:?}: must be within the {} s lease",
        cfg.lease_ttl_secs
    );
    etcd.resume();
    tokio::time::timeout(Duration::from_secs(20), async {
        while *session.borrow_and_update() != shardgate::world::topology::SessionState::Healthy {
            let _ = session.changed().await;
        }
    })
    .await
    .expect("the session comes back when etcd does");
    assert!(
        a.in_step_revision() > 0,
        "a returning session asks for a fresh VSchema read"
    );
    a.close().await.expect("close");
}

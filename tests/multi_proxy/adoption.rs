//! Stream adoption must not take a stream whose vindex the proxy does not know yet. A
//! CreateLookupVindex saves its stream rows before it changes the VSchema; in between they
//! are unfinished and unclaimed. Found by the 3-proxy history checker (seed
//! 1796521832303700759): another proxy adopted them in that gap, found no vindex, and marked
//! them `Error`, so the backfill never ran.

use crate::cluster::Proxies;
use crate::common::{EnvSpec, KeyspaceSpec, TestEnv};
use serde_json::json;
use shardgate::workflow::Definition;
use shardgate::world::topology::etcd::EtcdTopology;
use shardgate::world::topology::{StreamRow, Topology};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_of_a_vindex_still_being_created_are_left_alone() {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"user": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    let env = TestEnv::start(EnvSpec::default().with_keyspace(KeyspaceSpec::sharded(
        "customer",
        &["-80", "80-"],
        customer.clone(),
    )))
    .await;
    let cluster = Proxies::start(&env, 2, &format!("adopt{}", std::process::id())).await;
    // What a create writes first: the stream rows (its VSchema change comes after).
    let def = Definition {
        keyspace: "customer".into(),
        vindex: "email_vdx".into(),
        owner_table: "user".into(),
        target_keyspace: "commerce".into(),
        lookup_table: "email_vdx".into(),
        continue_after_copy: false,
        max_rows_per_sec: 0,
        max_backend_load: 0,
        chunk_size: 1000,
        created_table: true,
        source_vschema_before: customer,
        target_vschema_before: json!({}),
    };
    let definition = serde_json::to_string(&def).expect("definition");
    let rows: Vec<StreamRow> = ["-80", "80-"]
        .iter()
        .map(|shard| StreamRow {
            workflow: "customer.email_vdx".into(),
            source_shard: shard.to_string(),
            state: "Copying".into(),
            phase: "copy".into(),
            message: "copy starting".into(),
            last_pk: None,
            rows_copied: 0,
            rows_total: 0,
            definition: definition.clone(),
            conflicts: 0,
            conflict_values: String::new(),
        })
        .collect();
    let store = EtcdTopology::connect(&cluster.etcd.topology(&cluster.prefix), "test-creator")
        .await
        .expect("etcd");
    store
        .save_streams("commerce", &rows, None)
        .await
        .expect("rows");
    // Several adoption rounds (one per second on each proxy).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = store.load_streams().await.expect("load");
    assert_eq!(after.len(), 2);
    for r in &after {
        assert_eq!(
            r.state, "Copying",
            "a proxy touched a stream it cannot run: {r:?}"
        );
    }
    assert!(
        store.stream_owners().await.expect("owners").is_empty(),
        "no proxy claims a stream whose vindex it does not know"
    );
    store.close().await.expect("close");
    cluster.stop().await;
    env.stop().await;
}

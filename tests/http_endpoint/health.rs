//! `/healthz`: ready with every shard answering, not ready naming a frozen shard, ready
//! again after it resumes, not ready while draining.

use super::*;
use common::cluster::run_dir;
use common::{KeyspaceSpec, ProxyProcess};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_follows_a_paused_shard_and_the_shutdown_drain() {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"t": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    let mut spec = EnvSpec::default()
        .with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
        .with_private_shard("customer", "80-");
    spec.server.http_listen = Some("127.0.0.1:0".into());
    spec.server.shutdown_grace_ms = 3000;
    let env = TestEnv::start(spec).await;
    let addr = http_addr(&env);
    let (body, _) = healthz_becomes(addr, 200, Duration::from_secs(10)).await;
    assert!(body.starts_with("ok: 3 shards"), "{body}");

    // A frozen shard: not ready within ~5 s, naming it; /metrics still answers.
    let server = env.private_server("customer", "80-");
    server.pause();
    let (body, took) = healthz_becomes(addr, 503, Duration::from_secs(6)).await;
    assert!(body.contains("customer/80-"), "{body}");
    assert!(!body.contains("customer/-80"), "{body}");
    eprintln!("503 after {took:?}: {body}");
    let m = scrape(addr).await;
    assert_eq!(
        m.get(
            "shardgate_shard_up",
            &[("keyspace", "customer"), ("shard", "80-")]
        ),
        0.0
    );
    assert_eq!(
        m.get(
            "shardgate_shard_up",
            &[("keyspace", "customer"), ("shard", "-80")]
        ),
        1.0
    );
    server.resume();
    let (_, took) = healthz_becomes(addr, 200, Duration::from_secs(6)).await;
    eprintln!("200 again after {took:?}");

    // Draining with a transaction open: not ready, "shutting down".
    let mut config = env.config.clone();
    let http_port = common::proxy_process::free_port();
    config.server.http_listen = Some(format!("127.0.0.1:{http_port}"));
    let proxy =
        ProxyProcess::start(&config, &run_dir().join(format!("proxy-t{}-drain", env.id))).await;
    let proxy_http: SocketAddr = format!("127.0.0.1:{http_port}").parse().expect("addr");
    healthz_becomes(proxy_http, 200, Duration::from_secs(10)).await;
    let mut open = Conn::from_url(proxy.url(Some("customer")).as_str())
        .await
        .expect("connect");
    open.query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY)")
        .await
        .expect("t");
    open.query_drop("BEGIN").await.expect("begin");
    open.query_drop("INSERT INTO t (id) VALUES (1)")
        .await
        .expect("insert");
    proxy.signal(libc::SIGTERM);
    let (body, _) = healthz_becomes(proxy_http, 503, Duration::from_secs(3)).await;
    assert!(body.contains("shutting down"), "{body}");
    open.query_drop("COMMIT")
        .await
        .expect("commit while draining");
    drop(open);
    proxy.stop().await;
    env.stop().await;
}

//! Pool gauges' values and waits on a pool of one connection; the unsharded and local
//! routes.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_waits_grow_when_clients_contend_for_one_connection() {
    let mut spec = EnvSpec::default();
    spec.backend.pool_max = 1;
    spec.server.http_listen = Some("127.0.0.1:0".into());
    let env = TestEnv::start(spec).await;
    let addr = http_addr(&env);
    let at = [("keyspace", "commerce"), ("shard", "0")];
    let mut a = env.client().await;
    let mut b = env.client().await;
    let gauge = |m: &Scrape, state: &str| {
        m.get(
            "shardgate_pool_connections",
            &[at[0], at[1], ("state", state)],
        )
    };
    // An unsharded keyspace's statement: its route, its keyspace's latency; one the proxy
    // answers itself reaches no shard.
    let (before, m) = around(addr, &mut a, "SELECT 1 FROM dual").await;
    assert_eq!(
        delta(
            &before,
            &m,
            STATEMENTS,
            &[("kind", "SELECT"), ("route", "unsharded")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            &before,
            &m,
            "shardgate_statement_duration_seconds_count",
            &[("keyspace", "commerce")]
        ),
        1.0
    );
    let (b0, a0) = around(addr, &mut a, "SELECT CONNECTION_ID()").await;
    assert_eq!(delta(&b0, &a0, STATEMENTS, &[("route", "local")]), 1.0);
    assert_eq!(delta(&b0, &a0, SHARDS, &[("le", "0")]), 1.0);
    // Idle after a statement; in use while one runs.
    assert_eq!(
        (gauge(&m, "open"), gauge(&m, "idle"), gauge(&m, "in_use")),
        (1.0, 1.0, 0.0)
    );
    let running = tokio::spawn(async move {
        a.query_drop("SELECT SLEEP(0.5)").await.expect("sleep");
        a
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let m = scrape(addr).await;
    assert_eq!((gauge(&m, "in_use"), gauge(&m, "idle")), (1.0, 0.0));
    let mut a = running.await.expect("task");
    // Kept by a transaction: reserved, outside the pool's max.
    a.query_drop("BEGIN").await.expect("begin");
    a.query_drop("SELECT 1 FROM dual").await.expect("in txn");
    let m = scrape(addr).await;
    assert_eq!(gauge(&m, "reserved"), 1.0);
    a.query_drop("COMMIT").await.expect("commit");
    let m = scrape(addr).await;
    assert_eq!(gauge(&m, "reserved"), 0.0);

    // Two statements at once on a pool of one: the second waits.
    let before = scrape(addr).await;
    let (ra, rb) = tokio::join!(
        a.query_drop("SELECT SLEEP(0.5)"),
        b.query_drop("SELECT SLEEP(0.5)")
    );
    ra.expect("a");
    rb.expect("b");
    let after = scrape(addr).await;
    assert_eq!(
        delta(&before, &after, "shardgate_pool_waits_total", &at),
        1.0,
        "two statements on a pool of one: one wait"
    );
    assert_eq!(gauge(&after, "open"), 1.0, "pool_max = 1");
    // A session statement run on the unsharded keyspace's shard is unsharded too (it was
    // single_shard: regression).
    let (b0, a0) = around(addr, &mut a, "SET @x = 1").await;
    assert_eq!(
        delta(
            &b0,
            &a0,
            STATEMENTS,
            &[("kind", "SET"), ("route", "unsharded")]
        ),
        1.0
    );
    drop((a, b));
    env.stop().await;
}

//! Tests against real MariaDB servers: template, two servers in parallel, SQL, stale-server
//! detection, clean stop. They fail (never skip) when MariaDB is not installed.

use super::*;
use mysql_async::prelude::Queryable;
use std::time::{Duration, Instant};

fn binaries() -> Binaries {
    find_binaries().unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn two_servers_start_answer_and_stop() {
    let bins = binaries();
    let root = tempfile::tempdir().expect("tempdir");
    let template = ensure_template(&bins, &root.path().join("template")).expect("template");
    // A second call reuses the template.
    assert_eq!(ensure_template(&bins, &template).expect("again"), template);

    let specs: Vec<ServerSettings> = (0..2)
        .map(|i| {
            let mut s = ServerSettings::new(root.path().join(format!("s{i}")), 0);
            s.buffer_pool_mb = 32;
            s
        })
        .collect();
    for s in &specs {
        assert!(prepare_data_dir(&template, s).expect("copy"));
        assert!(
            !prepare_data_dir(&template, s).expect("reuse"),
            "second prepare must reuse"
        );
    }
    let started = Instant::now();
    let servers = start_servers(&bins, specs, &ServerOptions::default())
        .await
        .expect("start");
    eprintln!("2 servers ready in {:?}", started.elapsed());
    assert_ne!(servers[0].port(), servers[1].port());
    for s in &servers {
        let mut conn = s.connect(None).await.expect("connect");
        let row: (i64, String, String, i64, u64) = conn
            .query_first("SELECT @@log_bin, @@character_set_server, @@binlog_format, @@innodb_lock_wait_timeout, @@server_id")
            .await
            .expect("query")
            .expect("row");
        assert_eq!(
            row,
            (1, "utf8mb4".into(), "ROW".into(), 5, u64::from(s.port()))
        );
        conn.disconnect().await.expect("disconnect");
        s.exec("CREATE DATABASE IF NOT EXISTS vt_x")
            .await
            .expect("create db");
    }

    // A pid file naming a live mariadbd started with this dir's my.cnf is recognised as stale.
    let settings = servers[0].settings().clone();
    let pid = servers[0].pid().expect("pid");
    let pid_file = std::fs::read_to_string(settings.pid_path()).expect("pid file");
    assert_eq!(pid_file.trim(), pid.to_string());

    let stopping = Instant::now();
    stop_servers(servers, Duration::from_secs(60)).await;
    eprintln!("stopped in {:?}", stopping.elapsed());
    let log = std::fs::read_to_string(settings.error_log_path()).expect("error log");
    assert!(
        log.contains("Shutdown complete"),
        "not a clean shutdown:\n{log}"
    );
    assert!(!stop_stale(&settings, Duration::from_secs(1))
        .await
        .expect("stale"));

    // Restart on the same dir reuses the data.
    let server = start_server(
        &bins,
        ServerSettings {
            port: 0,
            ..settings
        },
        &ServerOptions::default(),
    )
    .await
    .expect("restart");
    let conn = server
        .connect(Some("vt_x"))
        .await
        .expect("db survived the restart");
    conn.disconnect().await.expect("disconnect");
    server.stop(Duration::from_secs(60)).await;
}

#[tokio::test]
async fn a_broken_config_reports_the_error_log() {
    let bins = binaries();
    let root = tempfile::tempdir().expect("tempdir");
    // No data directory at all: mariadbd exits and the message quotes its log.
    let settings = ServerSettings::new(root.path().join("empty"), 0);
    std::fs::create_dir_all(settings.tmp_dir()).expect("mkdir");
    let opts = ServerOptions {
        ready_timeout: Duration::from_secs(30),
        ..ServerOptions::default()
    };
    let err = start_server(&bins, settings, &opts)
        .await
        .expect_err("must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("exited during start-up") && msg.contains("last lines of"),
        "{msg}"
    );
}

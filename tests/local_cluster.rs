//! `shardgate local` as a user runs it: the real binary, its own MariaDB servers. After one of
//! its servers dies, Ctrl-C (or SIGTERM) must still end it within seconds, saying which server
//! had stopped (it used to wait out the 120 s stop timeout for the dead server: 123 s).
//! `--proxies 3 --topology etcd`: three proxies over the same shards share rows and one VSchema
//! in the etcd that `shardgate local` starts (a `shardgate topo import` reaches all three), and
//! everything is gone after SIGTERM.

#[path = "common/ports.rs"]
mod ports;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Generous bound for exiting after SIGTERM (the bug took 123 s).
const EXIT_BOUND: Duration = Duration::from_secs(30);

/// Kills the child (and so, by their death signal, its servers) when the test fails midway.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `shardgate local <args> --dir <dir>` with its output collected line by line on the
/// returned channel.
fn start_local(dir: &Path, args: &[&str]) -> (Guard, mpsc::Receiver<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shardgate"));
    // (A free HTTP port each: the default, 15000, is the developer's demo's.)
    cmd.arg("local")
        .args(["--http-port", "0"])
        .args(args)
        .arg("--dir")
        .arg(dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: prctl is async-signal-safe; the child dies with the test thread.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("starting shardgate local");
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().expect("stdout");
    let err = child.stderr.take().expect("stderr");
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx2.send(line);
        }
    });
    (Guard(child), rx)
}

/// Reads lines until one contains `needle` (returns everything read), or panics after `limit`.
fn wait_for(rx: &mpsc::Receiver<String>, log: &mut Vec<String>, needle: &str, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !log.iter().any(|l| l.contains(needle)) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => log.push(line),
            Err(_) => panic!(
                "no line containing {needle:?} within {limit:?}; output:\n{}",
                log.join("\n")
            ),
        }
    }
}

/// `GET path` over HTTP/1.0 at `addr`: the status code and the body.
fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the HTTP endpoint");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let code = response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

/// Polls `/healthz` until it answers `code` (within 15 s); returns the body.
fn healthz_becomes(addr: &str, code: u16, log: &[String]) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (got, body) = http_get(addr, "/healthz");
        if got == code {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "/healthz still {got} ({body}), not {code}; output:\n{}",
            log.join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn local_exits_promptly_after_one_of_its_servers_died() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = ports::free_ports(1).to_string();
    let (mut guard, rx) = start_local(dir.path(), &["--shards", "1", "--port", &port]);
    let mut log = Vec::new();
    wait_for(
        &rx,
        &mut log,
        "shardgate is serving",
        Duration::from_secs(180),
    );
    // The HTTP endpoint the banner names: ready while every shard answers.
    wait_for(
        &rx,
        &mut log,
        "status page: http://",
        Duration::from_secs(5),
    );
    let http = log
        .iter()
        .find_map(|l| l.split("status page: http://").nth(1))
        .and_then(|rest| rest.split('/').next())
        .expect("the banner's status page address")
        .to_string();
    healthz_becomes(&http, 200, &log);

    // Kill the customer shard's server behind shardgate's back, as a crash would.
    let pid_file = dir.path().join("customer_0").join("mariadbd.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("pid file of customer/0")
        .trim()
        .parse()
        .expect("pid");
    // SAFETY: kill(2) on the mariadbd named by the cluster's own pid file.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    // shardgate notices (it checks every 2 s) and warns; /healthz names the shard.
    wait_for(&rx, &mut log, "has stopped", Duration::from_secs(20));
    let body = healthz_becomes(&http, 503, &log);
    assert!(body.contains("customer/0"), "{body}");

    let asked = Instant::now();
    let text = stop_local(&mut guard, &rx, &mut log);
    eprintln!("exited in {:?}:\n{text}", asked.elapsed());
    assert!(
        text.contains("1 had already stopped") && text.contains("customer_0"),
        "the stop message names the dead server:\n{text}"
    );
    assert!(text.contains("all MariaDB servers stopped"), "{text}");
    // The surviving server was stopped cleanly, not left running.
    let commerce_pid = dir.path().join("commerce_0").join("mariadbd.pid");
    assert!(
        !commerce_pid.exists(),
        "commerce/0 still has a pid file after exit"
    );
}

/// Sends SIGTERM and waits (bounded) for the exit; returns the status and all output.
fn stop_local(guard: &mut Guard, rx: &mpsc::Receiver<String>, log: &mut Vec<String>) -> String {
    // SAFETY: kill(2) on our own child, not yet reaped.
    unsafe { libc::kill(guard.0.id() as i32, libc::SIGTERM) };
    let asked = Instant::now();
    let status = loop {
        if let Some(status) = guard.0.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            asked.elapsed() < EXIT_BOUND,
            "shardgate local still running {EXIT_BOUND:?} after SIGTERM; output:\n{}",
            log.join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        log.push(line);
    }
    let text = log.join("\n");
    assert!(status.success(), "{status}\n{text}");
    text
}

fn refuses(addr: &str) -> bool {
    let addr: std::net::SocketAddr = addr.parse().expect("address");
    std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err()
}

/// Runs `shardgate topo <a> <config> <b> <dir>`, asserts success, returns its stdout.
fn topo(a: &[&str], config: &Path, b: &[&str], dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_shardgate"))
        .arg("topo")
        .args(a)
        .arg(config)
        .args(b)
        .arg(dir)
        .output()
        .expect("run shardgate topo");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "shardgate topo {a:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn etcdctl(endpoint: &str, args: &[&str]) -> std::process::Output {
    Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .arg(format!("--endpoints={endpoint}"))
        .arg("--dial-timeout=2s")
        .args(args)
        .output()
        .expect("running etcdctl (install etcd-client)")
}

#[test]
fn three_proxies_share_one_vschema_in_the_local_etcd() {
    use mysql_async::prelude::Queryable;
    let dir = tempfile::tempdir().expect("tempdir");
    let first = ports::free_ports(3);
    let port = first.to_string();
    let args = [
        "--proxies",
        "3",
        "--topology",
        "etcd",
        "--shards",
        "2",
        "--port",
        &port,
    ];
    let (mut guard, rx) = start_local(dir.path(), &args);
    let mut log = Vec::new();
    wait_for(
        &rx,
        &mut log,
        "shardgate is serving",
        Duration::from_secs(180),
    );
    wait_for(&rx, &mut log, "Press Ctrl-C", Duration::from_secs(10));
    let banner = log.join("\n");
    let endpoint = log
        .iter()
        .find_map(|l| l.strip_prefix("etcd:    "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no etcd line in the banner:\n{banner}"))
        .to_string();
    let addrs: Vec<String> = (0..3).map(|i| format!("127.0.0.1:{}", first + i)).collect();
    for (i, addr) in addrs.iter().enumerate() {
        assert!(banner.contains(addr.as_str()), "{addr} in:\n{banner}");
        let config = dir.path().join(format!("shardgate-{}.toml", i + 1));
        let text = std::fs::read_to_string(&config).expect("each proxy has its config file");
        assert!(
            text.contains(&endpoint) && text.contains("/shardgate/local"),
            "{}:\n{text}",
            config.display()
        );
        assert!(
            text.contains(&format!("mysql_listen = \"{addr}\"")),
            "{text}"
        );
    }

    // A row written through proxy 1 is read through proxies 2 and 3 (same shards), and each
    // serves the VSchema from etcd (customer.user with its vindexes).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let id = 1_000_000 + u64::from(first);
    rt.block_on(async {
        let mut conns = Vec::new();
        for addr in &addrs {
            let url = format!("mysql://root@{addr}/customer");
            let opts = mysql_async::Opts::from_url(&url).expect("url");
            conns.push(mysql_async::Conn::new(opts).await.expect("connect"));
        }
        conns[0]
            .exec_drop(
                "INSERT INTO user (id, name, phone, email) VALUES (?, ?, ?, ?)",
                (id, "proxy one", id, "one@example.com"),
            )
            .await
            .expect("insert through proxy 1");
        for (i, conn) in conns.iter_mut().enumerate().skip(1) {
            let got: Option<String> = conn
                .exec_first("SELECT email FROM user WHERE id = ?", (id,))
                .await
                .expect("select by id");
            assert_eq!(got.as_deref(), Some("one@example.com"), "proxy {}", i + 1);
            let by_name: Option<u64> = conn
                .exec_first("SELECT id FROM user WHERE name = ?", ("proxy one",))
                .await
                .expect("select by name (lookup vindex)");
            assert_eq!(by_name, Some(id), "proxy {}", i + 1);
            let tables: Vec<String> = conn
                .query("SHOW VSCHEMA TABLES FROM customer")
                .await
                .expect("SHOW VSCHEMA TABLES");
            assert!(tables.iter().any(|t| t == "user"), "{tables:?}");
        }
        // A VSchema change in etcd (`shardgate topo export`, edit, `topo import` with proxy 1's
        // config) is served by all three proxies (etcd's watch).
        let exported = dir.path().join("exported");
        let config1 = dir.path().join("shardgate-1.toml");
        topo(&["export", "--config"], &config1, &["--to"], &exported);
        let file = exported.join("customer.json");
        let mut customer: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("exported customer"))
                .expect("json");
        customer["tables"]["notes19"] =
            serde_json::json!({"column_vindexes": [{"column": "id", "name": "hash"}]});
        std::fs::write(&file, customer.to_string()).expect("edit customer.json");
        let report = topo(&["import", "--config"], &config1, &["--from"], &exported);
        assert!(report.contains("at revision"), "{report}");
        for (i, conn) in conns.iter_mut().enumerate() {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let tables: Vec<String> = conn
                    .query("SHOW VSCHEMA TABLES FROM customer")
                    .await
                    .expect("SHOW VSCHEMA TABLES");
                if tables.iter().any(|t| t == "notes19") {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "proxy {} does not serve notes19 10 s after the import: {tables:?}",
                    i + 1
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        conns[0]
            .query_drop("CREATE TABLE notes19 (id BIGINT PRIMARY KEY, body TEXT)")
            .await
            .expect("create table through proxy 1");
        conns[1]
            .exec_drop("INSERT INTO notes19 (id, body) VALUES (?, ?)", (id, "two"))
            .await
            .expect("insert through proxy 2");
        let body: Option<String> = conns[2]
            .exec_first("SELECT body FROM notes19 WHERE id = ?", (id,))
            .await
            .expect("select through proxy 3");
        assert_eq!(body.as_deref(), Some("two"));
        for conn in conns {
            let _ = conn.disconnect().await;
        }
    });

    // The VSchema lives in etcd (seeded from <dir>/vschema), and every proxy has its record.
    let keys = etcdctl(
        &endpoint,
        &["get", "--prefix", "/shardgate/local/", "--keys-only"],
    );
    assert!(keys.status.success(), "{keys:?}");
    let keys = String::from_utf8_lossy(&keys.stdout).into_owned();
    for ks in ["commerce", "customer", "lookup"] {
        assert!(
            keys.contains(&format!("/shardgate/local/vschema/{ks}")),
            "{ks} in:\n{keys}"
        );
    }
    assert_eq!(
        keys.matches("/shardgate/local/proxies/").count(),
        3,
        "one record per proxy:\n{keys}"
    );
    let customer = etcdctl(
        &endpoint,
        &[
            "get",
            "--print-value-only",
            "/shardgate/local/vschema/customer",
        ],
    );
    let customer: serde_json::Value =
        serde_json::from_slice(&customer.stdout).expect("customer VSchema JSON in etcd");
    assert_eq!(customer["sharded"], serde_json::Value::Bool(true));
    assert!(
        customer["tables"].get("notes19").is_some(),
        "the imported table is in etcd's customer VSchema: {customer}"
    );

    let etcd_pid: i32 = std::fs::read_to_string(dir.path().join("etcd").join("etcd.pid"))
        .expect("etcd pid file")
        .trim()
        .parse()
        .expect("pid");
    let text = stop_local(&mut guard, &rx, &mut log);
    assert!(text.contains("etcd stopped"), "{text}");
    assert!(text.contains("all MariaDB servers stopped"), "{text}");
    // etcd, the proxies and the servers are gone.
    assert!(
        !Path::new(&format!("/proc/{etcd_pid}")).exists(),
        "etcd (pid {etcd_pid}) still exists"
    );
    let etcd_addr = endpoint.trim_start_matches("http://");
    assert!(refuses(etcd_addr), "etcd still answers on {etcd_addr}");
    for addr in &addrs {
        assert!(refuses(addr), "a proxy still listens on {addr}");
    }
    for server in ["commerce_0", "customer_-80", "customer_80-"] {
        let pid = dir.path().join(server).join("mariadbd.pid");
        assert!(!pid.exists(), "{server} still has a pid file");
    }
}

#[test]
fn several_proxies_without_etcd_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_shardgate"))
        .args(["local", "--proxies", "2", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run shardgate");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(text.contains("--proxies 2 needs --topology etcd"), "{text}");
    // Refused before anything was started or written.
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

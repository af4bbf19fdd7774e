//! `shardgate local` as a user runs it: the real binary, its own MariaDB servers. After one of
//! its servers dies, Ctrl-C (or SIGTERM) must still end it within seconds, saying which server
//! had stopped (it used to wait out the 120 s stop timeout for the dead server: 123 s).

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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts `shardgate local` with its output collected line by line on `lines`.
fn start_local(dir: &Path, port: u16) -> (Guard, mpsc::Receiver<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shardgate"));
    cmd.args([
        "local",
        "--shards",
        "1",
        "--port",
        &port.to_string(),
        "--dir",
    ])
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

#[test]
fn local_exits_promptly_after_one_of_its_servers_died() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut guard, rx) = start_local(dir.path(), free_port());
    let mut log = Vec::new();
    wait_for(
        &rx,
        &mut log,
        "shardgate is serving",
        Duration::from_secs(180),
    );

    // Kill the customer shard's server behind shardgate's back, as a crash would.
    let pid_file = dir.path().join("customer_0").join("mariadbd.pid");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("pid file of customer/0")
        .trim()
        .parse()
        .expect("pid");
    // SAFETY: kill(2) on the mariadbd named by the cluster's own pid file.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    // shardgate notices (it checks every 2 s) and warns.
    wait_for(&rx, &mut log, "has stopped", Duration::from_secs(20));

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
    let took = asked.elapsed();
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        log.push(line);
    }
    let text = log.join("\n");
    eprintln!("exited in {took:?} ({status}):\n{text}");
    assert!(status.success(), "{status}\n{text}");
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

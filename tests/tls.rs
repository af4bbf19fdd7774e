//! TLS between clients and the proxy (`server.tls_cert` / `tls_key`), `require_secure_transport`
//! and `connect_timeout`, with real clients: the `mariadb` CLI verifying the server certificate,
//! PyMySQL, mysql_async (rustls), and a hand-driven handshake that sends its TLS hello in the same
//! segment as the SSL request. Certificates are made at test time (a CA and a server certificate
//! for `localhost` / `127.0.0.1`).

mod common;

use common::tools::{mariadb, run_tool};

use common::{EnvSpec, TestCerts, TestEnv};
use mysql_async::prelude::Queryable;
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use tokio::process::Command;

/// CLIENT_SSL in the capability flags.
const CLIENT_SSL: u32 = 0x0800;

/// `cmd` to its end within 60 s.
async fn run(cmd: &mut Command) -> (bool, String, String) {
    run_tool(cmd, None, Duration::from_secs(60)).await
}

fn tls_spec(certs: &TestCerts) -> EnvSpec {
    let mut spec = EnvSpec::default();
    spec.server.tls_cert = Some(certs.cert());
    spec.server.tls_key = Some(certs.key());
    spec
}

fn path(p: &std::path::Path) -> String {
    p.to_str().expect("utf-8 path").to_string()
}

/// mysql_async over TLS, verifying the server with `ca`.
async fn tls_client(
    env: &TestEnv,
    ca: &std::path::Path,
) -> Result<mysql_async::Conn, mysql_async::Error> {
    let opts =
        mysql_async::Opts::from_url(&env.url("app", "secret", Some("commerce"))).expect("url");
    let opts = mysql_async::OptsBuilder::from_opts(opts).ssl_opts(Some(
        mysql_async::SslOpts::default().with_root_certs(vec![ca.to_path_buf().into()]),
    ));
    mysql_async::Conn::new(opts).await
}

/// The capability flags of the greeting a raw stream receives.
fn greeting_capabilities(payload: &[u8]) -> u32 {
    // protocol(1) version\0 thread(4) scramble(8) filler(1) caps-low(2) charset(1) status(2)
    // caps-high(2)
    let nul = payload[1..].iter().position(|&b| b == 0).expect("version") + 2;
    let low = u16::from_le_bytes([payload[nul + 13], payload[nul + 14]]) as u32;
    let high = u16::from_le_bytes([payload[nul + 18], payload[nul + 19]]) as u32;
    low | (high << 16)
}

/// Reads one packet from a blocking stream: (sequence id, payload).
fn read_packet(s: &mut impl Read) -> std::io::Result<(u8, Vec<u8>)> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h)?;
    let len = u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize;
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload)?;
    Ok((h[3], payload))
}

fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_le_bytes()[..3].to_vec();
    out.push(seq);
    out.extend_from_slice(payload);
    out
}

async fn greeting_caps_over_tcp(port: u16) -> u32 {
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let (_, greeting) = read_packet(&mut s).expect("greeting");
        greeting_capabilities(&greeting)
    })
    .await
    .expect("join")
}

async fn greeting_caps_over_socket(socket: std::path::PathBuf) -> u32 {
    tokio::task::spawn_blocking(move || {
        let mut s = std::os::unix::net::UnixStream::connect(socket).expect("connect");
        let (_, greeting) = read_packet(&mut s).expect("greeting");
        greeting_capabilities(&greeting)
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread")]
async fn mariadb_cli_pymysql_and_mysql_async_over_tls() {
    let certs = TestCerts::generate();
    let env = TestEnv::start(tls_spec(&certs)).await;
    let port = env.port().to_string();
    let ca = path(&certs.ca());
    // TLS is offered on TCP only: the Unix socket is secure already.
    assert_ne!(greeting_caps_over_tcp(env.port()).await & CLIENT_SSL, 0);
    assert_eq!(
        greeting_caps_over_socket(env.socket_path()).await & CLIENT_SSL,
        0
    );

    let (ok, out, err) = mariadb(&[
        "-h127.0.0.1",
        "-P",
        &port,
        "-uapp",
        "-psecret",
        "--ssl",
        "--ssl-ca",
        &ca,
        "--ssl-verify-server-cert",
        "commerce",
        "-N",
        "-e",
        "CREATE TABLE tls_t (id INT PRIMARY KEY); INSERT INTO tls_t VALUES (1),(2); \
         SELECT COUNT(*) FROM tls_t; SHOW STATUS LIKE 'Ssl_version'",
    ])
    .await;
    assert!(ok, "mariadb --ssl-verify-server-cert failed: {err}");
    assert!(out.starts_with("2\nSsl_version\tTLSv1."), "{out}");
    // The CLI's own view of the session (`\s`): a cipher is in use.
    let (ok, out, err) = mariadb(&[
        "-h127.0.0.1",
        "-P",
        &port,
        "-uapp",
        "-psecret",
        "--ssl",
        "--ssl-ca",
        &ca,
        "--ssl-verify-server-cert",
        "-e",
        "\\s",
    ])
    .await;
    assert!(ok, "{err}");
    assert!(out.contains("Cipher in use is"), "{out}");
    // A CA that did not sign the proxy's certificate: verification fails, so the certificate
    // checked above really is the one the proxy serves.
    let other = TestCerts::generate();
    let (ok, _, err) = mariadb(&[
        "-h127.0.0.1",
        "-P",
        &port,
        "-uapp",
        "-psecret",
        "--ssl",
        "--ssl-ca",
        &path(&other.ca()),
        "--ssl-verify-server-cert",
        "-e",
        "SELECT 1",
    ])
    .await;
    assert!(!ok, "a foreign CA must not verify the proxy");
    assert!(
        err.contains("2026") || err.to_lowercase().contains("ssl"),
        "{err}"
    );

    let script = r#"
import sys, pymysql
port, ca = int(sys.argv[1]), sys.argv[2]
c = pymysql.connect(host='127.0.0.1', port=port, user='app', password='secret', database='commerce', ssl={'ca': ca})
cur = c.cursor()
cur.execute("SELECT id FROM tls_t ORDER BY id")
print("rows", cur.fetchall())
cur.execute("SHOW STATUS LIKE 'Ssl_cipher'")
name, cipher = cur.fetchone()
print("cipher", name, bool(cipher), c._sock.version())
c.close()
"#;
    let (ok, out, err) = run(Command::new("python3").args(["-c", script, &port, &ca])).await;
    assert!(ok, "PyMySQL over TLS failed: {out}\n{err}");
    assert!(out.contains("rows ((1,), (2,))"), "{out}");
    assert!(out.contains("cipher Ssl_cipher True TLSv1."), "{out}");

    let mut conn = tls_client(&env, &certs.ca())
        .await
        .expect("mysql_async over TLS");
    let n: Option<u64> = conn
        .query_first("SELECT COUNT(*) FROM tls_t")
        .await
        .expect("query");
    assert_eq!(n, Some(2));
    let version: Option<(String, String)> = conn
        .query_first("SHOW STATUS LIKE 'Ssl_version'")
        .await
        .expect("status");
    assert!(version.expect("a row").1.starts_with("TLSv1."));
    drop(conn);

    // Plain TCP still works when TLS is offered but not required, and says it is not on TLS.
    let mut plain = env.client_as("app", "secret", Some("commerce")).await;
    let cipher: Option<(String, String)> = plain
        .query_first("SHOW STATUS LIKE 'Ssl_cipher'")
        .await
        .expect("status");
    assert_eq!(cipher, Some(("Ssl_cipher".into(), String::new())));
    drop(plain);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_is_not_offered_without_a_certificate() {
    let env = TestEnv::start(EnvSpec::default()).await;
    assert_eq!(greeting_caps_over_tcp(env.port()).await & CLIENT_SSL, 0);
    let port = env.port().to_string();
    let (ok, _, err) = mariadb(&[
        "-h127.0.0.1",
        "-P",
        &port,
        "-uapp",
        "-psecret",
        "--ssl",
        "--ssl-verify-server-cert",
        "-e",
        "SELECT 1",
    ])
    .await;
    assert!(
        !ok,
        "--ssl-verify-server-cert must fail against a proxy without TLS"
    );
    assert!(err.to_lowercase().contains("ssl"), "{err}");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tls_hello_may_arrive_with_the_ssl_request_and_sequence_ids_continue() {
    let certs = TestCerts::generate();
    let env = TestEnv::start(tls_spec(&certs)).await;
    let port = env.port();
    let ca = certs.ca();
    let result = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        let ca =
            rustls::pki_types::CertificateDer::from_pem_file(&ca).map_err(|e| e.to_string())?;
        roots.add(ca).map_err(|e| e.to_string())?;
        let config = rustls::ClientConfig::builder_with_provider(shardgate::tls::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut sock =
            std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let (seq, _) = read_packet(&mut sock).map_err(|e| e.to_string())?;
        assert_eq!(seq, 0);
        // CLIENT_LONG_PASSWORD | PROTOCOL_41 | SSL | TRANSACTIONS | SECURE_CONNECTION |
        // PLUGIN_AUTH.
        let caps: u32 = 0x1 | 0x200 | CLIENT_SSL | 0x2000 | 0x8000 | 0x80000;
        let mut request = caps.to_le_bytes().to_vec();
        request.extend_from_slice(&(16u32 << 20).to_le_bytes());
        request.push(45);
        request.extend_from_slice(&[0u8; 23]);
        let mut conn = rustls::ClientConnection::new(
            std::sync::Arc::new(config),
            "localhost".try_into().map_err(|_| "name")?,
        )
        .map_err(|e| e.to_string())?;
        let mut first = packet(1, &request);
        conn.write_tls(&mut first).map_err(|e| e.to_string())?;
        // The SSL request and the TLS ClientHello in one write.
        sock.write_all(&first).map_err(|e| e.to_string())?;
        let mut tls = rustls::Stream::new(&mut conn, &mut sock);
        let mut response = request.clone();
        response.extend_from_slice(b"root\0");
        response.push(0); // empty auth response
        response.extend_from_slice(b"mysql_native_password\0");
        tls.write_all(&packet(2, &response))
            .map_err(|e| e.to_string())?;
        let (seq, ok) = read_packet(&mut tls).map_err(|e| e.to_string())?;
        if seq != 3 || ok.first() != Some(&0) {
            return Err(format!("login answer seq {seq}: {ok:?}"));
        }
        tls.write_all(&packet(0, b"\x03SELECT 6*7"))
            .map_err(|e| e.to_string())?;
        let mut packets = Vec::new();
        let mut eofs = 0;
        while eofs < 2 {
            let (_, p) = read_packet(&mut tls).map_err(|e| e.to_string())?;
            if p.first() == Some(&0xFE) && p.len() < 9 {
                eofs += 1;
            }
            packets.push(p);
        }
        // header, column, EOF, row, EOF: the row is "42".
        Ok(packets[packets.len() - 2].clone())
    })
    .await
    .expect("join");
    assert_eq!(result.expect("TLS login and query"), b"\x0242");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn require_secure_transport_refuses_plain_tcp_only() {
    let certs = TestCerts::generate();
    let mut spec = tls_spec(&certs);
    spec.server.require_secure_transport = true;
    let env = TestEnv::start(spec).await;
    let url = env.url("app", "secret", Some("commerce"));
    let err = mysql_async::Conn::from_url(url.as_str())
        .await
        .expect_err("plain TCP must be refused");
    match err {
        mysql_async::Error::Server(e) => {
            assert_eq!(e.code, 3159, "{e:?}");
            assert_eq!(e.state, "HY000");
            assert_eq!(
                e.message,
                "Connections using insecure transport are prohibited while --require_secure_transport=ON."
            );
        }
        other => panic!("expected error 3159, got {other:?}"),
    }
    let port = env.port().to_string();
    let (ok, _, err) = mariadb(&[
        "-h127.0.0.1",
        "-P",
        &port,
        "-uapp",
        "-psecret",
        "--skip-ssl",
        "-e",
        "SELECT 1",
    ])
    .await;
    assert!(!ok && err.contains("3159"), "{err}");
    // A wrong password on plain TCP learns nothing about the password: the refusal comes first.
    let (ok, _, err) = mariadb(&[
        "-h127.0.0.1",
        "-P",
        &port,
        "-uapp",
        "-pwrong",
        "--skip-ssl",
        "-e",
        "SELECT 1",
    ])
    .await;
    assert!(!ok && err.contains("3159"), "{err}");
    // Over TLS: allowed.
    let mut conn = tls_client(&env, &certs.ca()).await.expect("TLS is allowed");
    let one: Option<i64> = conn.query_first("SELECT 1").await.expect("query");
    assert_eq!(one, Some(1));
    drop(conn);
    let (ok, out, err) = mariadb(&[
        "-h127.0.0.1",
        "-P",
        &port,
        "-uapp",
        "-psecret",
        "--ssl",
        "--ssl-ca",
        &path(&certs.ca()),
        "--ssl-verify-server-cert",
        "-N",
        "-e",
        "SELECT 2",
    ])
    .await;
    assert!(ok, "{err}");
    assert_eq!(out, "2\n");
    // The Unix socket counts as secure, as in MariaDB.
    let socket = path(&env.socket_path());
    let (ok, out, err) =
        mariadb(&["-S", &socket, "-uapp", "-psecret", "-N", "-e", "SELECT 3"]).await;
    assert!(ok, "{err}");
    assert_eq!(out, "3\n");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_timeout_drops_clients_that_do_not_log_in() {
    let certs = TestCerts::generate();
    let mut spec = tls_spec(&certs);
    spec.server.connect_timeout = 1;
    let env = TestEnv::start(spec).await;
    let port = env.port();
    // Silent after the greeting; and stalled inside the TLS handshake (SSL request, no hello).
    let silent = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(8)))
            .expect("timeout");
        read_packet(&mut s).expect("greeting");
        let started = Instant::now();
        let mut rest = Vec::new();
        let read = s.read_to_end(&mut rest);
        (started.elapsed(), read.map(|_| rest))
    });
    let stalled = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(8)))
            .expect("timeout");
        read_packet(&mut s).expect("greeting");
        let caps: u32 = 0x1 | 0x200 | CLIENT_SSL | 0x8000 | 0x80000;
        let mut request = caps.to_le_bytes().to_vec();
        request.extend_from_slice(&(16u32 << 20).to_le_bytes());
        request.push(45);
        request.extend_from_slice(&[0u8; 23]);
        s.write_all(&packet(1, &request)).expect("ssl request");
        let started = Instant::now();
        let mut rest = Vec::new();
        let read = s.read_to_end(&mut rest);
        (started.elapsed(), read.map(|_| rest))
    });
    // A client that logged in is not bound by connect_timeout.
    let mut conn = env.client_as("app", "secret", Some("commerce")).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let one: Option<i64> = conn
        .query_first("SELECT 1")
        .await
        .expect("idle past connect_timeout");
    assert_eq!(one, Some(1));
    for (what, task) in [("silent", silent), ("stalled in TLS", stalled)] {
        let (elapsed, read) = task.await.expect("join");
        let rest = read.unwrap_or_else(|e| panic!("{what}: not closed within 8 s: {e}"));
        assert!(
            rest.is_empty(),
            "{what}: closed without a word, as MariaDB: {rest:?}"
        );
        assert!(
            elapsed >= Duration::from_millis(800) && elapsed < Duration::from_secs(5),
            "{what}: closed after {elapsed:?}, connect_timeout is 1 s"
        );
    }
    drop(conn);
    env.stop().await;
}

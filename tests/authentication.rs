//! Client authentication against real clients: passwords configured as
//! `mysql_native_password` hashes, `caching_sha2_password` full authentication (RSA key
//! exchange without TLS, clear text over the Unix socket) and its cache, COM_CHANGE_USER, and
//! the per-host delay after failed logins.
//!
//! Every client must be installed (`scripts/test` installs them); a missing one fails the test.

mod common;

use common::tools::run_tool;

use common::{cluster_async, EnvSpec, TestEnv};
use mysql_async::prelude::Queryable;
use shardgate::config::{AuthConfig, GreetingPlugin, UserConfig};
use shardgate::protocol::auth::credential::native_hash_text;
use shardgate::protocol::packet::PacketStream;
use std::time::{Duration, Instant};
use tokio::process::Command;

const PASSWORD: &str = "s3cret pass";

/// `root` (admin, no password), `app` / `secret`, and `hashed` and `hashed_cli` whose password
/// is configured only as its native hash.
fn spec(auth: AuthConfig) -> EnvSpec {
    let mut spec = EnvSpec {
        auth,
        ..EnvSpec::default()
    };
    for name in ["hashed", "hashed_cli"] {
        spec.users.push(UserConfig {
            name: name.into(),
            password: String::new(),
            password_hash: Some(native_hash_text(PASSWORD)),
            admin: false,
            keyspaces: None,
            read_only: false,
        });
    }
    spec
}

fn sha2_greeting() -> AuthConfig {
    AuthConfig {
        default_plugin: GreetingPlugin::CachingSha2,
        ..AuthConfig::default()
    }
}

/// `cmd` to its end within 120 s.
async fn run(cmd: &mut Command) -> (bool, String, String) {
    run_tool(cmd, None, Duration::from_secs(120)).await
}

async fn python(script: &str, args: &[String]) -> String {
    let (ok, out, err) = run(Command::new("python3").arg("-c").arg(script).args(args)).await;
    assert!(ok, "python failed: {out}\n{err}");
    out
}

fn server_error(e: mysql_async::Error) -> (u16, String) {
    match e {
        mysql_async::Error::Server(s) => (s.code, s.message),
        other => panic!("expected a server error, got {other}"),
    }
}

async fn login(url: &str) -> Result<mysql_async::Conn, mysql_async::Error> {
    mysql_async::Conn::from_url(url).await
}

#[tokio::test(flavor = "multi_thread")]
async fn native_hash_logins_with_mysql_async_and_the_mariadb_cli() {
    let env = TestEnv::start(spec(AuthConfig::default())).await;
    // The configured form is MariaDB's own PASSWORD() of the password.
    let mut shard = env.shard_conn("commerce", "0").await;
    let from_mariadb: String = shard
        .query_first(format!("SELECT PASSWORD('{PASSWORD}')"))
        .await
        .expect("PASSWORD()")
        .expect("row");
    assert_eq!(from_mariadb, native_hash_text(PASSWORD));

    let mut c = env.client_as("hashed", PASSWORD, Some("commerce")).await;
    let one: i64 = c
        .query_first("SELECT 1")
        .await
        .expect("query")
        .expect("row");
    assert_eq!(one, 1);
    c.disconnect().await.expect("disconnect");

    let err = login(&env.url("hashed", "s3cret", Some("commerce")))
        .await
        .expect_err("wrong password");
    let (code, message) = server_error(err);
    assert_eq!(code, 1045);
    assert_eq!(
        message,
        "Access denied for user 'hashed'@'127.0.0.1' (using password: YES)"
    );
    // MariaDB words it the same way (its host may be the resolved name).
    let cluster = cluster_async().await;
    let port = cluster.servers[0].port;
    let err = login(&format!(
        "mysql://nobody:wrong@127.0.0.1:{port}/?prefer_socket=false"
    ))
    .await
    .expect_err("no such user on MariaDB");
    let (code, mariadb_message) = server_error(err);
    assert_eq!(code, 1045);
    let normalised = mariadb_message
        .replace("'nobody'", "'hashed'")
        .replace("'localhost'", "'127.0.0.1'");
    assert_eq!(normalised, message);

    let port = env.port().to_string();
    let socket = env.socket_path();
    let socket = socket.to_str().expect("utf-8 path");
    let pw = format!("-p{PASSWORD}");
    for target in [
        ["-h127.0.0.1", "-P", &port],
        ["-S", socket, "--protocol=socket"],
    ] {
        let (ok, out, err) = run(Command::new("mariadb").args(target).args([
            "-uhashed",
            &pw,
            "-N",
            "-e",
            "SELECT 6 * 7",
        ]))
        .await;
        assert!(ok, "mariadb {target:?}: {err}");
        assert_eq!(out, "42\n");
    }
    let (ok, _, err) = run(Command::new("mariadb").args([
        "-h127.0.0.1",
        "-P",
        &port,
        "-uhashed",
        "-pwrong",
        "-e",
        "SELECT 1",
    ]))
    .await;
    assert!(!ok);
    assert!(
        err.contains(
            "ERROR 1045 (28000): Access denied for user 'hashed'@'127.0.0.1' (using password: YES)"
        ),
        "{err}"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn caching_sha2_full_authentication_over_rsa_then_the_fast_path() {
    let env = TestEnv::start(spec(sha2_greeting())).await;
    let state = env.proxy.state().clone();
    assert_eq!(state.auth.cached("hashed"), None);
    // PyMySQL over TCP without TLS: the hash cannot serve the fast path, so the proxy asks for
    // full authentication and PyMySQL fetches the public key and sends the RSA-encrypted
    // password. The second connection is given a bogus server key: it can only succeed if it
    // never needs one, i.e. by the fast path from the proxy's cache.
    let script = r#"
import sys, pymysql
port, pw = int(sys.argv[1]), sys.argv[2]
c = pymysql.connect(host='127.0.0.1', port=port, user='hashed', password=pw, database='commerce')
cur = c.cursor(); cur.execute("SELECT 6 * 7"); print("first", cur.fetchone()[0])
print("key", c.server_public_key.decode().splitlines()[0])
c.close()
c = pymysql.connect(host='127.0.0.1', port=port, user='hashed', password=pw, database='commerce',
                    server_public_key=b'not a key')
cur = c.cursor(); cur.execute("SELECT 7 * 7"); print("second", cur.fetchone()[0])
c.close()
try:
    pymysql.connect(host='127.0.0.1', port=port, user='hashed', password='wrong')
    print("wrong accepted")
except pymysql.err.OperationalError as e:
    print("wrong", e.args[0], e.args[1])
"#;
    let out = python(script, &[env.port().to_string(), PASSWORD.to_string()]).await;
    assert!(out.contains("first 42\n"), "{out}");
    assert!(out.contains("key -----BEGIN PUBLIC KEY-----\n"), "{out}");
    assert!(out.contains("second 49\n"), "{out}");
    assert!(
        out.contains(
            "wrong 1045 Access denied for user 'hashed'@'127.0.0.1' (using password: YES)"
        ),
        "{out}"
    );
    assert!(
        state.auth.cached("hashed").is_some(),
        "cached after full authentication"
    );

    // mysql_async logs in too (by the fast path now; its RSA exchange is the next test), and
    // a wrong password is refused.
    let mut c = env.client_as("hashed", PASSWORD, Some("commerce")).await;
    let n: i64 = c
        .query_first("SELECT 5")
        .await
        .expect("query")
        .expect("row");
    assert_eq!(n, 5);
    c.disconnect().await.expect("disconnect");
    let err = login(&env.url("hashed", "nope", None))
        .await
        .expect_err("wrong password");
    assert_eq!(server_error(err).0, 1045);
    // A plain-password user takes the fast path with no key at all.
    let mut c = env.client_as("app", "secret", Some("commerce")).await;
    c.query_drop("SELECT 1").await.expect("query");
    c.disconnect().await.expect("disconnect");
    // The mariadb CLI answers a caching_sha2 greeting with its caching_sha2 plugin: the fast
    // path for a plain password, the RSA exchange for a hash nobody logged in with yet.
    // Connector/C takes a connection with its `ssl` option on (the 10.11 CLI's default) for a
    // secure one even when the server offered no TLS, and sends the password in clear text
    // over plain TCP: refused, as only an encrypted password is acceptable there.
    let port = env.port().to_string();
    let pw = format!("-p{PASSWORD}");
    let cli = |user: &'static str, pw: String, extra: &'static [&'static str]| {
        let port = port.clone();
        async move {
            run(Command::new("mariadb")
                .args(["-h127.0.0.1", "-P", &port, &format!("-u{user}"), &pw])
                .args(extra)
                .args(["-N", "-e", "SELECT 6 * 7"]))
            .await
        }
    };
    let (ok, out, err) = cli("app", "-psecret".into(), &[]).await;
    assert!(ok, "mariadb -uapp: {err}");
    assert_eq!(out, "42\n");
    let (ok, _, err) = cli("hashed_cli", pw.clone(), &[]).await;
    assert!(!ok, "clear text over plain TCP must be refused");
    assert!(err.contains("ERROR 1045 (28000)"), "{err}");
    assert_eq!(state.auth.cached("hashed_cli"), None);
    let (ok, out, err) = cli("hashed_cli", pw, &["--skip-ssl"]).await;
    assert!(ok, "mariadb --skip-ssl -uhashed_cli (RSA): {err}");
    assert_eq!(out, "42\n");
    assert!(state.auth.cached("hashed_cli").is_some());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn caching_sha2_full_authentication_with_mysql_async_and_a_configured_key() {
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let dir = tempfile::tempdir().expect("tempdir");
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).expect("key");
    let path = dir.path().join("private.pem");
    std::fs::write(
        &path,
        key.to_pkcs8_pem(LineEnding::LF).expect("pem").as_bytes(),
    )
    .expect("write");
    let env = TestEnv::start(spec(AuthConfig {
        rsa_private_key: Some(path),
        ..sha2_greeting()
    }))
    .await;
    let state = env.proxy.state().clone();
    let served = state.auth.server_key().await.expect("key");
    let expected = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("pem");
    assert_eq!(
        served.public_pem(),
        expected,
        "the configured key is served"
    );
    // mysql_async: full authentication, RSA with that key.
    let mut c = env.client_as("hashed", PASSWORD, Some("commerce")).await;
    let n: i64 = c
        .query_first("SELECT 3")
        .await
        .expect("query")
        .expect("row");
    assert_eq!(n, 3);
    c.disconnect().await.expect("disconnect");
    assert!(state.auth.cached("hashed").is_some());
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn caching_sha2_over_the_unix_socket_sends_clear_text_and_plain_tcp_refuses_it() {
    let env = TestEnv::start(spec(sha2_greeting())).await;
    let socket = env.socket_path().to_str().expect("utf-8 path").to_string();
    // mysql-connector-python answers "perform full authentication" with the clear-text
    // password whatever the transport (it has no RSA exchange): refused over plain TCP, where
    // only an encrypted password is acceptable (and nothing is cached) ...
    let state = env.proxy.state().clone();
    let tcp = r#"
import sys, mysql.connector
port, pw = int(sys.argv[1]), sys.argv[2]
try:
    mysql.connector.connect(host='127.0.0.1', port=port, user='hashed', password=pw, ssl_disabled=True)
    print("connector-tcp accepted")
except mysql.connector.Error as e:
    print("connector-tcp", e.errno)
"#;
    let out = python(tcp, &[env.port().to_string(), PASSWORD.to_string()]).await;
    assert_eq!(out, "connector-tcp 1045\n");
    assert_eq!(state.auth.cached("hashed"), None);
    // ... and accepted over the Unix socket, a secure transport, which caches the digest.
    let script = r#"
import sys, pymysql, mysql.connector
sock, pw = sys.argv[1], sys.argv[2]
m = mysql.connector.connect(unix_socket=sock, user='hashed', password=pw, database='commerce')
cur = m.cursor(); cur.execute("SELECT 8 * 8"); print("connector-socket", cur.fetchone()[0]); m.close()
c = pymysql.connect(unix_socket=sock, user='hashed', password=pw, database='commerce')
cur = c.cursor(); cur.execute("SELECT 9 * 9"); print("pymysql-socket", cur.fetchone()[0])
print("pymysql-key", c.server_public_key)
c.close()
"#;
    let out = python(script, &[socket.clone(), PASSWORD.to_string()]).await;
    assert!(out.contains("connector-socket 64\n"), "{out}");
    assert!(out.contains("pymysql-socket 81\n"), "{out}");
    assert!(
        out.contains("pymysql-key None\n"),
        "no key exchange over the socket: {out}"
    );
    assert!(state.auth.cached("hashed").is_some());
    // mysql_async over the socket (fast path from the cache by now).
    let opts = mysql_async::OptsBuilder::default()
        .socket(Some(socket))
        .user(Some("hashed"))
        .pass(Some(PASSWORD))
        .db_name(Some("commerce"))
        .prefer_socket(false);
    let mut c = mysql_async::Conn::new(opts).await.expect("socket login");
    let n: i64 = c
        .query_first("SELECT 4")
        .await
        .expect("query")
        .expect("row");
    assert_eq!(n, 4);
    c.disconnect().await.expect("disconnect");
    env.stop().await;
}

/// Over TLS the client's clear-text password is accepted (TLS is a secure transport, as the
/// Unix socket): mysql-connector-python, which has no RSA exchange, logs in over TCP with
/// TLS for a user known only by its hash, and the digest is cached for the fast path.
#[tokio::test(flavor = "multi_thread")]
async fn caching_sha2_full_authentication_over_tls_takes_clear_text() {
    let certs = common::certs::TestCerts::generate();
    let mut spec = spec(sha2_greeting());
    spec.server.tls_cert = Some(certs.cert());
    spec.server.tls_key = Some(certs.key());
    let env = TestEnv::start(spec).await;
    let state = env.proxy.state().clone();
    let script = r#"
import sys, mysql.connector
port, pw, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3]
m = mysql.connector.connect(host='127.0.0.1', port=port, user='hashed', password=pw,
                            database='commerce', ssl_ca=ca, ssl_verify_cert=True)
cur = m.cursor(); cur.execute("SELECT 6 * 7"); print("connector-tls", cur.fetchone()[0])
cur.execute("SHOW STATUS LIKE 'Ssl_version'"); print("version", cur.fetchone()[1].startswith("TLS"))
m.close()
"#;
    let ca = certs.ca().to_str().expect("utf-8 path").to_string();
    let out = python(
        script,
        &[env.port().to_string(), PASSWORD.to_string(), ca.clone()],
    )
    .await;
    assert_eq!(out, "connector-tls 42\nversion True\n");
    assert!(state.auth.cached("hashed").is_some(), "digest cached");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn change_user_takes_the_same_path() {
    let env = TestEnv::start(spec(sha2_greeting())).await;
    let mut c = env.client_as("app", "secret", Some("commerce")).await;
    c.change_user(
        mysql_async::ChangeUserOpts::default()
            .with_user(Some("hashed".into()))
            .with_pass(Some(PASSWORD.into())),
    )
    .await
    .expect("change to the hashed user (full authentication over RSA)");
    c.query_drop("USE commerce").await.expect("use");
    let n: i64 = c
        .query_first("SELECT 2")
        .await
        .expect("query")
        .expect("row");
    assert_eq!(n, 2);
    let err = c
        .change_user(
            mysql_async::ChangeUserOpts::default()
                .with_user(Some("hashed".into()))
                .with_pass(Some("wrong".into())),
        )
        .await
        .expect_err("wrong password");
    assert_eq!(server_error(err).0, 1045);
    assert!(env.proxy.state().login_throttle.failed_logins() >= 1);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_logins_delay_that_host_only() {
    const DELAY: Duration = Duration::from_secs(3);
    let env = TestEnv::start(spec(AuthConfig {
        failed_login_threshold: 3,
        failed_login_delay_ms: DELAY.as_millis() as u64,
        failed_login_max_delay_ms: 60_000,
        ..AuthConfig::default()
    }))
    .await;
    let state = env.proxy.state().clone();
    for _ in 0..3 {
        let err = login(&env.url("app", "wrong", None))
            .await
            .expect_err("wrong password");
        assert_eq!(server_error(err).0, 1045);
    }
    assert_eq!(state.login_throttle.failed_logins(), 3);
    assert_eq!(state.login_throttle.delayed_logins(), 0);
    // The next attempt from 127.0.0.1 — even with the right password — waits at least DELAY.
    let url = env.url("app", "secret", Some("commerce"));
    let started = Instant::now();
    let delayed = tokio::spawn(async move {
        let c = login(&url).await;
        (c.map(|_| ()), started.elapsed())
    });
    // Meanwhile the Unix socket (host `localhost`) is answered while that attempt still waits.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let socket = env.socket_path().to_str().expect("utf-8 path").to_string();
    let opts = mysql_async::OptsBuilder::default()
        .socket(Some(socket))
        .user(Some("app"))
        .pass(Some("wrong"))
        .prefer_socket(false);
    let err = mysql_async::Conn::new(opts)
        .await
        .expect_err("wrong password over the socket");
    assert_eq!(server_error(err).0, 1045);
    assert!(
        !delayed.is_finished(),
        "the socket login was answered while the delayed TCP attempt still waited"
    );
    let (outcome, took) = delayed.await.expect("task");
    outcome.expect("the right password still logs in, after the delay");
    assert!(took >= DELAY, "delayed attempt took only {took:?}");
    assert_eq!(state.login_throttle.failed_logins(), 4);
    assert!(state.login_throttle.delayed_logins() >= 1);
    env.stop().await;
}

/// A HandshakeResponse41 as a MySQL 8.4/9 client sends it to a server whose greeting named
/// mysql_native_password: plugin caching_sha2_password, no auth data.
fn mysql8_hello(user: &str) -> Vec<u8> {
    // PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH | PLUGIN_AUTH_LENENC_CLIENT_DATA
    let caps: u32 = 0x0200 | 0x8000 | 0x0008_0000 | 0x0020_0000;
    let mut p = Vec::new();
    p.extend_from_slice(&caps.to_le_bytes());
    p.extend_from_slice(&(16u32 << 20).to_le_bytes());
    p.push(45);
    p.extend_from_slice(&[0u8; 23]);
    p.extend_from_slice(user.as_bytes());
    p.push(0);
    p.push(0); // no auth data
    p.extend_from_slice(b"caching_sha2_password\0");
    p
}

/// Logs in over raw TCP the way libmysqlclient 8.4/9 does against a native greeting: asked
/// again with an AuthSwitchRequest to caching_sha2_password, then its fast path or full
/// authentication over RSA. Returns the packets the proxy sent after the handshake response.
async fn mysql8_login(port: u16, user: &str, password: &[u8]) -> Vec<Vec<u8>> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let mut ps = PacketStream::new(stream);
    let greeting = ps.read().await.expect("read").expect("greeting");
    assert!(
        greeting.ends_with(b"mysql_native_password\0"),
        "the default greeting names native"
    );
    ps.write(&mysql8_hello(user));
    ps.flush().await.expect("flush");
    let mut seen = Vec::new();
    let switch = ps.read().await.expect("read").expect("switch");
    seen.push(switch.clone());
    assert!(
        switch.starts_with(b"\xFEcaching_sha2_password\0"),
        "{switch:?}"
    );
    let nonce = switch[23..43].to_vec();
    ps.write(&mysql_common::scramble::scramble_sha256(&nonce, password).expect("scramble"));
    ps.flush().await.expect("flush");
    loop {
        let p = ps.read().await.expect("read").expect("packet");
        seen.push(p.clone());
        match p[..] {
            [0x01, 0x03] => continue,
            [0x01, 0x04] => {
                ps.write(&[0x02]);
                ps.flush().await.expect("flush");
                let key = ps.read().await.expect("read").expect("key");
                seen.push(key.clone());
                use rsa::pkcs8::DecodePublicKey;
                let pem = std::str::from_utf8(&key[1..]).expect("utf-8 PEM");
                let public = rsa::PublicKey::from_public_key_pem(pem).expect("PEM");
                let mut data = password.to_vec();
                data.push(0);
                for (i, b) in data.iter_mut().enumerate() {
                    *b ^= nonce[i % nonce.len()];
                }
                ps.write(&public.oaep_encrypt::<sha1::Sha1>(&data).expect("encrypt"));
                ps.flush().await.expect("flush");
            }
            _ => return seen,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mysql8_clients_against_the_default_native_greeting() {
    let env = TestEnv::start(spec(AuthConfig::default())).await;
    // Plain password: switch, fast path, OK.
    let seen = mysql8_login(env.port(), "app", b"secret").await;
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[1], vec![0x01, 0x03]);
    assert_eq!(seen[2][0], 0x00, "OK");
    // Hashed password: switch, full authentication, public key, OK; then the fast path.
    let seen = mysql8_login(env.port(), "hashed", PASSWORD.as_bytes()).await;
    assert_eq!(seen[1], vec![0x01, 0x04], "{seen:?}");
    assert!(seen[2].starts_with(b"\x01-----BEGIN PUBLIC KEY-----\n"));
    assert_eq!(seen[3][0], 0x00, "OK after RSA: {seen:?}");
    let seen = mysql8_login(env.port(), "hashed", PASSWORD.as_bytes()).await;
    assert_eq!(
        seen[1],
        vec![0x01, 0x03],
        "fast path from the cache: {seen:?}"
    );
    assert_eq!(seen[2][0], 0x00);
    // A wrong password ends in 1045.
    let seen = mysql8_login(env.port(), "hashed", b"wrong").await;
    let last = seen.last().expect("reply");
    assert_eq!(last[0], 0xFF);
    assert_eq!(u16::from_le_bytes([last[1], last[2]]), 1045);
    env.stop().await;
}

/// `CREATE USER 'foo'@'%' IDENTIFIED BY 'foobar'` on MySQL 8, then
/// `SELECT HEX(authentication_string) FROM mysql.user`.
const MYSQL_SHA2_FOOBAR: &str = "24412430303524031A69251C34295C4B35167C7F1E5A7B63091349503974624D34504B5A424679354856336868686F52485A736E4A733368786E427575516C73446469496537";

#[tokio::test(flavor = "multi_thread")]
async fn a_mysql_caching_sha2_hash_switches_native_clients_to_full_authentication() {
    let mut spec = spec(AuthConfig::default());
    spec.users.push(UserConfig {
        name: "from_mysql".into(),
        password: String::new(),
        password_hash: Some(format!("0x{MYSQL_SHA2_FOOBAR}")),
        admin: false,
        keyspaces: None,
        read_only: false,
    });
    let env = TestEnv::start(spec).await;
    let state = env.proxy.state().clone();
    // mysql_async answers the native greeting natively, is switched to caching_sha2, and
    // (nothing cached) sends the password over RSA.
    let err = login(&env.url("from_mysql", "foobaR", None))
        .await
        .expect_err("wrong password");
    assert_eq!(server_error(err).0, 1045);
    assert_eq!(state.auth.cached("from_mysql"), None);
    let mut c = env
        .client_as("from_mysql", "foobar", Some("commerce"))
        .await;
    let n: i64 = c
        .query_first("SELECT 11")
        .await
        .expect("query")
        .expect("row");
    assert_eq!(n, 11);
    c.disconnect().await.expect("disconnect");
    assert!(state.auth.cached("from_mysql").is_some());
    // The mariadb CLI follows the switch too (over the socket: fast path now).
    let socket = env.socket_path();
    let socket = socket.to_str().expect("utf-8 path");
    let (ok, out, err) = run(Command::new("mariadb").args([
        "-S",
        socket,
        "-ufrom_mysql",
        "-pfoobar",
        "-N",
        "-e",
        "SELECT 12",
    ]))
    .await;
    assert!(ok, "{err}");
    assert_eq!(out, "12\n");
    env.stop().await;
}

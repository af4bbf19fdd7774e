//! TLS from the proxy to a shard server (`[backend] tls`, `tls_ca`): a mariadbd started with
//! `ssl_cert` / `ssl_key` whose shard account is `REQUIRE SSL`, so a login only succeeds over
//! TLS. Each mode is checked through the proxy's own backend client (statements) and the
//! background pool (the proxy reads column facts with it at start).

mod common;

use common::{PrivateServer, TestCerts};
use mysql_async::prelude::Queryable;
use shardgate::config::{
    BackendConfig, Config, KeyspaceConfig, ServerConfig, ShardConfig, UserConfig, VSchemaConfig,
};
use shardgate::server::Proxy;
use shardgate::tls::BackendTlsMode;
use std::path::Path;

fn config(port: u16, mode: BackendTlsMode, ca: &Path, vschema: &Path) -> Config {
    Config {
        server: ServerConfig {
            mysql_listen: "127.0.0.1:0".into(),
            ..ServerConfig::default()
        },
        users: vec![UserConfig {
            name: "app".into(),
            password: "secret".into(),
            password_hash: None,
            admin: true,
            keyspaces: None,
            read_only: false,
        }],
        vschema: VSchemaConfig {
            dir: vschema.to_path_buf(),
        },
        backend: BackendConfig {
            tls: mode,
            tls_ca: (mode != BackendTlsMode::Off && mode != BackendTlsMode::Required)
                .then(|| ca.to_path_buf()),
            ..BackendConfig::default()
        },
        keyspaces: vec![KeyspaceConfig {
            name: "commerce".into(),
            shards: vec![ShardConfig {
                name: "0".into(),
                url: format!("mysql://tlsonly:pw@127.0.0.1:{port}/tlsdb"),
            }],
        }],
        limits: Default::default(),
        auth: Default::default(),
        topology: Default::default(),
        log: Default::default(),
        source: None,
    }
}

/// Starts a proxy with `mode` and runs a statement through it: Ok(rows counted) or the error.
async fn through_proxy(
    port: u16,
    mode: BackendTlsMode,
    ca: &Path,
) -> Result<Option<u64>, mysql_async::Error> {
    let vschema = tempfile::tempdir().expect("tempdir");
    let cfg = config(port, mode, ca, vschema.path());
    shardgate::config::validate(&cfg, "test").expect("valid config");
    let proxy = Proxy::start(cfg).await.expect("proxy starts");
    let url = format!(
        "mysql://app:secret@127.0.0.1:{}/commerce?prefer_socket=false",
        proxy.local_addr().port()
    );
    let result = async {
        let mut c = mysql_async::Conn::from_url(url.as_str()).await?;
        c.query_drop("INSERT INTO t VALUES (NULL)").await?;
        let n: Option<u64> = c.query_first("SELECT COUNT(*) FROM t").await?;
        c.disconnect().await?;
        Ok(n)
    }
    .await;
    proxy.shutdown().await;
    result
}

#[tokio::test(flavor = "multi_thread")]
async fn backend_tls_modes_against_a_require_ssl_account() {
    let certs = TestCerts::generate();
    let cnf = |p: &Path| p.to_str().expect("utf-8").to_string();
    let server = PrivateServer::start_with(
        "backend-tls",
        &[
            format!("ssl_cert={}", cnf(&certs.cert())),
            format!("ssl_key={}", cnf(&certs.key())),
            format!("ssl_ca={}", cnf(&certs.ca())),
        ],
    )
    .await;
    let mut root = mysql_async::Conn::from_url(server.url(None).as_str())
        .await
        .expect("root on the shard server");
    root.query_drop(
        "CREATE DATABASE tlsdb; CREATE TABLE tlsdb.t (id INT AUTO_INCREMENT PRIMARY KEY); \
         CREATE USER 'tlsonly'@'%' IDENTIFIED BY 'pw' REQUIRE SSL; \
         GRANT ALL ON tlsdb.* TO 'tlsonly'@'%'",
    )
    .await
    .expect("set up the shard");
    root.disconnect().await.expect("disconnect");
    let port = server.port();
    let ca = certs.ca();

    // Plain TCP: the shard refuses the account, and the client sees the failure.
    let plain = through_proxy(port, BackendTlsMode::Off, &ca).await;
    assert!(
        plain.is_err(),
        "a REQUIRE SSL account logged in without TLS"
    );

    let mut expected = 0;
    for mode in [
        BackendTlsMode::Required,
        BackendTlsMode::VerifyCa,
        BackendTlsMode::VerifyIdentity,
    ] {
        expected += 1;
        let n = through_proxy(port, mode, &ca)
            .await
            .unwrap_or_else(|e| panic!("backend.tls = {mode:?}: {e}"));
        assert_eq!(n, Some(expected), "{mode:?}");
    }

    // A CA that did not sign the server's certificate: the verifying modes refuse it,
    // `required` (no verification, as its name says) does not.
    let other = TestCerts::generate();
    for mode in [BackendTlsMode::VerifyCa, BackendTlsMode::VerifyIdentity] {
        let err = through_proxy(port, mode, &other.ca()).await;
        assert!(
            err.is_err(),
            "{mode:?} accepted a certificate of another CA"
        );
    }
    server.remove().await;
}

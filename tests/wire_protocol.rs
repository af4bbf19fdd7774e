//! Wire-protocol behaviour of the proxy against real MariaDB shards: authentication (native,
//! caching_sha2 fast path, auth switch, wrong password), malformed and unknown packets, connection
//! ids, multi-statements, reset/change user, prepared statements and packets over 16 MiB.

mod common;

use common::{EnvSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Opts, Value};
use shardgate::protocol::packet::PacketStream;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// A raw protocol client: speaks just enough MySQL to test what drivers never send.
struct Raw {
    ps: PacketStream<TcpStream>,
    greeting: Vec<u8>,
}

impl Raw {
    async fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let mut ps = PacketStream::new(stream);
        let greeting = ps.read().await.expect("read greeting").expect("greeting");
        Raw { ps, greeting }
    }

    fn connection_id(&self) -> u32 {
        let ver_end = 1 + self.greeting[1..]
            .iter()
            .position(|&b| b == 0)
            .expect("nul");
        let at = ver_end + 1;
        u32::from_le_bytes(self.greeting[at..at + 4].try_into().expect("4 bytes"))
    }

    fn version(&self) -> String {
        let ver_end = 1 + self.greeting[1..]
            .iter()
            .position(|&b| b == 0)
            .expect("nul");
        String::from_utf8_lossy(&self.greeting[1..ver_end]).into_owned()
    }

    fn nonce(&self) -> Vec<u8> {
        let ver_end = 1 + self.greeting[1..]
            .iter()
            .position(|&b| b == 0)
            .expect("nul");
        let mut at = ver_end + 1 + 4;
        let mut nonce = self.greeting[at..at + 8].to_vec();
        at += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
        nonce.extend_from_slice(&self.greeting[at..at + 12]);
        nonce
    }

    /// Sends HandshakeResponse41 with the given plugin and auth data.
    async fn login(&mut self, user: &str, plugin: &str, auth: &[u8], db: Option<&str>) {
        // PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH | MULTI_STATEMENTS | MULTI_RESULTS | CONNECT_WITH_DB?
        let mut caps: u32 = 0x0200 | 0x8000 | 0x0008_0000 | 0x0001_0000 | 0x0002_0000;
        if db.is_some() {
            caps |= 0x0008;
        }
        let mut p = Vec::new();
        p.extend_from_slice(&caps.to_le_bytes());
        p.extend_from_slice(&(16u32 << 20).to_le_bytes());
        p.push(45);
        p.extend_from_slice(&[0u8; 23]);
        p.extend_from_slice(user.as_bytes());
        p.push(0);
        p.push(auth.len() as u8);
        p.extend_from_slice(auth);
        if let Some(db) = db {
            p.extend_from_slice(db.as_bytes());
            p.push(0);
        }
        p.extend_from_slice(plugin.as_bytes());
        p.push(0);
        self.ps.write(&p);
        self.ps.flush().await.expect("flush");
    }

    async fn read(&mut self) -> Vec<u8> {
        self.ps.read().await.expect("read").expect("packet")
    }

    async fn command(&mut self, payload: &[u8]) -> Vec<u8> {
        self.ps.seq = 0;
        self.ps.write(payload);
        self.ps.flush().await.expect("flush");
        self.read().await
    }
}

fn err_code(packet: &[u8]) -> Option<u16> {
    (packet.first() == Some(&0xFF)).then(|| u16::from_le_bytes([packet[1], packet[2]]))
}

async fn server_error_code(res: Result<Conn, mysql_async::Error>) -> u16 {
    match res {
        Err(mysql_async::Error::Server(e)) => e.code,
        Err(other) => panic!("expected a server error, got {other}"),
        Ok(_) => panic!("expected an error, connected instead"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn greeting_has_version_and_unique_ids() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let a = Raw::connect(env.port()).await;
    let b = Raw::connect(env.port()).await;
    // Derived from the shards (MariaDB 10.11): see tests/server_identity.rs.
    assert!(
        a.version().starts_with("5.5.5-10.") && a.version().ends_with("-MariaDB-shardgate"),
        "{}",
        a.version()
    );
    assert_ne!(a.connection_id(), b.connection_id());
    assert_ne!(
        a.nonce(),
        b.nonce(),
        "each connection gets a fresh scramble"
    );
    assert_eq!(a.nonce().len(), 20);
    env.stop().await;
}

/// `SELECT @@version` and `VERSION()` answer what the greeting announced (a driver that reads
/// either must see one server), not the shard's version string; `server.server_version` sets
/// both, exactly as written, as vtgate's `--mysql_server_version` does.
#[tokio::test(flavor = "multi_thread")]
async fn select_version_agrees_with_the_greeting() {
    async fn versions(env: &TestEnv) -> (String, String, String) {
        let greeting = Raw::connect(env.port()).await.version();
        let mut c = env.client().await;
        let text: String = c
            .query_first("SELECT @@version")
            .await
            .expect("@@version")
            .expect("row");
        let rows = c.query_iter("select VERSION()").await.expect("VERSION()");
        let column = rows.columns_ref()[0].name_str().into_owned();
        drop(rows);
        let prepared: String = c
            .exec_first("SELECT version()", ())
            .await
            .expect("prepared")
            .expect("row");
        assert_eq!(text, prepared, "text and prepared answers differ");
        assert_eq!(
            column, "VERSION()",
            "the column is named as the client wrote it"
        );
        (greeting, text, prepared)
    }
    let mut env = TestEnv::start(EnvSpec::default()).await;
    let (greeting, text, _) = versions(&env).await;
    // MariaDB 10's handshake prefix is in the greeting only, as MariaDB sends it.
    assert_eq!(Some(text.as_str()), greeting.strip_prefix("5.5.5-"));
    env.config.server.server_version = Some("10.11.6-MariaDB-shardgate".into());
    env.restart_proxy().await;
    let (greeting, text, _) = versions(&env).await;
    assert_eq!(greeting, "10.11.6-MariaDB-shardgate");
    assert_eq!(text, greeting);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_is_1045_and_closes() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let url = env.url("app", "wrong", None);
    let code = server_error_code(Conn::new(Opts::from_url(&url).expect("url")).await).await;
    assert_eq!(code, 1045);
    let url = env.url("nobody", "", None);
    let code = server_error_code(Conn::new(Opts::from_url(&url).expect("url")).await).await;
    assert_eq!(code, 1045);
    // The raw view: ERR then the socket closes.
    let mut raw = Raw::connect(env.port()).await;
    raw.login("app", "mysql_native_password", &[1u8; 20], None)
        .await;
    let reply = raw.read().await;
    assert_eq!(err_code(&reply), Some(1045));
    assert!(raw.ps.read().await.expect("clean close").is_none());
    // The right password works.
    let mut ok = Conn::new(Opts::from_url(&env.url("app", "secret", None)).expect("url"))
        .await
        .expect("connect");
    let one: Option<i64> = ok.query_first("SELECT 1").await.expect("query");
    assert_eq!(one, Some(1));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn caching_sha2_fast_path_and_auth_switch() {
    let env = TestEnv::start(EnvSpec::default()).await;
    // caching_sha2_password: AuthMoreData(0x03) then OK.
    let mut raw = Raw::connect(env.port()).await;
    let nonce = raw.nonce();
    let resp = mysql_common::scramble::scramble_sha256(&nonce, b"secret").expect("scramble");
    raw.login("app", "caching_sha2_password", &resp, Some("commerce"))
        .await;
    assert_eq!(raw.read().await, vec![0x01, 0x03]);
    assert_eq!(raw.read().await[0], 0x00);
    let reply = raw.command(&[0x0E]).await;
    assert_eq!(reply[0], 0x00, "ping after caching_sha2 login");
    // An unknown plugin is switched to mysql_native_password.
    let mut raw = Raw::connect(env.port()).await;
    raw.login("app", "client_ed25519", &[9u8; 64], None).await;
    let switch = raw.read().await;
    assert_eq!(switch[0], 0xFE);
    assert!(switch.starts_with(b"\xFEmysql_native_password\0"));
    let nonce = &switch[23..43];
    let resp = mysql_common::scramble::scramble_native(nonce, b"secret").expect("scramble");
    raw.ps.write(&resp);
    raw.ps.flush().await.expect("flush");
    assert_eq!(raw.read().await[0], 0x00, "OK after auth switch");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_and_unknown_packets_get_errors_not_panics() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut raw = Raw::connect(env.port()).await;
    raw.login("root", "mysql_native_password", &[], None).await;
    assert_eq!(raw.read().await[0], 0x00);
    assert_eq!(err_code(&raw.command(&[0xEE, 1, 2, 3]).await), Some(1047));
    assert!(
        err_code(&raw.command(&[0x17, 1]).await).is_some(),
        "short execute"
    );
    assert_eq!(
        err_code(&raw.command(&[0x17, 99, 0, 0, 0, 0, 1, 0, 0, 0]).await),
        Some(1243),
        "unknown statement id"
    );
    assert!(
        err_code(&raw.command(&[0x11, b'x']).await).is_some(),
        "short change user"
    );
    assert_eq!(
        err_code(&raw.command(&[0x03]).await),
        Some(1065),
        "empty query"
    );
    assert!(err_code(&raw.command(&[0x03, 0xFF, 0xFE, b';']).await).is_some());
    assert_eq!(
        raw.command(&[0x0E]).await[0],
        0x00,
        "still usable after errors"
    );
    // COM_SET_OPTION answers EOF; COM_STATISTICS a string.
    assert_eq!(raw.command(&[0x1B, 1, 0]).await[0], 0xFE);
    assert!(raw.command(&[0x09]).await.starts_with(b"Uptime: "));

    // Garbage instead of a handshake response, and a truncated packet: the proxy survives.
    let mut bad = TcpStream::connect(("127.0.0.1", env.port()))
        .await
        .expect("connect");
    bad.write_all(&[3, 0, 0, 1, 0xde, 0xad, 0xbe])
        .await
        .expect("write");
    let mut cut = TcpStream::connect(("127.0.0.1", env.port()))
        .await
        .expect("connect");
    cut.write_all(&[100, 0, 0, 1, 1, 2]).await.expect("write");
    drop(cut);
    let mut c = env.client().await;
    let v: Option<i64> = c.query_first("SELECT 41 + 1").await.expect("query");
    assert_eq!(v, Some(42));
    assert_eq!(
        raw.command(&[0x0E]).await[0],
        0x00,
        "other connections unaffected"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn multi_statements_reset_and_change_user() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut c = env.client().await;
    let mut result = c
        .query_iter("SELECT 1; SELECT 'two', 2; SET @a = 5; SELECT @a")
        .await
        .expect("multi");
    let mut sets: Vec<Vec<mysql_async::Row>> = Vec::new();
    while !result.is_empty() {
        sets.push(result.collect().await.expect("collect"));
    }
    drop(result);
    let firsts: Vec<usize> = sets.iter().map(Vec::len).collect();
    assert_eq!(firsts, vec![1, 1, 0, 1]);
    let a: Option<i64> = c.query_first("SELECT @a").await.expect("var");
    assert_eq!(a, Some(5));
    // COM_RESET_CONNECTION clears user variables.
    assert!(c.reset().await.expect("reset"));
    let a: Option<Option<i64>> = c.query_first("SELECT @a").await.expect("var");
    assert_eq!(a, Some(None));
    // COM_CHANGE_USER re-authenticates for real.
    c.change_user(
        mysql_async::ChangeUserOpts::default()
            .with_user(Some("app".into()))
            .with_pass(Some("secret".into()))
            .with_db_name(Some("commerce".into())),
    )
    .await
    .expect("change user");
    let who: Option<String> = c.query_first("SELECT DATABASE()").await.expect("db");
    assert_eq!(who.as_deref(), Some("commerce"));
    let res = c
        .change_user(
            mysql_async::ChangeUserOpts::default()
                .with_user(Some("app".into()))
                .with_pass(Some("nope".into())),
        )
        .await;
    match res {
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1045),
        other => panic!("expected 1045, got {other:?}"),
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prepared_statements_binary_rows() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut c = env.client().await;
    c.query_drop(
        "CREATE TABLE typed (id BIGINT PRIMARY KEY, i INT, s SMALLINT, t TINYINT, f FLOAT, d DOUBLE, \
         dec_ DECIMAL(10,2), v VARCHAR(20), dt DATETIME(6), da DATE, ti TIME, u BIGINT UNSIGNED, b BLOB)",
    )
    .await
    .expect("create");
    let insert = c
        .prep("INSERT INTO typed VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .await
        .expect("prep");
    assert_eq!(insert.num_params(), 13);
    for id in 1..=3i64 {
        let params: Vec<Value> = vec![
            id.into(),
            (-7i32).into(),
            300i16.into(),
            (-5i8).into(),
            1.5f32.into(),
            2.25f64.into(),
            "12.34".into(),
            format!("v{id}").into(),
            Value::Date(2024, 2, 29, 13, 14, 15, 123456),
            Value::Date(2024, 1, 2, 0, 0, 0, 0),
            Value::Time(true, 1, 2, 3, 4, 0),
            u64::MAX.into(),
            vec![0u8, 1, 2, 255].into(),
        ];
        c.exec_drop(&insert, mysql_async::Params::Positional(params))
            .await
            .expect("insert");
    }
    let mut nulls = vec![Value::NULL; 13];
    nulls[0] = 4i64.into();
    c.exec_drop(&insert, mysql_async::Params::Positional(nulls))
        .await
        .expect("insert nulls");
    let select = c
        .prep("SELECT * FROM typed WHERE id = ?")
        .await
        .expect("prep");
    assert_eq!(select.columns().len(), 13);
    let row: mysql_async::Row = c
        .exec_first(&select, (2i64,))
        .await
        .expect("exec")
        .expect("row");
    assert_eq!(row.get::<i64, _>(0), Some(2));
    assert_eq!(row.get::<i32, _>(1), Some(-7));
    assert_eq!(row.get::<i16, _>(2), Some(300));
    assert_eq!(row.get::<i8, _>(3), Some(-5));
    assert_eq!(row.get::<f32, _>(4), Some(1.5));
    assert_eq!(row.get::<f64, _>(5), Some(2.25));
    assert_eq!(row.get::<String, _>(6).as_deref(), Some("12.34"));
    assert_eq!(row.get::<String, _>(7).as_deref(), Some("v2"));
    assert_eq!(
        row.as_ref(8),
        Some(&Value::Date(2024, 2, 29, 13, 14, 15, 123456))
    );
    assert_eq!(row.as_ref(9), Some(&Value::Date(2024, 1, 2, 0, 0, 0, 0)));
    assert_eq!(row.as_ref(10), Some(&Value::Time(true, 1, 2, 3, 4, 0)));
    assert_eq!(row.get::<u64, _>(11), Some(u64::MAX));
    assert_eq!(row.get::<Vec<u8>, _>(12), Some(vec![0u8, 1, 2, 255]));
    let nulls: mysql_async::Row = c
        .exec_first(&select, (4i64,))
        .await
        .expect("exec")
        .expect("row");
    assert!((1..13).all(|i| nulls.as_ref(i) == Some(&Value::NULL)));
    // Text protocol agrees.
    let text: Option<(i64, String, String)> = c
        .query_first("SELECT id, v, dt FROM typed WHERE id = 3")
        .await
        .expect("text");
    assert_eq!(
        text,
        Some((3, "v3".into(), "2024-02-29 13:14:15.123456".into()))
    );
    // Closing and using an unknown statement id is an error, not a crash.
    c.close(select).await.expect("close");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn packets_larger_than_16_mib_both_ways() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut c = env.client().await;
    c.query_drop("CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB)")
        .await
        .expect("create");
    let blob: Vec<u8> = (0..17 * 1024 * 1024 + 123)
        .map(|i| (i % 251) as u8)
        .collect();
    // Text protocol: one COM_QUERY of about 34 MiB (hex literal).
    let hex: String = blob.iter().map(|b| format!("{b:02x}")).collect();
    c.query_drop(format!("INSERT INTO big VALUES (1, x'{hex}')"))
        .await
        .expect("insert big query");
    // Binary protocol: the blob as a parameter.
    c.exec_drop("INSERT INTO big VALUES (?, ?)", (2, blob.clone()))
        .await
        .expect("insert big param");
    for id in [1, 2] {
        let got: Option<Vec<u8>> = c
            .exec_first("SELECT b FROM big WHERE id = ?", (id,))
            .await
            .expect("select");
        assert_eq!(got.as_ref().map(Vec::len), Some(blob.len()));
        assert!(got == Some(blob.clone()), "blob {id} round-trips");
        let got: Option<Vec<u8>> = c
            .query_first(format!("SELECT b FROM big WHERE id = {id}"))
            .await
            .expect("select text");
        assert!(got == Some(blob.clone()), "blob {id} round-trips as text");
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ok_info_text_reaches_the_client_as_the_server_wrote_it() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut c = env.client().await;
    c.query_drop("CREATE TABLE info_t (id INT PRIMARY KEY, v INT)")
        .await
        .expect("create");
    c.query_drop("INSERT INTO info_t VALUES (1, 1), (2, 2)")
        .await
        .expect("insert");
    assert_eq!(c.info(), "Records: 2  Duplicates: 0  Warnings: 0");
    c.query_drop("UPDATE info_t SET v = v + 1")
        .await
        .expect("update");
    assert_eq!(c.info(), "Rows matched: 2  Changed: 2  Warnings: 0");
    drop(c.disconnect().await);
    env.stop().await;
}

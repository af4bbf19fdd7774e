//! Statement bytes that are not UTF-8, as a latin1 client sends them (`é` is the byte 0xE9):
//! on a sharded keyspace the planner cannot read them (it plans utf8mb4 text and does not
//! convert latin1), so a planned statement is refused with 1235 naming the client's charset —
//! never a "not valid UTF-8" complaint, which is false for a latin1 client. What the proxy
//! forwards as written (SHOW/EXPLAIN to the first shard, anything on an unsharded keyspace or
//! a `keyspace:shard` target) is answered exactly, bytes and all.

mod common;

use common::{EnvSpec, TestEnv};
use mysql_async::prelude::Queryable;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// latin1_swedish_ci
const LATIN1: u8 = 8;
/// utf8mb4_general_ci
const UTF8MB4: u8 = 45;

/// A raw client: logs in as `root` to `db` with `collation`, sends COM_QUERY bytes.
struct Raw(TcpStream);

impl Raw {
    async fn login(port: u16, collation: u8, db: &str) -> Raw {
        let mut s = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let mut raw = Raw(s);
        raw.read_packet().await;
        // PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH | CONNECT_WITH_DB
        let caps: u32 = 0x0200 | 0x8000 | 0x0008_0000 | 0x0008;
        let mut p = caps.to_le_bytes().to_vec();
        p.extend_from_slice(&(16u32 << 20).to_le_bytes());
        p.push(collation);
        p.extend_from_slice(&[0u8; 23]);
        p.extend_from_slice(b"root\0\0");
        p.extend_from_slice(db.as_bytes());
        p.push(0);
        p.extend_from_slice(b"mysql_native_password\0");
        raw.send(1, &p).await;
        let ok = raw.read_packet().await;
        assert_eq!(ok.first(), Some(&0), "login: {ok:?}");
        s = raw.0;
        Raw(s)
    }

    async fn send(&mut self, seq: u8, payload: &[u8]) {
        let mut p = (payload.len() as u32).to_le_bytes()[..3].to_vec();
        p.push(seq);
        p.extend_from_slice(payload);
        self.0.write_all(&p).await.expect("send");
    }

    async fn read_packet(&mut self) -> Vec<u8> {
        let mut h = [0u8; 4];
        self.0.read_exact(&mut h).await.expect("header");
        let mut p = vec![0u8; u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize];
        self.0.read_exact(&mut p).await.expect("payload");
        p
    }

    /// Runs `sql`; returns the ERR packet, or every packet of the result (OK or result set).
    async fn query(&mut self, sql: &[u8]) -> Result<Vec<Vec<u8>>, (u16, String)> {
        let mut p = vec![0x03];
        p.extend_from_slice(sql);
        self.send(0, &p).await;
        let first = self.read_packet().await;
        match first.first() {
            Some(0xFF) => Err((
                u16::from_le_bytes([first[1], first[2]]),
                String::from_utf8_lossy(&first[9..]).into_owned(),
            )),
            Some(0x00) => Ok(vec![first]),
            _ => {
                let mut all = vec![first];
                let mut eofs = 0;
                while eofs < 2 {
                    let pkt = self.read_packet().await;
                    if pkt.first() == Some(&0xFE) && pkt.len() < 9 {
                        eofs += 1;
                    }
                    all.push(pkt);
                }
                Ok(all)
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn latin1_bytes_are_refused_by_charset_or_passed_exactly() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut c = env.client().await;
    c.query_drop("CREATE TABLE customer.t (id BIGINT PRIMARY KEY, name VARCHAR(20))")
        .await
        .expect("create sharded table");
    c.query_drop("CREATE TABLE commerce.u (id BIGINT PRIMARY KEY, name VARCHAR(20))")
        .await
        .expect("create unsharded table");

    // A latin1 client's planned statement on the sharded keyspace: 1235 naming latin1.
    let mut latin1 = Raw::login(env.port(), LATIN1, "customer").await;
    for sql in [
        &b"SELECT id FROM t WHERE name = 'caf\xe9'"[..],
        b"INSERT INTO t (id, name) VALUES (1, 'caf\xe9')",
        b"SELECT id FROM t /* caf\xe9 */ WHERE id = 1",
    ] {
        let (code, msg) = latin1
            .query(sql)
            .await
            .expect_err("refused on a sharded keyspace");
        assert_eq!(code, 1235, "{msg}");
        assert!(
            msg.contains("latin1") && !msg.contains("UTF-8"),
            "the refusal names the client's charset: {msg}"
        );
    }
    // A schema question is forwarded as written to the first shard.
    let rows = latin1
        .query(b"SHOW TABLES LIKE 't%' /* caf\xe9 */")
        .await
        .expect("SHOW with latin1 bytes");
    assert!(
        rows.iter().any(|p| p.as_slice() == b"\x01t"),
        "SHOW TABLES lists t: {rows:?}"
    );

    // On the unsharded keyspace the bytes go through untouched and come back the same.
    let mut latin1 = Raw::login(env.port(), LATIN1, "commerce").await;
    latin1
        .query(b"INSERT INTO u (id, name) VALUES (1, 'caf\xe9')")
        .await
        .expect("insert on unsharded");
    let rows = latin1
        .query(b"SELECT name FROM u WHERE name = 'caf\xe9'")
        .await
        .expect("select on unsharded");
    assert!(
        rows.iter().any(|p| p.as_slice() == b"\x04caf\xe9"),
        "latin1 round trip: {rows:?}"
    );
    // Stored as utf8mb4 on the shard: latin1 0xE9 is é.
    let mut shard = env.shard_conn("commerce", "0").await;
    let name: Option<String> = shard
        .query_first("SELECT name FROM u WHERE id = 1")
        .await
        .expect("shard read");
    assert_eq!(name.as_deref(), Some("café"));

    // A utf8mb4 client's invalid bytes are refused as invalid utf8mb4 text, except inside a
    // string literal, where they are bytes like a binary parameter's (tests/
    // binary_string_literals.rs): that statement plans, and fails as MariaDB would on a
    // keyspace without table t.
    let mut utf8 = Raw::login(env.port(), UTF8MB4, "customer").await;
    let (code, msg) = utf8
        .query(b"SELECT id FROM t WHERE name = 'caf\xe9'")
        .await
        .expect_err("no table t");
    assert_eq!(code, 1146, "{msg}");
    let (code, msg) = utf8
        .query(b"SELECT id FROM t WHERE caf\xe9 = 1")
        .await
        .expect_err("refused");
    assert_eq!(code, 1235, "{msg}");
    assert!(msg.contains("not valid utf8mb4"), "{msg}");
    env.stop().await;
}

//! The crashes the fuzz targets (`src/fuzz/`, `bench/fuzz`) found, replayed against a real
//! proxy and real MariaDB shards: each one used to kill a connection or the whole proxy, and
//! must now get an error or an answer while the proxy keeps serving.

mod common;

use common::errors::expect_error;
use common::{EnvSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::Conn;
use shardgate::protocol::packet::PacketStream;
use tokio::net::TcpStream;

/// Reads one packet; None when the proxy closed the connection.
async fn read(ps: &mut PacketStream<TcpStream>) -> Option<Vec<u8>> {
    ps.read().await.ok().flatten()
}

async fn command(ps: &mut PacketStream<TcpStream>, payload: &[u8]) -> Option<Vec<u8>> {
    ps.seq = 0;
    ps.write(payload);
    ps.flush().await.ok()?;
    read(ps).await
}

/// A raw connection logged in as `root` (empty password) to `db`, without CLIENT_DEPRECATE_EOF.
async fn raw_login(port: u16, db: &str) -> PacketStream<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let mut ps = PacketStream::new(stream);
    read(&mut ps).await.expect("greeting");
    // PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH | CONNECT_WITH_DB
    let caps: u32 = 0x0200 | 0x8000 | 0x0008_0000 | 0x0008;
    let mut p = Vec::new();
    p.extend_from_slice(&caps.to_le_bytes());
    p.extend_from_slice(&(16u32 << 20).to_le_bytes());
    p.push(45);
    p.extend_from_slice(&[0u8; 23]);
    p.extend_from_slice(b"root\0");
    p.push(0);
    p.extend_from_slice(db.as_bytes());
    p.push(0);
    p.extend_from_slice(b"mysql_native_password\0");
    ps.write(&p);
    ps.flush().await.expect("flush");
    assert_eq!(read(&mut ps).await.expect("login answer")[0], 0x00, "login");
    ps
}

/// COM_STMT_EXECUTE parameters typed TIME2 (and the other column-only types) made
/// mysql_common's value reader panic, which killed the client's connection task.
#[tokio::test(flavor = "multi_thread")]
async fn column_only_parameter_types_are_read_as_strings() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut ps = raw_login(env.port(), "commerce").await;
    let ok = command(&mut ps, b"\x16SELECT CONCAT(?, '!')")
        .await
        .expect("prepare answer");
    assert_eq!(ok[0], 0x00, "prepare: {ok:?}");
    let id = [ok[1], ok[2], ok[3], ok[4]];
    let columns = u16::from_le_bytes([ok[5], ok[6]]);
    let params = u16::from_le_bytes([ok[7], ok[8]]);
    assert_eq!((columns, params), (1, 1));
    // One parameter definition + EOF, one column definition + EOF.
    for _ in 0..4 {
        read(&mut ps).await.expect("prepare metadata");
    }
    for ty in [19u8, 18, 17, 20, 243] {
        let mut exec = vec![0x17];
        exec.extend_from_slice(&id);
        exec.extend_from_slice(&[0, 1, 0, 0, 0]); // flags, iteration count
        exec.extend_from_slice(&[0, 1, ty, 0]); // null bitmap, new types bound, the type
        exec.extend_from_slice(b"\x03abc");
        let first = command(&mut ps, &exec)
            .await
            .unwrap_or_else(|| panic!("type {ty}: the proxy closed the connection"));
        assert_eq!(first, [1], "type {ty}: one column");
        // Column definition, EOF, the row, EOF.
        read(&mut ps).await.expect("column");
        read(&mut ps).await.expect("eof");
        let row = read(&mut ps).await.expect("row");
        assert!(row.ends_with(b"\x04abc!"), "type {ty}: row {row:?}");
        read(&mut ps).await.expect("eof");
    }
    assert_eq!(
        command(&mut ps, &[0x0E]).await.expect("ping")[0],
        0x00,
        "still usable"
    );
    env.stop().await;
}

/// `FROM t a JOIN a JOIN a …` (1,000 JOINs, 7 KB) overflowed the stack inside sqlparser and
/// aborted the whole proxy process; now refused before parsing, as MariaDB does (1116).
#[tokio::test(flavor = "multi_thread")]
async fn long_join_chains_are_refused_not_fatal() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut proxy = env.proxy_process().await;
    let mut c = Conn::from_url(proxy.url(Some("commerce")))
        .await
        .expect("connect");
    c.query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY)")
        .await
        .expect("create");
    for ks in ["customer", "commerce"] {
        let sql = format!(
            "SELECT a.id, count(*) FROM {ks}.t a{}",
            " JOIN a".repeat(1000)
        );
        expect_error(c.query_drop(&sql).await, 1116, "1,000 JOINs");
    }
    // 61 tables are still MariaDB's to answer.
    let joins: String = (0..60).map(|i| format!(" JOIN t j{i}")).collect();
    let n: Option<i64> = c
        .query_first(format!("SELECT count(*) FROM t a{joins}"))
        .await
        .expect("61 tables");
    assert_eq!(n, Some(0));
    assert!(proxy.is_running(), "the proxy died: {}", proxy.log());
    let v: Option<i64> = c.query_first("SELECT 41 + 1").await.expect("query");
    assert_eq!(v, Some(42));
    drop(c);
    env.stop().await;
}

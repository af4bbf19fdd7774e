//! Packet sequence ids from the client: a packet numbered out of order (the handshake response,
//! a command, an auth-switch response, a continuation of a payload over 16 MiB) is answered
//! with MariaDB's own bytes — ER_NET_PACKETS_OUT_OF_ORDER (1156, 08S01, "Got packets out of
//! order") numbered as the expected packet — and the connection is closed. Each case sends
//! the same bytes to a real mariadbd and to the proxy and compares what comes back.

mod common;

use common::{EnvSpec, TestEnv};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One wire packet: 3-byte length, sequence id, payload.
fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = (payload.len() as u32).to_le_bytes()[..3].to_vec();
    p.push(seq);
    p.extend_from_slice(payload);
    p
}

/// HandshakeResponse41 for `root` with an empty password (mysql_native_password).
fn hello() -> Vec<u8> {
    // PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH | MULTI_STATEMENTS | MULTI_RESULTS
    let caps: u32 = 0x0200 | 0x8000 | 0x0008_0000 | 0x0001_0000 | 0x0002_0000;
    let mut p = caps.to_le_bytes().to_vec();
    p.extend_from_slice(&(16u32 << 20).to_le_bytes());
    p.push(45);
    p.extend_from_slice(&[0u8; 23]);
    p.extend_from_slice(b"root\0");
    p.push(0);
    p.extend_from_slice(b"mysql_native_password\0");
    p
}

/// Reads one packet (header and payload).
async fn read_packet(s: &mut TcpStream) -> Vec<u8> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h).await.expect("packet header");
    let len = u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize;
    let mut p = vec![0u8; len];
    s.read_exact(&mut p).await.expect("packet payload");
    let mut all = h.to_vec();
    all.extend_from_slice(&p);
    all
}

/// Everything the peer sends until it closes (a reset after the last bytes counts as a
/// close: MariaDB resets when unread input remains). Panics when it stays open for 10 s.
async fn read_until_closed(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return out,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => {
                panic!("the connection stayed open after an out-of-order packet; got {out:?}")
            }
        }
    }
}

/// Connects to `port`, reads the greeting, sends the handshake response numbered `hello_seq`
/// and, when that is the right number (1), reads the login's OK and sends `after`. Returns
/// what the server sent after the last bytes we sent, up to the close.
async fn exchange(port: u16, hello_seq: u8, after: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    read_packet(&mut s).await;
    s.write_all(&packet(hello_seq, &hello()))
        .await
        .expect("send hello");
    if hello_seq == 1 {
        let ok = read_packet(&mut s).await;
        assert_eq!(ok[4], 0x00, "login failed: {ok:?}");
        s.write_all(after).await.expect("send command");
    }
    read_until_closed(&mut s).await
}

/// The ERR packet MariaDB sends: numbered `seq`, 1156, #08S01, "Got packets out of order".
fn out_of_order_err(seq: u8) -> Vec<u8> {
    let mut payload = vec![0xFF];
    payload.extend_from_slice(&1156u16.to_le_bytes());
    payload.extend_from_slice(b"#08S01Got packets out of order");
    packet(seq, &payload)
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_order_packets_are_refused_as_mariadb_does() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mariadb = env.shard_port("commerce", "0");
    let proxy = env.port();

    // A continuation of a payload over 16 MiB numbered 2 instead of 1.
    let mut big = b"\x03SELECT '".to_vec();
    big.resize(0xFF_FFFF, b'a');
    let mut split = packet(0, &big);
    split.extend_from_slice(&packet(2, b"'"));

    let cases: Vec<(&str, u8, Vec<u8>, u8)> = vec![
        ("handshake response numbered 5", 5, vec![], 1),
        ("handshake response numbered 0", 0, vec![], 1),
        ("COM_QUERY numbered 1", 1, packet(1, b"\x03SELECT 1"), 0),
        ("COM_PING numbered 3", 1, packet(3, b"\x0e"), 0),
        ("continuation numbered 2", 1, split, 1),
    ];
    for (name, hello_seq, after, err_seq) in cases {
        let want = exchange(mariadb, hello_seq, &after).await;
        assert_eq!(
            want,
            out_of_order_err(err_seq),
            "{name}: mariadbd answered otherwise than this test assumes"
        );
        let got = exchange(proxy, hello_seq, &after).await;
        assert_eq!(got, want, "{name}: proxy and mariadbd differ");
    }

    // Numbered right, the same statements are answered and the connection stays usable.
    let mut c = env.client().await;
    let one: Option<i64> = mysql_async::prelude::Queryable::query_first(&mut c, "SELECT 1")
        .await
        .expect("select");
    assert_eq!(one, Some(1));
    drop(c);
    env.stop().await;
}

//! The character set a client names in its handshake (not only `SET NAMES`) is the one the
//! proxy writes values in and checks text against: a raw client logs in with
//! `gbk_chinese_ci` (collation 28) and sends GBK text.

use crate::world::World;
use shardgate::protocol::packet::PacketStream;
use tokio::net::TcpStream;

/// Logs in as `root` (empty password) to `customer` with collation `collation`.
async fn login(port: u16, collation: u8) -> PacketStream<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let mut ps = PacketStream::new(stream);
    ps.read().await.expect("read greeting").expect("greeting");
    // PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH | CONNECT_WITH_DB
    let caps: u32 = 0x0200 | 0x8000 | 0x0008_0000 | 0x0008;
    let mut p = Vec::new();
    p.extend_from_slice(&caps.to_le_bytes());
    p.extend_from_slice(&(16u32 << 20).to_le_bytes());
    p.push(collation);
    p.extend_from_slice(&[0u8; 23]);
    p.extend_from_slice(b"root\0");
    p.push(0);
    p.extend_from_slice(b"customer\0");
    p.extend_from_slice(b"mysql_native_password\0");
    ps.write(&p);
    ps.flush().await.expect("flush");
    let ok = ps.read().await.expect("read").expect("packet");
    assert_eq!(ok.first(), Some(&0), "login: {ok:?}");
    ps
}

/// Sends one COM_QUERY and returns the first packet of the answer.
async fn query(ps: &mut PacketStream<TcpStream>, sql: &[u8]) -> Vec<u8> {
    ps.seq = 0;
    let mut p = vec![0x03];
    p.extend_from_slice(sql);
    ps.write(&p);
    ps.flush().await.expect("flush");
    let first = ps.read().await.expect("read").expect("packet");
    // Drain a result set (column count, definitions, rows, EOF packets) until its end.
    if first.first() != Some(&0xFF) && first.first() != Some(&0x00) {
        let mut eofs = 0;
        while eofs < 2 {
            let pkt = ps.read().await.expect("read").expect("packet");
            if pkt.first() == Some(&0xFE) && pkt.len() < 9 {
                eofs += 1;
            }
        }
    }
    first
}

fn err_code(packet: &[u8]) -> Option<u16> {
    (packet.first() == Some(&0xFF)).then(|| u16::from_le_bytes([packet[1], packet[2]]))
}

#[tokio::test]
async fn handshake_charset_is_tracked() {
    let world = World::start().await;
    let port = world.env.port();
    let mut gbk = login(port, 28).await;
    // ASCII text is served; '中' in GBK (D6 D0) is refused, not hashed as if it were UTF-8.
    let ascii = query(&mut gbk, b"SELECT id FROM user WHERE name = 'n2'").await;
    assert_eq!(err_code(&ascii), None, "{ascii:?}");
    let text = [
        b"SELECT id FROM user WHERE name = '".as_slice(),
        &[0xd6, 0xd0],
        b"'",
    ]
    .concat();
    let refused = query(&mut gbk, &text).await;
    assert_eq!(err_code(&refused), Some(1235), "{refused:?}");
    // The same bytes from a utf8mb4 login are one (other) character and are served.
    let mut utf8 = login(port, 45).await;
    let served = query(
        &mut utf8,
        "SELECT id FROM user WHERE name = '中'".as_bytes(),
    )
    .await;
    assert_eq!(err_code(&served), None, "{served:?}");
    drop((gbk, utf8));
    world.stop().await;
}

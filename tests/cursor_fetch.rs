//! Server-side cursors: COM_STMT_EXECUTE with `CURSOR_TYPE_READ_ONLY` and COM_STMT_FETCH in
//! chunks, sent byte for byte to a real mariadbd and to the proxy (an unsharded keyspace and a
//! sharded one whose rows come from two shards), with and without CLIENT_DEPRECATE_EOF. Every
//! packet must match (sequence ids, rows, EOF status flags CURSOR_EXISTS / LAST_ROW_SENT,
//! errors 1421 and 1243) except the column definitions, whose schema field names the keyspace
//! through the proxy and the backend database on mariadbd.

mod common;

use common::{EnvSpec, TestEnv};
use mysql_async::prelude::Queryable;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Raw {
    s: TcpStream,
    deprecate_eof: bool,
}

/// One packet as received: sequence id and payload.
type Packet = (u8, Vec<u8>);

impl Raw {
    async fn login(port: u16, db: &str, deprecate_eof: bool) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let mut raw = Raw { s, deprecate_eof };
        raw.packet().await;
        // PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH | CONNECT_WITH_DB [| DEPRECATE_EOF]
        let mut caps: u32 = 0x0200 | 0x8000 | 0x0008_0000 | 0x0008;
        if deprecate_eof {
            caps |= 0x0100_0000;
        }
        let mut p = caps.to_le_bytes().to_vec();
        p.extend_from_slice(&(16u32 << 20).to_le_bytes());
        p.push(45);
        p.extend_from_slice(&[0u8; 23]);
        p.extend_from_slice(b"root\0\0");
        p.extend_from_slice(db.as_bytes());
        p.push(0);
        p.extend_from_slice(b"mysql_native_password\0");
        raw.send(1, &p).await;
        let ok = raw.packet().await;
        assert_eq!(ok.1.first(), Some(&0), "login: {ok:?}");
        raw
    }

    async fn send(&mut self, seq: u8, payload: &[u8]) {
        let mut p = (payload.len() as u32).to_le_bytes()[..3].to_vec();
        p.push(seq);
        p.extend_from_slice(payload);
        self.s.write_all(&p).await.expect("send");
    }

    async fn packet(&mut self) -> Packet {
        let mut h = [0u8; 4];
        self.s.read_exact(&mut h).await.expect("header");
        let mut p = vec![0u8; u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize];
        self.s.read_exact(&mut p).await.expect("payload");
        (h[3], p)
    }

    /// Reads packets up to and including an EOF (or OK with the 0xFE header).
    async fn until_eof(&mut self, out: &mut Vec<Packet>) {
        loop {
            let p = self.packet().await;
            let end = p.1.first() == Some(&0xFE) && p.1.len() < 9;
            out.push(p);
            if end {
                return;
            }
        }
    }

    /// Sends one command and reads its whole response.
    async fn command(&mut self, payload: &[u8]) -> Vec<Packet> {
        self.send(0, payload).await;
        let first = self.packet().await;
        let mut out = vec![first.clone()];
        if payload[0] == 0x1C {
            // COM_STMT_FETCH: rows (0x00 ...), then an EOF; or an error.
            let done = first.1.first() == Some(&0xFF)
                || (first.1.first() == Some(&0xFE) && first.1.len() < 9);
            if !done {
                self.until_eof(&mut out).await;
            }
            return out;
        }
        match first.1.first() {
            Some(0x00 | 0xFF) => return out,
            Some(0xFE) if first.1.len() < 9 => return out,
            _ => {}
        }
        // A result set: definitions, then (classic) an EOF that ends it when a cursor opened.
        let columns = usize::from(first.1[0]);
        for _ in 0..columns {
            let def = self.packet().await;
            out.push(def);
        }
        if !self.deprecate_eof {
            let eof = self.packet().await;
            let status = u16::from_le_bytes([eof.1[3], eof.1[4]]);
            out.push(eof);
            if status & 0x40 != 0 {
                return out;
            }
        }
        self.until_eof(&mut out).await;
        out
    }

    async fn prepare(&mut self, sql: &str) -> u32 {
        let mut p = vec![0x16];
        p.extend_from_slice(sql.as_bytes());
        self.send(0, &p).await;
        let ok = self.packet().await.1;
        assert_eq!(ok[0], 0, "prepare {sql}: {ok:?}");
        let id = u32::from_le_bytes([ok[1], ok[2], ok[3], ok[4]]);
        let columns = u16::from_le_bytes([ok[5], ok[6]]);
        let params = u16::from_le_bytes([ok[7], ok[8]]);
        for n in [params, columns] {
            if n > 0 {
                for _ in 0..n {
                    self.packet().await;
                }
                if !self.deprecate_eof {
                    self.packet().await;
                }
            }
        }
        id
    }
}

fn execute(id: u32, flags: u8) -> Vec<u8> {
    let mut p = vec![0x17];
    p.extend_from_slice(&id.to_le_bytes());
    p.push(flags);
    p.extend_from_slice(&1u32.to_le_bytes());
    p
}

fn fetch(id: u32, rows: u32) -> Vec<u8> {
    let mut p = vec![0x1C];
    p.extend_from_slice(&id.to_le_bytes());
    p.extend_from_slice(&rows.to_le_bytes());
    p
}

fn reset(id: u32) -> Vec<u8> {
    let mut p = vec![0x1A];
    p.extend_from_slice(&id.to_le_bytes());
    p
}

/// The conversation: every response, column definitions blanked (see the module header).
/// The statement reads through the primary key: on a table scan MariaDB also flags
/// SERVER_QUERY_NO_INDEX_USED, which the proxy (as for every relayed result) does not pass on.
async fn conversation(port: u16, db: &str, deprecate_eof: bool) -> Vec<Vec<Packet>> {
    let mut raw = Raw::login(port, db, deprecate_eof).await;
    let id = raw
        .prepare("SELECT id, name FROM t WHERE id > 0 ORDER BY id")
        .await;
    let steps = [
        execute(id, 1),
        fetch(id, 2),
        fetch(id, 2),
        fetch(id, 2),
        fetch(id, 2),
        execute(id, 1),
        fetch(id, 0),
        fetch(id, 5),
        fetch(id, 1),
        execute(id, 1),
        fetch(id, 1),
        execute(id, 1),
        fetch(id, 3),
        reset(id),
        fetch(id, 3),
        execute(id, 0),
        fetch(id, 1),
        fetch(99, 1),
    ];
    let mut out = Vec::new();
    for step in steps {
        let mut response = raw.command(&step).await;
        if step[0] == 0x17 && response[0].1.first().is_some_and(|&b| b != 0 && b < 0xFB) {
            let columns = usize::from(response[0].1[0]);
            for p in &mut response[1..=columns] {
                p.1.clear();
            }
        }
        // Statement ids are the server's to pick (MariaDB counts them server-wide).
        let mine = format!("({id})").into_bytes();
        for p in &mut response {
            if p.1.first() == Some(&0xFF) {
                if let Some(at) = p.1.windows(mine.len()).position(|w| w == mine.as_slice()) {
                    p.1.splice(at..at + mine.len(), b"(ID)".iter().copied());
                }
            }
        }
        out.push(response);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn cursors_fetch_as_mariadb_does() {
    let vschema = serde_json::json!({
        "sharded": true,
        "vindexes": { "hash": { "type": "hash" } },
        "tables": { "t": { "column_vindexes": [{ "column": "id", "name": "hash" }] } }
    });
    let env = TestEnv::start(EnvSpec::default().with_vschema("customer", vschema)).await;
    let mut c = env.client().await;
    for ks in ["commerce", "customer"] {
        c.query_drop(format!(
            "CREATE TABLE {ks}.t (id BIGINT PRIMARY KEY, name VARCHAR(10) NOT NULL)"
        ))
        .await
        .expect("create");
        c.query_drop(format!(
            "INSERT INTO {ks}.t (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e')"
        ))
        .await
        .expect("insert");
    }
    let mariadb = env.shard_port("commerce", "0");
    let backend_db = env.shard_database("commerce", "0");
    for deprecate_eof in [false, true] {
        let want = conversation(mariadb, &backend_db, deprecate_eof).await;
        // Sanity of the reference: the first fetch holds two rows and a CURSOR_EXISTS EOF.
        assert_eq!(want[1].len(), 3, "{want:?}");
        for ks in ["commerce", "customer"] {
            let got = conversation(env.port(), ks, deprecate_eof).await;
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g, w, "{ks}, deprecate_eof={deprecate_eof}, step {i}");
            }
            assert_eq!(got.len(), want.len());
        }
    }
    env.stop().await;
}

/// A cursor holds its rows at the proxy: beyond `limits.max_allowed_packet` bytes (all open
/// cursors of the session together) the execute is refused (1235) instead of buffered.
#[tokio::test(flavor = "multi_thread")]
async fn cursor_buffers_are_bounded() {
    let mut env = TestEnv::start(EnvSpec::default()).await;
    env.config.limits.max_allowed_packet = 2048;
    env.restart_proxy().await;
    let mut c = env.client().await;
    c.query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR(10) NOT NULL)")
        .await
        .expect("create");
    for chunk in (1..=200).collect::<Vec<i32>>().chunks(50) {
        let values: Vec<String> = chunk.iter().map(|i| format!("({i}, 'n{i}')")).collect();
        c.query_drop(format!(
            "INSERT INTO t (id, name) VALUES {}",
            values.join(", ")
        ))
        .await
        .expect("insert");
    }
    let mut raw = Raw::login(env.port(), "commerce", false).await;
    let small = raw
        .prepare("SELECT id, name FROM t WHERE id <= 50 ORDER BY id")
        .await;
    let all = raw.prepare("SELECT id, name FROM t ORDER BY id").await;
    // 200 rows (about 3.6 KB) do not fit.
    let refused = raw.command(&execute(all, 1)).await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(&refused[0].1[..3], &[0xFF, 0xD3, 0x04], "1235: {refused:?}");
    // 50 rows (about 900 bytes) do, twice not: the first cursor's rows still count.
    let opened = raw.command(&execute(small, 1)).await;
    assert_eq!(opened.len(), 4, "{opened:?}");
    let again = raw
        .prepare("SELECT id, name FROM t WHERE id <= 50 ORDER BY id")
        .await;
    let opened = raw.command(&execute(again, 1)).await;
    assert_eq!(opened.len(), 4, "{opened:?}");
    let third = raw
        .prepare("SELECT id, name FROM t WHERE id <= 50 ORDER BY id")
        .await;
    let refused = raw.command(&execute(third, 1)).await;
    assert_eq!(&refused[0].1[..3], &[0xFF, 0xD3, 0x04], "1235: {refused:?}");
    // Fetching frees the room again.
    let rows = raw.command(&fetch(small, 100)).await;
    assert_eq!(rows.len(), 51, "50 rows and the LAST_ROW_SENT EOF");
    let opened = raw.command(&execute(third, 1)).await;
    assert_eq!(opened.len(), 4, "{opened:?}");
    env.stop().await;
}

/// mysql-connector-python's own cursor calls (`cmd_stmt_execute` with the cursor flag,
/// `cmd_stmt_fetch`, `get_rows`) read the same rows and status flags from the proxy as from
/// mariadbd (the driver leaves autocommit off, so IN_TRANS rides along with the cursor flags).
#[tokio::test(flavor = "multi_thread")]
async fn mysql_connector_python_fetches_through_a_cursor() {
    let env = TestEnv::start(EnvSpec::default()).await;
    let mut c = env.client().await;
    c.query_drop("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(10) NOT NULL)")
        .await
        .expect("create");
    c.query_drop("INSERT INTO t (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        .await
        .expect("insert");
    let script = r#"
import sys, mysql.connector
port, db = int(sys.argv[1]), sys.argv[2]
cnx = mysql.connector.connect(host="127.0.0.1", port=port, user="root", password="",
                              database=db, use_pure=True)
stmt = cnx.cmd_stmt_prepare(b"SELECT id, name FROM t WHERE id > 0 ORDER BY id")
sid = stmt["statement_id"]
cnx.cmd_stmt_execute(sid, (), (), 1)
out = []
for _ in range(5):
    cnx.cmd_stmt_fetch(sid, 2)
    rows, eof = cnx.get_rows(binary=True, columns=stmt["columns"])
    out.append((rows, eof.get("status_flag")))
    if eof.get("status_flag", 0) & 0x80:
        break
print(out)
"#;
    let run = |port: u16, db: String| {
        let script = script.to_string();
        async move {
            let out = tokio::process::Command::new("python3")
                .args(["-c", &script, &port.to_string(), &db])
                .output()
                .await
                .expect("python3");
            assert!(
                out.status.success(),
                "python failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        }
    };
    let want = run(
        env.shard_port("commerce", "0"),
        env.shard_database("commerce", "0"),
    )
    .await;
    assert_eq!(want, "[([(1, 'a'), (2, 'b')], 65), ([(3, 'c')], 129)]");
    let got = run(env.port(), "commerce".into()).await;
    assert_eq!(got, want);
    env.stop().await;
}

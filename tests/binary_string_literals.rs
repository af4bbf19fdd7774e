//! Raw bytes between quotes on a sharded keyspace, as text-protocol drivers write binary
//! parameters (found by the client matrix, tests/client_matrix: mysqlclient,
//! mysql-connector-python text, Connector/J's default client-side prepares, PHP mysqli and
//! PDO's emulated prepares all failed with 1235 "not valid utf8mb4 text"): `_binary'…'` and
//! bare `'…'` literals with escaped but not encoded bytes are stored, matched and updated byte
//! for byte, as on one MariaDB.

mod common;

use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use serde_json::json;

/// `bytes` escaped as mysqlclient's `mysql_real_escape_string` does (the bytes stay raw).
fn escaped(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in bytes {
        match b {
            0 => out.extend_from_slice(b"\\0"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\'' => out.extend_from_slice(b"\\'"),
            b'"' => out.extend_from_slice(b"\\\""),
            0x1a => out.extend_from_slice(b"\\Z"),
            _ => out.push(b),
        }
    }
    out
}

fn sql(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[tokio::test(flavor = "multi_thread")]
async fn raw_bytes_in_string_literals_on_a_sharded_keyspace() {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"bin": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    let spec = EnvSpec::default().with_keyspace(KeyspaceSpec::sharded(
        "customer",
        &["-80", "80-"],
        customer,
    ));
    let env = TestEnv::start(spec).await;
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("customer", shard).await;
        d.query_drop("CREATE TABLE bin (id BIGINT PRIMARY KEY, data BLOB)")
            .await
            .expect("DDL");
    }
    let all: Vec<u8> = (0..=255u8).collect();
    let high: Vec<u8> = (0x80..=0xffu8).rev().collect();
    let mut c = env.client_as("root", "", Some("customer")).await;
    // mysqlclient / mysql-connector-python style, and PHP's real_escape_string style.
    let insert = sql(&[
        b"INSERT INTO bin (id, data) VALUES (1, _binary'",
        &escaped(&all),
        b"'), (2, '",
        &escaped(&high),
        b"')",
    ]);
    c.query_drop(insert.as_slice())
        .await
        .expect("INSERT with raw bytes in string literals");
    let found: Vec<u64> = c
        .query(
            sql(&[
                b"SELECT id FROM bin WHERE data = _binary'",
                &escaped(&all),
                b"'",
            ])
            .as_slice(),
        )
        .await
        .expect("SELECT matching raw bytes");
    assert_eq!(found, vec![1]);
    c.query_drop(sql(&[b"UPDATE bin SET data = '\xfe\xff\\0' WHERE id = 2"]).as_slice())
        .await
        .expect("UPDATE with raw bytes");
    // Stored byte for byte, on the shard each id hashes to.
    let mut stored = Vec::new();
    for shard in ["-80", "80-"] {
        let mut d = env.shard_conn("customer", shard).await;
        let rows: Vec<(u64, Vec<u8>)> = d.query("SELECT id, data FROM bin").await.expect("read");
        stored.extend(rows);
    }
    stored.sort();
    assert_eq!(stored, vec![(1, all.clone()), (2, vec![0xfe, 0xff, 0])]);
    // Invalid bytes outside a string literal are still refused, not guessed at.
    let err = c
        .query_drop(b"SELECT id FROM bin WHERE id = 1 AND \xff = 1".as_slice())
        .await
        .expect_err("invalid bytes in an identifier");
    assert!(
        matches!(&err, mysql_async::Error::Server(e) if e.code == 1235),
        "{err}"
    );
    env.stop().await;
}

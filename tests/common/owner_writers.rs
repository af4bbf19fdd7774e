//! Client writers for lookup backfill tests: random inserts of new `user (id, email)` rows,
//! email updates and deletes, through the proxy, until told to stop. Connections are bounded
//! in time: one made just as a proxy is killed can be left half-open (seen once: the client
//! ESTABLISHED, no socket on the proxy's side, no greeting ever), and a writer waiting on it
//! forever would hang the test.

use mysql_async::prelude::*;
use mysql_async::Conn;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A connection, or `None` within 5 s.
pub async fn connect(url: &str) -> Option<Conn> {
    tokio::time::timeout(Duration::from_secs(5), Conn::from_url(url))
        .await
        .ok()?
        .ok()
}

/// One writer on `url` over owner ids `1..=rows` (and new ids above them), seeded by `seed`,
/// until `stop`; counts its successful statements in `ok`. Server errors (duplicates, lock
/// waits) are expected and skipped; a lost connection is made again.
pub async fn owner_writer(
    url: String,
    rows: u64,
    seed: u64,
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
) {
    let mut n = seed;
    let mut conn: Option<Conn> = None;
    while !stop.load(Ordering::Relaxed) {
        if conn.is_none() {
            conn = connect(&url).await;
            if conn.is_none() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        }
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let id = (n >> 33) % (rows + rows / 40) + 1;
        let sql = match (n >> 20) % 3 {
            0 => format!(
                "INSERT INTO user (id, email) VALUES ({}, 'new{seed}-{}@x')",
                rows + 10_000 + (n >> 40) % 100_000,
                n % 1_000_000
            ),
            1 => format!(
                "UPDATE user SET email = 'upd{id}-{}@x' WHERE id = {id}",
                n % 1000
            ),
            _ => format!("DELETE FROM user WHERE id = {id}"),
        };
        let Some(c) = conn.as_mut() else { continue };
        match tokio::time::timeout(Duration::from_secs(30), c.query_drop(sql)).await {
            Ok(Ok(())) => {
                ok.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Err(mysql_async::Error::Server(_))) => {}
            Ok(Err(_)) | Err(_) => conn = None,
        }
    }
}

//! Noticing that a client closed its socket while one of its statements runs, so the
//! statement is stopped on the shards instead of running on for nobody (MariaDB notices the
//! same and kills the query).
//!
//! While a statement runs, the session's task does not read the client socket (the statement
//! owns it to write its result). [`closed`] watches a duplicate of the socket's descriptor
//! instead: the kernel reports the peer's FIN or RST on it (EPOLLRDHUP / EPOLLHUP) without
//! anything being read from the socket, so bytes a client pipelined stay for the session.
//! The duplicate is made only once a statement has run for [`AFTER`]: short statements cost
//! nothing.

use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// How long a statement runs before its client's socket is watched.
pub const AFTER: Duration = Duration::from_millis(20);

/// Resolves when the peer of the socket `fd` has closed it (or the socket failed); never when
/// it cannot be watched.
///
/// `fd` must stay open until the returned future is dropped (the caller holds the socket's
/// owner borrowed for that long).
pub async fn closed(fd: RawFd) {
    tokio::time::sleep(AFTER).await;
    // SAFETY: the caller keeps the socket that owns `fd` open (borrowed by the statement this
    // future runs beside) for as long as this future lives; the descriptor is only duplicated.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let Ok(dup) = borrowed.try_clone_to_owned() else {
        return std::future::pending().await;
    };
    // SAFETY: `dup` is an open descriptor owned by the `AsyncFd` until it drops, and an
    // `OwnedFd` always returns that same descriptor.
    let registered = unsafe { AsyncFd::register_with_interest(dup, Interest::READABLE) };
    let Ok(watched) = registered else {
        return std::future::pending().await;
    };
    loop {
        let Ok(mut ready) = watched.readable().await else {
            return std::future::pending().await;
        };
        let r = ready.ready();
        if r.is_read_closed() || r.is_error() {
            return;
        }
        // Data the client pipelined: not a close; wait for the next event.
        ready.clear_ready();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn sees_a_close_but_not_pipelined_bytes() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let fd = server.as_raw_fd();
        client.write_all(b"next command").await.unwrap();
        let watch = closed(fd);
        tokio::pin!(watch);
        let early = tokio::time::timeout(Duration::from_millis(150), &mut watch).await;
        assert!(early.is_err(), "pipelined bytes are not a close");
        drop(client);
        tokio::time::timeout(Duration::from_secs(2), &mut watch)
            .await
            .expect("the close is seen");
        // The socket itself is untouched: the pipelined bytes are still there to read.
        let mut buf = [0u8; 12];
        server.readable().await.unwrap();
        assert_eq!(server.try_read(&mut buf).unwrap(), 12);
        assert_eq!(&buf, b"next command");
    }
}

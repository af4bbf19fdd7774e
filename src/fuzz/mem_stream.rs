//! An in-memory byte stream for driving the async packet and handshake code synchronously.
//!
//! [`MemStream`] serves a fixed input to [`tokio::io::AsyncRead`] and swallows writes (keeping
//! only a bounded count), so every read completes at once; [`run_ready`] polls a future once
//! with a no-op waker, which is enough for such a stream: nothing ever waits.

use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Reads come from `input`, then EOF; writes are counted and dropped.
#[derive(Debug)]
pub struct MemStream<'a> {
    input: &'a [u8],
    pos: usize,
    /// Bytes written so far (the proxy's answers).
    pub written: usize,
}

impl<'a> MemStream<'a> {
    /// A stream that reads `input`.
    pub fn new(input: &'a [u8]) -> Self {
        MemStream {
            input,
            pos: 0,
            written: 0,
        }
    }
}

impl AsyncRead for MemStream<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let rest = &self.input[self.pos..];
        let n = rest.len().min(buf.remaining());
        buf.put_slice(&rest[..n]);
        self.pos += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for MemStream<'_> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.written = self.written.saturating_add(buf.len());
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Polls `fut` once; `None` if it is not ready (a future over [`MemStream`] always is, so
/// `None` means it waited on something else).
pub fn run_ready<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

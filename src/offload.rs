//! CPU-heavy work of one statement off the shared runtime: planning of large statements
//! (see below) and merging of large scatter results ([`MERGE_ROWS`]).
//!
//! On a host with at most two CPUs the proxy runs one current-thread runtime (see
//! [`crate::runtime`]): while one task computes, no other session is served. Planning is
//! linear in a statement's size, but a statement near the limits (a 150,000-value IN list,
//! megabytes of text) still takes a second or more of CPU to parameterize, bind and route.
//! Such statements (at least [`OFFLOAD_BYTES`] long) are planned on tokio's blocking
//! threads instead, at most one per CPU at a time (a semaphore), so a flood of them queues
//! instead of starting hundreds of threads; the session's task waits without holding the
//! runtime, and every other session goes on.

use crate::error::ProxyError;
use std::sync::LazyLock;
use tokio::sync::Semaphore;

/// Statements at least this long are planned off the runtime. Below it, planning takes
/// well under a millisecond and a thread handoff would cost more than it saves.
pub const OFFLOAD_BYTES: usize = 64 * 1024;

/// Scatter results of at least this many rows in total are merged (sorted, aggregated) off
/// the runtime.
pub const MERGE_ROWS: usize = 20_000;

/// Blocking-pool jobs running at once (one per CPU).
static SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get())));

/// Runs `work` here when `len` is below [`OFFLOAD_BYTES`], else on a blocking thread
/// (waiting for a free slot first).
pub async fn run<T: Send + 'static>(
    len: usize,
    work: impl FnOnce() -> Result<T, ProxyError> + Send + 'static,
) -> Result<T, ProxyError> {
    run_if(len >= OFFLOAD_BYTES, work).await
}

/// Runs `work` on a blocking thread when `offload` (waiting for a free slot first), else
/// here.
pub async fn run_if<T: Send + 'static>(
    offload: bool,
    work: impl FnOnce() -> Result<T, ProxyError> + Send + 'static,
) -> Result<T, ProxyError> {
    if !offload {
        return work();
    }
    let _slot = SLOTS
        .acquire()
        .await
        .map_err(|_| ProxyError::Internal("planning pool closed".into()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ProxyError::Internal(format!("offloaded work failed: {e}")))?
}

tokio::task_local! {
    /// The bytes of the COM_QUERY being run (see [`with_statement`]).
    static STATEMENT: bytes::Bytes;
}

/// Runs `fut` (one COM_QUERY) with `bytes` as its statement buffer, so the offloaded work of
/// its statements can share the buffer instead of copying their text ([`shared_text`]).
pub fn with_statement<F: std::future::Future>(
    bytes: bytes::Bytes,
    fut: F,
) -> impl std::future::Future<Output = F::Output> {
    STATEMENT.scope(bytes, fut)
}

/// Statement text handed to offloaded work: a view of the COM_QUERY's own buffer when the
/// text lies inside it (no copy of a statement that may be hundreds of MiB), else a copy.
#[derive(Debug, Clone)]
pub struct SharedText(SharedInner);

#[derive(Debug, Clone)]
enum SharedInner {
    Shared(bytes::Bytes),
    Owned(String),
}

impl SharedText {
    /// The text.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // (Checked to be UTF-8 when made.)
            SharedInner::Shared(b) => std::str::from_utf8(b).unwrap_or_default(),
            SharedInner::Owned(s) => s,
        }
    }
}

/// `text` as [`SharedText`] (see there).
pub fn shared_text(text: &str) -> SharedText {
    let within = STATEMENT
        .try_with(|buf| {
            let start = buf.as_ptr() as usize;
            let at = text.as_ptr() as usize;
            (at >= start && at + text.len() <= start + buf.len())
                .then(|| buf.slice_ref(text.as_bytes()))
        })
        .ok()
        .flatten()
        .filter(|b| std::str::from_utf8(b).is_ok());
    SharedText(match within {
        Some(b) => SharedInner::Shared(b),
        None => SharedInner::Owned(text.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn statement_text_is_shared_not_copied() {
        let buf = bytes::Bytes::from(b"SELECT 1; SELECT 'two'".to_vec());
        let inner = buf.clone();
        with_statement(buf.clone(), async move {
            let text = std::str::from_utf8(&inner).unwrap();
            let second = shared_text(&text[10..]);
            assert_eq!(second.as_str(), "SELECT 'two'");
            match &second.0 {
                SharedInner::Shared(b) => assert_eq!(b.as_ptr(), inner[10..].as_ptr()),
                SharedInner::Owned(_) => panic!("copied"),
            }
            let other = shared_text("SELECT 3");
            assert!(matches!(other.0, SharedInner::Owned(_)));
            assert_eq!(other.as_str(), "SELECT 3");
        })
        .await;
        assert!(matches!(shared_text("outside").0, SharedInner::Owned(_)));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn big_work_runs_off_the_runtime_thread() {
        let here = std::thread::current().id();
        let small = run(10, move || Ok(std::thread::current().id()))
            .await
            .unwrap();
        assert_eq!(small, here);
        let big = run(OFFLOAD_BYTES, move || Ok(std::thread::current().id()))
            .await
            .unwrap();
        assert_ne!(big, here);
        let err = run(OFFLOAD_BYTES, || Err::<(), _>(ProxyError::NoDatabase)).await;
        assert!(matches!(err, Err(ProxyError::NoDatabase)));
    }
}

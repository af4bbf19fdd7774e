//! The bound on what one statement's scatter results may hold in the proxy
//! (`limits.max_merge_bytes`).
//!
//! A statement the proxy merges (ORDER BY, GROUP BY, aggregates over several shards) holds
//! every shard's rows before it answers. A sharded statement runs inside a [`scope`], and
//! every row a backend connection keeps for it is charged (its payload plus the decoded
//! values' own size). Past the limit the reader stops keeping rows, reads the rest of the
//! shard's answer without holding it (the connection stays usable, and an open transaction
//! open), and the statement fails with 1104 (ER_TOO_BIG_SELECT) naming the limit.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

tokio::task_local! {
    static BUDGET: Budget;
}

#[derive(Debug)]
struct Budget {
    limit: usize,
    held: AtomicUsize,
}

/// Runs `fut` with a budget of `limit` bytes for the rows it holds (0 = unbounded).
pub fn scope<F: Future>(limit: usize, fut: F) -> impl Future<Output = F::Output> {
    BUDGET.scope(
        Budget {
            limit: if limit == 0 { usize::MAX } else { limit },
            held: AtomicUsize::new(0),
        },
        fut,
    )
}

/// What one held row of `values` values and `payload` wire bytes costs: the payload, a
/// `Value` (with its allocation) per value, and the row's vector.
pub fn row_cost(values: usize, payload: usize) -> usize {
    24 + values * 48 + payload
}

/// Charges `bytes` to the current statement; Err(limit) when that goes past its limit.
pub fn charge(bytes: usize) -> Result<(), usize> {
    BUDGET
        .try_with(|b| {
            let held = b.held.fetch_add(bytes, Ordering::Relaxed) + bytes;
            if held > b.limit {
                Err(b.limit)
            } else {
                Ok(())
            }
        })
        .unwrap_or(Ok(()))
}

/// The error of a statement whose shard rows went past `limit` bytes.
pub fn exceeded(limit: usize) -> super::wire::WireError {
    super::wire::WireError::Server {
        code: 1104,
        state: "42000".into(),
        message: format!(
            "The rows this statement's shards returned exceed limits.max_merge_bytes ({limit} bytes) that the proxy may hold to merge them; add a LIMIT or a narrower WHERE, or target one shard"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn charges_within_a_scope_only() {
        assert!(charge(usize::MAX / 2).is_ok(), "no scope: unbounded");
        scope(1000, async {
            assert!(charge(600).is_ok());
            assert_eq!(charge(600), Err(1000));
        })
        .await;
        scope(0, async { assert!(charge(usize::MAX / 2).is_ok()) }).await;
    }
}

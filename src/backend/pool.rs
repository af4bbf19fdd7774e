//! A bounded pool of [`WireConn`]s for one shard: the connection multiplexing of client
//! sessions onto few backend connections.
//!
//! - At most `max` connections serve statements outside transactions at any moment (a
//!   semaphore of `max` permits); a client statement waits up to the checkout timeout for one.
//! - A connection a session keeps (open transaction, pinned session state) gives its permit
//!   back: reserved connections do not count against `max`, so long transactions cannot starve
//!   autocommit traffic (Vitess's reserved connections). They return to the pool when the
//!   session lets them go.
//! - Idle connections are reused last-in-first-out (warm caches, prepared statements) and
//!   closed after `idle_ttl` unused, by the next checkout or by [`WirePool::maintain`], which the
//!   backends run on a timer so a pool nobody uses shrinks too; at most `max` stay idle.
//! - `min` connections are opened in advance ([`WirePool::maintain`] at start and after they
//!   were lost, e.g. to a server restart) and kept however long they sit idle.
//! - Checkout and return are a mutex-guarded `Vec` push/pop: no task handoff per statement.

use super::wire::{ShardUrl, WireConn, WireError};
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Pool settings.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Connections serving statements at once (outside transactions).
    pub max: usize,
    /// Idle connections older than this are closed (down to `min`).
    pub idle_ttl: Duration,
    /// Idle connections kept however old they are.
    pub min: usize,
    /// `backend.read_timeout_ms` of every connection (see [`WireConn::set_read_timeout`]).
    pub read_timeout: Option<Duration>,
    /// TLS to the server (`backend.tls`) when connecting over TCP.
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

#[derive(Debug)]
struct Inner {
    opts: ShardUrl,
    settings: PoolSettings,
    /// Boxed: a connection is about 240 bytes, and every statement's future holds one or two
    /// [`PooledConn`]s, so keeping it behind a pointer keeps those futures (moved at each
    /// `.await`) small.
    idle: Mutex<Vec<(Box<WireConn>, Instant)>>,
    permits: Arc<Semaphore>,
    /// Open connections that are not reserved (idle ones plus those serving a statement):
    /// at most `max`. Counting connections rather than free permits matters: a returned permit
    /// goes straight to a waiting statement, so "no free permit" does not mean "no room".
    unreserved: AtomicUsize,
    /// Connections sessions keep (transactions, pinned state): outside `max`.
    reserved: AtomicUsize,
    /// Checkouts that found no free permit and waited.
    waits: std::sync::atomic::AtomicU64,
}

/// A pool's counts at one moment, for `SHOW POOLS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections not reserved by a session (idle plus serving a statement).
    pub open: usize,
    /// Of those, idle in the pool.
    pub idle: usize,
    /// Connections sessions keep for a transaction or pinned state.
    pub reserved: usize,
    /// `backend.pool_max`.
    pub max: usize,
    /// `backend.pool_min`.
    pub min: usize,
    /// `backend.idle_timeout_ms`.
    pub idle_timeout: Duration,
    /// Checkouts that waited for a free connection, since start.
    pub waits: u64,
}

/// One shard's pool (cheap to clone).
#[derive(Debug, Clone)]
pub struct WirePool {
    inner: Arc<Inner>,
}

/// Why no connection could be had.
#[derive(Debug)]
pub enum CheckoutError {
    /// Every permit stayed taken for the whole timeout.
    Timeout,
    /// Opening a new connection failed.
    Connect(WireError),
}

/// A connection out of the pool; dropping it returns it (or closes it when broken).
#[derive(Debug)]
pub struct PooledConn {
    conn: ManuallyDrop<Box<WireConn>>,
    permit: Option<OwnedSemaphorePermit>,
    pool: Arc<Inner>,
}

impl WirePool {
    /// A pool that opens connections on demand.
    pub fn new(opts: ShardUrl, settings: PoolSettings) -> WirePool {
        let permits = Arc::new(Semaphore::new(settings.max.max(1)));
        WirePool {
            inner: Arc::new(Inner {
                opts,
                settings,
                idle: Mutex::new(Vec::new()),
                permits,
                unreserved: AtomicUsize::new(0),
                reserved: AtomicUsize::new(0),
                waits: Default::default(),
            }),
        }
    }

    /// Takes a connection: an idle one if any (LIFO), else a new one.
    pub async fn get(&self, timeout: Duration) -> Result<PooledConn, CheckoutError> {
        // The slow paths (waiting, connecting) are boxed so this future stays small: it is
        // built inside every statement's future.
        let permit = match self.inner.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                self.inner.waits.fetch_add(1, Ordering::Relaxed);
                Box::pin(self.wait_for_permit(timeout)).await?
            }
        };
        let conn = match self.take_idle() {
            Some(c) => c,
            None => Box::pin(self.connect(timeout)).await?,
        };
        Ok(PooledConn {
            conn: ManuallyDrop::new(conn),
            permit: Some(permit),
            pool: self.inner.clone(),
        })
    }

    /// Opens a connection of the pool's server that the pool does not count or keep (the
    /// health checks' own connection). It logs in without a default database: it only asks
    /// whether the server answers, and stays out of every view of the shard database's
    /// sessions (the processlist filtered by database, as operators and tests count a
    /// proxy's connections).
    pub async fn connect_unpooled(&self, timeout: Duration) -> Result<WireConn, String> {
        let opts = ShardUrl {
            database: String::new(),
            ..self.inner.opts.clone()
        };
        match tokio::time::timeout(
            timeout,
            WireConn::connect(&opts, self.inner.settings.tls.as_ref()),
        )
        .await
        {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no connection within {} ms", timeout.as_millis())),
        }
    }

    /// Opens a connection within `timeout`. It is counted before connecting, so a reserved
    /// connection coming back meanwhile sees it and the pool never exceeds its limit.
    async fn connect(&self, timeout: Duration) -> Result<Box<WireConn>, CheckoutError> {
        self.inner.unreserved.fetch_add(1, Ordering::Relaxed);
        let connected = tokio::time::timeout(
            timeout,
            WireConn::connect(&self.inner.opts, self.inner.settings.tls.as_ref()),
        )
        .await;
        let result = match connected {
            Ok(Ok(mut conn)) => {
                conn.set_read_timeout(self.inner.settings.read_timeout);
                return Ok(Box::new(conn));
            }
            Ok(Err(e)) => CheckoutError::Connect(e),
            Err(_) => CheckoutError::Timeout,
        };
        self.inner.unreserved.fetch_sub(1, Ordering::Relaxed);
        Err(result)
    }

    async fn wait_for_permit(
        &self,
        timeout: Duration,
    ) -> Result<OwnedSemaphorePermit, CheckoutError> {
        tokio::time::timeout(timeout, self.inner.permits.clone().acquire_owned())
            .await
            .map_err(|_| CheckoutError::Timeout)?
            .map_err(|_| CheckoutError::Timeout)
    }

    fn take_idle(&self) -> Option<Box<WireConn>> {
        let mut idle = self.inner.idle.lock().unwrap_or_else(|p| p.into_inner());
        self.drop_expired(&mut idle, Instant::now());
        idle.pop().map(|(c, _)| c)
    }

    /// Closes the idle connections unused for longer than `idle_ttl`, keeping `min` idle ones;
    /// returns how many it closed (closing is just the socket drop).
    fn drop_expired(&self, idle: &mut Vec<(Box<WireConn>, Instant)>, now: Instant) -> usize {
        // Oldest are at the front.
        let ttl = self.inner.settings.idle_ttl;
        let expired = idle
            .iter()
            .take_while(|(_, since)| now.duration_since(*since) > ttl)
            .count()
            .min(idle.len().saturating_sub(self.inner.settings.min));
        if expired > 0 {
            idle.drain(..expired);
            self.inner.unreserved.fetch_sub(expired, Ordering::Relaxed);
        }
        expired
    }

    /// Background upkeep, run on a timer by the backends: closes expired idle connections,
    /// then opens connections (each within `timeout`) until `min` are open, counting those
    /// serving statements. It takes a free permit for each one it opens and stops when there is
    /// none, so it never competes with statements. Returns (closed, opened); an error is the
    /// first failed connect, after the connections it opened are in the pool.
    pub async fn maintain(&self, timeout: Duration) -> Result<(usize, usize), CheckoutError> {
        let closed = {
            let mut idle = self.inner.idle.lock().unwrap_or_else(|p| p.into_inner());
            self.drop_expired(&mut idle, Instant::now())
        };
        let mut opened = 0;
        while self.inner.unreserved.load(Ordering::Relaxed) < self.inner.settings.min {
            let Ok(permit) = self.inner.permits.clone().try_acquire_owned() else {
                break;
            };
            let conn = self.connect(timeout).await?;
            let mut idle = self.inner.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.push((conn, Instant::now()));
            drop(idle);
            drop(permit);
            opened += 1;
        }
        Ok((closed, opened))
    }

    /// The pool's counts now (each read on its own: a statement checking out meanwhile may
    /// make them disagree by one).
    pub fn stats(&self) -> PoolStats {
        let idle = self
            .inner
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len();
        PoolStats {
            open: self.inner.unreserved.load(Ordering::Relaxed).max(idle),
            idle,
            reserved: self.inner.reserved.load(Ordering::Relaxed),
            max: self.inner.settings.max,
            min: self.inner.settings.min,
            idle_timeout: self.inner.settings.idle_ttl,
            waits: self.inner.waits.load(Ordering::Relaxed),
        }
    }

    /// Closes every idle connection.
    pub fn clear(&self) {
        let mut idle = self.inner.idle.lock().unwrap_or_else(|p| p.into_inner());
        self.inner
            .unreserved
            .fetch_sub(idle.len(), Ordering::Relaxed);
        idle.clear();
    }
}

impl PooledConn {
    /// The connection stops counting against the pool's limit (its session keeps it for a
    /// transaction or pinned state).
    pub fn reserve(&mut self) {
        if self.permit.take().is_some() {
            self.pool.unreserved.fetch_sub(1, Ordering::Relaxed);
            self.pool.reserved.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Closes the connection instead of returning it.
    pub fn discard(&mut self) {
        self.conn.mark_broken();
    }
}

impl std::ops::Deref for PooledConn {
    type Target = WireConn;
    fn deref(&self) -> &WireConn {
        &self.conn
    }
}

impl std::ops::DerefMut for PooledConn {
    fn deref_mut(&mut self) -> &mut WireConn {
        &mut self.conn
    }
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        // SAFETY: `conn` is taken exactly once, here, and never touched afterwards.
        let conn = unsafe { ManuallyDrop::take(&mut self.conn) };
        // It leaves the statement it served: a timeout must not kill what it runs next.
        super::deadline::forget(conn.uid());
        // The permit is held until the connection is back in `idle`: releasing it wakes a
        // waiting statement, which must find this connection there.
        let permit = self.permit.take();
        let had_permit = permit.is_some();
        let unreserved = &self.pool.unreserved;
        if !had_permit {
            // A reserved connection comes back (to rejoin the pool or to close).
            self.pool.reserved.fetch_sub(1, Ordering::Relaxed);
        }
        if conn.is_broken() {
            if had_permit {
                unreserved.fetch_sub(1, Ordering::Relaxed);
            }
            return;
        }
        if !had_permit {
            // A reserved connection comes back: it rejoins the pool only if there is room.
            let max = self.pool.settings.max.max(1);
            let joined = unreserved
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    (n < max).then_some(n + 1)
                })
                .is_ok();
            if !joined {
                return;
            }
        }
        let mut idle = self.pool.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.push((conn, Instant::now()));
        drop(idle);
        drop(permit);
    }
}

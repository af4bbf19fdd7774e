//! The registry of live client sessions: what `SHOW PROCESSLIST` lists and what `KILL` reaches.
//!
//! Every logged-in connection registers a [`LiveSession`] under its proxy connection id (the id
//! of the handshake and of `CONNECTION_ID()`), and leaves when its [`SessionHandle`] drops. The
//! session's task keeps its entry up to date: the command it runs (`Query`, `Execute`, `Sleep`),
//! since when, the statement text, its user and keyspace. A statement that runs on shards
//! registers an [`Interrupt`] for its duration (see `statement_timeout::run_watched`); another
//! session's `KILL QUERY` trips it, and the statement's task then sends `KILL QUERY` to every
//! backend thread the statement runs on. `KILL CONNECTION` also wakes the session's command
//! loop, which closes the connection.
//!
//! Locking: the registry's map is locked only to register, leave, look up and list; each
//! session's activity has its own lock, taken twice per command by its own task.

use crate::session::Target;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::Notify;

/// At most this many bytes of a statement are kept for `SHOW FULL PROCESSLIST` (a statement
/// may be up to `max_allowed_packet` long; the registry must not hold a second copy of it).
pub const MAX_INFO_BYTES: usize = 64 * 1024;

/// Characters of `Info` that `SHOW PROCESSLIST` (without `FULL`) shows, as MariaDB.
pub const SHORT_INFO_CHARS: usize = 100;

/// Why a running statement must stop, in increasing strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum StopReason {
    /// Nothing asked it to stop.
    None = 0,
    /// `KILL QUERY`: the statement fails with 1317, the session goes on.
    Query = 1,
    /// `KILL [CONNECTION]`: the statement stops and the connection closes.
    Connection = 2,
}

impl StopReason {
    fn from_u8(v: u8) -> StopReason {
        match v {
            1 => StopReason::Query,
            2 => StopReason::Connection,
            _ => StopReason::None,
        }
    }
}

/// One running statement's stop request, tripped by another session's `KILL`.
#[derive(Debug, Default)]
pub struct Interrupt {
    reason: AtomicU8,
    notify: Notify,
}

impl Interrupt {
    /// Asks the statement to stop (the stronger of two requests wins).
    pub fn request(&self, reason: StopReason) {
        self.reason.fetch_max(reason as u8, Ordering::Relaxed);
        // notify_one keeps a permit: a request made before the statement waits is not lost.
        self.notify.notify_one();
    }

    /// The strongest stop requested so far.
    pub fn reason(&self) -> StopReason {
        StopReason::from_u8(self.reason.load(Ordering::Relaxed))
    }

    /// Waits until a stop is requested.
    pub async fn requested(&self) {
        self.notify.notified().await;
    }
}

/// What a session is doing, as `SHOW PROCESSLIST` shows it.
#[derive(Debug)]
struct Activity {
    user: String,
    db: Option<String>,
    command: &'static str,
    since: Instant,
    info: Option<String>,
    interrupt: Option<Arc<Interrupt>>,
}

/// One logged-in client session.
#[derive(Debug)]
pub struct LiveSession {
    /// The proxy connection id.
    pub id: u32,
    /// The client's host, as the session's `peer`.
    pub host: String,
    activity: Mutex<Activity>,
    killed: AtomicBool,
    closing: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `keyspace` or `keyspace:shard`, as `DATABASE()` shows a target.
fn target_name(target: Option<&Target>) -> Option<String> {
    target.map(|t| match &t.shard {
        Some(s) => format!("{}:{}", t.keyspace, s),
        None => t.keyspace.clone(),
    })
}

fn same_target(stored: Option<&str>, target: Option<&Target>) -> bool {
    match (stored, target) {
        (None, None) => true,
        (Some(s), Some(t)) => match &t.shard {
            None => s == t.keyspace,
            Some(shard) => s
                .strip_prefix(t.keyspace.as_str())
                .and_then(|r| r.strip_prefix(':'))
                .is_some_and(|r| r == shard),
        },
        _ => false,
    }
}

/// The first `max` bytes of `text`, cut at a character boundary.
fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

impl LiveSession {
    /// The session's user now.
    pub fn user(&self) -> String {
        lock(&self.activity).user.clone()
    }

    /// A statement starts (`command`: `Query` or `Execute`): shown with its text from now on.
    pub fn begin_statement(&self, command: &'static str, text: &str) {
        let info = bounded(text, MAX_INFO_BYTES);
        let mut a = lock(&self.activity);
        a.command = command;
        a.since = Instant::now();
        a.info = Some(info);
    }

    /// The session waits for its next command; `user` and `target` are its current ones.
    pub fn idle(&self, user: &str, target: Option<&Target>) {
        let mut a = lock(&self.activity);
        if a.command != "Sleep" || a.info.is_some() {
            a.command = "Sleep";
            a.since = Instant::now();
            a.info = None;
        }
        if a.user != user {
            a.user = user.to_string();
        }
        if !same_target(a.db.as_deref(), target) {
            a.db = target_name(target);
        }
    }

    /// Registers the running statement's interrupt (until [`Self::leave_statement`]).
    pub fn enter_statement(&self) -> Arc<Interrupt> {
        let interrupt = Arc::new(Interrupt::default());
        if self.connection_killed() {
            interrupt.request(StopReason::Connection);
        }
        lock(&self.activity).interrupt = Some(interrupt.clone());
        interrupt
    }

    /// The statement registered by [`Self::enter_statement`] ended.
    pub fn leave_statement(&self) {
        lock(&self.activity).interrupt = None;
    }

    /// `KILL QUERY`: stops the running statement, if it runs on shards (an idle session, or
    /// one answering from the proxy, is not affected, as an idle MariaDB thread is not).
    pub fn kill_query(&self) {
        if let Some(i) = &lock(&self.activity).interrupt {
            i.request(StopReason::Query);
        }
    }

    /// `KILL CONNECTION`: stops the running statement and closes the session.
    pub fn kill_connection(&self) {
        self.killed.store(true, Ordering::Relaxed);
        self.closing.notify_one();
        if let Some(i) = &lock(&self.activity).interrupt {
            i.request(StopReason::Connection);
        }
    }

    /// Whether the session was killed (its command loop closes it).
    pub fn connection_killed(&self) -> bool {
        self.killed.load(Ordering::Relaxed)
    }

    /// Waits until the session is killed.
    pub async fn closing(&self) {
        self.closing.notified().await;
    }

    /// The session's row of `SHOW PROCESSLIST` now.
    pub fn row(&self, now: Instant) -> ProcessRow {
        let a = lock(&self.activity);
        ProcessRow {
            id: self.id,
            user: a.user.clone(),
            host: self.host.clone(),
            db: a.db.clone(),
            command: if self.connection_killed() {
                "Killed"
            } else {
                a.command
            },
            time: now.saturating_duration_since(a.since).as_secs(),
            state: match a.command {
                "Sleep" => "",
                _ => "executing",
            },
            info: a.info.clone(),
        }
    }
}

/// One row of `SHOW PROCESSLIST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessRow {
    /// Proxy connection id.
    pub id: u32,
    /// User.
    pub user: String,
    /// Client host.
    pub host: String,
    /// Current keyspace (`keyspace[:shard]`), if any.
    pub db: Option<String>,
    /// `Query`, `Execute`, `Sleep`, `Killed`.
    pub command: &'static str,
    /// Seconds in that command.
    pub time: u64,
    /// `executing` while a statement runs, else empty.
    pub state: &'static str,
    /// The statement (at most [`MAX_INFO_BYTES`]), None when idle.
    pub info: Option<String>,
}

/// All live sessions by proxy connection id.
#[derive(Debug, Default)]
pub struct SessionRegistry {
    sessions: Mutex<HashMap<u32, Arc<LiveSession>>>,
}

impl SessionRegistry {
    /// Registers a session that just logged in; it leaves when the handle drops.
    pub fn register(
        self: &Arc<Self>,
        id: u32,
        user: &str,
        host: &str,
        target: Option<&Target>,
    ) -> SessionHandle {
        let live = Arc::new(LiveSession {
            id,
            host: host.to_string(),
            activity: Mutex::new(Activity {
                user: user.to_string(),
                db: target_name(target),
                command: "Sleep",
                since: Instant::now(),
                info: None,
                interrupt: None,
            }),
            killed: AtomicBool::new(false),
            closing: Notify::new(),
        });
        lock(&self.sessions).insert(id, live.clone());
        SessionHandle {
            live,
            registry: self.clone(),
        }
    }

    /// The live session with proxy connection id `id`.
    pub fn get(&self, id: u32) -> Option<Arc<LiveSession>> {
        lock(&self.sessions).get(&id).cloned()
    }

    /// Every session's row, by id; only `user`'s own when `only_user` is given.
    pub fn rows(&self, only_user: Option<&str>) -> Vec<ProcessRow> {
        let live: Vec<Arc<LiveSession>> = lock(&self.sessions).values().cloned().collect();
        let now = Instant::now();
        let mut rows: Vec<ProcessRow> = live
            .iter()
            .map(|s| s.row(now))
            .filter(|r| only_user.is_none_or(|u| r.user == u))
            .collect();
        rows.sort_by_key(|r| r.id);
        rows
    }

    /// How many sessions are registered.
    pub fn len(&self) -> usize {
        lock(&self.sessions).len()
    }

    /// Whether no session is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A session's registration; dropping it removes the session from the registry.
#[derive(Debug)]
pub struct SessionHandle {
    live: Arc<LiveSession>,
    registry: Arc<SessionRegistry>,
}

impl std::ops::Deref for SessionHandle {
    type Target = LiveSession;
    fn deref(&self) -> &LiveSession {
        &self.live
    }
}

impl SessionHandle {
    /// The shared entry (for a statement future that must not borrow the connection).
    pub fn shared(&self) -> Arc<LiveSession> {
        self.live.clone()
    }
}

impl Drop for SessionHandle {
    fn drop(&mut self) {
        let mut map = lock(&self.registry.sessions);
        if map
            .get(&self.live.id)
            .is_some_and(|s| Arc::ptr_eq(s, &self.live))
        {
            map.remove(&self.live.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(ks: &str, shard: Option<&str>) -> Target {
        Target {
            keyspace: ks.into(),
            shard: shard.map(Into::into),
        }
    }

    #[test]
    fn registers_lists_and_leaves() {
        let reg = Arc::new(SessionRegistry::default());
        let a = reg.register(7, "app", "127.0.0.1", Some(&target("commerce", None)));
        let b = reg.register(3, "root", "localhost", None);
        a.begin_statement("Query", "SELECT SLEEP(5)");
        let rows = reg.rows(None);
        assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), [3, 7]);
        assert_eq!(rows[1].command, "Query");
        assert_eq!(rows[1].state, "executing");
        assert_eq!(rows[1].db.as_deref(), Some("commerce"));
        assert_eq!(rows[1].info.as_deref(), Some("SELECT SLEEP(5)"));
        assert_eq!(rows[0].command, "Sleep");
        assert_eq!(rows[0].info, None);
        assert_eq!(reg.rows(Some("root")).len(), 1);
        b.idle("root", Some(&target("customer", Some("-80"))));
        assert_eq!(
            reg.rows(Some("root"))[0].db.as_deref(),
            Some("customer:-80")
        );
        drop(a);
        assert!(reg.get(7).is_none());
        assert_eq!(reg.len(), 1);
    }

    #[test]
    fn kills_reach_only_a_running_statement() {
        let reg = Arc::new(SessionRegistry::default());
        let s = reg.register(1, "app", "h", None);
        s.kill_query();
        let i = s.enter_statement();
        assert_eq!(
            i.reason(),
            StopReason::None,
            "an idle KILL QUERY is forgotten"
        );
        s.kill_query();
        assert_eq!(i.reason(), StopReason::Query);
        s.kill_connection();
        assert_eq!(i.reason(), StopReason::Connection);
        s.kill_query();
        assert_eq!(
            i.reason(),
            StopReason::Connection,
            "the stronger request stays"
        );
        s.leave_statement();
        assert!(s.connection_killed());
        assert_eq!(
            s.enter_statement().reason(),
            StopReason::Connection,
            "a killed session's next statement stops at once"
        );
    }

    #[test]
    fn info_is_bounded_at_a_character_boundary() {
        let long = "é".repeat(MAX_INFO_BYTES);
        let cut = bounded(&long, MAX_INFO_BYTES + 1);
        assert_eq!(cut.len(), MAX_INFO_BYTES);
        assert!(same_target(Some("a:-80"), Some(&target("a", Some("-80")))));
        assert!(!same_target(Some("a"), Some(&target("a", Some("-80")))));
    }
}

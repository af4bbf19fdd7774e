//! The create task: during the workload, CreateLookupVindex adds `nick_user_vdx` (a unique
//! lookup on the so-far unindexed `user.nick`), waits until every stream is in sync (through
//! kills: the connection is remade), then ExternalizeVindex makes it route.
//!
//! Without the item-3 switch the clients are paused (the gate) while the create statement
//! runs, so no transaction straddles the VSchema swap; without the item-5 switch the killer
//! waits while it runs. With item 5 the proxy is SIGKILLed 0–40 ms after the create is sent,
//! and the create is sent again (running it twice is safe) once the proxy is back.
//!
//! With several proxies (`fleet`) every statement goes through one of them
//! ([`Fleet::create_proxy`]); the others keep serving clients and may be killed meanwhile
//! (the proxy it goes through is not, while the statement runs, unless item 5 kills it). Its
//! `SHOW VINDEX WORKFLOWS` polls feed [`Fleet::note_runners`] with each stream's runner.

use crate::config::Settings;
use crate::fleet::Fleet;
use crate::killer::kill_and_restart;
use crate::layout::CREATE_STATEMENT;
use crate::CONNECT_TIMEOUT;
use mysql_async::prelude::*;
use mysql_async::{Conn, Row};
use rand::rngs::StdRng;
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// What the create task did.
#[derive(Debug, Default)]
pub(crate) struct CreateOutcome {
    /// Seconds into the workload when the create statement succeeded.
    pub(crate) created_at: Option<f64>,
    /// Seconds into the workload when every stream was Stopped after copy.
    pub(crate) in_sync_at: Option<f64>,
    /// Whether ExternalizeVindex succeeded.
    pub(crate) externalized: bool,
    /// A create or externalize the proxy refused, or a stream in Error: the message.
    pub(crate) refused: Option<String>,
    /// Kills it made itself (item 5).
    pub(crate) kills: usize,
    /// How many times the create statement was sent.
    pub(crate) attempts: usize,
    /// The last `SHOW VINDEX WORKFLOWS` rows: `source_shard state message`.
    pub(crate) workflows: Vec<String>,
}

async fn connect(url: &str, give_up: Instant) -> Option<Conn> {
    while Instant::now() < give_up {
        if let Ok(Ok(c)) = tokio::time::timeout(CONNECT_TIMEOUT, Conn::from_url(url)).await {
            return Some(c);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

fn secs(start: Instant) -> Option<f64> {
    Some(start.elapsed().as_secs_f64())
}

/// Runs the create at `start + at`, then waits for sync and externalizes, all before
/// `give_up`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn create_vindex(
    fleet: Arc<Fleet>,
    via: usize,
    settings: Settings,
    start: Instant,
    at: Duration,
    gate: Arc<RwLock<()>>,
    give_up: Instant,
    mut rng: StdRng,
) -> CreateOutcome {
    let mut out = CreateOutcome::default();
    let proxy = fleet.proxy(via).clone();
    let url = fleet.url(via).to_string();
    tokio::time::sleep_until((start + at).into()).await;
    let pause = if settings.hole(3) {
        None
    } else {
        Some(gate.write().await)
    };
    while out.attempts < 10 {
        let Some(mut c) = connect(&url, give_up).await else {
            break;
        };
        out.attempts += 1;
        let r = if settings.hole(5) && out.kills == 0 {
            let task = tokio::spawn(async move {
                let r = c.query_drop(CREATE_STATEMENT).await;
                drop(c);
                r
            });
            tokio::time::sleep(Duration::from_millis(rng.gen_range(0..40))).await;
            let down = Duration::from_millis(rng.gen_range(0..300));
            kill_and_restart(&mut *proxy.lock().await, down).await;
            out.kills += 1;
            eprintln!(
                "lookup_chaos: create-time kill at {:.1} s",
                start.elapsed().as_secs_f64()
            );
            task.await.expect("create task")
        } else {
            let held = proxy.lock().await;
            let r = c.query_drop(CREATE_STATEMENT).await;
            drop(held);
            r
        };
        match r {
            Ok(()) => {
                out.created_at = secs(start);
                break;
            }
            Err(mysql_async::Error::Server(e)) => {
                out.refused = Some(format!("CreateLookupVindex: {e}"));
                break;
            }
            Err(_) => continue,
        }
    }
    drop(pause);
    eprintln!(
        "lookup_chaos: CreateLookupVindex after {} attempt(s): created at {:?} s, {:?}",
        out.attempts, out.created_at, out.refused
    );
    if out.created_at.is_none() {
        return out;
    }
    let mut conn: Option<Conn> = None;
    while Instant::now() < give_up && out.in_sync_at.is_none() {
        if conn.is_none() {
            conn = connect(&url, give_up).await;
        }
        let Some(c) = conn.as_mut() else { break };
        match c.query::<Row, _>("SHOW VINDEX WORKFLOWS").await {
            Ok(rows) => {
                out.workflows = rows
                    .iter()
                    .map(|r| {
                        let col = |n: &str| r.get::<String, _>(n).unwrap_or_default();
                        format!(
                            "{} {} {}",
                            col("source_shard"),
                            col("state"),
                            col("message")
                        )
                    })
                    .collect();
                let seen: Vec<(String, String, String)> = rows
                    .iter()
                    .map(|r| {
                        let col = |n: &str| r.get::<String, _>(n).unwrap_or_default();
                        (col("source_shard"), col("state"), col("runner"))
                    })
                    .collect();
                fleet.note_runners(start.elapsed().as_secs_f64(), &seen);
                if rows
                    .iter()
                    .any(|r| r.get::<String, _>("state").as_deref() == Some("Error"))
                {
                    out.refused = Some(format!("a stream in Error: {:?}", out.workflows));
                    return out;
                }
                if !rows.is_empty()
                    && rows
                        .iter()
                        .all(|r| r.get::<String, _>("state").as_deref() == Some("Stopped"))
                {
                    out.in_sync_at = secs(start);
                    break;
                }
            }
            Err(_) => conn = None,
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    eprintln!(
        "lookup_chaos: in sync at {:?} s: {:?}",
        out.in_sync_at, out.workflows
    );
    while out.in_sync_at.is_some() && Instant::now() < give_up {
        if conn.is_none() {
            conn = connect(&url, give_up).await;
        }
        let Some(c) = conn.as_mut() else { break };
        let held = proxy.lock().await;
        let r = c
            .query_drop("ExternalizeVindex customer.nick_user_vdx")
            .await;
        drop(held);
        match r {
            Ok(()) => {
                out.externalized = true;
                eprintln!(
                    "lookup_chaos: externalized at {:.1} s",
                    start.elapsed().as_secs_f64()
                );
                break;
            }
            Err(mysql_async::Error::Server(e)) => {
                out.refused = Some(format!("ExternalizeVindex: {e}"));
                break;
            }
            Err(_) => conn = None,
        }
    }
    out
}

//! The workload: random units of work on a small id and phone space (so inserts collide on
//! the primary key and on the unique phone lookup), each a statement in autocommit mode or a
//! transaction of up to three statements that commits or rolls back.

use mysql_async::prelude::*;
use mysql_async::Conn;
use rand::rngs::StdRng;
use rand::Rng;

/// Ids `1..=ID_SPACE`: small, so inserts collide on the primary key.
const ID_SPACE: i64 = 300;
/// Phones `PHONE_BASE + 1..=PHONE_SPACE`: small, so the unique lookup collides.
const PHONE_BASE: i64 = 5_550_000;
const PHONE_SPACE: i64 = 200;
const NAMES: [&str; 6] = ["alice", "bob", "carol", "dave", "eve", "frank"];

/// One statement on `user`.
#[derive(Debug, Clone)]
pub(crate) enum Stmt {
    /// `INSERT [IGNORE]` of `(id, name, phone)` rows.
    Insert {
        rows: Vec<(i64, &'static str, Option<i64>)>,
        ignore: bool,
    },
    /// `UPDATE` of one user's phone.
    SetPhone(i64, Option<i64>),
    /// `UPDATE` of one user's name.
    SetName(i64, &'static str),
    /// `UPDATE` of one user's name and phone.
    SetBoth(i64, &'static str, Option<i64>),
    /// `DELETE` by id.
    DeleteById(i64),
    /// `DELETE` by phone (routed through the unique lookup).
    DeleteByPhone(i64),
    /// `SELECT` by phone.
    SelectByPhone(i64),
    /// `SELECT` by name.
    SelectByName(&'static str),
}

fn sql_phone(p: Option<i64>) -> String {
    p.map_or_else(|| "NULL".to_string(), |p| p.to_string())
}

impl Stmt {
    fn sql(&self) -> String {
        match self {
            Stmt::Insert { rows, ignore } => {
                let values: Vec<String> = rows
                    .iter()
                    .map(|(id, name, phone)| format!("({id}, '{name}', {})", sql_phone(*phone)))
                    .collect();
                format!(
                    "INSERT {}INTO user (id, name, phone) VALUES {}",
                    if *ignore { "IGNORE " } else { "" },
                    values.join(", ")
                )
            }
            Stmt::SetPhone(id, p) => {
                format!("UPDATE user SET phone = {} WHERE id = {id}", sql_phone(*p))
            }
            Stmt::SetName(id, n) => format!("UPDATE user SET name = '{n}' WHERE id = {id}"),
            Stmt::SetBoth(id, n, p) => format!(
                "UPDATE user SET name = '{n}', phone = {} WHERE id = {id}",
                sql_phone(*p)
            ),
            Stmt::DeleteById(id) => format!("DELETE FROM user WHERE id = {id}"),
            Stmt::DeleteByPhone(p) => format!("DELETE FROM user WHERE phone = {p}"),
            Stmt::SelectByPhone(p) => format!("SELECT id, name FROM user WHERE phone = {p}"),
            Stmt::SelectByName(n) => format!("SELECT id, phone FROM user WHERE name = '{n}'"),
        }
    }
}

/// One unit of work: a statement in autocommit mode, or an explicit transaction.
#[derive(Debug, Clone)]
pub(crate) enum Work {
    /// One statement, autocommit.
    Auto(Stmt),
    /// `BEGIN`, the statements, then `COMMIT` (`commit`) or `ROLLBACK`.
    Txn { stmts: Vec<Stmt>, commit: bool },
}

impl Work {
    /// Whether it changes rows when it succeeds.
    pub(crate) fn writes(&self) -> bool {
        let dml = |s: &Stmt| !matches!(s, Stmt::SelectByPhone(_) | Stmt::SelectByName(_));
        match self {
            Work::Auto(s) => dml(s),
            Work::Txn { stmts, commit } => *commit && stmts.iter().any(dml),
        }
    }
}

fn random_phone(rng: &mut StdRng) -> Option<i64> {
    if rng.gen_bool(0.15) {
        None
    } else {
        Some(PHONE_BASE + rng.gen_range(1..=PHONE_SPACE))
    }
}

fn random_name(rng: &mut StdRng) -> &'static str {
    NAMES[rng.gen_range(0..NAMES.len())]
}

/// An id of `1..=ID_SPACE` not in `taken`, which it joins.
fn fresh_id(rng: &mut StdRng, taken: &mut Vec<i64>) -> i64 {
    loop {
        let id = rng.gen_range(1..=ID_SPACE);
        if !taken.contains(&id) {
            taken.push(id);
            return id;
        }
    }
}

/// A random statement on ids not in `taken` (a transaction touches each id once, so it never
/// waits on its own pre/post locks for one row; see `lookup-vindexes.md` §2.5 (ii)). Deletes by
/// phone, which may hit any id, run only in autocommit mode.
fn random_stmt(rng: &mut StdRng, taken: &mut Vec<i64>, in_txn: bool) -> Stmt {
    let id = fresh_id(rng, taken);
    match rng.gen_range(0..100) {
        0..=34 => {
            let mut rows = vec![(id, random_name(rng), random_phone(rng))];
            if rng.gen_bool(0.15) {
                rows.push((fresh_id(rng, taken), random_name(rng), random_phone(rng)));
            }
            Stmt::Insert {
                rows,
                ignore: rng.gen_bool(0.15),
            }
        }
        35..=49 => Stmt::SetPhone(id, random_phone(rng)),
        50..=59 => Stmt::SetName(id, random_name(rng)),
        60..=64 => Stmt::SetBoth(id, random_name(rng), random_phone(rng)),
        65..=79 => Stmt::DeleteById(id),
        80..=84 if !in_txn => Stmt::DeleteByPhone(PHONE_BASE + rng.gen_range(1..=PHONE_SPACE)),
        80..=92 => Stmt::SelectByPhone(PHONE_BASE + rng.gen_range(1..=PHONE_SPACE)),
        _ => Stmt::SelectByName(random_name(rng)),
    }
}

/// A random unit of work: three in four a single statement, else a transaction.
pub(crate) fn random_work(rng: &mut StdRng) -> Work {
    let mut taken = Vec::new();
    if rng.gen_bool(0.75) {
        return Work::Auto(random_stmt(rng, &mut taken, false));
    }
    let n = rng.gen_range(1..=3);
    let stmts = (0..n).map(|_| random_stmt(rng, &mut taken, true)).collect();
    Work::Txn {
        stmts,
        commit: rng.gen_bool(0.85),
    }
}

/// Runs a unit of work; a failed statement rolls its transaction back.
pub(crate) async fn run_work(c: &mut Conn, work: &Work) -> Result<(), mysql_async::Error> {
    match work {
        Work::Auto(stmt) => c.query_drop(stmt.sql()).await,
        Work::Txn { stmts, commit } => {
            c.query_drop("BEGIN").await?;
            for stmt in stmts {
                if let Err(e) = c.query_drop(stmt.sql()).await {
                    let _ = c.query_drop("ROLLBACK").await;
                    return Err(e);
                }
            }
            c.query_drop(if *commit { "COMMIT" } else { "ROLLBACK" })
                .await
        }
    }
}

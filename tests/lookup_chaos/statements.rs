//! Random statements on the three tables: multi-row INSERT (plain, IGNORE, ON DUPLICATE KEY
//! UPDATE), UPDATE and DELETE with random WHERE (vindex columns, IN lists, ranges, non-vindex
//! columns, ORDER BY ... LIMIT on one shard), and reads. User UPDATE/DELETE never reach the
//! stable users (see `values`). Constructs behind a hole switch appear only when it is on.

use crate::values::{self as v, Mode, CUSTOMERS, ID_SPACE, ORDER_SPACE, XID_SPACE};
use rand::rngs::StdRng;
use rand::Rng;

/// What a client may generate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gen {
    /// Literals and tricky strings.
    pub(crate) mode: Mode,
    /// Item 1: shared sku / (region, slot) pools.
    pub(crate) shared_order_values: bool,
    /// Item 4: shared nick pool.
    pub(crate) shared_nicks: bool,
    /// Item 6: unowned phones that map to another keyspace id.
    pub(crate) wrong_unowned: bool,
    /// Item 7: one vindex column assigned twice.
    pub(crate) double_assign: bool,
    /// Item 8: RAND() and LIMIT without ORDER BY.
    pub(crate) nondeterministic: bool,
    /// Found here: WHERE on both columns of the multi-column unique `rs_order_vdx`.
    pub(crate) multi_column_route: bool,
}

/// One statement and what it is.
#[derive(Debug, Clone)]
pub(crate) struct Stmt {
    /// The SQL text.
    pub(crate) sql: String,
    /// `table.verb`, for the figures.
    pub(crate) kind: &'static str,
    /// Whether it changes rows.
    pub(crate) writes: bool,
}

fn stmt(sql: String, kind: &'static str, writes: bool) -> Stmt {
    Stmt { sql, kind, writes }
}

fn opt_int(n: Option<i64>) -> String {
    n.map_or_else(|| "NULL".into(), |n| n.to_string())
}

/// A random statement on a random table.
pub(crate) fn random_stmt(rng: &mut StdRng, g: &Gen) -> Stmt {
    match rng.gen_range(0..100) {
        0..=49 => user_stmt(rng, g),
        50..=79 => orders_stmt(rng, g),
        _ => extra_stmt(rng, g),
    }
}

fn insert_tail(rng: &mut StdRng, odku: &str) -> (&'static str, String) {
    match rng.gen_range(0..10) {
        0..=1 => ("INSERT IGNORE", String::new()),
        2..=3 => ("INSERT", format!(" ON DUPLICATE KEY UPDATE {odku}")),
        _ => ("INSERT", String::new()),
    }
}

/// `(WHERE clause, the id it pins if it pins one)` over volatile users only.
fn user_where(rng: &mut StdRng, g: &Gen) -> (String, Option<i64>) {
    let m = &g.mode;
    let id = v::user_id(rng);
    let w = match rng.gen_range(0..100) {
        0..=29 => return (format!("id = {id}"), Some(id)),
        30..=37 => format!("id IN ({id}, {})", v::user_id(rng)),
        38..=49 => format!("phone = {}", v::some_phone(rng)),
        50..=54 => format!("phone IN ({}, {})", v::some_phone(rng), v::some_phone(rng)),
        55..=62 => match m.email(rng) {
            Some(e) => format!("email = {}", m.lit(&e)),
            None => "email IS NULL AND id <= 40".into(),
        },
        63..=69 => m.name_pred(rng),
        70..=74 => return (format!("{} AND id = {id}", m.name_pred(rng)), Some(id)),
        75..=84 => format!("id BETWEEN {id} AND {}", id + rng.gen_range(0..6)),
        85..=91 => format!("score < {} AND id <= {ID_SPACE}", rng.gen_range(0..8)),
        _ => format!(
            "score BETWEEN {} AND {} AND {}",
            rng.gen_range(0..50),
            rng.gen_range(50..100),
            m.name_pred(rng)
        ),
    };
    (w, None)
}

/// A LIMIT suffix: `ORDER BY pk LIMIT n` (refused on more than one shard), or with item 8
/// a bare `LIMIT n`, or `RAND()` in the WHERE.
fn limit_suffix(rng: &mut StdRng, g: &Gen, pk: &str, where_: &mut String) {
    match rng.gen_range(0..100) {
        0..=7 => where_.push_str(&format!(" ORDER BY {pk} LIMIT {}", rng.gen_range(1..3))),
        8..=15 if g.nondeterministic => where_.push_str(&format!(" LIMIT {}", rng.gen_range(1..3))),
        16..=23 if g.nondeterministic => {
            *where_ = format!("({where_}) AND RAND() < 0.5");
        }
        _ => {}
    }
}

fn user_stmt(rng: &mut StdRng, g: &Gen) -> Stmt {
    let m = &g.mode;
    match rng.gen_range(0..100) {
        0..=34 => {
            let n = rng.gen_range(1..=4);
            let mut rows = Vec::new();
            for _ in 0..n {
                let id = v::user_id(rng);
                rows.push(format!(
                    "({id}, {}, {}, {}, {}, {})",
                    m.lit(&m.name(rng)),
                    opt_int(v::phone(rng)),
                    m.opt(&m.email(rng)),
                    m.opt(&v::nick(rng, id, g.shared_nicks)),
                    rng.gen_range(0..100)
                ));
            }
            let odku = ["score = score + 1", "score = VALUES(score)"][rng.gen_range(0..2)];
            let (verb, tail) = insert_tail(rng, odku);
            stmt(
                format!(
                    "{verb} INTO user (id, name, phone, email, nick, score) VALUES {}{tail}",
                    rows.join(", ")
                ),
                "user.insert",
                true,
            )
        }
        35..=64 => {
            let (mut w, pinned) = user_where(rng, g);
            let mut sets = Vec::new();
            let n = rng.gen_range(1..=3);
            for _ in 0..n {
                let set = match rng.gen_range(0..6) {
                    0 => format!("name = {}", m.lit(&m.name(rng))),
                    1 => format!("phone = {}", opt_int(v::phone(rng))),
                    2 => format!("email = {}", m.opt(&m.email(rng))),
                    3 => match pinned {
                        Some(id) => format!("nick = {}", m.opt(&v::nick(rng, id, g.shared_nicks))),
                        None if g.shared_nicks => {
                            format!("nick = {}", m.opt(&v::nick(rng, 0, true)))
                        }
                        None => "nick = NULL".into(),
                    },
                    4 => "score = score + 1".into(),
                    _ => format!("score = {}", rng.gen_range(0..100)),
                };
                let col = set.split(' ').next().unwrap_or("").to_string();
                if !sets
                    .iter()
                    .any(|s: &String| s.starts_with(&format!("{col} ")))
                {
                    sets.push(set);
                }
            }
            if g.double_assign && rng.gen_bool(0.15) {
                sets.push(format!("phone = {}", v::some_phone(rng)));
                sets.push(format!("phone = {}", v::some_phone(rng)));
            }
            limit_suffix(rng, g, "id", &mut w);
            stmt(
                format!("UPDATE user SET {} WHERE {w}", sets.join(", ")),
                "user.update",
                true,
            )
        }
        65..=84 => {
            let (mut w, _) = user_where(rng, g);
            limit_suffix(rng, g, "id", &mut w);
            stmt(format!("DELETE FROM user WHERE {w}"), "user.delete", true)
        }
        _ => {
            let (w, _) = user_where(rng, g);
            stmt(
                format!("SELECT id, name, phone FROM user WHERE {w}"),
                "user.select",
                false,
            )
        }
    }
}

/// `(WHERE clause, the order it pins if it pins one)`.
fn orders_where(rng: &mut StdRng, g: &Gen) -> (String, Option<i64>) {
    let m = &g.mode;
    let oid = rng.gen_range(1..=ORDER_SPACE);
    let cust = rng.gen_range(1..=CUSTOMERS);
    let w = match rng.gen_range(0..100) {
        0..=24 => return (format!("order_id = {oid}"), Some(oid)),
        25..=44 => format!("customer_id = {cust}"),
        45..=54 => match v::sku(rng, oid, g.shared_order_values) {
            Some(s) => format!("sku = {}", m.lit(&s)),
            None => format!("sku IS NULL AND customer_id = {cust}"),
        },
        55..=64 if g.multi_column_route => {
            let (r, s) = v::region_slot(rng, oid, g.shared_order_values);
            format!("region = {r} AND slot = {s}")
        }
        55..=64 => {
            let (r, s) = v::region_slot(rng, oid, g.shared_order_values);
            format!("region = {r} AND slot + 0 = {s}")
        }
        65..=74 => format!("order_id BETWEEN {oid} AND {}", oid + rng.gen_range(0..8)),
        75..=84 => format!("qty < {} AND order_id > 0", rng.gen_range(0..6)),
        85..=91 => format!("region = {} AND customer_id = {cust}", rng.gen_range(1..=3)),
        _ => format!("customer_id IN ({cust}, {})", rng.gen_range(1..=CUSTOMERS)),
    };
    (w, None)
}

fn orders_stmt(rng: &mut StdRng, g: &Gen) -> Stmt {
    let m = &g.mode;
    let shared = g.shared_order_values;
    match rng.gen_range(0..100) {
        0..=34 => {
            let n = rng.gen_range(1..=4);
            let mut rows = Vec::new();
            for _ in 0..n {
                let oid = rng.gen_range(1..=ORDER_SPACE);
                let (r, s) = v::region_slot(rng, oid, shared);
                rows.push(format!(
                    "({oid}, {}, {}, {r}, {s}, {})",
                    rng.gen_range(1..=CUSTOMERS),
                    m.opt(&v::sku(rng, oid, shared)),
                    rng.gen_range(0..10)
                ));
            }
            let (verb, tail) = insert_tail(rng, "qty = qty + 1");
            stmt(
                format!(
                    "{verb} INTO orders (order_id, customer_id, sku, region, slot, qty) VALUES {}{tail}",
                    rows.join(", ")
                ),
                "orders.insert",
                true,
            )
        }
        35..=64 => {
            let (mut w, pinned) = orders_where(rng, g);
            let mut sets = Vec::new();
            match rng.gen_range(0..5) {
                0 => sets.push(format!(
                    "sku = {}",
                    m.opt(&match pinned {
                        Some(oid) => v::sku(rng, oid, shared),
                        None if shared => v::sku(rng, 0, true),
                        None => None,
                    })
                )),
                1 => sets.push(format!("region = {}", rng.gen_range(1..=3))),
                2 => {
                    let (r, s) = v::region_slot(rng, pinned.unwrap_or(0), shared);
                    if pinned.is_some() || shared {
                        sets.push(format!("slot = {s}"));
                        if rng.gen_bool(0.5) {
                            sets.push(format!("region = {r}"));
                        }
                    } else {
                        sets.push(format!("region = {r}"));
                    }
                }
                _ => sets.push(format!("qty = {}", rng.gen_range(0..10))),
            }
            if rng.gen_bool(0.3) {
                sets.push("qty = qty + 1".into());
            }
            if g.double_assign && rng.gen_bool(0.15) {
                sets.push(format!(
                    "sku = {}",
                    m.lit(&format!("SKU-{}", rng.gen_range(0..40)))
                ));
                sets.push(format!(
                    "sku = {}",
                    m.lit(&format!("SKU-{}", rng.gen_range(0..40)))
                ));
            }
            limit_suffix(rng, g, "order_id", &mut w);
            stmt(
                format!("UPDATE orders SET {} WHERE {w}", sets.join(", ")),
                "orders.update",
                true,
            )
        }
        65..=84 => {
            let (mut w, _) = orders_where(rng, g);
            limit_suffix(rng, g, "order_id", &mut w);
            stmt(
                format!("DELETE FROM orders WHERE {w}"),
                "orders.delete",
                true,
            )
        }
        _ => {
            let (w, _) = orders_where(rng, g);
            stmt(
                format!("SELECT order_id, sku FROM orders WHERE {w}"),
                "orders.select",
                false,
            )
        }
    }
}

/// A stable user's `(user_id, phone)`: the phone's owner, or with item 6 (sometimes) a phone
/// that maps to another keyspace id.
fn extra_owner(rng: &mut StdRng, g: &Gen) -> (i64, Option<i64>) {
    let i = rng.gen_range(1..=v::STABLE_USERS);
    let user_id = v::STABLE_ID + i;
    if rng.gen_bool(0.1) {
        return (user_id, None);
    }
    if g.wrong_unowned && rng.gen_bool(0.25) {
        let j = (i % v::STABLE_USERS) + 1;
        return (user_id, Some(v::STABLE_PHONE + j));
    }
    (user_id, Some(v::STABLE_PHONE + i))
}

fn extra_stmt(rng: &mut StdRng, g: &Gen) -> Stmt {
    let m = &g.mode;
    let xid = rng.gen_range(1..=XID_SPACE);
    let (user_id, phone) = extra_owner(rng, g);
    let w = match rng.gen_range(0..5) {
        0 => format!("xid = {xid}"),
        1 => format!("user_id = {user_id}"),
        2 => format!("phone = {}", opt_int(phone)),
        3 => format!("xid BETWEEN {xid} AND {}", xid + 5),
        _ => format!("note = {} AND xid > 0", m.lit(&m.name(rng))),
    };
    match rng.gen_range(0..100) {
        0..=44 => {
            let n = rng.gen_range(1..=3);
            let mut rows = Vec::new();
            for k in 0..n {
                let (user_id, phone) = if k == 0 {
                    (user_id, phone)
                } else {
                    extra_owner(rng, g)
                };
                rows.push(format!(
                    "({}, {user_id}, {}, {})",
                    rng.gen_range(1..=XID_SPACE),
                    opt_int(phone),
                    m.lit(&m.name(rng))
                ));
            }
            let (verb, tail) = insert_tail(rng, "note = VALUES(note)");
            stmt(
                format!(
                    "{verb} INTO user_extra (xid, user_id, phone, note) VALUES {}{tail}",
                    rows.join(", ")
                ),
                "user_extra.insert",
                true,
            )
        }
        45..=69 => stmt(
            format!(
                "UPDATE user_extra SET note = {} WHERE {w}",
                m.lit(&m.name(rng))
            ),
            "user_extra.update",
            true,
        ),
        70..=84 => stmt(
            format!("DELETE FROM user_extra WHERE {w}"),
            "user_extra.delete",
            true,
        ),
        _ => stmt(
            format!("SELECT xid, user_id FROM user_extra WHERE {w}"),
            "user_extra.select",
            false,
        ),
    }
}

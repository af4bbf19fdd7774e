//! The seeded random query generator: SELECTs over the fixed schema (plain selects with
//! expressions and constants, DISTINCT, scalar aggregates, GROUP BY / HAVING, ORDER BY with and
//! without ties, LIMIT/OFFSET, joins, subqueries), each with what the comparison may assume
//! about it: whether its order is fully determined, which columns are doubles summed or
//! averaged (compared with a tolerance), whether strings are compared case-folded (a group or
//! DISTINCT over a case-insensitive column may show any member of the group), and the
//! features a known open bug is about (see `known`).
//!
//! Some single-table queries carry a vindex hint (`with_vindex_hint`).
//!
//! Query `i` of seed `s` is generated from its own RNG seeded with `(s, i)`, so one query can
//! be reproduced alone.

use crate::values::{Gen, Pool};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What the comparison may assume about the order of a query's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderCheck {
    /// No ORDER BY (or one whose keys are not in the output): compared as multisets.
    Unordered,
    /// The ORDER BY includes a unique key: rows compared in order.
    Total,
    /// ORDER BY with possible ties: compared as multisets, and the sequence of these output
    /// columns (the sort keys, case-folded) must be the same.
    Keys(Vec<usize>),
}

/// Constructs a known open bug of issue 15 is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// A scalar aggregate (no GROUP BY) with a constant in the select list (item 13).
    ScalarAggregateWithConstant,
    /// ORDER BY an ENUM column (item 12).
    OrderByEnum,
    /// `LAST_INSERT_ID(expr)` sets the session's value, `LAST_INSERT_ID()` reads it (item 11).
    LastInsertId,
}

/// One generated query and what may be assumed about its answer.
#[derive(Debug, Clone)]
pub struct Query {
    /// The statement.
    pub sql: String,
    /// Order comparison.
    pub order: OrderCheck,
    /// Output columns holding SUM/AVG of doubles.
    pub approx: Vec<usize>,
    /// Compare string cells case-folded.
    pub fold: bool,
    /// Known-bug features present.
    pub features: Vec<Feature>,
    /// Run as a prepared statement (binary protocol) instead of a text query.
    pub prepared: bool,
    /// Parameters of the prepared statement (its `?`s, in order).
    pub params: Vec<mysql_async::Value>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Dec,
    Dbl,
    Str,
    Date,
    Enum,
}

pub(crate) type Col = (&'static str, Kind);

pub(crate) const USER_COLS: [Col; 8] = [
    ("id", Kind::Int),
    ("name", Kind::Str),
    ("age", Kind::Int),
    ("city", Kind::Str),
    ("balance", Kind::Dec),
    ("created", Kind::Date),
    ("score", Kind::Dbl),
    ("tier", Kind::Enum),
];
pub(crate) const ORDER_COLS: [Col; 4] = [
    ("id", Kind::Int),
    ("user_id", Kind::Int),
    ("amount", Kind::Dec),
    ("status", Kind::Str),
];
const USER_EXPRS: [&str; 8] = [
    "age + 1",
    "UPPER(name)",
    "CONCAT(name, '/', city)",
    "balance * 2",
    "age IS NULL",
    "LENGTH(name)",
    "COALESCE(city, 'none')",
    "score * 2",
];
/// ORDER BY terms that are expressions (not in the select list).
const ORDER_EXPRS: [&str; 9] = [
    "age + 1",
    "UPPER(name)",
    "-balance",
    "COALESCE(city, '')",
    "LENGTH(name)",
    "name COLLATE utf8mb4_bin",
    "BINARY name",
    "CAST(age AS CHAR)",
    "CONCAT(city, name)",
];
const CONSTANTS: [&str; 7] = ["1", "'k'", "NULL", "2 + 3", "'Zürich'", "1.5", "-7"];

/// A table of the schema as the generator sees it.
#[derive(Clone, Copy)]
struct Table {
    name: &'static str,
    cols: &'static [Col],
    user: bool,
}

const USER: Table = Table {
    name: "user",
    cols: &USER_COLS,
    user: true,
};
const ORDERS: Table = Table {
    name: "orders",
    cols: &ORDER_COLS,
    user: false,
};

/// One select-list item.
pub(crate) struct Item {
    pub(crate) sql: String,
    /// The plain column it is, if it is one.
    pub(crate) col: Option<&'static str>,
    pub(crate) approx: bool,
    pub(crate) constant: bool,
}

impl Item {
    pub(crate) fn col(prefix: &str, c: &Col) -> Item {
        Item {
            sql: format!("{prefix}{}", c.0),
            col: Some(c.0),
            approx: false,
            constant: false,
        }
    }
    pub(crate) fn expr(sql: String) -> Item {
        Item {
            sql,
            col: None,
            approx: false,
            constant: false,
        }
    }
    pub(crate) fn constant(sql: &str) -> Item {
        Item {
            sql: sql.to_string(),
            col: None,
            approx: false,
            constant: true,
        }
    }
}

/// The `i`-th query of seed `seed`.
pub fn query(pool: &Pool, seed: u64, i: u64) -> Query {
    let rng = StdRng::seed_from_u64(seed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut g = Gen {
        rng,
        pool,
        params: None,
    };
    let prepared = g.chance(35);
    if prepared && g.chance(70) {
        g.params = Some(Vec::new());
    }
    let table = if g.chance(70) { USER } else { ORDERS };
    if g.chance(2) {
        g.params = None;
        return last_insert_id(&mut g);
    }
    let mut q = match g.rng.gen_range(0..100) {
        0..=21 => simple(&mut g, USER),
        22..=29 => simple(&mut g, ORDERS),
        30..=41 => scalar_aggregate(&mut g, table),
        42..=61 => group_by(&mut g, table),
        62..=75 => crate::gen_multi::join(&mut g),
        76..=91 => crate::gen_multi::subquery(&mut g),
        _ => crate::gen_multi::union(&mut g),
    };
    q.prepared = prepared;
    q.params = g.params.take().unwrap_or_default();
    // (Its own RNG: the rest of the seed's corpus is unchanged.)
    let mut hint_rng = StdRng::seed_from_u64(seed ^ i.wrapping_mul(0x51ed_5eed) ^ 0x7669_6e64);
    if hint_rng.gen_range(0..100) < 8 {
        q.sql = with_vindex_hint(&mut hint_rng, &q.sql);
    }
    q
}

/// Vitess's `USE VINDEX (..)` / `IGNORE VINDEX (..)` after an unaliased `FROM user` /
/// `FROM orders` followed by WHERE, GROUP BY, ORDER BY, LIMIT or the end; other statements
/// are returned unchanged. The reference MariaDB runs the text with the hint blanked
/// (`main.rs`): a hint may change which shards are asked, never the answer.
fn with_vindex_hint(rng: &mut StdRng, sql: &str) -> String {
    for (table, vindexes) in [
        ("user", ["hash", "name_user_vdx"]),
        ("orders", ["hash", "orders_id_vdx"]),
    ] {
        let from = format!(" FROM {table}");
        let Some(at) = sql.find(&from) else { continue };
        let end = at + from.len();
        let rest = &sql[end..];
        let fits = rest.is_empty()
            || [" WHERE ", " GROUP ", " ORDER ", " LIMIT "]
                .iter()
                .any(|w| rest.starts_with(w));
        if !fits {
            continue;
        }
        let verb = if rng.gen_range(0..2) == 0 {
            "USE"
        } else {
            "IGNORE"
        };
        let names = match rng.gen_range(0..3) {
            0 => vindexes[0].to_string(),
            1 => vindexes[1].to_string(),
            _ => vindexes.join(", "),
        };
        return format!("{} {verb} VINDEX ({names}){rest}", &sql[..end]);
    }
    sql.to_string()
}

/// `SELECT LAST_INSERT_ID(n)` (sets the session's value; without FROM, so one row) or a read
/// of it. Both sides run the same sequence of queries on one session each, so the values agree.
fn last_insert_id(g: &mut Gen) -> Query {
    let sql = match g.rng.gen_range(0..3) {
        0 => format!("SELECT LAST_INSERT_ID({})", g.int(1, 1000)),
        1 => "SELECT LAST_INSERT_ID()".to_string(),
        _ => format!(
            "SELECT LAST_INSERT_ID() AS lid, COUNT(*) FROM user WHERE {}",
            g.user_pred("")
        ),
    };
    Query {
        sql,
        order: OrderCheck::Unordered,
        approx: Vec::new(),
        fold: false,
        features: vec![Feature::LastInsertId],
        prepared: false,
        params: Vec::new(),
    }
}

fn pred(g: &mut Gen, t: Table, prefix: &str) -> String {
    if t.user {
        g.user_pred(prefix)
    } else {
        g.order_pred(prefix)
    }
}

fn pick_col(g: &mut Gen, cols: &'static [Col]) -> &'static Col {
    &cols[g.rng.gen_range(0..cols.len())]
}

fn items_sql(items: &[Item]) -> String {
    items
        .iter()
        .map(|i| i.sql.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// An aggregate over a column of `t` (prefixed by `p`).
pub(crate) fn aggregate(g: &mut Gen, cols: &'static [Col], p: &str) -> Item {
    let c = pick_col(g, cols);
    let numeric = matches!(c.1, Kind::Int | Kind::Dec | Kind::Dbl);
    let (sql, approx) = match g.rng.gen_range(0..12) {
        8 if numeric => (format!("SUM(DISTINCT {p}{})", c.0), c.1 == Kind::Dbl),
        9 if numeric => (format!("AVG(DISTINCT {p}{})", c.0), c.1 == Kind::Dbl),
        10 => (format!("COUNT(*) * 2 + {}", g.int(0, 3)), false),
        11 if numeric && c.1 != Kind::Dbl && !c.0.ends_with("id") => {
            (format!("MAX({p}{0}) - MIN({p}{0})", c.0), false)
        }
        0 => ("COUNT(*)".to_string(), false),
        1 => (format!("COUNT({p}{})", c.0), false),
        2 if numeric => (format!("SUM({p}{})", c.0), c.1 == Kind::Dbl),
        3 if numeric => (format!("AVG({p}{})", c.0), c.1 == Kind::Dbl),
        4 => (format!("MIN({p}{})", c.0), false),
        5 => (format!("MAX({p}{})", c.0), false),
        6 => (format!("COUNT(DISTINCT {p}{})", c.0), false),
        _ => (format!("MAX({p}{})", c.0), false),
    };
    Item {
        sql,
        col: None,
        approx,
        constant: false,
    }
}

/// Positions of the longest prefix of `keys` present as plain output columns.
fn key_positions(items: &[Item], keys: &[&str]) -> Vec<usize> {
    let mut out = Vec::new();
    for k in keys {
        match items.iter().position(|i| i.col == Some(*k)) {
            Some(p) => out.push(p),
            None => break,
        }
    }
    out
}

fn order_check(total: bool, keys: Vec<usize>) -> OrderCheck {
    if total {
        OrderCheck::Total
    } else if keys.is_empty() {
        OrderCheck::Unordered
    } else {
        OrderCheck::Keys(keys)
    }
}

pub(crate) fn dir(g: &mut Gen) -> &'static str {
    g.pick(&["", " DESC", " ASC"])
}

pub(crate) fn limit(g: &mut Gen) -> String {
    if g.params.is_some() && g.chance(50) {
        let (count, offset) = (g.int(0, 20), g.int(0, 30));
        if let Some(params) = g.params.as_mut() {
            params.push(mysql_async::Value::Int(count));
            params.push(mysql_async::Value::Int(offset));
        }
        return " LIMIT ? OFFSET ?".to_string();
    }
    match g.rng.gen_range(0..4) {
        0 => format!(" LIMIT {}", g.int(0, 5)),
        1 => format!(" LIMIT {}, {}", g.int(0, 20), g.int(1, 10)),
        2 => format!(" LIMIT {} OFFSET {}", g.int(1, 12), g.int(0, 400)),
        _ => format!(" LIMIT {}", g.int(1, 40)),
    }
}

fn approx_of(items: &[Item]) -> Vec<usize> {
    (0..items.len()).filter(|&i| items[i].approx).collect()
}

/// SELECT [DISTINCT] columns / expressions / constants FROM one table [WHERE] [ORDER BY] [LIMIT].
fn simple(g: &mut Gen, t: Table) -> Query {
    let mut items = Vec::new();
    let star = g.chance(6);
    if star {
        items.extend(t.cols.iter().map(|c| Item::col("", c)));
    } else {
        for _ in 0..g.rng.gen_range(1..5) {
            match g.rng.gen_range(0..10) {
                0 if t.user => items.push(Item::expr(g.pick(&USER_EXPRS).to_string())),
                1 => items.push(Item::constant(g.pick(&CONSTANTS))),
                _ => items.push(Item::col("", pick_col(g, t.cols))),
            }
        }
    }
    let distinct = !star && g.chance(15);
    let mut sql = format!(
        "SELECT {}{} FROM {}",
        if distinct { "DISTINCT " } else { "" },
        if star {
            "*".to_string()
        } else {
            items_sql(&items)
        },
        t.name
    );
    if g.chance(85) {
        sql += &format!(" WHERE {}", pred(g, t, ""));
    }
    let mut features = Vec::new();
    let mut order = OrderCheck::Unordered;
    let fold = distinct;
    if distinct {
        if items.iter().all(|i| i.col.is_some()) && g.chance(60) {
            let keys: Vec<String> = items
                .iter()
                .map(|i| format!("{}{}", i.sql, dir(g)))
                .collect();
            sql += &format!(" ORDER BY {}", keys.join(", "));
            if items.iter().any(|i| i.col == Some("tier")) {
                features.push(Feature::OrderByEnum);
            }
            order = OrderCheck::Total;
            if g.chance(40) {
                sql += &limit(g);
            }
        }
    } else if g.chance(60) {
        let mut keys: Vec<&str> = Vec::new();
        for _ in 0..g.rng.gen_range(1..3) {
            let c = if t.user && g.chance(15) {
                g.pick(&ORDER_EXPRS)
            } else {
                pick_col(g, t.cols).0
            };
            if !keys.contains(&c) {
                keys.push(c);
            }
        }
        let total = keys.contains(&"id") || g.chance(60);
        if total && !keys.contains(&"id") {
            keys.push("id");
        }
        if keys.contains(&"tier") {
            features.push(Feature::OrderByEnum);
        }
        let rendered: Vec<String> = keys.iter().map(|k| format!("{k}{}", dir(g))).collect();
        sql += &format!(" ORDER BY {}", rendered.join(", "));
        order = order_check(total, key_positions(&items, &keys));
        if total && g.chance(50) {
            sql += &limit(g);
        }
    }
    Query {
        sql,
        order,
        approx: approx_of(&items),
        fold,
        features,
        prepared: false,
        params: Vec::new(),
    }
}

/// SELECT aggregates [, constants] FROM one table [WHERE]: exactly one row.
fn scalar_aggregate(g: &mut Gen, t: Table) -> Query {
    let mut items: Vec<Item> = (0..g.rng.gen_range(1..5))
        .map(|_| aggregate(g, t.cols, ""))
        .collect();
    if g.chance(25) {
        let at = g.rng.gen_range(0..=items.len());
        items.insert(at, Item::constant(g.pick(&CONSTANTS)));
    }
    let mut sql = format!("SELECT {} FROM {}", items_sql(&items), t.name);
    if g.chance(85) {
        sql += &format!(" WHERE {}", pred(g, t, ""));
    }
    if g.chance(10) {
        sql += &format!(" HAVING COUNT(*) > {}", g.int(0, 3));
    }
    if g.chance(8) {
        sql += &format!(" LIMIT {}", g.pick(&["1", "0", "1 OFFSET 1", "5"]));
    }
    let features = if items.iter().any(|i| i.constant) {
        vec![Feature::ScalarAggregateWithConstant]
    } else {
        Vec::new()
    };
    Query {
        sql,
        order: OrderCheck::Unordered,
        approx: approx_of(&items),
        fold: true,
        features,
        prepared: false,
        params: Vec::new(),
    }
}

/// SELECT group columns, aggregates FROM one table [WHERE] GROUP BY [HAVING] [ORDER BY] [LIMIT].
fn group_by(g: &mut Gen, t: Table) -> Query {
    let groupable: &[&str] = if t.user {
        &[
            "city",
            "age",
            "name",
            "tier",
            "created",
            "YEAR(created)",
            "age DIV 10",
            "LOWER(city)",
            "name COLLATE utf8mb4_bin",
            "BINARY city",
            "CAST(age AS CHAR)",
        ]
    } else {
        &["status", "user_id", "amount > 500"]
    };
    let mut gcols: Vec<&str> = vec![g.pick(groupable)];
    if g.chance(30) {
        let c = g.pick(groupable);
        if !gcols.contains(&c) {
            gcols.push(c);
        }
    }
    let mut items: Vec<Item> = gcols
        .iter()
        .map(|c| Item {
            sql: c.to_string(),
            col: Some(c),
            approx: false,
            constant: false,
        })
        .collect();
    let first_agg = items.len();
    for _ in 0..g.rng.gen_range(1..4) {
        items.push(aggregate(g, t.cols, ""));
    }
    if g.chance(10) {
        items.push(Item::constant(g.pick(&CONSTANTS)));
    }
    let alias = g.chance(25);
    let mut rendered: Vec<String> = items.iter().map(|i| i.sql.clone()).collect();
    if alias {
        rendered[first_agg] += " AS a1";
    }
    let mut sql = format!("SELECT {} FROM {}", rendered.join(", "), t.name);
    if g.chance(70) {
        sql += &format!(" WHERE {}", pred(g, t, ""));
    }
    if g.chance(15) {
        let positions: Vec<String> = (1..=gcols.len()).map(|i| i.to_string()).collect();
        sql += &format!(" GROUP BY {}", positions.join(", "));
    } else {
        sql += &format!(" GROUP BY {}", gcols.join(", "));
    }
    if g.chance(30) {
        let num = if t.user { "age" } else { "amount" };
        let cond = match g.rng.gen_range(0..12) {
            6 => format!(
                "COUNT(*) > {} AND MAX({num}) < {}",
                g.int(0, 3),
                g.int(20, 900)
            ),
            7 => format!("{} IS NOT NULL", gcols[0]),
            8 => format!("AVG({num}) > {}", g.int(20, 600)),
            9 => format!("COUNT(DISTINCT {num}) >= {}", g.int(1, 3)),
            10 if t.user => format!("MIN(name) = {}", g.name()),
            11 if t.user => format!("MAX(created) > '202{}-01-01'", g.int(0, 4)),
            0 => format!("COUNT(*) > {}", g.int(0, 4)),
            1 => format!("SUM({num}) > {}", g.int(0, 2000)),
            2 => format!("MIN({num}) < {}", g.int(10, 500)),
            3 => "COUNT(*) = 1".to_string(),
            4 if alias => format!("a1 > {}", g.int(0, 50)),
            _ => format!("MAX({num}) IS NOT NULL"),
        };
        sql += &format!(" HAVING {cond}");
    }
    let mut features = Vec::new();
    let mut order = OrderCheck::Unordered;
    if g.chance(55) {
        let by_agg = g.chance(35);
        let mut keys: Vec<String> = Vec::new();
        if by_agg {
            keys.push(format!(
                "{}{}",
                if alias {
                    "a1"
                } else {
                    items[first_agg].sql.as_str()
                },
                dir(g)
            ));
        }
        let total = !by_agg || g.chance(50);
        if total {
            let by_position = g.chance(20);
            for (i, c) in gcols.iter().enumerate() {
                let key = if by_position {
                    (i + 1).to_string()
                } else {
                    c.to_string()
                };
                keys.push(format!("{key}{}", dir(g)));
            }
        }
        if (gcols.contains(&"tier") && total) || (by_agg && items[first_agg].sql.contains("tier")) {
            features.push(Feature::OrderByEnum);
        }
        sql += &format!(" ORDER BY {}", keys.join(", "));
        order = if total {
            OrderCheck::Total
        } else {
            OrderCheck::Keys(vec![first_agg])
        };
        if total && g.chance(40) {
            sql += &limit(g);
        }
    }
    Query {
        sql,
        order,
        approx: approx_of(&items),
        fold: true,
        features,
        prepared: false,
        params: Vec::new(),
    }
}

/// Helpers shared with `gen_multi`.
pub(crate) mod parts {
    pub(crate) use super::{aggregate, dir, limit, Item, ORDER_COLS, USER_COLS};
}

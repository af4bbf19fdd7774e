//! The generator's multi-table shapes: joins of `user` and `orders` on the shard key (inner,
//! LEFT, grouped, scalar aggregates), with the reference table `country`, across shards on a
//! non-vindex column; and subqueries (IN / NOT IN, correlated EXISTS and scalar subqueries,
//! uncorrelated scalar comparisons, derived tables).

use crate::gen::parts::{aggregate, dir, limit, Item, ORDER_COLS, USER_COLS};
use crate::gen::{Feature, OrderCheck, Query};
use crate::values::Gen;
use rand::Rng;

fn join_items(g: &mut Gen) -> Vec<Item> {
    let n = g.rng.gen_range(1..5);
    (0..n)
        .map(|_| {
            if g.chance(50) {
                Item::col("u.", &USER_COLS[g.rng.gen_range(0..USER_COLS.len())])
            } else {
                Item::col("o.", &ORDER_COLS[g.rng.gen_range(0..ORDER_COLS.len())])
            }
        })
        .collect()
}

fn where_both(g: &mut Gen) -> String {
    match g.rng.gen_range(0..4) {
        0 => format!(" WHERE {}", g.user_pred("u.")),
        1 => format!(" WHERE {}", g.order_pred("o.")),
        2 => format!(" WHERE {} AND {}", g.user_pred("u."), g.order_pred("o.")),
        _ => String::new(),
    }
}

fn plain(items: Vec<Item>, sql: String, order: OrderCheck, fold: bool) -> Query {
    let approx = (0..items.len()).filter(|&i| items[i].approx).collect();
    Query {
        sql,
        order,
        approx,
        fold,
        features: Vec::new(),
        prepared: false,
        params: Vec::new(),
    }
}

fn render(items: &[Item]) -> String {
    items
        .iter()
        .map(|i| i.sql.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A join query.
pub fn join(g: &mut Gen) -> Query {
    match g.rng.gen_range(0..9) {
        7 => {
            // Three tables: the shard-local join and the reference table.
            let mut sql = format!(
                "SELECT u.id, o.id, o.status, c.code FROM user u JOIN orders o ON o.user_id = u.id \
                 JOIN country c ON c.name = u.city{}",
                where_both(g)
            );
            let mut order = OrderCheck::Unordered;
            if g.chance(60) {
                sql += &format!(" ORDER BY c.code{}, o.id", dir(g));
                order = OrderCheck::Total;
                if g.chance(50) {
                    sql += &limit(g);
                }
            }
            Query {
                sql,
                order,
                approx: Vec::new(),
                fold: false,
                features: Vec::new(),
                prepared: false,
                params: Vec::new(),
            }
        }
        8 => {
            // LEFT JOIN with a condition on the right table in ON and a sort on a left column.
            let mut sql = format!(
                "SELECT u.name, u.id, o.id, o.amount FROM user u LEFT JOIN orders o \
                 ON o.user_id = u.id AND o.status = {} WHERE {}",
                g.pick(&crate::values::STATUSES),
                g.user_pred("u.")
            );
            let mut order = OrderCheck::Unordered;
            if g.chance(60) {
                sql += &format!(" ORDER BY u.name{}, u.id, o.id{}", dir(g), dir(g));
                order = OrderCheck::Total;
                if g.chance(50) {
                    sql += &limit(g);
                }
            }
            Query {
                sql,
                order,
                approx: Vec::new(),
                fold: false,
                features: Vec::new(),
                prepared: false,
                params: Vec::new(),
            }
        }
        0 | 1 => {
            let items = join_items(g);
            let mut sql = format!(
                "SELECT {} FROM user u JOIN orders o ON u.id = o.user_id{}",
                render(&items),
                where_both(g)
            );
            let mut order = OrderCheck::Unordered;
            if g.chance(50) {
                sql += &format!(" ORDER BY o.id{}", dir(g));
                order = OrderCheck::Total;
                if g.chance(50) {
                    sql += &limit(g);
                }
            }
            plain(items, sql, order, false)
        }
        2 => {
            let items = join_items(g);
            let mut sql = format!(
                "SELECT {} FROM user u LEFT JOIN orders o ON o.user_id = u.id{}",
                render(&items),
                match g.rng.gen_range(0..3) {
                    0 => format!(" WHERE {}", g.user_pred("u.")),
                    1 => " WHERE o.id IS NULL".to_string(),
                    _ => String::new(),
                }
            );
            let mut order = OrderCheck::Unordered;
            if g.chance(50) {
                sql += &format!(" ORDER BY u.id{}, o.id{}", dir(g), dir(g));
                order = OrderCheck::Total;
                if g.chance(50) {
                    sql += &limit(g);
                }
            }
            plain(items, sql, order, false)
        }
        3 => {
            let gcol = g.pick(&["u.city", "u.name", "o.status", "u.age"]);
            let mut items = vec![Item::expr(gcol.to_string())];
            for _ in 0..g.rng.gen_range(1..3) {
                items.push(if g.chance(50) {
                    aggregate(g, &ORDER_COLS, "o.")
                } else {
                    aggregate(g, &USER_COLS, "u.")
                });
            }
            let mut sql = format!(
                "SELECT {} FROM user u JOIN orders o ON u.id = o.user_id{} GROUP BY {gcol}",
                render(&items),
                where_both(g)
            );
            if g.chance(25) {
                sql += &format!(" HAVING COUNT(*) > {}", g.int(0, 3));
            }
            let mut order = OrderCheck::Unordered;
            if g.chance(50) {
                sql += &format!(" ORDER BY {gcol}{}", dir(g));
                order = OrderCheck::Total;
                if g.chance(40) {
                    sql += &limit(g);
                }
            }
            plain(items, sql, order, true)
        }
        4 => {
            let mut items: Vec<Item> = (0..g.rng.gen_range(1..4))
                .map(|_| aggregate(g, &ORDER_COLS, "o."))
                .collect();
            let mut features = Vec::new();
            if g.chance(20) {
                items.push(Item::constant("'const'"));
                features.push(Feature::ScalarAggregateWithConstant);
            }
            let sql = format!(
                "SELECT {} FROM user u JOIN orders o ON u.id = o.user_id{}",
                render(&items),
                where_both(g)
            );
            let mut q = plain(items, sql, OrderCheck::Unordered, true);
            q.features = features;
            q
        }
        5 => {
            let mut sql = format!(
                "SELECT u.id, u.city, c.code, c.name FROM user u JOIN country c ON c.name = u.city{}",
                if g.chance(70) {
                    format!(" WHERE {}", g.user_pred("u."))
                } else {
                    String::new()
                }
            );
            let mut order = OrderCheck::Unordered;
            if g.chance(50) {
                sql += &format!(" ORDER BY u.id{}, c.code", dir(g));
                order = OrderCheck::Total;
                if g.chance(40) {
                    sql += &limit(g);
                }
            }
            Query {
                sql,
                order,
                approx: Vec::new(),
                fold: false,
                features: Vec::new(),
                prepared: false,
                params: Vec::new(),
            }
        }
        _ => {
            // Across shards: the join column is not the shard key of both sides.
            let mut sql = format!(
                "SELECT o.id, o.status, u.id, u.name FROM orders o JOIN user u ON u.age = o.id WHERE {}",
                g.order_pred("o.")
            );
            let mut order = OrderCheck::Unordered;
            if g.chance(50) {
                sql += " ORDER BY o.id, u.id";
                order = OrderCheck::Total;
            }
            Query {
                sql,
                order,
                approx: Vec::new(),
                fold: false,
                features: Vec::new(),
                prepared: false,
                params: Vec::new(),
            }
        }
    }
}

/// A query with a subquery.
pub fn subquery(g: &mut Gen) -> Query {
    let cols = "u.id, u.name, u.age";
    let (mut sql, fold) = match g.rng.gen_range(0..8) {
        0 => (
            format!(
                "SELECT {cols} FROM user u WHERE u.id IN (SELECT o.user_id FROM orders o WHERE {})",
                g.order_pred("o.")
            ),
            false,
        ),
        1 => (
            format!(
                "SELECT {cols} FROM user u WHERE u.id NOT IN (SELECT o.user_id FROM orders o WHERE o.user_id IS NOT NULL AND {}) AND {}",
                g.order_pred("o."),
                g.user_pred("u.")
            ),
            false,
        ),
        2 => (
            format!(
                "SELECT {cols} FROM user u WHERE {}EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND {})",
                g.pick(&["", "NOT "]),
                g.order_pred("o.")
            ),
            false,
        ),
        3 => (
            format!(
                "SELECT u.id, (SELECT COUNT(*) FROM orders o WHERE o.user_id = u.id) AS n FROM user u WHERE {}",
                g.user_pred("u.")
            ),
            false,
        ),
        4 => (
            format!(
                "SELECT {cols} FROM user u WHERE u.age > (SELECT AVG(age) FROM user WHERE {})",
                g.user_pred("")
            ),
            false,
        ),
        5 => (
            format!(
                "SELECT t.city, COUNT(*), MAX(t.age) FROM (SELECT city, age FROM user WHERE {}) AS t GROUP BY t.city",
                g.user_pred("")
            ),
            true,
        ),
        6 => (
            format!(
                "SELECT COUNT(*), SUM(u.age) FROM user u WHERE u.id IN (SELECT o.user_id FROM orders o WHERE {})",
                g.order_pred("o.")
            ),
            true,
        ),
        _ => (
            format!(
                "SELECT o.id, o.amount FROM orders o WHERE o.user_id IN (SELECT u.id FROM user u WHERE {})",
                g.user_pred("u.")
            ),
            false,
        ),
    };
    let mut order = OrderCheck::Unordered;
    let key = if sql.starts_with("SELECT u.") {
        Some("u.id")
    } else if sql.starts_with("SELECT o.") {
        Some("o.id")
    } else {
        None
    };
    if let Some(key) = key {
        if g.chance(50) {
            sql += &format!(" ORDER BY {key}{}", dir(g));
            order = OrderCheck::Total;
            if g.chance(40) {
                sql += &limit(g);
            }
        }
    }
    Query {
        sql,
        order,
        approx: Vec::new(),
        fold,
        features: Vec::new(),
        prepared: false,
        params: Vec::new(),
    }
}

/// UNION [ALL] of a user and an orders select, sometimes ordered by position.
pub fn union(g: &mut Gen) -> Query {
    let all = g.chance(50);
    let (a, b) = match g.rng.gen_range(0..3) {
        0 => ("id, name", "user_id, status"),
        1 => ("city, age", "status, id"),
        _ => ("age", "user_id"),
    };
    let mut sql = format!(
        "SELECT {a} FROM user WHERE {} UNION {}SELECT {b} FROM orders WHERE {}",
        g.user_pred(""),
        if all { "ALL " } else { "" },
        g.order_pred("")
    );
    let mut order = OrderCheck::Unordered;
    if g.chance(50) {
        let n = a.split(',').count();
        let keys: Vec<String> = (1..=n).map(|i| format!("{i}{}", dir(g))).collect();
        sql += &format!(" ORDER BY {}", keys.join(", "));
        order = OrderCheck::Total;
        if g.chance(40) {
            sql += &limit(g);
        }
    }
    Query {
        sql,
        order,
        approx: Vec::new(),
        fold: true,
        features: Vec::new(),
        prepared: false,
        params: Vec::new(),
    }
}

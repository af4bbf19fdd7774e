//! Fixed queries the random checker once found wrong, kept as regression cases: each runs
//! before the generated queries of every run and must be answered equally or refused (1235).
//! They appear in reports as query `u64::MAX - k` for the `k`-th case.

use crate::gen::{OrderCheck, Query};

fn case(sql: &str, order: OrderCheck, fold: bool) -> Query {
    Query {
        sql: sql.to_string(),
        order,
        approx: Vec::new(),
        fold,
        features: Vec::new(),
        prepared: false,
        params: Vec::new(),
    }
}

/// The regression cases.
pub fn cases() -> Vec<Query> {
    vec![
        // The parser reads MySQL's `BINARY name = 'BOB  '` as `BINARY (name = 'BOB  ')`; the
        // shard query re-printed for ORDER BY an aggregate alias became
        // `CAST(name = 'BOB  ' AS BINARY)`, true for every 'bob' (PAD SPACE, case-insensitive):
        // 13 groups instead of none.
        case(
            "SELECT tier, LOWER(city), COUNT(*) AS a1, MIN(tier) FROM user \
             WHERE BINARY name = 'BOB  ' GROUP BY tier, LOWER(city) ORDER BY a1 ASC",
            OrderCheck::Keys(vec![2]),
            true,
        ),
        case(
            "SELECT name, COUNT(*) AS n FROM user WHERE BINARY name = 'bob' GROUP BY name ORDER BY n",
            OrderCheck::Keys(vec![1]),
            true,
        ),
        case(
            "SELECT id, name FROM user WHERE BINARY name = 'BOB' OR id = 3 ORDER BY name DESC",
            OrderCheck::Keys(vec![1]),
            false,
        ),
        // Adjacent string literals are one value to MySQL ('AL' 'ICE' = 'ALICE'); the planner
        // routed by the first piece only ('AL' through the name lookup, '1' by hash): rows of
        // other shards were missing (17 of 34 on 2 shards, 7 of 34 on 4).
        case(
            "SELECT DISTINCT name, balance, id FROM user WHERE name = 'AL' 'ICE' \
             AND age IS NOT NULL ORDER BY name, balance DESC, id",
            OrderCheck::Total,
            true,
        ),
        case(
            "SELECT id, name FROM user WHERE id = '1' '2'",
            OrderCheck::Unordered,
            false,
        ),
        case(
            "SELECT id, name FROM user WHERE id IN ('1' '3', '4' '5') ORDER BY id",
            OrderCheck::Total,
            false,
        ),
        case(
            "SELECT o.id, o.amount FROM orders o WHERE o.id = '3' '1' ORDER BY o.id",
            OrderCheck::Total,
            false,
        ),
        // `0x6f` is the number 111 in a numeric context; the shard query re-printed for an
        // ORDER BY on unselected columns wrote it as X'6f', the string 'o' (= 0 as a number):
        // user 0's row instead of user 111's.
        case(
            "SELECT tier, score, tier FROM user WHERE id = 0x6f ORDER BY id, city DESC",
            OrderCheck::Total,
            false,
        ),
        case(
            "SELECT created, city FROM user WHERE id = 0x4a AND balance > 3263.92 \
             ORDER BY score ASC, name COLLATE utf8mb4_bin ASC",
            OrderCheck::Unordered,
            false,
        ),
    ]
}

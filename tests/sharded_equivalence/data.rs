//! The data set, the same on both sides: ~300 users and ~900 orders from a seeded generator
//! (NULLs in every nullable column, names differing only in case, a quote and an accent,
//! extreme ids), as multi-row INSERTs, and the SQL literals of user columns that the
//! statements file's `{user.COL:ID}` placeholders stand for.

use std::collections::BTreeSet;

const NAMES: [&str; 24] = [
    "aaron", "alice", "ALICE", "Alice", "bob", "BOB", "carol", "Carol", "dave", "erin", "frank",
    "grace", "GRACE", "heidi", "ivan", "josé", "judy", "mallory", "o'brien", "olivia", "peggy",
    "trent", "victor", "zoe",
];
const CITIES: [&str; 9] = [
    "Singapore",
    "singapore",
    "Monaco",
    "Luxembourg",
    "Paris",
    "PARIS",
    "Berlin",
    "Hong Kong",
    "Lima",
];
const STATUSES: [&str; 5] = ["new", "paid", "shipped", "cancelled", "refunded"];
/// Ids the statements use as "no such user" or insert later: the generator must not produce them.
pub(crate) const RESERVED_IDS: [i64; 10] = [
    121,
    4000,
    5001,
    5002,
    -5003,
    5004,
    5005,
    5006,
    7000,
    123_456_789,
];

/// A 64-bit linear congruential generator (Knuth's MMIX constants): deterministic data without
/// an RNG crate.
pub(crate) struct Lcg(
    /// The generator's state (the seed at first).
    pub(crate) u64,
);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 16
    }

    /// Uniform-enough in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One row of `customer.user`.
#[derive(Debug, Clone)]
pub(crate) struct User {
    /// The primary key (and the primary vindex column).
    pub(crate) id: i64,
    name: Option<&'static str>,
    age: Option<u64>,
    city: Option<&'static str>,
    /// In cents.
    balance: Option<i64>,
    /// `YYYY-MM-DD`.
    created: Option<String>,
}

/// One row of `customer.orders`.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    id: i64,
    user_id: i64,
    /// In cents.
    amount: Option<i64>,
    status: &'static str,
}

fn is_leap(y: u32) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

/// The date `days` after 2020-01-01, as `YYYY-MM-DD`.
pub(crate) fn date_after_2020(mut days: u32) -> String {
    let mut year = 2020;
    loop {
        let len = if is_leap(year) { 366 } else { 365 };
        if days < len {
            break;
        }
        days -= len;
        year += 1;
    }
    let feb = if is_leap(year) { 29 } else { 28 };
    let months = [31, feb, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut month = 0;
    while days >= months[month] {
        days -= months[month];
        month += 1;
    }
    format!("{year:04}-{:02}-{:02}", month + 1, days + 1)
}

/// Users 1..=120 (dense, so statements can name them), 0, -1, -42, i64::MAX and random ids in
/// `10_000..10^12` up to 300; NULLs in every nullable column, names differing only in case
/// ('alice' / 'ALICE'), a quote and an accent in names, repeating ages and cities.
pub(crate) fn generate_users(rng: &mut Lcg) -> Vec<User> {
    let mut ids: Vec<i64> = (1..=120).collect();
    ids.extend([0, -1, -42, i64::MAX]);
    let mut seen: BTreeSet<i64> = ids.iter().copied().collect();
    while ids.len() < 300 {
        let id = 10_000 + rng.below(1_000_000_000_000 - 10_000) as i64;
        if !RESERVED_IDS.contains(&id) && seen.insert(id) {
            ids.push(id);
        }
    }
    ids.into_iter()
        .map(|id| User {
            id,
            name: (!rng.chance(6)).then(|| NAMES[rng.below(NAMES.len() as u64) as usize]),
            age: (!rng.chance(5)).then(|| 18 + rng.below(62)),
            city: (!rng.chance(8)).then(|| CITIES[rng.below(CITIES.len() as u64) as usize]),
            balance: (!rng.chance(5)).then(|| rng.below(2_000_000) as i64 - 200_000),
            created: (!rng.chance(3)).then(|| date_after_2020(rng.below(1500) as u32)),
        })
        .collect()
}

/// Orders 1..=900, skewed towards the first (dense) users; 3% belong to no user.
pub(crate) fn generate_orders(rng: &mut Lcg, users: &[User]) -> Vec<Order> {
    let n = users.len() as u64;
    (1..=900)
        .map(|id| {
            let user_id = if rng.chance(3) {
                5_000_000_000_000 + rng.below(1000) as i64
            } else {
                let (a, b) = (rng.below(n), rng.below(n));
                users[a.min(b) as usize].id
            };
            Order {
                id,
                user_id,
                amount: (!rng.chance(2)).then(|| rng.below(100_000) as i64),
                status: STATUSES[rng.below(STATUSES.len() as u64) as usize],
            }
        })
        .collect()
}

fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

fn sql_opt_string(s: Option<&str>) -> String {
    s.map_or_else(|| "NULL".into(), sql_string)
}

fn sql_opt_num<T: ToString>(n: Option<T>) -> String {
    n.map_or_else(|| "NULL".into(), |n| n.to_string())
}

fn sql_cents(cents: Option<i64>) -> String {
    match cents {
        None => "NULL".into(),
        Some(c) => {
            let sign = if c < 0 { "-" } else { "" };
            format!("{sign}{}.{:02}", c.abs() / 100, c.abs() % 100)
        }
    }
}

fn user_tuple(u: &User) -> String {
    format!(
        "({}, {}, {}, {}, {}, {})",
        u.id,
        sql_opt_string(u.name),
        sql_opt_num(u.age),
        sql_opt_string(u.city),
        sql_cents(u.balance),
        sql_opt_string(u.created.as_deref())
    )
}

fn order_tuple(o: &Order) -> String {
    format!(
        "({}, {}, {}, {})",
        o.id,
        o.user_id,
        sql_cents(o.amount),
        sql_string(o.status)
    )
}

/// Multi-row INSERTs of every user and order, in batches (the proxy splits each by shard).
pub(crate) fn insert_statements(users: &[User], orders: &[Order]) -> Vec<String> {
    let mut out = Vec::new();
    for batch in users.chunks(50) {
        let rows: Vec<String> = batch.iter().map(user_tuple).collect();
        out.push(format!(
            "INSERT INTO user (id, name, age, city, balance, created) VALUES {}",
            rows.join(", ")
        ));
    }
    for batch in orders.chunks(75) {
        let rows: Vec<String> = batch.iter().map(order_tuple).collect();
        out.push(format!(
            "INSERT INTO orders (id, user_id, amount, status) VALUES {}",
            rows.join(", ")
        ));
    }
    out
}

/// The SQL literal of column `col` of user `id` (for `{user.COL:ID}` placeholders).
pub(crate) fn user_literal(users: &[User], col: &str, id: i64) -> String {
    let u = users
        .iter()
        .find(|u| u.id == id)
        .unwrap_or_else(|| panic!("placeholder names user {id}, which the generator did not make"));
    match col {
        "name" => sql_opt_string(u.name),
        "age" => sql_opt_num(u.age),
        "city" => sql_opt_string(u.city),
        "balance" => sql_cents(u.balance),
        "created" => sql_opt_string(u.created.as_deref()),
        other => panic!("unknown placeholder column {other}"),
    }
}

//! Literals and WHERE predicates for the generator: ids, names, cities, numbers drawn from the
//! data set (existing values in varied case and accents, values no row has, NULL tests, empty
//! predicates), combined with AND / OR / NOT. Nothing here uses 'ß'-like characters, which the
//! lookup vindex places apart from 's' (issue 15 item 9, being fixed elsewhere).

use crate::data::{user_literal, User};
use mysql_async::Value;
use rand::rngs::StdRng;
use rand::Rng;

/// Values to draw literals from.
pub struct Pool {
    /// Every user id.
    pub user_ids: Vec<i64>,
    /// Name literals (SQL, quoted) of the data set plus case/accent variants and missing names.
    pub names: Vec<String>,
    /// City literals, likewise.
    pub cities: Vec<String>,
}

const EXTRA_NAMES: [&str; 16] = [
    "'Zoe'",
    "'zoë'",
    "'erin'",
    "'JOSE '",
    "'Érin'",
    "'alice '",
    "'BOB  '",
    "'JOSÉ'",
    "'jose'",
    "'José'",
    "'ALICE'",
    "'Bob'",
    "'nobody'",
    "'o''brien'",
    "'O''BRIEN'",
    "''",
];
const EXTRA_CITIES: [&str; 8] = [
    "'Paris '",
    "''",
    "'SINGAPORE'",
    "'paris'",
    "'lima'",
    "'Atlantis'",
    "'hong kong'",
    "'Zürich'",
];
/// Ids no user has (reserved by the data generator) and edge values.
const ODD_IDS: [i64; 7] = [121, 4000, 7000, 0, -1, -42, i64::MAX];
/// Statuses of orders, in varied case.
pub const STATUSES: [&str; 7] = [
    "'new'",
    "'paid'",
    "'PAID'",
    "'shipped'",
    "'cancelled'",
    "'Refunded'",
    "'lost'",
];

impl Pool {
    /// The pool of the data set `users`.
    pub fn new(users: &[User]) -> Pool {
        let mut names: Vec<String> = Vec::new();
        let mut cities: Vec<String> = Vec::new();
        for u in users {
            for (col, list) in [("name", &mut names), ("city", &mut cities)] {
                let lit = user_literal(users, col, u.id);
                if lit != "NULL" && !list.contains(&lit) {
                    list.push(lit);
                }
            }
        }
        names.extend(EXTRA_NAMES.iter().map(|s| s.to_string()));
        cities.extend(EXTRA_CITIES.iter().map(|s| s.to_string()));
        Pool {
            user_ids: users.iter().map(|u| u.id).collect(),
            names,
            cities,
        }
    }
}

/// The generator's random source and pool.
pub struct Gen<'p> {
    /// Seeded per query.
    pub rng: StdRng,
    /// Literals.
    pub pool: &'p Pool,
    /// When set, some literals are written as `?` and their values collected here, in order.
    pub params: Option<Vec<Value>>,
}

impl Gen<'_> {
    /// True with probability `pct`/100.
    pub fn chance(&mut self, pct: u32) -> bool {
        self.rng.gen_range(0..100) < pct
    }

    /// One of `items`.
    pub fn pick<'a, T: ?Sized>(&mut self, items: &'a [&'a T]) -> &'a T {
        items[self.rng.gen_range(0..items.len())]
    }

    /// An integer in `lo..=hi`.
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.gen_range(lo..=hi)
    }

    /// A user id: mostly existing, sometimes missing or extreme.
    pub fn user_id(&mut self) -> i64 {
        if self.chance(5) {
            self.int(9001, 9008)
        } else if self.chance(12) {
            ODD_IDS[self.rng.gen_range(0..ODD_IDS.len())]
        } else if self.chance(60) {
            self.int(1, 120)
        } else {
            self.pool.user_ids[self.rng.gen_range(0..self.pool.user_ids.len())]
        }
    }

    /// A name literal (or `?`).
    pub fn name(&mut self) -> String {
        let lit = self.pool.names[self.rng.gen_range(0..self.pool.names.len())].clone();
        self.maybe_param(lit)
    }

    /// A city literal (or `?`).
    pub fn city(&mut self) -> String {
        let lit = self.pool.cities[self.rng.gen_range(0..self.pool.cities.len())].clone();
        self.maybe_param(lit)
    }

    /// A user id literal (or `?`).
    pub fn uid(&mut self) -> String {
        let id = self.user_id();
        self.maybe_param(id.to_string())
    }

    /// An order id literal (or `?`).
    pub fn oid(&mut self) -> String {
        let id = self.order_id();
        self.maybe_param(id.to_string())
    }

    /// `lit` (a quoted string or an integer) as is, or — in parameter mode, half the time —
    /// `?` with its value appended to the parameters.
    fn maybe_param(&mut self, lit: String) -> String {
        if self.params.is_none() || self.rng.gen_range(0..2) == 0 {
            return lit;
        }
        let value = match lit.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')) {
            Some(text) => Value::Bytes(text.replace("''", "'").into_bytes()),
            None => match lit.parse::<i64>() {
                Ok(n) => Value::Int(n),
                Err(_) => return lit,
            },
        };
        if let Some(params) = self.params.as_mut() {
            params.push(value);
        }
        "?".to_string()
    }

    /// An order id (1..=900 exist).
    pub fn order_id(&mut self) -> i64 {
        if self.chance(8) {
            self.int(901, 1000)
        } else {
            self.int(1, 900)
        }
    }

    /// `n` comma-separated items from `f`.
    pub fn list(&mut self, n: usize, mut f: impl FnMut(&mut Self) -> String) -> String {
        (0..n).map(|_| f(self)).collect::<Vec<_>>().join(", ")
    }

    /// A money literal around the data's range.
    pub fn money(&mut self) -> String {
        let cents = self.int(-200_000, 1_000_000);
        format!("{}.{:02}", cents / 100, cents.abs() % 100)
    }

    /// One predicate on `user` (columns prefixed by `p`, e.g. `u.`).
    pub fn user_atom(&mut self, p: &str) -> String {
        if self.chance(20) {
            return self.user_odd_atom(p);
        }
        match self.rng.gen_range(0..22) {
            0 | 1 => format!("{p}id = {}", self.uid()),
            2 => {
                let n = self.rng.gen_range(1..7);
                format!("{p}id IN ({})", self.list(n, |g| g.uid()))
            }
            3 => {
                let a = self.int(-5, 125);
                format!("{p}id BETWEEN {a} AND {}", a + self.int(0, 30))
            }
            4 => format!(
                "{p}id {} {}",
                self.pick(&[">", "<", ">=", "<>"]),
                self.user_id()
            ),
            5 | 6 => format!("{p}name = {}", self.name()),
            7 => {
                let n = self.rng.gen_range(1..5);
                format!("{p}name IN ({})", self.list(n, |g| g.name()))
            }
            8 => format!("{p}name IS {}NULL", self.pick(&["", "NOT "])),
            9 => format!(
                "{p}name LIKE '{}%'",
                self.pick(&["a", "A", "jo", "o'", "z"]).replace('\'', "''")
            ),
            10 => format!("{p}age = {}", self.int(17, 80)),
            11 => {
                let a = self.int(17, 75);
                format!("{p}age BETWEEN {a} AND {}", a + self.int(0, 10))
            }
            12 => {
                let n = self.rng.gen_range(1..5);
                format!(
                    "{p}age IN ({})",
                    self.list(n, |g| g.int(18, 79).to_string())
                )
            }
            13 => format!("{p}age IS {}NULL", self.pick(&["", "NOT "])),
            14 => format!("{p}city = {}", self.city()),
            15 => {
                let n = self.rng.gen_range(1..4);
                format!("{p}city IN ({})", self.list(n, |g| g.city()))
            }
            16 => format!(
                "{p}balance {} {}",
                self.pick(&[">", "<", "<="]),
                self.money()
            ),
            17 => format!(
                "{p}created >= '202{}-0{}-01'",
                self.int(0, 4),
                self.int(1, 9)
            ),
            18 => format!(
                "{p}tier = '{}'",
                self.pick(&["gold", "silver", "bronze", "GOLD"])
            ),
            19 => format!("{p}score > {}", self.int(-300, 1500)),
            20 => format!("{p}id = {} AND {p}name = {}", self.uid(), self.name()),
            _ => self.pick(&["1 = 0", "1 = 1", "NULL", "0"]).to_string(),
        }
    }

    /// Predicates whose values need conversions, NULL-safe or collation-aware comparison.
    fn user_odd_atom(&mut self, p: &str) -> String {
        let id = self.user_id();
        match self.rng.gen_range(0..21) {
            0 => format!("{p}id = '{id}'"),
            1 => format!("{p}id IN ({id}, NULL)"),
            2 => format!("{p}id <=> {}", self.pick(&["NULL", "5", "121"])),
            3 => format!("{p}id = {id}.0"),
            4 => format!("{p}id = {}.5", self.int(1, 120)),
            // Not `name = 0`: MariaDB 10.11 answers a string column compared with a number
            // differently by plan (`SELECT COUNT(*), MIN(id) ... WHERE name = 0` gives 0 rows,
            // `... IGNORE INDEX (name)` 283), so the reference itself is not a ground truth.
            5 => format!("{p}name = {}", self.pick(&["'0'", "'1'", "' '"])),
            6 => format!("{p}name IN ({}, '0')", self.name()),
            7 => format!("{p}name LIKE {}", self.name()),
            8 => format!("{p}name = {} COLLATE utf8mb4_bin", self.name()),
            9 => format!("BINARY {p}name = {}", self.name()),
            10 => format!("{p}name <=> {}", self.pick(&["NULL", "'bob'", "'ALICE'"])),
            11 => format!("{p}name IN ({}, NULL)", self.name()),
            12 => format!("{p}name NOT IN ({}, {})", self.name(), self.name()),
            13 => format!("({p}id = {id} OR {p}name = {})", self.name()),
            14 => format!("{p}id IN ('{id}', '{}')", self.user_id()),
            15 => format!(
                "{p}id = (SELECT MAX(user_id) FROM orders WHERE status = {})",
                self.pick(&STATUSES)
            ),
            16 => format!(
                "{p}id IN (SELECT user_id FROM orders WHERE id = {})",
                self.oid()
            ),
            17 => {
                let k = self.int(1, 120);
                match self.rng.gen_range(0..10) {
                    0 => format!("{p}id = 0x{k:02x}"),
                    1 => format!("{p}id = b'{k:b}'"),
                    2 => format!("{p}id = {k}e0"),
                    3 => format!("{p}id = '  {k}'"),
                    4 => format!("{p}id = '{k}abc'"),
                    5 => format!("{p}id = {} + 1", k - 1),
                    6 => format!("{p}id = TRUE"),
                    7 => format!("({p}id, {p}name) IN (({k}, {}))", self.name()),
                    8 => format!("{p}id = {k} AND {p}id = {}", k + 1),
                    _ => format!("{p}id BETWEEN {k} AND {k}"),
                }
            }
            18 => match self.rng.gen_range(0..5) {
                0 => "name = _utf8mb4'alice'".replace("name", &format!("{p}name")),
                1 => format!("{p}name = 'AL' 'ICE'"),
                2 => format!("{p}name = CONCAT('b', 'ob')"),
                3 => format!("{p}name = {} COLLATE utf8mb4_general_ci", self.name()),
                _ => format!("{p}name = N'José'"),
            },
            _ => format!("{p}name = {} AND {p}name = {}", self.name(), self.name()),
        }
    }

    /// A predicate on `user`: one atom, or two or three combined.
    pub fn user_pred(&mut self, p: &str) -> String {
        self.combine(|g| g.user_atom(p))
    }

    /// One predicate on `orders` (columns prefixed by `p`).
    pub fn order_atom(&mut self, p: &str) -> String {
        match self.rng.gen_range(0..17) {
            12 => format!("{p}id = '{}'", self.order_id()),
            13 => format!("{p}id <=> {}", self.pick(&["NULL", "7", "901"])),
            14 => format!("{p}user_id = '{}'", self.user_id()),
            15 => format!("{p}id IN ({}, NULL)", self.oid()),
            16 => format!(
                "{p}status = {}",
                self.pick(&["'paid '", "'PAID'", "'new' COLLATE utf8mb4_bin"])
            ),
            0 | 1 => format!("{p}user_id = {}", self.uid()),
            2 => {
                let n = self.rng.gen_range(1..6);
                format!("{p}user_id IN ({})", self.list(n, |g| g.uid()))
            }
            3 | 4 => format!("{p}id = {}", self.oid()),
            5 => {
                let n = self.rng.gen_range(1..6);
                format!("{p}id IN ({})", self.list(n, |g| g.oid()))
            }
            6 => {
                let a = self.int(-3, 900);
                format!("{p}id BETWEEN {a} AND {}", a + self.int(0, 40))
            }
            7 | 8 => format!("{p}status = {}", self.pick(&STATUSES)),
            9 => format!("{p}amount {} {}", self.pick(&[">", "<"]), self.int(0, 1000)),
            10 => format!("{p}amount IS {}NULL", self.pick(&["", "NOT "])),
            _ => format!("{p}user_id > {}", self.int(0, 200)),
        }
    }

    /// A predicate on `orders`.
    pub fn order_pred(&mut self, p: &str) -> String {
        self.combine(|g| g.order_atom(p))
    }

    fn combine(&mut self, mut atom: impl FnMut(&mut Self) -> String) -> String {
        match self.rng.gen_range(0..10) {
            0..=5 => atom(self),
            6 | 7 => format!("{} AND {}", atom(self), atom(self)),
            8 => format!("({} OR {})", atom(self), atom(self)),
            _ => format!("NOT ({})", atom(self)),
        }
    }
}

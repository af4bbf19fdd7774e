//! Result equivalence of a sharded keyspace with one plain database (issue 3, "How it is
//! checked").
//!
//! The same deterministic data set (~300 users, ~900 orders, a 5-row reference table) is loaded
//! through the proxy into keyspace `customer` (4 shards, `hash` primary vindex on `user.id` and
//! on `orders.user_id`, so `user JOIN orders ON user.id = orders.user_id` is shard-local) and,
//! with the same statements, into one reference database on a shared test server. Then every
//! statement of `tests/data/sharded_equivalence.sql` (points, IN, tuple IN, range scans,
//! ORDER BY/LIMIT/OFFSET, aggregates, COUNT(DISTINCT), GROUP BY, HAVING, DISTINCT, joins with
//! the vindex and the reference table, subqueries, prepared statements, DML followed by reads)
//! runs on both, in file order, and the outcomes must be identical: same column count and rows
//! (as text; in order when the statement has a top-level ORDER BY, as multisets otherwise),
//! same affected-row count for DML, same error code when the reference database fails too. A
//! statement tagged `refuse` may instead be refused with 1235, as the issue allows for what the
//! proxy cannot compute exactly; it must never give a different answer. The reference table is
//! loaded directly into every shard, as a copy job would. At the end each shard's rows are read
//! directly and checked to sit on the shard their keyspace id names (the DML may not misplace
//! rows).
//!
//! All differences are collected and reported together in one panic at the end (statement, file
//! line, expected rows, rows or error received), after the environment is torn down.

mod common;

use common::{backend_url, cluster_async, EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, QueryResult, Row, Value};
use shardgate::keyrange::KeyRange;
use shardgate::vindex::{create_vindex, Destination, SqlValue, Vindex};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The sharded keyspace under test.
const KEYSPACE: &str = "customer";
/// Its shards.
const SHARDS: [&str; 4] = ["-40", "40-80", "80-c0", "c0-"];
/// The statements to compare; the format is described at the top of the file.
const STATEMENTS: &str = include_str!("data/sharded_equivalence.sql");
/// Longest a single statement may take before it counts as a failure.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);
/// Rows shown per side in the report.
const SHOWN_ROWS: usize = 4;

/// Tables of `customer`, created through the proxy (every shard) and in the reference database.
const CUSTOMER_DDL: [&str; 3] = [
    "CREATE TABLE user (id bigint PRIMARY KEY, name varchar(64), age int, city varchar(32), \
     balance decimal(10,2), created date)",
    "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, amount decimal(10,2), \
     status varchar(16))",
    "CREATE TABLE country (code varchar(2) PRIMARY KEY, name varchar(32))",
];

/// A table of the unsharded `commerce` keyspace (qualified; see [`reference_sql`]).
const COMMERCE_DDL: &str =
    "CREATE TABLE commerce.promo (code varchar(8) PRIMARY KEY, city varchar(32), discount decimal(5,2))";
const COMMERCE_DATA: &str = "INSERT INTO commerce.promo (code, city, discount) VALUES \
     ('SPRING', 'Paris', 5.00), ('LIMA10', 'Lima', 10.00), ('SG', 'Singapore', 2.50), ('NONE', NULL, 0.00)";

/// The reference table's rows, loaded into every shard directly.
const COUNTRY_DATA: &str = "INSERT INTO country (code, name) VALUES ('SG', 'Singapore'), \
     ('MO', 'Monaco'), ('LU', 'Luxembourg'), ('HK', 'Hong Kong'), ('FR', 'France')";

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
const RESERVED_IDS: [i64; 10] = [
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

fn vschema() -> serde_json::Value {
    serde_json::json!({
        "sharded": true,
        "vindexes": { "hash": { "type": "hash" } },
        "tables": {
            "user": { "column_vindexes": [ { "column": "id", "name": "hash" } ] },
            "orders": { "column_vindexes": [ { "column": "user_id", "name": "hash" } ] },
            "country": { "type": "reference" }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Data

/// A 64-bit linear congruential generator (Knuth's MMIX constants): deterministic data without
/// an RNG crate.
struct Lcg(u64);

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

#[derive(Debug, Clone)]
struct User {
    id: i64,
    name: Option<&'static str>,
    age: Option<u64>,
    city: Option<&'static str>,
    /// In cents.
    balance: Option<i64>,
    /// `YYYY-MM-DD`.
    created: Option<String>,
}

#[derive(Debug, Clone)]
struct Order {
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
fn date_after_2020(mut days: u32) -> String {
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
fn generate_users(rng: &mut Lcg) -> Vec<User> {
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
fn generate_orders(rng: &mut Lcg, users: &[User]) -> Vec<Order> {
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
fn insert_statements(users: &[User], orders: &[Order]) -> Vec<String> {
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
fn user_literal(users: &[User], col: &str, id: i64) -> String {
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

// ---------------------------------------------------------------------------------------------
// Statements

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Must give the reference database's outcome.
    Match,
    /// May be refused with 1235; otherwise must match.
    MayRefuse,
}

#[derive(Debug, Clone)]
struct Statement {
    /// Line in the statements file.
    line: usize,
    tag: &'static str,
    expect: Expect,
    /// Lowercase every value before comparing.
    fold_case: bool,
    sql: String,
    /// Prepared-statement parameters (`None`: text protocol).
    params: Option<Vec<Value>>,
}

/// Replaces `{user.COL:ID}` placeholders.
fn expand_placeholders(sql: &str, users: &[User]) -> String {
    let mut out = String::new();
    let mut rest = sql;
    while let Some(start) = rest.find("{user.") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .unwrap_or_else(|| panic!("unterminated placeholder in {sql}"));
        let inner = &rest[start + "{user.".len()..end];
        let (col, id) = inner
            .split_once(':')
            .unwrap_or_else(|| panic!("bad placeholder {{user.{inner}}}"));
        let id: i64 = id.parse().expect("placeholder id");
        out.push_str(&user_literal(users, col, id));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// `5, 'x', -1` → values (integers or single-quoted strings without commas).
fn parse_params(text: &str) -> Vec<Value> {
    text.split(',')
        .map(str::trim)
        .map(
            |p| match p.strip_prefix('\'').and_then(|p| p.strip_suffix('\'')) {
                Some(s) => Value::Bytes(s.as_bytes().to_vec()),
                None => Value::Int(p.parse().unwrap_or_else(|_| panic!("bad parameter {p}"))),
            },
        )
        .collect()
}

fn parse_statements(text: &'static str, users: &[User]) -> Vec<Statement> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (tag, rest) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("line {line_no}: no statement after the tag"));
        let (expect, fold_case, prepared) = match tag {
            "ok" => (Expect::Match, false, false),
            "ci" => (Expect::Match, true, false),
            "refuse" => (Expect::MayRefuse, false, false),
            // Known gaps of the planner: must become `ok`; until then refused with 1235.
            "gap" => (Expect::MayRefuse, false, false),
            "gap-ci" => (Expect::MayRefuse, true, false),
            "gap-prep" => (Expect::MayRefuse, false, true),
            "prep" => (Expect::Match, false, true),
            other => panic!("line {line_no}: unknown tag {other:?}"),
        };
        let (sql, params) = if prepared {
            let (sql, params) = rest
                .rsplit_once(" :: ")
                .unwrap_or_else(|| panic!("line {line_no}: prep needs ` :: <params>`"));
            (sql, Some(parse_params(params)))
        } else {
            (rest, None)
        };
        out.push(Statement {
            line: line_no,
            tag,
            expect,
            fold_case,
            sql: expand_placeholders(sql.trim(), users),
            params,
        });
    }
    out
}

/// Whether `sql` has an ORDER BY outside parentheses and string literals.
fn has_top_level_order_by(sql: &str) -> bool {
    let upper = sql.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ if depth == 0 && upper[i..].starts_with("ORDER BY") => return true,
                _ => {}
            },
        }
        i += 1;
    }
    false
}

/// The statement as the reference database runs it: keyspace qualifiers become its name.
fn reference_sql(sql: &str, refdb: &str) -> String {
    sql.replace("customer.", &format!("`{refdb}`."))
        .replace("commerce.", &format!("`{refdb}`."))
}

// ---------------------------------------------------------------------------------------------
// Running and comparing

type Rows = Vec<Vec<Option<String>>>;

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// A result set.
    Rows { columns: usize, rows: Rows },
    /// An OK packet.
    Done { affected: u64 },
    /// A server error.
    Failed { code: u16, message: String },
    /// The connection failed or the statement timed out (the proxy connection is replaced).
    Broken { message: String },
}

impl Outcome {
    fn is_code(&self, want: u16) -> bool {
        matches!(self, Outcome::Failed { code, .. } if *code == want)
    }
}

fn cell(v: Value) -> Option<String> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

async fn collect<P: Protocol>(
    mut result: QueryResult<'_, '_, P>,
) -> Result<Outcome, mysql_async::Error> {
    let columns = result.columns().map_or(0, |c| c.len());
    let affected = result.affected_rows();
    let rows: Vec<Row> = result.collect().await?;
    result.drop_result().await?;
    if columns == 0 {
        return Ok(Outcome::Done { affected });
    }
    let rows = rows
        .into_iter()
        .map(|r| r.unwrap().into_iter().map(cell).collect())
        .collect();
    Ok(Outcome::Rows { columns, rows })
}

/// Runs one statement (prepared when `params` is given) and returns what happened.
async fn run(conn: &mut Conn, sql: &str, params: Option<&[Value]>) -> Outcome {
    let work = async {
        match params {
            None => collect(conn.query_iter(sql).await?).await,
            Some(p) => collect(conn.exec_iter(sql, p.to_vec()).await?).await,
        }
    };
    match tokio::time::timeout(STATEMENT_TIMEOUT, work).await {
        Err(_) => Outcome::Broken {
            message: format!("no answer within {STATEMENT_TIMEOUT:?}"),
        },
        Ok(Ok(outcome)) => outcome,
        Ok(Err(mysql_async::Error::Server(e))) => Outcome::Failed {
            code: e.code,
            message: e.message,
        },
        Ok(Err(e)) => Outcome::Broken {
            message: e.to_string(),
        },
    }
}

/// Both sides of the comparison.
struct Sides<'e> {
    env: &'e TestEnv,
    proxy: Conn,
    reference: Conn,
    refdb: String,
}

impl Sides<'_> {
    /// A proxy connection (default database `commerce`, as [`TestEnv::client`] opens it) with
    /// `USE customer`.
    async fn proxy_conn(env: &TestEnv) -> Conn {
        let mut conn = env.client().await;
        conn.query_drop(format!("USE {KEYSPACE}"))
            .await
            .unwrap_or_else(|e| panic!("USE {KEYSPACE} through the proxy: {e}"));
        conn
    }

    /// Runs on the proxy; a broken connection is replaced for the next statement.
    async fn on_proxy(&mut self, sql: &str, params: Option<&[Value]>) -> Outcome {
        let outcome = run(&mut self.proxy, sql, params).await;
        if matches!(outcome, Outcome::Broken { .. }) {
            self.proxy = Self::proxy_conn(self.env).await;
        }
        outcome
    }

    /// Runs on the reference database, which must not break.
    async fn on_reference(&mut self, sql: &str, params: Option<&[Value]>) -> Outcome {
        let sql = reference_sql(sql, &self.refdb);
        let outcome = run(&mut self.reference, &sql, params).await;
        if let Outcome::Broken { message } = &outcome {
            panic!("the reference database failed on {sql}: {message}");
        }
        outcome
    }
}

/// Normalizes an outcome for comparison: sorted rows unless ordered, lowercased if folding.
fn normalize(outcome: &Outcome, ordered: bool, fold_case: bool) -> Outcome {
    match outcome {
        Outcome::Rows { columns, rows } => {
            let mut rows: Rows = rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|c| {
                            c.as_ref().map(|s| {
                                if fold_case {
                                    s.to_lowercase()
                                } else {
                                    s.clone()
                                }
                            })
                        })
                        .collect()
                })
                .collect();
            if !ordered {
                rows.sort();
            }
            Outcome::Rows {
                columns: *columns,
                rows,
            }
        }
        other => other.clone(),
    }
}

/// Whether two normalized outcomes agree; errors agree on their code alone (the proxy may word
/// the message differently).
fn same(expected: &Outcome, got: &Outcome) -> bool {
    match (expected, got) {
        (Outcome::Failed { code: a, .. }, Outcome::Failed { code: b, .. }) => a == b,
        _ => expected == got,
    }
}

fn render_row(row: &[Option<String>]) -> String {
    let cells: Vec<String> = row
        .iter()
        .map(|c| c.as_ref().map_or("NULL".into(), |s| format!("{s:?}")))
        .collect();
    format!("({})", cells.join(", "))
}

fn render_rows(rows: &[Vec<Option<String>>]) -> String {
    let mut s: Vec<String> = rows
        .iter()
        .take(SHOWN_ROWS)
        .map(|r| render_row(r))
        .collect();
    if rows.len() > SHOWN_ROWS {
        s.push(format!("… {} more", rows.len() - SHOWN_ROWS));
    }
    s.join(" ")
}

fn render(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Rows { columns, rows } => {
            format!(
                "{} rows × {columns} cols: {}",
                rows.len(),
                render_rows(rows)
            )
        }
        Outcome::Done { affected } => format!("OK, {affected} rows affected"),
        Outcome::Failed { code, message } => format!("error {code}: {message}"),
        Outcome::Broken { message } => format!("connection failure: {message}"),
    }
}

/// Rows of `a` not in `b`, as multisets.
fn multiset_minus(a: &Rows, b: &Rows) -> Rows {
    let mut counts: BTreeMap<&Vec<Option<String>>, usize> = BTreeMap::new();
    for r in b {
        *counts.entry(r).or_default() += 1;
    }
    a.iter()
        .filter(|r| match counts.get_mut(r) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

/// A readable description of how `got` differs from `expected` (both normalized).
fn describe_difference(expected: &Outcome, got: &Outcome, ordered: bool) -> String {
    let mut s = format!(
        "    expected: {}\n    got:      {}",
        render(expected),
        render(got)
    );
    if let (
        Outcome::Rows {
            columns: ce,
            rows: re,
        },
        Outcome::Rows {
            columns: cg,
            rows: rg,
        },
    ) = (expected, got)
    {
        if ce != cg {
            let _ = write!(s, "\n    column count differs: {ce} vs {cg}");
        }
        let missing = multiset_minus(re, rg);
        let extra = multiset_minus(rg, re);
        if !missing.is_empty() {
            let _ = write!(
                s,
                "\n    missing ({}): {}",
                missing.len(),
                render_rows(&missing)
            );
        }
        if !extra.is_empty() {
            let _ = write!(s, "\n    extra ({}): {}", extra.len(), render_rows(&extra));
        }
        if ordered && missing.is_empty() && extra.is_empty() {
            if let Some(i) = re.iter().zip(rg).position(|(a, b)| a != b) {
                let _ = write!(
                    s,
                    "\n    same rows, different order; first difference at row {i}: expected {} got {}",
                    render_row(&re[i]),
                    render_row(&rg[i])
                );
            }
        }
    }
    s
}

/// What the run found.
#[derive(Default)]
struct Report {
    /// Setup steps that failed.
    setup: Vec<String>,
    /// Statements that differ.
    mismatches: Vec<String>,
    /// Proxy error codes among the mismatches.
    proxy_errors: BTreeMap<String, usize>,
    /// Statements compared.
    compared: usize,
    /// `refuse` statements the proxy refused with 1235.
    refused: usize,
    /// `refuse` statements the proxy answered (identically).
    answered_refusable: Vec<usize>,
    /// Rows found on a shard their keyspace id does not name, or on several shards, or
    /// shards that could not be read.
    placement: Vec<String>,
}

impl Report {
    fn note_proxy_error(&mut self, got: &Outcome) {
        let key = match got {
            Outcome::Failed { code, .. } => format!("error {code}"),
            Outcome::Broken { .. } => "connection failure".into(),
            Outcome::Rows { .. } => "wrong rows".into(),
            Outcome::Done { .. } => "wrong affected rows / OK instead of rows".into(),
        };
        *self.proxy_errors.entry(key).or_default() += 1;
    }

    fn is_clean(&self) -> bool {
        self.setup.is_empty() && self.mismatches.is_empty() && self.placement.is_empty()
    }

    fn text(&self, total: usize) -> String {
        let mut s = format!(
            "sharded result equivalence: {} of {total} statements differ, {} setup steps failed, \
             {} placement problems ({} statements compared; {} refused with 1235 where allowed)\n",
            self.mismatches.len(),
            self.setup.len(),
            self.placement.len(),
            self.compared,
            self.refused,
        );
        if !self.proxy_errors.is_empty() {
            let kinds: Vec<String> = self
                .proxy_errors
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect();
            let _ = writeln!(
                s,
                "proxy outcomes of the differing statements: {}",
                kinds.join(", ")
            );
        }
        if !self.setup.is_empty() {
            let _ = writeln!(
                s,
                "\n=== SETUP FAILED (the statement results below are unreliable) ==="
            );
            for f in &self.setup {
                let _ = writeln!(s, "{f}");
            }
        }
        if !self.mismatches.is_empty() {
            let _ = writeln!(s, "\n=== differing statements ===");
            for m in &self.mismatches {
                let _ = writeln!(s, "{m}");
            }
        }
        if !self.placement.is_empty() {
            let _ = writeln!(s, "\n=== rows not on the shard their keyspace id names ===");
            for p in &self.placement {
                let _ = writeln!(s, "{p}");
            }
        }
        s
    }
}

/// A setup step on both sides: both must succeed with the same affected-row count.
async fn setup_both(sides: &mut Sides<'_>, report: &mut Report, what: &str, sql: &str) {
    let got = sides.on_proxy(sql, None).await;
    let expected = sides.on_reference(sql, None).await;
    let ok = matches!(expected, Outcome::Done { .. }) && got == expected;
    if !ok {
        report.setup.push(format!(
            "--- setup: {what}\n    {}\n    reference: {}\n    proxy:     {}",
            abbreviate(sql),
            render(&expected),
            render(&got)
        ));
    }
}

fn abbreviate(sql: &str) -> String {
    if sql.chars().count() > 160 {
        format!("{}…", sql.chars().take(160).collect::<String>())
    } else {
        sql.to_string()
    }
}

/// Runs one statement on both sides and records any difference.
async fn compare(sides: &mut Sides<'_>, report: &mut Report, st: &Statement) {
    let params = st.params.as_deref();
    let got = sides.on_proxy(&st.sql, params).await;
    if st.expect == Expect::MayRefuse && got.is_code(1235) {
        // Refused as allowed; a refused DML must not run on the reference either.
        report.refused += 1;
        return;
    }
    let expected = sides.on_reference(&st.sql, params).await;
    report.compared += 1;
    let ordered = has_top_level_order_by(&st.sql);
    let (e, g) = (
        normalize(&expected, ordered, st.fold_case),
        normalize(&got, ordered, st.fold_case),
    );
    if same(&e, &g) {
        if st.expect == Expect::MayRefuse {
            report.answered_refusable.push(st.line);
        }
        return;
    }
    report.note_proxy_error(&got);
    let params = st
        .params
        .as_ref()
        .map(|p| {
            let p: Vec<String> = p.iter().map(|v| v.as_sql(true)).collect();
            format!("  [params: {}]", p.join(", "))
        })
        .unwrap_or_default();
    let how = if ordered { "ordered" } else { "as multiset" };
    report.mismatches.push(format!(
        "--- line {} [{}] ({how}): {}{params}\n{}",
        st.line,
        st.tag,
        abbreviate(&st.sql),
        describe_difference(&e, &g, ordered)
    ));
}

// ---------------------------------------------------------------------------------------------
// Placement

fn hash_vindex() -> Arc<dyn Vindex> {
    create_vindex("hash", "hash", &BTreeMap::new()).expect("hash vindex")
}

fn keyspace_id(vindex: &dyn Vindex, id: i64) -> Vec<u8> {
    match vindex.map(&[SqlValue::int64(id)]).expect("hash map") {
        mut d if d.len() == 1 => match d.remove(0) {
            Destination::KeyspaceId(k) => k,
            other => panic!("hash({id}) gave {other}"),
        },
        d => panic!("hash({id}) gave {} destinations", d.len()),
    }
}

/// Reads `SELECT <key column> FROM <table>` on every shard directly and records each row that
/// is not on the shard its keyspace id names, or is on more than one shard.
async fn check_placement(env: &TestEnv, report: &mut Report, table: &str, key: &str) {
    let vindex = hash_vindex();
    let mut seen: BTreeMap<(i64, i64), Vec<&str>> = BTreeMap::new();
    for shard in SHARDS {
        let range = KeyRange::parse_shard_name(shard).expect("shard name");
        let mut conn = env.shard_conn(KEYSPACE, shard).await;
        let rows: Vec<(i64, i64)> = match conn.query(format!("SELECT id, {key} FROM {table}")).await
        {
            Ok(rows) => rows,
            Err(e) => {
                report
                    .placement
                    .push(format!("{table} on {shard}: cannot read: {e}"));
                continue;
            }
        };
        for (id, k) in rows {
            let ksid = keyspace_id(&*vindex, k);
            if !range.contains(&ksid) {
                report.placement.push(format!(
                    "{table} id={id}: {key}={k} has keyspace id {} but sits on shard {shard}",
                    shardgate::keyrange::to_hex(&ksid)
                ));
            }
            seen.entry((id, k)).or_default().push(shard);
        }
        let _ = conn.disconnect().await;
    }
    for ((id, _), shards) in seen {
        if shards.len() > 1 {
            report
                .placement
                .push(format!("{table} id={id} is on several shards: {shards:?}"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn vschema_is_valid() {
    let text = serde_json::to_string(&vschema()).expect("json");
    shardgate::vschema::KeyspaceSchema::parse(KEYSPACE, &text)
        .unwrap_or_else(|e| panic!("the test VSchema is invalid: {e}"));
    let mut rng = Lcg(1);
    let users = generate_users(&mut rng);
    let statements = parse_statements(STATEMENTS, &users);
    assert!(
        statements.len() >= 220,
        "only {} statements",
        statements.len()
    );
    for id in RESERVED_IDS {
        assert!(users.iter().all(|u| u.id != id), "generator made {id}");
    }
}

#[test]
fn order_by_detection() {
    assert!(has_top_level_order_by("select a from t order by a"));
    assert!(!has_top_level_order_by(
        "select (select x from t order by x limit 1) from u"
    ));
    assert!(!has_top_level_order_by("select 'order by' from t"));
    assert_eq!(date_after_2020(0), "2020-01-01");
    assert_eq!(date_after_2020(59), "2020-02-29");
    assert_eq!(date_after_2020(366), "2021-01-01");
}

#[tokio::test(flavor = "multi_thread")]
async fn sharded_results_match_a_single_database() {
    let started = Instant::now();
    let env = TestEnv::start(EnvSpec::default().with_keyspace(KeyspaceSpec::sharded(
        KEYSPACE,
        &SHARDS,
        vschema(),
    )))
    .await;

    // The reference database: one plain database on shared server 0, unique to this run.
    let port = cluster_async().await.servers[0].port;
    let refdb = format!("eqref_{}_{}", std::process::id(), env.id);
    let mut admin = Conn::from_url(backend_url(port, None))
        .await
        .expect("connecting to shared server 0");
    admin
        .query_drop(format!("CREATE DATABASE `{refdb}`"))
        .await
        .expect("creating the reference database");
    let reference = Conn::from_url(backend_url(port, Some(&refdb)))
        .await
        .expect("connecting to the reference database");
    let mut sides = Sides {
        env: &env,
        proxy: Sides::proxy_conn(&env).await,
        reference,
        refdb: refdb.clone(),
    };
    let mut report = Report::default();

    // Schema: through the proxy (DDL goes to every shard) and in the reference database.
    for ddl in CUSTOMER_DDL {
        setup_both(&mut sides, &mut report, "DDL", ddl).await;
    }
    setup_both(&mut sides, &mut report, "unsharded DDL", COMMERCE_DDL).await;

    // Data.
    let mut rng = Lcg(0x5eed_cafe);
    let users = generate_users(&mut rng);
    let orders = generate_orders(&mut rng, &users);
    for sql in insert_statements(&users, &orders) {
        setup_both(&mut sides, &mut report, "multi-row INSERT", &sql).await;
    }
    setup_both(&mut sides, &mut report, "unsharded INSERT", COMMERCE_DATA).await;
    // The reference table is a copy on every shard, loaded like a copy job would.
    for shard in SHARDS {
        let mut conn = env.shard_conn(KEYSPACE, shard).await;
        if let Err(e) = conn.query_drop(COUNTRY_DATA).await {
            report.setup.push(format!(
                "--- setup: loading country on {shard} directly: {e}"
            ));
        }
        let _ = conn.disconnect().await;
    }
    let expected = sides.on_reference(COUNTRY_DATA, None).await;
    assert!(
        matches!(expected, Outcome::Done { affected: 5 }),
        "reference country: {expected:?}"
    );
    let setup_time = started.elapsed();

    // The statements, in file order.
    let statements = parse_statements(STATEMENTS, &users);
    for st in &statements {
        compare(&mut sides, &mut report, st).await;
    }

    // Every row still sits on the shard its keyspace id names.
    check_placement(&env, &mut report, "user", "id").await;
    check_placement(&env, &mut report, "orders", "user_id").await;

    eprintln!(
        "sharded equivalence: {} statements in {:?} (setup {:?}); {} refused with 1235 as allowed; \
         `refuse` statements answered identically at lines {:?}",
        statements.len(),
        started.elapsed(),
        setup_time,
        report.refused,
        report.answered_refusable
    );

    // Tear down before reporting.
    let Sides {
        proxy, reference, ..
    } = sides;
    let _ = proxy.disconnect().await;
    let _ = reference.disconnect().await;
    admin
        .query_drop(format!("DROP DATABASE IF EXISTS `{refdb}`"))
        .await
        .expect("dropping the reference database");
    let _ = admin.disconnect().await;
    env.stop().await;

    if !report.is_clean() {
        panic!("{}", report.text(statements.len()));
    }
}

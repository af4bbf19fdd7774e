//! UPDATE/DELETE with LIMIT (and ORDER BY) on more than one shard (issue 18): the statement
//! changes exactly the rows one MariaDB holding the same rows changes. Every statement runs
//! through the proxy on a 4-shard keyspace and directly on the unsharded keyspace's database;
//! affected rows and the whole table afterwards must be equal (ORDER BY keys are unique, so
//! the rows are determined; LIMIT without ORDER BY must still change exactly n rows). An owner
//! table's lookup rows follow the rows changed.

mod common;

use common::user_lookups::UserLookups;
use common::{EnvSpec, KeyspaceSpec, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Row, Value};
use serde_json::json;

const SHARDS: [&str; 4] = ["-40", "40-80", "80-c0", "c0-"];

const T_DDL: &str = "CREATE TABLE t (
    id BIGINT NOT NULL PRIMARY KEY,
    grp INT NOT NULL,
    score INT NOT NULL,
    name VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
    UNIQUE KEY score (score))";

/// `o` is sharded by `user_id`, which is not unique: the pick must use the primary key.
const O_DDL: &str = "CREATE TABLE o (
    id BIGINT NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL,
    amount INT NOT NULL)";

fn spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {
            "t": {"column_vindexes": [{"column": "id", "name": "hash"}]},
            "o": {"column_vindexes": [{"column": "user_id", "name": "hash"}]},
            "nopk": {"column_vindexes": [{"column": "id", "name": "hash"}]}
        }
    });
    EnvSpec::default().with_keyspace(KeyspaceSpec::sharded("customer", &SHARDS, customer))
}

fn rows_sql() -> (String, String) {
    let t: Vec<String> = (1..=40)
        .map(|i| {
            let name = ["ann", "Bob", "cy", "dee", "ANN"][i % 5];
            format!("({i}, {}, {}, '{name}')", i % 4, (i * 37) % 101)
        })
        .collect();
    let o: Vec<String> = (1..=30)
        .map(|i| format!("({i}, {}, {})", i % 3 + 1, (i * 13) % 17))
        .collect();
    (
        format!(
            "INSERT INTO t (id, grp, score, name) VALUES {}",
            t.join(", ")
        ),
        format!(
            "INSERT INTO o (id, user_id, amount) VALUES {}",
            o.join(", ")
        ),
    )
}

async fn setup() -> (TestEnv, Conn, Conn) {
    let env = TestEnv::start(spec()).await;
    let mut direct = env.shard_conn("commerce", "0").await;
    let mut proxied = env.client_as("root", "", Some("customer")).await;
    proxied.query_drop(T_DDL).await.expect("t DDL");
    proxied.query_drop(O_DDL).await.expect("o DDL");
    direct.query_drop(T_DDL).await.expect("direct t DDL");
    direct.query_drop(O_DDL).await.expect("direct o DDL");
    let (t, o) = rows_sql();
    for c in [&mut direct, &mut proxied] {
        c.query_drop(&t).await.expect("t rows");
        c.query_drop(&o).await.expect("o rows");
    }
    (env, direct, proxied)
}

async fn table(c: &mut Conn, name: &str) -> Vec<Vec<Value>> {
    let rows: Vec<Row> = c
        .query(format!("SELECT * FROM {name} ORDER BY id"))
        .await
        .expect("read table");
    rows.into_iter().map(Row::unwrap).collect()
}

/// Runs `sql` on both sides; affected rows and the tables must agree afterwards.
async fn same_effect(direct: &mut Conn, proxied: &mut Conn, sql: &str) -> u64 {
    direct.query_drop(sql).await.expect("direct");
    let want = direct.affected_rows();
    proxied
        .query_drop(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(proxied.affected_rows(), want, "affected rows of {sql}");
    for name in ["t", "o"] {
        assert_eq!(
            table(proxied, name).await,
            table(direct, name).await,
            "table {name} after {sql}"
        );
    }
    want
}

#[tokio::test(flavor = "multi_thread")]
async fn ordered_limits_change_the_rows_one_server_changes() {
    let (env, mut direct, mut proxied) = setup().await;
    for sql in [
        "UPDATE t SET name = 'top' WHERE grp = 1 ORDER BY score DESC LIMIT 3",
        "UPDATE t SET grp = grp + 10 ORDER BY score LIMIT 5",
        "UPDATE t SET score = score + 1000 WHERE name = 'ann' ORDER BY name, id DESC LIMIT 4",
        "DELETE FROM t WHERE grp IN (0, 2) ORDER BY score LIMIT 4",
        "DELETE FROM t WHERE id IN (1, 5, 9, 13, 17, 21) ORDER BY id DESC LIMIT 2",
        "DELETE FROM t ORDER BY id LIMIT 0",
        "DELETE FROM t WHERE name = 'nobody' ORDER BY id LIMIT 3",
        // More than there are: every matching row.
        "UPDATE t SET name = 'many' WHERE grp = 3 ORDER BY id LIMIT 100",
        // o's vindex column is not unique: the keys picked are o's primary key.
        "UPDATE o SET amount = amount + 100 WHERE amount > 3 ORDER BY amount DESC, id LIMIT 7",
        "DELETE FROM o ORDER BY user_id, id LIMIT 5",
        // An alias; IGNORE.
        "UPDATE t AS x SET x.name = 'alias' WHERE x.grp <> 2 ORDER BY x.score DESC LIMIT 2",
        "UPDATE IGNORE t SET name = 'ign' WHERE name LIKE 'b%' ORDER BY id DESC LIMIT 2",
        "DELETE IGNORE FROM t WHERE grp = 0 ORDER BY score DESC LIMIT 1",
        // ORDER BY without LIMIT: every shard changes its own rows.
        "UPDATE t SET score = score + 1 ORDER BY score DESC",
    ] {
        same_effect(&mut direct, &mut proxied, sql).await;
    }
    // Prepared statements: the LIMIT and the WHERE as parameters, the SET's before them.
    let sql = "UPDATE t SET name = ? WHERE grp > ? ORDER BY score, id LIMIT ?";
    direct.exec_drop(sql, ("p", 1, 3)).await.expect("direct");
    proxied
        .exec_drop(sql, ("p", 1, 3))
        .await
        .expect("proxied prepared");
    assert_eq!(proxied.affected_rows(), direct.affected_rows());
    assert_eq!(
        table(&mut proxied, "t").await,
        table(&mut direct, "t").await
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn limit_without_order_changes_exactly_n_rows() {
    let (env, direct, mut proxied) = setup().await;
    let count = |rows: Vec<Vec<Value>>| rows.len();
    proxied
        .query_drop("DELETE FROM t WHERE grp <> 1 LIMIT 6")
        .await
        .expect("delete");
    assert_eq!(proxied.affected_rows(), 6);
    assert_eq!(count(table(&mut proxied, "t").await), 34);
    proxied
        .query_drop("UPDATE o SET amount = -1 LIMIT 4")
        .await
        .expect("update");
    assert_eq!(proxied.affected_rows(), 4);
    let changed: Option<i64> = proxied
        .query_first("SELECT COUNT(*) FROM o WHERE amount = -1")
        .await
        .expect("count");
    assert_eq!(changed, Some(4));
    // Inside a transaction the pick and the change roll back together.
    proxied.query_drop("BEGIN").await.expect("begin");
    proxied
        .query_drop("DELETE FROM t ORDER BY id LIMIT 10")
        .await
        .expect("delete in txn");
    assert_eq!(proxied.affected_rows(), 10);
    proxied.query_drop("ROLLBACK").await.expect("rollback");
    assert_eq!(count(table(&mut proxied, "t").await), 34);
    // A table without a primary key cannot be picked exactly.
    proxied
        .query_drop("CREATE TABLE nopk (id BIGINT, v INT)")
        .await
        .expect("ddl");
    proxied
        .query_drop("INSERT INTO nopk (id, v) VALUES (1, 1), (2, 2), (3, 3)")
        .await
        .expect("rows");
    let err = proxied
        .query_drop("DELETE FROM nopk ORDER BY v LIMIT 1")
        .await
        .expect_err("no primary key");
    assert!(
        matches!(&err, mysql_async::Error::Server(e) if e.code == 1235),
        "{err}"
    );
    let left: Option<i64> = proxied
        .query_first("SELECT COUNT(*) FROM nopk")
        .await
        .expect("count");
    assert_eq!(left, Some(3));
    drop(direct);
    env.stop().await;
}

/// The owner-DML path keeps the lookup rows of exactly the rows changed.
#[tokio::test(flavor = "multi_thread")]
async fn owner_tables_move_the_lookup_rows_of_the_picked_rows() {
    let fixture = UserLookups {
        write_only_email: false,
    };
    let env = TestEnv::start(fixture.spec()).await;
    fixture.create_tables(&env).await;
    let mut c = env.client_as("root", "", Some("customer")).await;
    let rows: Vec<String> = (1..=20)
        .map(|i| format!("({i}, 'n{}', {})", i % 7, 1000 + i))
        .collect();
    c.query_drop(format!(
        "INSERT INTO user (id, name, phone) VALUES {}",
        rows.join(", ")
    ))
    .await
    .expect("insert owners");
    c.query_drop("DELETE FROM user WHERE phone > 1005 ORDER BY phone DESC LIMIT 4")
        .await
        .expect("delete owners");
    assert_eq!(c.affected_rows(), 4);
    for id in 1..=3 {
        c.query_drop(format!(
            "UPDATE user SET phone = {} WHERE id >= {id} ORDER BY id LIMIT 1",
            1500 + id
        ))
        .await
        .expect("update owners");
        assert_eq!(c.affected_rows(), 1);
    }
    let ids: Vec<i64> = c
        .query("SELECT id FROM user ORDER BY id")
        .await
        .expect("ids");
    assert_eq!(ids, (1..=16).collect::<Vec<i64>>());
    let mut phones: Vec<i64> = c
        .query("SELECT phone FROM user ORDER BY phone")
        .await
        .expect("phones");
    phones.sort_unstable();
    let mut want: Vec<i64> = (1..=16).map(|i| 1000 + i).collect();
    for p in want.iter_mut().take(3) {
        *p += 500;
    }
    want.sort_unstable();
    assert_eq!(phones, want);
    // The lookup tables hold exactly the owners' values.
    let mut lookup_phones: Vec<i64> = Vec::new();
    let mut lookup_names = 0usize;
    for shard in common::user_lookups::SHARDS {
        let mut l = env.shard_conn("lookup", shard).await;
        let p: Vec<i64> = l
            .query("SELECT phone FROM phone_user_vdx")
            .await
            .expect("phones");
        lookup_phones.extend(p);
        let n: Option<i64> = l
            .query_first("SELECT COUNT(*) FROM name_user_vdx")
            .await
            .expect("names");
        lookup_names += n.unwrap_or(0) as usize;
    }
    lookup_phones.sort_unstable();
    assert_eq!(lookup_phones, want);
    assert_eq!(lookup_names, 16);
    // Routed by the lookup afterwards.
    let id: Option<i64> = c
        .query_first("SELECT id FROM user WHERE phone = 1501")
        .await
        .expect("lookup route");
    assert_eq!(id, Some(1));
    env.stop().await;
}

/// A seeded random series of UPDATE/DELETE with WHERE, ORDER BY (ending in a unique column,
/// so the rows are determined) and LIMIT over both tables; after each, affected rows and the
/// tables must equal one MariaDB's.
#[tokio::test(flavor = "multi_thread")]
async fn random_ordered_limits_match_one_server() {
    use rand::{Rng, SeedableRng};
    let (env, mut direct, mut proxied) = setup().await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x18d1);
    let mut statements = 0;
    let mut affected = 0;
    for n in 0..120 {
        if n % 40 == 39 {
            // Refill, so later statements still find rows.
            let (t, o) = rows_sql();
            for c in [&mut direct, &mut proxied] {
                c.query_drop("DELETE FROM t").await.expect("clear t");
                c.query_drop("DELETE FROM o").await.expect("clear o");
                c.query_drop(&t).await.expect("t rows");
                c.query_drop(&o).await.expect("o rows");
            }
        }
        let on_t = rng.gen_bool(0.6);
        let (table, unique, cols) = if on_t {
            (
                "t",
                ["id", "score"][rng.gen_range(0..2)],
                ["grp", "name", "id"],
            )
        } else {
            ("o", "id", ["amount", "user_id", "id"])
        };
        let mut order = Vec::new();
        for _ in 0..rng.gen_range(0..3) {
            let c = cols[rng.gen_range(0..cols.len())];
            order.push(format!("{c}{}", ["", " DESC", " ASC"][rng.gen_range(0..3)]));
        }
        order.push(format!(
            "{unique}{}",
            if rng.gen_bool(0.5) { " DESC" } else { "" }
        ));
        let filter = match rng.gen_range(0..5) {
            0 => String::new(),
            1 => format!(" WHERE id > {}", rng.gen_range(0..30)),
            2 => format!(
                " WHERE id IN ({}, {}, {})",
                rng.gen_range(1..41),
                rng.gen_range(1..41),
                rng.gen_range(1..41)
            ),
            3 if on_t => format!(
                " WHERE name = '{}'",
                ["ann", "BOB", "cy", "x"][rng.gen_range(0..4)]
            ),
            _ => format!(" WHERE {} < {}", cols[0], rng.gen_range(0..20)),
        };
        let limit = rng.gen_range(0..9);
        let sql = if rng.gen_bool(0.5) {
            let set = if on_t {
                format!("name = 'u{n}', grp = grp + 1")
            } else {
                format!("amount = amount + {n}")
            };
            format!(
                "UPDATE {table} SET {set}{filter} ORDER BY {} LIMIT {limit}",
                order.join(", ")
            )
        } else {
            format!(
                "DELETE FROM {table}{filter} ORDER BY {} LIMIT {limit}",
                order.join(", ")
            )
        };
        affected += same_effect(&mut direct, &mut proxied, &sql).await;
        statements += 1;
    }
    assert_eq!(statements, 120);
    assert!(affected > 100, "the statements changed rows: {affected}");
    env.stop().await;
}

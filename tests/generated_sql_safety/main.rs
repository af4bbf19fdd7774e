//! Generated SQL is built safely (issue 15, item 2): values the proxy writes into SQL it
//! generates itself (scatter interpolation of prepared-statement parameters, lookup reads and
//! writes, reclaim probes) cannot break out of their literal under any `sql_mode` or
//! connection character set.
//!
//! Every scenario runs under both `sql_mode`s (default and `NO_BACKSLASH_ESCAPES`, set with an
//! expression the proxy must read back) × connection character sets utf8mb4, gbk, sjis, big5
//! and latin1, through the proxy and against one MariaDB database holding the same rows (the
//! reference, same unique keys): results, affected rows and the whole table must be equal, and
//! the lookup tables, read directly on their shards, must hold exactly the rows the owner rows
//! need. The only allowed difference is an honest refusal: 1235 for a non-ASCII string
//! parameter from a non-UTF-8 client (the proxy cannot hash it as the column stores it), 1210
//! for a NaN parameter, 1300 for bytes that are no text compared with a text column.
//!
//! Layout: [`UserLookups`] with the write-only email vindex (`email = ?` scatters, `name = ?`
//! routes through the `name_user_vdx` lookup table).

#[path = "../common/mod.rs"]
mod common;
mod handshake;
mod world;

use common::cluster_async;
use common::errors::expect_error;
use common::placement::{hash_ksid, shard_of, text_ksid};
use common::user_lookups::SHARDS;
use mysql_async::prelude::*;
use mysql_async::{Conn, Params, Row, Value};
use world::{payloads, World};

#[tokio::test]
async fn prepared_scatter_and_lookup_reads_match_mariadb() {
    let world = World::start().await;
    for (_, cs, nbe) in World::combos() {
        let mut p = world.pair(cs, nbe).await;
        let mut params = payloads(p.charset, "' OR 1=1 -- ");
        params.push(Value::Bytes(b"o'br\\ien@x".to_vec()));
        params.push(Value::Bytes(b"u3@x".to_vec()));
        // Bytes that are not text in any character set (binary data).
        params.push(Value::Bytes(b"\xff' OR 1=1 -- ".to_vec()));
        for v in &params {
            // `email` is write-only: a scatter with the parameter interpolated.
            p.query(
                "SELECT id, email FROM user WHERE email = ? ORDER BY id",
                vec![v.clone()],
            )
            .await;
            // A union tries to read another table.
            p.query(
                "SELECT id, email FROM user WHERE email = ? OR email = ? ORDER BY id",
                vec![
                    v.clone(),
                    Value::Bytes(b"' UNION SELECT 1, user FROM mysql.user -- ".to_vec()),
                ],
            )
            .await;
        }
        let mut names = payloads(p.charset, "' OR 1=1 -- ");
        names.push(Value::Bytes(b"o'br\\ien".to_vec()));
        names.push(Value::Bytes(b"N4".to_vec()));
        for v in names {
            // `name` routes through the lookup table: the value goes into the lookup query.
            p.query(
                "SELECT id, name FROM user WHERE name = ? ORDER BY id",
                vec![v],
            )
            .await;
        }
        // NaN is refused (1210), never written as a bare word.
        let nan = p
            .proxy
            .exec::<Row, _, _>(
                "SELECT id FROM user WHERE id > ? ORDER BY id",
                Params::Positional(vec![Value::Double(f64::NAN)]),
            )
            .await;
        expect_error(nan, 1210, "NaN parameter");
        let inf = p
            .proxy
            .exec::<Row, _, _>(
                "SELECT id FROM user WHERE id > ? ORDER BY id",
                Params::Positional(vec![Value::Double(f64::INFINITY)]),
            )
            .await;
        expect_error(inf, 1210, "infinite parameter");
        p.query(
            "SELECT id FROM user WHERE id > ? ORDER BY id",
            vec![Value::Double(2.5)],
        )
        .await;
        p.close().await;
    }
    world.stop().await;
}

#[tokio::test]
async fn prepared_delete_and_update_match_mariadb() {
    let world = World::start().await;
    for (k, cs, nbe) in World::combos() {
        let mut p = world.pair(cs, nbe).await;
        for v in payloads(p.charset, "' OR id = 5 -- ") {
            p.exec("DELETE FROM user WHERE email = ?", vec![v.clone()])
                .await;
            p.exec("UPDATE user SET phone = 7 WHERE email = ?", vec![v.clone()])
                .await;
        }
        // A row whose email and name hold a quote and a backslash: deleted exactly.
        let id = 1000 + k;
        let email = format!("d{k}'\\x@x").into_bytes();
        p.exec(
            "INSERT INTO user (id, name, phone, email) VALUES (?, ?, ?, ?)",
            vec![
                id.into(),
                Value::Bytes(format!("del'\\{k}").into_bytes()),
                (5000 + k).into(),
                Value::Bytes(email.clone()),
            ],
        )
        .await;
        p.exec(
            "DELETE FROM user WHERE email = ?",
            vec![Value::Bytes(email)],
        )
        .await;
        // UPDATE moves name lookup rows to the attack values, by id and by email.
        for (j, v) in payloads(p.charset, "' OR 1=1 -- ").into_iter().enumerate() {
            let target = 1 + (j as i64 + k) % 8;
            p.exec(
                "UPDATE user SET name = ? WHERE id = ?",
                vec![v.clone(), target.into()],
            )
            .await;
            p.exec(
                "UPDATE user SET name = ? WHERE email = ?",
                vec![
                    Value::Bytes(format!("m{k}_{j}").into_bytes()),
                    Value::Bytes(format!("u{target}@x").into_bytes()),
                ],
            )
            .await;
        }
        world.assert_lookups_exact(&p.label()).await;
        p.close().await;
    }
    world.stop().await;
}

#[tokio::test]
async fn inserts_write_exactly_their_lookup_rows() {
    let world = World::start().await;
    for (k, cs, nbe) in World::combos() {
        let mut p = world.pair(cs, nbe).await;
        // Prepared: the attack values become names and emails, nothing else.
        for (j, v) in payloads(p.charset, "', 1, 0x00), (65, 2, 0x00) -- ")
            .into_iter()
            .enumerate()
        {
            let j = j as i64;
            let Value::Bytes(mut email) = v.clone() else {
                unreachable!()
            };
            email.extend_from_slice(format!("#{k}").as_bytes());
            p.exec(
                "INSERT INTO user (id, name, phone, email) VALUES (?, ?, ?, ?)",
                vec![
                    (2000 + 10 * k + j).into(),
                    v,
                    (20000 + 10 * k + j).into(),
                    Value::Bytes(email),
                ],
            )
            .await;
        }
        // Text: a doubled quote inside the literal (the same under both modes).
        p.text(&format!(
            "INSERT INTO user (id, name) VALUES ({}, 'a'', 1, 0x00), (0x41, 2, 0x00) -- ')",
            3000 + k
        ))
        .await;
        world.assert_lookups_exact(&p.label()).await;
        p.close().await;
    }
    world.stop().await;
}

#[tokio::test]
async fn reclaim_probes_match_mariadb() {
    let world = World::start().await;
    let hex = |k: Vec<u8>| k.iter().map(|b| format!("{b:02x}")).collect::<String>();
    for (k, cs, nbe) in World::combos() {
        let mut p = world.pair(cs, nbe).await;
        // An orphan lookup row (its owner 90000+k does not exist) holding the attack email:
        // the insert must probe the owner row, find none, and take the value over.
        let email = format!("' OR 1=1 -- {k}");
        let shard = shard_of(&SHARDS, &text_ksid(&email));
        let mut l = world.env.shard_conn("lookup", shard).await;
        l.exec_drop(
            format!(
                "INSERT INTO email_user_vdx (email, keyspace_id) VALUES (?, X'{}')",
                hex(hash_ksid(90000 + k))
            ),
            (email.clone(),),
        )
        .await
        .expect("orphan lookup row");
        p.exec(
            "INSERT INTO user (id, name, phone, email) VALUES (?, ?, ?, ?)",
            vec![
                (4000 + k).into(),
                Value::Bytes(format!("r{k}").into_bytes()),
                (40000 + k).into(),
                Value::Bytes(email.into_bytes()),
            ],
        )
        .await;
        world.assert_lookups_exact(&p.label()).await;
        p.close().await;
    }
    world.stop().await;
}

#[tokio::test]
async fn mode_dependent_text_is_refused_on_sharded_keyspaces() {
    let world = World::start().await;
    // Under NO_BACKSLASH_ESCAPES, 'a\' ends at the backslash: the proxy would read
    // `name = 'n1\' OR id = 2 -- '` as one literal and route to the wrong shards.
    let mut p = world.pair("utf8mb4", true).await;
    let sql = "SELECT id FROM user WHERE id = 1 AND name = 'n1\\' OR id = 2 -- '";
    let want: Vec<i64> = p.reference.query(sql).await.expect("reference");
    assert_eq!(want, vec![2], "MariaDB reads the backslash as a character");
    expect_error(
        p.proxy.query::<i64, _>(sql).await,
        1235,
        "backslash under NBE",
    );
    // Without the mode the same text is an ordinary escaped quote (no row), as in MariaDB.
    let mut d = world.pair("utf8mb4", false).await;
    let got: Vec<i64> = d.proxy.query(sql).await.expect("proxy");
    let want: Vec<i64> = d.reference.query(sql).await.expect("reference");
    assert_eq!(got, want);
    // ANSI_QUOTES, added by an expression the proxy reads back.
    for c in [&mut d.proxy, &mut d.reference] {
        c.query_drop("SET sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')")
            .await
            .expect("ANSI_QUOTES");
    }
    expect_error(
        d.proxy
            .query::<i64, _>("SELECT id FROM user WHERE name = \"n1\"")
            .await,
        1235,
        "double quotes under ANSI_QUOTES",
    );
    // PIPES_AS_CONCAT: `||` concatenates; the planner would read it as OR.
    d.proxy
        .query_drop("SET sql_mode = CONCAT(@@sql_mode, ',PIPES_AS_CONCAT')")
        .await
        .expect("PIPES_AS_CONCAT");
    expect_error(
        d.proxy
            .query::<i64, _>("SELECT id FROM user WHERE id = 1 || id = 2")
            .await,
        1235,
        "|| under PIPES_AS_CONCAT",
    );
    // Non-ASCII text from a GBK client is refused; ASCII text is served.
    let mut g = world.pair("gbk", false).await;
    let got: Vec<i64> = g
        .proxy
        .query("SELECT id FROM user WHERE name = 'n3'")
        .await
        .expect("ascii from gbk");
    assert_eq!(got, vec![3]);
    expect_error(
        g.proxy
            .query::<i64, _>("SELECT id FROM user WHERE name = '中'")
            .await,
        1235,
        "non-ASCII text from a gbk client",
    );
    // Back to utf8mb4 (a SET NAMES the proxy otherwise answers itself): served again.
    for c in [&mut g.proxy, &mut g.reference] {
        c.query_drop("SET NAMES utf8mb4").await.expect("SET NAMES");
    }
    let sql = "SELECT id FROM user WHERE name = '中' OR name = 'n5'";
    let got: Vec<i64> = g.proxy.query(sql).await.expect("proxy");
    let want: Vec<i64> = g.reference.query(sql).await.expect("reference");
    assert_eq!(got, want);
    for pair in [p, d, g] {
        pair.close().await;
    }
    world.stop().await;
}

#[tokio::test]
async fn literals_read_back_as_the_same_bytes() {
    use shardgate::sql::literal::{double, param, string, Charset};
    let cluster = cluster_async().await;
    let mut c = Conn::from_url(cluster.url(0, None)).await.expect("server");
    let samples: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("utf8mb4", vec!["中'\\\"".as_bytes().to_vec(), b"".to_vec()]),
        ("gbk", vec![vec![0xbf, 0x5c, 0x27], vec![0xd6, 0xd0]]),
        ("sjis", vec![vec![0x81, 0x5c, 0x27]]),
        ("big5", vec![vec![0xa4, 0x5c, 0x27]]),
        ("latin1", vec![vec![0xe9, 0x5c, 0x27]]),
    ];
    for mode in ["", "NO_BACKSLASH_ESCAPES,ANSI_QUOTES"] {
        c.query_drop(format!("SET sql_mode = '{mode}'"))
            .await
            .expect("mode");
        for (cs, values) in &samples {
            c.query_drop(format!("SET NAMES {cs}"))
                .await
                .expect("names");
            let charset = Charset::from_name(cs).expect("charset");
            for v in values {
                let lit = string(v, charset);
                let got: Option<String> = c
                    .query_first(format!("SELECT HEX({lit})"))
                    .await
                    .expect("hex");
                let want: String = v.iter().map(|b| format!("{b:02X}")).collect();
                assert_eq!(got, Some(want), "{lit} under '{mode}' {cs}");
                let p = param(&Value::Bytes(v.clone()), charset).expect("param");
                assert_eq!(p, lit);
            }
        }
        for f in [0.1f64, -1e300, 1.7976931348623157e308, 123456789.125] {
            let lit = double(f).expect("finite");
            let got: Option<f64> = c
                .query_first(format!("SELECT {lit}"))
                .await
                .expect("double");
            assert_eq!(got, Some(f), "{lit}");
        }
    }
}

#[tokio::test]
async fn non_ascii_owner_rows_are_left_alone_by_non_utf8_clients() {
    // A row whose name a GBK/BIG5/SJIS/latin1 session reads back converted: its lookup row
    // would be looked for on the shard of the converted bytes, and left behind.
    let world = World::start().await;
    let mut u = world.pair("utf8mb4", false).await;
    u.exec(
        "INSERT INTO user (id, name, phone, email) VALUES (?, ?, ?, ?)",
        vec![
            50.into(),
            Value::Bytes("中文".as_bytes().to_vec()),
            5050.into(),
            Value::Bytes(b"cn@x".to_vec()),
        ],
    )
    .await;
    for cs in ["gbk", "big5", "sjis", "latin1"] {
        let mut p = world.pair(cs, false).await;
        for sql in [
            "DELETE FROM user WHERE id = 50",
            "UPDATE user SET name = 'x' WHERE id = 50",
        ] {
            expect_error(p.proxy.query_drop(sql).await, 1235, &format!("{cs}: {sql}"));
        }
        // ASCII rows are changed as usual, and so are columns whose lookup values are not
        // read back as text.
        p.text("UPDATE user SET name = 'n1b' WHERE id = 1").await;
        p.text("UPDATE user SET phone = 5051 WHERE id = 50").await;
        p.close().await;
    }
    world.assert_lookups_exact("after the refusals").await;
    u.text("DELETE FROM user WHERE id = 50").await;
    world.assert_lookups_exact("after the utf8mb4 delete").await;
    u.close().await;
    world.stop().await;
}

//! Errors that say what happened (issue 17.5), on a sharded keyspace as on one MariaDB:
//! - a syntax error is 1064 with MariaDB's own message (`You have an error in your SQL syntax;
//!   ... near '...' at line N`), while a statement MariaDB accepts but the proxy's parser does
//!   not is 1235 naming what the parser stopped at;
//! - an unknown column is 1054 (also when it stands where an owned lookup's column should be,
//!   which used to fail creating the lookup row with 1048);
//! - a taken value of an owned unique lookup is 1062 naming the owner's column, not the lookup
//!   table's `PRIMARY`.

mod common;

use common::user_lookups::UserLookups;
use common::TestEnv;
use mysql_async::prelude::Queryable;

/// The server error of `sql` on `c`: (code, message).
async fn error_of(c: &mut mysql_async::Conn, sql: &str) -> (u16, String) {
    match c.query_drop(sql).await {
        Err(mysql_async::Error::Server(e)) => (e.code, e.message),
        other => panic!("{sql}: expected a server error, got {other:?}"),
    }
}

async fn start() -> TestEnv {
    let layout = UserLookups {
        write_only_email: false,
    };
    let env = TestEnv::start(layout.spec()).await;
    layout.create_tables(&env).await;
    env
}

/// Typos are 1064 with the message MariaDB gives for the same text (the shard's own words);
/// valid MariaDB the proxy cannot parse is 1235 naming the place.
#[tokio::test(flavor = "multi_thread")]
async fn syntax_errors_are_1064_as_mariadb_words_them() {
    let env = start().await;
    let mut c = env.client_as("root", "", Some("customer")).await;
    let mut direct = env.shard_conn("customer", "-80").await;
    for sql in [
        "SELECT * FORM user",
        "SELECT id, FROM user WHERE id = 1",
        "SELECT * FROM user WHER id = 1",
        "select * from user where id = 1 and",
        "INSERT INTO user (id, name) VALUES (1, 'a'",
        "UPDATE user SET name = WHERE id = 1",
        "DELETE user WHERE id = 1",
        "SELECT * FROM user WHERE id = 1\nORDER BY",
        "SELEC * FROM user",
        "SELECT 'unterminated FROM user",
    ]
    .into_iter()
    .map(String::from)
    .chain([
        // The proxy's own answer to an unknown first word, worded as MariaDB's.
        format!("SELEC {}", "x".repeat(100)),
        format!("SELEC 'ä{}'", "é".repeat(90)),
        "\n\n  SELEC 1;".to_string(),
        "/* c */\nSELEC 1".to_string(),
    ]) {
        let sql = sql.as_str();
        let got = error_of(&mut c, sql).await;
        let want = error_of(&mut direct, sql).await;
        assert_eq!(want.0, 1064, "{sql}: the shard calls it a syntax error");
        assert_eq!(got, want, "{sql}");
    }
    // Prepared (COM_STMT_PREPARE) the same.
    for sql in [
        "SELECT * FORM user WHERE id = ?",
        "UPDATE user SET name = WHERE id = ?",
    ] {
        let got = match c.prep(sql).await {
            Err(mysql_async::Error::Server(e)) => (e.code, e.message),
            other => panic!("{sql}: expected a server error, got {other:?}"),
        };
        let want = match direct.prep(sql).await {
            Err(mysql_async::Error::Server(e)) => (e.code, e.message),
            other => panic!("{sql}: expected a server error, got {other:?}"),
        };
        assert_eq!(want.0, 1064, "{sql}");
        assert_eq!(got, want, "prepared {sql}");
    }
    let (code, message) = match c
        .prep("SELECT * FROM user WHERE id = ? LOCK IN SHARE MODE")
        .await
    {
        Err(mysql_async::Error::Server(e)) => (e.code, e.message),
        other => panic!("expected a server error, got {other:?}"),
    };
    assert_eq!(code, 1235, "{message}");
    assert!(message.contains("LOCK"), "{message}");
    // MariaDB accepts these; the proxy's parser does not: an honest refusal naming it.
    for (sql, names) in [
        ("SELECT * FROM user WHERE id = 1 LOCK IN SHARE MODE", "LOCK"),
        ("SELECT id FROM user WHERE id = 1 INTO @x", "INTO"),
    ] {
        direct
            .query_drop(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql} is valid MariaDB: {e}"));
        let (code, message) = error_of(&mut c, sql).await;
        assert_eq!(code, 1235, "{sql}: {message}");
        assert!(message.contains(names), "{sql}: {message}");
    }
    // The connection is still usable.
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM user")
        .await
        .expect("count");
    assert_eq!(n, Some(0));
    drop(c.disconnect().await);
    drop(direct.disconnect().await);
    env.stop().await;
}

/// Unknown columns are 1054, as the shard says it; nothing is written.
#[tokio::test(flavor = "multi_thread")]
async fn unknown_columns_are_1054() {
    let env = start().await;
    let mut c = env.client_as("root", "", Some("customer")).await;
    let mut direct = env.shard_conn("customer", "-80").await;
    for sql in [
        // `nme` stands where the owned lookup `name_user_vdx` reads `name`.
        "INSERT INTO user (id, nme, phone) VALUES (1, 'a', 5551)",
        "INSERT INTO user (id, name, phone, nosuch) VALUES (1, 'a', 5551, 1)",
        "SELECT nosuch FROM user WHERE id = 1",
        "SELECT nosuch FROM user",
        "SELECT id FROM user WHERE nosuch = 1",
        "UPDATE user SET nosuch = 1 WHERE id = 1",
    ] {
        let got = error_of(&mut c, sql).await;
        let want = error_of(&mut direct, sql).await;
        assert_eq!(want.0, 1054, "{sql}: {want:?}");
        assert_eq!(got, want, "{sql}");
    }
    // No lookup row was left behind by the refused inserts.
    for shard in common::user_lookups::SHARDS {
        let mut l = env.shard_conn("lookup", shard).await;
        let n: Option<i64> = l
            .query_first("SELECT (SELECT COUNT(*) FROM name_user_vdx) + (SELECT COUNT(*) FROM phone_user_vdx)")
            .await
            .expect("count");
        assert_eq!(n, Some(0), "lookup rows on {shard}");
    }
    drop(c.disconnect().await);
    drop(direct.disconnect().await);
    env.stop().await;
}

/// A value an owned unique lookup already holds: 1062 naming the owner's column, as MariaDB
/// words it for a table with a unique key on that column.
#[tokio::test(flavor = "multi_thread")]
async fn duplicate_unique_lookup_value_names_the_owner_column() {
    let env = start().await;
    let mut c = env.client_as("root", "", Some("customer")).await;
    c.query_drop("INSERT INTO user (id, name, phone) VALUES (1, 'a', 5559991), (2, 'b', 5550002)")
        .await
        .expect("insert");
    // What MariaDB says for the same duplicate on one table with a unique key on phone.
    let mut direct = env.shard_conn("customer", "-80").await;
    direct
        .query_drop(
            "CREATE TABLE single (id BIGINT PRIMARY KEY, phone BIGINT, UNIQUE KEY phone (phone))",
        )
        .await
        .expect("single");
    direct
        .query_drop("INSERT INTO single VALUES (1, 5559991)")
        .await
        .expect("single row");
    let want = error_of(&mut direct, "INSERT INTO single VALUES (3, 5559991)").await;
    assert_eq!(
        want,
        (
            1062,
            "Duplicate entry '5559991' for key 'phone'".to_string()
        )
    );
    for sql in [
        // ids 3 and 4 hash to different shards than 1: the duplicate is only in the lookup.
        "INSERT INTO user (id, name, phone) VALUES (3, 'c', 5559991)",
        "INSERT INTO user (id, name, phone) VALUES (4, 'd', 5559991)",
        "UPDATE user SET phone = 5559991 WHERE id = 2",
    ] {
        let got = error_of(&mut c, sql).await;
        assert_eq!(got, want, "{sql}");
    }
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM user")
        .await
        .expect("count");
    assert_eq!(n, Some(2));
    drop(c.disconnect().await);
    drop(direct.disconnect().await);
    env.stop().await;
}

//! The world the generated-SQL tests share: the proxy env with the user/lookup layout, a
//! reference MariaDB database holding the same rows, and client pairs (proxy, reference) in
//! one character set and sql_mode whose answers are compared.

use crate::common::placement::{hash_ksid, shard_of, text_ksid};
use crate::common::user_lookups::{UserLookups, SHARDS};
use crate::common::{cluster_async, TestEnv};
use mysql_async::prelude::*;
use mysql_async::{Conn, Params, Row, Value};
use std::sync::atomic::{AtomicUsize, Ordering};

pub(crate) const LAYOUT: UserLookups = UserLookups {
    write_only_email: true,
};

/// Connection character sets every scenario runs under.
pub(crate) const CHARSETS: [&str; 5] = ["utf8mb4", "gbk", "sjis", "big5", "latin1"];

/// The reference table: the owner table with the uniqueness the lookup vindexes enforce.
const REFERENCE_DDL: &str = "CREATE TABLE user (
    id BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
    phone BIGINT,
    email VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
    UNIQUE KEY phone (phone), UNIQUE KEY email (email), KEY name (name))";

/// The proxy env and the reference database.
pub(crate) struct World {
    pub(crate) env: TestEnv,
    reference_url: String,
    reference_db: String,
}

/// A proxy client and a reference client in the same character set and sql_mode.
pub(crate) struct Pair {
    pub(crate) proxy: Conn,
    pub(crate) reference: Conn,
    pub(crate) charset: &'static str,
    pub(crate) nbe: bool,
}

impl World {
    /// Starts the env, creates the tables and the reference, and writes rows 1..=9 to both
    /// (row 9's name and email hold a quote and a backslash).
    pub(crate) async fn start() -> World {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let env = TestEnv::start(LAYOUT.spec()).await;
        LAYOUT.create_tables(&env).await;
        let cluster = cluster_async().await;
        let reference_db = format!(
            "sqlsafe_ref_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = Conn::from_url(cluster.url(0, None))
            .await
            .expect("reference");
        admin
            .query_drop(format!("DROP DATABASE IF EXISTS `{reference_db}`"))
            .await
            .expect("drop reference");
        admin
            .query_drop(format!("CREATE DATABASE `{reference_db}`"))
            .await
            .expect("create reference");
        let reference_url = cluster.url(0, Some(&reference_db));
        let world = World {
            env,
            reference_url,
            reference_db,
        };
        let mut pair = world.pair("utf8mb4", false).await;
        pair.reference
            .query_drop(REFERENCE_DDL)
            .await
            .expect("reference DDL");
        for id in 1..=9i64 {
            let (name, email) = if id == 9 {
                ("o'br\\ien".to_string(), "o'br\\ien@x".to_string())
            } else {
                (format!("n{id}"), format!("u{id}@x"))
            };
            let params: Vec<Value> = vec![
                id.into(),
                name.into_bytes().into(),
                (100 + id).into(),
                email.into_bytes().into(),
            ];
            let insert = "INSERT INTO user (id, name, phone, email) VALUES (?, ?, ?, ?)";
            for c in [&mut pair.proxy, &mut pair.reference] {
                c.exec_drop(insert, params.clone()).await.expect("seed row");
            }
        }
        world
    }

    /// A proxy client and a reference client, both with `SET NAMES charset` and, when `nbe`,
    /// `NO_BACKSLASH_ESCAPES` added to the session's sql_mode by an expression.
    pub(crate) async fn pair(&self, charset: &'static str, nbe: bool) -> Pair {
        let mut proxy = self.env.client().await;
        proxy
            .query_drop("USE customer")
            .await
            .expect("use customer");
        let mut reference = Conn::from_url(self.reference_url.as_str())
            .await
            .expect("reference client");
        for c in [&mut proxy, &mut reference] {
            c.query_drop(format!("SET NAMES {charset}"))
                .await
                .expect("SET NAMES");
            if nbe {
                c.query_drop("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')")
                    .await
                    .expect("SET sql_mode");
            }
        }
        Pair {
            proxy,
            reference,
            charset,
            nbe,
        }
    }

    /// Every combination of sql_mode and character set, numbered.
    pub(crate) fn combos() -> Vec<(i64, &'static str, bool)> {
        let mut out = Vec::new();
        for nbe in [false, true] {
            for cs in CHARSETS {
                out.push((out.len() as i64, cs, nbe));
            }
        }
        out
    }

    pub(crate) async fn stop(self) {
        let cluster = cluster_async().await;
        let mut admin = Conn::from_url(cluster.url(0, None))
            .await
            .expect("reference");
        admin
            .query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.reference_db))
            .await
            .expect("drop reference");
        self.env.stop().await;
    }

    /// The lookup rows on the shards are exactly those the owner rows need, each on the shard
    /// its vindex places it: `(name, id) → ksid(id)` and `email → ksid(id)`.
    pub(crate) async fn assert_lookups_exact(&self, what: &str) {
        let mut users: Vec<(i64, Option<String>, Option<String>)> = Vec::new();
        for shard in SHARDS {
            let mut c = self.env.shard_conn("customer", shard).await;
            users.extend(
                c.query::<(i64, Option<String>, Option<String>), _>(
                    "SELECT id, name, email FROM user",
                )
                .await
                .expect("owner rows"),
            );
        }
        let hex = |k: Vec<u8>| k.iter().map(|b| format!("{b:02X}")).collect::<String>();
        let mut want_names: Vec<(&str, String, i64, String)> = Vec::new();
        let mut want_emails: Vec<(&str, String, String)> = Vec::new();
        for (id, name, email) in &users {
            if let Some(n) = name {
                let shard = shard_of(&SHARDS, &text_ksid(n));
                want_names.push((shard, n.clone(), *id, hex(hash_ksid(*id))));
            }
            if let Some(e) = email {
                let shard = shard_of(&SHARDS, &text_ksid(e));
                want_emails.push((shard, e.clone(), hex(hash_ksid(*id))));
            }
        }
        let mut names = Vec::new();
        let mut emails = Vec::new();
        for shard in SHARDS {
            let mut l = self.env.shard_conn("lookup", shard).await;
            let rows: Vec<(String, i64, String)> = l
                .query("SELECT name, id, HEX(keyspace_id) FROM name_user_vdx")
                .await
                .expect("name lookup rows");
            names.extend(rows.into_iter().map(|(n, id, k)| (shard, n, id, k)));
            let rows: Vec<(String, String)> = l
                .query("SELECT email, HEX(keyspace_id) FROM email_user_vdx")
                .await
                .expect("email lookup rows");
            emails.extend(rows.into_iter().map(|(e, k)| (shard, e, k)));
        }
        for v in [&mut want_names, &mut names] {
            v.sort();
        }
        for v in [&mut want_emails, &mut emails] {
            v.sort();
        }
        assert_eq!(names, want_names, "{what}: name_user_vdx rows");
        assert_eq!(emails, want_emails, "{what}: email_user_vdx rows");
    }
}

impl Pair {
    pub(crate) async fn close(self) {
        for c in [self.proxy, self.reference] {
            let _ = c.disconnect().await;
        }
    }

    pub(crate) fn label(&self) -> String {
        format!(
            "[{} {}]",
            self.charset,
            if self.nbe {
                "NO_BACKSLASH_ESCAPES"
            } else {
                "default sql_mode"
            }
        )
    }

    /// Whether the proxy may refuse a string parameter (non-ASCII from a non-UTF-8 client).
    pub(crate) fn may_refuse(&self, params: &[Value]) -> bool {
        self.charset != "utf8mb4"
            && params
                .iter()
                .any(|p| matches!(p, Value::Bytes(b) if !b.is_ascii()))
    }

    /// Runs a prepared query on both sides: equal rows, or the proxy refused where allowed
    /// (then `None`).
    pub(crate) async fn query(&mut self, sql: &str, params: Vec<Value>) -> Option<Vec<Vec<Value>>> {
        let what = format!("{} {sql} with {params:?}", self.label());
        let got = self
            .proxy
            .exec::<Row, _, _>(sql, Params::Positional(params.clone()))
            .await;
        if self.refused(&got, &params, &what) {
            return None;
        }
        let want = self
            .reference
            .exec::<Row, _, _>(sql, Params::Positional(params))
            .await;
        let rows = |r: Result<Vec<Row>, mysql_async::Error>| {
            r.map(|rows| rows.into_iter().map(Row::unwrap).collect::<Vec<_>>())
                .map_err(|e| server_code(&e))
        };
        let (got, want) = (rows(got), rows(want));
        assert_eq!(got, want, "{what}: proxy vs MariaDB");
        got.ok()
    }

    /// Runs a prepared statement on both sides: the same affected rows or the same error, or
    /// an allowed refusal by the proxy (then the reference does not run it either).
    pub(crate) async fn exec(&mut self, sql: &str, params: Vec<Value>) {
        let what = format!("{} {sql} with {params:?}", self.label());
        let got = self
            .proxy
            .exec_drop(sql, Params::Positional(params.clone()))
            .await
            .map(|()| self.proxy.affected_rows());
        if self.refused(&got, &params, &what) {
            return;
        }
        let want = self
            .reference
            .exec_drop(sql, Params::Positional(params))
            .await
            .map(|()| self.reference.affected_rows());
        let (got, want) = (
            got.map_err(|e| server_code(&e)),
            want.map_err(|e| server_code(&e)),
        );
        assert_eq!(got, want, "{what}: affected rows, proxy vs MariaDB");
        self.assert_same_table(&what).await;
    }

    /// Runs a text statement on both sides (same affected rows or error).
    pub(crate) async fn text(&mut self, sql: &str) {
        let what = format!("{} {sql}", self.label());
        let got = self
            .proxy
            .query_drop(sql)
            .await
            .map(|()| self.proxy.affected_rows())
            .map_err(|e| server_code(&e));
        let want = self
            .reference
            .query_drop(sql)
            .await
            .map(|()| self.reference.affected_rows())
            .map_err(|e| server_code(&e));
        assert_eq!(got, want, "{what}: proxy vs MariaDB");
        self.assert_same_table(&what).await;
    }

    pub(crate) fn refused<T: std::fmt::Debug>(
        &self,
        got: &Result<T, mysql_async::Error>,
        params: &[Value],
        what: &str,
    ) -> bool {
        match got {
            Err(mysql_async::Error::Server(e)) if e.code == 1235 && self.may_refuse(params) => true,
            // Rows whose lookup columns a non-UTF-8 session reads back converted (an SJIS
            // backslash is two bytes, a missing character '?').
            Err(mysql_async::Error::Server(e))
                if e.code == 1235
                    && self.charset != "utf8mb4"
                    && e.message
                        .contains("lookup vindex columns hold non-ASCII text") =>
            {
                true
            }
            Err(mysql_async::Error::Server(e))
                if e.code == 1210
                    && params
                        .iter()
                        .any(|p| matches!(p, Value::Double(d) if !d.is_finite())) =>
            {
                true
            }
            // Bytes that are not text in the connection's character set are sent as a binary
            // string: a VARBINARY column compares them byte for byte; a text column cannot
            // convert them (MariaDB's own parameter would match nothing, with a warning).
            Err(mysql_async::Error::Server(e))
                if e.code == 1300
                    && params.iter().any(
                        |p| matches!(p, Value::Bytes(b) if std::str::from_utf8(b).is_err()),
                    ) =>
            {
                true
            }
            Err(mysql_async::Error::Server(e)) if e.code == 1235 => {
                panic!("{what}: refused without reason: {e}")
            }
            _ => false,
        }
    }

    /// The whole table reads the same through the proxy (a scatter) and on the reference.
    pub(crate) async fn assert_same_table(&mut self, what: &str) {
        let sql = "SELECT id, name, phone, email FROM user ORDER BY id";
        let got: Vec<Vec<Value>> = self
            .proxy
            .query::<Row, _>(sql)
            .await
            .expect("proxy table")
            .into_iter()
            .map(Row::unwrap)
            .collect();
        let want: Vec<Vec<Value>> = self
            .reference
            .query::<Row, _>(sql)
            .await
            .expect("reference table")
            .into_iter()
            .map(Row::unwrap)
            .collect();
        assert_eq!(got, want, "{what}: table through the proxy vs MariaDB");
    }
}

pub(crate) fn server_code(e: &mysql_async::Error) -> u16 {
    match e {
        mysql_async::Error::Server(s) => s.code,
        other => panic!("not a server error: {other}"),
    }
}

/// A lead byte of `charset` whose double-byte character ends in `\` (0x5C), or a non-ASCII
/// character: the byte sequence that let a parameter escape its backslash-escaped literal.
pub(crate) fn lead_bytes(charset: &str) -> Vec<u8> {
    match charset {
        "gbk" => vec![0xbf, 0x5c],
        "sjis" => vec![0x81, 0x5c],
        "big5" => vec![0xa4, 0x5c],
        "latin1" => vec![0xe9],
        _ => "中".as_bytes().to_vec(),
    }
}

/// Attack parameters in `charset`: a bare quote, a backslash-quote, a multibyte lead byte
/// before the quote, each followed by `tail`.
pub(crate) fn payloads(charset: &str, tail: &str) -> Vec<Value> {
    let mut lead = lead_bytes(charset);
    lead.extend_from_slice(tail.as_bytes());
    vec![
        Value::Bytes(tail.as_bytes().to_vec()),
        Value::Bytes(format!("\\{tail}").into_bytes()),
        Value::Bytes(lead),
    ]
}

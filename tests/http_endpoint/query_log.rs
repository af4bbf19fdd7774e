//! The query log: one `shardgate::query` line per statement, text or JSON, with its
//! fingerprint, route, shards, rows, time and error code and no literal of the statement;
//! unsampled, only slow statements.

use super::*;
use common::cluster::run_dir;
use common::{KeyspaceSpec, ProxyProcess};
use std::collections::BTreeMap;

/// A `shardgate serve` child on `env`'s config with `[log]` = `log` and these environment
/// variables.
async fn logging_proxy(
    env: &TestEnv,
    log: shardgate::metrics::QueryLogSettings,
    envs: &[(&str, &str)],
    tag: &str,
) -> ProxyProcess {
    let mut config = env.config.clone();
    config.log = log;
    config.server.http_listen = None;
    let dir = run_dir().join(format!("proxy-t{}-{tag}", env.id));
    ProxyProcess::start_with_env(&config, &dir, envs).await
}

fn plain_spec() -> EnvSpec {
    let customer = json!({
        "sharded": true,
        "vindexes": {"hash": {"type": "hash"}},
        "tables": {"t": {"column_vindexes": [{"column": "id", "name": "hash"}]}}
    });
    EnvSpec::default().with_keyspace(KeyspaceSpec::sharded("customer", &["-80", "80-"], customer))
}

/// One query-log line's fields (values as text, strings unquoted).
type Fields = BTreeMap<String, String>;

/// The fields of a text-format `shardgate::query` line (`key=value`, strings quoted).
fn text_fields(line: &str) -> Option<Fields> {
    let (_, rest) = line.split_once("shardgate::query:")?;
    let mut fields = Fields::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(fields);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            continue; // the message
        }
        chars.next();
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => value.push('\n'),
                        Some(c) => value.push(c),
                        None => break,
                    },
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        fields.insert(key, value);
    }
}

/// The fields of a JSON-format `shardgate::query` line (under `fields`, or flattened).
fn json_fields(line: &str) -> Option<Fields> {
    let v: serde_json::Value = serde_json::from_str(line.trim()).ok()?;
    if v.get("target").and_then(|t| t.as_str()) != Some("shardgate::query") {
        return None;
    }
    let object = v
        .get("fields")
        .and_then(|f| f.as_object())
        .or(v.as_object())?;
    let mut fields = Fields::new();
    for (k, val) in object {
        let text = match val {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        fields.insert(k.clone(), text);
    }
    Some(fields)
}

/// Literals of [`LOGGED`]: none may appear in a query-log line.
const LITERALS: [&str; 4] = ["hunter2-literal", "123457", "dup-literal-xyz", "987654"];

/// Statements and what their log line says: (sql, fingerprint, route, shards, rows, error).
const LOGGED: [(&str, &str, &str, &str, &str, &str); 6] = [
    (
        "INSERT INTO t (id, secret) VALUES (123457, 'hunter2-literal')",
        "INSERT INTO t ( id , secret ) VALUES ( ?+ )",
        "single_shard",
        "1",
        "1",
        "0",
    ),
    (
        "SELECT secret FROM t WHERE id = 123457",
        "SELECT secret FROM t WHERE id = ?",
        "single_shard",
        "1",
        "1",
        "0",
    ),
    (
        "SELECT COUNT(*) FROM t WHERE secret = 'hunter2-literal' OR id = 987654",
        "SELECT COUNT ( * ) FROM t WHERE secret = ? OR id = ?",
        "scatter",
        "2",
        "1",
        "0",
    ),
    (
        "INSERT INTO t (id, secret) VALUES (123457, 'dup-literal-xyz')",
        "INSERT INTO t ( id , secret ) VALUES ( ?+ )",
        "single_shard",
        "1",
        "0",
        "1062",
    ),
    // Literals inside an executable comment too (they were logged: regression).
    (
        "SELECT /*!50000 'hunter2-literal' */ secret FROM t WHERE id = 987654",
        "SELECT /*!50000 ? */ secret FROM t WHERE id = ?",
        "single_shard",
        "1",
        "0",
        "0",
    ),
    (
        "HANDLER t OPEN",
        "HANDLER t OPEN",
        "refused",
        "0",
        "0",
        "1235",
    ),
];

/// Runs [`LOGGED`] through `proxy` (sample rate 1) and checks its log, read with `fields`:
/// one line per statement, the fields above, no literal.
async fn check_query_log(proxy: &ProxyProcess, fields: fn(&str) -> Option<Fields>) {
    let mut c = Conn::from_url(proxy.url(Some("customer")).as_str())
        .await
        .expect("connect");
    c.query_drop("CREATE TABLE t (id BIGINT PRIMARY KEY, secret VARCHAR(64))")
        .await
        .expect("t");
    for (sql, ..) in LOGGED {
        let _ = c.query_drop(sql).await;
    }
    drop(c);
    let started = Instant::now();
    let lines: Vec<Fields> = loop {
        let lines: Vec<Fields> = proxy.log().lines().filter_map(fields).collect();
        if lines
            .iter()
            .any(|f| f.get("error").map(String::as_str) == Some("1235"))
        {
            break lines;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no query-log line of the refused statement; log:\n{}",
            proxy.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for line in &lines {
        for literal in LITERALS {
            assert!(
                !line.values().any(|v| v.contains(literal)),
                "literal {literal} logged: {line:?}"
            );
        }
        for key in ["kind", "keyspace", "user", "slow", "duration_ms"] {
            assert!(line.contains_key(key), "no {key}: {line:?}");
        }
    }
    for (i, (sql, fingerprint, route, shards, rows, error)) in LOGGED.iter().enumerate() {
        // The two inserts share their shape: the statement's place among them tells them apart.
        let of_shape: Vec<&Fields> = lines
            .iter()
            .filter(|f| f.get("fingerprint").map(String::as_str) == Some(*fingerprint))
            .collect();
        let same_shape_before = LOGGED[..i].iter().filter(|s| s.1 == *fingerprint).count();
        let same_shape = LOGGED.iter().filter(|s| s.1 == *fingerprint).count();
        assert_eq!(
            of_shape.len(),
            same_shape,
            "{sql}: one line per statement of shape {fingerprint:?}; lines: {lines:#?}"
        );
        let line = of_shape[same_shape_before];
        let get = |k: &str| line.get(k).map(String::as_str).unwrap_or("");
        assert_eq!(get("route"), *route, "{sql}: {line:?}");
        assert_eq!(get("shards"), *shards, "{sql}: {line:?}");
        assert_eq!(get("rows"), *rows, "{sql}: {line:?}");
        assert_eq!(get("error"), *error, "{sql}: {line:?}");
        assert_eq!(get("slow"), "false", "{sql}: {line:?}");
        let ms: f64 = get("duration_ms")
            .parse()
            .unwrap_or_else(|_| panic!("{sql}: duration_ms {line:?}"));
        assert!((0.0..5000.0).contains(&ms), "{sql}: {line:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_log_has_one_line_per_statement_and_no_literal() {
    let env = TestEnv::start(plain_spec()).await;
    let proxy = logging_proxy(
        &env,
        shardgate::metrics::QueryLogSettings {
            query_sample_rate: 1.0,
            slow_query_ms: 0,
        },
        &[],
        "qlog",
    )
    .await;
    check_query_log(&proxy, text_fields).await;
    proxy.stop().await;
    env.stop().await;
}

/// The same with `SHARDGATE_LOG_FORMAT=json`: one JSON object per line, the fields under
/// `fields`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_log_in_json_format() {
    let env = TestEnv::start(plain_spec()).await;
    let proxy = logging_proxy(
        &env,
        shardgate::metrics::QueryLogSettings {
            query_sample_rate: 1.0,
            slow_query_ms: 0,
        },
        &[("SHARDGATE_LOG_FORMAT", "json")],
        "qlog-json",
    )
    .await;
    check_query_log(&proxy, json_fields).await;
    proxy.stop().await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsampled_query_log_keeps_only_slow_statements() {
    let env = TestEnv::start(plain_spec()).await;
    // 25 ms: SLEEP(0.05) is twice that, a plain SELECT on a local server some 1 ms.
    let proxy = logging_proxy(
        &env,
        shardgate::metrics::QueryLogSettings {
            query_sample_rate: 0.0,
            slow_query_ms: 25,
        },
        &[],
        "slowlog",
    )
    .await;
    let mut c = Conn::from_url(proxy.url(Some("commerce")).as_str())
        .await
        .expect("connect");
    c.query_drop("SELECT 42")
        .await
        .expect("warm: a backend connection");
    c.query_drop("SELECT 2 + 40").await.expect("fast");
    c.query_drop("SELECT SLEEP(0.05)").await.expect("slow");
    c.query_drop("SELECT 3 + 39").await.expect("fast");
    drop(c);
    let started = Instant::now();
    while !proxy.log().lines().any(|l| text_fields(l).is_some()) {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the slow statement was not logged; log:\n{}",
            proxy.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Give a wrongly logged fast statement after it time to show.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines: Vec<Fields> = proxy.log().lines().filter_map(text_fields).collect();
    // Unsampled: slow lines only (the driver's own statements at connect may be slow on a
    // loaded machine, and are then rightly logged), the fast statements not at all.
    assert!(
        lines.iter().all(|l| l["slow"] == "true"),
        "a statement logged though not slow: {lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l["fingerprint"] == "SELECT ? + ?"),
        "a fast statement logged: {lines:#?}"
    );
    let sleeps: Vec<&Fields> = lines
        .iter()
        .filter(|l| l["fingerprint"] == "SELECT SLEEP ( ?+ )")
        .collect();
    assert_eq!(sleeps.len(), 1, "the slow statement once: {lines:#?}");
    let line = sleeps[0];
    let ms: f64 = line["duration_ms"].parse().expect("duration_ms");
    assert!(ms >= 50.0, "{line:?}");
    proxy.stop().await;
    env.stop().await;
}

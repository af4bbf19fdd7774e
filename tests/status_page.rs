//! `/debug/status` in a real browser (issue 20, point 1): headless Chromium (Debian's
//! `chromium`, installed by `scripts/test`) loads the page from the proxy's HTTP endpoint on
//! the demo layout (`customer` sharded by `hash(id)` with the name and phone lookup vindexes,
//! their tables in `lookup`, `commerce` unsharded) while a CreateLookupVindex backfill runs,
//! and the test reads what the browser rendered: every shard up, the VSchema summary with the
//! new vindex, the statements the test ran in the top-by-count table with their routes, and
//! the workflow's rows copied and progress bar moving between two loads, then at 100 %. A
//! screenshot taken mid-copy is saved to `target/status-page.png`.
//!
//! Chromium missing fails the test (run `scripts/test`, which installs it); it never skips.

mod common;

use common::user_lookups::{UserLookups, SHARDS};
use common::TestEnv;
use mysql_async::prelude::*;
use mysql_async::Conn;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// The backfilled vindex, and so the workflow's name.
const WORKFLOW: &str = "email_user_vdx";

/// Owner rows (ids `1..=ROWS`, spread over the two shards by hash).
const ROWS: u64 = 5000;

/// The rate limit holds per stream: the copy takes about `ROWS / 2 / 150` ≈ 17 s (and the
/// verify pass as long again).
const CREATE: &str = r#"CreateLookupVindex --max_rows_per_sec=150 --chunk_size=50 customer '{"sharded": true, "vindexes": {"email_user_vdx": {"type": "consistent_lookup_unique", "params": {"table": "lookup.email_user_vdx", "from": "email", "to": "keyspace_id", "ignore_nulls": "true"}, "owner": "user"}}, "tables": {"user": {"column_vindexes": [{"column": "email", "name": "email_user_vdx"}]}}}'"#;

/// Fails (never skips) when Chromium is not installed.
fn require_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run scripts/test (it installs Debian's chromium), \
         or apt-get install -y chromium"
    );
}

/// Runs Chromium headless on `url` with a fresh profile and `extra` flags; its stdout.
/// Chromium's stderr is noise (D-Bus, GPU) and is dropped.
async fn chromium(url: &str, extra: &[&str]) -> String {
    require_chromium();
    let profile = tempfile::tempdir().expect("a profile dir");
    let mut cmd = tokio::process::Command::new(CHROMIUM);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-proxy-server",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(url)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .kill_on_drop(true);
    let child = cmd.spawn().expect("starting chromium");
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("chromium did not finish within 30 s on {url}"))
        .expect("chromium's output");
    assert!(out.status.success(), "chromium failed: {:?}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The page as Chromium rendered it (`--dump-dom`).
async fn load(url: &str) -> Page {
    let dom = chromium(url, &["--dump-dom"]).await;
    assert!(dom.contains("</html>"), "not a page: {dom}");
    Page { dom }
}

/// `text` with the entities an HTML serializer writes decoded.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// One `<tr>`: its opening tag and its cells' text.
#[derive(Debug)]
struct Tr {
    tag: String,
    cells: Vec<String>,
}

impl Tr {
    /// The value of attribute `name` on the row.
    fn attr(&self, name: &str) -> Option<String> {
        let key = format!(" {name}=\"");
        let start = self.tag.find(&key)? + key.len();
        let end = self.tag[start..].find('"')?;
        Some(unescape(&self.tag[start..start + end]))
    }

    fn num(&self, name: &str) -> f64 {
        self.attr(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("row without a numeric {name}: {self:?}"))
    }
}

/// Text of an HTML fragment: tags dropped, entities decoded.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(out.trim())
}

struct Page {
    dom: String,
}

impl Page {
    /// The rows of the table with this id (its header row left out).
    fn table(&self, id: &str) -> Vec<Tr> {
        let key = format!("id=\"{id}\"");
        let start = self
            .dom
            .find(&key)
            .unwrap_or_else(|| panic!("no element #{id} on the page:\n{}", self.dom));
        let end = self.dom[start..]
            .find("</table>")
            .map(|e| start + e)
            .unwrap_or(self.dom.len());
        self.dom[start..end]
            .split("<tr")
            .skip(1)
            .filter_map(|tr| {
                let close = tr.find('>')?;
                let body = &tr[close + 1..];
                let cells: Vec<String> = body
                    .split("<td")
                    .skip(1)
                    .map(|td| {
                        let open = td.find('>').map(|i| i + 1).unwrap_or(0);
                        let inner = td[open..].split("</td>").next().unwrap_or("");
                        text(inner)
                    })
                    .collect();
                (!cells.is_empty()).then(|| Tr {
                    tag: format!("<tr{}", &tr[..close]),
                    cells,
                })
            })
            .collect()
    }

    /// The workflow's stream rows.
    fn streams(&self, workflow: &str) -> Vec<Tr> {
        self.rows_of("stream", workflow)
    }

    /// The workflow's total row (its bar over all its streams).
    fn total(&self, workflow: &str) -> Tr {
        let mut rows = self.rows_of("total", workflow);
        assert_eq!(rows.len(), 1, "one total row for {workflow}: {rows:?}");
        rows.remove(0)
    }

    fn rows_of(&self, class: &str, workflow: &str) -> Vec<Tr> {
        let class = format!("class=\"{class}\"");
        self.table("workflows")
            .into_iter()
            .filter(|r| r.tag.contains(&class))
            .filter(|r| r.attr("data-workflow").as_deref() == Some(workflow))
            .collect()
    }
}

/// Rows copied and percent, each summed over the workflow's streams.
fn progress(streams: &[Tr]) -> (f64, f64) {
    (
        streams.iter().map(|s| s.num("data-rows-copied")).sum(),
        streams.iter().map(|s| s.num("data-percent")).sum(),
    )
}

/// Where the screenshot goes: `<target dir>/status-page.png`.
fn screenshot_path() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("status-page.png")
}

/// The `state` of each stream (`SHOW VINDEX WORKFLOWS`): `Copying` through copy and verify,
/// `Stopped` once done, `Error` on a failure.
async fn states(c: &mut Conn) -> Vec<String> {
    let rows: Vec<mysql_async::Row> = c.query("SHOW VINDEX WORKFLOWS").await.expect("show");
    rows.into_iter()
        .map(|r| r.get::<String, _>("state").unwrap_or_default())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_status_page_in_chromium_shows_shards_vschema_statements_and_a_moving_bar() {
    require_chromium();
    let t0 = Instant::now();
    let at = |what: &str| eprintln!("{:>6.1} s  {what}", t0.elapsed().as_secs_f64());
    let layout = UserLookups {
        write_only_email: false,
    };
    // commerce/0 on a server of its own, killed at the end to see a shard go down.
    let mut spec = layout.spec().with_private_shard("commerce", "0");
    spec.server.http_listen = Some("127.0.0.1:0".into());
    let env = TestEnv::start(spec).await;
    let http = env.proxy.http_addr().expect("http_listen is set");
    let url = format!("http://{http}/debug/status");
    layout.create_tables(&env).await;
    for shard in SHARDS {
        let mut s = env.shard_conn("customer", shard).await;
        s.query_drop(
            "ALTER TABLE user ADD COLUMN email VARCHAR(128) CHARACTER SET utf8mb4 \
             COLLATE utf8mb4_general_ci, ADD KEY email (email)",
        )
        .await
        .expect("email column");
    }
    let mut direct = env.shard_conn("commerce", "0").await;
    direct
        .query_drop("CREATE TABLE product (sku VARCHAR(32) PRIMARY KEY, price INT)")
        .await
        .expect("product");

    let mut c = env.client_as("root", "", Some("customer")).await;
    for batch in 0..ROWS / 500 {
        let values: Vec<String> = (1..=500)
            .map(|i| {
                let id = batch * 500 + i;
                format!(
                    "({id}, 'user{id}', {}, 'user{id}@example.com')",
                    5_550_000 + id
                )
            })
            .collect();
        c.query_drop(format!(
            "INSERT INTO user (id, name, phone, email) VALUES {}",
            values.join(", ")
        ))
        .await
        .expect("load");
    }
    // Statements of each route, so the top tables have rows.
    for id in [7, 70, 700, 7000, 17] {
        let _: Option<String> = c
            .query_first(format!("SELECT name FROM user WHERE id = {id}"))
            .await
            .expect("single shard");
    }
    for _ in 0..3 {
        let _: Option<u64> = c
            .query_first("SELECT COUNT(*) FROM user")
            .await
            .expect("scatter");
    }
    let _: Option<u64> = c
        .query_first("SELECT id FROM user WHERE phone = 5550042")
        .await
        .expect("lookup");
    let _: Option<String> = c
        .query_first("SELECT sku FROM commerce.product WHERE price > 10")
        .await
        .expect("unsharded");
    match c.query_drop("UPDATE user SET id = 100 WHERE id = 1").await {
        Err(mysql_async::Error::Server(e)) => assert_eq!(e.code, 1235, "{}", e.message),
        other => panic!("expected 1235, got {other:?}"),
    }
    // A client's text reaches the page escaped: this name is text, not markup.
    c.query_drop("SELECT 1 FROM commerce.`<b id=\"injected\">x</b>`")
        .await
        .expect_err("no such table");
    // Fresh statistics: the backfill's rows_total is the table's estimated row count.
    for shard in SHARDS {
        let mut s = env.shard_conn("customer", shard).await;
        s.query_drop("ANALYZE TABLE user").await.expect("analyze");
    }

    at("rows loaded, statements run");
    c.query_drop(CREATE).await.expect("CreateLookupVindex");
    let first = load(&url).await;
    at("first load");
    let t_first = Instant::now();

    // Every shard of every keyspace, up.
    let shards = first.table("shards");
    assert_eq!(
        shards.len(),
        5,
        "commerce/0 + 2 customer + 2 lookup: {shards:?}"
    );
    for s in &shards {
        assert_eq!(s.attr("data-health").as_deref(), Some("up"), "{s:?}");
    }
    // The VSchema summary: the keyspaces, the lookup vindexes, the new one write-only.
    let vschema = first.table("vschema");
    let keyspace = |name: &str| {
        vschema
            .iter()
            .find(|r| r.attr("data-keyspace").as_deref() == Some(name))
            .unwrap_or_else(|| {
                panic!("keyspace {name} missing from the VSchema table: {vschema:?}")
            })
    };
    let customer = keyspace("customer");
    assert_eq!(customer.cells[1], "yes", "sharded: {customer:?}");
    for vdx in ["hash", "name_user_vdx", "phone_user_vdx", "email_user_vdx"] {
        assert!(customer.cells[3].contains(vdx), "{vdx}: {customer:?}");
    }
    assert!(
        customer.cells[3]
            .contains("email_user_vdx (consistent_lookup_unique, owner user, write_only)"),
        "the backfilled vindex is write_only: {customer:?}"
    );
    assert!(
        keyspace("lookup").cells[2].contains(WORKFLOW),
        "{vschema:?}"
    );
    // The statements ran, by shape, with their routes.
    let top = first.table("top-by-count");
    let shape = |sql: &str| shardgate::sql::fingerprint(sql).normalized;
    for (sql, route, count) in [
        ("SELECT name FROM user WHERE id = 1", "single_shard", 5.0),
        ("SELECT COUNT(*) FROM user", "scatter", 3.0),
        ("SELECT id FROM user WHERE phone = 1", "lookup", 1.0),
        (
            "SELECT sku FROM commerce.product WHERE price > 1",
            "unsharded",
            1.0,
        ),
        ("UPDATE user SET id = 1 WHERE id = 1", "refused", 1.0),
    ] {
        let want = shape(sql);
        let row = top
            .iter()
            .find(|r| r.cells[0] == want)
            .unwrap_or_else(|| panic!("{want} missing from top-by-count: {top:#?}"));
        assert_eq!(row.attr("data-route").as_deref(), Some(route), "{row:?}");
        assert_eq!(row.cells[2], route, "{row:?}");
        assert_eq!(row.num("data-count"), count, "{row:?}");
    }
    // (A serializer writes `"` in text as is, so the check is on the element's `<`.)
    assert!(
        !first.dom.contains("<b id=\"injected\">"),
        "markup from a client was not escaped"
    );
    assert!(
        top.iter()
            .any(|r| r.cells[0].contains("`<b id=\"injected\">x</b>`")),
        "the statement's text is shown as text: {top:#?}"
    );
    let by_time = first.table("top-by-time");
    assert!(
        by_time
            .iter()
            .any(|r| r.cells[0] == shape("SELECT COUNT(*) FROM user")),
        "{by_time:#?}"
    );

    // The bar moves.
    let streams = first.streams(WORKFLOW);
    assert_eq!(
        streams.len(),
        2,
        "one stream per customer shard: {streams:?}"
    );
    let (copied_1, percent_1) = progress(&streams);
    tokio::time::sleep(Duration::from_secs(2).saturating_sub(t_first.elapsed())).await;
    let shot = screenshot_path();
    let _ = std::fs::remove_file(&shot);
    chromium(
        &url,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,2000",
            "--hide-scrollbars",
        ],
    )
    .await;
    let png = std::fs::metadata(&shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
    assert!(
        png.len() > 10_000,
        "a blank screenshot? {} bytes",
        png.len()
    );
    eprintln!("screenshot of /debug/status mid-copy: {}", shot.display());
    at("screenshot");
    let second = load(&url).await;
    at("second load");
    let streams_2 = second.streams(WORKFLOW);
    let (copied_2, percent_2) = progress(&streams_2);
    eprintln!(
        "rows copied {copied_1} -> {copied_2}, percent (summed over streams) {percent_1} -> {percent_2}"
    );
    for s in &streams_2 {
        assert!(
            s.num("data-percent") < 100.0,
            "the copy ended too soon: {s:?}"
        );
        assert!(s.cells[3].contains("copy"), "{s:?}");
        assert!(
            s.cells[7].ends_with('s')
                && s.cells[7]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit()),
            "an ETA while copying: {s:?}"
        );
    }
    let (total_1, total_2) = (first.total(WORKFLOW), second.total(WORKFLOW));
    assert!(
        total_2.num("data-percent") > total_1.num("data-percent")
            && total_2.num("data-percent") < 100.0,
        "the workflow's bar: {total_1:?} -> {total_2:?}"
    );
    assert_eq!(total_2.num("data-rows-copied"), copied_2, "{total_2:?}");
    assert!(copied_2 > copied_1, "rows copied {copied_1} -> {copied_2}");
    assert!(percent_2 > percent_1, "percent {percent_1} -> {percent_2}");
    for s in &streams {
        let after = streams_2
            .iter()
            .find(|t| t.attr("data-shard") == s.attr("data-shard"))
            .unwrap_or_else(|| panic!("stream vanished: {s:?}"));
        assert!(
            after.num("data-percent") >= s.num("data-percent"),
            "a bar went back: {s:?} -> {after:?}"
        );
    }

    // Done: 100 %.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let st = states(&mut c).await;
        if !st.is_empty() && st.iter().all(|state| state == "Stopped") {
            break;
        }
        assert!(!st.iter().any(|state| state == "Error"), "{st:?}");
        assert!(
            Instant::now() < deadline,
            "the copy does not finish: {st:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    at("copy done");
    let last = load(&url).await;
    let streams_3 = last.streams(WORKFLOW);
    assert_eq!(streams_3.len(), 2, "{streams_3:?}");
    for s in &streams_3 {
        assert_eq!(s.num("data-percent"), 100.0, "{s:?}");
    }
    let total_3 = last.total(WORKFLOW);
    assert_eq!(total_3.num("data-percent"), 100.0, "{total_3:?}");
    assert_eq!(total_3.cells[7], "done", "{total_3:?}");
    let (copied_3, _) = progress(&streams_3);
    assert_eq!(copied_3, ROWS as f64, "every owner row copied");

    // A shard goes down: its row says so, with the error; the others stay up.
    env.private_server("commerce", "0").kill().await;
    use shardgate::backend::health::{HEALTH_INTERVAL, STALE_AFTER};
    tokio::time::sleep(STALE_AFTER + HEALTH_INTERVAL + Duration::from_millis(500)).await;
    let down = load(&url).await;
    at("shard down");
    for s in down.table("shards") {
        let want = if s.attr("data-shard").as_deref() == Some("commerce/0") {
            "down"
        } else {
            "up"
        };
        assert_eq!(s.attr("data-health").as_deref(), Some(want), "{s:?}");
        assert_eq!(s.cells[2], want, "{s:?}");
        if want == "down" {
            assert!(s.cells[3].contains("; last answer "), "the error: {s:?}");
            eprintln!("commerce/0 down: {}", s.cells[3]);
        }
    }
    at("done");
    drop(c);
    drop(direct);
    env.stop().await;
}

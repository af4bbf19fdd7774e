//! `/debug/status`: one HTML page an operator reads at a glance, refreshed every 2 s.
//!
//! Sections: the proxy (id, version, uptime, connections, topology), keyspaces and shards
//! (health, pool), the VSchema summary (tables and vindexes per keyspace), lookup-vindex
//! workflows (a progress bar per stream with rate and ETA), and the top statement shapes by
//! count and by total time (route, shards touched). Everything a client or a VSchema wrote
//! is escaped ([`esc`]). Elements carry `id`s and `data-` attributes so tests and scripts
//! can read the page without scraping its layout.

use crate::metrics::FingerprintStats;
use crate::server::{Phase, ProxyState};
use crate::workflow::status::StreamStatus;
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// Rows of each "top statements" table.
const TOP: usize = 20;

/// `text` with the characters HTML gives meaning to written as entities (element content
/// and double-quoted attribute values).
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.4em 0}td,th{padding:.25em .6em;border:1px solid #ddd;\
text-align:left;vertical-align:top}th{background:#f4f4f4}code{font-size:12px}\
.up{color:#060;font-weight:600}.down{color:#b00;font-weight:600}\
.bar{display:inline-block;vertical-align:middle;width:220px;height:14px;background:#eee;\
border-radius:3px;overflow:hidden;margin-right:.5em}.fill{height:100%;background:#2a7ae2}\
.done .fill{background:#2a9d4a}.total td{background:#f8f8ff;font-weight:600}\
.num{text-align:right;white-space:nowrap}td.shape{max-width:44em;word-break:break-all}\
.note{color:#666;font-size:12px}";

/// The whole page.
pub async fn render(state: &ProxyState, phase: Phase) -> String {
    let streams = super::stream_statuses(state).await;
    let mut html = String::with_capacity(16 * 1024);
    let _ = write!(
        html,
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"2\"><title>shardgate status</title>\
         <style>{STYLE}</style></head><body>"
    );
    proxy_section(&mut html, state, phase);
    shards_section(&mut html, state);
    vschema_section(&mut html, state);
    match streams {
        Ok(streams) => workflows_section(&mut html, &streams),
        Err(e) => {
            let _ = write!(
                html,
                "<h2>Workflows</h2><p class=\"down\">cannot read the workflows: {}</p>",
                esc(&e)
            );
        }
    }
    statements_section(
        &mut html,
        "Top statements by count",
        "top-by-count",
        &state.metrics.top.ranked_by_count(TOP),
    );
    statements_section(
        &mut html,
        "Top statements by total time",
        "top-by-time",
        &state.metrics.top.ranked_by_time(TOP),
    );
    html.push_str("</body></html>");
    html
}

fn proxy_section(html: &mut String, state: &ProxyState, phase: Phase) {
    let up = state.started.elapsed().as_secs();
    let phase = match phase {
        Phase::Running => "serving",
        Phase::Drain => "draining",
        Phase::Now => "stopping",
    };
    let vschema = state.vschema.load();
    let _ = write!(
        html,
        "<h1>shardgate <code>{}</code></h1>\
         <p class=\"note\">This page reloads every 2 s.</p><table id=\"proxy\">\
         <tr><th>state</th><td id=\"phase\">{phase}</td></tr>\
         <tr><th>version</th><td>{}</td></tr>\
         <tr><th>MySQL address</th><td>{}</td></tr>\
         <tr><th>uptime</th><td>{}h {:02}m {:02}s</td></tr>\
         <tr><th>client connections</th><td>{}</td></tr>\
         <tr><th>statements received</th><td>{}</td></tr>\
         <tr><th>topology</th><td>{:?}; VSchema generation {}</td></tr></table>",
        esc(&state.proxy_id),
        esc(env!("CARGO_PKG_VERSION")),
        esc(&state.address),
        up / 3600,
        (up / 60) % 60,
        up % 60,
        state.open_connections.load(Ordering::Relaxed),
        state.questions.load(Ordering::Relaxed),
        state.topology.kind(),
        vschema.generation(),
    );
}

fn shards_section(html: &mut String, state: &ProxyState) {
    html.push_str(
        "<h2>Keyspaces and shards</h2><table id=\"shards\"><tr><th>keyspace</th><th>shard</th>\
         <th>health</th><th>last answer</th><th>pool open</th><th>idle</th><th>reserved</th>\
         <th>waits</th></tr>",
    );
    for shard in state.backends.all_shards() {
        let health = shard.health.report();
        let pool = shard.pool_stats();
        let (class, word) = if health.up {
            ("up", "up")
        } else {
            ("down", "down")
        };
        let ago = |d: std::time::Duration| match d.as_millis() {
            ms @ 0..=9999 => format!("{ms} ms ago"),
            _ => format!("{} ago", duration(d.as_secs_f64())),
        };
        let last = match (health.since_ok, &health.error) {
            (Some(d), Some(e)) => format!("{}; last answer {}", esc(e), ago(d)),
            (None, Some(e)) => format!("{}; never answered", esc(e)),
            (Some(d), None) => ago(d),
            (None, None) => "never".to_string(),
        };
        let _ = write!(
            html,
            "<tr data-shard=\"{}\" data-health=\"{word}\"><td>{}</td><td>{}</td>\
             <td class=\"{class}\">{word}</td><td>{last}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&shard.label),
            esc(&shard.keyspace),
            esc(&shard.name),
            pool.open,
            pool.idle,
            pool.reserved,
            pool.waits,
        );
    }
    html.push_str("</table>");
}

fn vschema_section(html: &mut String, state: &ProxyState) {
    let vschema = state.vschema.load();
    html.push_str(
        "<h2>VSchema</h2><table id=\"vschema\"><tr><th>keyspace</th><th>sharded</th>\
         <th>tables</th><th>vindexes</th></tr>",
    );
    for ks in vschema.keyspaces() {
        let vindexes: Vec<String> = ks
            .vindexes
            .values()
            .map(|v| {
                let owner = v
                    .owner
                    .as_deref()
                    .map(|o| format!(", owner {}", esc(o)))
                    .unwrap_or_default();
                let write_only = if v.params.get("write_only").is_some_and(|w| w == "true") {
                    ", write_only"
                } else {
                    ""
                };
                format!(
                    "<code>{}</code> ({}{owner}{write_only})",
                    esc(&v.name),
                    esc(&v.type_name)
                )
            })
            .collect();
        let tables = if ks.tables.is_empty() && !ks.sharded {
            "<span class=\"note\">none listed: every table of the shard is served</span>"
                .to_string()
        } else {
            let names: Vec<String> = ks.tables.keys().map(|t| esc(t)).collect();
            format!("{} <small>{}</small>", ks.tables.len(), names.join(", "))
        };
        let _ = write!(
            html,
            "<tr data-keyspace=\"{}\"><td>{}</td><td>{}</td><td>{tables}</td><td>{}</td></tr>",
            esc(&ks.name),
            esc(&ks.name),
            if ks.sharded { "yes" } else { "no" },
            vindexes.join("<br>"),
        );
    }
    html.push_str("</table>");
}

/// A progress cell: the bar and its percent.
fn bar(percent: f64) -> String {
    let done = if percent >= 100.0 { " done" } else { "" };
    format!(
        "<td class=\"progress{done}\"><div class=\"bar\"><div class=\"fill\" \
         style=\"width:{percent:.1}%\"></div></div>{percent:.1}%</td>"
    )
}

/// Seconds as `1h 02m`, `3m 05s` or `42 s`.
fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..=99 => format!("{s} s"),
        100..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s / 60) % 60),
    }
}

/// One workflow's totals over its streams: copied, total, percent, rate, ETA (the slowest
/// stream's; `None` while a copying stream has none yet).
struct Totals {
    copied: u64,
    total: u64,
    percent: f64,
    rate: Option<f64>,
    eta: Option<f64>,
    copying: bool,
}

fn totals(of: &[&StreamStatus]) -> Totals {
    let copied = of.iter().map(|s| s.rows_copied).sum();
    let total = of.iter().map(|s| s.rows_total.max(s.rows_copied)).sum();
    let copying = of.iter().any(|s| s.phase == "copy");
    let percent = match (copying, total) {
        (false, _) => 100.0,
        (true, 0) => 0.0,
        (true, t) => (copied as f64 * 100.0 / t as f64).min(99.9),
    };
    let rates: Vec<f64> = of.iter().filter_map(|s| s.rows_per_sec).collect();
    let rate = (!rates.is_empty()).then(|| rates.iter().sum());
    let eta = of
        .iter()
        .filter(|s| s.phase == "copy")
        .map(|s| s.eta_seconds)
        .try_fold(0.0_f64, |max, e| e.map(|e| max.max(e)));
    Totals {
        copied,
        total,
        percent,
        rate,
        eta,
        copying,
    }
}

fn workflows_section(html: &mut String, streams: &[StreamStatus]) {
    html.push_str("<h2>Workflows</h2>");
    if streams.is_empty() {
        html.push_str("<p id=\"workflows\">No lookup-vindex workflow.</p>");
        return;
    }
    html.push_str(
        "<table id=\"workflows\"><tr><th>workflow</th><th>table</th><th>source shard</th>\
         <th>state</th><th>progress</th><th>rows</th><th>rows/s</th><th>ETA</th>\
         <th>runner</th><th>message</th></tr>",
    );
    // Workflows in the order their first stream comes, each with its streams.
    let mut names: Vec<&str> = Vec::new();
    for s in streams {
        if !names.contains(&s.workflow.as_str()) {
            names.push(&s.workflow);
        }
    }
    for name in names {
        let of: Vec<&StreamStatus> = streams.iter().filter(|s| s.workflow == name).collect();
        if of.len() > 1 {
            let t = totals(&of);
            let eta = match (t.copying, t.eta) {
                (false, _) => "done".to_string(),
                (true, Some(e)) => duration(e),
                (true, None) => "…".to_string(),
            };
            let _ = write!(
                html,
                "<tr class=\"total\" data-workflow=\"{}\" data-percent=\"{:.1}\" \
                 data-rows-copied=\"{}\"><td>{}</td><td>{}.{}</td><td>{} streams</td>\
                 <td>{}</td>{}<td class=\"num\">{} / {}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{eta}</td><td></td><td></td></tr>",
                esc(name),
                t.percent,
                t.copied,
                esc(name),
                esc(&of[0].keyspace),
                esc(&of[0].table),
                of.len(),
                if t.copying { "copying" } else { "copied" },
                bar(t.percent),
                t.copied,
                t.total,
                t.rate
                    .map(|r| format!("{r:.0}"))
                    .unwrap_or_else(|| "…".into()),
            );
        }
        for s in of {
            stream_row(html, s);
        }
    }
    html.push_str("</table>");
}

fn stream_row(html: &mut String, s: &StreamStatus) {
    let eta = match s.eta_seconds {
        Some(e) if s.phase == "copy" => duration(e),
        Some(_) => "done".to_string(),
        None => "…".to_string(),
    };
    let rate = s
        .rows_per_sec
        .map(|r| format!("{r:.0}"))
        .unwrap_or_else(|| "…".into());
    let _ = write!(
        html,
        "<tr class=\"stream\" data-workflow=\"{}\" data-shard=\"{}\" data-percent=\"{:.1}\" \
         data-rows-copied=\"{}\"><td>{}</td><td>{}.{}</td><td>{}</td><td>{} ({})</td>{}\
         <td class=\"num\">{} / {}</td><td class=\"num\">{rate}</td>\
         <td class=\"num\">{eta}</td><td><code>{}</code></td><td>{}</td></tr>",
        esc(&s.workflow),
        esc(&s.source_shard),
        s.percent,
        s.rows_copied,
        esc(&s.workflow),
        esc(&s.keyspace),
        esc(&s.table),
        esc(&s.source_shard),
        esc(&s.state),
        esc(&s.phase),
        bar(s.percent),
        s.rows_copied,
        s.rows_total.max(s.rows_copied),
        esc(&s.runner),
        esc(&s.message),
    );
}

fn statements_section(html: &mut String, title: &str, id: &str, top: &[FingerprintStats]) {
    let _ = write!(
        html,
        "<h2>{title}</h2><table id=\"{id}\"><tr><th>statement shape</th><th>kind</th>\
         <th>route</th><th>keyspace</th><th>count</th><th>total ms</th><th>mean ms</th>\
         <th>shards (mean / max)</th><th>rows</th><th>errors</th></tr>"
    );
    for s in top {
        let total_ms = s.total_time.as_secs_f64() * 1000.0;
        let mean_ms = if s.count == 0 {
            0.0
        } else {
            total_ms / s.count as f64
        };
        let _ = write!(
            html,
            "<tr class=\"shape\" data-route=\"{}\" data-count=\"{}\"><td class=\"shape\"><code>{}</code></td>\
             <td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{total_ms:.1}</td><td class=\"num\">{mean_ms:.2}</td>\
             <td class=\"num\">{:.1} / {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            s.route.as_str(),
            s.count,
            esc(&s.fingerprint),
            s.kind,
            s.route.as_str(),
            esc(&s.keyspace),
            s.count,
            s.mean_shards(),
            s.max_shards,
            s.rows,
            s.errors,
        );
    }
    html.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_html_reads() {
        assert_eq!(
            esc(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(esc("select ? from t"), "select ? from t");
    }

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(duration(0.4), "0 s");
        assert_eq!(duration(42.0), "42 s");
        assert_eq!(duration(185.0), "3m 05s");
        assert_eq!(duration(3725.0), "1h 02m");
        assert_eq!(duration(-3.0), "0 s");
    }

    fn stream(shard: &str, phase: &str, copied: u64, total: u64, eta: Option<f64>) -> StreamStatus {
        StreamStatus {
            workflow: "w".into(),
            keyspace: "customer".into(),
            table: "user".into(),
            source_shard: shard.into(),
            state: "Copying".into(),
            phase: phase.into(),
            rows_copied: copied,
            rows_total: total,
            percent: 0.0,
            rows_per_sec: eta.map(|_| 10.0),
            eta_seconds: eta,
            message: String::new(),
            conflicts: 0,
            runner: String::new(),
        }
    }

    #[test]
    fn a_workflow_totals_its_streams() {
        let a = stream("-80", "copy", 30, 100, Some(7.0));
        let b = stream("80-", "copy", 50, 100, Some(5.0));
        let t = totals(&[&a, &b]);
        assert_eq!((t.copied, t.total), (80, 200));
        assert_eq!(t.percent, 40.0);
        assert_eq!(t.eta, Some(7.0), "the slowest stream");
        assert_eq!(t.rate, Some(20.0));
        let unknown = stream("80-", "copy", 0, 100, None);
        assert_eq!(totals(&[&a, &unknown]).eta, None);
        // An estimate below the rows copied stays under 100 % until the copy ends.
        let over = stream("-80", "copy", 150, 100, Some(1.0));
        assert_eq!(totals(&[&over]).percent, 99.9);
        let done = stream("-80", "done", 150, 100, Some(0.0));
        let t = totals(&[&done, &stream("80-", "verify", 100, 100, Some(0.0))]);
        assert_eq!(t.percent, 100.0);
        assert!(!t.copying);
    }

    #[test]
    fn one_bar_per_workflow_over_several_streams() {
        let mut html = String::new();
        workflows_section(
            &mut html,
            &[
                stream("-80", "copy", 30, 100, Some(7.0)),
                stream("80-", "copy", 50, 100, Some(5.0)),
            ],
        );
        assert_eq!(html.matches("<tr class=\"total\"").count(), 1, "{html}");
        assert_eq!(html.matches("<tr class=\"stream\"").count(), 2, "{html}");
        assert!(html.contains("data-percent=\"40.0\""), "{html}");
        assert!(html.contains("width:40.0%"), "{html}");
    }
}

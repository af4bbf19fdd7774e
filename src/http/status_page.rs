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
.bar{width:220px;height:14px;background:#eee;border-radius:3px;overflow:hidden}\
.fill{height:100%;background:#2a7ae2}.num{text-align:right}";

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
        "<h1>shardgate <code>{}</code></h1><table id=\"proxy\">\
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
        let last = match (health.since_ok, &health.error) {
            (_, Some(e)) => esc(e),
            (Some(d), None) => format!("{} ms ago", d.as_millis()),
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
        let tables: Vec<String> = ks.tables.keys().map(|t| esc(t)).collect();
        let _ = write!(
            html,
            "<tr data-keyspace=\"{}\"><td>{}</td><td>{}</td><td>{} <small>{}</small></td>\
             <td>{}</td></tr>",
            esc(&ks.name),
            esc(&ks.name),
            if ks.sharded { "yes" } else { "no" },
            ks.tables.len(),
            tables.join(", "),
            vindexes.join("<br>"),
        );
    }
    html.push_str("</table>");
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
    for s in streams {
        let eta = match s.eta_seconds {
            Some(e) if s.phase == "copy" => format!("{e:.0} s"),
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
             data-rows-copied=\"{}\"><td>{}</td><td>{}.{}</td><td>{}</td><td>{} ({})</td>\
             <td><div class=\"bar\"><div class=\"fill\" style=\"width:{:.1}%\"></div></div>\
             {:.1}%</td><td class=\"num\">{} / {}</td><td class=\"num\">{rate}</td>\
             <td>{eta}</td><td><code>{}</code></td><td>{}</td></tr>",
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
            s.percent,
            s.percent,
            s.rows_copied,
            s.rows_total.max(s.rows_copied),
            esc(&s.runner),
            esc(&s.message),
        );
    }
    html.push_str("</table>");
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
            "<tr class=\"shape\" data-route=\"{}\" data-count=\"{}\"><td><code>{}</code></td>\
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
}

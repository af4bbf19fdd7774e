"""The markdown tables of the report, one per section (sysbench matrix, single-shard route latency
vs shard count, lookup vs scatter, connection count), and their cell formatting: a missing
figure is "–", a failed one "error: <first error line>" (in the first figure column only).
"""

from .cells import WORKLOADS, cell_topo, is_socket, short
from .targets import T_BACKEND_CONNS, T_FLAT, T_LOOKUP, T_RSS_MIB, cell_target, check


def fmt(v, nd=0):
    if v is None:
        return "–"
    if nd == 0:
        return f"{v:.0f}"
    return f"{v:.{nd}f}"


def side_val(side, k, nd=0, first=("qps",)):
    """A figure of one side; an error's text only in the first column (QPS), "error" elsewhere."""
    if "error" in side:
        return "error: " + md_escape(side["error"]) if k in first else "error"
    return fmt(side.get(k), nd)


def md_escape(s):
    return s.replace("|", "\\|").replace("\n", " ")


def lat(side):
    if "error" in side:
        return "error"
    return "/".join(fmt(side.get(k), 2) for k in ("p50_ms", "p95_ms", "p99_ms"))


def matrix_table(cells):
    lines = ["| topology | workload | ps-mode | threads | direct QPS | proxy QPS | ratio "
             "| direct TPS | proxy TPS | TPS ratio | direct p50/p95/p99 ms "
             "| proxy p50/p95/p99 ms | proxy CPU µs/query | CPU µs/query: direct sysbench + "
             "MariaDB → proxy run sysbench + MariaDB + proxy | ratio with a free proxy "
             "| target |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in sorted(cells, key=lambda c: (c["shards"] != 0, c["shards"], is_socket(c),
                                          WORKLOADS.index(c["workload"]), c["ps"] != "disable",
                                          c["threads"])):
        d, p = c["direct"], c["proxy"]
        tps = c["workload"] in ("oltp_read_only", "oltp_read_write")
        lines.append(
            f"| {cell_topo(c)} | {short(c['workload'])} | {c['ps']} | {c['threads']} "
            f"| {side_val(d, 'qps')} | {side_val(p, 'qps')} | {fmt(c.get('qps_ratio'), 2)} "
            f"| {side_val(d, 'tps') if tps else '–'} | {side_val(p, 'tps') if tps else '–'} "
            f"| {fmt(c.get('tps_ratio'), 2) if tps else '–'} | {lat(d)} | {lat(p)} "
            f"| {side_val(p, 'proxy_cpu_us_per_query', 1)} | {cpu_split(d, p)} "
            f"| {fmt(c.get('free_proxy_ratio'), 2)} | {cell_target(c)} |")
    return "\n".join(lines)


def cpu_split(d, p):
    keys = ("sysbench_us_per_query", "mariadb_us_per_query")
    if not all(k in d for k in keys) or not all(k in p for k in keys + (
            "proxy_cpu_us_per_query",)):
        return "–"
    return (f"{d[keys[0]]:.0f} + {d[keys[1]]:.0f} → {p[keys[0]]:.0f} + {p[keys[1]]:.0f} + "
            f"{p['proxy_cpu_us_per_query']:.0f}")


def latency_table(cells, shard_counts, threads_list, spread=None):
    spread = spread or {}
    b = min(shard_counts) if shard_counts else 2
    lines = ["| shards | threads | direct p50 ms | proxy p50 ms | proxy avg ms | p50 ratio "
             f"| avg ratio | proxy QPS | p50 vs {b} shards | avg vs {b} shards | target "
             "| no proxy, 1 thread: `SELECT 1` p50 ms, one server / spread over all (ratio) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    by = {(c["shards"], c["threads"]): c for c in cells
          if c["workload"] == "oltp_point_select" and c["ps"] == "disable" and c["shards"]}
    rows = []
    shown = set()  # shard counts whose no-proxy spread figure is printed
    for t in threads_list:
        base = by.get((min(shard_counts), t))
        bp = base["proxy"] if base else {}
        for s in shard_counts:
            c = by.get((s, t))
            if c is None:
                continue
            d, p = c["direct"], c["proxy"]
            rel = {}
            for k in ("p50_ms", "avg_ms"):
                if "error" not in p and bp.get(k) and p.get(k) is not None:
                    rel[k] = p[k] / bp[k]
            ratios = {}
            for k in ("p50_ms", "avg_ms"):
                if "error" not in p and "error" not in d and d.get(k) and p.get(k):
                    ratios[k] = p[k] / d[k]
            if s == min(shard_counts):
                target = "baseline"
            elif len(rel) == 2:
                ok = all(abs(v - 1) <= T_FLAT for v in rel.values())
                target = f"±{T_FLAT * 100:.0f}% {check(ok)}"
            else:
                target = f"±{T_FLAT * 100:.0f}%: error"
            row = (f"| {s} | {t} | {side_val(d, 'p50_ms', 3, ('p50_ms',))} "
                   f"| {side_val(p, 'p50_ms', 3, ('p50_ms',))} "
                   f"| {side_val(p, 'avg_ms', 3)} | {fmt(ratios.get('p50_ms'), 2)} "
                   f"| {fmt(ratios.get('avg_ms'), 2)} | {side_val(p, 'qps')} "
                   f"| {fmt(rel.get('p50_ms'), 2)} | {fmt(rel.get('avg_ms'), 2)} | {target} "
                   f"| {spread_cell(spread.get(str(s)) if s not in shown else None)} |")
            shown.add(s)
            rows.append(row)
            c["latency_vs_base"] = rel
    return "\n".join(lines + rows) if rows else ""


def spread_cell(sp):
    if not sp:
        return "–"
    if "error" in sp:
        return f"error: {md_escape(sp['error'])}"
    return (f"{sp['one_p50_ms']:.3f} / {sp['spread_p50_ms']:.3f} over {sp['servers']} "
            f"({sp['spread_p50_ms'] / sp['one_p50_ms']:.2f})")


def lookup_table(res):
    if not res:
        return ""
    lines = ["| shards | `SELECT id, name, email FROM user WHERE phone = ?` | direct QPS "
             "(one server, full table, UNIQUE phone) | proxy QPS | proxy / direct "
             "| lookup / scatter | shards touched | proxy p50/p95/p99 ms "
             "| proxy CPU µs/query | target |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    if "error" in res:
        lines.append(f"| {res['shards']} | error: {md_escape(res['error'])} "
                     "| | | | | | | | |")
        return "\n".join(lines)
    d = res["direct"]
    for side, label, table in (("scatter", "scatter (`user_scatter`, no phone vindex)",
                                "touched_scatter"),
                               ("lookup", "lookup (`user`, phone_user_vdx)", "touched_lookup")):
        p = res[side]
        t = res.get(table, {})
        ratio = (p["qps"] / d["qps"]) if "qps" in p and "qps" in d and d["qps"] else None
        lvs = res.get("lookup_vs_scatter")
        if side == "lookup":
            ceiling = res.get("ceiling_lookup_vs_scatter")
            target = (f"≥{T_LOOKUP:.0f}× scatter " +
                      ("error" if lvs is None else check(lvs >= T_LOOKUP)) +
                      (f" (no-proxy ceiling {ceiling:.2f}×)" if ceiling else ""))
            lvs_s = fmt(lvs, 2)
        else:
            target, lvs_s = "–", "1.00" if "qps" in p else "–"
        lines.append(
            f"| {res['shards']} | {label} | {side_val(d, 'qps')} | {side_val(p, 'qps')} "
            f"| {fmt(ratio, 2)} | {lvs_s} | {t.get('total', '?')} ({t.get('lookup', '?')} lookup "
            f"+ {t.get('customer', '?')} customer) | {lat(p)} "
            f"| {side_val(p, 'proxy_cpu_us_per_query', 1)} | {target} |")
    scatter = res.get("ceiling_scatter", {})
    lookup = res.get("ceiling_lookup", {})
    if "tps" in scatter and "tps" in lookup:
        lines += ["", f"No proxy, the same backend queries sent by hand "
                  f"(bench/lua/lookup_ceiling.lua, {res['threads']} threads, one connection per "
                  f"customer server): scatter (the user query on all {res['shards']} servers) "
                  f"{scatter['tps']:.0f} events/s, lookup (lookup-table query on one server, "
                  f"user query on another) {lookup['tps']:.0f} events/s: a ceiling of "
                  f"{lookup['tps'] / scatter['tps']:.2f}× for lookup / scatter on this host, "
                  f"before any proxy cost."]
    elif scatter.get("error") or lookup.get("error"):
        lines += ["", "No-proxy ceiling: error: "
                  f"{md_escape(scatter.get('error') or lookup.get('error'))}"]
    return "\n".join(lines)


def conns_table(res):
    if not res:
        return ""
    lines = ["| state | proxy RSS MiB | backend conns, max per shard | max per server "
             "(customer + lookup guest) | commerce/0 | target |",
             "|---|---|---|---|---|---|"]
    for s in res.get("snapshots", []):
        active = "idle clients" in s["label"]
        target = "–"
        if active:
            ok = s["rss_mib"] <= T_RSS_MIB and s["backend_max_per_shard"] <= T_BACKEND_CONNS
            target = f"RSS ≤{T_RSS_MIB} MiB, ≤{T_BACKEND_CONNS}/shard {check(ok)}"
            if s.get("errors"):
                target = f"error: {s['errors']} of {res.get('clients')} clients failed"
        lines.append(f"| {s['label']} | {s['rss_mib']:.1f} | {s['backend_max_per_shard']} "
                     f"| {s['backend_max_per_server']} | {s['backend'].get('commerce/0', '?')} "
                     f"| {target} |")
    if "error" in res:
        lines.append(f"| error: {md_escape(res['error'])} | | | | | |")
    return "\n".join(lines)


def floor_table(res):
    """The hop floor: direct, the byte relay and shardgate side by side, per ps-mode."""
    lines = ["| ps-mode | threads | direct QPS | byte relay QPS | relay / direct | relay CPU "
             "µs/query | shardgate QPS | shardgate / direct | shardgate / relay | shardgate "
             "CPU µs/query | shardgate CPU above the relay µs/query |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for ps, m in res.get("modes", {}).items():
        d, r, p = m["direct"], m["relay"], m["proxy"]
        rc, pc = r.get("proxy_cpu_us_per_query"), p.get("proxy_cpu_us_per_query")
        above = pc - rc if rc is not None and pc is not None else None
        lines.append(f"| {ps} | {res['threads']} | {side_val(d, 'qps')} | {side_val(r, 'qps')} "
                     f"| {fmt(m.get('relay_ratio'), 2)} "
                     f"| {side_val(r, 'proxy_cpu_us_per_query', 1)} | {side_val(p, 'qps')} "
                     f"| {fmt(m.get('proxy_ratio'), 2)} | {fmt(m.get('proxy_vs_relay'), 2)} "
                     f"| {side_val(p, 'proxy_cpu_us_per_query', 1)} | {fmt(above, 1)} |")
    if "error" in res:
        lines.append(f"| error: {md_escape(res['error'])} | | | | | | | | | | |")
    return "\n".join(lines)

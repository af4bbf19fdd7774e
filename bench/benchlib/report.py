"""The run's report and its records: the markdown text (a header line with date, command, commit,
binary and load, then each section's intro and table, sysbench's ignored errors and the notes),
always printed and, as --record says, written as JSON (bench/results/run*.json) and into
bench/README.md between the bench-run markers.
"""

import datetime
import json
import os
import re
import subprocess
import time

from .cells import cell_topo, short
from .common import REPO, log
from .tables import (conns_table, floor_table, latency_table, lookup_table, matrix_table,
                     md_escape)


def report(results, args):
    meta = results["meta"]
    head = (f"{meta['date']}, `{meta['command']}`, commit {meta['commit']}, binary "
            f"{meta['binary']}, load average {meta['loadavg_start']} at start / "
            f"{meta['loadavg_end']} at end, {meta['duration_s'] / 60:.1f} min, "
            f"{args.time} s per run x {args.rounds} round(s), {args.tables} x "
            f"{args.table_size}-row sbtest table(s), proxy runtime threads: "
            f"{meta.get('proxy_worker_threads') or 'the default for ' + str(meta.get('host_cpus')) + ' CPUs'}.")
    parts = [head, ""]
    cells = results["cells"]
    mcells = [c for c in cells if "matrix" in c["sections"]]
    if mcells:
        parts += ["**sysbench matrix** (direct = sysbench straight to one MariaDB server: the "
                  "commerce server for unsharded, the server of the first customer shard with "
                  "a full copy of the table for sharded; latency = per event, i.e. per "
                  "transaction for read_only/read_write; targets apply to the 8-thread cells; "
                  "CPU µs/query per process: sysbench from its rusage, MariaDB summed over all "
                  "the cluster's servers from /proc, the proxy from its own; \"ratio with a "
                  "free proxy\" = direct (sysbench + MariaDB) / proxy run (sysbench + MariaDB), "
                  "the ratio a proxy using no CPU would reach on this CPU-bound host, given "
                  "what the extra hop and the spread over several servers cost the others):",
                  "", matrix_table(mcells), ""]
    lt = latency_table([c for c in cells if "latency" in c["sections"]],
                       results.get("latency_shards", []), results.get("latency_threads", []),
                       results.get("spread"))
    if lt:
        parts += ["**single-shard route latency vs shard count** (oltp_point_select, "
                  "ps-mode disable; ratios against the same run's direct figures and against "
                  "the smallest shard count; the last column has no proxy in it: PyMySQL "
                  "`SELECT 1` at one thread always to one shard server, then each to a random "
                  "one of the cluster's servers, which is what routing to a random shard does "
                  "to the servers):", "", lt, ""]
    if results.get("floor"):
        fl = results["floor"]
        parts += ["**hop floor** (unsharded oltp_point_select, the commerce server; informational, "
                  "no target: `byte_relay` is examples/byte_relay.rs, a relay that parses "
                  "nothing and copies each client's bytes to its own connection to the server's "
                  "Unix socket, the proxy's path, on the proxy's current-thread tokio runtime; "
                  f"direct, relay and proxy runs alternate, {fl.get('rounds')} round(s); what "
                  "the relay costs, any proxy on this host pays; CPU µs/query of each from its "
                  "own /proc stat):", "", floor_table(fl), ""]
    if results.get("lookup"):
        parts += ["**lookup vs scatter** (bench/lua/lookup_point_select.lua, "
                  f"{results['lookup'].get('users')} users, {results['lookup'].get('threads')} "
                  f"threads, ps-mode {results['lookup'].get('ps')}):", "",
                  lookup_table(results["lookup"]), ""]
    if results.get("connections"):
        cr = results["connections"]
        extra = ""
        if "open_s" in cr:
            extra = (f"; opened in {cr['open_s']:.1f} s ({cr.get('connect_errors', 0)} errors), "
                     f"one point select each, one client after the other, in "
                     f"{cr.get('query_s', 0):.1f} s ({cr.get('query_errors', 0)} errors), the "
                     f"burst in {cr.get('burst_s', 0):.1f} s ({cr.get('burst_errors', 0)} "
                     f"errors)")
        if cr.get("first_error"):
            extra += f"; first error: {md_escape(cr['first_error'])}"
        parts += [f"**connection count** ({cr['clients']} PyMySQL clients to `customer` on "
                  f"{cr['shards']} shards, before any other load{extra}):", "",
                  conns_table(cr), ""]
    ignored = []
    for c in cells:
        for side in ("direct", "proxy"):
            n = c[side].get("ignored_errors")
            if n:
                ignored.append(f"{cell_topo(c)} {short(c['workload'])} ps={c['ps']} "
                               f"threads={c['threads']} {side}: {n:.0f}")
    if ignored:
        parts += ["sysbench ignored errors (deadlocks, lock wait timeouts, duplicate keys of "
                  "oltp_insert's random ids): " + "; ".join(ignored) + ".", ""]
    if results.get("notes"):
        parts += ["Notes: " + "; ".join(results["notes"]) + ".", ""]
    return "\n".join(parts).rstrip() + "\n"


def record_readme(text):
    path = os.path.join(REPO, "bench", "README.md")
    begin, end = "<!-- bench-run:begin -->", "<!-- bench-run:end -->"
    with open(path) as f:
        doc = f.read()
    block = f"{begin}\n{text}{end}"
    if begin in doc and end in doc:
        doc = doc[: doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(doc)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def binary_info(path):
    path = os.path.abspath(path)
    info = path
    m = re.match(r"(.*)/target/(release|debug)/shardgate$", path)
    if m:
        try:
            rev = subprocess.run(["git", "-C", m.group(1), "rev-parse", "--short", "HEAD"],
                                 capture_output=True, text=True, check=True).stdout.strip()
            dirty = subprocess.run(["git", "-C", m.group(1), "status", "--porcelain",
                                    "--untracked-files=no"],
                                   capture_output=True, text=True).stdout.strip()
            info += f" ({m.group(2)} build; that tree is at {rev}{' + changes' if dirty else ''})"
        except (subprocess.CalledProcessError, OSError):
            pass
    mtime = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
    return info + f", built {mtime:%Y-%m-%d %H:%M} UTC"


def finish(results, args, started):
    """Closes the run's figures (end load, duration), prints the report and records it as
    --record says: the JSON file (args.json) and, for readme, bench/README.md too."""
    results["meta"]["loadavg_end"] = loadavg()
    results["meta"]["duration_s"] = time.time() - started
    for c in results["cells"]:
        c["sections"] = sorted(c["sections"])
    text = report(results, args)
    print(text)
    if args.record in ("json", "readme"):
        os.makedirs(os.path.dirname(args.json), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2, sort_keys=True)
        log(f"wrote {os.path.relpath(args.json, REPO)}")
    if args.record == "readme":
        record_readme(text)
        log("recorded in bench/README.md")

"""The performance matrix behind `bench/run` (run that, not this: it installs sysbench, builds
the proxy, raises `ulimit -n` and cleans up after this script).

What it does, in order, per cluster (`shardgate local --shards N`, one at a time, 4 shards first
so the connection-count test sees a fresh proxy):

  1. writes the bench's own VSchemas into DIR/vschema/ and starts the cluster;
  2. (4 shards) the connection-count test: 2,000 idle clients, proxy RSS and backend connections;
  3. prepares the sysbench tables: commerce.sbtest* through the proxy (unsharded cells),
     customer.sbtest* through the proxy (multi-row INSERTs routed by id, sharded cells) and a
     full copy in database `sbdirect` on the server of the first customer shard (their direct
     baseline);
  4. runs every selected sysbench cell: a direct run, then a proxy run, `--rounds` times;
  5. (4 shards) the hop floor: the unsharded point select through a byte relay that parses
     nothing (examples/byte_relay.rs), alternating with direct and proxy runs;
  6. (4 shards) lookup vs scatter: the same point select by phone on `user` (phone_user_vdx) and
     on `user_scatter` (same rows, no phone vindex), plus a direct run on a full copy and the
     no-proxy ceiling (each plan's backend queries sent by hand, bench/lua/lookup_ceiling.lua).

Latency percentiles: sysbench 1.0 prints one percentile per run (`--percentile`), so every run
has `--histogram=on` and p50/p95/p99 are read off the printed histogram (1024 log-spaced
buckets, so each figure is the upper bound of a bucket ~1.8% wide; p99 agrees with sysbench's
own 99th percentile line, which is kept as `sysbench_p99_ms`).

Proxy CPU: `shardgate local` runs the proxy inside the launcher process (src/local/cluster.rs:
`Proxy::start` in the same tokio runtime); the MariaDB servers are child processes
(src/local/mariadb/process.rs: `Command::spawn`), so their CPU is not in the launcher's
utime/stime (fields 14/15 of /proc/<pid>/stat; children only ever show in cutime/cstime, and
only once reaped). The launcher's own extra work while serving is a 2 s server watch tick.
"""

import datetime
import os
import subprocess
import time
import traceback

from .cells import cell_key, cell_topo, curated_cells, full_cells, keep, latency_cells, short
from .cluster import Cluster
from .common import REPO, CellError, log, run_main
from .conns import conns_bench
from .floor import floor_bench
from .lookup import lookup_bench
from .oltp import prepare_cluster, run_cell
from .options import parse_args
from .report import binary_info, finish, loadavg
from .spread import server_spread
from .tables import fmt


def main():
    args, lat_shards, lat_threads, sections, filters = parse_args(__doc__)

    started = time.time()
    results = {"meta": {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": args.command, "binary": binary_info(os.environ.get("SHARDGATE_BIN_ORIGIN", args.bin)),
        "commit": subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                 capture_output=True, text=True).stdout.strip() or "?",
        "loadavg_start": loadavg(), "host_cpus": os.cpu_count(),
        "time_per_run_s": args.time, "rounds": args.rounds, "table_size": args.table_size,
        "tables": args.tables, "sections": sorted(sections), "filters": args.only,
        "proxy_worker_threads": args.worker_threads},
        "cells": [], "notes": [], "latency_shards": lat_shards, "latency_threads": lat_threads}

    # The cells, each tagged with the sections it belongs to.
    planned = {}
    if "matrix" in sections:
        for c in (full_cells() if args.full else curated_cells(args.quick)):
            planned.setdefault(cell_key(c), dict(c, sections=set()))["sections"].add("matrix")
    if "latency" in sections:
        for c in latency_cells(lat_shards, lat_threads):
            planned.setdefault(cell_key(c), dict(c, sections=set()))["sections"].add("latency")
    cells = [c for c in planned.values() if keep(c, filters)]

    # Clusters: the aux one (lookup, connections, unsharded cells) first, then ascending.
    wanted = {c["shards"] for c in cells if c["shards"]}
    if ("lookup" in sections or "conns" in sections or "floor" in sections
            or any(c["shards"] == 0 for c in cells)):
        wanted.add(args.aux_shards)
    order = sorted(wanted, key=lambda s: (s != args.aux_shards, s))
    log(f"{len(cells)} sysbench cells, clusters {order}, sections {sorted(sections)}, "
        f"{args.time} s per run")
    try:
        for n in order:
            mine = [c for c in cells if c["shards"] == n or (c["shards"] == 0 and n == order[0])]
            # The aux cluster always has user/user_scatter (the connection test queries user).
            cl = Cluster(args, n, with_lookup=(n == args.aux_shards))
            try:
                try:
                    secs = cl.start()
                    results["notes"].append(f"{n} shards: `shardgate local` served after "
                                            f"{secs:.0f} s")
                except CellError as e:
                    for c in mine:
                        err = {"error": f"cluster: {e}"}
                        results["cells"].append(dict(c, direct=err, proxy=err))
                    if n == args.aux_shards:
                        if "lookup" in sections:
                            results["lookup"] = {"shards": n, "error": f"cluster: {e}"}
                        if "floor" in sections:
                            results["floor"] = {"error": f"cluster: {e}"}
                        if "conns" in sections:
                            results["connections"] = {"shards": n, "clients": args.clients,
                                                      "error": f"cluster: {e}"}
                    continue
                if n == args.aux_shards and "conns" in sections:
                    results["connections"] = conns_bench(cl, args)
                if any("latency" in c["sections"] for c in mine if c["shards"] == n):
                    try:
                        results.setdefault("spread", {})[str(n)] = server_spread(cl)
                    except Exception as e:  # a number or an error, never a silent gap
                        results.setdefault("spread", {})[str(n)] = {"error": str(e)}
                floor = n == args.aux_shards and "floor" in sections
                state = prepare_cluster(cl, floor or any(c["shards"] == 0 for c in mine),
                                        any(c["shards"] for c in mine), args, results["notes"])
                # oltp_insert last on each table: it grows the table.
                mine.sort(key=lambda c: (c["shards"], c["workload"] == "oltp_insert"))
                for c in mine:
                    err = state.get("unsharded" if c["shards"] == 0 else "sharded")
                    if err:
                        results["cells"].append(dict(c, direct={"error": err},
                                                     proxy={"error": err}))
                        continue
                    log(f"  {cell_topo(c)} {short(c['workload'])} ps={c['ps']} "
                        f"threads={c['threads']} ...")
                    try:
                        r = run_cell(cl, c, args)
                    except Exception as e:  # keep going, whatever broke
                        err = {"error": f"{type(e).__name__}: {e}"}
                        r = dict(c, direct=err, proxy=err)
                    results["cells"].append(r)
                    d, p = r["direct"], r["proxy"]
                    log(f"    direct {d.get('qps', d.get('error'))} proxy "
                        f"{p.get('qps', p.get('error'))} ratio {fmt(r.get('qps_ratio'), 2)} "
                        f"cpu {fmt(p.get('proxy_cpu_us_per_query'), 1)} µs/q")
                if floor:
                    if state.get("unsharded"):
                        results["floor"] = {"error": state["unsharded"]}
                    else:
                        try:
                            results["floor"] = floor_bench(cl, args)
                        except Exception as e:  # an error in the table, never a silent gap
                            results["floor"] = {"error": f"{type(e).__name__}: {e}"}
                if n == args.aux_shards and "lookup" in sections:
                    results["lookup"] = lookup_bench(cl, args)
                    lk = results["lookup"]
                    log(f"    lookup/scatter {fmt(lk.get('lookup_vs_scatter'), 2)} (no-proxy "
                        f"ceiling {fmt(lk.get('ceiling_lookup_vs_scatter'), 2)})")
            finally:
                cl.stop()
    except KeyboardInterrupt:
        log("interrupted: writing nothing")
        raise
    except Exception:
        traceback.print_exc()
        results["notes"].append("the run stopped early: " +
                                traceback.format_exc().strip().splitlines()[-1])
    finish(results, args, started)


if __name__ == "__main__":
    run_main(main)

"""The sysbench OLTP cells on one cluster: preparing sbtest* (commerce through the proxy; customer
through the proxy, checked to be spread over every shard, plus a full copy in `sbdirect` on the
first customer shard's server as the sharded cells' direct baseline; warm-up runs), and
run_cell: `--rounds` alternating direct/proxy runs of one cell, their means, the proxy/direct
ratios and the ratio a proxy costing no CPU would reach.
"""

import os
import time

from .cells import is_socket
from .common import CellError, log
from .procstat import measured, with_cpu_split
from .sql import execute
from .sysbench import SYSBENCH_DIR, UnixSocket, mean_runs, oltp_extra, oltp_run, sysbench


def prepare_oltp(port, db, args, what):
    t0 = time.time()
    log(f"  prepare {what}: {args.tables} x {args.table_size} rows ...")
    sysbench(port, db, os.path.join(SYSBENCH_DIR, "oltp_point_select.lua"), 1, 0, "disable",
             args, oltp_extra(args, "prepare"), command="prepare",
             timeout=max(300, args.table_size // 100))
    log(f"    done in {time.time() - t0:.1f} s")
    return time.time() - t0


def warm_up(port, db, args):
    if args.warmup > 0:
        oltp_run(port, db, "oltp_point_select", 8, "disable", args.warmup, args)


def prepare_cluster(cl, need_unsharded, need_sharded, args, notes):
    """Returns {"unsharded": error or None, "sharded": error or None}."""
    state = {}
    if need_unsharded:
        try:
            prepare_oltp(cl.port, "commerce", args, "commerce.sbtest (through the proxy)")
            warm_up(cl.direct_port("commerce"), "vt_commerce", args)
            warm_up(cl.port, "commerce", args)
            state["unsharded"] = None
        except (CellError, OSError) as e:
            state["unsharded"] = f"prepare failed: {e}"
            log(f"  {state['unsharded']}")
    if need_sharded:
        try:
            dport = cl.direct_port("customer")
            execute(dport, None, ["CREATE DATABASE IF NOT EXISTS sbdirect"])
            prepare_oltp(dport, "sbdirect", args,
                         f"sbdirect.sbtest (direct, server of customer/{cl.servers['customer'][0][0]})")
            secs = prepare_oltp(cl.port, "customer", args,
                                f"customer.sbtest (through the proxy, {cl.shards} shards)")
            notes.append(f"{cl.shards} shards: sysbench prepare through the proxy "
                         f"(CREATE TABLE, {args.table_size}-row table in multi-row INSERTs routed "
                         f"by id, CREATE INDEX) took {secs:.1f} s")
            # Every shard holds part of the table: the INSERTs were routed, not sent to one shard.
            counts = []
            for shard, port, db in cl.servers["customer"]:
                counts.append(execute(port, db, ["SELECT COUNT(*) FROM sbtest1"])[0][0])
            if sum(counts) != args.table_size or min(counts) == 0:
                raise CellError(f"customer.sbtest1 rows per shard {counts}, expected "
                                f"{args.table_size} spread over {cl.shards} shards")
            warm_up(dport, "sbdirect", args)
            warm_up(cl.port, "customer", args)
            state["sharded"] = None
        except (CellError, OSError) as e:
            state["sharded"] = f"prepare failed: {e}"
            log(f"  {state['sharded']}")
        except Exception as e:  # pymysql errors
            state["sharded"] = f"prepare failed: {e}"
            log(f"  {state['sharded']}")
    return state


def run_cell(cl, cell, args):
    topo, workload, ps_mode, threads = cell["shards"], cell["workload"], cell["ps"], cell["threads"]
    if topo == 0:
        dport, ddb, pdb = cl.direct_port("commerce"), "vt_commerce", "commerce"
    else:
        dport, ddb, pdb = cl.direct_port("customer"), "sbdirect", "customer"
    pport = cl.port
    if is_socket(cell):
        dsock = (cl.sockets.get("commerce" if topo == 0 else "customer") or [None])[0]
        if not dsock or not cl.proxy_socket:
            raise CellError("no Unix socket (server or proxy) to run over")
        dport, pport = UnixSocket(dsock), UnixSocket(cl.proxy_socket)
    direct, proxy = [], []
    for _ in range(args.rounds):
        try:
            direct.append(with_cpu_split(lambda: oltp_run(dport, ddb, workload, threads,
                                                          ps_mode, args.time, args), cl))
        except CellError as e:
            direct.append({"error": str(e)})
        try:
            proxy.append(with_cpu_split(lambda: measured(
                lambda: oltp_run(pport, pdb, workload, threads, ps_mode, args.time, args),
                cl.pid), cl))
        except CellError as e:
            proxy.append({"error": str(e)})
    cell = dict(cell)
    cell["direct"], cell["proxy"] = mean_runs(direct), mean_runs(proxy)
    cell["direct_runs"], cell["proxy_runs"] = direct, proxy  # each round, for the noise
    cell["direct_target"] = (f"commerce server ({ddb})" + (" over its Unix socket" if is_socket(cell) else "")
                             if topo == 0
                             else f"server of customer/{cl.servers['customer'][0][0]} (full copy in sbdirect)")
    d, p = cell["direct"], cell["proxy"]
    for k in ("qps", "tps"):
        if k in d and k in p and d[k]:
            cell[f"{k}_ratio"] = p[k] / d[k]
    # With the CPU saturated, QPS goes as 1 / CPU per query: the ratio a proxy costing nothing
    # would reach, were sysbench and MariaDB to cost what they cost in the proxy run.
    # One thread leaves the host idle between queries (not CPU-bound): no estimate there.
    parts = ("sysbench_us_per_query", "mariadb_us_per_query")
    if threads > 1 and all(k in d for k in parts) and all(k in p for k in parts):
        rest = p["sysbench_us_per_query"] + p["mariadb_us_per_query"]
        if rest > 0:
            cell["free_proxy_ratio"] = (d["sysbench_us_per_query"] +
                                        d["mariadb_us_per_query"]) / rest
    return cell

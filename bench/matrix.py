#!/usr/bin/env python3
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
  5. (4 shards) lookup vs scatter: the same point select by phone on `user` (phone_user_vdx) and
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

import argparse
import datetime
import json
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import tomllib
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSBENCH_DIR = "/usr/share/sysbench"
LOOKUP_LUA = os.path.join(REPO, "bench", "lua", "lookup_point_select.lua")
CEILING_LUA = os.path.join(REPO, "bench", "lua", "lookup_ceiling.lua")
PHONE_BASE = 5550000000
CLK_TCK = os.sysconf("SC_CLK_TCK")
WORKLOADS = ["oltp_point_select", "oltp_read_only", "oltp_read_write", "oltp_insert"]
PS_MODES = ["disable", "auto"]
THREADS = [1, 8, 64, 256]
TOPOLOGIES = [0, 2, 4, 16]  # 0 = unsharded (commerce)
SECTIONS = ["matrix", "latency", "lookup", "conns"]
MIB = 1024 * 1024

# Targets of issue 6.
T_PS_UNSHARDED = 0.75
T_CPU_US = 10.0
T_PS_SHARDED = 0.70
T_RW_SHARDED = 0.70
T_LOOKUP = 3.0
T_FLAT = 0.10
T_RSS_MIB = 200
T_BACKEND_CONNS = 32


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def topo_name(shards):
    return "unsharded" if shards == 0 else f"{shards} shards"


def cell_topo(c):
    """The topology column: the shard count, and the transport when it is not loopback TCP."""
    return topo_name(c["shards"]) + (" over Unix sockets" if is_socket(c) else "")


def is_socket(c):
    """Whether the cell's clients (sysbench, direct and through the proxy) use Unix sockets."""
    return c.get("transport") == "socket"


def short(workload):
    return workload.replace("oltp_", "")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_error_line(text):
    """The first line of sysbench (or client) output that names an error."""
    for line in text.splitlines():
        if re.search(r"FATAL|ERROR|[Ee]rror|failed", line):
            return line.strip()[:300]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else "no output")[:300]


class CellError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# proxy process figures


def proc_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    return int(rest[11]) + int(rest[12])


def proc_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ---------------------------------------------------------------------------------------------
# SQL helpers (PyMySQL)


def connect(port, db=None, timeout=30):
    import pymysql

    # ssl_disabled: PyMySQL otherwise builds a default TLS context (loading the CA bundle,
    # ~60 ms) for every connection, even when the server offers no TLS.
    return pymysql.connect(host="127.0.0.1", port=port, user="root", password="", database=db,
                           autocommit=True, connect_timeout=timeout, read_timeout=600,
                           write_timeout=600, ssl_disabled=True)


def execute(port, db, statements):
    conn = connect(port, db)
    try:
        with conn.cursor() as cur:
            rows = None
            for stmt in statements:
                cur.execute(stmt)
                rows = cur.fetchall()
            return rows
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# the cluster


def vschemas(shards, tables, with_lookup):
    """The bench's own VSchemas: commerce as the example (unsharded); customer with sbtest1..N
    sharded by `hash` of id (and, for the lookup bench, `user` with phone_user_vdx and
    `user_scatter` without); lookup with phone_user_vdx sharded by hash of phone."""
    commerce = {"sharded": False, "tables": {"user_seq": {"type": "sequence"}, "product": {}}}
    hash_id = {"column_vindexes": [{"column": "id", "name": "hash"}]}
    customer = {"sharded": True, "vindexes": {"hash": {"type": "hash"}}, "tables": {}}
    for i in range(1, tables + 1):
        customer["tables"][f"sbtest{i}"] = hash_id
    if with_lookup:
        customer["vindexes"]["phone_user_vdx"] = {
            "type": "consistent_lookup_unique",
            "params": {"table": "lookup.phone_user_vdx", "from": "phone", "to": "keyspace_id"},
            "owner": "user",
        }
        customer["tables"]["user"] = {"column_vindexes": [
            {"column": "id", "name": "hash"}, {"column": "phone", "name": "phone_user_vdx"}]}
        customer["tables"]["user_scatter"] = hash_id
    lookup = {"sharded": True, "vindexes": {"hash": {"type": "hash"}}, "tables": {
        "phone_user_vdx": {"column_vindexes": [{"column": "phone", "name": "hash"}]}}}
    return {"commerce": commerce, "customer": customer, "lookup": lookup}


class Cluster:
    def __init__(self, args, shards, with_lookup):
        self.args = args
        self.shards = shards
        self.dir = os.path.join(args.work, f"s{shards}")
        self.port = None
        self.proc = None
        self.with_lookup = with_lookup
        self.servers = {}  # keyspace -> [(shard, port, database)]
        self.sockets = {}  # keyspace -> [Unix socket path of each shard's server, or None]
        self.proxy_socket = None  # the proxy's own Unix socket (server.mysql_socket)

    def start(self):
        os.makedirs(os.path.join(self.dir, "vschema"), exist_ok=True)
        for ks, vs in vschemas(self.shards, self.args.tables, self.with_lookup).items():
            with open(os.path.join(self.dir, "vschema", f"{ks}.json"), "w") as f:
                json.dump(vs, f, indent=2)
        self.port = free_port()
        logpath = self.dir + ".log"
        logf = open(logpath, "ab")
        log(f"starting shardgate local --shards {self.shards} on port {self.port} ...")
        t0 = time.time()
        # cwd = repo root: `local` applies ./schema/<keyspace>.sql to every shard.
        self.proc = subprocess.Popen(
            [self.args.bin, "local", "--dir", self.dir, "--shards", str(self.shards),
             "--port", str(self.port)] + (
                ["--worker-threads", str(self.args.worker_threads)]
                if self.args.worker_threads else []), stdout=logf, stderr=subprocess.STDOUT, cwd=REPO,
            stdin=subprocess.DEVNULL)
        logf.close()
        with open(os.path.join(self.args.work, "pids"), "a") as f:
            f.write(f"{self.proc.pid}\n")
        deadline = time.time() + self.args.start_timeout
        while time.time() < deadline:
            with open(logpath, "rb") as f:
                text = f.read().decode(errors="replace")
            if "is serving MySQL" in text:
                break
            if self.proc.poll() is not None:
                raise CellError(f"shardgate local exited ({self.proc.returncode}): "
                                f"{first_error_line(text)}")
            time.sleep(0.2)
        else:
            self.stop()
            raise CellError(f"shardgate local --shards {self.shards} did not serve within "
                            f"{self.args.start_timeout} s")
        with open(os.path.join(self.dir, "shardgate.toml"), "rb") as f:
            cfg = tomllib.load(f)
        for ks in cfg["keyspaces"]:
            for sh in ks["shards"]:
                m = re.match(r"mysql://[^@]*@127\.0\.0\.1:(\d+)/(\w+)", sh["url"])
                self.servers.setdefault(ks["name"], []).append(
                    (sh["name"], int(m.group(1)), m.group(2)))
                sock = re.search(r"[?&]socket=([^&]+)", sh["url"])
                self.sockets.setdefault(ks["name"], []).append(sock and sock.group(1))
        path = cfg.get("server", {}).get("mysql_socket")
        self.proxy_socket = path and os.path.join(self.dir, path)
        log(f"  serving after {time.time() - t0:.1f} s (proxy pid {self.proc.pid})")
        return time.time() - t0

    @property
    def pid(self):
        return self.proc.pid

    def direct_port(self, keyspace):
        return self.servers[keyspace][0][1]

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        log(f"stopping shardgate local --shards {self.shards} ...")
        # `local` stops cleanly on SIGINT and SIGTERM alike; SIGTERM is what a supervisor sends.
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=150)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------------------------------------
# sysbench


def parse_sysbench(out):
    r = {}
    m = re.search(r"queries:\s+(\d+)\s+\(([\d.]+) per sec", out)
    if not m:
        raise CellError(first_error_line(out))
    r["queries"] = int(m.group(1))
    r["qps"] = float(m.group(2))
    m = re.search(r"transactions:\s+(\d+)\s+\(([\d.]+) per sec", out)
    if m:
        r["transactions"] = int(m.group(1))
        r["tps"] = float(m.group(2))
    m = re.search(r"ignored errors:\s+(\d+)", out)
    r["ignored_errors"] = int(m.group(1)) if m else 0
    # sysbench prints avg with 2 decimals; sum / events is exact enough for sub-ms latencies.
    m = re.search(r"avg:\s+([\d.]+)", out)
    r["avg_ms"] = float(m.group(1)) if m else None
    m_sum = re.search(r"sum:\s+([\d.]+)", out)
    m_ev = re.search(r"total number of events:\s+(\d+)", out)
    if m_sum and m_ev and int(m_ev.group(1)):
        r["avg_ms"] = float(m_sum.group(1)) / int(m_ev.group(1))
    m = re.search(r"99th percentile:\s+([\d.]+)", out)
    r["sysbench_p99_ms"] = float(m.group(1)) if m else None
    buckets = []
    if "Latency histogram" in out:
        hist = out.split("Latency histogram", 1)[1]
        for line in hist.splitlines():
            m = re.match(r"\s*([\d.]+)\s+\|[*\s]*?(\d+)\s*$", line)
            if m:
                buckets.append((float(m.group(1)), int(m.group(2))))
            elif buckets and line.strip() == "":
                break
    total = sum(c for _, c in buckets)
    for p in (50, 95, 99):
        val = None
        if total:
            need, acc = total * p / 100.0, 0
            for v, c in buckets:
                acc += c
                if acc >= need:
                    val = v
                    break
        r[f"p{p}_ms"] = val
    return r


class UnixSocket(str):
    """A socket path where a port is expected: sysbench connects with --mysql-socket."""


def sysbench(port, db, script, threads, secs, ps_mode, args, extra=(), command="run",
             timeout=None):
    where = ([f"--mysql-socket={port}"] if isinstance(port, UnixSocket)
             else ["--mysql-host=127.0.0.1", f"--mysql-port={port}"])
    cmd = ["sysbench", script, "--db-driver=mysql", *where, "--mysql-user=root", f"--mysql-db={db}",
           f"--threads={threads}", f"--db-ps-mode={ps_mode}"]
    if command == "run":
        cmd += [f"--time={secs}", "--histogram=on", "--percentile=99", "--report-interval=0"]
    cmd += list(extra) + [command]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO,
                           timeout=timeout or secs + 120)
    except subprocess.TimeoutExpired:
        raise CellError(f"sysbench {command} timed out")
    out = p.stdout + p.stderr
    if p.returncode != 0:
        raise CellError(first_error_line(out))
    return out


def oltp_extra(args, workload):
    extra = [f"--tables={args.tables}", f"--table-size={args.table_size}", "--auto-inc=off"]
    if workload == "oltp_insert":
        # Random unique ids (auto-inc off, needed to route by id) may hit an existing row.
        extra.append("--mysql-ignore-errors=1062,1213,1205,1020")
    return extra


def oltp_run(port, db, workload, threads, ps_mode, secs, args):
    out = sysbench(port, db, os.path.join(SYSBENCH_DIR, workload + ".lua"), threads, secs,
                   ps_mode, args, oltp_extra(args, workload))
    return parse_sysbench(out)


def measured(fn, pid):
    """Runs fn() against the proxy, adding proxy CPU µs/query from its /proc stat."""
    t0 = proc_ticks(pid)
    r = fn()
    t1 = proc_ticks(pid)
    r["proxy_cpu_s"] = (t1 - t0) / CLK_TCK
    r["proxy_cpu_us_per_query"] = (r["proxy_cpu_s"] * 1e6 / r["queries"]
                                   if r["queries"] else None)
    return r


def mariadb_pids(parent):
    """The mariadbd processes `shardgate local` (pid `parent`) runs."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1:stat.rfind(")")]
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and comm == "mariadbd":
            pids.append(int(name))
    return pids


def with_cpu_split(fn, cl):
    """Runs fn() (one sysbench run) and adds the CPU per query of sysbench (its rusage) and of
    all the cluster's MariaDB servers (their /proc stat): with the proxy's own figure, where
    every microsecond of a query went on this shared host."""
    pids = mariadb_pids(cl.pid)
    m0 = sum(proc_ticks(p) for p in pids)
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = fn()
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m1 = sum(proc_ticks(p) for p in pids)
    if r.get("queries"):
        sb = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
        r["sysbench_us_per_query"] = sb * 1e6 / r["queries"]
        r["mariadb_us_per_query"] = (m1 - m0) / CLK_TCK * 1e6 / r["queries"]
    return r


def mean_runs(runs):
    """Mean of the numeric fields of several runs of one side (or the first error)."""
    errs = [r for r in runs if "error" in r]
    if errs:
        return errs[0]
    out = {}
    for k in runs[0]:
        vals = [r.get(k) for r in runs if isinstance(r.get(k), (int, float))]
        if len(vals) == len(runs):
            out[k] = sum(vals) / len(vals)
    out["runs"] = len(runs)
    return out


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


# ---------------------------------------------------------------------------------------------
# the matrix


def curated_cells(quick):
    """The default matrix: every dimension at least once, within ~20 min on 2 cores."""
    cells = []

    def add(shards, workload, ps, threads):
        cells.append({"shards": shards, "workload": workload, "ps": ps, "threads": threads})

    def add_socket():  # informational: both hops over Unix sockets, direct and proxy alike
        cells.append({"shards": 0, "workload": "oltp_point_select", "ps": "disable",
                      "threads": 8, "transport": "socket"})

    if quick:
        for shards in (0, 4):
            add(shards, "oltp_point_select", "disable", 8)
            add(shards, "oltp_read_write", "disable", 8)
        add_socket()
        return cells
    for t in THREADS:  # the full thread sweep for point_select, unsharded
        add(0, "oltp_point_select", "disable", t)
    for t in (8, 64):  # prepared statements (COM_STMT_*)
        add(0, "oltp_point_select", "auto", t)
    for w in WORKLOADS[1:]:  # every workload at 8 threads
        add(0, w, "disable", 8)
    add(4, "oltp_point_select", "disable", 8)
    add(4, "oltp_point_select", "auto", 8)
    for w in WORKLOADS[1:]:
        add(4, w, "disable", 8)
    for shards in (2, 16):
        add(shards, "oltp_point_select", "disable", 8)
    add_socket()
    return cells


def full_cells():
    return [{"shards": s, "workload": w, "ps": ps, "threads": t}
            for s in TOPOLOGIES for w in WORKLOADS for ps in PS_MODES for t in THREADS]


def latency_cells(shard_counts, threads):
    return [{"shards": s, "workload": "oltp_point_select", "ps": "disable", "threads": t}
            for s in shard_counts for t in threads]


def cell_key(c):
    return (c["shards"], c["workload"], c["ps"], c["threads"], c.get("transport", "tcp"))


def parse_only(words):
    """--only: section names (matrix latency lookup conns) and cell filters key=a/b with key in
    topo (unsharded or a shard count), workload (point_select ...), ps, threads."""
    sections, filters = set(), {}
    for w in words.replace(",", " ").split():
        if w in SECTIONS:
            sections.add(w)
        elif "=" in w:
            k, v = w.split("=", 1)
            if k not in ("topo", "workload", "ps", "threads", "transport"):
                sys.exit(f"--only: unknown filter {k} (topo, workload, ps, threads, transport)")
            vals = set()
            for x in v.split("/"):
                if k == "topo":
                    vals.add(0 if x == "unsharded" else int(x))
                elif k == "threads":
                    vals.add(int(x))
                elif k == "workload":
                    vals.add(x if x.startswith("oltp_") else "oltp_" + x)
                else:
                    vals.add(x)
            filters[k] = vals
        else:
            sys.exit(f"--only: {w!r} is neither a section ({', '.join(SECTIONS)}) nor key=value")
    return sections or set(SECTIONS), filters


def keep(cell, filters):
    fields = {"topo": cell["shards"], "workload": cell["workload"], "ps": cell["ps"],
              "threads": cell["threads"], "transport": cell.get("transport", "tcp")}
    return all(fields[k] in v for k, v in filters.items())


# ---------------------------------------------------------------------------------------------
# preparation


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


# ---------------------------------------------------------------------------------------------
# lookup vs scatter


USER_DDL = """CREATE TABLE IF NOT EXISTS {name} (
  id BIGINT NOT NULL,
  name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci,
  phone BIGINT,
  email VARCHAR(255),
  PRIMARY KEY (id),
  UNIQUE KEY phone (phone)
)"""


def user_rows(lo, hi):
    return ", ".join(f"({i}, 'user{i}', {PHONE_BASE + i}, 'u{i}@example.com')"
                     for i in range(lo, hi + 1))


def lookup_point_select(port, db, table, args):
    out = sysbench(port, db, LOOKUP_LUA, args.lookup_threads, args.time, args.lookup_ps_mode,
                   args, [f"--users={args.users}", f"--phone-base={PHONE_BASE}",
                          f"--table={table}"])
    return parse_sysbench(out)


def lookup_ceiling(cl, plan, args):
    """No proxy: each plan's backend queries sent by hand to the customer servers (events/s)."""
    servers = cl.servers["customer"]
    ports = ",".join(str(port) for _, port, _ in servers)
    user_db = servers[0][2]
    lookup_db = cl.servers["lookup"][0][2]
    out = sysbench(ports, user_db, CEILING_LUA, args.lookup_threads, args.time, "disable", args,
                   [f"--users={args.users}", f"--phone-base={PHONE_BASE}", f"--plan={plan}",
                    f"--servers={len(servers)}", f"--user-table={user_db}.user",
                    f"--lookup-table={lookup_db}.phone_user_vdx"])
    return parse_sysbench(out)


def touched(cl, table):
    rows = execute(cl.port, "customer", [
        f"VEXPLAIN QUERIES SELECT id, name, email FROM {table} WHERE phone = "
        f"{PHONE_BASE + args_users_mid(cl)}"])
    ks = [r[1] for r in rows]
    return {"total": len(rows), "lookup": ks.count("lookup"), "customer": ks.count("customer")}


def args_users_mid(cl):
    return max(1, cl.args.users // 2)


def lookup_bench(cl, args):
    res = {"shards": cl.shards, "users": args.users, "threads": args.lookup_threads,
           "ps": args.lookup_ps_mode}
    try:
        t0 = time.time()
        log(f"  lookup: loading {args.users} users into user (owned phone_user_vdx) and "
            f"user_scatter through the proxy ...")
        # user_scatter: the same table without the lookup vindex, created on every shard
        # (setup, not what is measured).
        for _, port, db in cl.servers["customer"]:
            execute(port, db, [USER_DDL.format(name="user_scatter")])
        dport = cl.direct_port("customer")
        execute(dport, None, ["CREATE DATABASE IF NOT EXISTS sbdirect",
                              "USE sbdirect", USER_DDL.format(name="user")])
        conn = connect(cl.port, "customer")
        dconn = connect(dport, "sbdirect")
        try:
            with conn.cursor() as cur, dconn.cursor() as dcur:
                for lo in range(1, args.users + 1, 1000):
                    hi = min(lo + 999, args.users)
                    vals = user_rows(lo, hi)
                    cur.execute(f"INSERT INTO user (id, name, phone, email) VALUES {vals}")
                    cur.execute(f"INSERT INTO user_scatter (id, name, phone, email) VALUES {vals}")
                    dcur.execute(f"INSERT INTO user (id, name, phone, email) VALUES {vals}")
                cur.execute("SELECT COUNT(*) FROM user")
                n_user = cur.fetchone()[0]
        finally:
            conn.close()
            dconn.close()
        n_lookup = execute(cl.port, "lookup", ["SELECT COUNT(*) FROM phone_user_vdx"])[0][0]
        if n_user != args.users or n_lookup != args.users:
            raise CellError(f"loaded {n_user} users and {n_lookup} lookup rows, "
                            f"expected {args.users}")
        res["load_s"] = time.time() - t0
        log(f"    done in {res['load_s']:.1f} s")
        res["touched_scatter"] = touched(cl, "user_scatter")
        res["touched_lookup"] = touched(cl, "user")
        if args.warmup > 0:
            for table in ("user_scatter", "user"):
                sysbench(cl.port, "customer", LOOKUP_LUA, args.lookup_threads, args.warmup,
                         args.lookup_ps_mode, args, [f"--users={args.users}",
                                                     f"--phone-base={PHONE_BASE}",
                                                     f"--table={table}"])
    except Exception as e:
        res["error"] = f"setup failed: {e}"
        log(f"  lookup {res['error']}")
        return res
    runs = {"direct": [], "scatter": [], "lookup": [], "ceiling_scatter": [],
            "ceiling_lookup": []}
    for _ in range(args.rounds):
        for side, port, db, table in (("direct", dport, "sbdirect", "user"),
                                      ("scatter", cl.port, "customer", "user_scatter"),
                                      ("lookup", cl.port, "customer", "user")):
            try:
                fn = lambda: lookup_point_select(port, db, table, args)  # noqa: E731
                runs[side].append(fn() if side == "direct" else measured(fn, cl.pid))
            except CellError as e:
                runs[side].append({"error": str(e)})
        for plan in ("scatter", "lookup"):
            try:
                runs["ceiling_" + plan].append(lookup_ceiling(cl, plan, args))
            except CellError as e:
                runs["ceiling_" + plan].append({"error": str(e)})
    for side, rs in runs.items():
        res[side] = mean_runs(rs)
        res[side + "_runs"] = rs
    s, lk, d = res["scatter"], res["lookup"], res["direct"]
    if "qps" in s and "qps" in lk and s["qps"]:
        res["lookup_vs_scatter"] = lk["qps"] / s["qps"]
    if "qps" in d and "qps" in lk and d["qps"]:
        res["lookup_vs_direct"] = lk["qps"] / d["qps"]
    scatter, lookup = res["ceiling_scatter"], res["ceiling_lookup"]
    if scatter.get("tps") and lookup.get("tps"):
        res["ceiling_lookup_vs_scatter"] = lookup["tps"] / scatter["tps"]
    return res


# ---------------------------------------------------------------------------------------------
# connection count


def backend_conns(cl):
    """Connections of user root on every server, by (keyspace, shard), our own excluded."""
    by_server = {}
    for ks, shards in cl.servers.items():
        for shard, port, db in shards:
            by_server.setdefault(port, []).append((ks, shard, db))
    out = {}
    for port, roles in by_server.items():
        rows = execute(port, None, [
            "SELECT IFNULL(DB, ''), COUNT(*) FROM information_schema.PROCESSLIST "
            "WHERE ID <> CONNECTION_ID() AND USER = 'root' GROUP BY DB"])
        per_db = {db: n for db, n in rows}
        for ks, shard, db in roles:
            out[f"{ks}/{shard}"] = int(per_db.get(db, 0))
        out[f"server:{port}"] = int(sum(per_db.values()))
    return out


def conn_snapshot(cl, label, errors=0):
    conns = backend_conns(cl)
    shard_vals = {k: v for k, v in conns.items() if not k.startswith("server:")}
    snap = {"label": label, "rss_mib": proc_rss_kib(cl.pid) / 1024.0,
            "backend_max_per_shard": max(shard_vals.values()),
            "backend_max_per_server": max(v for k, v in conns.items() if k.startswith("server:")),
            "backend": conns, "errors": errors}
    log(f"    {label}: RSS {snap['rss_mib']:.1f} MiB, backend conns max/shard "
        f"{snap['backend_max_per_shard']} (max/server {snap['backend_max_per_server']})")
    return snap


def conns_bench(cl, args):
    import pymysql

    res = {"shards": cl.shards, "clients": args.clients, "snapshots": []}
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, args.clients * 2 + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    log(f"  connections: opening {args.clients} idle clients (ulimit -n {want}) ...")
    clients = []
    try:
        res["snapshots"].append(conn_snapshot(cl, "before"))
        t0 = time.time()
        errors = 0
        for i in range(args.clients):
            try:
                clients.append(pymysql.connect(host="127.0.0.1", port=cl.port, user="root",
                                               password="", database="customer",
                                               autocommit=True, connect_timeout=30,
                                               read_timeout=60, ssl_disabled=True))
            except Exception as e:
                errors += 1
                res.setdefault("first_error", f"connect #{i}: {e}")
        res["open_s"] = time.time() - t0
        res["opened"] = len(clients)
        res["connect_errors"] = errors
        log(f"    opened {len(clients)} in {res['open_s']:.1f} s ({errors} errors)")
        time.sleep(1)
        res["snapshots"].append(conn_snapshot(cl, f"{len(clients)} idle clients", errors))
        t0 = time.time()
        qerr = 0
        for i, c in enumerate(clients):
            try:
                with c.cursor() as cur:
                    # One shard each (hash of id), spread over all shards.
                    cur.execute(f"SELECT id, name FROM user WHERE id = {i + 1}")
                    cur.fetchall()
            except Exception as e:
                qerr += 1
                res.setdefault("first_error", f"query on client #{i}: {e}")
        res["query_s"] = time.time() - t0
        res["query_errors"] = qerr
        time.sleep(1)
        res["snapshots"].append(conn_snapshot(cl, f"{len(clients)} idle clients, each after one "
                                                  f"point select", qerr))
        # A burst: every client queries again, 64 at a time (Python threads), so the proxy
        # needs up to 64 backend connections at once; its pool caps them per shard.
        import concurrent.futures

        def one(i):
            with clients[i].cursor() as cur:
                cur.execute(f"SELECT id, name FROM user WHERE id = {i + 1}")
                cur.fetchall()

        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(64) as ex:
            futs = [ex.submit(one, i) for i in range(len(clients))]
            berr = 0
            for f in futs:
                try:
                    f.result()
                except Exception as e:
                    berr += 1
                    res.setdefault("first_error", f"burst query: {e}")
            # Counted while the burst's connections are still pooled.
        res["burst_s"] = time.time() - t0
        res["burst_errors"] = berr
        res["snapshots"].append(conn_snapshot(cl, f"{len(clients)} idle clients, after a burst "
                                                  f"of one query each, 64 at a time", berr))
    except Exception as e:
        res["error"] = f"{e}"
        log(f"  connections failed: {e}")
    finally:
        for c in clients:
            try:
                c.close()
            except Exception:
                pass
    try:
        time.sleep(1)
        res["snapshots"].append(conn_snapshot(cl, "clients closed"))
    except Exception:
        pass
    return res


# ---------------------------------------------------------------------------------------------
# report


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


def check(ok):
    return "✓" if ok else "✗"


def cell_target(c):
    """The issue's target for this cell (only at the reference 8 threads), as text."""
    s, w, ps, t = c["shards"], c["workload"], c["ps"], c["threads"]
    r, p = c.get("qps_ratio"), c["proxy"]
    if t != 8 or is_socket(c):  # the targets are for loopback TCP clients
        return "–"
    if w == "oltp_point_select" and s == 0 and ps == "disable":
        cpu = p.get("proxy_cpu_us_per_query")
        if r is None or cpu is None:
            return f"≥{T_PS_UNSHARDED}×, ≤{T_CPU_US:.0f} µs: error"
        return (f"≥{T_PS_UNSHARDED}× {check(r >= T_PS_UNSHARDED)}, ≤{T_CPU_US:.0f} µs "
                f"{check(cpu <= T_CPU_US)}")
    if w == "oltp_point_select" and s == 0:
        return f"≥{T_PS_UNSHARDED}× " + ("error" if r is None else check(r >= T_PS_UNSHARDED))
    if w == "oltp_point_select" and s == 4:
        return f"≥{T_PS_SHARDED}× " + ("error" if r is None else check(r >= T_PS_SHARDED))
    if w == "oltp_read_write" and s == 4:
        tr = c.get("tps_ratio")
        return f"TPS ≥{T_RW_SHARDED}× " + ("error" if tr is None else check(tr >= T_RW_SHARDED))
    return "–"


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


def server_spread(cl, queries=3000):
    """Direct `SELECT 1` latency (PyMySQL, one client thread) always to the first customer
    server vs to a random one of all of them: what spreading single-shard traffic over more
    MariaDB servers on this host costs without any proxy (each server is idle more often)."""
    # In shard order: the first is the server of the sysbench direct baseline.
    ports = list(dict.fromkeys(port for _, port, _ in cl.servers.get("customer", [])))
    rng = random.Random(7)
    conns = []

    def p50(pick):
        lat = []
        for _ in range(queries):
            c = pick()
            with c.cursor() as cur:
                t = time.perf_counter()
                cur.execute("SELECT 1")
                cur.fetchall()
                lat.append(time.perf_counter() - t)
        lat.sort()
        return lat[len(lat) // 2] * 1000

    one, spread = [], []
    try:
        conns.extend(connect(p) for p in ports)
        for _ in range(2):  # alternating, like the sysbench cells
            one.append(p50(lambda: conns[0]))
            spread.append(p50(lambda: rng.choice(conns)))
    finally:
        for c in conns:
            c.close()
    return {"servers": len(ports), "one_p50_ms": sum(one) / 2, "spread_p50_ms": sum(spread) / 2}


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


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True, help="temporary dir (bench/run makes and removes it)")
    ap.add_argument("--command", default="bench/run")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--full", action="store_true", help="the full cross product (hours)")
    ap.add_argument("--time", type=int)
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--tables", type=int, default=1)
    ap.add_argument("--table-size", type=int)
    ap.add_argument("--only", default="")
    ap.add_argument("--latency-shards", default=None)
    ap.add_argument("--aux-shards", type=int, default=4,
                    help="shard count for the lookup and connection-count sections")
    ap.add_argument("--users", type=int)
    ap.add_argument("--clients", type=int, default=2000)
    ap.add_argument("--lookup-threads", type=int, default=8)
    ap.add_argument("--lookup-ps-mode", default="disable")
    ap.add_argument("--start-timeout", type=int, default=300)
    ap.add_argument("--worker-threads", type=int, default=None,
                    help="the proxy's runtime threads (default: the proxy's own choice)")
    ap.add_argument("--record", choices=["readme", "json", "none"], default=None)
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.time is None:
        args.time = 2 if args.quick else 8
    if args.rounds is None:
        args.rounds = 1 if args.quick else 2
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    if args.table_size is None:
        args.table_size = 10000 if args.quick else 20000
    if args.users is None:
        args.users = 2000 if args.quick else 10000
    if args.record is None:
        args.record = "json" if args.quick else "readme"
    if args.json is None:
        args.json = os.path.join(REPO, "bench", "results",
                                 "run-quick.json" if args.quick else "run.json")
    if args.latency_shards is None:
        args.latency_shards = "4" if args.quick else "2 4 16"
    lat_shards = sorted(int(x) for x in args.latency_shards.replace(",", " ").split())
    lat_threads = [8] if args.quick else [1, 8]
    sections, filters = parse_only(args.only)

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
    if "lookup" in sections or "conns" in sections or any(c["shards"] == 0 for c in cells):
        wanted.add(args.aux_shards)
    order = sorted(wanted, key=lambda s: (s != args.aux_shards, s))
    log(f"{len(cells)} sysbench cells, clusters {order}, sections {sorted(sections)}, "
        f"{args.time} s per run")

    def finish():
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
                state = prepare_cluster(cl, any(c["shards"] == 0 for c in mine),
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
    finish()


if __name__ == "__main__":
    def _term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)

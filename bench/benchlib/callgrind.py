"""Proxy instructions per query under valgrind's callgrind, behind `bench/callgrind` (run that,
not this: it installs valgrind, copies the binary, makes the temporary dir and cleans up after
this script).

Why instructions: on this shared 2-core host the wall-clock figures of one build (QPS, CPU µs
per query) vary by about ±15 % from run to run, which hides most code changes; the number of
instructions the proxy executes for the same queries varies by about 1 %. It counts user-space
instructions of the proxy process only (every thread; not the kernel's work in its syscalls,
not sysbench nor MariaDB), and not time: cache misses, syscall cost and waits are not in it, so
it judges the proxy's own code path, not the whole system's throughput.

What it does:

  1. starts `shardgate local --shards N` (4 by default) with the bench's VSchemas
     (benchlib.cluster) and prepares sbtest1 through it in commerce and customer, as the matrix
     does (benchlib.oltp.prepare_oltp);
  2. per target (unsharded = keyspace commerce, sharded = customer on N shards): a second proxy,
     `shardgate serve` under `valgrind --tool=callgrind`, on a copy of the generated config with
     worker_threads = 1 (one runtime thread), no mysql_socket (the launcher's proxy holds it)
     and another free port, talking to the same MariaDB servers;
  3. a sysbench warm-up of --warmup-events events (connections, plan cache), counters zeroed
     (callgrind_control -z), --events events, counters dumped (callgrind_control --dump), and
     the dump's total instruction count divided by sysbench's event and query counts.
"""

import argparse
import glob
import os
import re
import signal
import subprocess
import sys
import time
import tomllib

from .cluster import Cluster
from .common import CellError, first_error_line, free_port, log, run_main, start_server
from .oltp import prepare_oltp
from .report import binary_info, loadavg
from .sysbench import SYSBENCH_DIR, oltp_extra, parse_sysbench, sysbench

TARGETS = {"unsharded": "commerce", "sharded": "customer"}


def parse_args():
    ap = argparse.ArgumentParser(prog="bench/callgrind", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True,
                    help="temporary dir (bench/callgrind makes and removes it)")
    ap.add_argument("--events", type=int, default=3000, help="measured events per target")
    ap.add_argument("--warmup-events", type=int, default=300)
    ap.add_argument("--ps", choices=["disable", "auto"], default="disable",
                    help="sysbench --db-ps-mode")
    ap.add_argument("--workload", default="point_select",
                    help="point_select, read_only, read_write, insert (oltp_ optional)")
    ap.add_argument("--target", choices=["unsharded", "sharded", "both"], default="both")
    ap.add_argument("--threads", type=int, default=4, help="sysbench client threads")
    ap.add_argument("--shards", type=int, default=4, help="customer shards of the cluster")
    ap.add_argument("--table-size", type=int, default=20000)
    ap.add_argument("--start-timeout", type=int, default=300)
    args = ap.parse_args()
    if not args.workload.startswith("oltp_"):
        args.workload = "oltp_" + args.workload
    if not os.path.exists(os.path.join(SYSBENCH_DIR, args.workload + ".lua")):
        ap.error(f"--workload: no {args.workload}.lua in {SYSBENCH_DIR}")
    # What Cluster and prepare_oltp read besides: one table, the proxy's default threads.
    args.tables = 1
    args.worker_threads = None
    return args


def valgrind_config(cl, port):
    """A copy of the cluster's generated shardgate.toml for the proxy under callgrind, in the
    same dir (its relative vschema dir resolves the same): another port, one runtime thread,
    no Unix socket."""
    with open(os.path.join(cl.dir, "shardgate.toml")) as f:
        text = f.read()
    text = re.sub(r"(?m)^mysql_listen = .*$", f'mysql_listen = "127.0.0.1:{port}"', text)
    text = re.sub(r"(?m)^(mysql_socket|worker_threads) = .*\n", "", text)
    text = text.replace("[server]\n", "[server]\nworker_threads = 1\n", 1)
    server = tomllib.loads(text).get("server", {})
    if (server.get("mysql_listen") != f"127.0.0.1:{port}" or server.get("worker_threads") != 1
            or "mysql_socket" in server):
        raise CellError(f"could not rewrite {cl.dir}/shardgate.toml's [server] for callgrind")
    path = os.path.join(cl.dir, "callgrind.toml")
    with open(path, "w") as f:
        f.write(text)
    return path


class CallgrindProxy:
    """`shardgate serve` under callgrind, one per target, so each count starts from a fresh
    proxy."""

    def __init__(self, args, cl, name):
        self.args, self.cl, self.name = args, cl, name
        self.port = free_port()
        self.out = os.path.join(args.work, f"cg-{name}")
        self.proc = None

    def start(self):
        config = valgrind_config(self.cl, self.port)
        self.proc = start_server(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={self.out}.%p.out",
             self.args.bin, "serve", "--config", config],
            self.out + ".log", self.args.work, "serving MySQL", self.args.start_timeout,
            "shardgate serve under callgrind", poll=0.3)

    def control(self, *opts):
        p = subprocess.run(["callgrind_control", *opts, str(self.proc.pid)],
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise CellError(f"callgrind_control {' '.join(opts)}: "
                            f"{first_error_line(p.stdout + p.stderr)}")

    def dumped_instructions(self, timeout=60):
        """The total instruction count (Ir) of the one dump taken since the start."""
        pattern = f"{self.out}.{self.proc.pid}.out.*"
        deadline = time.time() + timeout
        while time.time() < deadline:
            for path in glob.glob(pattern):
                with open(path) as f:
                    for line in f:
                        m = re.match(r"(?:summary|totals):\s+(\d+)", line)
                        if m:
                            return int(m.group(1))
            time.sleep(0.5)
        raise CellError(f"no callgrind dump with a total in {pattern}")

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def events(out):
    m = re.search(r"total number of events:\s+(\d+)", out)
    return int(m.group(1)) if m else None


def measure(args, cl, name, db):
    """Instructions per event and per query of one target, on a fresh proxy under callgrind."""
    vg = CallgrindProxy(args, cl, name)

    def run(n):
        out = sysbench(vg.port, db, os.path.join(SYSBENCH_DIR, args.workload + ".lua"),
                       args.threads, 0, args.ps, args,
                       oltp_extra(args, args.workload) + [f"--events={n}"],
                       timeout=max(900, n // 5))
        r = parse_sysbench(out)
        r["events"] = events(out) or n
        return r

    try:
        log(f"  {name}: shardgate serve under callgrind on port {vg.port} ...")
        vg.start()
        if args.warmup_events > 0:
            run(args.warmup_events)
        vg.control("-z")
        log(f"  {name}: {args.events} events ...")
        r = run(args.events)
        vg.control("--dump=measured")
        r["instructions"] = vg.dumped_instructions()
    finally:
        vg.stop()
    return r


def main():
    args = parse_args()
    label = {"unsharded": "unsharded (commerce)", "sharded": f"{args.shards} shards (customer)"}
    names = ["unsharded", "sharded"] if args.target == "both" else [args.target]
    cl = Cluster(args, args.shards, with_lookup=False)
    results = {}
    try:
        try:
            cl.start()
            for name in names:
                prepare_oltp(cl.port, TARGETS[name], args,
                             f"{TARGETS[name]}.sbtest (through the proxy)")
        except (CellError, OSError) as e:
            sys.exit(f"bench/callgrind: cluster: {e}")
        for name in names:
            try:
                results[name] = measure(args, cl, name, TARGETS[name])
            except (CellError, OSError, subprocess.TimeoutExpired) as e:
                results[name] = {"error": str(e)}
                log(f"  {name}: {e}")
    finally:
        cl.stop()
    print(f"{binary_info(os.environ.get('SHARDGATE_BIN_ORIGIN', args.bin))}; "
          f"{args.workload}, ps-mode {args.ps}, {args.threads} sysbench threads, "
          f"{args.table_size}-row sbtest1, proxy worker_threads = 1, load average "
          f"{loadavg()}")
    failed = False
    for name in names:
        r = results[name]
        if "error" in r:
            failed = True
            print(f"{label[name]}: error: {r['error']}")
            continue
        ir, ev, q = r["instructions"], r["events"], r["queries"]
        if not ev or not q:
            failed = True
            print(f"{label[name]}: {ir:,} instructions, but sysbench counted no events")
            continue
        extra = f", {r['ignored_errors']} ignored errors" if r.get("ignored_errors") else ""
        print(f"{label[name]}: {ir:,} instructions for {ev:,} events ({q:,} queries{extra}): "
              f"{ir // ev:,} per event, {ir // q:,} per query")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    run_main(main)

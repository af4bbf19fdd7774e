"""Running sysbench and reading its output: one invocation (to a TCP port or a Unix socket), the
oltp_* options the bench uses, parse_sysbench (QPS, TPS, ignored errors, mean latency and
p50/p95/p99 read off `--histogram`, see benchlib/matrix.py's docstring), and mean_runs, the mean
over a cell's rounds.
"""

import os
import re
import subprocess

from .common import REPO, CellError, first_error_line


SYSBENCH_DIR = "/usr/share/sysbench"


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

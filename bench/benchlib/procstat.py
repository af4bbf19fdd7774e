"""Process figures from /proc for the CPU and memory columns: a process's CPU ticks and RSS, the
mariadbd children of a `shardgate local`, and two wrappers around one sysbench run that add CPU
µs per query: of the proxy (`measured`: the launcher process is the proxy) and of sysbench and
all the MariaDB servers (`with_cpu_split`). Why the launcher's own figures are the proxy's: see
the docstring of benchlib/matrix.py.
"""

import os
import resource


CLK_TCK = os.sysconf("SC_CLK_TCK")


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

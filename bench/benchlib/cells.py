"""The sysbench cells of the matrix: its dimensions (workloads, ps-modes, threads, topologies), the
default (curated) set, the --quick and --full sets, the latency section's cells, how a cell is
named in the tables, and --only's sections and cell filters. A cell is a dict {shards, workload,
ps, threads[, transport]}; shards 0 is unsharded (commerce).
"""

import sys


WORKLOADS = ["oltp_point_select", "oltp_read_only", "oltp_read_write", "oltp_insert"]
PS_MODES = ["disable", "auto"]
THREADS = [1, 8, 64, 256]
TOPOLOGIES = [0, 2, 4, 16]  # 0 = unsharded (commerce)
SECTIONS = ["matrix", "latency", "floor", "lookup", "conns"]


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
    """--only: section names (matrix latency floor lookup conns) and cell filters key=a/b with key in
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

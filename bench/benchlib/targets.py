"""The targets of issue 6 and the judging of one matrix cell against them (✓/✗, only at the
reference 8 threads over loopback TCP). The lookup, latency-flatness and connection targets are
judged in their own tables (benchlib/tables.py) against the same thresholds.
"""

from .cells import is_socket


# Targets of issue 6.
T_PS_UNSHARDED = 0.75
T_CPU_US = 10.0
T_PS_SHARDED = 0.70
T_RW_SHARDED = 0.70
T_LOOKUP = 3.0
T_FLAT = 0.10
T_RSS_MIB = 200
T_BACKEND_CONNS = 32


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

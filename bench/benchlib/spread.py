"""The latency section's no-proxy figure: direct `SELECT 1` latency (PyMySQL, one client thread)
always to the first customer server vs to a random one of all of them, i.e. what spreading
single-shard traffic over more MariaDB servers costs on this host without any proxy.
"""

import random
import time

from .sql import connect


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

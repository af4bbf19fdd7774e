"""The hop floor: what one extra hop costs on this host before any proxy logic. A byte relay
(examples/byte_relay.rs: one tokio current-thread runtime, as the proxy's on small hosts, each
client copied to and from its own connection to the commerce server's Unix socket, the path the
proxy takes to that server) runs the unsharded point select alternately with direct runs and
proxy runs, ps-mode disable and auto. What shardgate costs above the relay is what its parsing,
routing and pooling cost; what the relay costs (syscalls, the wakeups and context switches of a
second hop) no proxy on this runtime avoids. Informational: the issue's targets are against
direct only.
"""

import os
import subprocess

from .common import CellError, free_port, log, start_server
from .procstat import measured, with_cpu_split
from .sysbench import mean_runs, oltp_run


class Relay:
    """A running byte_relay process in front of one MariaDB server's Unix socket."""

    def __init__(self, binary, backend, work):
        self.port = free_port()
        self.proc = start_server([binary, f"127.0.0.1:{self.port}", backend],
                                 os.path.join(work, "byte_relay.log"), work, "serving", 10,
                                 "byte_relay", poll=0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def floor_bench(cl, args, threads=8):
    """Per ps-mode: direct, relay and proxy runs (`--rounds` times, alternating), their means
    and ratios; the relay's and the proxy's CPU per query from their own /proc stat."""
    res = {"threads": threads, "rounds": args.rounds, "modes": {}}
    binary = args.relay_bin
    if not binary or not os.access(binary, os.X_OK):
        res["error"] = f"no byte_relay binary ({binary or 'not built'})"
        return res
    sock = (cl.sockets.get("commerce") or [None])[0]
    if not sock:
        res["error"] = "the commerce server has no Unix socket"
        return res
    try:
        relay = Relay(binary, sock, args.work)
    except (CellError, OSError) as e:
        res["error"] = str(e)
        return res
    dport = cl.direct_port("commerce")
    sides = (("direct", lambda run: run(), dport, "vt_commerce"),
             ("relay", lambda run: measured(run, relay.proc.pid), relay.port, "vt_commerce"),
             ("proxy", lambda run: measured(run, cl.pid), cl.port, "commerce"))
    try:
        for ps in ("disable", "auto"):
            log(f"  hop floor: point_select ps={ps} threads={threads}: direct, relay, proxy ...")
            runs = {name: [] for name, _, _, _ in sides}
            for _ in range(args.rounds):
                for name, wrap, port, db in sides:
                    def one(port=port, db=db):
                        return oltp_run(port, db, "oltp_point_select", threads, ps, args.time,
                                        args)
                    try:
                        runs[name].append(with_cpu_split(lambda: wrap(one), cl))
                    except CellError as e:
                        runs[name].append({"error": str(e)})
            mode = {name: mean_runs(r) for name, r in runs.items()}
            d, r, p = mode["direct"], mode["relay"], mode["proxy"]
            if d.get("qps") and r.get("qps") and p.get("qps"):
                mode["relay_ratio"] = r["qps"] / d["qps"]
                mode["proxy_ratio"] = p["qps"] / d["qps"]
                mode["proxy_vs_relay"] = p["qps"] / r["qps"]
            log(f"    direct {d.get('qps', d.get('error'))} relay {r.get('qps', r.get('error'))} "
                f"proxy {p.get('qps', p.get('error'))}")
            res["modes"][ps] = mode
    finally:
        relay.stop()
    return res

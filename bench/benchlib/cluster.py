"""One `shardgate local --shards N` cluster for the bench: the bench's own VSchemas written into
DIR/vschema/, the launcher started from the repository root (so ./schema/<keyspace>.sql applies
to every shard) and waited for, its generated shardgate.toml read for each shard's server port,
database and Unix socket and for the proxy's own socket, and the launcher stopped with SIGTERM.
Its pid goes to WORK/pids, the wrapper's backstop for cleaning up.
"""

import json
import os
import re
import signal
import subprocess
import time
import tomllib

from .common import REPO, free_port, log, start_server


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
        log(f"starting shardgate local --shards {self.shards} on port {self.port} ...")
        t0 = time.time()
        # cwd = repo root: `local` applies ./schema/<keyspace>.sql to every shard.
        self.proc = start_server(
            [self.args.bin, "local", "--dir", self.dir, "--shards", str(self.shards),
             "--port", str(self.port)] + (
                ["--worker-threads", str(self.args.worker_threads)]
                if self.args.worker_threads else []),
            self.dir + ".log", self.args.work, "is serving MySQL", self.args.start_timeout,
            f"shardgate local --shards {self.shards}", cwd=REPO)
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

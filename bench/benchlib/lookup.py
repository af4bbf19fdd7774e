"""The lookup vs scatter section: `user` (with the phone_user_vdx consistent_lookup_unique vindex)
and `user_scatter` (the same rows, no phone vindex) loaded through the proxy plus a full copy
direct, then the point select by phone on each (bench/lua/lookup_point_select.lua), direct and
through the proxy, and the no-proxy ceiling: each plan's backend queries sent by hand
(bench/lua/lookup_ceiling.lua).
"""

import os
import time

from .common import REPO, CellError, log
from .procstat import measured
from .sql import connect, execute
from .sysbench import mean_runs, parse_sysbench, sysbench


LOOKUP_LUA = os.path.join(REPO, "bench", "lua", "lookup_point_select.lua")
CEILING_LUA = os.path.join(REPO, "bench", "lua", "lookup_ceiling.lua")
PHONE_BASE = 5550000000


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

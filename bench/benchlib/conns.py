"""The connection-count section, run first on a fresh proxy: N idle PyMySQL clients, then one point
select each, one client after the other, then a burst of one query each 64 at a time; at every
step the proxy's RSS and every server's backend connections (information_schema.PROCESSLIST)
by keyspace/shard, which is what the proxy's pooling caps.
"""

import resource
import time

from .common import log
from .procstat import proc_rss_kib
from .sql import execute


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

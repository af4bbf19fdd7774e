"""The matrix's command line (bench/run passes its own options through) and the defaults that
depend on --quick: seconds per run, rounds, warm-up, table size, users, what is recorded and
where, and the latency section's shard counts and threads.
"""

import argparse
import os

from .cells import parse_only
from .common import REPO


def parse_args(description):
    """The parsed options with their defaults filled in, and what follows from them: the
    latency section's shard counts and threads, the selected sections and cell filters."""
    ap = argparse.ArgumentParser(prog="bench/run", description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True, help="temporary dir (bench/run makes and removes it)")
    ap.add_argument("--command", default="bench/run")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--full", action="store_true", help="the full cross product (hours)")
    ap.add_argument("--time", type=int)
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--warmup", type=int)
    ap.add_argument("--tables", type=int, default=1)
    ap.add_argument("--table-size", type=int)
    ap.add_argument("--only", default="")
    ap.add_argument("--latency-shards", default=None)
    ap.add_argument("--aux-shards", type=int, default=4,
                    help="shard count for the lookup and connection-count sections")
    ap.add_argument("--users", type=int)
    ap.add_argument("--clients", type=int, default=2000)
    ap.add_argument("--lookup-threads", type=int, default=8)
    ap.add_argument("--lookup-ps-mode", default="disable")
    ap.add_argument("--start-timeout", type=int, default=300)
    ap.add_argument("--worker-threads", type=int, default=None,
                    help="the proxy's runtime threads (default: the proxy's own choice)")
    ap.add_argument("--relay-bin", default=None,
                    help="examples/byte_relay, for the hop floor (bench/run builds it)")
    ap.add_argument("--record", choices=["readme", "json", "none"], default=None)
    ap.add_argument("--json")
    args = ap.parse_args()
    if args.time is None:
        args.time = 2 if args.quick else 8
    if args.rounds is None:
        args.rounds = 1 if args.quick else 2
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    if args.table_size is None:
        args.table_size = 10000 if args.quick else 20000
    if args.users is None:
        args.users = 2000 if args.quick else 10000
    if args.record is None:
        args.record = "json" if args.quick else "readme"
    if args.json is None:
        args.json = os.path.join(REPO, "bench", "results",
                                 "run-quick.json" if args.quick else "run.json")
    if args.latency_shards is None:
        args.latency_shards = "4" if args.quick else "2 4 16"
    lat_shards = sorted(int(x) for x in args.latency_shards.replace(",", " ").split())
    lat_threads = [8] if args.quick else [1, 8]
    sections, filters = parse_only(args.only)
    return args, lat_shards, lat_threads, sections, filters

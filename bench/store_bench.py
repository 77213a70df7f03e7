#!/usr/bin/env python3
"""bench/store_bench.py - the event stores (issue #21) measured against each other in one run:

  publish  acknowledged publications/s with an event history on the topic (wampbench
           publish: C connections x W in flight, 64-byte payload, topic bench.pub under a
           prefix history of 1000 events), per store, and its ratio to the memory store
  read     wamp.subscription.get_events latency (limit 100, then the whole 1000) on the
           history that run filled, from a Python client: median and p99 of N calls

    bench/store_bench.py [--bin-dir build] [--duration 5] [--reads 300] [--only REGEX]

Stores: memory; lmdb (durable: false, then true: fsync per commit); redis (durable: false,
then true: PUBLISHED after Redis answered) on a private redis-server that this script
starts (persistence off), with memory on the same backplane as the redis rows' baseline.
Every router is started fresh (--port 0). Nothing here asserts a speed.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
for d in ("lib", "wire", "store"):
    sys.path.insert(0, os.path.join(HERE, "..", "tests", d))

from cluster_proc import RedisProcess  # noqa: E402
from storelib import Client  # noqa: E402
from wampd_proc import WampdProcess  # noqa: E402

HISTORY = [{"uri": "bench.", "match": "prefix", "limit": 1000}]


def cases(tmp, redis):
    bp = {"redis": redis.url, "node_id": "bench0"}
    return [
        ("memory", {}, None),
        ("lmdb", {"type": "lmdb", "path": os.path.join(tmp, "a")}, None),
        ("lmdb durable", {"type": "lmdb", "path": os.path.join(tmp, "b"), "durable": True},
         None),
        ("memory + backplane", {}, bp),
        ("redis", {"type": "redis"}, bp),
        ("redis durable", {"type": "redis", "durable": True}, bp),
    ]


def run_case(args, name, store, backplane):
    realm = {"name": "realm1", "event_history": HISTORY}
    if store:
        realm["store"] = store
    cfg = {"listeners": [{"port": 0}], "realms": [realm]}
    if backplane:
        cfg["backplane"] = backplane
    router = WampdProcess(binary=os.path.join(args.bin_dir, "router", "wampd"), config=cfg,
                          log_level="notice").start()
    try:
        if backplane:
            router.wait_log(r"joined the cluster", timeout=15)
        out = subprocess.run(
            [os.path.join(args.bin_dir, "bench", "wampbench"), "--url", router.url,
             "--scenario", "publish", "--callers", str(args.callers), "--window",
             str(args.window), "--payload", "64", "--warmup", "1", "--duration",
             str(args.duration), "--router-pid", str(router.proc.pid)],
            capture_output=True, text=True, timeout=args.duration + 60)
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if not line:
            raise RuntimeError("wampbench said nothing: %s" % out.stderr)
        pub = json.loads(line[-1])
        c = Client(router)
        # redis without durability: the router's commands may still be queued for Redis
        # (nothing paced the publisher); the reads start once it caught up
        deadline = time.monotonic() + 60
        while True:
            try:
                if len(c.history("bench.", limit=1000)) == 1000:
                    break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
        reads = {}
        for limit in (100, 1000):
            c.history("bench.", limit=limit)  # warm
            times = []
            for _ in range(args.reads):
                t0 = time.perf_counter()
                events = c.history("bench.", limit=limit)
                times.append((time.perf_counter() - t0) * 1e6)
            assert len(events) == limit, (name, len(events))
            times.sort()
            reads[limit] = (statistics.median(times), times[int(len(times) * 0.99) - 1])
        c.close()
        return pub, reads
    except Exception:
        print(router.stderr()[-3000:], file=sys.stderr)
        raise
    finally:
        router.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--callers", type=int, default=4)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--reads", type=int, default=300)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="wampd-store-bench-")
    redis = RedisProcess().start()
    rows = []
    try:
        for name, store, bp in cases(tmp, redis):
            if args.only and not re.search(args.only, name):
                continue
            pub, reads = run_case(args, name, store, bp)
            rows.append((name, pub, reads))
            print("%-20s %8.0f pub/s  p50 %6.0f us  read100 %6.0f us" %
                  (name, pub["ops_per_s"], pub["latency_us"]["p50"], reads[100][0]),
                  file=sys.stderr)
    finally:
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    base = next((p["ops_per_s"] for n, p, _ in rows if n == "memory"), None)
    print("| store | publications/s | ratio to memory | publish p50 / p99 (us) | router CPU (s) |"
          " get_events 100: p50 / p99 (us) | get_events 1000: p50 / p99 (us) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, pub, reads in rows:
        print("| %s | %.0f | %s | %.0f / %.0f | %.2f | %.0f / %.0f | %.0f / %.0f |" % (
            name, pub["ops_per_s"], "%.2f" % (pub["ops_per_s"] / base) if base else "-",
            pub["latency_us"]["p50"], pub["latency_us"]["p99"], pub["router_cpu_s"],
            reads[100][0], reads[100][1], reads[1000][0], reads[1000][1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""bench/plot.py - draw a bench/results/<date>.json (bench/run.sh) to PNG files:

  <stem>-fanout.png   deliveries/s against the number of subscribers, wampd (JSON,
                      MessagePack) next to the relay baseline's broadcast
  <stem>-latency.png  latency percentiles (p50/p90/p99/p99.9) of every scenario that has them

usage: plot.py RESULTS.json [--out-dir DIR]     (Debian python3-matplotlib)
"""
import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def fanout(doc, path):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for kind, name in (("fanout", "wampd"), ("broadcast", "relay baseline")):
        for ser in ("json", "msgpack"):
            pts = []
            for r in doc["results"]:
                parts = r.get("label", "").split()
                if len(parts) == 3 and parts[0] == kind and parts[1] == ser and "ops_per_s" in r:
                    pts.append((int(parts[2].split("=")[1]), r["ops_per_s"]))
            if pts:
                pts.sort()
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o",
                        linestyle="-" if kind == "fanout" else "--", label="%s %s" % (name, ser))
    ax.set_xscale("log")
    ax.set_xlabel("subscribers")
    ax.set_ylabel("deliveries / s")
    ax.set_title("Fan-out throughput (%s)" % doc["date"])
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def latency(doc, path):
    rows = [r for r in doc["results"] if r.get("latency_us", {}).get("p50")]
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(9, max(3, 0.35 * len(rows) + 1)))
    keys = ("p50", "p90", "p99", "p999")
    height = 0.8 / len(keys)
    for k, key in enumerate(keys):
        ax.barh([i + k * height for i in range(len(rows))],
                [r["latency_us"][key] for r in rows], height=height, label=key)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(rows))])
    ax.set_yticklabels([r["label"] for r in rows], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("latency, µs (log scale)")
    ax.set_title("Latency percentiles (%s)" % doc["date"])
    ax.invert_yaxis()
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--out-dir")
    a = ap.parse_args()
    with open(a.results) as f:
        doc = json.load(f)
    stem = os.path.splitext(os.path.basename(a.results))[0]
    out = a.out_dir or os.path.dirname(os.path.abspath(a.results))
    fanout(doc, os.path.join(out, stem + "-fanout.png"))
    latency(doc, os.path.join(out, stem + "-latency.png"))
    print("plots: %s/%s-{fanout,latency}.png" % (out, stem))


if __name__ == "__main__":
    main()

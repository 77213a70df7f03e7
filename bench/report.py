#!/usr/bin/env python3
"""bench/report.py - turn wampbench result lines (one JSON object per line, each with the
"label" bench/run.sh gave it) into bench/results/<date>.json and a Markdown table.

wampd's figures are shown as ratios to the relay baseline measured in the same run:
  rpc    vs pair (caller -> relay -> callee -> relay -> caller: the same hops as a routed
         call) and vs echo (one hop: the machine's practical round-trip limit)
  fanout vs broadcast to the same number of subscribers
and MessagePack vs JSON for each wampd scenario; the HTTP bridge's POST /publish
("http-publish") vs acknowledged WebSocket publications ("publish", JSON and MessagePack),
by throughput and per second of server CPU ("HTTP publish / WS publish ..."). Labels ending in " rs" are the same
scenarios over RawSocket (wampd's universal port; the relay's raw mode as their baseline),
also shown as ratios to their WebSocket counterparts ("... rs / ws"), by throughput and by
operations per second of server CPU ("... rs / ws per server CPU-s").

usage: report.py LINES.jsonl --json OUT.json --md OUT.md [--mode full|quick|smoke]
"""
import argparse
import datetime
import json
import platform
import os


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def by_label(results):
    return {r["label"]: r for r in results if "label" in r}


def rate(r):
    return r.get("ops_per_s") if r and "error" not in r else None


def per_cpu(r):
    """Operations per second of server CPU time (router_cpu_s from /proc/PID/stat)."""
    if not r or "error" in r or not r.get("router_cpu_s") or r["router_cpu_s"] <= 0:
        return None
    return r.get("ops", 0) / r["router_cpu_s"]


def ratio(a, b):
    return round(a / b, 3) if a and b else None


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float) and v < 100:
        return "%.2f%s" % (v, unit)
    return "{:,.0f}{}".format(v, unit)


def machine():
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()}


def targets(L):
    """Issue #6's targets, each as (what, measured, goal, met) from this run's figures."""
    out = []

    def add(what, value, goal, ok):
        if value is not None:
            out.append({"target": what, "measured": value, "goal": goal, "met": bool(ok)})

    for ser in ("json", "msgpack"):
        rpc, echo = L.get("rpc %s P=64" % ser), L.get("echo %s P=64" % ser)
        v = ratio(rate(rpc), rate(echo))
        add("rpc %s calls/s / echo messages/s" % ser, v, ">= 0.45", v and v >= 0.45)
        r1, e1 = L.get("rpc1 %s P=64" % ser), L.get("echo1 %s P=64" % ser)
        if r1 and e1 and "error" not in r1 and "error" not in e1:
            v = ratio(r1["latency_us"]["p50"], e1["latency_us"]["p50"])
            add("rpc %s one call in flight: p50 / echo p50" % ser, v, "<= 2", v and v <= 2)
        h = L.get("rpchalf %s P=64" % ser)
        if h and "error" not in h:
            v = ratio(h["latency_us"]["p99"], h["latency_us"]["p50"])
            add("rpc %s at 50%% of peak: p99 / p50" % ser, v, "<= 3", v and v <= 3)
        f = L.get("fanout %s N=1000" % ser)
        v = ratio(rate(f), rate(echo))
        add("fanout %s N=1000 deliveries/s / echo messages/s" % ser, v, ">= 2.5", v and v >= 2.5)
        idle = L.get("idle %s K=10000" % ser) or L.get("idle %s K=2000" % ser)
        if idle and idle.get("kib_per_session"):
            add("idle %s KiB per session" % ser, idle["kib_per_session"], "<= 4",
                idle["kib_per_session"] <= 4)
        c = L.get("connect %s anonymous" % ser)
        if rate(c):
            add("connect %s sessions/s" % ser, rate(c), ">= 20,000", rate(c) >= 20000)
    for kind in ("rpc", "fanout", "connect"):
        lab = {"rpc": "rpc %s P=64", "fanout": "fanout %s N=1000",
               "connect": "connect %s anonymous"}[kind]
        v = ratio(rate(L.get(lab % "msgpack")), rate(L.get(lab % "json")))
        add("%s msgpack / json" % kind, v, ">= 1 (3 % noise allowed)", v and v >= 0.97)
    return out


def build(results, mode):
    L = by_label(results)
    rows, ratios = [], {}
    for ser in ("json", "msgpack"):
        for label, r in L.items():
            parts = label.split()
            if len(parts) < 2 or parts[1] != ser:
                continue
            kind, rest = parts[0], " ".join(parts[2:])
            if kind == "rpc":
                pair = L.get("pair %s %s" % (ser, rest))
                echo = L.get("echo %s %s" % (ser, rest))
                rows.append((label, rate(r), r.get("latency_us"), "pair", ratio(rate(r), rate(pair)),
                             "echo", ratio(rate(r), rate(echo))))
                ratios[label + " / pair"] = ratio(rate(r), rate(pair))
                ratios[label + " / echo"] = ratio(rate(r), rate(echo))
            elif kind == "fanout":
                bc = L.get("broadcast %s %s" % (ser, rest))
                rows.append((label, rate(r), r.get("latency_us"), "broadcast",
                             ratio(rate(r), rate(bc)), None, None))
                ratios[label + " / broadcast"] = ratio(rate(r), rate(bc))
            elif kind == "connect":
                ws = L.get("wsconnect %s%s" % (ser, " rs" if label.endswith(" rs") else ""))
                rows.append((label, rate(r), r.get("latency_us"), "wsconnect",
                             ratio(rate(r), rate(ws)), None, None))
                ratios[label + " / wsconnect"] = ratio(rate(r), rate(ws))
            elif kind in ("rpc1", "rpchalf"):
                base = L.get(("echo1 " if kind == "rpc1" else "echohalf ") + label.split(None, 1)[1])
                lat, blat = r.get("latency_us") or {}, (base or {}).get("latency_us") or {}
                rows.append((label, rate(r), lat, "echo p50", ratio(lat.get("p50"), blat.get("p50")),
                             "own p99/p50", ratio(lat.get("p99"), lat.get("p50"))))
                ratios[label + " p50 / echo p50"] = ratio(lat.get("p50"), blat.get("p50"))
                ratios[label + " p99 / p50"] = ratio(lat.get("p99"), lat.get("p50"))
            elif kind == "http-publish":
                wj, wm = L.get("publish json %s" % rest), L.get("publish msgpack %s" % rest)
                rows.append((label, rate(r), r.get("latency_us"), "WS publish json",
                             ratio(rate(r), rate(wj)), "WS publish msgpack",
                             ratio(rate(r), rate(wm))))
                for name, ws in (("json", wj), ("msgpack", wm)):
                    ratios["HTTP publish / WS publish %s" % name] = ratio(rate(r), rate(ws))
                    ratios["HTTP publish / WS publish %s per server CPU-s" % name] = ratio(
                        per_cpu(r), per_cpu(ws))
            elif kind in ("pair", "echo", "broadcast", "wsconnect", "echo1", "echohalf",
                          "publish"):
                rows.append((label, rate(r), r.get("latency_us"), None, None, None, None))
            elif kind == "idle":
                rows.append((label, None, None, "KiB/session", r.get("kib_per_session"), None, None))
            if kind in ("rpc", "fanout", "connect") and label.endswith(" rs"):
                ratios[label + " / ws"] = ratio(rate(r), rate(L.get(label[:-3])))
                # operations per second of server CPU: what each costs the router, which a
                # load generator starved of CPU on a shared machine does not distort
                ratios[label + " / ws per server CPU-s"] = ratio(per_cpu(r), per_cpu(L.get(label[:-3])))
            if kind == "idle" and label.endswith(" rs") and L.get(label[:-3]):
                ratios[label + " KiB/session / ws"] = ratio(
                    r.get("kib_per_session"), L[label[:-3]].get("kib_per_session"))
            if kind in ("rpc", "fanout", "connect", "idle", "publish") and ser == "msgpack":
                j = L.get(label.replace("msgpack", "json", 1))
                if kind == "idle":
                    continue
                ratios[label + " / json"] = ratio(rate(r), rate(j))
    doc = {
        "targets": targets(L),
        "date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mode": mode,
        "machine": machine(),
        "results": results,
        "ratios": ratios,
    }
    return doc, rows


def markdown(doc, rows):
    out = ["# wampbench results %s (%s mode)" % (doc["date"], doc["mode"]), "",
           "Machine: %s, %s cores, Linux %s. Router and load generator share the machine; "
           "figures are comparable only within this run." % (
               doc["machine"]["cpu"], doc["machine"]["cores"], doc["machine"]["kernel"]), "",
           "| scenario | ops/s | p50 µs | p99 µs | p99.9 µs | vs | ratio | vs | ratio |",
           "|---|---:|---:|---:|---:|---|---:|---|---:|"]
    for label, r, lat, v1, r1, v2, r2 in rows:
        lat = lat or {}
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, fmt(r), fmt(lat.get("p50") or None), fmt(lat.get("p99") or None),
            fmt(lat.get("p999") or None), v1 or "", fmt(r1), v2 or "", fmt(r2)))
    if doc.get("targets"):
        out += ["", "## Issue #6 targets", "", "| target | measured | goal | met |",
                "|---|---:|---|---|"]
        for t in doc["targets"]:
            out.append("| %s | %s | %s | %s |" % (t["target"], fmt(t["measured"]), t["goal"],
                                                  "yes" if t["met"] else "no"))
    hp = [(k, v) for k, v in doc["ratios"].items() if k.startswith("HTTP publish / ")]
    if hp:
        get = dict(hp).get
        out += ["", "## HTTP bridge publish vs WebSocket publish", "",
                "| | vs WS JSON | vs WS MessagePack |", "|---|---:|---:|",
                "| HTTP publish / WS publish | %s | %s |" % (
                    fmt(get("HTTP publish / WS publish json")),
                    fmt(get("HTTP publish / WS publish msgpack"))),
                "| HTTP publish / WS publish per server CPU-s | %s | %s |" % (
                    fmt(get("HTTP publish / WS publish json per server CPU-s")),
                    fmt(get("HTTP publish / WS publish msgpack per server CPU-s")))]
    out += ["", "## Ratios", "", "| ratio | value |", "|---|---:|"]
    for k, v in doc["ratios"].items():
        out.append("| %s | %s |" % (k, fmt(v)))
    cpu = [(r["label"], r.get("bench_cpu_s"), r.get("router_cpu_s"), r.get("duration"))
           for r in doc["results"] if "bench_cpu_s" in r]
    out += ["", "## CPU over the measured interval (seconds; wampbench must not be the "
            "bottleneck)", "", "| scenario | wampbench | server | duration |", "|---|---:|---:|---:|"]
    for label, b, s, d in cpu:
        out.append("| %s | %s | %s | %s |" % (label, fmt(b), fmt(s), fmt(d)))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lines")
    ap.add_argument("--json", required=True)
    ap.add_argument("--md", required=True)
    ap.add_argument("--mode", default="full")
    a = ap.parse_args()
    doc, rows = build(load(a.lines), a.mode)
    with open(a.json, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    with open(a.md, "w") as f:
        f.write(markdown(doc, rows))


if __name__ == "__main__":
    main()

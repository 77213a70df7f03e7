#!/usr/bin/env bash
# bench/cluster.sh - wampd as a cluster of 1, 2 and 4 processes on this machine, joined by a
# private redis-server (the backplane), measured with wampbench.
#
#   bench/cluster.sh [--quick] [--bin-dir DIR] [--out FILE]
#
# For N in 1 2 4 (N = 1 also without a backplane: the plain single router):
#   fanout  one publisher on node 0, SUBS subscribers spread evenly over the N nodes:
#           deliveries/s (every subscriber gets every event: the paced publisher waits for
#           the slowest)
#   rpc     CALLERS callers spread over the nodes, one callee per node (a shared roundrobin
#           registration): calls/s; with N nodes (N-1)/N of the calls cross nodes
# and the latency of one call at a time (1 caller, window 1): callee on the caller's node vs
# on another node (p50/p99) — the added latency of a cross-node call.
# Scaling efficiency = throughput(N) / (N x throughput(1 node with backplane)).
# Results: one JSON line per run in FILE (default bench/results/cluster-<date>.json) and a
# Markdown table on stdout. The machine may be shared: figures are from one run, compare
# ratios, not absolutes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
quick=0 bindir="" out=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--bin-dir) bindir=$2; shift ;;
	--out) out=$2; shift ;;
	-h|--help) sed -n '2,21p' "$0"; exit 0 ;;
	*) echo "cluster.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
if [ -z "$bindir" ]; then
	bindir="$root/build-bench"
	cmake -S "$root" -B "$bindir" -DCMAKE_BUILD_TYPE=Release -DWAMPD_BUILD_TESTS=OFF \
		-DWAMPD_BUILD_BENCH=ON >/dev/null
	cmake --build "$bindir" -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
fi
wampd="$bindir/router/wampd"
bench="$bindir/bench/wampbench"
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
command -v redis-server >/dev/null || { echo "cluster.sh: redis-server missing (scripts/deps.sh)" >&2; exit 1; }
mkdir -p "$root/bench/results"
out=${out:-$root/bench/results/cluster-$(date -u +%Y-%m-%d).json}
: >"$out"

if [ $quick = 1 ]; then warm=0.5 dur=3; else warm=1 dur=8; fi
SUBS=${SUBS:-400} CALLERS=${CALLERS:-8}
tmp=$(mktemp -d /tmp/wampd-bench-cluster.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
rport=$((20000 + RANDOM % 40000))
while port_busy $rport; do rport=$((20000 + RANDOM % 40000)); done
redis-server --port $rport --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" \
	--loglevel warning >"$tmp/redis.log" 2>&1 &
redis_pid=$!
pids+=($redis_pid)
# ready once it answers PING (not just accepts connections)
redis_ping() { (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\r\n' >&3 && read -r -t 1 l <&3 && [[ $l == +PONG* ]]) 2>/dev/null; }
for _ in $(seq 200); do redis_ping $rport && break; sleep 0.05; done
redis_ping $rport || { echo "redis-server did not start:"; cat "$tmp/redis.log"; exit 1; } >&2

# start_nodes N BACKPLANE(0|1): fills urls[] and node_pids[]
start_nodes() {
	local n=$1 bp=$2 i cfg
	urls=() node_pids=()
	for i in $(seq 0 $((n - 1))); do
		cfg="$tmp/node$i.json"
		if [ "$bp" = 1 ]; then
			printf '{"listeners":[{"port":0}],"realms":[{"name":"realm1"}],"limits":{"max_sessions_per_ip":0,"max_auth_failures_per_ip":0},"backplane":{"redis":"redis://127.0.0.1:%d/0","node_id":"bench%d"}}' "$rport" "$i" >"$cfg"
		else
			printf '{"listeners":[{"port":0}],"realms":[{"name":"realm1"}],"limits":{"max_sessions_per_ip":0,"max_auth_failures_per_ip":0}}' >"$cfg"
		fi
		"$wampd" --config "$cfg" --log-level notice >"$tmp/node$i.out" 2>"$tmp/node$i.log" &
		node_pids+=($!)
		pids+=($!)
		for _ in $(seq 200); do grep -q "listening ws://" "$tmp/node$i.out" && break; sleep 0.05; done
		urls+=("$(sed -n 's/^listening \(ws:[^ ]*\).*/\1/p' "$tmp/node$i.out" | head -1)")
		if [ "$bp" = 1 ]; then
			for _ in $(seq 400); do grep -q "joined the cluster" "$tmp/node$i.log" && break; sleep 0.05; done
			grep -q "joined the cluster" "$tmp/node$i.log" || { echo "node$i did not join" >&2; cat "$tmp/node$i.log" >&2; exit 1; }
		fi
	done
}
stop_nodes() {
	local p
	for p in "${node_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	node_pids=()
}
join_urls() { local IFS=,; echo "$*"; }

# run LABEL NODES BACKPLANE wampbench-args...
run() {
	local label=$1 n=$2 bp=$3
	shift 3
	echo "cluster.sh: $label (nodes=$n backplane=$bp)" >&2
	start_nodes "$n" "$bp"
	local line
	line=$("$bench" --warmup $warm --duration $dur "$@" --url "$(join_urls "${urls[@]}")" 2>"$tmp/bench.err") || {
		echo "cluster.sh: $label failed: $(tail -3 "$tmp/bench.err")" >&2; stop_nodes; return 0; }
	stop_nodes
	echo "$line" | "$py" -c 'import json,sys; r=json.loads(sys.stdin.read()); r.update(label=sys.argv[1], nodes=int(sys.argv[2]), backplane=sys.argv[3]=="1"); print(json.dumps(r))' "$label" "$n" "$bp" >>"$out"
}

for n in 1 2 4; do
	[ $n = 1 ] && run fanout 1 0 --scenario fanout --subscribers "$SUBS" --window 8 --payload 64
	run fanout $n 1 --scenario fanout --subscribers "$SUBS" --window 8 --payload 64
	[ $n = 1 ] && run rpc 1 0 --scenario rpc --callers "$CALLERS" --callees 1 --window 16 --payload 64
	run rpc $n 1 --scenario rpc --callers "$CALLERS" --callees $n --window 16 --payload 64
done
# one call at a time: callee on the caller's node, then on the other node
echo "cluster.sh: latency" >&2
start_nodes 2 1
for where in same cross; do
	if [ $where = same ]; then callee=${urls[0]}; else callee=${urls[1]}; fi
	line=$("$bench" --warmup $warm --duration $dur --scenario rpc --callers 1 --callees 1 \
		--window 1 --payload 64 --url "${urls[0]}" --callee-url "$callee" 2>"$tmp/bench.err") || {
		echo "cluster.sh: latency $where failed: $(tail -3 "$tmp/bench.err")" >&2; continue; }
	echo "$line" | "$py" -c 'import json,sys; r=json.loads(sys.stdin.read()); r.update(label="latency-"+sys.argv[1], nodes=2, backplane=True); print(json.dumps(r))' "$where" >>"$out"
done
stop_nodes

"$py" - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def find(label, n, bp=True):
    for r in rows:
        if r["label"] == label and r["nodes"] == n and r["backplane"] == bp:
            return r
print("| scenario | nodes | backplane | throughput/s | p50 µs | p99 µs | scaling efficiency |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
for label in ("fanout", "rpc"):
    base = find(label, 1)
    for n, bp in ((1, False), (1, True), (2, True), (4, True)):
        r = find(label, n, bp)
        if not r:
            continue
        eff = "%.2f" % (r["ops_per_s"] / (n * base["ops_per_s"])) if base and bp else "–"
        print("| %s | %d | %s | %.0f | %.0f | %.0f | %s |" % (label, n, "yes" if bp else "no",
              r["ops_per_s"], r["latency_us"]["p50"], r["latency_us"]["p99"], eff))
same, cross = find("latency-same", 2), find("latency-cross", 2)
if same and cross:
    print()
    print("one call at a time: same node p50 %.0f µs / p99 %.0f µs; other node p50 %.0f µs / "
          "p99 %.0f µs; added by crossing nodes: p50 +%.0f µs (x%.2f)" % (
              same["latency_us"]["p50"], same["latency_us"]["p99"], cross["latency_us"]["p50"],
              cross["latency_us"]["p99"], cross["latency_us"]["p50"] - same["latency_us"]["p50"],
              cross["latency_us"]["p50"] / same["latency_us"]["p50"]))
PY

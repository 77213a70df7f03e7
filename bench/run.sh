#!/usr/bin/env bash
# bench/run.sh - run every wampbench scenario against wampd and against the relay baseline
# (plain libwebsockets, no WAMP), for JSON and MessagePack, and write
#   bench/results/<date>.json   every result line plus the ratios
#   bench/results/<date>.md     the table (bench/report.py)
#
#   bench/run.sh [--quick] [--smoke] [--bin-dir DIR] [--out DIR] [--only REGEX]
#
# Scenarios run over WebSocket, and again over RawSocket (labels ending in " rs": wampd's
# universal port, the relay in its raw mode as their baseline). The HTTP bridge's POST
# /publish (wampbench http-publish, configs/http.json) is measured against acknowledged
# WebSocket publications (wampbench publish, JSON and MessagePack) on the same router
# config, the same shape (4 connections x 16 in flight, 64-byte payload, no subscriber).
#
#   (default)  Release build in build-bench/, 2 s warm-up + 10 s per scenario, fan-out to
#              1..10,000 subscribers, 10,000 idle sessions (bounded by the fd hard limit)
#   --quick    0.5 s + 3 s per scenario, fan-out up to 1,000, 2,000 idle sessions
#   --smoke    0.2 s + 1 s, tiny sizes: checks that every scenario runs and reports
#              (make test runs this; it never asserts a speed)
#   --bin-dir  use wampd/wampbench/relay from an existing build directory
#   --out      where results go (default bench/results; --smoke: a temporary directory)
#   --only     run only scenarios whose label matches REGEX (e.g. 'fanout|idle')
#
# Every server is started fresh on a free port (--port 0) for each scenario, so one
# scenario's memory does not leak into the next one's figures; wampbench starts once that
# server has printed its listening line (read from a pipe of its own, see start_server). A
# progress line per scenario goes to stderr. Nothing here asserts a speed or a time: a
# scenario fails only if it produced no operations or reported an error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
quick=0 smoke=0 bindir="" out="" only=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--smoke) smoke=1 ;;
	--bin-dir) bindir=$2; shift ;;
	--out) out=$2; shift ;;
	--only) only=$2; shift ;;
	-h|--help) sed -n '2,23p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
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
relay="$bindir/bench/relay"
for b in "$wampd" "$bench" "$relay"; do
	[ -x "$b" ] || { echo "run.sh: $b not built" >&2; exit 1; }
done

# Debian's python3 (the one with python3-matplotlib), else whatever python3 is on PATH
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)

# many sessions need many descriptors: take the hard limit
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fdmax=$(ulimit -n)

if [ $smoke = 1 ]; then
	warm=0.2 dur=1 fanouts="1 50" idle=100 rpcpay="64"
	[ -n "$out" ] || out=$(mktemp -d)
elif [ $quick = 1 ]; then
	warm=0.5 dur=3 fanouts="1 100 1000" idle=2000 rpcpay="64 4096"
else
	warm=2 dur=10 fanouts="1 100 1000 10000" idle=10000 rpcpay="64 4096"
fi
[ -n "$out" ] || out="$here/results"
# each process needs one descriptor per connection, plus a few
cap=$((fdmax - 64))
[ "$idle" -le "$cap" ] || idle=$cap
mkdir -p "$out"
stamp=$(date -u +%Y-%m-%d)
lines="$out/$stamp.jsonl"
: >"$lines"
tmp=$(mktemp -d)
server_pid=""
cleanup() {
	[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# start_server NAME CMD...: start a server that prints "listening ws://..." (or rs://) on
# stdout; sets server_pid and server_url once it has printed that line (it listens then).
# The line is read from a pipe made for this one start, so the URL can only come from this
# server: a file kept from start to start was truncated by the new server's shell only once
# that shell ran, and on a loaded machine the previous (stopped) server's line was read
# before that, so the scenario connected to a dead port ("Unable to connect"). The read
# waits for the line itself, or for the end of the output (the server exited), at most
# start_timeout seconds; the rest of the server's stdout is drained into a file.
start_timeout=60
starts=0
url_re='(ws|rs)://[^ ]*'
start_server() {
	local name=$1 fifo line left deadline=$((SECONDS + start_timeout))
	shift
	starts=$((starts + 1))
	fifo="$tmp/$name.$starts.fifo"
	mkfifo "$fifo"
	"$@" >"$fifo" 2>"$tmp/$name.err" &
	server_pid=$!
	exec {server_out}<"$fifo" # returns once the server's shell has opened the pipe
	rm -f "$fifo"
	server_url=""
	while left=$((deadline - SECONDS)) && [ "$left" -gt 0 ] &&
		IFS= read -r -t "$left" line <&"$server_out"; do
		if [[ "$line" =~ $url_re ]]; then
			server_url=${BASH_REMATCH[0]}
			break
		fi
	done
	cat <&"$server_out" >"$tmp/$name.$starts.out" &
	exec {server_out}<&-
	[ -z "$server_url" ] || return 0
	if [ $SECONDS -ge $deadline ]; then
		echo "run.sh: $name printed no listening line within ${start_timeout} s:" >&2
	else
		echo "run.sh: $name ended its output (exited) without a listening line:" >&2
	fi
	cat "$tmp/$name.err" >&2
	stop_server
	return 1
}

stop_server() {
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
}

failures=0
# half of the ops/s of the result labelled $1 (empty if it failed)
peak_half() {
	"$py" -c 'import json,sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("label") == sys.argv[2] and d.get("ops_per_s"):
        print(int(d["ops_per_s"] / 2))' "$lines" "$1" | tail -1
}
scenario_ok() {
	[ -n "$1" ] && "$py" -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d.get("ops",0)>0 and "error" not in d else 1)' "$1"
}
# run LABEL TARGET(wampd|wampd-auth|wampd-http|relay:MODE|relay-rs:MODE) -- wampbench args...
run() {
	local label=$1 target=$2
	shift 3
	if [ -n "$only" ] && ! [[ "$label" =~ $only ]]; then
		return 0
	fi
	case "$target" in
	wampd) start_server wampd "$wampd" --config "$here/configs/bench.json" --port 0 \
			--log-level error ;;
	wampd-auth) start_server wampd "$wampd" --config "$here/configs/auth.json" --port 0 \
			--log-level error ;;
	wampd-http) start_server wampd "$wampd" --config "$here/configs/http.json" --port 0 \
			--log-level error ;;
	relay:*) start_server relay "$relay" --port 0 --mode "${target#relay:}" ;;
	relay-rs:*) start_server relay "$relay" --port 0 --mode "${target#relay-rs:}" \
			--transport rawsocket ;;
	esac
	local res rc=0
	printf '%-44s ' "$label" >&2
	# no retry: each scenario has a server of its own that was listening before wampbench
	# started, so a failure is a failure (wampbench prints one result line, an "error" in it
	# when it fails; no line at all means it crashed or was killed)
	timeout 300 "$bench" --url "$server_url" --router-pid "$server_pid" \
		--warmup "$warm" --duration "$dur" "$@" >"$tmp/result" || rc=$?
	res=$(tail -1 "$tmp/result")
	[ -n "$res" ] || res="{\"error\":\"no result line (wampbench exit status $rc)\"}"
	stop_server
	if ! scenario_ok "$res"; then
		echo "FAILED ${res:-no result}" >&2
		failures=$((failures + 1))
		res="{\"error\":\"no result\"}"
	else
		"$py" -c 'import json,sys; d=json.loads(sys.argv[1]); print(("%.0f/s" % d["ops_per_s"]) if "ops_per_s" in d else ("%.2f KiB/session" % d["kib_per_session"]), ("p50 %.0f us p99 %.0f us" % (d["latency_us"]["p50"], d["latency_us"]["p99"])) if d.get("latency_us",{}).get("p50") else "")' "$res" >&2
	fi
	"$py" -c 'import json,sys; d=json.loads(sys.argv[2]); d["label"]=sys.argv[1]; print(json.dumps(d))' \
		"$label" "$res" >>"$lines"
}

# both LABEL TARGET -- ARGS: LABEL over WebSocket, then "LABEL rs" over RawSocket right after
# it (wampd on its universal port: --transport rawsocket takes the ws:// URL's host and
# port; the relay in its raw mode, an rs:// URL), so each RawSocket/WebSocket ratio comes
# from neighbouring runs. The smoke run checks the RawSocket paths with JSON only.
both() {
	local label=$1 target=$2
	shift 3
	run "$label" "$target" -- "$@"
	[ $smoke = 0 ] || [ "$ser" = json ] || return 0
	case "$target" in
	wampd) run "$label rs" wampd -- --transport rawsocket "$@" ;;
	relay:*) run "$label rs" "relay-rs:${target#relay:}" -- "$@" ;;
	esac
}

for ser in json msgpack; do
	for p in $rpcpay; do
		both "rpc $ser P=$p" wampd -- --scenario rpc --serializer $ser --callers 4 \
			--callees 1 --window 16 --payload "$p"
		both "pair $ser P=$p" relay:pair -- --scenario pair --serializer $ser --callers 4 \
			--window 16 --payload "$p"
		both "echo $ser P=$p" relay:echo -- --scenario echo --serializer $ser --callers 4 \
			--window 16 --payload "$p"
	done
	# latency: one call in flight (vs one echo in flight), and the 4 x 16 load paced at half
	# of the peak just measured (open loop; vs echo at the same rate)
	run "rpc1 $ser P=64" wampd -- --scenario rpc --serializer $ser --callers 1 --callees 1 \
		--window 1 --payload 64
	run "echo1 $ser P=64" relay:echo -- --scenario echo --serializer $ser --callers 1 \
		--window 1 --payload 64
	half=$(peak_half "rpc $ser P=64")
	if [ -n "$half" ]; then
		run "rpchalf $ser P=64" wampd -- --scenario rpc --serializer $ser --callers 4 \
			--callees 1 --window 16 --payload 64 --rate "$half"
		run "echohalf $ser P=64" relay:echo -- --scenario echo --serializer $ser --callers 4 \
			--window 16 --payload 64 --rate "$half"
	fi
	# HTTP bridge publish vs WebSocket publish (acknowledged, no subscriber), neighbouring
	# runs; the HTTP body is JSON whatever the WebSocket serializer, so it runs once
	run "publish $ser P=64" wampd-http -- --scenario publish --serializer $ser --callers 4 \
		--window 16 --payload 64
	if [ "$ser" = json ]; then
		run "http-publish json P=64" wampd-http -- --scenario http-publish --callers 4 \
			--window 16 --payload 64 --http-path /publish
	fi
	for n in $fanouts; do
		[ "$n" -le "$cap" ] || continue
		both "fanout $ser N=$n" wampd -- --scenario fanout --serializer $ser \
			--subscribers "$n" --window 8 --payload 64
		both "broadcast $ser N=$n" relay:broadcast -- --scenario broadcast \
			--serializer $ser --subscribers "$n" --window 8 --payload 64
	done
	both "connect $ser anonymous" wampd -- --scenario connect --serializer $ser \
		--concurrency 32
	both "wsconnect $ser" relay:echo -- --scenario wsconnect --serializer $ser \
		--concurrency 32
	both "idle $ser K=$idle" wampd -- --scenario idle --serializer $ser --sessions "$idle"
done
run "connect json ticket" wampd-auth -- --scenario connect --concurrency 32 \
	--authmethod ticket --authid bench --secret bench-ticket
run "connect json wampcra" wampd-auth -- --scenario connect --concurrency 32 \
	--authmethod wampcra --authid bench --secret bench-secret
run "connect json cryptosign" wampd-auth -- --scenario connect --concurrency 32 \
	--authmethod cryptosign --authid bench \
	--secret 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

"$py" "$here/report.py" "$lines" --json "$out/$stamp.json" --md "$out/$stamp.md" \
	--mode "$([ $smoke = 1 ] && echo smoke || { [ $quick = 1 ] && echo quick || echo full; })"
rm -f "$lines"
if [ $smoke = 0 ] && "$py" -c 'import matplotlib' 2>/dev/null; then
	"$py" "$here/plot.py" "$out/$stamp.json" >&2
fi
echo "results: $out/$stamp.json $out/$stamp.md" >&2
if [ $failures -gt 0 ]; then
	echo "run.sh: $failures scenario(s) failed" >&2
	exit 1
fi

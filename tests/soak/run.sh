#!/usr/bin/env bash
# tests/soak/run.sh - soak test (not part of make test; `make soak`, SOAK_SECONDS=600).
#
#   tests/soak/run.sh [--duration S] [--wampd BIN] [--bench-dir DIR]
#
# Runs wampd built with ASan+UBSan (build-asan) under a mixed load from three wampbench
# processes at once for S seconds (default 600): RPC (4 callers x 16 in flight), fan-out to
# 100 subscribers, and connect/disconnect churn (HELLO -> WELCOME -> close, 16 at a time).
# Samples the router's RSS every 5 s. Then SIGTERM, and asserts:
#   - every load generator ran to the end with a result (no error, ops > 0);
#   - wampd exited 0 and LeakSanitizer/UBSan reported nothing;
#   - RSS growth from the end of warm-up (20% of the run) to the end is below 5%.
# Prints the figures for the issue note.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dur=${SOAK_SECONDS:-600}
wampd="$root/build-asan/router/wampd"
benchdir="$root/build/bench"
while [ $# -gt 0 ]; do
	case "$1" in
	--duration) dur=$2; shift ;;
	--wampd) wampd=$2; shift ;;
	--bench-dir) benchdir=$2; shift ;;
	*) echo "soak: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
bench="$benchdir/wampbench"
for b in "$wampd" "$bench"; do
	[ -x "$b" ] || { echo "soak: $b not built (make build test-asan)" >&2; exit 1; }
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
	pkill -P $$ wampbench 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# a small quarantine, so RSS reflects the router rather than ASan's freed-memory pool
export ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=16:log_path=$tmp/asan
export UBSAN_OPTIONS=print_stacktrace=1:log_path=$tmp/ubsan
"$wampd" --config "$root/bench/configs/bench.json" --port 0 --log-level warn \
	>"$tmp/wampd.out" 2>"$tmp/wampd.err" &
pid=$!
deadline=$((SECONDS + 20))
url=""
while [ -z "$url" ] && [ $SECONDS -lt $deadline ]; do
	url=$(grep -o 'ws://[^ ]*' "$tmp/wampd.out" || true)
	[ -n "$url" ] || sleep 0.1
done
[ -n "$url" ] || { echo "soak: wampd did not start"; cat "$tmp/wampd.err"; exit 1; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
echo "soak: $url, ${dur} s, wampd pid $pid (ASan+UBSan)"

"$bench" --url "$url" --scenario rpc --callers 4 --window 16 --payload 256 --warmup 0 \
	--duration "$dur" >"$tmp/rpc.json" 2>"$tmp/rpc.err" &
b1=$!
"$bench" --url "$url" --scenario fanout --subscribers 100 --window 8 --payload 128 \
	--warmup 0 --duration "$dur" >"$tmp/fanout.json" 2>"$tmp/fanout.err" &
b2=$!
"$bench" --url "$url" --scenario connect --concurrency 16 --warmup 0 --duration "$dur" \
	>"$tmp/connect.json" 2>"$tmp/connect.err" &
b3=$!

warm=$((dur / 5))
start=$SECONDS
rss_warm=""
rss_max=0
while kill -0 $b1 2>/dev/null || kill -0 $b2 2>/dev/null || kill -0 $b3 2>/dev/null; do
	r=$(rss)
	[ "$r" -gt "$rss_max" ] && rss_max=$r
	if [ -z "$rss_warm" ] && [ $((SECONDS - start)) -ge $warm ]; then
		rss_warm=$r
		echo "soak: RSS after warm-up ${rss_warm} KiB"
	fi
	sleep 5
done
rss_end=$(rss)
rc=0
for b in $b1 $b2 $b3; do wait $b || rc=1; done
kill -TERM $pid
wait $pid || rc=$?
pid=""

fail=0
for f in rpc fanout connect; do
	line=$(tail -1 "$tmp/$f.json" || true)
	echo "soak: $f: $line"
	if ! /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d.get("ops",0)>0 and "error" not in d else 1)' "${line:-{\}}"; then
		echo "soak: FAIL: $f did not finish cleanly"; cat "$tmp/$f.err"; fail=1
	fi
done
[ $rc -eq 0 ] || { echo "soak: FAIL: wampd exit status $rc"; fail=1; }
if ls "$tmp"/asan* "$tmp"/ubsan* >/dev/null 2>&1; then
	echo "soak: FAIL: sanitizer reports:"; cat "$tmp"/asan* "$tmp"/ubsan* | head -60; fail=1
fi
[ -n "$rss_warm" ] || rss_warm=$rss_end
growth=$(/usr/bin/python3 -c "print('%.2f' % ((int('$rss_end') - int('$rss_warm')) * 100.0 / int('$rss_warm')))")
echo "soak: RSS warm-up ${rss_warm} KiB, end ${rss_end} KiB, max ${rss_max} KiB, growth ${growth}%"
if /usr/bin/python3 -c "import sys; sys.exit(0 if float('$growth') < 5.0 else 1)"; then :; else
	echo "soak: FAIL: RSS grew ${growth}% (limit 5%)"; fail=1
fi
[ $fail -eq 0 ] && echo "soak: PASS (0 leaks, 0 sanitizer reports, RSS growth ${growth}%)"
exit $fail

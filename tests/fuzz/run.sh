#!/usr/bin/env bash
# tests/fuzz/run.sh TARGET SECONDS SEEDS REGRESSIONS - run one libFuzzer target for SECONDS
# on a working corpus seeded from SEEDS (and the saved regression inputs), print the total
# executions, and fail on any crash, leak or sanitizer report. A crashing input is copied
# into $FUZZ_ARTIFACTS (default: the build directory) to be added to REGRESSIONS once fixed.
set -euo pipefail
target=$1 secs=$2 seeds=$3 regress=$4
name=$(basename "$target")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts=${FUZZ_ARTIFACTS:-$(dirname "$target")/artifacts}
mkdir -p "$work/corpus" "$artifacts"
cp "$seeds"/* "$work/corpus/" 2>/dev/null || true
cp "$regress"/* "$work/corpus/" 2>/dev/null || true
# -detect_leaks needs ptrace-free LeakSanitizer; rss and malloc limits catch runaway memory
set +e
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$target" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 \
	-malloc_limit_mb=512 -max_len=4096 -timeout=10 \
	-artifact_prefix="$artifacts/$name-" "$work/corpus" >"$work/log" 2>&1
rc=$?
set -e
execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' || echo 0)
cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 || true)
echo "$name: ${execs} executions in ${secs} s, ${cov:-cov: ?}, exit $rc"
if [ $rc -ne 0 ]; then
	grep -v '^#' "$work/log" | tail -60
	exit 1
fi

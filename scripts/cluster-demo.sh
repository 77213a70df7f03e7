#!/usr/bin/env bash
# make cluster-demo: a private redis-server and three wampd nodes on this machine, one
# cluster. All three share one WebSocket port (SO_REUSEPORT: the kernel spreads the
# connections), and each also has a port of its own so a client can pick its node.
#   PORT=8080 (shared; 0 or busy: a free one)  REDIS_PORT=(free)  NODES=3
# Ctrl-C stops the nodes (GOODBYE to their sessions), then Redis, and removes the temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
WAMPD=${WAMPD:-build/router/wampd}
NODES=${NODES:-3}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  while :; do p=$((20000 + RANDOM % 40000)); port_busy "$p" || { echo "$p"; return; }; done
}
PORT=${PORT:-8080}
if [ "$PORT" = 0 ] || port_busy "$PORT"; then PORT=$(free_port); fi
REDIS_PORT=${REDIS_PORT:-$(free_port)}
dir=$(mktemp -d /tmp/wampd-cluster-demo.XXXXXX)
pids=()

stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping the nodes..."
  for p in "${pids[@]:1}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]:1}"; do wait "$p" 2>/dev/null || true; done
  kill -TERM "${pids[0]}" 2>/dev/null || true
  wait "${pids[0]}" 2>/dev/null || true
  rm -rf "$dir"
  echo "stopped."
}
trap stop INT TERM EXIT

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
  --loglevel warning >"$dir/redis.log" 2>&1 &
pids+=($!)
# ready once it answers PING (not just accepts connections)
redis_ping() { (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\r\n' >&3 && read -r -t 1 l <&3 && [[ $l == +PONG* ]]) 2>/dev/null; }
for _ in $(seq 200); do redis_ping "$REDIS_PORT" && break; sleep 0.05; done
redis_ping "$REDIS_PORT" || { echo "redis-server did not start:"; cat "$dir/redis.log"; exit 1; } >&2

echo "redis:   redis://127.0.0.1:$REDIS_PORT/0  (private, no persistence)"
for i in $(seq 0 $((NODES - 1))); do
  own=$(free_port)
  cat >"$dir/node$i.json" <<JSON
{"listeners": [{"host": "127.0.0.1", "port": $PORT, "reuse_port": true},
               {"host": "127.0.0.1", "port": $own}],
 "realms": [{"name": "realm1"}],
 "backplane": {"redis": "redis://127.0.0.1:$REDIS_PORT/0", "node_id": "node$i"}}
JSON
  "$WAMPD" --config "$dir/node$i.json" >"$dir/node$i.out" 2>"$dir/node$i.log" &
  pids+=($!)
  for _ in $(seq 100); do grep -q "joined the cluster" "$dir/node$i.log" 2>/dev/null && break; sleep 0.05; done
  grep -q "joined the cluster" "$dir/node$i.log" || { echo "node$i did not join:"; cat "$dir/node$i.log"; exit 1; }
  echo "node$i:   ws://127.0.0.1:$own/ws  (its own port)   log: $dir/node$i.log"
done
echo "cluster: ws://127.0.0.1:$PORT/ws  (shared by all $NODES nodes), realm realm1"
echo "Connect clients to different nodes: they see one router. Ctrl-C stops everything."
wait "${pids[1]}" || true

#!/usr/bin/env bash
# make cluster-demo: a private redis-server and three wampd nodes on this machine, one
# cluster. All three share one WebSocket port (SO_REUSEPORT: the kernel spreads the
# connections), and each also has a port of its own so a client can pick its node.
#   PORT=8080 (shared; 0 or busy: a free one)  REDIS_PORT=(free)  NODES=3
# Ctrl-C stops the nodes (GOODBYE to their sessions), then Redis, and removes the temp dir.
#
# Ports are never probed and then handed on (between the probe and the bind anyone could
# take them): the wampd listeners are given port 0 and the kernel's choice is read from
# the node's "listening ws://..." lines (tests/lib/wampd_proc.py does the same). node0
# binds the shared port first (the one asked for, or port 0 when it is taken or its bind
# fails); the later nodes join the port node0 holds. redis-server cannot take port 0 and
# say which port it got, so it gets a candidate port, and is ready only when the server
# answering there reports redis-server's own process id (INFO server); one that exits
# first (its port was taken) is started again on another candidate (as
# tests/lib/cluster_proc.py does).
set -euo pipefail
cd "$(dirname "$0")/.."
WAMPD=${WAMPD:-build/router/wampd}
NODES=${NODES:-3}
PORT=${PORT:-8080}
dir=$(mktemp -d /tmp/wampd-cluster-demo.XXXXXX)
pids=()

stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping the nodes..."
  for p in "${pids[@]:1}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]:1}"; do wait "$p" 2>/dev/null || true; done
  [ "${#pids[@]}" -gt 0 ] && { kill -TERM "${pids[0]}" 2>/dev/null || true; }
  [ "${#pids[@]}" -gt 0 ] && { wait "${pids[0]}" 2>/dev/null || true; }
  rm -rf "$dir"
  echo "stopped."
}
trap stop INT TERM EXIT

# something accepts connections on the loopback port $1
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# the process id of the Redis answering on port $1 (INFO server), or nothing
redis_pid() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
   printf 'INFO server\r\n' >&3
   while IFS= read -r -t 1 l <&3; do
     [[ $l == process_id:* ]] && { l=${l#process_id:}; echo "${l%$'\r'}"; exit 0; }
   done; exit 1) 2>/dev/null
}
deadline() { echo $(($(date +%s) + $1)); }

# redis-server: on REDIS_PORT if given (no second try), else on candidate ports until one
# is ours
redis_log=
start_redis() {
  local end port p tries=0
  end=$(deadline 15)
  while :; do
    if [ -n "${REDIS_PORT:-}" ]; then port=$REDIS_PORT; else
      port=$((20000 + RANDOM % 40000))
      port_busy "$port" && continue
    fi
    tries=$((tries + 1))
    redis_log="$dir/redis-$tries.log"
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
      --loglevel warning --logfile "$redis_log" >/dev/null 2>&1 &
    p=$!
    while kill -0 "$p" 2>/dev/null; do
      if [ "$(redis_pid "$port")" = "$p" ]; then pids=("$p"); REDIS_PORT=$port; return 0; fi
      if [ "$(date +%s)" -ge "$end" ]; then kill -TERM "$p" 2>/dev/null; break; fi
      sleep 0.05
    done
    wait "$p" 2>/dev/null || true
    if [ -n "${REDIS_PORT:-}" ] || [ "$(date +%s)" -ge "$end" ]; then
      echo "redis-server did not start on port $port:" >&2
      cat "$redis_log" >&2 2>/dev/null || true
      return 1
    fi
  done
}

# the n-th (1-based) "listening ws://" port of node $1 (its stdout), once printed; the
# node's listeners print in the configuration's order: the shared one, then its own
ws_port() {
  sed -n 's|^listening ws://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$dir/node$1.out" 2>/dev/null |
    sed -n "$2p"
}

# node $1 with the shared listener on port $2; returns 1 when it exits before it has
# joined the cluster (its log says why)
start_node() {
  local i=$1 shared=$2 p end
  cat >"$dir/node$i.json" <<JSON
{"listeners": [{"host": "127.0.0.1", "port": $shared, "reuse_port": true},
               {"host": "127.0.0.1", "port": 0}],
 "realms": [{"name": "realm1"}],
 "backplane": {"redis": "redis://127.0.0.1:$REDIS_PORT/0", "node_id": "node$i"}}
JSON
  "$WAMPD" --config "$dir/node$i.json" >"$dir/node$i.out" 2>"$dir/node$i.log" &
  p=$!
  end=$(deadline 15)
  until [ -n "$(ws_port "$i" 2)" ] && grep -q "joined the cluster" "$dir/node$i.log"; do
    if ! kill -0 "$p" 2>/dev/null; then wait "$p" 2>/dev/null || true; return 1; fi
    if [ "$(date +%s)" -ge "$end" ]; then
      kill -TERM "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
      return 1
    fi
    sleep 0.05
  done
  pids+=("$p")
}

start_redis || exit 1
echo "redis:   redis://127.0.0.1:$REDIS_PORT/0  (private, no persistence)"
# node0 takes the shared port: the one asked for unless something answers there already
# (another demo's node would share it through SO_REUSEPORT) or its bind fails
if [ "$PORT" = 0 ] || port_busy "$PORT" || ! start_node 0 "$PORT"; then
  start_node 0 0 || { echo "node0 did not start:"; cat "$dir/node0.log"; exit 1; } >&2
fi
PORT=$(ws_port 0 1)
for i in $(seq 0 $((NODES - 1))); do
  [ "$i" = 0 ] || start_node "$i" "$PORT" ||
    { echo "node$i did not start:"; cat "$dir/node$i.log"; exit 1; } >&2
  echo "node$i:   ws://127.0.0.1:$(ws_port "$i" 2)/ws  (its own port)   log: $dir/node$i.log"
done
echo "cluster: ws://127.0.0.1:$PORT/ws  (shared by all $NODES nodes), realm realm1"
echo "Connect clients to different nodes: they see one router. Ctrl-C stops everything."
wait "${pids[1]}" || true

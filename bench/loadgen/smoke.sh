#!/usr/bin/env bash
# ctest bench-smoke: one parleyd (persistence + auth + rooms, TLS, light
# argon2) and each parley-loadgen scenario briefly at a small size; every run
# must print its JSON line with delivered > 0 and errors == 0. Then the Redis
# and Mosquitto peer drivers briefly, when those servers are installed.
#   bench/loadgen/smoke.sh BUILD_DIR
set -u
build=${1:?usage: smoke.sh BUILD_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/server_lib.sh"
data=$(mktemp -d "${TMPDIR:-/tmp}/parley-bench-smoke.XXXXXX")
trap 'stop_parleyd; rm -rf "$data"' EXIT
start_parleyd "$build" "$data/server" sync || exit 1

failed=0
run() {
  local name=$1; shift
  local out
  out=$(timeout 20 "$build/bin/parley-loadgen" --server "127.0.0.1:$PARLEYD_PORT" --insecure \
        --server-pid "$PARLEYD_PID" --json "$@" 2> "$data/$name.err")
  local rc=$?
  local delivered errors
  delivered=$(sed -n 's/.*"delivered": \([0-9]*\),.*/\1/p' <<< "$out")
  errors=$(sed -n 's/.*"errors": \([0-9]*\).*/\1/p' <<< "$out")
  if [ $rc -ne 0 ] || [ -z "$delivered" ] || [ "$delivered" -le 0 ] || [ "$errors" != 0 ]; then
    echo "FAIL $name (exit $rc): $out"
    tail -5 "$data/$name.err"
    failed=1
  else
    echo "ok   $name: $out"
  fi
}

run fanout  --scenario fanout  --members 10 --duration 1.5
run rooms   --scenario rooms   --rooms 5 --duration 1.5
run durable --scenario durable --connections 8 --duration 1.5
run connect --scenario connect --connections 2 --duration 1.5
run idle    --scenario idle    --connections 100 --duration 0.5
run rate    --scenario fanout  --members 5 --rate 500 --duration 1.5
if [ $failed -ne 0 ]; then
  echo "--- parleyd log (tail)"; tail -20 "$data/server/parleyd.log"
fi

# The peer drivers, when the peer is installed (each ~1 s per shape).
peer() {  # name server-command... -- driver
  local name=$1 port=$2 driver=$3; shift 3
  [ -x "$driver" ] || return 0
  "$@" > /dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 50); do (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break; sleep 0.1; done
  for shape in "--scenario fanout --members 10" "--scenario rooms --rooms 5"; do
    local out
    # shellcheck disable=SC2086
    out=$(timeout 20 "$driver" --server "127.0.0.1:$port" $shape --duration 1 --server-pid "$pid" \
          --json 2> "$data/$name.err")
    if [ $? -ne 0 ] || ! grep -q '"errors": 0' <<< "$out"; then
      echo "FAIL $name $shape: $out"; tail -3 "$data/$name.err"; failed=1
    else
      echo "ok   $name $shape"
    fi
  done
  kill "$pid" 2> /dev/null; wait "$pid" 2> /dev/null
}
port=$((20000 + RANDOM % 12000))
command -v redis-server > /dev/null &&
  peer redis "$port" "$build/bin/parley-peer-redis" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no
port=$((20000 + RANDOM % 12000))
[ -x /usr/sbin/mosquitto ] && peer mosquitto "$port" "$build/bin/parley-peer-mosquitto" /usr/sbin/mosquitto -p "$port"
exit $failed

#!/usr/bin/env bash
# ctest bench-smoke: one parleyd (persistence + auth + rooms, TLS, light
# argon2) and each parley-loadgen scenario briefly at a small size; every run
# must print its JSON line with delivered > 0 and errors == 0.
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
exit $failed

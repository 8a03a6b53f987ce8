# Shared by bench/compare.sh and bench/loadgen/smoke.sh (sourced, bash):
# start a parleyd for benchmarking on an ephemeral loopback port.
#
#   start_parleyd BUILD_DIR DATA_DIR [durability sync|async] [taskset cpu list]
#     sets PARLEYD_PID and PARLEYD_PORT; the log is DATA_DIR/parleyd.log
#   stop_parleyd
#
# The config: persistence (the given durability) + auth + rooms, a TLS
# listener with a generated development certificate, max_connections raised
# for the idle scenario, and LIGHT argon2 parameters (m = 8 KiB, t = 1) so the
# load generator can register thousands of users quickly. Those parameters
# are for benchmarking only; the default is m = 19 MiB, t = 2
# (parley_bench_kernel's BM_Argon2idDefault measures its cost).

start_parleyd() {
  local build=$1 data=$2 durability=${3:-sync} cpus=${4:-}
  mkdir -p "$data"
  cat > "$data/parley.yaml" <<YAML
data_dir: $data
listeners:
  - name: main
    address: 127.0.0.1
    port: 0
    tls: {dev: true, cert: $data/dev-cert.pem, key: $data/dev-key.pem}
limits:
  max_connections: 30000
logging:
  level: info
plugins:
  persistence: {config: {durability: $durability}}
  auth: {config: {argon2_memory_kib: 8, argon2_iterations: 1, max_queued_hashes: 4096}}
  rooms: {}
YAML
  local pin=()
  [ -n "$cpus" ] && pin=(taskset -c "$cpus")
  "${pin[@]}" "$build/bin/parleyd" --config "$data/parley.yaml" > "$data/parleyd.log" 2>&1 &
  PARLEYD_PID=$!
  PARLEYD_PORT=
  for _ in $(seq 1 100); do
    PARLEYD_PORT=$(sed -n 's/.*listening name=main .*port=\([0-9]*\).*/\1/p' "$data/parleyd.log" 2>/dev/null | head -1)
    [ -n "$PARLEYD_PORT" ] && return 0
    kill -0 "$PARLEYD_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "parleyd did not start; its log:" >&2
  cat "$data/parleyd.log" >&2
  return 1
}

stop_parleyd() {
  [ -n "${PARLEYD_PID:-}" ] || return 0
  kill -TERM "$PARLEYD_PID" 2>/dev/null
  wait "$PARLEYD_PID" 2>/dev/null
  PARLEYD_PID=
}

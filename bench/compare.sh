#!/usr/bin/env bash
# Parley side by side with the servers people use today, on this machine.
#
#   bench/compare.sh [--rounds 3] [--members 100] [--size 64] [--duration 5]
#                    [--build DIR] [--out DIR]
#
# Builds what it needs (parleyd + plugins, parley-loadgen, the peer drivers
# whose libraries are installed), pins every server to CPU 0 and the load
# generator to CPU 1 (taskset), runs each server alternately for several
# rounds with the same shape (one room of --members subscribers, one
# pipelined sender, --size byte payloads), and prints a table of medians and
# ratios plus a PNG of latency percentiles (gnuplot-nox, when installed).
#
# Servers measured (each skipped, and said so, when not installed):
#   parley-sync   parleyd, TLS, persistence durability sync (every message
#                 durable before it is acknowledged and delivered)
#   parley-async  the same with durability async
#   redis         redis-server 7 pub/sub, plaintext, no persistence
#                 (Debian redis-server; driver bench/peers/redis_fanout.cc on
#                 libhiredis-dev)
#   mosquitto     Eclipse Mosquitto 2.0, plaintext MQTT, default config
#                 (Debian mosquitto; driver bench/peers/mosquitto_fanout.cc
#                 on libmosquitto-dev; QoS 1 publish, QoS 0 subscriptions)
#   django-channels  Daphne + Django Channels 4 + channels-redis (a Redis
#                 7 on the same core), plaintext WebSocket (Debian
#                 python3-django-channels python3-daphne python3-channels-redis
#                 python3-websockets; app bench/peers/channels_app, driver
#                 bench/peers/channels_fanout.py under /usr/bin/python3).
#                 Its server CPU is Daphne's plus Redis's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
rounds=3 members=100 size=64 duration=5
build="$src/build" out=""
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --members) members=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
out=${out:-$build/bench-results}
mkdir -p "$out"
command -v jq > /dev/null || { echo "compare.sh needs jq (apt-get install jq)" >&2; exit 1; }

# ---- build
[ -f "$build/build.ninja" ] || cmake -S "$src" -B "$build" -G Ninja > /dev/null
targets=(parleyd persistence auth rooms parley-loadgen)
for peer in parley-peer-redis parley-peer-mosquitto; do
  if ninja -C "$build" -t targets all 2>/dev/null | grep -q "^$peer:"; then
    targets+=("$peer")
  fi
done
ninja -C "$build" -j2 "${targets[@]}"

source "$here/server_lib.sh"
server_cpu=0 load_cpu=1
pin_load=(taskset -c "$load_cpu")

servers=(parley-sync parley-async)
if command -v redis-server > /dev/null && [ -x "$build/bin/parley-peer-redis" ]; then
  servers+=(redis)
else
  echo "note: redis skipped (needs Debian redis-server and libhiredis-dev, then a rebuild)" >&2
fi
if [ -x /usr/sbin/mosquitto ] && [ -x "$build/bin/parley-peer-mosquitto" ]; then
  servers+=(mosquitto)
else
  echo "note: mosquitto skipped (needs Debian mosquitto and libmosquitto-dev, then a rebuild)" >&2
fi
if command -v redis-server > /dev/null &&
   /usr/bin/python3 -c 'import daphne, channels, channels_redis, websockets' 2> /dev/null; then
  servers+=(django-channels)
else
  echo "note: django-channels skipped (needs redis-server python3-django-channels python3-daphne python3-channels-redis python3-websockets)" >&2
fi

run_parley() {  # durability
  local data
  data=$(mktemp -d "${TMPDIR:-/tmp}/parley-compare.XXXXXX")
  start_parleyd "$build" "$data" "$1" "$server_cpu"
  "${pin_load[@]}" "$build/bin/parley-loadgen" --server "127.0.0.1:$PARLEYD_PORT" --insecure \
    --scenario fanout --members "$members" --size "$size" --duration "$duration" \
    --server-pid "$PARLEYD_PID" --json 2> "$data/loadgen.err" || true
  stop_parleyd
  rm -rf "$data"
}

run_redis() {
  local port=$((20000 + RANDOM % 20000)) pid
  taskset -c "$server_cpu" redis-server --port "$port" --bind 127.0.0.1 --save '' \
    --appendonly no --daemonize no > /dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do
    redis-cli -p "$port" ping > /dev/null 2>&1 && break
    sleep 0.1
  done
  "${pin_load[@]}" "$build/bin/parley-peer-redis" --server "127.0.0.1:$port" \
    --members "$members" --size "$size" --duration "$duration" --server-pid "$pid" --json \
    2> /dev/null || true
  kill "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
}

run_mosquitto() {
  local port=$((20000 + RANDOM % 20000)) pid
  taskset -c "$server_cpu" /usr/sbin/mosquitto -p "$port" > /dev/null 2>&1 &
  pid=$!
  sleep 0.3
  "${pin_load[@]}" "$build/bin/parley-peer-mosquitto" --server "127.0.0.1:$port" \
    --members "$members" --size "$size" --duration "$duration" --server-pid "$pid" --json \
    2> /dev/null || true
  kill "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
}

run_channels() {
  local rport=$((20000 + RANDOM % 20000)) dport=$((40000 + RANDOM % 20000)) rpid dpid
  taskset -c "$server_cpu" redis-server --port "$rport" --bind 127.0.0.1 --save '' \
    --appendonly no --daemonize no > /dev/null 2>&1 &
  rpid=$!
  (cd "$here/peers" && BENCH_REDIS_PORT=$rport PYTHONPATH=. PYTHONDONTWRITEBYTECODE=1 exec taskset -c "$server_cpu" \
    /usr/bin/python3 -m daphne -v 0 -b 127.0.0.1 -p "$dport" channels_app.asgi:application \
    > /dev/null 2>&1) &
  dpid=$!
  for _ in $(seq 1 50); do
    (exec 3<> "/dev/tcp/127.0.0.1/$dport") 2> /dev/null && break
    sleep 0.2
  done
  "${pin_load[@]}" /usr/bin/python3 "$here/peers/channels_fanout.py" --server "127.0.0.1:$dport" \
    --members "$members" --size "$size" --duration "$duration" --server-pid "$dpid,$rpid" \
    --json 2> /dev/null || true
  kill "$dpid" "$rpid" 2> /dev/null || true
  wait "$dpid" "$rpid" 2> /dev/null || true
}

results="$out/results.jsonl"
: > "$results"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq 1 "$rounds"); do
  for s in "${servers[@]}"; do
    echo "round $r: $s" >&2
    case $s in
      parley-sync) line=$(run_parley sync) ;;
      parley-async) line=$(run_parley async) ;;
      redis) line=$(run_redis) ;;
      mosquitto) line=$(run_mosquitto) ;;
      django-channels) line=$(run_channels) ;;
    esac
    if [ -z "$line" ]; then
      echo "  $s printed nothing" >&2
      continue
    fi
    jq -c --arg s "$s" --arg r "$r" --arg load "$(cut -d' ' -f1 /proc/loadavg)" \
      '. + {server: $s, round: ($r|tonumber), loadavg: ($load|tonumber)}' <<< "$line" >> "$results"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# ---- table of medians
jq -s -r --arg members "$members" --arg size "$size" '
  def median: sort | if length == 0 then 0 elif length % 2 == 1 then .[length/2|floor]
              else (.[length/2 - 1] + .[length/2]) / 2 end;
  group_by(.server) | map({
    server: .[0].server, rounds: length,
    dps: (map(.delivered_per_sec) | median),
    cpu: (map(.cpu_pct) | median),
    dpc: (map(.delivered_per_server_core_sec // 0) | median),
    p50: (map(.latency_us.p50) | median), p99: (map(.latency_us.p99) | median),
    rss: (map(.rss_bytes) | median / 1048576),
    errors: (map(.errors) | add)}) as $rows
  | ($rows | map(select(.server == "parley-sync")) | .[0]) as $p
  | "fanout: 1 room x \($members) members, one pipelined sender, \($size)-byte payloads; medians",
    "| server | rounds | deliveries/s | server CPU % | deliveries per server-core-s | p50 us | p99 us | server RSS MiB | errors | parley-sync / this (per core-s) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ($rows[] | "| \(.server) | \(.rounds) | \(.dps|floor) | \(.cpu*10|floor/10) | \(.dpc|floor) | \(.p50|floor) | \(.p99|floor) | \(.rss*10|floor/10) | \(.errors) | \(if $p and .dpc > 0 then (($p.dpc / .dpc)*100|floor/100|tostring) + "x" else "-" end) |")
' "$results" | tee "$out/table.md"

# ---- latency plot
if command -v gnuplot > /dev/null; then
  jq -s -r 'group_by(.server) | .[] | [.[0].server,
      (map(.latency_us.p50)|sort|.[length/2|floor]), (map(.latency_us.p90)|sort|.[length/2|floor]),
      (map(.latency_us.p99)|sort|.[length/2|floor]), (map(.latency_us.p999)|sort|.[length/2|floor])]
      | @tsv' "$results" > "$out/latency.tsv"
  gnuplot <<GP
set terminal png size 900,500
set output "$out/latency.png"
set title "send -> delivery latency (median of rounds), fanout 1 x $members, $size B"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8
set logscale y
set ylabel "microseconds"
set key top left
plot "$out/latency.tsv" using 2:xtic(1) title "p50", '' using 3 title "p90", '' using 4 title "p99", '' using 5 title "p99.9"
GP
  echo "plot: $out/latency.png" >&2
else
  echo "note: no plot (gnuplot not installed: apt-get install gnuplot-nox)" >&2
fi
echo "raw results: $results" >&2

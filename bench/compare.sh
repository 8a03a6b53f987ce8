#!/usr/bin/env bash
# Parley side by side with the servers people use today, on this machine.
#
#   bench/compare.sh [--rounds 3] [--members 100] [--rooms 50] [--size 64]
#                    [--duration 5] [--build DIR] [--out DIR] [--install]
#                    [--no-baselines] [--no-build]
#
# Builds what it needs (parleyd + plugins, parley-loadgen, the peer drivers),
# pins every server to CPU 0 and the load generator to CPU 1 (taskset), runs
# each server alternately for several rounds with the same two shapes:
#   fanout  one room of --members subscribers, one pipelined sender (128 in
#           flight), --size byte payloads
#   rooms   --rooms direct rooms (pairs), both users sending (8 in flight
#           each); each message is delivered once, to the partner
# then the baselines the issue names, in the same run (skip: --no-baselines):
#   tls     openssl s_server -www with Parley's own dev certificate: full and
#           resumed TLS 1.3 handshakes (openssl s_time -new / -reuse) per
#           server-core-second vs parley-loadgen --scenario connect
#   durable RocksDB db_bench fillrandom --sync=1 --batch_size=64 (Debian
#           rocksdb-tools) vs parley-loadgen --scenario durable, 256 senders
#   p99     fanout send -> delivery p99 at half of parley-sync's measured
#           maximum rate, sync and async, vs the issue's 1 ms
# and prints a table of medians and ratios plus a PNG of latency percentiles
# (gnuplot-nox, when installed). --install apt-get installs the peers first.
#
# Servers measured (each skipped, and said so, when not installed):
#   parley-sync   parleyd, TLS, persistence durability sync (every message
#                 durable before it is acknowledged and delivered)
#   parley-async  the same with durability async
#   redis         redis-server 7 pub/sub, plaintext, no persistence
#                 (driver bench/peers/redis_driver.cc)
#   mosquitto     Eclipse Mosquitto 2.0, plaintext MQTT 3.1.1, default
#                 config; QoS 1 publishes, QoS 0 subscriptions (driver
#                 bench/peers/mosquitto_driver.cc)
#   django-channels  Daphne + Django Channels 4 + channels-redis (a Redis
#                 7 on the same core), plaintext WebSocket (app
#                 bench/peers/channels_app, driver
#                 bench/peers/channels_driver.py under /usr/bin/python3).
#                 Its server CPU is Daphne's plus Redis's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
rounds=3 members=100 rooms=50 size=64 duration=5 install=0 baselines=1 nobuild=0
build="$src/build" out=""
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --members) members=$2; shift 2 ;;
    --rooms) rooms=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --install) install=1; shift ;;
    --no-baselines) baselines=0; shift ;;
    --no-build) nobuild=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
out=${out:-$build/bench-results}
mkdir -p "$out"
peer_packages=(redis-server mosquitto python3-django-channels python3-daphne
  python3-channels-redis python3-websockets gnuplot-nox jq rocksdb-tools)
if [ "$install" = 1 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${peer_packages[@]}" > /dev/null
fi
command -v jq > /dev/null || { echo "compare.sh needs jq (apt-get install jq)" >&2; exit 1; }

# ---- build
if [ "$nobuild" = 0 ]; then
  [ -f "$build/build.ninja" ] || cmake -S "$src" -B "$build" -G Ninja > /dev/null
  ninja -C "$build" -j2 parleyd persistence auth rooms parley-loadgen parley-peer-redis \
    parley-peer-mosquitto
fi

source "$here/server_lib.sh"
server_cpu=0 load_cpu=1
pin_load=(taskset -c "$load_cpu")
cpu_seconds() {  # utime + stime of the pids, in seconds
  local t=0 p
  for p in "$@"; do
    t=$(awk -v t="$t" -v hz="$(getconf CLK_TCK)" '{print t + ($14 + $15) / hz}' "/proc/$p/stat" \
        2> /dev/null || echo "$t")
  done
  echo "$t"
}

servers=(parley-sync parley-async)
if command -v redis-server > /dev/null; then
  servers+=(redis)
else
  echo "note: redis skipped (apt-get install redis-server)" >&2
fi
if [ -x /usr/sbin/mosquitto ]; then
  servers+=(mosquitto)
else
  echo "note: mosquitto skipped (apt-get install mosquitto)" >&2
fi
if command -v redis-server > /dev/null &&
   /usr/bin/python3 -c 'import daphne, channels, channels_redis, websockets' 2> /dev/null; then
  servers+=(django-channels)
else
  echo "note: django-channels skipped (apt-get install redis-server python3-django-channels python3-daphne python3-channels-redis python3-websockets)" >&2
fi

# A port for a peer: below Linux's ephemeral range (32768+, where other
# processes' port-0 listeners and outgoing connections live) and with
# nothing listening on it now.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    (exec 3<> "/dev/tcp/127.0.0.1/$p") 2> /dev/null || { echo "$p"; return; }
  done
}

shape_args() {  # scenario -> driver arguments
  if [ "$1" = fanout ]; then echo "--scenario fanout --members $members"
  else echo "--scenario rooms --rooms $rooms"; fi
}

run_parley() {  # durability scenario
  local data
  data=$(mktemp -d "${TMPDIR:-/tmp}/parley-compare.XXXXXX")
  start_parleyd "$build" "$data" "$1" "$server_cpu"
  # shellcheck disable=SC2046
  "${pin_load[@]}" "$build/bin/parley-loadgen" --server "127.0.0.1:$PARLEYD_PORT" --insecure \
    $(shape_args "$2") --size "$size" --duration "$duration" \
    --server-pid "$PARLEYD_PID" --json 2> "$runlog" || true
  stop_parleyd
  rm -rf "$data"
}

run_redis() {  # scenario
  local port pid
  port=$(free_port)
  taskset -c "$server_cpu" redis-server --port "$port" --bind 127.0.0.1 --save '' \
    --appendonly no --daemonize no > /dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do
    redis-cli -p "$port" ping > /dev/null 2>&1 && break
    sleep 0.1
  done
  # shellcheck disable=SC2046
  "${pin_load[@]}" "$build/bin/parley-peer-redis" --server "127.0.0.1:$port" \
    $(shape_args "$1") --size "$size" --duration "$duration" --server-pid "$pid" --json \
    2> "$runlog" || true
  kill "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
}

run_mosquitto() {  # scenario
  local port pid
  port=$(free_port)
  taskset -c "$server_cpu" /usr/sbin/mosquitto -p "$port" > /dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do
    (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
    sleep 0.1
  done
  # shellcheck disable=SC2046
  timeout $((${duration%.*} + 60)) "${pin_load[@]}" "$build/bin/parley-peer-mosquitto" \
    --server "127.0.0.1:$port" $(shape_args "$1") --size "$size" --duration "$duration" \
    --server-pid "$pid" --json 2> "$runlog" || true
  kill "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
}

run_channels() {  # scenario
  local rport dport rpid dpid
  rport=$(free_port)
  dport=$(free_port)
  [ "$dport" != "$rport" ] || dport=$((rport + 1))
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
  # shellcheck disable=SC2046
  timeout $((${duration%.*} + 120)) "${pin_load[@]}" /usr/bin/python3 "$here/peers/channels_driver.py" \
    --server "127.0.0.1:$dport" $(shape_args "$1") --size "$size" --duration "$duration" \
    --server-pid "$dpid,$rpid" --json 2> "$runlog" || true
  kill "$dpid" "$rpid" 2> /dev/null || true
  wait "$dpid" "$rpid" 2> /dev/null || true
}

results="$out/results.jsonl"
: > "$results"
mkdir -p "$out/logs"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq 1 "$rounds"); do
  for s in "${servers[@]}"; do
    for shape in fanout rooms; do
      echo "round $r: $s $shape" >&2
      runlog="$out/logs/$r-$s-$shape.err"  # the driver's stderr
      case $s in
        parley-sync) line=$(run_parley sync "$shape") ;;
        parley-async) line=$(run_parley async "$shape") ;;
        redis) line=$(run_redis "$shape") ;;
        mosquitto) line=$(run_mosquitto "$shape") ;;
        django-channels) line=$(run_channels "$shape") ;;
      esac
      if [ -z "$line" ]; then
        echo "  $s $shape printed nothing; its stderr ($runlog) ends:" >&2
        tail -3 "$runlog" | sed 's/^/    /' >&2
        continue
      fi
      jq -c --arg s "$s" --arg r "$r" --arg load "$(cut -d' ' -f1 /proc/loadavg)" \
        '. + {server: $s, round: ($r|tonumber), loadavg: ($load|tonumber)}' <<< "$line" >> "$results"
    done
  done
done

# ---- baselines (same run): each as {measure, parley, baseline, unit, goal}
baselines_file="$out/baselines.jsonl"
: > "$baselines_file"
baseline() {  # measure parley baseline unit goal
  [ -n "$2" ] && [ -n "$3" ] || { echo "  baseline $1: no figure" >&2; return 0; }
  jq -nc --arg m "$1" --argjson p "$2" --argjson b "$3" --arg unit "$4" --arg goal "$5" \
    --arg load "$(cut -d' ' -f1 /proc/loadavg)" \
    '{measure: $m, parley: $p, baseline: $b, unit: $unit, goal: $goal, loadavg: ($load|tonumber)}' \
    >> "$baselines_file"
}
loadgen_json() {  # durability args... -> the JSON line of one parley-loadgen run
  local data dur=$1
  shift
  data=$(mktemp -d "${TMPDIR:-/tmp}/parley-compare.XXXXXX")
  start_parleyd "$build" "$data" "$dur" "$server_cpu"
  "${pin_load[@]}" "$build/bin/parley-loadgen" --server "127.0.0.1:$PARLEYD_PORT" --insecure \
    --server-pid "$PARLEYD_PID" --duration "$duration" --json "$@" 2> "$data/loadgen.err" || true
  stop_parleyd
  [ -n "${KEEP_CERT:-}" ] && cp "$data/dev-cert.pem" "$data/dev-key.pem" "$KEEP_CERT/"
  rm -rf "$data"
}

tls_baselines() {
  local certs full resumed port spid mode c0 c1 conns sout rate
  certs=$(mktemp -d "${TMPDIR:-/tmp}/parley-compare-tls.XXXXXX")
  full=$(KEEP_CERT=$certs loadgen_json sync --scenario connect)
  resumed=$(loadgen_json sync --scenario connect --tls-resume)
  echo "  parley connect: full $(jq -c '{sessions_per_sec: .delivered_per_sec, cpu_pct, tls_resumed}' <<< "$full"), resumed $(jq -c '{sessions_per_sec: .delivered_per_sec, cpu_pct, tls_resumed}' <<< "$resumed")" >&2
  # openssl s_server with the same (kernel-generated) certificate and key.
  port=$(free_port)
  taskset -c "$server_cpu" openssl s_server -accept "$port" -cert "$certs/dev-cert.pem" \
    -key "$certs/dev-key.pem" -www -quiet > /dev/null 2>&1 &
  spid=$!
  for _ in $(seq 1 50); do
    (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
    sleep 0.1
  done
  for mode in new reuse; do
    c0=$(cpu_seconds "$spid")
    # -www /: fetch s_server's status page, so the TLS 1.3 tickets are read
    # and -reuse resumes (without it every handshake is a full one).
    sout=$("${pin_load[@]}" openssl s_time -connect "127.0.0.1:$port" -"$mode" -www / \
      -time "${duration%.*}" 2>&1 || true)
    c1=$(cpu_seconds "$spid")
    conns=$(sed -n 's/^\([0-9]*\) connections in [0-9.]* real seconds.*/\1/p' <<< "$sout")
    rate=$(awk -v n="${conns:-0}" -v c="$c0" -v d="$c1" 'BEGIN { if (d > c) printf "%.1f", n / (d - c); }')
    echo "  openssl s_time -$mode: ${conns:-?} connections, server cpu $(awk -v c="$c0" -v d="$c1" 'BEGIN{print d-c}') s, $(grep -o 'r' <<< "$(grep -E '^[*r]+$' <<< "$sout")" | wc -l) resumed" >&2
    if [ "$mode" = new ]; then
      baseline "TLS 1.3 full handshakes per server-core-s (parley: + sys.hello + auth.resume)" \
        "$(jq '.delivered_per_server_core_sec // empty' <<< "$full")" "$rate" \
        "sessions / server CPU s, vs openssl s_server -www" ">= 1x"
    else
      baseline "TLS 1.3 resumed handshakes per server-core-s (parley: + sys.hello + auth.resume)" \
        "$(jq '.delivered_per_server_core_sec // empty' <<< "$resumed")" "$rate" \
        "sessions / server CPU s, vs openssl s_server -www" ">= 1x, several x full"
    fi
  done
  kill "$spid" 2> /dev/null || true
  wait "$spid" 2> /dev/null || true
  rm -rf "$certs"
}

durable_baseline() {
  local line db dout ops
  line=$(loadgen_json sync --scenario durable --connections 256)
  echo "  parley durable: $(jq -c '{sent_per_sec, cpu_pct, p99: .latency_us.p99}' <<< "$line")" >&2
  if ! command -v db_bench > /dev/null; then
    echo "  note: db_bench skipped (apt-get install rocksdb-tools)" >&2
    return 0
  fi
  db=$(mktemp -d "${TMPDIR:-/tmp}/parley-compare-db.XXXXXX")
  dout=$(taskset -c "$server_cpu" db_bench --benchmarks=fillrandom --sync=1 --batch_size=64 \
    --value_size=100 --key_size=16 --num=10000000 --duration="${duration%.*}" --db="$db/db" 2>&1 || true)
  rm -rf "$db"
  ops=$(sed -n 's/^fillrandom *:.* \([0-9.]*\) ops\/sec.*/\1/p' <<< "$dout" | head -1)
  echo "  db_bench fillrandom --sync=1 --batch_size=64: ${ops:-?} writes/s" >&2
  baseline "durable writes/s, 256 concurrent senders (parley: acknowledged sync sends)" \
    "$(jq '.sent_per_sec // empty' <<< "$line")" "$ops" \
    "writes/s, vs RocksDB db_bench --sync=1 --batch_size=64" ">= 1.5x"
}

half_rate_baseline() {
  local max rate dur line
  max=$(jq -s '[.[] | select(.server == "parley-sync" and .scenario == "fanout") | .sent_per_sec]
                | sort | if length == 0 then 0 else .[length/2|floor] end' "$results")
  rate=$(awk -v m="$max" 'BEGIN { printf "%d", m / 2 }')
  [ "$rate" -gt 0 ] || { echo "  note: no parley-sync fanout figure for the half-rate run" >&2; return 0; }
  for dur in sync async; do
    line=$(loadgen_json "$dur" --scenario fanout --members "$members" --size "$size" --rate "$rate")
    echo "  parley-$dur fanout at $rate msgs/s: $(jq -c '{delivered_per_sec, cpu_pct, latency_us}' <<< "$line")" >&2
    baseline "fanout p99 send->delivery at half max rate ($rate msgs/s x $members), $dur" \
      "$(jq '.latency_us.p99 // empty' <<< "$line")" 1000 \
      "us, vs the goal's 1 ms" "<= 1x$( [ $dur = sync ] && echo ' + fsync p99')"
  done
}

if [ "$baselines" = 1 ]; then
  echo "baselines: TLS handshakes" >&2
  tls_baselines
  echo "baselines: durable writes" >&2
  durable_baseline
  echo "baselines: p99 at half rate" >&2
  half_rate_baseline
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# ---- table of medians
{
echo "load average during the run: $(jq -s -r 'map(.loadavg) | "\(min)-\(max)"' "$results") (1-min, sampled after each run)"
echo
jq -s -r --arg members "$members" --arg rooms "$rooms" --arg size "$size" '
  def median: sort | if length == 0 then 0 elif length % 2 == 1 then .[length/2|floor]
              else (.[length/2 - 1] + .[length/2]) / 2 end;
  group_by([.scenario, .server]) | map({
    scenario: .[0].scenario, server: .[0].server, rounds: length,
    dps: (map(.delivered_per_sec) | median),
    cpu: (map(.cpu_pct) | median),
    dpc: (map(.delivered_per_server_core_sec // 0) | median),
    p50: (map(.latency_us.p50) | median), p99: (map(.latency_us.p99) | median),
    rss: (map(.rss_bytes) | median / 1048576),
    errors: (map(.errors) | add)}) as $rows
  | "fanout: 1 room x \($members) members, one sender 128 in flight; rooms: \($rooms) direct rooms, both users 8 in flight; \($size)-byte payloads; medians of rounds",
    "| shape | server | rounds | deliveries/s | server CPU % | deliveries per server-core-s | p50 us | p99 us | server RSS MiB | errors | parley-sync / this (per core-s) |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ($rows[] | . as $r
      | ($rows | map(select(.server == "parley-sync" and .scenario == $r.scenario)) | .[0]) as $p
      | "| \(.scenario) | \(.server) | \(.rounds) | \(.dps|floor) | \(.cpu*10|floor/10) | \(.dpc|floor) | \(.p50|floor) | \(.p99|floor) | \(.rss*10|floor/10) | \(.errors) | \(if $p and .dpc > 0 then (($p.dpc / .dpc)*100|floor/100|tostring) + "x" else "-" end) |")
' "$results"
if [ -s "${baselines_file:-/nonexistent}" ]; then
  echo
  echo "baselines (same run, single measurements)"
  jq -s -r '
    "| measure | parley | baseline | parley / baseline | goal | unit | load |",
    "| --- | ---: | ---: | ---: | --- | --- | ---: |",
    (.[] | "| \(.measure) | \(.parley*10|floor/10) | \(.baseline*10|floor/10) | \(if .baseline > 0 then ((.parley / .baseline)*100|floor/100|tostring) + "x" else "-" end) | \(.goal) | \(.unit) | \(.loadavg) |")
  ' "$baselines_file"
fi
} | tee "$out/table.md"

# ---- latency plot
if command -v gnuplot > /dev/null; then
  jq -s -r 'group_by([.scenario, .server]) | .[] | [.[0].scenario + ":" + .[0].server,
      (map(.latency_us.p50)|sort|.[length/2|floor]), (map(.latency_us.p90)|sort|.[length/2|floor]),
      (map(.latency_us.p99)|sort|.[length/2|floor]), (map(.latency_us.p999)|sort|.[length/2|floor])]
      | @tsv' "$results" > "$out/latency.tsv"
  gnuplot <<GP
set terminal png size 1200,550
set output "$out/latency.png"
set title "send -> delivery latency (median of rounds): fanout 1 x $members, rooms $rooms pairs, $size B"
set xtics rotate by -30
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

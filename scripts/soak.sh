#!/usr/bin/env bash
# The long run of the crash tests (not in CI): the kill -9 cycle test
# (crash.KillCycles.*) with many more kills than CI's 20, then the WAL-tail
# damage tests and the storage SIGKILL test with more rounds.
# Usage: scripts/soak.sh [CYCLES] [BUILD_DIR]
#   CYCLES     kill cycles (default 500; about 1-2 s each)
#   BUILD_DIR  an already configured build (default build/); only the test
#              binaries and what they need are (re)built.
# PARLEY_CRASH_SEED=<n> replays a run's kill moments (each run prints its
# seed). Exits non-zero when anything acknowledged was lost or duplicated.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cycles="${1:-500}"
build="${2:-build}"
if [[ ! -f "$build/build.ninja" ]]; then
  scripts/build.sh "$build"
else
  cmake --build "$build" -j "${PARLEY_JOBS:-2}" --target crash_kill_cycles_test \
    crash_wal_tail_test storage_crash_test parleyd persistence auth rooms
fi

export PARLEY_CRASH_CYCLES="$cycles"
# The storage library's own SIGKILL test: one round per 10 server kills.
export PARLEY_CRASH_ROUNDS="$(( cycles / 10 > 5 ? cycles / 10 : 5 ))"
start=$(date +%s)
log="$build/soak.log"
: >"$log"
rc=0
# The test binaries directly (CTest would stop them at their CI timeouts).
for t in crash_kill_cycles_test crash_wal_tail_test storage_crash_test; do
  echo "soak: $t" | tee -a "$log"
  "$build/bin/$t" >>"$log" 2>&1 || rc=1
done
# The tests' own summaries (kills survived, messages lost, ...) and failures;
# the whole output is in $log.
grep -E '\[          \]|\[  FAILED  \]|Failure|PASSED|round [0-9]+:' "$log" | tail -n 60 || true
echo "soak: $cycles kill cycles, PARLEY_CRASH_ROUNDS=$PARLEY_CRASH_ROUNDS, $(( $(date +%s) - start )) s, exit $rc (log: $log)"
exit "$rc"

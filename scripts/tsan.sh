#!/usr/bin/env bash
# ThreadSanitizer over the kernel's threaded parts: the plugin host's worker
# pool, post_to_loop and deferred replies (tests/sdk, through parleyd and its
# test plugins), and the storage library's group-commit writer and its
# completions (tests/storage, tests/persistence). Builds only those targets
# with -DPARLEY_TSAN=ON into build-tsan/ and runs their tests.
# Usage: scripts/tsan.sh [extra ctest args]
# Fails on any TSan report, in a test process or in a parleyd it started
# (every process writes its reports to build-tsan/tsan-reports/).
# RocksDB is not built with TSan; races inside it are suppressed
# (tests/storage/tsan.supp), our code is still checked. Its block cache
# hands a block decompressed on one thread (snappy's memcpy) to a compaction
# thread through synchronisation TSan cannot see, and neither access has a
# frame a suppression can name, so accesses that interceptors see coming
# from uninstrumented libraries are ignored (ignore_noninstrumented_modules;
# every access our own instrumented code makes is still checked).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build=build-tsan
jobs="${PARLEY_JOBS:-2}"

# Warnings are not errors here: g++ 12 warns (-Wtsan) about constructs TSan
# cannot model; the normal build checks warnings.
cmake -S . -B "$build" -G Ninja -DPARLEY_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPARLEY_WERROR=OFF -DPARLEY_BUILD_BENCH=OFF -DPARLEY_BUILD_WEB=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target parleyd sdk_unit_tests sdk_plugin_tests \
  storage_unit_tests storage_crash_test persistence_tests

reports="$root/$build/tsan-reports"
rm -rf "$reports"
mkdir -p "$reports"
export TSAN_OPTIONS="suppressions=$root/tests/storage/tsan.supp:log_path=$reports/tsan:second_deadlock_stack=1:history_size=4:ignore_noninstrumented_modules=1"

set +e
# The storage tests set TSAN_OPTIONS themselves (their suppressions); a
# report there fails the test by its exit code (66).
ctest --test-dir "$build" -j "${PARLEY_TEST_JOBS:-2}" --output-on-failure \
  --timeout "${PARLEY_TEST_TIMEOUT:-600}" \
  -R '^(Sdk|CApi|Config|Metrics|StorageWrapper|WrapperTest|Db|Scan|Keys|Faults|GroupCommit|Crash|Persistence)' \
  -E 'sdk_out_of_tree' "$@" 2>&1 | tee "$build/ctest.log"
rc=${PIPESTATUS[0]}
set -e

found=$(find "$reports" -type f | wc -l)
if [[ $found -gt 0 ]]; then
  echo "tsan: $found process(es) reported (first 200 lines):"
  find "$reports" -type f -exec cat {} + | head -n 200
  rc=1
fi
summary=$(grep -E '^[0-9]+% tests passed' "$build/ctest.log" | tail -n 1 || true)
echo "${summary:-ctest produced no summary}; TSan reports from $found process(es)"
exit "$rc"

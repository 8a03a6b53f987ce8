#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer:
# builds into build-asan/ with -DPARLEY_SANITIZE=ON and runs ctest there.
# Any ASan/UBSan report fails the test that triggered it (servers started by
# tests inherit the options below, so a leak in parleyd fails its test too).
# Extra arguments go to ctest, e.g. scripts/test-sanitize.sh -R Kernel
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# Warnings are not errors here (the normal build checks them): with
# -fsanitize=address g++ 12 reports false -Wmaybe-uninitialized inside
# libstdc++ (std::function within <regex>).
scripts/build.sh build-asan -DPARLEY_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPARLEY_WERROR=OFF

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$root/scripts/lsan.supp:print_suppressions=0}"

log=build-asan/ctest.log
set +e
ctest --test-dir build-asan -j "${PARLEY_TEST_JOBS:-2}" --output-on-failure \
  --timeout "${PARLEY_TEST_TIMEOUT:-900}" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
echo
summary=$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1 || true)
echo "${summary:-ctest produced no summary (exit code $rc); see $log}"
[[ -n "$summary" || $rc -ne 0 ]] || rc=1
exit "$rc"

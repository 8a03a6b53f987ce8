#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this and nothing else).
# Installs what is missing, then runs four stages and exits non-zero when
# any of them fails:
#   suite     build/ (Release, warnings as errors) + every CTest test
#   sanitize  build-asan/: the same suite under ASan+UBSan (test-sanitize.sh)
#   tsan      build-tsan/: the threaded parts (worker pool, post_to_loop,
#             storage writer and completions) under ThreadSanitizer (tsan.sh)
#   fuzz      build-fuzz/: every libFuzzer target for PARLEY_FUZZ_SECONDS
#             (default 45) on its committed corpus (fuzz.sh)
# The closing lines are one summary per stage and the overall result.
#   ./scripts/test.sh                  all four stages
#   ./scripts/test.sh -R Framing       only the suite stage, extra args to ctest
#   PARLEY_TEST_STAGES="suite fuzz" ./scripts/test.sh
# Logs: build/ctest.log (JUnit build/ctest-junit.xml), build-asan/ctest.log,
# build-fuzz/fuzz-summary.txt.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/deps.sh
source scripts/deps.sh
parley_install_deps "${PARLEY_TEST_DEPS[@]}"

default_stages="suite sanitize tsan fuzz"
[[ $# -eq 0 ]] || default_stages="suite"
read -r -a stages <<<"${PARLEY_TEST_STAGES:-$default_stages}"

summaries=()
failed=()
ctest_summary() {  # the "N% tests passed" line of a ctest log
  grep -E '^[0-9]+% tests passed' "$1" | tail -n 1 || true
}

run_suite() {
  scripts/build.sh build || return 1  # (errexit is off inside a function called with ||)
  local log=build/ctest.log rc
  set +e
  ctest --test-dir build -j "${PARLEY_TEST_JOBS:-2}" --output-on-failure \
    --timeout "${PARLEY_TEST_TIMEOUT:-300}" --output-junit ctest-junit.xml "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  local summary; summary=$(ctest_summary "$log")
  summaries+=("suite:    ${summary:-no ctest summary (exit $rc), see $log}")
  [[ -n "$summary" && $rc -eq 0 ]]
}

run_sanitize() {
  local rc=0
  scripts/test-sanitize.sh || rc=$?
  local summary; summary=$(ctest_summary build-asan/ctest.log 2>/dev/null)
  summaries+=("sanitize: ${summary:-no ctest summary (exit $rc), see build-asan/ctest.log} (ASan+UBSan)")
  [[ $rc -eq 0 ]]
}

run_tsan() {
  local rc=0
  scripts/tsan.sh || rc=$?
  local summary; summary=$(ctest_summary build-tsan/ctest.log 2>/dev/null)
  local reports; reports=$(find build-tsan/tsan-reports -type f 2>/dev/null | wc -l)
  summaries+=("tsan:     ${summary:-no ctest summary (exit $rc), see build-tsan/ctest.log}; TSan reports: $reports")
  [[ $rc -eq 0 ]]
}

run_fuzz() {
  local rc=0
  scripts/fuzz.sh "${PARLEY_FUZZ_SECONDS:-45}" || rc=$?
  local n ok
  n=$(tail -n +2 build-fuzz/fuzz-summary.txt 2>/dev/null | wc -l)
  ok=$(tail -n +2 build-fuzz/fuzz-summary.txt 2>/dev/null | grep -c ' ok$' || true)
  summaries+=("fuzz:     $ok of $n targets ran ${PARLEY_FUZZ_SECONDS:-45} s without a finding (build-fuzz/fuzz-summary.txt)")
  [[ $rc -eq 0 ]]
}

started=$SECONDS
for stage in "${stages[@]}"; do
  echo "=== test stage: $stage ==="
  case "$stage" in
    suite) run_suite "$@" || failed+=(suite) ;;
    sanitize) run_sanitize || failed+=(sanitize) ;;
    tsan) run_tsan || failed+=(tsan) ;;
    fuzz) run_fuzz || failed+=(fuzz) ;;
    *) echo "unknown test stage '$stage' (suite, sanitize, tsan, fuzz)"; failed+=("$stage") ;;
  esac
done

echo
[[ ! -f build-fuzz/fuzz-summary.txt || " ${stages[*]} " != *" fuzz "* ]] || cat build-fuzz/fuzz-summary.txt
printf '%s\n' "${summaries[@]}"
elapsed=$(( SECONDS - started ))
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "FAILED stages: ${failed[*]} (${elapsed} s)"
  exit 1
fi
echo "all stages passed: ${stages[*]} (${elapsed} s)"

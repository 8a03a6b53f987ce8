#!/usr/bin/env bash
# Installs what is missing, builds into build/ with warnings as errors and
# runs the whole test suite with CTest. Exits non-zero when anything fails.
# Extra arguments go to ctest, e.g. ./scripts/test.sh -R Framing
# The full ctest log is kept in build/ctest.log (JUnit: build/ctest-junit.xml).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/deps.sh
source scripts/deps.sh
parley_install_deps "${PARLEY_TEST_DEPS[@]}"
scripts/build.sh build

log=build/ctest.log
set +e
ctest --test-dir build -j "${PARLEY_TEST_JOBS:-2}" --output-on-failure \
  --timeout "${PARLEY_TEST_TIMEOUT:-300}" --output-junit ctest-junit.xml "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

# ctest prints the failed tests after its summary; repeat the summary so that
# it is the last line of output.
echo
summary=$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1 || true)
if [[ -z "$summary" ]]; then
  echo "ctest produced no summary (exit code $rc); see $log"
  [[ $rc -ne 0 ]] || rc=1
else
  echo "$summary"
fi
exit "$rc"

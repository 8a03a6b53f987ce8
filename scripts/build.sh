#!/usr/bin/env bash
# Installs missing packages, configures (Ninja, Release, warnings as errors)
# and builds everything into a build directory.
# Usage: scripts/build.sh [BUILD_DIR] [extra cmake -D options...]
#   BUILD_DIR defaults to build/ at the repository root.
#   PARLEY_JOBS overrides the build parallelism (default: nproc).
# start.sh and test.sh both call it with the same options, so running one
# after the other rebuilds only what changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/deps.sh
source scripts/deps.sh
parley_install_deps

build_dir="${1:-build}"
shift || true
jobs="${PARLEY_JOBS:-$(nproc)}"

# Release at -O2 (as Debian builds its own packages) rather than CMake's -O3:
# g++ 12 at -O3 reports false positives (-Wrestrict inside std::string's
# operator+, GCC bug 105651) that -Werror would turn into a failed build.
# The browser client (plugins/websocket/web) is bundled with npm packages at
# build time; without Node.js the server builds and runs without it.
web=-DPARLEY_BUILD_WEB=OFF
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
  web=-DPARLEY_BUILD_WEB=ON
else
  echo "build: node/npm not found; building without the web client"
fi

cmake -S . -B "$build_dir" -G Ninja "$web" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DPARLEY_WERROR=ON "$@"
cmake --build "$build_dir" -j "$jobs"

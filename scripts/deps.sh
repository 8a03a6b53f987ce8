#!/usr/bin/env bash
# The one list of Debian 12 packages Parley needs to build, test and run.
# Usage:  scripts/deps.sh          install whatever is missing (apt-get)
#         scripts/deps.sh --list   print the list
# Other scripts source this file and call parley_install_deps.

PARLEY_DEPS=(
  cmake ninja-build g++ pkg-config
  libuv1-dev libflatbuffers-dev flatbuffers-compiler librocksdb-dev
  libboost-dev libboost-filesystem-dev libssl-dev libyaml-cpp-dev
  libgtest-dev libbenchmark-dev libwslay-dev libsodium-dev
  openssl
)

# Only the test suite needs these: the TLS policy scan (scripts/tls-scan.sh)
# and the fuzz smoke (scripts/fuzz.sh: clang 14 with libFuzzer and the
# sanitizer runtimes), and nft, ip and tc for the network-fault tests
# (tests/netfault).
# The browser test installs chromium itself when it runs.
PARLEY_TEST_DEPS=(sslscan testssl.sh clang-14 libclang-rt-14-dev nftables iproute2)

# Prints the packages of PARLEY_DEPS (and of any extra names given) that
# dpkg does not report as installed.
parley_missing_deps() {
  local pkg
  for pkg in "${PARLEY_DEPS[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      echo "$pkg"
    fi
  done
}

# Runs apt-get update + install only when something is missing. As root it
# calls apt-get directly, otherwise through sudo when sudo exists.
parley_install_deps() {
  local missing
  missing=$(parley_missing_deps "$@" | tr '\n' ' ')
  if [[ -z "${missing// /}" ]]; then
    echo "deps: all ${#PARLEY_DEPS[@]} packages present"
    return 0
  fi
  echo "deps: installing missing packages: $missing"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "deps: not root and no sudo; install these first: $missing" >&2
      return 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update
  # shellcheck disable=SC2086  # word splitting of the package list is intended
  "${sudo[@]}" apt-get install -y --no-install-recommends $missing
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  if [[ "${1:-}" == "--list" ]]; then
    printf '%s\n' "${PARLEY_DEPS[@]}"
  else
    parley_install_deps
  fi
fi

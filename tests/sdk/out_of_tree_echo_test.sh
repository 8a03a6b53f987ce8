#!/bin/sh
# The SDK's promise end to end: install Parley into a temporary prefix, build
# the echo example out of tree with only find_package(ParleySDK), check that
# it exports only the three entry points, and have parleyd (the build
# tree's, identical to the installed one) serve echo.say
# from it (SdkEcho.ServesEchoSay with PARLEY_ECHO_PATH set).
# usage: out_of_tree_echo_test.sh <build dir> <sdk_plugin_tests binary> [cxx flags]
# (the flags: a sanitizer host's -fsanitize=..., which its plugins must share)
set -eu
build=$1
tests=$2
flags=${3:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/parley-oot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" --component ParleySDK >"$tmp/install.log"
cmake -S "$tmp/prefix/share/parley/examples/echo" -B "$tmp/echo" \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_MODULE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" >"$tmp/configure.log"
cmake --build "$tmp/echo" >"$tmp/build.log"

syms=$(nm -D --defined-only "$tmp/echo/libecho.so" | awk '{print $3}' | sort | tr '\n' ' ')
if [ "$syms" != "parley_plugin_abi parley_plugin_init parley_plugin_shutdown " ]; then
  echo "libecho.so exports: $syms" >&2
  exit 1
fi

PARLEY_ECHO_PATH="$tmp/echo/libecho.so" \
  "$tests" --gtest_filter=SdkEcho.ServesEchoSay

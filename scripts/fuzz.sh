#!/usr/bin/env bash
# Fuzz smoke: builds the libFuzzer targets of tests/fuzz/ with clang 14 and
# -fsanitize=fuzzer,address,undefined into build-fuzz/ (only the fuzz targets
# and the plugins the dispatch target loads), then runs each one for SECONDS
# (default 60) on a scratch copy of its committed corpus, with its
# dictionary. Prints execs and execs/s per target; exits non-zero when any
# target crashed, leaked or timed out (the reproducer is left in
# build-fuzz/crashes/<target>/ — add it to tests/fuzz/corpus/<target>/ as a
# regression input once fixed).
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 30 frame config
# Environment: PARLEY_FUZZ_BUILD (build directory, default build-fuzz),
# PARLEY_FUZZ_JOBS (ninja -j, default 2).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-60}"
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(frame config auth rooms receipts dispatch websocket)
build="${PARLEY_FUZZ_BUILD:-build-fuzz}"

# clang 14 and its runtime (libFuzzer, sanitizers): install only when missing.
if ! command -v clang++-14 >/dev/null || ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get install -y --no-install-recommends clang-14 libclang-rt-14-dev
fi

flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -gline-tables-only"
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DPARLEY_FUZZ=ON -DPARLEY_BUILD_BENCH=OFF >/dev/null
fi
ninja -C "$build" -j "${PARLEY_FUZZ_JOBS:-2}" "${targets[@]/#/fuzz_}"

# The dispatch target keeps its temporary RocksDB directory under here.
export TMPDIR="$root/$build/tmp"
[[ $build = /* ]] && TMPDIR="$build/tmp"
rm -rf "$TMPDIR"; mkdir -p "$TMPDIR"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
printf '%-10s %12s %10s  %s\n' target execs execs/s result > "$build/fuzz-summary.txt"
for t in "${targets[@]}"; do
  work="$build/work/$t" crashes="$build/crashes/$t"
  rm -rf "$work"; mkdir -p "$work" "$crashes"
  cp -r "tests/fuzz/corpus/$t/." "$work/"
  dict=(); [[ -f tests/fuzz/corpus/$t.dict ]] && dict=(-dict="tests/fuzz/corpus/$t.dict")
  extra=()
  # dispatch: storage and plugin caches grow on most inputs, so libFuzzer's
  # per-input leak check (a whole-heap LeakSanitizer scan each time) would
  # run nearly always and cut the rate about six-fold. Leaks still fail the
  # run: LeakSanitizer checks at exit (ASAN_OPTIONS detect_leaks=1), and
  # -rss_limit_mb bounds growth.
  [[ $t == dispatch ]] && extra=(-detect_leaks=0)
  log="$build/fuzz-$t.log"
  started=$SECONDS
  set +e
  "$build/bin/fuzz_$t" "$work" "${dict[@]}" "${extra[@]}" -max_total_time="$seconds" -max_len=4096 \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" \
    >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)
  execs=${execs:-0}
  elapsed=$(( SECONDS - started ))
  rate=$(( execs / (elapsed > 0 ? elapsed : 1) ))
  result=ok
  if [[ $rc -ne 0 ]]; then
    result="FAILED (exit $rc; see $log, $crashes/)"
    failed+=("$t")
  fi
  printf '%-10s %12s %10s  %s\n' "$t" "$execs" "$rate" "$result" | tee -a "$build/fuzz-summary.txt"
done
echo
cat "$build/fuzz-summary.txt"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz targets that failed: ${failed[*]}"
  exit 1
fi
